# SPDX-License-Identifier: GPL-2.0
# Shared by the VM cases (run.sh, overload.sh, workloads.sh): get a kernel,
# boot a guest, and name what went wrong in one line.
here=${here:-$(realpath "$(dirname "${BASH_SOURCE[0]}")")}
repo=${repo:-$(realpath "$here/../..")}

# vm_kernel SERIES DIR: prints the kernel directory (kernel.sh). Status 75
# when it cannot be downloaded (a SKIP), other non-zero for a failure; the
# reason is the last line of DIR/kernel.err.
vm_kernel() {
	"$here/kernel.sh" "$1" 2> "$2/kernel.err"
}

# vm_ext4_btf SERIES KDIR DIR: on 5.10, whose ext4 module has no BTF,
# prints the ext4.btf (ext4-btf.sh) that the guest's racewatch reads
# i_mmap_sem's holder with (--btf-dir); nothing for other series. Status as
# ext4-btf.sh's, its stderr in DIR/ext4-btf.err.
vm_ext4_btf() {
	local d
	[ "$1" = 5.10 ] || return 0
	d=$("$here/ext4-btf.sh" "$1" "$2" 2> "$3/ext4-btf.err") || return
	echo "$d/ext4.btf"
}

# vm_step_said NAME RC WHAT STEP ERR: a download step's status RC as the
# case's line, with the caller's skip and fail: 75 a SKIP (WHAT could not be
# downloaded), other non-zero a FAIL of STEP, each with ERR's last line.
# Returns 0 only for 0.
vm_step_said() {
	local name=$1 rc=$2 what=$3 step=$4 err=$5
	if [ "$rc" -eq 75 ]; then
		skip "$name" "cannot download Debian's $what (network?): $(tail -1 "$err")"
	elif [ "$rc" -ne 0 ]; then
		fail "$name" "$step: $(tail -1 "$err")"
	fi
	[ "$rc" -eq 0 ]
}

# vm_case_kernel NAME SERIES DIR: sets kdir to the kernel directory; else
# prints the case's SKIP or FAIL line (vm_step_said) and returns 1.
vm_case_kernel() {
	local rc=0
	kdir=$(vm_kernel "$2" "$3") || rc=$?
	vm_step_said "$1" "$rc" "$2 kernel" "kernel.sh $2" "$3/kernel.err"
}

# vm_case_btf NAME SERIES DIR: after vm_case_kernel, sets btf to the
# ext4.btf to give the guest (vm_ext4_btf), empty where none is needed;
# else prints the case's SKIP or FAIL line and returns 1.
vm_case_btf() {
	local rc=0
	btf=$(vm_ext4_btf "$2" "$kdir" "$3") || rc=$?
	vm_step_said "$1" "$rc" "$2 debug package" "ext4-btf.sh $2" "$3/ext4-btf.err"
}

# vm_boot DIR KDIR BOOT.SH-ARGS...: boots a guest with its console in
# DIR/console.log and /out in DIR/out. Prints nothing and returns 0 when
# the scenario exited 0; else prints why in one line and returns 1.
# boot.sh gives 97 for any oops, lockup, panic or WARNING in the console,
# even if the scenario passed: that is named, never a bare status.
vm_boot() {
	local dir=$1 kdir=$2 rc=0
	shift 2
	"$here/boot.sh" --kernel "$kdir" --log "$dir/console.log" --outdir "$dir/out" "$@" || rc=$?
	if [ "$rc" -eq 97 ]; then
		echo "$("$here/console-scan.sh" "$dir/console.log") (log: $dir/console.log)"
	elif [ "$rc" -ne 0 ]; then
		echo "guest failed (status $rc): $(grep -a -E '^[a-z]+: |RW-DONE|racewatch:|racegen:' \
			"$dir/console.log" | tail -5 | tr '\n' ' ')"
	fi
	[ "$rc" -eq 0 ]
}

# vm_plan_mismatch SERIES ATTACH RACEWATCH.JSON: the roles that really
# served (the summary's plan, as it stood after attaching: a role whose
# attach failed says mech none) against tests/vm/plans/SERIES-ATTACH.plan,
# one "role -> symbol -> mechanism" line each. Prints nothing when they
# match, else the differing lines in one line. On 6.1 a fentry attach once
# failed and dropped xfs block free while every check passed.
vm_plan_mismatch() {
	local want=$here/plans/$1-$2.plan got
	if [ ! -f "$want" ]; then
		echo "no expected plan $want"
		return
	fi
	got=$(jq -r -f "$here/../plan-rows.jq" "$3")
	diff <(echo "$got") "$want" | sed -n 's/^< /got: /p; s/^> /want: /p' | head -6 | tr '\n' ';'
}

# vm_roles NAME OUT FSLIST: the role matrix's verdict lines, one per
# filesystem, from what scenarios ran through tests/roles-trace.sh into
# OUT/roles-FS (tests/roles-judge.sh). Uses the caller's pass and fail.
vm_roles() {
	local name=$1 out=$2 fs row
	for fs in ${3//,/ }; do
		if [ "$(cat "$out/roles-$fs.rc" 2> /dev/null)" != 0 ]; then
			fail "$name/roles/$fs" "the sequence did not run: $(head -c 300 "$out/roles-$fs.err" 2> /dev/null)"
		elif row=$("$repo/tests/roles-judge.sh" "$out/roles-$fs" "$fs" "$fs"); then
			pass "$name/roles/$fs" "$row"
		else
			fail "$name/roles/$fs" "$row"
		fi
	done
}
