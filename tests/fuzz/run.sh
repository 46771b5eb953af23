#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fuzz layer: the libFuzzer target tests/fuzz/fuzz_records.c (decoder, verdict
# engine, report sink). It replays every input in tests/fuzz/regressions once
# (each is a crash the fuzzer once found), checks that the committed seed
# corpus matches mkseeds, replays the corpus, and then fuzzes for a bounded
# time (RW_FUZZ_SECONDS, default 55). A finding is a FAIL naming the file
# libFuzzer wrote: copy it into tests/fuzz/regressions once it is fixed.
set -uo pipefail
cd "$(dirname "$0")/../.."

fz=${RW_FUZZ:-build/fuzz/fuzz_records}
mkseeds=${RW_MKSEEDS:-build/fuzz/mkseeds}
secs=${RW_FUZZ_SECONDS:-55}
out=build/fuzz
# 4 KiB is about 1,300 structured steps. Longer inputs once timed out in
# the engine's quadratic paths (gone since it keeps its state in hash
# tables); the bound stays so that the 55 s see many short runs.
max_len=4096

pass() { echo "PASS fuzz/$1${2:+: $2}"; }
fail() { echo "FAIL fuzz/$1: $2"; }

if ! why=$(tests/fuzz/have-libfuzzer.sh 2>&1); then
	echo "SKIP fuzz: $why"
	exit 0
fi
if [ ! -x "$fz" ] || [ ! -x "$mkseeds" ]; then
	fail build "$fz or $mkseeds is missing: run make fuzz"
	exit 0
fi
# The fuzzer's own reports go to its log, not to run.sh's report files.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# first_error LOG: the line that says what went wrong.
first_error() {
	grep -m1 -E 'ERROR:|runtime error|broken promise|deadly signal|timeout|out-of-memory' "$1" |
		head -c 300
}

for f in tests/fuzz/regressions/*; do
	[ -f "$f" ] || continue
	case $f in *.md|*README*) continue ;; esac
	name=regression/$(basename "$f")
	if "$fz" "$f" > "$tmp/replay.log" 2>&1; then
		pass "$name"
	else
		cat "$tmp/replay.log" >&2
		fail "$name" "$(first_error "$tmp/replay.log")"
	fi
done

mkdir -p "$tmp/seeds"
if ! "$mkseeds" "$tmp/seeds" 2> "$tmp/mkseeds.err"; then
	fail seeds "mkseeds failed: $(head -c 300 "$tmp/mkseeds.err")"
elif ! diff -r "$tmp/seeds" tests/fuzz/corpus > "$tmp/seeds.diff" 2>&1; then
	fail seeds "tests/fuzz/corpus differs from what mkseeds writes (record layouts changed?): run make fuzz-seeds; $(head -c 200 "$tmp/seeds.diff" | tr '\n' ' ')"
else
	pass seeds "$(ls tests/fuzz/corpus | wc -l) seeds match mkseeds"
fi

if "$fz" -runs=0 tests/fuzz/corpus > "$tmp/corpus.log" 2>&1; then
	pass corpus "$(ls tests/fuzz/corpus | wc -l) inputs replayed"
else
	cat "$tmp/corpus.log" >&2
	fail corpus "$(first_error "$tmp/corpus.log")"
fi

# The working corpus grows across runs in build/; the seeds stay as they are.
mkdir -p "$out/work" "$out/artifacts"
"$fz" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len="$max_len" \
	-print_final_stats=1 -artifact_prefix="$out/artifacts/" \
	"$out/work" tests/fuzz/corpus > "$out/run.log" 2>&1
rc=$?
stats=$(grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb):' "$out/run.log" |
	sed 's/^stat:://' | tr -s ' \n' ' ')
cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$out/run.log" | tail -1)
if [ "$rc" -eq 0 ]; then
	pass run "${secs}s, max_len $max_len: $cov, $stats"
else
	artifact=$(grep -oE 'Test unit written to [^ ]+' "$out/run.log" | tail -1 | cut -d' ' -f5)
	tail -60 "$out/run.log" >&2
	fail run "$(first_error "$out/run.log"); input ${artifact:-(none written)}: fix it, then add it to tests/fuzz/regressions/ (log: $out/run.log)"
fi
