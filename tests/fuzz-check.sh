#!/bin/sh
# fuzz-check.sh - a short run of each libFuzzer target; fails if one crashes.
#
#   sh tests/fuzz-check.sh SECONDS build/fuzz/fuzz-NAME...    (`make fuzz-check`)
#
# Each target starts from a temporary copy of tests/fuzz/corpus/NAME (made
# when missing), so the inputs it finds are not written into the tree, and
# uses tests/fuzz/NAME.dict when there is one.  Its output goes to
# build/fuzz/NAME.log; a crashing input is kept as build/fuzz/NAME-crash-*
# and the log tail is printed.
set -u

secs=$1
shift
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
failed=

for bin in "$@"; do
	name=${bin##*/fuzz-}
	corpus=tests/fuzz/corpus/$name
	dict=tests/fuzz/$name.dict
	log=build/fuzz/$name.log
	mkdir -p "$corpus" "$tmp/$name"
	cp -R "$corpus/." "$tmp/$name/"
	set -- -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="build/fuzz/$name-"
	[ -f "$dict" ] && set -- "$@" -dict="$dict"
	printf 'fuzz-check: %s for %ss ... ' "$name" "$secs"
	if "$bin" "$@" "$tmp/$name" > "$log" 2>&1; then
		echo "ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" |
		    awk '{print $2}') runs)"
	else
		echo "FAILED (log: $log)"
		tail -n 40 "$log"
		failed="$failed $name"
	fi
done

if [ -n "$failed" ]; then
	echo "fuzz-check: crashed:$failed" >&2
	exit 1
fi
