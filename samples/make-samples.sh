#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# make-samples.sh - regenerate the sample captures in samples/ with the real Linux TCP stack.
#
# For each scenario it builds a fresh pair of network namespaces joined by a veth pair
# (198.18.0.1 client, 198.18.0.2 server; 2001:db8::1 / ::2 for IPv6), captures the
# client-side interface with tcpdump, drives the traffic with samples/scenario.py, and at
# the end of the capture records `ss -tanH` in both namespaces as <name>.kernel.json: the
# kernel's own view of every TCP socket, ground truth for tcpstate's state inference.
# The anomaly-* scenarios also use iptables rules inside a namespace to drop chosen segments.
#
# It does not touch anything outside its own namespaces and samples/: no traffic leaves
# 198.18.0.0/15 and 2001:db8::/32, and the namespaces are removed on exit, also on failure.
#
# Usage (as root, Debian 12 with iproute2, tcpdump, python3, iptables):
#   samples/make-samples.sh [scenario...]      # default: all scenarios
#   samples/make-samples.sh anomaly            # only the anomaly-* scenarios ("basic": the others)
# Environment: OUT=dir (default: the directory of this script), VERBOSE=1 (print every packet),
# KEEP_WORK=1 (keep the temporary directory, e.g. to look at a sample that failed its check).
# A sample replaces the old one only after its checks (scenario.py verify) passed.
# Ports, ISNs and timestamps differ on every run, so golden reports built from these
# samples must be regenerated after running this.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$HERE}
PY=/usr/bin/python3
HELPER=$HERE/scenario.py
# shellcheck source=netns-lib.sh
. "$HERE/netns-lib.sh"
VERBOSE=${VERBOSE:-0}

ID=$$
NS_C=tcpst-c-$ID # client namespace (the capture point)
NS_S=tcpst-s-$ID # server namespace
NS_M=tcpst-m-$ID # middle namespace, only for the delaying relay (simultaneous close)
C4=198.18.0.1
S4=198.18.0.2
C6=2001:db8::1
S6=2001:db8::2
PORT=8080

# Between the end state being reached and the ss reading: long enough for the last ACKs and
# any delayed ACK (at most 200 ms on Linux) to be on the wire, short of any other timer.
SETTLE=0.5

WORK=""
PIDS=()     # scenario processes started in the background (killed after the capture ended)
CAP_PID=""  # the running tcpdump

# ------------------------------------------------------------------ preflight

preflight "iproute2, tcpdump, iptables, procps" ip tcpdump ss iptables sysctl

# ------------------------------------------------------------------ cleanup

stop_processes() {
    if [[ -n $CAP_PID ]]; then
        stop_pids INT "$CAP_PID"
        CAP_PID=""
    fi
    stop_pids TERM "${PIDS[@]}"
    PIDS=()
}

ns_down() {
    local ns
    for ns in "$NS_C" "$NS_S" "$NS_M"; do
        if [[ -e /run/netns/$ns ]]; then
            ip netns del "$ns" || true
        fi
    done
}

cleanup() {
    local rc=$?
    set +e
    stop_processes
    ns_down
    remove_work
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

WORK=$(mktemp -d /tmp/tcpst-samples.XXXXXX)

# ------------------------------------------------------------------ namespaces

# ns_up v4|v6|relay
ns_up() {
    local mode=$1 ipmode=v4 ns
    [[ $mode == v6 ]] && ipmode=v6
    rm -f "$WORK"/*.ready "$WORK"/*.armed "$WORK"/*.done "$WORK"/*.go "$WORK"/*.err # markers
    ip netns add "$NS_C"
    ip netns add "$NS_S"
    if [[ $mode == relay ]]; then
        ip netns add "$NS_M"
        ip link add tc0 netns "$NS_C" type veth peer name m0 netns "$NS_M"
        ip link add ts0 netns "$NS_S" type veth peer name m1 netns "$NS_M"
        dev_setup "$NS_M" m0 v4
        dev_setup "$NS_M" m1 v4
        ip -n "$NS_M" link set lo up
        ip -n "$NS_M" link set m0 up
        ip -n "$NS_M" link set m1 up
    else
        ip link add tc0 netns "$NS_C" type veth peer name ts0 netns "$NS_S"
    fi
    dev_setup "$NS_C" tc0 "$ipmode"
    dev_setup "$NS_S" ts0 "$ipmode"
    if [[ $ipmode == v6 ]]; then
        ip -n "$NS_C" addr add "$C6/64" dev tc0 nodad
        ip -n "$NS_S" addr add "$S6/64" dev ts0 nodad
    else
        ip -n "$NS_C" addr add "$C4/24" dev tc0
        ip -n "$NS_S" addr add "$S4/24" dev ts0
    fi
    for ns in "$NS_C" "$NS_S"; do
        ip -n "$ns" link set lo up
    done
    ip -n "$NS_C" link set tc0 up
    ip -n "$NS_S" link set ts0 up
    if [[ $mode == relay ]]; then
        ip netns exec "$NS_M" "$PY" "$HELPER" relay m0 m1 --delay 0.05 2>"$WORK/relay.err" &
        PIDS+=($!)
    fi
    if [[ $ipmode == v6 ]]; then
        # Let the link-up MLD reports (sent twice, about 1 s apart) pass before capturing.
        sleep 3
    else
        sleep 0.2
    fi
}

# ------------------------------------------------------------------ capture

# cap_start NAME DEV [tcpdump args...]
# CAP_SNAPLEN=n cap_start ...: capture only the first n bytes of each frame (default: all).
cap_start() {
    local name=$1 dev=$2
    shift 2
    # -U with --immediate-mode: every packet is in the file as soon as it was seen, so
    # stopping tcpdump loses nothing. -B: in immediate mode libpcap uses a TPACKET_V2 ring of
    # snaplen-sized slots, and for "any" (MTU unknown) a slot is 256 KiB, so the default 2 MiB
    # buffer holds only 8 packets and bursts get dropped. -Z root: no privilege drop.
    ip netns exec "$NS_C" tcpdump -i "$dev" -U --immediate-mode -s "${CAP_SNAPLEN:-0}" \
        -B 65536 -Z root \
        -w "$WORK/$name.pcap" "$@" 2>"$WORK/$name.tcpdump.err" &
    CAP_PID=$!
    tcpdump_wait "$name" "$CAP_PID"
}



# finish NAME HOLD [retry]: wait HOLD seconds, read the kernel's sockets, then stop the capture
# at once (the stop takes a few milliseconds, with no TCP timer due in that window), and only
# then let the processes go. With "retry", a sample that fails its checks only sets
# FINISH_OK=0 (see retrying) instead of ending the script.
FINISH_OK=0
finish() {
    local name=$1 hold=$2 retry=${3:-} t_ss summary
    FINISH_OK=0
    sleep "$hold"
    t_ss=$(date +%s.%N)
    ip netns exec "$NS_C" ss -tanH >"$WORK/$name.ss.client"
    ip netns exec "$NS_S" ss -tanH >"$WORK/$name.ss.server"
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || fail "$name: tcpdump exited with status $?"
    CAP_PID=""
    stop_processes
    if ! grep -q '^0 packets dropped by kernel' "$WORK/$name.tcpdump.err"; then
        cat "$WORK/$name.tcpdump.err" >&2
        fail "$name: tcpdump dropped packets"
    fi
    "$PY" "$HELPER" ssjson --client "$WORK/$name.ss.client" --server "$WORK/$name.ss.server" \
        >"$WORK/$name.kernel.json"
    ns_down
    if ! summary=$("$PY" "$HELPER" pcapcheck "$WORK/$name.pcap" --before "$t_ss"); then
        [[ -n $retry ]] && return 0
        fail "$name: capture check failed"
    fi
    log "$name: $summary"
    if ((VERBOSE)); then
        tcpdump -nn -r "$WORK/$name.pcap" 2>/dev/null >&2
    fi
    if ! "$PY" "$HELPER" verify "$name" "$WORK/$name.pcap" "$WORK/$name.kernel.json" >&2; then
        [[ -n $retry ]] && return 0
        fail "$name: sample does not show what it should (KEEP_WORK=1 keeps it in $WORK)"
    fi
    # Only a checked sample replaces the old one.
    mv "$WORK/$name.pcap" "$OUT/$name.pcap"
    mv "$WORK/$name.kernel.json" "$OUT/$name.kernel.json"
    FINISH_OK=1
}

# retrying N FN: run the scenario body FN (ending in `finish ... retry`) up to N times, for
# samples that depend on chance (random drops) or on a timer firing close to the ss reading.
retrying() {
    local n=$1 fn=$2 i
    for ((i = 1; i <= n; i++)); do
        "$fn" # not in an && list: that would switch off set -e inside it
        ((FINISH_OK)) && return 0
        log "attempt $i of $n did not come out as intended"
    done
    fail "$fn: no attempt came out as intended"
}

# ------------------------------------------------------------------ scenarios

# A request/response exchange where the end state only needs both processes' "done".
simple() {
    local name=$1 kind=$2
    ns_up v4
    cap_start "$name" tc0
    spawn "$NS_S" server "$kind" "$S4" "$PORT" t
    wait_marks t.server.ready
    spawn "$NS_C" client "$kind" "$S4" "$PORT" t
    wait_marks t.client.done t.server.done
    finish "$name" "${3:-$SETTLE}"
}

sc_client_close() { simple client-close client-close; }
sc_server_close() { simple server-close server-close; }
# Both sides then sit idle for 3 s: far below tcp_fin_timeout (60 s), which would end the
# client's orphaned FIN-WAIT-2.
sc_close_wait() { simple close-wait close-wait 3; }
sc_half_close() { simple half-close half-close; }
sc_rst_abort() { simple rst-abort rst-abort; }

sc_refused() {
    ns_up v4
    cap_start refused tc0
    spawn "$NS_C" client refused "$S4" "$PORT" t # nothing listens on the server
    wait_marks t.client.done
    finish refused "$SETTLE"
}

sc_syn_unanswered() {
    ns_up v4
    ip netns exec "$NS_S" iptables -A INPUT -p tcp --dport "$PORT" -j DROP
    # Linux >= 6.x (tcp_syn_linear_timeouts, default 4) first retransmits SYNs at fixed 1 s
    # intervals; turn that off in the client namespace for the classic exponential backoff
    # that older kernels (Debian 12: 6.1) always use, so the sample is the same everywhere.
    if ip netns exec "$NS_C" test -e /proc/sys/net/ipv4/tcp_syn_linear_timeouts; then
        ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0
    fi
    cap_start syn-unanswered tc0
    spawn "$NS_C" client syn-unanswered "$S4" "$PORT" t
    wait_marks t.client.done
    # SYN at 0 s, retransmissions at 1, 3 and 7 s (initial RTO 1 s, doubling); the next is
    # due at 15 s. End at 8.5 s: the capture holds 4 SYNs and the client is in SYN-SENT.
    finish syn-unanswered 8.5
}

sc_ipv6_established() {
    ns_up v6
    # -i any: the file gets a Linux cooked header. tcpdump 4.99.3 with libpcap 1.10.3 (Debian
    # 12) picks LINUX_SLL2 for "any" by default; ask for it explicitly so that other libpcap
    # versions give the same link type.
    cap_start ipv6-established any -y LINUX_SLL2
    spawn "$NS_S" server established "$S6" "$PORT" t
    wait_marks t.server.ready
    spawn "$NS_C" client established "$S6" "$PORT" t
    wait_marks t.client.done t.server.done
    finish ipv6-established "$SETTLE"
}

sc_simultaneous_close() {
    # Through a relay adding 50 ms each way: both sides close within a millisecond of each
    # other, so each FIN is on the wire before the other side's FIN has arrived.
    ns_up relay
    cap_start simultaneous-close tc0
    spawn "$NS_S" server simultaneous-close "$S4" "$PORT" t
    wait_marks t.server.ready
    spawn "$NS_C" client simultaneous-close "$S4" "$PORT" t
    wait_marks t.client.armed t.server.armed
    : >"$WORK/t.go"
    wait_marks t.client.done t.server.done
    finish simultaneous-close 1
}

sc_all_in_one() {
    # Four connections at once for the README demo; captured with -i any -y LINUX_SLL so the
    # samples also hold the first Linux cooked header version.
    ns_up v4
    cap_start all-in-one any -y LINUX_SLL
    spawn "$NS_S" server client-close "$S4" 8080 a
    spawn "$NS_S" server close-wait "$S4" 8081 b
    spawn "$NS_S" server rst-abort "$S4" 8083 d
    wait_marks a.server.ready b.server.ready d.server.ready
    spawn "$NS_C" client client-close "$S4" 8080 a
    spawn "$NS_C" client close-wait "$S4" 8081 b
    spawn "$NS_C" client refused "$S4" 8082 c
    spawn "$NS_C" client rst-abort "$S4" 8083 d
    wait_marks a.client.done a.server.done b.client.done b.server.done c.client.done \
        d.client.done d.server.done
    finish all-in-one 2
}

# ------------------------------------------------------------------ anomaly scenarios
#
# One clear instance of an anomaly on port 8080 (tag t), plus, in most, one normal connection
# on port 8081 (tag n: the client-close exchange) that closes cleanly. The normal connection
# runs at the end, after the anomaly has been held for a while: a pcap has no end-of-capture
# record, so its packets are what makes the stuck time visible in the file (an analyzer
# measures "until the end of the capture" up to the last packet).

NPORT=8081

normal_server() {
    spawn "$NS_S" server client-close "$S4" "$NPORT" n
}
normal_run() {
    spawn "$NS_C" client client-close "$S4" "$NPORT" n
    wait_marks n.client.done n.server.done
}

# go_with NS RULE...: add an iptables rule in NS once the client is armed, then release it.
go_with() {
    local ns=$1
    shift
    wait_marks t.client.armed
    sleep 0.2 # any delayed ACK of the exchange is out before the rule exists
    ip netns exec "$ns" iptables "$@"
    : >"$WORK/t.go"
}

sc_anomaly_close_wait_stuck() {
    # Client: request, shutdown(SHUT_WR), keeps reading. Server: reads to EOF, sends 3 x 100
    # bytes at 0.5, 1.5, 2.5 s after the FIN, never closes. CLOSE-WAIT about 7.5 s in all.
    ns_up v4
    cap_start anomaly-close-wait-stuck tc0
    spawn "$NS_S" server close-wait-stuck "$S4" "$PORT" t
    normal_server
    wait_marks t.server.ready n.server.ready
    spawn "$NS_C" client close-wait-stuck "$S4" "$PORT" t
    wait_marks t.client.done t.server.done
    sleep 5
    normal_run
    finish anomaly-close-wait-stuck "$SETTLE"
}

sc_anomaly_fin_wait_2_stuck() {
    # Client: request, shutdown(SHUT_WR), holds the socket (not orphaned: no FIN-WAIT-2
    # timeout). Server: reads to EOF, then neither sends nor closes.
    ns_up v4
    cap_start anomaly-fin-wait-2-stuck tc0
    spawn "$NS_S" server close-wait "$S4" "$PORT" t
    normal_server
    wait_marks t.server.ready n.server.ready
    spawn "$NS_C" client fin-wait-2-stuck "$S4" "$PORT" t
    wait_marks t.client.done t.server.done
    sleep 7
    normal_run
    finish anomaly-fin-wait-2-stuck "$SETTLE"
}

sc_anomaly_fin_wait_1_stuck() {
    # After the exchange the server namespace drops everything it sends from port 8080, so
    # the client's FIN is never acknowledged (on the wire; the server did receive it).
    ns_up v4
    cap_start anomaly-fin-wait-1-stuck tc0
    spawn "$NS_S" server established "$S4" "$PORT" t
    normal_server
    wait_marks t.server.ready n.server.ready
    spawn "$NS_C" client fin-wait-1-stuck "$S4" "$PORT" t
    go_with "$NS_S" -A OUTPUT -p tcp --sport "$PORT" -j DROP
    wait_marks t.client.done t.server.done
    # FIN at 0 s, retransmissions after RTO 0.2 s doubling: about 0.2, 0.6, 1.4, 3.0, 6.2 s.
    sleep 7
    normal_run
    finish anomaly-fin-wait-1-stuck "$SETTLE"
}

sc_anomaly_last_ack_stuck() {
    # After the exchange the client namespace drops its ACK-only segments to port 8080; its
    # FIN (FIN+ACK) still goes out, the ACK of the server's FIN does not.
    ns_up v4
    cap_start anomaly-last-ack-stuck tc0
    spawn "$NS_S" server client-close "$S4" "$PORT" t
    normal_server
    wait_marks t.server.ready n.server.ready
    spawn "$NS_C" client last-ack-stuck "$S4" "$PORT" t
    go_with "$NS_C" -A OUTPUT -p tcp --dport "$PORT" --tcp-flags ALL ACK -j DROP
    wait_marks t.client.done t.server.done
    sleep 7
    normal_run
    finish anomaly-last-ack-stuck "$SETTLE"
}

sc_anomaly_syn_received() {
    # The client namespace drops its ACK-only segments to port 8080 from the start: the ACK
    # of the SYN-ACK never leaves, the client believes it is ESTABLISHED and sends nothing.
    ns_up v4
    ip netns exec "$NS_C" iptables -A OUTPUT -p tcp --dport "$PORT" --tcp-flags ALL ACK -j DROP
    # SYN cookies are only used when the SYN queue overflows; off anyway, so that a cookie
    # can never stand in for the request socket.
    ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_syncookies=0
    cap_start anomaly-syn-received tc0
    spawn "$NS_S" server listen-only "$S4" "$PORT" t
    normal_server
    wait_marks t.server.ready n.server.ready
    spawn "$NS_C" client syn-received "$S4" "$PORT" t
    wait_marks t.client.done
    # SYN-ACK at 0 s, retransmitted at 1, 3 and 7 s (1 s doubling); the next is due at 15 s.
    sleep 7.8
    normal_run
    finish anomaly-syn-received "$SETTLE"
}

sc_anomaly_zero_window() { retrying 5 anomaly_zero_window_once; }
anomaly_zero_window_once() {
    # The server never reads from a socket with a tiny receive buffer; the client writes
    # (non-blocking) until its own send buffer is full, then the persist timer probes.
    ns_up v4
    cap_start anomaly-zero-window tc0
    spawn "$NS_S" server zero-window "$S4" "$PORT" t
    normal_server
    wait_marks t.server.ready n.server.ready
    spawn "$NS_C" client zero-window "$S4" "$PORT" t
    wait_marks t.client.done t.server.done
    sleep 7
    normal_run
    finish anomaly-zero-window "$SETTLE" retry
}

sc_anomaly_retransmissions() { retrying 5 anomaly_retransmissions_once; }
anomaly_retransmissions_once() {
    # 150000 response bytes; the client namespace drops 5 % of the server's data segments
    # after the capture point (tcpdump sees a frame before netfilter INPUT does), so the
    # capture holds both the lost original and its retransmission. Snaplen 96 keeps it small.
    ns_up v4
    ip netns exec "$NS_C" iptables -A INPUT -p tcp --sport "$PORT" -m length --length 200:65535 \
        -m statistic --mode random --probability 0.05 -j DROP
    CAP_SNAPLEN=96 cap_start anomaly-retransmissions tc0
    spawn "$NS_S" server retransmissions "$S4" "$PORT" t
    normal_server
    wait_marks t.server.ready n.server.ready
    spawn "$NS_C" client retransmissions "$S4" "$PORT" t
    wait_marks t.client.done t.server.done
    normal_run
    finish anomaly-retransmissions "$SETTLE" retry
}

sc_anomaly_keepalive() { retrying 5 anomaly_keepalive_once; }
anomaly_keepalive_once() {
    # TCP_KEEPIDLE=1, TCP_KEEPINTVL=1 on the client, then about 4.5 s of silence.
    ns_up v4
    cap_start anomaly-keepalive tc0
    spawn "$NS_S" server established "$S4" "$PORT" t
    normal_server
    wait_marks t.server.ready n.server.ready
    spawn "$NS_C" client keepalive "$S4" "$PORT" t
    wait_marks t.client.done t.server.done
    sleep 4.5
    normal_run
    finish anomaly-keepalive "$SETTLE" retry
}

sc_anomaly_rst_abort_unacked() {
    # The client sends 500 bytes every 50 ms; the server, never reading, closes once 2000
    # bytes are waiting, which makes its kernel send a RST.
    ns_up v4
    cap_start anomaly-rst-abort-unacked tc0
    spawn "$NS_S" server rst-abort-unacked "$S4" "$PORT" t
    normal_server
    wait_marks t.server.ready n.server.ready
    spawn "$NS_C" client rst-abort-unacked "$S4" "$PORT" t
    wait_marks t.client.done t.server.done
    normal_run
    finish anomaly-rst-abort-unacked "$SETTLE"
}

sc_anomaly_refused_retry() {
    # Three connects, 0.2 s apart, to port 8080 where nothing listens.
    ns_up v4
    cap_start anomaly-refused-retry tc0
    normal_server
    wait_marks n.server.ready
    spawn "$NS_C" client refused-retry "$S4" "$PORT" t
    wait_marks t.client.done
    normal_run
    finish anomaly-refused-retry "$SETTLE"
}

sc_anomaly_half_open_stale() {
    # The client namespace drops the client's RST+ACK segments to port 8080, so its abort
    # of a first connection never reaches the server (half-open). The capture starts after
    # that; the client connects again from the same port: SYN, the server's challenge ACK
    # of the old connection, the client's RST at its ACK number (which ends it), the SYN
    # again (same ISN) when the SYN timer, re-armed to its minimum, fires a few ms later,
    # and a normal exchange with a client close.
    ns_up v4
    ip netns exec "$NS_C" iptables -A OUTPUT -p tcp --dport "$PORT" --tcp-flags RST,ACK RST,ACK \
        -j DROP
    spawn "$NS_S" server half-open-stale "$S4" "$PORT" t
    normal_server
    wait_marks t.server.ready n.server.ready
    spawn "$NS_C" client half-open-stale "$S4" "$PORT" t
    wait_marks t.client.armed
    cap_start anomaly-half-open-stale tc0
    : >"$WORK/t.go"
    wait_marks t.client.done t.server.done
    normal_run
    finish anomaly-half-open-stale "$SETTLE"
}

sc_anomaly_syn_flood_lite() {
    # 30 raw-socket SYNs within 0.9 s, dropped by the server namespace; 7 s later the normal
    # connection, so every SYN has waited at least 7 s (like the stuck states in the other
    # samples) by the end of the capture.
    ns_up v4
    ip netns exec "$NS_S" iptables -A INPUT -p tcp --dport "$PORT" -j DROP
    cap_start anomaly-syn-flood-lite tc0
    normal_server
    wait_marks n.server.ready
    spawn "$NS_C" client syn-flood-lite "$S4" "$PORT" t
    wait_marks t.client.done
    sleep 7
    normal_run
    finish anomaly-syn-flood-lite "$SETTLE"
}

BASIC=(client-close server-close close-wait half-close rst-abort refused syn-unanswered
    ipv6-established simultaneous-close all-in-one)
ANOMALY=(anomaly-close-wait-stuck anomaly-fin-wait-2-stuck anomaly-fin-wait-1-stuck
    anomaly-last-ack-stuck anomaly-syn-received anomaly-zero-window anomaly-retransmissions
    anomaly-keepalive anomaly-rst-abort-unacked anomaly-refused-retry anomaly-syn-flood-lite
    anomaly-half-open-stale)
ALL=("${BASIC[@]}" "${ANOMALY[@]}")

# Group names: "basic" and "anomaly" stand for their lists.
run=()
for arg in "$@"; do
    case $arg in
        basic) run+=("${BASIC[@]}") ;;
        anomaly) run+=("${ANOMALY[@]}") ;;
        *) run+=("$arg") ;;
    esac
done
((${#run[@]})) || run=("${ALL[@]}")
for name in "${run[@]}"; do
    fn="sc_${name//-/_}"
    declare -F "$fn" >/dev/null || fail "unknown scenario '$name' (known: ${ALL[*]})"
done
((HAVE_ETHTOOL)) || log "ethtool not installed: turning offloads off through SIOCETHTOOL"
for name in "${run[@]}"; do
    log "$name"
    "sc_${name//-/_}"
done
log "done; namespaces left: $(ip netns list | grep -c "^tcpst-[csm]-$ID\b" || true)"
