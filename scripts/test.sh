#!/usr/bin/env bash
# Runs every Tarsal test on this machine, installing what is missing first.
# The same command runs in CI (.ci/run) on a clean clone.
#
#   scripts/test.sh            format, build with lints (service and plugins), all tests, benchmark smoke run
#
# Everything builds once, in the `ci` profile (release settings at
# opt-level 1, see Cargo.toml), linted as it compiles; tests and the
# benchmark smoke run share that build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
started=$SECONDS
# Every tier: `cargo test` alone runs only the fast one (see README).
SYSTEM_TIER=tarsal-system-tests/system

ensure_base
ensure_dbus
ensure_mosquitto
ensure_browser
ensure_wasm_toolchain

log "set-up check: every program the tests run comes from a package named in setup.sh"
check_programs

log "format"
cargo fmt --all --check

# Lint and build in one pass: clippy's driver compiles the workspace's own
# crates, with clippy's lints and `-D warnings`, while dependencies go to
# rustc as usual. A separate `cargo clippy` would check every dependency
# again (about 4 minutes on a fresh machine) before the build compiled them.
# Exported, so tests and benchmarks reuse this build instead of rebuilding
# the workspace without the driver.
export RUSTC_WORKSPACE_WRAPPER
RUSTC_WORKSPACE_WRAPPER="$(dirname "$(command -v cargo-clippy)")/clippy-driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
[ -x "$RUSTC_WORKSPACE_WRAPPER" ] || { echo "no clippy-driver beside cargo-clippy" >&2; exit 1; }

log "build and lint (clippy, -D warnings)"
cargo build --workspace --profile ci --all-targets --features "$SYSTEM_TIER"
# The plugins for wasm32: their code was linted above (the native build of
# each plugin crate); the wasm std is no workspace crate either way.
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS CARGO_TARSAL=target/ci/cargo-tarsal scripts/build-plugins.sh

log "dependency check: the clients stay small"
scripts/check-deps.sh

log "tests: the fast tier and the system tier"
cargo test --workspace --profile ci --features "$SYSTEM_TIER"

log "benchmark smoke run (numbers for docs/PERFORMANCE.md come from full runs)"
# --workspace: the same features as the build above, so nothing compiles again.
cargo bench --workspace --profile ci --bench engine --bench plugins --bench estop --bench board_link -- --quick
scripts/bench-fleet.sh --profile ci --chairs 20 --commands 50 --window 3

log "all tests passed in $((SECONDS - started)) s"
