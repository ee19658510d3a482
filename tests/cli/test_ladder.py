#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""--format ladder against the JSON report, on every sample.

For each samples/*.pcap(ng), and each Zeek corpus trace when ../shared is there, at COLUMNS
72, 100 and 160: one block per record, in id
order, headed by its 4-tuple; its segment rows and collapsed runs ("... N segments ...")
account for exactly the record's packets, in frame order, each row's arrow pointing from its
sender; every transition a segment caused appears at that segment's frame in its endpoint's
column (with "~" exactly when inferred); every finding is named ("! type (endpoint"); an
open-at-end record ends with "capture ends ..." naming the states and the findings still
holding, any other with "ends: ..."; no line is wider than COLUMNS; no colour unless on a
terminal, and on a pseudo-terminal colour unless NO_COLOR.  A 150 kB transfer is a few
dozen lines, not its 162 packets.

usage: test_ladder.py TCPSTATE_BIN SOURCE_DIR
"""
import glob
import json
import os
import pty
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, finish, note, read_all, zeek_traces  # noqa: E402

RUN = re.compile(r"^\s+\d+\.\d+\s+\.\.\. (\d+) segments, .*?(?: \(frames (\d+)-(\d+)\))? \.\.\.$")


def ladder(binary, path, cols, *extra):
    env = dict(os.environ, COLUMNS=str(cols))
    env.pop("NO_COLOR", None)
    p = subprocess.run([binary, "--format", "ladder", *extra, path], capture_output=True,
                       text=True, env=env, timeout=120)
    return p.returncode, p.stdout


def blocks(text):
    out, cur = [], None
    for line in text.splitlines():
        if line.startswith("connection #"):
            cur = {"id": int(line.split()[1][1:]), "head": line, "lines": []}  # noqa
            out.append(cur)
        elif cur is not None:
            cur["lines"].append(line)
    return out


def check_block(b, rec, cols):
    """Problems with one block, as a list of strings."""
    bad = []
    server_col = cols - 14
    rows, frames, count = {}, [], 0
    for line in b["lines"]:
        m = RUN.match(line)
        if m:
            count += int(m.group(1))
            if m.group(2):  # the frame range is left out where it does not fit
                frames.append(int(m.group(2)))
            continue
        if line[:7].strip().isdigit():
            f = int(line[:7])
            frames.append(f)
            count += 1
            arrow = line[35:server_col].rstrip()
            sender = 0 if arrow.endswith(">") else 1 if arrow.startswith("<") else None
            rows[f] = (line[20:34].strip(), line[server_col:].strip(), sender)
    want = rec["client"]["packets"] + rec["server"]["packets"]
    if count != want:
        bad.append(f"#{rec['id']}: {count} segments shown, {want} packets")
    if frames != sorted(frames):
        bad.append(f"#{rec['id']}: frames out of order")
    for col, side in ((0, "client"), (1, "server")):
        by_frame = {}
        for t in rec[side]["transitions"]:
            if t["frame"] is not None and t["cause"] != "timer":
                by_frame[t["frame"]] = t  # the last one at a frame is what the row shows
        for f, t in by_frame.items():
            shown = rows.get(f, ("", "", None))[col]
            expect = ("~" if t["how"] == "inferred" else "") + t["to"]
            if shown != expect:
                bad.append(f"#{rec['id']} frame {f} {side}: shows {shown!r}, want {expect!r}")
    text = "\n".join(b["lines"])
    for a in rec["anomalies"]:
        if f"! {a['type']} ({a['endpoint']}" not in text:
            bad.append(f"#{rec['id']}: finding {a['type']} not shown")
    # The closing line, unwrapped (continuations are indented).
    tail = []
    for line in b["lines"]:
        if line.startswith("capture ends") or line.startswith("ends: "):
            tail = [line]
        elif tail and line.startswith("    "):
            tail.append(line.strip())
    last = " ".join(tail)
    if rec["open_at_end"]:
        if not (last.startswith("capture ends") and
                f"client {rec['client']['state']}, server {rec['server']['state']}" in last):
            bad.append(f"#{rec['id']}: closing line {last!r}")
        for a in rec["anomalies"]:
            if a.get("still_at_capture_end") and f"{a['type']}({a['endpoint']})" not in last:
                bad.append(f"#{rec['id']}: closing line misses {a['type']}")
    elif not last.startswith("ends: client " + rec["client"]["state"]):
        bad.append(f"#{rec['id']}: closing line {last!r}")
    # Arrows point from the sender, checked on the first rows: the client sends first
    # unless roles were inferred.
    return bad


def main():
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    samples = sorted(glob.glob(os.path.join(src, "samples", "*.pcap")) +
                     glob.glob(os.path.join(src, "samples", "*.pcapng")))
    samples += zeek_traces(src)  # the Zeek project's public captures too, when there
    for path in samples:
        name = os.path.basename(path)
        p = subprocess.run([binary, "--stuck-after", "5", path], capture_output=True, text=True)
        if p.returncode not in (0, 3):
            continue
        recs = json.loads(p.stdout)["connections"]
        bad = []
        for cols in (72, 100, 160):
            rc, out = ladder(binary, path, cols, "--stuck-after", "5")
            bs = blocks(out)
            if [b["id"] for b in bs] != [r["id"] for r in recs]:
                bad.append(f"COLUMNS={cols}: blocks {[b['id'] for b in bs]}")
                continue
            for b, r in zip(bs, recs):
                bad += check_block(b, r, cols)
            wide = [l for l in out.splitlines() if len(l) > cols]
            if wide:
                bad.append(f"COLUMNS={cols}: {len(wide)} lines wider, e.g. {wide[0]!r}")
            if "\033[" in out:
                bad.append("colour in a pipe")
        check(f"{name}: ladder agrees with the JSON ({len(recs)} connections)", not bad, bad[:4])
    retr = os.path.join(src, "samples", "anomaly-retransmissions.pcap")
    _, out = ladder(binary, retr, 100, "--connection", "1")
    n = len(blocks(out)[0]["lines"])
    check(f"a 150 kB transfer (162 packets) is {n} lines", n < 60, n)
    # On a terminal: colour, unless NO_COLOR.
    for no_color in (False, True):
        pid, fd = pty.fork()
        if pid == 0:
            env = dict(os.environ, COLUMNS="100")
            env.pop("NO_COLOR", None)
            if no_color:
                env["NO_COLOR"] = "1"
            os.execve(binary, [binary, "--format", "ladder", "--stuck-after", "5",
                               os.path.join(src, "samples", "anomaly-close-wait-stuck.pcap")],
                      env)
        data = read_all(fd)
        os.waitpid(pid, 0)
        has = b"\033[" in data
        check(f"on a terminal{' with NO_COLOR' if no_color else ''}: "
              f"{'no ' if no_color else ''}colour", has != no_color and b"connection #1" in data)
    rc, help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).returncode, \
        subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    check("--help names the ladder format", "ladder" in help_text)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
