# SPDX-License-Identifier: GPL-2.0
# Sourced by the guest scenarios (busybox sh): initramfs.sh puts it in /opt
# beside them.

# ext4 BTF that the host made for a kernel without module BTF
# (tests/vm/ext4-btf.sh): racewatch reads i_mmap_sem's holder with it.
[ -s /opt/ext4.btf ] && btf_dir="--btf-dir /opt" || btf_dir=

# start_racewatch OUT ERR ARGS...: racewatch in the background, once it is
# attached (its "watching" line). Sets rw. 180 s at most: a 5.10 kprobe
# start takes about 30 s under TCG, and a CI run of the 5.10 overload case
# with a third guest beside the layer's two timed out at 60 s.
start_racewatch() {
	local out=$1 err=$2 tries=0
	shift 2
	/opt/racewatch "$@" > "$out" 2> "$err" &
	rw=$!
	until grep -qs '^racewatch: watching' "$err"; do
		if ! kill -0 $rw 2>/dev/null; then
			wait $rw
			echo "scenario: racewatch did not start (exit $?):"
			cat "$err"
			return 1
		elif [ $tries -ge 1800 ]; then
			echo "scenario: racewatch did not attach in 180 s:"
			cat "$err"
			return 1
		fi
		tries=$((tries + 1))
		sleep 0.1
	done
}

# run_roles ATTACH FSLIST: the role matrix's sequence on each filesystem,
# each under a racewatch of its own (tests/roles-trace.sh), before the
# scenario's racewatch starts, so that nothing else mixes into its counts.
# Leaves /out/roles-FS/ and /out/roles-FS.{rc,err} for the host.
run_roles() {
	local fs
	for fs in $(echo "$2" | tr , ' '); do
		sh /opt/roles-trace.sh /sys/kernel/tracing "/out/roles-$fs" /opt/racewatch \
			/opt/rolegen "$fs" "/mnt/$fs/roles.dat" --attach "$1" 2> "/out/roles-$fs.err"
		echo $? > "/out/roles-$fs.rc"
	done
}
