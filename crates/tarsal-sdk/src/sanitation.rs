//! The sanitation contract. The service logs every session of the salon's
//! sanitize program (by default the program with id `sanitize`) in the
//! sanitation log, judged from what the bath did: how long the jets
//! circulated water and whether the bath ended drained. The program tells
//! the log which cycle staff chose through a choice option with the key
//! [`CYCLE_OPTION`]; its value (`after-client`, `end-of-day`…) is recorded.

/// The option key a sanitize program names its cycle with.
pub const CYCLE_OPTION: &str = "cycle";
