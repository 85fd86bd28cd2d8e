#!/bin/sh
# route-server-interhub end to end on the emulator (seed 003, option A):
# two hubs whose NVA subnets route to the other hub's spokes with UDRs get a
# route server each, BGP connections from both NVAs to both route servers
# (AS-override toward the remote one), and lose their inter-hub routes in two
# rollout waves.  The real binary plans, applies wave by wave (one wave
# interrupted at a journal write and resumed), and rolls the change back.
# After every wave the paths between the hubs' NVA subnets and the spokes,
# and between the spokes, are those before the change (the rehearsal's
# promise), none is unreachable, and at the end the estate is the one we
# started from.  Asserts from exit codes, GET /__netwave/state and
# /__netwave/requests.  Every loop is bounded.
set -eu
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/cli/ars_lib.sh"

ars_env 00000000-0000-4000-8000-0000000c1100 "canary-cli-5ecret-0131"
SUB=11111111-2222-4333-8444-555555555555
DB="$TMP/netwave.db"
INTENT="$DATA/intent/good-route-server.json"
APPLY_TIMEOUT=180

ars_emulator "$DATA/intent/route-server-estate.json" "$INTENT"

state() { curl -sS -m 30 "$BASE/__netwave/state" >"$1"; }

# paths FILE: "FROM TO class detail" for the flows the change must not move
paths() {
	for pair in "hub1/nva spoke3" "hub1/nva spoke4" "hub2/nva spoke1" "hub2/nva spoke2" \
	    "spoke1 spoke3" "spoke3 spoke1" "spoke2 spoke4" "spoke1 spoke2"; do
		set -- $pair
		"$NETWAVE" path "$STATE" "$1" "$2" -o json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sys.argv[1], sys.argv[2], d["class"], d.get("detail", ""))' "$1" "$2" || echo "$1 $2 error"
	done
}

# --- plan ------------------------------------------------------------------
ars_plan "$SUB" "$INTENT" "$DB"
KINDS=$(python3 -c 'import json,sys; print(" ".join(w["kind"] for w in json.load(open(sys.argv[1]))["waves"]))' "$TMP/out")
if [ "$KINDS" = "route-server bgp-peering udr-cleanup udr-cleanup" ]; then pass "the waves come in seed 003's order"
else fail "the waves come in seed 003's order" "got: $KINDS"; fi
GATES=$(python3 -c 'import json,sys; print(" ".join(g["kind"] for w in json.load(open(sys.argv[1]))["waves"] for g in w["gates"]))' "$TMP/out")
case "$GATES" in
*learned-routes*effective-routes*) pass "BGP is gated on learned routes, the cleanup on effective routes" ;;
*) fail "BGP is gated on learned routes, the cleanup on effective routes" "gates: $GATES" ;;
esac

STATE="$TMP/before.json"
state "$STATE"
paths >"$TMP/paths-before"
if grep -q "unreachable\|error" "$TMP/paths-before"; then fail "every flow is reachable before" "$(cat "$TMP/paths-before")"
else pass "every flow is reachable before"; fi

# --- apply wave by wave; the BGP wave interrupted after its 2nd journal write --
for w in route-servers bgp-peering udr-cleanup-first udr-cleanup-rest; do
	[ "$w" != bgp-peering ] || ars_killed "$w" 2
	run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --wave "$w" --yes --no-history $P
	expect_rc "$w: applied" 0
	STATE="$TMP/after-$w.json"
	state "$STATE"
	paths >"$TMP/paths-$w"
	if cmp -s "$TMP/paths-before" "$TMP/paths-$w"; then pass "$w: every flow keeps its path"
	else fail "$w: every flow keeps its path" "$(diff "$TMP/paths-before" "$TMP/paths-$w" | tr '\n' ' ')"; fi
done

python3 - "$STATE" >"$TMP/summary" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = [r["type"] for r in d["resources"]]
rt = {r["name"]: sorted(x["properties"]["addressPrefix"] for x in r["properties"].get("routes", []))
      for r in d["resources"] if r["type"] == "Microsoft.Network/routeTables"}
print("hubs", t.count("Microsoft.Network/virtualHubs"), "bgp", t.count("Microsoft.Network/virtualHubs/bgpConnections"))
print("nva1", rt["rt-nva1"], "nva2", rt["rt-nva2"], "spokes1", rt["rt-spokes1"], "spokes2", rt["rt-spokes2"])
EOF
if grep -q "^hubs 2 bgp 4$" "$TMP/summary"; then pass "two route servers, four BGP connections"
else fail "two route servers, four BGP connections" "$(cat "$TMP/summary")"; fi
if grep -qF "nva1 [] nva2 [] spokes1 ['0.0.0.0/0'] spokes2 ['0.0.0.0/0']" "$TMP/summary"; then
	pass "the inter-hub routes are gone, the default routes to the firewalls stay"
else fail "the inter-hub routes are gone, the default routes to the firewalls stay" "$(cat "$TMP/summary")"; fi
curl -sS -m 30 "$BASE/__netwave/requests" >"$TMP/requests.json"
python3 - "$TMP/requests.json" >"$TMP/req" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
reqs = d if isinstance(d, list) else d.get("requests", [])
ok = [r for r in reqs if str(r["status"]).startswith("2")]
print("learned", sum(1 for r in ok if r["method"] == "POST" and r["path"].endswith("/learnedRoutes")))
puts = {}
for r in ok:
    if r["method"] == "PUT" and "/bgpConnections/" in r["path"]:
        puts[r["path"]] = puts.get(r["path"], 0) + 1
print("bgp-twice", sum(1 for v in puts.values() if v > 1))
print("spoke-route-writes", sum(1 for r in ok if r["method"] in ("PUT", "DELETE") and "/rt-spokes" in r["path"]))
EOF
if grep -q "^learned [1-9]" "$TMP/req"; then pass "the gate read learnedRoutes"; else fail "the gate read learnedRoutes" "$(cat "$TMP/req")"; fi
if grep -q "^bgp-twice 0$" "$TMP/req"; then pass "the resumed wave sent no BGP connection twice"
else fail "the resumed wave sent no BGP connection twice" "$(cat "$TMP/req")"; fi
if grep -q "^spoke-route-writes 0$" "$TMP/req"; then pass "nothing wrote the spokes' route tables"
else fail "nothing wrote the spokes' route tables" "$(cat "$TMP/req")"; fi

# --- the way back ------------------------------------------------------------
run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" rollback "$PLAN" --db "$DB" --all --yes --no-history $P
expect_rc "rollback, proven" 0
STATE="$TMP/back.json"
state "$STATE"
paths >"$TMP/paths-back"
if cmp -s "$TMP/paths-before" "$TMP/paths-back"; then pass "after the rollback every flow has its path"
else fail "after the rollback every flow has its path" "$(diff "$TMP/paths-before" "$TMP/paths-back" | tr '\n' ' ')"; fi
ars_same "$TMP/before.json" "$STATE" >"$TMP/same"
if grep -q "^same$" "$TMP/same"; then pass "the estate is the one we started from"
else fail "the estate is the one we started from"; fi

finish
