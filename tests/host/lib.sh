# SPDX-License-Identifier: GPL-2.0
# Shared helpers for host tests: verdict lines and loop filesystems.

RW=${RW:-$(realpath "$(dirname "${BASH_SOURCE[0]}")/../../build/racewatch")}
RACEGEN=${RACEGEN:-$(realpath "$(dirname "${BASH_SOURCE[0]}")/../../build/racegen")}
RACEMATCH=${RACEMATCH:-$(realpath "$(dirname "${BASH_SOURCE[0]}")/../../build/racematch")}

pass() { echo "PASS host/$1${2:+: $2}"; }
fail() { echo "FAIL host/$1: $2"; }
skip() { echo "SKIP host/$1: $2"; }

# mkfs_mount FSTYPE DIR [SIZE]: a fresh loop filesystem (default 512M)
# mounted at DIR/mnt.
mkfs_mount() {
	local fs=$1 dir=$2
	truncate -s "${3:-512M}" "$dir/$fs.img" || return 1
	case $fs in
	ext4) mkfs.ext4 -q -F "$dir/$fs.img" ;;
	xfs) mkfs.xfs -q -f "$dir/$fs.img" ;;
	# mkfs.btrfs prints a NOTE on stdout even with -q: keep it off the
	# test's output.
	btrfs) mkfs.btrfs -q -f "$dir/$fs.img" >&2 ;;
	*) echo "mkfs_mount: no recipe for $fs" >&2; false ;;
	esac || return 1
	mkdir -p "$dir/mnt"
	mount -o loop "$dir/$fs.img" "$dir/mnt"
}

# wait_line FILE REGEX [SECONDS]: until a line of FILE matches while
# racewatch ($RWPID) runs; fails when it exits first or after SECONDS
# (default 30: a hang guard, not a timing assertion).
wait_line() {
	for _ in $(seq $((${3:-30} * 10))); do
		grep -qE "$2" "$1" && return 0
		kill -0 "$RWPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Start racewatch in the background and wait until it is attached.
# start_racewatch OUT ERR ARGS...; sets RWPID.
start_racewatch() {
	local out=$1 err=$2
	shift 2
	# Empty it first: the child truncates it only after fork, and a wait
	# that saw the last run's "watching" would go on before this one.
	: > "$err"
	"$RW" "$@" > "$out" 2> "$err" &
	RWPID=$!
	wait_line "$err" '^racewatch: watching'
}

# watched_scratch: a scratch directory in $tmp for one loop filesystem at
# $tmp/mnt and one racewatch ($RWPID); at exit racewatch is stopped, the
# filesystem unmounted and the directory removed.
watched_scratch() {
	tmp=$(mktemp -d)
	RWPID=
	trap watched_scratch_cleanup EXIT
}
watched_scratch_cleanup() {
	[ -n "$RWPID" ] && kill -INT "$RWPID" 2>/dev/null && wait "$RWPID"
	umount "$tmp/mnt" 2>/dev/null
	rm -rf "$tmp"
}

# watch_racegen NAME TMP DEV RACEGEN-ARGS...: racegen under racewatch
# (--json --dev DEV), then SIGINT. Leaves TMP/gen.json and TMP/rw.json;
# prints the FAIL line and returns 1 when either tool failed.
watch_racegen() {
	local name=$1 tmp=$2 dev=$3 genrc rwrc
	shift 3
	if ! start_racewatch "$tmp/rw.json" "$tmp/rw.err" --json --dev "$dev"; then
		fail "$name" "racewatch did not start: $(head -c 300 "$tmp/rw.err")"
		return 1
	fi
	"$RACEGEN" "$@" > "$tmp/gen.json" 2> "$tmp/gen.err"
	genrc=$?
	kill -INT "$RWPID"
	wait "$RWPID"
	rwrc=$?
	RWPID=
	if [ "$genrc" -ne 0 ]; then
		fail "$name" "racegen failed ($genrc): $(head -c 300 "$tmp/gen.err")"
		return 1
	fi
	if [ "$rwrc" -ne 0 ] || grep -q 'WARNING' "$tmp/rw.err"; then
		fail "$name" "racewatch exit $rwrc: $(head -c 300 "$tmp/rw.err")"
		return 1
	fi
}
