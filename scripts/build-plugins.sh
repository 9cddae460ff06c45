#!/usr/bin/env bash
# Builds every massage program plugin into target/plugins/, and the
# deliberately misbehaving test fixtures into target/plugins/hostile/.
# Installs the wasm toolchain when missing (scripts/lib/setup.sh).
#
#   CARGO_TARSAL=target/release/cargo-tarsal scripts/build-plugins.sh
#       uses a cargo-tarsal already built (by a workspace build) instead of
#       building it alone, which would compile its dependencies a second
#       time with other features.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

ensure_base
ensure_wasm_toolchain

tool=${CARGO_TARSAL:-}
if [ -z "$tool" ]; then
    log "building the plugin tool (cargo-tarsal)"
    cargo build --release -p cargo-tarsal
    tool=./target/release/cargo-tarsal
fi

log "building the program plugins"
"$tool" build plugins/*/ --out target/plugins --bundle

log "building the hostile test fixtures"
"$tool" build tests/fixtures/plugins/*/ --out target/plugins/hostile --no-verify
