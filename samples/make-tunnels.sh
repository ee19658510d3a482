#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# make-tunnels.sh - regenerate the tunnel captures samples/tunnel-*.pcap with the real Linux
# TCP stack: the same TCP connections captured twice, encapsulated and plain.
#
# For each tunnel type it builds two network namespaces joined by a veth pair, the
# "underlay" (u0: 198.18.1.1 client, 198.18.1.2 server; 2001:db8:1::1 / ::2 for IPv6
# underlays), and over it a tunnel device t0 whose inner addresses are 198.18.N.1 / .2 or
# 2001:db8:N::1 / ::2 (N per tunnel type, see TUNNELS below). Four connections run through
# the tunnel with samples/scenario.py (stuck CLOSE-WAIT, normal client close, refused, RST
# abort) while two tcpdumps run in the client namespace: one on u0 (the encapsulated frames,
# tunnel-T.pcap) and one on t0 (the same TCP segments without the tunnel, tunnel-T-inner.pcap).
# At the end of the capture `ss -tanH` in both namespaces becomes tunnel-T.kernel.json, in the
# format of the other *.kernel.json files.
#
# Where the kernel has the tunnel driver (`ip link add ... type T` works), the kernel
# encapsulates. Where it lacks the driver, a userspace tunnel endpoint (tunnels.py, written by
# this script into its work directory) encapsulates instead: it reads the inner packets from a
# TUN/TAP device t0 and sends them in the tunnel's header through a raw IP or UDP socket, and
# back. The TCP segments and the ss ground truth are the kernel's either way; only the tunnel
# header bytes are ours then. TUNNEL_IMPL=kernel skips types without a kernel driver,
# TUNNEL_IMPL=userspace always uses the userspace endpoint.
#
# Before a sample replaces the old one, tunnels.py check decodes the outer capture with its own
# decapsulator and verifies that it holds exactly the inner capture's TCP segments, in the
# expected tunnel header (type, VNI/key/session), and that the kernel states are as intended.
#
# It touches nothing outside its own namespaces and samples/: no traffic leaves 198.18.0.0/15
# and 2001:db8::/32, and the namespaces (with every device in them) are removed on exit, also
# on failure.
#
# Usage (as root; iproute2, tcpdump, python3, ss):
#   samples/make-tunnels.sh [type...]          # default: every type in TUNNELS
# Environment: OUT=dir (default: this directory), TUNNEL_IMPL=auto|kernel|userspace,
# KEEP_WORK=1 (keep the work directory), VERBOSE=1 (print every packet).
# ISNs, timestamps, IP ids and VXLAN source ports differ on every run; addresses, ports
# (client ports are fixed through ip_local_port_range), payloads and each direction's segment
# sequence do not.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$HERE}
PY=/usr/bin/python3
HELPER=$HERE/scenario.py
# shellcheck source=netns-lib.sh
. "$HERE/netns-lib.sh"
IMPL=${TUNNEL_IMPL:-auto}
VERBOSE=${VERBOSE:-0}

ID=$$
NS_C=tcpst-tunc-$ID # client namespace (both capture points)
NS_S=tcpst-tuns-$ID # server namespace
U4C=198.18.1.1
U4S=198.18.1.2
U6C=2001:db8:1::1
U6S=2001:db8:1::2

# name:N:underlay:inner:layer  (layer: l2 = Ethernet frames inside (TAP), l3 = IP inside (TUN))
# N: inner subnet 198.18.N.0/24 or 2001:db8:N::/64. Tunnel ids (VNI, GRE key, ERSPAN session)
# are in kernel_args and, for the userspace endpoint and the check, in tunnels.py's TUNNELS.
TUNNELS=(
    vxlan:2:v4:v4:l2
    vxlan6:3:v6:v6:l2
    geneve:4:v4:v4:l2
    gre:5:v4:v4:l3
    gretap:6:v4:v4:l2
    ipip:7:v4:v4:l3
    sit:8:v4:v6:l3
    ip6tnl:9:v6:v4:l3
    ip6ip6:10:v6:v6:l3
    ip6gre:11:v6:v6:l3
    erspan:12:v4:v4:l2
    erspan2:13:v4:v4:l2
)

# kernel_args TYPE LOCAL REMOTE: `ip link add t0` arguments for the kernel's own driver, one
# line of words without spaces inside, used unquoted (shellcheck SC2046) to split them.
kernel_args() {
    local l=$2 r=$3
    case $1 in
        vxlan) echo "type vxlan id 42 local $l remote $r dstport 4789 srcport 49152 65535" ;;
        vxlan6) echo "type vxlan id 43 local $l remote $r dstport 4789 srcport 49152 65535" ;;
        geneve) echo "type geneve id 77 remote $r dstport 6081" ;;
        gre) echo "type gre key 7 local $l remote $r" ;;
        gretap) echo "type gretap key 8 local $l remote $r" ;;
        ipip) echo "type ipip local $l remote $r" ;;
        sit) echo "type sit local $l remote $r" ;;
        ip6tnl) echo "type ip6tnl mode ipip6 local $l remote $r" ;;
        ip6ip6) echo "type ip6tnl mode ip6ip6 local $l remote $r" ;;
        ip6gre) echo "type ip6gre key 9 local $l remote $r" ;;
        erspan) echo "type erspan seq key 55 erspan_ver 1 erspan 123 local $l remote $r" ;;
        erspan2)
            echo "type erspan seq key 56 erspan_ver 2 erspan_dir ingress erspan_hwid 7" \
                "local $l remote $r"
            ;;
        *) return 1 ;;
    esac
}

# The close-wait connection is held this long before the others run, so that tcpstate
# --stuck-after 1 reports it; then SETTLE (last ACKs, delayed ACKs) before the ss reading.
HOLD=1.5
SETTLE=0.5

WORK=""
PIDS=()     # scenario processes and tunnel endpoints
CAP_PIDS=() # the two tcpdumps

# ------------------------------------------------------------------ preflight

case $IMPL in
    auto | kernel | userspace) ;;
    *) fail "TUNNEL_IMPL must be auto, kernel or userspace" ;;
esac
preflight "iproute2, tcpdump" ip tcpdump ss sysctl

# ------------------------------------------------------------------ cleanup

stop_captures() {
    stop_pids INT "${CAP_PIDS[@]}"
    CAP_PIDS=()
}

stop_processes() {
    stop_pids TERM "${PIDS[@]}"
    PIDS=()
}

ns_down() {
    local ns
    for ns in "$NS_C" "$NS_S" "tcpst-tunp-$ID"; do
        if [[ -e /run/netns/$ns ]]; then
            # Devices go with the namespace; delete them first anyway, so that nothing
            # could be handed back to the initial namespace.
            ip -n "$ns" link del t0 2>/dev/null || true
            ip -n "$ns" link del u0 2>/dev/null || true
            ip netns del "$ns" || true
        fi
    done
}

cleanup() {
    local rc=$?
    set +e
    stop_captures
    stop_processes
    ns_down
    remove_work
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

WORK=$(mktemp -d /tmp/tcpst-tunnels.XXXXXX)

# ------------------------------------------------------------------ tunnels.py

# The userspace tunnel endpoint and the sample check. Written here rather than kept as a file
# of its own so that the generator is one script next to scenario.py, which it imports.
cat >"$WORK/tunnels.py" <<'PYEOF'
"""tunnels.py - userspace tunnel endpoint and sample check for make-tunnels.sh.

relay TYPE DEV LOCAL REMOTE --ready FILE: one end of a tunnel. Reads the inner packets (TUN)
or frames (TAP) from DEV, sends them in the tunnel's header through a raw IP socket (GRE,
IP-in-IP) or a UDP socket (Geneve) to REMOTE, and writes what arrives from REMOTE back to DEV.
Used where the kernel has no driver for the tunnel type. It does no fragmentation, no
checksum option, no GRE sequence checking: the samples need none.

check TYPE OUTER INNER KERNEL: decapsulates OUTER itself and verifies that it carries exactly
INNER's TCP segments, all in the expected tunnel header, and that the connections and the
kernel's states are the ones the scenarios make.
"""
import fcntl
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.environ["SAMPLES_DIR"])
import scenario  # noqa: E402  (read_pcap, decode)

# type -> how it is built. proto: GRE protocol type or IP protocol; ids as in kernel_args.
TUNNELS = {
    "vxlan": {"carrier": "udp", "port": 4789, "vni": 42, "layers": [("vxlan", 42)]},
    "vxlan6": {"carrier": "udp", "port": 4789, "vni": 43, "layers": [("vxlan", 43)]},
    "geneve": {"carrier": "udp", "port": 6081, "vni": 77, "layers": [("geneve", 77)]},
    "gre": {"carrier": "gre", "key": 7, "layers": [("gre", 7)]},
    "gretap": {"carrier": "gre", "key": 8, "layers": [("gre", 8)]},
    "ipip": {"carrier": "ip", "layers": [("ip", None)]},
    "sit": {"carrier": "ip", "layers": [("ip", None)]},
    "ip6tnl": {"carrier": "ip", "layers": [("ip", None)]},
    "ip6ip6": {"carrier": "ip", "layers": [("ip", None)]},
    "ip6gre": {"carrier": "gre", "key": 9, "layers": [("gre", 9)]},
    "erspan": {"carrier": "gre", "erspan": 1, "session": 55, "index": 123,
               "layers": [("gre", None), ("erspan", 55)]},
    "erspan2": {"carrier": "gre", "erspan": 2, "session": 56, "hwid": 7,
                "layers": [("gre", None), ("erspan", 56)]},
}

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000
ETH_IPV4, ETH_IPV6, ETH_TEB = 0x0800, 0x86DD, 0x6558  # TEB: Ethernet frame inside
GRE_ERSPAN2, GRE_ERSPAN3 = 0x88BE, 0x22EB  # ERSPAN type II (version 1), type III (version 2)
GRE_C, GRE_K, GRE_S = 0x8000, 0x2000, 0x1000


def die(msg):
    sys.stderr.write("tunnels.py: %s\n" % msg)
    sys.exit(1)


# ---------------------------------------------------------------- encapsulation


def gre_header(proto, key=None, seq=None):
    """RFC 2784 with the RFC 2890 key and sequence number fields (in that order)."""
    flags, extra = 0, b""
    if key is not None:
        flags |= GRE_K
        extra += struct.pack("!I", key)
    if seq is not None:
        flags |= GRE_S
        extra += struct.pack("!I", seq & 0xFFFFFFFF)
    return struct.pack("!HH", flags, proto) + extra


def erspan_header(spec):
    """ERSPAN type II (8 bytes) or type III without the optional subheader (12 bytes), laid
    out as Linux's erspan driver writes them (include/net/erspan.h): VLAN 0, COS 0,
    encapsulation type / BSO 0, T 0, session id; type III with a 100 us timestamp."""
    if spec["erspan"] == 1:
        return struct.pack("!II", (1 << 28) | spec["session"], spec["index"] & 0xFFFFF)
    stamp = int(time.time() * 10000) & 0xFFFFFFFF
    gra = 1  # timestamp granularity: 100 microseconds
    word2 = (spec["hwid"] << 4) | (gra << 1)  # SGT 0, P 0, FT 0 (Ethernet), D 0 (ingress), O 0
    return struct.pack("!III", (2 << 28) | spec["session"], stamp, word2)


def encapsulate(spec, inner, l2, seq):
    if spec["carrier"] == "udp":  # Geneve, RFC 8926: no options, protocol TEB
        return struct.pack("!BBHI", 0, 0, ETH_TEB, spec["vni"] << 8) + inner
    if spec["carrier"] == "ip":
        return inner
    if "erspan" in spec:
        proto = GRE_ERSPAN2 if spec["erspan"] == 1 else GRE_ERSPAN3
        return gre_header(proto, seq=seq) + erspan_header(spec) + inner
    if l2:
        proto = ETH_TEB
    else:
        proto = ETH_IPV6 if inner[0] >> 4 == 6 else ETH_IPV4
    return gre_header(proto, key=spec["key"]) + inner


def decapsulate(spec, data):
    """Tunnel payload -> inner packet/frame, or None when it is not ours."""
    if spec["carrier"] == "udp":
        if len(data) < 8 or data[0] != 0 or struct.unpack("!I", data[4:8])[0] >> 8 != spec["vni"]:
            return None
        return data[8:]
    if spec["carrier"] == "ip":
        return data
    g = parse_gre(data)
    if g is None:
        return None
    proto, key, off = g
    if "erspan" in spec:
        e = parse_erspan(proto, data, off)
        return None if e is None or e[0] != spec["session"] else data[e[1]:]
    return data[off:] if key == spec["key"] else None


def parse_gre(p):
    """-> (protocol, key or None, payload offset) or None."""
    if len(p) < 4:
        return None
    flags, proto = struct.unpack("!HH", p[:4])
    if flags & 0x0007:  # version 0 only (1 is PPTP's enhanced GRE)
        return None
    off, key = 4, None
    if flags & GRE_C:
        off += 4
    if flags & GRE_K:
        key = struct.unpack("!I", p[off : off + 4])[0]
        off += 4
    if flags & GRE_S:
        off += 4
    return (proto, key, off) if off <= len(p) else None


def parse_erspan(proto, p, off):
    """-> (session id, offset of the mirrored Ethernet frame) or None."""
    if proto == GRE_ERSPAN2 and len(p) >= off + 8:
        word0 = struct.unpack("!I", p[off : off + 4])[0]
        return (word0 & 0x3FF, off + 8) if word0 >> 28 == 1 else None
    if proto == GRE_ERSPAN3 and len(p) >= off + 12:
        word0, _, word2 = struct.unpack("!III", p[off : off + 12])
        if word0 >> 28 != 2:
            return None
        return word0 & 0x3FF, off + 12 + (8 if word2 & 1 else 0)
    return None


# ---------------------------------------------------------------- relay


def relay(kind, dev, local, remote, l2, ready):
    spec = TUNNELS[kind]
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH", dev.encode(), (IFF_TAP if l2 else IFF_TUN) | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)  # attach to the device `ip tuntap add` made
    fam = socket.AF_INET6 if ":" in local else socket.AF_INET
    port = spec.get("port", 0)
    socks = {}  # inner IP version (or 0: any) -> socket
    if spec["carrier"] == "udp":
        socks[0] = socket.socket(fam, socket.SOCK_DGRAM)
    elif spec["carrier"] == "gre":
        socks[0] = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_GRE)
    else:  # IP in IP: protocol 4 for IPv4 inside, 41 for IPv6 inside (RFC 2003, 4213, 2473)
        socks[4] = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_IPIP)
        socks[6] = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_IPV6)
    for s in socks.values():
        s.bind((local, port))
    raw4 = fam == socket.AF_INET and spec["carrier"] != "udp"
    seq = 0
    with open(ready, "w") as f:
        f.write("%d\n" % os.getpid())
    while True:
        r, _, _ = select.select([fd] + list(socks.values()), [], [])
        for x in r:
            if x == fd:
                inner = os.read(fd, 65536)
                if spec["carrier"] == "ip":
                    s = socks.get(inner[0] >> 4)
                    if s is None:
                        continue
                else:
                    s = socks[0]
                seq += 1
                s.sendto(encapsulate(spec, inner, l2, seq), (remote, port))
                continue
            data, addr = x.recvfrom(65536)
            if addr[0] != remote:
                continue
            if raw4:  # raw IPv4 sockets see the IP header, raw IPv6 sockets do not
                data = data[(data[0] & 0x0F) * 4 :]
            inner = decapsulate(spec, data)
            if inner:
                os.write(fd, inner)


# ---------------------------------------------------------------- check


def ip_payload(l3):
    """-> (IP protocol, payload) of an IPv4 or IPv6 packet (no extension headers expected)."""
    if l3[0] >> 4 == 4:
        ihl, total = (l3[0] & 0x0F) * 4, struct.unpack("!H", l3[2:4])[0]
        return l3[9], l3[ihl:total]
    plen = struct.unpack("!H", l3[4:6])[0]
    return l3[6], l3[40 : 40 + plen]


def outer_layers(linktype, frame):
    """Decapsulate an underlay frame: -> (layers, ethertype, inner l3) or None if no tunnel."""
    if linktype != 1:
        die("outer capture: link type %d, expected Ethernet" % linktype)
    if struct.unpack("!H", frame[12:14])[0] not in (ETH_IPV4, ETH_IPV6):
        return None
    proto, p = ip_payload(frame[14:])
    layers = []
    if proto == 17 and len(p) >= 16:
        dport = struct.unpack("!H", p[2:4])[0]
        vni = struct.unpack("!I", p[12:16])[0] >> 8
        if dport == 4789 and p[8] & 0x08:  # VXLAN, RFC 7348: I flag, VNI, Ethernet inside
            layers.append(("vxlan", vni))
            eth = p[16:]
        elif dport == 6081 and p[8] >> 6 == 0:  # Geneve, RFC 8926
            optlen = (p[8] & 0x3F) * 4
            if struct.unpack("!H", p[10:12])[0] != ETH_TEB:
                die("Geneve protocol is not Ethernet")
            layers.append(("geneve", vni))
            eth = p[16 + optlen :]
        else:
            return None
    elif proto == 47:
        g = parse_gre(p)
        if g is None:
            die("bad GRE header")
        gproto, key, off = g
        layers.append(("gre", key))
        if gproto in (ETH_IPV4, ETH_IPV6):
            return layers, gproto, p[off:]
        if gproto == ETH_TEB:
            eth = p[off:]
        elif gproto in (GRE_ERSPAN2, GRE_ERSPAN3):
            e = parse_erspan(gproto, p, off)
            if e is None:
                die("bad ERSPAN header")
            layers.append(("erspan", e[0]))
            eth = p[e[1] :]
        else:
            die("GRE protocol 0x%04x" % gproto)
    elif proto in (4, 41):
        return [("ip", None)], ETH_IPV4 if proto == 4 else ETH_IPV6, p
    else:
        return None
    return layers, struct.unpack("!H", eth[12:14])[0], eth[14:]


def inner_l3(linktype, frame):
    if linktype == 1:  # TAP, VXLAN, Geneve, gretap, ERSPAN devices
        return struct.unpack("!H", frame[12:14])[0], frame[14:]
    if linktype in (101, 12, 14):  # raw IP (TUN)
        return (ETH_IPV6 if frame[0] >> 4 == 6 else ETH_IPV4), frame
    if linktype == 113:  # Linux cooked v1 (kernel GRE/IPIP devices)
        return struct.unpack("!H", frame[14:16])[0], frame[16:]
    if linktype == 276:
        return struct.unpack("!H", frame[0:2])[0], frame[20:]
    die("inner capture: link type %d" % linktype)
    return None


def segment(ethertype, l3, ts):
    seg, _ = scenario.decode(1, ts, b"\0" * 12 + struct.pack("!H", ethertype) + l3)
    return seg


def key_of(s):
    return (s.src, s.sport, s.dst, s.dport, s.seq, s.ack, s.flagstr(), s.plen)


def by_direction(segs):
    out = {}
    for s in segs:
        out.setdefault((s.src, s.sport, s.dst, s.dport), []).append(key_of(s))
    return out


def check(kind, outer, inner, kernel_path):
    spec = TUNNELS[kind]
    problems = []
    outer_segs, other, layer_sets = [], 0, set()
    for linktype, ts, frame in scenario.read_pcap(outer):
        d = outer_layers(linktype, frame)
        if d is None:
            other += 1
            continue
        layers, ethertype, l3 = d
        seg = segment(ethertype, l3, ts) if ethertype in (ETH_IPV4, ETH_IPV6) else None
        if seg is None:
            continue  # ARP or ND inside the tunnel
        outer_segs.append(seg)
        layer_sets.add(tuple(layers))
    inner_segs = []
    for linktype, ts, frame in scenario.read_pcap(inner):
        ethertype, l3 = inner_l3(linktype, frame)
        seg = segment(ethertype, l3, ts) if ethertype in (ETH_IPV4, ETH_IPV6) else None
        if seg is not None:
            inner_segs.append(seg)
    # The same segments in the same order in each direction. Across directions the order may
    # differ: the two capture points are on either side of the encapsulation, so a segment
    # leaving and one arriving at the same time can pass them in different orders.
    if by_direction(outer_segs) != by_direction(inner_segs):
        problems.append("outer and inner captures differ: %d vs %d TCP segments"
                        % (len(outer_segs), len(inner_segs)))
    if layer_sets != {tuple(spec["layers"])}:
        problems.append("tunnel headers %s, expected %s" % (sorted(layer_sets), spec["layers"]))
    bad = sum(1 for s in outer_segs + inner_segs if s.csum_ok is not True)
    if bad:
        problems.append("%d TCP segments with a wrong or partial checksum" % bad)
    # The connections: client ports 40080..40083 to server ports 8080..8083.
    flows = {}
    for s in inner_segs:
        client = s.sport >= 40000
        port = s.dport if client else s.sport
        flows.setdefault(port, []).append(("c:" if client else "s:") + s.flagstr())
    want_ports = [8080, 8081, 8082, 8083]
    if sorted(flows) != want_ports:
        problems.append("server ports %s" % sorted(flows))
    f = {p: flows.get(p, []) for p in want_ports}
    if [x for x in f[8080] if "F" in x] != ["c:FA", "s:FA"] or any("R" in x for x in f[8080]):
        problems.append("8080 (client close): %s" % f[8080])
    if [x for x in f[8081] if "F" in x or "R" in x] != ["c:FA"]:
        problems.append("8081 (close-wait): %s" % f[8081])
    if f[8082] != ["c:S", "s:RA"]:
        problems.append("8082 (refused): %s" % f[8082])
    if [x for x in f[8083] if "R" in x] != ["c:RA"] or any("F" in x for x in f[8083]):
        problems.append("8083 (RST abort): %s" % f[8083])
    with open(kernel_path) as fh:
        kernel = json.load(fh)
    states = sorted((e["ns"], e["state"], e["local_port"]) for e in kernel
                    if e["state"] != "LISTEN")
    want = [("client", "FIN-WAIT-2", 40081), ("client", "TIME-WAIT", 40080),
            ("server", "CLOSE-WAIT", 8081)]
    if states != want:
        problems.append("kernel states %s, expected %s" % (states, want))
    print("  %s: %d TCP segments in both captures, %d other outer frames, tunnel %s"
          % (kind, len(inner_segs), other, spec["layers"]))
    for p in problems:
        print("  FAIL: %s" % p)
    return 1 if problems else 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "relay" and len(sys.argv) == 8:
        _, _, kind, dev, local, remote, layer, ready = sys.argv
        relay(kind, dev, local, remote, layer == "l2", ready)
        return 0
    if len(sys.argv) == 6 and sys.argv[1] == "check":
        return check(*sys.argv[2:])
    die("usage: tunnels.py relay TYPE DEV LOCAL REMOTE l2|l3 READYFILE | "
        "check TYPE OUTER INNER KERNEL")
    return 2


if __name__ == "__main__":
    sys.exit(main())
PYEOF
TPY=$WORK/tunnels.py
export SAMPLES_DIR=$HERE

# ------------------------------------------------------------------ namespaces

# add_addr NS DEV ADDR v4|v6
add_addr() {
    if [[ $4 == v6 ]]; then
        ip -n "$1" addr add "$3/64" dev "$2" nodad
    else
        ip -n "$1" addr add "$3/24" dev "$2"
    fi
}

# pick_impl TYPE: set IMPL_USED to kernel (the kernel has the driver: a trial device can be
# made in a scratch namespace), userspace, or "" (skip: TUNNEL_IMPL=kernel and no driver).
IMPL_USED=""
pick_impl() {
    local ns=tcpst-tunp-$ID err=""
    IMPL_USED=userspace
    [[ $IMPL == userspace ]] && return 0
    ip netns add "$ns"
    # Addresses need not exist for the trial; only whether the type is known matters.
    # shellcheck disable=SC2046
    if err=$(ip -n "$ns" link add t0 $(kernel_args "$1" "$2" "$3") 2>&1); then
        IMPL_USED=kernel
    elif [[ $IMPL == kernel ]]; then
        log "$1: no kernel driver ($err); skipped"
        IMPL_USED=""
    fi
    ip netns del "$ns"
}

# ns_up TYPE N UNDERLAY INNER LAYER: namespaces, underlay, tunnel (as IMPL_USED says); sets SRV.
SRV=""
ns_up() {
    local kind=$1 n=$2 ul=$3 in=$4 layer=$5 ns lc rc la ra mode
    ip netns add "$NS_C"
    ip netns add "$NS_S"
    ip link add u0 netns "$NS_C" type veth peer name u0 netns "$NS_S"
    dev_setup "$NS_C" u0 "$ul"
    dev_setup "$NS_S" u0 "$ul"
    if [[ $ul == v6 ]]; then
        lc=$U6C rc=$U6S
    else
        lc=$U4C rc=$U4S
    fi
    add_addr "$NS_C" u0 "$lc" "$ul"
    add_addr "$NS_S" u0 "$rc" "$ul"
    for ns in "$NS_C" "$NS_S"; do
        ip -n "$ns" link set lo up
        ip -n "$ns" link set u0 up
    done

    if [[ $IMPL_USED == kernel ]]; then
        # shellcheck disable=SC2046
        ip -n "$NS_C" link add t0 $(kernel_args "$kind" "$lc" "$rc")
        # shellcheck disable=SC2046
        ip -n "$NS_S" link add t0 $(kernel_args "$kind" "$rc" "$lc")
    else
        mode=tun
        [[ $layer == l2 ]] && mode=tap
        for ns in "$NS_C" "$NS_S"; do
            ip -n "$ns" tuntap add dev t0 mode "$mode"
        done
        rm -f "$WORK"/relay.*.ready
        ip netns exec "$NS_C" "$PY" "$TPY" relay "$kind" t0 "$lc" "$rc" "$layer" \
            "$WORK/relay.c.ready" 2>>"$WORK/relay.err" &
        PIDS+=($!)
        ip netns exec "$NS_S" "$PY" "$TPY" relay "$kind" t0 "$rc" "$lc" "$layer" \
            "$WORK/relay.s.ready" 2>>"$WORK/relay.err" &
        PIDS+=($!)
        wait_marks relay.c.ready relay.s.ready
    fi
    if [[ $in == v6 ]]; then
        la=2001:db8:$n::1 ra=2001:db8:$n::2
    else
        la=198.18.$n.1 ra=198.18.$n.2
    fi
    for ns in "$NS_C" "$NS_S"; do
        ip -n "$ns" link set dev t0 mtu 1400
        dev_setup "$ns" t0 "$in"
    done
    add_addr "$NS_C" t0 "$la" "$in"
    add_addr "$NS_S" t0 "$ra" "$in"
    ip -n "$NS_C" link set t0 up
    ip -n "$NS_S" link set t0 up
    SRV=$ra
    if [[ $ul == v6 || $in == v6 ]]; then
        # Let the link-up MLD reports (sent twice, about 1 s apart) pass before capturing.
        sleep 3
    else
        sleep 0.3
    fi
}

# ------------------------------------------------------------------ capture

# cap_start FILE DEV: tcpdump in the client namespace. -U with --immediate-mode: every packet
# is in the file as soon as it was seen, so stopping tcpdump with SIGINT loses nothing; -B:
# ring buffer size in KiB (see make-samples.sh); -Z root: no privilege drop.
cap_start() {
    local name=$1 dev=$2 pid
    ip netns exec "$NS_C" tcpdump -i "$dev" -U --immediate-mode -s 0 -B 65536 -Z root \
        -w "$WORK/$name.pcap" 2>"$WORK/$name.tcpdump.err" &
    pid=$!
    CAP_PIDS+=("$pid")
    tcpdump_wait "$name" "$pid"
}



# client_port P: the client's next connect() uses source port P (the range is one port).
client_port() {
    ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="$1 $1"
}

# ------------------------------------------------------------------ one tunnel

run_tunnel() {
    local spec=$1 kind n ul in layer t_ss name summary
    IFS=: read -r kind n ul in layer <<<"$spec"
    name=tunnel-$kind
    rm -f "$WORK"/*.ready "$WORK"/*.done "$WORK"/*.err
    if [[ $ul == v6 ]]; then
        pick_impl "$kind" "$U6C" "$U6S"
    else
        pick_impl "$kind" "$U4C" "$U4S"
    fi
    [[ -n $IMPL_USED ]] || return 0
    ns_up "$kind" "$n" "$ul" "$in" "$layer"
    log "$kind: ${IMPL_USED} encapsulation, underlay $ul, inner $in"

    cap_start "$name" u0
    cap_start "$name-inner" t0

    # b: the stuck one first, held HOLD seconds while the others run after it.
    spawn "$NS_S" server close-wait "$SRV" 8081 b
    spawn "$NS_S" server client-close "$SRV" 8080 a
    spawn "$NS_S" server rst-abort "$SRV" 8083 d
    wait_marks b.server.ready a.server.ready d.server.ready
    client_port 40081
    spawn "$NS_C" client close-wait "$SRV" 8081 b
    wait_marks b.client.done b.server.done
    sleep "$HOLD"
    client_port 40080
    spawn "$NS_C" client client-close "$SRV" 8080 a
    wait_marks a.client.done a.server.done
    client_port 40082
    spawn "$NS_C" client refused "$SRV" 8082 c # nothing listens on 8082
    wait_marks c.client.done
    client_port 40083
    spawn "$NS_C" client rst-abort "$SRV" 8083 d
    wait_marks d.client.done d.server.done

    # Read the kernel's sockets, then stop both captures at once (a few milliseconds, with no
    # TCP timer due), and only then let the processes and tunnel endpoints go.
    sleep "$SETTLE"
    t_ss=$(date +%s.%N)
    ip netns exec "$NS_C" ss -tanH >"$WORK/$name.ss.client"
    ip netns exec "$NS_S" ss -tanH >"$WORK/$name.ss.server"
    stop_captures
    stop_processes
    for f in "$name" "$name-inner"; do
        if ! grep -q '^0 packets dropped by kernel' "$WORK/$f.tcpdump.err"; then
            cat "$WORK/$f.tcpdump.err" >&2
            fail "$f: tcpdump dropped packets"
        fi
    done
    "$PY" "$HELPER" ssjson --client "$WORK/$name.ss.client" --server "$WORK/$name.ss.server" \
        >"$WORK/$name.kernel.json"
    ns_down
    for f in "$name" "$name-inner"; do
        summary=$("$PY" "$HELPER" pcapcheck "$WORK/$f.pcap" --before "$t_ss") ||
            fail "$f: capture check failed"
        log "$f: $summary"
    done
    if ((VERBOSE)); then
        tcpdump -nn -r "$WORK/$name.pcap" 2>/dev/null >&2
    fi
    "$PY" "$TPY" check "$kind" "$WORK/$name.pcap" "$WORK/$name-inner.pcap" \
        "$WORK/$name.kernel.json" >&2 ||
        fail "$name: sample does not show what it should (KEEP_WORK=1 keeps it in $WORK)"
    # Only a checked sample replaces the old one.
    mv "$WORK/$name.pcap" "$OUT/$name.pcap"
    mv "$WORK/$name-inner.pcap" "$OUT/$name-inner.pcap"
    mv "$WORK/$name.kernel.json" "$OUT/$name.kernel.json"
    DONE+=("$kind ($IMPL_USED)")
}

# ------------------------------------------------------------------ main

run=()
for arg in "$@"; do
    found=""
    for spec in "${TUNNELS[@]}"; do
        [[ ${spec%%:*} == "$arg" ]] && found=$spec
    done
    [[ -n $found ]] || fail "unknown tunnel type '$arg' (known: ${TUNNELS[*]%%:*})"
    run+=("$found")
done
((${#run[@]})) || run=("${TUNNELS[@]}")
((HAVE_ETHTOOL)) || log "ethtool not installed: turning offloads off through SIOCETHTOOL"
DONE=()
for spec in "${run[@]}"; do
    run_tunnel "$spec"
done
log "written: ${DONE[*]:-nothing}"
log "namespaces left: $(ip netns list | grep -c "^tcpst-tun[csp]-$ID\b" || true)"
