#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages racewatch needs, only those missing.
#   install-deps.sh build   compiler, libbpf, bpftool, static libraries
#   install-deps.sh test    build + qemu, busybox, mkfs tools, the fuzzer runtime,
#                           jq and python3 (they check racewatch's NDJSON)
set -euo pipefail

build_pkgs=(make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev
	    linux-libc-dev)
# libclang-rt-dev: clang's libFuzzer and sanitizer runtimes (tests/fuzz);
# jq: tests/soak.sh, tests/host/overload.sh and tests/vm/overload.sh read
# JSON; python3: tests/host/escape.sh decodes NDJSON as strict UTF-8;
# stress-ng, fio, btrfs-progs: tests/workloads runs load nobody here wrote;
# f2fs-tools: the f2fs disks of the 6.x guests (tests/vm);
# time: GNU time, the load's rusage there and in bench/load.sh.
# dwarves (pahole), binutils (readelf): ext4 BTF for the 5.10 guests
# (tests/vm/ext4-btf.sh).
# trace-cmd, linux-perf: tests/host/trace-marker.sh reads racewatch's
# marker lines back with the tools users record ftrace with;
# python3-prometheus-client: tests/host/metrics.sh parses --metrics with
# the Prometheus client's parser (promtool comes out of the prometheus
# package without installing it: tests/host/promtool.sh); groff-base:
# tests/unit/install.sh renders the man page.
test_pkgs=(qemu-system-x86 busybox-static cpio kmod xz-utils e2fsprogs xfsprogs
	   util-linux apt libclang-rt-dev jq python3 stress-ng fio btrfs-progs f2fs-tools time
	   dwarves binutils trace-cmd linux-perf python3-prometheus-client groff-base)

case "${1:-build}" in
build) want=("${build_pkgs[@]}") ;;
test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "install-deps.sh: unknown set '$1' (build or test)" >&2; exit 64 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: missing packages: ${missing[*]}; run as root (sudo make ...)" >&2
	exit 77
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Package lists on a fresh machine may be stale or absent: refresh once on failure.
apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
	{ apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
