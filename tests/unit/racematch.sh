#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# racematch, the oracle matcher the detection tests rely on, against the
# fixture pairs in fixtures/racematch (see its README): exit status, and
# stdout against NAME.expected where there is one (a usage error, exit 64,
# must print nothing on stdout).
set -uo pipefail
cd "$(dirname "$0")/fixtures/racematch"
match=${RACEMATCH:-../../../../build/racematch}

# check NAME EXIT [ARGS...]; stdout is held to EXPECTED.expected when the
# caller sets EXPECTED, else to NAME.expected.
check() {
	local name=$1 want=$2 got out expected
	shift 2
	expected=${EXPECTED:-$name}.expected
	out=$("$match" "$@" "$name.oracle.ndjson" "$name.racewatch.ndjson" 2>/dev/null)
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL unit/racematch/$name${*:+ $*}: exit $got, want $want"
	elif [ "$want" -eq 64 ] && [ -n "$out" ]; then
		echo "FAIL unit/racematch/$name${*:+ $*}: a usage error printed to stdout: $out"
	elif [ "$want" -ne 64 ] && [ -f "$expected" ] && [ "$out" != "$(cat "$expected")" ]; then
		echo "FAIL unit/racematch/$name${*:+ $*}: stdout differs from $expected: $out"
	else
		echo "PASS unit/racematch/$name${*:+ $*}"
	fi
}

check match 0
check match 0 --exact-ops
check nomatch-ino 2
EXPECTED=nomatch-ino.file-only check nomatch-ino 2 --file-only
check nomatch-range 2
check nomatch-time 2
check nomatch-dev 2
check verdict 2
EXPECTED=verdict.unmodelled check verdict 0 --verdict unmodelled
check verdict 64 --verdict 'Race!'
check nested 0
check empty 0
check partial 2
check partial 0 --min-recall 50
check partial 2 --min-recall 50.1
check malformed 1
check badfield 1
check ops-differ 0
check ops-differ 3 --exact-ops
check precision 0
check precision 0 --max-false-ops 100
check precision 4 --max-false-ops 50
check precision 0 --max-false-ops 50 --check-kinds punch,zero
check precision 4 --max-false-ops 49.9 --check-kinds punch,zero
check precision 0 --max-false-ops 0 --check-kinds punch
check precision 4 --max-false-ops 0 --check-kinds truncate
check precision 4 --max-false-ops 50 --exact-ops
check precision 64 --max-false-ops 100.1
check precision 64 --check-kinds punch,bogus
# The fixture's zero (1 of 2) and truncate (1 of 1) are over 5%: a slack
# of 2 unconfirmed operations covers both, 1 does not, unless only one of
# them is checked.
check precision 0 --max-false-ops 5 --false-ops-slack 2
check precision 4 --max-false-ops 5 --false-ops-slack 1
check precision 0 --max-false-ops 5 --false-ops-slack 1 --check-kinds punch,zero
check precision 64 --max-false-ops 5 --false-ops-slack one
check partial 2 --max-false-ops 0
EXPECTED=precision.by-kind check precision 0 --by-kind
check version 0
check version-future 1
