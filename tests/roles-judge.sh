#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Judges one filesystem's row of the role matrix that roles-trace.sh
# recorded: for each role, what racewatch counted on the file's device (the
# summary's hook_hits, racewatch having watched that file alone, and the
# operations of rolegen's inode)
# against the kernel's own count of the same hook (ftrace) or rolegen's
# calls. Prints one line of cells,
#   ROLE RACEWATCH=KERNEL   or   ROLE skip (why)
# and exits 0 when every counted cell is equal (and the counts that must
# be nonzero are), 1 otherwise, 2 when the record is unusable.
#   roles-judge.sh OUTDIR NAME FSTYPE
set -uo pipefail
top=$1 dir=$1/$2 fs=$3
sum=$(grep '"type":"summary"' "$top/racewatch.json" 2> /dev/null | tail -1)
gen=$(cat "$dir/rolegen.json" 2> /dev/null)
if [ -z "$sum" ] || [ -z "$gen" ] || [ ! -s "$dir/trace.txt" ]; then
	echo "no summary, rolegen record or trace for $2: $(head -c 300 "$top/racewatch.err" 2> /dev/null)"
	exit 2
fi
if [ "$(cat "$top/racewatch.rc" 2> /dev/null)" != 0 ]; then
	echo "racewatch exited $(cat "$top/racewatch.rc"): $(head -c 300 "$top/racewatch.err")"
	exit 2
fi
# rolegen's inode, as racewatch saw it.
inode=$(jq -c --arg fs "$fs" --argjson ino "$(cat "$dir/ino")" \
	'select(.type == "inode" and .fs == $fs and .ino == $ino)' "$top/racewatch.json" | head -1)
if [ -z "$inode" ]; then
	echo "racewatch has no inode record of $fs inode $(cat "$dir/ino")"
	exit 1
fi
# The buffer must hold every event, or the kernel's counts are short.
written=$(grep -o 'entries-in-buffer/entries-written: [0-9]*/[0-9]*' "$dir/trace.txt" | cut -d' ' -f2)
if [ -z "$written" ] || [ "${written%/*}" != "${written#*/}" ]; then
	echo "the ftrace buffer overran or has no header (${written:-none}): kernel counts unusable"
	exit 2
fi
lost=$(echo "$sum" | jq '[.lost[]] | add')
if [ "$lost" != 0 ]; then
	echo "racewatch lost records: $(echo "$sum" | jq -c .lost)"
	exit 1
fi

# trace_count PATTERN [inside]: trace lines matching PATTERN (an awk
# regex), anywhere or only between rolegen's op begin and end markers.
trace_count() {
	awk -v pat="$1" -v inside="${2:-}" '
		/rolegen: op [a-z_]+ begin/ { in_op = 1; next }
		/rolegen: op [a-z_]+ end/ { in_op = 0; next }
		/^#/ { next }
		$0 ~ pat && (inside == "" || in_op) { n++ }
		END { print n + 0 }' "$dir/trace.txt"
}
mech() { echo "$sum" | jq -r --arg r "$1" '.plan[$r].mech'; }
sym() { echo "$sum" | jq -r --arg r "$1" '.plan[$r].symbol'; }
why() { echo "$sum" | jq -r --arg r "$1" '.plan[$r].why // "not served"'; }
hits() { echo "$sum" | jq -r --arg h "$1" '.hook_hits[$h]'; }

cells=() bad=0
# cell ROLE GOT WANT [MIN]: equal, and at least MIN (default 0).
cell() {
	local role=$1 got=$2 want=$3 min=${4:-0}
	if [ "$got" = "$want" ] && [ "$got" -ge "$min" ] 2> /dev/null; then
		cells+=("$role $got=$want")
	else
		cells+=("$role $got!=$want${min:+ (at least $min)}")
		bad=1
	fi
}
# A function hook is counted by the function tracer ("name <-caller"),
# a tracepoint by its event ("name: ").
kernel_count() {
	local mech=$1 sym=$2 inside=${3:-}
	if [ "$mech" = tracepoint ]; then
		trace_count ": ${sym#*:}: " "$inside"
	else
		trace_count ": $sym <-" "$inside"
	fi
}

ops_ok=$(echo "$inode" | jq .ops_ok)
want_ok=$(echo "$gen" | jq '[.punch, .zero, .collapse, .insert, .truncate | .ok] | add')
calls=$(echo "$gen" | jq '[.punch, .zero, .collapse, .insert, .truncate | .calls] | add')
cell operations "$ops_ok" "$want_ok" 1

m=$(mech invalidation)
if [ "$m" = tracepoint ]; then
	# Derived from each call's arguments at its start, failed ones too,
	# but for those BPF knows the filesystem refuses (btrfs collapse and
	# insert, op_derived_drops()), each of which must have failed.
	refused=0
	if [ "$fs" = btrfs ]; then
		refused=$(echo "$gen" | jq '.collapse.calls + .insert.calls')
		if [ "$(echo "$gen" | jq '.collapse.ok + .insert.ok')" != 0 ]; then
			cells+=("invalidation: btrfs took a collapse or insert range, which racewatch skips as refused")
			bad=1
		fi
	fi
	cell invalidation "$(hits derived_range)" "$((calls - refused))" 1
elif [ "$m" = none ]; then
	cells+=("invalidation skip ($(why invalidation))")
	bad=1	# every mechanism serves it: a missing one is a failure
else
	cell invalidation "$(hits truncate_range)" "$(kernel_count "$m" "$(sym invalidation)")" 1
fi

m=$(mech "direct-I/O invalidation")
if [ "$m" = none ]; then
	cells+=("direct-io skip ($(why "direct-I/O invalidation"))")
else
	# btrfs's O_DIRECT writes over cached pages did not call it at all
	# (6.12, kprobe: 0 by the function tracer too), so 0 is a count there.
	min=1
	[ "$fs" = btrfs ] && min=0
	cell direct-io "$(hits pages2_range)" "$(kernel_count "$m" "$(sym "direct-I/O invalidation")")" "$min"
fi

# own_role ROLE OWNER CELL: whether a role of filesystem OWNER's is
# served; where it is not, OWNER's own row gets a skip cell, other rows
# none. Sets m to its mechanism, and min to 1 on OWNER's row, where
# rolegen's sequence makes some, else 0.
own_role() {
	m=$(mech "$1")
	min=0
	[ "$fs" = "$2" ] && min=1
	if [ "$m" = none ]; then
		[ "$fs" = "$2" ] && cells+=("$3 skip ($(why "$1"))")
		return 1
	fi
}

for r in ext4 xfs; do
	# Punches of written blocks free some on their own filesystem.
	own_role "$r block free" "$r" "$r-free" || continue
	cell "$r-free" "$(hits "${r}_free")" "$(kernel_count "$m" "$(sym "$r block free")" inside)" "$min"
done

# ext4 zero range's conversions to unwritten extents, where its window
# ends (bpf/ops.bpf.h, handle_zero_convert()): rolegen's block mappings
# with EXT4_GET_BLOCKS_CONVERT_UNWRITTEN that changed blocks. Its 2 zero
# ranges make some on ext4, none elsewhere.
if own_role "ext4 zero-range conversion" ext4 ext4-convert; then
	cell ext4-convert "$(hits ext4_convert)" \
		"$(trace_count '^ *rolegen-[0-9]+ .*: ext4_ext_map_blocks_exit: .* flags [A-Z_|]*CONVERT_UNWRITTEN[ |].* ret [1-9][0-9]*$' inside)" "$min"
fi

# The read mappings: every firing of the roles' tracepoints on the file's
# inode, by any task (racewatch counts them before it asks whose read it
# was). Every read of rolegen's maps blocks on its own filesystem.
for r in ext4 btrfs; do
	own_role "$r read mapping" "$r" "$r-read-map" || continue
	if [ "$r" = ext4 ]; then
		want=$(trace_count ': ext4_(ext_map_blocks|es_lookup_extent)_exit: ')
	else
		want=$(trace_count ': btrfs_get_extent: ')
	fi
	cell "$r-read-map" "$(hits "${r}_read_map")" "$want" "$min"
done

# Inserts and deletes of the file's inode, whatever the mechanism: the
# filemap tracepoints fire on every successful one.
cell insert "$(hits insert)" "$(trace_count ': mm_filemap_add_to_page_cache: ')" 1
cell delete "$(hits delete)" "$(trace_count ': mm_filemap_delete_from_page_cache: ')" 1

line=$(printf '%s, ' "${cells[@]}")
echo "${line%, }"
exit $bad
