#!/bin/sh
# netwave history: record snapshots a topology file into a git history
# (one canonical file per resource, commit only on change, secrets
# redacted), and log, show and diff read it back; bad subcommands,
# missing histories and held locks fail with the right exit code and a
# message naming the thing.
set -eu
. "$top_srcdir/tests/cli/lib.sh"

# history_file ID: the file the history keeps the resource ID in (docs/history.md:
# <subscription>/<resourceGroup>/<namespace>/<type>/<name>.json).
history_file() {
	printf '%s.json\n' "$1" | sed 's|^/subscriptions/||; s|/resourceGroups/|/|; s|/providers/|/|'
}

SUB=11111111-2222-3333-4444-555555555555
NET="/subscriptions/$SUB/resourceGroups/rg-net/providers/Microsoft.Network"
H="$TMP/history"
SPOKE_PATH=$(history_file "$NET/virtualNetworks/spoke-1")
HUB_PATH=$(history_file "$NET/virtualNetworks/hub")
CONN_PATH=$(history_file "$NET/connections/vpn-1")
SECRET="n0t-for-git-7f3a9"

# topology FILE SPOKE_PREFIX WITH_HUB: a small estate; the spoke's prefix varies
topology() {
	hub=""
	if [ "$3" = yes ]; then
		hub="{\"id\": \"$NET/virtualNetworks/hub\", \"name\": \"hub\", \"type\": \"Microsoft.Network/virtualNetworks\",
		  \"location\": \"eastus\", \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/24\"]}}},"
	fi
	cat >"$1" <<EOF
{"format": "netwave.topology/v1", "resources": [
  $hub
  {"id": "$NET/virtualNetworks/spoke-1", "name": "spoke-1", "type": "Microsoft.Network/virtualNetworks",
   "location": "eastus", "etag": "W/\"$2\"",
   "properties": {"provisioningState": "Succeeded", "resourceGuid": "guid-$2",
     "addressSpace": {"addressPrefixes": ["$2"]}}},
  {"id": "$NET/connections/vpn-1", "name": "vpn-1", "type": "Microsoft.Network/connections",
   "location": "eastus", "properties": {"connectionType": "IPsec", "sharedKey": "$SECRET"}}
]}
EOF
}

topology "$TMP/t1.json" 10.1.0.0/24 yes
topology "$TMP/t1-etag.json" 10.1.0.0/24 yes
sed -i 's/W\/\\"10.1.0.0\/24\\"/W\/\\"changed\\"/' "$TMP/t1-etag.json"
topology "$TMP/t2.json" 10.1.0.0/23 no
export SOURCE_DATE_EPOCH=1795291200

run "$NETWAVE" history record "$TMP/t1.json" --history "$H" -m "baseline from another tool" --operator alice
expect_rc "record into a new history" 0
expect_out "record names the commit" "recorded "
expect_out "record counts the files" "3 files written, 0 deleted"
expect_err "record warns about the redacted key" "1 secret-looking value replaced"
if [ -f "$H/$SPOKE_PATH" ]; then pass "the file sits at its id's path"; else fail "the file sits at its id's path"; fi
if grep -qF '"addressPrefixes": [' "$H/$SPOKE_PATH" && ! grep -qE 'etag|provisioningState|resourceGuid' "$H/$SPOKE_PATH"; then
	pass "the file is canonical without volatile fields"
else
	fail "the file is canonical without volatile fields" "$(cat "$H/$SPOKE_PATH")"
fi
if grep -qF '"sharedKey": "<redacted>"' "$H/$CONN_PATH" && ! grep -rqF "$SECRET" "$H"; then
	pass "the shared key is redacted"
else
	fail "the shared key is redacted"
fi

run "$NETWAVE" history record "$TMP/t1-etag.json" --history "$H" --operator alice
expect_rc "recording only a new etag succeeds" 0
expect_out "recording only a new etag makes no commit" "no change: history '$H' stays at"

SOURCE_DATE_EPOCH=1795291260 run "$NETWAVE" history record "$TMP/t2.json" --history "$H" --operator bob --tag snap/2
expect_rc "record a changed estate" 0
expect_out "the changed estate writes one and deletes one" "1 file written, 1 deleted"

run "$NETWAVE" history log --history "$H"
expect_rc "log" 0
expect_line "log shows the newest commit first with its tag" "^[0-9a-f]{7,}  2026-11-21T20:01:00Z  record .*t2.json: 2 resources  \(tag: snap/2\)$"
expect_line "log shows the first commit's subject" "^[0-9a-f]{7,}  2026-11-21T20:00:00Z  baseline from another tool$"
expect_out "log shows the operator trailer" "    Operator: alice"
if [ "$(grep -c '^[0-9a-f]\{7,\}  ' "$TMP/out")" -eq 2 ]; then pass "log has two commits"; else fail "log has two commits"; fi

run "$NETWAVE" history log --history "$H" --format json --max 1
expect_rc "log as json" 0
expect_out "json log names its format" '"format": "netwave.history-log/v1"'
expect_out "json log carries the trailers" '"Operator": "bob"'
expect_out "json log carries the tags" '"snap/2"'
if [ "$(grep -c '"shortId"' "$TMP/out")" -eq 1 ]; then pass "--max 1 gives one commit"; else fail "--max 1 gives one commit"; fi

run "$NETWAVE" history show HEAD --history "$H"
expect_rc "show a commit" 0
expect_out "show counts the files" "2 files changed: 0 added, 1 modified, 1 deleted"
expect_out "show lists the deleted hub" "  deleted   $HUB_PATH"
expect_out "show has a unified diff" "-        \"10.1.0.0/24\""
expect_out "show has the new line" "+        \"10.1.0.0/23\""
expect_out "show has the trailers" "    Operator: bob"

run "$NETWAVE" history show HEAD~1 --history "$H" --resource "$NET/virtualNetworks/spoke-1"
expect_rc "show a resource at a revision" 0
expect_out "the resource's file at the first commit" '"10.1.0.0/24"'

run "$NETWAVE" history show "snap/2:$SPOKE_PATH" --history "$H" --format json
expect_rc "show REV:PATH as json" 0
expect_out "the file's id is named" "\"id\": \"$NET/virtualNetworks/spoke-1\""

run "$NETWAVE" history diff HEAD~1 HEAD --history "$H"
expect_rc "diff two revisions" 0
expect_out "diff has git's header" "diff --git a/$SPOKE_PATH b/$SPOKE_PATH"
expect_out "diff shows the deleted file" "deleted file mode 100644"

run "$NETWAVE" history diff HEAD HEAD --history "$H"
expect_rc "diff of a revision with itself" 0
expect_no_out "diff of a revision with itself is empty"

# default place: beside the plan store
mkdir "$TMP/db"
run "$NETWAVE" history record "$TMP/t1.json" --db "$TMP/db/plans.db" --operator alice
expect_rc "record beside --db" 0
if [ -d "$TMP/db/netwave-history/.git" ]; then pass "the history sits beside the database"; else fail "the history sits beside the database"; fi

# errors
run "$NETWAVE" history diff HEAD nosuchrev --history "$H"
expect_rc "an unknown revision" 2
expect_err "an unknown revision is named" "unknown revision 'nosuchrev'"
run "$NETWAVE" history log --history "$TMP/none"
expect_rc "a missing history" 2
expect_err "a missing history is named" "no history in '$TMP/none'"
if [ ! -e "$TMP/none" ]; then pass "log does not create a history"; else fail "log does not create a history"; fi
run "$NETWAVE" history lgo --history "$H"
expect_rc "an unknown history command" 2
expect_err "an unknown history command gets a suggestion" "did you mean 'log'?"
run "$NETWAVE" history show --history "$H"
expect_rc "show without a revision" 2
mkdir "$TMP/notes" && echo mine >"$TMP/notes/todo.txt"
run "$NETWAVE" history record "$TMP/t1.json" --history "$TMP/notes"
expect_rc "a directory that is not a history" 2
expect_err "a directory that is not a history is refused" "not an empty directory or a git repository"
run "$NETWAVE" history record "$TMP/t1.json" --history "$H" -m "AccountKey=abc123 leaked"
expect_rc "a message with a secret" 2
expect_err "a message with a secret is refused" "looks like it holds a secret"

# locks: a live holder is respected (exit 4), a dead one's lock is broken
echo "pid=$$ start=0 host=$(uname -n)" >"$H/.git/netwave.lock"
run "$NETWAVE" history record "$TMP/t1.json" --history "$H"
expect_rc "a live lock" 4
expect_err "a live lock names its holder" "is locked by netwave process $$"
sh -c 'exit 0' &
dead=$!
wait "$dead" || true
echo "pid=$dead start=0 host=$(uname -n)" >"$H/.git/netwave.lock"
: >"$H/.git/index.lock"
run "$NETWAVE" history record "$TMP/t1.json" --history "$H" --operator carol
expect_rc "a dead process's locks are recovered" 0
expect_out "the record after recovery commits" "recorded "
if [ ! -e "$H/.git/netwave.lock" ] && [ ! -e "$H/.git/index.lock" ]; then pass "no lock is left behind"; else fail "no lock is left behind"; fi

# the real git binary, when there is one, reads the same history
if command -v git >/dev/null 2>&1; then
	run git -C "$H" log --format='%s|%(trailers:key=Operator,valueonly)'
	expect_rc "git log reads the history" 0
	expect_out "git log sees the subject and trailer" "baseline from another tool|alice"
	run git -C "$H" status --porcelain
	expect_no_out "the working tree matches HEAD"
	run sh -c "git -C '$H' cat-file --batch-all-objects --batch"
	if [ "$RC" -eq 0 ] && [ -s "$TMP/out" ] && ! grep -qF "$SECRET" "$TMP/out"; then
		pass "no object in the repository holds the secret"
	else
		fail "no object in the repository holds the secret"
	fi
else
	echo "# skipped: git is not installed"
fi

finish
