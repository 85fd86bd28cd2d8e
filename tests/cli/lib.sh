# Shared by the command-line tests: run the real binary, record output and
# exit code, and count assertions.  Each test script sources this file,
# asserts, and ends with `finish`, which prints "N passed, M failed".
: "${NETWAVE:?NETWAVE must name the netwave binary}"
: "${top_srcdir:?top_srcdir must be set}"
DATA="$top_srcdir/tests/data"
PASSED=0
FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/netwave-test.XXXXXX")
. "$top_srcdir/tests/cli/wait.sh"

# EMU: the emulator emulator_start started; BG: other background processes
# the test started (a run to interrupt).  Whatever is still running is killed
# on exit, and $TMP removed.
EMU=""
BG=""
cleanup() {
	for p in $BG $EMU; do
		if kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
	done
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# arm_api NAME: the api-version plan/arm_api.h gives ARM_API_NAME (NETWORK,
# AUTHORIZATION, LOCKS ...), so that the tests send what netwave sends.
arm_api() {
	v=$(sed -n "s/^#define ARM_API_$1 \"\([^\"]*\)\".*/\1/p" "$top_srcdir/plan/arm_api.h")
	[ -n "$v" ] || { echo "arm_api: no ARM_API_$1 in plan/arm_api.h" >&2; return 1; }
	echo "$v"
}

# emulator_start ARGS: `netwave emulator ARGS` in the background on a free
# 127.0.0.1 port (its stdout appended to $TMP/emu.out, stderr to
# $TMP/emu.err); waits at most 10 s for its port file (less when it exits),
# then sets EMU (the pid), BASE (its URL) and P (the provider options that
# point at it).  Returns 1, BASE empty, when no port came.
emulator_start() {
	rm -f "$TMP/port"
	"$NETWAVE" emulator --port-file "$TMP/port" "$@" >>"$TMP/emu.out" 2>>"$TMP/emu.err" &
	EMU=$!
	BASE=$(port_wait "$TMP/port" "$EMU" 100)
	P="--arm-endpoint $BASE --authority-host $BASE"
	[ -n "$BASE" ]
}

# emulator_stop [-SIGNAL]: TERM (a clean stop, the default) or another
# signal (-9: a crash); waits at most 10 s, then kills it.  EMU_RC is its
# exit status, 124 when it had to be killed.  Nothing when no emulator runs.
emulator_stop() {
	[ -n "$EMU" ] || return 0
	kill "${1:--TERM}" "$EMU" 2>/dev/null || true
	i=0
	while kill -0 "$EMU" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	EMU_RC=0
	if kill -0 "$EMU" 2>/dev/null; then
		echo "# the emulator did not stop within 10 s" >>"$TMP/emu.err"
		kill -9 "$EMU" 2>/dev/null || true
		EMU_RC=124
	fi
	W=0
	wait "$EMU" 2>/dev/null || W=$?
	[ "$EMU_RC" -eq 124 ] || EMU_RC=$W
	EMU=""
}

# run CMD [ARGS]: sets RC, and the files $TMP/out and $TMP/err
run() {
	set +e
	"$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	set -e
}

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() {
	FAILED=$((FAILED + 1))
	echo "not ok - $1"
	[ -z "${2:-}" ] || echo "#   $2"
	echo "#   exit code: ${RC:-?}"
	sed 's/^/#   stdout: /' "$TMP/out" 2>/dev/null | head -n 20
	sed 's/^/#   stderr: /' "$TMP/err" 2>/dev/null | head -n 20
}

# expect_rc NAME CODE
expect_rc() {
	if [ "$RC" -eq "$2" ]; then pass "$1 (exit $2)"; else fail "$1" "expected exit $2"; fi
}

# expect_out NAME TEXT: stdout contains TEXT (fixed string)
expect_out() {
	if grep -qF -- "$2" "$TMP/out"; then pass "$1"; else fail "$1" "stdout lacks: $2"; fi
}

# expect_err NAME TEXT: stderr contains TEXT (fixed string)
expect_err() {
	if grep -qF -- "$2" "$TMP/err"; then pass "$1"; else fail "$1" "stderr lacks: $2"; fi
}

# expect_no_out NAME: stdout is empty
expect_no_out() {
	if [ ! -s "$TMP/out" ]; then pass "$1"; else fail "$1" "stdout should be empty"; fi
}

# expect_line NAME REGEX: some stdout line matches the extended regex
expect_line() {
	if grep -qE -- "$2" "$TMP/out"; then pass "$1"; else fail "$1" "no stdout line matches: $2"; fi
}

# npm_ci DIR: `npm ci` in DIR (at most 600 s), its output in $TMP/npm.log, its exit code
# in NPM_RC; npm's default cache makes later runs fast and offline, and a home it cannot
# write falls back to $TMP/npm-cache
npm_ci() {
	if [ -z "${npm_config_cache:-}" ]; then
		cache=$(npm config get cache 2>/dev/null || true)
		if [ -z "$cache" ] || ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
			npm_config_cache="$TMP/npm-cache"
			export npm_config_cache
		fi
	fi
	NPM_RC=0
	if command -v timeout >/dev/null 2>&1; then
		(cd "$1" && timeout 600 npm ci --no-audit --no-fund --prefer-offline --loglevel=error) \
		    >"$TMP/npm.log" 2>&1 || NPM_RC=$?
	else
		(cd "$1" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error) \
		    >"$TMP/npm.log" 2>&1 || NPM_RC=$?
	fi
}

# npm_offline: $TMP/npm.log says the registry could not be reached
npm_offline() {
	grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network|fetch failed|proxy|certificate|offline' \
	    "$TMP/npm.log"
}

# test_client TENANT CLIENT SECRET: the test's own service principal (one the emulator
# knows) in the environment, and nothing of the caller's: no token, no database, and
# no live run
test_client() {
	export AZURE_TENANT_ID="$1" AZURE_CLIENT_ID="$2" AZURE_CLIENT_SECRET="$3"
	unset NETWAVE_ACCESS_TOKEN NETWAVE_DB 2>/dev/null || true
	export NETWAVE_NO_LIVE=1
}

# mesh_intent NM_ID [MESH_EXTRA [CHANGES_EXTRA [ROLLOUT]]]: writes $TMP/intent.json, an
# avnm-mesh of the spokes (tag role=spoke) by the network manager whose ARM id is NM_ID,
# with MESH_EXTRA (", key: value" pairs) in the change, CHANGES_EXTRA (", {change}") after
# it, and ROLLOUT (a JSON object; none when empty) as the intent's rollout.
mesh_intent() {
	rollout=""
	[ -z "${4:-}" ] || rollout=",
  \"rollout\": $4"
	cat >"$TMP/intent.json" <<EOF
{ "format": "netwave.intent/v1",
  "changes": [ { "kind": "avnm-mesh",
                 "networkManager": { "id": "$1" },
                 "networkGroup": "mesh-spokes", "members": { "tags": { "role": "spoke" } }${2:-} } ${3:-} ]$rollout }
EOF
}

# plan_mesh DB NM ROLLOUT [MESH_EXTRA [CHANGES_EXTRA]]: discovers $SUB (with $P) into
# $TMP/current.json and plans into DB ($TMP/plan.json, PLAN its id) the mesh_intent of
# network manager NM in rg-connectivity with ROLLOUT, MESH_EXTRA and CHANGES_EXTRA.
plan_mesh() {
	run "$NETWAVE" discover --subscription "$SUB" $P -o "$TMP/current.json"
	mesh_intent "/subscriptions/$SUB/resourceGroups/rg-connectivity/providers/Microsoft.Network/networkManagers/$2" \
	    "${4:-}" "${5:-}" "$3"
	run "$NETWAVE" plan --current "$TMP/current.json" --intent "$TMP/intent.json" --db "$1" \
	    --format json -o "$TMP/plan.json"
	PLAN=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan.json")
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
