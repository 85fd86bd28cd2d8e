#!/bin/sh
# netwave apply, rollback, status and demo as processes against a standalone
# `netwave emulator --state` on 127.0.0.1, authenticated with a client secret
# at the emulator's token endpoint: a wave by wave mesh migration with JSON
# progress, status, rollback, drift (exit 3), a held plan (exit 4), bad usage
# (exit 2), a rehearsal that touches nothing, kill -9 at random moments (20
# trials, each rerun to completion with no POST action accepted twice), a
# scan for the secret in everything written, and the demo.  Every wait is
# bounded; the emulator and any apply left running are killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

SECRET="canary-cli-5ecret-0042"
test_client 00000000-0000-4000-8000-0000000c1100 netwave-cli-tests "$SECRET"

# start_emulator STATE: the emulator on the estate, its state kept in STATE (lib.sh)
start_emulator() {
	emulator_start --seed "$TMP/estate.json" --state "$1" --time-scale 5000 --seed-rng 7 \
	    ${FAULTS:+--faults "$FAULTS"}
}

# accepted SUFFIX: POST requests ending in SUFFIX the emulator answered 2xx
accepted() {
	curl -sS -m 10 "$BASE/__netwave/requests" | tr '}' '\n' | grep '"method":"POST"' |
	    grep -F "$1\"" | grep -c '"status":20[0-9]' || true
}

# in_state TEXT: how often TEXT occurs in the emulator's estate
in_state() {
	curl -sS -m 10 "$BASE/__netwave/state" | grep -oF -- "$1" | wc -l | tr -d ' '
}

SUB=""
make_plan() {
	plan_mesh "$DB" nm-cli '{ "waves": [ { "name": "pilot", "members": { "tags": { "env": "dev" } } },
	    { "name": "light", "members": { "tags": { "traffic": "light" } } }, { "name": "rest" } ] }'
	COMMITS=$(grep -c '"action": "commit",' "$TMP/plan.json" || true)
	MEMBERS=$(grep -c '"action": "add-static-member",' "$TMP/plan.json" || true)
}

"$NETWAVE" synth --hubs 1 --spokes-per-hub 8 --seed 5 -o "$TMP/estate.json" 2>/dev/null
SUB=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)"$/\1/p' "$TMP/estate.json" | head -n 1)
DB="$TMP/netwave.db"
start_emulator "$TMP/emu.db"
if [ -n "$BASE" ]; then pass "the emulator listens"; else fail "the emulator listens"; fi

make_plan
expect_rc "plan from the discovered estate" 0
if [ -n "$PLAN" ] && [ "$COMMITS" -eq 3 ]; then pass "plan $PLAN has three mesh commits"; else
	fail "the plan has an id and three commits" "id '$PLAN', commits $COMMITS"; fi

# --- bad usage ----------------------------------------------------------------
run "$NETWAVE" apply "$PLAN" --db "$DB" --wave pilot --all $P
expect_rc "--wave with --all is bad usage" 2
run "$NETWAVE" apply "$PLAN" --db "$DB" --wave pilott $P
expect_rc "an unknown wave is bad input" 2
expect_err "and the message lists the waves" "its waves: prepare, pilot, light, rest"
run "$NETWAVE" apply "$PLAN" --db "$DB" --wave light $P
expect_rc "a wave before whose predecessors are done is refused" 2
expect_err "naming the wave in the way" "cannot start before wave prepare"
run "$NETWAVE" apply pl-ffffffff --db "$DB" $P
expect_rc "an unknown plan is bad input" 2

# --- a rehearsal touches nothing ------------------------------------------------
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
run "$NETWAVE" apply "$PLAN" --db "$DB" --all --dry-run $P
expect_rc "--dry-run rehearses every wave" 0
expect_out "and says nothing real was touched" "nothing real was touched"
N=$(curl -sS -m 10 "$BASE/__netwave/requests" | tr '}' '\n' | grep -c '"seq"' || true)
if [ "$N" -eq 0 ]; then pass "the real emulator saw no request during the rehearsal"; else
	fail "the real emulator saw no request during the rehearsal" "$N requests"; fi
run "$NETWAVE" status "$PLAN" --db "$DB"
expect_line "the real plan is untouched by the rehearsal" "^plan $PLAN: planned"

# --- wave by wave ----------------------------------------------------------------
run "$NETWAVE" apply "$PLAN" --db "$DB" $P
expect_rc "apply without a scope does the next wave" 0
expect_out "which is prepare" "wave prepare done"
run "$NETWAVE" status --db "$DB"
expect_rc "status of the newest plan" 0
expect_line "prepare is done" "^ +1 +prepare +prepare +done"
expect_out "and says what is next" "next: apply wave pilot"
run "$NETWAVE" apply "$PLAN" --db "$DB" --through light --format json $P
expect_rc "apply --through light" 0
if grep -qv '^{.*}$' "$TMP/out"; then fail "--format json prints one JSON object per line"; else
	pass "--format json prints one JSON object per line"; fi
expect_out "with a wave-done event for light" '"event":"wave-done"'
expect_out "and gate results" '"event":"gate-result"'
if python3 "$top_srcdir/tests/cli/schema_check.py" --lines "$top_srcdir/docs/schemas" "$TMP/out" \
    >"$TMP/schema.out" 2>&1; then pass "every event line is netwave.event/v1 (docs/schemas)"; else
	fail "every event line is netwave.event/v1 (docs/schemas)" "$(tail -n 3 "$TMP/schema.out")"; fi
run "$NETWAVE" status "$PLAN" --db "$DB" --format json
expect_out "status --format json is netwave.status/v1" '"format": "netwave.status/v1"'

# --- drift: exit 3 naming the resource and property --------------------------
REST_MEMBER=$(grep -o '"/subscriptions/[^"]*/staticMembers/sm-[^"]*"' "$TMP/plan.json" | tail -n 1 | tr -d '"')
curl -sS -m 10 -X PUT -H 'Content-Type: application/json' \
    -d "{\"id\": \"$REST_MEMBER\", \"name\": \"${REST_MEMBER##*/}\", \"type\": \"Microsoft.Network/networkManagers/networkGroups/staticMembers\", \"properties\": {\"resourceId\": \"/subscriptions/$SUB/resourceGroups/x/providers/Microsoft.Network/virtualNetworks/elsewhere\"}}" \
    "$BASE/__netwave/resources?id=$REST_MEMBER" >/dev/null
run "$NETWAVE" apply "$PLAN" --db "$DB" $P
expect_rc "drift in what the next wave touches stops with exit 3" 3
expect_err "naming the resource" "${REST_MEMBER##*/}"
expect_out "and the change" "drift in what wave rest touches"
curl -sS -m 10 -X DELETE "$BASE/__netwave/resources?id=$REST_MEMBER" >/dev/null

# --- a held plan: exit 4 naming the holder -------------------------------------
emulator_stop
FAULTS="$TMP/slow.json"
cat >"$FAULTS" <<EOF
{ "format": "netwave.faults/v1", "rules": [ { "method": "PUT", "path": "*/staticMembers/*", "action": "latency", "ms": 2000 } ] }
EOF
start_emulator "$TMP/emu.db"
"$NETWAVE" apply "$PLAN" --db "$DB" --parallel 1 $P >"$TMP/bg.out" 2>"$TMP/bg.err" &
BG=$!
# until the background apply holds the plan (bounded: 240 looks, a quarter second apart)
i=0
while [ $i -lt 240 ] && ! "$NETWAVE" status "$PLAN" --db "$DB" 2>/dev/null | grep -q "held by"; do
	sleep 0.25
	i=$((i + 1))
done
run "$NETWAVE" apply "$PLAN" --db "$DB" $P
expect_rc "a second apply on a held plan exits 4" 4
expect_err "saying who holds it" "another run holds it (owner '$(id -un) apply', pid $BG"
run "$NETWAVE" rollback "$PLAN" --db "$DB" $P
expect_rc "so does a rollback" 4
set +e
wait "$BG"
BGRC=$?
set -e
BG=""
if [ "$BGRC" -eq 0 ]; then pass "the first apply finishes the rest wave"; else
	fail "the first apply finishes the rest wave" "exit $BGRC: $(tail -n 3 "$TMP/bg.err")"; fi
emulator_stop
FAULTS=""
start_emulator "$TMP/emu.db"
if [ "$(in_state '"type": "Microsoft.Network/networkManagers/networkGroups/staticMembers"')" -eq "$MEMBERS" ]; then
	pass "every static member of the plan exists"; else fail "every static member of the plan exists"; fi

# --- rollback, and apply again --------------------------------------------------
run "$NETWAVE" rollback "$PLAN" --db "$DB" $P
expect_rc "rollback undoes the last wave" 0
expect_out "and proves the way back" "the way back is proven"
expect_out "of wave rest" "wave rest rolled back"
run "$NETWAVE" rollback "$PLAN" --db "$DB" --wave pilot $P
expect_rc "rolling back pilot while light is applied is refused" 2
expect_err "naming light" "roll that back first"
run "$NETWAVE" rollback "$PLAN" --db "$DB" --all --yes $P
expect_rc "rollback --all undoes every wave" 0
if [ "$(in_state '"type": "Microsoft.Network/networkManagers/networkGroups/staticMembers"')" -eq 0 ] &&
    [ "$(in_state '/networkManagers/nm-cli"')" -eq 0 ]; then
	pass "nothing of the mesh is left"; else fail "nothing of the mesh is left"; fi
run "$NETWAVE" apply "$PLAN" --db "$DB" --all $P
expect_rc "and the plan applies again from the start" 0
run "$NETWAVE" history log --db "$DB"
expect_rc "history log" 0
expect_out "has the waves applied" "apply wave rest of plan $PLAN"
expect_out "and rolled back" "roll back wave pilot of plan $PLAN"

# --- kill -9 at random moments, then run again to completion ---------------------
emulator_stop
TRIALS=0
DUPS=0
INCOMPLETE=0
KILLED=0
t=1
while [ $t -le 20 ]; do
	DB="$TMP/kill-$t.db"
	start_emulator "$TMP/kill-$t-emu.db"
	make_plan
	DELAY=$(awk -v s="$t" 'BEGIN { srand(s * 7919); printf "%.2f", 0.05 + rand() * 0.6 }')
	"$NETWAVE" apply "$PLAN" --db "$DB" --all --no-history $P >/dev/null 2>&1 &
	BG=$!
	sleep "$DELAY"
	if kill -9 "$BG" 2>/dev/null; then KILLED=$((KILLED + 1)); fi
	wait "$BG" 2>/dev/null || true
	BG=""
	n=0
	RC=1
	while [ $n -lt 3 ] && [ "$RC" -ne 0 ]; do
		run "$NETWAVE" apply "$PLAN" --db "$DB" --all --no-history $P
		n=$((n + 1))
	done
	if [ "$RC" -ne 0 ]; then
		INCOMPLETE=$((INCOMPLETE + 1))
		echo "# trial $t (killed after $DELAY s) did not complete: $(tail -n 2 "$TMP/err")"
	fi
	A=$(accepted /commit)
	if [ "$A" -ne "$COMMITS" ]; then
		DUPS=$((DUPS + 1))
		echo "# trial $t (killed after $DELAY s): $A commits accepted for $COMMITS commit steps"
	fi
	if [ "$(in_state '"type": "Microsoft.Network/networkManagers/networkGroups/staticMembers"')" -ne "$MEMBERS" ]; then
		INCOMPLETE=$((INCOMPLETE + 1))
		echo "# trial $t: the static members do not match the plan"
	fi
	emulator_stop
	TRIALS=$((TRIALS + 1))
	t=$((t + 1))
done
if [ "$INCOMPLETE" -eq 0 ]; then pass "$TRIALS kill -9 trials ($KILLED killed in flight) end at the target";
else fail "$TRIALS kill -9 trials end at the target" "$INCOMPLETE did not"; fi
if [ "$DUPS" -eq 0 ]; then pass "no commit was accepted twice in any trial"; else
	fail "no commit was accepted twice in any trial" "$DUPS trials had duplicates"; fi

# --- nothing secret in anything written -----------------------------------------
if grep -rqF "$SECRET" "$TMP" --exclude=out --exclude=err; then
	fail "the client secret appears in no database, journal, history or log"; else
	pass "the client secret appears in no database, journal, history or log"; fi
if grep -rqF "nwemu_" "$TMP"; then fail "no access token appears in anything written"; else
	pass "no access token appears in anything written"; fi

# --- the demo ---------------------------------------------------------------
run "$NETWAVE" demo --dir "$TMP/demo" --spokes 10 --time-scale 20000
expect_rc "netwave demo" 0
expect_out "applies the last wave again" "apply wave summarize again"
expect_out "and prints where things live" "plan store   $TMP/demo/netwave.db"
run "$NETWAVE" demo --dir "$TMP/estate.json"
expect_rc "the demo refuses a --dir that is a file" 2

finish
