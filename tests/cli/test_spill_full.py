#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A full $TMPDIR while records are held back behind a long-lived connection.

The JSON report lists connections by id; while connection 1 stays open, every record that
ends after it waits, and past 8 MiB the waiting records go to a temporary file in $TMPDIR.
Here $TMPDIR is a 256 KiB tmpfs (mounted in a private mount namespace, gone with it) and
40,000 refused connections end behind one that stays open. tcpstate must fail cleanly: exit
2, one error line naming the spill file in $TMPDIR (not the report), no report and no
temporary report left, no crash (this crashed with SIGSEGV when a spill failed half-way).
A $TMPDIR that does not exist is named the same way.

Skips (77) when not root or when unshare/mount cannot make the tmpfs.
usage: test_spill_full.py TCPSTATE_BIN SOURCE_DIR
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from clitest import check, finish

SKIP = 77
N = 40000


def ip4(src, dst, sport, dport, seq, ack, flags):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src, dst)
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + hdr + tcp


def write_capture(path):
    c, s = bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])
    recs = []
    t = 1_800_000_000.0

    def pkt(ts, frame):
        sec = int(ts)
        recs.append(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(frame), len(frame))
                    + frame)

    # Connection 1: open from the first packet to the last.
    pkt(t, ip4(c, s, 40000, 80, 100, 0, 0x02))
    pkt(t + 0.001, ip4(s, c, 80, 40000, 500, 101, 0x12))
    pkt(t + 0.002, ip4(c, s, 40000, 80, 101, 501, 0x10))
    for i in range(N):  # refused: SYN, RST-ACK; each written out 60 s after it ends
        ts = t + 0.01 + i * 0.005
        sport = 1024 + i % 60000
        pkt(ts, ip4(c, s, sport, 81, 1000 + i, 0, 0x02))
        pkt(ts + 0.0001, ip4(s, c, 81, sport, 0, 1001 + i, 0x14))
    pkt(t + 0.01 + N * 0.005 + 100, ip4(c, s, 40000, 80, 101, 501, 0x10))
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        fh.write(b"".join(recs))


def main():
    binary, _src = os.path.abspath(sys.argv[1]), sys.argv[2]
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("skip: needs root and unshare (a private tmpfs)")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="tcpstate-spill-")
    try:
        cap = os.path.join(tmp, "held.pcap")
        write_capture(cap)
        small = os.path.join(tmp, "small")
        os.mkdir(small)
        out = os.path.join(tmp, "report.json")
        script = ('mount -t tmpfs -o size=256k tcpst-spill "$1" || exit 77; '
                  'TMPDIR="$1" "$2" -o "$3" "$4"; rc=$?; ls -A "$1" >&2; exit $rc')
        p = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", small, binary, out, cap],
                           capture_output=True, text=True, timeout=300)
        if p.returncode == 77:
            print(f"skip: cannot mount a tmpfs: {p.stderr.strip()}")
            return SKIP
        lines = p.stderr.strip().splitlines()
        check("full TMPDIR: exit 2, not a crash", p.returncode == 2, (p.returncode, p.stderr))
        check("full TMPDIR: one error line naming the spill file in TMPDIR",
              len(lines) == 1 and lines[0].startswith(f"tcpstate: {small}/tcpstate-pending-")
              and "No space left on device" in lines[0] and "TMPDIR" in lines[0], p.stderr)
        check("full TMPDIR: no report, no temporary report",
              not os.path.exists(out) and
              not [f for f in os.listdir(tmp) if f.startswith("report.json")], os.listdir(tmp))

        gone = os.path.join(tmp, "no-such-dir")
        p = subprocess.run([binary, "-o", out, cap], capture_output=True, text=True,
                           timeout=300, env=dict(os.environ, TMPDIR=gone))
        check("missing TMPDIR: exit 2, the error names the spill directory, not the report",
              p.returncode == 2 and p.stderr.startswith(f"tcpstate: {gone}/tcpstate-pending-")
              and "No such file or directory" in p.stderr and not os.path.exists(out),
              (p.returncode, p.stderr))

        room = os.path.join(tmp, "room")
        os.mkdir(room)
        p = subprocess.run([binary, "--format", "text", "-o", out, cap], capture_output=True,
                           text=True, timeout=300, env=dict(os.environ, TMPDIR=room))
        rows = 0
        if p.returncode == 0:
            with open(out) as fh:
                rows = sum(1 for line in fh if "198.18.0.1:" in line)
        check(f"with room in TMPDIR the same capture gives its {N + 1} records in id order "
              "(the premise: they are held back and spilled)",
              p.returncode == 0 and rows == N + 1 and os.listdir(room) == [], (p.stderr, rows))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
