#!/usr/bin/python3
"""keel_run.py: boot a hypervisor (Keel or Xen) or a bare kernel in QEMU and judge its console.

Every system test goes through this runner, so Keel and Xen boot from the SAME host device
tree: QEMU's own tree (dumped with the same machine options) with the boot-time domains
written under /chosen using Xen's dom0less bindings (docs/misc/arm/device-tree/booting.txt).

Domain specs
------------
  --domu name=NAME,kernel=PATH[,ramdisk=PATH][,cpus=N][,mem=MB][,vpl011][,enhanced[=no-xenstore]][,bootargs=STR]
  --dom0 kernel=PATH[,ramdisk=PATH][,bootargs=STR]           (its memory: --dom0-mem MB)

A spec is comma-separated key=value items. `bootargs` must come LAST: everything after
`bootargs=` is the command line, verbatim, commas and spaces included. Quote the whole spec
for the shell, e.g.
  --domu 'name=linux,kernel=Image,ramdisk=initrd.gz,cpus=2,mem=512,vpl011,bootargs=console=ttyAMA0 quiet'

Console checks
--------------
  --expect RE        must appear (repeatable; any order)
  --expect-seq RE    must appear in the given order (repeatable)
  --expect-count N RE  must appear on at least N lines (e.g. "done" from two domains)
  --forbid RE        must never appear (fails at once)
  built-in panic patterns fail at once unless --no-panic-check: "KEEL PANIC",
                     "Panic on CPU N" (Xen), "Kernel panic - not syncing", "Internal error: Oops".
  --expect-exit N    QEMU must exit by itself with status N (e.g. Keel powering off).
  --stop-when-matched  kill QEMU as soon as every expectation is met (Xen keeps running
                     with no domains left).
Patterns are Python regexes matched (re.search) against each console line, '\\r' removed.
Domain output carries the hypervisor's prefix: Xen 4.17 prints a domU's vpl011 output as
"(XEN) DOM1: text" (split every ~128 characters) and its console_io output as "(d1) text";
Keel prints "(d1) text". Match the payload, not the prefix, and keep patterns short.

Host tree and placement
-----------------------
  /chosen gets #address-cells = #size-cells = <2>, xen,xen-bootargs = "console=dtuart
  dtuart=/pl011@9000000 guest_loglvl=all [dom0_mem=NM] [xsm=dummy] [--xen-bootargs]", dom0's
  modules as /chosen/module@ADDR and one /chosen/NAME node per domU, in command-line order
  (Xen numbers them d1, d2, ... in that order). Modules are loaded raw with
  -device loader 2 MiB-aligned from 0x50000000 up (dom0 first, then each domU: kernel, then
  ramdisk), clear of QEMU's DTB slot at 0x48000000.

Exit status: 0 pass, 1 fail, 2 usage error; 77 when an input image is missing and
--skip-missing is given (CTest's SKIP_RETURN_CODE), otherwise a missing image fails (1).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEEL_CACHE = Path(os.environ.get("KEEL_CACHE", Path.home() / ".cache" / "keel"))

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_SKIP = 0, 1, 2, 77

# Fatal messages of each layer; any of them ends the run as a failure at once.
PANIC_PATTERNS = [
    r"KEEL PANIC",                       # Keel's panic()
    r"Panic on CPU \d+",                 # Xen's panic(), incl. fatal traps and BUG()
    r"Kernel panic - not syncing",       # Linux panic()
    r"Internal error: Oops",             # Linux oops (arm64 die())
]

# Boot modules go 2 MiB-aligned from here up: above Xen/Keel (loaded at the start of RAM)
# and above the slot QEMU gives the DTB (0x48000000, 2 MiB).
MODULE_BASE = 0x5000_0000
MODULE_ALIGN = 2 << 20

# Xen finds its console in the host tree by path. guest_loglvl=all: Debian's release Xen
# otherwise drops a domU's console_io output (only vpl011 output would show).
XEN_CONSOLE_ARGS = "console=dtuart dtuart=/pl011@9000000 guest_loglvl=all"


class UsageError(Exception):
    pass


class MissingInput(Exception):
    """An image or module file does not exist (yet): the run is skipped, not failed."""


# --- domain specs ---------------------------------------------------------------------

@dataclasses.dataclass
class Module:
    path: Path
    addr: int = 0
    size: int = 0


@dataclasses.dataclass
class Domain:
    name: str
    kernel: Module
    ramdisk: Module | None = None
    cpus: int = 1
    mem_mb: int = 256
    vpl011: bool = False
    enhanced: str | None = None   # xen,enhanced: "enabled" or "no-xenstore"; None = absent
    bootargs: str | None = None


_DOMU_KEYS = {"name", "kernel", "ramdisk", "cpus", "mem", "vpl011", "enhanced", "bootargs"}
_DOM0_KEYS = {"kernel", "ramdisk", "bootargs"}


def parse_spec(text: str, allowed: set[str]) -> dict[str, str | None]:
    """Split 'k=v,k=v,flag,bootargs=anything, even commas' into a dict (flag -> None)."""
    items: dict[str, str | None] = {}
    rest = text
    while rest:
        if rest.startswith("bootargs="):
            items["bootargs"] = rest[len("bootargs="):]
            break
        item, _, rest = rest.partition(",")
        if not item:
            continue
        key, eq, value = item.partition("=")
        if key not in allowed:
            raise UsageError(f"unknown key '{key}' in spec '{text}' (allowed: {sorted(allowed)})")
        if key in items:
            raise UsageError(f"key '{key}' given twice in spec '{text}'")
        items[key] = value if eq else None
    return items


def _int(items, key, default, spec):
    value = items.get(key)
    if value is None:
        return default
    try:
        return int(value, 0)
    except ValueError:
        raise UsageError(f"'{key}' must be an integer in spec '{spec}'") from None


def parse_domu(spec: str) -> Domain:
    items = parse_spec(spec, _DOMU_KEYS)
    for key in ("name", "kernel"):
        if not items.get(key):
            raise UsageError(f"--domu needs {key}=... (got '{spec}')")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", items["name"]):
        raise UsageError(f"domain name '{items['name']}' must be a plain node name")
    if "vpl011" in items and items["vpl011"] is not None:
        raise UsageError("vpl011 is a flag: write ',vpl011', not 'vpl011=...'")
    return Domain(
        name=items["name"],
        kernel=Module(Path(items["kernel"])),
        ramdisk=Module(Path(items["ramdisk"])) if items.get("ramdisk") else None,
        cpus=_int(items, "cpus", 1, spec),
        mem_mb=_int(items, "mem", 256, spec),
        vpl011="vpl011" in items,
        enhanced=(items.get("enhanced") or "enabled") if "enhanced" in items else None,
        bootargs=items.get("bootargs"),
    )


def parse_dom0(spec: str, mem_mb: int) -> Domain:
    items = parse_spec(spec, _DOM0_KEYS)
    if not items.get("kernel"):
        raise UsageError(f"--dom0 needs kernel=... (got '{spec}')")
    return Domain(
        name="dom0",
        kernel=Module(Path(items["kernel"])),
        ramdisk=Module(Path(items["ramdisk"])) if items.get("ramdisk") else None,
        mem_mb=mem_mb,
        bootargs=items.get("bootargs"),
    )


# --- machine, module placement, host device tree -------------------------------------------

@dataclasses.dataclass
class Machine:
    gic: int = 3
    smp: int = 2
    mem_mb: int = 2048
    cpu: str = "cortex-a57"
    qemu: str = "qemu-system-aarch64"

    def machine_opt(self) -> str:
        return f"virt,virtualization=on,gic-version={self.gic}"

    def base_args(self) -> list[str]:
        return [self.qemu, "-M", self.machine_opt(), "-cpu", self.cpu,
                "-smp", str(self.smp), "-m", str(self.mem_mb)]


def place_modules(domains: list[Domain], machine: Machine) -> None:
    """Give each module a 2 MiB-aligned address from MODULE_BASE up, in order."""
    ram_end = 0x4000_0000 + (machine.mem_mb << 20)
    addr = MODULE_BASE
    for dom in domains:
        for mod in (dom.kernel, dom.ramdisk):
            if mod is None:
                continue
            if not mod.path.is_file():
                raise MissingInput(f"{dom.name}: {mod.path} does not exist")
            mod.size = mod.path.stat().st_size
            mod.addr = addr
            addr = (addr + mod.size + MODULE_ALIGN - 1) & ~(MODULE_ALIGN - 1)
    if addr > ram_end:
        raise UsageError(f"boot modules end at {addr:#x}, past the end of RAM {ram_end:#x}")


def _fdtput(dtb: Path, *args: str) -> None:
    subprocess.run(["fdtput", str(dtb), *args], check=True)


def _cells64(*values: int) -> list[str]:
    """64-bit values as pairs of 32-bit cells, for fdtput -t x."""
    out = []
    for v in values:
        out += [f"{v >> 32:#x}", f"{v & 0xffffffff:#x}"]
    return out


def _put_module(dtb: Path, parent: str, mod: Module, kind: str, bootargs: str | None) -> None:
    node = f"{parent}/module@{mod.addr:x}"
    _fdtput(dtb, "-c", node)
    # fdtput inserts each new property first: write them last-to-first to read naturally.
    if bootargs is not None:
        _fdtput(dtb, "-t", "s", node, "bootargs", bootargs)
    _fdtput(dtb, "-t", "x", node, "reg", *_cells64(mod.addr, mod.size))
    _fdtput(dtb, "-t", "s", node, "compatible", f"multiboot,{kind}", "multiboot,module")


def build_host_dtb(out: Path, machine: Machine, domus: list[Domain], dom0: Domain | None,
                   xen_bootargs: str) -> None:
    """QEMU's own tree plus Xen's dom0less /chosen description of the boot-time domains."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    dump = machine.base_args()
    dump[2] = machine.machine_opt() + f",dumpdtb={out}"
    res = subprocess.run(dump + ["-display", "none"], capture_output=True, text=True)
    if res.returncode != 0 or not out.exists():
        raise RuntimeError(f"dumping QEMU's device tree failed: {shlex.join(dump)}\n{res.stderr}")

    _fdtput(out, "-t", "u", "/chosen", "#address-cells", "2")
    _fdtput(out, "-t", "u", "/chosen", "#size-cells", "2")
    _fdtput(out, "-t", "s", "/chosen", "xen,xen-bootargs", xen_bootargs)

    # libfdt adds a subnode before its existing siblings: create the domains last-to-first
    # so they appear, and are built (Xen: d1, d2, ...), in command-line order.
    for dom in reversed(domus):
        node = f"/chosen/{dom.name}"
        _fdtput(out, "-c", node)
        if dom.ramdisk is not None:
            _put_module(out, node, dom.ramdisk, "ramdisk", None)
        _put_module(out, node, dom.kernel, "kernel", dom.bootargs)
        if dom.vpl011:
            _fdtput(out, node, "vpl011")
        if dom.enhanced is not None:
            _fdtput(out, "-t", "s", node, "xen,enhanced", dom.enhanced)
        _fdtput(out, "-t", "u", node, "cpus", str(dom.cpus))
        _fdtput(out, "-t", "x", node, "memory", *_cells64(dom.mem_mb * 1024))
        _fdtput(out, "-t", "u", node, "#size-cells", "2")
        _fdtput(out, "-t", "u", node, "#address-cells", "2")
        _fdtput(out, "-t", "s", node, "compatible", "xen,domain")

    # dom0's modules sit directly under /chosen, before the domU nodes.
    if dom0 is not None:
        if dom0.ramdisk is not None:
            _put_module(out, "/chosen", dom0.ramdisk, "ramdisk", None)
        _put_module(out, "/chosen", dom0.kernel, "kernel", dom0.bootargs or "")


def qemu_command(machine: Machine, hyp_image: Path | None, dtb: Path | None,
                 domains: list[Domain], native: Domain | None, icount: bool,
                 interactive: bool) -> list[str]:
    cmd = machine.base_args()
    if interactive:
        cmd += ["-nographic"]                       # console + monitor on stdio, Ctrl-A x quits
    else:
        cmd += ["-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot"]
    if icount:
        cmd += ["-icount", "shift=0"]
    if native is not None:
        cmd += ["-kernel", str(native.kernel.path)]
        if native.ramdisk is not None:
            cmd += ["-initrd", str(native.ramdisk.path)]
        if native.bootargs:
            cmd += ["-append", native.bootargs]
        return cmd
    cmd += ["-dtb", str(dtb), "-kernel", str(hyp_image)]
    for dom in domains:
        for mod in (dom.kernel, dom.ramdisk):
            if mod is not None:
                cmd += ["-device", f"loader,file={mod.path},addr={mod.addr:#x},force-raw=on"]
    return cmd


# --- console judging -----------------------------------------------------------------

class Judge:
    """Feeds console lines through the expectations; knows when the run is decided."""

    def __init__(self, expect, expect_seq, forbid, panic_check=True, expect_count=()):
        self.expect = [(p, re.compile(p)) for p in expect]
        self.counts = [[p, re.compile(p), int(n), 0] for n, p in expect_count]
        self.expect_seen: set[str] = set()
        self.seq = [(p, re.compile(p)) for p in expect_seq]
        self.seq_pos = 0
        self.forbid = [(p, re.compile(p)) for p in forbid]
        self.panics = [(p, re.compile(p)) for p in PANIC_PATTERNS] if panic_check else []
        self.failure: str | None = None

    def line(self, text: str) -> None:
        for pat, rx in self.panics:
            if rx.search(text) and self.failure is None:
                self.failure = f"panic pattern /{pat}/ matched: {text.strip()}"
        for pat, rx in self.forbid:
            if rx.search(text) and self.failure is None:
                self.failure = f"forbidden pattern /{pat}/ matched: {text.strip()}"
        for pat, rx in self.expect:
            if pat not in self.expect_seen and rx.search(text):
                self.expect_seen.add(pat)
        for c in self.counts:
            if c[1].search(text):
                c[3] += 1
        while self.seq_pos < len(self.seq) and self.seq[self.seq_pos][1].search(text):
            self.seq_pos += 1

    def all_matched(self) -> bool:
        return (len(self.expect_seen) == len(self.expect) and self.seq_pos == len(self.seq)
                and all(seen >= n for _, _, n, seen in self.counts))

    def missing(self) -> list[str]:
        out = [f"--expect /{p}/" for p, _ in self.expect if p not in self.expect_seen]
        out += [f"--expect-seq /{p}/ (sequence item {i + 1} of {len(self.seq)})"
                for i, (p, _) in enumerate(self.seq) if i >= self.seq_pos]
        out += [f"--expect-count {n} /{p}/ (seen {seen})"
                for p, _, n, seen in self.counts if seen < n]
        return out


def _die_with_parent():
    """Runs in the QEMU child: it dies with the runner (e.g. when CTest kills us)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclasses.dataclass
class Outcome:
    ok: bool
    reason: str
    console: str
    elapsed: float
    matched_at: float | None
    exit_code: int | None


def run_console(cmd: list[str], judge: Judge, timeout: float, log: Path,
                expect_exit: int | None, stop_when_matched: bool, linger: float,
                echo: bool = False, type_after: list[tuple[str, str]] | None = None) -> Outcome:
    start = time.monotonic()
    deadline = start + timeout
    to_type = [(re.compile(rx), text) for rx, text in (type_after or [])]
    # stdin is always a pipe: --type-after types into it, and on a timeout the runner asks
    # Keel for its vCPU dump (Ctrl-A d) before stopping QEMU.
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=_die_with_parent)

    def on_signal(signum, _frame):
        _stop(proc)
        sys.exit(128 + signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    chunks: list[str] = []
    pending = ""
    matched_at = None
    killed_reason = None
    stopped = False                      # the runner, not the guest, ended QEMU
    fd = proc.stdout.fileno()
    try:
        with open(log, "w", encoding="utf-8") as logf:
            def feed(text: str, final: bool = False):
                nonlocal pending, matched_at
                text = text.replace("\r", "")
                chunks.append(text)
                logf.write(text)
                logf.flush()
                if echo:
                    sys.stdout.write(text)
                    sys.stdout.flush()
                pending += text
                *lines, pending = pending.split("\n")
                if final and pending:
                    lines.append(pending)
                    pending = ""
                for ln in lines:
                    judge.line(ln)
                    # --type-after: once a line matches, type the text on the console.
                    while to_type and to_type[0][0].search(ln):
                        proc.stdin.write(to_type.pop(0)[1].encode().decode("unicode_escape").encode())
                        proc.stdin.flush()
                if matched_at is None and judge.all_matched():
                    matched_at = time.monotonic() - start

            while True:
                now = time.monotonic()
                if judge.failure:
                    killed_reason = judge.failure
                    break
                if stop_when_matched and matched_at is not None and \
                        now - start >= matched_at + linger:
                    break
                if now >= deadline:
                    killed_reason = f"timeout after {timeout:g} s"
                    try:  # Keel prints every vCPU's state on Ctrl-A d; harmless elsewhere
                        proc.stdin.write(b"\x01d")
                        proc.stdin.flush()
                        end = time.monotonic() + 1.0
                        while time.monotonic() < end and select.select([fd], [], [], 0.2)[0]:
                            data = os.read(fd, 65536)
                            if not data:
                                break
                            feed(data.decode("utf-8", errors="replace"))
                    except OSError:
                        pass
                    break
                ready, _, _ = select.select([fd], [], [], min(0.2, deadline - now))
                if ready:
                    data = os.read(fd, 65536)
                    if not data:           # QEMU closed its output: it is exiting
                        break
                    feed(data.decode("utf-8", errors="replace"))
            if proc.poll() is None and (killed_reason or stop_when_matched):
                stopped = True
                _stop(proc)
            try:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                killed_reason = killed_reason or f"timeout after {timeout:g} s (QEMU did not exit)"
                stopped = True
                _stop(proc)
            # Drain what QEMU wrote before it went; never block on a pipe that a
            # leftover grandchild might still hold open.
            rest = b""
            while select.select([fd], [], [], 0.2)[0]:
                data = os.read(fd, 65536)
                if not data:
                    break
                rest += data
            feed(rest.decode("utf-8", errors="replace"), final=True)
    finally:
        proc.stdout.close()
        for s, h in old.items():
            signal.signal(s, h)
    elapsed = time.monotonic() - start
    console = "".join(chunks)
    code = proc.returncode
    exited_by_itself = not stopped

    def outcome(ok, reason):
        return Outcome(ok, reason, console, elapsed, matched_at, code)

    if judge.failure:
        return outcome(False, judge.failure)
    if killed_reason:
        return outcome(False, killed_reason)
    if not judge.all_matched():
        return outcome(False, f"QEMU exited (status {code}) before every expectation was met")
    if expect_exit is not None:
        if not exited_by_itself or code != expect_exit:
            how = f"status {code}" if exited_by_itself else "it was stopped by the runner"
            return outcome(False, f"expected QEMU to exit by itself with status {expect_exit}; {how}")
        return outcome(True, f"all matched, QEMU exited with status {code}")
    if stop_when_matched:
        return outcome(True, "all matched, QEMU stopped by the runner")
    if code != 0:
        return outcome(False, f"QEMU exited with status {code}")
    return outcome(True, "all matched, QEMU exited with status 0")


# --- command line ----------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="keel_run.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("machine")
    g.add_argument("--hyp", choices=["keel", "xen", "none"], default="keel",
                   help="keel: build/images/keel.bin (or --hyp-image); xen: $KEEL_CACHE/arm64/xen; "
                        "none: boot the first domain's kernel natively")
    g.add_argument("--hyp-image", type=Path, help="hypervisor image to boot instead of the default")
    g.add_argument("--gic", type=int, choices=[2, 3], default=3)
    g.add_argument("--smp", type=int, default=2)
    g.add_argument("--mem", type=int, default=2048, help="host RAM, MiB")
    g.add_argument("--cpu", default="cortex-a57")
    g.add_argument("--icount", action="store_true", help="-icount shift=0 (benchmarks only)")
    g.add_argument("--qemu", default="qemu-system-aarch64")
    g = p.add_argument_group("domains")
    g.add_argument("--domu", action="append", default=[], metavar="SPEC",
                   help="name=NAME,kernel=PATH[,ramdisk=PATH][,cpus=N][,mem=MB][,vpl011][,bootargs=STR]")
    g.add_argument("--dom0", metavar="SPEC", help="kernel=PATH[,ramdisk=PATH][,bootargs=STR]")
    g.add_argument("--dom0-mem", type=int, default=512, help="dom0_mem, MiB (with --dom0)")
    g.add_argument("--xsm-dummy", action="store_true",
                   help="add xsm=dummy to xen,xen-bootargs (lets two domUs share events/grants on Xen)")
    g.add_argument("--xen-bootargs", default="", help="more words for xen,xen-bootargs")
    g = p.add_argument_group("checks")
    g.add_argument("--expect", action="append", default=[], metavar="RE")
    g.add_argument("--expect-seq", action="append", default=[], metavar="RE")
    g.add_argument("--expect-count", nargs=2, action="append", default=[], metavar=("N", "RE"))
    g.add_argument("--forbid", action="append", default=[], metavar="RE")
    g.add_argument("--type-after", nargs=2, action="append", default=[], metavar=("RE", "TEXT"),
                   help="once a console line matches RE, type TEXT (\\n for Enter); repeatable, in order")
    g.add_argument("--no-panic-check", action="store_true", help="don't fail on built-in panic patterns")
    g.add_argument("--expect-exit", type=int, metavar="CODE")
    g.add_argument("--stop-when-matched", action="store_true")
    g.add_argument("--linger", type=float, default=0.0,
                   help="with --stop-when-matched: keep watching S seconds after the last match")
    g.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    g = p.add_argument_group("output")
    g.add_argument("--log", type=Path, help="console log (default: a temporary directory); "
                   "the host DTB and the QEMU command are saved beside it (.dtb, .cmd)")
    g.add_argument("--echo", action="store_true", help="also stream the console live")
    g.add_argument("--interactive", action="store_true",
                   help="boot with the console on this terminal (Ctrl-A x quits); no checks")
    g.add_argument("--skip-missing", action="store_true",
                   help=f"exit {EXIT_SKIP} (skip) instead of failing when an image does not exist")
    g.add_argument("--dry-run", action="store_true", help="build the DTB, print the command, don't boot")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _main(args)
    except UsageError as e:
        print(f"keel_run: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except MissingInput as e:
        if args.skip_missing:
            print(f"keel_run: SKIP: {e}")
            return EXIT_SKIP
        print(f"keel_run: FAIL: {e}")
        return EXIT_FAIL


def _main(args) -> int:
    machine = Machine(gic=args.gic, smp=args.smp, mem_mb=args.mem, cpu=args.cpu, qemu=args.qemu)
    domus = [parse_domu(s) for s in args.domu]
    names = [d.name for d in domus]
    if len(set(names)) != len(names):
        raise UsageError(f"domain names must be unique: {names}")
    dom0 = parse_dom0(args.dom0, args.dom0_mem) if args.dom0 else None
    if shutil.which(machine.qemu) is None:
        raise UsageError(f"{machine.qemu} not found (run tools/setup.sh)")

    if args.log:
        log = args.log.resolve()
        log.parent.mkdir(parents=True, exist_ok=True)
    else:
        log = Path(tempfile.mkdtemp(prefix="keel-run-")) / "console.log"
    stem = log.with_suffix("") if log.suffix == ".log" else log
    dtb = stem.with_name(stem.name + ".dtb")
    cmd_file = stem.with_name(stem.name + ".cmd")

    all_domains = ([dom0] if dom0 else []) + domus
    if not all_domains:
        raise UsageError("nothing to boot: give --dom0 and/or --domu")

    native = None
    hyp_image = None
    if args.hyp == "none":
        if len(all_domains) != 1:
            raise UsageError("--hyp none boots exactly one domain's kernel")
        native = all_domains[0]
        for mod in (native.kernel, native.ramdisk):
            if mod is not None and not mod.path.is_file():
                raise MissingInput(f"{mod.path} does not exist")
        if native.cpus != 1 or native.mem_mb != 256:
            print("keel_run: note: --hyp none uses --smp/--mem, not the domain's cpus/mem",
                  file=sys.stderr)
    else:
        hyp_image = args.hyp_image or (REPO / "build/images/keel.bin" if args.hyp == "keel"
                                       else KEEL_CACHE / "arm64/xen")
        if not hyp_image.is_file():
            raise MissingInput(f"hypervisor image {hyp_image} does not exist")
        for d in domus:
            if d.cpus > machine.smp and args.hyp == "xen":
                print(f"keel_run: note: {d.name} has more vCPUs than --smp", file=sys.stderr)
        place_modules(all_domains, machine)
        words = [XEN_CONSOLE_ARGS]
        if dom0 is not None:
            words.append(f"dom0_mem={dom0.mem_mb}M")
        if args.xsm_dummy:
            words.append("xsm=dummy")
        if args.xen_bootargs:
            words.append(args.xen_bootargs)
        build_host_dtb(dtb, machine, domus, dom0, " ".join(words))

    cmd = qemu_command(machine, hyp_image, dtb if native is None else None, all_domains, native,
                       args.icount, args.interactive)
    cmd_text = shlex.join(cmd)
    cmd_file.write_text(cmd_text + "\n")
    print(f"keel_run: {cmd_text}", flush=True)
    if native is None:
        for d in all_domains:
            for kind, mod in (("kernel", d.kernel), ("ramdisk", d.ramdisk)):
                if mod is not None:
                    print(f"keel_run:   {d.name} {kind} {mod.path} at {mod.addr:#x} "
                          f"size {mod.size:#x}", flush=True)
        print(f"keel_run:   host DTB {dtb} (fdtdump it to see /chosen)", flush=True)
    if args.dry_run:
        return EXIT_PASS

    if args.interactive:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the guest
        try:
            return subprocess.call(cmd, preexec_fn=_die_with_parent)
        finally:
            signal.signal(signal.SIGINT, old)

    for n, _ in args.expect_count:
        if not n.isdigit():
            raise UsageError(f"--expect-count N RE: N must be a number, got '{n}'")
    expectations = args.expect or args.expect_seq or args.expect_count
    if not (expectations or args.expect_exit is not None):
        raise UsageError("no --expect/--expect-seq/--expect-exit given: nothing to check "
                         "(use --interactive to just boot)")
    if args.stop_when_matched and not expectations:
        raise UsageError("--stop-when-matched needs --expect, --expect-seq or --expect-count")

    judge = Judge(args.expect, args.expect_seq, args.forbid, not args.no_panic_check,
                  args.expect_count)
    res = run_console(cmd, judge, args.timeout, log, args.expect_exit, args.stop_when_matched,
                      args.linger, echo=args.echo, type_after=args.type_after)
    timing = f"{res.elapsed:.1f} s"
    if res.matched_at is not None:
        timing += f", all matched at {res.matched_at:.1f} s"
    if res.ok:
        print(f"keel_run: PASS: {res.reason} ({timing}); console log {log}", flush=True)
        return EXIT_PASS
    if not args.echo:
        print("keel_run: ---------------- console log ----------------")
        sys.stdout.write(res.console if res.console.endswith("\n") or not res.console
                         else res.console + "\n")
        print("keel_run: ---------------- end of console log ---------")
    print(f"keel_run: FAIL: {res.reason} ({timing})")
    for m in judge.missing():
        print(f"keel_run:   missing {m}")
    print(f"keel_run: console log {log}; command in {cmd_file}", flush=True)
    return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
