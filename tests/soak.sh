#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Soak: MINUTES (default 30) of hole punches against mixed readers (racegen
# on a loop ext4), with racewatch watching in tracepoint mode. Every
# SOAK_INTERVAL seconds (default 30) one tab-separated line goes to stdout:
# racewatch's RSS (VmRSS), its CPU time (utime+stime) and CPU share over the
# interval, and the entry count of each of its BPF hash maps. At the end it
# compares the mean of the last third of the samples with the first third's
# and says, per column, whether the curve is flat; then whether racewatch
# exited cleanly, lost nothing and counted every call racegen made.
# Not part of make check: it takes half an hour. Needs root.
#   tests/soak.sh [MINUTES]
# Environment: RW, RACEGEN, RACEMATCH (binaries, default build/), SOAK_INTERVAL,
# SOAK_ATTACH (default tracepoint), SOAK_ARGS (more racewatch options).
# Exit status: 0 flat and clean, 1 growth or a failure, 64 bad arguments,
# 77 not root.
set -uo pipefail
. "$(dirname "$0")/host/lib.sh"

minutes=${1:-30}
interval=${SOAK_INTERVAL:-30}
attach=${SOAK_ATTACH:-tracepoint}
if ! [[ $minutes =~ ^[1-9][0-9]*$ && $interval =~ ^[1-9][0-9]*$ ]]; then
	echo "soak: usage: tests/soak.sh [MINUTES], SOAK_INTERVAL in whole seconds" >&2
	exit 64
fi
if ! command -v jq > /dev/null || ! command -v bpftool > /dev/null; then
	echo "soak: needs bpftool and jq (tools/install-deps.sh test installs them)" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "soak: needs root (BPF, loop devices, mounts)" >&2
	exit 77
fi
secs=$((minutes * 60))
hz=$(getconf CLK_TCK)
tmp=$(mktemp -d)
RWPID=
GENPID=
cleanup() {
	[ -n "$GENPID" ] && kill "$GENPID" 2>/dev/null && wait "$GENPID"
	[ -n "$RWPID" ] && kill -INT "$RWPID" 2>/dev/null && wait "$RWPID"
	umount "$tmp/mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
if ! mkfs_mount ext4 "$tmp" 2> "$tmp/mkfs.err"; then
	echo "soak: failed to make an ext4 loop filesystem: $(head -c 200 "$tmp/mkfs.err")" >&2
	exit 1
fi
dev=$(mountpoint -d "$tmp/mnt")
# shellcheck disable=SC2086
if ! start_racewatch "$tmp/rw.json" "$tmp/rw.err" --json --attach "$attach" --dev "$dev" ${SOAK_ARGS:-}; then
	echo "soak: racewatch did not start: $(head -c 300 "$tmp/rw.err")" >&2
	exit 1
fi
"$RACEGEN" -d "$secs" -o punch -m mix "$tmp/mnt/racegen.dat" > "$tmp/gen.json" 2> "$tmp/gen.err" &
GENPID=$!

# racewatch's BPF maps, from the map fds it holds; hash maps only: the
# others (ring buffer, stack traces, arrays) have no entry count to watch.
map_ids=()
map_names=()
for fdinfo in /proc/"$RWPID"/fdinfo/*; do
	id=$(awk '/^map_id:/ { print $2 }' "$fdinfo" 2>/dev/null)
	[ -n "$id" ] || continue
	read -r _ type _ name _ < <(bpftool map show id "$id" 2>/dev/null | head -1)
	[ "$type" = hash ] || continue
	map_ids+=("$id")
	map_names+=("$name")
done

map_entries() {
	bpftool -j map dump id "$1" 2>/dev/null | jq length
}

# utime + stime, fields 14 and 15, counted after the ")" that ends comm.
cpu_ticks() {
	sed 's/.*) //' /proc/"$RWPID"/stat | awk '{ print $12 + $13 }'
}

header="elapsed_s	rss_kb	cpu_s	cpu_pct"
for n in "${map_names[@]}"; do
	header+="	$n"
done
echo "$header"
echo "$header" > "$tmp/samples"

start=$(date +%s)
last_ticks=$(cpu_ticks)
next=$interval
while :; do
	sleep $((start + next - $(date +%s) > 0 ? start + next - $(date +%s) : 0))
	if ! kill -0 "$RWPID" 2>/dev/null; then
		echo "soak: racewatch died at ${next}s: $(tail -c 300 "$tmp/rw.err")" >&2
		RWPID=
		exit 1
	fi
	rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"$RWPID"/status)
	ticks=$(cpu_ticks)
	line=$(awk -v e="$next" -v r="$rss" -v t="$ticks" -v l="$last_ticks" -v hz="$hz" -v i="$interval" \
		'BEGIN { printf "%d\t%d\t%.2f\t%.1f", e, r, t / hz, 100 * (t - l) / hz / i }')
	for id in "${map_ids[@]}"; do
		line+="	$(map_entries "$id")"
	done
	echo "$line"
	echo "$line" >> "$tmp/samples"
	last_ticks=$ticks
	next=$((next + interval))
	[ "$next" -le "$secs" ] || break
done

wait "$GENPID"
genrc=$?
GENPID=
kill -INT "$RWPID"
wait "$RWPID"
rwrc=$?
RWPID=

# Flat: the last third's mean is within 10% (plus a small absolute slack:
# 2 MiB of RSS, 1 point of CPU, 16 map entries) of the first third's.
# Cumulative CPU time grows by nature: its rate (cpu_pct) is what counts.
status=0
if ! awk -F'\t' '
NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; nf = NF; next }
{ n++; for (i = 1; i <= NF; i++) v[n, i] = $i }
END {
	if (n < 3) { printf "soak: only %d samples, too few to judge a curve\n", n; exit 1 }
	third = int(n / 3)
	growing = ""
	for (i = 2; i <= nf; i++) {
		if (name[i] == "cpu_s")
			continue
		first = last = 0
		for (k = 1; k <= third; k++) {
			first += v[k, i]
			last += v[n - third + k, i]
		}
		first /= third
		last /= third
		slack = name[i] == "rss_kb" ? 2048 : name[i] == "cpu_pct" ? 1 : 16
		flat = last <= first * 1.10 + slack
		printf "soak: %-14s first third %10.1f  last third %10.1f  (%+.1f%%)  %s\n", name[i],
		       first, last, first ? 100 * (last - first) / first : 0, flat ? "flat" : "GROWING"
		if (!flat)
			growing = growing " " name[i]
	}
	if (growing != "") { print "soak: verdict: growing:" growing; exit 1 }
	printf "soak: verdict: flat over %d samples\n", n
}' "$tmp/samples"; then
	status=1
fi

lost=$(grep '"type":"summary"' "$tmp/rw.json" | grep -o '"lost":{[^}]*}')
if [ "$genrc" -ne 0 ]; then
	echo "soak: racegen failed ($genrc): $(head -c 300 "$tmp/gen.err")"
	status=1
fi
if [ "$rwrc" -ne 0 ] || grep -q WARNING "$tmp/rw.err"; then
	echo "soak: racewatch exit $rwrc: $(grep -m3 -E 'WARNING|failed' "$tmp/rw.err")"
	status=1
fi
if ! echo "$lost" | grep -qE '^"lost":\{("[a-z_]+":0,?)+\}$'; then
	echo "soak: racewatch lost records: ${lost:-no summary}"
	status=1
fi
if match=$("$RACEMATCH" --exact-ops "$tmp/gen.json" "$tmp/rw.json" 2>&1); then
	echo "soak: $(echo "$match" | tr '\n' ' ')"
else
	echo "soak: racematch: $(echo "$match" | tr '\n' ' ')"
	status=1
fi
exit "$status"
