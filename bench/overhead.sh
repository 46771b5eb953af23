#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Overhead of racewatch on the page-cache insert path, as ratios measured
# side by side in one run: a read workload that inserts every page of a file
# on every pass (dd iflag=nocache drops the pages behind it), timed without
# racewatch, with racewatch idle (no invalidation in flight: the one-load
# gate), and with racewatch while another file is hole-punched in a loop
# (windows open: inserts also look up their inode). Rounds alternate to
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

declare -A total=([off]=0 [idle]=0 [busy]=0)
pass_ns > /dev/null	# warm up the binaries and metadata
for r in $(seq "$rounds"); do
	total[off]=$(( total[off] + $(pass_ns) ))
	start_racewatch
	total[idle]=$(( total[idle] + $(pass_ns) ))
	punch_loop & punchpid=$!
	total[busy]=$(( total[busy] + $(pass_ns) ))
	kill "$punchpid"; wait "$punchpid" 2>/dev/null || true; punchpid=
	stop_racewatch
done

pages=$(( 256 * 256 * 4 * rounds ))	# 4 KiB pages read in all passes
awk -v off="${total[off]}" -v idle="${total[idle]}" -v busy="${total[busy]}" \
    -v passes=$((rounds * 4)) -v pages="$pages" 'BEGIN {
	split("off idle busy", k, " ")
	t["off"] = off; t["idle"] = idle; t["busy"] = busy
	for (i = 1; i <= 3; i++)
		printf "%-5s %8.1f ms/pass %10.0f inserts/s\n", k[i],
			t[k[i]] / 1e6 / passes, pages / (t[k[i]] / 1e9)
	printf "ratio idle/off %.3f\nratio busy/off %.3f\n", idle / off, busy / off
}'
