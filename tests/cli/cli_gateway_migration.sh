#!/bin/sh
# Gateway migrations end to end against a standalone `netwave emulator` on
# 127.0.0.1: an ExpressRoute gateway and a VPN gateway on Basic public IPs
# in one hub (synth --vpn-gateways), discovered, planned from an intent with and
# without a chosen name for the new ExpressRoute gateway, applied with
# apply --all --yes through the irreversible commit.  Asserted: the plan's
# prediction, the emulator's requests (each action accepted once, no abort),
# the gates, the history holding the new gateway, the journaled gateway found
# by fact, the final estate (Learn: the new ExpressRoute gateway named as
# asked or "<name>_migrate", tagged, old gateway and connections deleted,
# connections copied as "<conn>_migrate"; the VPN gateway in place on its AZ
# SKU with its address kept), and a fresh discovery equal to the target
# (a plan from it to the target has no step).  Then a rollback before the
# commit: one abortMigration per gateway, and the estate as before.
#
# The gateway wave soaks an hour before the commit; apply scales soaks like
# the emulator's clock, so the hour passes in moments.  Every wait is
# bounded; the emulator is killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

export NETWAVE_ACCESS_TOKEN=cli-gw-token NETWAVE_NO_LIVE=1
unset NETWAVE_DB AZURE_CLIENT_SECRET 2>/dev/null || true

"$NETWAVE" synth --hubs 1 --spokes-per-hub 2 --vpn-gateways --seed 5 -o "$TMP/estate.json" 2>/dev/null
SUB=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)"$/\1/p' "$TMP/estate.json" | head -n 1)
N="/subscriptions/$SUB/resourceGroups"
ERGW="$N/rg-hub-01/providers/Microsoft.Network/virtualNetworkGateways/ergw-hub-01"
ERCONN="$N/rg-hub-01/providers/Microsoft.Network/connections/conn-hub-01-er-circuit-01"
VPNGW="$N/rg-hub-01/providers/Microsoft.Network/virtualNetworkGateways/vpngw-hub-01"
VPNPIP="$N/rg-hub-01/providers/Microsoft.Network/publicIPAddresses/pip-vpngw-hub-01"
VPNADDR=$(awk -v id="\"id\": \"$VPNPIP\"" 'index($0, id) { f = 1 } f && /"ipAddress"/ { gsub(/[ ",]/, ""); sub(/ipAddress:/, ""); print; exit }' "$TMP/estate.json")

# start_emulator: a fresh emulator (lib.sh) seeded with the estate
start_emulator() {
	emulator_start --seed "$TMP/estate.json" --no-auth --time-scale 100000 --seed-rng 7
}

# accepted SUFFIX: POST requests ending in SUFFIX the emulator answered 2xx
accepted() {
	curl -sS -m 10 "$BASE/__netwave/requests" | tr '}' '\n' | grep '"method":"POST"' |
	    grep -F "$1\"" | grep -c '"status":20[0-9]' || true
}

# resource ID: the raw stored resource (empty when there is none)
resource() {
	curl -sS -m 10 -G "$BASE/__netwave/resources" --data-urlencode "id=$1" -o "$TMP/res.json" \
	    -w '%{http_code}' >"$TMP/res.code" || true
	if [ "$(cat "$TMP/res.code")" = 200 ]; then cat "$TMP/res.json"; fi
}

# has NAME ID TEXT: the stored resource ID exists and contains TEXT
has() {
	if resource "$2" | grep -qF -- "$3"; then pass "$1"; else fail "$1" "$2 lacks $3: $(resource "$2")"; fi
}

# gone NAME ID: the resource is not stored
gone() {
	if [ -z "$(resource "$2")" ]; then pass "$1"; else fail "$1" "$2 is still there"; fi
}

# plan_for NEWNAMES: discovers, writes the intent and its target, plans (sets PLAN)
plan_for() {
	run "$NETWAVE" discover --subscription "$SUB" $P -o "$TMP/current.json"
	expect_rc "discover the estate" 0
	cat >"$TMP/intent.json" <<EOF
{ "format": "netwave.intent/v1",
  "changes": [ { "kind": "gateway-standard-ip", "gateways": { "all": true }$1 } ] }
EOF
	run "$NETWAVE" target --current "$TMP/current.json" --intent "$TMP/intent.json" -o "$TMP/target.json"
	expect_rc "target" 0
	run "$NETWAVE" plan --current "$TMP/current.json" --intent "$TMP/intent.json" --db "$DB" \
	    --format json -o "$TMP/plan.json"
	expect_rc "plan" 0
	PLAN=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan.json")
}

# migrate NEWNAME LABEL: the whole migration, NEWNAME the new ExpressRoute gateway's expected name
migrate() {
	NEWGW="$N/rg-hub-01/providers/Microsoft.Network/virtualNetworkGateways/$1"
	DB="$TMP/$2.db"
	HIST="$TMP/$2.history"
	start_emulator
	if [ "$1" = "ergw-hub-01_migrate" ]; then plan_for ""; else
		plan_for ", \"newNames\": { \"ergw-hub-01\": \"$1\" }"; fi
	if grep -qF "\"newGateway\": \"$NEWGW\"" "$TMP/plan.json"; then
		pass "$2: the plan predicts $1"; else fail "$2: the plan predicts $1"; fi
	if [ "$1" = "ergw-hub-01_migrate" ]; then
		if grep -qF '"newGatewayName"' "$TMP/plan.json"; then
			fail "$2: Azure's default name is not asked for"; else pass "$2: Azure's default name is not asked for"; fi
	elif grep -qF "\"newGatewayName\": \"$1\"" "$TMP/plan.json"; then
		pass "$2: prepareMigration asks for $1"; else fail "$2: prepareMigration asks for $1"; fi
	if grep -qF "\"newGateway\": \"$VPNGW" "$TMP/plan.json"; then
		fail "$2: the VPN gateway migrates in place, nothing predicted"; else
		pass "$2: the VPN gateway migrates in place, nothing predicted"; fi

	run "$NETWAVE" apply "$PLAN" --db "$DB" --through gateways-1 --yes --history "$HIST" --format json $P
	expect_rc "$2: apply prepares and executes" 0
	if grep -F '"event":"migrated-gateway-found"' "$TMP/out" | grep -qF "\"found\":\"$NEWGW\""; then
		pass "$2: apply found $1 by fact after prepare"; else fail "$2: apply found $1 by fact after prepare"; fi
	if grep -qF '"event":"migrated-gateway-unexpected"' "$TMP/out"; then
		fail "$2: the found gateway is the predicted one"; else pass "$2: the found gateway is the predicted one"; fi
	run "$NETWAVE" apply "$PLAN" --db "$DB" --all --history "$HIST" $P </dev/null
	expect_rc "$2: without --yes the irreversible commit is not sent, exit 6 (not bad usage)" 6
	expect_err "$2: naming the irreversible step and --yes" "irreversible step(s), first"
	n=$(accepted "/commitMigration")
	if [ "$n" -eq 0 ]; then pass "$2: no commitMigration without --yes"; else
		fail "$2: no commitMigration without --yes" "accepted $n"; fi
	run "$NETWAVE" apply "$PLAN" --db "$DB" --all --yes --history "$HIST" $P
	expect_rc "$2: apply commits after the soak" 0

	for a in prepareMigration executeMigration commitMigration; do
		n=$(accepted "/$a")
		if [ "$n" -eq 2 ]; then pass "$2: $a accepted once per gateway"; else
			fail "$2: $a accepted once per gateway" "accepted $n times"; fi
	done
	n=$(accepted "/abortMigration")
	if [ "$n" -eq 0 ]; then pass "$2: no abort"; else fail "$2: no abort" "$n accepted"; fi

	run "$NETWAVE" status "$PLAN" --db "$DB" --format json
	expect_rc "$2: status" 0
	if grep -qE '"status": "(failed|pending)"' "$TMP/out"; then fail "$2: no gate failed or pending"; else
		pass "$2: no gate failed or pending"; fi
	expect_out "$2: the commit gate passed on the journaled gateway" '"summary": "2 gateway(s) in phase CommitSucceeded"'

	run "$NETWAVE" history show HEAD --history "$HIST"
	expect_rc "$2: history show" 0
	expect_out "$2: the history holds the new gateway" "virtualNetworkGateways/$1.json"
	expect_line "$2: the history records the old gateway deleted" "deleted .*virtualNetworkGateways/ergw-hub-01\.json"
	expect_line "$2: and its connection deleted" "deleted .*connections/conn-hub-01-er-circuit-01\.json"
	run "$NETWAVE" history show "$PLAN/gateways-1/applied" --history "$HIST"
	expect_line "$2: the prepare wave's commit holds the copied connection" \
	    "added .*connections/conn-hub-01-er-circuit-01_migrate\.json"

	gone "$2: the old ExpressRoute gateway is deleted" "$ERGW"
	gone "$2: its connection is deleted" "$ERCONN"
	has "$2: the new gateway is tagged" "$NEWGW" '"CreatedBy":"GatewaySKUMigration"'
	has "$2: the new gateway is on an AZ SKU" "$NEWGW" '"ErGw1AZ"'
	has "$2: the connection is copied as <conn>_migrate onto it" "${ERCONN}_migrate" "$NEWGW\""
	has "$2: the VPN gateway stays, on its AZ SKU" "$VPNGW" '"VpnGw1AZ"'
	has "$2: its public IP is Standard" "$VPNPIP" '"Standard"'
	has "$2: and keeps its address" "$VPNPIP" "\"$VPNADDR\""

	run "$NETWAVE" discover --subscription "$SUB" $P -o "$TMP/after.json"
	expect_rc "$2: discover after the commit" 0
	run "$NETWAVE" plan --current "$TMP/after.json" --target "$TMP/target.json" --db "$TMP/$2-check.db" \
	    --format json -o "$TMP/check.json"
	expect_rc "$2: a plan from the fresh discovery to the target" 0
	if grep -qF '"steps": 0,' "$TMP/check.json" && grep -qF '"waves": [],' "$TMP/check.json"; then
		pass "$2: the fresh discovery equals the target (no step)"; else
		fail "$2: the fresh discovery equals the target (no step)" "$(grep -F '"steps"' "$TMP/check.json" | head -n 3)"; fi
	emulator_stop -9
}

migrate ergw-hub-01_migrate default
migrate ergw-hub-01-az named

# --- rollback before the commit: abort ------------------------------------------
DB="$TMP/rollback.db"
start_emulator
plan_for ""
curl -sS -m 10 "$BASE/__netwave/state" >"$TMP/before-state.json"
run "$NETWAVE" apply "$PLAN" --db "$DB" --wave gateways-1 --no-history $P
expect_rc "rollback: the prepare and execute wave" 0
has "rollback: the new gateway is there before the rollback" "${ERGW}_migrate" "GatewaySKUMigration"
run "$NETWAVE" rollback "$PLAN" --db "$DB" --all --yes $P
expect_rc "rollback before the commit" 0
n=$(accepted "/abortMigration")
if [ "$n" -eq 2 ]; then pass "rollback: one abortMigration per gateway"; else
	fail "rollback: one abortMigration per gateway" "accepted $n"; fi
gone "rollback: the new gateway is deleted" "${ERGW}_migrate"
gone "rollback: the copied connection is deleted" "${ERCONN}_migrate"
has "rollback: the old gateway is back" "$ERGW" '"AbortSucceeded"'
has "rollback: its connection is back" "$ERCONN" "$ERGW\""
has "rollback: the VPN gateway is back on VpnGw1" "$VPNGW" '"VpnGw1"'
has "rollback: its public IP is Basic again" "$VPNPIP" '"Basic"'
run "$NETWAVE" status "$PLAN" --db "$DB" --format json
expect_line "rollback: the wave is rolled back" '"status": "rolled-back"'
emulator_stop -9

finish
