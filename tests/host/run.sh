#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host tests: this machine's kernel, tracepoint mode (fentry and kprobes are
# unavailable here). Needs root for BPF, loop devices and mounts.
set -uo pipefail
cd "$(dirname "$0")"
. ./lib.sh

./errors.sh
if [ "$(id -u)" -ne 0 ]; then
	skip detect/ext4 "needs root"
	skip detect/xfs "needs root"
	skip btrfs-race "needs root"
	skip paths "needs root"
	skip tmpfs "needs root"
	skip command "needs root"
	skip kmsg "needs root"
	skip trace-marker "needs root"
	skip version "needs root"
	skip metrics "needs root"
	skip perfetto "needs root"
	skip overload "needs root"
	skip escape/ext4 "needs root"
	skip exit "needs root"
	skip coexist/ext4 "needs root"
	skip roles "needs root"
	exit 0
fi
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
./plan.sh
./version.sh
./roles.sh
./detect.sh ext4
./detect.sh xfs
./btrfs-race.sh
./paths.sh ext4
./paths.sh xfs
./paths.sh btrfs
./tmpfs.sh
./command.sh
./kmsg.sh
./trace-marker.sh
./metrics.sh
./perfetto.sh
./overload.sh
./escape.sh
./exit.sh
./coexist.sh
