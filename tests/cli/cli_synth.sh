#!/bin/sh
# netwave synth: writes a loadable, byte-for-byte reproducible estate to a
# file or standard output, and refuses bad options with exit 2, a message
# naming the option, and no output file.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

# count_lines NAME FILE TEXT N: FILE has N lines containing TEXT (fixed string)
count_lines() {
	n=$(grep -cF -- "$3" "$2" 2>/dev/null || true)
	n=${n:-0}
	if [ "$n" -eq "$4" ]; then pass "$1 ($4)"; else fail "$1" "expected $4 lines with $3, found $n"; fi
}

# count_re NAME FILE REGEX N: FILE has N lines matching the extended REGEX
count_re() {
	n=$(grep -cE -- "$3" "$2" 2>/dev/null || true)
	n=${n:-0}
	if [ "$n" -eq "$4" ]; then pass "$1 ($4)"; else fail "$1" "expected $4 lines matching $3, found $n"; fi
}

# expect_no_file NAME PATH: neither PATH nor a temporary beside it exists
expect_no_file() {
	if [ ! -e "$2" ] && ! ls "$2".* >/dev/null 2>&1; then pass "$1"; else fail "$1" "$2 exists"; fi
}

F="$TMP/f.json"
run "$NETWAVE" synth --hubs 2 --spokes-per-hub 3 --seed 7 -o "$F"
expect_rc "synth to a file succeeds" 0
expect_no_out "synth to a file prints nothing on stdout"
expect_err "synth to a file summarizes on stderr" "synth: 2 hubs, 6 spokes, 0 private endpoints -> $F"
if [ -s "$F" ]; then pass "the file is written"; else fail "the file is written"; fi
count_lines "the file has the format" "$F" '"format": "netwave.topology/v1"' 1
count_lines "the file has hub and spoke VNets" "$F" '"type": "Microsoft.Network/virtualNetworks"' 8
count_lines "the file has one gateway per hub" "$F" '"type": "Microsoft.Network/virtualNetworkGateways"' 2
count_lines "every public IP is Basic" "$F" '"name": "Basic"' 2
count_lines "the file has one NIC per spoke" "$F" '"type": "Microsoft.Network/networkInterfaces"' 6
count_lines "spokes are peered both ways" "$F" '"peeringState": "Connected"' 12
count_lines "the circuit learned 10.0.0.0/8" "$F" '"network": "10.0.0.0/8"' 1
if [ "$(tail -c 1 "$F" | wc -l)" -eq 1 ]; then pass "the file ends with a newline"; else fail "the file ends with a newline"; fi

# the loader rereads what synth wrote
run "$NETWAVE" check "$F"
expect_rc "the written file loads" 0

G="$TMP/g.json"
run "$NETWAVE" synth --hubs 2 --spokes-per-hub 3 --seed 7 -o "$G"
expect_rc "a second run succeeds" 0
if cmp -s "$F" "$G"; then pass "the same options give the same bytes"; else fail "the same options give the same bytes"; fi

run "$NETWAVE" synth --hubs 2 --spokes-per-hub 3 --seed 7
expect_rc "synth to stdout succeeds" 0
if cmp -s "$F" "$TMP/out"; then pass "stdout holds the same bytes as the file"; else fail "stdout holds the same bytes as the file"; fi
if [ ! -s "$TMP/err" ]; then pass "stdout mode prints no summary"; else fail "stdout mode prints no summary"; fi

run "$NETWAVE" synth --hubs 2 --spokes-per-hub 3 --seed 7 -o -
expect_rc "-o - writes to stdout" 0
if cmp -s "$F" "$TMP/out"; then pass "-o - gives the same bytes"; else fail "-o - gives the same bytes"; fi

H="$TMP/h.json"
run "$NETWAVE" synth --hubs 2 --spokes-per-hub 3 --seed 8 -o "$H"
expect_rc "another seed succeeds" 0
if cmp -s "$F" "$H"; then fail "another seed gives other bytes"; else pass "another seed gives other bytes"; fi

P="$TMP/p.json"
run "$NETWAVE" synth --hubs 3 --spokes-per-hub 4 --pe-per-spoke 2 --udr-spokes 5 \
	--regions eastus,westeurope --seed 3 -o "$P"
expect_rc "synth with every option succeeds" 0
expect_err "the summary counts private endpoints" "synth: 3 hubs, 12 spokes, 24 private endpoints -> $P"
count_lines "private endpoints follow --pe-per-spoke" "$P" '"type": "Microsoft.Network/privateEndpoints"' 24
count_lines "UDR spokes are tagged" "$P" '"inspection": "firewall"' 5
count_lines "each hub with UDR spokes has a route table" "$P" '"type": "Microsoft.Network/routeTables"' 3
# three route tables and the ten subnets of the five UDR spokes
count_re "UDR spokes' subnets use the route table" "$P" '"id": ".*/routeTables/rt-hub-0[0-9]-to-firewall",?$' 13
count_lines "hubs go round-robin over regions" "$P" '"location": "westeurope"' 22

# bad options: exit 2, the option named, no file
B="$TMP/bad.json"
run "$NETWAVE" synth --hubs 0 --spokes-per-hub 3 -o "$B"
expect_rc "--hubs 0 is bad usage" 2
expect_err "--hubs 0 names the option" "--hubs"
expect_no_file "--hubs 0 writes no file" "$B"

run "$NETWAVE" synth --hubs x --spokes-per-hub 3 -o "$B"
expect_rc "--hubs x is bad usage" 2
expect_err "--hubs x says it is not a number" "option '--hubs': 'x' is not a whole number"
expect_no_file "--hubs x writes no file" "$B"

run "$NETWAVE" synth --hubs 2 --spokes-per-hub 3 --regions 'East US' -o "$B"
expect_rc "a bad region is bad usage" 2
expect_err "a bad region names the option" "option '--regions': 'East US'"
expect_no_file "a bad region writes no file" "$B"

run "$NETWAVE" synth --hubs 2 --spokes-per-hub 3 --regions 'eastus,,westus' -o "$B"
expect_rc "an empty region is bad usage" 2
expect_err "an empty region names the option" "--regions"
expect_no_file "an empty region writes no file" "$B"

run "$NETWAVE" synth --hub 2 --spokes-per-hub 3 -o "$B"
expect_rc "an unknown option is bad usage" 2
expect_err "an unknown option suggests the nearest" "did you mean '--hubs'?"
expect_no_file "an unknown option writes no file" "$B"

run "$NETWAVE" synth --spokes-per-hub 3 -o "$B"
expect_rc "a missing --hubs is bad usage" 2
expect_err "a missing --hubs names it" "option '--hubs' is required"
expect_no_file "a missing --hubs writes no file" "$B"

run "$NETWAVE" synth --hubs 2 --spokes-per-hub 3 --udr-spokes 7 -o "$B"
expect_rc "more UDR spokes than spokes is bad usage" 2
expect_err "more UDR spokes than spokes names the option" "--udr-spokes"
expect_no_file "more UDR spokes than spokes writes no file" "$B"

run "$NETWAVE" synth --hubs 70 --spokes-per-hub 1000 -o "$B"
expect_rc "an estate too large for 10/8 is bad usage" 2
expect_err "an estate too large names --hubs" "option '--hubs'"
expect_no_file "an estate too large writes no file" "$B"

# the options a whole migration needs: bad values exit 2 naming the option, nothing written
for bad in "--subscriptions 0" "--subscriptions 7" "--spoke-peerings 4" "--spoke-peerings x" \
    "--gateway-udr-spokes 9" "--gateway-udr-spokes -1"; do
	run "$NETWAVE" synth --hubs 2 --spokes-per-hub 3 --udr-spokes 2 $bad -o "$B"
	expect_rc "synth $bad is bad usage" 2
	expect_err "synth $bad names the option" "option '${bad%% *}'"
	expect_no_file "synth $bad writes no file" "$B"
done
X="$TMP/spread.json"
run "$NETWAVE" synth --hubs 2 --spokes-per-hub 4 --pe-per-spoke 1 --subscriptions 2 \
    --spoke-peerings 2 --gateway-udr-spokes 2 --vpn-gateways --seed 4 -o "$X"
expect_rc "synth with the spread options succeeds" 0
run "$NETWAVE" check "$X"
expect_rc "check loads it, and finds the gateway routes Azure does not honour (exit 1)" 1
if [ "$(grep -c 'error  *route-to-expressroute-gateway' "$TMP/out")" -eq 2 ] &&
    [ "$(grep -c '^  error' "$TMP/out")" -eq 2 ]; then
	pass "its only errors are the two gateway routes"; else
	fail "its only errors are the two gateway routes"; fi
run "$NETWAVE" synth --hubs 2 --spokes-per-hub 4 --subscriptions 2 --spoke-peerings 2 \
    --vpn-gateways --seed 4 -o "$TMP/spread2.json"
run "$NETWAVE" check "$TMP/spread2.json"
expect_rc "without gateway routes check finds no error" 0
# a hub with two gateways lists its spokes once when its summaries are rehearsed
cat >"$TMP/gw-intent.json" <<EOF
{ "format": "netwave.intent/v1",
  "changes": [ { "kind": "gateway-standard-ip", "gateways": { "all": true } },
               { "kind": "summarize-gateway-prefixes", "hubs": { "tags": { "role": "hub" } } } ] }
EOF
run "$NETWAVE" plan --current "$TMP/spread2.json" --intent "$TMP/gw-intent.json" \
    --db "$TMP/gw.db" --format text
expect_rc "plan moves both kinds of gateway and summarizes their hubs" 0
expect_out "with a commit for each VPN gateway" "commitMigration on vpngw-hub-02"
if [ "$(grep -c '^    "00000000-0000-4000-8000-[0-9a-f]*"' "$X")" -eq 2 ]; then
	pass "two subscriptions are listed"; else fail "two subscriptions are listed"; fi
if [ "$(grep -c '"gatewayType": "Vpn"' "$X")" -eq 2 ] &&
    [ "$(grep -c '"name": "VpnGw1"' "$X")" -eq 2 ]; then
	pass "each hub has a VpnGw1 VPN gateway"; else fail "each hub has a VpnGw1 VPN gateway"; fi
if [ "$(grep -c '"nextHopType": "VirtualNetworkGateway"' "$X")" -eq 2 ]; then
	pass "two spokes route another spoke to the gateway"; else
	fail "two spokes route another spoke to the gateway"; fi
# 8 hub-to-spoke peerings, 2 pairs both ways, 2 gateway routes: all named to-spoke-*
if [ "$(grep -c '"name": "to-spoke-' "$X")" -eq 14 ] &&
    [ "$(grep -c '"allowGatewayTransit": false,' "$X")" -eq 12 ]; then
	pass "two spoke pairs are peered both ways, without gateway transit"; else
	fail "two spoke pairs are peered both ways, without gateway transit" \
	    "$(grep -c '"name": "to-spoke-' "$X") things named to-spoke-*"; fi
run "$NETWAVE" synth --hubs 2 --spokes-per-hub 4 --pe-per-spoke 1 --subscriptions 2 \
    --spoke-peerings 2 --gateway-udr-spokes 2 --vpn-gateways --seed 4
if cmp -s "$TMP/out" "$X"; then pass "the spread options give the same bytes again"; else
	fail "the spread options give the same bytes again"; fi

run "$NETWAVE" synth --hubs 1 --spokes-per-hub 3 extra
expect_rc "a positional argument is bad usage" 2
expect_err "a positional argument is named" "unexpected argument 'extra'"

finish
