#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Per-test attribution (README "Running xfstests under racewatch"): a
# wrapped script announces tests in /dev/kmsg as xfstests' check does
# ("run fstests SEQ at DATE") around racegen runs on a loop ext4, each on a
# file of its own, with a test that does nothing between them. With -v
# every window is printed, so:
#   - each test's row counts exactly its racegen's calls, and the idle
#     test none;
#   - each window names the test of its file, and each test's candidates
#     are its windows;
#   - a line written before racewatch started is never replayed.
#   kmsg.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"

name=kmsg
watched_scratch
if [ ! -w /dev/kmsg ]; then
	skip "$name" "/dev/kmsg is not writable here"
	exit 0
fi
if ! mkfs_mount ext4 "$tmp" 256M 2> "$tmp/mkfs.err"; then
	skip "$name" "cannot make an ext4 loop filesystem: $(head -c 200 "$tmp/mkfs.err")"
	exit 0
fi
dev=$(mountpoint -d "$tmp/mnt")
# Names of this run's own, so that another run's lines cannot be taken for them.
t=rw-kmsg-$$
echo "run fstests $t/old at $(date '+%F %T')" > /dev/kmsg
"$RW" --json -v -o "$tmp/rw.json" --dev "$dev" -- sh -c "
	echo 'run fstests $t/punch at \$(date \"+%F %T\")' > /dev/kmsg
	'$RACEGEN' -d 2 -o punch -m pread '$tmp/mnt/punch.dat' > '$tmp/punch.json'
	echo 'run fstests $t/idle at \$(date \"+%F %T\")' > /dev/kmsg
	sleep 1
	echo 'run fstests $t/truncate at \$(date \"+%F %T\")' > /dev/kmsg
	'$RACEGEN' -d 2 -o truncate -m pread '$tmp/mnt/truncate.dat' > '$tmp/truncate.json'
" 2> "$tmp/rw.err"
rc=$?
if [ "$rc" -ne 0 ]; then
	fail "$name" "exit $rc: $(grep -v warning "$tmp/rw.err" | head -c 300)"
	exit 0
fi
calls() { tail -1 "$1" | jq -r '.calls_ok + .calls_failed'; }
row() { jq -r --arg t "$1" 'select(.type == "test" and .test == $t) | "\(.ops) \(.candidates)"' "$tmp/rw.json"; }
windows_of() { jq -r --arg t "$1" 'select(.type == "window" and .test == $t) | .ino' "$tmp/rw.json" | sort -u | tr '\n' ' '; }
nwindows() { jq -r --arg t "$1" 'select(.type == "window" and .test == $t) | .ino' "$tmp/rw.json" | wc -l; }
ino() { stat -c %i "$tmp/mnt/$1.dat"; }

punch_calls=$(calls "$tmp/punch.json")
trunc_calls=$(calls "$tmp/truncate.json")
read -r p_ops p_cands < <(row "$t/punch")
read -r i_ops i_cands < <(row "$t/idle")
read -r t_ops t_cands < <(row "$t/truncate")
why=
[ "${p_ops:-x}" = "$punch_calls" ] || why="$why punch test ops ${p_ops:-none}, racegen $punch_calls;"
[ "${t_ops:-x}" = "$trunc_calls" ] || why="$why truncate test ops ${t_ops:-none}, racegen $trunc_calls;"
[ "${i_ops:-x}" = 0 ] && [ "${i_cands:-x}" = 0 ] || why="$why idle test ${i_ops:-none} ops ${i_cands:-none} candidates;"
[ -z "$(row "$t/old")" ] || why="$why the line from before racewatch started was replayed;"
[ "$(windows_of "$t/punch")" = "$(ino punch) " ] || [ "${p_cands:-0}" = 0 ] ||
	why="$why punch test windows on inodes $(windows_of "$t/punch");"
[ "$(windows_of "$t/truncate")" = "$(ino truncate) " ] || [ "${t_cands:-0}" = 0 ] ||
	why="$why truncate test windows on inodes $(windows_of "$t/truncate");"
[ "$(nwindows "$t/punch")" = "${p_cands:-x}" ] || why="$why punch test $(nwindows "$t/punch") windows, ${p_cands:-none} candidates;"
[ "$(nwindows "$t/truncate")" = "${t_cands:-x}" ] || why="$why truncate test $(nwindows "$t/truncate") windows, ${t_cands:-none} candidates;"
untagged=$(jq -r 'select(.type == "window" and .test == null) | .ino' "$tmp/rw.json" | wc -l)
[ "$untagged" = 0 ] || why="$why $untagged windows with no test;"
if [ -n "$why" ]; then
	fail "$name" "$why"
else
	pass "$name" "punch test $p_ops ops (racegen $punch_calls) $p_cands candidates, idle 0, truncate test $t_ops ops (racegen $trunc_calls) $t_cands candidates; every window in its file's test"
fi
