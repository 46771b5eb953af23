#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Experiment, not part of make check: boot a guest that attaches and detaches
# probes on truncate_inode_pages_range in a loop while short-lived processes
# exit (scenarios/attach-churn.sh), and count the boots whose kernel oopsed.
#   attach-churn.sh [--kernel 5.10|6.1|6.12] [--probe racewatch|pair|kprobe|kretprobe|none]
#                   [--tcg multi|single] [--cycles N] [--hold SECONDS] [--boots N]
# One line per boot, then "TOTAL kernel probe tcg: K oopsed of B boots, C cycles".
# Each boot stops at its first oops (oops=panic); its console log is kept
# under build/churn/. Needs build/racewatch for --probe racewatch.
set -euo pipefail
here=$(realpath "$(dirname "$0")")
repo=$(realpath "$here/../..")
ver=6.1 probe=pair tcg=multi cycles=200 hold=0.2 boots=1
while [ $# -ge 2 ]; do
	case $1 in
	--kernel) ver=$2 ;;
	--probe) probe=$2 ;;
	--tcg) tcg=$2 ;;
	--cycles) cycles=$2 ;;
	--hold) hold=$2 ;;
	--boots) boots=$2 ;;
	*) echo "usage: see the head of $0" >&2; exit 64 ;;
	esac
	shift 2
done
[ $# -eq 0 ] || { echo "usage: see the head of $0" >&2; exit 64; }

kdir=$("$here/kernel.sh" "$ver")
dir=$repo/build/churn/$ver-$probe-$tcg
mkdir -p "$dir"
"$here/initramfs.sh" "$kdir" "$dir/initrd.gz" "$repo/build/racewatch" \
	"$here/scenarios/attach-churn.sh" > /dev/null
oopsed=0 total=0
for b in $(seq 1 "$boots"); do
	log=$dir/console-$b.log
	rc=0
	"$here/boot.sh" --kernel "$kdir" --initrd "$dir/initrd.gz" --tcg "$tcg" --timeout 600 \
		--log "$log" --append "rw.run=/opt/attach-churn.sh rw.probe=$probe rw.cycles=$cycles rw.hold=$hold" \
		2> "$dir/boot-$b.err" || rc=$?
	done_n=$(grep -ao 'CHURN: done cycles=[0-9]*' "$log" | grep -o '[0-9]*$') ||
		done_n=$(grep -ao 'CHURN: cycle [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$') || done_n=0
	total=$((total + done_n))
	if [ "$rc" -eq 97 ]; then
		oopsed=$((oopsed + 1))
		echo "boot $b: status 97 after about $done_n cycles: $("$here/console-scan.sh" "$log")"
	else
		echo "boot $b: status $rc, $done_n cycles, no kernel trouble"
	fi
done
echo "TOTAL $ver $probe tcg=$tcg: $oopsed oopsed of $boots boots, $total cycles"
