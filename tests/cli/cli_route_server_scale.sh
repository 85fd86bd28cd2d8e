#!/bin/sh
# route-server-interhub at scale, on the estate `netwave synth --interhub-nva`
# makes (seed 003's baseline): two regions of SPOKES spokes each (60 unless
# NETWAVE_ARS_SCALE_SPOKES says otherwise), whose hubs route to each other
# through an NVA each, the NVA subnets holding a hand-kept route per remote
# spoke.  The change is seed 003's Option B: a route server per hub, each NVA
# peering with the other hub's route server and advertising its hub's /16,
# branch-to-branch on (the route servers pass those blocks to the hubs'
# gateways), then the per-spoke routes deleted in the intent's rollout
# waves, which split (capped waves overflow into the next).  The real
# binary plans, applies wave by wave (the bgp-peering wave and a cleanup
# wave killed at a journal write and resumed), rolls back wave by wave down
# to branch-to-branch, then everything.
# After every wave and every rollback, what the rehearsal promised holds:
#  - the east-west summary of every spoke pair is the one before the change,
#    with no pair unreachable;
#  - each NVA subnet reaches every remote spoke through the remote NVA, by
#    its user route while that spoke's wave has not run and by the route
#    server's route once it has, both in netwave's model of the emulator's
#    estate and in the emulator's own effectiveRouteTable of the NVA's NIC;
#  - the circuit hears the NVAs' blocks exactly while branch-to-branch is on.
# At the end the estate is the one we started from, and every write the
# emulator accepted is one of the plan's or of its way back, once.  Asserts
# from exit codes, GET /__netwave/state and /__netwave/requests.  Every loop
# is bounded.
set -eu
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/cli/ars_lib.sh"

ars_env 00000000-0000-4000-8000-0000000c1300 "canary-cli-5ecret-0513"
SUB=00000000-0000-4000-8000-a2eefb32555e
SPOKES=${NETWAVE_ARS_SCALE_SPOKES:-60}
DB="$TMP/netwave.db"
APPLY_TIMEOUT=300

run "$NETWAVE" synth --hubs 2 --spokes-per-hub "$SPOKES" --regions westeurope,northeurope --interhub-nva \
    --out "$TMP/estate.json"
expect_rc "synth --interhub-nva, 2 x $SPOKES spokes" 0

# Option B: each NVA peers with the other hub's route server only and
# advertises its hub's block, which the spokes' own UDRs override exactly;
# branch-to-branch lets the route servers pass those blocks to the hubs'
# gateways, so that on-premises reaches a region through the other one
# when its own path fails (seed 003's bowtie)
hub() {
	cat <<EOF
        { "vnet": { "names": ["hub-0$1"] }, "allowBranchToBranchTraffic": true,
          "routeServer": { "name": "rs-hub-0$1",
            "publicIpAddress": "/subscriptions/$SUB/resourceGroups/rg-hub-0$1/providers/Microsoft.Network/publicIPAddresses/pip-rs-hub-0$1" },
          "nvas": [ { "name": "nva-hub-0$1", "peerIp": "10.$1.0.132", "asn": 6500$1, "asOverride": true,
                      "peerWith": ["remote"], "advertises": ["10.$1.0.0/16"] } ] }
EOF
}
INTENT="$TMP/intent.json"
cat >"$INTENT" <<EOF
{
  "format": "netwave.intent/v1",
  "description": "seed 003 option B on two regions: route servers replace the NVA subnets' per-spoke inter-hub routes",
  "changes": [
    { "kind": "route-server-interhub",
      "hubs": [
$(hub 1),
$(hub 2)
      ],
      "spokes": { "tags": { "role": "spoke" } } }
  ],
  "rollout": {
    "waves": [ { "name": "pilot", "members": { "tags": { "env": "dev" } }, "max": 2 },
               { "name": "light", "members": { "tags": { "traffic": "light" } }, "max": 12 },
               { "name": "rest" } ]
  }
}
EOF

ars_emulator "$TMP/estate.json" "$INTENT"
if python3 -c '
import json, sys
n = json.load(open(sys.argv[1]))["declared"]["nvas"]
sys.exit(not (len(n) == 2 and all(x.get("nic", "").endswith("/nic-" + x["name"]) and len(x["peers"]) == 1 for x in n)))' "$TMP/tgt.json"
then pass "the NVAs the intent redeclares keep the NIC synth declared, and peer with one route server each"
else fail "the NVAs the intent redeclares keep the NIC synth declared, and peer with one route server each"; fi

# --- plan ------------------------------------------------------------------
ars_plan "$SUB" "$INTENT" "$DB"
# per wave: its name, kind, steps, gate kinds and member spokes (for the checks below)
python3 - "$TMP/plan.json" "$TMP/waves" <<'EOF' >"$TMP/shape"
import json, sys
p = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for w in p["waves"]:
        names = [m.rsplit("/", 1)[1] for m in w.get("members", [])] if w["kind"] == "udr-cleanup" else []
        f.write("%s %s\n" % (w["name"], " ".join(names)))
print("waves", " ".join(w["name"] for w in p["waves"]))
print("deletes", sum(1 for w in p["waves"] for s in w["steps"] if s["operation"]["method"] == "DELETE"))
b2b = [w for w in p["waves"] if w["kind"] == "branch-to-branch"][:1]
for w in b2b:
    steps = ", ".join("%s %s %s %s" % (s["operation"]["method"], s["resource"].rsplit("/", 1)[1],
                      json.dumps(s["operation"]["body"]["properties"]["allowBranchToBranchTraffic"]),
                      json.dumps(s["inverse"]["body"]["properties"]["allowBranchToBranchTraffic"])) for s in w["steps"])
    checks = [c for g in w["gates"] for c in g["params"]["checks"]]
    print("b2b %s; %s %s=%s x%d" % (steps, " ".join(g["kind"] for g in w["gates"]), checks[0]["pointer"],
          json.dumps(checks[0]["equals"]), sum(1 for c in checks if c == dict(checks[0], resource=c["resource"]))))
for w in p["waves"]:
    print("gates", w["name"], " ".join(g["kind"] for g in w["gates"]))
    if w["kind"] == "udr-cleanup":
        print("members", w["name"], len(w["members"]))
EOF
if grep -qx "waves route-servers bgp-peering branch-to-branch udr-cleanup-pilot udr-cleanup-light udr-cleanup-rest" "$TMP/shape"
then pass "the waves come in seed 003's order, the cleanup in three rollout waves"
else fail "the waves come in seed 003's order, the cleanup in three rollout waves" "$(cat "$TMP/shape")"; fi
if grep -qx "b2b PUT rs-hub-01 true false, PUT rs-hub-02 true false; resource-state /properties/allowBranchToBranchTraffic=true x2" "$TMP/shape"
then pass "branch-to-branch PUTs each route server with it on, gated on the property, the way back puts it off"
else fail "branch-to-branch PUTs each route server with it on, gated on the property, the way back puts it off" \
    "$(grep b2b "$TMP/shape")"; fi
if grep -qx "deletes $((2 * SPOKES))" "$TMP/shape"; then pass "every per-spoke inter-hub route is deleted once"
else fail "every per-spoke inter-hub route is deleted once" "$(grep deletes "$TMP/shape")"; fi
# the caps split the waves: pilot is full, light full, the rest takes the overflow
if grep -qx "members udr-cleanup-pilot 2" "$TMP/shape" && grep -qx "members udr-cleanup-light 12" "$TMP/shape" &&
    grep -qx "members udr-cleanup-rest $((2 * SPOKES - 14))" "$TMP/shape"; then
	pass "the capped rollout waves split: 2, 12 and $((2 * SPOKES - 14)) spokes"
else fail "the capped rollout waves split: 2, 12 and $((2 * SPOKES - 14)) spokes" "$(grep members "$TMP/shape")"; fi
if grep -q "^gates bgp-peering .*learned-routes" "$TMP/shape" &&
    [ "$(grep -c '^gates udr-cleanup-[a-z]* effective-routes$' "$TMP/shape")" -eq 3 ]; then
	pass "BGP is gated on learned routes, each cleanup wave on effective routes"
else fail "BGP is gated on learned routes, each cleanup wave on effective routes" "$(grep gates "$TMP/shape")"; fi

# --- what a wave must leave: the checks ---------------------------------------
TOKEN=$(curl -sS -m 30 -d "grant_type=client_credentials&client_id=$AZURE_CLIENT_ID&client_secret=$AZURE_CLIENT_SECRET&scope=https://management.azure.com/.default" \
    "$BASE/$AZURE_TENANT_ID/oauth2/v2.0/token" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')

# routes.py STATE ROUTES1 ROUTES2 CLEANED B2B: what the estate does now.
#  - per remote spoke, the deciding route of each hub's NVA subnet, in
#    netwave's model of the state (ROUTES1/2: netwave routes hub-0N/nva) and
#    in the emulator's effectiveRouteTable of the NVA's NIC: through the
#    remote NVA, by the user route unless the spoke is in CLEANED (its
#    cleanup wave has run), then by the route server's route;
#  - the circuit's route table from the emulator: it hears the hubs' blocks
#    the NVAs advertise (through the gateways) exactly when B2B is 1.
# Prints one line per discrepancy, nothing when all is as rehearsed.
cat >"$TMP/routes.py" <<'EOF'
import ipaddress, json, os, sys, time, urllib.request
state, r1, r2, cleaned, b2b = sys.argv[1], sys.argv[2], sys.argv[3], set(sys.argv[4].split()), sys.argv[5]
base, token, sub = os.environ["BASE"], os.environ["TOKEN"], os.environ["SUB"]
NET = "/subscriptions/%s/resourceGroups/%%s/providers/Microsoft.Network/%%s" % sub

def post(path):
    hdr = {"Authorization": "Bearer " + token}
    resp = urllib.request.urlopen(urllib.request.Request(base + path + "?api-version=2024-05-01", data=b"",
                                  headers=hdr, method="POST"), timeout=60)
    body, loc = resp.read(), resp.headers.get("Location")
    for _ in range(50):              # bounded: a scaled LRO ends in a poll or two
        if resp.status == 200 or not loc:
            break
        time.sleep(0.1)
        resp = urllib.request.urlopen(urllib.request.Request(loc, headers=hdr), timeout=60)
        body = resp.read()
    return json.loads(body)["value"]

st = json.load(open(state))
spokes = sorted((r["name"], r["properties"]["addressSpace"]["addressPrefixes"][0]) for r in st["resources"]
                if r["type"] == "Microsoft.Network/virtualNetworks" and r["name"].startswith("spoke-"))
seen = 0
for hub, routes in (("1", r1), ("2", r2)):
    nic = NET % ("rg-hub-0" + hub, "networkInterfaces/nic-nva-hub-0" + hub)
    for label, table in (("model", json.load(open(routes))["subnets"][0]["value"]),
                         ("emulator", post(nic + "/effectiveRouteTable"))):
        act = [(ipaddress.ip_network(p), r) for r in table if r.get("state") == "Active" for p in r["addressPrefix"]]
        for name, pfx in spokes:
            if name.startswith("spoke-0%s-" % hub):
                continue
            net = ipaddress.ip_network(pfx)
            best = max((x for x in act if net.subnet_of(x[0])), key=lambda x: x[0].prefixlen, default=None)
            got = (best[1]["source"], ",".join(best[1]["nextHopIpAddress"])) if best else ("none", "-")
            want = ("VirtualNetworkGateway" if name in cleaned else "User",
                    "10.%s.0.132" % name.split("-")[1].lstrip("0"))
            seen += 1
            if got != want:
                print("hub-0%s nva to %s (%s): %s %s, not %s %s" % ((hub, name, label) + got + want))
if seen != 2 * len(spokes):
    print("read %d NVA routes" % seen)
circuit = post(NET % ("rg-connectivity", "expressRouteCircuits/er-circuit-01/peerings/AzurePrivatePeering/"
                      "routeTables/primary"))
heard = sorted(set(r["network"] for r in circuit if r["network"] in ("10.1.0.0/16", "10.2.0.0/16")))
if len(heard) != (2 if b2b == "1" else 0):
    print("the circuit hears %s of the NVAs' blocks with branch-to-branch %s" % (heard or "none",
          "on" if b2b == "1" else "off"))
EOF
export BASE TOKEN SUB

# check NAME CLEANED B2B: the state now, its east-west summary, and routes.py
check() {
	STATE="$TMP/state-$1.json"
	curl -sS -m 60 "$BASE/__netwave/state" >"$STATE"
	"$NETWAVE" check "$STATE" -o json 2>/dev/null | python3 -c '
import json, sys
ew = json.load(sys.stdin)["eastWest"]
print("spokes", ew["spokes"], "flows", ew["flows"], "unreachable", ew["classes"]["unreachable"])
for b in sorted(ew["buckets"], key=lambda b: (b["class"], b["detail"])):
    print(b["class"], b["detail"].rsplit("/", 1)[-1], b["flows"])' >"$TMP/ew-$1" || echo "check failed" >>"$TMP/ew-$1"
	"$NETWAVE" routes "$STATE" hub-01/nva -o json >"$TMP/r1.json" 2>/dev/null || true
	"$NETWAVE" routes "$STATE" hub-02/nva -o json >"$TMP/r2.json" 2>/dev/null || true
	python3 "$TMP/routes.py" "$STATE" "$TMP/r1.json" "$TMP/r2.json" "$2" "$3" >"$TMP/bad-$1" 2>&1 || true
}

# expect_wave NAME CLEANED B2B: check, then assert what the rehearsal promised
expect_wave() {
	check "$1" "$2" "$3"
	if cmp -s "$TMP/ew-before" "$TMP/ew-$1"; then pass "$1: every spoke pair keeps its path, none unreachable"
	else fail "$1: every spoke pair keeps its path, none unreachable" "$(diff "$TMP/ew-before" "$TMP/ew-$1" | tr '\n' ' ')"; fi
	if [ ! -s "$TMP/bad-$1" ]; then
		pass "$1: each NVA reaches each remote spoke by the rehearsed route (model and emulator); the circuit hears the NVAs' blocks iff branch-to-branch"
	else fail "$1: each NVA reaches each remote spoke by the rehearsed route (model and emulator); the circuit hears the NVAs' blocks iff branch-to-branch" \
	    "$(head -c 1500 "$TMP/bad-$1")"; fi
}

check before "" 0
cp "$TMP/state-before.json" "$TMP/before.json"
if grep -q "^spokes $((2 * SPOKES)) .* unreachable 0$" "$TMP/ew-before" && [ ! -s "$TMP/bad-before" ]; then
	pass "before: every spoke pair reachable, the NVAs by their user routes"
else fail "before: every spoke pair reachable, the NVAs by their user routes" "$(cat "$TMP/ew-before" "$TMP/bad-before" | head -c 1500)"; fi

# --- apply wave by wave; bgp-peering and udr-cleanup-light killed at a journal write
CLEANED=""
B2B=0
for w in route-servers bgp-peering branch-to-branch udr-cleanup-pilot udr-cleanup-light udr-cleanup-rest; do
	case $w in bgp-peering) ars_killed "$w" 2 ;; udr-cleanup-light) ars_killed "$w" 5 ;; esac
	run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --wave "$w" --yes --no-history $P
	expect_rc "$w: applied" 0
	[ "$w" != branch-to-branch ] || B2B=1
	CLEANED="$CLEANED $(sed -n "s/^$w //p" "$TMP/waves")"
	expect_wave "$w" "$CLEANED" $B2B
done

python3 - "$STATE" >"$TMP/summary" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = [r["type"] for r in d["resources"]]
rt = {r["name"]: len(r["properties"].get("routes", []))
      for r in d["resources"] if r["type"] == "Microsoft.Network/routeTables"}
b2b = [r["properties"].get("allowBranchToBranchTraffic") for r in d["resources"] if r["type"] == "Microsoft.Network/virtualHubs"]
print("hubs", len(b2b), "b2b", b2b.count(True), "bgp", t.count("Microsoft.Network/virtualHubs/bgpConnections"))
print("nva", rt["rt-hub-01-nva"], rt["rt-hub-02-nva"], "spokes", rt["rt-hub-01-interhub"], rt["rt-hub-02-interhub"])
EOF
if grep -qx "hubs 2 b2b 2 bgp 2" "$TMP/summary"; then pass "two route servers exchanging routes with their gateways, a BGP connection each"
else fail "two route servers exchanging routes with their gateways, a BGP connection each" "$(cat "$TMP/summary")"; fi
if grep -qx "nva 0 0 spokes 1 1" "$TMP/summary"; then
	pass "the NVA subnets' inter-hub routes are gone, the spokes keep their override of the remote block"
else fail "the NVA subnets' inter-hub routes are gone, the spokes keep their override of the remote block" \
    "$(cat "$TMP/summary")"; fi

# --- the way back: wave by wave down to the BGP connections, then everything ----
for w in udr-cleanup-rest udr-cleanup-light udr-cleanup-pilot branch-to-branch; do
	run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" rollback "$PLAN" --db "$DB" --wave "$w" --yes --no-history $P
	expect_rc "rollback $w, proven" 0
	[ "$w" != branch-to-branch ] || B2B=0
	sed -n "s/^$w //p" "$TMP/waves" | tr ' ' '\n' >"$TMP/waves-$w"
	CLEANED=$(echo "$CLEANED" | tr ' ' '\n' | grep -vxF -f "$TMP/waves-$w" | tr '\n' ' ' || true)
	expect_wave "back-$w" "$CLEANED" $B2B
done
run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" rollback "$PLAN" --db "$DB" --all --yes --no-history $P
expect_rc "rollback of everything, proven" 0
expect_wave "back" "" 0

ars_same "$TMP/before.json" "$STATE" >"$TMP/same"
if grep -q "^same$" "$TMP/same"; then pass "the estate is the one we started from"
else fail "the estate is the one we started from" "$(head -c 1500 "$TMP/same")"; fi

# Every write the emulator accepted is one of the plan's steps or their
# inverses, each exactly once (a route server is PUT by two waves and put
# back by one: three different writes of one path)
curl -sS -m 60 "$BASE/__netwave/requests" >"$TMP/requests.json"
python3 - "$TMP/requests.json" "$TMP/plan.json" >"$TMP/req" <<'EOF'
import json, sys
from collections import Counter
d = json.load(open(sys.argv[1]))
reqs = d if isinstance(d, list) else d.get("requests", [])
ok = [r for r in reqs if str(r["status"]).startswith("2")]
got = Counter((r["method"], r["path"].split("?")[0].lower()) for r in ok if r["method"] in ("PUT", "PATCH", "DELETE"))
want = Counter((op["method"], op["path"].split("?")[0].lower())
               for w in json.load(open(sys.argv[2]))["waves"] for s in w["steps"] for op in (s["operation"], s["inverse"]))
diff = sorted("%s %s: %d accepted, %d in the plan" % (m, p.rsplit("/", 2)[-1], got[(m, p)], want[(m, p)])
              for (m, p) in set(got) | set(want) if got[(m, p)] != want[(m, p)])
print("writes", sum(got.values()), "differ", len(diff), "; ".join(diff[:5]))
print("learned", sum(1 for r in ok if r["method"] == "POST" and r["path"].split("?")[0].endswith("/learnedRoutes")))
print("spoke-table-writes", sum(v for (m, p), v in got.items() if "-interhub" in p))
EOF
if grep -q "^writes $((4 * SPOKES + 16)) differ 0 " "$TMP/req"; then
	pass "each write of the plan and of its way back accepted once, through both kills"
else fail "each write of the plan and of its way back accepted once, through both kills" "$(cat "$TMP/req")"; fi
if grep -q "^learned [1-9]" "$TMP/req" && grep -qx "spoke-table-writes 0" "$TMP/req"; then
	pass "the gate read learnedRoutes; nothing wrote the spokes' route tables"
else fail "the gate read learnedRoutes; nothing wrote the spokes' route tables" "$(cat "$TMP/req")"; fi

emulator_stop
finish
