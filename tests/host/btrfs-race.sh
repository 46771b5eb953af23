#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The live race on this machine's kernel: btrfs on 6.18 leaves a stale page
# when a read inserts the last page of a punched range after the punch's
# last truncation (README "Verdicts", the btrfs model). Ground truth is
# racegen's oracle: every confirmed stale page must have its race window
# (recall >= 95%), no more than 5% of the punches judged race may lack one,
# and every punch is counted. Short ranges put more punches through, and
# pread readers are the ones that hit it (about 1 in 1,000 to 13,000
# punches here, with the VM guests beside it or not); a run with no stale
# page still checks precision and counts, and says so.
#   btrfs-race.sh [SECONDS]
set -uo pipefail
. "$(dirname "$0")/lib.sh"

secs=${1:-60}
name=btrfs-race
watched_scratch

if ! mkfs_mount btrfs "$tmp" 1G 2> "$tmp/mkfs.err"; then
	skip "$name" "cannot make a btrfs loop filesystem: $(head -c 200 "$tmp/mkfs.err")"
	exit 0
fi
dev=$(mountpoint -d "$tmp/mnt")
plan=$("$RW" --dry-run 2>&1)
if ! echo "$plan" | grep -qE 'btrfs read mapping +-> btrfs:btrfs_get_extent +-> tracepoint'; then
	fail "$name" "the btrfs read-mapping role is not served: $plan"
	exit 0
fi
watch_racegen "$name" "$tmp" "$dev" -d "$secs" -o punch -R 32 -m pread "$tmp/mnt/racegen.dat" || exit 0
result=$("$RACEMATCH" --exact-ops --by-kind --max-false-ops 5 "$tmp/gen.json" "$tmp/rw.json" 2>&1)
mrc=$?
sum=$(grep '"type":"summary"' "$tmp/rw.json")
lost=$(echo "$sum" | grep -o '"lost":{[^}]*}')
verdicts=$(echo "$sum" | grep -o '"verdicts":{[^}]*}' | tr -d '"{}' | sed 's/verdicts://; s/,/ /g' |
	tr ' ' '\n' | grep -v ':0$' | tr '\n' ' ')
confirmed=$(tail -1 "$tmp/gen.json" | grep -o '"confirmed_pages":[0-9]*' | cut -d: -f2)
summary="$(echo "$result" | grep -E '^(ops|precision punch|cell punch|recall)' | tr '\n' ' ')verdicts: ${verdicts:-none}"
if [ "$mrc" -ne 0 ]; then
	fail "$name" "$summary"
elif ! echo "$lost" | grep -qE '^"lost":\{("[a-z_]+":0,?)+\}$'; then
	fail "$name" "racewatch lost records: $lost"
elif echo "$verdicts" | grep -q 'unmodelled'; then
	fail "$name" "btrfs windows judged unmodelled although the model is served: $summary"
elif [ "${confirmed:-0}" -eq 0 ]; then
	pass "$name" "no stale page this run (recall untested), precision and counts held: $summary"
else
	pass "$name" "$summary"
fi
