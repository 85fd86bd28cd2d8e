# Shared by the bench scripts: the 5,000-spoke estate of issue 2 (made once
# under the bench directory), a scratch directory removed on exit, the
# emulator started on a free 127.0.0.1 port and stopped, and the clock.
# A script sets NETWAVE (default ./netwave) and sources this file:
# . "$(dirname "$0")/lib.sh"

# The knobs bench_synth reads, where the environment (or the script, before
# it sources this file) does not set them.
: "${NETWAVE:=./netwave}" "${HUBS:=10}" "${SPOKES:=500}" "${PES:=4}" "${LATENCY_MS:=0}" \
	"${TIME_SCALE:=1000}"

. "$(dirname "$0")/../tests/cli/wait.sh"

now() { date +%s.%N; }

# bench_estate: sets out (the bench directory, $BENCH_DIR or bench/out),
# estate (netwave synth --hubs 10 --spokes-per-hub 500 --pe-per-spoke 4
# --udr-spokes 50 over two regions, made there once) and bytes (its size).
bench_estate() {
	out=${BENCH_DIR:-bench/out}
	mkdir -p "$out"
	estate="$out/estate-10x500x4.json"
	if [ ! -f "$estate" ]; then
		"$NETWAVE" synth --hubs 10 --spokes-per-hub 500 --pe-per-spoke 4 --udr-spokes 50 \
			--regions eastus,westeurope --seed 1 --out "$estate"
	fi
	bytes=$(wc -c <"$estate")
}

# bench_synth NAME FILE [WHAT]: the estate the knobs HUBS, SPOKES and PES
# describe (netwave synth, defaults 10 x 500 x 4) into FILE, after a line saying so under NAME
# (WHAT ends it); sets SUB (its first subscription) and writes
# $TMP/faults.json, LATENCY_MS added to every ARM request.
bench_synth() {
	echo "$1: synth --hubs $HUBS --spokes-per-hub $SPOKES --pe-per-spoke $PES${3:-}"
	"$NETWAVE" synth --hubs "$HUBS" --spokes-per-hub "$SPOKES" --pe-per-spoke "$PES" \
		--out "$2" 2>/dev/null
	SUB=$(grep -A1 '"subscriptions"' "$2" | tail -n 1 | tr -d ' ",')
	printf '{"format": "netwave.faults/v1", "rules": [{"name": "latency", "action": "latency", "ms": %s}]}\n' \
		"$LATENCY_MS" >"$TMP/faults.json"
}

# bench_tmp: TMP, a scratch directory; it and the emulator are gone on exit.
bench_tmp() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/netwave-bench.XXXXXX")
	EMU=""
	trap bench_cleanup EXIT INT TERM
}

bench_cleanup() {
	if [ -n "$EMU" ] && kill -0 "$EMU" 2>/dev/null; then
		kill -TERM "$EMU" 2>/dev/null || true
		wait "$EMU" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}

# bench_emulator NAME ARGS: `netwave emulator ARGS` in the background (stderr
# in $TMP/emu.err); waits at most 120 s for its port file (less when it exits), sets EMU and
# BASE, or says so under NAME, with the emulator's stderr, and exits 1.
bench_emulator() {
	name=$1
	shift
	"$NETWAVE" emulator --listen 127.0.0.1:0 --port-file "$TMP/port" "$@" 2>"$TMP/emu.err" &
	EMU=$!
	BASE=$(port_wait "$TMP/port" "$EMU" 1200)
	if [ -z "$BASE" ]; then
		echo "$name: the emulator did not start" >&2
		cat "$TMP/emu.err" >&2
		exit 1
	fi
}

# median TOOL ARGS... runs
# "$MEASURE" TOOL ARGS RUNS times into $out/runs and prints the median of
# the first field (seconds) and the max of the second (KiB).  A tool exit
# other than 0 or 1 (check's "errors found") fails the measurement.
median() {
	i=0
	: >"$out/runs"
	while [ "$i" -lt "$RUNS" ]; do
		"$MEASURE" "$@" >>"$out/runs"
		i=$((i + 1))
	done
	awk '$3 != 0 && $3 != 1 { bad = 1 } { print $1, $2 } END { if (bad) exit 3 }' "$out/runs" |
		sort -n | awk -v n="$RUNS" '{ t[NR] = $1; if ($2 > m) m = $2 } END { printf "%s %s\n", t[int((n + 1) / 2)], m }'
}
