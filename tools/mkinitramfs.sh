#!/usr/bin/env bash
# tools/mkinitramfs.sh OUT [BUSYBOX]
#
# Builds the gzip'd cpio initramfs the Linux system tests boot: Debian's arm64
# busybox-static and an /init that reports the CPUs Linux brought up, e.g.
#   keel-linux: processor	: 0
#   keel-linux: processor	: 1
#   keel-linux: 2 cpus online
# and then powers the machine (or the domain) off.
#
# Needs no root: /dev/console comes from devtmpfs at run time, not from a device
# node in the archive. BUSYBOX defaults to $KEEL_CACHE/arm64/bin/busybox.
set -euo pipefail

out=${1:?usage: mkinitramfs.sh OUT [BUSYBOX]}
KEEL_CACHE=${KEEL_CACHE:-$HOME/.cache/keel}
busybox=${2:-$KEEL_CACHE/arm64/bin/busybox}
[ -f "$busybox" ] || { echo "mkinitramfs: $busybox missing: run tools/setup.sh" >&2; exit 1; }

root=$(mktemp -d "${TMPDIR:-/tmp}/keel-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys}
install -m 0755 "$busybox" "$root/bin/busybox"
# The applets /init uses; the rest are installed at boot (--install -s).
for applet in sh mount grep cat echo poweroff; do
  ln -s busybox "$root/bin/$applet"
done

cat >"$root/init" <<'EOF'
#!/bin/sh
# Keel test initramfs: report the online CPUs, then power off.
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep '^processor' /proc/cpuinfo | while read -r line; do
  echo "keel-linux: $line"
done
echo "keel-linux: $(grep -c '^processor' /proc/cpuinfo) cpus online"
# Which hypervisor Linux found (Xen drivers: /sys/hypervisor/type reads "xen").
echo "keel-linux: hypervisor $(cat /sys/hypervisor/type 2>/dev/null || echo none)"
# With keel.echo on the command line: read one line from the console and say it back
# (proves input reaches the domain through its console).
if grep -q keel.echo /proc/cmdline; then
  echo "keel-linux: type a line"
  read -r line
  echo "keel-linux: typed $line"
fi
poweroff -f
EOF
chmod 0755 "$root/init"

mkdir -p "$(dirname "$out")"
tmp_out="$out.tmp.$$"
# Fixed owner and timestamps: the same inputs give the same archive.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --owner=0:0) \
  | gzip -9n >"$tmp_out"
mv "$tmp_out" "$out"
