#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The engine's records per second at several sizes, side by side in one
# run (build/bench-engine, from bench/engine.c): the ratio to the smallest
# size shows whether the cost per record grows with the number of open
# operations or candidates. For one-inode, each insert is a candidate of
# all N operations by rule, so its ratio is of candidates per second.
# Then every bound full at once (memory, and the time to flush it).
#
# With --before REV, the same file is also built against the engine of git
# revision REV and run at the same sizes (each run has 120 s), in the same
# run, for a comparison. Rates are over CPU time, the best of 3 runs. Not a
# test: it prints numbers only.
#
#   make bench && bench/engine.sh [--before REV]
set -euo pipefail
cd "$(dirname "$0")/.."

before=
[ "${1:-}" = --before ] && before=${2:?--before needs a revision}
bin=build/bench-engine
[ -x "$bin" ] || { echo "engine.sh: run make bench first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -n "$before" ]; then
	git archive "$before" src include | tar -x -C "$tmp"
	srcs=
	for f in engine verdict hash heap; do
		[ -f "$tmp/src/$f.c" ] && srcs="$srcs $tmp/src/$f.c"
	done
	# shellcheck disable=SC2086
	${CC:-cc} -O2 -std=gnu11 -I"$tmp/include" -I"$tmp/src" -o "$tmp/bench-before" \
		bench/engine.c $srcs
fi

# run BIN SCENARIO SIZE: rec/s and candidates/s over CPU time, and the CPU
# seconds, the best of 3 runs (other work on the machine only slows a run
# down); or "timeout".
run() {
	local line best= i
	for i in 1 2 3; do
		if ! line=$(timeout 120 "$1" "$2" "$3"); then
			echo "timeout timeout 0"
			return
		fi
		# fields: name size records R secs S rec/s W windows ...
		line=$(awk '{ printf "%.0f %.0f %s\n", $7, ($5 > 0 ? $9 / $5 : 0), $5 }' <<< "$line")
		if [ -z "$best" ] || [ "${line%% *}" -gt "${best%% *}" ]; then
			best=$line
		fi
	done
	echo "$best"
}

printf '%-12s %7s | %12s %12s %7s' scenario size rec/s cand/s ratio
[ -n "$before" ] && printf ' | %12s %10s %8s' "before rec/s" "before cpu s" speedup
echo
declare -A sizes=(
	[churn]="2000 20000 32000"
	[many-inodes]="10 100 1000 10000"
	[one-inode]="1 10 100 1000"
	[stream]="10 100 1000 3000"
)
for sc in churn many-inodes one-inode stream; do
	first=
	for n in ${sizes[$sc]}; do
		read -r rate crate _ <<< "$(run "$bin" "$sc" "$n")"
		# one-inode makes N candidates per insert: compare candidates/s.
		metric=$rate
		[ "$sc" = one-inode ] && metric=$crate
		[ -z "$first" ] && first=$metric
		printf '%-12s %7s | %12s %12s %7s' "$sc" "$n" "$rate" "$crate" \
			"$(awk -v a="$metric" -v b="$first" 'BEGIN { printf "%.2f", (b ? a / b : 0) }')"
		if [ -n "$before" ]; then
			read -r brate _ bsecs <<< "$(run "$tmp/bench-before" "$sc" "$n")"
			printf ' | %12s %10s %8s' "$brate" "$bsecs" \
				"$(awk -v a="$rate" -v b="$brate" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')"
		fi
		echo
	done
done
"$bin" --fill
