#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Validate real reports against docs/report.schema.json and docs/ndjson.schema.json.

Reports come from every capture in samples/ and, when ../shared/corpus/zeek is
present, from every corpus trace libpcap can read (a wide spread of link types,
resets, mid-stream pickups and odd flags).  Also checks invariants the schema
cannot express: connections ordered by id and first frame, ids 1..n.

With --format ndjson (skipped, with a note, while the binary lacks it) every
line must validate, "type" must be the first key, the summary line must come
last, and the stream must tell the same story as the document: the same
records (in the order they ended), the same totals, every finding announced
by an anomaly line before its connection's record.
usage: test_schema.py TCPSTATE_BIN SOURCE_DIR
"""
import json
import os
import subprocess
import sys

try:
    import schemas  # imports jsonschema
except ImportError:
    print("FAIL: python3 module 'jsonschema' is missing (apt-get install python3-jsonschema)")
    sys.exit(1)


def load_schemas(src):
    """The document validator, and the NDJSON ones (which refer into the document schema)."""
    v = schemas.load_validators(src)
    return v.pop("document"), v


def errors(validator, obj):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in validator.iter_errors(obj)]


def check_document(validator, report):
    problems = errors(validator, report)
    conns = report["connections"]
    ids = [c["id"] for c in conns]
    if ids != list(range(1, len(ids) + 1)):
        problems.append(f"ids not 1..n in order: {ids[:10]}...")
    frames = [c["first_frame"] for c in conns]
    if frames != sorted(frames):
        problems.append("connections not ordered by first frame")
    st = report["stats"]
    if st["connections"] != len(conns):
        problems.append("stats.connections != number of records")
    absorbed = st.get("ip_reassembly", {}).get("frames_absorbed", 0)
    if st["analyzed"] != st["tcp_segments"] + st["non_tcp"] + st["decode_problems"] + absorbed:
        problems.append("a frame is unaccounted for: analyzed != tcp + non_tcp + problems")
    if st["packets"] != st["analyzed"] + st["filtered"]:
        problems.append("packets != analyzed + filtered")
    segs = sum(c[s]["packets"] for c in conns for s in ("client", "server"))
    if segs != st["tcp_segments"]:
        problems.append(f"segments in records {segs} != tcp_segments {st['tcp_segments']}")
    return problems


def check_ndjson(validators, text, report):
    """Problems in one NDJSON output, compared with the document report of the same input."""
    problems = []
    if not text.endswith("\n"):
        problems.append("output does not end with a newline")
    raw = text.split("\n")[:-1]
    objs = []
    for n, line in enumerate(raw, 1):
        if not line.startswith('{"type":"'):
            problems.append(f"line {n}: does not start with the type: {line[:60]}")
            continue
        try:
            o = json.loads(line)
        except ValueError as e:
            problems.append(f"line {n}: not JSON: {e}")
            continue
        errs = errors(validators[None], o)
        if errs:
            v = validators.get(o.get("type"))
            problems += [f"line {n} ({o.get('type')}): {e}" for e in (errors(v, o) if v else errs)]
        objs.append(o)
    if problems:
        return problems
    types = [o["type"] for o in objs]
    if not types or types[-1] != "summary" or types.count("summary") != 1:
        return problems + ["the summary line is not the last line, or not the only one"]
    summary = objs[-1]
    recs = [{k: v for k, v in o.items() if k != "type"} for o in objs if o["type"] == "connection"]
    # The same records as the document, in the order they ended rather than by id.
    if sorted(recs, key=lambda r: r["id"]) != report["connections"]:
        problems.append("connection lines differ from the document's records")
    for key in ("inputs", "summary", "verdict", "tcpstate_version", "schema_version"):
        if summary[key] != report[key]:
            problems.append(f"summary line: {key} differs from the document")
    nst = dict(summary["stats"])
    announced = nst.pop("anomalies_announced", None)
    if nst != report["stats"]:
        diff = sorted(k for k in set(nst) | set(report["stats"])
                      if nst.get(k) != report["stats"].get(k))
        problems.append(f"summary line: stats differ from the document in {diff}")
    anomalies = [o for o in objs if o["type"] == "anomaly"]
    if announced != len(anomalies):
        problems.append(f"anomalies_announced {announced} != {len(anomalies)} anomaly lines")
    # Every finding in a record was announced, once, before the record was written.
    seen = {}
    for n, o in enumerate(objs):
        if o["type"] == "anomaly":
            key = (o["connection"], o["anomaly"]["type"], o["anomaly"]["endpoint"])
            if key in seen:
                problems.append(f"finding announced twice: {key}")
            seen[key] = n
        elif o["type"] == "connection":
            for a in o["anomalies"]:
                key = (o["id"], a["type"], a["endpoint"])
                if seen.get(key, n) >= n:
                    problems.append(f"finding {key} not announced before its record")
    last_stats = None
    for o in objs:
        if o["type"] == "stats":
            if last_stats and o["ts"] < last_stats["ts"]:
                problems.append("stats lines go back in time")
            last_stats = o
    return problems[:20]


def ndjson_supported(binary, sample):
    p = subprocess.run([binary, "--format", "ndjson", sample], capture_output=True, text=True,
                       timeout=120)
    err = p.stderr.lower()
    if p.returncode == 2 and any(w in err for w in ("unknown", "invalid", "expected")):
        return None
    extra = ["--stats-interval", "1"]
    p = subprocess.run([binary, "--format", "ndjson"] + extra + [sample], capture_output=True,
                       text=True, timeout=120)
    return extra if p.returncode != 2 else []


def main():
    binary, src = sys.argv[1], sys.argv[2]
    doc, line_validators = load_schemas(src)
    files = [os.path.join(src, "samples", f) for f in sorted(os.listdir(os.path.join(src, "samples")))
             if f.endswith((".pcap", ".pcapng"))]
    corpus = os.path.join(src, "..", "shared", "corpus", "zeek", "traces")
    if os.path.isdir(corpus):
        files += [os.path.join(corpus, f) for f in sorted(os.listdir(corpus))
                  if f != "ldap__gap-data-missing.pcapng"]
    else:
        print(f"note: {corpus} absent; validating samples only")
    ndjson_args = ndjson_supported(binary, files[0])
    if ndjson_args is None:
        print("note: this tcpstate has no --format ndjson; NDJSON checks skipped")
    passed = failed = nd_lines = 0
    for path in files:
        p = subprocess.run([binary, path], capture_output=True, text=True, timeout=300)
        problems = []
        if p.returncode != 0:
            problems.append(f"exit {p.returncode}: {p.stderr.strip()}")
        else:
            report = json.loads(p.stdout)
            problems += check_document(doc, report)
            if ndjson_args is not None:
                q = subprocess.run([binary, "--format", "ndjson"] + ndjson_args + [path],
                                   capture_output=True, text=True, timeout=300)
                if q.returncode != 0:
                    problems.append(f"ndjson: exit {q.returncode}: {q.stderr.strip()}")
                else:
                    problems += [f"ndjson: {x}" for x in check_ndjson(line_validators, q.stdout,
                                                                      report)]
                    nd_lines += q.stdout.count("\n")
        if problems:
            failed += 1
            print(f"FAIL {os.path.basename(path)}:")
            for pr in problems[:10]:
                print("   ", pr)
        else:
            passed += 1
    if ndjson_args is not None:
        print(f"ndjson: {nd_lines} lines validated")
    print(f"schema: {passed} passed, {failed} failed")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
