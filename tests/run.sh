#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run every test layer: unit (no root), host (root, tracepoints on this
# kernel), workloads (root: stress-ng, fio and tools/contend.c against
# racewatch on ext4, xfs, btrfs and tmpfs), vm (qemu guests booting Debian
# kernels). Each layer prints one
# PASS/FAIL/SKIP line per test; this script adds them up and ends with
# "N passed, N failed, N skipped". Select layers with RW_TESTS="unit host".
# The fuzz layer replays tests/fuzz/regressions and fuzzes for about a minute.
#
# RW_BUILD names the build directory (make check passes it: build, or
# build/sanitize with SANITIZE=1). With RW_SANITIZE=1 the sanitizers write
# their reports to files, and any report fails the layer that produced it,
# whatever the exit code of the test that ran the binary.
set -uo pipefail
cd "$(dirname "$0")/.."

layers=${RW_TESTS:-"unit fuzz host workloads vm"}
build=${RW_BUILD:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
export RW=${RW:-$build/racewatch}
export RACEGEN=${RACEGEN:-$build/racegen}
export RACEMATCH=${RACEMATCH:-$build/racematch}
export CONTEND=${CONTEND:-$build/contend}
tally=$(mktemp)
reports=
trap 'rm -f "$tally"; [ -n "$reports" ] && rm -rf "$reports"' EXIT

if [ "${RW_SANITIZE:-}" = 1 ]; then
	# World-writable: errors.sh runs racewatch as nobody.
	reports=$(mktemp -d)
	chmod 1777 "$reports"
	export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$reports/asan"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
fi

# sanitizer_reports LAYER: one FAIL per report written since the last call.
sanitizer_reports() {
	local f
	[ -n "$reports" ] || return 0
	for f in "$reports"/*; do
		[ -e "$f" ] || continue
		echo "sanitizer report from layer $1 ($f):" >&2
		cat "$f" >&2
		echo "FAIL $1/sanitizer: $(grep -m1 -E 'ERROR|runtime error' "$f" | head -c 300)" |
			tee -a "$tally"
		rm -f "$f"
	done
}

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
	sanitizer_reports "$name"
}

for l in $layers; do
	case $l in
	unit)
		layer unit "$build/unit-tests"
		layer unit-tools tests/unit/racematch.sh
		layer unit-tools tests/unit/console-scan.sh
		layer unit-tools tests/unit/install.sh ;;
	fuzz) layer fuzz tests/fuzz/run.sh ;;
	host) layer host tests/host/run.sh ;;
	workloads) layer workloads tests/workloads/run.sh ;;
	vm)
		# The guests take build/racewatch, which must be static.
		if [ "${RW_SANITIZE:-}" = 1 ]; then
			echo "SKIP vm: SANITIZE=1 builds a dynamic racewatch; the guests need the static build (make check)" |
				tee -a "$tally"
		else
			layer vm tests/vm/run.sh
		fi ;;
	*) echo "FAIL run.sh: unknown layer '$l'" | tee -a "$tally" ;;
	esac
done

# The matrices, gathered from the lines above so that one place shows each
# (README "Tests"): kernel x mechanism x filesystem x role, racewatch's
# count = the kernel's; and kernel x mechanism x filesystem x operation,
# racewatch against racegen's oracle.
if grep -q '/roles/' "$tally"; then
	echo "role matrix (kernel/mechanism/filesystem: role racewatch=kernel):"
	grep -E '^(PASS|FAIL|SKIP) [a-z]+/roles/' "$tally" | sed -E 's#^([A-Z]+) [a-z]+/roles/#  \1 #'
	grep -E '^(PASS|FAIL|SKIP) vm/[^ ]+/roles/' "$tally" | sed -E 's#^([A-Z]+) vm/([^ ]+)/roles/([^ ]+)#  \1 \2/\3#'
fi
# racematch's "cell KIND ..." lines as "KIND calls:confirmed:matched raced/unconfirmed,".
cells='s#cell ([a-z]+) iterations ([0-9]+) confirmed ([0-9]+) matched ([0-9]+) raced ([0-9]+) unconfirmed ([0-9]+)#\1 \2:\3:\4 \5/\6,#g; s#, recall# | recall#'
if grep -q 'precision punch' "$tally"; then
	echo "operation matrix (kernel/mechanism/operations/filesystem: ops racegen/racewatch, then per operation racegen's calls:oracle-confirmed:matched by a race window, raced operations/unconfirmed):"
	grep -E '^(PASS|FAIL) [^ ]+: ops racegen' "$tally" |
		sed -E 's#^([A-Z]+) ([^ ]+): ops racegen ([0-9]+) racewatch ([0-9]+)#  \1 \2: ops \3/\4#; s# precision [a-z]+ [0-9]+/[0-9]+ \([^)]*\)##g' |
		sed -E "$cells"'; s# unmatched_windows ([0-9]+) windows ([0-9]+) *# unmatched windows \1 of \2 #'
fi
# The read path x operation table: the 5.10 paths case's rows, and pread's
# from the full-mix case. (6.18's rows are host/paths, in the operation
# matrix above.)
if grep -qE '^(PASS|FAIL) vm/[^ ]+/paths/[a-z]+: .*cell ' "$tally"; then
	echo "read path matrix (5.10 ext4: per operation, racegen's calls:oracle-confirmed:matched by a race window, then raced operations/unconfirmed):"
	grep -E '^(PASS|FAIL) vm/5\.10/[a-z]+/(paths/[a-z]+|punch\+collapse\+zero\+insert\+truncate(\+dio_write)?/ext4): .*cell ' "$tally" |
		sed -E 's#^([A-Z]+) vm/5\.10/([a-z]+)/punch\+collapse\+zero\+insert\+truncate(\+dio_write)?/ext4:#\1 vm/5.10/\2/paths/pread:#' |
		sed -E 's#^([A-Z]+) vm/5\.10/([a-z]+)/paths/([a-z]+):.*(cell punch.*) recall ([0-9]+/[0-9]+)[^u]*unmatched_windows ([0-9]+) windows ([0-9]+).*#  \1 \3 (\2): \4 recall \5 unmatched windows \6 of \7#' |
		sed -E "$cells"
fi
passed=$(grep -c '^PASS ' "$tally")
failed=$(grep -c '^FAIL ' "$tally")
skipped=$(grep -c '^SKIP ' "$tally")
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
