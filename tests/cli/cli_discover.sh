#!/bin/sh
# netwave discover against a real `netwave emulator` process on 127.0.0.1:
# a synthetic estate read back through Resource Graph, byte-identical on a
# second run, loadable by `netwave check`; the automatic fallback to ARM list
# calls when Resource Graph answers 403; a type ARM refuses reported and
# skipped; --verbose with a known fake token and a known secret that never
# reach stderr; and bad options.  The emulator is always killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

SECRET="cli-S3cret-never-printed"
FAKE_TOKEN="fake-token-9f8e7d6c5b4a39281706"

"$NETWAVE" synth --hubs 2 --spokes-per-hub 3 --pe-per-spoke 1 -o "$TMP/seed.json" 2>/dev/null
SUB=$(sed -n 's/.*"subscriptions": \["\([^"]*\)".*/\1/p' "$TMP/seed.json")
[ -n "$SUB" ] || SUB=$(grep -A1 '"subscriptions"' "$TMP/seed.json" | tail -n 1 | tr -d ' ",')

emulator_start --listen 127.0.0.1:0 --seed "$TMP/seed.json" --time-scale 1000 || true
if [ -n "$BASE" ]; then pass "emulator started"; else fail "emulator started"; finish; exit 1; fi

faults() {
	curl -s -o /dev/null -X PUT --data-binary "$1" "$BASE/__netwave/faults"
}

# discover ARGS...: with a client secret in the environment
discover() {
	run env -u NETWAVE_ACCESS_TOKEN -u IDENTITY_ENDPOINT AZURE_TENANT_ID=tenant-1 AZURE_CLIENT_ID=app-1 AZURE_CLIENT_SECRET="$SECRET" \
		NETWAVE_IMDS_ENDPOINT=http://127.0.0.1:9 \
		"$NETWAVE" discover --subscription "$SUB" --arm-endpoint "$BASE" --authority-host "$BASE" "$@"
}

# --- Resource Graph, twice ------------------------------------------------------------

discover -o "$TMP/one.json"
expect_rc "discover through Resource Graph" 0
expect_err "the source is reported" "discover: Resource Graph: "
expect_err "the summary names the file" "from Resource Graph in"
expect_no_out "nothing on stdout with -o"
if grep -q '"Microsoft.Network/virtualNetworks"' "$TMP/one.json" &&
    grep -q '"circuitRoutes"' "$TMP/one.json" && grep -q '"features"' "$TMP/one.json"; then
	pass "the file has resources, circuit routes and features"
else
	fail "the file has resources, circuit routes and features"
fi
N_SEED=$(grep -c '"type": "Microsoft.Network/' "$TMP/seed.json" || true)
N_GOT=$(grep -c '"type": "Microsoft.Network/' "$TMP/one.json" || true)
if [ "$N_SEED" = "$N_GOT" ]; then pass "every seeded resource came back ($N_GOT)"; else
	fail "every seeded resource came back" "seed $N_SEED, discovered $N_GOT"; fi

discover -o "$TMP/two.json"
expect_rc "discover again" 0
if cmp -s "$TMP/one.json" "$TMP/two.json"; then pass "an unchanged estate gives the same bytes"; else
	fail "an unchanged estate gives the same bytes"; fi

run "$NETWAVE" check "$TMP/one.json"
if [ "$RC" -ne 2 ]; then pass "netwave check loads the discovered file (exit $RC)"; else
	fail "netwave check loads the discovered file"; fi

discover
expect_rc "discover to standard output" 0
expect_out "the document goes to stdout" '"format": "netwave.topology/v1"'

# --- the list fallback -----------------------------------------------------------------

faults '{"format":"netwave.faults/v1","rules":[{"method":"POST","path":"/providers/Microsoft.ResourceGraph/*","action":"error","status":403,"code":"AuthorizationFailed"}]}'
discover -o "$TMP/list.json"
expect_rc "discover when Resource Graph is refused" 0
expect_err "the fallback is reported" "Resource Graph is not available (HTTP 403 AuthorizationFailed); listing each type instead"
expect_err "the list calls are reported" "from ARM list calls in"
N_LIST=$(grep -c '"type": "Microsoft.Network/virtualNetworks"' "$TMP/list.json" || true)
N_VNETS=$(grep -c '"type": "Microsoft.Network/virtualNetworks"' "$TMP/seed.json" || true)
if [ "$N_LIST" = "$N_VNETS" ]; then pass "the fallback reads every VNet"; else
	fail "the fallback reads every VNet" "seed $N_VNETS, discovered $N_LIST"; fi

# --- partial permissions ----------------------------------------------------------------

faults '{"format":"netwave.faults/v1","rules":[{"method":"POST","path":"/providers/Microsoft.ResourceGraph/*","action":"error","status":403,"code":"AuthorizationFailed"},{"method":"GET","path":"/subscriptions/*/providers/Microsoft.Network/privateEndpoints","action":"error","status":403,"code":"AuthorizationFailed"}]}'
discover -o "$TMP/partial.json"
expect_rc "a type refused is not fatal" 0
expect_err "the refused type is named" "warning: no permission to read Microsoft.Network/privateEndpoints in subscription $SUB"
expect_err "the summary says something is missing" "1 type could not be read"
if grep -q '"Microsoft.Network/privateEndpoints"' "$TMP/partial.json"; then
	fail "the refused type is absent"; else pass "the refused type is absent"; fi

faults '{"format":"netwave.faults/v1","rules":[{"path":"/subscriptions/*/providers/Microsoft.Network/*","method":"GET","action":"error","status":403,"code":"AuthorizationFailed"},{"method":"POST","path":"/providers/Microsoft.ResourceGraph/*","action":"error","status":403,"code":"AuthorizationFailed"}]}'
discover -o "$TMP/none.json"
expect_rc "nothing readable is an error" 1
expect_err "and says so" "nothing could be read"
if [ ! -e "$TMP/none.json" ]; then pass "no file is written"; else fail "no file is written"; fi
curl -s -o /dev/null -X DELETE "$BASE/__netwave/faults"

# --- --verbose never shows a secret or a token ------------------------------------------

discover -v -o "$TMP/verbose.json"
expect_rc "verbose discovery" 0
expect_err "requests are logged" "netwave: > POST $BASE/providers/Microsoft.ResourceGraph/resources"
expect_err "the Authorization header is redacted" "Authorization: REDACTED"
expect_err "the secret is redacted" "client_secret=REDACTED"
expect_err "the token in the answer is redacted" '"access_token":"REDACTED"'
if grep -qF "$SECRET" "$TMP/err"; then fail "the secret never appears"; else pass "the secret never appears"; fi
if grep -q 'nwemu_' "$TMP/err"; then fail "no token appears"; else pass "no token appears"; fi

run env NETWAVE_ACCESS_TOKEN="$FAKE_TOKEN" "$NETWAVE" discover --subscription "$SUB" \
	--arm-endpoint "$BASE" --verbose -o "$TMP/fake.json"
expect_rc "a fake token is refused" 1
expect_err "the error names where the token came from" "ARM rejected the access token of NETWAVE_ACCESS_TOKEN: HTTP 401 InvalidAuthenticationToken"
expect_err "the header is logged redacted" "Authorization: REDACTED"
if grep -qF "$FAKE_TOKEN" "$TMP/err"; then fail "the fake token never appears in stderr"; else
	pass "the fake token never appears in stderr"; fi

# --- bad usage ---------------------------------------------------------------------------

run "$NETWAVE" discover --arm-endpoint "$BASE"
expect_rc "--subscription is required" 2
expect_err "and named" "option '--subscription' is required"

discover --subscription not-a-guid
expect_rc "a subscription that is neither a GUID nor a name the credential sees" 2
expect_err "is named" "subscription 'not-a-guid' is not a subscription id"

run "$NETWAVE" discover --subscription "$SUB" --cloud AzureGermanCloud
expect_rc "an unknown cloud" 2
expect_err "lists the clouds" "expected one of AzureCloud, AzureUSGovernment, AzureChinaCloud"

run "$NETWAVE" discover --subscription "$SUB" --arm-endpoint http://management.example.com
expect_rc "plain http off loopback" 2
expect_err "is refused" "must be an https URL"

run "$NETWAVE" discover --subscription "$SUB" --arm-endpoint "$BASE" --ca-file "$TMP/missing.pem"
expect_rc "a missing CA file" 2
expect_err "is named" "cannot read CA file '$TMP/missing.pem'"

run "$NETWAVE" discover --subscription "$SUB" --source sideways
expect_rc "an unknown source" 2

run "$NETWAVE" help discover
expect_rc "help discover" 0
expect_out "help lists the provider options" "--arm-endpoint"

finish
