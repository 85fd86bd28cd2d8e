# Shared by the bench scripts (sourced): median TOOL ARGS... runs
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
