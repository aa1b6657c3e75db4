#!/usr/bin/python3
"""bench/run.py: Keel next to Xen 4.17, in guest-visible counter ticks per operation.

Not a test: it boots each scenario once under QEMU with `-icount shift=0` (the virtual
counter then follows the instruction count, so the numbers repeat run to run), reads the
`pingpong: bench -> ...` line the guest prints, and writes a table to stdout and to
bench/results.md. Scenarios (tests/guests/pingpong in its bench modes):

  null hypercall        one domU: xen_version(0), 10000 times
  evtchn round trip     two domUs: A -> B -> A over an interdomain event channel, 1000 times,
                        waiting by SCHEDOP_poll (blocks) or by SCHEDOP_yield until pending

Every run uses ONE physical CPU (--smp 1): Xen 4.17 stops booting under -icount with two
(it never gets past "Initializing Credit2 scheduler"), and one CPU also makes the round
trip include the switch between the two domains on both hypervisors alike.

Usage: bench/run.py [--build DIR] [--timeout S]     (images from DIR/images, default build/)
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEEL_CACHE = Path(os.environ.get("KEEL_CACHE", Path.home() / ".cache" / "keel"))
LINE = re.compile(r"pingpong: bench -> (\d+) (.+?): (\d+) ticks, [\d.]+ ticks each \(counter (\d+) Hz\)")

HYPS = {
    "keel": lambda b: ["--hyp", "keel", "--hyp-image", str(b / "images" / "keel.bin")],
    "xen": lambda b: ["--hyp", "xen", "--hyp-image", str(KEEL_CACHE / "arm64" / "xen"), "--xsm-dummy"],
}


def domu(image: Path, name: str, bootargs: str, enhanced: bool) -> str:
    extra = ",enhanced=no-xenstore" if enhanced else ""
    return f"name={name},kernel={image},cpus=1,mem=64,vpl011{extra},bootargs={bootargs}"


def scenarios(image: Path) -> list[tuple[str, list[str]]]:
    def pair(wait: str) -> list[str]:
        return ["--domu", domu(image, "pa", f"role=a peer=2 bench=1000 wait={wait}", True),
                "--domu", domu(image, "pb", f"role=b peer=1 bench=1000 wait={wait}", True)]
    return [
        ("null hypercall: xen_version(0)", ["--domu", domu(image, "solo", "role=solo hypercalls=10000", False)]),
        ("evtchn round trip, SCHEDOP_poll", pair("poll")),
        ("evtchn round trip, SCHEDOP_yield", pair("yield")),
    ]


def run_one(hyp: str, build: Path, args: list[str], timeout: float, log: Path) -> tuple[float, int] | str:
    cmd = [sys.executable, str(REPO / "tools" / "keel_run.py"), *HYPS[hyp](build), "--smp", "1", "--icount",
           "--timeout", str(timeout), "--log", str(log), "--expect", "pingpong: bench", "--stop-when-matched",
           "--forbid", "pingpong: stopping", *args]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for text in log.read_text(errors="replace").splitlines() if log.exists() else []:
        m = LINE.search(text)
        if m:
            return int(m.group(3)) / int(m.group(1)), int(m.group(4))
    return "no result (timeout)"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", type=Path, default=REPO / "build")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--logs", type=Path, default=Path("/tmp") / "keel-bench")
    a = p.parse_args()
    a.logs.mkdir(parents=True, exist_ok=True)
    image = a.build / "images" / "pingpong.bin"
    if not image.exists():
        print(f"bench: {image} is missing: build first (cmake --build build)", file=sys.stderr)
        return 1

    rows = []
    freq = None
    for label, args in scenarios(image):
        cells = {}
        for hyp in ("keel", "xen"):
            slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
            r = run_one(hyp, a.build, args, a.timeout, a.logs / f"{hyp}-{slug}.log")
            if isinstance(r, tuple):
                cells[hyp], freq = r
            else:
                cells[hyp] = r
            print(f"bench: {label} on {hyp}: {cells[hyp]}", file=sys.stderr)
        rows.append((label, cells))

    def cell(v) -> str:
        return f"{v:.2f}" if isinstance(v, float) else v

    ns = 1e9 / freq if freq else None
    out = ["| operation | Keel ticks/op | Xen 4.17 ticks/op | Keel / Xen |", "|---|---:|---:|---:|"]
    for label, c in rows:
        k, x = c["keel"], c["xen"]
        ratio = f"{k / x:.2f}" if isinstance(k, float) and isinstance(x, float) else "-"
        out.append(f"| {label} | {cell(k)} | {cell(x)} | {ratio} |")
    table = "\n".join(out)
    command = "bench/run.py " + " ".join(shlex.quote(s) for s in sys.argv[1:])
    note = (f"One tick = {ns:.0f} ns of guest time (counter {freq} Hz); under `-icount shift=0` one "
            f"instruction is 1 ns, so a tick is about {ns:.0f} instructions." if ns else "")
    qemu = subprocess.run(["qemu-system-aarch64", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    md = (f"# Keel next to Xen 4.17\n\n"
          f"Measured {datetime.date.today().isoformat()} with `{command.strip()}` ({qemu}, virt, cortex-a57, "
          f"`-smp 1 -icount shift=0`, GICv3). Ticks are the guest's CNTVCT_EL0 per operation, "
          f"read by tests/guests/pingpong in its bench modes.\n\n{table}\n\n{note}\n")
    print(table)
    (REPO / "bench" / "results.md").write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
