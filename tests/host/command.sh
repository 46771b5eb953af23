#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# racewatch -- CMD ARGS...: the wrapped command (README "Wrapping a
# command").
#   - Exit status: the command's (its code, or 128 + the signal that
#     killed it), 127/126 when it cannot be run (one line on stderr), and
#     64 for what cannot be combined with it. The precedence of racewatch's
#     own failure and --fail-on-race over it is a unit test
#     (test_command_exit_status): no race can be made to order here.
#   - The command keeps stdout; -o FILE takes racewatch's records.
#   - SIGINT to racewatch goes to the command, whose exit ends the run,
#     summary and all, with its status.
#   - No start-up race: a command whose first act is a punch has it
#     counted, run after run, and racegen's every call is counted.
#   command.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"

watched_scratch

# status NAME WANT ARGS...: racewatch's exit status for ARGS.
status() {
	local name=$1 want=$2 rc
	shift 2
	"$RW" -o "$tmp/st.out" "$@" > "$tmp/st.stdout" 2> "$tmp/st.err" < /dev/null
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "command/status/$name" "exit $rc"
	else
		fail "command/status/$name" "exit $rc, want $want: $(grep -v warning "$tmp/st.err" | head -c 300)"
	fi
}

status exit-0 0 -- true
status exit-7 7 -- sh -c 'exit 7'
status killed-by-term 143 -- sh -c 'kill -TERM $$'
status fail-on-race-none 0 --fail-on-race -- true
status not-found 127 -- "$tmp/no-such-command"
if [ "$(grep -c "^racewatch: failed to run '$tmp/no-such-command': No such file or directory$" "$tmp/st.err")" -ne 1 ]; then
	fail command/status/not-found-line "want one line naming the command: $(head -c 300 "$tmp/st.err")"
fi
: > "$tmp/not-executable"
status not-executable 126 -- "$tmp/not-executable"
status with-duration 64 -d 5 -- true
status with-dry-run 64 --dry-run -- true
status no-separator 64 true
status output-uncreatable 64 -o "$tmp/no-such-dir/out" -- true

# stdout stays the command's; the summary goes to -o.
"$RW" --json -o "$tmp/own.json" -- sh -c 'echo from-the-command' > "$tmp/own.stdout" 2> "$tmp/own.err"
if [ "$(cat "$tmp/own.stdout")" = from-the-command ] &&
   [ "$(jq -r 'select(.type == "summary") | .type' "$tmp/own.json")" = summary ]; then
	pass command/stdout "the command's line on stdout, racewatch's summary in -o"
else
	fail command/stdout "stdout: $(head -c 200 "$tmp/own.stdout"); -o: $(head -c 200 "$tmp/own.json")"
fi

# SIGINT: to the command, which says so and exits 5; then the summary.
"$RW" --json -o "$tmp/int.json" -- sh -c \
	'trap "echo command-got-SIGINT >&2; exit 5" INT; while :; do sleep 0.1; done' \
	> /dev/null 2> "$tmp/int.err" &
RWPID=$!
if wait_line "$tmp/int.err" '^racewatch: watching .*running the command as pid [0-9]+'; then
	kill -INT "$RWPID"
	wait "$RWPID"
	rc=$?
	RWPID=
	if [ "$rc" -eq 5 ] && grep -q '^command-got-SIGINT$' "$tmp/int.err" &&
	   [ "$(jq -r 'select(.type == "summary") | .type' "$tmp/int.json")" = summary ]; then
		pass command/sigint "forwarded; the command's exit 5 was racewatch's, after the summary"
	else
		fail command/sigint "exit $rc; $(grep -v warning "$tmp/int.err" | head -c 300)"
	fi
else
	fail command/sigint "racewatch did not start the command: $(head -c 300 "$tmp/int.err")"
fi

if ! mkfs_mount ext4 "$tmp" 256M 2> "$tmp/mkfs.err"; then
	skip command/first-act "cannot make an ext4 loop filesystem: $(head -c 200 "$tmp/mkfs.err")"
	exit 0
fi
# The command's first act is a punch over cached pages: counted each run
# only if every hook was attached before it started.
f=$tmp/mnt/punched
counts=
for run in $(seq 10); do
	dd if=/dev/urandom of="$f" bs=64k count=16 status=none
	"$RW" --json -o "$tmp/first.json" --path "$f" -- fallocate -p -o 0 -l 65536 "$f" \
		> /dev/null 2> "$tmp/first.err"
	counts="$counts $(jq -r 'select(.type == "inode") | .ops' "$tmp/first.json" | head -1)"
	rm -f "$f"
done
if [ "$counts" = "$(printf " 1%.0s" $(seq 10))" ]; then
	pass command/first-act "a punch as the command's first act, counted in 10 runs of 10"
else
	fail command/first-act "operations counted per run:$counts (want 1 each)"
fi

# racegen as the command: its every call counted, its output on stdout.
dev=$(mountpoint -d "$tmp/mnt")
"$RW" --json -o "$tmp/rw.json" --dev "$dev" -- "$RACEGEN" -d 2 -o punch,truncate -m pread \
	"$tmp/mnt/racegen.dat" > "$tmp/gen.json" 2> "$tmp/gen.err"
rc=$?
result=$("$RACEMATCH" --exact-ops "$tmp/gen.json" "$tmp/rw.json" 2>&1)
mrc=$?
if [ "$rc" -eq 0 ] && [ "$mrc" -eq 0 ] && echo "$result" | grep -qE '^ops racegen ([1-9][0-9]*) racewatch \1$'; then
	pass command/racegen "$(echo "$result" | grep '^ops')"
else
	fail command/racegen "exit $rc: $(echo "$result" | tr '\n' ' ' | head -c 300) $(grep -v warning "$tmp/gen.err" | head -c 200)"
fi
