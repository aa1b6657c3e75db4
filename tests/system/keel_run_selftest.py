#!/usr/bin/python3
"""Tests of tools/keel_run.py itself: spec parsing, console judging, the host DTB it writes.

No guest boots here: QEMU only dumps its device tree, and "consoles" are shell one-liners.
"""

import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import keel_run as kr  # noqa: E402


def fdtget(dtb, node, prop, kind="x"):
    out = subprocess.run(["fdtget", "-t", kind, str(dtb), node, prop],
                         check=True, capture_output=True, text=True).stdout
    return out.strip()


class SpecTest(unittest.TestCase):
    def test_bootargs_is_last_and_verbatim(self):
        d = kr.parse_domu("name=a,kernel=/k,cpus=2,mem=128,vpl011,bootargs=x=1,y=2 z")
        self.assertEqual((d.name, d.cpus, d.mem_mb, d.vpl011), ("a", 2, 128, True))
        self.assertEqual(d.bootargs, "x=1,y=2 z")
        self.assertIsNone(d.ramdisk)

    def test_defaults(self):
        d = kr.parse_domu("name=a,kernel=/k")
        self.assertEqual((d.cpus, d.mem_mb, d.vpl011, d.bootargs), (1, 256, False, None))

    def test_errors(self):
        for bad in ("kernel=/k", "name=a", "name=a,kernel=/k,colour=red",
                    "name=a,kernel=/k,cpus=two", "name=a,kernel=/k,vpl011=1",
                    "name=a b,kernel=/k", "name=a,name=b,kernel=/k"):
            with self.subTest(bad=bad), self.assertRaises(kr.UsageError):
                kr.parse_domu(bad)

    def test_dom0(self):
        d = kr.parse_dom0("kernel=/k,ramdisk=/r,bootargs=console=hvc0", 768)
        self.assertEqual((d.mem_mb, d.bootargs, str(d.ramdisk.path)), (768, "console=hvc0", "/r"))
        with self.assertRaises(kr.UsageError):
            kr.parse_dom0("kernel=/k,cpus=2", 512)


class JudgeTest(unittest.TestCase):
    def test_expect_any_order_and_seq_in_order(self):
        j = kr.Judge(["b", "a"], ["one", "two"], [])
        for line in ("two", "b", "one", "a"):
            j.line(line)
        self.assertFalse(j.all_matched())
        self.assertEqual(j.missing(), ["--expect-seq /two/ (sequence item 2 of 2)"])
        j.line("two")
        self.assertTrue(j.all_matched())

    def test_expect_count(self):
        j = kr.Judge([], [], [], expect_count=[("2", "done")])
        j.line("a: done")
        self.assertFalse(j.all_matched())
        self.assertEqual(j.missing(), ["--expect-count 2 /done/ (seen 1)"])
        j.line("b: done")
        self.assertTrue(j.all_matched())

    def test_forbid_and_panic_fail(self):
        j = kr.Judge([], [], ["bad"])
        j.line("all good")
        self.assertIsNone(j.failure)
        j.line("this is bad")
        self.assertIn("forbidden", j.failure)
        for panic in ("KEEL PANIC: x", "(XEN) Panic on CPU 1:", "Kernel panic - not syncing: y"):
            j = kr.Judge([], [], [])
            j.line(panic)
            self.assertIn("panic", j.failure)
        j = kr.Judge([], [], [], panic_check=False)
        j.line("KEEL PANIC")
        self.assertIsNone(j.failure)


class RunConsoleTest(unittest.TestCase):
    """run_console with a shell standing in for QEMU."""

    def run_sh(self, script, expect=(), seq=(), forbid=(), timeout=10, expect_exit=None,
               stop=False):
        with tempfile.TemporaryDirectory() as d:
            judge = kr.Judge(list(expect), list(seq), list(forbid))
            return kr.run_console(["sh", "-c", script], judge, timeout, Path(d) / "log",
                                  expect_exit, stop, 0.0)

    def test_exit_code(self):
        r = self.run_sh("echo hello; echo bye; exit 0", expect=["bye", "hello"], expect_exit=0)
        self.assertTrue(r.ok, r.reason)
        r = self.run_sh("echo hello; exit 3", expect=["hello"], expect_exit=0)
        self.assertFalse(r.ok)
        self.assertIn("status 3", r.reason)

    def test_missing_line(self):
        r = self.run_sh("echo hello", expect=["hello", "never"])
        self.assertFalse(r.ok)
        self.assertIn("before every expectation", r.reason)

    def test_last_line_without_newline(self):
        r = self.run_sh("printf 'a\\r\\nlast'", expect=["^a$", "last"], expect_exit=0)
        self.assertTrue(r.ok, r.reason)

    def test_timeout_on_hang(self):
        r = self.run_sh("echo up; sleep 30", expect=["never"], timeout=1)
        self.assertFalse(r.ok)
        self.assertIn("timeout", r.reason)
        self.assertIn("up", r.console)

    def test_stop_when_matched(self):
        r = self.run_sh("echo ready; sleep 30", expect=["ready"], stop=True)
        self.assertTrue(r.ok, r.reason)
        self.assertLess(r.elapsed, 5)

    def test_expect_exit_but_still_running(self):
        r = self.run_sh("echo ready; sleep 30", expect=["ready"], expect_exit=0, timeout=1)
        self.assertFalse(r.ok)

    def test_panic_stops_at_once(self):
        r = self.run_sh("echo 'KEEL PANIC: boom'; sleep 30", expect=["never"], timeout=20)
        self.assertFalse(r.ok)
        self.assertIn("panic", r.reason)
        self.assertLess(r.elapsed, 5)


class HostDtbTest(unittest.TestCase):
    """The /chosen description Xen's dom0less (and Keel) read."""

    def test_dom0less_bindings(self):
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            (d / "k1").write_bytes(b"\0" * 5000)
            (d / "r1").write_bytes(b"\0" * (3 << 20))
            (d / "k2").write_bytes(b"\0" * 100)
            (d / "k0").write_bytes(b"\0" * 10)
            machine = kr.Machine(gic=3, smp=2, mem_mb=1024)
            domus = [kr.parse_domu(f"name=one,kernel={d}/k1,ramdisk={d}/r1,cpus=2,mem=512,vpl011,"
                                   "bootargs=console=ttyAMA0 a,b"),
                     kr.parse_domu(f"name=two,kernel={d}/k2")]
            dom0 = kr.parse_dom0(f"kernel={d}/k0,bootargs=console=hvc0", 256)
            kr.place_modules([dom0] + domus, machine)
            dtb = d / "host.dtb"
            kr.build_host_dtb(dtb, machine, domus, dom0, "console=dtuart dom0_mem=256M")

            self.assertEqual(fdtget(dtb, "/chosen", "#address-cells", "u"), "2")
            self.assertEqual(fdtget(dtb, "/chosen", "#size-cells", "u"), "2")
            self.assertEqual(fdtget(dtb, "/chosen", "xen,xen-bootargs", "s"),
                             "console=dtuart dom0_mem=256M")
            # dom0: modules straight under /chosen; addresses 2 MiB-aligned from 0x50000000.
            self.assertEqual(dom0.kernel.addr, 0x50000000)
            self.assertEqual(fdtget(dtb, "/chosen/module@50000000", "compatible", "s"),
                             "multiboot,kernel multiboot,module")
            self.assertEqual(fdtget(dtb, "/chosen/module@50000000", "reg"), "0 50000000 0 a")
            self.assertEqual(fdtget(dtb, "/chosen/module@50000000", "bootargs", "s"),
                             "console=hvc0")
            # domU one: kernel, then ramdisk on the next 2 MiB boundary.
            self.assertEqual((domus[0].kernel.addr, domus[0].ramdisk.addr, domus[1].kernel.addr),
                             (0x50200000, 0x50400000, 0x50800000))
            one = "/chosen/one"
            self.assertEqual(fdtget(dtb, one, "compatible", "s"), "xen,domain")
            self.assertEqual(fdtget(dtb, one, "#address-cells", "u"), "2")
            self.assertEqual(fdtget(dtb, one, "#size-cells", "u"), "2")
            self.assertEqual(fdtget(dtb, one, "memory"), "0 80000")  # 512 MiB in KiB, 64-bit
            self.assertEqual(fdtget(dtb, one, "cpus", "u"), "2")
            self.assertEqual(fdtget(dtb, one, "vpl011"), "")
            self.assertEqual(fdtget(dtb, f"{one}/module@50200000", "compatible", "s"),
                             "multiboot,kernel multiboot,module")
            self.assertEqual(fdtget(dtb, f"{one}/module@50200000", "reg"), "0 50200000 0 1388")
            self.assertEqual(fdtget(dtb, f"{one}/module@50200000", "bootargs", "s"),
                             "console=ttyAMA0 a,b")
            self.assertEqual(fdtget(dtb, f"{one}/module@50400000", "compatible", "s"),
                             "multiboot,ramdisk multiboot,module")
            self.assertEqual(fdtget(dtb, f"{one}/module@50400000", "reg"), "0 50400000 0 300000")
            # domU two: defaults, no vpl011, no bootargs.
            two = "/chosen/two"
            self.assertEqual(fdtget(dtb, two, "cpus", "u"), "1")
            self.assertEqual(fdtget(dtb, two, "memory"), "0 40000")
            props = subprocess.run(["fdtget", "-p", str(dtb), two], capture_output=True,
                                   text=True, check=True).stdout.split()
            self.assertNotIn("vpl011", props)
            # Domains appear in command-line order (Xen numbers them in tree order).
            nodes = subprocess.run(["fdtget", "-l", str(dtb), "/chosen"], capture_output=True,
                                   text=True, check=True).stdout.split()
            self.assertEqual(nodes, ["module@50000000", "one", "two"])
            self.assertEqual(subprocess.run(["fdtget", "-l", str(dtb), one], capture_output=True,
                                            text=True, check=True).stdout.split(),
                             ["module@50200000", "module@50400000"])
            # QEMU's own tree is still there.
            self.assertEqual(fdtget(dtb, "/chosen", "stdout-path", "s"), "/pl011@9000000")

    def test_modules_must_fit_in_ram(self):
        with tempfile.TemporaryDirectory() as d:
            big = Path(d) / "big"
            with open(big, "wb") as f:
                f.truncate(300 << 20)
            dom = kr.parse_domu(f"name=a,kernel={big}")
            with self.assertRaises(kr.UsageError):
                kr.place_modules([dom], kr.Machine(mem_mb=512))

    def test_missing_module(self):
        dom = kr.parse_domu("name=a,kernel=/nonexistent/image")
        with self.assertRaises(kr.MissingInput):
            kr.place_modules([dom], kr.Machine())


if __name__ == "__main__":
    unittest.main(verbosity=2)
