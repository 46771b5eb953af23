#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# One filesystem's record for the role matrix (README "Tests"): racewatch
# watches FILE alone (--path: other inodes of a device have inserts of
# their own, a btrfs tree's pages) with --count-hooks, while rolegen runs
# its fixed sequence on it and an ftrace instance of the test's own counts
# the same functions and tracepoints: the invalidation and block-free
# functions of rolegen's task (function tracer), the block-free
# tracepoints of that task, and every page-cache insert and delete, ext4
# block mapping and extent-cache lookup and btrfs extent-map lookup of the
# file's inode (the ext4 zero-range conversions among the mappings). roles-judge.sh compares.
# POSIX sh: it runs in the busybox guests and on the host.
#   roles-trace.sh TRACEFS OUTDIR RACEWATCH ROLEGEN NAME FILE [RACEWATCH ARGS...]
# Writes OUTDIR/racewatch.{json,err,rc} and OUTDIR/NAME/{rolegen.json,
# rolegen.err,trace.txt,ino}; exits 1 (with a line on stderr) when a step
# failed.
set -u
T=$1 out=$2 rw=$3 rolegen=$4 name=$5 file=$6
shift 6
I=$T/instances/racewatch-roles
funcs="truncate_inode_pages_range invalidate_inode_pages2_range ext4_free_blocks __xfs_free_extent"
pid_events="ext4/ext4_free_blocks xfs/xfs_free_extent"
ino_events="filemap/mm_filemap_add_to_page_cache filemap/mm_filemap_delete_from_page_cache"
# Where the filesystem's module is loaded: the read-mapping roles' tracepoints.
map_events="ext4/ext4_ext_map_blocks_exit ext4/ext4_es_lookup_extent_exit btrfs/btrfs_get_extent"

die() {
	echo "roles-trace: $*" >&2
	[ -n "${rwpid:-}" ] && kill -INT "$rwpid" 2> /dev/null && wait "$rwpid"
	[ -d "$I" ] && echo nop > "$I/current_tracer" 2> /dev/null && rmdir "$I" 2> /dev/null
	exit 1
}

mkdir -p "$out"
rm -f "$file"
: > "$file" || die "cannot create $file"

: > "$out/racewatch.err"	# no "watching" line of an earlier run
"$rw" "$@" --path "$file" --count-hooks --json > "$out/racewatch.json" 2> "$out/racewatch.err" &
rwpid=$!
tries=0
until grep -q '^racewatch: watching' "$out/racewatch.err" 2> /dev/null; do
	kill -0 "$rwpid" 2> /dev/null || { wait "$rwpid"; echo $? > "$out/racewatch.rc"; rwpid=; die "racewatch did not start: $(head -c 300 "$out/racewatch.err")"; }
	# Loading under TCG is slow (tests/vm/scenarios/guest-lib.sh).
	[ "$tries" -ge 1800 ] && die "racewatch did not attach in 180 s"
	tries=$((tries + 1))
	sleep 0.1
done

# rolegen on FILE, traced into OUTDIR/NAME.
d=$out/$name nf=0
mkdir -p "$d"
ino=$(stat -c %i "$file")
echo "$ino" > "$d/ino"
# An instance of our own: the global buffer, and anyone using it, left alone.
[ -d "$I" ] && { echo nop > "$I/current_tracer"; rmdir "$I"; }
mkdir "$I" || die "cannot create the ftrace instance $I"
echo 0 > "$I/tracing_on"
echo 8192 > "$I/buffer_size_kb"
for f in $funcs; do
	# Module functions are listed as "name [module]"; the list is
	# unreadable under lockdown, where only tracepoints serve.
	if grep -q "^$f\( \|$\)" "$T/available_filter_functions" 2> /dev/null; then
		echo "$f" >> "$I/set_ftrace_filter" && nf=$((nf + 1))
	fi
done
# With no function filtered the function tracer would trace them all.
if [ "$nf" -gt 0 ]; then
	echo function > "$I/current_tracer" || die "the function tracer is not available"
fi
for e in $ino_events; do
	[ -d "$I/events/$e" ] || die "no tracepoint $e"
	echo "i_ino == $ino" > "$I/events/$e/filter" && echo 1 > "$I/events/$e/enable" ||
		die "cannot enable $e"
done
# ext4's events name the device as the kernel encodes it (MAJOR << 20 |
# MINOR), stat(2) as glibc's makedev() does; btrfs's name no device.
sdev=$(stat -c %d "$file")
kdev=$(( (((sdev >> 8) & 0xfff) << 20) | (sdev & 0xff) | ((sdev >> 12) & 0xfff00) ))
for e in $map_events; do
	[ -d "$I/events/$e" ] || continue
	f="ino == $ino"
	[ "${e%%/*}" = ext4 ] && f="$f && dev == $kdev"
	echo "$f" > "$I/events/$e/filter" && echo 1 > "$I/events/$e/enable" ||
		die "cannot enable $e"
done
# rolegen's own pid, filtered before it runs: set here, then exec.
NF=$nf PID_EVENTS=$pid_events sh -c '
	I=$1; shift
	if [ "$NF" -gt 0 ]; then
		echo $$ > "$I/set_ftrace_pid" || exit 90
	fi
	for e in $PID_EVENTS; do
		[ -d "$I/events/$e" ] || continue
		echo "common_pid == $$" > "$I/events/$e/filter" &&
			echo 1 > "$I/events/$e/enable" || exit 91
	done
	echo 1 > "$I/tracing_on" || exit 92
	exec "$1" --marker "$I/trace_marker" "$2"
' sh "$I" "$rolegen" "$file" > "$d/rolegen.json" 2> "$d/rolegen.err"
rc=$?
echo 0 > "$I/tracing_on"
[ "$rc" -eq 0 ] || die "rolegen on $file exited $rc: $(head -c 300 "$d/rolegen.err")"
cat "$I/trace" > "$d/trace.txt"
echo nop > "$I/current_tracer"
rmdir "$I" 2> /dev/null

kill -INT "$rwpid"
wait "$rwpid"
echo $? > "$out/racewatch.rc"
rwpid=
rm -f "$file"
exit 0
