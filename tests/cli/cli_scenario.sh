#!/bin/sh
# The seed's own migration end to end, against a standalone `netwave emulator`
# on 127.0.0.1: a synthesized estate that needs every wave kind (over 250 mesh
# members and over 2,000 private endpoints, so feature registration and
# High-Scale Private Endpoints; the network manager in a new resource group in
# a second subscription; direct spoke peerings and spoke routes to the
# gateway for the decommission; an ExpressRoute and a VPN gateway on Basic IPs
# in every hub; summarized prefixes) is discovered, targeted, planned and
# applied.  First the reversible part (prepare, HSPE, mesh) is applied and
# rolled back, and the hairpin is back; then everything is applied, a fresh
# discovery equals the target canonically, every wave ran its gates, spoke
# pairs are mesh; then rollback --all stops in front of the decommission's
# irreversible deletions with exit 2.  Kept as small as the thresholds
# allow: 2 hubs x 126 spokes (252 members), 8 private endpoints each (2,016).
set -eu
. "$top_srcdir/tests/cli/lib.sh"

test_client 00000000-0000-4000-8000-0000000c1100 netwave-cli-tests "canary-cli-5ecret-0043"

HUBS=2
SPOKES=126
PES=8
MEMBERS=$((HUBS * SPOKES))
PAIRS=$((MEMBERS * (MEMBERS - 1)))
# check counts a flow from each workload subnet: synth gives a spoke two (workload, endpoints)
FLOWS=$((2 * PAIRS))

# Operations that take up to 45 minutes in Azure take a few milliseconds here;
# apply scales soaks against the emulator the same way (docs/apply.md).
SCALE=1000000
# Every apply and rollback is bounded: one that waits in real time for what the
# emulator never does is killed (exit 137) and fails its assertion.
RUN_TIMEOUT=900

start_emulator() {
	emulator_start --seed "$TMP/estate.json" --state "$TMP/emu.db" --time-scale "$SCALE" --seed-rng 11 || true
}

# discover FILE: the estate as the emulator holds it now, both subscriptions
discover() {
	run "$NETWAVE" discover --subscription "$S1" --subscription "$S2" $P -o "$1"
}

# east_west FILE: the class counts of check's east-west summary, one per line
east_west() {
	"$NETWAVE" check "$1" 2>/dev/null | sed -n '/^east-west between spokes/,/^$/p' |
	    sed -n 's/^  \([a-z-]*\) *\([0-9,]*\).*/\1 \2/p' | tr -d , || true
}

# ew_count FILE CLASS: how many ordered spoke pairs are in CLASS
ew_count() {
	n=$(east_west "$1" | sed -n "s/^$2 //p")
	echo "${n:-0}"
}

# wave_report: one line per wave of the status JSON: NAME KIND STATUS GATE-KIND:STATUS...
wave_report() {
	"$NETWAVE" status "$PLAN" --db "$DB" --format json 2>/dev/null | awk '
	/^      "gates": \[/ { ingates = 1; gates = ""; next }
	/^      \]/ { ingates = 0; next }
	ingates && /^          "kind": / { gk = $2; gsub(/[",]/, "", gk) }
	ingates && /^          "status": / { gs = $2; gsub(/[",]/, "", gs); gates = gates " " gk ":" gs }
	/^      "kind": / { k = $2; gsub(/[",]/, "", k) }
	/^      "name": / { n = $2; gsub(/[",]/, "", n) }
	/^      "status": / { s = $2; gsub(/[",]/, "", s) }
	/^    }/ { print n, k, s gates; gates = "" }'
}

# plan_waves: the plan's "waves" array, as canonical text
plan_waves() {
	sed -n '/^  "waves": \[/,/^  \]/p' "$TMP/plan.json"
}

# --- the estate ---------------------------------------------------------------
run "$NETWAVE" synth --hubs "$HUBS" --spokes-per-hub "$SPOKES" --pe-per-spoke "$PES" \
    --subscriptions 2 --spoke-peerings 4 --gateway-udr-spokes 4 --vpn-gateways --seed 3 \
    -o "$TMP/estate.json"
expect_rc "synth an estate that needs every wave kind" 0
S1=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)",\{0,1\}$/\1/p' "$TMP/estate.json" | sed -n 1p)
S2=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)",\{0,1\}$/\1/p' "$TMP/estate.json" | sed -n 2p)
if [ -n "$S1" ] && [ -n "$S2" ] && [ "$S1" != "$S2" ]; then pass "it spans two subscriptions"; else
	fail "it spans two subscriptions" "'$S1' '$S2'"; fi

start_emulator
if [ -n "$BASE" ]; then pass "the emulator listens"; else fail "the emulator listens"; fi
DB="$TMP/netwave.db"
HIST="$TMP/netwave-history"
export NETWAVE_DB="$DB"

discover "$TMP/current.json"
expect_rc "discover both subscriptions" 0
EW_BEFORE=$(east_west "$TMP/current.json")
if [ "$(ew_count "$TMP/current.json" hairpin)" -gt 0 ] &&
    [ "$(ew_count "$TMP/current.json" peering)" -eq 16 ]; then
	pass "today spokes hairpin, and 4 pairs are peered directly"; else
	fail "today spokes hairpin, and 4 pairs are peered directly" "$EW_BEFORE"; fi

RG_ID="/subscriptions/$S2/resourceGroups/rg-avnm-scenario"
cat >"$TMP/intent.json" <<EOF
{ "format": "netwave.intent/v1",
  "description": "the seed's migration: mesh, HSPE, gateways off Basic IPs, summaries, clean-up",
  "changes": [
    { "kind": "avnm-mesh",
      "networkManager": {
        "id": "$RG_ID/providers/Microsoft.Network/networkManagers/nm-scenario",
        "scope": { "subscriptions": ["/subscriptions/$S1", "/subscriptions/$S2"] } },
      "networkGroup": "mesh-spokes",
      "members": { "tags": { "role": "spoke" } },
      "highScalePrivateEndpoints": true },
    { "kind": "gateway-standard-ip", "gateways": { "all": true } },
    { "kind": "summarize-gateway-prefixes", "hubs": { "tags": { "role": "hub" } } } ],
  "rollout": {
    "waves": [ { "name": "pilot", "members": { "tags": { "env": "dev" } } },
               { "name": "light", "members": { "tags": { "traffic": "light" } } },
               { "name": "rest" } ],
    "soak": { "beforeDecommission": "14d", "betweenWaves": "0s" },
    "maintenanceWindow": null } }
EOF
run "$NETWAVE" target --current "$TMP/current.json" --intent "$TMP/intent.json" -o "$TMP/target.json"
expect_rc "target" 0
expect_err "every spoke joins the mesh" "$MEMBERS VNets join mesh group mesh-spokes"

run "$NETWAVE" plan --current "$TMP/current.json" --target "$TMP/target.json" --db "$DB" \
    --format json -o "$TMP/plan.json"
expect_rc "plan" 0
PLAN=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan.json")
for kind in prepare hspe mesh gateway gateway-commit summarize decommission; do
	if plan_waves | grep -q "^      \"kind\": \"$kind\",\$"; then
		pass "the plan has a $kind wave"; else fail "the plan has a $kind wave"; fi
done
if grep -qF "\"resource\": \"$RG_ID\"" "$TMP/plan.json"; then
	pass "the plan creates the network manager's resource group"; else
	fail "the plan creates the network manager's resource group" "no step on $RG_ID"; fi
missing=""
for s in "$S1" "$S2"; do
	for f in AllowHighScaleConnectedGroup EnableMaxPrivateEndpointsVia64kPath; do
		grep -qF "\"resource\": \"/subscriptions/$s/providers/Microsoft.Features/providers/Microsoft.Network/features/$f\"" \
		    "$TMP/plan.json" || missing="$missing $s/$f"
	done
done
if [ -z "$missing" ]; then pass "both features are registered on both subscriptions"; else
	fail "both features are registered on both subscriptions" "no step for:$missing"; fi

# --- the reversible part: apply, then roll back, and the hairpin is back --------
run timeout -s KILL "$RUN_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --through rest --history "$HIST" $P
expect_rc "apply --through rest (prepare, HSPE, mesh)" 0
discover "$TMP/meshed.json"
MESHED=0
if [ "$(ew_count "$TMP/meshed.json" hairpin)" -eq 0 ] &&
    [ "$(ew_count "$TMP/meshed.json" mesh)" -gt 0 ]; then
	MESHED=1
	pass "after the mesh waves no spoke pair hairpins"; else
	fail "after the mesh waves no spoke pair hairpins" "$(east_west "$TMP/meshed.json")"; fi
run "$NETWAVE" path "$TMP/meshed.json" spoke-01-0003 spoke-02-0100
expect_line "spoke-01-0003 to spoke-02-0100 is mesh" "^spoke-01-0003 -> spoke-02-0100: mesh$"

run timeout -s KILL "$RUN_TIMEOUT" "$NETWAVE" rollback "$PLAN" --db "$DB" --all --yes --history "$HIST" $P
expect_rc "rollback --all of the reversible waves" 0
for w in rest light pilot hspe-hub-02 hspe-hub-01 prepare; do
	expect_out "wave $w is rolled back" "wave $w rolled back"
done
if [ "$(grep -c "the way back is proven" "$TMP/out")" -ge 6 ]; then
	pass "and the way back of each is proven"; else fail "and the way back of each is proven"; fi
discover "$TMP/rolled-back.json"
EW_AFTER=$(east_west "$TMP/rolled-back.json")
# (only a proof when the pairs were meshed before the rollback)
if [ "$MESHED" -eq 1 ] && [ -n "$EW_BEFORE" ] && [ "$EW_AFTER" = "$EW_BEFORE" ]; then
	pass "the hairpin is back for every pair rolled back"; else
	fail "the hairpin is back for every pair rolled back" \
	    "meshed before: $MESHED; before: $EW_BEFORE; after: $EW_AFTER"; fi
run "$NETWAVE" path "$TMP/rolled-back.json" spoke-01-0003 spoke-02-0100
if [ "$MESHED" -eq 1 ] && grep -qE "^spoke-01-0003 -> spoke-02-0100: hairpin( |$)" "$TMP/out"; then
	pass "spoke-01-0003 to spoke-02-0100 hairpins again"; else
	fail "spoke-01-0003 to spoke-02-0100 hairpins again (after being mesh)"; fi

# --- everything ------------------------------------------------------------------
run timeout -s KILL "$RUN_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --all --yes --history "$HIST" --format json $P
expect_rc "apply --all --yes" 0
cp "$TMP/out" "$TMP/events.json"
wave_report >"$TMP/waves.txt"
NWAVES=$(plan_waves | grep -c '^      "kind": ' || true)
if [ "$(wc -l <"$TMP/waves.txt")" -eq "$NWAVES" ] && [ "$NWAVES" -gt 0 ]; then
	pass "status lists the plan's $NWAVES waves"; else
	fail "status lists the plan's $NWAVES waves" "$(cat "$TMP/waves.txt")"; fi
for kind in prepare hspe mesh gateway gateway-commit summarize decommission; do
	line=$(awk -v k="$kind" '$2 == k' "$TMP/waves.txt")
	bad=$(echo "$line" | awk '$3 != "done" { print $1 " is " $3 }
	    { for (i = 4; i <= NF; i++) if ($i !~ /:passed$/) print $1 " gate " $i }')
	ngates=$(echo "$line" | awk '{ n += NF - 3 } END { print n + 0 }')
	if [ -n "$line" ] && [ -z "$bad" ] && [ "$ngates" -gt 0 ]; then
		pass "every $kind wave is done with its $ngates gate(s) passed"; else
		fail "every $kind wave is done with its gates passed" "${bad:-no wave or no gate}"; fi
done
n=$(grep -c '"event":"wave-done"' "$TMP/events.json" || true)
if [ "$n" -eq "$NWAVES" ]; then pass "the run reported $n wave-done events, one per wave"; else
	fail "the run reported a wave-done event per wave" "$n of $NWAVES"; fi
n=$(grep -c '"event":"gate-result"' "$TMP/events.json" || true)
if [ "$n" -ge "$NWAVES" ]; then pass "the run reported $n gate results"; else
	fail "the run reported a gate result per wave at least" "$n for $NWAVES waves"; fi

discover "$TMP/after.json"
expect_rc "discover after the migration" 0
# The canonical comparison is the planner's own: the diff ignores what ARM computes
# and no procedure writes (docs/apply.md "Drift"), so planning from the fresh
# discovery to the target must find nothing to do.
run "$NETWAVE" plan --current "$TMP/after.json" --target "$TMP/target.json" --db "$TMP/replan.db" \
    --format text
expect_rc "planning from a fresh discovery to the target" 0
expect_out "finds nothing left to change" "changes: none"
expect_out "and no step" " 0 waves, 0 steps, 0 writes"
# For the record (not asserted): files that differ byte for byte in the history's
# canonical form, such as fields ARM computes that the target does not predict
# (a static member's region, a peering's remoteVirtualNetworkAddressSpace).
"$NETWAVE" history record "$TMP/target.json" -m "the target" --history "$TMP/compare" >/dev/null 2>&1 || true
"$NETWAVE" history record "$TMP/after.json" -m "discovered" --history "$TMP/compare" >/dev/null 2>&1 || true
echo "# byte-for-byte canonical differences from the target: $("$NETWAVE" history diff HEAD~1 HEAD \
    --history "$TMP/compare" 2>/dev/null | grep -c '^diff --git' || true) file(s)"
if [ "$(ew_count "$TMP/after.json" mesh)" -eq "$FLOWS" ]; then
	pass "all $PAIRS ordered spoke pairs are mesh"; else
	fail "all $PAIRS ordered spoke pairs are mesh" "$(east_west "$TMP/after.json")"; fi
run "$NETWAVE" path "$TMP/after.json" spoke-01-0126 spoke-01-0125
expect_line "a pair that was peered directly is mesh" "^spoke-01-0126 -> spoke-01-0125: mesh$"
run "$NETWAVE" path "$TMP/after.json" spoke-01-0001 spoke-01-0002
expect_line "a pair that went through the gateway is mesh" "^spoke-01-0001 -> spoke-01-0002: mesh$"
if ! grep -q '"nextHopType": "VirtualNetworkGateway"' "$TMP/after.json" &&
    ! grep -qF '/virtualNetworks/spoke-01-0126/virtualNetworkPeerings/to-spoke-01-0125"' "$TMP/after.json"; then
	pass "the redundant routes and peerings are gone"; else
	fail "the redundant routes and peerings are gone"; fi
# the old ExpressRoute gateway's Basic IP may stay behind, detached (docs/emulator.md):
# what matters is that no gateway uses one, which check reports
"$NETWAVE" check "$TMP/after.json" >"$TMP/check-after.txt" 2>&1 || true
if grep -q "basic-public-ip" "$TMP/check-after.txt"; then
	fail "no gateway is left on a Basic public IP" "$(grep basic-public-ip "$TMP/check-after.txt" | head -n 2)"; else
	pass "no gateway is left on a Basic public IP"; fi
if [ "$(grep -c '"privateEndpointVNetPolicies": "Basic"' "$TMP/after.json")" -eq "$MEMBERS" ]; then
	pass "every member has High-Scale Private Endpoints"; else
	fail "every member has High-Scale Private Endpoints"; fi
if [ "$(grep -c '"summarizedGatewayPrefixes"' "$TMP/after.json")" -eq "$HUBS" ]; then
	pass "both hubs advertise summaries"; else fail "both hubs advertise summaries"; fi

# --- roll back everything reversible: it stops in front of the decommission ----
run timeout -s KILL "$RUN_TIMEOUT" "$NETWAVE" rollback "$PLAN" --db "$DB" --all --yes --history "$HIST" $P
expect_rc "rollback --all stops in front of an irreversible step" 6
expect_err "naming the decommission and the step" "rollback of wave decommission stopped in front of step w"
expect_err "which cannot be undone" "which cannot be undone"
discover "$TMP/stopped.json"
if [ "$(ew_count "$TMP/stopped.json" mesh)" -eq "$FLOWS" ]; then
	pass "the stopped rollback leaves the mesh as it was"; else
	fail "the stopped rollback leaves the mesh as it was" "$(east_west "$TMP/stopped.json")"; fi
run timeout -s KILL "$RUN_TIMEOUT" "$NETWAVE" rollback "$PLAN" --db "$DB" --all --yes $P
expect_rc "and says so again, exit 6, when asked again" 6

finish
