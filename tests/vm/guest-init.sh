#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test guests (busybox sh, there is no bash in the guest).
# Kernel command line parameters rw.KEY=VALUE become RW_KEY=VALUE.
# rw.disks=ext4,xfs: the i-th entry is the i-th virtio disk (vda, vdb...),
# mounted at /mnt/FSTYPE, or /mnt/FSTYPE2... for a second disk of one type.
# rw.run=/opt/NAME: the scenario, run with its output on the console.
# rw.tmpfs=1: a 512M tmpfs on /mnt/tmpfs.
# rw.tools=1: the disk after those is a sysroot (sysroot.sh), mounted on
# /tools, its programs on PATH and its libraries where the loader looks.
# rw.outdisk=1: the last virtio disk receives /out as a tar.
# The last console line is "RW-DONE rc=N" (99: the guest setup failed), so the
# host never waits for a guest that cannot run. No set -e: if init exits the
# kernel panics without saying why.
# First: boot.sh tells a kernel that died before init from a failed test.
echo RW-INIT
/bin/busybox --install -s /bin
export PATH=/bin:/opt

finish() {
	echo "RW-DONE rc=$1${2:+ reason=$2}"
	sync
	poweroff -f
}

mount -t proc proc /proc || finish 99 "mount proc"
mount -t sysfs sysfs /sys || finish 99 "mount sysfs"
mount -t devtmpfs devtmpfs /dev || finish 99 "mount devtmpfs"
mount -t tmpfs tmpfs /tmp || finish 99 "mount tmpfs"
mount -t tracefs tracefs /sys/kernel/tracing || finish 99 "mount tracefs"
# Only some scenarios use debugfs; its absence is theirs to report.
mount -t debugfs debugfs /sys/kernel/debug 2> /dev/null

for p in $(cat /proc/cmdline); do
	case $p in
	rw.*=*)
		key=${p%%=*}
		export "RW_$(echo "${key#rw.}" | tr a-z A-Z)=${p#*=}"
		;;
	esac
done

# initramfs.sh lists the modules in dependency order and leaves out the
# built-in ones.
while read -r m; do
	err=$(insmod "/lib/modules/$m" 2>&1) || finish 99 "insmod $m: $err"
done < /lib/modules/load-order

i=0
for fs in $(echo "${RW_DISKS:-}" | tr , ' '); do
	dev=/dev/vd$(echo abcdefghijklmnopqrstuvwxyz | cut -c$((i + 1)))
	mnt=/mnt/$fs n=2
	while [ -e "$mnt" ]; do
		mnt=/mnt/$fs$n n=$((n + 1))
	done
	mkdir -p "$mnt" && mount -t "$fs" "$dev" "$mnt" ||
		finish 99 "mount $dev as $fs on $mnt"
	i=$((i + 1))
done

if [ "${RW_TMPFS:-}" = 1 ]; then
	mkdir -p /mnt/tmpfs && mount -t tmpfs -o size=512M tmpfs /mnt/tmpfs ||
		finish 99 "mount a tmpfs on /mnt/tmpfs"
fi

if [ "${RW_TOOLS:-}" = 1 ]; then
	dev=/dev/vd$(echo abcdefghijklmnopqrstuvwxyz | cut -c$((i + 1)))
	mkdir -p /tools && mount -t ext4 -o ro "$dev" /tools ||
		finish 99 "mount the tools disk $dev"
	# The sysroot keeps the host's absolute paths; the loader's paths
	# are compiled in, so link them rather than set LD_LIBRARY_PATH.
	ln -s /tools/usr /usr && ln -s /tools/lib64 /lib64 &&
		ln -s /tools/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu ||
		finish 99 "link the tools sysroot"
	export PATH=$PATH:/usr/bin
	# stress-ng and fio use POSIX shared memory.
	mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
fi

mkdir -p /out
[ -x "${RW_RUN:-}" ] || finish 99 "no scenario rw.run=${RW_RUN:-}"
"$RW_RUN" < /dev/null 2>&1
rc=$?

if [ "${RW_OUTDISK:-}" = 1 ]; then
	for b in /sys/block/vd*; do
		outdev=/dev/${b##*/}
	done
	tar -cf "$outdev" -C /out . || finish 99 "tar /out to $outdev"
fi
finish $rc
