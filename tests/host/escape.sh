#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Hostile task names reach stdout escaped, never raw (README.md, "Output").
# racegen names its readers r"d\ newline \x01 \xff \xfe and its invalidator
# with an xterm title sequence; racewatch -v --stacks watches it once as
# text and once as NDJSON (two instances, one run). Text lines must keep to
# the window, stack and summary grammar in printable ASCII; every NDJSON
# line must be strict UTF-8 and parse as JSON, with the names decoding as
# specified. Neither output may hold a kernel address.
#   escape.sh [MAX_SECONDS]
set -uo pipefail
. "$(dirname "$0")/lib.sh"

secs=${1:-30}
name=escape/ext4
reader=$'r"d\\\n\x01\xff\xfe'
writer=$'w\e]0;pwn\a'
# What the text rule makes of them, byte for byte.
reader_text='r"d\\\n\x01\xff\xfe'
writer_text='w\x1b]0;pwn\x07'
tmp=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill -INT "$p" 2>/dev/null && wait "$p"
	done
	umount "$tmp/mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v python3 > /dev/null; then
	skip "$name" "python3 is missing: make test-deps installs it"
	exit 0
fi
if ! mkfs_mount ext4 "$tmp" 2> "$tmp/mkfs.err"; then
	skip "$name" "cannot make an ext4 loop filesystem: $(head -c 200 "$tmp/mkfs.err")"
	exit 0
fi
dev=$(mountpoint -d "$tmp/mnt")

for mode in text json; do
	args=(-v --stacks --dev "$dev")
	[ "$mode" = json ] && args+=(--json)
	if ! start_racewatch "$tmp/rw.$mode" "$tmp/rw.$mode.err" "${args[@]}"; then
		fail "$name" "racewatch ($mode) did not start: $(head -c 300 "$tmp/rw.$mode.err")"
		exit 0
	fi
	PIDS+=("$RWPID")
done
# Windows need a reader to hit a call's first moments, which a loaded CPU
# makes rare: run in short rounds until both outputs hold one by our
# reader, or the time is up. pread with long ranges hits most often.
genrc=0
deadline=$((SECONDS + secs))
while [ "$SECONDS" -lt "$deadline" ]; do
	"$RACEGEN" -d 3 -o punch,zero,truncate -m pread -R 1024 --comm-reader "$reader" \
		--comm-writer "$writer" "$tmp/mnt/racegen.dat" >> "$tmp/gen.json" 2> "$tmp/gen.err"
	genrc=$?
	[ "$genrc" -ne 0 ] && break
	sleep 0.2	# racewatch judges a call 50 ms after it ends
	LC_ALL=C grep -qF "inserter $reader_text[" "$tmp/rw.text" &&
		LC_ALL=C grep -qF '"comm":"r\"d\\\\\n\u0001\\xff\\xfe"' "$tmp/rw.json" && break
done
rcs=()
for p in "${PIDS[@]}"; do
	kill -INT "$p"
	wait "$p"
	rcs+=($?)
done
PIDS=()

if [ "$genrc" -ne 0 ]; then
	fail "$name" "racegen failed ($genrc): $(head -c 300 "$tmp/gen.err")"
	exit 0
fi
if [ "${rcs[*]}" != "0 0" ]; then
	fail "$name" "racewatch exit ${rcs[*]}: $(head -c 300 "$tmp/rw.text.err" "$tmp/rw.json.err")"
	exit 0
fi

# Text: the only bytes are printable ASCII and the newline ending each line.
window='^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} (RACE|[a-z-]+) [!-~]+ [0-9]+:[0-9]+ ino [0-9]+ pages [0-9]+-[0-9]+ inserter [ -~]+\[[0-9]+/[0-9]+\] invalidator [ -~]+\[[0-9]+/[0-9]+\] (fallocate\([A-Z_|0-9x]*\)|truncate|invalidate)( ret -[0-9]+( E[A-Z_]+)?)? phase [a-z-]+ page [a-z-]+ locks:( none readable| ino [0-9]+ [ -~]+)$'
stack='^(    (inserter|invalidator) stack:( \(not collected\))?|      ([!-~]+\+0x[0-9a-f]+( \[[!-~]+\])?|\[unknown\]))$'
summary='^(racewatch summary after [0-9.]+ s|  inode +fs +ops +ok +bare +drops +inserts( +[a-z-]+)+|  [0-9]+:[0-9]+/[0-9]+ +[!-~]+( +[0-9]+)+|  other \([0-9]+ inodes\) +-( +[0-9]+)+|  stale-page windows \(races\): [0-9]+|  race-class windows \(may be races\): [0-9]+|  records: [0-9]+ malformed, [0-9]+ orphaned, [0-9]+ unattributed inserts|  (received|peak/s):( [a-z_]+ [0-9]+)+|  [0-9]+ records were left unjudged in the ring buffer at exit|  [0-9]+ requests opened no window \(refused, or below one block\)|  [0-9]+ inserts cleared by invalidate_lock at the insert, not sent \(-v sends them\)|  lost:( [a-z_]+ [0-9]+)+|  sent by BPF:( [a-z_]+ [0-9]+)+; not sent:( [a-z_]+ [0-9]+)+|  hook firings on watched inodes:( [a-z0-9_]+ ([0-9]+|-))+|  page checks of cached pages: read mapping( [a-z]+ [0-9]+)+; PG_mappedtodisk [0-9]+, of them mapped to disk [0-9]+; read without it but mapped to disk [0-9]+; sent by the insert after its window closed [0-9]+, used [0-9]+; sent when a later insert took the slot [0-9]+, used [0-9]+|  follow-ups of ext4 reads pending at the end of their operation: disk [0-9]+ zeros [0-9]+; left to the flag [0-9]+; none by the judgement [0-9]+|  direct-I/O writes whose first invalidation left pages cached: second invalidation seen [0-9]+, none within 1 s [0-9]+ \(buffered or failed writes\), of them after a failed first [0-9]+|  incomplete:( [a-z_]+ [0-9]+)+|attach plan \(requested: [a-z]+\)|  [a-zA-Z0-9/ -]+ -> [!-~]+( [!-~()]+)* +-> [a-zA-Z ]+|  +tried: [ -~]+)$'
lines=$(wc -l < "$tmp/rw.text")
bad_bytes=$(LC_ALL=C grep -c '[^ -~]' "$tmp/rw.text")
bad_lines=$(LC_ALL=C grep -Ev -e "$window" -e "$stack" -e "$summary" "$tmp/rw.text")
# A kernel address is 0xffff... on 64-bit; offsets into symbols are short.
pointers=$(LC_ALL=C grep -ohE '0x[0-9a-f]{9,}' "$tmp/rw.text" "$tmp/rw.json" | head -3 | tr '\n' ' ')
frames=$(LC_ALL=C grep -cE '^      [!-~]+\+0x' "$tmp/rw.text")
hostile_text=$(LC_ALL=C grep -cF "inserter $reader_text[" "$tmp/rw.text")
writer_lines=$(LC_ALL=C grep -cF "invalidator $writer_text[" "$tmp/rw.text")
windows_text=$(LC_ALL=C grep -cE "$window" "$tmp/rw.text")
tail -c 1 "$tmp/rw.text" | od -An -c | grep -q '\\n' || bad_lines="no newline at the end"

# JSON: strict UTF-8, a real parser, and the decoded names.
json=$(python3 - "$tmp/rw.json" <<'PY'
import json, sys

# Decoded values follow the text rule for backslashes and bytes that are
# not UTF-8; controls decode to themselves (they are JSON-escaped).
reader = 'r"d\\\\\n\x01\\xff\\xfe'
writer = 'w\x1b]0;pwn\x07'
windows = hostile = writer_seen = 0

def strict(name):
    raise ValueError('%s is not JSON' % name)

with open(sys.argv[1], 'rb') as f:
    for n, raw in enumerate(f, 1):
        try:
            rec = json.loads(raw.decode('utf-8', 'strict'), parse_constant=strict)
        except (UnicodeDecodeError, ValueError) as e:
            print('line %d: %s: %r' % (n, e, raw[:120]))
            sys.exit(1)
        if not isinstance(rec, dict) or 'type' not in rec:
            print('line %d: not a typed record: %r' % (n, raw[:120]))
            sys.exit(1)
        if rec['type'] != 'window':
            continue
        windows += 1
        hostile += rec['inserter']['comm'] == reader
        writer_seen += rec['invalidator']['comm'] == writer
        # Our invalidator's windows: a reader of ours is named exactly so.
        if rec['invalidator']['comm'] == writer and \
           rec['inserter']['tid'] != rec['invalidator']['tid'] and \
           rec['inserter']['comm'] != reader:
            print('line %d: reader comm decodes to %r' % (n, rec['inserter']['comm']))
            sys.exit(1)
print('%d %d %d' % (windows, hostile, writer_seen))
PY
)
jrc=$?
read -r windows_json hostile_json writer_json <<< "$json"
summary="text: $lines lines, $windows_text windows, $hostile_text by the reader, $frames frames; json: ${windows_json:-?} windows, ${hostile_json:-?} by the reader"

if [ "$bad_bytes" -ne 0 ]; then
	fail "$name" "$bad_bytes text lines hold bytes outside 0x20..0x7e: $(LC_ALL=C grep -m1 '[^ -~]' "$tmp/rw.text" | od -An -c | head -3 | tr -s ' \n' ' ')"
elif [ -n "$bad_lines" ]; then
	fail "$name" "text lines outside the grammar: $(echo "$bad_lines" | head -3)"
elif [ -n "$pointers" ]; then
	fail "$name" "kernel addresses in the output: $pointers"
elif [ "$frames" -eq 0 ]; then
	fail "$name" "no symbolized stack frame in the text output ($summary)"
elif [ "$hostile_text" -eq 0 ]; then
	fail "$name" "no text window names the reader as '$reader_text' ($summary)"
elif [ "$writer_lines" -eq 0 ]; then
	fail "$name" "no text window names the invalidator as '$writer_text' ($summary)"
elif [ "$jrc" -ne 0 ]; then
	fail "$name" "NDJSON: $json"
elif [ "${hostile_json:-0}" -eq 0 ] || [ "${writer_json:-0}" -eq 0 ]; then
	fail "$name" "no NDJSON window with both decoded names ($summary)"
else
	pass "$name" "$summary"
fi
