#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run_fuzzers.sh - build the libFuzzer targets (clang, ASan+UBSan) in their
# own build directory and run each for SECONDS (default 60).
#
# Usage: tests/fuzz/run_fuzzers.sh [SECONDS] [TARGET...]   (targets: decode engine pcap pcapng reasm)
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_OUT_DIR (default
# FUZZ_BUILD_DIR/findings), CC (default clang).
# Exits non-zero on any crash, sanitizer report, leak, timeout or OOM.  Inputs
# found while fuzzing go to FUZZ_OUT_DIR/corpus/TARGET, never into the repo;
# crash inputs are kept in FUZZ_OUT_DIR/crashes/TARGET (printed at the end).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode engine pcap pcapng reasm)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
out=${FUZZ_OUT_DIR:-$build/findings}
cc=${CC:-clang}

declare -A max_len=([decode]=4096 [engine]=16384 [pcap]=32768 [pcapng]=16384 [reasm]=16384)

# Coverage instrumentation for the library too (fuzzer-no-link), sanitizers
# from the project's own TCPSTATE_SANITIZE, asserts kept (Debug, no NDEBUG).
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="-O1 -fsanitize=fuzzer-no-link" -DTCPSTATE_SANITIZE=ON \
    -DTCPSTATE_LIBFUZZER=ON -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$out"
touch "$out/.run-start"
status=0
for t in "${targets[@]}"; do
    [ -n "${max_len[$t]:-}" ] || { echo "run_fuzzers: unknown target '$t'" >&2; exit 2; }
    mkdir -p "$out/corpus/$t" "$out/crashes/$t"
    echo "== fuzz_$t for ${secs}s"
    log="$out/fuzz_$t.log"
    # New inputs land in the first directory; the committed seeds are read only.
    if "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -max_len="${max_len[$t]}" \
        -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$out/crashes/$t/" "$out/corpus/$t" "$root/tests/fuzz/corpus/$t" \
        >"$log" 2>&1; then
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
        grep -E '^#[0-9]+.*DONE' "$log" | tail -1 || true
    else
        status=1
        echo "run_fuzzers: fuzz_$t FAILED; log: $log" >&2
        tail -60 "$log" >&2
    fi
done
new=$(find "$out/crashes" -type f -newer "$out/.run-start" 2>/dev/null)
if [ -n "$new" ]; then
    status=1
    echo "run_fuzzers: crash inputs kept in $out/crashes:" >&2
    echo "$new" >&2
fi
[ "$status" -eq 0 ] && echo "run_fuzzers: no findings (crash dir: $out/crashes)"
exit "$status"
