#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the read path x operation table (busybox sh): for each read
# path in RW_PATHS (racegen --read-mode names, comma list), racegen races
# every operation in RW_OPS against readers that use only that path, on the
# one filesystem in RW_FS, each path on a file of its own, none removed, so
# that no inode number is reused and the host scores each path on its own
# file's windows (racematch --file-only). One racewatch watches them all:
# a racewatch start costs about 20 s under TCG, and one per path made this
# the layer's longest guest. Leaves /out/racewatch.{json,err,rc} and
# /out/PATH/racegen.{json,err} for the host. Every path but mmap goes on
# past RW_DURATION until RW_UNTIL_CONFIRMED calls have raced (racegen
# --until-confirmed, at most 4 durations): under TCG a path races a few
# times a minute. mmap cannot race here (tests/vm/run.sh).
attach=${RW_ATTACH:-fentry}
duration=${RW_DURATION:-20}
ops=${RW_OPS:-punch}
fs=${RW_FS:-ext4}

. /opt/guest-lib.sh
/opt/racewatch --dry-run -v --attach "$attach" $btf_dir > /out/plan.txt 2>&1

rc=0
start_racewatch /out/racewatch.json /out/racewatch.err --attach "$attach" $btf_dir --json -v || exit 1
for path in $(echo "$RW_PATHS" | tr , ' '); do
	out=/out/$path
	mkdir -p "$out"
	until=${RW_UNTIL_CONFIRMED:-0}
	[ "$path" = mmap ] && until=0
	echo "paths: racegen on $fs: -d $duration --until-confirmed $until -o $ops -m $path"
	/opt/racegen -d "$duration" --until-confirmed "$until" -o "$ops" -m "$path" \
		"/mnt/$fs/racegen-$path.dat" \
		> "$out/racegen.json" 2> "$out/racegen.err" || rc=1
	echo "paths: $path done"
done
kill -INT $rw
wait $rw
echo $? > /out/racewatch.rc
exit $rc
