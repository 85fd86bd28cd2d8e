#!/bin/sh
# netwave routes and netwave path on a hand-made estate whose routing is
# worked out by hand: effective tables, states, and path classes.
set -eu
. "$top_srcdir/tests/cli/lib.sh"
F="$DATA/check/findings.json"

run "$NETWAVE" routes "$F" --vnet spoke-2
expect_rc "routes succeeds" 0
expect_out "the subnet and its route table are named" "spoke-2/workload (route table rt-bad, gateway route propagation disabled)"
expect_line "own space is VnetLocal" '^  Default +Active +10\.2\.0\.0/16 +VnetLocal'
expect_line "the hub peering is installed" '^  Default +Active +10\.0\.0\.0/16 +VNetPeering'
expect_line "the user default route wins" '^  User +Active +0\.0\.0\.0/0 +VirtualAppliance +10\.9\.9\.9$'
expect_line "the Internet default loses the tie" '^  Default +Invalid +0\.0\.0\.0/0 +Internet'
expect_line "a user default route invalidates the private None routes" '^  Default +Invalid +10\.0\.0\.0/8 +None'
if grep -q VirtualNetworkGateway "$TMP/out"; then fail "disabled propagation drops BGP routes"; else pass "disabled propagation drops BGP routes"; fi

run "$NETWAVE" routes "$F" --vnet spoke-1 --format json
expect_rc "routes json succeeds" 0
expect_out "json is in Azure's effective route shape" '"nextHopType": "VirtualNetworkGateway"'
expect_out "BGP routes come from the gateway" '"source": "VirtualNetworkGateway"'
expect_out "BGP next hop is the circuit's" '"192.168.255.1"'

run "$NETWAVE" routes "$F" --vnet hub-a --subnet GatewaySubnet
expect_rc "one subnet can be chosen" 0
if grep -q AzureFirewallSubnet "$TMP/out"; then fail "--subnet shows only that subnet"; else pass "--subnet shows only that subnet"; fi

run "$NETWAVE" routes "$F" --vnet spoke-9
expect_rc "an unknown VNet is bad input" 2
expect_err "an unknown VNet names the nearest" "no VNet 'spoke-9' in"
run "$NETWAVE" routes "$F" --vnet spoke-1 --subnet nope
expect_rc "an unknown subnet is bad input" 2
expect_err "an unknown subnet is named" "VNet spoke-1 has no subnet 'nope'"
run "$NETWAVE" routes "$F"
expect_rc "--vnet is required" 2

run "$NETWAVE" path "$F" spoke-1 spoke-2
expect_rc "path succeeds" 0
expect_line "spokes of one hub hairpin under an on-premises supernet" '^spoke-1 -> spoke-2: hairpin er-1$'
expect_out "the deciding route is shown" "route: 10.0.0.0/8 -> VirtualNetworkGateway 192.168.255.1 (VirtualNetworkGateway)"
expect_out "the circuit route is shown" "circuit route: 10.2.0.0/16 from gw-a"

run "$NETWAVE" path "$F" spoke-2 spoke-1
expect_line "a UDR to an appliance" '^spoke-2 -> spoke-1: via-appliance 10\.9\.9\.9$'
run "$NETWAVE" path "$F" spoke-1 spoke-3
expect_line "a spoke not advertised to the circuit is reached on premises" '^spoke-1 -> spoke-3: on-premises$'
run "$NETWAVE" path "$F" spoke-3 spoke-1
expect_line "without gateway transit the private range is dropped" '^spoke-3 -> spoke-1: unreachable'
run "$NETWAVE" path "$F" spoke-1 hub-a
expect_line "a peered hub is reached over the peering" '^spoke-1 -> hub-a: peering$'
run "$NETWAVE" path "$F" spoke-1 spoke-1
expect_line "a VNet reaches itself locally" '^spoke-1 -> spoke-1: local$'
run "$NETWAVE" path "$F" spoke-1 spoke-2 --format json
expect_out "path json has the class" '"class": "hairpin"'

run "$NETWAVE" path "$F" spoke-1 spoek-2
expect_rc "an unknown VNet in path is bad input" 2
expect_err "path suggests the nearest VNet" "did you mean 'spoke-2'?"

finish
