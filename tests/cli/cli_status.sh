#!/bin/sh
# netwave status says what is true after things go wrong, against
# `netwave emulator`: after `apply --auto-rollback` whose effective-routes
# gate cannot pass (the emulator answers effectiveRouteTable with 500), the
# gate is shown with its result and evidence, not as pending; after a
# rollback stopped by SIGTERM part way (each static-member DELETE held up
# by a latency fault), the wave is "interrupted", partly rolled back, with
# the command that resumes it, and that command finishes the rollback.
# Every status shows each wave's time beside its estimate.  Every wait is
# bounded; the emulator and any run left are killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

test_client 00000000-0000-4000-8000-0000000c57a7 netwave-cli-status status-only-secret

start_emulator() {
	emulator_start --seed "$TMP/estate.json" --state "$1" --time-scale 5000 --seed-rng 9
}

faults() {
	curl -sS -m 10 -X PUT -H 'Content-Type: application/json' -d "$1" "$BASE/__netwave/faults" >/dev/null
}

make_plan() {
	plan_mesh "$1" nm-status \
	    '{ "waves": [ { "name": "pilot", "members": { "tags": { "env": "dev" } } }, { "name": "rest" } ] }'
}

"$NETWAVE" synth --hubs 1 --spokes-per-hub 8 --seed 5 -o "$TMP/estate.json" 2>/dev/null
SUB=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)"$/\1/p' "$TMP/estate.json" | head -n 1)

# --- after --auto-rollback: the gate that did not pass, with its evidence -----------------
start_emulator "$TMP/a.db"
DB="$TMP/a.sqlite"
make_plan "$DB"
expect_rc "plan" 0
run "$NETWAVE" apply "$PLAN" --db "$DB" --wave prepare $P
expect_rc "the prepare wave applies" 0
faults '{"format": "netwave.faults/v1", "rules": [ { "path": "*/effectiveRouteTable", "action": "error", "status": 500 } ]}'
run "$NETWAVE" apply "$PLAN" --db "$DB" --wave pilot --auto-rollback $P
expect_rc "the pilot's gate cannot pass: rolled back, exit 1" 1
expect_err "the gate is named" "gate w02-g02 (effective-routes) error"
expect_out "the wave was rolled back" "w02-s0001 rolled back"
faults '{"format": "netwave.faults/v1", "rules": []}'
run "$NETWAVE" status "$PLAN" --db "$DB"
expect_rc "status after the automatic rollback" 0
expect_line "the wave is rolled back" '^   2  pilot +mesh +rolled-back '
expect_line "the effective-routes gate is shown as it ended, not pending" \
    '^        gate w02-g[0-9]+ effective-routes (error|failed|inconclusive)'
expect_line "with its evidence" '^          evidence: \{"checked":0,"kind":"effective-routes"'
expect_line "the prepare wave shows its time beside its estimate" \
    '^   1  prepare +prepare +done .*, took [0-9]+ (s|min) of about [0-9]+ (s|min) estimated$'
run "$NETWAVE" status "$PLAN" --db "$DB" --format json
expect_out "status json has each wave's estimate" '"estimateSeconds": '
expect_out "and what it took" '"actualSeconds": '
emulator_stop

# --- a rollback stopped by SIGTERM part way ------------------------------------------------
start_emulator "$TMP/b.db"
DB="$TMP/b.sqlite"
make_plan "$DB"
run "$NETWAVE" apply "$PLAN" --db "$DB" --through pilot $P
expect_rc "prepare and pilot apply" 0
faults '{"format": "netwave.faults/v1", "rules": [ { "method": "DELETE", "path": "*/staticMembers/*", "action": "latency", "ms": 1500 } ]}'
"$NETWAVE" rollback "$PLAN" --db "$DB" --wave pilot --parallel 1 --yes $P >"$TMP/rb.out" 2>"$TMP/rb.err" &
BG=$!
# wait (at most 60 s) until one step is rolled back, then SIGTERM
i=0
while [ $i -lt 600 ]; do
	if "$NETWAVE" status "$PLAN" --db "$DB" --format json 2>/dev/null | grep -q '"rolled-back": [1-9]'; then break; fi
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$BG" 2>/dev/null || true
i=0
while kill -0 "$BG" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
RC=0
wait "$BG" || RC=$?
BG=""
if [ "$RC" -eq 5 ]; then pass "the SIGTERM'd rollback exits 5"; else fail "the SIGTERM'd rollback exits 5" "exit $RC: $(tail -n 3 "$TMP/rb.err")"; fi
faults '{"format": "netwave.faults/v1", "rules": []}'
run "$NETWAVE" status "$PLAN" --db "$DB"
expect_line "the wave is not 'running': interrupted, partly rolled back" \
    '^   2  pilot +mesh +interrupted .*partly rolled back \(interrupted\)'
expect_line "next names the command that resumes it" \
    "^next: resume the rollback \\(it was interrupted part way\\) wave pilot: netwave rollback $PLAN --wave pilot\$"
run "$NETWAVE" status "$PLAN" --db "$DB" --format json
expect_out "status json says it was interrupted during the rollback" '"interruptedDuring": "rollback"'
run "$NETWAVE" rollback "$PLAN" --db "$DB" --wave pilot --yes $P
expect_rc "that command finishes the rollback" 0
run "$NETWAVE" status "$PLAN" --db "$DB"
expect_line "the wave is rolled back" '^   2  pilot +mesh +rolled-back '
emulator_stop
finish
