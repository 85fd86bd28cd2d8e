#!/bin/sh
# Apply against ARM's buckets: a 1,000-spoke AVNM mesh migration carried
# out by `netwave apply` against `netwave emulator`, which enforces ARM's
# per-subscription token buckets (writes: 200, refilled at 10/s; reads:
# 250, refilled at 25/s) and answers every ARM request LATENCY ms late
# (--latency, default 100: a realistic round trip).  The emulator runs at
# --time-scale 1, so its buckets are ARM's own and netwave's client-side
# buckets (ARM's too) agree with them, and each AVNM commit takes the
# documented "few minutes" (180 s, plan/cost.h) in real time.
#
# Figures:
#   - wall time / the plan's ETA (summary.etaSeconds, plan/cost.c): how well
#     the cost model predicts the run; goal 0.85 to 1.15
#   - wall time / the lower bound the buckets and operation durations allow:
#     per wave, the writes' wait for the write bucket (carried across waves,
#     refilled during commits) plus the documented operation time, nothing
#     for reads, polls, gates or round trips; goal <= 1.2
#   - peak resident memory of apply (bench/measure)
#   - from the emulator's request log: achieved writes per second over the
#     write phase, as a fraction of what the bucket allows in that time
#     (200 + 10/s x seconds), goal >= 0.9; the share of ARM requests
#     answered 429, goal < 1%
# and, when node and the SDK in tests/conformance/node_modules are there
# (and openssl for the TLS the SDK insists on), the same static-member
# writes made with @azure/arm-network the way its documentation shows
# (await each call in turn, bench/bench_apply_sdk.mjs), and the ratio of
# wall times.
#
# Two waves (pilot, then the rest), so two commits: about 10 minutes in all.
#
# usage: NETWAVE=./netwave [MEASURE=./bench/measure] sh bench/bench_apply.sh [SPOKES]   (default 1000)
set -eu

NETWAVE=${NETWAVE:-netwave}
SPOKES=${1:-1000}
PARALLEL=${PARALLEL:-8}     # the engine's default, which the estimate counts
LATENCY=${LATENCY:-100}    # ms per ARM request
HERE=$(cd "$(dirname "$0")" && pwd)
SDKDIR=${SDKDIR:-$HERE/../tests/conformance}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-apply.XXXXXX")
EMU=""
cleanup() {
	if [ -n "$EMU" ] && kill -0 "$EMU" 2>/dev/null; then kill -9 "$EMU" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

export AZURE_TENANT_ID=00000000-0000-4000-8000-0000000be1c0
export AZURE_CLIENT_ID=netwave-bench
export AZURE_CLIENT_SECRET=bench-only-secret
export NETWAVE_NO_LIVE=1

. "$(dirname "$0")/../tests/cli/wait.sh"

now() { date +%s.%N; }

start_emulator() {
	rm -f "$TMP/port"
	"$NETWAVE" emulator --seed "$TMP/estate.json" --port-file "$TMP/port" --time-scale 1 \
	    --latency "$LATENCY" --seed-rng 1 "$@" 2>"$TMP/emu.err" &
	EMU=$!
	BASE=$(port_wait "$TMP/port" "$EMU" 100)
}

stop_emulator() {
	kill -TERM "$EMU" 2>/dev/null || true
	wait "$EMU" 2>/dev/null || true
	EMU=""
}

# figures LOG: "requests 429s writes span fraction" from the emulator's request log.
# The write phase is the longest run of static-member PUTs (no gap over 5 s: the
# waves' commits and gates lie between runs); every write (PUT, PATCH, POST) in
# it counts, against what the bucket allows in it: 200 + 10/s x its length.
figures() {
	tr '}' '\n' <"$1" | awk '
	function secs(t,   a, b) {
		split(t, a, "T"); split(a[2], b, ":");
		return b[1] * 3600 + b[2] * 60 + substr(b[3], 1, length(b[3]) - 1);
	}
	/"seq"/ {
		m = $0; sub(/.*"method":"/, "", m); sub(/".*/, "", m);
		p = $0; sub(/.*"path":"/, "", p); sub(/".*/, "", p);
		s = $0; sub(/.*"status":/, "", s); sub(/[,}].*/, "", s);
		t = $0; sub(/.*"time":"/, "", t); sub(/".*/, "", t);
		if (p ~ /oauth2|\/metadata\//) next;
		n++;
		if (s == 429) { throttled++; next; }
		if (m == "PUT" || m == "PATCH" || m == "POST") { nw++; wt[nw] = secs(t); }
		if (m == "PUT" && p ~ /\/staticMembers\//) {
			x = secs(t);
			if (runs == 0 || x - last > 5) { runs++; rs[runs] = x; rc[runs] = 0; }
			re[runs] = x; rc[runs]++; last = x;
		}
	}
	END {
		best = 0;
		for (i = 1; i <= runs; i++) if (best == 0 || rc[i] > rc[best]) best = i;
		a = rs[best]; b = re[best]; w = 0;
		for (i = 1; i <= nw; i++) if (wt[i] >= a && wt[i] <= b) w++;
		span = b - a; allowed = 200 + 10 * span;
		frac = allowed > w ? w / allowed : 1;
		printf "%d %d %d %.2f %.3f\n", n, throttled, w, span, frac;
	}'
}

echo "bench_apply: $SPOKES spokes, --parallel $PARALLEL, ARM write bucket 200 + 10/s, read bucket 250 + 25/s, $LATENCY ms per request"
"$NETWAVE" synth --hubs 1 --spokes-per-hub "$SPOKES" --seed 2 --out "$TMP/estate.json" 2>/dev/null
SUB=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)"$/\1/p' "$TMP/estate.json" | head -n 1)
start_emulator
P="--arm-endpoint $BASE --authority-host $BASE"
# over 250 members need AllowHighScaleConnectedGroup: registered already, so the
# run measures the mesh writes rather than five minutes of feature registration
curl -sS -m 10 -X PATCH -H 'Content-Type: application/json' \
    -d '{"features": {"Microsoft.Network/AllowHighScaleConnectedGroup": "Registered"}}' \
    "$BASE/__netwave/observed" >/dev/null
"$NETWAVE" discover --subscription "$SUB" $P --out "$TMP/current.json" 2>/dev/null
cat >"$TMP/intent.json" <<EOF
{ "format": "netwave.intent/v1",
  "changes": [ { "kind": "avnm-mesh",
                 "networkManager": { "id": "/subscriptions/$SUB/resourceGroups/rg-connectivity/providers/Microsoft.Network/networkManagers/nm-bench" },
                 "networkGroup": "mesh-spokes", "members": { "tags": { "role": "spoke" } } } ],
  "rollout": { "waves": [ { "name": "pilot", "members": { "tags": { "env": "dev" } } },
                          { "name": "rest" } ] } }
EOF
"$NETWAVE" plan --current "$TMP/current.json" --intent "$TMP/intent.json" --db "$TMP/b.db" \
    --format json --out "$TMP/plan.json" 2>/dev/null
PLAN=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan.json")
STEPS=$(grep -c '"action": "add-static-member",' "$TMP/plan.json" || true)
echo "plan $PLAN: $STEPS static members in two waves (pilot, rest), a commit per wave"
sleep 20 # discovery's reads refill: every run starts with full buckets
curl -sS -m 10 -X DELETE "$BASE/__netwave/requests" >/dev/null
T0=$(now)
if [ -n "${MEASURE:-}" ]; then
	"$MEASURE" "$NETWAVE" apply "$PLAN" --db "$TMP/b.db" --all --parallel "$PARALLEL" --no-history $P \
	    >"$TMP/apply.out" 2>"$TMP/apply.err" || { echo "bench_apply: apply failed:"; tail -n 5 "$TMP/apply.err"; exit 1; }
	RSS=$(tail -n 1 "$TMP/apply.out" | awk '{ printf "%.0f", $2 / 1024 }')
else
	"$NETWAVE" apply "$PLAN" --db "$TMP/b.db" --all --parallel "$PARALLEL" --no-history $P \
	    >"$TMP/apply.out" 2>&1 || { echo "bench_apply: apply failed:"; tail -n 5 "$TMP/apply.out"; exit 1; }
	RSS=""
fi
T1=$(now)
curl -sS -m 60 "$BASE/__netwave/requests" >"$TMP/requests.json"
set -- $(figures "$TMP/requests.json")
NREQ=$1 N429=$2 NW=$3 SPAN=$4 FRAC=$5
WALL=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
echo "netwave apply: $WALL s wall (gates included), $NREQ ARM requests"
echo "  write phase (the largest wave's static members): $NW writes in $SPAN s = $(awk -v w="$NW" -v s="$SPAN" 'BEGIN { printf "%.2f", (s > 0 ? w / s : 0) }')/s;" \
    "the bucket allows $(awk -v s="$SPAN" 'BEGIN { printf "%.0f", 200 + 10 * s }') in that time:" \
    "fraction $FRAC (goal >= 0.9)"
echo "  429s: $N429 of $NREQ = $(awk -v a="$N429" -v b="$NREQ" 'BEGIN { printf "%.2f%%", (b > 0 ? 100 * a / b : 0) }') (goal < 1%)"
# the plan's ETA, and the lower bound: each wave's writes against the write bucket
# (200, 10/s, carried across waves and refilled while operations run) plus its
# documented operation time; reads, polls, gates and round trips count nothing
set -- $(awk '
	/"estimate": \{/ { inest = 1; next }
	inest && /"operationSeconds":/ { v = $2; gsub(/[^0-9]/, "", v); op[n] = v }
	inest && /"writes":/ { v = $2; gsub(/[^0-9]/, "", v); wr[n] = v }
	inest && /\}/ { inest = 0; n++ }
	/"etaSeconds":/ { v = $2; gsub(/[^0-9]/, "", v); eta = v }
	END {
		tok = 200; lb = 0;
		for (i = 0; i < n; i++) {
			w = wr[i] + 0; wait = 0;
			if (w <= tok) tok -= w; else { wait = (w - tok) / 10; tok = 0 }
			lb += wait + op[i];
			tok += 10 * op[i]; if (tok > 200) tok = 200;
		}
		printf "%d %.1f\n", eta, lb;
	}' "$TMP/plan.json")
ETA=$1 LB=$2
echo "  ETA (plan/cost.c) $ETA s: wall / ETA = $(awk -v a="$WALL" -v b="$ETA" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') (goal 0.85 to 1.15)"
echo "  lower bound (write bucket + documented operations) $LB s: wall / bound =" \
    "$(awk -v a="$WALL" -v b="$LB" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') (goal <= 1.2)"
if [ -n "$RSS" ]; then echo "  peak memory of apply: $RSS MiB"; fi
"$NETWAVE" status "$PLAN" --db "$TMP/b.db" 2>/dev/null | grep -E '^ +[0-9]+ ' | sed 's/^/  /' || true
stop_emulator

# --- the same writes with Microsoft's SDK for JavaScript, one await at a time ------------
if ! command -v node >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1 ||
    [ ! -d "$SDKDIR/node_modules/@azure/arm-network" ]; then
	echo "SDK comparison: skipped (needs node, openssl and npm ci in tests/conformance)"
	exit 0
fi
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=netwave bench CA" \
    -keyout "$TMP/ca.key" -out "$TMP/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$TMP/srv.key" \
    -out "$TMP/srv.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/ext"
openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial \
    -days 1 -extfile "$TMP/ext" -out "$TMP/srv.pem" >/dev/null 2>&1
start_emulator --tls-cert "$TMP/srv.pem" --tls-key "$TMP/srv.key"
curl -sS -m 10 --cacert "$TMP/ca.pem" -X PATCH -H 'Content-Type: application/json' \
    -d '{"features": {"Microsoft.Network/AllowHighScaleConnectedGroup": "Registered"}}' \
    "$BASE/__netwave/observed" >/dev/null
sleep 20
T0=$(now)
set +e
# ES modules resolve packages beside the script: run a copy next to the SDK's node_modules
mkdir "$TMP/sdk"
cp "$HERE/bench_apply_sdk.mjs" "$TMP/sdk/"
ln -s "$(cd "$SDKDIR" && pwd)/node_modules" "$TMP/sdk/node_modules"
NODE_EXTRA_CA_CERTS="$TMP/ca.pem" NETWAVE_EMULATOR_URL="$BASE" \
    NETWAVE_SUBSCRIPTION="$SUB" NETWAVE_PLAN="$TMP/plan.json" \
    node "$TMP/sdk/bench_apply_sdk.mjs" >"$TMP/sdk.out" 2>&1
SRC=$?
set -e
T1=$(now)
if [ $SRC -ne 0 ]; then
	echo "SDK comparison: the SDK run failed:"
	head -n 30 "$TMP/sdk.out"
	exit 1
fi
curl -sS -m 60 --cacert "$TMP/ca.pem" "$BASE/__netwave/requests" >"$TMP/sdk-requests.json"
set -- $(figures "$TMP/sdk-requests.json")
SWALL=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
echo "SDK, one await at a time: $SWALL s wall (no gates), $1 ARM requests, $2 answered 429;" \
    "writes $3 in $4 s: fraction $5"
echo "wall time ratio SDK / netwave: $(awk -v a="$SWALL" -v b="$WALL" 'BEGIN { printf "%.2f", a / b }')"
stop_emulator
