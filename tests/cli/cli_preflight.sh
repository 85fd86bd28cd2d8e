#!/bin/sh
# netwave preflight against `netwave emulator` on 127.0.0.1 (issue 11): a
# plan made offline is judged against the live estate before its first
# write.  A resource group the plan writes into is deleted after planning:
# preflight names it as a blocker with its fix (exit 1), `apply` stops with
# exit 1 having sent no write (asserted on GET /__netwave/requests), and
# once the group is back the same plan applies cleanly.  The result is kept
# with the plan in the store; -o json validates against its schema.  Bad
# input (unknown plan, missing store) is exit 2 naming it.  Every wait is
# bounded; the emulator is killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

SCHEMAS="$top_srcdir/docs/schemas"
# an emulator without authentication: the token is plainly fake
export NETWAVE_ACCESS_TOKEN=fake-token
export NETWAVE_NO_LIVE=1
unset NETWAVE_DB 2>/dev/null || true


# writes: how many writes the emulator received, preflight's own reads
# (checkPolicyRestrictions, listDeploymentStatus, which only read) and token requests left out
writes() {
	curl -sS -m 10 "$BASE/__netwave/requests" | python3 -c '
import json, sys
n = 0
for r in json.load(sys.stdin):
    m, p = r["method"], r["path"]
    if m in ("PUT", "PATCH", "DELETE") or (m == "POST" and not p.endswith(("/checkPolicyRestrictions",
            "/listDeploymentStatus")) and "Microsoft.ResourceGraph" not in p and "/oauth2/" not in p):
        n += 1
print(n)'
}

# requests_to SUFFIX: how many requests went to a path ending with SUFFIX
requests_to() {
	curl -sS -m 10 "$BASE/__netwave/requests" | tr '}' '\n' | grep -ciF "$1\",\"query\"" || true
}

valid() {
	if python3 "$top_srcdir/tests/cli/schema_check.py" "$SCHEMAS" "$2" >"$TMP/schema.out" 2>&1; then
		pass "$1"
	else
		fail "$1" "$(cat "$TMP/schema.out")"
	fi
}

# --- an estate with an empty group the network manager goes into --------------------------
"$NETWAVE" synth --hubs 1 --spokes-per-hub 4 --seed 3 -o "$TMP/synth.json" 2>/dev/null
SUB=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)"$/\1/p' "$TMP/synth.json" | head -n 1)
sed -e "s|^  \"resources\": \[\$|  \"resources\": [ { \"id\": \"/subscriptions/$SUB/resourceGroups/rg-avnm\", \"name\": \"rg-avnm\", \"type\": \"Microsoft.Resources/resourceGroups\", \"location\": \"eastus\", \"properties\": { \"provisioningState\": \"Succeeded\" } },|" \
    "$TMP/synth.json" >"$TMP/estate.json"
emulator_start --seed "$TMP/estate.json" --time-scale 5000 --seed-rng 7 --no-auth
if [ -n "$BASE" ]; then pass "the emulator listens"; else fail "the emulator listens"; fi
run "$NETWAVE" discover --subscription "$SUB" $P --out "$TMP/current.json"
expect_rc "discover" 0
mesh_intent "/subscriptions/$SUB/resourceGroups/rg-avnm/providers/Microsoft.Network/networkManagers/nm-pf"
run "$NETWAVE" plan --current "$TMP/current.json" --intent "$TMP/intent.json" --db "$TMP/a.db" -o json \
    --out "$TMP/plan.json"
expect_rc "plan into the group that exists" 0
PLAN=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan.json")
if ! grep -q '"action": "create-resource-group"' "$TMP/plan.json"; then
	pass "the plan does not create the group"; else fail "the plan does not create the group"; fi
run "$NETWAVE" show "$PLAN" --db "$TMP/a.db"
expect_out "the offline plan's report says preflight was not run and how to run it" \
    "preflight: not run (plan is offline)"

# --- bad input -------------------------------------------------------------------------------
run "$NETWAVE" preflight pl-ffffffffffff --db "$TMP/a.db" $P
expect_rc "an unknown plan" 2
expect_err "names the plan" "pl-ffffffffffff"
expect_err "and the store" "$TMP/a.db"
run "$NETWAVE" preflight "$PLAN" --db "$TMP/none.db" $P
expect_rc "a store that does not exist" 2
expect_err "names the store file" "$TMP/none.db"
echo "not sqlite" >"$TMP/bad.db"
run "$NETWAVE" preflight "$PLAN" --db "$TMP/bad.db" $P
expect_rc "a file that is not a store" 2
expect_err "names it" "$TMP/bad.db"

# --- the estate as planned: no blockers -----------------------------------------------------
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
run "$NETWAVE" preflight "$PLAN" --db "$TMP/a.db" $P -o json
expect_rc "preflight of the estate as planned" 0
cp "$TMP/out" "$TMP/pf-ok.json"
valid "its JSON validates against preflight.schema.json" "$TMP/pf-ok.json"
if [ "$(jq -r '.ok' "$TMP/pf-ok.json")" = "true" ] && [ "$(jq -r '.summary.blockers' "$TMP/pf-ok.json")" = 0 ]; then
	pass "ok, no blockers"; else fail "ok, no blockers"; fi
N=$(jq -r '.summary.writes' "$TMP/pf-ok.json")
if [ "$N" -gt 10 ]; then pass "every write of the plan judged ($N)"; else fail "every write judged" "$N"; fi
if [ "$(writes)" -eq 0 ]; then pass "preflight sends no write"; else fail "preflight sends no write" "$(writes)"; fi
if [ "$(requests_to "/subscriptions/$SUB/resourcegroups")" -eq 1 ]; then
	pass "resource groups read once for the subscription"; else fail "resource groups read once"; fi
if [ "$(requests_to "/providers/Microsoft.Authorization/locks")" -eq 1 ]; then
	pass "locks read once for the subscription"; else fail "locks read once"; fi
if [ "$(sqlite3 "$TMP/a.db" "SELECT blockers || ':' || json_extract(document, '\$.plan') FROM preflights")" = "0:$PLAN" ]; then
	pass "the result is kept with the plan in the store"; else fail "the result is kept with the plan"; fi

# --- the group is deleted after planning: a blocker, and apply sends nothing ------------------
run curl -sS -m 10 -X DELETE "$BASE/subscriptions/$SUB/resourcegroups/rg-avnm?api-version=2021-04-01"
run "$NETWAVE" preflight "$PLAN" --db "$TMP/a.db" $P
expect_rc "preflight with the group gone" 1
expect_out "a blocker" "blockers:"
expect_out "naming the group" "group-missing  /subscriptions/$SUB/resourceGroups/rg-avnm"
expect_out "and the fix" "fix: create it (az group create --subscription $SUB --name rg-avnm"
expect_err "the error says what to do" "blocker(s) found"
if [ "$(sqlite3 "$TMP/a.db" "SELECT blockers FROM preflights")" = "1" ]; then
	pass "the stored result is the last one"; else fail "the stored result is the last one"; fi
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
run "$NETWAVE" apply "$PLAN" --db "$TMP/a.db" --no-history $P
expect_rc "apply with the group gone" 1
expect_err "stops on preflight's blocker" "preflight found 1 blocker(s): nothing was sent"
expect_err "showing the finding" "group-missing"
if [ "$(writes)" -eq 0 ]; then pass "apply sent no write"; else fail "apply sent no write" "$(writes) writes"; fi
run "$NETWAVE" status "$PLAN" --db "$TMP/a.db"
expect_line "and the plan is untouched" "^plan $PLAN: planned"

# --- with the group back, the same plan applies cleanly ----------------------------------------
run curl -sS -m 10 -X PUT -H 'Content-Type: application/json' -d '{"location":"eastus"}' \
    "$BASE/subscriptions/$SUB/resourcegroups/rg-avnm?api-version=2021-04-01"
run "$NETWAVE" preflight "$PLAN" --db "$TMP/a.db" $P
expect_rc "preflight with the group back" 0
run "$NETWAVE" apply "$PLAN" --db "$TMP/a.db" --no-history --all --yes $P
expect_rc "the same plan applies" 0
N=$(curl -sS -m 10 "$BASE/__netwave/state" | grep -c '"type": "Microsoft.Network/networkManagers"' || true)
if [ "$N" -ge 1 ]; then pass "the network manager exists"; else fail "the network manager exists"; fi

# --- refusals as Azure makes them: a role without commit, locks, a policy deny -------------
emulator_stop
# two spokes peered by hand: the mesh's clean-up (the decommission) deletes that peering
python3 "$top_srcdir/tests/cli/preflight_peer.py" "$TMP/estate.json" "$TMP/estate2.json"
sed -e "s|@SUB@|$SUB|g" "$DATA/preflight/clients.json" >"$TMP/clients.json"
emulator_start --seed "$TMP/estate2.json" --clients "$TMP/clients.json" --time-scale 5000 --seed-rng 7
unset NETWAVE_ACCESS_TOKEN
export AZURE_TENANT_ID=00000000-0000-4000-8000-00000000f11e AZURE_CLIENT_ID=pf-admin AZURE_CLIENT_SECRET=pf-admin-fake
run "$NETWAVE" discover --subscription "$SUB" $P --out "$TMP/current2.json"
expect_rc "discover with a client holding Owner" 0
sed -e "s|@SUB@|$SUB|g" "$DATA/preflight/intent.json" >"$TMP/intent2.json"
run "$NETWAVE" plan --current "$TMP/current2.json" --intent "$TMP/intent2.json" --db "$TMP/b.db" -o json \
    --out "$TMP/plan2.json"
expect_rc "plan the mesh with High-Scale Private Endpoints" 0
PLAN2=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan2.json")
SP="/subscriptions/$SUB/resourceGroups/rg-spokes-01/providers/Microsoft.Network/virtualNetworks"
PEER="$SP/spoke-01-0001/virtualNetworkPeerings/to-spoke-01-0002"
if grep -q "\"path\": \"$PEER\"" "$TMP/plan2.json"; then
	pass "the decommission deletes the hand-made peering"; else fail "the decommission deletes the hand-made peering"; fi
if grep -q '"privateEndpointVNetPolicies": "Basic"' "$TMP/plan2.json"; then
	pass "the plan sets privateEndpointVNetPolicies Basic"; else fail "the plan sets privateEndpointVNetPolicies Basic"; fi
run "$NETWAVE" preflight "$PLAN2" --db "$TMP/b.db" $P -o json
expect_rc "preflight as Owner with nothing in the way" 0
cp "$TMP/out" "$TMP/pf2-ok.json"
if [ "$(jq -r '[.checks[] | select(.status != "ran" and .name != "circuits")] | length' "$TMP/pf2-ok.json")" = 0 ]; then
	pass "every check ran against the emulator"; else fail "every check ran" "$(jq -c '.checks' "$TMP/pf2-ok.json")"; fi

sed -e "s|@SUB@|$SUB|g" "$DATA/preflight/authz.json" >"$TMP/authz.json"
run curl -sS -m 10 -f -X PUT -H 'Content-Type: application/json' --data-binary "@$TMP/authz.json" \
    "$BASE/__netwave/authz"
if [ "$RC" -eq 0 ]; then pass "locks and a policy deny put into the emulator"; else fail "locks and policy put"; fi
# the feature the plan registers is still registering (someone started it by hand)
run curl -sS -m 10 -f -X PATCH -H 'Content-Type: application/json' \
    -d '{"features":{"Microsoft.Network/EnableMaxPrivateEndpointsVia64kPath":"Registering"}}' \
    "$BASE/__netwave/observed"
export AZURE_CLIENT_ID=pf-nocommit AZURE_CLIENT_SECRET=pf-nocommit-fake
run "$NETWAVE" preflight "$PLAN2" --db "$TMP/b.db" $P -o json
expect_rc "preflight as a client without commit, with locks and a policy deny" 1
cp "$TMP/out" "$TMP/pf2.json"
valid "its JSON validates" "$TMP/pf2.json"
# finding CODE: the first finding with that code, compact
finding() { jq -c --arg c "$1" '[.findings[] | select(.code == $c)][0]' "$TMP/pf2.json"; }
F=$(finding permission-missing)
case "$F" in *"Network Contributor"*networkManagers/commit/action*) pass "commit/action missing, Network Contributor named" ;;
	*) fail "commit/action missing, Network Contributor named" "$F" ;; esac
case "$F" in *"\"scope\":\"/subscriptions/$SUB/resourceGroups/rg-avnm\""*) pass "at the network manager's group" ;;
	*) fail "at the network manager's group" "$F" ;; esac
F=$(finding lock-read-only)
case "$F" in *"\"resource\":\"$SP/spoke-01-0003\""*) pass "the ReadOnly lock on spoke-01-0003 blocks its PUT" ;;
	*) fail "the ReadOnly lock on spoke-01-0003 blocks its PUT" "$F" ;; esac
case "$F" in *"az lock delete"*) pass "with the fix" ;; *) fail "with the fix" "$F" ;; esac
F=$(finding lock-cannot-delete)
case "$F" in *decommission*"\"resource\":\"$PEER\""*) pass "the CanNotDelete lock blocks the decommission's delete" ;;
	*) fail "the CanNotDelete lock blocks the decommission's delete" "$F" ;; esac
F=$(finding policy-deny)
case "$F" in *no-basic-pe-policies*deny-basic*) pass "the policy deny names the assignment and definition" ;;
	*) fail "the policy deny names the assignment and definition" "$F" ;; esac
case "$F" in *"\"resource\":\"$SP/"*) pass "and a spoke it refuses" ;; *) fail "and a spoke it refuses" "$F" ;; esac
F=$(finding feature-registering)
case "$F" in *EnableMaxPrivateEndpointsVia64kPath*'"severity":"warning"'*) pass "the feature still registering is a warning" ;;
	*) fail "the feature still registering is a warning" "$F" ;; esac

curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
run "$NETWAVE" apply "$PLAN2" --db "$TMP/b.db" --no-history --all --yes $P
expect_rc "apply with the refusals in place" 1
expect_err "stops on preflight" "nothing was sent"
if [ "$(writes)" -eq 0 ]; then pass "apply sent no write Azure would refuse"; else fail "apply sent no write" "$(writes)"; fi

# --- every refusal removed: the same plan applies cleanly ------------------------------------
run curl -sS -m 10 -f -X PUT -H 'Content-Type: application/json' \
    -d '{"locks":[],"policyAssignments":[],"denyAssignments":[]}' "$BASE/__netwave/authz"
export AZURE_CLIENT_ID=pf-admin AZURE_CLIENT_SECRET=pf-admin-fake
run "$NETWAVE" preflight "$PLAN2" --db "$TMP/b.db" $P
expect_rc "preflight with every refusal removed" 0
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
run "$NETWAVE" apply "$PLAN2" --db "$TMP/b.db" --no-history --all --yes $P
expect_rc "the same plan applies cleanly" 0
N=$(curl -sS -m 10 "$BASE/__netwave/requests" | jq '[.[] | select(.status == 403 or .status == 409)] | length')
if [ "$N" -eq 0 ]; then pass "no write was refused"; else fail "no write was refused" "$N"; fi

finish
