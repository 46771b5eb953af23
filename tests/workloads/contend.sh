#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Same-file contention (tools/contend.c): three tasks punch, zero,
# collapse, insert and ftruncate one file with misaligned ranges while two
# read it. Some calls must fail (EINVAL on ext4 and xfs, EOPNOTSUPP on
# btrfs and tmpfs); racewatch must count every call, and every success.
#   contend.sh FS MNT
set -uo pipefail
. "$(dirname "$0")/lib.sh"

fs=$1 mnt=$2
name=$fs/contend
wl_case_begin

file=$mnt/contend.dat
if ! wl_start "$(user_dev "$mnt")"; then
	fail "$name" "racewatch did not start: $(head -c 300 "$RW_ERR")"
	exit 0
fi
wl_load "$CONTEND" -d "$WL_SECONDS" -w 3 -r 2 "$file"
wl_stop
calls=$(jq .total_calls "$case_tmp/load.out" 2>/dev/null)
ok=$(jq .total_ok "$case_tmp/load.out" 2>/dev/null)
failed=$(jq .total_failed "$case_tmp/load.out" 2>/dev/null)
# The case is only worth its name if the kernel refused some calls.
if [ "${failed:-0}" -eq 0 ] && [ "$LOAD_RC" -eq 0 ]; then
	LOAD_RC=1
	echo "contend: no call failed: the misaligned ranges were not refused" >> "$case_tmp/load.err"
fi
ino=$(jq .ino "$case_tmp/load.out" 2>/dev/null)
# On btrfs the read mapping decides, after the insert, so BPF cannot clear
# inserts by invalidate_lock there and sends every one into a window: at
# contend's full rate on 2 CPUs the ring buffer overflows.
[ "$fs" = btrfs ] &&
	WL_KNOWN_GAP="btrfs: no insert can be cleared at the insert, every one into a window is sent; racewatch falls behind contend at full rate"
wl_judge "$name" contend "$fs" "${ino:-0}" "${calls:-0}" "${ok:-0}"
WL_KNOWN_GAP=
rm -f "$file"
