#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Overhead of racewatch on the page-cache insert path, as ratios measured
# side by side in one run: a read workload that inserts every page of a file
# on every pass (dd iflag=nocache drops the pages behind it), timed with and
# without racewatch, twice: quiet (no invalidation in flight, so inserts pay
# only the one-load gate), and while another file is hole-punched in a loop
# (windows open, so inserts also look their inode up). Rounds alternate to
# cancel drift. Not a test: it prints numbers, it asserts nothing.
#
#   sudo bench/overhead.sh [DIR] [ROUNDS]     DIR on a real filesystem (default /var/tmp)
set -euo pipefail

dir=${1:-/var/tmp}
rounds=${2:-5}
rw=$(dirname "$0")/../build/racewatch
work=$(mktemp -d "$dir/rw-bench.XXXXXX")
trap 'kill $rwpid $punchpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
rwpid= punchpid=

[ -x "$rw" ] || { echo "overhead.sh: build racewatch first (make)" >&2; exit 1; }
dd if=/dev/urandom of="$work/read" bs=1M count=256 status=none
dd if=/dev/urandom of="$work/punch" bs=1M count=64 status=none
sync

pass_ns() {
	local t0 t1
	t0=$(date +%s%N)
	for _ in 1 2 3 4; do
		dd if="$work/read" of=/dev/null bs=1M iflag=nocache status=none
	done
	t1=$(date +%s%N)
	echo $((t1 - t0))
}

start_racewatch() {
	"$rw" > "$work/rw.out" 2> "$work/rw.err" &
	rwpid=$!
	for _ in $(seq 100); do
		grep -q watching "$work/rw.err" 2>/dev/null && return
		sleep 0.1
	done
	echo "overhead.sh: racewatch did not start: $(cat "$work/rw.err")" >&2
	exit 1
}

stop_racewatch() {
	kill -INT "$rwpid"
	wait "$rwpid" || true
	rwpid=
}

punch_loop() {
	while :; do
		fallocate -p -o $(( (RANDOM % 1024) * 65536 )) -l 65536 "$work/punch"
	done
}

declare -A total=([quiet_off]=0 [quiet_on]=0 [busy_off]=0 [busy_on]=0)
measure() {
	total[$1]=$(( total[$1] + $(pass_ns) ))
}

start_punch() {
	punch_loop &
	punchpid=$!
}

stop_punch() {
	kill "$punchpid"
	wait "$punchpid" 2>/dev/null || true
	punchpid=
}

pass_ns > /dev/null	# warm up the binaries and metadata
for r in $(seq "$rounds"); do
	# Odd rounds measure without racewatch first, even rounds with it.
	if [ $((r % 2)) -eq 1 ]; then
		measure quiet_off
		start_racewatch; measure quiet_on
		start_punch; measure busy_on
		stop_racewatch; measure busy_off
		stop_punch
	else
		start_racewatch; measure quiet_on
		stop_racewatch; measure quiet_off
		start_punch; measure busy_off
		start_racewatch; measure busy_on
		stop_racewatch; stop_punch
	fi
done

pages=$(( 256 * 256 * 4 * rounds ))	# 4 KiB pages read in all passes
for k in quiet_off quiet_on busy_off busy_on; do
	echo "$k ${total[$k]}"
done | awk -v passes=$((rounds * 4)) -v pages="$pages" '
	{ t[$1] = $2; printf "%-9s %8.1f ms/pass %10.0f inserts/s\n", $1, $2 / 1e6 / passes, pages / ($2 / 1e9) }
	END {
		printf "ratio quiet on/off %.3f\n", t["quiet_on"] / t["quiet_off"]
		printf "ratio busy  on/off %.3f\n", t["busy_on"] / t["busy_off"]
	}'
