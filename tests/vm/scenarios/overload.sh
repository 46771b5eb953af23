#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of tests/vm/overload.sh (busybox sh): the loss paths that need
# kprobes, on a kernel that really races. For each MAP in RW_MAPS
# (comma list), racewatch runs in kprobe mode with that map shrunk to one
# entry while two racegen instances punch two files on /mnt/ext4 (two
# invalidations and many inserts at once), in rounds until it warns.
# "returns" shrinks nothing: 24 memcg readers overrun the insert
# kretprobe's instances, so that returns are missed.
# Outputs land in /out/MAP.*.
duration=${RW_DURATION:-6}
rc=0
. /opt/guest-lib.sh

cg=/sys/fs/cgroup/rw-readers

# memcg_readers N: N readers of a 32 MiB file that nothing punches, in a
# memory cgroup held at 8 MiB. The stash fills only when two inserts are
# inside the hooked __add_to_page_cache_locked() at once while a window is
# open anywhere; left to luck, one run in ten saw no overlap in six rounds
# (2,478 inserts). Here each reader's insert is charged inside the hook
# (mem_cgroup_charge(), 5.8 on) and, the group being full, reclaims there
# first, so inserts stay inside long enough to overlap. Sets assist to
# what it did, or why not, and readers to 1 if they run.
memcg_readers() {
	local i n=$1
	assist="no memcg readers"
	[ -e /sys/fs/cgroup/cgroup.controllers ] || mount -t cgroup2 none /sys/fs/cgroup || return 1
	if ! grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
		assist="no memcg readers: cgroup2 has no memory controller"
		return 1
	fi
	echo +memory > /sys/fs/cgroup/cgroup.subtree_control && mkdir -p $cg &&
		echo $((8 << 20)) > $cg/memory.max || return 1
	# Written outside the group, then dropped, so the readers insert it.
	dd if=/dev/zero of=/mnt/ext4/c.dat bs=1M count=32 2>/dev/null && sync || return 1
	echo 1 > /proc/sys/vm/drop_caches
	for i in $(seq "$n"); do
		sh -c "echo \$\$ > $cg/cgroup.procs && while :; do cat /mnt/ext4/c.dat; done > /dev/null" &
	done
	assist="$n memcg readers"
	readers=1
}

# memcg_stop: every task in the group, shells first and then their cats.
memcg_stop() {
	local tries=0
	while [ -s $cg/cgroup.procs ] && [ $tries -lt 50 ]; do
		kill $(cat $cg/cgroup.procs) 2>/dev/null
		sleep 0.1
		tries=$((tries + 1))
	done
}

for map in $(echo "${RW_MAPS:-stash,invals}" | tr , ' '); do
	shrink="--test-map-size $map=1"
	[ "$map" = returns ] && shrink=
	start_racewatch "/out/$map.json" "/out/$map.err" --attach kprobe --json -v \
		$shrink || exit 1
	# The map fills only when two tasks are inside the hooked function at
	# once, which is a matter of luck under emulation: load in rounds until
	# racewatch has warned (it does so once a second), at most RW_ROUNDS
	# (the invals map has needed 3). For the stash, memcg_readers makes it
	# likely; for the returns, it takes more readers than the kretprobe
	# has instances (10 on 5.10 with CONFIG_PREEMPTION, else the CPUs).
	assist= readers=
	[ "$map" = stash ] && memcg_readers 3
	[ "$map" = returns ] && memcg_readers 24
	# The warning of this map's loss, not any: a run of the invals map
	# stopped after 1 round on a missed kretprobe's, before the map had
	# filled, and failed (tests/vm/overload.sh names each, src/losses.c
	# words it).
	case $map in
	stash) want='inserts unseen' ;;
	invals) want='operations untracked' ;;
	returns) want='inserts whose return never fired' ;;
	*) want= ;;
	esac
	round=0
	while [ $round -lt "${RW_ROUNDS:-12}" ] && ! grep -q "^racewatch: WARNING!.*$want" "/out/$map.err"; do
		/opt/racegen -d "$duration" -r 6 -R 1024 -o punch -m pread "/mnt/ext4/a.dat" \
			> "/out/$map.gen-a.json" 2> "/out/$map.gen-a.err" &
		a=$!
		/opt/racegen -d "$duration" -r 6 -R 1024 -o punch -m pread "/mnt/ext4/b.dat" \
			> "/out/$map.gen-b.json" 2> "/out/$map.gen-b.err" || rc=1
		wait $a || rc=1
		sleep 1.5
		round=$((round + 1))
	done
	if [ "$readers" = 1 ]; then
		assist="$assist, which hit memory.max $(grep -w max $cg/memory.events | cut -d' ' -f2) times"
		memcg_stop
	fi
	# tests/vm/overload.sh puts this line in its PASS line.
	echo "overload: $map after $round rounds${assist:+, $assist}"
	kill -INT $rw
	wait $rw
	echo $? > "/out/$map.rc"
	echo "overload: $map done"
done
exit $rc
