#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Bad input gets one line on stderr and its documented exit code.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME CODE PATTERN CMD...: exit code CODE, exactly one stderr line
# matching PATTERN, nothing on stdout.
expect() {
	local name=$1 code=$2 pattern=$3 rc lines
	shift 3
	"$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	lines=$(wc -l < "$tmp/err")
	if [ "$rc" -ne "$code" ]; then
		fail "$name" "exit $rc, want $code; stderr: $(head -c 300 "$tmp/err")"
	elif [ "$lines" -ne 1 ] || ! grep -qE "$pattern" "$tmp/err"; then
		fail "$name" "want one stderr line matching '$pattern', got $lines: $(head -c 300 "$tmp/err")"
	elif [ -s "$tmp/out" ]; then
		fail "$name" "diagnostics leaked to stdout: $(head -c 200 "$tmp/out")"
	else
		pass "$name" "exit $code"
	fi
}

expect errors/bad-duration 64 "^racewatch: invalid --duration 'soon'" "$RW" -d soon
expect errors/bad-attach 64 "^racewatch: invalid --attach 'ebpf'" "$RW" --attach ebpf
expect errors/unknown-option 64 "^racewatch: unrecognized .*'--frobnicate'" "$RW" --frobnicate
expect errors/missing-path 64 "cannot stat --path" "$RW" --path /nonexistent/file
expect errors/btf-dir-missing 64 "^racewatch: invalid --btf-dir '/nonexistent/btf': not a directory" \
	"$RW" --btf-dir /nonexistent/btf --dry-run
# On a kernel whose ext4 takes invalidate_lock (this host's), the BTF is
# not needed: one line says so, and the plan is printed as without it.
mkdir -p "$tmp/btf"
"$RW" --btf-dir "$tmp/btf" --dry-run > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] || ! grep -q "^attach plan" "$tmp/out"; then
	fail errors/btf-dir-not-needed "exit $rc, want 0 and the plan: $(head -c 300 "$tmp/err")"
elif grep -q invalidate_lock /sys/kernel/btf/vmlinux 2> /dev/null &&
	! grep -q "^racewatch: --btf-dir not used: ext4 here takes invalidate_lock" "$tmp/err"; then
	fail errors/btf-dir-not-needed "no line saying why: $(head -c 300 "$tmp/err")"
else
	pass errors/btf-dir-not-needed "$(head -1 "$tmp/err")"
fi

# racegen is the tests' own tool: argp's usage hint may follow its line.
"$RACEGEN" -d 0 --until-confirmed 1 "$tmp/gen.dat" > /dev/null 2> "$tmp/err"
rc=$?
if [ "$rc" -eq 64 ] && head -1 "$tmp/err" | grep -q "^racegen: --until-confirmed needs a --duration"; then
	pass errors/racegen-until-no-duration "exit 64"
else
	fail errors/racegen-until-no-duration "exit $rc, want 64; stderr: $(head -c 300 "$tmp/err")"
fi

# --until-confirmed on a kernel and filesystem that do not race: racegen
# must go on past its duration and still stop, at 4 durations.
"$RACEGEN" -d 1 --until-confirmed 1 -s 4 -R 32 "$tmp/gen.dat" > "$tmp/gen.json" 2> "$tmp/gen.err"
rc=$?
sum=$(grep '"type":"summary"' "$tmp/gen.json")
elapsed=$(echo "$sum" | grep -o '"elapsed_ns":[0-9]*' | cut -d: -f2)
confirmed=$(echo "$sum" | grep -o '"confirmed_iterations":[0-9]*' | cut -d: -f2)
if [ "$rc" -ne 0 ] || [ -z "$elapsed" ]; then
	fail errors/racegen-until-cap "racegen exited $rc: $(head -c 300 "$tmp/gen.err")"
elif [ "${confirmed:-0}" -eq 0 ] && [ "$elapsed" -lt 4000000000 ]; then
	fail errors/racegen-until-cap "no call raced, yet it stopped after $elapsed ns, before the 4 s cap"
else
	pass errors/racegen-until-cap "elapsed $elapsed ns, $confirmed confirmed"
fi

if "$RW" --help > "$tmp/help" 2>&1 && grep -q EXAMPLES "$tmp/help" && grep -q -- --fail-on-race "$tmp/help"; then
	pass errors/help
else
	fail errors/help "--help must exit 0 and show options and EXAMPLES"
fi

if [ "$(id -u)" -ne 0 ]; then
	skip errors/not-root "already not root: run as root to test the privilege checks"
	exit 0
fi

expect errors/not-root 77 "run as root or with CAP_BPF\+CAP_PERFMON" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$RW" -d 1

# No BTF: hide /sys/kernel/btf/vmlinux in a private mount namespace.
expect errors/no-btf 69 "kernel has no BTF" \
	unshare -m sh -c "mount --bind /dev/null /sys/kernel/btf/vmlinux && exec '$RW' -d 1"

# tracefs not mounted: tracepoint mode needs the syscall events.
expect errors/no-tracefs 69 "mount it yourself: mount -t tracefs nodev /sys/kernel/tracing" \
	unshare -m sh -c "umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null; exec '$RW' -d 1"
