#!/bin/sh
# Benchmark of `netwave plan` on the 5,000-spoke estate of issue 3:
#   netwave synth --hubs 10 --spokes-per-hub 500 --pe-per-spoke 4
# with a three-wave mesh intent (pilot: env=dev, at most 50; light:
# traffic=light; rest) that also moves the gateways to Standard public IPs
# and summarizes the hubs' prefixes.  Prints the wall time and peak memory
# of plan beside a plain jansson load of the same topology file, measured
# in the same run (median of RUNS runs, a fresh plan store each run), and
# their ratios: wall time, and CPU time (user and system, all threads),
# which is the steadier of the two on a busy machine and counts helper
# threads that wall time hides.  Run it from a build without sanitizers:
# make bench.
#
# The report goes to a file in the bench directory, not to -o /dev/null:
# plan writes its report atomically (a temporary file renamed over the
# target), which would replace /dev/null itself when run as root.
set -eu
: "${NETWAVE:=./netwave}" "${JSONLOAD:=./bench/jsonload}" "${MEASURE:=./bench/measure}"
RUNS=${RUNS:-5}
. "$(dirname "$0")/lib.sh"
bench_estate
intent="$out/intent-mesh.json"
sub=$(grep -A1 '"subscriptions"' "$estate" | tail -n 1 | tr -d ' ",')
cat >"$intent" <<EOF
{
  "format": "netwave.intent/v1",
  "changes": [
    { "kind": "avnm-mesh",
      "networkManager": { "id": "/subscriptions/$sub/resourceGroups/rg-connectivity/providers/Microsoft.Network/networkManagers/nm-mesh",
                          "scope": { "subscriptions": ["/subscriptions/$sub"] } },
      "networkGroup": "mesh-all-spokes",
      "members": { "tags": { "role": "spoke" } } },
    { "kind": "gateway-standard-ip", "gateways": { "all": true } },
    { "kind": "summarize-gateway-prefixes", "hubs": { "tags": { "role": "hub" } } }
  ],
  "rollout": {
    "waves": [ { "name": "pilot", "members": { "tags": { "env": "dev" } }, "max": 50 },
               { "name": "light", "members": { "tags": { "traffic": "light" } } },
               { "name": "rest" } ],
    "soak": { "beforeDecommission": "14d", "betweenWaves": "0s" },
    "writeBudget": { "writesPerSecond": 3.3, "burst": 200 }
  }
}
EOF

# one run of plan against a fresh store
plan_once() {
	rm -f "$out/plan.db" "$out/plan.db-wal" "$out/plan.db-shm"
	"$MEASURE" "$NETWAVE" plan --current "$estate" --intent "$intent" --db "$out/plan.db" \
		--format json --out "$out/plan-report.json" 2>"$out/plan.err"
}

# medians of the wall seconds (field 1) and CPU seconds (field 4), and the
# max of the peak memory (field 2, KiB), over RUNS runs
median() {
	i=0
	: >"$out/runs"
	while [ "$i" -lt "$RUNS" ]; do
		"$@" >>"$out/runs"
		i=$((i + 1))
	done
	awk '$3 != 0 { bad = 1 } END { if (bad) exit 3 }' "$out/runs" || return 1
	w=$(awk '{ print $1 }' "$out/runs" | sort -n | awk -v n="$RUNS" '{ t[NR] = $1 } END { print t[int((n + 1) / 2)] }')
	c=$(awk '{ print $4 }' "$out/runs" | sort -n | awk -v n="$RUNS" '{ t[NR] = $1 } END { print t[int((n + 1) / 2)] }')
	m=$(awk '$2 > m { m = $2 } END { print m }' "$out/runs")
	echo "$w $m $c"
}

base=$(median "$MEASURE" "$JSONLOAD" "$estate")
if ! plan=$(median plan_once); then
	echo "bench_plan: netwave plan failed:" >&2
	cat "$out/plan.err" >&2
	exit 1
fi
rm -f "$out/plan.db" "$out/plan.db-wal" "$out/plan.db-shm"
set -- $base $plan
echo "estate: $estate ($bytes bytes); intent: $intent"
printf 'jansson load (baseline): %8.3f s wall  %8.3f s CPU  %8.1f MiB\n' "$1" "$3" \
	"$(echo "$2" | awk '{ print $1 / 1024 }')"
printf 'netwave plan:            %8.3f s wall  %8.3f s CPU  %8.1f MiB\n' "$4" "$6" \
	"$(echo "$5" | awk '{ print $1 / 1024 }')"
awk -v a="$1" -v b="$4" -v ca="$3" -v cb="$6" -v m="$5" 'BEGIN {
	printf "plan / load wall time ratio: %.2fx\n", b / a;
	printf "plan / load CPU time ratio: %.2fx (goal: at most 3x)\n", cb / ca;
	printf "plan peak memory: %.1f MiB (goal: under 400 MiB)\n", m / 1024 }'
