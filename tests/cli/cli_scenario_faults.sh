#!/bin/sh
# The seed's migration through crashes and faults, on a small estate that
# still has a wave of every kind (feature registration and a new resource
# group in a second subscription, HSPE, mesh, an ExpressRoute and a VPN
# gateway migration and its commit, summaries, decommission):
#   - for the first wave of each kind, netwave stops dead after its 1st,
#     2nd, ... journal write (NETWAVE_TEST_CRASH_AFTER, as kill -9 there
#     would), then the same command resumes it;
#   - reset-after, a lost operation (status-404) and lro-failed on each
#     POST action (feature register, commit, prepareMigration,
#     executeMigration, commitMigration);
#   - the emulator killed and restarted (--state) while an operation runs;
#   - a storm of 429s.
# Each trial starts from a snapshot of the emulator and the plan store taken
# before the wave, and asserts from the emulator's request log and state:
# the wave ends as a clean run ends it (canonically), no write was accepted
# twice for one resource and action, and the exit codes docs/apply.md
# documents.  Every loop is bounded.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

test_client 00000000-0000-4000-8000-0000000c1100 netwave-cli-tests "canary-cli-5ecret-0044"
unset NETWAVE_TEST_CRASH_AFTER 2>/dev/null || true

SCALE=1000000
MAX_CRASHES=60
# No run may wait longer than this: a step that waits for a state that never
# comes (the emulator scales its clock, netwave's step timeout is real time)
# is killed, and the trial fails with exit 137.
APPLY_TIMEOUT=180   # journal writes of the largest wave crashed here, with room to spare
DB="$TMP/netwave.db"
EDB="$TMP/emu.db"

# start_emulator [SCALE [LISTEN]]: the emulator (lib.sh); BASE is empty when it did not start
start_emulator() {
	emulator_start --seed "$TMP/estate.json" --state "$EDB" --time-scale "${1:-$SCALE}" --seed-rng 13 \
	    ${2:+--listen "$2"} || true
}

# snapshot NAME / restore NAME: the emulator's state and the plan store (emulator stopped)
snapshot() {
	mkdir -p "$TMP/snap-$1"
	for f in "$EDB" "$DB"; do
		for x in "" -wal -shm; do
			rm -f "$TMP/snap-$1/$(basename "$f")$x"
			[ ! -f "$f$x" ] || cp "$f$x" "$TMP/snap-$1/"
		done
	done
}
restore() {
	for f in "$EDB" "$DB"; do
		for x in "" -wal -shm; do
			rm -f "$f$x"
			[ ! -f "$TMP/snap-$1/$(basename "$f")$x" ] || cp "$TMP/snap-$1/$(basename "$f")$x" "$f$x"
		done
	done
}

faults() {
	curl -sS -m 10 -X PUT -H 'Content-Type: application/json' -d "$1" "$BASE/__netwave/faults" \
	    >/dev/null
}

# requests: the request log, one "METHOD PATH STATUS RESET" line per request, after
# the lines of $REQ_EXTRA (a log saved before the emulator was restarted) if set
REQ_EXTRA=""
requests() {
	[ -z "$REQ_EXTRA" ] || cat "$REQ_EXTRA"
	curl -sS -m 30 "$BASE/__netwave/requests" | tr '}' '\n' | grep '"seq"' | sed \
	    -e 's/.*"method":"\([A-Z]*\)".*"path":"\([^"]*\)".*"status":\([0-9]*\).*/\1 \2 \3/' \
	    -e 's/$/ -/' || true
	curl -sS -m 30 "$BASE/__netwave/requests" | tr '}' '\n' | grep '"reset":true' | sed \
	    -e 's/.*"method":"\([A-Z]*\)".*"path":"\([^"]*\)".*/\1 \2 0 reset/' || true
}

# A write: PUT, PATCH, DELETE, or a POST action that changes something.
WRITE_RE=' (PUT|PATCH|DELETE) | POST .*/(commit|prepareMigration|executeMigration|commitMigration|abortMigration|register|unregister) '

# accepted_twice: writes the emulator accepted (2xx, or carried out before a
# reset) more than once for the same method and path, as "COUNT METHOD PATH"
# A provider re-registration of a provider already Registered moves no state, so a resume
# cannot tell whether it arrived and sends it again (docs/apply.md, "settled by reading"):
# the one write allowed twice.
accepted_twice() {
	requests | awk '$3 ~ /^2[0-9][0-9]$/ || $4 == "reset" { print " " $1 " " $2 " " }' |
	    grep -E "$WRITE_RE" | grep -vE ' POST /subscriptions/[^/]+/providers/Microsoft\.Network/register ' |
	    sort | uniq -c | awk '$1 > 1 { print $1, $2, $3 }' || true
}

# state_file FILE: the emulator's estate as a topology document
state_file() {
	curl -sS -m 30 "$BASE/__netwave/state" >"$1"
}

# same_as_ref WAVE: the estate now equals the clean run's, canonically
same_as_ref() {
	rm -rf "$TMP/cmp"
	cp -r "$TMP/ref-$1" "$TMP/cmp"
	state_file "$TMP/now.json"
	"$NETWAVE" history record "$TMP/now.json" -m now --history "$TMP/cmp" 2>&1 |
	    grep -q "^no change:"
}

# wave_status WAVE: its status in the plan store
wave_status() {
	"$NETWAVE" status "$PLAN" --db "$DB" --format json 2>/dev/null | awk -v w="$1" '
	/^      "name": / { n = $2; gsub(/[",]/, "", n) }
	/^      "status": / { s = $2; gsub(/[",]/, "", s) }
	/^    }/ { if (n == w) print s }'
}

# resume WAVE [TRIES]: apply the wave again until it exits 0 (at most TRIES, default 3)
resume() {
	try=0
	RC=1
	while [ $try -lt "${2:-3}" ] && [ "$RC" -ne 0 ]; do
		run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --wave "$1" --yes --no-history $P
		try=$((try + 1))
	done
}

# verdict NAME WAVE [ACTION]: the trial's wave is done, equals the clean run, and nothing
# was accepted twice; ACTION, whose operation failed in flight, may be accepted twice
# on one resource (the failed send and the one that worked), never three times
verdict() {
	st=$(wave_status "$2")
	if [ -n "${3:-}" ]; then
		dups=$(accepted_twice | awk -v a="/$3" '!(substr($3, length($3) - length(a) + 1) == a && $1 == 2)')
	else
		dups=$(accepted_twice)
	fi
	if [ "$RC" -eq 0 ] && [ "$st" = done ] && same_as_ref "$2"; then
		pass "$1: the wave reaches the target"
	else
		fail "$1: the wave reaches the target" "last exit $RC, wave $st; $(tail -n 2 "$TMP/err" | tr '\n' ' ')"
	fi
	if [ -z "$dups" ]; then pass "$1: no write accepted twice"; else
		fail "$1: no write accepted twice" "$(echo "$dups" | head -n 5 | tr '\n' ';')"; fi
}

# --- the estate, the plan, and a clean run wave by wave --------------------------
"$NETWAVE" synth --hubs 1 --spokes-per-hub 3 --pe-per-spoke 1 --subscriptions 2 \
    --spoke-peerings 1 --gateway-udr-spokes 2 --vpn-gateways --seed 5 -o "$TMP/estate.json" 2>/dev/null
S1=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)",\{0,1\}$/\1/p' "$TMP/estate.json" | sed -n 1p)
S2=$(sed -n 's/^    "\([0-9a-f-]\{36\}\)",\{0,1\}$/\1/p' "$TMP/estate.json" | sed -n 2p)
start_emulator
if [ -n "$BASE" ]; then pass "the emulator listens"; else fail "the emulator listens"; fi
run "$NETWAVE" discover --subscription "$S1" --subscription "$S2" $P -o "$TMP/current.json"
expect_rc "discover" 0
cat >"$TMP/intent.json" <<EOF
{ "format": "netwave.intent/v1",
  "changes": [
    { "kind": "avnm-mesh",
      "networkManager": {
        "id": "/subscriptions/$S2/resourceGroups/rg-avnm-faults/providers/Microsoft.Network/networkManagers/nm-faults",
        "scope": { "subscriptions": ["/subscriptions/$S1", "/subscriptions/$S2"] } },
      "networkGroup": "mesh-spokes", "members": { "tags": { "role": "spoke" } },
      "highScalePrivateEndpoints": true },
    { "kind": "gateway-standard-ip", "gateways": { "all": true } },
    { "kind": "summarize-gateway-prefixes", "hubs": { "tags": { "role": "hub" } } } ],
  "rollout": { "soak": { "beforeDecommission": "14d", "betweenWaves": "0s" } } }
EOF
run "$NETWAVE" plan --current "$TMP/current.json" --intent "$TMP/intent.json" --db "$DB" \
    --format json -o "$TMP/plan.json"
expect_rc "plan" 0
PLAN=$(sed -n 's/^  "id": "\(pl-[0-9a-f]*\)",$/\1/p' "$TMP/plan.json")
WAVES=$(sed -n '/^  "waves": \[/,/^  \]/p' "$TMP/plan.json" | sed -n 's/^      "name": "\(.*\)",$/\1/p')
KINDS=$(sed -n '/^  "waves": \[/,/^  \]/p' "$TMP/plan.json" | sed -n 's/^      "kind": "\(.*\)",$/\1/p')
echo "# waves: $(echo $WAVES)"
echo "# kinds: $(echo $KINDS)"
emulator_stop

# The clean run: before each wave a snapshot, after it the reference estate.
FIRST_OF_KIND=""
CLEAN_OK=" "
seen=" "
wi=1
for w in $WAVES; do
	k=$(echo "$KINDS" | sed -n "${wi}p")
	wi=$((wi + 1))
	snapshot "$w"
	start_emulator
	run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --wave "$w" --yes --no-history $P
	expect_rc "a clean run of wave $w ($k)" 0
	[ "$RC" -ne 0 ] || CLEAN_OK="$CLEAN_OK $w "
	state_file "$TMP/ref.json"
	"$NETWAVE" history record "$TMP/ref.json" -m "after $w" --history "$TMP/ref-$w" >/dev/null 2>&1
	emulator_stop
	case "$seen" in
	*" $k "*) ;;
	*) seen="$seen$k "; FIRST_OF_KIND="$FIRST_OF_KIND $w" ;;
	esac
done
for k in prepare hspe mesh gateway gateway-commit summarize decommission; do
	case "$seen" in
	*" $k "*) pass "the plan has a $k wave" ;;
	*) fail "the plan has a $k wave" "kinds: $(echo $KINDS)" ;;
	esac
done
# clean WAVE: its clean run passed, so trials on it can be judged (else one failure)
clean() {
	case "$CLEAN_OK" in
	*" $1 "*) return 0 ;;
	esac
	fail "trials on wave $1" "skipped: the clean run of wave $1 failed, see above"
	return 1
}
wave_of_kind() {
	j=1
	for w in $WAVES; do
		if [ "$(echo "$KINDS" | sed -n "${j}p")" = "$1" ]; then echo "$w"; return 0; fi
		j=$((j + 1))
	done
}

# --- a crash after every journal write in turn -------------------------------------
for w in $FIRST_OF_KIND; do
	clean "$w" || continue
	n=1
	CRASHES=0
	BAD=""
	while [ $n -le $MAX_CRASHES ]; do
		restore "$w"
		start_emulator
		set +e
		NETWAVE_TEST_CRASH_AFTER=$n timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --wave "$w" --yes \
		    --no-history $P >"$TMP/crash.out" 2>"$TMP/crash.err"
		CRC=$?
		set -e
		if [ "$CRC" -eq 0 ]; then
			emulator_stop
			break   # the wave ends before its n-th journal write: every point is covered
		fi
		CRASHES=$((CRASHES + 1))
		[ "$CRC" -eq 5 ] || BAD="$BAD write $n: the crashed run exited $CRC ($(tail -n 1 "$TMP/crash.err"));"
		resume "$w" 2
		st=$(wave_status "$w")
		dups=$(accepted_twice)
		if [ "$RC" -ne 0 ] || [ "$st" != done ]; then
			BAD="$BAD write $n: the resume exited $RC, wave $st ($(tail -n 1 "$TMP/err"));"
		elif ! same_as_ref "$w"; then
			BAD="$BAD write $n: the estate differs from the clean run;"
		fi
		[ -z "$dups" ] || BAD="$BAD write $n: accepted twice: $(echo "$dups" | head -n 2 | tr '\n' ' ');"
		emulator_stop
		n=$((n + 1))
		# five broken trials say enough; the rest would only cost time
		[ "$(echo "$BAD" | tr ';' '\n' | grep -c write || true)" -lt 5 ] || break
	done
	if [ $n -gt $MAX_CRASHES ]; then
		BAD="$BAD more than $MAX_CRASHES journal writes: not every point was crashed;"; fi
	if [ -z "$BAD" ] && [ "$CRASHES" -gt 0 ]; then
		pass "wave $w: crashed after each of its $CRASHES journal writes, each resume reaches the target, nothing accepted twice"
	else
		fail "wave $w: crashed after each journal write, each resume reaches the target" \
		    "$CRASHES crashes;$(echo "$BAD" | head -c 1500)"
	fi
done

# --- faults on each POST action -----------------------------------------------------
# ACTION PATH-GLOB WAVE-KIND
POSTS="register */providers/Microsoft.Features/*/register prepare
commit */networkManagers/*/commit mesh
prepareMigration */virtualNetworkGateways/*/prepareMigration gateway
executeMigration */virtualNetworkGateways/*/executeMigration gateway
commitMigration */virtualNetworkGateways/*/commitMigration gateway-commit"
echo "$POSTS" >"$TMP/posts"
while read -r action glob kind; do
	w=$(wave_of_kind "$kind")
	if [ -z "$w" ]; then
		fail "a $kind wave for the $action faults"
		continue
	fi
	clean "$w" || continue
	for fault in reset-after status-404 lro-failed; do
		# Features - Register answers 200 with the feature's state and starts no
		# operation that could fail (learn.microsoft.com/rest/api/resources/features/register);
		# a registration that never completes stays Registering, which the step's timeout covers
		if [ "$action" = register ] && [ "$fault" = lro-failed ]; then continue; fi
		restore "$w"
		start_emulator
		faults "{\"format\": \"netwave.faults/v1\", \"rules\": [{\"method\": \"POST\", \"path\": \"$glob\", \"times\": 1, \"action\": \"$fault\"}]}"
		fired=$(curl -sS -m 10 "$BASE/__netwave/faults" | grep -o '"fired": *[0-9]*' | grep -o '[0-9]*$' || true)
		run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --wave "$w" --yes --no-history $P
		FIRST=$RC
		fired=$(curl -sS -m 10 "$BASE/__netwave/faults" | grep -o '"fired": *[0-9]*' | grep -o '[0-9]*$' || true)
		if [ "${fired:-0}" -lt 1 ]; then
			fail "$fault on $action in wave $w fires" "the rule never fired"
			emulator_stop
			continue
		fi
		case $fault in
		lro-failed)
			# the operation failed in Azure: the step fails (exit 1), and a
			# second run sends it once more, settled, and finishes
			if [ "$FIRST" -eq 1 ]; then pass "lro-failed on $action: the step fails with exit 1"; else
				fail "lro-failed on $action: the step fails with exit 1"; fi
			resume "$w" 2
			st=$(wave_status "$w")
			# per resource: the failed send and the one that worked
			sends=$(requests | awk '$3 ~ /^2[0-9][0-9]$/ { print $1 " " $2 }' | grep "/$action\$" |
			    sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
			sends=${sends:-0}
			if [ "$RC" -eq 0 ] && [ "$st" = done ] && same_as_ref "$w"; then
				pass "lro-failed on $action: the next run reaches the target"; else
				fail "lro-failed on $action: the next run reaches the target" "exit $RC, wave $st"; fi
			dups=$(accepted_twice | grep -v "/$action\$" || true)
			if [ "$sends" -le 2 ]; then pass "lro-failed on $action: sent again once at most"; else
				fail "lro-failed on $action: sent again once at most" "$sends accepted sends"; fi
			if [ -z "$dups" ]; then pass "lro-failed on $action: no other write accepted twice"; else
				fail "lro-failed on $action: no other write accepted twice" "$(echo "$dups" | head -n 3 | tr '\n' ';')"; fi
			;;
		*)
			# the action reached ARM: it is settled by reading, never sent blindly again
			if [ "$FIRST" -eq 0 ]; then pass "$fault on $action: the run settles it and exits 0"; else
				fail "$fault on $action: the run settles it and exits 0" "$(tail -n 1 "$TMP/err")"; fi
			[ "$FIRST" -eq 0 ] || resume "$w" 2
			verdict "$fault on $action" "$w"
			;;
		esac
		emulator_stop
	done
done <"$TMP/posts"

# --- the emulator killed and restarted while an operation runs ------------------------
w=$(wave_of_kind gateway)
if [ -n "$w" ] && clean "$w"; then
restore "$w"
# slow enough that prepareMigration is still running when the emulator dies
start_emulator 2000
LISTEN=${BASE#http://}
timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --wave "$w" --yes --no-history $P \
    >"$TMP/bg.out" 2>"$TMP/bg.err" &
BG=$!
i=0
while [ $i -lt 300 ]; do
	requests >"$TMP/before-restart"
	! grep -qE '^POST .*/prepareMigration 2[0-9][0-9]' "$TMP/before-restart" || break
	sleep 0.1
	i=$((i + 1))
done
emulator_stop -9
if [ $i -lt 300 ]; then pass "the emulator was killed with prepareMigration accepted"; else
	fail "the emulator was killed with prepareMigration accepted"; fi
sleep 1
start_emulator 2000 "$LISTEN"
i=0
while kill -0 "$BG" 2>/dev/null && [ $i -lt 2000 ]; do  # timeout ends it first
	sleep 0.1
	i=$((i + 1))
done
kill -9 "$BG" 2>/dev/null || true
set +e
wait "$BG"
BGRC=$?
set -e
BG=""
case $BGRC in
0 | 1 | 5) pass "the run that lost the emulator exits with a documented code ($BGRC)" ;;
*) fail "the run that lost the emulator exits with a documented code" "exit $BGRC: $(tail -n 2 "$TMP/bg.err")" ;;
esac
RC=$BGRC
[ "$RC" -eq 0 ] || resume "$w" 3
# the log restarts with the emulator: judge the log from before the kill and after the restart
REQ_EXTRA="$TMP/before-restart"
# an operation in flight when ARM went down ends Failed (docs/emulator.md), so the
# prepareMigration it was may be sent once more, settled first
verdict "an emulator restart during prepareMigration" "$w" prepareMigration
REQ_EXTRA=""
emulator_stop
fi

# --- 429 storms ---------------------------------------------------------------------
for kind in hspe mesh decommission; do
	w=$(wave_of_kind "$kind")
	[ -n "$w" ] || continue
	clean "$w" || continue
	restore "$w"
	start_emulator
	faults '{"format": "netwave.faults/v1", "rules": [{"probability": 0.3, "times": 40, "action": "error", "status": 429, "retryAfter": 0}]}'
	run timeout -s KILL "$APPLY_TIMEOUT" "$NETWAVE" apply "$PLAN" --db "$DB" --wave "$w" --yes --no-history $P
	n429=$(requests | awk '$3 == 429' | wc -l | tr -d ' ')
	if [ "$n429" -gt 0 ]; then pass "a 429 storm on wave $w answered $n429 requests 429"; else
		fail "a 429 storm on wave $w answered requests 429"; fi
	expect_rc "the storm on wave $w is ridden out" 0
	verdict "a 429 storm on $w" "$w"
	emulator_stop
done

finish
