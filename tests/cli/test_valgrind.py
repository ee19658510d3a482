#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Memory errors and leaks under valgrind: the plain (non-sanitized) binary over every
samples/*.pcap in one run, with --fail-on and --junit so the verdict and JUnit paths run too,
plus a damaged file (warning path) and an unreadable one (error path). Skips (77) when valgrind
is not installed, or when the binary was built with a sanitizer (valgrind cannot run those).

usage: test_valgrind.py TCPSTATE_BIN SOURCE_DIR
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

from clitest import check, finish

VG = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
      "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect"]


def main():
    binary, src = sys.argv[1], sys.argv[2]
    if shutil.which("valgrind") is None:
        print("valgrind not installed: skipped")
        return 77
    with open(binary, "rb") as fh:
        image = fh.read()
        if b"__asan_init" in image or b"__ubsan_handle" in image:
            print("sanitized binary: valgrind cannot run it, skipped")
            return 77
    tmp = tempfile.mkdtemp(prefix="tcpstate-vg-")
    samples = sorted(glob.glob(os.path.join(src, "samples", "*.pcap")))
    junit, out = os.path.join(tmp, "junit.xml"), os.path.join(tmp, "r.json")

    def vg(name, args, want):
        p = subprocess.run(VG + [binary] + args, capture_output=True, text=True, timeout=300)
        vgerr = [ln for ln in p.stderr.splitlines() if ln.startswith("==")]
        # The tail of valgrind's report names the error: keep that part of it.
        check(f"{name}: exit {want}, no valgrind errors or leaks",
              p.returncode == want and not vgerr, (p.returncode, p.stderr[-2400:]))

    # Every sample, all anomaly-producing: the rule is violated -> 1 (not 99).
    vg("all samples, --fail-on, --junit",
       ["--fail-on", "severity>=warning", "--junit", junit, "-o", out] + samples, 1)
    check("junit written", os.path.getsize(junit) > 0)
    vg("all samples, text format", ["--format", "text", "-o", out] + samples, 0)
    # Warning path (damaged in the middle) and error path (unknown format).
    with open(samples[0], "rb") as fh:
        data = fh.read()
    cut = os.path.join(tmp, "cut.pcap")
    with open(cut, "wb") as fh:
        fh.write(data[:len(data) - 7])
    vg("truncated file", ["-o", out, cut], 3)
    bad = os.path.join(tmp, "bad.pcap")
    with open(bad, "wb") as fh:
        fh.write(b"\xde\xad\xbe\xef" + data[4:])
    vg("unreadable file", ["-o", out, samples[0], bad], 2)
    vg("filter and policy-free options", ["--filter", "tcp port 80", "--pretty",
                                          "--verify-checksums", "-o", out] + samples[:3], 0)
    shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
