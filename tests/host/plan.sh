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

err=$("$RW" --attach fentry -d 1 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 69 ] && echo "$err" | grep -q 'tried fentry __filemap_add_folio'; then
	pass plan/forced-fentry "exit 69"
else
	fail plan/forced-fentry "exit $rc: $err"
fi
