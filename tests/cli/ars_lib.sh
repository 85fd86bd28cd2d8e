# Shared by the route-server-interhub scenarios (cli_route_server.sh, and
# cli_route_server_scale.sh at scale), sourced after lib.sh: the emulator on
# an estate whose NVAs are configured as the change's target declares them,
# the plan against it, an apply killed at a journal write, and whether the
# estate is the one the scenario started from.

# ars_env TENANT SECRET: the test's credentials, nothing live
ars_env() {
	export AZURE_TENANT_ID="$1" AZURE_CLIENT_ID=netwave-cli-tests AZURE_CLIENT_SECRET="$2"
	unset NETWAVE_ACCESS_TOKEN NETWAVE_DB NETWAVE_TEST_CRASH_AFTER 2>/dev/null || true
	export NETWAVE_NO_LIVE=1
}

# ars_emulator ESTATE INTENT: the emulator serving ESTATE (the UDR design),
# with the NVAs as they are configured: their BGP sessions wait for the route
# servers (declared.nvas of INTENT's target).  Exits the test when it does
# not listen.
ars_emulator() {
	run "$NETWAVE" target --current "$1" --intent "$2" --out "$TMP/tgt.json"
	expect_rc "target" 0
	python3 - "$1" "$TMP/tgt.json" "$TMP/seed.json" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))
e["declared"] = json.load(open(sys.argv[2]))["declared"]
json.dump(e, open(sys.argv[3], "w"))
EOF
	emulator_start --seed "$TMP/seed.json" --state "$TMP/emu.db" --time-scale 1000000 --seed-rng 13 || true
	if [ -n "$BASE" ]; then pass "the emulator listens"; else fail "the emulator listens"; finish; exit 1; fi
}

# ars_plan SUB INTENT DB: discover SUB from the emulator and plan INTENT into
# DB; PLAN is the plan's id, $TMP/plan.json the plan (and $TMP/out)
ars_plan() {
	run "$NETWAVE" discover --subscription "$1" $P -o "$TMP/current.json"
	expect_rc "discover" 0
	run "$NETWAVE" plan --current "$TMP/current.json" --intent "$2" --db "$3" -o json
	expect_rc "plan" 0
	PLAN=$(sed -n 's/^plan \(pl-[0-9a-f]*\) stored.*/\1/p' "$TMP/err")
	cp "$TMP/out" "$TMP/plan.json"
}

# ars_killed WAVE N: apply WAVE of $PLAN in $DB, killed at its N-th journal write
ars_killed() {
	set +e
	NETWAVE_TEST_CRASH_AFTER=$2 timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" \
	    --wave "$1" --yes --no-history $P >"$TMP/out" 2>"$TMP/err"
	RC=$?
	set -e
	if [ "$RC" -ne 0 ]; then pass "$1: stops at the crash point (journal write $2)"
	else fail "$1: stops at the crash point (journal write $2)"; fi
}

# ars_same BEFORE AFTER: "same" when the two states hold the same resources,
# routes and subnet route tables, else "different: " and some that differ
ars_same() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
def key(f):
    d = json.load(open(f))
    out = []
    for r in d["resources"]:
        p = r.get("properties", {})
        routes = sorted((x["name"], x["properties"].get("addressPrefix"), x["properties"].get("nextHopIpAddress"))
                        for x in p.get("routes", []))
        subnets = sorted((s["name"], (s["properties"].get("routeTable") or {}).get("id"))
                         for s in p.get("subnets", []) if isinstance(s, dict) and "properties" in s)
        out.append((r["type"], r["name"], routes, subnets))
    return sorted(out)
a, b = key(sys.argv[1]), key(sys.argv[2])
print("same" if a == b else "different: %s" % [x for x in a + b if (x in a) != (x in b)][:6])
EOF
}
