#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Two racewatch instances at once (tracepoint mode, --json) share the
# tracepoints: both must count exactly the calls racegen made, lose no
# record, exit 0 with a summary, and leave no BPF object behind.
#   coexist.sh [SECONDS]
set -uo pipefail
. "$(dirname "$0")/lib.sh"

secs=${1:-5}
name=coexist/ext4
tmp=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	umount "$tmp/mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v bpftool > /dev/null || ! command -v jq > /dev/null; then
	skip "$name" "needs bpftool and jq (tools/install-deps.sh test)"
	exit 0
fi
if ! mkfs_mount ext4 "$tmp" 2> "$tmp/mkfs.err"; then
	skip "$name" "cannot make an ext4 loop filesystem: $(head -c 200 "$tmp/mkfs.err")"
	exit 0
fi
dev=$(mountpoint -d "$tmp/mnt")

for i in 1 2; do
	if ! start_racewatch "$tmp/rw$i.json" "$tmp/rw$i.err" -a tracepoint --json --dev "$dev"; then
		fail "$name" "instance $i did not start: $(head -c 300 "$tmp/rw$i.err")"
		exit 0
	fi
	PIDS+=("$RWPID")
	# Read from fdinfo: exactly this process's programs, maps and links.
	for f in /proc/"$RWPID"/fdinfo/*; do
		awk '/^(prog|map|link)_id:/ { sub("_id:", ""); print $1, $2 }' "$f" 2>/dev/null
	done | sort -u > "$tmp/ids$i"
done

"$RACEGEN" -d "$secs" -o punch,collapse,zero,insert,truncate -m mix \
	"$tmp/mnt/racegen.dat" > "$tmp/gen.json" 2> "$tmp/gen.err"
genrc=$?
for i in 1 2; do
	kill -INT "${PIDS[i - 1]}"
done
# Hang guard, not a timing assertion.
for i in 1 2; do
	for _ in $(seq 200); do
		kill -0 "${PIDS[i - 1]}" 2>/dev/null || break
		sleep 0.1
	done
	wait "${PIDS[i - 1]}"
	rc[i]=$?
done
PIDS=()

if [ "$genrc" -ne 0 ]; then
	fail "$name" "racegen failed ($genrc): $(head -c 300 "$tmp/gen.err")"
	exit 0
fi
why=
for i in 1 2; do
	lost=$(jq -c 'select(.type == "summary") | .lost | to_entries | map(select(.value != 0))' \
		"$tmp/rw$i.json")
	if [ "${rc[i]}" -ne 0 ] || grep -q WARNING "$tmp/rw$i.err"; then
		why="instance $i: exit ${rc[i]}: $(head -c 300 "$tmp/rw$i.err")"
	elif [ "$lost" != "[]" ]; then
		why="instance $i: summary lost ${lost:-(no summary)}"
	elif ! res=$("$RACEMATCH" --exact-ops "$tmp/gen.json" "$tmp/rw$i.json" 2>&1); then
		why="instance $i: $(echo "$res" | tr '\n' ' ')"
	fi
	[ -n "$why" ] && break
	ops[i]=$(echo "$res" | tr '\n' ' ')
done
if [ -z "$why" ]; then
	# Freeing is deferred (RCU, work queues): poll for a bounded while.
	for _ in $(seq 200); do
		left=$(for k in prog map link; do
			ids=$(cat "$tmp/ids1" "$tmp/ids2" | awk -v k=$k '$1 == k { print $2 }' | jq -cs .)
			bpftool -j "$k" show | jq -r --arg k $k --argjson ids "$ids" \
				'.[] | select(.id as $i | $ids | index($i)) | "\($k) \(.id)"'
		done)
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -n "$left" ] && why="left in the kernel: $(echo "$left" | tr '\n' ' ')"
	[ "$(wc -l < "$tmp/ids1")" -gt 0 ] && [ "$(wc -l < "$tmp/ids2")" -gt 0 ] ||
		why="no BPF object seen in an instance's fdinfo"
	# Each instance loads its own: nothing is shared or pinned.
	shared=$(comm -12 "$tmp/ids1" "$tmp/ids2" | tr '\n' ' ')
	[ -n "$shared" ] && why="instances share BPF objects: $shared"
fi
if [ -n "$why" ]; then
	fail "$name" "$why"
else
	pass "$name" "1: ${ops[1]}; 2: ${ops[2]}"
fi
