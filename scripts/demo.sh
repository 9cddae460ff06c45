#!/usr/bin/env bash
# Starts the Tarsal demo: the service on a simulated chair, running the demo
# program at ten times real speed, then shows what the chair recorded.
#
#   scripts/demo.sh [--speed N]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

speed=10
if [ "${1:-}" = "--speed" ] && [ -n "${2:-}" ]; then speed=$2; fi

ensure_base
log "building"
cargo build --release -p tarsald -p tarsalctl

state=artifacts/demo
mkdir -p "$state"
db="$state/tarsal.db"
log "running the demo program on the simulated chair (${speed}× real time); Ctrl-C stops it safely"
set +e
./target/release/tarsald --sim --program demo --speed "$speed" --db "$db"
status=$?
set -e

log "what the chair recorded ($db)"
./target/release/tarsalctl sessions --db "$db" --limit 5
echo
./target/release/tarsalctl events --db "$db" --limit 12
exit $status
