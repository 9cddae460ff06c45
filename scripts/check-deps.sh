#!/usr/bin/env bash
# The clients stay small: the touch panel compiles no plugin host, database,
# control loop or simulator; the operator's tarsalctl no plugin host or code
# generator. (docs/ARCHITECTURE.md, "Crates".) Fails naming what crept in.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
forbid() {
    local crate=$1 pattern=$2
    local tree found
    if ! tree=$(cargo tree -e normal -p "$crate" --prefix none); then
        echo "check-deps: cargo tree -p $crate failed" >&2
        status=1
        return
    fi
    found=$(grep -E "^($pattern) " <<<"$tree" | sort -u || true)
    if [ -n "$found" ]; then
        echo "check-deps: $crate depends on what it must not:" >&2
        echo "$found" | sed 's/^/  /' >&2
        status=1
    fi
}

forbid tarsal-panel 'wasmtime|rusqlite|tarsal-sim|tarsal-runtime|tarsal-store|tarsal-plugin-host|cranelift-codegen'
forbid tarsalctl 'wasmtime|cranelift-codegen|tarsal-plugin-host|wit-component'
forbid tarsal-dbus 'tarsal-core|tarsal-runtime|tarsal-sim|tarsal-store|rusqlite|wasmtime'
forbid tarsal-core 'tokio|zbus|rusqlite|wasmtime|rumqttc'
# The chair-board protocol is a register map, no I/O; the Linux backends
# reach the chair, not the service's other rooms.
forbid tarsal-board 'tokio|tokio-modbus|tarsal-sim|tarsal-runtime'
forbid tarsal-linux 'tarsal-runtime|tarsal-sim|tarsal-store|zbus|rusqlite|wasmtime'
exit $status
