#!/usr/bin/env bash
# The Tarsal demo: builds the service and the bundled massage programs, then
# runs each program (as a sandboxed WebAssembly plugin) on the simulated chair,
# faster than real time, and shows what the chair recorded.
#
#   scripts/demo.sh                      every bundled program, 60× real time
#   scripts/demo.sh classic --speed 10   one program, 10× real time
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

speed=60
programs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --speed) speed=$2; shift 2 ;;
        *) programs+=("$1"); shift ;;
    esac
done
[ ${#programs[@]} -gt 0 ] || programs=(classic lymphatic-drainage reflexology foot-bath-soak sanitize)

ensure_base
log "building the service"
cargo build --release -p tarsald -p tarsalctl
scripts/build-plugins.sh

state=artifacts/demo
mkdir -p "$state"
db="$state/tarsal.db"
status=0
for program in "${programs[@]}"; do
    log "$program on the simulated chair (${speed}× real time; staff steps confirmed after 20 s; Ctrl-C stops safely)"
    ./target/release/tarsald --sim --programs target/plugins --program-cache "$state/cache" \
        --db "$db" --speed "$speed" --auto-confirm 20 --program "$program" || status=$?
done

log "what the chair recorded ($db)"
./target/release/tarsalctl sessions --db "$db" --limit ${#programs[@]}
echo
./target/release/tarsalctl events --db "$db" --limit 15
echo
echo "Inspect a program:   target/release/tarsalctl program info target/plugins/classic.wasm"
echo "Picture a session:   target/release/tarsalctl program run target/plugins/classic.wasm --plot classic.svg"
exit $status
