#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# racewatch --version against what it names: the record version is the one
# its NDJSON carries, libbpf's is the installed package's, and each attach
# mechanism it calls usable or not is one a forced --dry-run can or cannot
# plan with. Without privileges it probes nothing and says so.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

out=$("$RW" --version 2>&1)
rc=$?
record=$(echo "$out" | sed -n 's/^record version \([0-9]*\) .*/\1/p')
json_v=$("$RW" --json -d 1 2> /dev/null | grep '"type":"summary"' | grep -o '"v":[0-9]*' | cut -d: -f2)
libbpf=$(echo "$out" | sed -n 's/^libbpf //p')
pkg=$(dpkg-query -W -f='${Version}' libbpf1 2> /dev/null | sed 's/^[0-9]*://; s/^\([0-9]*\.[0-9]*\).*/\1/')
why=
[ "$rc" -eq 0 ] || why="exit $rc"
echo "$out" | head -1 | grep -qE '^racewatch [0-9]+\.[0-9]+' || why+=" first line: $(echo "$out" | head -1)"
[ -n "$record" ] && [ "$record" = "$json_v" ] || why+=" record version '$record', the NDJSON's v '$json_v'"
[ -z "$pkg" ] || [ "$libbpf" = "$pkg" ] || why+=" libbpf '$libbpf', package libbpf1 '$pkg'"
echo "$out" | grep -qx "kernel $(uname -r)" || why+=" no 'kernel $(uname -r)' line"
mechs=
for mech in fentry kprobe tracepoint; do
	said=$(echo "$out" | sed -n "s/^attach $mech: \(yes\|no\).*/\1/p")
	"$RW" --dry-run -a "$mech" > /dev/null 2>&1
	drc=$?
	# A usable mechanism may still lack a required role's hook (69), so
	# only "no" is held to the dry run: it must fail.
	if [ -z "$said" ]; then
		why+=" no 'attach $mech:' line"
	elif [ "$said" = no ] && [ "$drc" -eq 0 ]; then
		why+=" $mech said no, but --dry-run -a $mech planned"
	elif [ "$said" = yes ] && [ "$mech" = tracepoint ] && [ "$drc" -ne 0 ]; then
		why+=" tracepoint said yes, but --dry-run -a tracepoint exited $drc"
	fi
	mechs+=" $mech $said (dry run $drc)"
done
if [ -n "$why" ]; then
	fail version "$why: $(echo "$out" | tr '\n' ';')"
else
	pass version "record version $record = NDJSON v, libbpf $libbpf = package,$mechs"
fi

# Without privileges: no probe, said so, still exit 0.
if id nobody > /dev/null 2>&1; then
	out=$(su nobody -s /bin/sh -c "'$RW' --version" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && echo "$out" | grep -qx 'attach: not probed (needs root, or CAP_BPF+CAP_PERFMON)' &&
	   ! echo "$out" | grep -q '^attach fentry'; then
		pass version/unprivileged "exit 0, mechanisms not probed, said so"
	else
		fail version/unprivileged "exit $rc: $(echo "$out" | tr '\n' ';')"
	fi
else
	skip version/unprivileged "no user nobody"
fi
