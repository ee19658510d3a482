#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The formatting contract (.clang-format) as a test, so the README test command catches it
# before CI's later steps do. Exit 77 (skip) when clang-format is not installed.
set -euo pipefail
cd "$1"
command -v clang-format >/dev/null || { echo "clang-format not installed: skipped"; exit 77; }
shopt -s nullglob
clang-format --dry-run --Werror src/*.[ch] src/*/*.[ch] include/tcpstate/*.h tests/unit/*.c \
    tests/support/*.[ch] tests/fuzz/*.c bench/*.c
