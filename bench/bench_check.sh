#!/bin/sh
# Benchmark of `netwave check` on the 5,000-spoke estate of issue 2:
#   netwave synth --hubs 10 --spokes-per-hub 500 --pe-per-spoke 4
# Prints the wall time and peak memory of check beside a plain jansson load
# of the same file, measured in the same run (median of RUNS runs), and
# their ratio.  Run it from a build without sanitizers: make bench.
set -eu
: "${NETWAVE:=./netwave}" "${JSONLOAD:=./bench/jsonload}" "${MEASURE:=./bench/measure}"
RUNS=${RUNS:-5}
. "$(dirname "$0")/lib.sh"
bench_estate

base=$(median "$JSONLOAD" "$estate")
check=$(median "$NETWAVE" check "$estate")
set -- $base $check
echo "estate: $estate ($bytes bytes)"
printf 'jansson load (baseline): %8.3f s  %8.1f MiB\n' "$1" "$(echo "$2" | awk '{ print $1 / 1024 }')"
printf 'netwave check:           %8.3f s  %8.1f MiB\n' "$3" "$(echo "$4" | awk '{ print $1 / 1024 }')"
awk -v a="$1" -v b="$3" -v m="$4" 'BEGIN {
	printf "check / load time ratio: %.2fx (goal: within 3x)\n", b / a;
	printf "check peak memory: %.1f MiB (goal: under 300 MiB)\n", m / 1024 }'
