#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""--format html in a real browser: headless Chromium over its DevTools protocol (cdp.py).

On every sample (samples/*.pcap, *.pcapng) and, when ../shared is there, every trace of the
Zeek corpus:
  - the file is self-contained: no element or stylesheet loads anything (no src=, <link>,
    url() other than the page's own #fragments, @import, fetch, XMLHttpRequest), and its
    only scripts are the page's own and inert data;
  - the page loads with no console message and no uncaught exception;
  - the table has one tr[data-conn-id] per record of the JSON report (up to a page of 500),
    with the ids in order, and the summary names the verdict;
  - for every record, report.html#conn=ID draws the ladder: one [data-frame] arrow per
    packet of the record, frames increasing from first_frame to last_frame, and per
    endpoint [data-state] bands equal to the 'to' states of its JSON transitions; every
    anomaly of the record is marked; the closing line says "capture ends" with the findings
    still holding for a record open at the end; the time-sequence plot is drawn.
Then, on a crafted capture, the filters (anomaly, state, port, text) and sorting pick
exactly the records the JSON says, and --connection limits the page as it does the JSON.

usage: test_html.py TCPSTATE_BIN SOURCE_DIR
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, finish, note, zeek_traces  # noqa: E402
import cdp  # noqa: E402

LADDER = """(async () => {
  const want = %d;
  location.hash = '#conn=' + want;
  for (let i = 0; i < 500; i++) {
    const d = document.getElementById('detail');
    if (d.dataset.connId === String(want) && d.querySelector('#ladder')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const l = document.getElementById('ladder');
  if (!l) return null;
  return {
    frames: [...l.querySelectorAll('[data-frame]')].map((e) => Number(e.dataset.frame)),
    runs: l.querySelectorAll('.run').length,
    bands: [...l.querySelectorAll('[data-state]')].map((e) => [e.dataset.who, e.dataset.state]),
    findings: [...l.querySelectorAll('.finding')].map((e) => e.dataset.anomaly).join(' '),
    tseq: !!document.querySelector('#tseq'),
    end: l.querySelector('.end').textContent,
  };
})()"""

ROWS = "[...document.querySelectorAll('#conns tr[data-conn-id]')].map((e) => Number(e.dataset.connId))"


def run(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=300)


def static_checks(name, html):
    body = re.sub(r'<script type="application/x-tcpstate-deflate" data-ids="[0-9,]+">[A-Za-z0-9+/=]*</script>',
                  "", html)
    fetches = [p for p in (r"\ssrc\s*=", r"<link\b", r"url\(\s*['\"]?(?!#)", r"@import", r"\bfetch\(",
                           r"XMLHttpRequest", r"<iframe", r"<img") if re.search(p, body)]
    check(f"{name}: self-contained", not fetches, fetches)
    scripts = re.findall(r"<script[^>]*>", html)
    check(f"{name}: every script is the page's or inert data",
          all(s in ("<script>",) or 'type="application/json"' in s or
              'type="application/x-tcpstate-deflate"' in s for s in scripts), set(scripts))


def main():
    binary, src = sys.argv[1], sys.argv[2]
    if not cdp.find_chromium():
        print("chromium not installed: skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="tcpstate-html-")
    samples = sorted(glob.glob(os.path.join(src, "samples", "*.pcap")) +
                     glob.glob(os.path.join(src, "samples", "*.pcapng")))
    samples += zeek_traces(src)  # the Zeek project's public captures too, when there
    with cdp.Browser() as b:
        checked = frames_total = 0
        for path in samples:
            name = os.path.basename(path)
            out_json, out_html = os.path.join(tmp, name + ".json"), os.path.join(tmp, name + ".html")
            pj = run(binary, path, "-o", out_json)
            ph = run(binary, path, "--format", "html", "-o", out_html)
            if not check(f"{name}: same exit status as JSON", pj.returncode == ph.returncode,
                         (pj.returncode, ph.returncode, ph.stderr)) or not os.path.exists(out_html):
                continue
            if not os.path.exists(out_json):
                continue
            recs = json.load(open(out_json))
            conns = recs["connections"]
            html = open(out_html).read()
            static_checks(name, html)
            b.console.clear()
            b.open("file://" + out_html)
            b.wait("document.body.dataset.ready")
            check(f"{name}: page ready", b.eval("document.body.dataset.ready") == "true")
            ids = b.eval(ROWS)
            check(f"{name}: one row per record", ids == [c["id"] for c in conns][:500],
                  (ids[:20], [c["id"] for c in conns][:20]))
            verdict = b.eval("document.querySelector('#verdict .verdict').textContent")
            check(f"{name}: verdict shown", verdict == recs["verdict"]["result"].upper(), verdict)
            bad = []
            for c in conns:
                got = b.eval(LADDER % c["id"])
                if got is None:
                    bad.append((c["id"], "no ladder"))
                    continue
                npk = c["client"]["packets"] + c["server"]["packets"]
                fr = got["frames"]
                if got["runs"] == 0 and len(fr) != npk:
                    bad.append((c["id"], "arrows", len(fr), "packets", npk))
                if fr != sorted(set(fr)) or (fr and (fr[0] != c["first_frame"] or fr[-1] > c["last_frame"])):
                    bad.append((c["id"], "frames", fr[:5], c["first_frame"], c["last_frame"]))
                for who in ("client", "server"):
                    ep = c[who]
                    # No transition: the endpoint stayed in its state (CLOSED), one band.
                    want = [t["to"] for t in ep["transitions"]] or [ep["state"]]
                    have = [st for w, st in got["bands"] if w == who]
                    if not ep["transitions_dropped"] and have != want:
                        bad.append((c["id"], who, "bands", have, "transitions", want))
                for a in c["anomalies"]:
                    if a["type"] not in got["findings"].split():
                        bad.append((c["id"], "anomaly not marked", a["type"]))
                still = [a["type"] for a in c["anomalies"] if a.get("still_at_capture_end")]
                if c["open_at_end"]:
                    if not got["end"].startswith("capture ends") or any(t not in got["end"] for t in still):
                        bad.append((c["id"], "closing line", got["end"], still))
                elif not got["end"].startswith("ends: client " + c["client"]["state"]):
                    bad.append((c["id"], "closing line", got["end"]))
                if not got["tseq"]:
                    bad.append((c["id"], "no time-sequence plot"))
                checked += 1
                frames_total += len(fr)
            check(f"{name}: #conn=ID for each of {len(conns)} records", not bad, bad[:5])
            check(f"{name}: no console messages", not b.console, b.console[:5])
        note(f"{checked} connections opened, {frames_total} segment arrows checked")

        # Filters and sorting against the JSON, on the capture with the most kinds of finding.
        path = os.path.join(src, "samples", "crafted-anomalies.pcap")
        out_json, out_html = os.path.join(tmp, "f.json"), os.path.join(tmp, "f.html")
        run(binary, path, "-o", out_json)
        run(binary, path, "--format", "html", "-o", out_html)
        conns = json.load(open(out_json))["connections"]
        b.open("file://" + out_html)
        b.wait("document.body.dataset.ready")

        def pick(js):
            return b.eval("(() => {" + js + "; return " + ROWS + "; })()")

        def set_value(sel, v):
            return (f"const e = document.querySelector('{sel}'); e.value = {json.dumps(v)};"
                    f"e.dispatchEvent(new Event('change'))")
        types = sorted({a["type"] for c in conns for a in c["anomalies"]})
        for t in types[:6]:
            want = [c["id"] for c in conns if any(a["type"] == t for a in c["anomalies"])]
            got = pick("document.querySelector('#f-state').value='';" + set_value("#f-anomaly", t))
            check(f"filter anomaly {t}", got == want, (got, want))
        pick(set_value("#f-anomaly", ""))
        states = sorted({c[w]["state"] for c in conns for w in ("client", "server")})
        for st in states:
            want = [c["id"] for c in conns if st in (c["client"]["state"], c["server"]["state"])]
            got = pick(set_value("#f-state", st))
            check(f"filter state {st}", got == want, (got, want))
        pick(set_value("#f-state", ""))
        port = conns[-1]["server"]["port"]
        want = [c["id"] for c in conns if port in (c["client"]["port"], c["server"]["port"])]
        b.eval(f"(() => {{ const e = document.querySelector('#f-port'); e.value = '{port}';"
               "e.dispatchEvent(new Event('input')); })()")
        b.wait(f"document.querySelectorAll('#conns tr[data-conn-id]').length === {len(want)}", 10)
        check(f"filter port {port}", b.eval(ROWS) == want, (b.eval(ROWS), want))
        b.eval("document.querySelector('.filters button:last-child').click()")
        got = pick("[...document.querySelectorAll('#conns th')].find((t) => t.textContent === 'packets').click()")
        want = [c["id"] for c in sorted(conns, key=lambda c: (-(c["client"]["packets"] + c["server"]["packets"]), c["id"]))]
        check("sort by packets, most first", got == want, (got, want))
        check("filters and sorting: no console messages", not b.console, b.console[:5])

        # --connection: the page lists what the JSON lists.
        sel = str(conns[0]["id"])
        run(binary, path, "--connection", sel, "--format", "html", "-o", out_html)
        b.open("file://" + out_html)
        b.wait("document.body.dataset.ready")
        check("--connection ID: one row", b.eval(ROWS) == [conns[0]["id"]], b.eval(ROWS))
        b.eval("location.hash = '#conn=999999'")
        b.wait("document.getElementById('detail').textContent.includes('not in this report')", 10)
        check("#conn= of an absent record says so", True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
