# SPDX-License-Identifier: BSD-3-Clause
"""Two network namespaces joined by a veth pair, for the CLI tests that need real Linux TCP.

A test subclasses VethLab for its own traffic and capture. The addresses it gives must lie in
198.18.0.0/15: nothing outside the two namespaces is touched, no interface ever appears on the
host, and close() removes the processes and the namespaces in every case. The test script runs
itself inside a namespace as its own helper (`SCRIPT --helper ...`); out() and recv_exact() are
for those helpers.
"""
import os
import shutil
import signal
import subprocess
import sys
import threading


class Skip(Exception):
    """The machine cannot run the test (no root, namespaces, veth or tool)."""


_out_lock = threading.Lock()


def out(line):
    """One line on stdout at once, even from a helper's threads."""
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise RuntimeError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def run(args, timeout=20, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def why_not(tools, hint, doing):
    """None when this machine can run a namespace test, else why not (for a "skip:" line):
    root (to do `doing`), every one of `tools` (`hint` names the packages) and `ip netns`."""
    if os.geteuid() != 0:
        return f"must run as root ({doing})"
    for tool in tools:
        if not shutil.which(tool):
            return f"'{tool}' not found (install {hint})"
    if run(["ip", "netns", "list"]).returncode != 0:
        return "'ip netns' unusable (no network namespace support?)"
    return None


def cleanup_on_sigterm():
    """ctest's timeout sends SIGTERM: make it an exception, so that close() still runs."""
    def on_term(*_):
        raise SystemExit("terminated")

    signal.signal(signal.SIGTERM, on_term)


class VethLab:
    """Namespaces tcpst-TAG-c-PID and tcpst-TAG-s-PID, C_ADDR and S_ADDR on a /24 between them
    (IPv6 off, so that nothing but the test's traffic is on the link), and the processes
    started in them."""

    def __init__(self, tag, script, c_addr, s_addr):
        pid = os.getpid()
        self.ns_c, self.ns_s = f"tcpst-{tag}-c-{pid}", f"tcpst-{tag}-s-{pid}"
        self.dev_c, self.dev_s = f"t{tag}c{pid}"[:15], f"t{tag}s{pid}"[:15]
        self.script = os.path.abspath(script)
        self.c_addr, self.s_addr = c_addr, s_addr
        self.procs = []
        self.made = []

    def ip(self, *args):
        p = run(["ip"] + list(args), timeout=10)
        if p.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {p.stderr.strip()}")

    def up(self, veth_skips=True):
        """veth_skips: a veth pair that cannot be made skips the test (else it fails it)."""
        for ns in (self.ns_c, self.ns_s):
            p = run(["ip", "netns", "add", ns], timeout=10)
            if p.returncode != 0:
                raise Skip(f"cannot create a network namespace: {p.stderr.strip()}")
            self.made.append(ns)
        # Created directly inside the namespaces: no interface ever appears on the host.
        p = run(["ip", "link", "add", self.dev_c, "netns", self.ns_c, "type", "veth", "peer",
                 "name", self.dev_s, "netns", self.ns_s], timeout=10)
        if p.returncode != 0:
            why = f"cannot create a veth pair: {p.stderr.strip()}"
            raise Skip(why) if veth_skips else RuntimeError(why)
        for ns, dev, addr in ((self.ns_c, self.dev_c, self.c_addr),
                              (self.ns_s, self.dev_s, self.s_addr)):
            run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                 f"net.ipv6.conf.{dev}.disable_ipv6=1"], timeout=10)
            self.ip("-n", ns, "addr", "add", addr + "/24", "dev", dev)
            self.ip("-n", ns, "link", "set", "lo", "up")
            self.ip("-n", ns, "link", "set", dev, "up")

    def helper_argv(self, ns, *args):
        return ["ip", "netns", "exec", ns, sys.executable, self.script, "--helper"] + \
            [str(a) for a in args]

    def spawn(self, ns, *args, stderr=subprocess.DEVNULL):
        """The test script's helper in namespace ns, in the background, stdout piped."""
        p = subprocess.Popen(self.helper_argv(ns, *args), stdout=subprocess.PIPE, stderr=stderr,
                             bufsize=0)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        self.procs = []
        for ns in self.made:
            run(["ip", "netns", "del", ns], timeout=10)
        self.made = []
