//! Tarsal's hardware backends for Linux. Today: a Tarsal chair board (the
//! register map of `tarsal-board`) over Modbus TCP or Modbus RTU on a serial
//! port — [`ChairBoardLink`].
//!
//! The backend keeps the tick's contract (see `tarsal_core::hardware`): an I/O
//! thread exchanges with the board every poll interval and keeps a process
//! image; the control loop's `read` takes the newest sample with its age and
//! `write` leaves the outputs for the next exchange, so a slow or silent
//! board never holds up the tick. The kill switch wakes the I/O thread, which
//! writes the contactor register before anything else.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod board_link;

pub use board_link::{BoardAddress, BoardSettings, ChairBoardLink, ConnectError, LinkHealth};
