#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of attach-churn.sh (busybox sh): attach and detach probes on
# truncate_inode_pages_range over and over while short-lived processes exit.
# Each child reads its own /proc/self/*, so proc dentries and inodes exist
# and release_task() invalidates them, and evicting those inodes calls
# truncate_inode_pages_final() -> truncate_inode_pages_range(), the probed
# function. Parameters (kernel command line rw.*):
#   RW_PROBE   racewatch: racewatch --attach kprobe, started and stopped
#              pair:      tracefs p: and r: events on the function
#              kprobe:    tracefs p: event only
#              kretprobe: tracefs r: event only
#              none:      no probe (the churn alone)
#   RW_CYCLES  attach/detach cycles (default 200)
#   RW_HOLD    seconds attached per cycle (default 0.2)
#   RW_STUCK   seconds one cycle may take before the guest dumps its tasks
#              and stops (default 60)
# Prints "CHURN: cycle N" every 10 cycles and "CHURN: done cycles=N", or
# "CHURN: stuck in cycle N" with ps, racewatch's stderr and the kernel's
# blocked-task dump.
probe=${RW_PROBE:-pair}
cycles=${RW_CYCLES:-200}
hold=${RW_HOLD:-0.2}
stuck=${RW_STUCK:-60}
T=/sys/kernel/tracing

churn() {
	while [ ! -e /tmp/stop ]; do
		for i in 1 2 3 4 5 6 7 8; do
			(cat /proc/self/status /proc/self/stat /proc/self/maps > /dev/null
			 ls /proc/self/fd /proc/self/task > /dev/null) &
		done
		wait
	done
}

# The event definitions for tracefs modes, one per line.
defs() {
	case $probe in
	pair) printf 'p:rwtest truncate_inode_pages_range\nr:rwtestr truncate_inode_pages_range\n' ;;
	kprobe) echo 'p:rwtest truncate_inode_pages_range' ;;
	kretprobe) echo 'r:rwtestr truncate_inode_pages_range' ;;
	esac
}

# Define, enable, hold, disable and remove: what a perf kprobe link does
# when it is created and closed.
tracefs_cycle() {
	defs | while read -r d; do
		echo "$d" >> $T/kprobe_events || return 1
	done
	for e in rwtest rwtestr; do
		[ ! -d $T/events/kprobes/$e ] || echo 1 > $T/events/kprobes/$e/enable || return 1
	done
	sleep "$hold"
	for e in rwtest rwtestr; do
		[ ! -d $T/events/kprobes/$e ] || echo 0 > $T/events/kprobes/$e/enable || return 1
	done
	for e in rwtest rwtestr; do
		[ ! -d $T/events/kprobes/$e ] || echo "-:$e" >> $T/kprobe_events || return 1
	done
}

racewatch_cycle() {
	# Empty it first: the child truncates it only after fork, so the wait
	# below could see the previous cycle's "watching" and signal too early.
	: > /tmp/rw.err
	/opt/racewatch --attach kprobe --json > /dev/null 2> /tmp/rw.err &
	rw=$!
	tries=0
	until grep -q '^racewatch: watching' /tmp/rw.err; do
		if ! kill -0 $rw 2>/dev/null || [ $tries -ge 600 ]; then
			echo "CHURN: racewatch did not start:"
			cat /tmp/rw.err
			return 1
		fi
		tries=$((tries + 1))
		sleep 0.05
	done
	sleep "$hold"
	kill -INT $rw
	wait $rw || { echo "CHURN: racewatch exited $?"; cat /tmp/rw.err; return 1; }
}

# A hung cycle says where it hung instead of waiting for the host's timeout.
watchdog() {
	last=-1 same=0
	while [ ! -e /tmp/stop ]; do
		sleep 5
		now=$(cat /tmp/beat 2> /dev/null)
		if [ "$now" = "$last" ]; then
			same=$((same + 5))
		else
			same=0 last=$now
		fi
		[ $same -ge "$stuck" ] || continue
		echo "CHURN: stuck in cycle $((now + 1))"
		ps
		cat /tmp/rw.err 2> /dev/null
		for p in $(pidof racewatch); do
			echo "CHURN: racewatch $p $(grep State /proc/$p/status) wchan $(cat /proc/$p/wchan)"
			cat /proc/$p/stack
			ls -l /proc/$p/task
		done
		echo "CHURN: main shell $(grep State /proc/$PPID/status 2>/dev/null)"
		echo 8 > /proc/sys/kernel/printk
		echo w > /proc/sysrq-trigger
		echo l > /proc/sysrq-trigger
		sleep 2
		echo "RW-DONE rc=2 reason=stuck"
		poweroff -f
	done
}

echo 0 > /tmp/beat
watchdog &
echo "CHURN: kernel $(uname -r) probe $probe cycles $cycles hold $hold"
churn &
c1=$!
churn &
c2=$!
n=0 rc=0
while [ $n -lt "$cycles" ]; do
	case $probe in
	racewatch) racewatch_cycle || { rc=1; break; } ;;
	none) sleep "$hold" ;;
	*) tracefs_cycle || { echo "CHURN: tracefs cycle failed"; rc=1; break; } ;;
	esac
	n=$((n + 1))
	echo $n > /tmp/beat
	[ $((n % 10)) -ne 0 ] || echo "CHURN: cycle $n"
done
touch /tmp/stop
wait $c1 $c2
echo "CHURN: done cycles=$n"
exit $rc
