#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""same_output.py - two tcpstate binaries, every input, every mode: the same bytes out.

Runs a reference binary and a candidate over every sample, every Zeek corpus trace (when
../shared is there), a generated capture that makes records wait and spill, the damaged
captures of tests/robust/make_broken.py, several files merged, standard input, and usage
errors, each in every output mode (JSON, pretty, text, NDJSON, --split zeek, --connections,
--verify-checksums, threads, policies, JUnit, -w, tunnel and table options). For each run it
compares the exit status, standard output, standard error and every file the run wrote.
Paths are the same for both binaries, so messages that name files compare equal.

Used for behaviour-preserving changes (a restructure, the optimised build, a fast path): the
reference is the build before the change, or the default build.

Usage: same_output.py REFERENCE CANDIDATE SOURCE_DIR [--quick] [--jobs N]
Exit 0 when every run matches, 1 with the first differences listed.
"""

import concurrent.futures
import glob
import os
import shutil
import subprocess
import sys
import tempfile

POLICY = """{"description": "same_output",
 "rules": [
  {"name": "clients close cleanly", "scope": {"server_port": [80, 8080, 443]},
   "final_state": {"client": ["CLOSED", "TIME_WAIT"]}},
  {"name": "nothing refused", "scope": {"server": "198.18.0.0/15"},
   "forbid": ["connection_rejected"]},
  {"name": "few retransmissions", "max": {"retransmission": 2}},
  {"name": "handshakes finish", "handshake_complete": true},
  {"name": "web tier", "scope": {"server_port": [80, 443]},
   "allow": ["keepalive", "retransmission"]}
 ]}
"""

# Each mode: options, and whether it writes side files ({out}, {junit}, {pcap} are filled in).
MODES = [
    [],
    ["--pretty"],
    ["--format", "text"],
    ["--format", "ndjson", "--stats-interval", "0.5"],
    ["--split", "zeek"],
    ["--split", "zeek", "--format", "ndjson"],
    ["--connections", "anomalous"],
    ["--connections", "none", "--pretty"],
    ["--verify-checksums", "--format", "text"],
    ["--threads", "1"],
    ["--threads", "2", "--connections", "anomalous"],
    ["--stuck-after", "0.5", "--format", "ndjson", "--stats-interval", "0"],
    ["--stuck-after", "close_wait=1,syn_sent=1,zero_window=1", "--time-wait", "1"],
    ["--fail-on", "severity>=warning,retransmission>=2", "--junit", "{junit}", "-o", "{out}"],
    ["--policy", "{policy}", "--format", "text", "--junit", "{junit}"],
    ["--policy", "{policy}", "--fail-on", "close_wait_stuck", "-o", "{out}", "--pretty"],
    ["--no-tunnels", "--ignore-encap-key"],
    ["--no-reassembly", "--connections", "anomalous"],
    ["--max-connections", "3", "--timeout-closed", "0.1", "--timeout-handshake", "1"],
    ["--memory", "0", "--timeout-active", "2"],
    ["-w", "{pcap}", "-o", "{out}"],
    ["--duration", "1.5", "-c", "40"],
    ["--vxlan-port", "0", "--geneve-port", "4789", "--format", "text"],
    ["-f", "tcp port 80 or tcp port 8080", "--format", "ndjson"],
]
QUICK_MODES = [MODES[0], MODES[2], MODES[5], MODES[13], MODES[20]]

# Runs that are not one input in one mode.
EXTRA = [
    ["--help"],
    ["--version"],
    [],
    ["--bogus"],
    ["--format", "yaml", "x.pcap"],
    ["--stuck-after", "nonsense=1", "x.pcap"],
    ["--memory", "1", "x.pcap"],
    ["--max-connections", "0", "x.pcap"],
    ["-Z", "nobody", "x.pcap"],
    ["-w", "-", "x.pcap"],
    ["-o"],
    ["/nonexistent/file.pcap"],
]


def gen_capture(source_dir, work):
    """A capture whose first connection outlives thousands of others: records wait and spill."""
    gens = glob.glob(os.path.join(source_dir, "build*/bench/tcpstate-gen"))
    if not gens:
        return []
    out = os.path.join(work, "gen.pcap")
    subprocess.run([gens[0], "--seed", "7", "--connections", "20000", "--concurrency", "200",
                    "--shape", "headers", "-o", out], check=True, stdout=subprocess.DEVNULL)
    return [out]


def broken_captures(source_dir, work):
    script = os.path.join(source_dir, "tests/robust/make_broken.py")
    if not os.path.exists(script):
        return []
    d = os.path.join(work, "broken")
    os.makedirs(d)
    subprocess.run([sys.executable, script, d], check=True, stdout=subprocess.DEVNULL)
    return sorted(glob.glob(os.path.join(d, "*")))


def run_one(binary, args, cwd, stdin_path):
    """Run in a fresh directory; return (status, stdout, stderr, {file: bytes})."""
    shutil.rmtree(cwd, ignore_errors=True)
    os.makedirs(cwd)
    with open(os.path.join(cwd, "policy.json"), "w") as f:
        f.write(POLICY)
    subst = {"{out}": "report.out", "{junit}": "junit.xml", "{pcap}": "saved.pcap",
             "{policy}": "policy.json"}
    argv = [binary] + [subst.get(a, a) for a in args]
    env = dict(os.environ, TMPDIR=cwd, NO_COLOR="1")
    env.pop("GITHUB_ACTIONS", None)
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, stdin=stdin, capture_output=True,
                           timeout=600)
    finally:
        if stdin_path:
            stdin.close()
    files = {}
    for name in sorted(os.listdir(cwd)):
        if name != "policy.json":
            with open(os.path.join(cwd, name), "rb") as f:
                files[name] = f.read()
    return p.returncode, p.stdout, p.stderr, files


def compare(ref, cand, args, work, key, stdin_path=None):
    a = run_one(ref, args, os.path.join(work, key, "ref"), stdin_path)
    b = run_one(cand, args, os.path.join(work, key, "cand"), stdin_path)
    shutil.rmtree(os.path.join(work, key), ignore_errors=True)
    what = []
    if a[0] != b[0]:
        what.append("exit %d vs %d" % (a[0], b[0]))
    if a[1] != b[1]:
        what.append("stdout (%d vs %d bytes)" % (len(a[1]), len(b[1])))
    if a[2] != b[2]:
        what.append("stderr: %r vs %r" % (a[2][:200], b[2][:200]))
    if a[3].keys() != b[3].keys():
        what.append("files %s vs %s" % (sorted(a[3]), sorted(b[3])))
    else:
        for name in a[3]:
            if a[3][name] != b[3][name]:
                what.append("file %s differs" % name)
    return what


def main():
    argv = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    jobs = 2
    if "--jobs" in sys.argv:
        jobs = int(sys.argv[sys.argv.index("--jobs") + 1])
        argv = [a for a in argv if a != str(jobs)]
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ref, cand, src = (os.path.abspath(a) for a in argv)
    samples = sorted(glob.glob(os.path.join(src, "samples/*.pcap*")))
    corpus = sorted(glob.glob(os.path.join(src, "../shared/corpus/zeek/traces/*")))
    if not corpus:
        print("same_output: ../shared/corpus/zeek absent: samples only")
    work = tempfile.mkdtemp(prefix="tcpstate-same-")
    try:
        inputs = samples + corpus + gen_capture(src, work)
        broken = broken_captures(src, work)
        modes = QUICK_MODES if quick else MODES
        jobs_list = []
        for i, f in enumerate(inputs):
            for m, mode in enumerate(modes):
                jobs_list.append((mode + [f], "i%d-m%d" % (i, m), None))
        for i, f in enumerate(broken):
            for m, mode in enumerate(modes[:3] if not quick else modes[:1]):
                jobs_list.append((mode + [f], "b%d-m%d" % (i, m), None))
        # Several files merged, standard input, and what the command line refuses.
        jobs_list.append((list(samples), "merged", None))
        jobs_list.append((["--format", "text"] + samples[:5], "merged-text", None))
        jobs_list.append((["-"], "stdin", samples[0]))
        jobs_list.append((["--format", "ndjson", "-"], "stdin-nd", samples[-1]))
        for k, extra in enumerate(EXTRA):
            jobs_list.append((extra, "x%d" % k, None))
        failures = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            futs = {ex.submit(compare, ref, cand, args, work, key, sin): args
                    for args, key, sin in jobs_list}
            for fut in concurrent.futures.as_completed(futs):
                what = fut.result()
                if what:
                    failures.append((futs[fut], what))
        for args, what in sorted(failures)[:20]:
            print("DIFFERENT: tcpstate %s\n    %s" % (" ".join(args), "\n    ".join(what)))
        print("same_output: %d runs, %d different" % (len(jobs_list), len(failures)))
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
