//! The program developer's tools behind `cargo tarsal …`.

pub mod build;
pub mod check;
pub mod new;
pub mod plot;
pub mod simulate;

use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tarsal_core::ChairProfile;
use tarsal_core::program::{OptionKind, ProgramInfo};
use tarsal_core::session::SessionOptions;
use tarsal_plugin_host::{Library, Limits, LoadedPlugin};

/// Exit status when a plugin does not load or misbehaves.
pub const EXIT_BAD_PLUGIN: u8 = 2;

pub fn library() -> Result<Library> {
    Library::new(Limits::default(), None)
        .map_err(|e| anyhow::anyhow!("starting the plugin host: {e}"))
}

/// Loads `file`, or prints why not and returns the exit status.
pub fn load(library: &Library, file: &Path) -> Result<LoadedPlugin, ExitCode> {
    library.load_file(file).map_err(|e| {
        eprintln!("{}: {e}", file.display());
        ExitCode::from(EXIT_BAD_PLUGIN)
    })
}

pub fn load_profile(path: Option<&Path>) -> Result<Arc<ChairProfile>> {
    Ok(Arc::new(match path {
        Some(p) => {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {name}"))?;
            ChairProfile::parse(&name, &text).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        None => ChairProfile::standard(),
    }))
}

#[derive(Serialize)]
struct InfoReport<'a> {
    file: String,
    interface_version: &'a str,
    sha256: &'a str,
    #[serde(flatten)]
    info: &'a ProgramInfo,
}

pub fn info(file: &Path, json: bool) -> Result<ExitCode> {
    let library = library()?;
    let plugin = match load(&library, file) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let info = &plugin.info;
    if json {
        let report = InfoReport {
            file: file.display().to_string(),
            interface_version: &plugin.interface_version,
            sha256: &plugin.sha256,
            info,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} — {} {}", info.id, info.name, info.version);
    println!("  {}", info.description);
    println!(
        "  interface      tarsal:program {}",
        plugin.interface_version
    );
    println!(
        "  duration       about {} min",
        (info.duration.as_secs() + 30) / 60
    );
    println!("  uses           {}", info.uses.names().join(", "));
    println!("  steps");
    for (i, s) in info.steps.iter().enumerate() {
        match &s.staff_action {
            Some(a) => println!("    {:>2}. {} — staff: {a}", i + 1, s.title),
            None => println!("    {:>2}. {}", i + 1, s.title),
        }
    }
    if !info.options.is_empty() {
        println!("  options");
        for o in &info.options {
            let kind = match &o.kind {
                OptionKind::Bool { default } => {
                    format!("on/off, default {}", if *default { "on" } else { "off" })
                }
                OptionKind::Int { min, max, default } => format!("{min}–{max}, default {default}"),
                OptionKind::Choice { choices, default } => format!(
                    "{}, default {default}",
                    choices
                        .iter()
                        .map(|c| c.value.as_str())
                        .collect::<Vec<_>>()
                        .join(" | ")
                ),
            };
            println!("    {:<14} {} ({kind}) — {}", o.key, o.label, o.description);
        }
    }
    if !info.contraindications.is_empty() {
        println!("  not for clients with");
        for c in &info.contraindications {
            println!("    - {c}");
        }
    }
    if !info.translations.is_empty() {
        let langs: Vec<&str> = info
            .translations
            .iter()
            .map(|t| t.language.as_str())
            .collect();
        println!("  translations   {}", langs.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn check(
    file: &Path,
    profile: Option<&Path>,
    exhaustive: bool,
    json: bool,
) -> Result<ExitCode> {
    let library = library()?;
    let plugin = match load(&library, file) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let setting = simulate::Setting {
        profile: load_profile(profile)?,
        staff_reaction: Duration::from_secs(20),
        record_every: None,
    };
    let report = check::check(&library, &plugin, &setting, exhaustive)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        check::print(&report);
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_BAD_PLUGIN)
    })
}

/// Session options from `--option k=v` pairs and the common flags.
pub struct RunArgs<'a> {
    pub file: &'a Path,
    pub options: SessionOptions,
    pub plot: Option<&'a PathBuf>,
    pub profile: Option<&'a Path>,
    pub json: bool,
}

pub fn run(args: RunArgs<'_>) -> Result<ExitCode> {
    let library = library()?;
    let plugin = match load(&library, args.file) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let options = match plugin.info.resolve_options(&args.options) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(EXIT_BAD_PLUGIN));
        }
    };
    let profile = load_profile(args.profile)?;
    let setting = simulate::Setting {
        profile: Arc::clone(&profile),
        staff_reaction: Duration::from_secs(20),
        record_every: args.plot.map(|_| Duration::from_millis(500)),
    };
    let run = match simulate::run_session(&library, &plugin, options, &setting) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", args.file.display());
            return Ok(ExitCode::from(EXIT_BAD_PLUGIN));
        }
    };
    if let Some(path) = args.plot {
        let svg = plot::timeline(&plugin.info, &profile, &run.snapshots, run.outcome);
        std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        #[derive(Serialize)]
        struct Line<'a> {
            at_s: f64,
            code: &'a str,
            message: String,
        }
        let events: Vec<Line<'_>> = run
            .events
            .iter()
            .map(|e| Line {
                at_s: e.at.as_secs_f64(),
                code: e.kind.code(),
                message: e.kind.message(),
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "program": plugin.info.id,
                "outcome": run.outcome.code(),
                "detail": run.detail,
                "simulated_s": run.duration.as_secs_f64(),
                "wall_ms": run.wall.as_millis() as u64,
                "events": events,
            })
        );
    } else {
        println!(
            "{}: {} after {:.1} simulated minutes ({} ms of real time)",
            plugin.info.id,
            run.outcome,
            run.duration.as_secs_f64() / 60.0,
            run.wall.as_millis()
        );
        if !run.detail.is_empty() {
            println!("  {}", run.detail);
        }
        for e in &run.events {
            println!(
                "  {:>8.1} s  {:<26} {}",
                e.at.as_secs_f64(),
                e.kind.code(),
                e.kind.message()
            );
        }
        if let Some(path) = args.plot {
            println!("timeline written to {}", path.display());
        }
    }
    let clean = run.outcome == tarsal_core::Outcome::Completed
        && run.count("fault.") + run.count("clamp.") + run.count("interlock.") == 0;
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_BAD_PLUGIN)
    })
}

pub fn build(
    dirs: &[PathBuf],
    out: Option<&Path>,
    toolchain: Option<build::Toolchain>,
    verify: bool,
    bundle: bool,
) -> Result<ExitCode> {
    let built = build::build(dirs, out, toolchain)?;
    if !verify {
        for b in &built {
            println!(
                "built {} ({} {}, {} KiB)",
                b.file.display(),
                b.package,
                b.version,
                b.bytes / 1024
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let library = library()?;
    let mut ok = true;
    let mut manifest = tarsal_plugin_host::BundleManifest::default();
    for b in &built {
        match library.load_file(&b.file) {
            Ok(p) => {
                println!(
                    "built {} ({} {}, {} KiB, tarsal:program {})",
                    b.file.display(),
                    p.info.id,
                    p.info.version,
                    b.bytes / 1024,
                    p.interface_version
                );
                manifest.programs.push(tarsal_plugin_host::BundledProgram {
                    id: p.info.id.clone(),
                    version: p.info.version.clone(),
                    file: b
                        .file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    sha256: p.sha256.clone(),
                });
            }
            Err(e) => {
                ok = false;
                println!(
                    "built {} ({} {}), but it does not load: {e}",
                    b.file.display(),
                    b.package,
                    b.version
                );
            }
        }
    }
    if bundle && ok {
        let dir = built
            .first()
            .and_then(|b| b.file.parent())
            .context("nothing was built")?;
        let path = dir.join(tarsal_plugin_host::BUNDLE_MANIFEST);
        std::fs::write(&path, manifest.to_toml())
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "wrote {} ({} bundled programs)",
            path.display(),
            manifest.programs.len()
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_BAD_PLUGIN)
    })
}
