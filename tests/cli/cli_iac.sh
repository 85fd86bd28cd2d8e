#!/bin/sh
# Infrastructure as code before and after a migration (docs/iac.md):
#  - check and plan read Terraform state (tests/data/iac: a raw version-4
#    file with for_each and count, terraform show -json with nested modules,
#    a 3.x-style subnet) and name the addresses, the remedies, the pins per
#    wave and the decommission's risk; bad states exit 2 naming the file and
#    the position, and nothing is stored;
#  - after a full apply on the emulator, netwave export writes Terraform that
#    HashiCorp's HCL parser (@cdktf/hcl2json, installed from the lock file in
#    tests/iac like the conformance suite's SDK) reads back; every import id
#    exists in a fresh discovery and every attribute equals the discovered
#    value; the ARM template holds the same resources; the export is
#    recorded in the history.
# The parser part is skipped (said on stderr) when node or npm is missing or
# npm cannot reach the registry.  Every wait is bounded; the emulator is
# killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

IAC="$DATA/iac"
test_client 00000000-0000-4000-8000-0000000c1a00 netwave-iac-tests "canary-iac-5ecret-0007"
NOW=2026-11-21T20:00:00Z
STATES="--iac-state $IAC/terraform.tfstate --iac-state $IAC/show.json --iac-state $IAC/legacy.tfstate"

# --- check ------------------------------------------------------------------------------
run "$NETWAVE" check "$IAC/current.json" $STATES
expect_rc "check with IaC state keeps its exit code (an error-level finding)" 1
expect_out "and says how much the code manages" "14 of the topology's 36 resources are managed by IaC (3 Terraform state files, 27 managed instances)"
run "$NETWAVE" check "$IAC/current.json" $STATES --format json
if grep -q '"code": "iac-managed"' "$TMP/out"; then pass "check --format json carries the IaC findings"; else
	fail "check --format json carries the IaC findings"; fi

for bad in "bad-truncated.tfstate:line 44, column 28" "bad-not-json.tfstate:line 1, column 1" \
    "bad-version.tfstate:/version: state version 3 is not read" \
    "bad-plan.json:/planned_values: this is a plan"; do
	f=${bad%%:*}
	where=${bad#*:}
	run "$NETWAVE" check "$IAC/current.json" --iac-state "$IAC/$f"
	expect_rc "check refuses $f" 2
	expect_err "naming the file and the position ($where)" "$IAC/$f: $where"
	run "$NETWAVE" plan --current "$IAC/current.json" --intent "$IAC/intent.json" --db "$TMP/bad.db" \
	    --now "$NOW" --iac-state "$IAC/$f"
	expect_rc "plan refuses $f" 2
	if [ ! -e "$TMP/bad.db" ] || ! "$NETWAVE" plans --db "$TMP/bad.db" 2>/dev/null | grep -q pl-; then
		pass "and stores no plan"; else fail "and stores no plan"; fi
done

# --- plan ---------------------------------------------------------------------------------
run "$NETWAVE" plan --current "$IAC/current.json" --intent "$IAC/intent.json" --db "$TMP/p.db" \
    --now "$NOW" --format json -o "$TMP/plain.json"
expect_rc "a plan without IaC state" 0
if ! grep -q '"iac' "$TMP/plain.json"; then pass "has no IaC section"; else fail "has no IaC section"; fi
run "$NETWAVE" plan --current "$IAC/current.json" --intent "$IAC/intent.json" --db "$TMP/p.db" \
    --now "$NOW" $STATES --format json -o "$TMP/iac.json"
expect_rc "a plan with IaC state" 0
P1=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plain.json")
P2=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/iac.json")
if [ -n "$P2" ] && [ "$P1" != "$P2" ]; then pass "is another plan ($P2, not $P1)"; else fail "is another plan" "$P1 $P2"; fi
if grep -qF "terraform state rm 'azurerm_virtual_network_peering.spoke_pair[0]' before the wave" "$TMP/iac.json"; then
	pass "a deleted peering names its address and terraform state rm"; else fail "a deleted peering names its address"; fi
if grep -qF 'pins private_endpoint_vnet_policies = \"Disabled\"' "$TMP/iac.json"; then
	pass "a pinned VNet setting is called out"; else fail "a pinned VNet setting is called out"; fi
if grep -qF "the decommission deletes 2 peerings IaC manages" "$TMP/iac.json"; then
	pass "the decommission's IaC-managed peerings are a risk"; else fail "the decommission's peerings are a risk"; fi
if ! grep -q "TopSecretSharedKey" "$TMP/iac.json"; then pass "the state's shared key is not in the plan"; else
	fail "the state's shared key is not in the plan"; fi
run "$NETWAVE" show "$P2" --db "$TMP/p.db" --format markdown
expect_rc "the stored plan renders" 0
expect_out "the review report has the wave's IaC table" "**Infrastructure as code** (resources this wave touches that code manages"
expect_line "with the pinned attribute per resource" '^\| spoke-01-0001 \| `module\.spokes\.azurerm_virtual_network\.this\["spoke-01-0001"\]` \(Terraform, .*terraform\.tfstate\) \| changes \| `private_endpoint_vnet_policies` = `"Disabled"`, the wave sets `"Basic"` \|$'
if ! grep -q "TopSecretSharedKey" "$TMP/out"; then pass "and not the shared key"; else fail "and not the shared key"; fi

# --- a full apply on the emulator, then export --------------------------------------------
"$NETWAVE" synth --hubs 1 --spokes-per-hub 5 --pe-per-spoke 1 --seed 11 -o "$TMP/synth.json" 2>/dev/null
SUB=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)"$/\1/p' "$TMP/synth.json" | head -n 1)
# the estate's deployment history: a template pipeline wrote two spokes, one run failed
RGID="/subscriptions/$SUB/resourceGroups/rg-spokes-01"
VN="$RGID/providers/Microsoft.Network/virtualNetworks"
DEPS='"armDeployments": [
 { "id": "'$RGID'/providers/Microsoft.Resources/deployments/spokes-2026-10", "name": "spokes-2026-10",
   "type": "Microsoft.Resources/deployments",
   "properties": { "provisioningState": "Succeeded", "timestamp": "2026-10-01T08:00:00Z", "mode": "Incremental",
                   "outputResources": [ { "id": "'$VN'/spoke-01-0001" }, { "id": "'$VN'/spoke-01-0002" } ] } },
 { "id": "'$RGID'/providers/Microsoft.Resources/deployments/spokes-2026-11", "name": "spokes-2026-11",
   "type": "Microsoft.Resources/deployments",
   "properties": { "provisioningState": "Failed", "timestamp": "2026-11-01T08:00:00Z", "mode": "Incremental",
                   "outputResources": [ { "id": "'$VN'/spoke-01-0002" } ] } } ],'
awk -v deps="$DEPS" '{ print } /^  "observed": \{$/ { print deps }' "$TMP/synth.json" >"$TMP/estate.json"
emulator_start --seed "$TMP/estate.json" --state "$TMP/emu.db" --time-scale 5000 --seed-rng 7 || true
if [ -n "$BASE" ]; then pass "the emulator listens"; else fail "the emulator listens"; fi
run "$NETWAVE" discover --subscription "$SUB" $P --deployments -o "$TMP/before.json"
expect_rc "discover before, with the deployment history" 0
N=$(curl -sS -m 10 "$BASE/__netwave/requests" | tr '}' '\n' | grep '"method":"GET"' |
    grep -F 'rg-spokes-01/providers/Microsoft.Resources/deployments","query":"api-version=2021-04-01"' |
    grep -c '"status":200' || true)
if [ "$N" -eq 1 ]; then pass "discover listed the group's deployments once (Deployments - List By Resource Group)"; else
	fail "discover listed the group's deployments once" "$N requests"; fi
if grep -qF '"name": "spokes-2026-10"' "$TMP/before.json" && grep -qF '"armDeployments"' "$TMP/before.json" &&
    grep -qF "\"id\": \"$VN/spoke-01-0002\"" "$TMP/before.json"; then
	pass "discover --deployments records them under observed.armDeployments"; else
	fail "discover --deployments records them under observed.armDeployments"; fi
run "$NETWAVE" check "$TMP/before.json"
expect_out "check says what the deployment history manages" "2 of the topology's"
mesh_intent "/subscriptions/$SUB/resourceGroups/rg-connectivity/providers/Microsoft.Network/networkManagers/nm-iac" \
    ', "highScalePrivateEndpoints": true' \
    ', { "kind": "summarize-gateway-prefixes", "hubs": { "tags": { "role": "hub" } } }' \
    '{ "waves": [ { "name": "pilot", "members": { "tags": { "env": "dev" } } }, { "name": "rest" } ],
               "soak": { "beforeDecommission": "0s", "betweenWaves": "0s" } }'
run "$NETWAVE" plan --current "$TMP/before.json" --intent "$TMP/intent.json" --db "$TMP/e.db" --format json \
    -o "$TMP/eplan.json"
expect_rc "plan the migration" 0
PLAN=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/eplan.json")
if grep -qF "changes spoke-01-0001, which ARM deployment 'spokes-2026-10' last wrote" "$TMP/eplan.json" &&
    ! grep -qF "spokes-2026-11" "$TMP/eplan.json"; then
	pass "the plan names the deployment that last wrote a VNet it changes, not the failed one"; else
	fail "the plan names the deployment that last wrote a VNet it changes"; fi
run timeout -s KILL 600 "$NETWAVE" apply "$PLAN" --db "$TMP/e.db" --all --history "$TMP/hist" $P
expect_rc "apply every wave" 0
run "$NETWAVE" discover --subscription "$SUB" $P -o "$TMP/after.json"
expect_rc "discover after" 0

run "$NETWAVE" export "$TMP/after.json" -o "$TMP/main.tf" --history "$TMP/hist" --plan "$PLAN" --wave rest
expect_rc "export the migrated estate" 0
expect_err "counting what it wrote" "export: 21 resources, 19 import blocks, 0 left out as the code holds them already"
expect_err "and recording it in the history" "export recorded in the history"
run "$NETWAVE" export "$TMP/after.json" -o "$TMP/again.tf"
if cmp -s "$TMP/main.tf" "$TMP/again.tf"; then pass "the same estate gives the same bytes"; else
	fail "the same estate gives the same bytes"; fi
for r in azurerm_network_manager azurerm_network_manager_network_group azurerm_network_manager_static_member \
    azurerm_network_manager_connectivity_configuration azurerm_network_manager_deployment \
    azurerm_virtual_network azurerm_subnet azapi_update_resource; do
	if grep -q "^resource \"$r\" " "$TMP/main.tf"; then pass "the export has $r"; else fail "the export has $r"; fi
done
# every import id is a resource a fresh discovery has (a deployment: its commit in observed)
missing=0
for id in $(sed -n 's/^  id = "\(.*\)"$/\1/p' "$TMP/main.tf"); do
	case "$id" in
	*/commit\|*) nm=${id%/commit|*}; grep -qF "\"$nm\": {" "$TMP/after.json" || missing=$((missing + 1)) ;;
	*) grep -qiF "\"id\": \"$id\"" "$TMP/after.json" || missing=$((missing + 1)) ;;
	esac
done
if [ "$missing" -eq 0 ]; then pass "every import id is in the discovery"; else fail "every import id is in the discovery" "$missing missing"; fi
git -C "$TMP/hist" log -1 --format=%s%n%b >"$TMP/out" 2>/dev/null || true
expect_out "the history's last commit is the export" "export: terraform of 21 resources after wave rest"
expect_out "with the plan's trailer" "Plan-Id: $PLAN"

run "$NETWAVE" export "$TMP/after.json" --format arm -o "$TMP/template.json"
expect_rc "export an ARM template" 0
if grep -q '"type": "Microsoft.Network/networkManagers/networkGroups/staticMembers"' "$TMP/template.json" &&
    grep -q 'subscriptionDeploymentTemplate.json#' "$TMP/template.json" &&
    ! grep -q provisioningState "$TMP/template.json"; then
	pass "the template holds the static members, at subscription scope, without read-only fields"
else
	fail "the template holds the static members at subscription scope"
fi
run "$NETWAVE" export "$TMP/after.json" --module mesh
expect_rc "--module without -o DIR is bad usage" 2
run "$NETWAVE" export "$TMP/after.json" --module mesh -o "$TMP/layout"
expect_rc "--module writes a root and a module" 0
if grep -q 'to = module.mesh.azurerm_network_manager.nm-iac' "$TMP/layout/main.tf" &&
    grep -q '^resource "azurerm_network_manager" "nm-iac"' "$TMP/layout/modules/mesh/main.tf"; then
	pass "imports in the root address the module's resources"; else fail "imports in the root address the module's resources"; fi
run "$NETWAVE" export "$TMP/after.json" --format hcl
expect_rc "an unknown format is bad usage" 2

# --- HashiCorp's parser reads it back --------------------------------------------------------
parser_skip() {
	echo "cli_iac: the HCL parser part is skipped: $1" >&2
	echo "# SKIP the HCL parser part: $1"
}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	parser_skip "node or npm is not installed (Debian: apt-get install nodejs npm)"
else
	PARSER="$TMP/parser"
	mkdir "$PARSER"
	cp "$top_srcdir/tests/iac/package.json" "$top_srcdir/tests/iac/package-lock.json" \
	    "$top_srcdir/tests/iac/hcl2json.mjs" "$PARSER/"
	npm_ci "$PARSER"
	if [ $NPM_RC -ne 0 ] && npm_offline; then
		parser_skip "npm ci cannot reach the registry to install @cdktf/hcl2json"
	elif [ $NPM_RC -ne 0 ]; then
		RC=$NPM_RC
		fail "npm ci installs the pinned @cdktf/hcl2json" "$(tail -n 3 "$TMP/npm.log")"
	else
		pass "npm ci installs @cdktf/hcl2json $(cd "$PARSER" && node -p 'require("@cdktf/hcl2json/package.json").version')"
		run timeout 300 node "$PARSER/hcl2json.mjs" "$TMP/main.tf" "$TMP/after.json"
		sed 's/^/#   /' "$TMP/out" | head -n 40
		expect_rc "every import id and every attribute hold against the discovery" 0
		expect_out "HashiCorp's parser reads the export" "ok - HashiCorp's HCL parser reads"
		expect_out "every import id exists" "ok - every one of the 19 import ids exists in the discovery"
		expect_out "all 21 resource blocks were compared" "ok - 21 resource blocks compared"
		# a changed value is caught: the check can fail
		sed 's/private_endpoint_vnet_policies = "Basic"/private_endpoint_vnet_policies = "Disabled"/' \
		    "$TMP/main.tf" >"$TMP/changed.tf"
		run timeout 300 node "$PARSER/hcl2json.mjs" "$TMP/changed.tf" "$TMP/after.json"
		expect_rc "a value that differs from the discovery fails" 1
		expect_out "naming the attribute" 'private_endpoint_vnet_policies: written "Disabled", discovered "Basic"'
	fi
fi

emulator_stop
finish
