# Shared set-up for scripts/test.sh and scripts/demo.sh: installs what a
# fresh Debian machine lacks. Sourced, not run.

log() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

# Installs the Debian packages among "$@" that are not installed yet.
need_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# A Rust toolchain: rustup's when present, else Debian's rustc-web (1.96).
ensure_rust() {
    if command -v cargo >/dev/null 2>&1 && cargo --version >/dev/null 2>&1; then
        return 0
    fi
    need_packages rustc-web cargo-web
    command -v cargo >/dev/null 2>&1 || { echo "no cargo after installing cargo-web" >&2; exit 1; }
}

# System packages every build and test needs.
ensure_base() {
    need_packages ca-certificates gcc libc6-dev procps
    ensure_rust
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        rustup component add rustfmt clippy
    fi
}

# A Rust toolchain that can build wasm32-unknown-unknown plugins: rustup's
# target when installed, else Debian's rustc-web with the std sources.
ensure_wasm_toolchain() {
    local libdir
    libdir=$(rustc --print target-libdir --target wasm32-unknown-unknown 2>/dev/null || true)
    if [ -n "$libdir" ] && [ -d "$libdir" ]; then
        return 0
    fi
    need_packages rustc-web cargo-web rust-web-src lld-22
}

# A real dbus-daemon (tests and the demo start private buses), busctl as an
# independent client, and setpriv/useradd to run clients as other users.
ensure_dbus() {
    need_packages dbus-daemon dbus-bin systemd util-linux passwd
}

# A real Mosquitto (tests start private brokers; the demo starts one), its
# command-line clients, and openssl for the TLS test's certificates.
ensure_mosquitto() {
    need_packages mosquitto mosquitto-clients openssl
}

# Debian's headless Chromium and its WebDriver for the panel's browser
# tests, with a font that covers Vietnamese.
ensure_browser() {
    need_packages chromium chromium-driver fonts-dejavu-core
}
