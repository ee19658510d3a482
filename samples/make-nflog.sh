#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# make-nflog.sh - samples/nflog-close-wait.pcap: a capture of link type NFLOG (239), as
# `tcpdump -i nflog:5` takes it from iptables' NFLOG target, of one loopback connection in a
# network namespace of its own whose server keeps CLOSE_WAIT.  Prints the kernel's `ss -tanH`
# at the moment the capture stops (the .kernel.json ground truth).  Needs root, iproute2,
# iptables and tcpdump.  usage: sudo samples/make-nflog.sh [OUTDIR]
set -euo pipefail
OUT=${1:-$(dirname "$0")}
WORK=$(mktemp -d)
export READY="$WORK/ready"
NS=tcpst-nfl-$$
ip netns add $NS; trap 'ip netns del $NS; rm -rf "$WORK"' EXIT
ip -n $NS link set lo up
ip netns exec $NS iptables -A OUTPUT -p tcp --dport 8080 -j NFLOG --nflog-group 5
ip netns exec $NS iptables -A OUTPUT -p tcp --sport 8080 -j NFLOG --nflog-group 5
ip netns exec $NS tcpdump -i nflog:5 -U -w "$OUT/nflog-close-wait.pcap" 2>"$WORK/td.err" & TD=$!
sleep 1
ip netns exec $NS python3 - <<'PY' &
import os, socket, time
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 8080)); ls.listen(4)
c = socket.create_connection(("127.0.0.1", 8080)); s, _ = ls.accept()
c.sendall(b"q" * 300); s.recv(1000); s.sendall(b"r" * 400); c.recv(1000)
c.close(); s.recv(10)   # client closes; server reads the FIN and keeps its side: CLOSE_WAIT
time.sleep(0.5)
open(os.environ["READY"],"w").close(); time.sleep(4)
PY
while [ ! -e "$WORK/ready" ]; do sleep 0.1; done; sleep 1; ip netns exec $NS ss -tanH > "$WORK/ss.txt"; kill -INT $TD; wait $TD || true; wait
cat "$WORK/ss.txt"
