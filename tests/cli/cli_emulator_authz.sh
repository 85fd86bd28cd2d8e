#!/bin/sh
# The emulator's refusals as a process, driven with curl as az or an SDK
# would: a clients file with role assignments (AuthorizationFailed, the
# permissions API), a seed with a CanNotDelete lock and a deny policy, the
# locks API (ReadOnly refusing a write), checkPolicyRestrictions, and the
# final state and request log.  Every wait is bounded; the emulator is
# always killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

SUB=00000000-0000-0000-0000-000000000001
RGP="/subscriptions/$SUB/resourceGroups/rg-net"
NET="$RGP/providers/Microsoft.Network"
API="api-version=$(arm_api NETWORK)"
AUTHZ="providers/Microsoft.Authorization"
cat >"$TMP/seed.json" <<EOF
{ "format": "netwave.topology/v1", "subscriptions": ["$SUB"],
  "resources": [
    { "id": "$NET/virtualNetworks/hub", "name": "hub", "type": "Microsoft.Network/virtualNetworks",
      "location": "eastus", "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } },
    { "id": "$NET/virtualNetworks/spoke-1", "name": "spoke-1", "type": "Microsoft.Network/virtualNetworks",
      "location": "eastus", "properties": { "addressSpace": { "addressPrefixes": ["10.1.0.0/16"] } } } ],
  "observed": {},
  "x-netwave-authz": {
    "locks": [ { "id": "$NET/virtualNetworks/hub/$AUTHZ/locks/keep-hub",
                 "properties": { "level": "CanNotDelete", "notes": "shared hub" } } ],
    "policyAssignments": [ { "name": "deny-pe-basic", "scope": "/subscriptions/$SUB",
      "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/no-pe-basic",
      "policyRule": { "if": { "field": "Microsoft.Network/virtualNetworks/privateEndpointVNetPolicies",
                              "equals": "Basic" },
                      "then": { "effect": "deny" } } } ] } }
EOF
cat >"$TMP/clients.json" <<EOF
{ "format": "netwave.emulator-clients/v1",
  "clients": [
    { "clientId": "reader-app", "clientSecret": "r-fake",
      "roleAssignments": [ { "scope": "/subscriptions/$SUB", "role": "Reader" } ] },
    { "clientId": "net-app", "clientSecret": "n-fake",
      "roleAssignments": [ { "scope": "$RGP", "role": "Network Contributor" } ] } ] }
EOF


# token CLIENT SECRET: prints the access token
token() {
	curl -sS -m 10 -d "grant_type=client_credentials&client_id=$1&client_secret=$2&scope=https%3A%2F%2Fmanagement.azure.com%2F.default" \
	    "$BASE/tenant-x/oauth2/v2.0/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

# call TOKEN METHOD PATH [BODY]: status in $STATUS, body in $TMP/out
call() {
	set +e
	STATUS=$(curl -sS -m 10 -X "$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
	    ${4:+-d "$4"} -o "$TMP/out" -w '%{http_code}' "$BASE$3" 2>"$TMP/err")
	RC=$?
	set -e
}

expect_status() {
	if [ "$STATUS" = "$2" ]; then pass "$1 ($2)"; else fail "$1" "expected HTTP $2, got $STATUS"; fi
}

if emulator_start --seed "$TMP/seed.json" --clients "$TMP/clients.json" --time-scale 1000; then
	pass "the emulator starts with role assignments, a lock and a policy"
else
	fail "the emulator starts with role assignments, a lock and a policy" "$(cat "$TMP/emu.err")"
	finish
	exit 1
fi
READER=$(token reader-app r-fake)
NETAPP=$(token net-app n-fake)

call "$READER" GET "$NET/virtualNetworks/hub?$API"
expect_status "a Reader reads" 200
call "$READER" PUT "$NET/virtualNetworks/spoke-1?$API" '{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.1.0.0/16"]}}}'
expect_status "a Reader's write is refused" 403
expect_out "with AuthorizationFailed" '"code":"AuthorizationFailed"'
expect_out "naming the client, the action and the scope" "The client 'reader-app' with object id 'reader-app' does not have authorization to perform action 'Microsoft.Network/virtualNetworks/write' over scope '$NET/virtualNetworks/spoke-1'"

call "$READER" GET "$RGP/$AUTHZ/permissions?api-version=$(arm_api AUTHORIZATION)"
expect_status "the permissions API answers" 200
expect_out "with the Reader's actions" '"actions":["*/read"]'

call "$NETAPP" DELETE "$NET/virtualNetworks/hub?$API"
expect_status "the seeded CanNotDelete lock refuses the hub's delete" 409
expect_out "with ScopeLocked" '"code":"ScopeLocked"'

call "$NETAPP" PUT "$NET/virtualNetworks/spoke-1?$API" '{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.1.0.0/16"]},"privateEndpointVNetPolicies":"Basic"}}'
expect_status "the deny policy refuses privateEndpointVNetPolicies Basic" 403
expect_out "with RequestDisallowedByPolicy" '"code":"RequestDisallowedByPolicy"'
expect_out "naming the assignment" "/subscriptions/$SUB/providers/Microsoft.Authorization/policyAssignments/deny-pe-basic"

call "$NETAPP" POST "/subscriptions/$SUB/providers/Microsoft.PolicyInsights/checkPolicyRestrictions?api-version=$(arm_api POLICY_INSIGHTS)" \
    '{"resourceDetails":{"resourceContent":{"type":"Microsoft.Network/virtualNetworks","properties":{"privateEndpointVNetPolicies":"Basic"}}}}'
expect_status "checkPolicyRestrictions answers" 200
expect_out "and finds the content non-compliant" '"evaluationResult":"NonCompliant"'

# Network Contributor may read locks but not write them (Microsoft.Authorization/*/read only)
call "$NETAPP" PUT "$NET/virtualNetworks/spoke-1/$AUTHZ/locks/ro?api-version=$(arm_api LOCKS)" '{"properties":{"level":"ReadOnly"}}'
expect_status "a Network Contributor cannot create a lock" 403
# the control endpoint adds one, as an administrator would
printf '{"locks":[{"id":"%s","properties":{"level":"ReadOnly"}},{"id":"%s","properties":{"level":"CanNotDelete"}}],"policyAssignments":[]}' \
    "$NET/virtualNetworks/spoke-1/$AUTHZ/locks/ro" "$NET/virtualNetworks/hub/$AUTHZ/locks/keep-hub" >"$TMP/authz.json"
set +e
STATUS=$(curl -sS -m 10 -X PUT -d @"$TMP/authz.json" -o "$TMP/out" -w '%{http_code}' "$BASE/__netwave/authz")
set -e
expect_status "the control endpoint replaces the locks" 200
call "$NETAPP" PUT "$NET/virtualNetworks/spoke-1/subnets/a?$API" '{"properties":{"addressPrefix":"10.1.1.0/24"}}'
expect_status "the ReadOnly lock refuses a subnet write below it" 409
call "$NETAPP" GET "/subscriptions/$SUB/$AUTHZ/locks?api-version=$(arm_api LOCKS)"
expect_status "a role on the group does not reach the subscription's locks" 403
call "$READER" GET "/subscriptions/$SUB/$AUTHZ/locks?api-version=$(arm_api LOCKS)"
expect_status "the subscription lists its locks to a Reader there" 200
n=$(grep -o '"type":"Microsoft.Authorization/locks"' "$TMP/out" | wc -l)
if [ "$n" -eq 2 ]; then pass "both locks are listed at the subscription"; else fail "both locks are listed" "found $n"; fi

# nothing refused reached the estate, and the log records each refusal
curl -sS -m 10 "$BASE/__netwave/state" >"$TMP/out"
if grep -q '"privateEndpointVNetPolicies"' "$TMP/out"; then fail "no refused write reached the state"; else pass "no refused write reached the state"; fi
expect_out "the hub is still there" "$NET/virtualNetworks/hub\""
expect_out "the subnet was not written" '"addressPrefixes"'
if grep -q 'spoke-1/subnets/a' "$TMP/out"; then fail "the refused subnet is absent"; else pass "the refused subnet is absent"; fi
curl -sS -m 10 "$BASE/__netwave/requests" >"$TMP/out"
expect_out "the log records the unauthorized request" '"operation":"unauthorized"'
expect_out "the log records the lock refusal" '"operation":"locked"'
expect_out "the log records the policy refusal" '"operation":"disallowed by policy"'
emulator_stop

# bad input: a role netwave does not know, named with its place in the file
sed 's/"Reader"/"Superhero"/' "$TMP/clients.json" >"$TMP/bad.json"
run "$NETWAVE" emulator --seed "$TMP/seed.json" --clients "$TMP/bad.json"
expect_rc "an unknown role is bad input" 2
expect_err "naming it" "/clients/0/roleAssignments/0/role"
sed 's/"CanNotDelete"/"Sometimes"/' "$TMP/seed.json" >"$TMP/badseed.json"
run "$NETWAVE" emulator --seed "$TMP/badseed.json"
expect_rc "a seeded lock with a bad level is bad input" 2
expect_err "naming the lock" "x-netwave-authz: /locks/0/properties/level"

finish
