#!/bin/sh
# Benchmark of `netwave check` on a 5,000-spoke estate with a route server
# in every hub against the same estate without them (issue 13: goal within
# 1.5x).  Both come from synth --interhub-nva, the second adding
# --route-servers (seed 003's Option B: every hub's NVA advertises its block
# to the other hubs' route servers, so each route server has 9 BGP peers and
# check's limit findings fire, as they would on Azure).  Median of RUNS runs
# each, measured in the same run, and their ratio.  Run it from a build
# without sanitizers: make bench.
set -eu
: "${NETWAVE:=./netwave}" "${MEASURE:=./bench/measure}"
RUNS=${RUNS:-5}
out=${BENCH_DIR:-bench/out}
mkdir -p "$out"
plain="$out/estate-ars-10x500-without.json"
ars="$out/estate-ars-10x500-with.json"
opts="--hubs 10 --spokes-per-hub 500 --pe-per-spoke 4 --udr-spokes 50 --regions eastus,westeurope --seed 1"
# shellcheck disable=SC2086
[ -f "$plain" ] || "$NETWAVE" synth $opts --interhub-nva --out "$plain" 2>/dev/null
# shellcheck disable=SC2086
[ -f "$ars" ] || "$NETWAVE" synth $opts --interhub-nva --route-servers --out "$ars" 2>/dev/null

# check exits 1 when it finds errors (the peers over 8): that is its answer, not a failure
. "$(dirname "$0")/lib.sh"

without=$(median "$NETWAVE" check "$plain")
with=$(median "$NETWAVE" check "$ars")
set -- $without $with
echo "estates: $plain, $ars"
printf 'check without route servers: %8.3f s  %8.1f MiB\n' "$1" "$(echo "$2" | awk '{ print $1 / 1024 }')"
printf 'check with route servers:    %8.3f s  %8.1f MiB\n' "$3" "$(echo "$4" | awk '{ print $1 / 1024 }')"
awk -v a="$1" -v b="$3" 'BEGIN { printf "with / without time ratio: %.2fx (goal: within 1.5x)\n", b / a }'
