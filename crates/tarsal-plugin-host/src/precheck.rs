//! What a component imports and exports, read from its bytes before anything
//! is compiled: a component that will be refused (a Python or JavaScript
//! runtime wanting WASI, a library that is not a program) is refused in
//! milliseconds instead of after a compile of tens of seconds.

use crate::{INTERFACE_PACKAGE, INTERFACE_VERSION};
use wasmtime::wasmparser::{Parser, Payload};

/// A component's top-level imports and exports, by name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Surface {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

/// Reads the top-level import and export names; nested modules and
/// components are skipped. `Err` when the bytes are not a readable component.
pub fn surface(bytes: &[u8]) -> Result<Surface, String> {
    let mut surface = Surface::default();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let import = import.map_err(|e| e.to_string())?;
                    surface.imports.push(import.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export = export.map_err(|e| e.to_string())?;
                    surface.exports.push(export.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(surface)
}

/// What is wrong with a component's surface, if anything.
#[derive(Debug, PartialEq, Eq)]
pub enum SurfaceProblem {
    /// Imports the host does not offer (every one of them).
    Foreign(Vec<String>),
    /// Built for another version of the interface.
    WrongInterface(String),
    /// No `tarsal:program/program` export.
    NotAProgram(Vec<String>),
}

/// `tarsal:program/program@0.2.0` → (`tarsal:program`, `program`, `0.1.0`).
pub fn parse_interface(name: &str) -> Option<(&str, &str, &str)> {
    let (path, version) = name.split_once('@')?;
    let (package, interface) = path.split_once('/')?;
    Some((package, interface, version))
}

/// Same major version (for 0.x, same minor).
pub fn compatible(version: &str) -> bool {
    let mut parts = version
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u64>().ok());
    let (Some(Some(major)), Some(Some(minor))) = (parts.next(), parts.next()) else {
        return false;
    };
    let (host_major, host_minor, _) = INTERFACE_VERSION;
    major == host_major && (major != 0 || minor == host_minor)
}

impl Surface {
    /// Checks the surface against the interface this host speaks; returns
    /// the version the component was built for.
    pub fn check(&self) -> Result<String, SurfaceProblem> {
        let mut foreign = Vec::new();
        for name in &self.imports {
            match parse_interface(name) {
                Some((package, interface, version))
                    if package == INTERFACE_PACKAGE && matches!(interface, "types" | "host") =>
                {
                    if !compatible(version) {
                        return Err(SurfaceProblem::WrongInterface(format!(
                            "{INTERFACE_PACKAGE} {version}"
                        )));
                    }
                }
                _ => foreign.push(name.clone()),
            }
        }
        if !foreign.is_empty() {
            return Err(SurfaceProblem::Foreign(foreign));
        }
        let program = self.exports.iter().find_map(|n| {
            parse_interface(n).filter(|(p, i, _)| *p == INTERFACE_PACKAGE && *i == "program")
        });
        match program {
            Some((_, _, version)) if compatible(version) => Ok(version.to_owned()),
            Some((_, _, version)) => Err(SurfaceProblem::WrongInterface(format!(
                "{INTERFACE_PACKAGE} {version}"
            ))),
            None => Err(SurfaceProblem::NotAProgram(self.exports.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_compatible_within_a_minor_for_zero_majors() {
        assert!(compatible("0.2.0"));
        assert!(compatible("0.2.7"));
        assert!(!compatible("0.1.0"));
        assert!(!compatible("0.3.0"));
        assert!(!compatible("1.1.0"));
        assert!(!compatible("2.0.0"));
        assert!(!compatible("garbage"));
    }

    #[test]
    fn interface_names_are_parsed() {
        assert_eq!(
            parse_interface("tarsal:program/program@0.2.0"),
            Some(("tarsal:program", "program", "0.2.0"))
        );
        assert_eq!(parse_interface("wasi:cli/stdout"), None);
    }

    #[test]
    fn every_foreign_import_is_named() {
        let s = Surface {
            imports: vec![
                "tarsal:program/types@0.2.0".into(),
                "wasi:io/poll@0.2.9".into(),
                "wasi:cli/environment@0.2.9".into(),
            ],
            exports: vec!["tarsal:program/program@0.2.0".into()],
        };
        assert_eq!(
            s.check(),
            Err(SurfaceProblem::Foreign(vec![
                "wasi:io/poll@0.2.9".into(),
                "wasi:cli/environment@0.2.9".into()
            ]))
        );
    }

    #[test]
    fn a_component_without_the_program_export_is_not_a_program() {
        let s = Surface {
            imports: vec![],
            exports: vec!["example:lib/api@1.0.0".into()],
        };
        assert!(matches!(s.check(), Err(SurfaceProblem::NotAProgram(_))));
    }
}
