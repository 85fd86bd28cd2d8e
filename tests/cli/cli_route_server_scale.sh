#!/bin/sh
# route-server-interhub at scale, on the estate `netwave synth --interhub-nva`
# makes (seed 003's baseline): two regions of SPOKES spokes each (60 unless
# NETWAVE_ARS_SCALE_SPOKES says otherwise), whose hubs route to each other
# through an NVA each, the NVA subnets holding a hand-kept route per remote
# spoke.  The change is seed 003's Option B: a route server per hub, each NVA
# peering with the other hub's route server and advertising its hub's /16,
# then the per-spoke routes deleted in the intent's rollout waves, which
# split (capped waves overflow into the next).  The real binary plans,
# applies wave by wave (the bgp-peering wave and a udr-cleanup wave killed
# at a journal write and resumed), rolls the cleanup back wave by wave, then
# everything.
# After every wave and every rollback, what the rehearsal promised holds:
#  - the east-west summary of every spoke pair is the one before the change,
#    with no pair unreachable;
#  - each NVA subnet reaches every remote spoke through the remote NVA, by
#    its user route while that spoke's wave has not run and by the route
#    server's route once it has, both in netwave's model of the emulator's
#    estate and in the emulator's own effectiveRouteTable of the NVA's NIC.
# At the end the estate is the one we started from, and no write was
# accepted twice.  Asserts from exit codes, GET /__netwave/state and
# /__netwave/requests.  Every loop is bounded.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

export AZURE_TENANT_ID=00000000-0000-4000-8000-0000000c1300
export AZURE_CLIENT_ID=netwave-cli-tests
export AZURE_CLIENT_SECRET="canary-cli-5ecret-0513"
unset NETWAVE_ACCESS_TOKEN NETWAVE_DB NETWAVE_TEST_CRASH_AFTER 2>/dev/null || true
export NETWAVE_NO_LIVE=1
SUB=00000000-0000-4000-8000-a2eefb32555e
SPOKES=${NETWAVE_ARS_SCALE_SPOKES:-60}
DB="$TMP/netwave.db"
APPLY_TIMEOUT=300

run "$NETWAVE" synth --hubs 2 --spokes-per-hub "$SPOKES" --regions westeurope,northeurope --interhub-nva \
    --out "$TMP/estate.json"
expect_rc "synth --interhub-nva, 2 x $SPOKES spokes" 0

# Option B: each NVA peers with the other hub's route server only and
# advertises its hub's block, which the spokes' own UDRs override exactly
hub() {
	cat <<EOF
        { "vnet": { "names": ["hub-0$1"] },
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

# The emulator's estate: the UDR design, and the NVAs as they are configured
# (their BGP sessions wait for the route servers: declared.nvas of the target)
run "$NETWAVE" target --current "$TMP/estate.json" --intent "$INTENT" --out "$TMP/tgt.json"
expect_rc "target" 0
python3 - "$TMP/estate.json" "$TMP/tgt.json" "$TMP/seed.json" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))
e["declared"] = json.load(open(sys.argv[2]))["declared"]
json.dump(e, open(sys.argv[3], "w"))
EOF
emulator_start --seed "$TMP/seed.json" --state "$TMP/emu.db" --time-scale 1000000 --seed-rng 13 || true
if [ -n "$BASE" ]; then pass "the emulator listens"; else fail "the emulator listens"; finish; exit 1; fi

# --- plan ------------------------------------------------------------------
run "$NETWAVE" discover --subscription "$SUB" $P -o "$TMP/current.json"
expect_rc "discover" 0
run "$NETWAVE" plan --current "$TMP/current.json" --intent "$INTENT" --db "$DB" -o json
expect_rc "plan" 0
PLAN=$(sed -n 's/^plan \(pl-[0-9a-f]*\) stored.*/\1/p' "$TMP/err")
cp "$TMP/out" "$TMP/plan.json"
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
for w in p["waves"]:
    print("gates", w["name"], " ".join(g["kind"] for g in w["gates"]))
    if w["kind"] == "udr-cleanup":
        print("members", w["name"], len(w["members"]))
EOF
if grep -qx "waves route-servers bgp-peering udr-cleanup-pilot udr-cleanup-light udr-cleanup-rest" "$TMP/shape"
then pass "the waves come in seed 003's order, the cleanup in three rollout waves"
else fail "the waves come in seed 003's order, the cleanup in three rollout waves" "$(cat "$TMP/shape")"; fi
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

# nva_routes HUB STATE OUT: per remote spoke, the deciding route of HUB's NVA
# subnet, from netwave's model of the state ("model") and from the emulator's
# effectiveRouteTable of the NVA's NIC ("emulator"): SPOKE SOURCE NEXTHOP
nva_routes() {
	"$NETWAVE" routes "$2" "hub-0$1/nva" -o json >"$TMP/routes.json" 2>"$TMP/routes.err" || echo "routes failed" >>"$3"
	python3 - "$1" "$2" "$TMP/routes.json" "$BASE" "$TOKEN" "$SUB" >>"$3" <<'EOF'
import ipaddress, json, sys, time, urllib.request
hubn, state, routes, base, token, sub = sys.argv[1:7]
st = json.load(open(state))
remote = [(r["name"], r["properties"]["addressSpace"]["addressPrefixes"][0]) for r in st["resources"]
          if r["type"] == "Microsoft.Network/virtualNetworks" and r["name"].startswith("spoke-")
          and not r["name"].startswith("spoke-0%s-" % hubn)]

def decide(table, label):
    act = [(ipaddress.ip_network(p), r) for r in table if r.get("state") == "Active" for p in r["addressPrefix"]]
    for name, pfx in sorted(remote):
        net = ipaddress.ip_network(pfx)
        best = max((x for x in act if net.subnet_of(x[0])), key=lambda x: x[0].prefixlen, default=None)
        if best is None:
            print(label, name, "none", "-")
        else:
            print(label, name, best[1]["source"], ",".join(best[1]["nextHopIpAddress"]) or "-")

decide(json.load(open(routes))["subnets"][0]["value"], "model")
nic = "/subscriptions/%s/resourceGroups/rg-hub-0%s/providers/Microsoft.Network/networkInterfaces/nic-nva-hub-0%s" % (sub, hubn, hubn)
hdr = {"Authorization": "Bearer " + token}
req = urllib.request.Request(base + nic + "/effectiveRouteTable?api-version=2024-05-01", data=b"", headers=hdr, method="POST")
resp = urllib.request.urlopen(req, timeout=60)
body, loc = resp.read(), resp.headers.get("Location")
for _ in range(50):                      # bounded: a scaled LRO ends in a poll or two
    if resp.status == 200 or not loc:
        break
    time.sleep(0.1)
    resp = urllib.request.urlopen(urllib.request.Request(loc, headers=hdr), timeout=60)
    body = resp.read()
decide(json.loads(body)["value"], "emulator")
EOF
}

# check NAME CLEANED: the state now, its east-west summary against the one
# before the change, and the NVA routes against CLEANED (the spokes whose
# wave has run: reached by the route server's route, the others by the UDR)
check() {
	STATE="$TMP/state-$1.json"
	curl -sS -m 60 "$BASE/__netwave/state" >"$STATE"
	"$NETWAVE" check "$STATE" -o json 2>/dev/null | python3 -c '
import json, sys
ew = json.load(sys.stdin)["eastWest"]
print("spokes", ew["spokes"], "flows", ew["flows"], "unreachable", ew["classes"]["unreachable"])
for b in sorted(ew["buckets"], key=lambda b: (b["class"], b["detail"])):
    print(b["class"], b["detail"].rsplit("/", 1)[-1], b["flows"])' >"$TMP/ew-$1" || echo "check failed" >>"$TMP/ew-$1"
	: >"$TMP/nva-$1"
	nva_routes 1 "$STATE" "$TMP/nva-$1"
	nva_routes 2 "$STATE" "$TMP/nva-$1"
	python3 - "$TMP/nva-$1" "$2" <<'EOF' >"$TMP/bad-$1"
import sys
cleaned = set(sys.argv[2].split())
seen = 0
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) != 4:
        print("bad line:", line.strip()); continue
    label, spoke, source, hop = f
    seen += 1
    want_hop = "10.%s.0.132" % spoke.split("-")[1].lstrip("0")
    want_src = "VirtualNetworkGateway" if spoke in cleaned else "User"
    if hop != want_hop or source != want_src:
        print(label, spoke, "is", source, hop, "not", want_src, want_hop)
if seen == 0:
    print("no route read")
EOF
}

# expect_wave NAME CLEANED: check, then assert what the rehearsal promised
expect_wave() {
	check "$1" "$2"
	if cmp -s "$TMP/ew-before" "$TMP/ew-$1"; then pass "$1: every spoke pair keeps its path, none unreachable"
	else fail "$1: every spoke pair keeps its path, none unreachable" "$(diff "$TMP/ew-before" "$TMP/ew-$1" | tr '\n' ' ')"; fi
	if [ ! -s "$TMP/bad-$1" ] && [ "$(wc -l <"$TMP/nva-$1")" -eq $((4 * SPOKES)) ]; then
		pass "$1: the NVAs reach each remote spoke through the remote NVA, by the rehearsed route (model and emulator)"
	else fail "$1: the NVAs reach each remote spoke through the remote NVA, by the rehearsed route (model and emulator)" \
	    "$(head -c 1500 "$TMP/bad-$1") ($(wc -l <"$TMP/nva-$1") lines)"; fi
}

check before ""
cp "$TMP/state-before.json" "$TMP/before.json"
if grep -q "^spokes $((2 * SPOKES)) .* unreachable 0$" "$TMP/ew-before" && [ ! -s "$TMP/bad-before" ]; then
	pass "before: every spoke pair reachable, the NVAs by their user routes"
else fail "before: every spoke pair reachable, the NVAs by their user routes" "$(cat "$TMP/ew-before" "$TMP/bad-before" | head -c 1500)"; fi

# --- apply wave by wave; bgp-peering and udr-cleanup-light killed at a journal write
CLEANED=""
for w in route-servers bgp-peering udr-cleanup-pilot udr-cleanup-light udr-cleanup-rest; do
	crash=0
	case $w in bgp-peering) crash=2 ;; udr-cleanup-light) crash=5 ;; esac
	if [ $crash -gt 0 ]; then
		set +e
		NETWAVE_TEST_CRASH_AFTER=$crash timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" \
		    --wave "$w" --yes --no-history $P >"$TMP/out" 2>"$TMP/err"
		RC=$?
		set -e
		if [ "$RC" -ne 0 ]; then pass "$w: killed at journal write $crash"; else fail "$w: killed at journal write $crash"; fi
	fi
	run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --wave "$w" --yes --no-history $P
	expect_rc "$w: applied" 0
	CLEANED="$CLEANED $(sed -n "s/^$w //p" "$TMP/waves")"
	expect_wave "$w" "$CLEANED"
done

python3 - "$STATE" >"$TMP/summary" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = [r["type"] for r in d["resources"]]
rt = {r["name"]: len(r["properties"].get("routes", []))
      for r in d["resources"] if r["type"] == "Microsoft.Network/routeTables"}
print("hubs", t.count("Microsoft.Network/virtualHubs"), "bgp", t.count("Microsoft.Network/virtualHubs/bgpConnections"))
print("nva", rt["rt-hub-01-nva"], rt["rt-hub-02-nva"], "spokes", rt["rt-hub-01-interhub"], rt["rt-hub-02-interhub"])
EOF
if grep -qx "hubs 2 bgp 2" "$TMP/summary"; then pass "two route servers, a BGP connection each"
else fail "two route servers, a BGP connection each" "$(cat "$TMP/summary")"; fi
if grep -qx "nva 0 0 spokes 1 1" "$TMP/summary"; then
	pass "the NVA subnets' inter-hub routes are gone, the spokes keep their override of the remote block"
else fail "the NVA subnets' inter-hub routes are gone, the spokes keep their override of the remote block" \
    "$(cat "$TMP/summary")"; fi

# --- the way back: the cleanup wave by wave, then everything --------------------
for w in udr-cleanup-rest udr-cleanup-light udr-cleanup-pilot; do
	run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" rollback "$PLAN" --db "$DB" --wave "$w" --yes --no-history $P
	expect_rc "rollback $w, proven" 0
	sed -n "s/^$w //p" "$TMP/waves" | tr ' ' '\n' >"$TMP/waves-$w"
	CLEANED=$(echo "$CLEANED" | tr ' ' '\n' | grep -vxF -f "$TMP/waves-$w" | tr '\n' ' ' || true)
	expect_wave "back-$w" "$CLEANED"
done
run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" rollback "$PLAN" --db "$DB" --all --yes --no-history $P
expect_rc "rollback of everything, proven" 0
expect_wave "back" ""

python3 - "$TMP/before.json" "$STATE" >"$TMP/same" <<'EOF'
import json, sys
def key(f):
    d = json.load(open(f))
    out = []
    for r in d["resources"]:
        p = r.get("properties", {})
        routes = sorted((x["name"], x["properties"].get("addressPrefix"), x["properties"].get("nextHopIpAddress"))
                        for x in p.get("routes", []))
        subnets = sorted((s["name"], (s["properties"].get("routeTable") or {}).get("id"))
                         for s in p.get("subnets", []) if isinstance(s, dict) and "properties" in s)
        out.append((r["type"], r["name"], routes, subnets))
    return sorted(out)
a, b = key(sys.argv[1]), key(sys.argv[2])
print("same" if a == b else "different: %s" % [x for x in a + b if (x in a) != (x in b)][:6])
EOF
if grep -q "^same$" "$TMP/same"; then pass "the estate is the one we started from"
else fail "the estate is the one we started from" "$(head -c 1500 "$TMP/same")"; fi

curl -sS -m 60 "$BASE/__netwave/requests" >"$TMP/requests.json"
python3 - "$TMP/requests.json" >"$TMP/req" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
reqs = d if isinstance(d, list) else d.get("requests", [])
ok = [r for r in reqs if str(r["status"]).startswith("2")]
seen = {}
for r in ok:
    if r["method"] in ("PUT", "PATCH", "DELETE"):
        k = (r["method"], r["path"].split("?")[0])
        seen[k] = seen.get(k, 0) + 1
twice = sorted("%s %s" % k for k, v in seen.items() if v > 1)
print("twice", len(twice), " ".join(twice[:5]))
print("learned", sum(1 for r in ok if r["method"] == "POST" and r["path"].split("?")[0].endswith("/learnedRoutes")))
print("route-deletes", sum(1 for (m, p) in seen if m == "DELETE" and "-nva/routes/" in p))
print("route-puts", sum(1 for (m, p) in seen if m == "PUT" and "-nva/routes/" in p))
print("spoke-table-writes", sum(1 for (m, p) in seen if "-interhub" in p))
EOF
if grep -q "^twice 0 *$" "$TMP/req"; then pass "no write was accepted twice, through both kills"
else fail "no write was accepted twice, through both kills" "$(cat "$TMP/req")"; fi
if grep -qx "route-deletes $((2 * SPOKES))" "$TMP/req" && grep -qx "route-puts $((2 * SPOKES))" "$TMP/req"; then
	pass "each route deleted once and put back once"
else fail "each route deleted once and put back once" "$(cat "$TMP/req")"; fi
if grep -q "^learned [1-9]" "$TMP/req" && grep -qx "spoke-table-writes 0" "$TMP/req"; then
	pass "the gate read learnedRoutes; nothing wrote the spokes' route tables"
else fail "the gate read learnedRoutes; nothing wrote the spokes' route tables" "$(cat "$TMP/req")"; fi

emulator_stop
finish
