#!/bin/sh
# Runs every fuzz target (built by `make fuzz`) for a bounded time on a copy
# of its committed corpus and its regression inputs; fails when any target
# finds a crash, a leak, a timeout or a broken invariant.  `make fuzz-run`
# calls it; CI runs it with a short FUZZ_TIME.  See docs/testing.md.
#
#   FUZZ_BIN      where the fuzz_<target> programs are   (default tests/fuzz)
#   FUZZ_SRC      tests/fuzz of the source tree          (default: this script's directory)
#   FUZZ_WORK     scratch: new inputs and crash files    (default $FUZZ_BIN/work)
#   FUZZ_TIME     seconds per target                     (default 20)
#   FUZZ_SEED     libFuzzer's random seed                (default 1: the same run each time)
#   FUZZ_TARGETS  which targets                          (default all)
set -u

src=${FUZZ_SRC:-$(dirname "$0")}
bin=${FUZZ_BIN:-tests/fuzz}
work=${FUZZ_WORK:-$bin/work}
time=${FUZZ_TIME:-20}
seed=${FUZZ_SEED:-1}
targets=${FUZZ_TARGETS:-"cidr topology intent arm_error arm_lro arm_pages"}

dict_of() {
	case $1 in
	cidr) echo "$src/dict/cidr.dict" ;;
	topology | intent) echo "$src/dict/json.dict" ;;
	*) echo "$src/dict/arm.dict" ;;
	esac
}

failed=""
for t in $targets; do
	prog=$bin/fuzz_$t
	if [ ! -x "$prog" ]; then
		echo "fuzz: $prog is missing; run make fuzz first" >&2
		exit 2
	fi
	rm -rf "${work:?}/$t"
	mkdir -p "$work/$t/new" "$work/$t/artifacts"
	dirs="$work/$t/new $src/corpus/$t"
	[ -d "$src/regress/$t" ] && dirs="$dirs $src/regress/$t"
	# One process, a fixed seed, bounded in time, memory and per-input time.
	# shellcheck disable=SC2086
	"$prog" -seed="$seed" -max_total_time="$time" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -dict="$(dict_of "$t")" -print_final_stats=1 \
		-artifact_prefix="$work/$t/artifacts/" $dirs >"$work/$t/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log")
	last=$(grep -E '^#[0-9]+' "$work/$t/log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t/log")
	if [ "$rc" -eq 0 ]; then
		echo "fuzz: $t: ok, ${runs:-?} runs in ${time}s (${speed:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
	else
		echo "fuzz: $t: FAILED (exit $rc) after ${runs:-?} runs; the log is $work/$t/log"
		grep -aE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|invariant broken|SUMMARY' \
			"$work/$t/log" | head -n 5
		for a in "$work/$t/artifacts/"*; do
			[ -f "$a" ] || continue
			echo "  input: $a"
			echo "  keep it once fixed: cp $a $src/regress/$t/<what-it-was>"
		done
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed" >&2
	exit 1
fi
