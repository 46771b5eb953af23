#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of tests/vm/overload.sh (busybox sh): the loss paths that need
# kprobes, on a kernel that really races. For each MAP in RW_MAPS
# (comma list), racewatch runs in kprobe mode with that map shrunk to one
# entry while two racegen instances punch two files on /mnt/ext4 (two
# invalidations and many inserts at once), in rounds until it warns.
# Outputs land in /out/MAP.*.
duration=${RW_DURATION:-6}
rc=0
. /opt/guest-lib.sh

for map in $(echo "${RW_MAPS:-stash,invals}" | tr , ' '); do
	start_racewatch "/out/$map.json" "/out/$map.err" --attach kprobe --json -v \
		--test-map-size "$map=1" || exit 1
	# The map fills only when two tasks are inside the hooked function at
	# once, which is a matter of luck under emulation: load in rounds until
	# racewatch has warned (it does so once a second), at most RW_ROUNDS.
	round=0
	while [ $round -lt "${RW_ROUNDS:-6}" ] && ! grep -q '^racewatch: WARNING!' "/out/$map.err"; do
		/opt/racegen -d "$duration" -r 6 -R 1024 -o punch -m pread "/mnt/ext4/a.dat" \
			> "/out/$map.gen-a.json" 2> "/out/$map.gen-a.err" &
		a=$!
		/opt/racegen -d "$duration" -r 6 -R 1024 -o punch -m pread "/mnt/ext4/b.dat" \
			> "/out/$map.gen-b.json" 2> "/out/$map.gen-b.err" || rc=1
		wait $a || rc=1
		sleep 1.5
		round=$((round + 1))
	done
	echo "overload: $map after $round rounds"
	kill -INT $rw
	wait $rw
	echo $? > "/out/$map.rc"
	echo "overload: $map done"
done
exit $rc
