#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Detection on this machine's kernel (fixed: invalidate_lock), tracepoint
# mode, against the reproducer on a loop filesystem. Ground truth is the
# reproducer's oracle: racewatch must count exactly the invalidating calls
# racegen made (one per fallocate/ftruncate, however many truncations the
# kernel does inside), lose nothing, and report a race for every
# oracle-confirmed stale page (there should be none: then 0 races).
#   detect.sh FSTYPE [SECONDS]
set -uo pipefail
. "$(dirname "$0")/lib.sh"

fs=$1
secs=${2:-15}
name=detect/$fs
watched_scratch

if ! mkfs_mount "$fs" "$tmp" 2> "$tmp/mkfs.err"; then
	skip "$name" "cannot make a $fs loop filesystem: $(head -c 200 "$tmp/mkfs.err")"
	exit 0
fi
dev=$(mountpoint -d "$tmp/mnt")

watch_racegen "$name" "$tmp" "$dev" -d "$secs" -o punch,collapse,zero,insert,truncate -m mix \
	"$tmp/mnt/racegen.dat" || exit 0
result=$("$RACEMATCH" --exact-ops --by-kind "$tmp/gen.json" "$tmp/rw.json" 2>&1)
mrc=$?
lost=$(grep '"type":"summary"' "$tmp/rw.json" | grep -o '"lost":{[^}]*}')
ino=$(grep -m1 '"type":"start"' "$tmp/gen.json" | grep -o '"ino":[0-9]*')
# Inserts into a window prove the window machinery ran: on a fixed kernel
# they come from readers racing ahead of the invalidator's lock (judged
# transient) or holding invalidate_lock shared, which BPF clears and counts
# without sending them (inserts_cleared; racewatch runs without -v here).
inserts=$(grep '"type":"inode"' "$tmp/rw.json" | grep "$ino," | grep -o '"inserts":[0-9]*' | cut -d: -f2)
cleared=$(grep '"type":"summary"' "$tmp/rw.json" | grep -o '"inserts_cleared":[0-9]*' | cut -d: -f2)
inserts=$((${inserts:-0} + ${cleared:-0}))
summary="$(echo "$result" | tr '\n' ' ')inserts in a window ${inserts} (${cleared:-0} cleared by the lock in BPF)"
if [ "$mrc" -ne 0 ]; then
	fail "$name" "$summary"
elif ! echo "$lost" | grep -qE '^"lost":\{("[a-z_]+":0,?)+\}$'; then
	fail "$name" "racewatch lost records: $lost"
elif [ "$inserts" -eq 0 ]; then
	fail "$name" "no insert fell into a window: the windows never opened ($summary)"
else
	pass "$name" "$summary"
fi
