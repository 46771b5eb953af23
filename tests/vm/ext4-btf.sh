#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# BTF for the ext4 module of a prepared kernel that ships none (Debian's
# 5.10), for racewatch --btf-dir: pahole reads the DWARF of ext4.ko in
# Debian's debug package for that kernel. Prints the directory that holds
# ext4.btf; a second run only prints it.
#   ext4-btf.sh SERIES KDIR      (KDIR: printed by kernel.sh SERIES)
# Exit status 75 when the download fails (no network or mirror).
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: ext4-btf.sh SERIES KDIR" >&2; exit 64; }
series=$1 kdir=$2
repo=$(realpath "$(dirname "$0")/../..")
kver=$(cat "$kdir/kver")
dir=$(realpath -m "$kdir/../btf-$kver")
[ -s "$dir/ext4.btf" ] && { echo "$dir"; exit 0; }
mkdir -p "$(dirname "$dir")"
exec 9> "$dir.lock"
flock 9
[ -s "$dir/ext4.btf" ] && { echo "$dir"; exit 0; }

tmp=$(mktemp -d "$dir.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
. "$repo/tests/vm/debian-archive.sh"
archive_apt "$series" "$tmp" || exit
# The debug package of exactly this image: 800 MB, read once per cache.
pkg=linux-image-$kver-dbg
echo "ext4-btf.sh: preparing $pkg" >&2
(cd "$tmp" && apt-get "${apt[@]}" download "$pkg") >&2 || exit 75
# Only ext4.ko's debug file; tar stops once it has it.
debug=./usr/lib/debug/lib/modules/$kver/kernel/fs/ext4/ext4.ko
dpkg-deb --fsys-tarfile "$tmp"/*.deb 2> /dev/null | tar -x -C "$tmp" --occurrence=1 "$debug" || true
[ -s "$tmp/$debug" ] || { echo "ext4-btf.sh: $pkg has no $debug" >&2; exit 1; }

# The debug file must be the one the guest loads: the same build ID.
build_id() { readelf -n "$1" | awk '/Build ID/ { print $3 }'; }
ko=$(find "$kdir/lib/modules/$kver" -name ext4.ko | head -1)
want=$(build_id "$ko") got=$(build_id "$tmp/$debug")
if [ -z "$want" ] || [ "$want" != "$got" ]; then
	echo "ext4-btf.sh: $pkg's ext4.ko (build ID ${got:-none}) is not the guest's (${want:-none})" >&2
	exit 1
fi
mkdir "$tmp/out"
pahole --btf_encode_detached="$tmp/out/ext4.btf" "$tmp/$debug" >&2
rm -rf "$dir"
mv -T "$tmp/out" "$dir"
echo "$dir"
