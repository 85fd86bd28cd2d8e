#!/bin/sh
# netwave target: expands an intent into a target topology that loads,
# byte for byte the same on every run, written atomically or to stdout;
# the complete example of docs/intent.md works as documented; bad intents
# exit 2 naming the file and the JSON pointer (or line and column), and
# write nothing.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

CUR="$TMP/current.json"
INTENT="$TMP/intent.json"
T="$TMP/target.json"

# count_lines NAME FILE TEXT N: FILE has N lines containing TEXT (fixed string)
count_lines() {
	n=$(grep -cF -- "$3" "$2" 2>/dev/null || true)
	n=${n:-0}
	if [ "$n" -eq "$4" ]; then pass "$1 ($4)"; else fail "$1" "expected $4 lines with $3, found $n"; fi
}

# the complete example of docs/intent.md: the synth command and the JSON block after it
run "$NETWAVE" synth --hubs 2 --spokes-per-hub 20 --pe-per-spoke 2 --udr-spokes 3 \
	--regions eastus,westus -o "$CUR"
expect_rc "the documented estate is synthesized" 0
awk '/^## A complete example/ { on = 1 } on && /^```json$/ { grab = 1; next }
     grab && /^```$/ { exit } grab { print }' "$top_srcdir/docs/intent.md" >"$INTENT"
if [ -s "$INTENT" ]; then pass "docs/intent.md has the example intent"; else fail "docs/intent.md has the example intent"; fi

run "$NETWAVE" target --current "$CUR" --intent "$INTENT" -o "$T"
expect_rc "the documented example expands" 0
expect_no_out "target to a file prints nothing on stdout"
for line in $(grep -n '^target: ' "$top_srcdir/docs/intent.md" | cut -d: -f1); do
	want=$(sed -n "${line}p" "$top_srcdir/docs/intent.md" | sed "s#-> target.json#-> $T#")
	if grep -qxF -- "$want" "$TMP/err"; then pass "stderr matches the doc, line $line"; else
		fail "stderr matches the doc, line $line" "missing: $want"; fi
done
count_lines "the target holds 37 static members" "$T" \
	'"type": "Microsoft.Network/networkManagers/networkGroups/staticMembers"' 37
count_lines "the target keeps the rollout" "$T" '"x-netwave-rollout": {' 1
count_lines "the target keeps the changes" "$T" '"x-netwave-changes": [' 1
# Learn (expressroute/gateway-migration): each ExpressRoute gateway is replaced by a tagged
# "<name>_migrate" with its connections copied; the old Basic IPs are left as they are
count_lines "each ExpressRoute gateway is replaced by a tagged one" "$T" '"CreatedBy": "GatewaySKUMigration"' 2
count_lines "named as Azure names it (hub 1)" "$T" '"name": "ergw-hub-01_migrate"' 1
count_lines "named as Azure names it (hub 2)" "$T" '"name": "ergw-hub-02_migrate"' 1
count_lines "with its connection copied" "$T" '"name": "conn-hub-01-er-circuit-01_migrate"' 1
count_lines "both hubs are summarized as documented" "$T" '"10.1.0.0/19"' 1

run "$NETWAVE" check "$T"
if [ "$RC" -eq 0 ] || [ "$RC" -eq 1 ]; then pass "the target loads in check (exit $RC)"; else
	fail "the target loads in check" "exit $RC"; fi

run "$NETWAVE" target --current "$CUR" --intent "$INTENT"
expect_rc "target to stdout succeeds" 0
if cmp -s "$T" "$TMP/out"; then pass "stdout holds the same bytes as the file"; else
	fail "stdout holds the same bytes as the file"; fi
if [ ! -s "$TMP/err" ]; then pass "stdout mode prints no summary"; else fail "stdout mode prints no summary"; fi
cp "$TMP/out" "$TMP/again.json"
run "$NETWAVE" target --current "$CUR" --intent "$INTENT"
if cmp -s "$TMP/again.json" "$TMP/out"; then pass "the same inputs give the same bytes"; else
	fail "the same inputs give the same bytes"; fi

# the change kinds "help target" lists (the registry's): an unknown kind's message names them all
kinds=$("$NETWAVE" help target | sed -n '/^change kinds/,/^$/s/^  \([a-z][a-z-]*\)$/\1/p')
case " $(echo $kinds) " in
*" avnm-mesh gateway-standard-ip "*) pass "help target lists the change kinds" ;;
*) fail "help target lists the change kinds" "got: $kinds" ;;
esac
expected_kinds=$(printf '%s\n' $kinds | awk '{ k[NR] = $0 } END { for (i = 1; i <= NR; i++)
	printf "%s%s", i == 1 ? "" : i == NR ? " or " : ", ", k[i] }')

# bad intents: exit 2, the file and where in it, nothing written
for case in \
	"bad-unknown-kind.json|: /changes/1/kind: unknown change kind \"avnm-meshh\"; expected $expected_kinds" \
	"bad-unknown-key.json|: /changes/0/memberz: unknown key \"memberz\"" \
	"bad-wrong-type.json|: /changes/0/hubs/names: expected an array of strings, found a string" \
	"bad-syntax.json|bad-syntax.json: line 5, column " \
	"bad-duplicate-key.json|duplicate object key" \
	"bad-no-match.json|bad-no-match.json: /changes/1/members: matches no VNet"; do
	file=${case%%|*}
	msg=${case#*|}
	run "$NETWAVE" target --current "$DATA/intent/estate.json" --intent "$DATA/intent/$file" -o "$TMP/bad.json"
	expect_rc "$file is refused" 2
	expect_err "$file: the message names the place" "$msg"
	if [ ! -e "$TMP/bad.json" ]; then pass "$file: nothing is written"; else fail "$file: nothing is written"; fi
done

run "$NETWAVE" target --current "$DATA/intent/estate.json"
expect_rc "--intent is required" 2
expect_err "the message names the option" "option '--intent' is required"

run "$NETWAVE" target --current "$TMP/nope.json" --intent "$DATA/intent/good-full.json"
if [ "$RC" -ne 0 ]; then pass "a missing current topology is an error (exit $RC)"; else
	fail "a missing current topology is an error"; fi
expect_err "the message names the file" "nope.json"

run "$NETWAVE" target --current "$DATA/intent/estate.json" --intent "$DATA/intent/good-full.json" -o "$T"
expect_rc "the good intent expands on the small estate" 0
expect_err "the inspected spoke is named" "1 spoke stays inspected (traffic to other members goes through a firewall): spoke-c"

finish
