#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of smoke-test.sh (busybox sh): the kernel, its BTF, a write and
# read back on every disk mounted under /mnt, and a file in /out for the host.
# Exits 0 only if all of it worked.
rc=0
echo "SMOKE: kernel $(uname -r)"
if [ -e /sys/kernel/btf/vmlinux ]; then
	echo "SMOKE: btf vmlinux yes"
else
	echo "SMOKE: btf vmlinux no"
fi
echo "SMOKE: btf $(ls /sys/kernel/btf 2>&1 | tr '\n' ' ')"
mount | grep /mnt || rc=1

for mnt in $(awk '$2 ~ "^/mnt/" { print $2 }' /proc/mounts); do
	want="racewatch smoke $mnt"
	echo "$want" > "$mnt/smoke.txt" && sync || rc=1
	# Read it back from the disk, not from the page cache.
	echo 3 > /proc/sys/vm/drop_caches
	if [ "$(cat "$mnt/smoke.txt")" = "$want" ]; then
		echo "SMOKE: $mnt ok"
	else
		echo "SMOKE: $mnt failed"
		rc=1
	fi
done

uname -r > /out/smoke.txt || rc=1
exit $rc
