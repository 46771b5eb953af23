#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# fio: hole punches (ioengine=falloc, rw=randtrim) beside random readers
# (psync and mmap) on one file. fio reports its trims, one fallocate each,
# so racewatch must count exactly that many operations on the file.
#   fio.sh FS MNT
set -uo pipefail
. "$(dirname "$0")/lib.sh"

fs=$1 mnt=$2
name=$fs/fio
command -v fio > /dev/null || { skip "$name" "fio is not installed"; exit 0; }
wl_case_begin

# Laid out before racewatch starts, at the size fio wants: fio then
# neither extends nor truncates it, and every operation on it is a trim.
file=$mnt/fio.dat
dd if=/dev/zero of="$file" bs=1M count=64 conv=fsync status=none
cat > "$case_tmp/job.fio" <<JOB
[global]
filename=$file
size=64m
time_based=1
runtime=$WL_SECONDS
[punch]
ioengine=falloc
rw=randtrim
bs=16k
[read-psync]
ioengine=psync
rw=randread
bs=4k
[read-mmap]
ioengine=mmap
rw=randread
bs=4k
JOB
if ! wl_start "$(user_dev "$mnt")"; then
	fail "$name" "racewatch did not start: $(head -c 300 "$RW_ERR")"
	exit 0
fi
wl_load fio --output-format=json --output="$case_tmp/fio.json" "$case_tmp/job.fio"
wl_stop
trims=$(jq '[.jobs[].trim.total_ios] | add' "$case_tmp/fio.json" 2>/dev/null)
ino=$(stat -c %i "$file")
wl_judge "$name" fio "$fs" "$ino" "${trims:-0}" "${trims:-0}"
rm -f "$file"
