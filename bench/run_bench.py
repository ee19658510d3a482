#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""run_bench.py - compare tcpstate with the bare libpcap read loop on generated captures.

Usage: run_bench.py [options] BUILD_DIR

Takes an existing build directory (it builds nothing): BUILD_DIR/tcpstate and
tcpstate-gen / tcpstate-floor from BUILD_DIR/bench (or BUILD_DIR).  Generates two captures of
the same traffic in a temporary directory, one with full payloads and one cut to 96 bytes per
packet (`--shape headers`), then for each runs, alternating, several times:

  floor              tcpstate-floor FILE           libpcap read loop only
  floor --parse      tcpstate-floor --parse FILE   + Ethernet/IP/TCP parsing, 4-tuple hash
  tcpstate none      tcpstate --connections none   analysis, counts only
  tcpstate none 1T   ... --threads 1               the same, reading inline (one thread)
  tcpstate anomalous tcpstate --connections anomalous
  tcpstate full      tcpstate -o OUT               the full report
  tcpstate full 1T   ... --threads 1

(each run after a sync(), so that no background writeback of the generated capture or of an
earlier report lands in it) and prints the medians: wall seconds, packets/s, input MB/s, CPU
seconds, peak RSS (from wait4's rusage of each child), report MB/s, and the ratio to both
floors.  See docs/performance.md.  Options (defaults can also come from the environment: BENCH_CONNECTIONS,
BENCH_CONCURRENCY, BENCH_RUNS, BENCH_SEED):

  --connections N   connections per capture (default 70000: about 2.1 M packets)
  --concurrency N   connections open at once (default 1000)
  --runs N          timed runs per command (default 5)
  --seed N          generator seed (default 1)
  --shapes LIST     full,headers (default both)
  --quick           about 200 k packets, 3 runs (under a minute)
  --smoke           tiny capture, 1 run, and check every command's output (for ctest)
  --tmpdir DIR      where the captures go (default $TMPDIR or /tmp; full needs ~1.6 GB)
  --keep            keep the captures and reports
  --json FILE       also write the results as JSON
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MB = 1e6


def find_tool(build, name):
    for d in (os.path.join(build, "bench"), build):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    sys.exit("run_bench: %s not found in %s or %s/bench (build the '%s' target)"
             % (name, build, build, name))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def timed(cmd, stdout_path, stderr_path):
    """Run cmd; return (wall seconds, cpu seconds, peak RSS bytes, exit status).

    Peak RSS comes from /usr/bin/time (%M): a child forked from this Python process starts
    with Python's resident pages counted in its own ru_maxrss, /usr/bin/time's child does not.
    Without /usr/bin/time, wait4's ru_maxrss is used (an overestimate for small programs).
    CPU seconds come from wait4, which includes /usr/bin/time's waited-for child."""
    rss_path = stderr_path + ".rss"
    full = [TIME, "-f", "%M", "-o", rss_path] + cmd if TIME else cmd
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        t1 = time.perf_counter()
    p.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
    rss = ru.ru_maxrss * 1024
    if TIME:
        try:
            with open(rss_path) as f:
                rss = int(f.read().strip().splitlines()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    return t1 - t0, ru.ru_utime + ru.ru_stime, rss, p.returncode


def generate(gen, args, path):
    t0 = time.perf_counter()
    p = subprocess.run([gen] + args + ["-o", path], stderr=subprocess.PIPE)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("run_bench: tcpstate-gen failed: %s" % p.stderr.decode())
    line = p.stderr.decode().strip().splitlines()[-1]
    info = {k: float(v) if "." in v else int(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}
    info["gen_seconds"] = secs
    return info


def fmt_rate(x):
    return "%.2fM" % (x / 1e6) if x >= 1e5 else "%.0fk" % (x / 1e3)


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(description="tcpstate vs the libpcap floor",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("build")
    ap.add_argument("--connections", type=int, default=int(env("BENCH_CONNECTIONS", 70000)))
    ap.add_argument("--concurrency", type=int, default=int(env("BENCH_CONCURRENCY", 1000)))
    ap.add_argument("--runs", type=int, default=int(env("BENCH_RUNS", 5)))
    ap.add_argument("--seed", type=int, default=int(env("BENCH_SEED", 1)))
    ap.add_argument("--shapes", default="full,headers")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--tmpdir", default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json", default=None)
    o = ap.parse_args()
    if o.quick:
        o.connections, o.runs = min(o.connections, 7000), min(o.runs, 3)
    if o.smoke:
        o.connections, o.runs, o.concurrency = 1000, 1, min(o.concurrency, 200)
    shapes = [s for s in o.shapes.split(",") if s]
    if not shapes or any(s not in ("full", "headers") for s in shapes) or o.runs < 1:
        ap.error("bad --shapes or --runs")

    tcpstate = os.path.join(o.build, "tcpstate")
    if not os.access(tcpstate, os.X_OK):
        sys.exit("run_bench: %s not found" % tcpstate)
    gen = find_tool(o.build, "tcpstate-gen")
    floor = find_tool(o.build, "tcpstate-floor")
    version = subprocess.run([tcpstate, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT).stdout.decode().strip()

    tmp = tempfile.mkdtemp(prefix="tcpstate-bench.", dir=o.tmpdir)
    results = {"machine": {"nproc": os.cpu_count(), "cpu": cpu_model(),
                           "kernel": platform.release()},
               "tcpstate": version, "connections": o.connections, "concurrency": o.concurrency,
               "runs": o.runs, "seed": o.seed, "shapes": {}}
    print("machine: %d CPUs, %s, Linux %s" % (os.cpu_count(), cpu_model(), platform.release()))
    print("tcpstate: %s (%s)" % (version, tcpstate))
    failed = False
    try:
        for shape in shapes:
            pcap = os.path.join(tmp, shape + ".pcap")
            info = generate(gen, ["--seed", str(o.seed), "--connections", str(o.connections),
                                  "--concurrency", str(o.concurrency), "--shape", shape], pcap)
            size = os.path.getsize(pcap)
            print("\n%s: %d packets, %d connections, %.1f MB file (%.0f B/packet on the wire), "
                  "generated in %.2f s (%s packets/s)"
                  % (shape, info["packets"], info["connections"], size / MB,
                     info["bytes"] / info["packets"], info["gen_seconds"],
                     fmt_rate(info["packets"] / info["gen_seconds"])))
            out = os.path.join(tmp, "report.json")
            cmds = [
                ("floor", [floor, pcap], None),
                ("floor --parse", [floor, "--parse", pcap], None),
                ("tcpstate none", [tcpstate, "--connections", "none", "-o", out, pcap], out),
                ("tcpstate none 1T",
                 [tcpstate, "--threads", "1", "--connections", "none", "-o", out, pcap], out),
                ("tcpstate anomalous", [tcpstate, "--connections", "anomalous", "-o", out, pcap],
                 out),
                ("tcpstate full", [tcpstate, "-o", out, pcap], out),
                ("tcpstate full 1T", [tcpstate, "--threads", "1", "-o", out, pcap], out),
            ]
            # The capture was just written: its dirty pages (1.5 GB) would otherwise go to disk
            # 30 s later, in the middle of whichever runs are timed then.
            os.sync()
            timed([floor, pcap], os.devnull, os.devnull)  # warm the page cache
            samples = {name: [] for name, _, _ in cmds}
            for _ in range(o.runs):
                for name, cmd, report in cmds:
                    if report and os.path.exists(report):
                        os.unlink(report)
                    os.sync()  # nothing left for background writeback: each run starts quiet
                    so, se = os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr")
                    wall, cpu, rss, rc = timed(cmd, so, se)
                    if rc != 0:
                        with open(se) as f:
                            sys.exit("run_bench: %s exited %d: %s" % (" ".join(cmd), rc, f.read()))
                    out_bytes = os.path.getsize(report) if report else 0
                    if name.startswith("floor"):
                        with open(so) as f:
                            got = dict(re.findall(r"(\w+)=(\S+)", f.read()))
                        if int(got.get("packets", -1)) != info["packets"]:
                            failed = True
                            print("run_bench: %s read %s packets, expected %d"
                                  % (name, got.get("packets"), info["packets"]))
                    elif o.smoke:
                        with open(report) as f:
                            st = json.load(f)["stats"]
                        if st["packets"] != info["packets"] or \
                                st["connections"] != info["connections"]:
                            failed = True
                            print("run_bench: %s: %s packets / %s connections, expected %d / %d"
                                  % (name, st["packets"], st["connections"], info["packets"],
                                     info["connections"]))
                    samples[name].append((wall, cpu, rss, out_bytes))
            rows = {}
            for name, _, _ in cmds:
                s = samples[name]
                wall = statistics.median(x[0] for x in s)
                rows[name] = {
                    "wall_s": wall,
                    "wall_min_s": min(x[0] for x in s),
                    "cpu_s": statistics.median(x[1] for x in s),
                    "packets_per_s": info["packets"] / wall,
                    "input_mb_per_s": size / MB / wall,
                    "peak_rss_mb": max(x[2] for x in s) / MB,
                    "output_mb": statistics.median(x[3] for x in s) / MB,
                    "output_mb_per_s": statistics.median(x[3] for x in s) / MB / wall,
                }
            f0, f1 = rows["floor"]["wall_s"], rows["floor --parse"]["wall_s"]
            print("| %-18s | %8s | %8s | %9s | %8s | %6s | %7s | %9s | %7s | %7s |"
                  % ("command", "median s", "min s", "packets/s", "in MB/s", "CPU s",
                     "RSS MB", "out MB/s", "x floor", "x parse"))
            print("|%s|" % "|".join("-" * w for w in (20, 10, 10, 11, 10, 8, 9, 11, 9, 9)))
            for name, r in rows.items():
                r["x_floor"], r["x_floor_parse"] = r["wall_s"] / f0, r["wall_s"] / f1
                print("| %-18s | %8.3f | %8.3f | %9s | %8.0f | %6.2f | %7.1f | %9s | %7.1f | %7.1f |"
                      % (name, r["wall_s"], r["wall_min_s"], fmt_rate(r["packets_per_s"]),
                         r["input_mb_per_s"], r["cpu_s"], r["peak_rss_mb"],
                         "%.0f" % r["output_mb_per_s"] if r["output_mb"] else "-",
                         r["x_floor"], r["x_floor_parse"]))
            results["shapes"][shape] = {"capture": dict(info, file_bytes=size), "results": rows}
    finally:
        if o.keep:
            print("\nkept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if o.json:
        with open(o.json, "w") as f:
            json.dump(results, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
