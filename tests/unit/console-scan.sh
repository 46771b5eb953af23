#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/vm/console-scan.sh, the guest console scanner boot.sh relies on,
# against hand-written console logs in fixtures/console: exit status and the
# exact line it prints.
set -uo pipefail
cd "$(dirname "$0")/fixtures/console"
scan=../../../vm/console-scan.sh

# check NAME EXIT EXPECTED-STDOUT
check() {
	local name=$1 want=$2 line=$3 out got
	out=$("$scan" "$name.log")
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL unit/console-scan/$name: exit $got, want $want ($out)"
	elif [ "$out" != "$line" ]; then
		echo "FAIL unit/console-scan/$name: printed '$out', want '$line'"
	else
		echo "PASS unit/console-scan/$name"
	fi
}

check oops 1 "guest kernel oops: BUG: kernel NULL pointer dereference, address: 0000000000000000 | RIP: 0010:0x0"
check warning 1 "guest kernel warning: WARNING: CPU: 0 PID: 88 at kernel/trace/rethook.c:302 rethook_trampoline_handler+0x9a/0xb0 | RIP: 0010:rethook_trampoline_handler+0x9a/0xb0"
check lockup 1 "guest kernel soft lockup: watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [racewatch:140] | RIP: 0010:smp_call_function_many_cond+0x120/0x370"
check rcu 1 "guest kernel RCU stall: rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"
check panic 1 "guest kernel panic: Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"
check clean 0 ""
