#!/bin/sh
# netwave history record shows "recorded N of M resources" on stderr when
# stderr is a terminal (a large estate takes a while), and nothing when it
# is not; standard output, text or JSON, is the same either way.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

SUB=11111111-2222-3333-4444-555555555555
NET="/subscriptions/$SUB/resourceGroups/rg-net/providers/Microsoft.Network"

# estate FILE N: N spoke VNets
estate() {
	{
		echo '{"format": "netwave.topology/v1", "resources": ['
		i=1
		while [ "$i" -le "$2" ]; do
			[ "$i" -eq 1 ] || echo ','
			echo "{\"id\": \"$NET/virtualNetworks/spoke-$i\", \"name\": \"spoke-$i\","
			echo " \"type\": \"Microsoft.Network/virtualNetworks\", \"location\": \"eastus\","
			echo " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.$((i / 250)).$((i % 250)).0/24\"]}}}"
			i=$((i + 1))
		done
		echo ']}'
	} >"$1"
}
estate "$TMP/e.json" 230

# not a terminal: no progress at all
run "$NETWAVE" history record "$TMP/e.json" --history "$TMP/h1"
expect_rc "record to a file" 0
expect_out "the result on stdout" "230 files written"
if grep -q "recorded .* of .* resources" "$TMP/err"; then
	fail "no progress when stderr is not a terminal"
else
	pass "no progress when stderr is not a terminal"
fi

run "$NETWAVE" history record "$TMP/e.json" --history "$TMP/h2" --format json
expect_rc "record as JSON" 0
if grep -q "of 230 resources" "$TMP/out" "$TMP/err"; then
	fail "no progress in JSON output"
else
	pass "no progress in JSON output"
fi

# a terminal, through script(1) when the system has it
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
	run script -qec "\"$NETWAVE\" history record \"$TMP/e.json\" --history \"$TMP/h3\"" /dev/null
	expect_rc "record on a terminal" 0
	tr '\r' '\n' <"$TMP/out" >"$TMP/lines"
	for n in 100 200 230; do
		if grep -qx "recorded $n of 230 resources" "$TMP/lines"; then
			pass "progress line at $n on a terminal"
		else
			fail "progress line at $n on a terminal" "$(cat "$TMP/lines")"
		fi
	done
	if grep -qx "recorded 150 of 230 resources" "$TMP/lines"; then
		fail "progress every hundred resources, not each one"
	else
		pass "progress every hundred resources, not each one"
	fi
	expect_out "the result follows the progress" "230 files written"
else
	echo "# script(1) cannot make a terminal here: the terminal half is not run"
fi
finish
