#!/bin/sh
# netwave emulator as a process: starts it on 127.0.0.1 with a port file,
# drives it with curl (GET, list, PUT and poll, errors, the control
# endpoints), stops it with SIGTERM and checks it exits 0 promptly; then
# persistence across a restart, TLS with a throw-away certificate, and bad
# options.  Every wait is bounded; the emulator is always killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

SUB=00000000-0000-0000-0000-000000000001
NET="/subscriptions/$SUB/resourceGroups/rg-net/providers/Microsoft.Network"
API="api-version=$(arm_api NETWORK)"
cat >"$TMP/seed.json" <<EOF
{
  "format": "netwave.topology/v1",
  "subscriptions": ["$SUB"],
  "resources": [
    { "id": "$NET/virtualNetworks/hub", "name": "hub", "type": "Microsoft.Network/virtualNetworks",
      "location": "eastus", "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] },
      "subnets": [ { "name": "default", "id": "$NET/virtualNetworks/hub/subnets/default",
                     "properties": { "addressPrefix": "10.0.1.0/24" } } ] } },
    { "id": "$NET/virtualNetworks/spoke-1", "name": "spoke-1", "type": "Microsoft.Network/virtualNetworks",
      "location": "eastus", "properties": { "addressSpace": { "addressPrefixes": ["10.1.0.0/16"] } } }
  ],
  "observed": {}
}
EOF

# start_emulator ARGS...: the emulator (lib.sh) on a free port; 1 when it did not start
start_emulator() {
	emulator_start --listen 127.0.0.1:0 "$@"
}

# stop_emulator: SIGTERM (lib.sh); sets RC to its exit status, 124 when it had to be killed
stop_emulator() {
	emulator_stop
	RC=$EMU_RC
}

# http METHOD URL [BODY] [CURL ARGS...]: status in $TMP/status, body in $TMP/out, headers in $TMP/hdr
http() {
	m=$1
	u=$2
	shift 2
	b=""
	if [ $# -gt 0 ]; then
		b=$1
		shift
	fi
	set +e
	if [ -n "$b" ]; then
		curl -sS -m 10 -X "$m" -H 'Content-Type: application/json' -d "$b" -D "$TMP/hdr" \
		    -o "$TMP/out" -w '%{http_code}' "$@" "$u" >"$TMP/status" 2>"$TMP/err"
	else
		curl -sS -m 10 -X "$m" -D "$TMP/hdr" -o "$TMP/out" -w '%{http_code}' "$@" "$u" \
		    >"$TMP/status" 2>"$TMP/err"
	fi
	RC=$?
	set -e
	STATUS=$(cat "$TMP/status")
}

expect_status() {
	if [ "$STATUS" = "$2" ]; then pass "$1 ($2)"; else fail "$1" "expected HTTP $2, got $STATUS"; fi
}

header() {
	tr -d '\r' <"$TMP/hdr" | sed -n "s/^$1: //Ip" | tail -n 1
}

if start_emulator --seed "$TMP/seed.json" --time-scale 1000 --no-auth; then
	pass "the port file appears with the base URL"
else
	fail "the port file appears with the base URL" "$(cat "$TMP/emu.err")"
	finish
	exit 1
fi
case "$BASE" in
http://127.0.0.1:*) pass "the base URL is on loopback" ;;
*) fail "the base URL is on loopback" "got $BASE" ;;
esac

http GET "$BASE$NET/virtualNetworks/hub?$API"
expect_status "GET a seeded VNet" 200
expect_out "the VNet comes back as ARM JSON" '"name":"hub"'
if [ -n "$(header x-ms-request-id)" ]; then pass "x-ms-request-id is set"; else fail "x-ms-request-id is set"; fi
if [ -n "$(header x-ms-ratelimit-remaining-subscription-reads)" ]; then
	pass "the read rate-limit header is set"
else
	fail "the read rate-limit header is set"
fi

http GET "$BASE$NET/virtualNetworks?$API&\$top=1"
expect_status "list VNets one to a page" 200
expect_out "a page has a nextLink" '"nextLink":"http://127.0.0.1:'
NEXT=$(sed -n 's/.*"nextLink":"\([^"]*\)".*/\1/p' "$TMP/out")
http GET "$NEXT"
expect_status "the nextLink answers" 200
expect_out "the second page holds the other VNet" '"name":"spoke-1"'

http PUT "$BASE$NET/virtualNetworks/spoke-2?$API" \
    '{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.2.0.0/16"]}}}'
expect_status "PUT creates" 201
expect_out "the new VNet is updating" '"provisioningState":"Updating"'
ASYNC=$(header azure-asyncoperation)
if [ -n "$ASYNC" ] && [ -n "$(header location)" ] && [ -n "$(header retry-after)" ]; then
	pass "PUT answers Azure-AsyncOperation, Location and Retry-After"
else
	fail "PUT answers Azure-AsyncOperation, Location and Retry-After"
fi
i=0
DONE=""
while [ $i -lt 50 ]; do
	http GET "$ASYNC"
	if grep -q '"status":"Succeeded"' "$TMP/out"; then
		DONE=yes
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
if [ -n "$DONE" ]; then pass "the operation reaches Succeeded"; else fail "the operation reaches Succeeded"; fi
http GET "$BASE$NET/virtualNetworks/spoke-2?$API"
expect_out "the VNet is Succeeded afterwards" '"provisioningState":"Succeeded"'

http PUT "$BASE$NET/virtualNetworks/spoke-2/subnets/out?$API" '{"properties":{"addressPrefix":"10.9.0.0/24"}}'
expect_status "a subnet outside the space is refused" 400
expect_out "with ARM's code" '"code":"NetcfgSubnetRangeOutsideVnet"'

http GET "$BASE$NET/virtualNetworks/hub?api-version=1999-01-01"
expect_status "an unknown api-version is refused" 400
expect_out "as InvalidApiVersionParameter" '"code":"InvalidApiVersionParameter"'

http GET "$BASE/__netwave/state"
expect_status "the state endpoint answers" 200
expect_out "the state is a topology" '"format": "netwave.topology/v1"'
expect_out "the state holds the new VNet" "$NET/virtualNetworks/spoke-2"

http GET "$BASE/__netwave/requests"
expect_out "the request log has the PUT" '"operation":"create Microsoft.Network/virtualNetworks"'
expect_out "the request log has the 400" '"status":400'

stop_emulator
expect_rc "SIGTERM stops the emulator cleanly" 0
if grep -q "SIGTERM received" "$TMP/emu.err"; then pass "it says why it stopped"; else fail "it says why it stopped"; fi

# --- persistence across a restart ---------------------------------------------------
start_emulator --seed "$TMP/seed.json" --state "$TMP/estate.db" --time-scale 1000 --no-auth || true
http PUT "$BASE$NET/virtualNetworks/kept?$API" \
    '{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.3.0.0/16"]}}}'
expect_status "PUT with a state database" 201
stop_emulator
expect_rc "the first run stops cleanly" 0
start_emulator --state "$TMP/estate.db" --time-scale 1000 --no-auth || true
http GET "$BASE$NET/virtualNetworks/kept?$API"
expect_status "the VNet survives a restart" 200
expect_out "and its operation was completed" '"provisioningState":"Succeeded"'
stop_emulator
expect_rc "the second run stops cleanly" 0

# --- authentication -----------------------------------------------------------------------
cat >"$TMP/clients.json" <<EOF
{ "format": "netwave.emulator-clients/v1",
  "clients": [ { "clientId": "cli-app", "clientSecret": "cli-fake" } ] }
EOF
start_emulator --seed "$TMP/seed.json" --clients "$TMP/clients.json" || true
http GET "$BASE$NET/virtualNetworks/hub?$API"
expect_status "without a token ARM routes answer 401" 401
set +e
TOKEN=$(curl -sS -m 10 -d 'grant_type=client_credentials&client_id=cli-app&client_secret=cli-fake&scope=https%3A%2F%2Fmanagement.azure.com%2F.default' \
    "$BASE/tenant-x/oauth2/v2.0/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
set -e
if [ -n "$TOKEN" ]; then pass "the token endpoint issues a token"; else fail "the token endpoint issues a token"; fi
http GET "$BASE$NET/virtualNetworks/hub?$API" "" -H "Authorization: Bearer $TOKEN"
expect_status "with the token the VNet is served" 200
http GET "$BASE/__netwave/requests"
if grep -q "cli-fake" "$TMP/out" || grep -qF "$TOKEN" "$TMP/out"; then
	fail "no secret or token reaches the request log"
else
	pass "no secret or token reaches the request log"
fi
stop_emulator
expect_rc "the authenticated run stops cleanly" 0

# --- TLS with a throw-away certificate ----------------------------------------------------
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
        >/dev/null 2>&1; then
	start_emulator --seed "$TMP/seed.json" --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" \
	    --no-auth || true
	case "$BASE" in
	https://127.0.0.1:*) pass "with TLS the base URL is https" ;;
	*) fail "with TLS the base URL is https" "got $BASE" ;;
	esac
	http GET "$BASE$NET/virtualNetworks/hub?$API" "" --cacert "$TMP/cert.pem"
	expect_status "a GET over TLS verified against the test certificate" 200
	stop_emulator
	expect_rc "the TLS run stops cleanly" 0
else
	echo "# skipping TLS checks: openssl cannot make a certificate here"
fi

# --- a small default page ------------------------------------------------------------------
if start_emulator --seed "$TMP/seed.json" --no-auth --page-size 1; then
	http GET "$BASE$NET/virtualNetworks?$API"
	expect_status "with --page-size 1 a list without \$top" 200
	expect_out "pages one VNet at a time" '"nextLink":"http://127.0.0.1:'
	if [ "$(grep -o '"name":"[a-z0-9-]*","id"' "$TMP/out" | wc -l)" -eq 1 ]; then
		pass "and holds a single VNet"
	else
		fail "and holds a single VNet"
	fi
	stop_emulator
	expect_rc "the paging run stops cleanly" 0
else
	fail "the emulator starts with --page-size 1" "$(cat "$TMP/emu.err")"
fi

# --- bad options --------------------------------------------------------------------------
run "$NETWAVE" emulator --page-size 0
expect_rc "a page size of 0 is bad usage" 2
expect_err "and names the option" "page-size"
run "$NETWAVE" emulator --time-scale -2
expect_rc "a negative time scale is bad usage" 2
expect_err "and says so" "invalid --time-scale '-2'"
run "$NETWAVE" emulator --listen nowhere
expect_rc "a listen address without a port is bad usage" 2
run "$NETWAVE" emulator --tls-cert "$TMP/seed.json"
expect_rc "a certificate without a key is bad usage" 2
printf '{"format":"netwave.topology/v1","resources":[{"name":"x"}]}' >"$TMP/bad.json"
run "$NETWAVE" emulator --seed "$TMP/bad.json"
expect_rc "an invalid seed is bad input" 2
expect_err "naming the file" "bad.json"
printf '{"format":"netwave.faults/v1","rules":[{"action":"boom"}]}' >"$TMP/faults.json"
run "$NETWAVE" emulator --faults "$TMP/faults.json"
expect_rc "an invalid faults file is bad input" 2
expect_err "naming the rule" "/rules/0/action"

finish
