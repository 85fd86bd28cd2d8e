#!/bin/sh
# The command-line frame: help, version, nearest-match suggestions and the
# exit code for bad usage.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

run "$NETWAVE" --version
expect_rc "--version succeeds" 0
expect_line "--version prints the version" '^netwave [0-9]+\.[0-9]+\.[0-9]+$'

run "$NETWAVE" help
expect_rc "help succeeds" 0
for c in check routes path synth; do
	expect_line "help lists $c" "^  $c "
done

run "$NETWAVE" help check
expect_rc "help CMD succeeds" 0
expect_out "help CMD shows usage" "usage: netwave check TOPOLOGY"
expect_out "help CMD lists options" "--format"

run "$NETWAVE" routes --help
expect_rc "CMD --help succeeds" 0
expect_out "CMD --help shows usage" "usage: netwave routes TOPOLOGY [WHERE] [--vnet"

run "$NETWAVE"
expect_rc "no command is bad usage" 2
expect_err "no command says so" "no command given"

run "$NETWAVE" chekc
expect_rc "unknown command is bad usage" 2
expect_err "unknown command names the nearest" "unknown command 'chekc'; did you mean 'check'?"
expect_no_out "unknown command prints nothing on stdout"

run "$NETWAVE" synth --hubz 2
expect_rc "unknown option is bad usage" 2
expect_err "unknown option names the nearest" "did you mean '--hubs'?"

run "$NETWAVE" check --format yaml "$DATA/topo/doc-example.json"
expect_rc "unknown format is bad usage" 2
expect_err "unknown format lists the allowed ones" "unknown format 'yaml' (expected text|json|dot)"

run "$NETWAVE" check
expect_rc "a missing argument is bad usage" 2
expect_err "a missing argument shows usage" "usage: netwave check TOPOLOGY"

run "$NETWAVE" check a.json b.json
expect_rc "an extra argument is bad usage" 2
expect_err "an extra argument is named" "unexpected argument 'b.json'"

run "$NETWAVE" check "$TMP/does-not-exist.json"
expect_rc "a missing file is bad input" 2
expect_err "a missing file is named" "does-not-exist.json"

run "$NETWAVE" --verison
expect_rc "unknown global option is bad usage" 2
expect_err "unknown global option names the nearest" "did you mean '--version'?"

# --out naming a pipe or a device (/dev/null) writes into it; a temporary file
# renamed over it would replace it (as root, /dev/null itself)
mkfifo "$TMP/pipe"
cat "$TMP/pipe" >"$TMP/from-pipe" &
reader=$!
run "$NETWAVE" synth --hubs 1 --spokes-per-hub 1 --out "$TMP/pipe"
# bounded: if the pipe was replaced, nothing ever writes into it
(sleep 5; kill "$reader" 2>/dev/null) &
killer=$!
wait "$reader" || true
kill "$killer" 2>/dev/null || true
expect_rc "synth can write into a pipe" 0
if [ -p "$TMP/pipe" ]; then pass "the pipe is still a pipe"; else fail "the pipe is still a pipe"; fi
if grep -q '"format": "netwave.topology/v1"' "$TMP/from-pipe"; then pass "the reader got the topology";
else fail "the reader got the topology"; fi

finish
