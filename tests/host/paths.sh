#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Every read path against every operation on this machine's kernel
# (tracepoint mode), one loop filesystem at a time: racegen runs once per
# read path, each on a file of its own, under one racewatch. The guests run
# pread alone on 6.x, so this is where readahead, fadvise and madvise
# WILLNEED, mmap faults, splice and sendfile meet 6.18's locks.
#   ext4, xfs: fixed by invalidate_lock, so no stale page and no race window.
#   btrfs: races on 6.18 (README "The btrfs model"): every confirmed stale
#     page must have its race window (recall >= 95%), and of each kind's
#     operations judged race at most 5% may lack one, beyond one a run.
# Everywhere racewatch counts exactly racegen's calls and loses nothing.
#   paths.sh FSTYPE [SECONDS-PER-PATH]
set -uo pipefail
. "$(dirname "$0")/lib.sh"

fs=$1
secs=${2:-3}
modes=${RW_HOST_PATHS:-pread,fadvise,readahead,madvise,mmap,splice,sendfile}
ops=punch,collapse,zero,insert,truncate,dio_write
watched_scratch

if ! mkfs_mount "$fs" "$tmp" 1G 2> "$tmp/mkfs.err"; then
	for mode in ${modes//,/ }; do
		skip "paths/$fs/$mode" "cannot make a $fs loop filesystem: $(head -c 200 "$tmp/mkfs.err")"
	done
	exit 0
fi
dev=$(mountpoint -d "$tmp/mnt")
# A 16 MiB ring buffer, not the default 4: this test is about read paths,
# and racegen's three busy threads on two CPUs can starve racewatch for a
# while: racewatch under chrt -i 0 lost 316 records on btrfs at 4 MiB and
# none at 16 (a CI run of stop 34 failed on a warning here, which the
# message did not show). The default's capacity is overload.sh's and the
# workloads layer's to test.
if ! start_racewatch "$tmp/rw.json" "$tmp/rw.err" --json --dev "$dev" --ringbuf-size 16; then
	fail "paths/$fs" "racewatch did not start: $(head -c 300 "$tmp/rw.err")"
	exit 0
fi
# Each path its own file, none removed: no inode number is reused, so
# each racegen run is scored on its own inode's windows (racematch --file-only).
for mode in ${modes//,/ }; do
	"$RACEGEN" -d "$secs" -o "$ops" -m "$mode" "$tmp/mnt/racegen-$mode.dat" \
		> "$tmp/gen-$mode.json" 2> "$tmp/gen-$mode.err"
	echo $? > "$tmp/gen-$mode.rc"
done
kill -INT "$RWPID"
wait "$RWPID"
rwrc=$?
RWPID=
lost=$(grep '"type":"summary"' "$tmp/rw.json" | grep -o '"lost":{[^}]*}')
# btrfs_punch_hole_lock_range() drops the range again and again while
# readers refill it, and each refill is a candidate of the one punch (one
# btrfs punch gathered 1,997 candidates in a 4 s fadvise run here): on a
# loaded CI machine one run went past the engine's bound (ENGINE_MAX_CANDS,
# 16,384 an operation, or 32,768 in all), and racewatch said so and judged those windows
# lost, as it must (README "Lost data"). That run cannot score recall; it
# says SKIP with the count. Any other warning fails.
if [ "$fs" = btrfs ] && [ "$rwrc" -eq 0 ] && grep -q 'WARNING' "$tmp/rw.err" &&
   ! grep 'WARNING' "$tmp/rw.err" | grep -qv 'candidate inserts not kept (engine full'; then
	for mode in ${modes//,/ }; do
		skip "paths/$fs/$mode" "racewatch reached its engine bound under btrfs's punch retries, windows judged lost, recall untested this run: $(grep -m1 WARNING "$tmp/rw.err" | head -c 200)"
	done
	exit 0
fi
if [ "$rwrc" -ne 0 ] || grep -q 'WARNING' "$tmp/rw.err"; then
	# The warnings themselves, not the start-up notes before them.
	fail "paths/$fs" "racewatch exit $rwrc: $( (grep 'WARNING' "$tmp/rw.err" || tail -3 "$tmp/rw.err") | head -c 600)"
	exit 0
fi
for mode in ${modes//,/ }; do
	name=paths/$fs/$mode
	if [ "$(cat "$tmp/gen-$mode.rc")" -ne 0 ]; then
		fail "$name" "racegen failed: $(head -c 300 "$tmp/gen-$mode.err")"
		continue
	fi
	result=$("$RACEMATCH" --file-only --exact-ops --by-kind --max-false-ops 5 --false-ops-slack 1 \
		"$tmp/gen-$mode.json" "$tmp/rw.json" 2>&1)
	mrc=$?
	result=$(echo "$result" | grep -E '^(ops|cell|recall)' | tr '\n' ' ')
	confirmed=$(tail -1 "$tmp/gen-$mode.json" | grep -o '"confirmed_pages":[0-9]*' | cut -d: -f2)
	windows=$(echo "$result" | grep -o 'windows [0-9]* *$' | awk '{print $2}')
	if [ "$mrc" -ne 0 ]; then
		fail "$name" "$result"
	elif ! echo "$lost" | grep -qE '^"lost":\{("[a-z_]+":0,?)+\}$'; then
		fail "$name" "racewatch lost records: $lost"
	elif [ "$fs" != btrfs ] && { [ "${confirmed:-0}" -ne 0 ] || [ "${windows:-1}" -ne 0 ]; }; then
		fail "$name" "a kernel with invalidate_lock showed stale pages or race windows: $result"
	elif [ "$fs" = btrfs ] && [ "${confirmed:-0}" -eq 0 ]; then
		pass "$name" "$result(no stale page this run: recall untested)"
	else
		pass "$name" "$result"
	fi
done
