#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Shipping: the man page, shell completion, `cmake --install` and the .deb.

- docs/tcpstate.1 passes `mandoc -T lint` (when mandoc is installed) and `man --warnings`
  without a message, names the binary's version, and documents every long option --help
  lists (as docs/cli.md does), every exit status and the SEE ALSO pages;
- the bash completion completes --format values, anomaly ids in --fail-on lists and
  --explain, options from --help, and interfaces for -i;
- `cmake --install` into a staging directory puts the binary, the man page, both
  completions and the docs under share/doc/tcpstate;
- `cpack -G DEB` builds a .deb that depends on libpcap0.8 and libjansson4; as root with
  dpkg, it is installed with `dpkg -i`, /usr/bin/tcpstate --version and `man tcpstate`
  work, the installed binary reports a bundled sample, and `dpkg -r` removes it all.

usage: test_package.py TCPSTATE_BIN SOURCE_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import check, finish, note  # noqa: E402


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def complete(binary, src, words):
    """COMPREPLY of the bash completion for the words typed (the last one being completed)."""
    script = (f"source {src}/completions/tcpstate.bash\n"
              f"COMP_WORDS=({' '.join(repr(w) for w in [binary] + words)})\n"
              f"COMP_CWORD={len(words)}\n_tcpstate\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    return sh(["bash", "-c", script]).stdout.split()


def main():
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    build = os.path.dirname(binary)
    man = os.path.join(src, "docs", "tcpstate.1")
    version = sh([binary, "--version"]).stdout.split()[1]

    # The man page.
    text = open(man).read()
    if shutil.which("mandoc"):
        p = sh(["mandoc", "-T", "lint", man])
        check("mandoc -T lint: no message", p.returncode == 0 and not p.stdout + p.stderr,
              p.stdout + p.stderr)
    else:
        note("mandoc not installed: man --warnings only")
    p = sh(["man", "--warnings", "-l", man], env=dict(os.environ, MANWIDTH="80"))
    check("man --warnings: no message", p.returncode == 0 and not p.stderr, p.stderr)
    check("man page: the binary's version", f'"tcpstate {version}"' in text, version)
    helptext = sh([binary, "--help"]).stdout
    longs = sorted(set(re.findall(r"--([a-z][a-z-]+)", helptext)))
    plain = text.replace("\\-", "-")
    missing = [o for o in longs if "--" + o not in plain]
    check(f"man page: every long option of --help ({len(longs)})", not missing, missing)
    climd = open(os.path.join(src, "docs", "cli.md")).read()
    missing = [o for o in longs if "--" + o not in climd]
    check("docs/cli.md: every long option of --help too", not missing, missing)
    for status in ("0", "1", "2", "3", "4", "128+N"):
        check(f"man page: exit status {status}", re.search(r"\n\.B " + re.escape(status) + r"\n",
                                                            text) or status in text)
    check("man page: SEE ALSO tcpdump(8), zeek(8)",
          ".BR tcpdump (8)" in text and ".BR zeek (8)" in text)

    # Completion.
    check("completion: --format values", {"json", "html", "ladder", "zeek"} <=
          set(complete(binary, src, ["--format", ""])))
    check("completion: --fail-on list items",
          complete(binary, src, ["--fail-on", "retransmission,close_w"]) ==
          ["retransmission,close_wait_stuck"], complete(binary, src, ["--fail-on", "retransmission,close_w"]))
    check("completion: --explain ids", complete(binary, src, ["--explain", "zero_"]) ==
          ["zero_window", "zero_window_stall"])
    check("completion: options from --help", "--format" in complete(binary, src, ["--form"]))
    check("completion: interfaces for -i", "lo" in complete(binary, src, ["-i", "l"]),
          complete(binary, src, ["-i", ""]))

    # cmake --install.
    stage = tempfile.mkdtemp(prefix="tcpstate-install-")
    try:
        p = sh(["cmake", "--install", build, "--prefix", "/usr"], env=dict(os.environ, DESTDIR=stage))
        want = ["usr/bin/tcpstate", "usr/share/man/man1/tcpstate.1",
                "usr/share/bash-completion/completions/tcpstate",
                "usr/share/zsh/vendor-completions/_tcpstate",
                "usr/share/doc/tcpstate/README.md", "usr/share/doc/tcpstate/LICENSE",
                "usr/share/doc/tcpstate/anomalies.md", "usr/share/doc/tcpstate/report.schema.json",
                "usr/share/doc/tcpstate/img/html-ladder.png"]
        absent = [w for w in want if not os.path.exists(os.path.join(stage, w))]
        check("cmake --install: binary, man page, completions, docs", p.returncode == 0 and not absent,
              (p.stderr[-500:], absent))
    finally:
        shutil.rmtree(stage, ignore_errors=True)

    # The .deb.
    out = tempfile.mkdtemp(prefix="tcpstate-deb-")
    try:
        p = sh(["cpack", "-G", "DEB", "-B", out], cwd=build)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        if not check("cpack -G DEB builds one .deb", p.returncode == 0 and len(debs) == 1,
                     p.stdout[-800:] + p.stderr[-800:]):
            return finish()
        deb = os.path.join(out, debs[0])
        info = sh(["dpkg-deb", "-f", deb, "Depends"]).stdout
        check("the .deb depends on libpcap0.8 and libjansson4",
              "libpcap0.8" in info and "libjansson4" in info, info)
        if os.geteuid() != 0 or not shutil.which("dpkg"):
            note("not root (or no dpkg): the .deb is not installed")
            return finish()
        if sh(["dpkg-query", "-W", "tcpstate"]).returncode == 0:
            note("a tcpstate package is installed already: not replaced")
            return finish()
        try:
            p = sh(["dpkg", "-i", deb])
            check("dpkg -i", p.returncode == 0, p.stdout[-500:] + p.stderr[-500:])
            v = sh(["/usr/bin/tcpstate", "--version"])
            check("installed: tcpstate --version", v.returncode == 0 and v.stdout.startswith(
                f"tcpstate {version}\nlibpcap"), v.stdout + v.stderr)
            m = sh(["man", "tcpstate"], env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
            check("installed: man tcpstate", m.returncode == 0 and "SYNOPSIS" in m.stdout
                  and "EXIT STATUS" in m.stdout, m.stderr[-300:])
            r = sh(["/usr/bin/tcpstate", "--format", "text", os.path.join(src, "samples", "close-wait.pcap")])
            check("installed: a report of a bundled sample", r.returncode == 0 and "CLOSE_WAIT" in r.stdout,
                  r.stdout + r.stderr)
        finally:
            p = sh(["dpkg", "-r", "tcpstate"])
            check("dpkg -r removes it", p.returncode == 0 and not os.path.exists("/usr/bin/tcpstate")
                  and not os.path.exists("/usr/share/man/man1/tcpstate.1.gz")
                  and not os.path.exists("/usr/share/man/man1/tcpstate.1"), p.stderr)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
