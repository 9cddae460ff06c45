#!/usr/bin/env bash
# Proves the README's two commands on a fresh machine: builds a clean Debian
# 12 root (debootstrap, minbase: nothing a developer machine collected by
# hand), clones this repository's committed HEAD into it, and runs there
#   scripts/demo.sh --tour-only      then      scripts/test.sh   (CI=true)
# as root with a clean environment and no standard input. Prints how long
# each took. The root is left in place for inspection (--keep-root is the
# default; --clean removes it at the end).
#
#   scripts/fresh-machine.sh                    the whole run (about 30–40 min on 2 cores)
#   scripts/fresh-machine.sh --root DIR         where to build the root (default /var/tmp/tarsal-fresh)
#   scripts/fresh-machine.sh --only demo|test   one of the two commands
#   scripts/fresh-machine.sh --clean            remove the root afterwards
#
# Needs root (debootstrap, chroot, mounts). The machine's extra trusted CA
# certificates (/usr/local/share/ca-certificates) are copied in, so the
# package registries are reachable where a proxy re-signs TLS.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

root=/var/tmp/tarsal-fresh
only=""
clean=false
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --clean) clean=true; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "fresh-machine.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$only" in "" | demo | test) ;; *) echo "fresh-machine.sh: --only takes demo or test" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "fresh-machine.sh: run as root (debootstrap, chroot and mounts need it)" >&2; exit 2; }
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "note: uncommitted changes are not in the clone; the root gets HEAD ($(git rev-parse --short HEAD))" >&2
fi

need_packages debootstrap git ca-certificates
mirror=http://deb.debian.org/debian
suite=bookworm

mounted=()
unmount_all() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
    mounted=()
}
trap unmount_all EXIT
mount_in() { # mount_in TARGET mount-args...
    mkdir -p "$1"
    mount "${@:2}" "$1"
    mounted+=("$1")
}

# Whatever an earlier run left mounted inside the root.
if [ -d "$root" ]; then
    { grep -F " $root/" /proc/mounts || true; } | cut -d' ' -f2 | sort -r | while read -r m; do umount -l "$m" || true; done
    rm -rf --one-file-system "$root"
fi

started=$SECONDS
log "a clean Debian $suite root in $root (debootstrap, minbase)"
debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
    { tail -20 "$root.debootstrap.log" >&2; exit 1; }
echo "debootstrap took $((SECONDS - started)) s"

# What a usual Debian 12 machine has that debootstrap does not write.
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
echo tarsal-fresh >"$root/etc/hostname"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null
fi

log "cloning $(git rev-parse --short HEAD) into $root/root/tarsal"
git clone -q --no-hardlinks "$PWD" "$root/root/tarsal"

mount_in "$root/proc" -t proc proc
mount_in "$root/sys" -t sysfs sysfs
mount_in "$root/dev" --rbind /dev
mount --make-rslave "$root/dev"
mount_in "$root/dev/shm" -t tmpfs -o mode=1777 tmpfs
mount_in "$root/tmp" -t tmpfs -o mode=1777 tmpfs

# Runs a README command in the root: clean environment, no standard input.
in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb CI=true LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "cd /root/tarsal && $1" </dev/null
}

demo_s="-" test_s="-"
if [ "$only" != test ]; then
    log "in the fresh root: scripts/demo.sh --tour-only"
    t=$SECONDS
    in_root "scripts/demo.sh --tour-only"
    demo_s=$((SECONDS - t))
fi
if [ "$only" != demo ]; then
    log "in the fresh root: scripts/test.sh"
    t=$SECONDS
    in_root "scripts/test.sh"
    test_s=$((SECONDS - t))
fi
unmount_all
log "fresh machine: both README commands passed (demo ${demo_s} s, tests ${test_s} s, all ${SECONDS} s)"
if $clean; then
    rm -rf --one-file-system "$root" "$root.debootstrap.log"
fi
