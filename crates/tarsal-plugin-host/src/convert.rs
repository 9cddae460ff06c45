//! Conversions between the engine's types and the WIT types, and the checks
//! on what a plugin says about itself.

use crate::bindings::wit;
use tarsal_core::program::ProgramInfo;

/// The conversions the plugin host shares with the SDK's native runner,
/// expanded over the host's generated WIT types.
mod interface {
    use crate::bindings::wit;
    tarsal_core::program_interface_conversions!(wit);
}

pub use interface::{session_options, tick_input, tick_output};

/// Everything a plugin's description may hold, roughly, in bytes.
pub fn info_size(i: &wit::ProgramInfo) -> usize {
    let step = |s: &wit::StepInfo| s.title.len() + s.staff_action.as_ref().map_or(0, String::len);
    let option = |o: &wit::OptionSpec| {
        o.key.len()
            + o.label.len()
            + o.description.len()
            + match &o.kind {
                wit::OptionKind::Choice(c) => {
                    c.default.len()
                        + c.choices
                            .iter()
                            .map(|c| c.value.len() + c.label.len())
                            .sum::<usize>()
                }
                _ => 16,
            }
    };
    let translation = |t: &wit::Translation| {
        t.language.len()
            + t.name.len()
            + t.description.len()
            + t.steps.iter().map(step).sum::<usize>()
            + t.contraindications.iter().map(String::len).sum::<usize>()
            + t.options
                .iter()
                .map(|o| {
                    o.key.len()
                        + o.label.len()
                        + o.description.len()
                        + o.choice_labels.iter().map(String::len).sum::<usize>()
                })
                .sum::<usize>()
    };
    i.id.len()
        + i.name.len()
        + i.description.len()
        + i.version.len()
        + i.steps.iter().map(step).sum::<usize>()
        + i.options.iter().map(option).sum::<usize>()
        + i.contraindications.iter().map(String::len).sum::<usize>()
        + i.translations.iter().map(translation).sum::<usize>()
}

fn step_texts<'a>(all: &mut Vec<(String, &'a str)>, prefix: &str, steps: &'a [wit::StepInfo]) {
    for (n, s) in steps.iter().enumerate() {
        all.push((format!("{prefix}step {n} title"), &s.title));
        if let Some(a) = &s.staff_action {
            all.push((format!("{prefix}step {n} staff action"), a));
        }
    }
}

/// Every text of a description, with what it is, for the character check.
fn texts(i: &wit::ProgramInfo) -> Vec<(String, &str)> {
    let mut all: Vec<(String, &str)> = vec![
        ("id".into(), &i.id),
        ("name".into(), &i.name),
        ("description".into(), &i.description),
        ("version".into(), &i.version),
    ];
    step_texts(&mut all, "", &i.steps);
    for o in &i.options {
        all.push(("option key".into(), &o.key));
        all.push((format!("option `{}` label", o.key), &o.label));
        all.push((format!("option `{}` description", o.key), &o.description));
        if let wit::OptionKind::Choice(c) = &o.kind {
            all.push((format!("option `{}` default", o.key), &c.default));
            for choice in &c.choices {
                all.push((format!("option `{}` choice", o.key), &choice.value));
                all.push((format!("option `{}` choice label", o.key), &choice.label));
            }
        }
    }
    for c in &i.contraindications {
        all.push(("contraindication".into(), c));
    }
    for t in &i.translations {
        all.push(("translation language".into(), &t.language));
        let prefix = format!("translation `{}` ", t.language);
        all.push((format!("{prefix}name"), &t.name));
        all.push((format!("{prefix}description"), &t.description));
        step_texts(&mut all, &prefix, &t.steps);
        for c in &t.contraindications {
            all.push((format!("{prefix}contraindication"), c));
        }
        for o in &t.options {
            all.push((format!("{prefix}option key"), &o.key));
            all.push((format!("{prefix}option `{}` label", o.key), &o.label));
            all.push((
                format!("{prefix}option `{}` description", o.key),
                &o.description,
            ));
            for l in &o.choice_labels {
                all.push((format!("{prefix}option `{}` choice label", o.key), l));
            }
        }
    }
    all
}

/// Checks a plugin's description and converts it; `Err` says what is wrong.
/// Its texts reach staff, operators and logs: no control characters (line
/// breaks, terminal escapes, reordering marks) in any of them.
pub fn program_info(i: wit::ProgramInfo) -> Result<ProgramInfo, String> {
    for (what, text) in texts(&i) {
        if !tarsal_core::text::is_clean(text, usize::MAX) {
            return Err(format!(
                "its {} contains a control character: {}",
                tarsal_core::text::one_line(&what, 120),
                tarsal_core::text::one_line(text, 120)
            ));
        }
    }
    let id_ok = !i.id.is_empty()
        && i.id.len() <= 40
        && i.id.starts_with(|c: char| c.is_ascii_lowercase())
        && i.id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    check(id_ok, || {
        format!(
            "id `{}` is not usable: use 1–40 lower-case letters, digits and dashes, starting with a letter",
            tarsal_core::text::echo(&i.id)
        )
    })?;
    text(&i.name, "name", 1, 80)?;
    text(&i.description, "description", 0, 600)?;
    text(&i.version, "version", 1, 40)?;
    check((1..=4 * 3600).contains(&i.duration_s), || {
        format!(
            "duration {} s is not plausible; allowed: 1 s to 4 h",
            i.duration_s
        )
    })?;
    check((1..=64).contains(&i.steps.len()), || {
        format!("{} steps; allowed: 1–64", i.steps.len())
    })?;
    for (n, s) in i.steps.iter().enumerate() {
        text(&s.title, &format!("step {n} title"), 1, 120)?;
        if let Some(a) = &s.staff_action {
            text(a, &format!("step {n} staff action"), 1, 600)?;
        }
    }
    check(i.options.len() <= 16, || {
        format!("{} options; allowed: at most 16", i.options.len())
    })?;
    let mut keys: Vec<&str> = Vec::new();
    for o in &i.options {
        let key_ok = !o.key.is_empty()
            && o.key.len() <= 40
            && o.key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        check(key_ok, || {
            format!(
                "option key `{}` is not usable",
                tarsal_core::text::echo(&o.key)
            )
        })?;
        check(!keys.contains(&o.key.as_str()), || {
            format!("option `{}` is declared twice", o.key)
        })?;
        keys.push(&o.key);
        text(&o.label, &format!("option `{}` label", o.key), 1, 80)?;
        match &o.kind {
            wit::OptionKind::Flag(_) => {}
            wit::OptionKind::Integer(r) => {
                check(r.min <= r.default && r.default <= r.max, || {
                    format!(
                        "option `{}`: default {} is not within {}–{}",
                        o.key, r.default, r.min, r.max
                    )
                })?;
            }
            wit::OptionKind::Choice(c) => {
                check((1..=16).contains(&c.choices.len()), || {
                    format!(
                        "option `{}` has {} choices; allowed: 1–16",
                        o.key,
                        c.choices.len()
                    )
                })?;
                check(c.choices.iter().any(|x| x.value == c.default), || {
                    format!(
                        "option `{}`: default `{}` is not one of its choices",
                        o.key, c.default
                    )
                })?;
            }
        }
    }
    check(i.contraindications.len() <= 32, || {
        "more than 32 contraindications".into()
    })?;
    for c in &i.contraindications {
        text(c, "contraindication", 1, 200)?;
    }
    check(i.translations.len() <= 16, || {
        "more than 16 translations".into()
    })?;
    for t in &i.translations {
        text(&t.language, "translation language", 2, 16)?;
        check(t.steps.len() == i.steps.len(), || {
            format!(
                "translation `{}` has {} steps, the program {}",
                t.language,
                t.steps.len(),
                i.steps.len()
            )
        })?;
        check(
            t.contraindications.len() == i.contraindications.len(),
            || {
                format!(
                    "translation `{}` has {} contraindications, the program {}",
                    t.language,
                    t.contraindications.len(),
                    i.contraindications.len()
                )
            },
        )?;
    }
    Ok(interface::program_info(&i))
}

fn check(ok: bool, problem: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(problem()) }
}

fn text(value: &str, what: &str, min: usize, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    check(n >= min && n <= max, || {
        if n < min {
            format!("{what} is empty")
        } else {
            format!("{what} is {n} characters long; allowed: at most {max}")
        }
    })
}
