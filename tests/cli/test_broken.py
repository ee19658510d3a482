#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Broken and hostile captures: each case of tests/robust/make_broken.py with its exact
outcome (exit status, stderr shape, report content). The corpus is generated into a scratch
directory at test time. Reports are validated against docs/report.schema.json when
python3-jsonschema is installed.

usage: test_broken.py TCPSTATE_BIN SOURCE_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from clitest import check, finish

BIN = SRC = D = SCHEMA = None


def run(args, out=None):
    out = out or os.path.join(D, "report.json")
    if os.path.exists(out):
        os.unlink(out)
    p = subprocess.run([BIN, "-o", out] + args, capture_output=True, timeout=120)
    doc = None
    if os.path.exists(out):
        with open(out, "rb") as fh:
            raw = fh.read()
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = "INVALID JSON"
    return p.returncode, p.stderr.decode("utf-8", "replace"), doc


def valid(doc):
    if SCHEMA is None or not isinstance(doc, dict):
        return isinstance(doc, dict)
    import jsonschema
    try:
        jsonschema.validate(doc, SCHEMA)
        return True
    except jsonschema.ValidationError as e:
        print(f"     schema: {e.message} at {list(e.absolute_path)}")
        return False


def f(name):
    return os.path.join(D, name)


def error_case(name, path, *words):
    st, err, doc = run([path])
    lines = err.strip().splitlines()
    check(f"{name}: exit 2, one error line naming the file, no report",
          st == 2 and len(lines) == 1 and lines[0].startswith(f"tcpstate: {path}: ")
          and all(w in lines[0] for w in words) and doc is None, (st, err))


def ok_case(name, path, packets, conns, truncated=False, warn_words=(), snapped=False,
            stepped=False):
    """exit 0 (3 when truncated); report valid; inputs[0] packets/truncated; stats.connections.
    snapped: one warning that the snap length cut frames inside their headers; stepped: one
    warning that the timestamps step back."""
    st, err, doc = run([path] if isinstance(path, str) else path)
    lines = err.strip().splitlines()
    if snapped or stepped:
        quiet = len(lines) == 1 and ("cut by the snap length" if snapped else
                                     "timestamps step back") in lines[0]
    elif truncated:
        quiet = (len(lines) == 1 and lines[0].startswith(f"tcpstate: warning: {path}: ")
                 and "damaged record at byte " in lines[0]
                 and all(w in lines[0] for w in warn_words))
    else:
        quiet = err == ""
    good = st == (3 if truncated else 0) and isinstance(doc, dict)
    said = ('one warning naming the file and the byte' if truncated else
            'one warning on the snap length' if snapped else
            'one warning on the clock' if stepped else 'silent')
    check(f"{name}: exit {3 if truncated else 0}, {said}",
          good and quiet, (st, err))
    if not good:
        return None
    inp = doc["inputs"][0]
    check(f"{name}: {packets} packets, {conns} connections, truncated={truncated}",
          inp["packets"] == packets and doc["stats"]["connections"] == conns
          and len(doc["connections"]) == conns and inp["truncated"] is truncated
          and (inp["error"] is not None) == truncated,
          (inp, doc["stats"]["connections"]))
    check(f"{name}: report validates", valid(doc))
    return doc


def strip_input(doc):
    return {k: v for k, v in doc.items() if k != "inputs"}


def decided(conns):
    """The records without the mark that a cut input leaves on those open at its end."""
    return [{k: v for k, v in c.items() if k != "end_undecidable"} for c in conns]


def summary_but_completeness(doc):
    s = json.loads(json.dumps(doc["summary"]))
    for k in ("complete", "incomplete"):
        s["capture"].pop(k)
    return s


def main():
    global BIN, SRC, D, SCHEMA
    BIN, SRC = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.path.join(SRC, "tests", "robust"))
    import make_broken
    D = tempfile.mkdtemp(prefix="tcpstate-broken-")
    make_broken.generate(D)
    try:
        import jsonschema  # noqa: F401
        with open(os.path.join(SRC, "docs", "report.schema.json")) as fh:
            SCHEMA = json.load(fh)
    except ImportError:
        print("note: python3-jsonschema missing, schema validation reduced to JSON parsing")

    # ---- file-level damage
    error_case("empty file", f("empty.pcap"))
    error_case("global header cut at 13 bytes", f("header_truncated.pcap"), "truncated")
    error_case("wrong magic", f("wrong_magic.pcap"), "unknown file format")
    prefix = ok_case("untruncated prefix (13 records)", f("prefix.pcap"), 13, 2)
    for case in ("truncated_mid_data", "truncated_mid_rechdr"):
        doc = ok_case(f"{case}", f(case + ".pcap"), 13, 2, True, ("truncated",))
        if doc and prefix:
            check(f"{case}: connections and stats equal those of the prefix",
                  decided(doc["connections"]) == prefix["connections"]
                  and strip_input(doc)["stats"] == prefix["stats"]
                  and summary_but_completeness(doc) == summary_but_completeness(prefix))
            open_ = [c for c in doc["connections"] if c["open_at_end"]]
            check(f"{case}: records open at the cut are marked undecidable, the capture "
                  "incomplete",
                  open_ and all(c.get("end_undecidable") == "input_truncated" for c in open_)
                  and not any("end_undecidable" in c for c in doc["connections"]
                              if not c["open_at_end"])
                  and doc["summary"]["capture"]["complete"] is False
                  and doc["summary"]["capture"]["incomplete"] == ["input_truncated"])
    # several files, the damaged one second: the first is read whole, the report written
    st, err, doc = run([f("good.pcap"), f("truncated_mid_data.pcap")])
    check("good + truncated: exit 3, warning names only the damaged file",
          st == 3 and len(err.strip().splitlines()) == 1
          and f("truncated_mid_data.pcap") in err and isinstance(doc, dict)
          and [i["truncated"] for i in doc["inputs"]] == [False, True]
          and [i["packets"] for i in doc["inputs"]] == [32, 13], (st, err))

    # ---- record-level oddities
    doc = ok_case("caplen > snaplen (snapped to 64)", f("caplen_gt_snaplen.pcap"), 17, 3)
    if doc:
        c = [c for c in doc["connections"] if c["client"]["port"] == 41002]
        check("caplen > snaplen: the snapped SYN counts its 100 payload bytes from IP length",
              len(c) == 1 and c[0]["client"]["payload_bytes"] == 100, c)
    doc = ok_case("caplen 0 records", f("caplen_zero.pcap"), 19, 2, snapped=True)
    if doc:
        s = doc["stats"]
        check("caplen 0: three truncated_link_header problems, frames accounted for",
              s["decode_problems_by_reason"] == {"truncated_link_header": 3}
              and s["analyzed"] == s["tcp_segments"] + s["non_tcp"] + s["decode_problems"], s)
    ok_case("caplen > wire length stops reading there", f("caplen_gt_wirelen.pcap"), 8, 1,
            True, ("exceeds original length",))
    ok_case("caplen 2^31 stops reading there", f("caplen_huge.pcap"), 16, 2, True,
            ("capture length",))

    # ---- timestamps: valid report, both connections fully tracked
    for case in ("ts_2106", "ts_zero", "ts_negative_ns", "ts_backwards", "ts_usec_overflow"):
        doc = ok_case(case, f(case + ".pcap"), 16, 2, stepped=case == "ts_backwards")
        if doc:
            fs = [(c["client"]["state"], c["server"]["state"]) for c in doc["connections"]]
            check(f"{case}: both connections closed by the client (TIME_WAIT/CLOSED)",
                  fs == [("TIME_WAIT", "CLOSED")] * 2, fs)
            check(f"{case}: durations are not negative",
                  all(c["duration"] >= 0 for c in doc["connections"]),
                  [c["duration"] for c in doc["connections"]])

    # ---- link types
    st, err, doc = run([f("link_eth.pcap"), f("link_raw.pcap")])
    check("Ethernet + RAW merged: both read, one connection each",
          st == 0 and err == "" and isinstance(doc, dict)
          and [i["link_type_id"] for i in doc["inputs"]] == [1, 101]
          and [i["packets"] for i in doc["inputs"]] == [8, 8]
          and doc["stats"]["connections"] == 2 and valid(doc), (st, err))
    st, err, doc = run([f("link_eth.pcap"), f("link_unsupported.pcap")])
    lines = err.strip().splitlines()
    check("Ethernet + Linux USB: exit 2 naming the unsupported file",
          st == 2 and len(lines) == 1 and lines[0].startswith(
              f"tcpstate: {f('link_unsupported.pcap')}: unsupported link type")
          and "189" in lines[0] and doc is None, (st, err))

    # ---- header damage: counted per reason, the clean sessions around it still tracked
    for case, pk, reason, n in (("ipv4_ihl_lt5", 19, "bad_ip_header_length", 3),
                                ("ipv4_ihl_beyond", 17, "bad_ip_header_length", 1),
                                ("ipv6_ext_loop", 17, "ipv6_extension_chain_too_long", 1),
                                ("tcp_doff_lt5", 18, "bad_tcp_header_length", 2),
                                ("tcp_doff_beyond", 17, "bad_tcp_header_length", 1)):
        doc = ok_case(case, f(case + ".pcap"), pk, 2)
        if doc:
            s = doc["stats"]
            check(f"{case}: decode_problems_by_reason == {{{reason}: {n}}}",
                  s["decode_problems_by_reason"] == {reason: n} and s["decode_problems"] == n,
                  s["decode_problems_by_reason"])
            fs = [(c["client"]["state"], c["server"]["state"]) for c in doc["connections"]]
            check(f"{case}: surrounding sessions closed normally",
                  fs == [("TIME_WAIT", "CLOSED")] * 2, fs)

    # ---- malformed options
    doc = ok_case("TCP options of length 0, 1 and overflowing", f("tcp_options_bad.pcap"), 11, 1)
    if doc:
        a = [a for a in doc["connections"][0]["anomalies"] if a["type"] == "malformed_options"]
        check("bad options: malformed_segments 3, one malformed_options finding, count 3",
              doc["stats"]["tcp_options"]["malformed_segments"] == 3 and len(a) == 1
              and a[0]["count"] == 3 and a[0]["endpoint"] == "client", a)

    # ---- all 512 flag values
    doc = ok_case("all 512 flag values", f("flags_all.pcap"), 520, 33)
    if doc:
        il = [a for c in doc["connections"] for a in c["anomalies"]
              if a["type"] == "illegal_flags"]
        first = [a["type"] for a in doc["connections"][0]["anomalies"]]
        check("512 flags: illegal_flags on the first connection, every segment analysed",
              "illegal_flags" in first and len(il) >= 1
              and doc["stats"]["tcp_segments"] == 520
              and all(len(a["evidence"]) <= 8 for c in doc["connections"]
                      for a in c["anomalies"]), first)

    # ---- sequence wrap
    doc = ok_case("sequence numbers wrap through 2^32", f("seq_wrap.pcap"), 30, 1)
    if doc:
        c = doc["connections"][0]
        check("seq wrap: clean close, all bytes counted, no findings",
              (c["client"]["state"], c["server"]["state"]) == ("TIME_WAIT", "CLOSED")
              and c["client"]["payload_bytes"] == 12000 and c["server"]["payload_bytes"] == 480
              and c["anomalies"] == [] and c["client"]["retransmissions"]["segments"] == 0
              and c["conn_state"] == "SF", c)

    # ---- 65,536 segments on one 4-tuple
    doc = ok_case("65,536 segments on one 4-tuple", f("one_tuple_65536.pcap"), 65536, 1)
    if doc:
        c, s = doc["connections"][0], doc["stats"]
        caps = (len(c["anomalies"]) <= 8
                and all(len(a["evidence"]) <= 8 for a in c["anomalies"])
                and all(len(c[e]["transitions"]) <= 10 for e in ("client", "server")))
        il = [a for a in c["anomalies"] if a["type"] == "illegal_flags"]
        check("65,536: caps hold, capped evidence counted, illegal_flags counted in full",
              caps and s["anomalies_capped"]["evidence"] > 0 and len(il) == 1
              and il[0]["count"] == 676 and c["client"]["packets"] + c["server"]["packets"]
              == 65536, (s["anomalies_capped"], [(a["type"], a["count"]) for a in il]))

    # ---- odd file names and filter text
    odd = ['q"uote.pcap', "back\\slash.pcap", "new\nline.pcap", "tab\there.pcap",
           "ütf-8 ✓.pcap"]
    paths = []
    for n in odd:
        p = os.path.join(D, n)
        shutil.copy(f("link_eth.pcap"), p)
        paths.append(p)
    filt = 'tcp and not host 10.0.0.1 or (port 80)'
    st, err, doc = run(["--filter", filt] + paths)
    check("odd file names: exit 0, names and filter round-trip through the JSON",
          st == 0 and isinstance(doc, dict)
          and [i["name"] for i in doc["inputs"]] == paths and doc["stats"]["filter"] == filt
          and valid(doc), (st, err, doc if not isinstance(doc, dict) else doc["inputs"]))
    st, err, doc = run(['--filter', 'port "80\\\t\u00e9'] + paths[:1])
    lines = err.strip().splitlines()
    check("invalid filter with quote/backslash/tab/UTF-8: exit 2, one error line",
          st == 2 and len(lines) == 1 and lines[0].startswith("tcpstate: ") and doc is None,
          (st, err))
    bad = os.path.join(D, 'bad "name\\.pcap')
    shutil.copy(f("wrong_magic.pcap"), bad)
    error_case("unreadable file with quote and backslash in its name", bad,
               "unknown file format")

    # Snapped inside the headers (tcpdump -s 40): said in the summary and on stderr.
    with open(f("link_eth.pcap"), "rb") as fh:
        data = fh.read()
    out = bytearray(data[:16] + struct.pack("<I", 40) + data[20:24])
    off, cut = 24, 0
    while off + 16 <= len(data):
        sec, frac, cl, wl = struct.unpack("<IIII", data[off:off + 16])
        body = data[off + 16:off + 16 + cl]
        off += 16 + cl
        cut += cl > 40 and len(body) >= 54  # Ethernet + IPv4 + TCP do not fit in 40 bytes
        out += struct.pack("<IIII", sec, frac, min(cl, 40), wl) + body[:40]
    snapped = os.path.join(D, "snap40.pcap")
    with open(snapped, "wb") as fh:
        fh.write(out)
    st, err, doc = run([snapped])
    lines = err.strip().splitlines()
    capsum = doc["summary"]["capture"] if isinstance(doc, dict) else {}
    check("snap length 40: exit 0, one warning with the counts, quality snap_length",
          st == 0 and len(lines) == 1 and "cut by the snap length" in lines[0] and
          f" {capsum.get('snapped_headers')} of " in lines[0] and cut > 0 and
          capsum.get("snapped_headers") == cut and capsum.get("quality") == "snap_length" and
          valid(doc), (st, err, capsum))

    # Timestamps that step back an hour in the middle of a connection (a clock step): the
    # durations and findings are those of the capture without the step.
    with open(os.path.join(SRC, "samples", "anomaly-close-wait-stuck.pcap"), "rb") as fh:
        data = fh.read()
    recs, off = [], 24
    while off + 16 <= len(data):
        cl = struct.unpack("<I", data[off + 8:off + 12])[0]
        recs.append(bytearray(data[off:off + 16 + cl]))
        off += 16 + cl
    for r in recs[3:]:
        r[0:4] = struct.pack("<I", struct.unpack("<I", r[0:4])[0] - 3600)
    stepped = os.path.join(D, "stepped.pcap")
    with open(stepped, "wb") as fh:
        fh.write(data[:24] + b"".join(recs))
    gap = 0
    t = [struct.unpack("<II", bytes(r[0:8])) for r in recs[2:4]]
    gap = (t[1][0] + 3600 + t[1][1] / 1e6) - (t[0][0] + t[0][1] / 1e6)
    st0, _, base = run(["--stuck-after", "5", os.path.join(SRC, "samples",
                                                           "anomaly-close-wait-stuck.pcap")])
    st, err, doc = run(["--stuck-after", "5", stepped])
    lines = err.strip().splitlines()

    def findings(d):
        return {(c["id"], a["type"], a["endpoint"]): a.get("duration")
                for c in d["connections"] for a in c["anomalies"]}
    got, want = (findings(doc), findings(base)) if isinstance(doc, dict) else ({}, {1: 1})
    capsum = doc["summary"]["capture"] if isinstance(doc, dict) else {}
    check("clock stepped back 1 h mid-connection: the same findings, durations within the "
          "step's own gap, one warning, clock_steps_back 1, quality clock_stepped",
          st == 0 and st0 == 0 and sorted(got) == sorted(want) and
          all(got[k] is None or abs(got[k] - want[k]) <= gap + 1e-6 for k in got) and
          len(lines) == 1 and "step back" in lines[0] and capsum.get("clock_steps_back") == 1
          and abs(capsum.get("largest_step_back", 0) - (3600 - gap)) < 1e-3 and
          capsum.get("quality") == "clock_stepped" and valid(doc),
          (st, err, got, want, capsum))

    # Compressed captures: gzip is read (also from a pipe, also concatenated), a cut one is
    # truncated, the others get a hint.
    import gzip as gz
    import lzma
    import bz2
    with open(f("good.pcap"), "rb") as fh:
        plain = fh.read()
    st0, _, base = run([f("good.pcap")])
    zp = os.path.join(D, "good.pcap.gz")
    with open(zp, "wb") as fh:
        fh.write(gz.compress(plain))
    st, err, doc = run([zp])
    check("gzip capture: exit 0, silent, the same connections and stats as the plain file",
          st == 0 and err == "" and isinstance(doc, dict) and
          doc["connections"] == base["connections"] and
          doc["stats"]["packets"] == base["stats"]["packets"], (st, err))
    p = subprocess.run([BIN, "-"], input=gz.compress(plain), capture_output=True, timeout=60)
    piped = json.loads(p.stdout) if p.returncode == 0 else None
    check("gzip capture on standard input: the same connections",
          piped is not None and piped["connections"] == base["connections"], p.stderr)
    cz = os.path.join(D, "cut.pcap.gz")
    with open(cz, "wb") as fh:
        fh.write(gz.compress(plain)[:len(gz.compress(plain)) * 2 // 3])
    st, err, doc = run([cz])
    check("gzip capture cut short: exit 3, one warning naming the file, a report",
          st == 3 and len(err.strip().splitlines()) == 1 and cz in err and
          isinstance(doc, dict) and doc["inputs"][0]["truncated"], (st, err))
    for name, data, tool in (("x.pcap.xz", lzma.compress(plain), "xz"),
                             ("x.pcap.bz2", bz2.compress(plain), "bzip2"),
                             ("x.pcap.zst", b"\x28\xb5\x2f\xfd" + bytes(20), "zstd")):
        path = os.path.join(D, name)
        with open(path, "wb") as fh:
            fh.write(data)
        error_case(f"{tool}-compressed capture: a hint to decompress it", path,
                   f"compressed with {tool}", f"{tool} -d")

    # A name that is not UTF-8 (any bytes are a valid Linux file name) is kept, escaped.
    raw = os.fsencode(D) + b"/not-utf8-\xff\xfe-\\-\xc3.pcap"
    shutil.copy(f("link_eth.pcap"), raw)
    st, err, doc = run([os.fsdecode(raw)])
    name = doc["inputs"][0].get("name") if isinstance(doc, dict) else None

    def unescape(text):
        out, i = bytearray(), 0
        while i < len(text):
            if text.startswith("\\\\", i):
                out += b"\\"
                i += 2
            elif text.startswith("\\x", i):
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
            else:
                out += text[i].encode()
                i += 1
        return bytes(out)

    check("file name not UTF-8: exit 0, inputs[].name kept (escaped, recoverable), report "
          "valid against its schema",
          st == 0 and isinstance(name, str) and doc["inputs"][0].get("name_escaped") is True
          and unescape(name) == raw and valid(doc), (st, err, name))

    shutil.rmtree(D, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
