#!/usr/bin/env bash
# tools/setup.sh: install and cache everything Keel's build and tests need.
#
# Idempotent and fast when everything is already there: each step checks first
# (dpkg-query, files, stamps) and does nothing if its result exists. apt-get
# update runs only when something has to be installed or downloaded.
#
#   KEEL_CACHE (default ~/.cache/keel) holds:
#     debs/          the arm64 .debs (apt-get download)
#     arm64/         those .debs extracted; stable names:
#                      arm64/linux-Image -> the Debian cloud kernel (arm64 Image)
#                      arm64/xen         -> Xen 4.17's arm64 Image
#                      arm64/bin/busybox, arm64/usr/lib/aarch64-linux-gnu/libfdt.a
#     newlib/        newlib 3.3.0 for aarch64-none-elf (newlib/aarch64-none-elf/{include,lib})
#     setup.log      the full output of every step
#
# Prints one line per step; details go to the log.
set -euo pipefail

KEEL_CACHE=${KEEL_CACHE:-$HOME/.cache/keel}
NEWLIB_VERSION=3.3.0
NEWLIB_TARBALL=/usr/src/newlib/newlib-${NEWLIB_VERSION}.tar.xz

mkdir -p "$KEEL_CACHE"
LOG=$KEEL_CACHE/setup.log
: >"$LOG"

step() { printf 'setup: %s\n' "$*"; printf '\n=== %s\n' "$*" >>"$LOG"; }
fail() {
  printf 'setup: FAILED: %s (last lines of %s follow)\n' "$*" "$LOG" >&2
  tail -n 30 "$LOG" >&2
  exit 1
}
run() { "$@" >>"$LOG" 2>&1; }

SUDO=
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install packages" >&2; exit 1; }
  SUDO=sudo
fi

apt_updated=0
apt_update_once() {
  [ "$apt_updated" = 1 ] && return 0
  step "apt-get update"
  run $SUDO apt-get update || fail "apt-get update"
  apt_updated=1
}

# --- 1. host packages --------------------------------------------------------
# qemu-system-arm: qemu-system-aarch64      gcc/g++-aarch64-linux-gnu: target code
# libxen-dev: <xen/...> public headers     newlib-source: the newlib tarball
# device-tree-compiler: dtc/fdtput/fdtdump  libfdt-dev: host libfdt (unit tests)
# googletest/libgtest-dev: unit tests       cpio: the Linux initramfs
# doxygen: the SDK API reference (docs/api)
HOST_PACKAGES=(build-essential make xz-utils python3 cmake ninja-build cpio
  qemu-system-arm gcc-aarch64-linux-gnu g++-aarch64-linux-gnu
  libxen-dev newlib-source device-tree-compiler libfdt-dev googletest libgtest-dev doxygen)

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${HOST_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  step "host packages: all ${#HOST_PACKAGES[@]} present"
else
  apt_update_once
  step "host packages: installing ${missing[*]}"
  run $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    || fail "apt-get install ${missing[*]}"
fi

# --- 2. arm64 multiarch --------------------------------------------------------
if dpkg --print-foreign-architectures | grep -qx arm64; then
  step "arm64 multiarch: enabled"
else
  step "arm64 multiarch: adding"
  run $SUDO dpkg --add-architecture arm64 || fail "dpkg --add-architecture arm64"
  apt_updated=0
fi

# --- 3. arm64 packages: download and extract --------------------------------------
DEBS=$KEEL_CACHE/debs
ARM64=$KEEL_CACHE/arm64
mkdir -p "$DEBS" "$ARM64"

# The arm64 tree is complete when its stable links resolve and the files the build
# needs exist; then nothing is downloaded and apt's lists are not even consulted.
arm64_complete() {
  [ -f "$ARM64/linux-Image" ] && [ -f "$ARM64/xen" ] && [ -x "$ARM64/bin/busybox" ] \
    && [ -f "$ARM64/usr/lib/aarch64-linux-gnu/libfdt.a" ] && [ -f "$ARM64/.stamp" ]
}

# Resolve the versioned kernel package that linux-image-cloud-arm64 depends on.
linux_package() {
  apt-cache depends linux-image-cloud-arm64:arm64 2>>"$LOG" \
    | sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*-cloud-arm64\).*/\1/p' | head -n 1
}

if arm64_complete; then
  step "arm64 packages: present ($(cat "$ARM64/.stamp"))"
else
  linux_pkg=$(linux_package || true)
  if [ -z "$linux_pkg" ]; then
    apt_update_once
    linux_pkg=$(linux_package || true)
  fi
  [ -n "$linux_pkg" ] || fail "cannot resolve linux-image-cloud-arm64:arm64 (is arm64 in apt's sources?)"
  ARM64_PACKAGES=(xen-hypervisor-4.17-arm64 "$linux_pkg" busybox-static libfdt-dev libfdt1)

  for p in "${ARM64_PACKAGES[@]}"; do
    # Already downloaded (any version of it)? The newest one in debs/ wins.
    deb=$(ls -1 "$DEBS/${p}_"*_arm64.deb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$deb" ]; then
      step "arm64 packages: downloading $p"
      # As root, apt warns that _apt can't write here and downloads unsandboxed: harmless.
      (cd "$DEBS" && apt-get download "$p:arm64") >>"$LOG" 2>&1 || {
        apt_update_once
        (cd "$DEBS" && apt-get download "$p:arm64") >>"$LOG" 2>&1 || fail "apt-get download $p:arm64"
      }
      deb=$(ls -1 "$DEBS/${p}_"*_arm64.deb | sort -V | tail -n 1)
    fi
    step "arm64 packages: extracting $(basename "$deb")"
    # The kernel's modules (~70 MB) are never used: the tests boot from an initramfs.
    dpkg-deb --fsys-tarfile "$deb" 2>>"$LOG" | tar -C "$ARM64" -x --exclude='./lib/modules' >>"$LOG" 2>&1 \
      || fail "extracting $deb"
  done

  kernel=$(ls -1 "$ARM64"/boot/vmlinuz-*-cloud-arm64 | sort -V | tail -n 1)
  if gzip -t "$kernel" 2>/dev/null; then
    # A gzip'd vmlinuz: Xen could load it, but Keel and -device loader want the raw Image.
    rm -f "$ARM64/linux-Image"
    gzip -dc "$kernel" >"$ARM64/linux-Image"
  else
    ln -sfn "${kernel#"$ARM64"/}" "$ARM64/linux-Image"
  fi
  ln -sfn boot/xen-4.17-arm64 "$ARM64/xen"
  printf '%s\n' "${ARM64_PACKAGES[*]}" >"$ARM64/.stamp"
  arm64_complete || fail "arm64 tree incomplete after extraction"
  step "arm64 packages: linux-Image -> $(readlink "$ARM64/linux-Image" || echo "unpacked $kernel"), xen -> $(readlink "$ARM64/xen")"
fi

# --- 4. newlib for aarch64-none-elf ----------------------------------------------
NEWLIB=$KEEL_CACHE/newlib
NEWLIB_STAMP=$NEWLIB/.stamp-$NEWLIB_VERSION
LIBC=$NEWLIB/aarch64-none-elf/lib/libc.a

# Compile and link a tiny program against the result: proves the headers and
# archives are usable by freestanding aarch64 code, not just that files exist.
verify_newlib() {
  local t
  t=$(mktemp -d)
  cat >"$t/t.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <sys/stat.h>
/* The system calls newlib leaves to its host (--disable-newlib-supplied-syscalls). */
static char heap[4096];
static char *brk = heap;
void *_sbrk(ptrdiff_t n) { char *p = brk; brk += n; return p; }
int _write(int fd, const void *b, size_t n) { (void)fd; (void)b; return (int)n; }
int _read(int fd, void *b, size_t n) { (void)fd; (void)b; (void)n; return 0; }
int _close(int fd) { (void)fd; return -1; }
int _fstat(int fd, struct stat *st) { (void)fd; st->st_mode = S_IFCHR; return 0; }
int _isatty(int fd) { (void)fd; return 1; }
long _lseek(int fd, long o, int w) { (void)fd; (void)o; (void)w; return 0; }
void _exit(int c) { (void)c; for (;;) { } }
int _kill(int p, int s) { (void)p; (void)s; errno = EINVAL; return -1; }
int _getpid(void) { return 1; }
void _start(void) {
  char buf[64];
  snprintf(buf, sizeof buf, "%d %s", 42, "ok");
  char *p = malloc(16);
  strcpy(p, buf);
  printf("%s\n", p);
  exit(strlen(buf) == 5 ? 0 : 1);
}
EOF
  aarch64-linux-gnu-gcc -ffreestanding -fno-pic -fno-stack-protector -nostdlib -static -no-pie \
    -isystem "$NEWLIB/aarch64-none-elf/include" -o "$t/t.elf" "$t/t.c" \
    "$NEWLIB/aarch64-none-elf/lib/libc.a" -lgcc >>"$LOG" 2>&1
  local rc=$?
  rm -rf "$t"
  return $rc
}

if [ -f "$NEWLIB_STAMP" ] && [ -f "$LIBC" ]; then
  step "newlib $NEWLIB_VERSION: present ($NEWLIB)"
else
  [ -f "$NEWLIB_TARBALL" ] || fail "$NEWLIB_TARBALL missing (newlib-source)"
  step "newlib $NEWLIB_VERSION: building for aarch64-none-elf (a few minutes)"
  work=$(mktemp -d "${TMPDIR:-/tmp}/keel-newlib.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  run tar -C "$work" -xf "$NEWLIB_TARBALL" || fail "unpacking $NEWLIB_TARBALL"
  src=$(ls -d "$work"/newlib-*/ | head -n 1)
  mkdir -p "$work/build"
  # Same code model as Keel's target code (cmake/target-flags.cmake): no PIC, no
  # stack protector, strict alignment (guests may run with the MMU off early).
  target_cflags="-O2 -g -ffunction-sections -fdata-sections -fno-pic -fno-stack-protector -mstrict-align"
  rm -rf "$NEWLIB"
  (
    cd "$work/build"
    "$src/configure" --target=aarch64-none-elf --prefix="$NEWLIB" \
      --disable-newlib-supplied-syscalls --disable-multilib --disable-nls \
      CC_FOR_TARGET="aarch64-linux-gnu-gcc -ffreestanding" \
      CXX_FOR_TARGET="aarch64-linux-gnu-g++ -ffreestanding" \
      AR_FOR_TARGET=aarch64-linux-gnu-ar AS_FOR_TARGET=aarch64-linux-gnu-as \
      LD_FOR_TARGET=aarch64-linux-gnu-ld NM_FOR_TARGET=aarch64-linux-gnu-nm \
      RANLIB_FOR_TARGET=aarch64-linux-gnu-ranlib \
      OBJDUMP_FOR_TARGET=aarch64-linux-gnu-objdump \
      READELF_FOR_TARGET=aarch64-linux-gnu-readelf \
      STRIP_FOR_TARGET=aarch64-linux-gnu-strip \
      CFLAGS_FOR_TARGET="$target_cflags"
  ) >>"$LOG" 2>&1 || fail "newlib configure"
  run make -C "$work/build" -j2 all-target-newlib || fail "newlib build"
  run make -C "$work/build" install-target-newlib || fail "newlib install"
  [ -f "$LIBC" ] || fail "newlib installed but $LIBC is missing"
  verify_newlib || fail "newlib: test program does not link against $LIBC"
  touch "$NEWLIB_STAMP"
  rm -rf "$work"
  trap - EXIT
  step "newlib $NEWLIB_VERSION: built, verified ($LIBC)"
fi

step "done (log: $LOG)"
