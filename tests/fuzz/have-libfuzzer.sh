#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Exit 0 when clang can link a libFuzzer target with ASan and UBSan, else
# print why not on stderr and exit 1. The Makefile builds the fuzz target
# only then; tests/fuzz/run.sh says SKIP with this reason otherwise.
set -uo pipefail
clang=${CLANG:-clang}

if ! command -v "$clang" > /dev/null; then
	echo "no $clang" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' > "$tmp/t.c"
if ! "$clang" -fsanitize=fuzzer,address,undefined -o "$tmp/t" "$tmp/t.c" 2> "$tmp/err"; then
	echo "$clang cannot link -fsanitize=fuzzer (clang's runtime, Debian's libclang-rt-dev, is missing): $(head -c 200 "$tmp/err" | tr '\n' ' ')" >&2
	exit 1
fi
