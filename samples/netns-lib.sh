# netns-lib.sh - helpers shared by make-samples.sh and make-tunnels.sh (sourced, not run).
# The sourcing script provides: fail, WORK, NS_C, PY, HELPER and the PIDS array.

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
