#!/bin/bash
# mailkey_cli.sh - "vmseal mail-key enable|status" (issue 13), offline, on a
# throwaway store: keys made for a user or every user who has none, never
# replaced (exit 5), unknown user (exit 1), usage errors (exit 2: password
# protection without the store's escrow key says how to make it (the rest
# of password protection: mailkey_pw.sh), options of
# the wrong action, "user set --mail-keys"), status in text and JSON, the
# audit entries, no private key in any output, and rotate keeping every
# key pair as it was (the keys are re-sealed, never made again).
set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(dirname "$0")/../..}
. "$TOP_SRCDIR/tests/integration/lib.sh"
WORK=$(mktemp -d /tmp/vmseal-mk-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# ex EXPECTED WHAT ARGS...: vmseal --offline ARGS exits EXPECTED; output
# in $WORK/out.
ex() {
	local want=$1 what=$2 st
	shift 2
	vs --offline "$@" >"$WORK/out" 2>&1
	st=$?
	check "$what: exit $want (got $st: $(head -c 100 "$WORK/out" | tr '\n' ' '))" test "$st" -eq "$want"
}

t_new_store || bail "vmseal init"
ex 0 "user add ann --mail-keys" user add ann --no-password --mail-keys
ex 0 "user add ben" user add ben --no-password
ex 0 "user add cid" user add cid --no-password
ex 0 "user add dee" user add dee --no-password

vs --offline mail-key status --json >"$WORK/s0.json"
check "status --json: ann has keys (store), the others none" python3 - "$WORK/s0.json" <<'PY'
import json, sys
d = {u["login"]: u for u in json.load(open(sys.argv[1]))}
ok = (d["ann"]["mail_keys"] and d["ann"]["protection"] == "store" and d["ann"]["created"]
      and not d["ben"]["mail_keys"] and d["ben"]["protection"] is None
      and len(d) == 4)
sys.exit(0 if ok else 1)
PY
ex 0 "mail-key enable ben" mail-key enable ben
check "... says so" grep -qx "mail keys made for ben" "$WORK/out"
ex 5 "mail-key enable ben again (keys are never replaced)" mail-key enable ben
check "... says why" grep -q "never replaced" "$WORK/out"
ex 1 "mail-key enable of an unknown user" mail-key enable nosuch
ex 2 "mail-key enable --protection password without the store's escrow key or the recovery key" mail-key enable cid --protection password
check "... says the first one needs the recovery key" grep -q "no mail escrow key yet: the first" "$WORK/out"
ex 2 "mail-key enable --protection foo" mail-key enable cid --protection foo
ex 2 "mail-key enable without LOGIN or --all" mail-key enable
ex 2 "mail-key enable LOGIN --all" mail-key enable cid --all
ex 2 "mail-key status --all" mail-key status --all
ex 2 "mail-key frob" mail-key frob
ex 2 "user set ann --mail-keys (an option of add)" user set ann --mail-keys
ex 0 "mail-key enable --all --json" mail-key enable --all --json
check "... made 2 (cid, dee), 2 had keys" python3 -c '
import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(0 if d == {"made": 2, "had": 2, "protection": "store"} else 1)' "$WORK/out"
ex 0 "mail-key status" mail-key status
check "status: every user has keys, stored in the record (protection store)" \
    test "$(grep -c '	store	' "$WORK/out")" -eq 4 -a \
    "$(grep -c '^# 4 of 4 users have mail keys$' "$WORK/out")" -eq 1
ex 0 "mail-key status dee" mail-key status dee
check "... one line, dee" grep -q '^dee	store	20' "$WORK/out"
vs --offline audit >"$WORK/audit" 2>&1
check "audit: enable ben, enable --all (made 2, had 2)" \
    test "$(grep -c 'mail-key-enable	ben protection=store' "$WORK/audit")" -eq 1 -a \
    "$(grep -c 'mail-key-enable	--all protection=store made=2 had=2' "$WORK/audit")" -eq 1
check "no private key in any output" \
    sh -c "! grep -l 'PRIVATE' '$WORK/s0.json' '$WORK/out' '$WORK/audit'"

vs --offline export --with-mail-keys >"$WORK/before.json" 2>/dev/null
vs --offline rotate >"$WORK/rotate.out" 2>&1
check "rotate" test $? -eq 0
vs --offline export --with-mail-keys >"$WORK/after.json" 2>/dev/null
check "rotate kept every key pair (export --with-mail-keys identical)" \
    cmp -s "$WORK/before.json" "$WORK/after.json"
check "... and the export has the four pairs" \
    test "$(grep -o 'BEGIN PRIVATE KEY' "$WORK/after.json" | wc -l)" -eq 4
t_done
