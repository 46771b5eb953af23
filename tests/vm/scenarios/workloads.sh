#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the workloads cases (busybox sh): racewatch watches with the
# forced mechanism while load nobody here wrote runs on each filesystem:
# stress-ng's file stressors and, beside them, fio punching (falloc
# randtrim) against randread jobs on one file; then tools/contend, several
# tasks punching, zeroing, collapsing, inserting and truncating one file
# with misaligned ranges while others read it. Everything lands in /out for the host to judge
# (tests/vm/workloads.sh). Parameters (kernel command line rw.*): RW_ATTACH,
# RW_FS (comma list), RW_DURATION (seconds per load).
attach=${RW_ATTACH:-auto}
duration=${RW_DURATION:-20}

# Milliseconds since boot: busybox date has no %N.
now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# fio_jobs FS ARGS...: the fio load on FS. fio counts its punches exactly.
fio_jobs() {
	local fs=$1
	shift
	fio --name=punch --filename="/mnt/$fs/fio.dat" --size=64m --bs=64k \
		--ioengine=falloc --rw=randtrim --time_based --runtime="$duration" \
		--name=read --filename="/mnt/$fs/fio.dat" --size=64m --bs=4k \
		--ioengine=psync --rw=randread --numjobs=2 --time_based \
		--runtime="$duration" "$@"
}

# Laid out before racewatch starts: the job that creates the file may open
# it with O_TRUNC, a truncation fio does not count among its punches.
for fs in $(echo "$RW_FS" | tr , ' '); do
	fio_jobs "$fs" --create_only=1 > /dev/null 2>&1
done

# The role matrix first (tests/roles-trace.sh).
. /opt/guest-lib.sh
run_roles "$attach" "$RW_FS"

# Defaults otherwise, as a user would run it: no -v, so BPF leaves out the
# inserts the lock rule clears.
. /opt/guest-lib.sh
start_racewatch /out/racewatch.json /out/racewatch.err --attach "$attach" --json || exit 1
/opt/racewatch --dry-run -v --attach "$attach" > /out/plan.txt 2>&1

for fs in $(echo "$RW_FS" | tr , ' '); do
	mkdir -p "/mnt/$fs/sng"
	fio_jobs "$fs" --output-format=json > "/out/fio-$fs.json" 2> "/out/fio-$fs.err" &
	fio=$!
	stress-ng --temp-path "/mnt/$fs/sng" --fpunch 1 --fallocate 1 --readahead 1 \
		--iomix 1 --copy-file 1 --sendfile 1 --splice 1 --mmap 1 \
		-t "$duration" --metrics-brief > "/out/stress-ng-$fs.txt" 2>&1
	# Not ours to judge: stress-ng exits 3 when a stressor ran out of
	# disk or memory, which the small guests do. The host prints it.
	echo $? > "/out/stress-ng-$fs.rc"
	wait $fio
	echo $? > "/out/fio-$fs.rc"
	stat -c %i "/mnt/$fs/fio.dat" > "/out/fio-$fs.ino"
	# Same-file contention, misaligned calls included: contend counts them.
	/opt/contend -d "$duration" -w 3 -r 2 "/mnt/$fs/contend.dat" \
		> "/out/contend-$fs.json" 2> "/out/contend-$fs.err"
	echo $? > "/out/contend-$fs.rc"
	echo "workloads: stress-ng, fio and contend on $fs done"
done
grep VmHWM "/proc/$rw/status" > /out/racewatch.hwm
# Its CPU time (stat fields 14, 15) and start (22), with the clock beside.
cat "/proc/$rw/stat" > /out/racewatch.stat
cat /proc/uptime > /out/uptime
start=$(now_ms)
kill -INT $rw
# When the summary is out, then when the process is gone: detaching
# fentry and kprobe links patches kernel text, slow under TCG.
while kill -0 $rw 2> /dev/null && ! grep -q '"type":"summary"' /out/racewatch.json; do
	usleep 20000
done
echo $(($(now_ms) - start)) > /out/racewatch.summary_ms
wait $rw
echo $? > /out/racewatch.rc
echo $(($(now_ms) - start)) > /out/racewatch.exit_ms
