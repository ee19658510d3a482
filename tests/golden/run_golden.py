#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Golden and kernel-oracle tests over samples/.

For every samples/<name>.pcap:
  1. the report must equal tests/golden/<name>.json (after canonical dumping);
  2. if samples/<name>.kernel.json exists (the kernel's own `ss -tan` view at
     the moment the capture ended), every endpoint's final state in the report
     must equal the kernel's state for that socket; an endpoint with no socket
     left in the kernel must be CLOSED (or LISTEN, a listener, not a socket).

usage: run_golden.py TCPSTATE_BIN SOURCE_DIR [--update]
--update rewrites the golden files and prints what changed; CI never uses it.
"""
import difflib
import json
import os
import subprocess
import sys

SS_TO_RFC = {
    "ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECEIVED",
    "FIN-WAIT-1": "FIN_WAIT_1", "FIN-WAIT-2": "FIN_WAIT_2", "TIME-WAIT": "TIME_WAIT",
    "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING",
    "CLOSED": "CLOSED", "LISTEN": "LISTEN", "UNCONN": "CLOSED",
}


SEVERITY = {"info": 0, "warning": 1, "error": 2}


def run(binary, src, pcap, args=()):
    rel = os.path.relpath(pcap, src)
    p = subprocess.run([binary] + list(args) + [rel], cwd=src, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"{rel}: exit {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def canon(report):
    return json.dumps(report, indent=1, sort_keys=True) + "\n"


def anomaly_check(report, exp):
    """Expected findings exist, forbidden ones do not; clean connections raise nothing above
    info."""
    problems = []
    conns = report["connections"]
    for port, typ, who in exp.get("expect", []):
        if not any(c["server"]["port"] == port and
                   any(a["type"] == typ and a["endpoint"] == who for a in c["anomalies"])
                   for c in conns):
            problems.append(f"expected {typ} ({who}) on a connection to port {port}")
    for port, typ, who in exp.get("forbid", []):
        for c in conns:
            if c["server"]["port"] == port and any(a["type"] == typ and a["endpoint"] == who
                                                   for a in c["anomalies"]):
                problems.append(f"connection {c['id']} to port {port} must not raise {typ} ({who})")
    limits = {int(k): v for k, v in exp.get("max_severity", {}).items()}
    for port in exp.get("clean_ports", []):
        limits.setdefault(port, "info")
    for c in conns:
        lim = limits.get(c["server"]["port"])
        if lim is None:
            continue
        for a in c["anomalies"]:
            if SEVERITY[a["severity"]] > SEVERITY[lim]:
                problems.append(f"connection {c['id']} to port {c['server']['port']} should "
                                f"raise nothing above {lim}, raised {a['type']} ({a['severity']})")
    for key, addr in exp.get("summary", {}).items():
        hits = report["summary"]["capture"][key]
        if not any(h.get("server", h.get("host")) == addr for h in hits):
            problems.append(f"summary.capture.{key} lacks {addr}")
    return problems


def kernel_check(report, kernel, skip_ports=()):
    """Returns (agreeing, total, problems)."""
    sockets = {}
    for s in kernel:
        if s["state"] == "LISTEN":
            continue
        key = (s["local_addr"], s["local_port"], s["peer_addr"], s["peer_port"])
        sockets[key] = SS_TO_RFC[s["state"]]
    agree, total, problems = 0, 0, []
    seen = set()
    # Only the last record of a 4-tuple is what the kernel can still show.
    last = {}
    for c in report["connections"]:
        t = tuple(sorted([(c["client"]["addr"], c["client"]["port"]),
                          (c["server"]["addr"], c["server"]["port"])]))
        last[t] = c
    for c in last.values():
        if c["server"]["port"] in skip_ports:
            continue
        for me, peer in (("client", "server"), ("server", "client")):
            e, p = c[me], c[peer]
            key = (e["addr"], e["port"], p["addr"], p["port"])
            total += 1
            want = sockets.get(key)
            ok = (e["state"] == want) if want else e["state"] in ("CLOSED", "LISTEN")
            seen.add(key)
            if ok:
                agree += 1
            else:
                problems.append(f"conn {c['id']} {me} {e['addr']}:{e['port']}: "
                                f"ours {e['state']}, kernel {want or 'no socket (CLOSED)'}")
    for key, st in sockets.items():
        if key not in seen:
            total += 1
            problems.append(f"kernel socket {key} in {st} has no connection in the report")
    return agree, total, problems


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    update = "--update" in sys.argv[3:]
    samples = os.path.join(src, "samples")
    golden_dir = os.path.join(src, "tests", "golden")
    # tunnel-* samples come in outer/inner pairs and are checked by tests/cli/test_tunnels.py.
    pcaps = sorted(f for f in os.listdir(samples)
                   if f.endswith((".pcap", ".pcapng")) and not f.startswith("tunnel-"))
    if not pcaps:
        print("no samples found")
        return 1
    with open(os.path.join(golden_dir, "expectations.json")) as fh:
        expectations = json.load(fh)
    passed = failed = 0
    k_agree = k_total = 0
    for f in pcaps:
        name = f.rsplit(".", 1)[0]
        path = os.path.join(samples, f)
        exp = expectations.get(name, {})
        try:
            report = run(binary, src, path, exp.get("args", []))
        except Exception as exc:  # report the sample and go on
            print(f"FAIL {name}: {exc}")
            failed += 1
            continue
        text = canon(report)
        gpath = os.path.join(golden_dir, name + ".json")
        ok = True
        if update:
            old = open(gpath).read() if os.path.exists(gpath) else ""
            if old != text:
                sys.stdout.writelines(difflib.unified_diff(
                    old.splitlines(True), text.splitlines(True), gpath, gpath + " (new)"))
                with open(gpath, "w") as fh:
                    fh.write(text)
        elif not os.path.exists(gpath):
            print(f"FAIL {name}: no golden file {os.path.relpath(gpath, src)}")
            ok = False
        else:
            want = open(gpath).read()
            if want != text:
                diff = list(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                                 "golden", "actual", n=2))
                print(f"FAIL {name}: report differs from golden file:")
                sys.stdout.writelines(diff[:80])
                ok = False
        for p in anomaly_check(report, exp):
            print(f"FAIL {name}: {p}")
            ok = False
        if not exp:
            print(f"FAIL {name}: no entry in tests/golden/expectations.json")
            ok = False
        kpath = os.path.join(samples, name + ".kernel.json")
        if os.path.exists(kpath):
            with open(kpath) as fh:
                a, t, problems = kernel_check(report, json.load(fh),
                                              exp.get("kernel_skip_ports", ()))
            k_agree += a
            k_total += t
            for p in problems:
                print(f"FAIL {name}: kernel disagrees: {p}")
            ok = ok and not problems
            print(f"{'ok  ' if ok else 'FAIL'} {name}: kernel states {a}/{t} agree")
        else:
            print(f"{'ok  ' if ok else 'FAIL'} {name}")
        passed += ok
        failed += not ok
    print(f"kernel agreement: {k_agree}/{k_total} endpoint states")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
