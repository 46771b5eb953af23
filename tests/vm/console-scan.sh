#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Scan a guest's console log for kernel trouble: oops, BUG, general
# protection fault, panic, soft/hard lockup, RCU stall, WARNING splat, or any
# call trace. Any of them is a test failure, whatever the scenario's rc.
#   console-scan.sh LOG
# Exit status 0: the log is clean. 1: trouble; stdout gets one line,
# "guest kernel KIND: FIRST-LINE | RIP: ..." (the first splat's first line
# and the RIP line after it, timestamps stripped). 64: usage.
set -uo pipefail

[ $# -eq 1 ] && [ -r "$1" ] || { echo "usage: console-scan.sh LOG" >&2; exit 64; }

# Order matters: the first pattern that matches a line names its kind.
awk '
function kind(line) {
	if (line ~ /soft lockup/) return "soft lockup"
	if (line ~ /hard LOCKUP/) return "hard lockup"
	if (line ~ /rcu_sched detected stall|rcu_preempt detected stall|rcu: INFO:/) return "RCU stall"
	if (line ~ /BUG: |Oops: |Oops#|general protection fault/) return "oops"
	if (line ~ /Kernel panic/) return "panic"
	if (line ~ /WARNING: CPU:/) return "warning"
	if (line ~ /Call Trace/) return "call trace"
	return ""
}
{
	line = $0
	sub(/^.*\[ *[0-9]+\.[0-9]+\] /, "", line)
	if (first == "") {
		k = kind(line)
		if (k != "") { first = line; what = k; after = 0 }
		next
	}
	if (rip == "" && line ~ /^RIP: /) rip = line
	if (++after > 40 || rip != "") exit
}
END {
	if (first == "") exit 0
	printf "guest kernel %s: %s%s\n", what, first, rip == "" ? "" : " | " rip
	exit 1
}' "$1"
