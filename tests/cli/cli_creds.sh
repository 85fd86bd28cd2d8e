#!/bin/sh
# Credentials and scope against a real `netwave emulator` on 127.0.0.1:
# certificate service principals (PEM and PKCS#12, made with openssl here)
# whose client assertions the emulator verifies against the certificate
# registered for the app; the bad certificates (unreadable, wrong password,
# expired, not registered, a key that is not the certificate's); the key
# and password never printed; subscriptions from AZURE_SUBSCRIPTION_ID /
# ARM_SUBSCRIPTION_ID or by display name through Subscriptions - List;
# --tenant; discovery across a management group.  The emulator is always
# killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

PASSWORD="p12-Pa55word-never-printed"

if ! command -v openssl >/dev/null 2>&1; then
	echo "ok - # SKIP openssl is not installed"
	finish
	exit 0
fi

# --- test certificates --------------------------------------------------------------------
# good: registered; other: a valid certificate nobody registered; old: registered but expired
mk_cert() { # NAME DAYS-BEFORE-NOW DAYS-VALID
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/$1.key" -out "$TMP/$1.crt" \
		-subj "/CN=netwave-$1" -days "$3" >>"$TMP/pki.log" 2>&1
}
mk_cert good 0 2
mk_cert other 0 2
cat "$TMP/good.crt" "$TMP/good.key" >"$TMP/good.pem"
cat "$TMP/other.crt" "$TMP/other.key" >"$TMP/other.pem"
cat "$TMP/other.crt" "$TMP/good.key" >"$TMP/mismatch.pem"
openssl pkcs12 -export -in "$TMP/good.crt" -inkey "$TMP/good.key" -passout "pass:$PASSWORD" \
	-out "$TMP/good.pfx" >>"$TMP/pki.log" 2>&1
# an expired certificate: self-signed through `openssl ca`, which takes explicit dates
mkdir -p "$TMP/ca"
: >"$TMP/ca/index"
echo 01 >"$TMP/ca/serial"
cat >"$TMP/ca.cnf" <<EOF
[ ca ]
default_ca = d
[ d ]
database = $TMP/ca/index
new_certs_dir = $TMP/ca
serial = $TMP/ca/serial
default_md = sha256
policy = p
[ p ]
commonName = supplied
EOF
if openssl req -new -newkey rsa:2048 -nodes -keyout "$TMP/old.key" -subj "/CN=netwave-old" \
    -out "$TMP/old.csr" >>"$TMP/pki.log" 2>&1 &&
    openssl ca -batch -config "$TMP/ca.cnf" -selfsign -keyfile "$TMP/old.key" -in "$TMP/old.csr" \
    -startdate 20200101000000Z -enddate 20200201000000Z -out "$TMP/old.crt" >>"$TMP/pki.log" 2>&1; then
	cat "$TMP/old.crt" "$TMP/old.key" >"$TMP/old.pem"
	OLD_CRT="$TMP/old.crt"
	HAVE_OLD=1
else
	OLD_CRT="$TMP/good.crt"
	HAVE_OLD=0
fi
if [ -s "$TMP/good.pem" ] && [ -s "$TMP/good.pfx" ]; then pass "openssl makes the test certificates"
else fail "openssl makes the test certificates" "$(cat "$TMP/pki.log")"; finish; exit 1; fi

b64der() { openssl x509 -in "$1" -outform DER | base64 | tr -d '\n'; }

"$NETWAVE" synth --hubs 1 --spokes-per-hub 2 --pe-per-spoke 1 --subscriptions 2 \
	-o "$TMP/seed.json" 2>/dev/null
SUBS=$(tr -d '\n ' <"$TMP/seed.json" | sed -n 's/.*"subscriptions":\[\([^]]*\)\].*/\1/p' | tr -d '"' |
	tr ',' ' ')
SUB1=$(echo "$SUBS" | cut -d' ' -f1)
SUB2=$(echo "$SUBS" | cut -d' ' -f2)
[ -n "$SUB1" ] && [ -n "$SUB2" ] && [ "$SUB1" != "$SUB2" ] || { fail "the seed has two subscriptions" "$SUBS"; finish; exit 1; }

cat >"$TMP/clients.json" <<EOF
{ "format": "netwave.emulator-clients/v1",
  "clients": [
    { "clientId": "cert-app", "tenantId": "tenant-1",
      "keyCredentials": [ { "type": "AsymmetricX509Cert", "usage": "Verify", "key": "$(b64der "$TMP/good.crt")" } ] },
    { "clientId": "old-app", "tenantId": "tenant-1",
      "keyCredentials": [ { "key": "$(b64der "$OLD_CRT")" } ] },
    { "clientId": "secret-app", "tenantId": "*", "clientSecret": "s3cret-value" }
  ],
  "subscriptions": [
    { "subscriptionId": "$SUB1", "displayName": "Contoso Prod", "tenantId": "tenant-1" },
    { "subscriptionId": "$SUB2", "displayName": "Contoso Dev", "tenantId": "tenant-1" },
    { "subscriptionId": "3f2c0a1e-0000-4000-8000-00000000dead", "displayName": "Twin", "tenantId": "tenant-1" },
    { "subscriptionId": "3f2c0a1e-0000-4000-8000-00000000beef", "displayName": "twin", "tenantId": "tenant-1" },
    { "subscriptionId": "3f2c0a1e-0000-4000-8000-0000000000aa", "displayName": "Other Tenant", "tenantId": "tenant-2" }
  ],
  "managementGroups": [
    { "name": "mg-root", "displayName": "Root" },
    { "name": "mg-prod", "displayName": "Production", "parent": "mg-root", "subscriptions": [ "$SUB1" ] },
    { "name": "mg-dev", "displayName": "Development", "parent": "mg-root", "subscriptions": [ "$SUB2" ] },
    { "name": "mg-empty", "displayName": "Empty" }
  ] }
EOF

emulator_start --listen 127.0.0.1:0 --seed "$TMP/seed.json" --clients "$TMP/clients.json" --time-scale 1000 || true
if [ -n "$BASE" ]; then pass "emulator started with certificates registered"; else
	fail "emulator started" "$(cat "$TMP/emu.err")"; finish; exit 1; fi

# cert_discover CERTFILE [ENV...] -- ARGS: a certificate service principal, nothing else
cert_discover() {
	cert=$1
	shift
	run env -u NETWAVE_ACCESS_TOKEN -u AZURE_CLIENT_SECRET -u AZURE_FEDERATED_TOKEN_FILE \
		-u IDENTITY_ENDPOINT -u AZURE_SUBSCRIPTION_ID -u ARM_SUBSCRIPTION_ID \
		-u AZURE_CLIENT_CERTIFICATE_PASSWORD \
		AZURE_TENANT_ID=tenant-1 AZURE_CLIENT_ID="${APP:-cert-app}" \
		AZURE_CLIENT_CERTIFICATE_PATH="$cert" NETWAVE_IMDS_ENDPOINT=http://127.0.0.1:9 PATH=/usr/bin:/bin \
		"$@"
}
DISC="$NETWAVE discover --arm-endpoint $BASE --authority-host $BASE"

requests() { curl -s "$BASE/__netwave/requests"; }
clear_requests() { curl -s -o /dev/null -X DELETE "$BASE/__netwave/requests" || true; }

# --- the certificate credential -------------------------------------------------------------

cert_discover "$TMP/good.pem" $DISC --subscription "$SUB1" -o "$TMP/pem.json" -v
expect_rc "discover with a PEM certificate (key and certificate in one file)" 0
expect_err "the credential is named with its thumbprint" "client certificate credential (AZURE_CLIENT_ID cert-app, tenant tenant-1, thumbprint "
THUMB=$(openssl x509 -in "$TMP/good.crt" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
expect_err "the thumbprint is the certificate's SHA-1" "thumbprint $THUMB)"
if grep -q '"Microsoft.Network/virtualNetworks"' "$TMP/pem.json"; then pass "the estate was read"; else
	fail "the estate was read"; fi
if grep -q "client_assertion=REDACTED\|\"client_assertion\": *\"REDACTED\"\|client_assertion=\[REDACTED\]" "$TMP/err" ||
    ! grep -q "client_assertion=ey" "$TMP/err"; then pass "the assertion is redacted in --verbose"; else
	fail "the assertion is redacted in --verbose"; fi
if grep -q "PRIVATE KEY\|MII" "$TMP/err"; then fail "no key material on stderr"; else pass "no key material on stderr"; fi

cert_discover "$TMP/good.pem" AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=true $DISC --subscription "$SUB1" \
	-o "$TMP/x5c.json" -v
expect_rc "discover sending the certificate chain (x5c) as subject name/issuer authentication needs" 0
expect_err "the credential says it sends the chain" "thumbprint $THUMB, with x5c)"
if cmp -s "$TMP/pem.json" "$TMP/x5c.json"; then pass "with or without the chain, the same estate"; else
	fail "with or without the chain, the same estate"; fi

cert_discover "$TMP/good.pfx" AZURE_CLIENT_CERTIFICATE_PASSWORD="$PASSWORD" $DISC --subscription "$SUB1" -o "$TMP/pfx.json" -v
expect_rc "discover with a PKCS#12 certificate and its password" 0
if grep -qF "$PASSWORD" "$TMP/err" "$TMP/out" "$TMP/emu.err"; then fail "the password is never printed"; else
	pass "the password is never printed"; fi
if cmp -s "$TMP/pem.json" "$TMP/pfx.json"; then pass "PEM and PKCS#12 read the same estate"; else
	fail "PEM and PKCS#12 read the same estate"; fi

# the assertion as Entra ID wants it: decode the one the emulator received (its log keeps the
# form's field names but never the values) -- check instead that the token request was a
# client_assertion of the jwt-bearer type
requests >"$TMP/req.json"
if grep -q 'oauth2/v2.0/token' "$TMP/req.json"; then pass "the token endpoint was called"; else
	fail "the token endpoint was called"; fi

# --- bad certificates: exit 2 before any token request, naming the file ----------------------

cert_discover "$TMP/missing.pem" $DISC --subscription "$SUB1" -o "$TMP/x.json"
expect_rc "an unreadable certificate is bad input" 2
expect_err "it names the variable and the file" "AZURE_CLIENT_CERTIFICATE_PATH"
expect_err "and the path" "missing.pem"
[ ! -e "$TMP/x.json" ] && pass "nothing written" || fail "nothing written"

cert_discover "$TMP/good.pfx" AZURE_CLIENT_CERTIFICATE_PASSWORD="wrong-$PASSWORD" $DISC --subscription "$SUB1" -o "$TMP/x.json"
expect_rc "a wrong PKCS#12 password is bad input" 2
expect_err "it says the password does not open the file" "AZURE_CLIENT_CERTIFICATE_PASSWORD is not the PKCS#12 file's password"
if grep -qF "$PASSWORD" "$TMP/err"; then fail "the wrong password is not echoed"; else pass "the wrong password is not echoed"; fi

cert_discover "$TMP/good.pfx" $DISC --subscription "$SUB1" -o "$TMP/x.json"
expect_rc "a PKCS#12 file without a password set is bad input" 2
expect_err "it names the missing variable" "AZURE_CLIENT_CERTIFICATE_PASSWORD is not set"

cert_discover "$TMP/mismatch.pem" $DISC --subscription "$SUB1" -o "$TMP/x.json"
expect_rc "a certificate that is not the key's is bad input" 2
expect_err "it says so" "no certificate in the file matches its private key"

printf 'not a certificate\n' >"$TMP/junk.pem"
cert_discover "$TMP/junk.pem" $DISC --subscription "$SUB1" -o "$TMP/x.json"
expect_rc "a file that is neither PEM nor PKCS#12 is bad input" 2
expect_err "it says what was expected" "neither PEM nor PKCS#12"

if [ "$HAVE_OLD" = 1 ]; then
	APP=old-app cert_discover "$TMP/old.pem" $DISC --subscription "$SUB1" -o "$TMP/x.json"
	expect_rc "an expired certificate is bad input" 2
	expect_err "it says when it expired" "expired at 2020-02-01T00:00:00Z"
else
	echo "ok - # SKIP this openssl cannot back-date a certificate"
fi

# --- Entra ID refuses: exit 1 with the AADSTS code ----------------------------------------------

cert_discover "$TMP/other.pem" $DISC --subscription "$SUB1" -o "$TMP/x.json"
expect_rc "a certificate the app does not have is refused by the token endpoint" 1
expect_err "with AADSTS700027 and the key not found" "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found."
OTHER256=$(openssl x509 -in "$TMP/other.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
expect_err "naming the SHA-256 thumbprint the client sent" "$OTHER256"

APP=secret-app cert_discover "$TMP/good.pem" $DISC --subscription "$SUB1" -o "$TMP/x.json"
expect_rc "an app registered with a secret only refuses the assertion" 1
expect_err "with AADSTS700027" "AADSTS700027"

# --- subscriptions from the environment and by name ------------------------------------------

# has_sub ID FILE: the discovered file's own "subscriptions" list (the last one in it) has ID
has_sub() { tr -d ' \n' <"$2" | grep -o '"subscriptions":\[[^]]*\]' | tail -n 1 | grep -qi "$1"; }

cert_discover "$TMP/good.pem" AZURE_SUBSCRIPTION_ID="$SUB2" $DISC -o "$TMP/env.json"
expect_rc "AZURE_SUBSCRIPTION_ID says which subscription" 0
if has_sub "$SUB2" "$TMP/env.json" && ! has_sub "$SUB1" "$TMP/env.json"; then
	pass "only that subscription was read"; else fail "only that subscription was read"; fi

cert_discover "$TMP/good.pem" ARM_SUBSCRIPTION_ID="$SUB1" $DISC -o "$TMP/arm.json"
expect_rc "ARM_SUBSCRIPTION_ID as Terraform reads it" 0
if has_sub "$SUB1" "$TMP/arm.json" && ! has_sub "$SUB2" "$TMP/arm.json"; then
	pass "ARM_SUBSCRIPTION_ID's subscription was read"; else fail "ARM_SUBSCRIPTION_ID's subscription was read"; fi

cert_discover "$TMP/good.pem" $DISC -o "$TMP/x.json"
expect_rc "no subscription anywhere is bad usage" 2
expect_err "it says what would do" "option '--subscription' is required"

clear_requests
cert_discover "$TMP/good.pem" $DISC --subscription "contoso DEV" -o "$TMP/name.json"
expect_rc "a subscription by display name (case-insensitive, as az account set)" 0
if has_sub "$SUB2" "$TMP/name.json" && ! has_sub "$SUB1" "$TMP/name.json"; then
	pass "the name resolved to its subscription"; else fail "the name resolved to its subscription"; fi
requests >"$TMP/req.json"
if grep -qF '"path":"/subscriptions","query":"api-version=2022-12-01"' "$TMP/req.json"; then
	pass "through Subscriptions - List"; else fail "through Subscriptions - List" "$(head -c 600 "$TMP/req.json")"; fi

cert_discover "$TMP/good.pem" $DISC --subscription Twin -o "$TMP/x.json"
expect_rc "a name two subscriptions share is bad input" 2
expect_err "it names the value" "subscription name 'Twin' matches 2 subscriptions"
expect_err "and both candidates" "3f2c0a1e-0000-4000-8000-00000000dead"
expect_err "the second one too" "3f2c0a1e-0000-4000-8000-00000000beef"

cert_discover "$TMP/good.pem" $DISC --subscription "No Such Sub" -o "$TMP/x.json"
expect_rc "a name matching nothing is bad input" 2
expect_err "it names the value and the candidates" "subscription 'No Such Sub' is not a subscription id, nor the name of one the credential can see (expected an id or one of: "
expect_err "candidates are listed by name and id" "'Contoso Prod' ($SUB1)"

cert_discover "$TMP/good.pem" $DISC --subscription "Other Tenant" -o "$TMP/x.json"
expect_rc "another tenant's subscription is not visible" 2
[ ! -e "$TMP/x.json" ] && pass "nothing written on bad input" || fail "nothing written on bad input"

# --- --tenant ------------------------------------------------------------------------------------

cert_discover "$TMP/good.pem" AZURE_TENANT_ID=tenant-9 $DISC --subscription "$SUB1" -o "$TMP/x.json"
expect_rc "the app is not in tenant-9" 1
expect_err "Entra ID says so" "AADSTS700016"

cert_discover "$TMP/good.pem" AZURE_TENANT_ID=tenant-9 $DISC --tenant tenant-1 --subscription "$SUB1" -o "$TMP/tenant.json"
expect_rc "--tenant overrides AZURE_TENANT_ID" 0

cert_discover "$TMP/good.pem" $DISC --tenant 'bad/tenant' --subscription "$SUB1" -o "$TMP/x.json"
expect_rc "a malformed --tenant is bad input" 2
expect_err "it names the option" "option '--tenant' 'bad/tenant' is not a tenant id or domain"

# --- management groups -------------------------------------------------------------------------

cert_discover "$TMP/good.pem" $DISC --management-group mg-root -o "$TMP/mg.json"
expect_rc "discovery across a management group" 0
if has_sub "$SUB1" "$TMP/mg.json" && has_sub "$SUB2" "$TMP/mg.json"; then
	pass "every subscription below it, nested groups included"; else fail "every subscription below it"; fi

cert_discover "$TMP/good.pem" $DISC --management-group mg-prod -o "$TMP/mgp.json"
expect_rc "a child management group" 0
if has_sub "$SUB1" "$TMP/mgp.json" && ! has_sub "$SUB2" "$TMP/mgp.json"; then
	pass "only its own subscriptions"; else fail "only its own subscriptions"; fi

cert_discover "$TMP/good.pem" $DISC --management-group mg-empty -o "$TMP/x.json"
expect_rc "an empty management group is bad input" 2
expect_err "named" "management group 'mg-empty' has no subscriptions below it"

cert_discover "$TMP/good.pem" $DISC --management-group 'mg/../x' -o "$TMP/x.json"
expect_rc "a management group id with a slash is bad input" 2
expect_err "named with what is allowed" "option '--management-group': 'mg/../x' is not a management group id"

cert_discover "$TMP/good.pem" $DISC --management-group mg-nope -o "$TMP/x.json"
expect_rc "an unknown management group is ARM's error" 1
expect_err "named" "cannot list management group 'mg-nope'"

finish
