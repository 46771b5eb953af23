#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Copy dynamically linked host programs (stress-ng, fio) with every library
# they load into DIR, each file at its absolute path below DIR, for a guest
# that mounts DIR as /tools and links /usr, /lib64 and /lib/x86_64-linux-gnu
# to it (guest-init.sh). The guests run Debian's own kernels and this
# host's Debian 12 userspace, which those kernels run as is.
#   sysroot.sh DIR PROGRAM...
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: sysroot.sh DIR PROGRAM..." >&2; exit 64; }
dir=$1
shift
mkdir -p "$dir"

# copy FILE: FILE's content (symlinks followed) at DIR/FILE.
copy() {
	mkdir -p "$dir/$(dirname "$1")"
	cp -L "$1" "$dir/$1"
}

for p in "$@"; do
	path=$(command -v "$p") || { echo "sysroot.sh: no program $p" >&2; exit 1; }
	# Programs land under /usr/bin whatever their host path, so one PATH
	# entry finds them all.
	mkdir -p "$dir/usr/bin"
	cp -L "$path" "$dir/usr/bin/$(basename "$path")"
	# ldd prints "name => /path (addr)" and the loader as "/path (addr)".
	ldd "$path" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		while read -r lib; do
			copy "$lib"
		done
done
