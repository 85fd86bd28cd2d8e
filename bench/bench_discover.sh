#!/bin/sh
# Discovery speed: `netwave discover` of a synthetic estate (default
# synth --hubs 10 --spokes-per-hub 500 --pe-per-spoke 4, about 30,000
# resources) served by `netwave emulator` with 20 ms of latency added to
# every ARM request, once through Resource Graph and once through the ARM
# list calls, in the same run against the same emulator.  Prints the
# requests each path made, its wall time, and the ratios.
#
#   NETWAVE=./netwave sh bench/bench_discover.sh
#
# Knobs (environment): HUBS, SPOKES, PES, LATENCY_MS (20), TIME_SCALE (1000:
# long-running operations such as the circuit route table take 5 ms instead
# of 5 s; the emulator's throttle refill is scaled by the same factor, so
# ARM's own throttling does not show in the figures, netwave's client-side
# token bucket still does).
set -eu

LATENCY_MS=${LATENCY_MS:-20}
. "$(dirname "$0")/lib.sh"
bench_tmp

bench_synth bench_discover "$TMP/seed.json" \
	", $LATENCY_MS ms added per request, emulator time scale $TIME_SCALE"
NRES=$(grep -c '^      "type": "Microsoft.Network/' "$TMP/seed.json" || true)

bench_emulator bench_discover --seed "$TMP/seed.json" \
	--faults "$TMP/faults.json" --time-scale "$TIME_SCALE"

# run SOURCE: sets WALL, REQS, GOT
run() {
	t0=$(now)
	env -u NETWAVE_ACCESS_TOKEN AZURE_TENANT_ID=bench AZURE_CLIENT_ID=bench AZURE_CLIENT_SECRET=bench \
		NETWAVE_IMDS_ENDPOINT=http://127.0.0.1:9 \
		"$NETWAVE" discover --subscription "$SUB" --arm-endpoint "$BASE" --authority-host "$BASE" \
		--source "$1" --out "$TMP/out-$1.json" 2>"$TMP/err-$1"
	t1=$(now)
	WALL=$(echo "$t1 $t0" | awk '{ printf "%.2f", $1 - $2 }')
	REQS=$(sed -n 's/^discover: \([0-9]*\) resources from .* in \([0-9]*\) requests.*/\2/p' "$TMP/err-$1")
	GOT=$(sed -n 's/^discover: \([0-9]*\) resources from .* in \([0-9]*\) requests.*/\1/p' "$TMP/err-$1")
}

run resource-graph
G_WALL=$WALL G_REQS=$REQS G_GOT=$GOT
run list
L_WALL=$WALL L_REQS=$REQS L_GOT=$GOT

printf '\n%-16s %10s %10s %10s\n' "source" "resources" "requests" "wall (s)"
printf '%-16s %10s %10s %10s\n' "resource-graph" "$G_GOT" "$G_REQS" "$G_WALL"
printf '%-16s %10s %10s %10s\n' "list calls" "$L_GOT" "$L_REQS" "$L_WALL"
echo "$L_REQS $G_REQS $L_WALL $G_WALL" | awk '{ printf "\nlist / resource-graph: %.1fx the requests, %.1fx the wall time\n", $1 / $2, $3 / $4 }'
echo "seeded resources: $NRES (the emulator does not list azureFirewalls, so the list path lacks them)"
grep '^discover: warning' "$TMP/err-list" | sort -u || true
