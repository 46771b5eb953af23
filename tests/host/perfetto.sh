#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# --perfetto against the run's own NDJSON: racegen runs every operation on
# btrfs (windows of many verdicts there with -v) under racewatch
# --perfetto, and perfetto-check.py parses the trace whole (python3's
# json) and holds its structure and its slices and instants to the NDJSON:
# operations, invalidations and inserts per inode, every window once.
# A file that cannot be created is bad input (64).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
here=$(realpath "$(dirname "$0")")
watched_scratch

"$RW" --perfetto /nonexistent/dir/trace.json -d 1 > /dev/null 2> "$tmp/bad.err"
rc=$?
if [ "$rc" -ne 64 ] || [ "$(wc -l < "$tmp/bad.err")" -ne 1 ]; then
	fail perfetto/uncreatable "exit $rc, want 64 and one line: $(head -c 300 "$tmp/bad.err")"
else
	pass perfetto/uncreatable "exit 64: $(cat "$tmp/bad.err")"
fi

if ! mkfs_mount btrfs "$tmp" 1G 2> "$tmp/mkfs.err"; then
	skip perfetto "cannot make a btrfs loop filesystem: $(head -c 200 "$tmp/mkfs.err")"
	exit 0
fi
dev=$(mountpoint -d "$tmp/mnt")
if ! start_racewatch "$tmp/rw.json" "$tmp/rw.err" --json -v --dev "$dev" --perfetto "$tmp/trace.json"; then
	fail perfetto "racewatch did not start: $(head -c 300 "$tmp/rw.err")"
	exit 0
fi
"$RACEGEN" -d 3 -o punch,zero,collapse,insert,truncate "$tmp/mnt/p.dat" > "$tmp/gen.json" 2> "$tmp/gen.err"
kill -INT "$RWPID"
wait "$RWPID"
rwrc=$?
RWPID=
if [ "$rwrc" -ne 0 ] || grep -q WARNING "$tmp/rw.err"; then
	fail perfetto "racewatch exit $rwrc: $( (grep WARNING "$tmp/rw.err" || tail -2 "$tmp/rw.err") | head -c 300)"
elif row=$(python3 "$here/perfetto-check.py" "$tmp/trace.json" "$tmp/rw.json" 2>&1); then
	pass perfetto "$row"
else
	fail perfetto "$row"
fi
exit 0
