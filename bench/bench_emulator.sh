#!/bin/sh
# Benchmark of `netwave emulator` on the 5,000-spoke estate of issue 2:
#   netwave synth --hubs 10 --spokes-per-hub 500 --pe-per-spoke 4
# (5,010 VNets, 20,000 private endpoints).  Starts the emulator on
# 127.0.0.1 seeded with it, drives it with bench/emuload (libcurl multi,
# CONC connections) for GETs and then PUTs of the estate's VNets, and
# reads its memory from /proc: resident after loading the estate, and the
# peak (VmHWM, what ru_maxrss reports) after the load.  The figures are
# printed beside ARM's own per-subscription limits (reads 250 + 25/s,
# writes 200 + 10/s), so the ratios say how far the emulator is from ever
# being the bottleneck of an apply.  The emulator runs without auth and
# with a huge --time-scale, so its own throttle buckets refill faster than
# any client can drain them and operations finish at once: what is measured
# is the server, not the emulated limits.  Run it from a build without
# sanitizers: make bench.
set -eu
: "${NETWAVE:=./netwave}" "${EMULOAD:=./bench/emuload}"
CONC=${CONC:-16}
GETS=${GETS:-40000}
PUTS=${PUTS:-10000}
SECS=${SECS:-30}
. "$(dirname "$0")/lib.sh"
bench_estate

bench_tmp

# kib FIELD: a VmRSS/VmHWM line of the emulator's /proc status, in KiB
kib() {
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$EMU/status"
}

t0=$(now)
bench_emulator bench_emulator --seed "$estate" --no-auth --time-scale 1000000
t1=$(now)
rss_idle=$(kib VmRSS)

"$EMULOAD" --base "$BASE" --estate "$estate" --method GET --concurrency "$CONC" \
	--requests "$GETS" --seconds "$SECS" >"$out/get.txt"
"$EMULOAD" --base "$BASE" --estate "$estate" --method PUT --concurrency "$CONC" \
	--requests "$PUTS" --seconds "$SECS" >"$out/put.txt"
rss_after=$(kib VmRSS)
hwm=$(kib VmHWM)

kill -TERM "$EMU"
i=0
while kill -0 "$EMU" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$EMU" 2>/dev/null; then
	echo "bench_emulator: the emulator did not stop within 30 s of SIGTERM" >&2
	exit 1
fi
set +e
wait "$EMU"
rc=$?
set -e
EMU=""
if [ $rc -ne 0 ]; then
	echo "bench_emulator: the emulator exited $rc" >&2
	exit 1
fi

# field NAME FILE: a key=value field of an emuload line
field() {
	tr ' ' '\n' <"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'
}

vnets=$(field targets "$out/get.txt")
echo "estate: $estate ($bytes bytes, $vnets VNets)"
awk -v a="$t0" -v b="$t1" -v r="$rss_idle" 'BEGIN {
	printf "emulator start with the estate: %.2f s, resident %.1f MiB\n", b - a, r / 1024 }'
for m in get put; do
	f="$out/$m.txt"
	awk -v M="$(field method "$f")" -v n="$(field requests "$f")" -v s="$(field seconds "$f")" \
	    -v rps="$(field rps "$f")" -v c="$(field concurrency "$f")" -v ok="$(field ok "$f")" \
	    -v thr="$(field throttled "$f")" -v oth="$(field other "$f")" \
	    -v p50="$(field p50_ms "$f")" -v p99="$(field p99_ms "$f")" 'BEGIN {
		printf "%-4s %8.0f req/s  (%d requests in %.2f s, %d connections; 2xx %d, 429 %d, other %d; p50 %.2f ms, p99 %.2f ms)\n",
		    M, rps, n, s, c, ok, thr, oth, p50, p99 }'
done
awk -v g="$(field rps "$out/get.txt")" -v p="$(field rps "$out/put.txt")" \
    -v r="$rss_after" -v h="$hwm" 'BEGIN {
	printf "GET/s is %.0fx ARM'"'"'s read refill rate (25/s) and %.0fx its whole read bucket (250) each second\n", g / 25, g / 250;
	printf "PUT/s is %.0fx ARM'"'"'s write refill rate (10/s) and %.0fx its whole write bucket (200) each second\n", p / 10, p / 200;
	printf "emulator memory: resident %.1f MiB after the load, peak %.1f MiB (VmHWM, as ru_maxrss)\n", r / 1024, h / 1024 }'
