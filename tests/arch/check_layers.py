#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""check_layers.py - the dependency rule of docs/architecture.md, checked on the sources.

The pipeline is capture -> decode -> track -> detect -> report.  Each public header in
include/tcpstate/ belongs to one layer (LAYER_OF below; a header missing from it fails the
check, so a new header must be placed), and each source file belongs to the layer of its
folder, except track/engine.c, the pipeline itself.  A file may include:
  - its own layer's headers, and the private headers of its own folder;
  - the headers of the layers listed for it in MAY_SEE, and nothing else.
So decode never sees flows, capture never sees decode, tracking never sees pcap, JSON or
the report, and only the report and the root see everything.  Also checked:
  - <pcap.h> only in capture/, <jansson.h> only in report/;
  - only the engine calls the detectors: no other track/ file calls tcpst_detect_*,
    tcpst_xfer_* or tcpst_summary_*, nor includes detect.h or summary.h;
  - the report never judges: report/ does not include detect.h, and calls no detector, no
    capture-wide judgement and adds no finding;
  - every source file is at most MAX_LINES lines.

Usage: check_layers.py SOURCE_DIR       exit 0 when the tree follows the rule
       check_layers.py --selftest       shows that each rule catches a violation
"""

import os
import re
import shutil
import sys
import tempfile

MAX_LINES = 800

LAYER_OF = {
    "types.h": "base", "error.h": "base", "limits.h": "base", "seq.h": "base",
    "heap.h": "base", "hash.h": "base", "timefmt.h": "base", "outfile.h": "base",
    "capture.h": "capture", "privdrop.h": "capture", "hostsock.h": "capture",
    "decode.h": "decode", "tcpopt.h": "decode", "ipreasm.h": "decode",
    # The connection record and what it carries: both endpoints, Zeek's summary, the
    # findings with their catalogue, the transfer detectors' bookkeeping (types only).
    "endpoint.h": "track", "conn.h": "track", "zeekcompat.h": "track", "flowtab.h": "track",
    "anomaly.h": "track", "transfer.h": "track",
    "detect.h": "detect", "summary.h": "detect",
    "engine.h": "engine",
    "report.h": "report", "policy.h": "report", "select.h": "report", "junit.h": "report", "textout.h": "report",
    "cli.h": "root",
}

MAY_SEE = {
    "base": set(),
    "capture": {"base"},
    "decode": {"base"},
    "track": {"base", "decode"},
    "detect": {"base", "decode", "track"},
    "engine": {"base", "decode", "track", "detect"},
    "report": {"base", "capture", "decode", "track", "detect", "engine"},
    "root": {"base", "capture", "decode", "track", "detect", "engine", "report"},
}

FOLDER_LAYER = {"base": "base", "capture": "capture", "decode": "decode", "track": "track",
                "detect": "detect", "report": "report"}
FILE_LAYER = {"track/engine.c": "engine", "main.c": "root", "cli.c": "root",
              "cli_table.h": "root", "hostview.c": "root", "hostview.h": "root",
              "harness.c": "root", "harness.h": "root", "cli_usage.c": "root",
              "progress.c": "root", "progress.h": "root"}

DETECTOR_CALL = re.compile(r"\btcpst_(detect|xfer|summary)_[a-z_]+\s*\(")
JUDGING_CALL = re.compile(r"\btcpst_(detect_[a-z_]+|xfer_[a-z_]+|summary_add|summary_judge|"
                          r"findings_add|finding_add_evidence)\s*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S)


def files(root):
    out = []
    for d, _, names in os.walk(os.path.join(root, "src")):
        for n in names:
            if n.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(d, n), os.path.join(root, "src")))
    for n in os.listdir(os.path.join(root, "include", "tcpstate")):
        if n.endswith(".h"):
            out.append("include/" + n)
    return sorted(out)


def layer_of_file(rel):
    if rel.startswith("include/"):
        return LAYER_OF.get(os.path.basename(rel))
    if rel in FILE_LAYER:
        return FILE_LAYER[rel]
    folder = rel.split("/")[0] if "/" in rel else None
    return FOLDER_LAYER.get(folder)


def check(root):
    problems = []
    for rel in files(root):
        path = os.path.join(root, rel if rel.startswith("include/") else os.path.join("src", rel))
        if rel.startswith("include/"):
            path = os.path.join(root, "include", "tcpstate", os.path.basename(rel))
        layer = layer_of_file(rel)
        if layer is None:
            problems.append("%s: in no layer (add it to LAYER_OF or a layer folder)" % rel)
            continue
        with open(path) as f:
            raw = f.read()
        if raw.count("\n") > MAX_LINES:
            problems.append("%s: %d lines, over the budget of %d" % (rel, raw.count("\n"),
                                                                       MAX_LINES))
        text = strip_comments(raw)
        folder = rel.split("/")[0] if "/" in rel and not rel.startswith("include/") else None
        for kind, name in INCLUDE.findall(text):
            if kind == "<":
                if name == "pcap.h" or name.startswith("pcap/"):
                    if folder != "capture":
                        problems.append("%s: includes <%s>: only capture/ sees libpcap" %
                                        (rel, name))
                if name == "jansson.h" and folder != "report":
                    problems.append("%s: includes <jansson.h>: only report/ sees JSON" % rel)
                continue
            if name.startswith("tcpstate/"):
                hdr = name[len("tcpstate/"):]
                target = LAYER_OF.get(hdr)
                if target is None:
                    problems.append("%s: includes %s, which is in no layer" % (rel, name))
                elif target != layer and target not in MAY_SEE[layer]:
                    problems.append("%s (%s) includes %s (%s): a layer it may not see" %
                                    (rel, layer, name, target))
                if folder == "track" and layer != "engine" and hdr in ("detect.h", "summary.h"):
                    problems.append("%s: includes %s: only the engine calls detectors" %
                                    (rel, name))
                if folder == "report" and hdr == "detect.h":
                    problems.append("%s: includes %s: the report never judges" % (rel, name))
                continue
            # A private header: from the same folder only.
            here = os.path.dirname(rel) if not rel.startswith("include/") else None
            where = os.path.dirname(name) or here
            if here is None or where != here:
                problems.append("%s: includes %s, private to another folder" % (rel, name))
        if folder == "track" and layer != "engine":
            for m in DETECTOR_CALL.finditer(text):
                problems.append("%s: calls %s: only the engine calls detectors" %
                                (rel, m.group(0).rstrip("( ")))
        if folder == "report":
            for m in JUDGING_CALL.finditer(text):
                problems.append("%s: calls %s: the report never judges" %
                                (rel, m.group(0).rstrip("( ")))
    for hdr in LAYER_OF:
        if not os.path.exists(os.path.join(root, "include", "tcpstate", hdr)):
            problems.append("LAYER_OF names include/tcpstate/%s, which does not exist" % hdr)
    return problems


# Each case: a file to write into a copy of the tree, and a word the failure must contain.
SELFTEST = [
    ("src/decode/bad.c", '#include "tcpstate/conn.h"\n', "may not see"),
    ("src/capture/bad.c", '#include "tcpstate/decode.h"\n', "may not see"),
    ("src/track/bad.c", "#include <pcap.h>\n", "libpcap"),
    ("src/detect/bad.c", "#include <jansson.h>\n", "JSON"),
    ("src/track/bad.c", '#include "tcpstate/report.h"\n', "may not see"),
    ("src/track/bad.c", "void f(void) { tcpst_detect_finish(0, 0); }\n", "only the engine"),
    ("src/track/bad.c", '#include "tcpstate/detect.h"\n', "only the engine"),
    ("src/report/bad.c", "void f(void) { tcpst_findings_add(0, 0, 0, 0, 0); }\n", "never judges"),
    ("src/report/bad.c", '#include "tcpstate/detect.h"\n', "never judges"),
    ("src/detect/bad.c", '#include "report/jsonw.h"\n', "private to another folder"),
    ("include/tcpstate/new.h", "int x;\n", "in no layer"),
    ("src/detect/bad.c", "int x;\n" * (MAX_LINES + 1), "budget"),
]


def selftest():
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.abspath(os.path.join(here, "..", ".."))
    ok = True
    for rel, body, word in SELFTEST:
        tmp = tempfile.mkdtemp(prefix="tcpstate-layers-")
        try:
            shutil.copytree(os.path.join(src, "src"), os.path.join(tmp, "src"))
            shutil.copytree(os.path.join(src, "include"), os.path.join(tmp, "include"))
            with open(os.path.join(tmp, rel), "w") as f:
                f.write(body)
            problems = check(tmp)
            if not any(word in p for p in problems):
                print("selftest: %s with %r was not caught (%s)" % (rel, body[:40], problems))
                ok = False
        finally:
            shutil.rmtree(tmp)
    print("check_layers selftest: %d cases, %s" % (len(SELFTEST), "ok" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(sys.argv[1])
    for p in problems:
        print("layers: " + p)
    print("check_layers: %d files, %d problems" % (len(files(sys.argv[1])), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
