#!/bin/sh
# Resource groups and feature registrations against `netwave emulator` on
# 127.0.0.1 (issue 9, items 3 and 5).  The estate's spokes sit in subscription
# 1; subscription 2 holds only an empty group; the network manager goes into
# a group of subscription 2 that does not exist, and the mesh needs
# High-Scale Private Endpoints (17 spokes of 120 private endpoints: 2,040 in
# the mesh).  Discovery records the groups; the plan creates the group first
# and registers EnableMaxPrivateEndpointsVia64kPath on both subscriptions;
# the prepare wave does so; rolling it back deletes the group only when this
# plan created it and it is empty, and never a group that existed before.
# Then a smaller mesh without HSPE is applied with --all and a fresh
# discovery records the group exactly as the target predicted.  Every wait
# is bounded; the emulator is killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

# an emulator without authentication: the token is plainly fake
export NETWAVE_ACCESS_TOKEN=fake-token
export NETWAVE_NO_LIVE=1
unset NETWAVE_DB 2>/dev/null || true
SUB2=00000000-0000-4000-8000-00000000b002
FEAT=EnableMaxPrivateEndpointsVia64kPath

# start_emulator SEED: the emulator (lib.sh) on SEED; BASE is empty when it did not start
start_emulator() {
	emulator_start --seed "$1" --time-scale 5000 --seed-rng 7 --no-auth || true
}

# requests METHOD STATUS PATH-SUFFIX: how many requests the emulator answered so
requests() {
	curl -sS -m 10 "$BASE/__netwave/requests" | tr '}' '\n' | grep -F "\"method\":\"$1\"" |
	    grep -F "\"status\":$2," | grep -ciF "$3\",\"query\"" || true
}

rg_status() {
	curl -sS -m 10 -o /dev/null -w '%{http_code}' \
	    "$BASE/subscriptions/$1/resourceGroups/$2?api-version=2021-04-01"
}

# seed SPOKES PE: a synthesized estate plus subscription 2 with an empty group, rg-shared
seed() {
	"$NETWAVE" synth --hubs 1 --spokes-per-hub "$1" --pe-per-spoke "$2" --seed 3 \
	    -o "$TMP/synth.json" 2>/dev/null
	SUB=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)"$/\1/p' "$TMP/synth.json" | head -n 1)
	sed -e "s|^  \"resources\": \[\$|  \"resources\": [ { \"id\": \"/subscriptions/$SUB2/resourceGroups/rg-shared\", \"name\": \"rg-shared\", \"type\": \"Microsoft.Resources/resourceGroups\", \"location\": \"eastus\", \"properties\": { \"provisioningState\": \"Succeeded\" } },|" \
	    -e "s|^  \"subscriptions\": \[\$|  \"subscriptions\": [ \"$SUB2\",|" \
	    "$TMP/synth.json" >"$TMP/estate.json"
}

intent() {
	mesh_intent "/subscriptions/$SUB2/resourceGroups/$1/providers/Microsoft.Network/networkManagers/nm-rg"
}

# --- discovery records the groups ---------------------------------------------------
seed 17 120
start_emulator "$TMP/estate.json"
if [ -n "$BASE" ]; then pass "the emulator listens"; else fail "the emulator listens"; fi
run "$NETWAVE" discover --subscription "$SUB" --subscription "$SUB2" $P -o "$TMP/current.json"
expect_rc "discover both subscriptions" 0
N=$(grep -c '"type": "Microsoft.Resources/resourceGroups"' "$TMP/current.json" || true)
if [ "$N" -eq 4 ]; then pass "discovery records the four resource groups"; else
	fail "discovery records the four resource groups" "found $N"; fi
if grep -q "\"id\": \"/subscriptions/$SUB2/resourceGroups/rg-shared\"" "$TMP/current.json"; then
	pass "including the empty one in subscription 2"; else fail "including the empty one in subscription 2"; fi

# --- the plan creates the group and registers the feature on both subscriptions -------
intent rg-net
run "$NETWAVE" plan --current "$TMP/current.json" --intent "$TMP/intent.json" --db "$TMP/a.db" \
    --format json -o "$TMP/plan.json"
expect_rc "plan" 0
PLAN=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan.json")
N=$(grep -c '"action": "create-resource-group",' "$TMP/plan.json" || true)
if [ "$N" -eq 1 ]; then pass "one create-resource-group step"; else
	fail "one create-resource-group step" "found $N"; fi
for S in "$SUB" "$SUB2"; do
	if grep -q "\"path\": \"/subscriptions/$S/providers/Microsoft.Features/providers/Microsoft.Network/features/$FEAT/register\"" "$TMP/plan.json"; then
		pass "the plan registers $FEAT on $S"; else fail "the plan registers $FEAT on $S"; fi
	if grep -q "\"path\": \"/subscriptions/$S/providers/Microsoft.Network/register\"" "$TMP/plan.json"; then
		pass "and re-registers Microsoft.Network on $S"; else fail "and re-registers Microsoft.Network on $S"; fi
done
run "$NETWAVE" show "$PLAN" --db "$TMP/a.db"
expect_rc "show the plan" 0
expect_out "the report says which groups the plan creates" "resource groups created"
expect_line "naming rg-net in subscription 2" "^  /subscriptions/$SUB2/resourceGroups/rg-net  eastus  step w01-s0001"
run "$NETWAVE" show "$PLAN" --db "$TMP/a.db" --format markdown
expect_out "and so does the markdown report" "**Resource groups.**"
intent rg-shared
run "$NETWAVE" plan --current "$TMP/current.json" --intent "$TMP/intent.json" --db "$TMP/x.db" \
    --format json -o "$TMP/plan-shared.json"
expect_rc "plan into the group that exists" 0
N=$(grep -c '"action": "create-resource-group",' "$TMP/plan-shared.json" || true)
if [ "$N" -eq 0 ]; then pass "a group that exists is not created"; else
	fail "a group that exists is not created" "found $N"; fi

# --- apply the prepare wave ---------------------------------------------------------------
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
run "$NETWAVE" apply "$PLAN" --db "$TMP/a.db" --wave prepare $P
expect_rc "apply the prepare wave" 0
expect_out "whose feature gate passes" "feature-registered passed"
if [ "$(rg_status "$SUB2" rg-net)" = 200 ]; then pass "rg-net exists after"; else fail "rg-net exists after"; fi
if [ "$(requests PUT 201 "/resourceGroups/rg-net")" -eq 1 ]; then pass "created by one PUT (201)"; else
	fail "created by one PUT (201)"; fi
for S in "$SUB" "$SUB2"; do
	if [ "$(requests POST 200 "/subscriptions/$S/providers/Microsoft.Features/providers/Microsoft.Network/features/$FEAT/register")" -eq 1 ]; then
		pass "$FEAT registered once on $S"; else fail "$FEAT registered once on $S"; fi
	if [ "$(requests POST 200 "/subscriptions/$S/providers/Microsoft.Network/register")" -eq 1 ]; then
		pass "Microsoft.Network re-registered once on $S"; else fail "Microsoft.Network re-registered once on $S"; fi
done
N=$(curl -sS -m 10 "$BASE/__netwave/requests" | tr '}' '\n' | grep -F '"method":"PUT"' |
    grep -F '/networkManagers/nm-rg"' | grep -F '"status":201,' | sed 's/.*"seq":\([0-9]*\).*/\1/')
G=$(curl -sS -m 10 "$BASE/__netwave/requests" | tr '}' '\n' | grep -F '"method":"PUT"' |
    grep -F '/resourceGroups/rg-net"' | sed 's/.*"seq":\([0-9]*\).*/\1/')
if [ -n "$N" ] && [ -n "$G" ] && [ "$G" -lt "$N" ]; then pass "the group is created before the manager"; else
	fail "the group is created before the manager" "group seq '$G', manager seq '$N'"; fi

# --- rollback deletes the group this plan created, once empty ------------------------------
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
run "$NETWAVE" rollback "$PLAN" --db "$TMP/a.db" --all --yes $P
expect_rc "roll the prepare wave back" 0
expect_out "proving the way back" "the way back is proven"
if [ "$(rg_status "$SUB2" rg-net)" = 404 ]; then pass "rg-net is gone"; else fail "rg-net is gone"; fi
if [ "$(requests DELETE 202 "/resourceGroups/rg-net")" -eq 1 ]; then pass "deleted by one DELETE (202)"; else
	fail "deleted by one DELETE (202)"; fi
if [ "$(requests GET 200 "/resourceGroups/rg-net/resources")" -ge 1 ]; then
	pass "after reading that it was empty"; else fail "after reading that it was empty"; fi
if [ "$(rg_status "$SUB2" rg-shared)" = 200 ]; then pass "rg-shared is untouched"; else fail "rg-shared is untouched"; fi

# --- ...but not when something else lives in it ----------------------------------------------
run "$NETWAVE" apply "$PLAN" --db "$TMP/a.db" --wave prepare $P
expect_rc "apply the prepare wave again" 0
OTHER="/subscriptions/$SUB2/resourceGroups/rg-net/providers/Microsoft.Network/routeTables/rt-someone-else"
curl -sS -m 10 -X PUT -H 'Content-Type: application/json' \
    -d "{\"id\": \"$OTHER\", \"name\": \"rt-someone-else\", \"type\": \"Microsoft.Network/routeTables\", \"location\": \"eastus\", \"properties\": {\"routes\": []}}" \
    "$BASE/__netwave/resources?id=$OTHER" >/dev/null
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
run "$NETWAVE" rollback "$PLAN" --db "$TMP/a.db" --all --yes $P
expect_rc "roll back with a stranger in the group" 0
expect_out "saying why the group stays" "holds 1 resource (first $OTHER): not deleted"
expect_out "and proving the way back" "the way back is proven"
if [ "$(rg_status "$SUB2" rg-net)" = 200 ]; then pass "rg-net stays"; else fail "rg-net stays"; fi
if [ "$(requests DELETE 202 "/resourceGroups/rg-net")" -eq 0 ]; then pass "no DELETE of the group was sent"; else
	fail "no DELETE of the group was sent"; fi
curl -sS -m 10 -X DELETE "$BASE/__netwave/resources?id=$OTHER" >/dev/null

# --- ...and never a group that existed before the plan ----------------------------------------
# rg-net now exists (empty, tagged by its owner) but the plan was made when it did not
curl -sS -m 10 -X PUT -H 'Content-Type: application/json' -d '{"location": "eastus", "tags": {"owner": "someone"}}' \
    "$BASE/subscriptions/$SUB2/resourceGroups/rg-net?api-version=2021-04-01" >/dev/null
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
intent rg-net
run "$NETWAVE" plan --current "$TMP/current.json" --intent "$TMP/intent.json" --db "$TMP/b.db" \
    --format json -o "$TMP/plan-b.json"
PLANB=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan-b.json")
run "$NETWAVE" apply "$PLANB" --db "$TMP/b.db" --wave prepare $P
expect_rc "apply the prepare wave of a plan made before the group existed" 0
expect_out "leaving the group as it is" "rg-net exists already: nothing to create, and it is left as it is"
if [ "$(requests PUT 200 "/resourceGroups/rg-net")" -eq 0 ] && [ "$(requests PUT 201 "/resourceGroups/rg-net")" -eq 0 ]; then
	pass "no PUT replaces its tags"; else fail "no PUT replaces its tags"; fi
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
run "$NETWAVE" rollback "$PLANB" --db "$TMP/b.db" --all --yes $P
expect_rc "roll it back" 0
expect_out "saying the group existed before" "existed before the plan: netwave did not create it and leaves it"
if [ "$(rg_status "$SUB2" rg-net)" = 200 ]; then pass "the group that existed before stays"; else
	fail "the group that existed before stays"; fi
if [ "$(requests DELETE 202 "/resourceGroups/rg-net")" -eq 0 ]; then pass "and no DELETE of it was sent"; else
	fail "and no DELETE of it was sent"; fi
if curl -sS -m 10 "$BASE/subscriptions/$SUB2/resourceGroups/rg-net?api-version=2021-04-01" | grep -qF '"owner":"someone"'; then
	pass "with its owner's tags"; else fail "with its owner's tags"; fi
emulator_stop

# --- apply --all: a fresh discovery records the group as the target predicted ------------------
seed 4 0
start_emulator "$TMP/estate.json"
run "$NETWAVE" discover --subscription "$SUB" --subscription "$SUB2" $P -o "$TMP/current2.json"
expect_rc "discover the small estate" 0
intent rg-mesh
run "$NETWAVE" target --current "$TMP/current2.json" --intent "$TMP/intent.json" -o "$TMP/target2.json"
expect_rc "the target" 0
run "$NETWAVE" plan --current "$TMP/current2.json" --intent "$TMP/intent.json" --db "$TMP/c.db" \
    --format json -o "$TMP/plan-c.json"
PLANC=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan-c.json")
run "$NETWAVE" apply "$PLANC" --db "$TMP/c.db" --all $P
expect_rc "apply --all" 0
run "$NETWAVE" discover --subscription "$SUB" --subscription "$SUB2" $P -o "$TMP/after.json"
expect_rc "discover after" 0
# the group's record, as canonical text (resources are ordered by id, keys sorted)
group_record() {
	awk -v id="\"id\": \"/subscriptions/$SUB2/resourceGroups/rg-mesh\"," \
	    'index($0, id) { on = 1 } on { print } on && /^    }/ { exit }' "$1"
}
group_record "$TMP/target2.json" >"$TMP/g-target"
group_record "$TMP/after.json" >"$TMP/g-after"
if [ -s "$TMP/g-target" ] && cmp -s "$TMP/g-target" "$TMP/g-after"; then
	pass "discovery after apply records rg-mesh exactly as the target predicted"; else
	fail "discovery after apply records rg-mesh exactly as the target predicted" \
	    "target: $(tr -d '\n' <"$TMP/g-target") after: $(tr -d '\n' <"$TMP/g-after")"; fi
emulator_stop
finish
