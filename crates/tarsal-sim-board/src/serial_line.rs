//! A serial line for the bench, without hardware: two pseudo-terminals, one
//! for the host's Modbus RTU backend and one for the simulated board, joined
//! by a relay that can corrupt what the board sends (checksum errors on the
//! wire, as a noisy RS-485 pair gives them).

use rustix::fs::OFlags;
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{OptionalActions, tcgetattr, tcsetattr};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Two joined pseudo-terminals: open [`SerialLine::host`] on one end and
/// [`SerialLine::board`] on the other as serial ports.
pub struct SerialLine {
    host: String,
    board: String,
    corrupt: Arc<AtomicU32>,
    // Held open so the relay's reads never see a hang-up between users.
    _slaves: [File; 2],
}

/// One pseudo-terminal: its master, its slave's path, the slave held open
/// and set raw (no echo, no line editing: bytes pass as they are).
fn pty() -> std::io::Result<(File, String, File)> {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let path = ptsname(&master, Vec::new())?
        .into_string()
        .map_err(|_| std::io::Error::other("the pty's name is not UTF-8"))?;
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(OFlags::NOCTTY.bits() as i32)
        .open(&path)?;
    let mut termios = tcgetattr(&slave)?;
    termios.make_raw();
    tcsetattr(&slave, OptionalActions::Now, &termios)?;
    Ok((File::from(master), path, slave))
}

fn relay(mut from: File, mut to: File, corrupt: Option<Arc<AtomicU32>>) {
    let mut buffer = [0u8; 512];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if let Some(corrupt) = &corrupt
            && corrupt
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok()
        {
            buffer[0] ^= 0x5A;
        }
        if to.write_all(&buffer[..n]).is_err() {
            return;
        }
    }
}

impl SerialLine {
    /// Opens both ends and starts the relay threads.
    pub fn open() -> std::io::Result<Self> {
        let (host_master, host, host_slave) = pty()?;
        let (board_master, board, board_slave) = pty()?;
        let corrupt = Arc::new(AtomicU32::new(0));
        let (host_in, board_out) = (host_master.try_clone()?, board_master.try_clone()?);
        std::thread::Builder::new()
            .name("serial-to-board".into())
            .spawn(move || relay(host_master, board_out, None))?;
        let flips = Arc::clone(&corrupt);
        std::thread::Builder::new()
            .name("serial-to-host".into())
            .spawn(move || relay(board_master, host_in, Some(flips)))?;
        Ok(Self {
            host,
            board,
            corrupt,
            _slaves: [host_slave, board_slave],
        })
    }

    /// The host's end, a serial device path.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The board's end, a serial device path.
    pub fn board(&self) -> &str {
        &self.board
    }

    /// Corrupts one byte of each of the board's next `chunks` writes.
    pub fn corrupt_next(&self, chunks: u32) {
        self.corrupt.store(chunks, Ordering::SeqCst);
    }
}
