#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the path of Debian's promtool, taken out of the prometheus package
# into .cache/promtool: installing the package would also start a
# Prometheus server, which a test machine does not want. apt downloads it
# from this machine's own sources. Exit status 75 when it cannot.
set -euo pipefail
repo=$(realpath "$(dirname "$0")/../..")
dir=$repo/.cache/promtool
if [ -x "$dir/promtool" ]; then
	echo "$dir/promtool"
	exit 0
fi
mkdir -p "$dir"
exec 9> "$dir/.lock"
flock 9
tmp=$(mktemp -d "$dir/.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download prometheus) > "$tmp/apt.log" 2>&1 ||
	{ echo "promtool.sh: apt-get download prometheus failed: $(tail -1 "$tmp/apt.log")" >&2; exit 75; }
dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$tmp" ./usr/bin/promtool
mv "$tmp/usr/bin/promtool" "$dir/promtool"
echo "$dir/promtool"
