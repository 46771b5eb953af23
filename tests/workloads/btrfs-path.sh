#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# --path on btrfs, where stat(2) gives a subvolume's anonymous device and
# BPF sees the superblock's: racewatch --path FILE must count exactly the
# hole punches contend made on FILE in a subvolume. A second racewatch,
# --path on a file nobody touches, must say at exit that it matched nothing.
#   btrfs-path.sh MNT   (MNT: a btrfs mount of our own)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

mnt=$1
name=btrfs/path
case_tmp=$(mktemp -d)
RWPID= IDLEPID=
cleanup() {
	[ -n "$RWPID" ] && kill -INT "$RWPID" 2>/dev/null && wait "$RWPID"
	[ -n "$IDLEPID" ] && kill -INT "$IDLEPID" 2>/dev/null && wait "$IDLEPID"
	rm -rf "$case_tmp"
}
trap cleanup EXIT

if ! btrfs subvolume create "$mnt/sv" > "$case_tmp/sv.out" 2>&1; then
	fail "$name" "cannot create a subvolume: $(head -c 200 "$case_tmp/sv.out")"
	exit 0
fi
file=$mnt/sv/f idle=$mnt/sv/idle
: > "$file"
: > "$idle"
sdev=$(user_dev "$file")
sbdev=$(mountpoint -d "$mnt")
[ "$sdev" != "$sbdev" ] ||
	echo "note: stat and mountinfo agree on $sdev here: the case proves less" >&2

if ! start_racewatch "$case_tmp/idle.json" "$case_tmp/idle.err" --json --path "$idle"; then
	fail "$name" "racewatch (idle) did not start: $(head -c 300 "$case_tmp/idle.err")"
	exit 0
fi
IDLEPID=$RWPID
RW_OUT=$case_tmp/rw.json RW_ERR=$case_tmp/rw.err
if ! start_racewatch "$RW_OUT" "$RW_ERR" --json --path "$file"; then
	fail "$name" "racewatch did not start: $(head -c 300 "$RW_ERR")"
	exit 0
fi
# Bounded (2 x 1000 punches): this checks the device mapping, not how
# many records per second racewatch keeps up with (the contend case does).
wl_load "$CONTEND" -d 30 -o punch -w 2 -r 1 -n 1000 "$file"
wl_stop
kill -INT "$IDLEPID"
wait "$IDLEPID"
idlerc=$?
IDLEPID=
calls=$(jq .total_calls "$case_tmp/load.out" 2>/dev/null)
ok=$(jq .total_ok "$case_tmp/load.out" 2>/dev/null)
ino=$(stat -c %i "$file")
want="racewatch: --path $idle matched no operation or insert"
if [ "$idlerc" -ne 0 ] || [ "$(tail -n1 "$case_tmp/idle.err")" != "$want" ]; then
	fail "$name/unmatched" "idle racewatch exit $idlerc, last stderr line '$(tail -n1 "$case_tmp/idle.err" | head -c 200)', want '$want'"
else
	pass "$name/unmatched" "said so at exit (stat says $sdev, the superblock is $sbdev)"
fi
wl_judge "$name" "contend -o punch, --path" btrfs "$ino" "${calls:-0}" "${ok:-0}"
