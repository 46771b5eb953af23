# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the workloads layer: racewatch around a load that
# somebody else wrote, what it costs, and what its summary must say.
#
# A case runs:  wl_start DEV [ARGS...]   racewatch --json --dev DEV, attached
#               wl_load CMD...           the load under GNU time
#               wl_stop                  SIGINT, timed until racewatch is reaped
#               wl_judge CASE TOOL FS [INO CALLS OK]
# wl_judge prints the case's one PASS/FAIL line and its INFO table row.

WL_DIR=$(realpath "$(dirname "${BASH_SOURCE[0]}")")
. "$WL_DIR/../host/lib.sh"
# host/lib.sh names its tests host/...: these are workloads/...
pass() { echo "PASS workloads/$1${2:+: $2}"; }
fail() { echo "FAIL workloads/$1: $2"; }
skip() { echo "SKIP workloads/$1: $2"; }

CONTEND=${CONTEND:-$(realpath "$WL_DIR/../../build/contend")}
# Seconds of load per case. At 10 the layer took 4.6 to 5 min on this
# shared 2-core machine, while racewatch still took seconds to exit; since
# exits take under a second, 136 s; 7 keeps the suite under 30 minutes.
WL_SECONDS=${RW_WL_SECONDS:-7}
WL_OUT=${RW_WL_OUT:-$(dirname "$RW")/workloads}
WL_TABLE=$WL_OUT/table.md
KERNEL=$(uname -r)
CLK_TCK=$(getconf CLK_TCK)
# The issue's bound on SIGINT-to-exit; how long before a hang is killed
# (a guard, so that one hang does not eat the layer's budget).
WL_EXIT_MS=1000
WL_HANG_S=${RW_WL_HANG_SECONDS:-5}

# wl_mount FS DIR: a fresh 1 GiB filesystem of our own at DIR/mnt.
wl_mount() {
	if [ "$1" = tmpfs ]; then
		mkdir -p "$2/mnt" && mount -t tmpfs -o size=1G tmpfs "$2/mnt"
	else
		mkfs_mount "$1" "$2" 1G
	fi
}

# user_dev PATH: the device as stat(1) shows it, which on btrfs is the
# subvolume's anonymous device, not the superblock's: racewatch must map it.
user_dev() { stat -c '%Hd:%Ld' "$1"; }

# cpu_ticks PID: utime + stime, in clock ticks. The fields are counted after
# the last ')', because a comm may hold spaces and parentheses.
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	set -- $s
	echo $((${12} + ${13}))
}

hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

now_ns() { date +%s%N; }

# wl_case_begin: the case's scratch directory ($case_tmp), and a racewatch
# left running ($RWPID) stopped and the directory removed on any exit.
wl_case_begin() {
	case_tmp=$(mktemp -d)
	RWPID=
	trap 'if [ -n "$RWPID" ]; then kill -INT "$RWPID" 2>/dev/null && wait "$RWPID"; fi; rm -rf "$case_tmp"' EXIT
}

# wl_start DEV [ARGS...]: racewatch on that device, until it is attached.
# Uses $case_tmp (the case's mktemp -d); sets RWPID.
wl_start() {
	local dev=$1
	shift
	RW_OUT=$case_tmp/rw.json
	RW_ERR=$case_tmp/rw.err
	start_racewatch "$RW_OUT" "$RW_ERR" --json --dev "$dev" "$@"
}

# wl_load CMD...: run the load, with racewatch's CPU time sampled around
# it. Sets LOAD_RC, LOAD_WALL_S, LOAD_CPU_S (the load's and its waited-for
# children's user+sys from rusage), RW_CPU_S and RW_HWM_KB.
wl_load() {
	local t0 w0 w1 t1
	t0=$(cpu_ticks "$RWPID")
	w0=$(now_ns)
	/usr/bin/time -f '%U %S' -o "$case_tmp/time" "$@" > "$case_tmp/load.out" 2> "$case_tmp/load.err"
	LOAD_RC=$?
	w1=$(now_ns)
	t1=$(cpu_ticks "$RWPID")
	RW_HWM_KB=$(hwm_kb "$RWPID")
	LOAD_WALL_S=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	# GNU time writes "Command exited with non-zero status N" first then.
	LOAD_CPU_S=$(tail -n1 "$case_tmp/time" | awk '{ printf "%.2f", $1 + $2 }')
	RW_CPU_S=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
}

# wl_stop: SIGINT, and the time until racewatch is reaped. A racewatch that
# hangs is killed after WL_HANG_S by a watchdog, so the layer goes on.
# Sets RW_RC and STOP_MS.
wl_stop() {
	local wd t0 t1
	( sleep "$WL_HANG_S" & echo $! > "$case_tmp/wd.pid"; wait $!
	  kill -KILL "$RWPID" 2>/dev/null ) &
	wd=$!
	t0=$(now_ns)
	kill -INT "$RWPID"
	wait "$RWPID"
	RW_RC=$?
	t1=$(now_ns)
	STOP_MS=$(((t1 - t0) / 1000000))
	# The watchdog first, so that its kill can never reach a reused pid.
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	[ -s "$case_tmp/wd.pid" ] && kill "$(cat "$case_tmp/wd.pid")" 2>/dev/null
	RWPID=
}

# racewatch's records other than windows: the summary and the inode
# records. The windows can run to hundreds of MiB; this stays small.
RW_RECS=
records_only() {
	RW_RECS=$case_tmp/records.json
	grep -v '"type":"window"' "$RW_OUT" > "$RW_RECS" 2>/dev/null
}

# The summary record, or nothing.
summary() { jq -c 'select(.type == "summary")' "$RW_RECS" 2>/dev/null | tail -n1; }

# Filesystems that really race on this kernel, with no oracle for these
# loads: btrfs on 6.18 (README "Verdicts", the btrfs model). There a race
# window may be true and an unchecked one unknown either way, and
# unmodelled stands where the model's role is not served: those are shown,
# not counted; host/btrfs-race holds their precision against the oracle.
# Every other race-class verdict must be 0.
racy_fs() { [ "$1" = btrfs ]; }

# inode_ops INO FIELD: FIELD summed over the summary's inode records of INO
# (btrfs inode numbers repeat across subvolumes: the layer keeps to one).
inode_ops() {
	jq -s --argjson ino "$1" --arg f "$2" \
		'[.[] | select(.type == "inode" and .ino == $ino) | .[$f]] | add // 0' "$RW_RECS"
}

# wl_judge CASE TOOL FS [INO CALLS OK]: the assertions, one PASS/FAIL line,
# one INFO row (here and in the table). With INO, racewatch's operations on
# that inode must equal CALLS, and those that returned 0 must equal OK.
wl_judge() {
	local name=$1 tool=$2 fs=$3 ino=${4:-} calls=${5:-} ok=${6:-}
	local sum why=() verdicts races skipped losses ops mech total rwops rwok
	local cpu share rss result

	records_only
	sum=$(summary)
	[ "$LOAD_RC" -eq 0 ] || why+=("load exit $LOAD_RC: $(tail -c 200 "$case_tmp/load.err" | tr '\n' ' ')")
	[ "$RW_RC" -eq 0 ] || why+=("racewatch exit $RW_RC$([ "$RW_RC" -eq 137 ] && echo " (hung: killed after ${WL_HANG_S} s)")")
	[ "$STOP_MS" -le "$WL_EXIT_MS" ] || why+=("SIGINT to exit ${STOP_MS} ms > ${WL_EXIT_MS} ms")
	if [ -z "$sum" ]; then
		why+=("no summary record")
		verdicts=- losses=- mech=- ops=-
	else
		mech=$(jq -r '.plan["page-cache insert"].mech // "?"' <<< "$sum")
		verdicts=$(jq -r '[.verdicts | to_entries[] | select(.value > 0) | "\(.key) \(.value)"]
			| if length == 0 then "none" else join(", ") end' <<< "$sum")
		# The summary counts the verdicts README calls race-class.
		races=$(jq '.race_class' <<< "$sum")
		racy_fs "$fs" &&
			races=$((races - $(jq '.verdicts.race + .verdicts.unchecked + .verdicts.unmodelled' <<< "$sum")))
		[ "$races" -eq 0 ] || why+=("$races race-class windows")
		losses=$(jq -r '[{lost, incomplete} | paths(numbers) as $p | select(getpath($p) != 0)
			| "\($p[1:] | map(tostring) | join(".")) \(getpath($p))"]
			| if length == 0 then "0" else join(", ") end' <<< "$sum")
		[ "$losses" = 0 ] || why+=("losses: $losses")
		total=$(jq -s '[.[] | select(.type == "inode") | .ops] | add // 0' "$RW_RECS")
		# Requests that cannot drop a page open no window and are counted
		# apart (refused, or below one block: README "Event model").
		skipped=$(jq '.ops_skipped // 0' <<< "$sum")
		if [ "$fs" = tmpfs ]; then
			# shmem inserts reach no tracepoint: the plan says tmpfs is
			# not watched, and racewatch must then count nothing there.
			ops="$total (tmpfs is not watched)"
			[ "$(jq -r '.plan["tmpfs/shmem insert"].mech' <<< "$sum")" = none ] ||
				why+=("the plan does not say tmpfs is unwatched")
			grep -q 'tmpfs' "$RW_ERR" || why+=("no warning at start that tmpfs is unwatched")
			[ "$total" -eq 0 ] || why+=("racewatch counted $total operations on an unwatched tmpfs")
		elif [ -n "$ino" ]; then
			rwops=$(inode_ops "$ino" ops)
			rwok=$(inode_ops "$ino" ops_ok)
			ops="$rwops of $calls calls (+$skipped that open no window), $rwok of $ok ok"
			[ $((rwops + skipped)) -eq "$calls" ] ||
				why+=("racewatch counted $rwops operations and $skipped without a window, the load made $calls")
			# The skipped ones' returns are not watched: ok lies between.
			[ "$rwok" -le "$ok" ] && [ "$ok" -le $((rwok + skipped)) ] ||
				why+=("racewatch counted $rwok returning 0 (+$skipped unwatched), the load had $ok")
		else
			ops="$total (load cannot count; +$skipped that open no window)"
			# Every load here invalidates: none seen is a filter that
			# matched nothing (a btrfs --dev as stat shows it, unmapped).
			[ $((total + skipped)) -gt 0 ] || why+=("racewatch counted no operation at all")
		fi
	fi
	cpu=$(awk -v c="$RW_CPU_S" -v w="$LOAD_WALL_S" 'BEGIN { printf "%.1f", (w > 0 ? 100 * c / w : 0) }')
	share=$(awk -v c="$RW_CPU_S" -v l="$LOAD_CPU_S" 'BEGIN { printf "%.1f", (l > 0 ? 100 * c / l : 0) }')
	rss=$(awk -v k="${RW_HWM_KB:-0}" 'BEGIN { printf "%.1f MiB", k / 1024 }')
	if [ ${#why[@]} -eq 0 ]; then
		result=PASS
		pass "$name" "ops $ops; windows: $verdicts; exit ${STOP_MS} ms"
	else
		result=FAIL
		local IFS=';'
		fail "$name" "${why[*]}"
	fi
	wl_keep "$name"
	wl_row "$tool" "$fs" "$mech" "$ops" "$verdicts" "$losses" \
		"$cpu % of the load's wall ($RW_CPU_S s / $LOAD_WALL_S s), $share % of its CPU ($LOAD_CPU_S s)" \
		"$rss" "$STOP_MS" "$result"
}

# wl_keep CASE: what racewatch and the load said, for a closer look, under
# $WL_OUT/CASE (not a test input). racewatch's NDJSON can reach hundreds of
# MiB at exit (every open candidate judged unfinished): keep the summary
# and inode records and the first 1000 windows.
wl_keep() {
	local dir=$WL_OUT/${1//\//-}
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$RW_ERR" "$case_tmp"/load.* "$dir/" 2>/dev/null
	cp "$RW_RECS" "$dir/rw.json" 2>/dev/null
	grep -m1000 '"type":"window"' "$RW_OUT" > "$dir/rw-windows.json" 2>/dev/null
	echo "$(($(wc -l < "$RW_OUT") - $(wc -l < "$RW_RECS"))) windows, $(stat -c %s "$RW_OUT") bytes" \
		> "$dir/rw-size"
}

WL_HEADER='| tool | fs | kernel | mechanism | ops | windows by verdict | losses | racewatch CPU | peak RSS | SIGINT to exit (ms) | result |'

# wl_row CELLS...: one table row, on stdout as an INFO line (not a test)
# and appended to the table file.
wl_row() {
	local row="| $1 | $2 | $KERNEL |" c
	shift 2
	for c in "$@"; do row+=" $c |"; done
	mkdir -p "$WL_OUT"
	if [ ! -s "$WL_TABLE" ]; then
		echo "$WL_HEADER" > "$WL_TABLE"
		echo '|---|---|---|---|---|---|---|---|---|---|---|' >> "$WL_TABLE"
	fi
	echo "$row" >> "$WL_TABLE"
	echo "INFO $row"
}
