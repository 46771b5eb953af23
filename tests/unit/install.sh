#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make install and the man page: both files land under DESTDIR/PREFIX with
# their modes, the binary is the one built, the page renders without a
# groff warning, it has an entry for every long option of --help and no
# other, and make uninstall removes both.
set -uo pipefail
repo=$(realpath "$(dirname "$0")/../..")
pass() { echo "PASS unit-tools/$1${2:+: $2}"; }
fail() { echo "FAIL unit-tools/$1: $2"; }
skip() { echo "SKIP unit-tools/$1: $2"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
man=$repo/src/racewatch.8
sanitize=${RW_SANITIZE:-}

if ! make -s -C "$repo" install DESTDIR="$tmp" PREFIX=/usr SANITIZE="$sanitize" > "$tmp/make.out" 2>&1; then
	fail install "make install failed: $(tail -3 "$tmp/make.out" | tr '\n' ' ')"
else
	bin=$tmp/usr/sbin/racewatch page=$tmp/usr/share/man/man8/racewatch.8
	modes="$(stat -c %a "$bin" 2> /dev/null) $(stat -c %a "$page" 2> /dev/null)"
	if [ "$modes" != "755 644" ]; then
		fail install "want sbin/racewatch 755 and man8/racewatch.8 644, got '$modes'"
	elif ! cmp -s "$bin" "$RW" || ! cmp -s "$page" "$man"; then
		fail install "the installed files are not the built ones"
	elif ! make -s -C "$repo" uninstall DESTDIR="$tmp" PREFIX=/usr SANITIZE="$sanitize" > /dev/null 2>&1 ||
	     [ -e "$bin" ] || [ -e "$page" ]; then
		fail install "make uninstall left $(ls "$bin" "$page" 2> /dev/null | tr '\n' ' ')"
	else
		pass install "DESTDIR/usr/sbin/racewatch 755, man8/racewatch.8 644, the built files; uninstall removes both"
	fi
fi

if ! command -v groff > /dev/null; then
	skip man-page "groff not installed"
	exit 0
fi
warnings=$(groff -man -ww -z "$man" 2>&1)
rendered=$(groff -man -Tutf8 "$man" 2> /dev/null | grep -c 'racewatch - watch the page cache')
help=$("$RW" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | sort -u)
# Entries are the .TP lines that follow: \-\-name or .BI \-\-name= ...
entries=$(awk '/^\.TP/ { getline; print }' "$man" | grep -oE '\\-\\-[a-z][a-z\\-]*' |
	sed 's/\\-/-/g' | sort -u)
missing=$(comm -23 <(echo "$help") <(echo "$entries") | tr '\n' ' ')
extra=$(comm -13 <(echo "$help") <(echo "$entries") | tr '\n' ' ')
if [ -n "$warnings" ]; then
	fail man-page "groff warns: $(echo "$warnings" | head -3 | tr '\n' ' ')"
elif [ "$rendered" -ne 1 ]; then
	fail man-page "the NAME line did not render"
elif [ -n "$missing$extra" ]; then
	fail man-page "--help options without an entry: ${missing:-none}; entries not in --help: ${extra:-none}"
else
	pass man-page "renders without warnings; $(echo "$help" | wc -l) long options, each with an entry"
fi
