#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot one guest under qemu (TCG) and wait for it to stop.
#   boot.sh --kernel KDIR --initrd IMG --log FILE [--disk ext4|xfs|btrfs|f2fs|tmpfs]...
#           [--outdir DIR] [--append "rw.run=/opt/NAME rw.key=value"]
#           [--timeout SECONDS] [--tcg multi|single] [--tools DIR]
# Each --disk is a fresh 512M filesystem, in order vda, vdb..., but tmpfs,
# which takes no disk: the guest mounts a 512M one (rw.tmpfs=1). --tools adds a
# read-only ext4 disk holding DIR (sysroot.sh), which the guest mounts on
# /tools. --outdir adds an output disk and extracts the guest's /out into DIR.
# --tcg picks qemu's TCG threading (default: $RW_TCG, else single). Single:
# under thread=multi guests oopsed on code the kernel had just patched
# (README "Tests", "Guest oopses under multi-threaded TCG").
# Exit status: 97 if the console shows kernel trouble (oops, BUG, panic,
# lockup, RCU stall, WARNING splat; console-scan.sh's line goes to stderr),
# whatever the scenario's rc; else the scenario's rc from "RW-DONE rc=N",
# 124 on timeout, 98 if the guest stopped without that line.
set -euo pipefail

usage() {
	echo "usage: boot.sh --kernel KDIR --initrd IMG --log FILE [--disk ext4|xfs|btrfs|f2fs|tmpfs]..." \
	     "[--outdir DIR] [--append PARAMS] [--timeout SECONDS] [--tcg multi|single]" \
	     "[--tools DIR]" >&2
	exit 64
}
kdir='' initrd='' log='' outdir='' append='' timeout=300 tcg=${RW_TCG:-single} tools='' tmpfs=0
disks=()
while [ $# -ge 2 ]; do
	case $1 in
	--kernel) kdir=$2 ;;
	--initrd) initrd=$2 ;;
	--log) log=$2 ;;
	--disk) if [ "$2" = tmpfs ]; then tmpfs=1; else disks+=("$2"); fi ;;
	--outdir) outdir=$2 ;;
	--append) append=$2 ;;
	--timeout) timeout=$2 ;;
	--tcg) tcg=$2 ;;
	--tools) tools=$2 ;;
	*) usage ;;
	esac
	shift 2
done
if [ $# -ne 0 ] || [ -z "$kdir" ] || [ -z "$initrd" ] || [ -z "$log" ] ||
   { [ "$tcg" != multi ] && [ "$tcg" != single ]; }; then
	usage
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
drives=()
# oops=panic and panic=-1 with -no-reboot stop the guest at its first oops.
params="console=ttyS0 quiet panic=-1 oops=panic softlockup_panic=1 $append"
for fs in "${disks[@]}"; do
	img=$work/disk${#drives[@]}.img
	truncate -s 512M "$img"
	# One on-disk format that 5.10 fully supports, whatever the host's mkfs
	# defaults: 5.10 ignores ext4 orphan_file (5.15) and refuses xfs nrext64
	# (5.19); its xfs bigtime and inobtcount are EXPERIMENTAL.
	case $fs in
	ext4) mkfs.ext4 -q -F -O ^orphan_file "$img" ;;
	xfs) mkfs.xfs -q -f -m bigtime=0,inobtcount=0 -i nrext64=0 "$img" ;;
	# crc32c checksums, no-holes and the free-space tree: 5.10 knows them
	# all (block-group-tree, 6.1, is not a default of Debian 12's mkfs).
	btrfs) mkfs.btrfs -q -f --csum crc32c -O no-holes -R free-space-tree "$img" > /dev/null ;;
	# Debian 12's defaults: no compression, no extra attributes.
	f2fs) mkfs.f2fs -q -f "$img" > /dev/null ;;
	*) echo "boot.sh: unsupported filesystem '$fs'" >&2; exit 64 ;;
	esac
	drives+=(-drive "file=$img,format=raw,if=virtio")
done
[ ${#disks[@]} -eq 0 ] || params+=" rw.disks=$(IFS=,; echo "${disks[*]}")"
[ "$tmpfs" = 0 ] || params+=" rw.tmpfs=1"
if [ -n "$tools" ]; then
	# Room for the files plus ext4's metadata; -d copies DIR in at mkfs time.
	mb=$(( $(du -sm "$tools" | cut -f1) * 5 / 4 + 32 ))
	truncate -s "${mb}M" "$work/tools.img"
	mkfs.ext4 -q -F -O ^orphan_file -d "$tools" "$work/tools.img"
	drives+=(-drive "file=$work/tools.img,format=raw,if=virtio,readonly=on")
	params+=" rw.tools=1"
fi
if [ -n "$outdir" ]; then
	# Sparse: only what the guest writes takes room. 64M once ran out with
	# four filesystems' racewatch -v records.
	truncate -s 512M "$work/out.img"
	drives+=(-drive "file=$work/out.img,format=raw,if=virtio")
	params+=" rw.outdisk=1"
fi

# KVM hangs at "Booting from ROM" on these machines; TCG boots in seconds.
# A guest kernel that dies before /init runs (guest-init.sh prints RW-INIT
# first) never ran a line of racewatch or of the test: one boot in about 60
# died so, a double fault in __kmalloc_noprof at 0.68 s under a loaded host
# (README "Tests"). Such a boot is tried once more, and says so; trouble
# after RW-INIT fails the case at once.
for attempt in 1 2; do
	start=$SECONDS
	rc=0
	timeout "$timeout" qemu-system-x86_64 -accel "tcg,thread=$tcg" -cpu max -smp 2 -m 1024 \
		-nographic -no-reboot -nic none -kernel "$kdir/vmlinuz" -initrd "$initrd" \
		-append "$params" "${drives[@]}" < /dev/null 2>&1 | tr -d '\r' > "$log" || rc=$?
	echo "boot.sh: $(cat "$kdir/kver") guest ran $((SECONDS - start)) s (tcg $tcg)" >&2
	if trouble=$("$(dirname "$0")/console-scan.sh" "$log"); then
		break
	fi
	if [ "$attempt" -eq 1 ] && ! grep -aq 'RW-INIT' "$log"; then
		mv "$log" "$log.before-init"
		echo "boot.sh: the guest kernel died before /init ran, booting it again" \
		     "(first console: $log.before-init): $trouble" >&2
		continue
	fi
	echo "boot.sh: $trouble" >&2
	exit 97
done
[ "$rc" -ne 124 ] || exit 124

# Kernel messages may share the line, so match anywhere in it.
done_line=$(grep -ao 'RW-DONE rc=[0-9]*' "$log" | tail -1) || true
[ -n "$done_line" ] || exit 98
if [ -n "$outdir" ]; then
	mkdir -p "$outdir"
	tar -xmf "$work/out.img" -C "$outdir" || echo "boot.sh: the guest wrote no /out" >&2
fi
exit "${done_line#RW-DONE rc=}"
