#!/bin/sh
# netwave discover reads Azure Route Server from a real `netwave emulator`
# seeded with seed 003's Option A (tests/data/bgp/option-a.json): the route
# servers, their ipConfigurations and bgpConnections children, and each
# connection's learnedRoutes / advertisedRoutes answers into
# observed.bgpRoutes, in ARM's instance-keyed shape, equal to what the BGP
# model says; and the discovered file gives check and path what the seed
# gives them.  Both ways of reading (Resource Graph, list calls) are run.
# Until the emulator serves virtualHubs the script is skipped, saying so.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

SEED="$DATA/bgp/option-a.json"
SUB=11111111-2222-4333-8444-555555555555
NET="/subscriptions/$SUB/resourceGroups/rg-net/providers/Microsoft.Network"
emulator_start --seed "$SEED" --no-auth --time-scale 1000 || true
if [ -n "$BASE" ]; then pass "emulator started"; else fail "emulator started"; finish; exit 1; fi

API=$(arm_api NETWORK)
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE$NET/virtualHubs/ars1?api-version=$API")
if [ "$code" != 200 ]; then
	echo "1..0 # SKIP the emulator does not serve virtualHubs yet (GET answered $code)"
	exit 77
fi

discover() {
	run env -u NETWAVE_ACCESS_TOKEN -u IDENTITY_ENDPOINT AZURE_TENANT_ID=tenant-1 AZURE_CLIENT_ID=app-1 \
		AZURE_CLIENT_SECRET=cli-ars-secret NETWAVE_IMDS_ENDPOINT=http://127.0.0.1:9 \
		"$NETWAVE" discover --subscription "$SUB" --arm-endpoint "$BASE" --authority-host "$BASE" "$@"
}

for source in resource-graph list; do
	discover --source "$source" --out "$TMP/$source.json"
	expect_rc "discover through $source" 0
	if python3 - "$SEED" "$TMP/$source.json" "$NET" >"$TMP/py.out" 2>&1 <<'PY'
import json, sys
seed, got, net = (json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3])
def ids(doc, t):
    return sorted(r["id"].lower() for r in doc["resources"] if r["type"].lower() == t.lower())
for t in ("Microsoft.Network/virtualHubs", "Microsoft.Network/virtualHubs/ipConfigurations",
          "Microsoft.Network/virtualHubs/bgpConnections"):
    assert ids(seed, t) == ids(got, t), (t, ids(seed, t), ids(got, t))
conn = net + "/virtualHubs/ars2/bgpConnections/nva1"
routes = got["observed"]["bgpRoutes"]
entry = {k.lower(): v for k, v in routes.items()}[conn.lower()]
learned = entry["learned"]
assert sorted(learned) == ["RouteServiceRole_IN_0", "RouteServiceRole_IN_1"], sorted(learned)
nets = sorted((r["network"], r["asPath"], r["nextHop"]) for r in learned["RouteServiceRole_IN_0"])
assert nets == [("192.168.0.0/24", "65001-65001", "10.0.1.4"),
                ("192.168.1.0/24", "65001-65001", "10.0.1.4")], nets
adv = sorted(r["network"] for r in entry["advertised"]["RouteServiceRole_IN_1"])
assert adv == ["10.1.0.0/16", "10.2.0.0/16", "192.168.2.0/24", "192.168.3.0/24"], adv
assert len(routes) == 4, sorted(routes)
print("ok")
PY
	then pass "$source: route servers, children and BGP answers as the model gives them"
	else fail "$source: route servers, children and BGP answers as the model gives them" "$(cat "$TMP/py.out")"; fi
done

# the discovered file routes as the seed does (declared NVAs are not in ARM: copy them over)
python3 -c "
import json, sys
s, g = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
g['declared'] = s['declared']
json.dump(g, open(sys.argv[3], 'w'))" "$SEED" "$TMP/list.json" "$TMP/with-nvas.json"
run "$NETWAVE" routes "$TMP/with-nvas.json" hub2/nva
expect_rc "routes reads the discovered file" 0
expect_line "NVA2's NIC reaches spoke1 through NVA1" "VirtualNetworkGateway +Active +192\.168\.0\.0/24 +VirtualNetworkGateway +10\.0\.1\.4"
run "$NETWAVE" check "$TMP/list.json"
expect_rc "check reads the discovered file" 0
expect_out "without the declared NVAs every session is undeclared" "bgp-undeclared-peer"

finish
