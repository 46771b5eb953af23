#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the detection tests (busybox sh). racewatch watches with the
# forced mechanism while racegen races on each filesystem in RW_FS; every
# output lands in /out for the host to match. Parameters (kernel command
# line rw.*): RW_ATTACH, RW_FS (comma list), RW_DURATION, RW_OPS, RW_READ_MODE,
# RW_MAX_RANGE (racegen's --max-range in KiB, its default when unset),
# RW_UNTIL_CONFIRMED (racegen's --until-confirmed, 0 when unset), RW_ROLES
# (1: the role matrix first, on the filesystems of RW_ROLES_FS, a comma
# list, RW_FS when unset), RW_NO_DIO_FS (comma list: filesystems whose
# racegen leaves dio_write out of RW_OPS).
attach=${RW_ATTACH:-auto}
duration=${RW_DURATION:-20}
ops=${RW_OPS:-punch}
mode=${RW_READ_MODE:-mix}

. /opt/guest-lib.sh
# The role matrix (tests/roles-trace.sh), where the workloads cases do not
# boot this kernel and mechanism: before, with a racewatch of its own.
[ "${RW_ROLES:-0}" = 1 ] && run_roles "$attach" "${RW_ROLES_FS:-$RW_FS}"
start_racewatch /out/racewatch.json /out/racewatch.err --attach "$attach" $btf_dir --json -v || exit 1
/opt/racewatch --dry-run -v --attach "$attach" $btf_dir > /out/plan.txt 2>&1

# Tests announced as xfstests' check does (README "Running xfstests under
# racewatch"): one per filesystem's racegen run, between idle ones, so that
# every race lands in its filesystem's test and none in the others.
announce() {
	echo "run fstests racewatch/$1 at $(date '+%F %T')" > /dev/kmsg
}
announce idle-before
sleep 1
rc=0
for fs in $(echo "$RW_FS" | tr , ' '); do
	announce "$fs"
	fs_ops=$ops
	case ",${RW_NO_DIO_FS:-}," in
	*,"$fs",*) fs_ops=$(echo ",$ops," | sed -e 's/,dio_write,/,/' -e 's/^,//' -e 's/,$//') ;;
	esac
	# shmem's reads insert nothing into a hole (shmem_file_read_iter()
	# copies zeros), its faults do: on tmpfs the readers fault.
	fs_mode=$mode
	[ "$fs" = tmpfs ] && fs_mode=mmap
	echo "detect: racegen on $fs: -d $duration --until-confirmed ${RW_UNTIL_CONFIRMED:-0} -o $fs_ops -m $fs_mode"
	/opt/racegen -d "$duration" --until-confirmed "${RW_UNTIL_CONFIRMED:-0}" -o "$fs_ops" -m "$fs_mode" \
		${RW_MAX_RANGE:+-R "$RW_MAX_RANGE"} \
		"/mnt/$fs/racegen.dat" \
		> "/out/racegen-$fs.json" 2> "/out/racegen-$fs.err" || rc=1
	echo "detect: racegen on $fs done"
done
announce idle-after
sleep 1
kill -INT $rw
wait $rw
echo $? > /out/racewatch.rc
exit $rc
