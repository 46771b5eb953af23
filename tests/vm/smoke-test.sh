#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot each kernel of the matrix with an ext4 and an xfs disk and the smoke
# scenario; print one PASS/FAIL/SKIP line per kernel. Logs of failed boots
# are kept and named on stderr.
#   smoke-test.sh
set -euo pipefail

here=$(dirname "$0")
tmp=$(mktemp -d)
failed=0

# Prints why VER failed, or nothing.
check() {
	local ver=$1 d=$tmp/$1 kdir kver rc=0
	kdir=$("$here/kernel.sh" "$ver") || return $?
	kver=$(cat "$kdir/kver")
	mkdir -p "$d"
	"$here/initramfs.sh" "$kdir" "$d/initrd.gz" "$here/scenarios/smoke.sh" ||
		{ echo "initramfs.sh failed"; return; }
	"$here/boot.sh" --kernel "$kdir" --initrd "$d/initrd.gz" --disk ext4 --disk xfs \
		--outdir "$d/out" --append rw.run=/opt/smoke.sh --timeout 300 \
		--log "$d/console.log" || rc=$?
	case $rc in
	0) ;;
	97) "$here/console-scan.sh" "$d/console.log"; return ;;
	124) echo "timed out"; return ;;
	98) echo "guest stopped without RW-DONE"; return ;;
	*) echo "guest exited $rc: $(grep -aho 'RW-DONE.*' "$d/console.log")"; return ;;
	esac
	grep -aqF "SMOKE: kernel $kver" "$d/console.log" || { echo "kernel $kver did not run"; return; }
	grep -aqF "SMOKE: /mnt/ext4 ok" "$d/console.log" || { echo "ext4 did not work"; return; }
	grep -aqF "SMOKE: /mnt/xfs ok" "$d/console.log" || { echo "xfs did not work"; return; }
	[ "$(cat "$d/out/smoke.txt" 2>/dev/null)" = "$kver" ] || echo "/out/smoke.txt did not come back"
}

for ver in 5.10 6.1 6.12; do
	rc=0
	why=$(check "$ver") || rc=$?
	if [ "$rc" -eq 75 ]; then
		echo "SKIP vm-smoke $ver: cannot download Debian's $ver kernel (no network?)"
	elif [ "$rc" -ne 0 ]; then
		echo "FAIL vm-smoke $ver: kernel.sh exited $rc"
		failed=1
	elif [ -n "$why" ]; then
		echo "FAIL vm-smoke $ver: $why"
		echo "smoke-test.sh: console log in $tmp/$ver/console.log" >&2
		failed=1
	else
		echo "PASS vm-smoke $ver"
	fi
done
[ "$failed" -eq 1 ] || rm -rf "$tmp"
exit "$failed"
