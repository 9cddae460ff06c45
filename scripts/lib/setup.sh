# Shared set-up for scripts/test.sh and scripts/demo.sh: installs what a
# fresh Debian machine lacks. Sourced, not run.
#
# Every Debian package the scripts, the build and the tests rely on is named
# here, never left to a Recommends or to what a machine happens to have:
# `check_programs` (run by scripts/test.sh) proves it against dpkg.

# Each step with the seconds since the script began, so a slow step shows.
log() { printf '\n\033[1m== [%4d s] %s\033[0m\n' "$SECONDS" "$*" >&2; }

# Every package name that need_packages has been asked for in this run.
NAMED_PACKAGES=()

# Installs the Debian packages among "$@" that are not installed yet.
need_packages() {
    local missing=() p
    NAMED_PACKAGES+=("$@")
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

# Whether this machine's cargo is rustup's (then rustup manages its components).
uses_rustup() {
    command -v rustup >/dev/null 2>&1 && rustup which cargo >/dev/null 2>&1
}

# A Rust toolchain with rustfmt and clippy: rustup's when present, else
# Debian's rustc-web (1.96) with rustfmt-web and rust-web-clippy.
ensure_rust() {
    if uses_rustup; then
        if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
            rustup component add rustfmt clippy
        fi
        return 0
    fi
    need_packages rustc-web cargo-web rustfmt-web rust-web-clippy
    command -v cargo >/dev/null 2>&1 || { echo "no cargo after installing cargo-web" >&2; exit 1; }
}

# System packages every build and test needs.
ensure_base() {
    need_packages ca-certificates coreutils gcc binutils libc6-dev procps
    ensure_rust
}

# A Rust toolchain that can build wasm32-unknown-unknown plugins: rustup's
# target when installed, else Debian's rustc-web with the std sources and
# rust-lld (the wasm target's linker): rust-web-llvm holds the link
# /usr/bin/rust-lld (only a Recommends of rustc-web), lld-22 what it points to.
ensure_wasm_toolchain() {
    local libdir
    libdir=$(rustc --print target-libdir --target wasm32-unknown-unknown 2>/dev/null || true)
    if [ -n "$libdir" ] && [ -d "$libdir" ]; then
        return 0
    fi
    need_packages rustc-web cargo-web rust-web-src rust-web-llvm lld-22
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

# The external programs the scripts, the build and the tests run, each with
# the Debian package it must come from. Toolchain programs are checked
# separately (check_toolchain), since rustup may provide them instead.
# check_programs also fails on a program the Rust sources run that is not listed.
EXTERNAL_PROGRAMS=(
    "cc gcc"
    "ld binutils"
    "dbus-daemon dbus-daemon"
    "busctl systemd"
    "setpriv util-linux"
    "useradd passwd"
    "groupadd passwd"
    "kill procps"
    "id coreutils"
    "chown coreutils"
    "chmod coreutils"
    "mosquitto mosquitto"
    "mosquitto_passwd mosquitto"
    "mosquitto_sub mosquitto-clients"
    "mosquitto_pub mosquitto-clients"
    "mosquitto_rr mosquitto-clients"
    "timeout coreutils"
    "mkfifo coreutils"
    "openssl openssl"
    "chromium chromium"
    "chromedriver chromium-driver"
)

# The package that owns a file, trying the /usr-less name too (merged /usr).
file_owner() {
    { dpkg-query -S "$1" 2>/dev/null || dpkg-query -S "${1#/usr}" 2>/dev/null; } |
        head -n1 | cut -d: -f1 | cut -d, -f1
}

# Whether package $2 is $1 or one of $1's direct dependencies (gcc → gcc-12).
comes_with() {
    [ "$1" = "$2" ] && return 0
    dpkg-query -W -f='${Depends},${Pre-Depends}' "$1" 2>/dev/null |
        tr ',|' '\n\n' | sed -E 's/^ *([^ :]+).*/\1/' | grep -qxF "$2"
}

# Whether one of the packages named in "$@" (or their dependencies) owns $1.
owned_by_one_of() {
    local file=$1 owner p
    shift
    owner=$(file_owner "$file")
    owner=${owner%%:*}
    [ -n "$owner" ] || return 1
    for p in "$@"; do comes_with "$p" "$owner" && return 0; done
    return 1
}

# Fails, naming the package, when a program is missing, is a dangling link,
# or any file along its chain of links comes from a package that setup.sh
# does not install by name. Usage: check_program PROGRAM PACKAGE...
# (/usr/bin/rust-lld is rust-web-llvm's link to lld-22's binary: both.)
check_program() {
    local program=$1 packages=("${@:2}") p named path hop=0
    for p in "${packages[@]}"; do
        named=false
        for n in "${NAMED_PACKAGES[@]}"; do [ "$n" = "$p" ] && named=true; done
        $named || {
            echo "setup.sh relies on \`$program\` from the Debian package $p but never installs $p by name" >&2
            return 1
        }
    done
    path=$(type -P "$program") || path=""
    if [ -z "$path" ]; then
        if [ -L "$program" ]; then
            echo "\`$program\` is a link to $(readlink "$program"), which is missing: setup.sh should install ${packages[*]}" >&2
        else
            echo "\`$program\` is not installed: setup.sh should install ${packages[*]}" >&2
        fi
        return 1
    fi
    while :; do
        # Debian's alternatives links (/usr/bin/cc → /etc/alternatives/cc →
        # the real compiler) belong to no package: follow them.
        if [[ "$path" != /etc/alternatives/* && "$(readlink "$path")" != /etc/alternatives/* ]] &&
            ! owned_by_one_of "$path" "${packages[@]}"; then
            echo "\`$program\`: $path comes from $(file_owner "$path" || true), not from ${packages[*]} which setup.sh installs for it" >&2
            return 1
        fi
        [ -L "$path" ] || break
        local target
        target=$(readlink "$path")
        [[ "$target" = /* ]] || target="$(dirname "$path")/$target"
        path=$(realpath -s "$target")
        hop=$((hop + 1))
        if [ ! -e "$path" ]; then
            echo "\`$program\` leads to $path, which is missing: setup.sh should install ${packages[*]}" >&2
            return 1
        fi
        ((hop < 10)) || { echo "\`$program\`: too many links" >&2; return 1; }
    done
}

# The Rust programs: from rustup, or from the Debian packages named above.
check_toolchain() {
    local failed=0 program package
    if uses_rustup; then
        return 0
    fi
    for pair in "cargo cargo-web" "rustc rustc-web" "cargo-fmt rustfmt-web" "cargo-clippy rust-web-clippy"; do
        read -r program package <<<"$pair"
        check_program "$program" "$package" || failed=1
    done
    return $failed
}

# The wasm route without rustup's target: Debian's absolute paths.
check_wasm_toolchain() {
    local libdir
    libdir=$(rustc --print target-libdir --target wasm32-unknown-unknown 2>/dev/null || true)
    if [ -n "$libdir" ] && [ -d "$libdir" ]; then
        return 0
    fi
    local failed=0
    check_program /usr/bin/rustc rustc-web || failed=1
    check_program /usr/bin/cargo cargo-web || failed=1
    check_program /usr/bin/rust-lld rust-web-llvm lld-22 || failed=1
    [ -d /usr/lib/rustlib/src/rust/library ] || {
        echo "the standard library's sources (/usr/lib/rustlib/src/rust/library) are missing: setup.sh should install rust-web-src" >&2
        failed=1
    }
    return $failed
}

# Every external program is present and comes from a package named here.
check_programs() {
    local failed=0 pair program package
    for pair in "${EXTERNAL_PROGRAMS[@]}"; do
        read -r program package <<<"$pair"
        check_program "$program" "$package" || failed=1
    done
    check_toolchain || failed=1
    check_wasm_toolchain || failed=1
    check_program_list_complete || failed=1
    if ((failed)); then
        echo "the set-up is incomplete: fix scripts/lib/setup.sh (see above)" >&2
        return 1
    fi
    echo "every external program comes from a Debian package setup.sh names (${#EXTERNAL_PROGRAMS[@]} programs checked)" >&2
}

# Every program the Rust sources start by name (`Command::new("…")`) is in
# EXTERNAL_PROGRAMS, so a new test cannot rely on a program nobody installs.
check_program_list_complete() {
    local failed=0 program listed pair
    while read -r program; do
        case "$program" in cargo | rustc) continue ;; esac # the toolchain, checked above
        listed=false
        for pair in "${EXTERNAL_PROGRAMS[@]}"; do [ "${pair%% *}" = "$program" ] && listed=true; done
        $listed || {
            echo "the sources run \`$program\`, which EXTERNAL_PROGRAMS in scripts/lib/setup.sh does not list with its package" >&2
            failed=1
        }
    done < <(grep -rhoE 'Command::new\("[^"]+"\)' --include='*.rs' crates tests | sed -E 's/.*\("([^"]+)"\)/\1/' | sort -u)
    return $failed
}
