#!/usr/bin/env bash
# Fetches the console's third-party files listed in VENDOR.txt from the npm
# registry (npm pack) and checks that the embedded copies are byte for byte
# the published ones; with --update it copies them in place instead.
# The console has no build step: these files are the only ones not written
# by hand.
set -euo pipefail
cd "$(dirname "$0")"
update=0
[ "${1:-}" = --update ] && update=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
while read -r pkg version from to sum; do
	[ -n "$pkg" ] || continue
	dir="$tmp/$(echo "$pkg@$version" | tr '/@' '__')"
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir"
		(cd "$dir" && npm pack --silent "$pkg@$version" >/dev/null && tar xzf ./*.tgz)
	fi
	got="$dir/package/$from"
	if [ "$update" = 1 ]; then
		cp "$got" "$to"
		echo "updated $to ($(sha256sum "$to" | cut -d' ' -f1)): record the sum in VENDOR.txt"
	elif cmp -s "$got" "$to" && [ "$(sha256sum "$to" | cut -d' ' -f1)" = "$sum" ]; then
		echo "ok $to = $pkg@$version $from"
	else
		echo "DIFFERS: $to is not $pkg@$version $from (or its sum in VENDOR.txt)"
		status=1
	fi
done < <(grep -v '^#' VENDOR.txt)
exit $status
