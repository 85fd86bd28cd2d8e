#!/bin/sh
# Export speed and size: `netwave export` of the 5,000-spoke bench estate
# after its migration, against `netwave discover` of the same estate.  The
# migrated estate is the plan's target (`netwave target`: 10 hubs of 500
# spokes, a mesh of every spoke with high-scale private endpoints, the hubs'
# summarized prefixes), served by `netwave emulator` and discovered through
# Resource Graph; the discovery is then exported as Terraform and as an ARM
# template.  Prints each step's wall time and output size, and the ratios.
#
#   NETWAVE=./netwave sh bench/bench_export.sh
#
# Knobs (environment): HUBS (10), SPOKES (500), PES (4), LATENCY_MS (0).
set -eu

. "$(dirname "$0")/lib.sh"
bench_tmp
since() { echo "$(now) $1" | awk '{ printf "%.2f", $1 - $2 }'; }
size() { wc -c <"$1" | tr -d ' '; }

bench_synth bench_export "$TMP/current.json" ", migrated by netwave target"
NM="/subscriptions/$SUB/resourceGroups/rg-connectivity/providers/Microsoft.Network/networkManagers/nm-bench"
printf '%s\n' '{ "format": "netwave.intent/v1",' \
	'  "changes": [ { "kind": "avnm-mesh",' \
	"                 \"networkManager\": { \"id\": \"$NM\" }," \
	'                 "networkGroup": "mesh-all", "members": { "tags": { "role": "spoke" } },' \
	'                 "highScalePrivateEndpoints": true },' \
	'               { "kind": "summarize-gateway-prefixes", "hubs": { "tags": { "role": "hub" } } } ] }' \
	>"$TMP/intent.json"
"$NETWAVE" target --current "$TMP/current.json" --intent "$TMP/intent.json" --out "$TMP/target.json" 2>/dev/null

bench_emulator bench_export --seed "$TMP/target.json" \
	--faults "$TMP/faults.json" --time-scale 1000

t0=$(now)
env -u NETWAVE_ACCESS_TOKEN AZURE_TENANT_ID=bench AZURE_CLIENT_ID=bench AZURE_CLIENT_SECRET=bench \
	NETWAVE_IMDS_ENDPOINT=http://127.0.0.1:9 \
	"$NETWAVE" discover --subscription "$SUB" --arm-endpoint "$BASE" --authority-host "$BASE" \
	--out "$TMP/after.json" 2>"$TMP/discover.err"
D_WALL=$(since "$t0")
D_SIZE=$(size "$TMP/after.json")

t0=$(now)
"$NETWAVE" export "$TMP/after.json" -o "$TMP/main.tf" 2>"$TMP/export.err"
T_WALL=$(since "$t0")
T_SIZE=$(size "$TMP/main.tf")

t0=$(now)
"$NETWAVE" export "$TMP/after.json" --format arm -o "$TMP/template.json" 2>/dev/null
A_WALL=$(since "$t0")
A_SIZE=$(size "$TMP/template.json")

printf '  %-28s %8s s  %12s bytes\n' "discover (Resource Graph)" "$D_WALL" "$D_SIZE"
printf '  %-28s %8s s  %12s bytes  (%s)\n' "export --format terraform" "$T_WALL" "$T_SIZE" \
	"$(sed -n 's/^export: //p' "$TMP/export.err")"
printf '  %-28s %8s s  %12s bytes\n' "export --format arm" "$A_WALL" "$A_SIZE"
echo "$D_WALL $T_WALL $A_WALL $D_SIZE $T_SIZE $A_SIZE" | awk '{
	d = $1 > 0 ? $1 : 1
	printf "  terraform export: %.1f%% of discover time, %.1f%% of its size\n", 100 * $2 / d, 100 * $5 / $4
	printf "  ARM template:     %.1f%% of discover time, %.1f%% of its size\n", 100 * $3 / d, 100 * $6 / $4 }'
