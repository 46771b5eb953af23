#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tmpfs on this machine's kernel. The oracle runs here as on the other
# filesystems, every operation against pread readers; tmpfs has no blocks
# to free, so a page inserted after a punch is a new zeroed page and the
# oracle must find none stale. racewatch cannot watch it in tracepoint
# mode: no tracepoint fires at shmem_add_to_page_cache() or
# shmem_undo_range() (the guests' fentry and kprobe cases cover tmpfs).
# What is asserted is that it says so, at start and for --dev at exit, and
# shows no window rather than a guess. Should a later kernel give tmpfs a
# hook, racewatch must then count every operation exactly.
#   tmpfs.sh [SECONDS]
set -uo pipefail
. "$(dirname "$0")/lib.sh"

secs=${1:-4}
name=tmpfs
watched_scratch

mkdir -p "$tmp/mnt"
if ! mount -t tmpfs -o size=256M tmpfs "$tmp/mnt" 2> "$tmp/mount.err"; then
	skip "$name" "cannot mount tmpfs: $(head -c 200 "$tmp/mount.err")"
	exit 0
fi
dev=$(mountpoint -d "$tmp/mnt")
watch_racegen "$name" "$tmp" "$dev" -d "$secs" -o punch,collapse,zero,insert,truncate,dio_write \
	-m pread "$tmp/mnt/racegen.dat" || exit 0
result=$("$RACEMATCH" --exact-ops --by-kind "$tmp/gen.json" "$tmp/rw.json" 2>&1)
mrc=$?
stale=$(tail -1 "$tmp/gen.json" | grep -o '"stale_pages":[0-9]*' | cut -d: -f2)
watched=$(echo "$result" | grep -o '^ops racegen [0-9]* racewatch [0-9]*' | awk '{print $5}')
summary=$(echo "$result" | grep -E '^(ops|cell|recall)' | tr '\n' ' ')
if [ "${stale:-1}" -ne 0 ]; then
	fail "$name" "the oracle found stale tmpfs pages, which have no blocks to go stale: $summary"
elif [ "${watched:-0}" -eq 0 ]; then
	# Unwatched: it must have said so, once at start and once for --dev.
	if grep -q '^racewatch: warning: running without tmpfs/shmem insert: .*tmpfs is not watched$' "$tmp/rw.err" &&
	   grep -q "^racewatch: --dev $dev matched no operation or insert$" "$tmp/rw.err" &&
	   [ "$(jq -s '[.[] | select(.type == "window")] | length' "$tmp/rw.json")" -eq 0 ]; then
		pass "$name" "${summary}(oracle: no stale page; racewatch: not watched in tracepoint mode, said at start and at exit)"
	else
		fail "$name" "tmpfs unwatched but not said so, or a window shown: $summary; $(head -c 300 "$tmp/rw.err")"
	fi
elif [ "$mrc" -ne 0 ]; then
	fail "$name" "$summary"
else
	pass "$name" "$summary"
fi
