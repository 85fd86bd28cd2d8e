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

# Flows from a subnet, a NIC or an address (tests/data/check/mixed.json:
# spoke-1's workload subnet sends 0.0.0.0/0 to the firewall 10.0.1.4, its
# endpoints subnet 10.1.7.0/24 has no route table and hairpins).
M="$DATA/check/mixed.json"
run "$NETWAVE" path "$M" spoke-1 spoke-2
expect_rc "path from a VNet whose subnets disagree" 0
expect_line "the worst subnet heads the answer" '^spoke-1 -> spoke-2: hairpin er-1$'
expect_out "the disagreement is said" "subnets disagree; each subnet's way:"
expect_line "the workload subnet goes through the firewall" '^    workload: via-appliance 10\.0\.1\.4 to 10\.2\.0\.0/16, route 0\.0\.0\.0/0 -> VirtualAppliance 10\.0\.1\.4 \(User, route default-to-firewall\)$'
expect_line "the endpoints subnet hairpins" '^    endpoints: hairpin er-1 to 10\.2\.0\.0/16, route 10\.0\.0\.0/8 -> VirtualNetworkGateway'
run "$NETWAVE" path "$M" spoke-3 spoke-1
if grep -q "subnets disagree" "$TMP/out"; then fail "agreeing subnets print no breakdown"; else pass "agreeing subnets print no breakdown"; fi
run "$NETWAVE" path "$M" spoke-1/workload spoke-2
expect_line "VNET/SUBNET starts from that subnet" '^spoke-1/workload -> spoke-2: via-appliance 10\.0\.1\.4$'
run "$NETWAVE" path "$M" 10.1.7.10 10.2.0.4
expect_rc "addresses are accepted at both ends" 0
expect_line "an address starts from its subnet" '^10\.1\.7\.10 -> 10\.2\.0\.4: hairpin er-1$'
expect_out "an address is looked up as a host route" "from subnet endpoints to 10.2.0.4/32"
run "$NETWAVE" path "$M" nic-app-1 spoke-3/endpoints
expect_line "a NIC starts from its subnet" '^nic-app-1 -> spoke-3/endpoints: via-appliance 10\.0\.1\.4$'
expect_out "a subnet destination is its prefix" "to 10.3.7.0/24"
run "$NETWAVE" path "$M" spoke-1/workload spoke-1/endpoints
expect_line "a subnet of the same VNet is local" '^spoke-1/workload -> spoke-1/endpoints: local$'
run "$NETWAVE" path "$M" /subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/spoke-1/subnets/endpoints spoke-2
expect_line "a subnet id is accepted" '^spoke-1/endpoints -> spoke-2: hairpin er-1$'
run "$NETWAVE" path "$M" spoke-1 spoke-2 --format json
expect_out "path json names its format" '"format": "netwave.path/v1"'
expect_out "path json lists each subnet" '"fromSubnet": "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/spoke-1/subnets/workload"'
expect_out "path json gives each subnet's class" '"class": "via-appliance"'
run "$NETWAVE" path "$M" 192.168.1.1 spoke-2
expect_rc "an address in no VNet is bad input" 2
expect_err "the address and what was expected are named" "address 192.168.1.1 is in no VNet of"
expect_err "the accepted forms are listed" "expected a VNet name or id, VNET/SUBNET, a NIC name or id, or an IP address in a subnet"
run "$NETWAVE" path "$M" spoke-1 172.16.0.1
expect_rc "a destination address in no VNet is bad input" 2
expect_err "the destination address is named" "address 172.16.0.1 is in no VNet of"
run "$NETWAVE" path "$M" 10.1.200.1 spoke-2
expect_rc "an address outside every subnet is bad input" 2
expect_err "the VNet that holds it is named" "address 10.1.200.1 is in VNet spoke-1 of"
run "$NETWAVE" path "$F" 10.1.200.1 spoke-2
expect_rc "an address in two overlapping VNets is bad input" 2
expect_err "both VNets are named" "address 10.1.200.1 is in the address space of 2 VNets of"
expect_err "the way out is said" "(spoke-1, spoke-4); give VNET/SUBNET"
run "$NETWAVE" path "$M" spoke-1/nope spoke-2
expect_rc "an unknown subnet in path is bad input" 2
expect_err "the unknown subnet is named" "VNet spoke-1 has no subnet 'nope'"

run "$NETWAVE" routes "$M" spoke-1/endpoints
expect_rc "routes takes VNET/SUBNET" 0
expect_out "only that subnet is shown" "spoke-1/endpoints"
if grep -q "spoke-1/workload" "$TMP/out"; then fail "routes VNET/SUBNET shows one subnet"; else pass "routes VNET/SUBNET shows one subnet"; fi
expect_line "the endpoints subnet learns the on-premises supernet" '^  VirtualNetworkGateway +Active +10\.0\.0\.0/8 +VirtualNetworkGateway'
run "$NETWAVE" routes "$M" 10.1.0.9
expect_out "routes takes an address: its subnet" "spoke-1/workload (route table rt-to-firewall, gateway route propagation disabled)"
run "$NETWAVE" routes "$M" nic-app-1 --format json
expect_out "routes takes a NIC" '"name": "workload"'
expect_out "routes json names its format" '"format": "netwave.routes/v1"'
run "$NETWAVE" routes "$M" spoke-1 --to 10.2.0.4
expect_rc "routes --to takes an address" 0
expect_line "the workload subnet's next hop is the firewall" '^  next hop to 10\.2\.0\.4/32: VirtualAppliance 10\.0\.1\.4 \(route 0\.0\.0\.0/0, User\)$'
expect_line "the endpoints subnet's next hop is the gateway" '^  next hop to 10\.2\.0\.4/32: VirtualNetworkGateway 192\.168\.255\.1 \(route 10\.0\.0\.0/8, VirtualNetworkGateway\)$'
run "$NETWAVE" routes "$M" spoke-1/workload --to spoke-1/endpoints --format json
expect_out "routes --to in json" '"nextHopType": "VnetLocal"'
expect_out "the destination prefix is named" '"destination": "10.1.7.0/24"'
run "$NETWAVE" routes "$M" spoke-1/endpoints --to 8.8.8.8
expect_rc "routes --to takes any address" 0
expect_line "an address outside the estate goes to the Internet" '^  next hop to 8\.8\.8\.8/32: Internet \(route 0\.0\.0\.0/0, Default\)$'
run "$NETWAVE" routes "$M" spoke-1 --to spoke-9
expect_rc "routes --to an unknown name is bad input" 2
run "$NETWAVE" routes "$M" 192.168.9.9
expect_rc "routes: an address in no VNet is bad input" 2
expect_err "routes names the address" "address 192.168.9.9 is in no VNet"
run "$NETWAVE" routes "$M" spoke-1 --vnet spoke-2
expect_rc "WHERE and --vnet together are bad usage" 2

run "$NETWAVE" path "$F" spoke-1 spoek-2
expect_rc "an unknown VNet in path is bad input" 2
expect_err "path suggests the nearest VNet" "did you mean 'spoke-2'?"

finish
