#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Memory stays flat however many records wait behind one long-lived connection.

The JSON and text reports list connections by id, so while connection 1 stays open every
later record waits. Waiting records spill to a temporary file past 8 MiB; what stays in
memory for them must not grow with their number either (it did: about 32 bytes per record,
68, 84 and 115 MB peak at 0.5, 1 and 2 million). A generated stream (connection 1 open from
the first packet to the last, then N refused connections, each written out 60 s after its
RST) is piped into tcpstate --connections none, for N = 500,000 and N = 4,000,000; the peak
RSS (VmHWM, sampled from /proc every 0.1 s) of the large run may exceed the small one's by
at most 8 MiB.

A sanitized binary (shadow memory makes RSS meaningless) runs 200,000 records through the
spill path and is judged by the sanitizers alone.
usage: test_held_memory.py TCPSTATE_BIN SOURCE_DIR
"""
import os
import struct
import subprocess
import sys
import threading
import time

from clitest import check, finish, note

SMALL, LARGE = 500_000, 4_000_000
SLACK_KIB = 8 * 1024


def packets(n):
    """The capture as pcap bytes, in blocks."""
    c, s = bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])

    def frame(src, dst, sport, dport, seq, ack, flags):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src, dst)
        return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp

    def rec(ts_us, fr):
        return struct.pack("<IIII", ts_us // 1_000_000, ts_us % 1_000_000, len(fr), len(fr)) + fr

    t = 1_800_000_000 * 1_000_000
    yield struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    yield (rec(t, frame(c, s, 40000, 80, 100, 0, 0x02)) +
           rec(t + 1000, frame(s, c, 80, 40000, 500, 101, 0x12)) +
           rec(t + 2000, frame(c, s, 40000, 80, 101, 501, 0x10)))
    syn = bytearray(frame(c, s, 0, 81, 0, 0, 0x02))
    rst = bytearray(frame(s, c, 81, 0, 0, 0, 0x14))
    block = []
    for i in range(n):
        ts = t + 10_000 + i * 500  # all within --timeout-active of connection 1
        port = 1024 + i % 60000
        struct.pack_into("!H", syn, 34, port)
        struct.pack_into("!I", syn, 38, i)
        struct.pack_into("!H", rst, 36, port)
        struct.pack_into("!I", rst, 42, i + 1)
        block.append(rec(ts, bytes(syn)) + rec(ts + 100, bytes(rst)))
        if len(block) == 4096:
            yield b"".join(block)
            block = []
    yield b"".join(block) + rec(t + 10_000 + n * 500 + 100_000_000,
                                frame(c, s, 40000, 80, 101, 501, 0x10))


def peak_kib(binary, n):
    p = subprocess.Popen([binary, "--connections", "none", "-o", os.devnull, "-"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                with open(f"/proc/{p.pid}/status") as fh:
                    for line in fh:
                        if line.startswith("VmHWM:"):
                            peak[0] = max(peak[0], int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.monotonic()
    try:
        for b in packets(n):
            p.stdin.write(b)
        p.stdin.close()
    except BrokenPipeError:
        pass
    err = p.stderr.read().decode()
    rc = p.wait(timeout=600)
    done.set()
    th.join()
    return rc, err, peak[0], time.monotonic() - t0


def main():
    binary = os.path.abspath(sys.argv[1])
    with open(binary, "rb") as fh:
        image = fh.read()
    if b"__asan_init" in image or b"__ubsan_handle" in image or b"__tsan_init" in image:
        # Shadow memory makes RSS meaningless: the sanitizers judge the spill path instead.
        rc, err, _, secs = peak_kib(binary, 200_000)
        note(f"sanitized binary: 200000 waiting records in {secs:.1f} s; RSS is measured on "
             "the plain build")
        check("sanitized: 200000 waiting records spilled and read back, exit 0, no report "
              "from the sanitizers", rc == 0 and err == "", (rc, err[-2000:]))
        return finish()
    results = {}
    for n in (SMALL, LARGE):
        rc, err, peak, secs = peak_kib(binary, n)
        note(f"{n} records waiting behind one connection: peak RSS {peak} KiB, {secs:.1f} s")
        check(f"{n} waiting records: exit 0, nothing on stderr", rc == 0 and err == "", (rc, err))
        results[n] = peak
    check(f"peak RSS flat from {SMALL} to {LARGE} waiting records (within {SLACK_KIB} KiB)",
          results[LARGE] - results[SMALL] <= SLACK_KIB, results)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
