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
wl_judge "$name" contend "$fs" "${ino:-0}" "${calls:-0}" "${ok:-0}"
rm -f "$file"
