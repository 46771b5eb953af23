#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build a guest initramfs: static busybox, /init (guest-init.sh), the
# modules the guests need with /lib/modules/load-order, and each FILE in /opt.
#   initramfs.sh KDIR OUT.cpio.gz [FILE...]
# KDIR is a directory printed by kernel.sh.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: initramfs.sh KDIR OUT.cpio.gz [FILE...]" >&2; exit 64; }
kdir=$1 out=$2
shift 2
kver=$(cat "$kdir/kver")
mods=$kdir/lib/modules/$kver
# crc32c_generic is a soft dependency modules.dep does not list; jbd2, ext4,
# xfs and btrfs need it loaded first. btrfs's other soft dependencies
# (xxhash64, sha256, blake2b) serve checksums that mkfs does not choose.
# f2fs's compression modules are hard dependencies, in modules.dep; its
# superblock checksum asks the crypto API for "crc32" (crc32_generic), and
# without it mount fails with ENOENT.
wanted=(crc32c_generic crc32_generic virtio_pci virtio_blk ext4 xfs btrfs f2fs loop)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,mnt,opt,lib/modules}

# Depth first over modules.dep: every dependency before its user.
declare -A seen=()
order=()
visit() {
	local dep
	[ -z "${seen[$1]:-}" ] || return 0
	seen[$1]=1
	for dep in $(grep "^$1:" "$mods/modules.dep" | cut -d: -f2); do
		visit "$dep"
	done
	order+=("$1")
}
for m in "${wanted[@]}"; do
	rel=$(grep -oE "^[^:]*/$m\.ko:" "$mods/modules.dep" | tr -d :) || true
	if [ -n "$rel" ]; then
		visit "$rel"
	elif ! grep -qE "/$m\.ko$" "$mods/modules.builtin"; then
		echo "initramfs.sh: $kver has no module $m" >&2
		exit 1
	fi
done
for rel in "${order[@]}"; do
	mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
	cp "$mods/$rel" "$root/lib/modules/$kver/$rel"
	echo "$kver/$rel"
done > "$root/lib/modules/load-order"

cp /bin/busybox "$root/bin/busybox"
cp "$(dirname "$0")/guest-init.sh" "$root/init"
for f in "$@"; do
	cp "$f" "$root/opt/"
done
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet | gzip) > "$out"
