#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""--format zeek (a conn.log) and --format csv against the JSON report, on every sample.

For each samples/*.pcap and *.pcapng, and each Zeek corpus trace when ../shared is there
(where a first packet that is not TCP showed #open taken from the first record), the conn.log
must have Zeek's header lines, #fields and
#types, one row per JSON record with the same originator orientation, conn_state, history,
packet and IP byte counts; duration and the byte counts set only when the connection lasted,
as Zeek's conn script does; uids "C" + 17 base62 characters, unique, and the same on a second
run (stable); #open/#close the first and last packet times in UTC.  The CSV must parse with
Python's csv module into one row per record with the header's columns, and its states,
counts, anomaly ids (each once) and worst severity must equal the JSON's.  Both respect
--connections anomalous.  Every record's wireshark_filter, given to Wireshark's tshark
(when installed), selects exactly as many frames as the record has packets (on every
sample: tunnels, VLANs and VNIs that separate equal 4-tuples included).

usage: test_tables.py TCPSTATE_BIN SOURCE_DIR
"""
import csv
import glob
import io
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, finish, zeek_traces  # noqa: E402

SEV = {"info": 0, "warning": 1, "error": 2}


def run(binary, *args):
    p = subprocess.run([binary] + list(args), capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout


def conn_log(text):
    lines = text.rstrip("\n").split("\n")
    fields = lines[6].split("\t")[1:]
    rows = [dict(zip(fields, l.split("\t"))) for l in lines[8:-1]]
    return lines, fields, rows


def stamp(ts):
    return time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(int(ts)))


def main():
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    samples = sorted(glob.glob(os.path.join(src, "samples", "*.pcap")) +
                     glob.glob(os.path.join(src, "samples", "*.pcapng")))
    check("samples found", len(samples) >= 20, len(samples))
    # The conn.log and CSV of the Zeek corpus's traces too, when ../shared is there (tshark's
    # check below stays on the samples: it runs once per record).
    corpus = zeek_traces(src)
    bad = []
    for path in samples + corpus:
        name = os.path.basename(path)
        rc, out = run(binary, path)
        if rc not in (0, 3):
            continue
        doc = json.loads(out)
        recs = doc["connections"]
        _, ztxt = run(binary, "--format", "zeek", path)
        _, ztxt2 = run(binary, "--format", "zeek", path)
        lines, fields, rows = conn_log(ztxt)
        ok = (lines[0] == "#separator \\x09" and lines[4] == "#path\tconn" and
              len(fields) == 21 and lines[-1].startswith("#close\t") and len(rows) == len(recs)
              and ztxt == ztxt2)
        uids = [r["uid"] for r in rows]
        ok = ok and len(set(uids)) == len(uids) and all(
            len(u) == 18 and u[0] == "C" and u[1:].isalnum() for u in uids)
        if recs and doc["stats"]["first_ts"] is not None:
            ok = ok and lines[5] == "#open\t" + stamp(doc["stats"]["first_ts"]) and \
                lines[-1] == "#close\t" + stamp(doc["stats"]["last_ts"])
        for rec, row in zip(recs, rows):
            o, r = ("server", "client") if rec["zeek"]["orig"] == "server" else ("client", "server")
            lasted = rec["duration"] > 0
            want = {"id.orig_h": rec[o]["addr"], "id.orig_p": str(rec[o]["port"]),
                    "id.resp_h": rec[r]["addr"], "id.resp_p": str(rec[r]["port"]),
                    "proto": "tcp", "conn_state": rec["conn_state"],
                    "history": rec["history"] or "-",
                    "orig_pkts": str(rec["zeek"]["orig_pkts"]),
                    "resp_pkts": str(rec["zeek"]["resp_pkts"]),
                    "orig_ip_bytes": str(rec[o]["bytes"]), "resp_ip_bytes": str(rec[r]["bytes"]),
                    "orig_bytes": str(rec[o]["payload_bytes"]) if lasted else "-",
                    "resp_bytes": str(rec[r]["payload_bytes"]) if lasted else "-",
                    "service": "-", "local_orig": "-", "local_resp": "-",
                    "tunnel_parents": "-"}
            diff = {k: (v, row.get(k)) for k, v in want.items() if row.get(k) != v}
            if abs(float(row["ts"]) - rec["first_ts"]) > 1e-6 or \
                    (lasted and abs(float(row["duration"]) - rec["duration"]) > 2e-6) or \
                    (not lasted and row["duration"] != "-"):
                diff["ts/duration"] = (rec["first_ts"], row["ts"], row["duration"])
            if diff:
                ok = False
                bad.append((name, rec["id"], diff))
        if not ok and not bad:
            bad.append((name, "form", lines[:8]))
        _, ctxt = run(binary, "--format", "csv", path)
        crow = list(csv.DictReader(io.StringIO(ctxt)))
        cok = len(crow) == len(recs)
        for rec, row in zip(recs, crow):
            types = []
            for a in rec["anomalies"]:
                if a["type"] not in types:
                    types.append(a["type"])
            worst = max((a["severity"] for a in rec["anomalies"]), key=SEV.get, default="")
            want = {"id": str(rec["id"]), "client_addr": rec["client"]["addr"],
                    "server_port": str(rec["server"]["port"]),
                    "client_state": rec["client"]["state"], "server_state": rec["server"]["state"],
                    "conn_state": rec["conn_state"], "history": rec["history"],
                    "client_packets": str(rec["client"]["packets"]),
                    "server_bytes": str(rec["server"]["bytes"]),
                    "server_retransmissions": str(rec["server"]["retransmissions"]["segments"]),
                    "open_at_end": "true" if rec["open_at_end"] else "false",
                    "end_reason": rec["end_reason"], "first_frame": str(rec["first_frame"]),
                    "anomalies": ";".join(types), "severity": worst}
            diff = {k: (v, row.get(k)) for k, v in want.items() if row.get(k) != v}
            if diff:
                cok = False
                bad.append((name + " csv", rec["id"], diff))
        check(f"{name}: conn.log and CSV agree with the JSON ({len(recs)} connections)",
              ok and cok, [b for b in bad if b[0].startswith(name)][:3])
    # --connections anomalous is respected by both.
    crafted = os.path.join(src, "samples", "crafted-anomalies.pcap")
    _, j = run(binary, "--connections", "anomalous", crafted)
    n = len(json.loads(j)["connections"])
    _, z = run(binary, "--connections", "anomalous", "--format", "zeek", crafted)
    _, c = run(binary, "--connections", "anomalous", "--format", "csv", crafted)
    check(f"--connections anomalous: {n} rows in the conn.log and the CSV",
          len(conn_log(z)[2]) == n and len(list(csv.DictReader(io.StringIO(c)))) == n)
    import shutil
    if shutil.which("tshark"):
        wrong, n = [], 0
        for path in samples:
            rc, out = run(binary, path)
            if rc not in (0, 3):
                continue
            for rec in json.loads(out)["connections"]:
                p = subprocess.run(["tshark", "-r", path, "-Y", rec["wireshark_filter"]],
                                   capture_output=True, text=True, timeout=120)
                got = len(p.stdout.splitlines())
                n += 1
                if got != rec["client"]["packets"] + rec["server"]["packets"]:
                    wrong.append((os.path.basename(path), rec["id"], got, p.stderr[-200:]))
        check(f"wireshark_filter: tshark selects each record's frames exactly ({n} records)",
              n > 100 and not wrong, wrong[:5])
    else:
        print("     note: tshark not installed: wireshark_filter not checked in Wireshark")
    rc, help_text = run(binary, "--help")
    check("--help names the zeek and csv formats", "zeek" in help_text and "csv" in help_text)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
