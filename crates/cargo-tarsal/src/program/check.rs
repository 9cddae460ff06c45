//! `cargo tarsal check`: every intensity and every option value, each
//! run to completion on the simulated chair; anything the supervisor had to
//! clamp, refuse or stop is reported, and makes the check fail.

use super::simulate::{RunError, Setting, run_session};
use anyhow::Result;
use serde::Serialize;
use std::time::Duration;
use tarsal_core::program::{OptionKind, ProgramInfo};
use tarsal_core::session::{OptionValue, Outcome, SessionOptions};
use tarsal_core::units::Intensity;
use tarsal_plugin_host::{Library, LoadedPlugin};

/// One combination of options, named for the report.
pub struct Case {
    pub label: String,
    pub options: SessionOptions,
}

/// Every intensity with default options, heat and bath off, and each value
/// of each program option with the others at their defaults. With
/// `exhaustive`, every combination of the option values as well.
pub fn cases(info: &ProgramInfo, exhaustive: bool) -> Vec<Case> {
    let base = SessionOptions::default();
    let mut cases = Vec::new();
    for level in 1..=5 {
        let intensity = Intensity::new(level).unwrap_or_default();
        cases.push(Case {
            label: format!("intensity {level}"),
            options: SessionOptions {
                intensity,
                ..base.clone()
            },
        });
    }
    cases.push(Case {
        label: "heat off".into(),
        options: SessionOptions {
            heat: false,
            ..base.clone()
        },
    });
    if info.uses.bath {
        cases.push(Case {
            label: "bath off".into(),
            options: SessionOptions {
                bath: false,
                ..base.clone()
            },
        });
    }
    let values: Vec<(String, Vec<OptionValue>)> = info
        .options
        .iter()
        .map(|o| {
            let values = match &o.kind {
                OptionKind::Bool { .. } => vec![OptionValue::Bool(false), OptionValue::Bool(true)],
                OptionKind::Int { min, max, default } => {
                    let mut v = vec![*min, *default, *max];
                    v.dedup();
                    v.into_iter().map(OptionValue::Int).collect()
                }
                OptionKind::Choice { choices, .. } => choices
                    .iter()
                    .map(|c| OptionValue::Text(c.value.clone()))
                    .collect(),
            };
            (o.key.clone(), values)
        })
        .collect();
    if exhaustive {
        let mut combos: Vec<Vec<(String, OptionValue)>> = vec![vec![]];
        for (key, vals) in &values {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    vals.iter().map(move |v| {
                        let mut c = c.clone();
                        c.push((key.clone(), v.clone()));
                        c
                    })
                })
                .collect();
        }
        for combo in combos.into_iter().filter(|c| !c.is_empty()) {
            let mut options = base.clone();
            let label = combo
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            options.values.extend(combo);
            cases.push(Case { label, options });
        }
    } else {
        for (key, vals) in &values {
            for v in vals {
                let mut options = base.clone();
                options.values.insert(key.clone(), v.clone());
                cases.push(Case {
                    label: format!("{key}={v}"),
                    options,
                });
            }
        }
    }
    cases
}

#[derive(Serialize)]
pub struct CaseReport {
    pub case: String,
    /// `completed`, … or `declined` when the program refused these options at start.
    pub outcome: String,
    pub detail: String,
    pub simulated_s: f64,
    pub declared_s: f64,
    pub clamps: Vec<String>,
    pub refusals: Vec<String>,
    pub faults: Vec<String>,
    pub staff_confirmations: u32,
    pub wall_ms: u128,
    pub ok: bool,
}

#[derive(Serialize)]
pub struct CheckReport {
    pub program: String,
    pub version: String,
    pub interface_version: String,
    pub cases: Vec<CaseReport>,
    pub ok: bool,
}

/// A declared duration this far off the simulated one is a defect.
const DURATION_TOLERANCE: f64 = 0.5;

pub fn check(
    library: &Library,
    plugin: &LoadedPlugin,
    setting: &Setting,
    exhaustive: bool,
) -> Result<CheckReport> {
    let info = &plugin.info;
    let mut reports = Vec::new();
    for case in cases(info, exhaustive) {
        let options = info.resolve_options(&case.options)?;
        let report = match run_session(library, plugin, options, setting) {
            Ok(run) => {
                let codes = |prefix: &str| -> Vec<String> {
                    run.events
                        .iter()
                        .filter(|e| e.kind.code().starts_with(prefix))
                        .map(|e| {
                            format!(
                                "{} at {:.1} s: {}",
                                e.kind.code(),
                                e.at.as_secs_f64(),
                                e.kind.message()
                            )
                        })
                        .collect()
                };
                let (clamps, refusals, faults) =
                    (codes("clamp."), codes("interlock."), codes("fault."));
                let declared = info.duration.as_secs_f64();
                let simulated = run.duration.as_secs_f64();
                let close = (simulated - declared).abs() <= DURATION_TOLERANCE * declared.max(1.0)
                    || case.label.contains('=');
                CaseReport {
                    ok: run.outcome == Outcome::Completed
                        && clamps.is_empty()
                        && refusals.is_empty()
                        && faults.is_empty()
                        && close,
                    case: case.label,
                    outcome: run.outcome.code().into(),
                    detail: run.detail,
                    simulated_s: simulated,
                    declared_s: declared,
                    clamps,
                    refusals,
                    faults,
                    staff_confirmations: run.staff_confirmations,
                    wall_ms: run.wall.as_millis(),
                }
            }
            Err(e) => {
                // A program may refuse options it cannot run with (a bath
                // program without the bath); anything else is a defect.
                let declined = matches!(e, RunError::Declined(_));
                CaseReport {
                    case: case.label,
                    outcome: if declined {
                        "declined".into()
                    } else {
                        "error".into()
                    },
                    detail: e.to_string(),
                    simulated_s: 0.0,
                    declared_s: info.duration.as_secs_f64(),
                    clamps: vec![],
                    refusals: vec![],
                    faults: vec![],
                    staff_confirmations: 0,
                    wall_ms: 0,
                    ok: declined,
                }
            }
        };
        reports.push(report);
    }
    Ok(CheckReport {
        program: info.id.clone(),
        version: info.version.clone(),
        interface_version: plugin.interface_version.clone(),
        ok: reports.iter().all(|r| r.ok),
        cases: reports,
    })
}

pub fn print(report: &CheckReport) {
    println!(
        "{} {} (tarsal:program {})",
        report.program, report.version, report.interface_version
    );
    for c in &report.cases {
        let mark = if c.ok { "ok  " } else { "FAIL" };
        println!(
            "  {mark} {:<22} {:<10} {:>6.1} min (declared {:.1})  clamps {}  refusals {}  faults {}  staff {}  [{} ms]",
            c.case,
            c.outcome,
            c.simulated_s / 60.0,
            c.declared_s / 60.0,
            c.clamps.len(),
            c.refusals.len(),
            c.faults.len(),
            c.staff_confirmations,
            c.wall_ms
        );
        if !c.detail.is_empty() && (!c.ok || c.outcome == "declined") {
            println!("       {}", c.detail);
        }
        for line in c.clamps.iter().chain(&c.refusals).chain(&c.faults).take(10) {
            println!("       {line}");
        }
    }
    println!(
        "{}",
        if report.ok {
            "check passed"
        } else {
            "check FAILED"
        }
    );
}

/// `Duration` in minutes for reports.
#[allow(dead_code)]
pub fn minutes(d: Duration) -> f64 {
    d.as_secs_f64() / 60.0
}
