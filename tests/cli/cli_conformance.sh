#!/bin/sh
# Conformance with Microsoft's own client: drives `netwave emulator` with
# @azure/arm-network and @azure/identity (versions pinned in
# tests/conformance/package-lock.json) through tests/conformance/conformance.mjs.
# The SDK refuses bearer tokens over plain HTTP, so this makes a throw-away
# CA and a server certificate for 127.0.0.1, serves TLS with them, and hands
# the CA to node with NODE_EXTRA_CA_CERTS.  The SDK is installed with
# `npm ci` in a scratch copy (the source tree may be read-only under make
# distcheck).  Skipped (77) with a message on stderr when node, npm or
# openssl is missing or npm cannot reach the registry; every wait is
# bounded and the emulator is always killed on exit.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

SRC="$top_srcdir/tests/conformance"
skip() {
	echo "cli_conformance: skipped: $1" >&2
	echo "1..0 # SKIP $1"
	exit 77
}

# bounded: run CMD with a time limit when timeout(1) is there
bounded() {
	secs=$1
	shift
	if command -v timeout >/dev/null 2>&1; then
		timeout "$secs" "$@"
	else
		"$@"
	fi
}

command -v node >/dev/null 2>&1 || skip "node is not installed (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || skip "npm is not installed (Debian: apt-get install npm)"
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed; it makes the test CA"
# the SDK's ES modules import JSON with import attributes: node 20 or later
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
	skip "node $(node --version) is too old for @azure/arm-network 39 (20 or later needed)"

# --- the SDK, installed from the lock file ---------------------------------------------------
SDK="$TMP/sdk"
mkdir "$SDK"
cp "$SRC/package.json" "$SRC/package-lock.json" "$SRC/conformance.mjs" "$SDK/"
npm_ci "$SDK"
if [ $NPM_RC -ne 0 ]; then
	if npm_offline; then
		sed 's/^/cli_conformance: npm: /' "$TMP/npm.log" | tail -n 5 >&2
		skip "npm ci cannot reach the registry to install the pinned SDK"
	fi
	echo "not ok - npm ci installs the pinned SDK (exit $NPM_RC)"
	sed 's/^/#   npm: /' "$TMP/npm.log" | tail -n 30
	echo "0 passed, 1 failed"
	exit 1
fi
pass "npm ci installs @azure/arm-network $(cd "$SDK" && node -p 'require("@azure/arm-network/package.json").version') and @azure/identity $(cd "$SDK" && node -p 'require("@azure/identity/package.json").version')"

# --- a test CA and a certificate for 127.0.0.1 ----------------------------------------------
PKI="$TMP/pki"
mkdir "$PKI"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' \
	>"$PKI/ca.ext"
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\nauthorityKeyIdentifier=keyid\n' \
	>"$PKI/leaf.ext"
if openssl req -new -newkey rsa:2048 -nodes -subj "/CN=netwave conformance test CA" \
	-keyout "$PKI/ca.key" -out "$PKI/ca.csr" >"$PKI/log" 2>&1 &&
    openssl x509 -req -in "$PKI/ca.csr" -signkey "$PKI/ca.key" -days 1 -extfile "$PKI/ca.ext" \
	-out "$PKI/ca.pem" >>"$PKI/log" 2>&1 &&
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	-keyout "$PKI/key.pem" -out "$PKI/leaf.csr" >>"$PKI/log" 2>&1 &&
    openssl x509 -req -in "$PKI/leaf.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -set_serial 2 \
	-days 1 -extfile "$PKI/leaf.ext" -out "$PKI/cert.pem" >>"$PKI/log" 2>&1 &&
    openssl verify -CAfile "$PKI/ca.pem" "$PKI/cert.pem" >>"$PKI/log" 2>&1; then
	pass "openssl makes a test CA and a certificate for IP 127.0.0.1"
else
	sed 's/^/cli_conformance: openssl: /' "$PKI/log" | tail -n 5 >&2
	skip "openssl cannot make the test certificates here"
fi

# --- the emulator: a synthetic estate, one OAuth2 client, TLS ---------------------------------
run "$NETWAVE" synth --hubs 2 --spokes-per-hub 12 --pe-per-spoke 1 --seed 1 -o "$TMP/seed.json"
expect_rc "netwave synth makes the seed estate" 0
SECRET=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
cat >"$TMP/clients.json" <<EOF
{ "format": "netwave.emulator-clients/v1",
  "clients": [ { "clientId": "netwave-conformance", "tenantId": "*", "clientSecret": "$SECRET" } ] }
EOF
emulator_start --listen 127.0.0.1:0 --seed "$TMP/seed.json" --clients "$TMP/clients.json" \
	--tls-cert "$PKI/cert.pem" --tls-key "$PKI/key.pem" --time-scale 1000 --page-size 5 --seed-rng 7 || true
case "$BASE" in
https://127.0.0.1:*) pass "the emulator serves TLS at $BASE" ;;
*)
	RC=-1
	cp "$TMP/emu.err" "$TMP/err"
	: >"$TMP/out"
	fail "the emulator serves TLS" "no https base URL in the port file within 10 s"
	finish || exit 1
	;;
esac

# --- the SDK's verdict --------------------------------------------------------------------------
set +e
(cd "$SDK" &&
    NODE_EXTRA_CA_CERTS="$PKI/ca.pem" NETWAVE_EMULATOR_URL="$BASE" \
    NETWAVE_CLIENT_ID=netwave-conformance NETWAVE_CLIENT_SECRET="$SECRET" \
    NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" \
    no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" \
    bounded 300 node conformance.mjs) >"$TMP/sdk.out" 2>"$TMP/sdk.err"
RC=$?
set -e
sed 's/^/# sdk: /' "$TMP/sdk.out"
sed 's/^/# sdk stderr: /' "$TMP/sdk.err" | head -n 40
if [ $RC -eq 0 ] && grep -qE '^[0-9]+ passed, 0 failed$' "$TMP/sdk.out"; then
	pass "every SDK scenario passes ($(tail -n 1 "$TMP/sdk.out"))"
else
	cp "$TMP/sdk.out" "$TMP/out"
	cp "$TMP/sdk.err" "$TMP/err"
	fail "every SDK scenario passes" "$(tail -n 1 "$TMP/sdk.out")"
fi

# --- a clean stop (under the sanitizers this is where leaks would show) -------------------------
emulator_stop
RC=$EMU_RC
cp "$TMP/emu.err" "$TMP/err"
: >"$TMP/out"
expect_rc "the emulator stops cleanly after the SDK run" 0

finish
