#!/bin/sh
# Preflight cost: `netwave preflight` of a mesh plan over a synthetic estate
# (default synth --hubs 10 --spokes-per-hub 500, 5,000 spokes) served by
# `netwave emulator` with 20 ms of latency added to every ARM request,
# against a plain `netwave discover` of the same estate in the same run.
# Prints each one's requests and wall time, the ratios, and the 429s the
# emulator answered (its read bucket is ARM's: preflight's reads are batched
# by scope, so there must be none).
#
#   NETWAVE=./netwave sh bench/bench_preflight.sh
#
# Knobs (environment): HUBS, SPOKES, PES (0), LATENCY_MS (20), TIME_SCALE (1000).
set -eu

PES=${PES:-0}
LATENCY_MS=${LATENCY_MS:-20}
. "$(dirname "$0")/lib.sh"
bench_tmp

bench_synth bench_preflight "$TMP/seed.json" \
	", $LATENCY_MS ms added per request, emulator time scale $TIME_SCALE"
bench_emulator bench_preflight --seed "$TMP/seed.json" --faults "$TMP/faults.json" \
	--time-scale "$TIME_SCALE" --no-auth
export NETWAVE_ACCESS_TOKEN=bench-token NETWAVE_NO_LIVE=1
P="--arm-endpoint $BASE --authority-host $BASE"

t0=$(now)
"$NETWAVE" discover --subscription "$SUB" $P --out "$TMP/current.json" 2>"$TMP/err-discover"
t1=$(now)
D_WALL=$(echo "$t1 $t0" | awk '{ printf "%.2f", $1 - $2 }')
D_REQS=$(sed -n 's/^discover: [0-9,]* resources from .* in \([0-9,]*\) requests.*/\1/p' "$TMP/err-discover" | tr -d ,)

NM="/subscriptions/$SUB/resourceGroups/rg-avnm/providers/Microsoft.Network/networkManagers/nm-bench"
cat >"$TMP/intent.json" <<EOF2
{ "format": "netwave.intent/v1",
  "changes": [ { "kind": "avnm-mesh", "networkManager": { "id": "$NM" },
                 "networkGroup": "mesh-spokes", "members": { "tags": { "role": "spoke" } } } ] }
EOF2
"$NETWAVE" plan --current "$TMP/current.json" --intent "$TMP/intent.json" --db "$TMP/a.db" -o json \
	--out "$TMP/plan.json" 2>"$TMP/err-plan"
PLAN=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan.json")

curl -sS -m 30 -X DELETE "$BASE/__netwave/requests" >/dev/null
t0=$(now)
set +e
"$NETWAVE" preflight "$PLAN" --db "$TMP/a.db" $P -o json >"$TMP/pf.json" 2>"$TMP/err-pf"
PF_RC=$?
set -e
t1=$(now)
P_WALL=$(echo "$t1 $t0" | awk '{ printf "%.2f", $1 - $2 }')
P_READS=$(jq -r '.requests.reads' "$TMP/pf.json")
P_POSTS=$(jq -r '.requests.posts' "$TMP/pf.json")
P_WRITES=$(jq -r '.summary.writes' "$TMP/pf.json")
P_429=$(curl -sS -m 30 "$BASE/__netwave/requests" | jq '[.[] | select(.status == 429)] | length')

echo "discover:  $D_REQS requests, $D_WALL s"
echo "preflight: $P_READS reads + $P_POSTS read-only POSTs for $P_WRITES writes judged, $P_WALL s (exit $PF_RC)," \
	"$P_429 answered 429"
echo "$P_READS $P_POSTS $D_REQS $P_WALL $D_WALL" | awk '{ printf "ratios: requests %.3fx discover, time %.3fx discover\n", ($1 + $2) / $3, $4 / $5 }'
jq -r '.checks[] | "  \(.name): \(.status), \(.detail)"' "$TMP/pf.json"
