#!/bin/sh
# netwave check against every file of the bad-input corpus (tests/data/bad):
# each must fail with exit code 2, print nothing on stdout, and say on stderr
# what tests/data/bad/EXPECTED says, naming the file.
set -eu
. "$top_srcdir/tests/cli/lib.sh"
BAD="$DATA/bad"
TAB=$(printf '\t')
n=0

while IFS="$TAB" read -r name want; do
	[ -n "$name" ] || continue
	n=$((n + 1))
	run "$NETWAVE" check "$BAD/$name"
	expect_rc "$name is rejected as bad input" 2
	expect_no_out "$name prints nothing on stdout"
	expect_err "$name: the message says what is wrong" "$want"
	expect_err "$name: the message names the file" "$name"
done <"$BAD/EXPECTED"

# every corpus file is listed, so none is silently left out
for f in "$BAD"/*; do
	name=${f##*/}
	[ "$name" != EXPECTED ] || continue
	if grep -q "^$name$TAB" "$BAD/EXPECTED"; then pass "$name is listed in EXPECTED"
	else fail "$name is listed in EXPECTED"; fi
done
if [ "$n" -ge 28 ]; then pass "the corpus has $n files"; else fail "the corpus has only $n files"; fi
finish
