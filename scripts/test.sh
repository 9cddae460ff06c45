#!/usr/bin/env bash
# Runs every Tarsal test on this machine, installing what is missing first.
# The same command runs in CI (.ci/run) on a clean clone.
#
#   scripts/test.sh            format, lint, build (service and plugins), all tests, benchmark smoke run
#
# Everything builds once, in release mode (tests and benchmarks share it).
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

log "lint"
cargo clippy --workspace --all-targets --release --features "$SYSTEM_TIER" -- -D warnings

log "build"
cargo build --workspace --release --all-targets --features "$SYSTEM_TIER"
CARGO_TARSAL=target/release/cargo-tarsal scripts/build-plugins.sh

log "dependency check: the clients stay small"
scripts/check-deps.sh

log "tests: the fast tier and the system tier"
cargo test --workspace --release --features "$SYSTEM_TIER"

log "benchmark smoke run (numbers for docs/PERFORMANCE.md come from full runs)"
# --workspace: the same features as the build above, so nothing compiles again.
cargo bench --workspace --bench engine --bench plugins --bench estop -- --quick
scripts/bench-fleet.sh --chairs 20 --commands 50 --window 3

log "all tests passed in $((SECONDS - started)) s"
