#!/bin/sh
# netwave plan, show and plans on a small synthesized estate and the
# intent of tests/data/plan/intent.json: the plan is stored and printed,
# the same inputs give the same bytes, a blocked plan exits 1 and stores
# nothing, bad input exits 2, and a corrupt store is refused untouched.
set -eu
. "$top_srcdir/tests/cli/lib.sh"
INTENT="$DATA/plan/intent.json"
CUR="$TMP/current.json"
DB="$TMP/plans.db"
NOW=2026-11-21T20:00:00Z
unset NETWAVE_DB || true

same_file() {
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$2 and $3 differ"; fi
}

run "$NETWAVE" synth --hubs 2 --spokes-per-hub 6 --pe-per-spoke 2 --udr-spokes 2 --seed 5 -o "$CUR"
expect_rc "synth writes the estate" 0

# --- a plan from an intent ----------------------------------------------
run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --db "$DB" --now "$NOW"
expect_rc "plan succeeds" 0
expect_err "the plan id is printed on stderr" "stored in $DB"
expect_line "the text report names the plan" '^plan pl-[0-9a-f]{12} \(2026-11-21T20:00:00Z\)$'
expect_out "the summary counts waves and steps" "12 VNets, 9 waves, 26 steps, 58 writes"
expect_line "mesh waves show their traffic" '^      traffic: mesh 0 -> 6; hairpin 110 -> 104;$'
expect_out "gateway commits are listed as irreversible" "commitMigration on ergw-hub-01"
ID=$(sed -n 's/^plan \(pl-[0-9a-f]*\) stored in .*/\1/p' "$TMP/err")

run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --db "$DB" --now "$NOW" --format json -o "$TMP/p1.json"
expect_rc "plan to a json file succeeds" 0
expect_no_out "with -o nothing goes to stdout"
expect_err "the same inputs give the same plan id" "plan $ID already stored"
run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --db "$DB" --now "$NOW" --format json -o "$TMP/p2.json"
same_file "the same inputs give byte-identical plans" "$TMP/p1.json" "$TMP/p2.json"
if grep -q '"format": "netwave.plan/v1"' "$TMP/p1.json"; then pass "json is netwave.plan/v1"; else fail "json is netwave.plan/v1"; fi

# planning again on the clock (no --now): the same inputs, the same plan back, exit 0
run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --db "$TMP/again.db" --format json -o "$TMP/a1.json"
expect_rc "a first plan on the clock is stored" 0
sleep 1 # the clock moves on: the second run is made at another second
run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --db "$TMP/again.db" --format json -o "$TMP/a2.json"
expect_rc "planning again from the same inputs succeeds" 0
expect_err "the plan already stored is named" "plan $ID already stored in $TMP/again.db (created "
same_file "planning again shows the plan already stored, creation time included" "$TMP/a1.json" "$TMP/a2.json"
run "$NETWAVE" plans --db "$TMP/again.db"
if [ "$(grep -c '^pl-' "$TMP/out")" -eq 1 ]; then pass "planning again stores no second plan"; else fail "planning again stores no second plan" "$(cat "$TMP/out")"; fi

SOURCE_DATE_EPOCH=1795291200 run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --db "$DB" --format json -o "$TMP/p3.json"
same_file "SOURCE_DATE_EPOCH stands in for --now" "$TMP/p1.json" "$TMP/p3.json"

run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --db "$DB" --now "$NOW" --format markdown -o "$TMP/plan.md"
expect_rc "the markdown report is written" 0
if grep -q "^# Change plan $ID$" "$TMP/plan.md" && grep -q '^## Irreversible steps$' "$TMP/plan.md"; then
	pass "the markdown report is the change-review document"
else
	fail "the markdown report is the change-review document"
fi

# --- show and plans ----------------------------------------------------
run "$NETWAVE" show "$ID" --db "$DB" --format json
expect_rc "show finds the plan" 0
cp "$TMP/out" "$TMP/shown.json"
same_file "show prints the stored plan exactly" "$TMP/p1.json" "$TMP/shown.json"
run "$NETWAVE" show "$(echo "$ID" | cut -c1-7)" --db "$DB" --wave pilot
expect_rc "show takes an id prefix and a wave" 0
expect_line "one wave is shown with its steps" '^      w02-s0001  add spoke-01-0001 to network group eastus-mesh-all-spokes$'
run "$NETWAVE" show "$ID" --db "$DB" --wave nope
expect_rc "an unknown wave is bad input" 2
expect_err "the unknown wave is named with the waves there are" "has no wave 'nope'; its waves are: prepare, pilot, light, rest"
run "$NETWAVE" show pl-ffffffffffff --db "$DB"
expect_rc "an unknown plan is bad input" 2

run "$NETWAVE" plans --db "$DB"
expect_rc "plans lists the store" 0
expect_line "the plan is listed as planned" "^$ID +2026-11-21T20:00:00Z +planned +9 +26 "
run "$NETWAVE" plans --db "$DB" --format json
expect_out "plans as json carry the id" "\"id\": \"$ID\""
NETWAVE_DB="$DB" run "$NETWAVE" plans
expect_out "NETWAVE_DB names the store" "$ID"

# --- blocked plans store nothing ---------------------------------------
run "$NETWAVE" target --current "$CUR" --intent "$INTENT" -o "$TMP/target.json"
expect_rc "target expands the intent" 0
sed 's/"env": "dev"/"env": "test"/' "$TMP/target.json" >"$TMP/bad-target.json"
run "$NETWAVE" plan --current "$CUR" --target "$TMP/bad-target.json" --db "$TMP/blocked.db" --now "$NOW"
expect_rc "a target with an unsupported difference is blocked" 1
expect_out "a blocked plan prints its report with the blockers" "blockers:"
expect_out "the report names the blocker" "not supported: changed"
expect_err "the blocker names the resource and pointer" "blocker: not-supported: not supported: changed"
expect_err "the pointer is the tag" "at /tags/env"
expect_err "the failure is summarized" "the plan is blocked"
run "$NETWAVE" plan --current "$CUR" --target "$TMP/bad-target.json" --db "$TMP/blocked.db" --now "$NOW" \
    --format json -o "$TMP/blocked.json"
expect_rc "a blocked plan in json exits 1" 1
if grep -q '"code": "not-supported"' "$TMP/blocked.json" && grep -q '"blockers": \[' "$TMP/blocked.json"; then
	pass "a blocked plan's json report holds its blockers"
else
	fail "a blocked plan's json report holds its blockers" "$(head -c 300 "$TMP/blocked.json" 2>/dev/null)"
fi
run "$NETWAVE" plan --current "$CUR" --target "$TMP/bad-target.json" --db "$TMP/blocked.db" --now "$NOW" \
    --format markdown
expect_rc "a blocked plan in markdown exits 1" 1
expect_out "a blocked plan's markdown report lists its blockers" "### Blockers"
expect_out "the markdown names the blocker" "not supported: changed"
run "$NETWAVE" plans --db "$TMP/blocked.db"
expect_out "nothing was stored" "no plans in $TMP/blocked.db"

run "$NETWAVE" plan --current "$CUR" --target "$TMP/target.json" --db "$DB" --now "$NOW" --format json -o "$TMP/p4.json"
expect_rc "plan from a target file succeeds" 0

# --- bad input ----------------------------------------------------------
run "$NETWAVE" plan --current "$CUR" --intent "$DATA/intent/bad-unknown-kind.json" --db "$TMP/k.db"
expect_rc "an intent with an unknown kind is bad input" 2
expect_err "the unknown kind is named" "unknown change kind"
run "$NETWAVE" plans --db "$TMP/k.db"
expect_out "nothing is stored for bad input" "no plans in"

printf 'this is not a database, just text\n' >"$TMP/corrupt.db"
cp "$TMP/corrupt.db" "$TMP/corrupt.orig"
run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --db "$TMP/corrupt.db" --now "$NOW"
expect_rc "a corrupt store is bad input" 2
expect_err "the store is named" "$TMP/corrupt.db"
same_file "the corrupt store is left unchanged" "$TMP/corrupt.db" "$TMP/corrupt.orig"
run "$NETWAVE" plans --db "$TMP/corrupt.db"
expect_rc "plans refuses a corrupt store too" 2

run "$NETWAVE" plan --current "$CUR" --db "$DB"
expect_rc "neither --target nor --intent is bad usage" 2
expect_err "the usage is explained" "give exactly one of '--target' and '--intent'"
run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --target "$TMP/target.json" --db "$DB"
expect_rc "both --target and --intent is bad usage" 2
run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --db "$DB" --now yesterday
expect_rc "a bad --now is bad usage" 2
expect_err "the bad time is quoted" "--now: 'yesterday' is not an RFC 3339 time"
run "$NETWAVE" plan --current "$CUR" --intent "$INTENT" --db "$DB" --format pdf
expect_rc "an unknown format is bad usage" 2

finish
