#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian's kernel of one series and prepare it for the guests; print
# the prepared directory: vmlinuz, kver, lib/modules/KVER with plain .ko
# files and modules.dep. A second run only prints the path.
#   kernel.sh 5.10|6.1|6.12
# Exit status 75 when the download fails (no network or mirror).
set -euo pipefail

series=${1:-}
case $series in
5.10|6.1|6.12) ;;
*) echo "usage: kernel.sh 5.10|6.1|6.12" >&2; exit 64 ;;
esac

# The tools it needs (apt, dpkg-deb, depmod, xz) come with `make check`
# (tools/install-deps.sh test).
repo=$(realpath "$(dirname "$0")/../..")
cache=${RW_CACHE:-$repo/.cache/vm}
dir=$(realpath -m "$cache/kernel-$series")
prepared() {
	[ -s "$dir/vmlinuz" ] && [ -s "$dir/kver" ] &&
		[ -s "$dir/lib/modules/$(cat "$dir/kver")/modules.dep" ]
}
if prepared; then
	echo "$dir"
	exit 0
fi
# The VM layer boots two guests at once (tests/vm/run.sh): one prepares a
# series while the other waits for it, and then finds it prepared, instead
# of replacing the directory under a running guest.
mkdir -p "$cache"
exec 9> "$cache/.kernel-$series.lock"
flock 9
if prepared; then
	echo "$dir"
	exit 0
fi

# Prepare beside the final directory and rename it into place when complete,
# so an interrupted run never leaves a directory that looks prepared.
tmp=$(mktemp -d "$cache/.kernel-$series.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
. "$repo/tests/vm/debian-archive.sh"
archive_apt "$series" "$tmp" || exit

# Versions move: the newest linux-image-amd64 of the series names the image.
pkg=$(apt-cache "${apt[@]}" show linux-image-amd64 | awk -v s="$series." '
	/^Version:/ { ok = index($2, s) == 1; v = $2 }
	ok && /^Depends:/ { sub(/,$/, "", $2); print v, $2 }' |
	sort -V | tail -1 | cut -d' ' -f2)
[ -n "$pkg" ] || { echo "kernel.sh: no linux-image-amd64 $series.* in: $(cat "$tmp/apt/sources.list")" >&2; exit 1; }
echo "kernel.sh: preparing $pkg" >&2
(cd "$tmp" && apt-get "${apt[@]}" download "$pkg") >&2 || exit 75

# Extract only what the guests use, a fifth of the package: vmlinuz and the
# module trees they load from (filesystems, block, virtio, and the crc
# helpers in lib/ and crypto/). Writing the rest took 4 s.
out=$tmp/out
mkdir "$out"
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$out" --wildcards './boot/vmlinuz-*' \
	'./lib/modules/*/modules.order' './lib/modules/*/modules.builtin*' \
	'./lib/modules/*/kernel/'{fs,drivers/block,drivers/virtio,lib,crypto}
kver=$(ls "$out/lib/modules")
mv "$out/boot/vmlinuz-$kver" "$out/vmlinuz"
rmdir "$out/boot"
echo "$kver" > "$out/kver"
# 6.12 ships .ko.xz; busybox insmod wants plain modules.
find "$out" -name '*.ko.xz' -print0 | xargs -0 -r -P "$(nproc)" -n 64 xz -d
# The .deb ships no modules.dep.
depmod -b "$out" "$kver"

rm -rf "$dir"
mv -T "$out" "$dir"
echo "$dir"
