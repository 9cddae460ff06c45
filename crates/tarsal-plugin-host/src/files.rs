//! Reading plugin files from a directory anyone might have written to: a
//! FIFO must not hang the service, a link to `/dev/zero` must not fill its
//! memory, a name must not smuggle control characters into a log line.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Why a file could not be read as a plugin.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("it is {kind}, not a regular file")]
    NotRegular { kind: &'static str },
    #[error("it is larger than {max} bytes, the most a plugin may be")]
    TooLarge { max: u64 },
}

/// What kind of file `t` is, in words.
fn kind(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Reads `path` if it is a regular file of at most `max` bytes. Links are
/// followed, but what is checked is the file actually opened (no race
/// between a check and the open); the open does not block on FIFOs, and
/// reading stops after `max` + 1 bytes whatever the file claims its size is.
pub fn read_plugin(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular {
            kind: kind(meta.file_type()),
        });
    }
    if meta.len() > max {
        return Err(ReadError::TooLarge { max });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge { max });
    }
    Ok(bytes)
}

/// The `*.wasm` entries of `dir`, in name order. Entries that are not
/// regular files are listed too (and refused by [`read_plugin`], with the
/// reason), so a technician sees why a file did not load.
pub fn plugin_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    files.sort();
    Ok(files)
}

/// A path as it may be shown in a log line, event or reply.
pub fn shown(path: &Path) -> String {
    tarsal_core::text::one_line(&path.to_string_lossy(), 512).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tarsal-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    #[allow(unsafe_code)] // reviewed: making a FIFO for the test
    fn a_fifo_is_refused_without_blocking() {
        let dir = scratch("fifo");
        let fifo = dir.join("x.wasm");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let err = read_plugin(&fifo, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("named pipe"), "{err}");
    }

    #[test]
    fn a_link_to_a_device_is_refused_and_a_link_to_a_file_is_read() {
        let dir = scratch("links");
        let zero = dir.join("zero.wasm");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = read_plugin(&zero, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");

        let real = dir.join("real.bin");
        std::fs::write(&real, b"\0asm").unwrap();
        let link = dir.join("link.wasm");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(read_plugin(&link, 1 << 20).unwrap(), b"\0asm");
        assert!(matches!(
            read_plugin(&dir, 1 << 20),
            Err(ReadError::NotRegular { .. })
        ));
    }

    #[test]
    fn reading_stops_at_the_limit() {
        let dir = scratch("big");
        let big = dir.join("big.wasm");
        std::fs::write(&big, vec![0u8; 4096]).unwrap();
        assert!(matches!(
            read_plugin(&big, 1000),
            Err(ReadError::TooLarge { max: 1000 })
        ));
    }

    #[test]
    fn names_cannot_carry_control_characters() {
        let shown = shown(Path::new("/p/evil\n2026 ERROR forged.wasm"));
        assert!(!shown.contains('\n'), "{shown}");
    }
}
