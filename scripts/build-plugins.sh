#!/usr/bin/env bash
# Builds every massage program plugin into target/plugins/, and the
# deliberately misbehaving test fixtures into target/plugins/hostile/.
# Installs the wasm toolchain when missing (see ../shared/toolchain/WASM.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

ensure_base
ensure_wasm_toolchain

log "building the plugin tool"
cargo build --release -p tarsalctl

log "building the program plugins"
./target/release/tarsalctl program build plugins/*/ --out target/plugins

log "building the hostile test fixtures"
./target/release/tarsalctl program build tests/fixtures/plugins/*/ --out target/plugins/hostile --no-verify
