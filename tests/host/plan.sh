#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The attach plan on this machine: fentry does not load (lockdown) and there
# are no kprobes, so every role must fall back to its tracepoint form, and
# forcing fentry must fail naming what was tried.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

plan=$("$RW" --dry-run 2>&1)
if echo "$plan" | grep -qE 'page-cache insert +-> filemap:mm_filemap_add_to_page_cache +-> tracepoint' &&
   echo "$plan" | grep -qE 'invalidation +-> derived from fallocate/truncate arguments +-> tracepoint' &&
   echo "$plan" | grep -qE 'fallocate +-> syscalls:sys_enter_fallocate +-> tracepoint'; then
	pass plan/auto "tracepoint mode"
else
	fail plan/auto "unexpected plan: $plan"
fi

# No hook sees a tmpfs insert here (only fentry and kprobes could): the
# plan's row says why, after what it tried, and so does one warning at start.
plan=$("$RW" --dry-run -v 2>&1)
warned=$("$RW" -d 1 2>&1 >/dev/null | grep -c '^racewatch: warning: running without tmpfs/shmem insert: tracepoint shmem_add_to_page_cache: fires no filemap:mm_filemap_add_to_page_cache')
if echo "$plan" | grep -qE '^  tmpfs/shmem insert +-> \(none\) +-> not covered$' &&
   echo "$plan" | grep -qE '^ +tried: fentry shmem_add_to_page_cache \(.*\); kprobe shmem_add_to_page_cache \(.*\); tracepoint shmem_add_to_page_cache \(fires no filemap:mm_filemap_add_to_page_cache; tmpfs is not watched\)$' &&
   [ "$warned" = 1 ]; then
	pass plan/tmpfs "uncovered, said once at start"
else
	fail plan/tmpfs "start-up warnings: $warned; plan: $plan"
fi

err=$("$RW" --attach fentry -d 1 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 69 ] && echo "$err" | grep -q 'tried fentry __filemap_add_folio'; then
	pass plan/forced-fentry "exit 69"
else
	fail plan/forced-fentry "exit $rc: $err"
fi

# Every role as it really served after attaching (the summary's plan, where
# a failed attach says mech none), against the expected plan of this
# kernel release. xfs must be loaded for its tracepoint to exist.
release=$(uname -r | grep -oE '^[0-9]+\.[0-9]+')
want=$(dirname "$0")/plans/$release.plan
if [ ! -f "$want" ]; then
	skip plan/served "no expected plan for Linux $release (tests/host/plans/$release.plan)"
else
	modprobe -q xfs 2> /dev/null
	got=$("$RW" -d 1 --json 2> /dev/null | jq -r -f "$(dirname "$0")/../plan-rows.jq")
	diff=$(diff <(echo "$got") "$want" | sed -n 's/^< /got: /p; s/^> /want: /p' | tr '\n' ';')
	if [ -z "$diff" ]; then
		pass plan/served "$(grep -c . "$want") roles as in tests/host/plans/$release.plan"
	else
		fail plan/served "$diff"
	fi
fi
