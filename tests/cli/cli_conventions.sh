#!/bin/sh
# The conventions every command shares: -o/--output is the output format
# (--format the same option), --out FILE the file a command writes, the old
# "-o FILE" still writing its file with a notice, "-o json" never a file
# named json; every JSON document a command prints carries its format name
# and validates against its schema under docs/schemas/ (python3-jsonschema);
# counts printed one way ("1 hub", "1,200 spokes").  The emulator is always
# killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

SCHEMAS="$top_srcdir/docs/schemas"
# valid NAME FILE [--lines]: the document(s) in FILE validate against their schemas
valid() {
	if python3 "$top_srcdir/tests/cli/schema_check.py" ${3:-} "$SCHEMAS" "$2" >"$TMP/schema.out" 2>&1; then
		pass "$1"
	else
		fail "$1" "$(cat "$TMP/schema.out")"
	fi
}

# --- -o is the format, --out the file -------------------------------------------------

mkdir "$TMP/cwd"
(cd "$TMP/cwd" && "$NETWAVE" synth --hubs 1 --spokes-per-hub 2 -o json >"$TMP/stdout.json" 2>"$TMP/err")
if [ ! -e "$TMP/cwd/json" ]; then pass "-o json writes no file named json"; else fail "-o json writes no file named json"; fi
valid "with no --out, -o json prints the topology itself" "$TMP/stdout.json"

run "$NETWAVE" synth --hubs 1 --spokes-per-hub 2 --out "$TMP/one.json" -o json
expect_rc "synth --out FILE -o json" 0
cp "$TMP/out" "$TMP/synth.json"
valid "synth -o json prints netwave.synth/v1" "$TMP/synth.json"
valid "the file synth wrote is a topology" "$TMP/one.json"
expect_out "the summary names the file" "\"out\": \"$TMP/one.json\""

run "$NETWAVE" synth --hubs 1 --spokes-per-hub 2 --out "$TMP/two.json" --output json
expect_out "--output is the same option" '"format": "netwave.synth/v1"'
run "$NETWAVE" synth --hubs 1 --spokes-per-hub 2 --out "$TMP/two.json" --format json
expect_out "--format is the same option" '"format": "netwave.synth/v1"'

run "$NETWAVE" synth --hubs 1 --spokes-per-hub 2 -o "$TMP/legacy.json"
expect_rc "the old -o FILE still works" 0
if cmp -s "$TMP/one.json" "$TMP/legacy.json"; then pass "-o FILE writes the same file as --out FILE";
else fail "-o FILE writes the same file as --out FILE"; fi
expect_err "-o FILE says it is deprecated" "'-o $TMP/legacy.json' is deprecated"
expect_err "and what to use instead" "use '--out $TMP/legacy.json'"

run "$NETWAVE" synth --hubs 1 --spokes-per-hub 2 -o yaml
expect_rc "an unknown format is bad usage" 2
expect_err "it names the formats there are" "unknown format 'yaml' (expected text|json)"

run "$NETWAVE" check -o xml "$DATA/topo/doc-example.json"
expect_rc "check takes -o as its format" 2
expect_err "check's formats are named" "unknown format 'xml' (expected text|json|dot)"
run "$NETWAVE" check -o json "$DATA/topo/doc-example.json"
cp "$TMP/out" "$TMP/check.json"
valid "check -o json is netwave.check/v1" "$TMP/check.json"

# path and routes: the flows and routes of a synthesized estate
"$NETWAVE" synth --hubs 1 --spokes-per-hub 2 --out "$TMP/pr.json" 2>/dev/null
run "$NETWAVE" path "$TMP/pr.json" spoke-01-0001 spoke-01-0002 -o json
expect_rc "path -o json" 0
cp "$TMP/out" "$TMP/path.json"
valid "path -o json is netwave.path/v1, each source subnet's way included" "$TMP/path.json"
run "$NETWAVE" routes "$TMP/pr.json" spoke-01-0001 -o json
expect_rc "routes -o json" 0
cp "$TMP/out" "$TMP/routes.json"
valid "routes -o json is netwave.routes/v1" "$TMP/routes.json"

run "$NETWAVE" synth --hubz 1
expect_err "an unknown option still names the nearest" "did you mean '--hubs'?"
run "$NETWAVE" synth --hubs 1 --spokes-per-hub 1 --outt x
expect_err "--out is offered for a near miss" "did you mean '--out'?"

# --- counts, one way -------------------------------------------------------------------

run "$NETWAVE" synth --hubs 1 --spokes-per-hub 1 --out "$TMP/tiny.json"
expect_err "one of a thing is singular" "synth: 1 hub, 1 spoke, 0 private endpoints -> "
run "$NETWAVE" synth --hubs 2 --spokes-per-hub 600 --out "$TMP/big.json"
expect_err "thousands are grouped" "synth: 2 hubs, 1,200 spokes, 0 private endpoints -> "

# --- target, plan, plans, show ---------------------------------------------------------

run "$NETWAVE" synth --hubs 2 --spokes-per-hub 6 --pe-per-spoke 2 --udr-spokes 2 --seed 5 --out "$TMP/cur.json"
run "$NETWAVE" target --current "$TMP/cur.json" --intent "$DATA/plan/intent.json" --out "$TMP/tgt.json" -o json
expect_rc "target --out -o json" 0
cp "$TMP/out" "$TMP/target.json"
valid "target -o json is netwave.target/v1" "$TMP/target.json"
expect_out "it counts the mesh members" '"members": '
valid "the target written is a topology" "$TMP/tgt.json"

run "$NETWAVE" plan --current "$TMP/cur.json" --intent "$DATA/plan/intent.json" --db "$TMP/p.db" \
	--now 2026-11-21T20:00:00Z -o json --out "$TMP/plan.json"
expect_rc "plan -o json --out FILE" 0
expect_no_out "the report goes to --out"
valid "the plan is netwave.plan/v1" "$TMP/plan.json"
ID=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)".*/\1/p' "$TMP/plan.json")
run "$NETWAVE" plan --current "$TMP/cur.json" --intent "$DATA/plan/intent.json" --db "$TMP/p.db" \
	--now 2026-11-21T20:00:00Z -o markdown
expect_out "plan -o markdown prints the review document" "# "
run "$NETWAVE" show "$ID" --db "$TMP/p.db" -o json
cp "$TMP/out" "$TMP/show.json"
valid "show -o json is netwave.plan/v1" "$TMP/show.json"
run "$NETWAVE" plans --db "$TMP/p.db" -o json
cp "$TMP/out" "$TMP/plans.json"
valid "plans -o json is netwave.plans/v1" "$TMP/plans.json"
expect_out "plans lists the plan" "\"id\": \"$ID\""
run "$NETWAVE" status --db "$TMP/p.db" -o json
cp "$TMP/out" "$TMP/status.json"
valid "status -o json is netwave.status/v1" "$TMP/status.json"
run "$NETWAVE" plans --db "$TMP/none.db" -o json
cp "$TMP/out" "$TMP/plans0.json"
valid "an empty store's plans are netwave.plans/v1 too" "$TMP/plans0.json"
expect_out "with no plans" '"plans": []'
if [ ! -e "$TMP/none.db" ]; then pass "plans creates no store"; else fail "plans creates no store"; fi
run "$NETWAVE" show "$ID" --db "$TMP/missing.db"
expect_rc "show needs an existing store (the dispatcher opens it)" 2
expect_err "and names it" "cannot open plan store '$TMP/missing.db'"
if [ ! -e "$TMP/missing.db" ]; then pass "show creates no store"; else fail "show creates no store"; fi

# --- history ---------------------------------------------------------------------------

run "$NETWAVE" history record "$TMP/cur.json" --history "$TMP/hist" -o json
cp "$TMP/out" "$TMP/rec.json"
valid "history record -o json is netwave.history-record/v1" "$TMP/rec.json"
run "$NETWAVE" history record "$TMP/tgt.json" --history "$TMP/hist" -m "the target"
run "$NETWAVE" history log --history "$TMP/hist" -o json
cp "$TMP/out" "$TMP/log.json"
valid "history log -o json is netwave.history-log/v1" "$TMP/log.json"
run "$NETWAVE" history show HEAD --history "$TMP/hist" -o json
cp "$TMP/out" "$TMP/hshow.json"
valid "history show -o json is netwave.history-show/v1" "$TMP/hshow.json"
run "$NETWAVE" history diff HEAD~1 HEAD --history "$TMP/hist" -o json
cp "$TMP/out" "$TMP/hdiff.json"
valid "history diff -o json is netwave.history-diff/v1" "$TMP/hdiff.json"
run "$NETWAVE" history log --history "$TMP/nohist"
expect_rc "a history that does not exist is bad input" 2
if [ ! -e "$TMP/nohist" ]; then pass "reading creates no history"; else fail "reading creates no history"; fi

# --- the emulator and discover ---------------------------------------------------------

SUB=$(sed -n 's/.*"subscriptions": \["\([^"]*\)".*/\1/p' "$TMP/cur.json")
[ -n "$SUB" ] || SUB=$(grep -A1 '"subscriptions"' "$TMP/cur.json" | tail -n 1 | tr -d ' ",')
emulator_start --seed "$TMP/cur.json" --no-auth -o json || true
if [ -n "$BASE" ]; then pass "emulator -o json started"; else fail "emulator -o json started"; fi
run env -u AZURE_CLIENT_SECRET NETWAVE_ACCESS_TOKEN=fake-token-for-no-auth \
	"$NETWAVE" discover --subscription "$SUB" --arm-endpoint "$BASE" --authority-host "$BASE" \
	--out "$TMP/disc.json" -o json
expect_rc "discover --out -o json" 0
cp "$TMP/out" "$TMP/discover.json"
valid "discover -o json is netwave.discover/v1" "$TMP/discover.json"
valid "the topology discover wrote is a topology" "$TMP/disc.json"
emulator_stop
valid "the emulator's events are netwave.emulator/v1" "$TMP/emu.out" --lines
if grep -q '"event":"listening"' "$TMP/emu.out" && grep -q '"event":"stopping"' "$TMP/emu.out" &&
    grep -q "\"url\":\"$BASE\"" "$TMP/emu.out"; then
	pass "the emulator says where it listens and when it stops"
else
	fail "the emulator says where it listens and when it stops" "$(cat "$TMP/emu.out")"
fi

finish
