#!/usr/bin/env bash
# The Tarsal demo: the chair service on a simulated chair, serving
# org.tarsal.Chair1 on a private D-Bus of its own and publishing to an MQTT
# broker (a Mosquitto of its own unless --mqtt names one), and the touch
# panel on http://127.0.0.1:8080/ (or the next free port). A short tour
# drives it with tarsalctl and MQTT; then it keeps running for you to drive
# from the panel until Ctrl-C.
#
#   scripts/demo.sh                          30× real time: tour, then wait for Ctrl-C
#   scripts/demo.sh --speed 5                slower (1 is a real chair's pace)
#   scripts/demo.sh --mqtt mqtt://HOST:PORT  use that broker instead
#   scripts/demo.sh --tour-only              the tour, then stop
#   scripts/demo.sh --modbus                 the chair behind Modbus TCP: the simulated
#                                            chair served as a chair board (docs/hardware.md)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

speed=30
tour_only=false
mqtt=""
modbus=false
while [ $# -gt 0 ]; do
    case "$1" in
        --speed) speed=$2; shift 2 ;;
        --tour-only) tour_only=true; shift ;;
        --mqtt) mqtt=$2; shift 2 ;;
        --modbus) modbus=true; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

ensure_base
ensure_dbus
ensure_mosquitto
log "building the service and the bundled programs"
cargo build --release --workspace
CARGO_TARSAL=target/release/cargo-tarsal scripts/build-plugins.sh

state=artifacts/demo
mkdir -p "$state"
bus_pid=""
service_pid=""
broker_pid=""
panel_pid=""
board_pid=""
cleanup() {
    [ -z "$panel_pid" ] || kill "$panel_pid" 2>/dev/null || true
    [ -z "$board_pid" ] || kill "$board_pid" 2>/dev/null || true
    [ -z "$service_pid" ] || { kill -TERM "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null; } || true
    [ -z "$bus_pid" ] || kill "$bus_pid" 2>/dev/null || true
    [ -z "$broker_pid" ] || kill "$broker_pid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "a private D-Bus for the demo"
bus_info=$(dbus-daemon --session --fork --print-address=1 --print-pid=1)
export TARSAL_BUS_ADDRESS=$(sed -n 1p <<<"$bus_info")
bus_pid=$(sed -n 2p <<<"$bus_info")
echo "$TARSAL_BUS_ADDRESS"

if [ -z "$mqtt" ]; then
    port=1883
    while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    log "a Mosquitto broker for the demo on 127.0.0.1:$port"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n' "$port" >"$state/mosquitto.conf"
    mosquitto -c "$state/mosquitto.conf" 2>"$state/mosquitto.log" &
    broker_pid=$!
    mqtt="mqtt://127.0.0.1:$port"
fi
mqtt_hostport=${mqtt#*://}
mqtt_host=${mqtt_hostport%:*}
mqtt_port=${mqtt_hostport##*:}
[ "$mqtt_port" != "$mqtt_hostport" ] || mqtt_port=1883
chair=demo-chair
printf '[mqtt]\nbroker = "%s"\nchair_id = "%s"\ntelemetry_interval_ms = 1000\nremote_start = true\n' \
    "$mqtt" "$chair" >"$state/tarsald.toml"

chair_io=(--sim)
if $modbus; then
    board_port=1502
    while (echo >"/dev/tcp/127.0.0.1/$board_port") 2>/dev/null; do board_port=$((board_port + 1)); done
    log "the simulated chair as a chair board on Modbus TCP 127.0.0.1:$board_port (log in $state/board.log)"
    # The board's physics follow tarsald's clock, so --speed applies to them too.
    ./target/release/tarsal-sim-board --listen "127.0.0.1:$board_port" --clock host 2>"$state/board.log" &
    board_pid=$!
    sed 's/^backend = "simulator"/backend = "chair_board"/' deploy/profiles/pedicure-standard.toml >"$state/profile.toml"
    printf '\n[chair_board]\ntcp = "127.0.0.1:%s"\n' "$board_port" >>"$state/profile.toml"
    for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$board_port") 2>/dev/null && break; sleep 0.1; done
    chair_io=(--profile "$state/profile.toml")
fi

log "tarsald on a simulated chair (${speed}× real time; log in $state/tarsald.log)"
./target/release/tarsald "${chair_io[@]}" --config "$state/tarsald.toml" --bus-address "$TARSAL_BUS_ADDRESS" \
    --speed "$speed" --programs target/plugins --program-cache "$state/cache" --db "$state/tarsal.db" \
    2>"$state/tarsald.log" &
service_pid=$!

ctl() {
    echo "\$ tarsalctl $*" >&2
    ./target/release/tarsalctl "$@"
}
# The service answers at once; its programs load in the background (the
# first start compiles them).
for _ in $(seq 600); do
    ./target/release/tarsalctl programs 2>/dev/null | grep -q '^classic' && break
    kill -0 "$service_pid" 2>/dev/null || { cat "$state/tarsald.log" >&2; exit 1; }
    sleep 0.2
done

panel_port=8080
while (echo >"/dev/tcp/127.0.0.1/$panel_port") 2>/dev/null; do panel_port=$((panel_port + 1)); done
pin=2580
printf '%s\n' "$pin" >"$state/panel-pin"
log "the touch panel on http://127.0.0.1:$panel_port/ (log in $state/panel.log)"
rm -f "$state/panel-key"   # a new panel key for each demo, as for each boot
./target/release/tarsal-panel --bus-address "$TARSAL_BUS_ADDRESS" --listen "127.0.0.1:$panel_port" \
    --pin-file "$state/panel-pin" --key-file "$state/panel-key" 2>"$state/panel.log" &
panel_pid=$!
for _ in $(seq 100); do
    (echo >"/dev/tcp/127.0.0.1/$panel_port") 2>/dev/null && break
    kill -0 "$panel_pid" 2>/dev/null || { cat "$state/panel.log" >&2; exit 1; }
    sleep 0.1
done

log "the tour"
ctl programs
ctl start classic --intensity 2 --option minutes=10 --confirm-contraindications
timeout 8 ./target/release/tarsalctl watch || true
echo "\$ mosquitto_sub -h $mqtt_host -p $mqtt_port -t 'tarsal/$chair/#' -v   (3 s)" >&2
mosquitto_sub -h "$mqtt_host" -p "$mqtt_port" -t "tarsal/$chair/#" -v -W 3 | cut -c1-160 || true
ctl intensity 4
ctl pause
ctl status
ctl resume
sleep 2
ctl estop
ctl actuators
ctl reset
ctl start reflexology --confirm-contraindications
sleep 2
echo "\$ mosquitto_rr … -t tarsal/$chair/cmd/stop   (an operator stops the chair over MQTT)" >&2
mosquitto_rr -h "$mqtt_host" -p "$mqtt_port" -V mqttv5 -t "tarsal/$chair/cmd/stop" \
    -e "tarsal/$chair/responses/demo" -m '{}' -W 5 || true
sleep 1
ctl status
ctl events --limit 12

if $tour_only; then
    exit 0
fi
cat <<EOF

The chair is idle and waiting. Open the touch panel in a browser with this
one-time link (it works once, within ten minutes, and leaves the panel key
in that browser):

    $(./target/release/tarsal-panel ticket --key-file "$state/panel-key" --panel "127.0.0.1:$panel_port")
    (technician PIN: $pin; another link: target/release/tarsal-panel ticket --key-file $state/panel-key --panel 127.0.0.1:$panel_port)

Every bundled program starts from its card. For the sanitize cycle, first
take the simulated client's feet off the footrest: Technician → PIN →
"Simulated chair: feet off the footrest". From another machine, tunnel it:
ssh -L $panel_port:127.0.0.1:$panel_port <this host>.

Or drive it from another terminal:

    export TARSAL_BUS_ADDRESS='$TARSAL_BUS_ADDRESS'
    target/release/tarsalctl watch
    target/release/tarsalctl start reflexology --confirm-contraindications
    target/release/tarsalctl sim inject '{"fault":"leak","rate":0.1,"reaches_sensor":true}'
    busctl --address="\$TARSAL_BUS_ADDRESS" introspect org.tarsal.Chair1 /org/tarsal/Chair1

    mosquitto_sub -h $mqtt_host -p $mqtt_port -t 'tarsal/#' -v
    mosquitto_rr -h $mqtt_host -p $mqtt_port -V mqttv5 -t tarsal/$chair/cmd/start \\
        -e tarsal/$chair/responses/me -m '{"program":"sanitize"}'

Ctrl-C stops the demo (the chair goes safe first).
EOF
wait "$service_pid"
