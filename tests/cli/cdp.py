# SPDX-License-Identifier: BSD-3-Clause
"""A headless Chromium driven over its DevTools protocol, with the standard library only.

Used by test_html.py and docs/img/make_screenshots.py: open a page, evaluate JavaScript
(awaiting promises), collect console messages and uncaught exceptions, take screenshots.
"""
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


class _WebSocket:
    """Just enough of RFC 6455 for one client: text frames, masked, no extensions."""

    def __init__(self, url, timeout):
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {m.group(3)} HTTP/1.1\r\nHost: {m.group(1)}:{m.group(2)}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError("DevTools refused the WebSocket: " + head[:200].decode(errors="replace"))
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def send(self, text):
        data = text.encode()
        n = len(data)
        hdr = bytes([0x81])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 8:
                raise ConnectionError("DevTools closed the WebSocket")
            if op in (9, 10):  # ping/pong: not sent by DevTools in practice
                continue
            parts.append(payload)
            if b0 & 0x80:
                return b"".join(parts).decode()


class Browser:
    """One headless Chromium with one page."""

    def __init__(self, width=1400, height=1000, timeout=120):
        exe = find_chromium()
        if not exe:
            raise FileNotFoundError("chromium not installed")
        self.profile = tempfile.mkdtemp(prefix="tcpstate-chromium-")
        self.timeout = timeout
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if time.time() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30))
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = _WebSocket(page["webSocketDebuggerUrl"], timeout)
        self.next_id = 0
        self.console = []  # (kind, text) of console calls and uncaught exceptions
        self.call("Runtime.enable")
        self.call("Page.enable")

    def _event(self, msg):
        m = msg.get("method")
        if m == "Runtime.consoleAPICalled":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in msg["params"]["args"])
            self.console.append((msg["params"]["type"], args))
        elif m == "Runtime.exceptionThrown":
            d = msg["params"]["exceptionDetails"]
            self.console.append(("exception", d.get("exception", {}).get("description", d.get("text"))))
        elif m == "Page.loadEventFired":
            self.loaded = True

    def call(self, method, **params):
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._event(msg)

    def open(self, url):
        """Load url and wait for the load event."""
        self.loaded = False
        r = self.call("Page.navigate", url=url)
        if "errorText" in r:
            raise RuntimeError(f"{url}: {r['errorText']}")
        if "loaderId" not in r:
            return  # the same document at another #fragment: no load event comes
        deadline = time.time() + self.timeout
        while not self.loaded:
            if time.time() > deadline:
                raise TimeoutError(f"{url}: no load event in {self.timeout} s")
            self._event(json.loads(self.ws.recv()))

    def eval(self, expr):
        """The value of a JavaScript expression (a promise is awaited); errors raise."""
        r = self.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("JavaScript: " + r["exceptionDetails"].get("exception", {}).get(
                "description", r["exceptionDetails"].get("text", "?")))
        return r["result"].get("value")

    def wait(self, expr, timeout=None):
        """Wait until expr is truthy in the page."""
        deadline = time.time() + (timeout or self.timeout)
        while not self.eval(expr):
            if time.time() > deadline:
                raise TimeoutError(f"timed out waiting for {expr}")
            time.sleep(0.02)

    def screenshot(self, path, full_page=False, selector=None):
        """A PNG of the viewport, the whole page, or one element (CSS selector)."""
        params = {"format": "png"}
        if selector:
            r = self.eval(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                          ".getBoundingClientRect(); return {x: r.x + scrollX, y: r.y + scrollY,"
                          " width: r.width, height: r.height}; })()")
            params["clip"] = dict(r, scale=1)
            params["captureBeyondViewport"] = True
        elif full_page:
            m = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": m["width"], "height": m["height"], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        if getattr(self, "proc", None) and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
