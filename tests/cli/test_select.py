#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""--connection SEL: every selector kind, every format, and -w of the chosen packets.

On samples/crafted-anomalies.pcap (24 connections, many findings) and the kernel-made
close-wait samples: each selector (an id, ADDR:PORT on either side, a 4-tuple in both
orders, an IPv6 endpoint, an anomaly id, "anomalous", several at once) lists exactly the
records the full JSON report says it should, in the JSON, text, CSV, Zeek and NDJSON
formats, while summary and stats still count every connection.  With -w, the file holds
exactly the chosen records' packets: re-read, it gives those connections with the same
states and packet counts (by 4-tuple selector: chosen as they come; by anomaly: the inputs
are read twice), and a .pcapng keeps the capture's end, so the finding comes back.  Bad
selectors and -w by anomaly from standard input are one-line errors with exit 2.

usage: test_select.py TCPSTATE_BIN SOURCE_DIR
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, finish  # noqa: E402


def run(binary, *args, stdin=None):
    p = subprocess.run([binary] + list(args), capture_output=True, text=True, timeout=120,
                       stdin=stdin)
    return p.returncode, p.stdout, p.stderr


def ep(c, side):
    a = c[side]["addr"]
    return ("[%s]" % a if ":" in a else a) + ":%d" % c[side]["port"]


def listed(binary, path, fmt, sels, extra=()):
    args = list(extra) + ["--format", fmt] + sum((["--connection", s] for s in sels), []) + [path]
    rc, out, err = run(binary, *args)
    if fmt == "json":
        d = json.loads(out)
        return [c["id"] for c in d["connections"]], d
    if fmt == "csv":
        return [int(r["id"]) for r in csv.DictReader(io.StringIO(out))], None
    if fmt == "zeek":
        return len([l for l in out.splitlines() if not l.startswith("#")]), None
    if fmt == "ndjson":
        lines = [json.loads(l) for l in out.splitlines()]
        return sorted(l["id"] for l in lines if l["type"] == "connection"), lines
    return [int(l.split()[0]) for l in out.splitlines()[1:] if l[:6].strip().isdigit()], None


def main():
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    crafted = os.path.join(src, "samples", "crafted-anomalies.pcap")
    _, out, _ = run(binary, crafted)
    full = json.loads(out)
    recs = full["connections"]
    by_id = {c["id"]: c for c in recs}
    c5 = by_id[5]
    with_type = {}
    for c in recs:
        for a in c["anomalies"]:
            with_type.setdefault(a["type"], set()).add(c["id"])
    typ = sorted(with_type, key=lambda t: -len(with_type[t]))[0]
    anomalous = {c["id"] for c in recs if any(a["severity"] != "info" for a in c["anomalies"])}
    cases = [
        (["5"], {5}),
        ([ep(c5, "server")], {c["id"] for c in recs if ep(c, "server") == ep(c5, "server") or
                              ep(c, "client") == ep(c5, "server")}),
        ([ep(c5, "client")], {c["id"] for c in recs if ep(c5, "client") in
                              (ep(c, "client"), ep(c, "server"))}),
        ([ep(c5, "client") + "-" + ep(c5, "server")], {5}),
        ([ep(c5, "server") + "-" + ep(c5, "client")], {5}),
        ([typ], with_type[typ]),
        (["anomalous"], anomalous),
        (["5", "7", typ], {5, 7} | with_type[typ]),
        (["99999"], set()),
    ]
    for sels, want in cases:
        ids, doc = listed(binary, crafted, "json", sels)
        ok = set(ids) == want and len(ids) == len(want) and \
            doc["summary"]["anomalies"] == full["summary"]["anomalies"] and \
            doc["stats"]["connections"] == full["stats"]["connections"]
        for fmt in ("text", "csv", "ndjson"):
            got, _ = listed(binary, crafted, fmt, sels)
            ok = ok and sorted(got) == sorted(want)
        nz, _ = listed(binary, crafted, "zeek", sels)
        ok = ok and nz == len(want)
        check(f"--connection {' '.join(sels)}: {len(want)} record(s) in every format, totals "
              "unchanged", ok, (sorted(ids), sorted(want)))
    ids, _ = listed(binary, crafted, "json", [typ], ["--connections", "anomalous"])
    check("--connection with --connections anomalous: both apply",
          set(ids) == with_type[typ] & anomalous, ids)
    v6 = os.path.join(src, "samples", "ipv6-established.pcap")
    _, out, _ = run(binary, v6)
    r6 = json.loads(out)["connections"][0]
    ids, _ = listed(binary, v6, "json", [ep(r6, "server")])
    check(f"--connection {ep(r6, 'server')}: the IPv6 record", ids == [r6["id"]], ids)

    # -w: the chosen packets.
    cw = os.path.join(src, "samples", "anomaly-close-wait-stuck.pcap")
    _, out, _ = run(binary, "--stuck-after", "5", cw)
    cwrecs = json.loads(out)["connections"]
    leak = [c for c in cwrecs if any(a["type"] == "close_wait_stuck" for a in c["anomalies"])][0]
    other = [c for c in cwrecs if c is not leak][0]
    with tempfile.TemporaryDirectory() as tmp:
        for sel, want, name in ((ep(other, "client") + "-" + ep(other, "server"), other,
                                 "by 4-tuple"), ("close_wait_stuck", leak, "by anomaly")):
            for ext in ("pcap", "pcapng"):
                w = os.path.join(tmp, f"sel.{ext}")
                rc, _, err = run(binary, "--stuck-after", "5", "--connection", sel, "-w", w,
                                 "-o", os.devnull, cw)
                rc2, out2, _ = run(binary, "--stuck-after", "5", w)
                again = json.loads(out2)["connections"] if rc2 == 0 else []
                ok = rc == 0 and len(again) == 1 and all(
                    again[0][s]["state"] == want[s]["state"] and
                    again[0][s]["packets"] == want[s]["packets"] and
                    again[0][s]["port"] == want[s]["port"] for s in ("client", "server"))
                if ext == "pcapng":  # its statistics blocks keep the end: the finding too
                    ok = ok and sorted(a["type"] for a in again[0]["anomalies"]) == \
                        sorted(a["type"] for a in want["anomalies"])
                check(f"-w {ext} {name}: only the chosen connection's packets", ok,
                      (rc, err, again))
        with open(cw, "rb") as f:
            rc, _, err = run(binary, "--connection", "close_wait_stuck", "-w",
                             os.path.join(tmp, "x.pcap"), "-", stdin=f)
        check("-w by anomaly from standard input: exit 2, one line",
              rc == 2 and len(err.strip().splitlines()) == 1 and "read twice" in err, err)
    rc, _, err = run(binary, "--connection", "1.2.3.4", cw)
    check("a bad selector: exit 2 naming it", rc == 2 and "'1.2.3.4'" in err, err)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
