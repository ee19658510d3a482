#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""--threads: reading ahead in a second thread changes nothing in the results.

For every capture in samples/ and, when ../shared/corpus/zeek is present, every corpus trace,
tcpstate --threads 1 and --threads 2 must give byte-identical output (JSON document, NDJSON
and text), the same exit status and the same stderr; also with checksums verified and with
fragments left unreassembled (the reader thread decodes). Also with a filter, with --count (the
run stops while the reader is ahead), over several files merged, on a generated capture
large enough to wrap the read-ahead ring many times, and from a pipe (read inline).

usage: test_threads.py TCPSTATE_BIN SOURCE_DIR
"""
import os
import subprocess
import sys
import tempfile

from clitest import check, finish

def run(binary, args, stdin=None):
    r = subprocess.run([binary, *args], stdin=stdin, capture_output=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def same(binary, name, args):
    one = run(binary, ["--threads", "1", *args])
    two = run(binary, ["--threads", "2", *args])
    check(f"{name} {' '.join(args[:-1])}", one == two,
          f"exit {one[0]}/{two[0]}, stdout {len(one[1])}/{len(two[1])} bytes, "
          f"stderr {one[2][:200]!r}/{two[2][:200]!r}")
    return one


def main():
    binary, src = sys.argv[1], sys.argv[2]
    samples = os.path.join(src, "samples")
    files = [os.path.join(samples, f) for f in sorted(os.listdir(samples))
             if f.endswith((".pcap", ".pcapng"))]
    corpus = os.path.join(src, "..", "shared", "corpus", "zeek", "traces")
    if os.path.isdir(corpus):
        files += [os.path.join(corpus, f) for f in sorted(os.listdir(corpus))]
    else:
        print(f"note: {corpus} absent; samples only")
    for f in files:
        name = os.path.basename(f)
        same(binary, name, ["--stuck-after", "1", f])
        same(binary, name, ["--format", "ndjson", "--stats-interval", "1", f])
        # The reader thread decodes and keeps only the headers, unless the frame is needed
        # again: checksums are verified, or fragments reassembled (or not) on this side.
        same(binary, name, ["--verify-checksums", f])
        same(binary, name, ["--no-reassembly", "--split", "zeek", f])
    for f in files[:20]:
        same(binary, os.path.basename(f), ["--format", "text", "-f", "tcp port 80", f])
        same(binary, os.path.basename(f), ["--count", "7", f])

    # Several files merged, one of them given twice.
    merged = [f for f in files if os.path.basename(f).startswith(("normal", "anomaly"))][:4]
    if merged:
        same(binary, "merged", [*merged, merged[0]])

    gen = os.path.join(os.path.dirname(binary), "bench", "tcpstate-gen")
    with tempfile.TemporaryDirectory() as tmp:
        if os.path.exists(gen):
            big = os.path.join(tmp, "big.pcap")
            subprocess.run([gen, "--seed", "5", "--connections", "6000", "--concurrency", "400",
                            "-o", big], check=True, capture_output=True)
            check("generated capture is larger than the ring (8 MiB)",
                  os.path.getsize(big) > 64 << 20, str(os.path.getsize(big)))
            for args in (["--connections", "anomalous"], ["--count", "150000"],
                         ["-f", "tcp port 443"], ["--format", "ndjson"]):
                same(binary, "big.pcap", [*args, big])
        else:
            print(f"note: {gen} not built; skipping the large capture")
        # A pipe is read inline, with any --threads.
        one = run(binary, ["--threads", "1", files[0]])
        with open(files[0], "rb") as fh:
            piped = subprocess.run(["cat"], stdin=fh, capture_output=True).stdout
        p = subprocess.run([binary, "--threads", "2", "-"], input=piped, capture_output=True,
                           timeout=60)
        check("stdin with --threads 2: exit 0", p.returncode == 0, p.stderr[:200])
        check("stdin with --threads 2: the same connections as the file",
              p.stdout.split(b'"inputs"')[0] == one[1].split(b'"inputs"')[0])
    bad = run(binary, ["--threads", "0", files[0]])
    check("--threads 0: usage error", bad[0] == 2 and b"--threads" in bad[2], bad[2][:200])
    return finish()


if __name__ == "__main__":
    sys.exit(main())
