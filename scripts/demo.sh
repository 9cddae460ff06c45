#!/usr/bin/env bash
# The Tarsal demo: the chair service on a simulated chair, serving
# org.tarsal.Chair1 on a private D-Bus of its own. A short tour drives it with
# tarsalctl; then it keeps running for you to drive until Ctrl-C.
#
#   scripts/demo.sh                 30× real time: tour, then wait for Ctrl-C
#   scripts/demo.sh --speed 5       slower (1 is a real chair's pace)
#   scripts/demo.sh --tour-only     the tour, then stop
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

speed=30
tour_only=false
while [ $# -gt 0 ]; do
    case "$1" in
        --speed) speed=$2; shift 2 ;;
        --tour-only) tour_only=true; shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

ensure_base
ensure_dbus
log "building the service and the bundled programs"
cargo build --release --workspace
TARSALCTL=target/release/tarsalctl scripts/build-plugins.sh

state=artifacts/demo
mkdir -p "$state"
bus_pid=""
service_pid=""
cleanup() {
    [ -z "$service_pid" ] || { kill -TERM "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null; } || true
    [ -z "$bus_pid" ] || kill "$bus_pid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "a private D-Bus for the demo"
bus_info=$(dbus-daemon --session --fork --print-address=1 --print-pid=1)
export TARSAL_BUS_ADDRESS=$(sed -n 1p <<<"$bus_info")
bus_pid=$(sed -n 2p <<<"$bus_info")
echo "$TARSAL_BUS_ADDRESS"

log "tarsald on a simulated chair (${speed}× real time; log in $state/tarsald.log)"
./target/release/tarsald --sim --bus-address "$TARSAL_BUS_ADDRESS" --speed "$speed" \
    --programs target/plugins --program-cache "$state/cache" --db "$state/tarsal.db" \
    2>"$state/tarsald.log" &
service_pid=$!

ctl() {
    echo "\$ tarsalctl $*" >&2
    ./target/release/tarsalctl "$@"
}
for _ in $(seq 100); do
    ./target/release/tarsalctl status >/dev/null 2>&1 && break
    kill -0 "$service_pid" 2>/dev/null || { cat "$state/tarsald.log" >&2; exit 1; }
    sleep 0.2
done

log "the tour"
ctl programs
ctl start classic --intensity 2 --option minutes=10 --confirm-contraindications
timeout 8 ./target/release/tarsalctl watch || true
ctl intensity 4
ctl pause
ctl status
ctl resume
sleep 2
ctl estop
ctl actuators
ctl reset
ctl events --limit 12

if $tour_only; then
    exit 0
fi
cat <<EOF

The chair is idle and waiting. In another terminal:

    export TARSAL_BUS_ADDRESS='$TARSAL_BUS_ADDRESS'
    target/release/tarsalctl watch
    target/release/tarsalctl start reflexology --confirm-contraindications
    target/release/tarsalctl sim inject '{"fault":"leak","rate":0.1,"reaches_sensor":true}'
    busctl --address="\$TARSAL_BUS_ADDRESS" introspect org.tarsal.Chair1 /org/tarsal/Chair1

Ctrl-C stops the demo (the chair goes safe first).
EOF
wait "$service_pid"
