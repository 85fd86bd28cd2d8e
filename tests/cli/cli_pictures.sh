#!/bin/sh
# Pictures: path and check --format dot on the hand-made estate of
# tests/data/check/mixed.json (worked out in cli_routes.sh and
# cli_check.sh), rendered with Debian's graphviz: the PNG is a PNG of some
# size, Graphviz reads as many nodes and edges as the text has, and the
# text is the same on every run.
set -eu
. "$top_srcdir/tests/cli/lib.sh"
M="$DATA/check/mixed.json"

# count_dot FILE: "NODES EDGES" of netwave's dot text (one statement a line)
count_dot() {
	printf '%s %s\n' "$(grep -cE '^[[:space:]]+"[^"]*" \[label=' "$1")" "$(grep -cE '^[[:space:]]+"[^"]*" -> "' "$1")"
}

# render NAME FILE.dot WANT_NODES WANT_EDGES
render() {
	got=$(count_dot "$2")
	if [ "$got" = "$3 $4" ]; then pass "$1: $3 nodes and $4 edges in the text"; else fail "$1: nodes and edges" "expected '$3 $4', got '$got'"; fi
	if ! command -v dot >/dev/null 2>&1; then
		fail "$1: graphviz's dot is installed (setup.sh installs it)"
		return
	fi
	if dot -Tpng "$2" -o "$2.png" 2>"$TMP/dot.err"; then pass "$1: dot renders it"; else fail "$1: dot renders it" "$(cat "$TMP/dot.err")"; return; fi
	if [ "$(head -c 8 "$2.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; then pass "$1: the PNG has PNG's signature"; else fail "$1: the PNG has PNG's signature"; fi
	size=$(wc -c <"$2.png")
	if [ "$size" -gt 10000 ]; then pass "$1: the PNG is not trivial ($size bytes)"; else fail "$1: the PNG is not trivial" "$size bytes"; fi
	dot -Tplain "$2" >"$2.plain"
	plain="$(grep -c '^node ' "$2.plain") $(grep -c '^edge ' "$2.plain")"
	if [ "$plain" = "$3 $4" ]; then pass "$1: graphviz lays out every node and edge"; else fail "$1: graphviz lays out every node and edge" "graphviz read '$plain'"; fi
}

run "$NETWAVE" path "$M" spoke-1 spoke-2 --format dot
expect_rc "path draws a picture" 0
cp "$TMP/out" "$TMP/path.dot"
expect_line "the title is the answer" 'label="spoke-1 -> spoke-2: hairpin er-1"'
expect_line "each source subnet is a node" '"src:0" \[label="spoke-1/workload\\n10\.1\.0\.0/24"\]'
expect_line "the firewall is a hop" '"appliance:10\.0\.1\.4" \[label="appliance\\n10\.0\.1\.4", shape=hexagon\]'
expect_line "the deciding user route labels the edge" '"src:0" -> "appliance:10\.0\.1\.4" \[label="0\.0\.0\.0/0 -> VirtualAppliance 10\.0\.1\.4\\n\(User, route default-to-firewall\)"'
expect_line "the hairpin goes back over the circuit" '-> "gateway:[^"]*gw-a" \[label="circuit route 10\.2\.0\.0/16"'
# dst, 2 subnets, appliance, gateway, circuit; 2 edges through the firewall, 4 round the hairpin
render "path picture" "$TMP/path.dot" 6 6
run "$NETWAVE" path "$M" spoke-1 spoke-2 --format dot
if cmp -s "$TMP/out" "$TMP/path.dot"; then pass "the path picture is the same on every run"; else fail "the path picture is the same on every run"; fi

run "$NETWAVE" path "$M" 10.1.0.9 spoke-1/endpoints --format dot
expect_line "an address source names its subnet" '"src:0" \[label="10\.1\.0\.9 in spoke-1/workload'
expect_line "a local flow goes straight to the destination" '"src:0" -> "dst" \[label="10\.1\.0\.0/16 -> VnetLocal'

run "$NETWAVE" check "$M" --format dot
expect_rc "check draws the estate" 0
cp "$TMP/out" "$TMP/topo.dot"
expect_line "the hub is a cluster" 'label="hub hub-a, eastus";'
expect_line "spokes are grouped by the classes of their flows" '"spokes:0" \[label="2 spokes\\nvia-appliance \+ hairpin\\nspoke-1, spoke-2"'
expect_line "a spoke of one class is its own group" '"spokes:1" \[label="1 spoke\\nhairpin\\nspoke-3"'
expect_line "the gateway connects to its circuit" '-> "[^"]*expressRouteCircuits/er-1" \[label="gw-a-to-er-1", dir=none\]'
expect_line "the firewalled group points at its appliance" '"spokes:0" -> "appliance:10\.0\.1\.4" \[label="user route"'
# circuit, 2 groups, hub, gateway, appliance; hub-gateway, hub-appliance, gateway-circuit,
# 2 group peerings, 1 user route
render "topology picture" "$TMP/topo.dot" 6 6

run "$NETWAVE" synth --hubs 2 --spokes-per-hub 6 --pe-per-spoke 1 --udr-spokes 2 --seed 4 -o "$TMP/estate.json"
run "$NETWAVE" check "$TMP/estate.json" --format dot
cp "$TMP/out" "$TMP/synth.dot"
expect_line "two hubs are two clusters" 'subgraph "cluster_2"'
expect_line "both hubs' gateways connect to the one circuit" 'ergw-hub-02" -> "[^"]*expressRouteCircuits/er-circuit-01"'
n=$(count_dot "$TMP/synth.dot")
render "synthesized estate" "$TMP/synth.dot" "${n% *}" "${n#* }"

run "$NETWAVE" path "$M" spoke-1 spoke-2 --format svg
expect_rc "an unknown format is bad usage" 2
expect_err "the formats are listed" "expected text|json|dot"

finish
