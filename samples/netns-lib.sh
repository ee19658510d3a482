# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# netns-lib.sh - helpers shared by make-samples.sh and make-tunnels.sh (sourced, not run).
# The sourcing script provides: WORK, OUT, NS_C, PY, HELPER and the PIDS array.

log() { printf '== %s\n' "$*" >&2; }
fail() {
    printf '%s: error: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

# preflight HINT TOOL...: root, every TOOL (HINT names the packages), python3, the helper and
# network namespaces are there; creates $OUT and sets HAVE_ETHTOOL (dev_setup reads it).
preflight() {
    local hint=$1 tool
    shift
    [[ $EUID -eq 0 ]] || fail "must run as root (creates network namespaces, runs tcpdump)"
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || fail "'$tool' not found (install $hint)"
    done
    [[ -x $PY ]] || fail "$PY not found (install python3)"
    [[ -r $HELPER ]] || fail "$HELPER missing"
    ip netns list >/dev/null 2>&1 || fail "'ip netns' unusable (no network namespace support?)"
    mkdir -p "$OUT"
    HAVE_ETHTOOL=0
    if command -v ethtool >/dev/null 2>&1; then
        HAVE_ETHTOOL=1
    fi
}

# stop_pids SIGNAL PID...: signal every process, then reap them all.
stop_pids() {
    local sig=$1 pid
    shift
    for pid in "$@"; do
        kill "-$sig" "$pid" 2>/dev/null || true
    done
    for pid in "$@"; do
        wait "$pid" 2>/dev/null || true
    done
}

# remove_work: the work directory goes, unless KEEP_WORK=1 (then its place is logged).
remove_work() {
    [[ -n $WORK ]] || return 0
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
        log "work files kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}

# dev_setup NS DEV v4|v6: no offloads (full checksums, one MSS per frame in the capture),
# IPv6 either off (no MLD/ND noise in IPv4 captures) or without autoconfiguration.
dev_setup() {
    local ns=$1 dev=$2 mode=$3
    local v6off=1
    [[ $mode == v6 ]] && v6off=0
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=$v6off"
    if [[ $mode == v6 ]]; then
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.accept_ra=0"
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.router_solicitations=0"
    fi
    ip -n "$ns" link set dev "$dev" gso_max_segs 1
    if ((HAVE_ETHTOOL)); then
        ip netns exec "$ns" ethtool -K "$dev" tx off sg off tso off gso off gro off 2>/dev/null ||
            log "warning: ethtool -K $dev failed; captured checksums may be partial"
    else
        # Same settings through the SIOCETHTOOL ioctl, so ethtool is not needed.
        ip netns exec "$ns" "$PY" "$HELPER" offloads-off "$dev" ||
            log "warning: tx checksum offload still on for $dev; captured checksums may be partial"
    fi
}

# tcpdump_wait NAME PID: wait until tcpdump (writing its stderr to $WORK/NAME.tcpdump.err)
# says it is listening, so no packet of what follows is missed; fail if it does not start.
tcpdump_wait() {
    local name=$1 pid=$2 i
    for ((i = 0; i < 100; i++)); do
        grep -qs 'listening on' "$WORK/$name.tcpdump.err" && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$WORK/$name.tcpdump.err" >&2
    fail "$name: tcpdump did not start"
}

# spawn NS ROLE KIND ADDR PORT TAG: a scenario.py process in NS, in the background.
spawn() {
    ip netns exec "$1" "$PY" "$HELPER" "$2" "$3" --addr "$4" --port "$5" \
        --marks "$WORK" --tag "$6" 2>>"$WORK/$6.$2.err" &
    PIDS+=($!)
}

# wait_marks MARK... : wait until every marker file exists; fail if a process died.
wait_marks() {
    local deadline=$((SECONDS + 40)) m missing pid
    while :; do
        missing=0
        for m in "$@"; do
            [[ -e $WORK/$m ]] || missing=1
        done
        ((missing)) || return 0
        for pid in "${PIDS[@]}"; do
            if ! kill -0 "$pid" 2>/dev/null; then
                cat "$WORK"/*.err >&2 2>/dev/null || true
                fail "a background process exited early while waiting for: $*"
            fi
        done
        ((SECONDS < deadline)) || fail "timed out waiting for: $*"
        sleep 0.01
    done
}
