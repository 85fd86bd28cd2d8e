#!/bin/sh
# netwave check against a hand-made estate with known faults, and against a
# synthesized estate with none; asserts findings, counts and exit codes.
set -eu
. "$top_srcdir/tests/cli/lib.sh"
F="$DATA/check/findings.json"

run "$NETWAVE" check "$F"
expect_rc "error-level findings give exit 1" 1
expect_line "one-sided peering is an error" '^  error +peering-one-sided +peering to-hub-a of spoke-3 to hub-a has no peering back from hub-a$'
expect_line "gateway transit without allowGatewayTransit is an error" "^  error +gateway-transit-broken +spoke-5 uses remote gateways over to-hub-a, but hub-a's peering to-spoke-5 does not allow gateway transit$"
expect_line "a next hop in no subnet is an error" '^  error +next-hop-missing +route default \(0\.0\.0\.0/0\) of rt-bad points at 10\.9\.9\.9, which is in no subnet of the topology$'
expect_line "overlapping unpeered VNets are a warning naming both" '^  warning +address-overlap +spoke-1 \(10\.1\.0\.0/16\) overlaps spoke-4 \(10\.1\.128\.0/17\)$'
expect_line "a gateway on a Basic public IP is a warning" '^  warning +basic-public-ip +gateway gw-a uses Basic public IP pip-gw-a'
expect_out "the totals are printed" "3 errors, 2 warnings, 0 infos"
expect_err "the failure is summarized on stderr" "3 error-level findings"
expect_out "the estate is summarized" "6 VNets (1 hub, 5 spokes), 1 gateway, 1 circuit"
# east-west: 5 spokes, 20 ordered flows (worked out by hand in the test's data notes)
expect_out "east-west counts every ordered spoke pair" "east-west between spokes: 20 flows"
expect_line "spoke-1 to spoke-2 hairpins through the circuit" '^  hairpin +1  through circuit er-1$'
expect_line "spoke-2 goes through the appliance" '^  via-appliance +4  through 10\.9\.9\.9$'
expect_line "on-premises supernet only: on-premises" '^  on-premises +2'
expect_line "no gateway transit: unreachable" '^  unreachable +12'
expect_line "overlapping space stays local" '^  local +1'

run "$NETWAVE" check --format json "$F"
expect_rc "json output keeps the exit code" 1
expect_out "json names its format" '"format": "netwave.check/v1"'
expect_out "json lists findings with codes" '"code": "peering-one-sided"'
expect_out "json counts classes" '"unreachable": 12'
expect_out "json gives full resource ids" '"resource": "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network/routeTables/rt-bad"'
cp "$TMP/out" "$TMP/first.json"
run "$NETWAVE" check --format json "$F"
if cmp -s "$TMP/out" "$TMP/first.json"; then pass "json output is stable across runs"; else fail "json output is stable across runs"; fi

run "$NETWAVE" synth --hubs 2 --spokes-per-hub 5 --pe-per-spoke 1 --udr-spokes 2 --seed 3 -o "$TMP/estate.json"
expect_rc "synth writes an estate" 0
run "$NETWAVE" check "$TMP/estate.json"
expect_rc "a healthy synthesized estate has no errors" 0
expect_out "two Basic public IPs are warned about" "0 errors, 2 warnings"
# flows are counted from each workload subnet: 10 spokes x 2 subnets x 9 other spokes
expect_out "ten spokes of two subnets make 180 flows" "east-west between spokes: 180 flows (from 20 workload subnets"
expect_line "spokes without UDRs hairpin" '^  hairpin +144  through circuit er-circuit-01$'
expect_line "each UDR spoke goes through its hub firewall from both subnets" '^  via-appliance +18  through 10\.'
if grep -q "subnets reach other spokes different ways" "$TMP/out"; then fail "no spoke of synth is mixed"; else pass "no spoke of synth is mixed"; fi

# The shape: the workload subnet sends 0.0.0.0/0 to the hub firewall,
# the endpoints subnet has no route table.  Worked out by hand: spoke-1 and
# spoke-2 have one subnet through 10.0.1.4 and one hairpinning; spoke-3
# hairpins from both: 6 source subnets x 2 other spokes = 12 flows, 4 of
# them through the firewall (what the planner calls "stays inspected").
M="$DATA/check/mixed.json"
run "$NETWAVE" check "$M"
expect_rc "the mixed estate has no errors" 0
expect_out "flows are counted per source subnet" "east-west between spokes: 12 flows (from 6 workload subnets to the other spokes)"
expect_line "the workload subnets go through the firewall" '^  via-appliance +4  through 10\.0\.1\.4$'
expect_line "the endpoints subnets and spoke-3 hairpin" '^  hairpin +8  through circuit er-1$'
expect_out "mixed spokes are counted" "2 spokes whose subnets reach other spokes different ways"
expect_line "a mixed spoke is named with each subnet's way" '^    spoke-1 to spoke-2: workload via-appliance 10\.0\.1\.4, endpoints hairpin er-1$'
run "$NETWAVE" check --format json "$M"
expect_out "json counts source subnets" '"sourceSubnets": 6'
expect_out "json names the mixed VNets" '"vnet": "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/spoke-1"'
expect_out "json counts via-appliance flows" '"via-appliance": 4'
# ... and the planner agrees: the spokes check shows going through the
# firewall from a subnet are the ones a mesh leaves on their firewall path
run "$NETWAVE" plan --current "$M" --intent "$DATA/check/mixed-intent.json" --db "$TMP/plan.db" --now 2026-12-01T00:00:00Z
expect_out "the planner keeps spoke-1 inspected" "spoke-1 stays on its firewall path"
expect_out "the planner keeps spoke-2 inspected" "spoke-2 stays on its firewall path"
if grep -q "spoke-3 stays on its firewall path" "$TMP/out"; then fail "spoke-3, which check counts as hairpin only, is meshed"; else pass "spoke-3, which check counts as hairpin only, is meshed"; fi

finish
