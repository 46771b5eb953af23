#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run every test layer: unit (no root), host (root, tracepoints on this
# kernel), vm (qemu guests booting Debian kernels). Each layer prints one
# PASS/FAIL/SKIP line per test; this script adds them up and ends with
# "N passed, N failed, N skipped". Select layers with RW_TESTS="unit host".
set -uo pipefail
cd "$(dirname "$0")/.."

layers=${RW_TESTS:-"unit host vm"}
tally=$(mktemp)
trap 'rm -f "$tally"' EXIT

layer() {
	local name=$1 out rc
	shift
	echo "=== $name" >&2
	out=$(mktemp)
	"$@" | tee "$out"
	rc=${PIPESTATUS[0]}
	grep -E '^(PASS|FAIL|SKIP) ' "$out" >> "$tally"
	# A layer that dies without saying which test failed still fails.
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
		echo "FAIL $name: exited with status $rc" | tee -a "$tally"
	fi
	rm -f "$out"
}

for l in $layers; do
	case $l in
	unit)
		layer unit build/unit-tests
		layer unit-tools tests/unit/racematch.sh
		layer unit-tools tests/unit/console-scan.sh ;;
	host) layer host tests/host/run.sh ;;
	vm) layer vm tests/vm/run.sh ;;
	*) echo "FAIL run.sh: unknown layer '$l'" ;;
	esac
done

passed=$(grep -c '^PASS ' "$tally")
failed=$(grep -c '^FAIL ' "$tally")
skipped=$(grep -c '^SKIP ' "$tally")
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
