#!/bin/sh
# Keeps README.md true: every "$ netwave ..." line in its console blocks is
# run in a scratch directory and must print exactly what the README shows
# (standard output, then standard error).
set -eu
. "$top_srcdir/tests/cli/lib.sh"

awk '
	/^```console$/ { inblock = 1; next }
	/^```$/ { if (inblock) { print "@@END"; inblock = 0 }; next }
	inblock && /^\$ netwave / { print "@@CMD " substr($0, 3); next }
	inblock { print }
' "$top_srcdir/README.md" >"$TMP/blocks"

mkdir -p "$TMP/work"
n=0
cmd=""
: >"$TMP/expected"
while IFS= read -r line; do
	case "$line" in
	"@@CMD "* | "@@END")
		if [ -n "$cmd" ]; then
			n=$((n + 1))
			# shellcheck disable=SC2086
			set -- ${cmd#netwave }
			(cd "$TMP/work" && "$NETWAVE" "$@" >"$TMP/got.out" 2>"$TMP/got.err") || true
			cat "$TMP/got.out" "$TMP/got.err" >"$TMP/got"
			if cmp -s "$TMP/got" "$TMP/expected"; then
				pass "README example $n: $cmd"
			else
				RC=0
				fail "README example $n: $cmd" "output differs from README.md:"
				diff "$TMP/expected" "$TMP/got" | head -n 20 | sed 's/^/#   /'
			fi
		fi
		cmd=""
		: >"$TMP/expected"
		case "$line" in "@@CMD "*) cmd=${line#@@CMD } ;; esac
		;;
	*)
		printf '%s\n' "$line" >>"$TMP/expected"
		;;
	esac
done <"$TMP/blocks"

[ "$n" -gt 0 ] && pass "README has examples to check" || fail "README has examples to check"
finish
