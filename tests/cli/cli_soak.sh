#!/bin/sh
# Soaks against `netwave emulator`: the emulator announces its time scale at
# /__netwave/health and `apply` divides soaks by it (an hour between waves
# passes in under a second at --time-scale 5000, where it stopped the run
# before); a soak too long even scaled stops the run (exit 5), and
# `apply --end-soak --by NAME --reason TEXT` ends it on a person's word,
# refused (exit 2) without both; who, why and when are in the soak gate's
# result, the journal (through status) and the next wave's history commit.
# The emulator's --latency delays every ARM request. Every wait is bounded.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

test_client 00000000-0000-4000-8000-0000000c5a0c netwave-cli-soak soak-only-secret

# start_emulator STATE [ARGS]: the emulator (lib.sh) on the estate, its state in STATE
start_emulator() {
	st=$1
	shift
	emulator_start --seed "$TMP/estate.json" --state "$st" --time-scale 5000 --seed-rng 3 "$@"
}

# make_plan DB SOAK: discover, and plan a three-wave mesh with SOAK between waves
make_plan() {
	plan_mesh "$1" nm-soak '{ "soak": { "betweenWaves": "'"$2"'" },
	    "waves": [ { "name": "pilot", "members": { "tags": { "env": "dev" } } },
	    { "name": "light", "members": { "tags": { "traffic": "light" } } }, { "name": "rest" } ] }'
}

"$NETWAVE" synth --hubs 1 --spokes-per-hub 6 --seed 5 -o "$TMP/estate.json" 2>/dev/null
SUB=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)"$/\1/p' "$TMP/estate.json" | head -n 1)

# --- the emulator says what it is ----------------------------------------------
start_emulator "$TMP/a.db" --latency 20
H=$(curl -sS -m 10 "$BASE/__netwave/health")
case "$H" in
*'"service":"netwave-emulator"'*'"timeScale":5000'*) pass "health names the emulator and its time scale" ;;
*) fail "health names the emulator and its time scale" "$H" ;;
esac
case "$H" in
*'"latencyMs":20'*) pass "health says the per-request latency" ;;
*) fail "health says the per-request latency" "$H" ;;
esac

# --- an hour between waves, scaled like the emulator's clock ----------------------
make_plan "$TMP/a.sqlite" 1h
expect_rc "a plan with an hour's soak between waves" 0
if grep -q '"soakSeconds": 3600' "$TMP/plan.json"; then pass "the plan soaks an hour after each wave"; else
	fail "the plan soaks an hour after each wave"; fi
run "$NETWAVE" apply "$PLAN" --db "$TMP/a.sqlite" --all --no-history $P
expect_rc "apply --all runs through the soaks, scaled" 0
expect_err "and says it scaled them" "netwave emulator at time scale 5000: soaks are divided by 5000"
run "$NETWAVE" status "$PLAN" --db "$TMP/a.sqlite" --format json
# pilot's and light's soaks passed (rest's, after the last wave, has no wave to hold back)
if [ "$(grep -A1 '"kind": "soak"' "$TMP/out" | grep -c '"status": "passed"')" -eq 2 ]; then
	pass "the soaks between waves passed"
else
	fail "the soaks between waves passed" "$(grep -A1 '"kind": "soak"' "$TMP/out")"
fi
# --latency: an ARM request takes at least its 20 ms (a lower bound: a busy machine only adds)
TOKEN=$(curl -sS -m 10 -d "grant_type=client_credentials&client_id=$AZURE_CLIENT_ID&client_secret=$AZURE_CLIENT_SECRET&scope=https://management.azure.com/.default" \
    "$BASE/$AZURE_TENANT_ID/oauth2/v2.0/token" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
T=$(curl -sS -m 10 -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
    "$BASE/subscriptions/$SUB/resourceGroups?api-version=2021-04-01")
if [ -n "$TOKEN" ] && awk -v t="$T" 'BEGIN { exit !(t >= 0.020) }'; then
	pass "an ARM request is answered no sooner than --latency ($T s)"
else
	fail "an ARM request is answered no sooner than --latency" "token '${TOKEN:+yes}', $T s"
fi
emulator_stop

# --- two weeks between waves: longer than apply waits, even scaled (242 s) ----------
start_emulator "$TMP/b.db"
DB="$TMP/b.sqlite"
make_plan "$DB" 2w
expect_rc "a plan with two weeks' soak between waves" 0
run "$NETWAVE" apply "$PLAN" --db "$DB" --through pilot $P
expect_rc "prepare and pilot apply" 0
run "$NETWAVE" apply "$PLAN" --db "$DB" $P
expect_rc "the next wave waits for the soak: exit 5" 5
expect_err "the soak is named" "wave pilot is soaking"

run "$NETWAVE" apply "$PLAN" --db "$DB" --end-soak $P
expect_rc "--end-soak without --by and --reason is refused" 2
expect_err "saying what it needs" "'--end-soak' needs '--by NAME' and '--reason TEXT'"
run "$NETWAVE" apply "$PLAN" --db "$DB" --end-soak --by alice $P
expect_rc "--end-soak without --reason is refused" 2
run "$NETWAVE" apply "$PLAN" --db "$DB" --end-soak --reason "metrics clean" $P
expect_rc "--end-soak without --by is refused" 2
run "$NETWAVE" apply "$PLAN" --db "$DB" --by alice --reason "metrics clean" $P
expect_rc "--by and --reason without --end-soak are refused" 2
run "$NETWAVE" status "$PLAN" --db "$DB"
expect_line "nothing was ended by the refused runs" '^next: apply wave light after '

run "$NETWAVE" apply "$PLAN" --db "$DB" --end-soak --by alice --reason "pilot metrics clean for 3 days" $P
expect_rc "--end-soak ends pilot's soak and the next wave, light, applies" 0
expect_out "the run says the soak was ended" "ended early by alice"
run "$NETWAVE" apply "$PLAN" --db "$DB" $P
expect_rc "the override was for that soak only: light's soak stops the next run" 5
expect_err "the next soak is light's" "wave light is soaking"
run "$NETWAVE" status "$PLAN" --db "$DB"
expect_line "status shows light done" '^   3  light +mesh +done '
expect_line "status says who ended the soak, when and why (from the journal)" \
    '^  the soak after wave pilot was ended early \([0-9]+ s left\) by alice at 20[0-9-]+T[0-9:]+Z: pilot metrics clean for 3 days$'
expect_out "the soak gate's result says so" "ended early by alice at "
run "$NETWAVE" status "$PLAN" --db "$DB" --format json
expect_out "status json lists the override" '"soakOverrides": ['
expect_out "with who" '"by": "alice"'
run "$NETWAVE" history log --db "$DB" --format json
expect_rc "the history can be read" 0
expect_out "the next wave's history commit records the override" \
    "The soak after wave pilot was ended early"
expect_out "with who and why" "by alice at "
run "$NETWAVE" apply "$PLAN" --db "$DB" --end-soak --by bob --reason "again" --wave rest $P
expect_rc "a second --end-soak ends light's soak and rest applies" 0
run "$NETWAVE" status "$PLAN" --db "$DB" --format json
if [ "$(grep -c '"by": "bob"' "$TMP/out")" -ge 1 ] && [ "$(grep -c '"by": "alice"' "$TMP/out")" -ge 1 ]; then
	pass "both overrides are kept"
else
	fail "both overrides are kept"
fi
emulator_stop
finish
