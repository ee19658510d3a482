#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Zeek conformance: compare tcpstate's Zeek fields with Zeek's own baselines.

Usage: run_zeek_corpus.py [--tsv] TCPSTATE_BIN CORPUS_DIR

With --tsv the same comparison reads tcpstate's own conn.log (--format zeek) instead of
its JSON report, after checking the log's form: Zeek's header lines in order, 21 fields per
row with the #fields and #types of Zeek's conn.log, Zeek-style uids unique in the file,
'-' for unset, and #close last.

For every trace in CORPUS_DIR/MANIFEST.tsv the tcpstate binary is run on the
capture and its JSON report is compared with expected/<name>.tsv, the rows
Zeek's regression baselines assert: conn_state, history and, where given,
orig_pkts/resp_pkts, plus which endpoint Zeek calls the originator.

Matching: Zeek writes a row when it removes a connection, tcpstate lists
records by first packet.  Rows are paired with records by endpoint pair
(addresses and ports, either orientation); a pair that occurs several times is
matched in order of occurrence (one 4-tuple never has two live connections,
so Zeek's removal order is its start order there; a given ts breaks ties).
Rows whose addresses are '-' belong to single-connection traces and take the
records in order.  A row without a record, or a record without a row, is a
disagreement too (Zeek split the tuple differently).

Disagreements listed in tests/zeek/known_differences.tsv (trace, tuple, field,
expected, ours, reason; '*' matches anything) are reported but do not fail the
run; any other disagreement makes the script exit 1.  Exit 77 when the corpus
is missing.  Standard library only.
"""

import csv
import json
import os
import subprocess
import sys

FIELDS = ("conn_state", "history")
PKT_FIELDS = ("orig_pkts", "resp_pkts")
RUN_TIMEOUT = 300


def fmt_ep(addr, port):
    if addr != "-" and ":" in addr:
        addr = "[" + addr + "]"
    return "%s:%s" % (addr, port)


def fmt_tuple(oh, op, rh, rp):
    return fmt_ep(oh, op) + ">" + fmt_ep(rh, rp)


class Known:
    """The known-differences table: entries with '*' wildcards."""

    def __init__(self, path):
        self.entries = []
        self.used = set()
        if not os.path.exists(path):
            return
        with open(path, newline="") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip() or line.startswith("#"):
                    continue
                cols = line.rstrip("\n").split("\t")
                if cols[0] == "trace":
                    continue
                if len(cols) < 6:
                    sys.stderr.write("%s:%d: need 6 tab-separated columns\n" % (path, lineno))
                    continue
                self.entries.append((lineno, cols[:5], cols[5]))

    def match(self, trace, tup, field, expected, ours):
        key = (trace, tup, field, expected, ours)
        for lineno, pat, reason in self.entries:
            if all(p == "*" or p == k for p, k in zip(pat, key)):
                self.used.add(lineno)
                return reason
        return None

    def stale(self):
        return [(n, pat) for n, pat, _ in self.entries if n not in self.used]


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def our_records(report):
    """tcpstate records as Zeek-oriented dicts, in report (first packet) order."""
    out = []
    for c in report.get("connections", []):
        z = c.get("zeek", {})
        o, r = ("server", "client") if z.get("orig") == "server" else ("client", "server")
        out.append({
            "orig_h": str(c[o]["addr"]), "orig_p": str(c[o]["port"]),
            "resp_h": str(c[r]["addr"]), "resp_p": str(c[r]["port"]),
            "conn_state": c.get("conn_state", ""),
            "history": c.get("history") or "-",
            "orig_pkts": str(z.get("orig_pkts", "")),
            "resp_pkts": str(z.get("resp_pkts", "")),
            "first_ts": c.get("first_ts", 0),
        })
    return out


ZEEK_FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration "
               "orig_bytes resp_bytes conn_state local_orig local_resp missed_bytes history "
               "orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents").split()
ZEEK_TYPES = ("time string addr port addr port enum string interval count count string bool "
              "bool count string count count count count set[string]").split()
ZEEK_HEAD = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)",
             "#unset_field\t-", "#path\tconn"]


def tsv_records(text):
    """tcpstate's conn.log as the dicts our_records() gives, or raise ValueError."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if lines[:5] != ZEEK_HEAD:
        raise ValueError("header lines %r" % lines[:5])
    if not lines[5].startswith("#open\t") or lines[6] != "#fields\t" + "\t".join(ZEEK_FIELDS) \
            or lines[7] != "#types\t" + "\t".join(ZEEK_TYPES):
        raise ValueError("#open/#fields/#types lines")
    if not lines[-1].startswith("#close\t"):
        raise ValueError("no #close line last")
    out, uids = [], set()
    for line in lines[8:-1]:
        v = dict(zip(ZEEK_FIELDS, line.split("\t")))
        if len(line.split("\t")) != len(ZEEK_FIELDS):
            raise ValueError("row with %d fields" % len(line.split("\t")))
        uid = v["uid"]
        if len(uid) != 18 or uid[0] != "C" or not uid[1:].isalnum() or uid in uids:
            raise ValueError("uid %r" % uid)
        uids.add(uid)
        if v["proto"] != "tcp" or any(x == "" for x in v.values()):
            raise ValueError("row %r" % line)
        out.append({"orig_h": v["id.orig_h"], "orig_p": v["id.orig_p"],
                    "resp_h": v["id.resp_h"], "resp_p": v["id.resp_p"],
                    "conn_state": v["conn_state"], "history": v["history"],
                    "orig_pkts": v["orig_pkts"], "resp_pkts": v["resp_pkts"],
                    "first_ts": float(v["ts"])})
    return out


def ep_match(row, rec, side_row, side_rec):
    for part in ("_h", "_p"):
        want = row[side_row + part]
        if want != "-" and want != rec[side_rec + part]:
            return False
    return True


def orientation(row, rec):
    """'same', 'flipped' or None when the endpoint pair differs."""
    if ep_match(row, rec, "orig", "orig") and ep_match(row, rec, "resp", "resp"):
        return "same"
    if ep_match(row, rec, "orig", "resp") and ep_match(row, rec, "resp", "orig"):
        return "flipped"
    return None


def pair_rows(rows, recs):
    """Pair expected rows with records; returns (pairs, unmatched rows, unmatched records)."""
    taken = [False] * len(recs)
    pairs, lost = [], []
    anonymous = all(r["orig_h"] == "-" and r["resp_h"] == "-" for r in rows)
    if anonymous:
        for i, row in enumerate(rows):
            if i < len(recs):
                taken[i] = True
                pairs.append((row, recs[i], "same"))
            else:
                lost.append(row)
        return pairs, lost, [r for i, r in enumerate(recs) if not taken[i]]
    # Rows of one endpoint pair go to that pair's records in occurrence order;
    # rows with a start time take the record closest to it.
    for row in sorted(rows, key=lambda r: (r["ts"] == "-", r["ts"])):
        best = None
        for i, rec in enumerate(recs):
            if taken[i] or orientation(row, rec) is None:
                continue
            if row["ts"] != "-":
                if best is None or abs(rec["first_ts"] - float(row["ts"])) < \
                        abs(recs[best]["first_ts"] - float(row["ts"])):
                    best = i
            elif best is None:
                best = i
                break
        if best is None:
            lost.append(row)
        else:
            taken[best] = True
            pairs.append((row, recs[best], orientation(row, recs[best])))
    return pairs, lost, [r for i, r in enumerate(recs) if not taken[i]]


class Tally:
    def __init__(self):
        self.n = {k: 0 for k in FIELDS + ("pkts", "rows")}
        self.ok = {k: 0 for k in FIELDS + ("pkts", "rows")}
        self.passed = self.failed = self.known_rows = 0
        self.known_count = 0
        self.unexplained = 0


def compare_trace(name, rows, recs, known, tally, out):
    """Compare one trace; returns printable problem lines."""
    lines = []
    occurrence = {}

    def tuple_id(row):
        t = fmt_tuple(row["orig_h"], row["orig_p"], row["resp_h"], row["resp_p"])
        k = occurrence.get(t, 0) + 1
        occurrence[t] = k
        return t if k == 1 else "%s#%d" % (t, k)

    def disagree(tup, field, expected, ours):
        reason = known.match(name, tup, field, expected, ours)
        tag = "known" if reason else "DIFF"
        lines.append("  %-5s %s %s: expected %s, ours %s%s" %
                     (tag, tup, field, expected, ours, ("  (" + reason + ")") if reason else ""))
        if reason:
            tally.known_count += 1
            return False
        tally.unexplained += 1
        return True

    pairs, lost, extra = pair_rows(rows, recs)
    order = {id(r): i for i, r in enumerate(rows)}
    results = {}
    for row, rec, orient in pairs:
        results[id(row)] = (rec, orient)
    for row in rows:
        tup = tuple_id(row)
        tally.n["rows"] += 1
        bad = known_seen = False
        if id(row) not in results:
            got = disagree(tup, "row", "present", "absent")
            bad |= got
            known_seen |= not got
            for f in FIELDS:
                if row[f] != "-":
                    tally.n[f] += 1
            if any(row[f] != "-" for f in PKT_FIELDS):
                tally.n["pkts"] += 1
        else:
            tally.ok["rows"] += 1
            rec, orient = results[id(row)]
            if orient != "same":
                got = disagree(tup, "direction", "orig=" + fmt_ep(row["orig_h"], row["orig_p"]),
                               "orig=" + fmt_ep(rec["orig_h"], rec["orig_p"]))
                bad |= got
                known_seen |= not got
            for f in FIELDS:
                if row[f] == "-":
                    continue
                tally.n[f] += 1
                if row[f] == rec[f]:
                    tally.ok[f] += 1
                else:
                    got = disagree(tup, f, row[f], rec[f])
                    bad |= got
                    known_seen |= not got
            if any(row[f] != "-" for f in PKT_FIELDS):
                tally.n["pkts"] += 1
                want = "/".join(row[f] for f in PKT_FIELDS)
                have = "/".join(rec[f] if row[f] != "-" else "-" for f in PKT_FIELDS)
                if want == have:
                    tally.ok["pkts"] += 1
                else:
                    got = disagree(tup, "pkts", want, have)
                    bad |= got
                    known_seen |= not got
        if bad:
            tally.failed += 1
        else:
            tally.passed += 1
            if known_seen:
                tally.known_rows += 1
    for rec in extra:
        tup = fmt_tuple(rec["orig_h"], rec["orig_p"], rec["resp_h"], rec["resp_p"])
        got = disagree(tup, "extra", "absent", "%s %s" % (rec["conn_state"], rec["history"]))
        if got:
            tally.failed += 1
    del order
    if lines:
        out.append("%s:" % name)
        out.extend(lines)


def run_trace(binary, path, verify, tsv=False):
    # Zeek drops packets with bad checksums unless run with -C (or told to
    # ignore a network's checksums); --verify-checksums does the same.
    args = [binary, "--split", "zeek"] + (["--verify-checksums"] if verify else []) + \
        (["--format", "zeek"] if tsv else []) + [path]
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % RUN_TIMEOUT
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def main(argv):
    tsv = len(argv) > 1 and argv[1] == "--tsv"
    if tsv:
        argv = argv[:1] + argv[2:]
    if len(argv) != 3:
        sys.stderr.write("usage: %s [--tsv] TCPSTATE_BIN CORPUS_DIR\n" % argv[0])
        return 2
    binary, corpus = argv[1], argv[2]
    manifest = os.path.join(corpus, "MANIFEST.tsv")
    if not os.path.isfile(manifest):
        print("SKIP: Zeek corpus not found at %s" % corpus)
        return 77
    here = os.path.dirname(os.path.abspath(__file__))
    known = Known(os.path.join(here, "known_differences.tsv"))
    tally = Tally()
    out = []
    for m in read_tsv(manifest):
        name = os.path.splitext(os.path.basename(m["trace"]))[0]
        trace = os.path.join(corpus, m["trace"])
        rows = read_tsv(os.path.join(corpus, m["expected"]))
        opts = m.get("zeek_options", "")
        verify = "-C" not in opts.split() and "ignore_checksums" not in opts
        rc, stdout, stderr = run_trace(binary, trace, verify, tsv)
        # Traces libpcap 1.10 cannot read (multi-interface pcapng) are read by tcpstate's own
        # pcapng reader and compared like every other.
        report = None
        if rc == 0:
            try:
                report = tsv_records(stdout) if tsv else our_records(json.loads(stdout))
            except ValueError as e:
                stderr += " (report is not %s: %s)" % ("a conn.log" if tsv else "JSON", e)
        if report is None:
            reason = known.match(name, "*", "run", "exit 0", "exit %s" % rc)
            tag = "known" if reason else "DIFF"
            out.append("%s:\n  %-5s run: exit %s: %s%s" % (name, tag, rc, stderr.strip()[:200],
                                                          ("  (" + reason + ")") if reason else ""))
            for row in rows:
                tally.n["rows"] += 1
                for f in FIELDS:
                    if row[f] != "-":
                        tally.n[f] += 1
                if any(row[f] != "-" for f in PKT_FIELDS):
                    tally.n["pkts"] += 1
            if reason:
                tally.passed += len(rows)
                tally.known_rows += len(rows)
                tally.known_count += 1
            else:
                tally.failed += len(rows)
                tally.unexplained += 1
            continue
        compare_trace(name, rows, report, known, tally, out)

    for line in out:
        print(line)
    for lineno, pat in known.stale():
        print("note: known_differences.tsv line %d no longer occurs: %s" % (lineno, " ".join(pat)))
    print("zeek corpus (%s): conn_state %d/%d agree, history %d/%d agree, pkts %d/%d agree, "
          "rows %d/%d matched" % ("conn.log" if tsv else "JSON", tally.ok["conn_state"], tally.n["conn_state"],
                                  tally.ok["history"], tally.n["history"], tally.ok["pkts"],
                                  tally.n["pkts"], tally.ok["rows"], tally.n["rows"]))
    print("%d known differences (%d rows), %d unexplained" %
          (tally.known_count, tally.known_rows, tally.unexplained))
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.unexplained else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
