# SPDX-License-Identifier: GPL-2.0
# Sourced by the guest scenarios (busybox sh): initramfs.sh puts it in /opt
# beside them.

# start_racewatch OUT ERR ARGS...: racewatch in the background, once it is
# attached (its "watching" line; 60 s at most, TCG is slow). Sets rw.
start_racewatch() {
	local out=$1 err=$2 tries=0
	shift 2
	/opt/racewatch "$@" > "$out" 2> "$err" &
	rw=$!
	until grep -q '^racewatch: watching' "$err"; do
		if ! kill -0 $rw 2>/dev/null || [ $tries -ge 600 ]; then
			echo "scenario: racewatch did not start:"
			cat "$err"
			return 1
		fi
		tries=$((tries + 1))
		sleep 0.1
	done
}
