#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# stress-ng's file stressors, all at once, one instance each, in MNT.
# stress-ng cannot count its invalidating calls, so racewatch's operation
# count is shown, not checked; the windows, losses and exit are.
#   stress.sh FS MNT
set -uo pipefail
. "$(dirname "$0")/lib.sh"

fs=$1 mnt=$2
name=$fs/stress-ng
command -v stress-ng > /dev/null || { skip "$name" "stress-ng is not installed"; exit 0; }
wl_case_begin

# Names as stress-ng 0.15 spells them: a renamed one would be an error.
stressors=(fpunch fallocate readahead iomix copy-file sendfile splice mmap)
for s in "${stressors[@]}"; do
	stress-ng --stressors | tr ' ' '\n' | grep -qx -- "$s" ||
		{ skip "$name" "this stress-ng has no $s stressor"; exit 0; }
done
if ! wl_start "$(user_dev "$mnt")"; then
	fail "$name" "racewatch did not start: $(head -c 300 "$RW_ERR")"
	exit 0
fi
# Sizes that fit a 1 GiB filesystem (the defaults are 1 GiB per worker);
# copy-file's floor is 128 MiB. --mmap-file: page-cache pages, not anon.
mkdir -p "$mnt/stress"
wl_load stress-ng --temp-path "$mnt/stress" -t "${WL_SECONDS}s" --metrics-brief \
	--yaml "$case_tmp/stress.yaml" \
	--fpunch 1 --fallocate 1 --fallocate-bytes 64m --readahead 1 --readahead-bytes 64m \
	--iomix 1 --iomix-bytes 64m --copy-file 1 --copy-file-bytes 128m \
	--sendfile 1 --splice 1 --mmap 1 --mmap-file --mmap-bytes 16m
wl_stop
wl_judge "$name" stress-ng "$fs"
rm -rf "$mnt/stress"
