//! Helpers for a program's description, so `describe` reads as what the
//! program is rather than as struct plumbing.
//!
//! ```
//! use tarsal_sdk::contraindications::{self, FEVER_OR_ACUTE_INFECTION, WOUNDS_ON_FEET};
//! use tarsal_sdk::prelude::*;
//!
//! const CONTRAINDICATIONS: &[Contraindication] = &[FEVER_OR_ACUTE_INFECTION, WOUNDS_ON_FEET];
//! let timeline = Timeline::new(vec![
//!     Step::new("Strokes", Duration::from_secs(300)),
//!     Step::new("Kneading", Duration::from_secs(300)),
//! ]);
//! let info = ProgramInfo {
//!     options: vec![minutes_option(10, 25, 20)],
//!     contraindications: contraindications::english(CONTRAINDICATIONS),
//!     uses: Equipment { foot_rollers: true, ..NOTHING },
//!     translations: vec![translation(
//!         "vi",
//!         "Mát-xa cổ điển",
//!         "Vuốt và nhào.",
//!         &["Vuốt", "Nhào"],
//!         CONTRAINDICATIONS,
//!     )],
//!     ..described("classic", "Classic massage", "Strokes and kneading.", "1.0.0", &timeline)
//! };
//! assert_eq!(info.steps.len(), 2);
//! assert_eq!(info.translations[0].steps[1].title, "Nhào");
//! assert_eq!(info.translations[0].contraindications[0], "Sốt hoặc nhiễm trùng cấp tính");
//! ```

use crate::contraindications::Contraindication;
use crate::timeline::Timeline;
use crate::{
    Choice, ChoiceOption, Equipment, IntegerOption, OptionKind, OptionSpec, ProgramInfo, StepInfo,
    Translation,
};

/// No chair parts; start from it with `..NOTHING`.
pub const NOTHING: Equipment = Equipment {
    foot_rollers: false,
    calf_units: false,
    sole_heat: false,
    calf_heat: false,
    bath: false,
};

/// A description with its steps and expected duration taken from
/// `timeline`; options, contraindications, parts used and translations empty.
pub fn described(
    id: &str,
    name: &str,
    description: &str,
    version: &str,
    timeline: &Timeline,
) -> ProgramInfo {
    ProgramInfo {
        id: id.into(),
        name: name.into(),
        description: description.into(),
        version: version.into(),
        duration_s: timeline.expected_duration().as_secs() as u32,
        steps: timeline.step_infos(),
        options: vec![],
        contraindications: vec![],
        uses: NOTHING,
        translations: vec![],
    }
}

/// The usual `minutes` option: the length of the massage.
pub fn minutes_option(min: i64, max: i64, default: i64) -> OptionSpec {
    OptionSpec {
        key: "minutes".into(),
        label: "Length".into(),
        description: "Length of the massage in minutes.".into(),
        kind: OptionKind::Integer(IntegerOption { min, max, default }),
    }
}

/// A choice option from `(value, label)` pairs.
pub fn choice_option(
    key: &str,
    label: &str,
    description: &str,
    choices: &[(&str, &str)],
    default: &str,
) -> OptionSpec {
    OptionSpec {
        key: key.into(),
        label: label.into(),
        description: description.into(),
        kind: OptionKind::Choice(ChoiceOption {
            choices: choices
                .iter()
                .map(|(value, label)| Choice {
                    value: (*value).into(),
                    label: (*label).into(),
                })
                .collect(),
            default: default.into(),
        }),
    }
}

/// Owned strings from string literals.
pub fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Steps without staff actions, from their titles.
pub fn steps(titles: &[&str]) -> Vec<StepInfo> {
    titles
        .iter()
        .map(|t| StepInfo {
            title: (*t).into(),
            staff_action: None,
        })
        .collect()
}

/// A translation with plain steps (no staff actions) and no option texts;
/// add `options` or staff actions with struct update syntax. The
/// contraindications are the program's own list: their words in `language`
/// come from [`contraindications`](crate::contraindications).
pub fn translation(
    language: &str,
    name: &str,
    description: &str,
    step_titles: &[&str],
    contraindications: &[Contraindication],
) -> Translation {
    Translation {
        language: language.into(),
        name: name.into(),
        description: description.into(),
        steps: steps(step_titles),
        contraindications: crate::contraindications::in_language(language, contraindications),
        options: vec![],
    }
}
