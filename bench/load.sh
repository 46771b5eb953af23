#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What racewatch costs a real load, measured side by side in one run: on a
# 1 GiB loop filesystem (ext4, or BENCH_FS: xfs, btrfs), stress-ng's file
# stressors and then tools/contend.c's same-file contention each run without
# and with racewatch (--json --dev on that filesystem), the order swapped
# every round to cancel drift. Per load it prints:
#   - racewatch's CPU time (utime+stime from /proc over the load) as a share
#     of the load's own CPU (its rusage, children included). BPF programs
#     run in the load's context, so their cost is in the load's share and
#     in its throughput, not in racewatch's;
#   - the load's throughput with/without: stress-ng's bogo-ops/s per
#     stressor and their geometric mean, contend's calls/s and reads/s;
#   - the records per second racewatch took in (the summary's per-type
#     record counts over its elapsed time, where the summary has them) and
#     lost (lost.ringbuf_full).
# Not a test and not part of make check: it prints numbers, asserts nothing.
#
#   sudo bench/load.sh [SECONDS] [ROUNDS]     (default 10 s, 2 rounds)
#   BENCH_LOADS="stress" runs one load only (default "stress contend").
#   BENCH_FS=btrfs makes the filesystem btrfs (default ext4).
#   RW=OTHER/racewatch measures another build, e.g. an older revision's.
set -uo pipefail
cd "$(dirname "$0")/.."

secs=${1:-10}
rounds=${2:-2}
loads=${BENCH_LOADS:-"stress contend"}
fs=${BENCH_FS:-ext4}
export RW=${RW:-$PWD/build/racewatch}
contend=${CONTEND:-$PWD/build/contend}
. tests/host/lib.sh

for t in "$RW" "$contend"; do
	[ -x "$t" ] || { echo "load.sh: no $t: make all" >&2; exit 1; }
done
for t in stress-ng jq /usr/bin/time; do
	command -v "$t" > /dev/null || { echo "load.sh: $t is missing" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "load.sh: needs root" >&2; exit 77; }
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

tmp=$(mktemp -d)
RWPID=
cleanup() {
	[ -n "$RWPID" ] && kill -INT "$RWPID" 2>/dev/null && wait "$RWPID"
	mountpoint -q "$tmp/mnt" && umount "$tmp/mnt"
	rm -rf "$tmp"
}
trap cleanup EXIT
mkfs_mount "$fs" "$tmp" 1G > "$tmp/mkfs.out" 2>&1 ||
	{ echo "load.sh: mkfs: $(cat "$tmp/mkfs.out")" >&2; exit 1; }
# As stat shows it: on btrfs the subvolume's, which racewatch maps.
dev=$(stat -c '%Hd:%Ld' "$tmp/mnt")
hz=$(getconf CLK_TCK)

cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat") || { echo 0; return; }
	s=${s##*) }
	set -- $s
	echo $((${12} + ${13}))
}

load_stress() {
	mkdir -p "$tmp/mnt/stress"
	stress-ng --temp-path "$tmp/mnt/stress" -t "${secs}s" --metrics-brief --yaml "$1/stress.yaml" \
		--fpunch 1 --fallocate 1 --fallocate-bytes 64m --readahead 1 --readahead-bytes 64m \
		--iomix 1 --iomix-bytes 64m --copy-file 1 --copy-file-bytes 128m \
		--sendfile 1 --splice 1 --mmap 1 --mmap-file --mmap-bytes 16m
	local rc=$?
	rm -rf "$tmp/mnt/stress"
	return $rc
}

load_contend() {
	"$contend" -d "$secs" -w 3 -r 2 -S 1 "$tmp/mnt/contend.dat" > "$1/contend.json"
	local rc=$?
	rm -f "$tmp/mnt/contend.dat"
	return $rc
}

# GNU time runs a program, not a shell function: export them to a child bash.
export -f load_stress load_contend
export tmp secs contend
# run LOAD on|off DIR: one run; leaves DIR/time (the load's user sys), and
# with racewatch DIR/rw.json and DIR/rwcpu (its CPU seconds over the load).
run() {
	local load=$1 mode=$2 out=$3 t0 t1
	mkdir -p "$out"
	if [ "$mode" = on ]; then
		start_racewatch "$out/rw.json" "$out/rw.err" --json --dev "$dev" ||
			{ echo "load.sh: racewatch did not start: $(cat "$out/rw.err")" >&2; exit 1; }
		t0=$(cpu_ticks "$RWPID")
	fi
	sync
	/usr/bin/time -f '%U %S' -o "$out/time" bash -c 'load_'"$load"' "$1"' _ "$out" \
		> /dev/null 2> "$out/load.err" ||
		echo "load.sh: $load exited non-zero (racewatch $mode): $(tail -c 200 "$out/load.err")" >&2
	if [ "$mode" = on ]; then
		t1=$(cpu_ticks "$RWPID")
		awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { print t / hz }' > "$out/rwcpu"
		kill -INT "$RWPID"
		wait "$RWPID"
		RWPID=
	fi
}

for load in $loads; do
	for r in $(seq "$rounds"); do
		if [ $((r % 2)) -eq 1 ]; then order="off on"; else order="on off"; fi
		for mode in $order; do
			run "$load" "$mode" "$tmp/res/$load/$r/$mode"
		done
	done
done

# The load's own CPU seconds, summed over the rounds of one mode.
load_cpu() { cat "$tmp"/res/"$1"/*/"$2"/time | awk 'NF == 2 { s += $1 + $2 } END { print s + 0 }'; }
rw_cpu() { cat "$tmp"/res/"$1"/*/on/rwcpu | awk '{ s += $1 } END { print s + 0 }'; }

# Records racewatch took in per second: the summary's per-type counts
# (numbers under "records" other than the malformed/orphans/unattributed
# tallies), where this racewatch's summary has them.
records() {
	local f got=0 lost=0 secs_rw=0 low=0 r l e have=no
	for f in "$tmp"/res/"$1"/*/on/rw.json; do
		# Without per-type counts, a floor from the inode records: an
		# OP_BEGIN and an OP_END per operation, an INVAL_BEGIN and an
		# INVAL_END per invalidation, an INSERT per candidate insert.
		low=$((low + $(grep -v '"type":"window"' "$f" | jq -s \
			'[.[] | select(.type == "inode") | 2 * .ops + 2 * .invalidations + .inserts] | add // 0')))
		read -r r l e < <(jq -r 'select(.type == "summary") |
			[([.records | paths(numbers) as $p | select(($p[-1] | tostring) |
				test("^(malformed|orphans|unattributed)$") | not) | getpath($p)] |
				if length == 0 then "none" else add end),
			 .lost.ringbuf_full, .elapsed_s] | @tsv' "$f")
		[ "${r:-none}" = none ] || { have=yes; got=$((got + r)); }
		lost=$((lost + ${l:-0}))
		secs_rw=$(awk -v a="$secs_rw" -v b="${e:-0}" 'BEGIN { print a + b }')
	done
	awk -v g="$got" -v l="$lost" -v s="$secs_rw" -v have="$have" -v low="$low" 'BEGIN {
		if (have == "yes") printf "records/s taken in %.0f", g / s
		else printf "records/s taken in: no per-type counts in this summary; at least %.0f (2 per operation, 2 per invalidation, 1 per candidate insert)", low / s
		printf "; lost (ring buffer full) %.0f/s over %.1f s\n", l / s, s }'
}

echo "load.sh: $rounds rounds of $secs s per load and mode, $fs on $dev, $(uname -r)"
for load in $loads; do
	echo "== $load"
	awk -v rw="$(rw_cpu "$load")" -v l="$(load_cpu "$load" on)" -v off="$(load_cpu "$load" off)" 'BEGIN {
		printf "racewatch CPU %.2f s = %.1f %% of the load'"'"'s %.2f s (the load without racewatch: %.2f s)\n",
			rw, (l > 0 ? 100 * rw / l : 0), l, off }'
	if [ "$load" = stress ]; then
		# Per stressor: bogo-ops/s (real time) with/without, summed over rounds.
		for mode in on off; do
			cat "$tmp"/res/stress/*/"$mode"/stress.yaml | awk -v m="$mode" '
				/- stressor:/ { s = $3 }
				/bogo-ops-per-second-real-time:/ { print s, m, $2 }'
		done | awk '
			{ v[$1, $2] += $3; names[$1] = 1 }
			END {
				n = 0; lg = 0
				for (s in names) {
					if (v[s, "off"] <= 0) continue
					r = v[s, "on"] / v[s, "off"]
					printf "  %-10s bogo-ops/s with/without %.3f (%.1f / %.1f)\n", s, r, v[s, "on"], v[s, "off"]
					if (r > 0) { lg += log(r); n++ }
				}
				if (n) printf "throughput with/without, geometric mean of %d stressors: %.3f\n", n, exp(lg / n)
			}'
	else
		for mode in on off; do
			cat "$tmp"/res/contend/*/"$mode"/contend.json |
				jq -r --arg m "$mode" '"\($m) \(.total_calls) \(.reads) \(.elapsed_s)"'
		done | awk '
			{ c[$1] += $2; rd[$1] += $3; t[$1] += $4 }
			END {
				printf "throughput with/without: calls/s %.3f (%.0f / %.0f), reads/s %.3f\n",
					(c["on"] / t["on"]) / (c["off"] / t["off"]), c["on"] / t["on"], c["off"] / t["off"],
					(rd["on"] / t["on"]) / (rd["off"] / t["off"])
			}'
	fi
	records "$load"
done
