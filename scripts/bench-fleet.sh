#!/usr/bin/env bash
# The fleet benchmark: N simulated chairs (1 Hz telemetry, demo sessions
# running) through one local Mosquitto; prints CPU per chair (fleet and
# broker), telemetry delivered, and `stop` round trips, as a Markdown table
# for docs/PERFORMANCE.md.
#
#   scripts/bench-fleet.sh                         1,000 chairs, 1,000 stops, 30 s window
#   scripts/bench-fleet.sh --chairs 20 --commands 50 --window 3    a smoke run
#   scripts/bench-fleet.sh --profile ci …          with the test command's build (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

chairs=1000
commands=1000
window=30
profile=release
while [ $# -gt 0 ]; do
    case "$1" in
        --chairs) chairs=$2; shift 2 ;;
        --commands) commands=$2; shift 2 ;;
        --window) window=$2; shift 2 ;;
        --profile) profile=$2; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "bench-fleet.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

ensure_base
ensure_mosquitto
# Cargo puts the dev profile in target/debug, every other in target/<name>.
fleet=target/$([ "$profile" = dev ] && echo debug || echo "$profile")/tarsal-fleet
[ -x "$fleet" ] && [ -z "${REBUILD:-}" ] || cargo build --profile "$profile" --workspace

dir=$(mktemp -d /tmp/tarsal-bench-fleet.XXXXXX)
port=18830
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
cat >"$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 10000
set_tcp_nodelay true
CONF
# A connection per chair (and some to spare).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
mosquitto -c "$dir/mosquitto.conf" 2>"$dir/mosquitto.log" &
broker=$!
trap 'kill $broker 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

log "$chairs chairs through Mosquitto $(mosquitto -h 2>/dev/null | sed -n 1p | awk '{print $3}') on port $port"
"$fleet" bench --broker "mqtt://127.0.0.1:$port" --broker-pid "$broker" \
    --chairs "$chairs" --commands "$commands" --window "$window"
