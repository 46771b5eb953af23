#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The role matrix on this machine's kernel (README "Tests"): rolegen's fixed
# sequence on ext4, xfs and btrfs under racewatch, every role's count held
# against the kernel's own (tests/roles-trace.sh, tests/roles-judge.sh).
# Tracepoint mode only: fentry and kprobes do not load here, and each is a
# SKIP with racewatch's own reason.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
tests=$(realpath "$(dirname "$0")/..")
ROLEGEN=${ROLEGEN:-$(realpath "$tests/../build/rolegen")}
series=$(uname -r | cut -d. -f1-2)

for mech in fentry kprobe; do
	if why=$("$RW" --dry-run --attach "$mech" 2>&1 > /dev/null); then
		fail "roles/$series/$mech" "this kernel was expected to refuse $mech (lockdown), and did not: extend the matrix"
	else
		skip "roles/$series/$mech" "$(echo "$why" | grep -m1 '^racewatch:' | head -c 200)"
	fi
done

# One loop filesystem of each type, each file under a racewatch of its own.
watched_scratch
for fs in ext4 xfs btrfs; do
	name=roles/$series/tracepoint/$fs
	mkdir -p "$tmp/$fs"
	if ! mkfs_mount "$fs" "$tmp/$fs" 1G 2> "$tmp/mkfs-$fs.err"; then
		skip "$name" "cannot make a $fs loop filesystem: $(head -c 200 "$tmp/mkfs-$fs.err")"
		continue
	fi
	if ! sh "$tests/roles-trace.sh" /sys/kernel/tracing "$tmp/out-$fs" "$RW" "$ROLEGEN" \
		"$fs" "$tmp/$fs/mnt/roles.dat" --attach tracepoint 2> "$tmp/trace.err"; then
		fail "$name" "$(head -c 300 "$tmp/trace.err")"
	elif row=$("$tests/roles-judge.sh" "$tmp/out-$fs" "$fs" "$fs"); then
		pass "$name" "$row"
	else
		fail "$name" "$row"
	fi
	umount "$tmp/$fs/mnt"
done
