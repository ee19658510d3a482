#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The license lines and the formatting contract (.clang-format) as a test, so the README's
# test command catches them before CI's later steps do.  Exit 77 (skip) for the formatting
# part when clang-format is not installed.
set -euo pipefail
cd "$1"
# Every source file says its license (LICENSE: BSD-3-Clause) in an SPDX line near its top.
grep -q "BSD 3-Clause License" LICENSE || { echo "LICENSE: not the BSD 3-Clause text" >&2; exit 1; }
missing=$(find src include tests bench docs samples completions .ci CMakeLists.txt -type f \
    \( -name '*.c' -o -name '*.h' -o -name '*.py' -o -name '*.sh' -o -name '*.cmake' \
       -o -name '*.js' -o -name '*.css' -o -name 'CMakeLists.txt' -o -path '.ci/*' \
       -o -path 'completions/*' -o -name '*.1' \) \
    -not -path 'tests/fuzz/corpus/*' -print0 |
    xargs -0 grep -L -m1 'SPDX-License-Identifier: BSD-3-Clause' || true)
if [ -n "$missing" ]; then
    echo "no SPDX-License-Identifier line in:" $missing >&2
    exit 1
fi
command -v clang-format >/dev/null || { echo "clang-format not installed: skipped"; exit 77; }
shopt -s nullglob
clang-format --dry-run --Werror src/*.[ch] src/*/*.[ch] include/tcpstate/*.h tests/unit/*.c \
    tests/support/*.[ch] tests/fuzz/*.c bench/*.c
