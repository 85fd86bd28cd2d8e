#!/bin/sh
# Circuit and BGP sanity end to end: `netwave check` on a hand-made estate
# (tests/data/check/circuits.json: circuit er-bad has Azure-reserved peer
# ASN 65515, the same /30 for both links, VLAN 4095, and on-premises
# advertising a spoke's subnet), text and schema-valid JSON; then the same
# estate seeded into a real emulator, a circuit written through ARM with a
# reserved ASN, both discovered, and found again by check.  The emulator is
# always killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

F="$DATA/check/circuits.json"
SCHEMAS="$top_srcdir/docs/schemas"
SUB=11111111-2222-4333-8444-555555555555
NET="/subscriptions/$SUB/resourceGroups/rg-net/providers/Microsoft.Network"
API="api-version=2024-05-01"

# --- check on the file ----------------------------------------------------------------

run "$NETWAVE" check "$F"
expect_rc "circuit errors make check fail" 1
expect_line "a reserved peer ASN is an error naming the circuit and the range" \
	'^  error +circuit-peer-asn-reserved +private peering AzurePrivatePeering of circuit er-bad uses peer ASN 65515, which Azure reserves \(65515-65520\)'
expect_line "the same /30 on both links is an error" \
	'^  error +circuit-peer-prefix-overlap +private peering AzurePrivatePeering of circuit er-bad uses 192\.168\.100\.0/30 for the primary link and 192\.168\.100\.0/30 for the secondary'
expect_line "VLAN 4095 is an error" \
	'^  error +circuit-vlan-invalid +peering AzurePrivatePeering of circuit er-bad uses VLAN 4095, outside 1-4094'
expect_line "an on-premises route inside a VNet is a warning naming both" \
	'^  warning +circuit-route-overlaps-vnet +on-premises advertises 10\.2\.1\.0/24 over circuit er-bad, inside VNet spoke.s address space 10\.2\.0\.0/16'
if grep -q "er-good" "$TMP/out"; then fail "the healthy circuit er-good has no finding"; else
	pass "the healthy circuit er-good has no finding"; fi
if grep -q "10\.0\.0\.0/8" "$TMP/out"; then fail "an on-premises supernet over the VNets is not flagged"; else
	pass "an on-premises supernet over the VNets is not flagged"; fi
expect_out "the totals count them" "3 errors, 1 warning"

run "$NETWAVE" check -o json "$F"
expect_rc "json keeps the exit code" 1
cp "$TMP/out" "$TMP/check.json"
if python3 "$top_srcdir/tests/cli/schema_check.py" "$SCHEMAS" "$TMP/check.json" >"$TMP/schema.out" 2>&1; then
	pass "the json validates against docs/schemas/check.schema.json"
else
	fail "the json validates against docs/schemas/check.schema.json" "$(cat "$TMP/schema.out")"
fi
if python3 - "$TMP/check.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
mine = [f for f in d["findings"] if f["code"].startswith("circuit-")]
codes = sorted((f["severity"], f["code"]) for f in mine)
want = sorted([("error", "circuit-peer-asn-reserved"), ("error", "circuit-peer-prefix-overlap"),
               ("error", "circuit-vlan-invalid"), ("warning", "circuit-route-overlaps-vnet")])
codes = codes if all("/expressRouteCircuits/er-bad" in f["resource"] for f in mine) else None
sys.exit(0 if codes == want else 1)
EOF
then pass "json lists exactly the circuit findings, on the peering or the circuit"; else
	fail "json lists exactly the circuit findings, on the peering or the circuit"; fi

# --- the emulator serves peerings as ARM does; discover keeps them -----------------------

if emulator_start --seed "$F" --time-scale 1000; then pass "emulator started"; else fail "emulator started"; finish; exit 1; fi

TOKEN=$(curl -sS -m 30 -d 'grant_type=client_credentials&client_id=app-1&client_secret=s&scope=https%3A%2F%2Fmanagement.azure.com%2F.default' \
	"$BASE/tenant-1/oauth2/v2.0/token" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
if [ -n "$TOKEN" ]; then pass "a token is issued"; else fail "a token is issued"; fi

# A circuit written through ARM: the body leaves out azureASN, state and peeringType.
BODY='{"location": "eastus", "sku": {"name": "Standard_MeteredData", "tier": "Standard", "family": "MeteredData"},
 "properties": {"serviceProviderProperties": {"serviceProviderName": "Equinix", "peeringLocation": "Washington DC", "bandwidthInMbps": 50},
  "peerings": [{"name": "AzurePrivatePeering", "properties": {"peerASN": 65516, "vlanId": 300,
   "primaryPeerAddressPrefix": "192.168.30.0/30", "secondaryPeerAddressPrefix": "192.168.30.4/30"}}]}}'
CODE=$(curl -sS -m 30 -o "$TMP/put.json" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' --data-binary "$BODY" "$BASE$NET/expressRouteCircuits/er-new?$API" || true)
case "$CODE" in 200 | 201) pass "PUT of a circuit with a private peering is accepted ($CODE)" ;;
*) fail "PUT of a circuit with a private peering is accepted" "HTTP $CODE: $(cat "$TMP/put.json")" ;; esac
curl -sS -m 30 -o "$TMP/get.json" -H "Authorization: Bearer $TOKEN" "$BASE$NET/expressRouteCircuits/er-new?$API" || true
if python3 - "$TMP/get.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))["properties"]["peerings"][0]
q = p["properties"]
ok = (q["azureASN"] == 12076 and q["state"] == "Enabled" and q["peeringType"] == "AzurePrivatePeering"
      and q["peerASN"] == 65516 and q["vlanId"] == 300 and "provisioningState" in q
      and p["id"].endswith("/expressRouteCircuits/er-new/peerings/AzurePrivatePeering"))
sys.exit(0 if ok else 1)
EOF
then pass "GET returns the peering with azureASN 12076, state Enabled, its type, id and fields"; else
	fail "GET returns the peering with azureASN 12076, state Enabled, its type, id and fields" "$(cat "$TMP/get.json")"; fi
curl -sS -m 30 -o "$TMP/requests.json" "$BASE/__netwave/requests" || true
if grep -q 'PUT.*expressRouteCircuits/er-new' "$TMP/requests.json" ||
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d.get("requests",d); sys.exit(0 if any(x.get("method")=="PUT" and "expressRouteCircuits/er-new" in x.get("path","") for x in r) else 1)' "$TMP/requests.json"; then
	pass "the emulator saw the circuit's PUT"
else
	fail "the emulator saw the circuit's PUT" "$(head -c 600 "$TMP/requests.json")"
fi

# The PUT's operation completes at --time-scale 1000 within the bound below.
i=0
while [ $i -lt 300 ]; do
	curl -sS -m 30 -o "$TMP/get.json" -H "Authorization: Bearer $TOKEN" "$BASE$NET/expressRouteCircuits/er-new?$API" || true
	if grep -q '"provisioningState": *"Succeeded"' "$TMP/get.json"; then break; fi
	sleep 0.1
	i=$((i + 1))
done

run env -u NETWAVE_ACCESS_TOKEN -u IDENTITY_ENDPOINT AZURE_TENANT_ID=tenant-1 AZURE_CLIENT_ID=app-1 \
	AZURE_CLIENT_SECRET=cli-not-a-secret NETWAVE_IMDS_ENDPOINT=http://127.0.0.1:9 \
	"$NETWAVE" discover --subscription "$SUB" --arm-endpoint "$BASE" --authority-host "$BASE" -o "$TMP/found.json"
expect_rc "discover reads the estate back" 0
if python3 - "$TMP/found.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = {r["name"]: r for r in d["resources"] if r["type"].lower() == "microsoft.network/expressroutecircuits"}
q = c["er-bad"]["properties"]["peerings"][0]["properties"]
ok = (q["peerASN"] == 65515 and q["vlanId"] == 4095 and q["azureASN"] == 12076
      and q["primaryPeerAddressPrefix"] == "192.168.100.0/30" and q["state"] == "Enabled"
      and q["provisioningState"] == "Succeeded" and "er-new" in c)
sys.exit(0 if ok else 1)
EOF
then pass "the discovered circuits keep their peerings' ASNs, VLAN, prefixes and states"; else
	fail "the discovered circuits keep their peerings' ASNs, VLAN, prefixes and states"; fi

run "$NETWAVE" check "$TMP/found.json"
expect_rc "check on the discovered estate fails" 1
expect_line "the seeded reserved ASN is found again" \
	'^  error +circuit-peer-asn-reserved +private peering AzurePrivatePeering of circuit er-bad uses peer ASN 65515'
expect_line "the ASN written through ARM is found too" \
	'^  error +circuit-peer-asn-reserved +private peering AzurePrivatePeering of circuit er-new uses peer ASN 65516'

finish
