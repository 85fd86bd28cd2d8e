# Shared by the command-line tests: run the real binary, record output and
# exit code, and count assertions.  Each test script sources this file,
# asserts, and ends with `finish`, which prints "N passed, M failed".
: "${NETWAVE:?NETWAVE must name the netwave binary}"
: "${top_srcdir:?top_srcdir must be set}"
DATA="$top_srcdir/tests/data"
PASSED=0
FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/netwave-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

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

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
