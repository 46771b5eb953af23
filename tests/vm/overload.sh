#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The loss paths that this host cannot reach (it has no kprobes): the kprobe
# insert stash and the invals map, each shrunk to one entry with the
# test-only --test-map-size, and the insert kretprobe's missed returns,
# in Debian's 5.10 guest, which really races.
# For each: the counter moved, stderr warned while racewatch ran, the
# summary shows it, and no window of an operation with lost evidence is
# judged race (on 5.10 such a window would otherwise be one).
# Run by tests/vm/run.sh; prints PASS/FAIL/SKIP lines.
set -uo pipefail
here=$(realpath "$(dirname "$0")")
repo=$(realpath "$here/../..")
. "$here/lib.sh"
dir=${RW_VM_RESULTS:-$repo/build/vm}/5.10-overload

pass() { echo "PASS vm/5.10/overload/$1${2:+: $2}"; }
fail() { echo "FAIL vm/5.10/overload/$1: $2"; }
skip() { echo "SKIP vm/5.10/overload/$1: $2"; }

# MAP COUNTER WARNING
paths=(
	"stash stash_map_full inserts unseen"
	"invals ops_map_full operations untracked"
	"returns insert_returns_missed inserts whose return never fired"
)

if ! command -v jq > /dev/null; then
	for p in "${paths[@]}"; do skip "${p%% *}" "jq not installed (make check installs it)"; done
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
kdir=$(vm_kernel 5.10 "$dir")
rc=$?
if [ "$rc" -ne 0 ]; then
	for p in "${paths[@]}"; do
		if [ "$rc" -eq 75 ]; then
			skip "${p%% *}" "cannot download Debian's 5.10 kernel: $(tail -1 "$dir/kernel.err")"
		else
			fail "${p%% *}" "kernel.sh 5.10: $(tail -1 "$dir/kernel.err")"
		fi
	done
	exit 0
fi
"$here/initramfs.sh" "$kdir" "$dir/initrd.gz" "$repo/build/racewatch" "$repo/build/racegen" \
	"$here/scenarios/overload.sh" "$here/scenarios/guest-lib.sh"
if ! why=$(vm_boot "$dir" "$kdir" --initrd "$dir/initrd.gz" --disk ext4 --timeout 900 \
	--append "rw.run=/opt/overload.sh rw.maps=stash,invals,returns"); then
	for p in "${paths[@]}"; do fail "${p%% *}" "$why"; done
	exit 0
fi

for p in "${paths[@]}"; do
	set -- $p
	map=$1 counter=$2
	shift 2
	warning=$*
	out=$dir/out/$map
	got=$(jq -r --arg c "$counter" 'select(.type == "summary") | .lost[$c]' "$out.json" 2>&1)
	races=$(jq -s '[.[] | select(.type == "window" and .verdict == "race")] | length' "$out.json")
	unsure=$(jq -s '[.[] | select(.type == "window" and .verdict == "race" and
		(.op.lost > 0 or .op.unwatched or .op.no_return or .op.expired))] | length' "$out.json")
	if [ "$(cat "$out.rc" 2>/dev/null)" != 0 ]; then
		fail "$map" "racewatch exited $(cat "$out.rc" 2>/dev/null): $(head -c 300 "$out.err")"
	elif ! [ "$got" -gt 0 ] 2>/dev/null; then
		fail "$map" "summary lost.$counter is '$got', want > 0"
	elif ! grep -qE "^racewatch: WARNING! [0-9]+ $warning" "$out.err"; then
		fail "$map" "no 'WARNING! N $warning' on stderr"
	elif [ "$unsure" -ne 0 ]; then
		fail "$map" "$unsure windows of operations with lost evidence were judged race"
	else
		how=$(sed -n "s/^.*overload: $map \(after [0-9]* rounds.*\)/\1/p" "$dir/console.log" | tr -d '\r')
		pass "$map" "lost.$counter $got, $races race windows, all with complete evidence ($how)"
	fi
done
