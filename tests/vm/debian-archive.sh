# SPDX-License-Identifier: GPL-2.0
# Sourced by kernel.sh and ext4-btf.sh: an apt of our own over Debian's
# archive for one kernel series, in a directory of the caller's, read from
# the machine's own apt sources (never a host name here).
#   archive_apt SERIES DIR: sets the array apt (apt-get/apt-cache options)
#   and runs apt-get update; returns 75 when the archive cannot be reached.
# RW_APT_SOURCES overrides the files read (tests).

# The URI that serves SUITE in the apt sources (deb822 or one-line format).
mirror_for() {
	local suite=$1 f
	for f in ${RW_APT_SOURCES:-/etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list}; do
		[ -r "$f" ] || continue
		awk -v want="$suite" '
			/^[[:space:]]*#/ { next }
			/^deb[[:space:]]/ {
				i = 2
				# Skip "[arch=... signed-by=...]" options.
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == want) { print $i; exit }
				next
			}
			/^URIs:/ { uri = $2 }
			/^Suites:/ { for (j = 2; j <= NF; j++) if ($j == want && uri != "") { print uri; exit } }
			/^$/ { uri = "" }' "$f"
	done | head -1
}

archive_apt() {
	local series=$1 dir=$2 main security sources
	# The archive is the URI that serves "bookworm", the security archive
	# the one that serves "bookworm-security".
	main=$(mirror_for bookworm)
	security=$(mirror_for bookworm-security)
	if [ -z "$main" ]; then
		echo "$(basename "$0"): no apt source serves bookworm; cannot locate a Debian mirror" >&2
		return 75
	fi
	# bullseye and bookworm-backports are not in the machine's apt sources,
	# but the archive that serves bookworm serves them too.
	case $series in
	5.10) sources="deb $main bullseye main" ;;
	6.1) sources="deb $main bookworm main${security:+
deb $security bookworm-security main}" ;;
	6.12) sources="deb $main bookworm-backports main" ;;
	esac
	mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial"
	echo "$sources" > "$dir/apt/sources.list"
	apt=(-qq -o APT::Sandbox::User=root -o Dir::Etc::sourceparts=-
	     -o "Dir::Etc::sourcelist=$dir/apt/sources.list"
	     -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache")
	apt-get "${apt[@]}" -o APT::Update::Error-Mode=any update >&2 || return 75
}
