#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Load nobody here wrote, in the guests, on ext4 and xfs (and btrfs in
# some cases, see below): stress-ng's file
# stressors and fio (falloc randtrim punches beside randread jobs on one
# file), then the same-file contention of tools/contend. racewatch watches
# with each mechanism the kernel supports (scenarios/workloads.sh). On 6.1
# and 6.12 (invalidate_lock on ext4 and xfs, the recheck of
# btrfs_punch_hole_lock_range() on btrfs: no stale page is possible) every
# race-class window is a false alarm: assert none, no loss, racewatch's counts of
# fio's punches and contend's calls equal to theirs, and the summary within
# 1 s of SIGINT, then exit 0. 5.10 races for real and this load has no
# oracle: assert no loss and the clean exit, and print the window counts.
set -uo pipefail
here=$(realpath "$(dirname "$0")")
repo=$(realpath "$here/../..")
. "$here/lib.sh"
results=${RW_VM_RESULTS:-$repo/build/vm}
# 5 s a load, not the host's 7: each boot also runs the role matrix
# (tests/roles-trace.sh, a racewatch start per filesystem, about 30 s each
# under TCG), and the suite should stay under 30 minutes (at 7 s it took
# 32 min; this stream is half of the VM layer's critical path).
secs=${RW_WL_SECONDS:-5}
# The host layer (tests/workloads) holds the summary and the exit to 1 s of
# SIGINT. Under TCG a guest runs many times slower than the host, and
# slower still when the host is loaded: the summary came 50 to 650 ms after
# SIGINT on an idle host, 1,810 ms on 5.10 with three guests on two CPUs.
# Here it must come within 3 s; the exit that follows detaches every
# fentry or kprobe link, and each detach patches kernel text and waits for
# RCU, about 80 ms a link under TCG (measured: summary 120 ms, exit 1,090 ms
# with 12 kprobes on 6.1).
max_summary_ms=${RW_VM_MAX_SUMMARY_MS:-3000}
max_exit_ms=${RW_VM_MAX_EXIT_MS:-10000}

pass() { echo "PASS vm/$1${2:+: $2}"; }
fail() { echo "FAIL vm/$1: $2"; }
skip() { echo "SKIP vm/$1: $2"; }

# KERNEL ATTACH EXPECT(clean|noracle) FSLIST. btrfs runs where its
# kernel and mechanism have no racegen case of their own (tests/vm/run.sh
# has 6.1 fentry and kprobe, 6.12 fentry): so every 6.x kernel and
# mechanism meets btrfs once, and the suite stays near its 30 minutes.
# The first field is the guest's seconds in CI (stop 34: a 2-core host,
# two guests at once), which tests/vm/run.sh orders its queue by.
cases=(
	"131 5.10 fentry noracle ext4,xfs"
	"188 6.1 fentry clean ext4,xfs"
	"175 6.1 kprobe clean ext4,xfs"
	"248 6.1 tracepoint clean ext4,xfs,btrfs"
	"87 6.12 fentry clean ext4,xfs"
	"117 6.12 kprobe clean ext4,xfs,btrfs"
	"111 6.12 tracepoint clean ext4,xfs,btrfs"
)

# workloads.sh [--list | --prepare | CASE]: --list prints the cases (with
# their seconds), --prepare builds the sysroot every case boots with, and
# CASE ("5.10 fentry noracle ext4,xfs") runs one case on it. With no
# argument: prepare, then every case RW_VM_ONLY matches.
mode=${1:-all}
sysroot=$results/workloads-sysroot

if [ "$mode" = --list ]; then
	printf '%s\n' "${cases[@]}"
	exit 0
fi

# A sysroot with the loads, built once for every guest; where it cannot be
# built, each case says so.
prepare() {
	mkdir -p "$results"
	rm -rf "$sysroot"
	"$here/sysroot.sh" "$sysroot" stress-ng fio 2> "$results/sysroot.err" ||
		{ rm -rf "$sysroot"; return 1; }
}
if [ "$mode" = --prepare ]; then
	prepare
	exit 0
fi
[ "$mode" = all ] && prepare
if [ ! -d "$sysroot" ]; then
	for c in "${cases[@]}"; do
		set -- $c
		[ "$mode" = all ] || [ "$mode" = "${c#* }" ] || continue
		skip "$2/$3/workloads" "no sysroot of stress-ng and fio: $(tail -1 "$results/sysroot.err" 2>/dev/null)"
	done
	exit 0
fi

# summary_of JSON: the summary record.
summary_of() {
	grep '"type":"summary"' "$1" | tail -1
}

# judge NAME EXPECT DIR FSLIST ATTACH: one verdict line for the case.
judge() {
	local name=$1 expect=$2 dir=$3 fslist=$4 attach=$5 out=$3/out sum windows bad skipped losses missed ms exit_ms fs ino trims ops cpu cino calls cok cops cops_ok unknown
	local row=""
	sum=$(summary_of "$out/racewatch.json")
	if [ "$(cat "$out/racewatch.rc" 2>/dev/null)" != 0 ] || [ -z "$sum" ]; then
		fail "$name" "racewatch exited $(cat "$out/racewatch.rc" 2>/dev/null) with${sum:+out} a summary: $(head -c 300 "$out/racewatch.err")"
		return
	fi
	windows=$(echo "$sum" | jq -c '.verdicts')
	# A kprobed insert whose return never fired is a kernel limit of
	# kprobe mode (the kretprobe's instances all in use while inserts wait
	# in reclaim), counted and shown, not racewatch dropping data: the
	# windows it touched are judged lost, which fails the race-class check.
	missed=$(echo "$sum" | jq '.lost.insert_returns_missed // 0')
	losses=$(echo "$sum" | jq -c '[(.lost, .incomplete) | to_entries[]
		| select(.value != 0 and .key != "insert_returns_missed")] | from_entries')
	# The verdicts that may be a race (README "Verdicts"), as the summary
	# counts them.
	bad=$(echo "$sum" | jq '.race_class')
	# btrfs pages whose read racewatch did not see map (README "The btrfs
	# model"): unknown either way, shown and not counted. 6.1 and 6.12
	# btrfs cannot race (README: which kernels race), so a race verdict
	# there is a false alarm of the btrfs model and fails. racewatch runs
	# without -v: every window record it prints is race-class.
	unknown=$(jq -s '[.[] | select(.type == "window" and .fs == "btrfs" and .verdict == "unchecked")] | length' \
		"$out/racewatch.json")
	bad=$((bad - unknown))
	# Requests that cannot drop a page open no window in tracepoint mode
	# and are counted apart (README "Event model").
	skipped=$(echo "$sum" | jq '.ops_skipped // 0')
	ms=$(cat "$out/racewatch.summary_ms")
	exit_ms=$(cat "$out/racewatch.exit_ms")
	for fs in ${fslist//,/ }; do
		if [ "$(cat "$out/fio-$fs.rc")" != 0 ]; then
			fail "$name" "fio on $fs failed: $(head -c 300 "$out/fio-$fs.err")"
			return
		fi
		ino=$(cat "$out/fio-$fs.ino")
		trims=$(sed -n '/^{/,$p' "$out/fio-$fs.json" | jq '[.jobs[] | .trim.total_ios] | add')
		ops=$(jq -s --arg fs "$fs" --argjson ino "$ino" \
			'[.[] | select(.type == "inode" and .fs == $fs and .ino == $ino) | .ops] | add // 0' \
			"$out/racewatch.json")
		if [ "$(cat "$out/contend-$fs.rc")" != 0 ]; then
			fail "$name" "contend on $fs failed: $(head -c 300 "$out/contend-$fs.err")"
			return
		fi
		read -r cino calls cok < <(jq -r '"\(.ino) \(.total_calls) \(.total_ok)"' "$out/contend-$fs.json")
		read -r cops cops_ok < <(jq -rs --arg fs "$fs" --argjson ino "$cino" \
			'[.[] | select(.type == "inode" and .fs == $fs and .ino == $ino)] |
			 "\(map(.ops) | add // 0) \(map(.ops_ok) | add // 0)"' "$out/racewatch.json")
		row+=" $fs: fio punches $trims racewatch $ops, contend calls $calls ok $cok racewatch $cops ok $cops_ok, stress-ng rc $(cat "$out/stress-ng-$fs.rc");"
		# Exact where no request was skipped (fentry, kprobe); in
		# tracepoint mode the skipped ones, of every load and both
		# filesystems together, bound the difference.
		if [ "$cops" -gt "$calls" ] || [ "$calls" -gt $((cops + skipped)) ] ||
		   [ "$cops_ok" -gt "$cok" ] || [ "$cok" -gt $((cops_ok + skipped)) ]; then
			fail "$name" "contend on $fs made $calls calls ($cok ok), racewatch counted $cops ($cops_ok ok) and $skipped without a window"
			return
		fi
		# Exact on ext4 and xfs, whose punches always drop the range's
		# pages. A btrfs punch of a range that is already a hole returns
		# before it touches the page cache (btrfs_punch_hole() ->
		# find_first_non_hole()), and fio's randtrim soon punches holes
		# again: with fentry or kprobe (a real invalidation hook) that
		# call is one of the summary's ops_skipped (6.12 kprobe: 6,461 of
		# 14,538 punches dropped pages).
		if [ "$fs" = btrfs ] && [ "$attach" != tracepoint ]; then
			if [ "$ops" -gt "$trims" ] || [ "$trims" -gt $((ops + skipped)) ]; then
				fail "$name" "fio on $fs punched $trims times, racewatch counted $ops and $skipped without a window"
				return
			fi
		elif [ "$trims" != "$ops" ]; then
			fail "$name" "fio on $fs punched $trims times, racewatch counted $ops"
			return
		fi
	done
	# CPU share over racewatch's life, in USER_HZ ticks (100 on Debian).
	cpu=$(awk 'NR == FNR { up = $1; next } { printf "%.1f", ($14 + $15) / (up * 100 - $22) * 100 }' \
		"$out/uptime" "$out/racewatch.stat")
	row+=" windows $windows$([[ ,$fslist, == *,btrfs,* ]] && echo " (btrfs unchecked $unknown, not counted)") losses $losses, insert returns missed $missed, cpu ${cpu}% summary ${ms} ms exit ${exit_ms} ms after SIGINT, $(tr -s ' \t' ' ' < "$out/racewatch.hwm")"
	if [ "$losses" != "{}" ]; then
		fail "$name" "racewatch lost data at default settings:$row"
	elif grep WARNING "$out/racewatch.err" | grep -qv "inserts whose return never fired"; then
		fail "$name" "racewatch warned: $(grep WARNING "$out/racewatch.err" |
			grep -v -m1 "inserts whose return never fired")"
	elif [ "$ms" -gt "$max_summary_ms" ]; then
		fail "$name" "the summary took $ms ms after SIGINT (want <= $max_summary_ms):$row"
	elif [ "$exit_ms" -gt "$max_exit_ms" ]; then
		fail "$name" "exit took $exit_ms ms after SIGINT (want <= $max_exit_ms):$row"
	elif [ "$expect" = clean ] && [ "$bad" -ne 0 ]; then
		# racewatch ran without -v, so every window record is race-class:
		# the first two say which, so the CI log alone can be read.
		fail "$name" "$bad race-class windows on a fixed kernel:$row first: $(grep -m2 '"type":"window"' "$out/racewatch.json" | head -c 1500 | tr '\n' ' ')"
	else
		pass "$name" "$row"
	fi
}

run_case() {
	local series=$1 attach=$2 expect=$3 fslist=$4 name=$1/$2/workloads dir kdir rc why fs disks=()
	dir=$results/$series-$attach-workloads
	rm -rf "$dir"
	mkdir -p "$dir"
	vm_case_kernel "$name" "$series" "$dir" || return
	"$here/initramfs.sh" "$kdir" "$dir/initrd.gz" "$repo/build/racewatch" \
		"$repo/build/contend" "$here/scenarios/workloads.sh" \
		"$here/scenarios/guest-lib.sh" "$repo/build/rolegen" "$repo/tests/roles-trace.sh"
	for fs in ${fslist//,/ }; do disks+=(--disk "$fs"); done
	if ! why=$(vm_boot "$dir" "$kdir" --initrd "$dir/initrd.gz" "${disks[@]}" \
		--tools "$sysroot" --timeout 900 \
		--append "rw.run=/opt/workloads.sh rw.attach=$attach rw.fs=$fslist rw.duration=$secs"); then
		fail "$name" "$why"
		return
	fi
	sed "s|^|  $name plan: |" "$dir/out/plan.txt" >&2
	why=$(vm_plan_mismatch "$series" "$attach" "$dir/out/racewatch.json")
	if [ -n "$why" ]; then
		fail "$name" "the roles served differ from tests/vm/plans/$series-$attach.plan: $why"
		return
	fi
	judge "$name" "$expect" "$dir" "$fslist" "$attach"
	vm_roles "$series/$attach" "$dir/out" "$fslist"
}

if [ "$mode" != all ]; then
	run_case $mode
	exit 0
fi
for c in "${cases[@]}"; do
	c=${c#* }
	[[ "$c" =~ ${RW_VM_ONLY:-.} ]] && run_case $c
done
exit 0
