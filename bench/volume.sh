#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Ring-buffer volume under load: racewatch at its default settings (plus -v
# --json, so every judged window is printed too) while one load runs on a
# fresh loop filesystem (tmpfs: a fresh tmpfs). Prints one line per run:
# records per second that BPF tried to send, by type (the summary's "sent"
# plus "unsent"), the loss counters, and what the engine made of it. Not a
# test: it prints numbers, it asserts nothing. One run at a time: the loads
# are meant to saturate the machine's file paths, not to share it.
#
#   sudo bench/volume.sh FS LOAD [SECONDS]
#     FS    ext4, xfs, btrfs or tmpfs
#     LOAD  evidence:   stress-ng --fpunch 2 --fallocate 1 --readahead 1 --iomix 1
#           files:      stress-ng fpunch, fallocate, readahead, iomix, copy-file,
#                       sendfile, splice and mmap, one worker each
#           contention: three racegen instances (every operation, mixed
#                       readers) on their own files, and stress-ng --fpunch 1
#                       (four processes punching one file)
#     SECONDS  length of the load (default 20)
#   VOLUME_DEV=1: watch only the load's filesystem (--dev), so that what
#   others run on a shared machine stays out of the numbers.
set -uo pipefail

fs=$1
load=$2
secs=${3:-20}
top=$(realpath "$(dirname "$0")/..")
rw=$top/build/racewatch
racegen=$top/build/racegen
tmp=$(mktemp -d)
rwpid=
pids=()
cleanup() {
	[ -n "$rwpid" ] && kill -INT "$rwpid" 2>/dev/null && wait "$rwpid"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	umount "$tmp/mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

[ -x "$rw" ] || { echo "volume.sh: build racewatch first (make)" >&2; exit 1; }
mkdir "$tmp/mnt"
case $fs in
ext4)	truncate -s 1G "$tmp/img"; mkfs.ext4 -q -F "$tmp/img" ;;
xfs)	truncate -s 1G "$tmp/img"; mkfs.xfs -q -f "$tmp/img" ;;
btrfs)	truncate -s 1G "$tmp/img"; mkfs.btrfs -q -f "$tmp/img" > /dev/null ;;
tmpfs)	;;
*)	echo "volume.sh: unknown filesystem $fs" >&2; exit 64 ;;
esac
if [ "$fs" = tmpfs ]; then
	mount -t tmpfs -o size=1g none "$tmp/mnt"
else
	mount -o loop "$tmp/img" "$tmp/mnt"
fi

filter=()
[ "${VOLUME_DEV:-0}" = 1 ] && filter=(--dev "$(mountpoint -d "$tmp/mnt")")
"$rw" -v --json "${filter[@]}" > "$tmp/rw.json" 2> "$tmp/rw.err" &
rwpid=$!
for _ in $(seq 300); do
	grep -q '^racewatch: watching' "$tmp/rw.err" && break
	kill -0 "$rwpid" 2>/dev/null || break
	sleep 0.1
done
grep -q '^racewatch: watching' "$tmp/rw.err" ||
	{ echo "volume.sh: racewatch did not start: $(head -c 300 "$tmp/rw.err")" >&2; exit 1; }

sng() {
	stress-ng --temp-path "$tmp/mnt" -t "$secs" "$@" > "$tmp/sng.out" 2>&1 &
	pids+=($!)
}
case $load in
evidence)
	sng --fpunch 2 --fallocate 1 --readahead 1 --iomix 1 ;;
files)
	sng --fpunch 1 --fallocate 1 --readahead 1 --iomix 1 --copy-file 1 \
	    --sendfile 1 --splice 1 --mmap 1 ;;
contention)
	for i in 1 2 3; do
		"$racegen" -d "$secs" -o punch,collapse,zero,insert,truncate -m mix -r 2 \
			"$tmp/mnt/gen$i.dat" > "$tmp/gen$i.json" 2> "$tmp/gen$i.err" &
		pids+=($!)
	done
	sng --fpunch 1 ;;
*)	echo "volume.sh: unknown load $load" >&2; exit 64 ;;
esac
for p in "${pids[@]}"; do wait "$p"; done
pids=()
# racewatch's own CPU time (utime + stime, clock ticks), before it stops.
cpu=$(awk '{ print $14 + $15 }' "/proc/$rwpid/stat")
kill -INT "$rwpid"
wait "$rwpid"
rc=$?
rwpid=

dev=$(mountpoint -d "$tmp/mnt")
echo "racewatch CPU during the load: $((cpu * 100 / $(getconf CLK_TCK) / secs))% of one core"
jq -s -r --arg dev "$dev" --arg filtered "${VOLUME_DEV:-0}" --argjson secs "$secs" --arg fs "$fs" --arg load "$load" --arg rc "$rc" '
	(map(select(.type == "summary")) | .[0]) as $s |
	(map(select(.type == "inode" and .dev == $dev))) as $in |
	def rate(t): ((($s.sent[t] // 0) + ($s.unsent[t] // 0)) / $secs | floor);
	"\($load) \($fs)\(if $filtered == "1" then " (--dev)" else "" end) rc \($rc) elapsed \($s.elapsed_s)s" +
	" rec/s: op_begin \(rate("op_begin")) inval_begin \(rate("inval_begin"))" +
	" inval_end \(rate("inval_end")) block_free \(rate("block_free"))" +
	" op_end \(rate("op_end")) insert \(rate("insert")) delete \(rate("delete"))" +
	" page \(rate("page")) total \([$s.sent[], $s.unsent[]] | add / $secs | floor)" +
	" | ringbuf_full \($s.lost.ringbuf_full) windows_lost \($s.lost.windows_lost)" +
	" orphans \($s.records.orphans) unattributed \($s.records.unattributed)" +
	" ops_open \($s.incomplete.ops_open) ops_dropped \($s.incomplete.ops_dropped)" +
	" ops_lossy \($s.incomplete.ops_lossy)" +
	" | this fs: inodes \($in | length) ops \([$in[].ops] | add // 0)" +
	" ops_ok \([$in[].ops_ok] | add // 0) inserts \([$in[].inserts] | add // 0)" +
	" | all: ops \([.[] | select(.type == "inode") | .ops] | add // 0)" +
	" verdicts \($s.verdicts | to_entries | map(select(.value > 0) | "\(.key)=\(.value)") | join(","))"
' "$tmp/rw.json"
if [ "$load" = contention ]; then
	for i in 1 2 3; do
		echo "racegen$i: $(grep '"type":"summary"' "$tmp/gen$i.json" | head -c 300)"
	done
fi
# Each distinct warning once, with how many times it was said.
grep -v '^racewatch: watching' "$tmp/rw.err" | sed -E 's/WARNING! [0-9]+/WARNING! N/' |
	sort | uniq -c | sort -rn | sed 's/^ */stderr: /'
