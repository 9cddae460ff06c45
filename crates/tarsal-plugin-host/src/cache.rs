//! The compile cache: a component compiled once is stored as native code
//! and loaded from disk afterwards, so a start does not recompile.
//!
//! Entries are keyed by the SHA-256 of the component and by the engine's
//! compatibility hash (wasmtime version and settings), so a changed plugin or
//! a new service build never loads stale code. The directory must be writable
//! by the service alone: loading compiled code trusts it.

use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct CompileCache {
    dir: PathBuf,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl CompileCache {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, engine: &Engine, sha256: &str) -> PathBuf {
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        self.dir.join(format!("{sha256}-{:016x}.cwasm", h.finish()))
    }

    /// The compiled component, if the cache has a usable entry.
    #[allow(unsafe_code)] // reviewed: deserializing our own compiled artifacts
    pub fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.path(engine, sha256);
        // Read into memory rather than mapped: a mapped file changed under
        // the service (by anyone) would crash it.
        let bytes = std::fs::read(&path).ok()?;
        // SAFETY: the file was written by `store` below from a component
        // compiled by an engine with this compatibility hash (it is in the
        // file name), and the cache directory belongs to the service;
        // wasmtime also checks the header and refuses mismatched artifacts.
        match unsafe { Component::deserialize(engine, &bytes) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "unusable compile cache entry; recompiling");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores a compiled component (atomically: written aside, then
    /// renamed) unless the cache would grow past `max_bytes`; returns
    /// whether it was stored.
    pub fn store(
        &self,
        engine: &Engine,
        sha256: &str,
        component: &Component,
        max_bytes: u64,
    ) -> std::io::Result<bool> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component
            .serialize()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        if self.size()? + bytes.len() as u64 > max_bytes {
            return Ok(false);
        }
        let path = self.path(engine, sha256);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        Ok(true)
    }

    /// Bytes the cache's entries take.
    fn size(&self) -> std::io::Result<u64> {
        let mut total = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            if is_cache_file(&entry.path()) {
                total += entry.metadata()?.len();
            }
        }
        Ok(total)
    }

    /// Removes every entry but those of the components in `keep` (SHA-256s)
    /// compiled by this engine: entries of deleted or replaced plugins,
    /// of refused ones, of older builds of the service, and leftovers of
    /// interrupted writes. Files the cache did not write are left alone.
    /// Returns how many entries were removed.
    pub fn prune(&self, engine: &Engine, keep: &[&str]) -> std::io::Result<usize> {
        let wanted: Vec<PathBuf> = keep.iter().map(|sha| self.path(engine, sha)).collect();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if !is_cache_file(&path) || wanted.contains(&path) {
                continue;
            }
            // A file another load is writing right now is left to it.
            let fresh = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age < std::time::Duration::from_secs(600));
            if path.to_string_lossy().contains(".tmp") && fresh {
                continue;
            }
            std::fs::remove_file(&path)?;
            removed += 1;
        }
        Ok(removed)
    }
}

/// A file this cache writes: `<sha256>-<hash>.cwasm`, or one being written.
fn is_cache_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let stem_ok = name.len() > 65
        && name.as_bytes()[64] == b'-'
        && name[..64].chars().all(|c| c.is_ascii_hexdigit());
    stem_ok && (name.ends_with(".cwasm") || name.contains(".tmp"))
}
