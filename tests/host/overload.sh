#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Overload without silent loss: each BPF map and the ring buffer, shrunk
# with the test-only --test-map-size, is forced to overflow under racegen
# load on a loop ext4. For every loss path: the counter moved, stderr said
# so while racewatch was still running (it warns once a second), the
# summary shows it, and no window that the loss touched is judged a race.
# An operation stuck past --max-op-age (a frozen filesystem) is expired,
# reported and released in BPF.
#   overload.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
RWPID=
GENPIDS=()
cleanup() {
	[ -n "$RWPID" ] && kill -INT "$RWPID" 2>/dev/null && wait "$RWPID"
	for p in "${GENPIDS[@]}"; do kill "$p" 2>/dev/null; done
	fsfreeze -u "$tmp/mnt" 2>/dev/null
	umount "$tmp/mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v jq > /dev/null; then
	skip overload "jq not installed (make check installs it)"
	exit 0
fi
if ! mkfs_mount ext4 "$tmp" 2> "$tmp/mkfs.err"; then
	skip overload "cannot make an ext4 loop filesystem: $(head -c 200 "$tmp/mkfs.err")"
	exit 0
fi
dev=$(mountpoint -d "$tmp/mnt")

# stop_racewatch: SIGINT, wait, and keep its exit status in RWRC.
stop_racewatch() {
	kill -INT "$RWPID"
	wait "$RWPID"
	RWRC=$?
	RWPID=
}

# loss NAME COUNTER WARNING JQ_CHECK GENS [RACEWATCH ARGS...]: racewatch with
# the given knobs while GENS racegen instances run on their own files (4
# pread readers and ranges up to 1 MiB: many candidates per operation).
# COUNTER is the summary's "lost" field that must have moved; WARNING the
# stderr line that must appear while racewatch runs (it warns on its next
# poll round, once a second); JQ_CHECK a jq filter
# over the whole output (slurped) that must print true.
loss() {
	local name=overload/$1 counter=$2 warning=$3 check=$4 gens=$5 got why=
	shift 5
	rm -f "$tmp"/rw.* "$tmp"/gen.*
	if ! start_racewatch "$tmp/rw.json" "$tmp/rw.err" --json -v --dev "$dev" "$@"; then
		fail "$name" "racewatch did not start: $(head -c 300 "$tmp/rw.err")"
		return
	fi
	GENPIDS=()
	for i in $(seq "$gens"); do
		"$RACEGEN" -d 4 -r 4 -R 1024 -o punch,zero,truncate -m pread "$tmp/mnt/gen$i.dat" \
			> "$tmp/gen.$i.json" 2> "$tmp/gen.$i.err" &
		GENPIDS+=($!)
	done
	wait_line "$tmp/rw.err" "^racewatch: WARNING! [0-9]+ $warning" ||
		why="no 'WARNING! N $warning' on stderr while it ran"
	for p in "${GENPIDS[@]}"; do wait "$p"; done
	GENPIDS=()
	stop_racewatch
	got=$(jq -s -r --arg c "$counter" '(.[] | select(.type == "summary") | .lost[$c]) // "none"' \
		"$tmp/rw.json" 2> "$tmp/jq.err")
	if [ -z "$why" ] && [ "$RWRC" -ne 0 ]; then
		why="racewatch exit $RWRC: $(head -c 300 "$tmp/rw.err")"
	fi
	if [ -z "$why" ] && ! [ "$got" -gt 0 ] 2>/dev/null; then
		why="summary lost.$counter is '$got', want > 0 $(head -c 200 "$tmp/jq.err")"
	fi
	if [ -z "$why" ] && [ "$(jq -s "$check" "$tmp/rw.json" 2>&1)" != true ]; then
		why="check '$check' failed on the output"
	fi
	# A race judged on a partial view would be a confident lie.
	if [ -z "$why" ] && [ "$(jq -s '[.[] | select(.type == "window" and .verdict == "race" and
		(.op.lost > 0 or .op.unwatched or .op.no_return or .op.expired))] | length' \
		"$tmp/rw.json")" != 0 ]; then
		why="a window of an operation with lost evidence was judged race"
	fi
	if [ -n "$why" ]; then
		fail "$name" "$why"
	else
		pass "$name" "lost.$counter $got"
	fi
}

# Every record that did not fit: the operations it touched say so, or are
# orphans (OP_BEGIN lost), or never ended (OP_END lost). Three generators:
# an operation is about a kilobyte of records now (block frees folded), and
# one racegen overflowed even the 4 KiB ring only now and then.
loss ringbuf ringbuf_full "records lost \(ring buffer full\)" \
	'[.[] | select(.type == "summary") | .incomplete.ops_lossy + .incomplete.ops_open +
	  .records.orphans > 0] == [true]' 3 \
	--test-map-size ringbuf=4096
# Candidates that cannot be watched for deletion: their page check decides
# (evicted: found gone, no deletion seen), else they are judged untracked;
# none is a race. Before every page of a 256-page window had a slot, the
# untracked ones were all candidates whose page check had been lost too.
# Two files, so that a second candidate arrives while the first one is
# tracked: with one, a loaded machine sometimes had too few in 4 s.
loss candidates candidates_map_full "candidate pages untracked" \
	'[.[] | select(.type == "window")] |
	 ([.[] | select(.verdict == "untracked" or
			(.verdict == "evicted" and .page == "gone" and .deleted == null))] | length > 0)
	 and ([.[] | select(.verdict == "race")] | length == 0)' 2 \
	--test-map-size candidates=1
# A page check that has no slot leaves its operation lossy.
loss slots slots_map_full "page checks skipped" \
	'[.[] | select(.type == "summary") | .incomplete.ops_lossy > 0] == [true]' 1 \
	--test-map-size slots=1
# Two files punched at once need two windows: the LRU evicts the other's
# open one, which its close then finds missing, and its operation is lossy.
loss windows windows_lost "windows closed that were never seen open" \
	'[.[] | select(.type == "summary") | .incomplete.ops_lossy > 0] == [true]' 2 \
	--test-map-size windows=1
# Two tasks in fallocate at once need two operation slots.
loss ops ops_map_full "operations untracked" \
	'[.[] | select(.type == "summary")] | length == 1' 2 \
	--test-map-size ops=1
# Stacks that do not fit are missing from their windows, not invented.
loss stacks stack_failures "stacks not captured" \
	'[.[] | select(.type == "window" and (.stacks.inserter | length) == 0)] | length > 0' 1 \
	--stacks --test-map-size stacks=1
skip overload/stash "the kprobe insert stash needs kprobes; this kernel has none"
skip overload/invals "the invals map serves fentry/kprobe invalidation hooks; tracepoint mode has none"

# An operation that never returns: a punch blocked on a frozen filesystem.
name=overload/expiry
why=
: > "$tmp/mnt/stuck.dat"
if ! start_racewatch "$tmp/rw.json" "$tmp/rw.err" --json --dev "$dev" --max-op-age 2; then
	fail "$name" "racewatch did not start: $(head -c 300 "$tmp/rw.err")"
	exit 0
fi
fsfreeze -f "$tmp/mnt"
fallocate -p -o 0 -l 1M "$tmp/mnt/stuck.dat" &
stuck=$!
wait_line "$tmp/rw.err" "^racewatch: WARNING! 1 operations expired" ||
	why="no expiry warning while the punch was stuck"
fsfreeze -u "$tmp/mnt"
wait "$stuck"
stop_racewatch
summary=$(jq -c 'select(.type == "summary") | [.incomplete.ops_expired, .incomplete.ops_released, .records.orphans]' \
	"$tmp/rw.json" 2>&1)
if [ -z "$why" ] && [ "$RWRC" -ne 0 ]; then
	why="racewatch exit $RWRC: $(head -c 300 "$tmp/rw.err")"
fi
# Released in BPF, so the punch's late return finds nothing: no orphan.
if [ -z "$why" ] && [ "$summary" != "[1,1,0]" ]; then
	why="[expired, released, orphans] = $summary, want [1,1,0]"
fi
if [ -n "$why" ]; then
	fail "$name" "$why"
else
	pass "$name" "expired 1, released 1 in BPF, 0 orphans"
fi
