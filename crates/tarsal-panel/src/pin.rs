//! The staff PIN that guards technician functions on the panel (service
//! mode, actuator outputs, the event log). A right PIN opens a short-lived
//! unlock token; repeated wrong PINs lock the keypad, each lockout twice as
//! long as the one before (a 4-digit PIN would otherwise fall to a patient
//! guesser within a day; 6 digits or more are recommended).

use crate::secret::{random_hex, same};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong PINs allowed before the keypad locks.
pub const ATTEMPTS_BEFORE_LOCKOUT: u32 = 5;
/// The first lockout; each further one (without a right PIN between) is
/// twice as long, up to [`LOCKOUT_MAX`].
pub const LOCKOUT: Duration = Duration::from_secs(60);
pub const LOCKOUT_MAX: Duration = Duration::from_secs(24 * 60 * 60);
/// PINs shorter than this are accepted, with a warning.
pub const RECOMMENDED_PIN_DIGITS: usize = 6;
/// An unlock lasts this long after the last use.
pub const UNLOCK_IDLE_LIMIT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PinError {
    #[error("service functions are switched off: no staff PIN is set up for this panel")]
    NotConfigured,
    #[error("wrong PIN")]
    Wrong { attempts_left: u32 },
    #[error("too many wrong PINs; try again in {} s", .retry_after.as_secs().max(1))]
    LockedOut { retry_after: Duration },
    #[error("enter the staff PIN first (or again: the unlock timed out)")]
    Locked,
}

#[derive(Debug, thiserror::Error)]
pub enum PinFileError {
    #[error("cannot read the PIN file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the PIN file {path} must hold 4 to 12 digits on one line")]
    Malformed { path: String },
}

/// Reads a PIN file: 4–12 digits, surrounding whitespace ignored.
pub fn read_pin_file(path: &Path) -> Result<String, PinFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| PinFileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let pin = text.trim();
    if (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(pin.to_owned())
    } else {
        Err(PinFileError::Malformed {
            path: path.display().to_string(),
        })
    }
}

pub struct PinGate {
    pin: Option<String>,
    inner: Mutex<GateState>,
}

#[derive(Default)]
struct GateState {
    failures: u32,
    /// Lockouts since the last right PIN.
    lockouts: u32,
    locked_until: Option<Instant>,
    unlock: Option<Unlock>,
}

struct Unlock {
    token: String,
    last_used: Instant,
}

impl PinGate {
    pub fn new(pin: Option<String>) -> Self {
        Self {
            pin,
            inner: Mutex::new(GateState::default()),
        }
    }

    pub fn configured(&self) -> bool {
        self.pin.is_some()
    }

    /// Checks `attempt`; a right PIN returns a fresh token (replacing any
    /// earlier one: one technician at a time on one panel).
    pub fn unlock(&self, attempt: &str, now: Instant) -> Result<String, PinError> {
        let pin = self.pin.as_deref().ok_or(PinError::NotConfigured)?;
        let mut state = self.state();
        if let Some(until) = state.locked_until {
            if now < until {
                return Err(PinError::LockedOut {
                    retry_after: until - now,
                });
            }
            state.locked_until = None;
            state.failures = 0;
        }
        if !same(pin.as_bytes(), attempt.trim().as_bytes()) {
            state.failures += 1;
            if state.failures >= ATTEMPTS_BEFORE_LOCKOUT {
                let lockout = LOCKOUT
                    .saturating_mul(1 << state.lockouts.min(16))
                    .min(LOCKOUT_MAX);
                state.lockouts += 1;
                state.locked_until = Some(now + lockout);
                return Err(PinError::LockedOut {
                    retry_after: lockout,
                });
            }
            return Err(PinError::Wrong {
                attempts_left: ATTEMPTS_BEFORE_LOCKOUT - state.failures,
            });
        }
        state.failures = 0;
        state.lockouts = 0;
        let token = new_token();
        state.unlock = Some(Unlock {
            token: token.clone(),
            last_used: now,
        });
        Ok(token)
    }

    /// Whether `token` is the current unlock; each use extends it. A
    /// request with a wrong or missing token is refused and changes nothing
    /// (it does not end the technician's unlock); an idle unlock ends.
    pub fn check(&self, token: Option<&str>, now: Instant) -> Result<(), PinError> {
        if self.pin.is_none() {
            return Err(PinError::NotConfigured);
        }
        let mut state = self.state();
        let Some(unlock) = state.unlock.as_mut() else {
            return Err(PinError::Locked);
        };
        if now.duration_since(unlock.last_used) >= UNLOCK_IDLE_LIMIT {
            state.unlock = None;
            return Err(PinError::Locked);
        }
        match token {
            Some(token) if same(unlock.token.as_bytes(), token.as_bytes()) => {
                unlock.last_used = now;
                Ok(())
            }
            _ => Err(PinError::Locked),
        }
    }

    pub fn lock(&self) {
        self.state().unlock = None;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn new_token() -> String {
    random_hex(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_pin_unlocks_and_the_token_expires_when_idle() {
        let gate = PinGate::new(Some("2580".into()));
        let t0 = Instant::now();
        let token = gate.unlock("2580", t0).unwrap();
        assert_eq!(token.len(), 32);
        assert!(
            gate.check(Some(&token), t0 + Duration::from_secs(60))
                .is_ok()
        );
        // Use extends it.
        assert!(
            gate.check(
                Some(&token),
                t0 + Duration::from_secs(60) + UNLOCK_IDLE_LIMIT / 2
            )
            .is_ok()
        );
        assert_eq!(
            gate.check(
                Some(&token),
                t0 + Duration::from_secs(61) + UNLOCK_IDLE_LIMIT * 2
            ),
            Err(PinError::Locked)
        );
        assert_eq!(gate.check(Some("nope"), t0), Err(PinError::Locked));
        assert_eq!(gate.check(None, t0), Err(PinError::Locked));
    }

    #[test]
    fn a_wrong_token_does_not_end_the_technicians_unlock() {
        let gate = PinGate::new(Some("258036".into()));
        let t0 = Instant::now();
        let token = gate.unlock("258036", t0).unwrap();
        assert_eq!(gate.check(Some("forged"), t0), Err(PinError::Locked));
        assert_eq!(gate.check(None, t0), Err(PinError::Locked));
        assert!(
            gate.check(Some(&token), t0 + Duration::from_secs(1))
                .is_ok()
        );
    }

    #[test]
    fn each_lockout_is_twice_as_long_as_the_last() {
        let gate = PinGate::new(Some("258036".into()));
        let mut now = Instant::now();
        let mut lockouts = Vec::new();
        for _ in 0..4 {
            let mut last = None;
            for _ in 0..ATTEMPTS_BEFORE_LOCKOUT {
                last = Some(gate.unlock("000000", now));
            }
            let Some(Err(PinError::LockedOut { retry_after })) = last else {
                panic!("{last:?}");
            };
            lockouts.push(retry_after.as_secs());
            now += retry_after;
        }
        assert_eq!(lockouts, [60, 120, 240, 480]);
        // A right PIN starts again from a minute.
        assert!(gate.unlock("258036", now).is_ok());
        for _ in 0..ATTEMPTS_BEFORE_LOCKOUT {
            let _ = gate.unlock("000000", now);
        }
        assert!(matches!(
            gate.unlock("258036", now + Duration::from_secs(59)),
            Err(PinError::LockedOut { .. })
        ));
        assert!(gate.unlock("258036", now + LOCKOUT).is_ok());
    }

    #[test]
    fn wrong_pins_lock_the_keypad_for_a_minute() {
        let gate = PinGate::new(Some("2580".into()));
        let t0 = Instant::now();
        for left in (1..ATTEMPTS_BEFORE_LOCKOUT).rev() {
            assert_eq!(
                gate.unlock("1111", t0),
                Err(PinError::Wrong {
                    attempts_left: left
                })
            );
        }
        assert!(matches!(
            gate.unlock("1111", t0),
            Err(PinError::LockedOut { .. })
        ));
        // Even the right PIN waits out the lockout.
        assert!(matches!(
            gate.unlock("2580", t0 + Duration::from_secs(30)),
            Err(PinError::LockedOut { .. })
        ));
        assert!(gate.unlock("2580", t0 + LOCKOUT).is_ok());
    }

    #[test]
    fn no_pin_means_no_service_functions() {
        let gate = PinGate::new(None);
        assert_eq!(
            gate.unlock("", Instant::now()),
            Err(PinError::NotConfigured)
        );
        assert_eq!(
            gate.check(Some("x"), Instant::now()),
            Err(PinError::NotConfigured)
        );
    }

    #[test]
    fn pin_files_hold_digits_only() {
        let dir = std::env::temp_dir().join(format!("tarsal-pin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pin");
        std::fs::write(&file, "  2580\n").unwrap();
        assert_eq!(read_pin_file(&file).unwrap(), "2580");
        for bad in ["12", "12a4", "1234567890123", ""] {
            std::fs::write(&file, bad).unwrap();
            let e = read_pin_file(&file).unwrap_err().to_string();
            assert!(e.contains("4 to 12 digits"), "{bad}: {e}");
        }
        let e = read_pin_file(&dir.join("missing")).unwrap_err().to_string();
        assert!(e.contains("cannot read the PIN file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
