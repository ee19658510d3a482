#!/usr/bin/env python3
"""Validate real reports against docs/report.schema.json.

Reports come from every capture in samples/ and, when ../shared/corpus/zeek is
present, from every corpus trace libpcap can read (a wide spread of link types,
resets, mid-stream pickups and odd flags).  Also checks invariants the schema
cannot express: connections ordered by id and first frame, ids 1..n.
usage: test_schema.py TCPSTATE_BIN SOURCE_DIR
"""
import json
import os
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("FAIL: python3 module 'jsonschema' is missing (apt-get install python3-jsonschema)")
    sys.exit(1)


def main():
    binary, src = sys.argv[1], sys.argv[2]
    with open(os.path.join(src, "docs", "report.schema.json")) as fh:
        schema = json.load(fh)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = [os.path.join(src, "samples", f) for f in sorted(os.listdir(os.path.join(src, "samples")))
             if f.endswith((".pcap", ".pcapng"))]
    corpus = os.path.join(src, "..", "shared", "corpus", "zeek", "traces")
    if os.path.isdir(corpus):
        files += [os.path.join(corpus, f) for f in sorted(os.listdir(corpus))
                  if f != "ldap__gap-data-missing.pcapng"]
    else:
        print(f"note: {corpus} absent; validating samples only")
    passed = failed = 0
    for path in files:
        p = subprocess.run([binary, path], capture_output=True, text=True, timeout=300)
        problems = []
        if p.returncode != 0:
            problems.append(f"exit {p.returncode}: {p.stderr.strip()}")
        else:
            report = json.loads(p.stdout)
            problems += [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                         for e in validator.iter_errors(report)]
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
            if st["analyzed"] != st["tcp_segments"] + st["non_tcp"] + st["decode_problems"]:
                problems.append("a frame is unaccounted for: analyzed != tcp + non_tcp + problems")
            if st["packets"] != st["analyzed"] + st["filtered"]:
                problems.append("packets != analyzed + filtered")
            segs = sum(c[s]["packets"] for c in conns for s in ("client", "server"))
            if segs != st["tcp_segments"]:
                problems.append(f"segments in records {segs} != tcp_segments {st['tcp_segments']}")
        if problems:
            failed += 1
            print(f"FAIL {os.path.basename(path)}:")
            for pr in problems[:10]:
                print("   ", pr)
        else:
            passed += 1
    print(f"schema: {passed} passed, {failed} failed")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
