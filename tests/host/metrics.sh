#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# --metrics against real parsers: racegen runs every operation on btrfs
# (windows of many verdicts there) under racewatch --metrics --interval 1.
#   lint: Debian's promtool (tests/host/promtool.sh) checks the file while
#     racewatch runs and the one it leaves (`promtool check metrics`: the
#     format and Prometheus's naming conventions).
#   counts: the Prometheus client's parser reads both (metrics-check.py):
#     racewatch_up 1, then 0; at exit, windows by verdict, operations and
#     candidate inserts equal the NDJSON's, no loss, roles as the plan.
#   atomic: a reader that reads the file over and over while it is
#     rewritten every second never sees it cut short, and no temporary
#     file is left behind.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
here=$(realpath "$(dirname "$0")")
pyparse=/usr/bin/python3
watched_scratch

if ! mkfs_mount btrfs "$tmp" 1G 2> "$tmp/mkfs.err"; then
	skip metrics "cannot make a btrfs loop filesystem: $(head -c 200 "$tmp/mkfs.err")"
	exit 0
fi
dev=$(mountpoint -d "$tmp/mnt")
mkdir "$tmp/prom"
prom=$tmp/prom/racewatch.prom

if ! start_racewatch "$tmp/rw.json" "$tmp/rw.err" --json --dev "$dev" --metrics "$prom" --interval 1; then
	fail metrics "racewatch did not start: $(head -c 300 "$tmp/rw.err")"
	exit 0
fi
# The reader: every read must end with the file's last family, and each
# rewrite must be a new file renamed over the old one (a new inode), never
# the old one rewritten in place, which a scrape could read half-written.
(
	reads=0 cut=0
	while [ ! -e "$tmp/stop" ]; do
		if [ -e "$prom" ]; then
			reads=$((reads + 1))
			stat -c %i "$prom" >> "$tmp/inodes" 2> /dev/null
			tail -1 "$prom" | grep -q '^racewatch_metrics_write_errors_total ' || cut=$((cut + 1))
		fi
	done
	# Changes, not distinct numbers: a freed inode number may come back.
	echo "$reads $cut $(uniq "$tmp/inodes" | wc -l)" > "$tmp/reader"
) &
reader=$!
"$RACEGEN" -d 4 -o punch,zero,collapse,insert,truncate "$tmp/mnt/m.dat" > "$tmp/gen.json" 2> "$tmp/gen.err"
cp "$prom" "$tmp/running.prom"
touch "$tmp/stop"
wait "$reader"
kill -INT "$RWPID"
wait "$RWPID"
rwrc=$?
RWPID=

promtool=$("$here/promtool.sh" 2> "$tmp/promtool.err")
prc=$?
if [ "$rwrc" -ne 0 ] || grep -q WARNING "$tmp/rw.err"; then
	fail metrics "racewatch exit $rwrc: $( (grep WARNING "$tmp/rw.err" || tail -2 "$tmp/rw.err") | head -c 300)"
	exit 0
fi
if [ "$prc" -ne 0 ]; then
	skip metrics/lint "no promtool: $(tail -1 "$tmp/promtool.err")"
else
	lint=
	for f in running.prom prom/racewatch.prom; do
		out=$("$promtool" check metrics < "$tmp/$f" 2>&1) || lint+=" $f: $(echo "$out" | head -3 | tr '\n' ' ')"
	done
	if [ -n "$lint" ]; then
		fail metrics/lint "promtool check metrics:$lint"
	else
		pass metrics/lint "promtool check metrics: the file while running and at exit, no problem"
	fi
fi
if ! "$pyparse" -c 'import prometheus_client' 2> /dev/null; then
	skip metrics/counts "python3-prometheus-client not installed (make check installs it)"
elif ! running=$("$pyparse" "$here/metrics-check.py" "$tmp/running.prom" - 1 2>&1); then
	fail metrics/counts "while running: $running"
elif ! row=$("$pyparse" "$here/metrics-check.py" "$prom" "$tmp/rw.json" 0 2>&1); then
	fail metrics/counts "$row"
else
	pass metrics/counts "while running: $running; at exit: $row"
fi
read -r reads cut inodes < "$tmp/reader"
left=$(find "$tmp/prom" -name '.*tmp*' | wc -l)
# racegen's 4 s at --interval 1: at least 3 files in turn.
if [ "${reads:-0}" -lt 10 ] || [ "${cut:-1}" -ne 0 ] || [ "${inodes:-0}" -lt 3 ] || [ "$left" -ne 0 ]; then
	fail metrics/atomic "$reads reads, $cut cut short, $inodes files in turn, $left temporary files left"
else
	pass metrics/atomic "$reads reads while it was rewritten each second: none cut short, $inodes files in turn (each rewrite renamed over the last), no temporary file left"
fi
exit 0
