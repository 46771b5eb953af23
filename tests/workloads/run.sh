#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Workloads layer: racewatch (tracepoint mode on this kernel, --json,
# defaults otherwise, --dev on the test filesystem so that other loads on
# the machine stay out) around loads nobody here wrote: stress-ng's file
# stressors and fio, plus tools/contend.c's same-file contention, on ext4,
# xfs, btrfs (1 GiB loop images) and a tmpfs of our own. Each case prints
# one PASS/FAIL line and one INFO table row (also in $RW_WL_OUT/table.md).
# RW_WL_SECONDS: load per case (default 7; the layer takes about 2 min).
# RW_WL_FS: the filesystems (default "ext4 xfs btrfs tmpfs").
set -uo pipefail
cd "$(dirname "$0")"
. ./lib.sh

fss=${RW_WL_FS:-"ext4 xfs btrfs tmpfs"}
cases="stress-ng fio contend"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP workloads: needs root (BPF, loop devices, mounts)"
	exit 0
fi
for t in jq /usr/bin/time; do
	command -v "$t" > /dev/null ||
		{ echo "SKIP workloads: $t is missing (tools/install-deps.sh test)"; exit 0; }
done
[ -x "$CONTEND" ] || { echo "SKIP workloads: no $CONTEND (make tools)"; exit 0; }
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

mkdir -p "$WL_OUT"
: > "$WL_TABLE"
tmp=
cleanup() {
	[ -n "$tmp" ] || return
	mountpoint -q "$tmp/mnt" && umount "$tmp/mnt"
	rm -rf "$tmp"
}
trap cleanup EXIT

# timed CMD...: CMD, then how long it took, for the budget.
timed() {
	local t0=$(date +%s%N)
	"$@"
	echo "INFO workloads: ${*##*/} $(( ($(date +%s%N) - t0) / 1000000 )) ms" | cut -c1-120
}

start=$(date +%s)
for fs in $fss; do
	tmp=$(mktemp -d)
	if ! timed wl_mount "$fs" "$tmp" > "$tmp/mkfs.out" 2>&1; then
		for c in $cases; do
			skip "$fs/$c" "cannot make a $fs filesystem: $(head -c 200 "$tmp/mkfs.out" | tr '\n' ' ')"
		done
		cleanup
		continue
	fi
	timed ./stress.sh "$fs" "$tmp/mnt"
	timed ./fio.sh "$fs" "$tmp/mnt"
	timed ./contend.sh "$fs" "$tmp/mnt"
	[ "$fs" = btrfs ] && timed ./btrfs-path.sh "$tmp/mnt"
	timed cleanup
	tmp=
done
echo "INFO workloads: $(($(date +%s) - start)) s at RW_WL_SECONDS=$WL_SECONDS; table in $WL_TABLE"
