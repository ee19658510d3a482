#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Remake docs/img/html-*.png: HTML reports of bundled samples in headless Chromium.

usage: docs/img/screenshots.py TCPSTATE_BIN   (from the source tree's root)
"""
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tests", "cli"))
import cdp  # noqa: E402


def report(binary, out, *args):
    subprocess.run([binary, *args, "--format", "html", "-o", out], capture_output=True)
    return "file://" + out


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp()
    stuck = report(binary, os.path.join(tmp, "stuck.html"), "samples/anomaly-close-wait-stuck.pcap",
                   "--capture-end", "+60", "--fail-on", "close_wait_stuck")
    retr = report(binary, os.path.join(tmp, "retr.html"), "samples/anomaly-retransmissions.pcap")
    with cdp.Browser(width=1280, height=760) as b:
        b.open(stuck)
        b.wait("document.body.dataset.ready")
        b.screenshot(os.path.join(here, "html-summary.png"))
        b.eval("location.hash = '#conn=1'")
        b.wait("document.getElementById('detail').dataset.connId === '1'")
        b.eval("document.getElementById('ladder').scrollIntoView({block: 'start'})")
        b.screenshot(os.path.join(here, "html-ladder.png"))
        b.open(retr + "#conn=1")
        b.wait("document.body.dataset.ready")
        b.eval("document.getElementById('tseq').scrollIntoView({block: 'center'})")
        b.screenshot(os.path.join(here, "html-tseq.png"))
        if b.console:
            sys.exit("console: " + json.dumps(b.console))


if __name__ == "__main__":
    main()
