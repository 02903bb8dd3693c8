#!/bin/bash
# audit.sh - the audit trail through the offline CLI: every writing command
# recorded in order with the operator's uid and without secrets, read-only
# and failed commands not recorded, 'vmseal audit [--json] [--since]',
# 'vmseal audit --verify', and tampering with the files (mdb_dump/mdb_load)
# detected and named.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
WORK=$(mktemp -d /tmp/vmseal-audit-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

ME=$(id -u)
PW1='Ron-first-Secret-pw-1'
PW2='Ron-second-Secret-pw-2'
HASH='ildPSIfh7EkT2'
cat >"$WORK/htpasswd" <<X
alice:$HASH
X

# va ARGS...: vmseal audit, offline.
va() {
	"$VMSEAL" -d "$STORE" --offline --passphrase-fd 3 audit "$@" 3<<<"$PASS"
}

check "init creates a store" t_new_store
va >"$WORK/out" 2>&1
check "a new store has an empty trail" test ! -s "$WORK/out"
va --verify >"$WORK/out" 2>&1
expect_in "$WORK/out" "audit trail verified: 0 entries" "an empty trail verifies"

# --- every writing command, once ---
ok=true
vs domain add somedomain.ie || ok=false
vs user add --no-policy ron --home /home/ron --password-fd 4 4<<<"$PW1" || ok=false
vs import htpasswd "$WORK/htpasswd" >/dev/null 2>&1 || ok=false
vs address add alice@somedomain.ie alice || ok=false
vs alias add postmaster@somedomain.ie ron@example.org,alice@somedomain.ie || ok=false
vs user passwd --no-policy ron --password-fd 4 4<<<"$PW2" || ok=false
vs user set ron --quota '*:storage=1G' --uid 5000 || ok=false
vs user disable alice || ok=false
vs user enable alice || ok=false
vs export --format htpasswd -o "$WORK/export.htpasswd" 2>/dev/null || ok=false
vs alias del postmaster@somedomain.ie || ok=false
vs address del alice@somedomain.ie || ok=false
vs user del ron || ok=false
check "the writing commands ran" $ok

# --- read-only and failed commands are not recorded ---
vs user list >/dev/null
vs user show alice >/dev/null
vs domain list --json >/dev/null
vs export --format json >/dev/null 2>&1 </dev/null
expect_exit 5 "adding an existing domain fails" vs domain add somedomain.ie
expect_exit 1 "deleting a missing user fails" vs user del nobody
expect_exit 2 "an invalid address fails" vs address add 'bad address' alice
va >/dev/null

va >"$WORK/audit.txt" 2>"$WORK/err"
check "vmseal audit: exit 0" test $? -eq 0
cut -f4 "$WORK/audit.txt" | paste -sd' ' >"$WORK/actions"
want='domain-add user-add import address-add alias-add user-passwd user-set user-disable user-enable export alias-del address-del user-del export'
check "actions recorded in order (the json export too, nothing else)" \
    test "$(cat "$WORK/actions")" = "$want"
[ "$(cat "$WORK/actions")" = "$want" ] || echo "#   got: $(cat "$WORK/actions")"
check "sequence numbers 1..14" test "$(cut -f1 "$WORK/audit.txt" | paste -sd' ')" = "$(seq -s' ' 1 14)"
check "every entry has the operator's uid ($ME)" \
    test "$(cut -f3 "$WORK/audit.txt" | sort -u)" = "$ME"
check "times look like the rest of vmseal's" \
    grep -qE '^1	[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC	' "$WORK/audit.txt"
expect_in "$WORK/audit.txt" "	domain-add	somedomain.ie" "domain add: the domain"
expect_in "$WORK/audit.txt" "	user-add	ron home=/home/ron password-set" "user add: login, fields, that a password was set"
expect_in "$WORK/audit.txt" "	import	htpasswd $WORK/htpasswd: 1 user(s) imported, 0 bad line(s) skipped" "import: format, file and counts"
expect_in "$WORK/audit.txt" "	address-add	alice@somedomain.ie alice" "address add: address and login"
expect_in "$WORK/audit.txt" "	alias-add	postmaster@somedomain.ie ron@example.org,alice@somedomain.ie" "alias add: address and destinations"
expect_in "$WORK/audit.txt" "	user-passwd	ron" "passwd: the login only"
expect_in "$WORK/audit.txt" "	user-set	ron quota=*:storage=1G uid=5000" "user set: what changed"
expect_in "$WORK/audit.txt" "	export	htpasswd to $WORK/export.htpasswd" "export: format and destination"
expect_in "$WORK/audit.txt" "	export	json to standard output" "export to standard output"
expect_in "$WORK/audit.txt" "	user-del	ron" "user del"

# --- no secrets ---
va --json >"$WORK/audit.json" 2>/dev/null
for f in "$WORK/audit.txt" "$WORK/audit.json"; do
	expect_not_in "$f" "$PW1" "$(basename "$f"): the first password is absent"
	expect_not_in "$f" "$PW2" "$(basename "$f"): the changed password is absent"
	expect_not_in "$f" "$HASH" "$(basename "$f"): the imported hash is absent"
	expect_not_in "$f" '$argon2' "$(basename "$f"): no Argon2 hash"
done
check "the store files do not show the trail either" \
    sh -c "! strings -n 6 '$STORE/data.mdb' | grep -qE 'domain-add|user-passwd|somedomain'"

# --- --json, --since ---
check "audit --json: 14 objects with seq, time, uid, action, detail" \
    python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 14, len(d)
assert [e['seq'] for e in d] == list(range(1, 15))
assert all(e['uid'] == int(sys.argv[2]) for e in d)
assert all(set(e) == {'seq', 'time', 'uid', 'action', 'detail'} for e in d)
assert d[0]['action'] == 'domain-add' and d[0]['detail'] == 'somedomain.ie'
assert d[0]['time'].endswith('Z')
" "$WORK/audit.json" "$ME"
va --since 1970-01-01 >"$WORK/out"
check "--since 1970-01-01: every entry" test "$(wc -l <"$WORK/out")" -eq 14
va --since "$(date -u -d tomorrow +%Y-%m-%d)" >"$WORK/out"
check "--since tomorrow: nothing" test ! -s "$WORK/out"
first=$(head -n1 "$WORK/audit.txt" | cut -f2)
va --since "$first" >"$WORK/out"
check "--since takes the printed time format" test "$(wc -l <"$WORK/out")" -eq 14
va --since "$(date -u -d tomorrow +%s)" --json >"$WORK/out"
check "--since EPOCH --json: an empty array" test "$(tr -d ' \n' <"$WORK/out")" = "[]"
expect_exit 2 "--since with a bad time is a usage error" va --since yesterday
expect_exit 2 "--verify with --since is a usage error" va --verify --since 1970-01-01
expect_exit 0 "vmseal audit --help" "$VMSEAL" audit --help

# --- verify ---
va --verify >"$WORK/out" 2>&1
check "audit --verify: exit 0" test $? -eq 0
expect_in "$WORK/out" "audit trail verified: 14 entries" "verify counts the entries"
va --verify --json >"$WORK/out" 2>&1
check "audit --verify --json" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {'verified': True, 'entries': 14}, d
" "$WORK/out"

# --- tampering (mdb_dump/mdb_load) ---
# tamper_audit MODE ARG: rewrite the store's audit table.
#   flip N     one bit flipped in entry N's sealed value (mdb_load -s audit)
#   swap N M   entries N and M swap values
#   del N      entry N deleted (the whole store dumped and loaded anew)
tamper_audit() {
	local mode=$1; shift
	if [ "$mode" = del ]; then
		mdb_dump -a "$STORE" >"$WORK/all.dump"
	else
		mdb_dump -s audit "$STORE" >"$WORK/all.dump"
	fi
	python3 - "$WORK/all.dump" "$mode" "$@" <<'PY' || return 1
import sys
p, mode, args = sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3:]]
lines = open(p).read().split("\n")
start = lines.index("database=audit")
def at(n):
    k = " %016x" % n
    return lines.index(k, start) + 1
if mode == "flip":
    i = at(args[0]); h = lines[i]; m = len(h) // 2
    lines[i] = h[:m] + ("0" if h[m] != "0" else "1") + h[m + 1:]
elif mode == "swap":
    i, j = at(args[0]), at(args[1])
    lines[i], lines[j] = lines[j], lines[i]
elif mode == "del":
    i = at(args[0])
    del lines[i - 1:i + 1]
open(p, "w").write("\n".join(lines))
PY
	if [ "$mode" = del ]; then
		rm -f "$STORE/data.mdb" "$STORE/lock.mdb"
		mdb_load -f "$WORK/all.dump" "$STORE" 2>/dev/null
	else
		mdb_load -s audit -f "$WORK/all.dump" "$STORE" 2>/dev/null
	fi
}

restore() {
	rm -rf "$STORE"
	cp -a "$WORK/store.orig" "$STORE"
}

if command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null; then
	cp -a "$STORE" "$WORK/store.orig"

	check "flip a bit in entry 3" tamper_audit flip 3
	va --verify >"$WORK/out" 2>"$WORK/err"
	check "edited entry: --verify exits 4" test $? -eq 4
	expect_in "$WORK/err" "audit entry 3 fails to authenticate" "edited entry: named"
	check "edited entry: nothing on stdout" test ! -s "$WORK/out"
	va --verify --json >"$WORK/out" 2>/dev/null
	check "edited entry: --verify --json names it" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['verified'] is False and d['bad_seq'] == 3, d
assert 'audit entry 3' in d['problem'], d
" "$WORK/out"
	restore

	check "delete entry 7" tamper_audit del 7
	va --verify >"$WORK/out" 2>"$WORK/err"
	check "deleted entry: --verify exits 4" test $? -eq 4
	expect_in "$WORK/err" "audit entry 7 is missing (deleted): the trail jumps from 6 to 8" "deleted entry: the gap is named"
	va >"$WORK/out" 2>&1
	check "the trail still prints without it" test "$(wc -l <"$WORK/out")" -eq 13
	restore

	check "delete the last entry" tamper_audit del 14
	va --verify >"$WORK/out" 2>"$WORK/err"
	check "deleted last entry: --verify exits 4" test $? -eq 4
	expect_in "$WORK/err" "audit entry 14 is missing (deleted): the trail ends at 13, its head says 14" "deleted last entry: named through the head"
	sum=$(sha256sum <"$STORE/data.mdb")
	vs domain add unrecorded.org >"$WORK/out" 2>"$WORK/err"
	check "a write on a trail that lost its end is refused (exit 4)" test $? -eq 4
	expect_in "$WORK/err" "audit trail does not match its head" "the refusal says why"
	check "the refused write changed nothing" test "$sum" = "$(sha256sum <"$STORE/data.mdb")"
	restore

	check "swap entries 2 and 5" tamper_audit swap 2 5
	va --verify >"$WORK/out" 2>"$WORK/err"
	check "swapped entries: --verify exits 4" test $? -eq 4
	expect_in "$WORK/err" "audit entry 2 fails to authenticate" "swapped entries: the first is named"
	restore

	expect_exit 0 "the untouched store verifies again" va --verify
	vs domain add after.org
	va --verify >"$WORK/out" 2>&1
	expect_in "$WORK/out" "audit trail verified: 15 entries" "and goes on recording"
else
	t_fail "mdb_dump/mdb_load missing (apt-get install lmdb-utils)"
fi

t_done
