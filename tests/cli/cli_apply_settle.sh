#!/bin/sh
# netwave apply against a standalone `netwave emulator`: drift judged at the
# granularity a step writes, and writes settled by reading before any
# re-send.  A mesh with High-Scale Private Endpoints and a decommission
# applies (and rehearses) with no false drift, while a subnet changed out of
# band stops the run with exit 3 naming it.  Then the POST actions (commit,
# prepareMigration, executeMigration) under the emulator's reset-after,
# status-404 and lro-failed faults; a crash after every journal write in
# turn of a mesh wave; an emulator restart mid-operation.  Each ends at the
# target with the documented exit codes, and the emulator's request log
# shows no write accepted (2xx) more often than the plan sends it.
# The one-hour soak before commitMigration is scaled like the emulator's
# clock, so the faulted runs go on through the commit.  Every wait is bounded.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

export NETWAVE_ACCESS_TOKEN=test-token
unset NETWAVE_DB NETWAVE_TEST_CRASH_AFTER 2>/dev/null || true
export NETWAVE_NO_LIVE=1
SCALE=20000

# start_emulator SEED STATE: the emulator (lib.sh) without authentication, at $SCALE
start_emulator() {
	emulator_start --seed "$1" --state "$2" --no-auth --time-scale "$SCALE" --seed-rng 7
}

# faults RULES: replaces the emulator's fault rules
faults() {
	curl -sS -m 10 -X PUT -H 'Content-Type: application/json' \
	    -d "{ \"format\": \"netwave.faults/v1\", \"rules\": [ $1 ] }" "$BASE/__netwave/faults" >/dev/null
}

# plan_writes: "METHOD PATH" of every forward write of the plan, one a line
plan_writes() {
	awk '/^          "inverse": \{/ { inv = 1 } /^          "operation": \{/ { inv = 0 }
	    /^            "method": "(PUT|PATCH|DELETE|POST)",$/ { m = $2; gsub(/[",]/, "", m); next_is = 1; next }
	    next_is && /^            "path": / { p = $2; gsub(/"/, "", p); if (!inv) print m, p; next_is = 0; next }
	    { next_is = 0 }' "$TMP/plan.json"
}

# accepted_writes: "METHOD PATH" of every write the emulator answered 2xx, or carried out and
# then reset (reset-after logs "reset": true), not counting reads sent as POST
accepted_writes() {
	curl -sS -m 10 "$BASE/__netwave/requests" | tr '}' '\n' |
	    grep -E '"method":"(PUT|PATCH|DELETE|POST)"' | grep -E '"status":20[0-9]|"reset":true' |
	    sed -n 's/.*"method":"\([A-Z]*\)","path":"\([^"]*\)".*/\1 \2/p' |
	    grep -v -e '/listDeploymentStatus$' -e '/effectiveRouteTable$' -e 'Microsoft.ResourceGraph' \
	        -e '/routeTables/primary$' -e '/routeTables/secondary$' -e '/listActiveConnectivityConfigurations$' \
	        -e '/listNetworkManagerEffectiveConnectivityConfigurations$' -e '/checkPolicyRestrictions$' \
	        -e '/learnedRoutes$' -e '/advertisedRoutes$' || true
}

# twice LIMIT_EXTRA: writes accepted more often than the plan sends them (LIMIT_EXTRA: a
# path pattern allowed one more, a write re-sent after its operation definitely failed)
twice() {
	plan_writes | sort | uniq -c | awk '{ print $2, $3, $1 }' >"$TMP/want"
	accepted_writes | sort | uniq -c | awk '{ print $2, $3, $1 }' >"$TMP/have"
	awk -v extra="${1:-}" 'NR == FNR { want[$1 " " $2] = $3; next }
	    { k = $1 " " $2; w = (k in want) ? want[k] : 0; if (extra != "" && index($2, extra) > 0) w++;
	      if ($3 > w) print $3 "x " k " (plan: " w ")" }' "$TMP/want" "$TMP/have"
}

# expect_once NAME [EXTRA]
expect_once() {
	D=$(twice "${2:-}")
	if [ -z "$D" ]; then pass "$1"; else fail "$1" "accepted too often: $D"; fi
}

# make_plan INTENT_EXTRA: discover and plan a mesh (HSPE on) plus INTENT_EXTRA changes
make_plan() {
	plan_mesh "$DB" nm-settle '{ "waves": [ { "name": "pilot", "members": { "tags": { "env": "dev" } } },
	    { "name": "rest" } ], "soak": { "beforeDecommission": "0s", "betweenWaves": "0s" } }' \
	    ', "highScalePrivateEndpoints": true' "$1"
}

# apply_until_done ARGS: applies until exit 0 or 5 (a soak), at most five runs; RCS gets the exit codes
apply_until_done() {
	RCS=""
	n=0
	RC=1
	while [ $n -lt 5 ] && [ "$RC" -ne 0 ] && [ "$RC" -ne 5 ]; do
		run "$NETWAVE" apply "$PLAN" --db "$DB" --yes --no-history --current "$TMP/current.json" "$@" $P
		RCS="$RCS$RC "
		n=$((n + 1))
	done
}

GW=', { "kind": "gateway-standard-ip", "gateways": { "all": true } }'

"$NETWAVE" synth --hubs 1 --spokes-per-hub 4 --pe-per-spoke 1 --seed 11 -o "$TMP/estate.json" 2>/dev/null
SUB=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)"$/\1/p' "$TMP/estate.json" | head -n 1)
SPOKE1=$(grep -o '"/subscriptions/[^"]*/virtualNetworks/spoke-01-0001"' "$TMP/estate.json" | head -n 1 | tr -d '"')
SPOKE2=$(grep -o '"/subscriptions/[^"]*/virtualNetworks/spoke-01-0002"' "$TMP/estate.json" | head -n 1 | tr -d '"')
SP2PFX=$(awk -v id="\"id\": \"$SPOKE2\"" 'index($0, id) { f = 1 } f && /"addressPrefixes"/ { getline; gsub(/[ ",]/, ""); print; exit }' "$TMP/estate.json")

# --- drift at the granularity a step writes ------------------------------------
# a UDR that sends spoke 1's traffic for spoke 2 to the gateway: the decommission deletes it
start_emulator "$TMP/estate.json" "$TMP/emu-drift.db"
RG1=${SPOKE1%%/providers/*}
RT="$RG1/providers/Microsoft.Network/routeTables/rt-settle"
curl -sS -m 10 -X PUT -H 'Content-Type: application/json' -d "{\"id\": \"$RT\", \"name\": \"rt-settle\",
  \"type\": \"Microsoft.Network/routeTables\", \"location\": \"eastus\", \"properties\": {
  \"disableBgpRoutePropagation\": false, \"provisioningState\": \"Succeeded\", \"routes\": [ {
  \"id\": \"$RT/routes/to-spoke-2\", \"name\": \"to-spoke-2\", \"type\": \"Microsoft.Network/routeTables/routes\",
  \"properties\": { \"addressPrefix\": \"$SP2PFX\", \"nextHopType\": \"VirtualNetworkGateway\", \"provisioningState\": \"Succeeded\" } } ] } }" \
    "$BASE/__netwave/resources?id=$RT" >/dev/null
WL="$SPOKE1/subnets/workload"
curl -sS -m 10 "$BASE$WL?api-version=2024-05-01" |
    sed "0,/\"properties\": *{/s|\"properties\": *{|\"properties\": {\"routeTable\": {\"id\": \"$RT\"}, |" >"$TMP/wl.json"
curl -sS -m 10 -X PUT -H 'Content-Type: application/json' --data-binary @"$TMP/wl.json" \
    "$BASE/__netwave/resources?id=$WL" >/dev/null
DB="$TMP/drift.db"
make_plan ""
expect_rc "plan a mesh with High-Scale Private Endpoints" 0
if grep -q '"name": "hspe-' "$TMP/plan.json" && grep -q '"name": "decommission"' "$TMP/plan.json" &&
    grep -q '"action": "delete-route"' "$TMP/plan.json"; then
	pass "the plan has an HSPE wave and a decommission deleting the UDR"; else
	fail "the plan has an HSPE wave and a decommission deleting the UDR"; fi
run "$NETWAVE" apply "$PLAN" --db "$DB" --all --yes --dry-run --current "$TMP/current.json" $P
expect_rc "--dry-run rehearses every wave without false drift" 0
SUBNET=$(grep -o '"/subscriptions/[^"]*/virtualNetworks/spoke-01-0003/subnets/endpoints"' "$TMP/plan.json" | head -n 1 | tr -d '"')
run "$NETWAVE" apply "$PLAN" --db "$DB" --wave prepare --yes --current "$TMP/current.json" $P
expect_rc "the prepare wave applies" 0
# the subnet, changed out of band in a property no step writes
curl -sS -m 10 "$BASE$SUBNET?api-version=2024-05-01" | sed 's/"privateLinkServiceNetworkPolicies": *"Enabled"/"privateLinkServiceNetworkPolicies":"Disabled"/' >"$TMP/subnet.json"
curl -sS -m 10 -X PUT -H 'Content-Type: application/json' --data-binary @"$TMP/subnet.json" \
    "$BASE/__netwave/resources?id=$SUBNET" >/dev/null
run "$NETWAVE" apply "$PLAN" --db "$DB" --yes --current "$TMP/current.json" $P
expect_rc "a subnet changed out of band is drift" 3
expect_err "naming the subnet" "endpoints"
expect_err "and its property" "privateLinkServiceNetworkPolicies"
sed 's/"privateLinkServiceNetworkPolicies":"Disabled"/"privateLinkServiceNetworkPolicies":"Enabled"/' "$TMP/subnet.json" >"$TMP/subnet2.json"
curl -sS -m 10 -X PUT -H 'Content-Type: application/json' --data-binary @"$TMP/subnet2.json" \
    "$BASE/__netwave/resources?id=$SUBNET" >/dev/null
run "$NETWAVE" apply "$PLAN" --db "$DB" --all --yes --current "$TMP/current.json" $P
expect_rc "put back, every wave applies: HSPE subnets and the decommission are no drift" 0
expect_out "the HSPE wave is done" "wave hspe-hub-01 done"
expect_out "and the decommission" "wave decommission done"
if curl -sS -m 10 "$BASE/__netwave/state" 2>/dev/null | grep -q '"/routes/to-spoke-2"\|routes/to-spoke-2"'; then
	fail "the UDR to the gateway is gone"; else pass "the UDR to the gateway is gone"; fi
emulator_stop

# --- faults on each POST action kind ----------------------------------------------
for F in reset-after status-404 lro-failed; do
	DB="$TMP/fault-$F.db"
	start_emulator "$TMP/estate.json" "$TMP/emu-$F.db"
	make_plan "$GW"
	curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
	R=""
	for A in commit prepareMigration executeMigration; do
		R="$R${R:+, }{ \"method\": \"POST\", \"path\": \"*/$A\", \"times\": 1, \"action\": \"$F\" }"
	done
	faults "$R"
	apply_until_done --all
	FINAL=$RC
	run "$NETWAVE" status "$PLAN" --db "$DB"
	case $F in
	lro-failed)
		# a failed operation is a failed step (exit 1); the next run sends it again
		if [ "$RCS" = "1 1 1 0 " ]; then pass "$F on each POST kind fails its step, the next run sends it again (exit codes $RCS)"; else
			fail "$F on each POST kind fails its step, the next run sends it again" "exit codes $RCS"; fi
		;;
	*)
		if [ "$RCS" = "0 " ]; then pass "$F on every POST kind is settled by reading in one run (exit 0)"; else
			fail "$F on every POST kind is settled by reading in one run" "exit codes $RCS"; fi
		;;
	esac
	expect_line "$F: gateways-1 is done" "^ +[0-9]+ +gateways-1 +[a-z-]+ +done"
	# the soak before the commit is scaled like the emulator's clock: the run goes on to commit
	expect_line "$F: gateways-1-commit is done" "^ +[0-9]+ +gateways-1-commit +[a-z-]+ +done"
	if curl -sS -m 10 "$BASE/__netwave/state" 2>/dev/null | grep -q 'virtualNetworkGateways/ergw-hub-01_migrate"'; then
		pass "$F: the gateway migration is committed"; else fail "$F: the gateway migration is committed"; fi
	if [ "$F" = lro-failed ]; then
		# each action failed once and was sent once more, nothing else twice
		D=$(twice | sed 's/^\([0-9]*x [A-Z]*\) .*\/\([A-Za-z]*\) (plan: \([0-9]*\))$/\1 \2 \3/' | sort | tr '\n' ';')
		if [ "$D" = "2x POST executeMigration 1;2x POST prepareMigration 1;3x POST commit 2;" ]; then
			pass "$F: only the failed actions were sent again, once"; else
			fail "$F: only the failed actions were sent again, once" "$D"; fi
	else
		expect_once "$F: no write accepted twice"
	fi
	emulator_stop
done

# --- a crash after every journal write of a mesh wave, in turn ------------------------
DB0="$TMP/crash0.db"
start_emulator "$TMP/estate.json" "$TMP/emu-crash.db"
DB=$DB0
make_plan ""
run "$NETWAVE" apply "$PLAN" --db "$DB" --through hspe-hub-01 --yes --no-history --current "$TMP/current.json" $P
expect_rc "the waves before pilot apply" 0
N=1
CRASHED=0
BAD=""
while [ $N -le 60 ]; do
	DB="$TMP/crash-$N.db"
	cp "$DB0" "$DB"
	curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
	set +e
	NETWAVE_TEST_CRASH_AFTER=$N "$NETWAVE" apply "$PLAN" --db "$DB" --wave pilot --yes --no-history \
	    --current "$TMP/current.json" $P >/dev/null 2>&1
	CRC=$?
	set -e
	[ "$CRC" -eq 0 ] && break
	CRASHED=$((CRASHED + 1))
	apply_until_done --wave pilot
	if [ "$RC" -ne 0 ]; then BAD="$BAD crash $N: resume exit codes $RCS;"; fi
	D=$(twice)
	[ -z "$D" ] || BAD="$BAD crash $N: $D;"
	# back to before the wave for the next trial
	run "$NETWAVE" rollback "$PLAN" --db "$DB" --wave pilot --yes --no-history $P
	[ "$RC" -eq 0 ] || BAD="$BAD crash $N: rollback exit $RC;"
	N=$((N + 1))
done
if [ "$CRASHED" -ge 5 ] && [ "$CRC" -eq 0 ]; then pass "a crash after each of the wave's $CRASHED journal writes"; else
	fail "a crash after each of the wave's journal writes" "$CRASHED crashes, last exit $CRC"; fi
if [ -z "$BAD" ]; then pass "each resumes to the target with no write accepted twice"; else
	fail "each resumes to the target with no write accepted twice" "$BAD"; fi
emulator_stop

# --- the emulator restarted mid-operation -------------------------------------------
DB="$TMP/restart.db"
SCALE=100
start_emulator "$TMP/estate.json" "$TMP/emu-restart.db"
make_plan ""
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
"$NETWAVE" apply "$PLAN" --db "$DB" --through pilot --yes --no-history --current "$TMP/current.json" $P \
    >"$TMP/bg.out" 2>"$TMP/bg.err" &
BG=$!
i=0
while [ $i -lt 300 ] && ! curl -sS -m 10 "$BASE/__netwave/requests" | grep -q '"method":"POST","path":"[^"]*/commit"'; do
	sleep 0.1
	i=$((i + 1))
done
PORT=${BASE##*:}
emulator_stop -9
emulator_start --listen "127.0.0.1:$PORT" --seed "$TMP/estate.json" --state "$TMP/emu-restart.db" \
    --no-auth --time-scale 20000 --seed-rng 7 || true
set +e
wait "$BG"
BGRC=$?
set -e
BG=""
apply_until_done --through pilot
if [ "$RC" -eq 0 ]; then pass "after an emulator restart mid-commit the run reaches the target (exit $BGRC, then $RCS)"; else
	fail "after an emulator restart mid-commit the run reaches the target" "exit $BGRC, then $RCS"; fi
emulator_stop

finish
