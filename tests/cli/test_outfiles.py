#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Output files cannot be turned against the user (docs/robustness.md, "Output files").

Every output (JSON and text reports and JUnit, written atomically; NDJSON reports and -w,
written in place) is created as a shell redirect would create it and never through what
another user planted:
  - modes: 0666 minus the umask (022 -> 0644, 077 -> 0600); an atomic replace keeps the
    mode of the file it replaces;
  - in a sticky world-writable directory (a private /tmp-like directory made here), a
    symlink owned by another user is not followed (its root-owned target is unchanged) and a
    file owned by another user is not written, for -o in both modes and for -w; as root and
    as the unprivileged user nobody (run with setpriv);
  - a symlink that is ours, or outside such a directory (/dev/stdout), still works;
  - a second SIGTERM leaves no temporary report behind, and the temporary file of a run
    killed with SIGKILL is removed by the next run on the same output.
Skips (77) when not root (it needs to make files of other users).
usage: test_outfiles.py TCPSTATE_BIN SOURCE_DIR
"""
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

from clitest import check, finish

SKIP = 77


def run(args, user=None, umask=None, timeout=60):
    pre = []
    if user:
        pw = pwd.getpwnam(user)
        pre = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"]

    def mask():
        if umask is not None:
            os.umask(umask)
    return subprocess.run(pre + [BIN] + args, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=mask)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def main():
    global BIN
    BIN, src = os.path.abspath(sys.argv[1]), sys.argv[2]
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("skip: needs root (files of other users) and setpriv")
        return SKIP
    sample = os.path.join(src, "samples", "close-wait.pcap")
    tmp = tempfile.mkdtemp(prefix="tcpstate-out-")
    os.chmod(tmp, 0o755)
    nobody = pwd.getpwnam("nobody")
    other = pwd.getpwnam("daemon")  # the user who plants files
    try:
        shutil.copy(sample, os.path.join(tmp, "in.pcap"))
        os.chmod(os.path.join(tmp, "in.pcap"), 0o644)
        cap = os.path.join(tmp, "in.pcap")
        # ---- modes
        for um, want in ((0o022, 0o644), (0o077, 0o600)):
            for fmt in ("json", "ndjson"):
                out = os.path.join(tmp, f"m{um:o}.{fmt}")
                p = run(["--format", fmt, "-o", out, cap], umask=um)
                check(f"umask {um:03o}: --format {fmt} -o is {want:04o}",
                      p.returncode == 0 and mode_of(out) == want, (p.stderr, oct(mode_of(out))
                                                                    if os.path.exists(out) else None))
            w = os.path.join(tmp, f"w{um:o}.pcap")
            p = run(["-w", w, "-o", os.devnull, cap], umask=um)
            check(f"umask {um:03o}: -w file is {want:04o}", p.returncode == 0 and mode_of(w) == want,
                  p.stderr)
        keep = os.path.join(tmp, "keep.json")
        with open(keep, "w") as fh:
            fh.write("old")
        os.chmod(keep, 0o640)
        p = run(["-o", keep, cap], umask=0o022)
        check("an atomic replace keeps the replaced file's mode (0640)",
              p.returncode == 0 and mode_of(keep) == 0o640 and open(keep).read() != "old",
              p.stderr)

        # ---- a sticky world-writable directory with what another user planted
        sticky = os.path.join(tmp, "sticky")
        os.mkdir(sticky)
        os.chmod(sticky, 0o1777)
        victim = os.path.join(tmp, "victim")
        with open(victim, "w") as fh:
            fh.write("root's file\n")
        os.chmod(victim, 0o644)
        for name in ("link.json", "link.ndjson", "link.pcap"):
            os.symlink(victim, os.path.join(sticky, name))
            os.lchown(os.path.join(sticky, name), other.pw_uid, other.pw_gid)
        owned = os.path.join(sticky, "theirs.pcap")
        with open(owned, "w") as fh:
            fh.write("")
        os.chown(owned, other.pw_uid, other.pw_gid)
        os.chmod(owned, 0o666)
        for who in (None, "nobody"):
            label = "root" if who is None else who
            cases = [("-o (atomic JSON)", ["-o", os.path.join(sticky, "link.json"), cap]),
                     ("-o (NDJSON, in place)", ["--format", "ndjson", "-o",
                                                os.path.join(sticky, "link.ndjson"), cap]),
                     ("-w", ["-w", os.path.join(sticky, "link.pcap"), "-o", os.devnull, cap])]
            for what, args in cases:
                p = run(args, user=who)
                lines = p.stderr.strip().splitlines()
                check(f"as {label}: {what} through another user's symlink in a sticky "
                      "directory: refused, exit 2, one line, target unchanged",
                      p.returncode == 2 and len(lines) == 1 and "symbolic link" in lines[0]
                      and open(victim).read() == "root's file\n", (p.returncode, p.stderr))
            p = run(["-w", owned, "-o", os.devnull, cap], user=who)
            check(f"as {label}: -w into another user's file in a sticky directory: refused",
                  p.returncode == 2 and "belongs to another user" in p.stderr and
                  os.path.getsize(owned) == 0, (p.returncode, p.stderr))
        mine = os.path.join(sticky, "mine.json")
        os.symlink(os.path.join(tmp, "mine-target.json"), mine)
        p = run(["--format", "ndjson", "-o", mine, cap])
        check("our own symlink in a sticky directory is followed",
              p.returncode == 0 and os.path.getsize(os.path.join(tmp, "mine-target.json")) > 0,
              p.stderr)
        p = subprocess.run([BIN, "--format", "ndjson", "-o", "/dev/stdout", cap],
                           capture_output=True, text=True, timeout=60)
        check("-o /dev/stdout (a symlink outside such directories) works",
              p.returncode == 0 and '"type":"summary"' in p.stdout, p.stderr)

        # ---- temporary files
        fifo = os.path.join(tmp, "slow.fifo")
        os.mkfifo(fifo)
        out = os.path.join(tmp, "sig.json")
        proc = subprocess.Popen([BIN, "-o", out, fifo], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        with open(fifo, "wb") as w, open(sample, "rb") as r:
            w.write(r.read())
            w.flush()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not [
                    f for f in os.listdir(tmp) if f.startswith("sig.json.tmp.")]:
                time.sleep(0.02)
            temps = [f for f in os.listdir(tmp) if f.startswith("sig.json.tmp.")]
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        left = [f for f in os.listdir(tmp) if f.startswith("sig.json.tmp.")]
        check("a second SIGTERM leaves no temporary report", temps and not left, (temps, left))

        stale = os.path.join(tmp, "stale.json")
        dead = subprocess.Popen(["true"])
        dead.wait()
        junk = f"{stale}.tmp.{dead.pid}.AbCdEf"
        with open(junk, "w") as fh:
            fh.write("x" * 1000)
        live_junk = f"{stale}.tmp.{os.getpid()}.AbCdEf"
        with open(live_junk, "w") as fh:
            fh.write("x")
        p = run(["-o", stale, cap])
        check("the temporary file of a dead run is removed by the next run on that output; "
              "a live process's is kept",
              p.returncode == 0 and not os.path.exists(junk) and os.path.exists(live_junk),
              os.listdir(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
