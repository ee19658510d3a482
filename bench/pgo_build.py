#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Build tcpstate with profile-guided and link-time optimisation (docs/performance.md).

    python3 bench/pgo_build.py BUILD_DIR [-- CMAKE_ARGS...]

Two passes over one build directory, so that each object's profile (.gcda, written beside
it) is where the second pass looks for it: (1) configure with TCPSTATE_PGO=generate and
build tcpstate with counters; (2) train it on generated traffic of both benchmark shapes and
on the bundled samples, in the modes users run; (3) reconfigure with TCPSTATE_PGO=use and
build everything. Default build type: Release. Rerun it after changing the sources.
"""
import glob
import os
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, quiet=False):
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL if quiet else None,
                       stderr=subprocess.PIPE if quiet else None, check=False)
    if r.returncode != 0:  # no --fail-on or --policy in the training: 0 is the only success
        err = r.stderr.decode(errors="replace").strip() if quiet else ""
        sys.exit("pgo_build: %s: exit %d%s" % (" ".join(cmd), r.returncode,
                                              (": " + err) if err else ""))


def profiles(build):
    """The .gcda files the instrumented objects write beside themselves."""
    return glob.glob(os.path.join(build, "CMakeFiles", "**", "*.gcda"), recursive=True)


def train(build):
    tcpstate = os.path.join(build, "tcpstate")
    gen = os.path.join(build, "bench", "tcpstate-gen")
    work = os.path.join(build, "pgo-train")
    os.makedirs(work, exist_ok=True)
    out = os.path.join(work, "report.out")
    caps = []
    # Interleaved connections as in the benchmark (a few seconds with counters).
    for shape, conns in (("headers", 20000), ("full", 2000)):
        path = os.path.join(work, shape + ".pcap")
        run([gen, "--seed", "11", "--connections", str(conns), "--concurrency", "1000",
             "--shape", shape, "-o", path], quiet=True)
        caps.append(path)
    for cap in caps:
        for extra in ([], ["--threads", "1"], ["--connections", "anomalous"],
                      ["--connections", "none"], ["--threads", "1", "--connections", "none"]):
            run([tcpstate, *extra, "-o", out, cap], quiet=True)
    # Real stacks' captures, every anomaly kind, the other output formats.
    for s in sorted(glob.glob(os.path.join(SRC, "samples", "*.pcap*"))):
        for extra in ([], ["--format", "text"], ["--format", "ndjson", "--split", "zeek"],
                      ["--verify-checksums", "--pretty"]):
            run([tcpstate, *extra, "-o", out, s], quiet=True)
    for f in caps + [out]:
        os.unlink(f)


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit("usage: pgo_build.py BUILD_DIR [-- CMAKE_ARGS...]")
    build, extra = os.path.abspath(args[0]), args[1:]
    if extra and extra[0] == "--":
        extra = extra[1:]
    if not any(a.startswith("-DCMAKE_BUILD_TYPE=") for a in extra):
        extra = ["-DCMAKE_BUILD_TYPE=Release"] + extra
    jobs = "-j%d" % (os.cpu_count() or 1)

    run(["cmake", "-S", SRC, "-B", build, "-DTCPSTATE_PGO=generate", *extra])
    run(["cmake", "--build", build, jobs, "--target", "tcpstate", "tcpstate-gen"])
    # Counters add up over runs: start from none, so the profile is this build's alone.
    for old in profiles(build):
        os.unlink(old)
    print("pgo_build: training", flush=True)
    train(build)
    written = len(profiles(build))
    if not written:
        sys.exit("pgo_build: the training wrote no profile under %s" % build)
    print("pgo_build: %d profiles" % written, flush=True)
    run(["cmake", "-S", SRC, "-B", build, "-DTCPSTATE_PGO=use", *extra])
    run(["cmake", "--build", build, jobs])


if __name__ == "__main__":
    main()
