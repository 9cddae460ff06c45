//! The bundle manifest: which programs were shipped with this Tarsal build,
//! by id and SHA-256. It is written when the bundled programs are built
//! (`cargo tarsal build --bundle`) and installed beside them, in the
//! package's read-only programs directory.
//!
//! A file whose id is a bundled program's id loads only if it is that
//! program's shipped file, byte for byte; anything else claiming the id — an
//! "update" dropped beside it, a file in the site's local directory — is
//! refused. The manifest is where a signature of the bundle would go when
//! programs are signed: the rule stays the same, the trust moves from file
//! permissions to a key.

use serde::{Deserialize, Serialize};
use std::path::Path;
use tarsal_core::config_file::{FileError, Located};

/// The manifest's file name in the bundled programs directory.
pub const BUNDLE_MANIFEST: &str = "bundle.toml";

/// One shipped program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundledProgram {
    pub id: String,
    pub version: String,
    /// File name within the directory.
    pub file: String,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

/// The programs shipped with this build.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleManifest {
    #[serde(default, rename = "program")]
    pub programs: Vec<BundledProgram>,
}

impl BundleManifest {
    /// Reads `dir/bundle.toml`; a directory without one has no bundled programs.
    pub fn read(dir: &Path) -> Result<Self, FileError> {
        let path = dir.join(BUNDLE_MANIFEST);
        let name = path.display().to_string();
        let text = match crate::files::read_plugin(&path, 1 << 20) {
            Ok(bytes) => String::from_utf8(bytes)
                .map_err(|_| FileError::whole_file(&name, "it is not UTF-8 text"))?,
            Err(crate::files::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(e) => return Err(FileError::whole_file(&name, e.to_string())),
        };
        Self::parse(&name, &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, FileError> {
        let located = Located::new(file, text);
        let manifest: Self = located.deserialize()?;
        let mut checker = tarsal_core::config_file::Checker::new(&located);
        for (i, p) in manifest.programs.iter().enumerate() {
            let hex = p.sha256.len() == 64
                && p.sha256
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
            checker.require(hex, &format!("program[{i}].sha256"), || {
                "must be 64 lower-case hex digits".into()
            });
            let twice = manifest.programs[..i].iter().any(|q| q.id == p.id);
            checker.require(!twice, &format!("program[{i}].id"), || {
                format!("`{}` is listed twice", p.id)
            });
        }
        checker.finish()?;
        Ok(manifest)
    }

    /// The shipped program with this id.
    pub fn get(&self, id: &str) -> Option<&BundledProgram> {
        self.programs.iter().find(|p| p.id == id)
    }

    /// The manifest as TOML, with a header saying what it is.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# The programs shipped with this Tarsal build (written by\n\
             # `cargo tarsal build --bundle`). A program file whose id is\n\
             # listed here loads only if its SHA-256 is the one listed.\n\n{body}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_round_trips_and_bad_ones_are_located() {
        let m = BundleManifest {
            programs: vec![BundledProgram {
                id: "classic".into(),
                version: "1.0.0".into(),
                file: "classic.wasm".into(),
                sha256: "ab".repeat(32),
            }],
        };
        let text = m.to_toml();
        assert_eq!(BundleManifest::parse("bundle.toml", &text).unwrap(), m);
        let bad = text.replace(&"ab".repeat(32), "xyz");
        let err = BundleManifest::parse("bundle.toml", &bad).unwrap_err();
        assert!(err.to_string().contains("program[0].sha256"), "{err}");
    }
}
