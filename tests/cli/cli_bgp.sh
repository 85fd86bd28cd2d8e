#!/bin/sh
# The route server model through the real binary: check names the loop
# drops and the bowtie asymmetry of seed 003's designs and exits 0 on
# warnings; routes shows an NVA's NIC learning the other region's spokes
# with the other NVA as next hop; path follows a route server's route to an
# NVA the spoke cannot reach when the spoke has no UDR; synth's interhub
# estates load and check clean; JSON output validates; bad route server
# input exits 2 naming the file and the field.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

BGP="$DATA/bgp"
SCHEMAS="$top_srcdir/docs/schemas"

run "$NETWAVE" check "$BGP/option-a-no-override.json"
expect_rc "check: warnings only" 0
expect_line "ARS2 drops NVA1's spokes" "warning +bgp-loop-dropped +route server ars2 drops 2 routes from nva1 \(10\.0\.1\.4\)"
expect_out "limits show the route server rows" "Route Server BGP peers                                2 of 8"

run "$NETWAVE" check "$BGP/transit-no-prepend.json" -o json
expect_rc "check -o json" 0
if python3 "$top_srcdir/tests/cli/schema_check.py" "$SCHEMAS" "$TMP/out" >"$TMP/schema.out" 2>&1; then
	pass "check's JSON validates"
else
	fail "check's JSON validates" "$(cat "$TMP/schema.out")"
fi
expect_out "the bowtie is named in JSON" '"code": "bowtie-asymmetric"'

run "$NETWAVE" check "$BGP/transit.json"
expect_rc "prepending: check is clean" 0
expect_out "nothing found" "0 errors, 0 warnings, 0 infos"

run "$NETWAVE" routes "$BGP/option-a.json" hub2/nva
expect_rc "routes on NVA2's subnet" 0
expect_line "spoke1 via NVA1" "VirtualNetworkGateway +Active +192\.168\.0\.0/24 +VirtualNetworkGateway +10\.0\.1\.4"
expect_line "on-premises via the gateway" "VirtualNetworkGateway +Active +10\.2\.0\.0/16 +VirtualNetworkGateway +172\.16\.0\.1"

# spoke1 without its UDR: ARS1's route to spoke3 points at NVA2, which spoke1 cannot reach
python3 - "$BGP/option-a.json" "$TMP/no-udr.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["resources"]:
    if r["name"] == "spoke1":
        del r["properties"]["subnets"][0]["properties"]["routeTable"]
json.dump(d, open(sys.argv[2], "w"))
PY
run "$NETWAVE" path "$TMP/no-udr.json" spoke1 spoke3
expect_rc "path" 0
expect_out "unreachable through NVA2" "spoke1 -> spoke3: unreachable"
expect_out "the NVA is named" "next hop 10.1.1.4 (nva2) from ars1 is not reachable from the source"
run "$NETWAVE" path "$BGP/option-a.json" spoke1 spoke3
expect_out "with the UDR: through NVA1" "spoke1 -> spoke3: via-appliance 10.0.1.4"

run "$NETWAVE" synth --hubs 3 --spokes-per-hub 4 --regions westeurope,northeurope --interhub-nva \
	--route-servers --out "$TMP/ih.json"
expect_rc "synth --interhub-nva --route-servers" 0
run "$NETWAVE" check "$TMP/ih.json"
expect_rc "the synthetic estate checks" 0
expect_out "no route server findings" "0 errors"
run "$NETWAVE" path "$TMP/ih.json" spoke-01-0001 spoke-03-0002
expect_out "between regions through the local NVA" "via-appliance 10.1.0.132"
run "$NETWAVE" synth --hubs 1 --spokes-per-hub 4 --interhub-nva
expect_rc "one hub is bad input" 2
expect_err "the option is named" "option '--interhub-nva': inter-hub routing needs at least 2 hubs"

sed 's/"hubRoutingPreference": "ExpressRoute"/"hubRoutingPreference": "Cheapest"/' "$BGP/option-a.json" >"$TMP/bad.json"
run "$NETWAVE" check "$TMP/bad.json"
expect_rc "a bad preference is bad input" 2
expect_err "file and field named" "bad.json: /resources/"
expect_err "the value and the choices" 'unknown preference "Cheapest" (ExpressRoute, VpnGateway or ASPath)'

finish
