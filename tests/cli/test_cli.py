#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end behaviour of the tcpstate command: exit codes, error lines,
atomic output, filters, several files, stdin, signals.

usage: test_cli.py TCPSTATE_BIN SOURCE_DIR
"""
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time

from clitest import check, finish, read_all

BIN = SRC = None


def run(args, **kw):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=120, **kw)


def sample(name):
    return os.path.join(SRC, "samples", name)


def read_pcap(path):
    with open(path, "rb") as fh:
        data = fh.read()
    hdr, off, recs = data[:24], 24, []
    while off < len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    return hdr, recs


def one_line_error(p, *words):
    lines = p.stderr.strip().splitlines()
    return (p.returncode == 2 and len(lines) == 1 and lines[0].startswith("tcpstate: ")
            and all(w in lines[0] for w in words) and p.stdout == "")


def main():
    global BIN, SRC
    BIN, SRC = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="tcpstate-cli-")

    p = run(["--help"])
    check("help exits 0 and documents options", p.returncode == 0 and "--filter" in p.stdout
          and "Exit status" in p.stdout)
    p = run(["--version"])
    lines = p.stdout.splitlines()
    check("version: tcpstate's, then libpcap's, jansson's and zlib's", p.returncode == 0 and
          len(lines) == 4 and re.match(r"tcpstate \d+\.\d+\.\d+$", lines[0]) and
          lines[1].startswith("libpcap version ") and re.match(r"jansson \d+\.\d+", lines[2]) and
          re.match(r"zlib \d+\.\d+", lines[3]), p.stdout)
    # `tcpstate ... | head`: the reader leaves; tcpstate dies of SIGPIPE quietly, as Unix
    # filters do (a shell shows 141), whatever the format, also when a rule fails.
    for args in (["--pretty"], ["--format", "ndjson"], ["--format", "text"],
                 ["--fail-on", "connection_rejected"], ["-w", "-", "-o", os.devnull]):
        q = subprocess.Popen([BIN, *args, sample("all-in-one.pcap")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        q.stdout.close()  # before tcpstate writes anything
        err = q.stderr.read()
        q.wait(60)
        check(f"a closed pipe ({' '.join(args)}): killed by SIGPIPE, nothing on stderr",
              q.returncode == -signal.SIGPIPE and err == b"", (q.returncode, err))
    # --pretty indents the whole document as json.dumps(indent=2) does, top level included
    # (numbers may be spelled differently: 1.4e-5 for 1.4e-05).
    for args in ([], ["--connections", "none"]):
        p = run(["--pretty", *args, sample("all-in-one.pcap")])
        doc = json.loads(p.stdout)
        mine, py = p.stdout.splitlines(), json.dumps(doc, indent=2).splitlines()
        indent = lambda line: len(line) - len(line.lstrip(" "))  # noqa: E731
        check(f"--pretty {' '.join(args)}: indented as json.dumps(indent=2), top level too",
              len(mine) == len(py) and all(indent(a) == indent(b) for a, b in zip(mine, py))
              and mine[1] == '  "tcpstate_version": "' + doc["tcpstate_version"] + '",',
              mine[:3])
    # The catalogue for people and programs.
    schema = json.load(open(os.path.join(SRC, "docs", "report.schema.json")))
    ids = schema["$defs"]["anomaly_type"]["enum"] if "$defs" in schema else None
    p = run(["--list-anomalies"])
    rows = [line.split()[0] for line in p.stdout.splitlines()[1:]]
    check("--list-anomalies: a line per type, in catalogue order",
          p.returncode == 0 and p.stdout.startswith("ID ") and (ids is None or rows == ids)
          and len(rows) >= 36, rows[:5])
    p = run(["--list-anomalies", "--format", "json"])
    cat = json.loads(p.stdout)
    check("--list-anomalies --format json: id, severity, summary, evidence, causes, facts",
          [c["id"] for c in cat] == rows and all(c["summary"] and c["causes"] and c["evidence"]
                                                 for c in cat)
          and next(c for c in cat if c["id"] == "close_wait_stuck")["facts"] ==
          ["duration", "bytes_after_peer_fin"], cat[:1])
    p = run(["--explain", "close_wait_stuck"])
    check("--explain ID", p.returncode == 0 and p.stdout.startswith("close_wait_stuck (error")
          and "causes" in p.stdout and "close()" in p.stdout, p.stdout)
    p = run(["--explain", "close_wiat_stuck"])
    check("--explain a mistyped id: did you mean", one_line_error(p, "did you mean 'close_wait_stuck'?"),
          p.stderr)
    p = run(["--fromat", "text", sample("refused.pcap")])
    check("a mistyped option: did you mean", one_line_error(p, "did you mean '--format'?"), p.stderr)
    # The text table: singular counts, long IPv6 pairs on a line of their own so the state
    # columns stay under their headers, FIRST-LAST says what the time measures.
    p = run(["--format", "text", sample("refused.pcap")])
    check("text: '1 connection', not '1 connections'",
          "\n1 connection (0 open at end)" in p.stdout and "connections" not in p.stdout, p.stdout)
    check("text: the header says FIRST-LAST", "FIRST-LAST" in p.stdout.splitlines()[0])
    scratch = tempfile.mkdtemp(prefix="tcpstate-cli-scratch-")
    gen = os.path.join(os.path.dirname(os.path.abspath(BIN)), "bench", "tcpstate-gen")
    if os.path.exists(gen):
        tmpcap = os.path.join(scratch, "gen.pcap")
        subprocess.run([gen, "--seed", "5", "--connections", "200", "--ipv6-share", "60", "-o",
                        tmpcap], check=True, capture_output=True)
        lines = run(["--format", "text", tmpcap]).stdout.split("\n\n")[0].splitlines()[1:]
        states = {"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
                  "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"}
        rows = [ln for ln in lines if len(ln) > 70]
        own = [ln for ln in lines if len(ln) <= 70 and "[" in ln]
        check(f"text: states stay in their columns ({len(rows)} rows, {len(own)} pairs on "
              "their own line)", own and all(ln[58:69].strip() in states and ln[71:82].strip()
                                             in states for ln in rows), rows[:3])
    # On a terminal the text table's verdict is not repeated on stderr.
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(BIN, [BIN, "--format", "text", "--fail-on", "connection_rejected",
                       sample("refused.pcap")])
    data = read_all(fd)
    _, wst = os.waitpid(pid, 0)
    check("text on a terminal: the verdict once", data.count(b"verdict: FAIL") == 1 and
          os.waitstatus_to_exitcode(wst) == 1, data.decode(errors="replace")[-400:])
    p = run(["--format", "text", "--fail-on", "connection_rejected", sample("refused.pcap")])
    check("text to a pipe: the verdict on stderr too", "verdict: FAIL" in p.stdout and
          "verdict: FAIL" in p.stderr and p.returncode == 1)
    # A long offline run on a terminal shows its progress on stderr, rewritten in place and
    # cleared at the end; -q shows none.  The capture comes slowly through a pipe, so the
    # run lasts past the second after which the line appears.
    if os.path.exists(gen):
        big = os.path.join(scratch, "progress.pcap")
        subprocess.run([gen, "--seed", "9", "--connections", "3000", "-o", big], check=True,
                       capture_output=True)
        data = open(big, "rb").read()
        for quiet in (False, True):
            rd, wr = os.pipe()
            pid, fd = pty.fork()
            if pid == 0:
                os.dup2(rd, 0)
                os.close(wr)
                os.execv(BIN, [BIN, *(["-q"] if quiet else []), "-o", os.devnull, "-"])
            os.close(rd)
            step = len(data) // 30
            for i in range(0, len(data), step):
                os.write(wr, data[i:i + step])
                time.sleep(0.07)
            os.close(wr)
            out = read_all(fd)
            _, wst = os.waitpid(pid, 0)
            lines = [x for x in out.split(b"\r") if x.startswith(b"tcpstate: ")]
            if quiet:
                check("-q: no progress line", os.waitstatus_to_exitcode(wst) == 0 and not lines, out[-300:])
            else:
                check("progress on a terminal: bytes read, packets/s, connections; cleared at the end",
                      os.waitstatus_to_exitcode(wst) == 0 and lines and
                      re.match(rb"tcpstate: [\d.]+ [kMG]?B read, [\d.]+[kM]? packets \([\d.]+[kM]?/s\), "
                               rb"[\d.]+[kM]? connections\x1b\[K$", lines[-1]) and
                      out.rstrip(b"\n").endswith(b"\r\x1b[K"), out[-300:])

    # A lone RST opens nothing: CLOSED/CLOSED, and not open at the end in record or stats.
    sys.path.insert(0, os.path.join(SRC, "samples"))
    from crafted_lib import crafted
    cap = crafted.Capture()
    crafted.Conn(cap, 1).c("R", seq=12345)
    lone = os.path.join(scratch, "lone-rst.pcap")
    cap.write(lone)
    doc = json.loads(run([lone]).stdout)
    rec = doc["connections"][0]
    check("a lone RST: CLOSED/CLOSED, not open at the end, stats agree",
          (rec["client"]["state"], rec["server"]["state"], rec["open_at_end"],
           doc["stats"]["open_at_end"]) == ("CLOSED", "CLOSED", False, 0), rec)
    # The same file twice (by another name too) is refused; an unwritable --junit fails
    # before the analysis, not after it.
    p = run([sample("refused.pcap"), os.path.join(SRC, "samples", "..", "samples", "refused.pcap")])
    check("the same input twice: refused", one_line_error(p, "the same file as", "given twice"),
          p.stderr)
    p = run(["-", "-"], input="")
    check("standard input twice: refused", one_line_error(p, "standard input"), p.stderr)
    t0 = time.time()
    p = run(["--junit", "/nonexistent-dir/j.xml", sample("all-in-one.pcap")])
    check("an unwritable --junit fails at once, before any report",
          one_line_error(p, "/nonexistent-dir/j.xml", "JUnit report") and time.time() - t0 < 5,
          p.stderr)
    p = run(["--junit", SRC, sample("refused.pcap")])
    check("--junit naming a directory fails at once", one_line_error(p, "Is a directory"), p.stderr)
    p = run([])
    check("no file is a usage error", one_line_error(p, "no capture file"), p.stderr)
    p = run(["--bogus", sample("refused.pcap")])
    check("unknown option", one_line_error(p, "--bogus"), p.stderr)
    p = run(["--max-connections", "0", sample("refused.pcap")])
    check("bad max-connections", one_line_error(p, "--max-connections"), p.stderr)
    p = run(["--time-wait", "abc", sample("refused.pcap")])
    check("bad time-wait", one_line_error(p, "--time-wait", "abc"), p.stderr)

    missing = os.path.join(tmp, "nope.pcap")
    p = run([missing])
    check("missing file names the file", one_line_error(p, missing), p.stderr)
    junk = os.path.join(tmp, "junk.pcap")
    with open(junk, "wb") as fh:
        fh.write(b"this is not a capture file at all\n" * 4)
    p = run([junk])
    check("garbage file names the file", one_line_error(p, junk), p.stderr)
    usb = os.path.join(tmp, "usb.pcap")
    with open(usb, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 189))  # USB_LINUX
    p = run([usb])
    check("unsupported link type named, with how to convert it, on one line",
          one_line_error(p, usb, "USB_LINUX (189); convert it with `editcap -T ether`"),
          p.stderr)
    p = run(["-f", "tcp port nonsense", sample("refused.pcap")])
    check("bad filter", one_line_error(p, "filter", "tcp port nonsense"), p.stderr)

    # Report to a file: atomic, complete, nothing left behind.
    out = os.path.join(tmp, "report.json")
    p = run(["-o", out, sample("client-close.pcap")])
    rep = json.load(open(out)) if os.path.exists(out) else None
    check("-o writes a complete report", p.returncode == 0 and p.stdout == "" and rep
          and rep["schema_version"] == 1 and len(rep["connections"]) == 1)
    check("-o leaves no temporary file", sorted(os.listdir(tmp)) ==
          sorted(["nope.pcap"][:0] + ["junk.pcap", "report.json", "usb.pcap"]),
          str(os.listdir(tmp)))
    p = run(["-o", os.path.join(tmp, "no", "such", "dir", "r.json"), sample("refused.pcap")])
    check("unwritable output is a clear error", one_line_error(p, "r.json", "cannot create"),
          p.stderr)
    if os.path.exists("/dev/full"):
        p = run(["-o", "/dev/full", sample("refused.pcap")])
        check("full disk is an error, not a truncated report", p.returncode == 2, p.stderr)

    # Filter: frames keep their numbers; filtered ones are counted.
    full = json.loads(run([sample("all-in-one.pcap")]).stdout)
    port = full["connections"][-1]["client"]["port"]
    p = run(["-f", f"tcp port {port}", sample("all-in-one.pcap")])
    rep = json.loads(p.stdout)
    want = [c for c in full["connections"] if c["client"]["port"] == port]
    check("filter keeps only matching connections",
          p.returncode == 0 and len(rep["connections"]) == len(want) and
          rep["connections"][0]["first_frame"] == want[0]["first_frame"] and
          rep["stats"]["filtered"] > 0 and rep["stats"]["filter"] == f"tcp port {port}",
          p.stderr)

    # A capture rotated into several files gives the same connections.
    hdr, recs = read_pcap(sample("all-in-one.pcap"))
    parts = []
    for i, chunk in enumerate((recs[:len(recs) // 3], recs[len(recs) // 3:2 * len(recs) // 3],
                               recs[2 * len(recs) // 3:])):
        path = os.path.join(tmp, f"rot{i}.pcap")
        with open(path, "wb") as fh:
            fh.write(hdr + b"".join(chunk))
        parts.append(path)
    p = run([parts[2], parts[0], parts[1]])
    rep = json.loads(p.stdout)
    strip = lambda r: json.dumps(r["connections"], sort_keys=True)
    check("rotated files == unsplit file", p.returncode == 0 and strip(rep) == strip(full)
          and len(rep["inputs"]) == 3)

    # Standard input.
    with open(sample("all-in-one.pcap"), "rb") as fh:
        p = subprocess.run([BIN, "-"], stdin=fh, capture_output=True, timeout=60)
    rep = json.loads(p.stdout)
    check("stdin '-'", p.returncode == 0 and strip(rep) == strip(full))

    # Truncated file: every packet before the damage is kept, with a warning.
    cut = os.path.join(tmp, "cut.pcap")
    with open(cut, "wb") as fh:
        fh.write(hdr + b"".join(recs[:-1]) + recs[-1][:20])
    p = run([cut])
    rep = json.loads(p.stdout) if p.stdout else None
    off = len(hdr) + sum(len(x) for x in recs[:-1])
    check("truncated file keeps earlier packets, warns with the offset, exits 3",
          p.returncode == 3 and rep and rep["inputs"][0]["truncated"] and
          rep["inputs"][0]["packets"] == len(recs) - 1 and
          p.stderr.count("\n") == 1 and "warning" in p.stderr and cut in p.stderr and
          f"at byte {off}:" in p.stderr and
          rep["summary"]["capture"]["complete"] is False and
          rep["summary"]["capture"]["incomplete"] == ["input_truncated"], p.stderr)
    p = run(["--allow-truncated", cut])
    rep = json.loads(p.stdout) if p.stdout else None
    check("--allow-truncated: the same report, exit 0",
          p.returncode == 0 and rep and rep["inputs"][0]["truncated"] and "warning" in p.stderr,
          p.stderr)

    # SIGINT while reading a never-ending stdin: the report is still complete.
    r, w = os.pipe()
    with open(sample("client-close.pcap"), "rb") as fh:
        os.write(w, fh.read())
    proc = subprocess.Popen([BIN, "-"], stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(r)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    os.write(w, b"\0" * 16)  # wake the blocked read so the loop sees the flag
    os.close(w)
    so, se = proc.communicate(timeout=30)
    rep = json.loads(so) if so else None
    check("SIGINT finishes the report, offline exit 4 (partial)", proc.returncode == 4 and rep and
          rep["stats"]["interrupted"] and len(rep["connections"]) == 1, se.decode())

    # Deterministic output: same input, byte-identical report.
    a = run([sample("all-in-one.pcap")]).stdout
    b = run([sample("all-in-one.pcap")]).stdout
    check("deterministic", a == b)

    # --max-connections bounds the table; evictions are counted, not silent.
    p = run(["--max-connections", "1", sample("all-in-one.pcap")])
    rep = json.loads(p.stdout)
    check("evictions counted", p.returncode == 0 and rep["stats"]["evictions"] > 0 and
          len(rep["connections"]) == rep["stats"]["connections"] and
          any(c["end_reason"] == "evicted" for c in rep["connections"]))
    check("evicting established connections is warned about in one line",
          p.stderr.startswith("tcpstate: warning: ") and p.stderr.count("\n") == 1 and
          "established connections were evicted" in p.stderr and
          "--max-connections 1)" in p.stderr, p.stderr)
    check("no warning when nothing established was cut", run([sample("all-in-one.pcap")]).stderr
          == "")

    # --memory: a clear error below what a table needs; 0 lifts the soft limit, and on a small
    # capture (far below the limit) the report is the same whatever the setting.
    p = run(["--memory", "21", sample("all-in-one.pcap")])
    check("--memory too small: exit 2, one line naming the minimum",
          p.returncode == 2 and "--memory: at least" in p.stderr and
          p.stderr.count("\n") == 1, p.stderr)
    p = run(["--memory", "lots", sample("all-in-one.pcap")])
    check("--memory not a number: exit 2", p.returncode == 2 and "--memory" in p.stderr, p.stderr)
    check("--memory 0 and 4096 give the default's report",
          run(["--memory", "0", sample("all-in-one.pcap")]).stdout == a ==
          run(["--memory", "4096", sample("all-in-one.pcap")]).stdout)

    # CI gating: exit 1 with the rule and the offending connection named.
    cw = sample("anomaly-close-wait-stuck.pcap")
    out = os.path.join(tmp, "verdict.json")
    p = run(["--stuck-after", "5", "--fail-on", "close_wait_stuck", "-o", out, cw])
    rep = json.load(open(out)) if os.path.exists(out) else None
    check("--fail-on violated: exit 1, verdict in JSON and on stderr",
          p.returncode == 1 and rep and rep["verdict"]["result"] == "fail" and
          rep["verdict"]["rules"][0]["offenders"][0]["server"].endswith(":8080") and
          "verdict: FAIL" in p.stderr and "close_wait_stuck" in p.stderr, p.stderr)
    p = run(["--fail-on", "close_wait_stuck", cw])  # default 30 s: not stuck long enough
    check("--fail-on passed: exit 0, PASS on stderr", p.returncode == 0 and
          json.loads(p.stdout)["verdict"]["result"] == "pass" and "verdict: PASS" in p.stderr,
          p.stderr)
    p = run(["--fail-on", "severity>=warning", "--fail-on", "retransmission>=100",
             sample("anomaly-refused-retry.pcap")])
    v = json.loads(p.stdout)["verdict"]["rules"] if p.stdout else []
    check("severity rule and counts", p.returncode == 1 and v[0]["violated"] and
          v[0]["connections"] == 3 and not v[1]["violated"], p.stderr)
    p = run(["--fail-on", "close_wait", cw])
    check("unknown anomaly type rejected", one_line_error(p, "close_wait"), p.stderr)
    p = run([cw])
    check("no policy: verdict pass, nothing on stderr",
          p.returncode == 0 and json.loads(p.stdout)["verdict"] == {"result": "pass", "rules": []}
          and p.stderr == "", p.stderr)
    p = run(["--fail-on", "close_wait_stuck", "--stuck-after", "5", cw],
            env=dict(os.environ, NO_COLOR="1"))
    check("no colour codes on a non-terminal", "\033[" not in p.stderr)

    # Human output: a row per connection, totals, the verdict.
    p = run(["--format", "text", "--stuck-after", "5", "--fail-on", "close_wait_stuck", cw])
    rows = [l for l in p.stdout.splitlines() if " -> " in l and "CLIENT" not in l]
    check("--format text", p.returncode == 1 and len(rows) == 2 and
          "CLOSE_WAIT" in rows[0] and "close_wait_stuck(server)" in rows[0] and
          rows[1].rstrip().endswith("-") and "verdict: FAIL" in p.stdout, p.stdout)
    p = run(["--format", "yaml", cw])
    check("unknown format rejected", one_line_error(p, "--format", "yaml"), p.stderr)

    # JUnit: well-formed (checked by a real XML parser), one failure per offender.
    junit = os.path.join(tmp, "junit.xml")
    p = run(["--stuck-after", "5", "--fail-on", "close_wait_stuck,severity>=warning",
             "--junit", junit, cw])
    lint = subprocess.run(["xmllint", "--noout", junit], capture_output=True, text=True)
    xml = open(junit).read() if os.path.exists(junit) else ""
    import xml.etree.ElementTree as ET
    suites = ET.fromstring(xml).findall("testsuite") if lint.returncode == 0 else []
    check("--junit: valid XML, suites per rule, failures with evidence",
          p.returncode == 1 and lint.returncode == 0 and len(suites) == 2 and
          suites[1].get("name") == "severity>=warning (--fail-on)" and
          suites[0].get("failures") == "1" and suites[0].get("tests") == "2" and
          "frame 8" in suites[0].find("testcase/failure").text, lint.stderr + xml[:300])
    p = run(["--junit", os.path.join(tmp, "no", "dir", "j.xml"), cw])
    check("unwritable --junit is an error", p.returncode == 2 and "j.xml" in p.stderr, p.stderr)
    p = run(["--stuck-after", "5", "--fail-on", "close_wait_stuck", cw],
            env=dict(os.environ, GITHUB_ACTIONS="true"))
    ann = [l for l in p.stderr.splitlines() if l.startswith("::error ")]
    check("GitHub annotations", p.returncode == 1 and len(ann) == 1 and
          "title=tcpstate close_wait_stuck::connection #1" in ann[0] and "frames 8" in ann[0],
          p.stderr)
    p = run(["--stuck-after", "5", "--fail-on", "close_wait_stuck", cw],
            env={k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"})
    check("no annotations outside GitHub Actions", "::error" not in p.stderr)

    # The crafted sample's corrupt segment (port 9022) only counts with --verify-checksums.
    crafted = sample("crafted-anomalies.pcap")
    types = lambda rep, port: {a["type"] for c in rep["connections"] if c["server"]["port"] == port
                               for a in c["anomalies"]}
    plain = json.loads(run([crafted]).stdout)
    ver = json.loads(run(["--verify-checksums", crafted]).stdout)
    check("--verify-checksums drops and reports the corrupt segment",
          "bad_checksum" not in types(plain, 9022) and types(ver, 9022) == {"bad_checksum"} and
          ver["stats"]["bad_checksum"] == 1 and plain["stats"]["bad_checksum"] == 0)

    # A burst of 50 SYNs within 10 ms is flagged capture-wide even though no single
    # attempt waited long enough to be syn_unanswered.
    def csum(b):
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        s = (s >> 16) + (s & 0xFFFF)
        s += s >> 16
        return ~s & 0xFFFF
    flood = os.path.join(tmp, "burst.pcap")
    with open(flood, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(50):
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i, 0, 64, 6, 0,
                             bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            tcp = struct.pack("!HHIIBBHHH", 30000 + i, 80, 1000 + i, 0, 0x50, 2, 1000, 0, 0)
            tcp = tcp[:16] + struct.pack("!H", csum(ip[12:20] + b"\0\x06\0\x14" + tcp)) + tcp[18:]
            fr = b"\0" * 12 + b"\x08\x00" + ip + tcp
            fh.write(struct.pack("<IIII", 1700000000, i * 200, len(fr), len(fr)) + fr)
    rep = json.loads(run([flood]).stdout)
    hits = rep["summary"]["capture"]["syn_flood_or_scan"]
    check("SYN burst flagged capture-wide", hits and hits[0]["server"] == "198.18.0.2" and
          hits[0]["unanswered_syns"] == 50 and "syn_unanswered" not in rep["summary"]["anomalies"])

    # --connections: which records are listed; totals always cover all of them.
    allr = json.loads(run(["--stuck-after", "5", cw]).stdout)
    anom = json.loads(run(["--stuck-after", "5", "--connections", "anomalous", cw]).stdout)
    none = json.loads(run(["--connections", "none", cw]).stdout)
    check("--connections anomalous/none",
          [c["id"] for c in anom["connections"]] == [1] and none["connections"] == [] and
          anom["summary"] == allr["summary"] and anom["stats"]["connections"] == 2 and
          anom["stats"]["connections_written"] == 1 and none["stats"]["connections_written"] == 0)
    p = run(["--connections", "some", cw])
    check("bad --connections", one_line_error(p, "--connections", "some"), p.stderr)

    return finish()


if __name__ == "__main__":
    sys.exit(main())
