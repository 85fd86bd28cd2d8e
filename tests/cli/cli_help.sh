#!/bin/sh
# What netwave says about itself comes from one command table: "help",
# "help help", "--help COMMAND" and "COMMAND --help" agree; the manual page
# (docs/netwave.1) and the bash and zsh completion (completion/) are what
# "netwave help --man" and "--completion" print now, so none of them can
# fall behind a new command or option; the page renders without warnings
# and lists every command, option, environment variable and exit code; the
# bash completion completes commands, options and format values.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

run "$NETWAVE" help help
expect_rc "help help succeeds" 0
expect_out "help help explains help" "usage: netwave help [COMMAND]"

run "$NETWAVE" --help plan
expect_rc "--help plan succeeds" 0
expect_out "--help plan prints plan's help" "usage: netwave plan --current"
cp "$TMP/out" "$TMP/help1"
run "$NETWAVE" plan --help
cp "$TMP/out" "$TMP/help2"
run "$NETWAVE" help plan
if cmp -s "$TMP/help1" "$TMP/help2" && cmp -s "$TMP/help1" "$TMP/out"; then
	pass "--help plan, plan --help and help plan say the same"
else
	fail "--help plan, plan --help and help plan say the same"
fi
expect_out "the format option is -o, --output" "-o, --output text|markdown|json"
expect_out "--format is named as the same option" "; --format is the same"
expect_out "the report file is --out" "--out FILE"

run "$NETWAVE" help plna
expect_rc "help for an unknown command is bad usage" 2
expect_err "it names the nearest command" "did you mean 'plan'?"
run "$NETWAVE" help --completion fish
expect_rc "an unknown shell is bad usage" 2
expect_err "the shells are named" "expected bash|zsh"

# --- the manual page ---------------------------------------------------------------------

run "$NETWAVE" help --man
expect_rc "help --man succeeds" 0
if cmp -s "$TMP/out" "$top_srcdir/docs/netwave.1"; then pass "docs/netwave.1 is what help --man prints";
else fail "docs/netwave.1 is what help --man prints" "regenerate: netwave help --man > docs/netwave.1"; fi
cp "$TMP/out" "$TMP/netwave.1"
for c in $("$NETWAVE" help | sed -n 's/^  \([a-z]*\)  .*/\1/p'); do
	if grep -q "^\.SS netwave $c\$" "$TMP/netwave.1"; then pass "the page has $c"; else fail "the page has $c"; fi
done
for v in $(grep -rhoE 'getenv\("[A-Z_]+"\)|env_get\(c, "[A-Z_]+"\)' "$top_srcdir/cmd" "$top_srcdir/state" \
    "$top_srcdir/providers" "$top_srcdir/plan" | sed 's/.*"\([A-Z_]*\)".*/\1/' | sort -u); do
	if grep -qx ".B $v" "$TMP/netwave.1"; then
		pass "ENVIRONMENT lists $v"
	else
		fail "ENVIRONMENT lists $v"
	fi
done
for code in 0 1 2 3 4 5 6; do
	if sed -n '/^\.SH EXIT STATUS/,/^\.SH ENVIRONMENT/p' "$TMP/netwave.1" | grep -qx ".B $code"; then
		pass "EXIT STATUS lists $code"
	else
		fail "EXIT STATUS lists $code"
	fi
done
if grep -q 'synth \\-\\-hubs' "$TMP/netwave.1" && grep -q '^\\-\\-spokes\\-per\\-hub' "$TMP/netwave.1" ||
    grep -q '\\-\\-spokes\\-per\\-hub \\fIS' "$TMP/netwave.1"; then
	pass "the page lists each command's options"
else
	fail "the page lists each command's options"
fi
if command -v groff >/dev/null 2>&1; then
	groff -man -Tutf8 -ww -z "$TMP/netwave.1" >"$TMP/groff.err" 2>&1 || true
	if [ ! -s "$TMP/groff.err" ]; then pass "the page renders without warnings";
	else fail "the page renders without warnings" "$(head -n 5 "$TMP/groff.err")"; fi
	groff -man -Tutf8 "$TMP/netwave.1" 2>/dev/null | sed 's/.\x08//g' >"$TMP/man.txt"
	if grep -q "EXIT STATUS" "$TMP/man.txt" && grep -q "AZURE_CLIENT_SECRET" "$TMP/man.txt"; then
		pass "the rendered page has its sections"
	else
		fail "the rendered page has its sections"
	fi
else
	echo "# groff not installed: rendering not checked"
fi

# --- completion ------------------------------------------------------------------------

for sh in bash zsh; do
	f=$top_srcdir/completion/netwave.$sh
	[ "$sh" = zsh ] && f=$top_srcdir/completion/_netwave
	run "$NETWAVE" help --completion $sh
	expect_rc "help --completion $sh succeeds" 0
	if cmp -s "$TMP/out" "$f"; then pass "$f is what help --completion $sh prints";
	else fail "$f is what help --completion $sh prints" "regenerate it"; fi
done

if command -v bash >/dev/null 2>&1; then
	# complete WORDS...: what bash completes for the last word
	complete_words() {
		bash -c '
			complete() { :; }
			. "$1"; shift
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			_netwave
			printf "%s\n" "${COMPREPLY[@]}"' sh "$top_srcdir/completion/netwave.bash" "$@"
	}
	if complete_words netwave pl | grep -qx plan && complete_words netwave pl | grep -qx plans; then
		pass "bash completes command names"
	else
		fail "bash completes command names" "$(complete_words netwave pl)"
	fi
	if complete_words netwave plan --cu | grep -qx -- --current; then pass "bash completes a command's options";
	else fail "bash completes a command's options" "$(complete_words netwave plan --cu)"; fi
	if [ "$(complete_words netwave plan -o '' | sort | tr '\n' ' ')" = "json markdown text " ]; then
		pass "bash completes -o with the command's formats"
	else
		fail "bash completes -o with the command's formats" "$(complete_words netwave plan -o '')"
	fi
	if [ "$(complete_words netwave check --format '' | sort | tr '\n' ' ')" = "dot json text " ]; then
		pass "bash completes --format too"
	else
		fail "bash completes --format too" "$(complete_words netwave check --format '')"
	fi
	if complete_words netwave help sy | grep -qx synth; then pass "bash completes help's command";
	else fail "bash completes help's command"; fi
fi
if command -v zsh >/dev/null 2>&1; then
	if zsh -n "$top_srcdir/completion/_netwave" 2>"$TMP/zsh.err"; then pass "the zsh completion parses";
	else fail "the zsh completion parses" "$(cat "$TMP/zsh.err")"; fi
else
	echo "# zsh not installed: the zsh completion is only compared"
fi

finish
