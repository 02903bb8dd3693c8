#!/bin/bash
# pg_service.sh - vmsealed on a PostgreSQL store (issue 15): its answers
# while the database is up, while it is down, and after it returns, with
# no restart of vmsealed.  A throwaway cluster (t_pg_start: initdb into
# $WORK/pg, Unix socket only); vmsealed runs as the cluster's user (the
# socket folder is that user's).  Shown:
#   - "vmseal status --json": backend postgresql, store_health ok, the
#     store named without the conninfo's password;
#   - a socketmap lookup (Postfix's protocol) finds alice's mailbox, an
#     auth "verify" of her password is ok, an address added through
#     vmsealed (online) is found at once;
#   - PostgreSQL stopped: the socketmap answers TEMP (never NOTFOUND), the
#     verify "temp" (never "fail"), status says the store is failing, an
#     online "user add" fails (exit 4) and writes nothing;
#   - PostgreSQL started again: within 10 s the same lookups answer as
#     before, without a restart of vmsealed; the user of the failed add is
#     absent, a new add works.
# Skipped (n/a) without libpq in vmseal or without the postgresql package;
# needs root (vmsealed switches users).
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}
export LC_ALL=C

[ "$(id -u)" -eq 0 ] || skip "needs root (vmsealed switches users)"
WORK=$(mktemp -d /tmp/vmseal-pgsvc-XXXXXX)
SVC_PID=
SVCLOG=$WORK/vmsealed.log
cleanup() {
	if [ -n "$SVC_PID" ]; then stop_pid "$SVC_PID"; wait "$SVC_PID" 2>/dev/null; fi
	t_pg_stop
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
diagnostics() {
	echo "# --- vmsealed log (tail) ---"
	tail -n 20 "$SVCLOG" 2>/dev/null | sed 's/^/#   /'
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$VMSEAL" --offline --store postgresql:dbname=none user list \
    --passphrase-fd 3 3<<<"$PASS" >"$WORK/nopq" 2>&1
grep -q "built without PostgreSQL support" "$WORK/nopq" &&
    skip "n/a: built without the PostgreSQL backend (no libpq-dev, or --without-postgresql)"

t_pg_start
PGPW='pW-svc-s3cr3t-4kd8'
LOC="postgresql:$PG_CONNINFO password=$PGPW"
ALICE_PW='Lantern-Orchard-Copper-5'
vp() { "$VMSEAL" --offline --store "$LOC" --passphrase-fd 3 "$@" 3<<<"$PASS"; }
{
	vp init --unseal-cost 1:8 --hash-cost 1:8 &&
	vp domain add example.org &&
	vp user add alice --address alice@example.org --password-fd 4 4<<<"$ALICE_PW"
} >"$WORK/setup.out" 2>&1 || { sed 's/^/#   /' "$WORK/setup.out"; bail "store on PostgreSQL"; }
t_ok "store on PostgreSQL: example.org, alice"

CONF=$WORK/vmseal.conf
cat >"$CONF" <<EOF
store = $LOC
socket_dir = $WORK/run
user = $PG_USER
group = $(id -gn "$PG_USER")
auth_socket_mode = 0666
socketmap_socket_mode = 0666
EOF
chmod 0600 "$CONF"
t_svc_start "$CONF" "start"
t_ok "vmsealed on the PostgreSQL store, unsealed"
vsc() { timeout 30 "$VMSEAL" -c "$CONF" "$@"; }

sm() { timeout 40 python3 "$TOP_SRCDIR/tests/integration/vsclient.py" sm "$WORK/run/socketmap" "$1" "$2" 2>&1; }
verify() { printf '%s\n' "$2" | timeout 40 python3 "$TOP_SRCDIR/tests/integration/vsclient.py" verify "$WORK/run/auth" "$1" 2>&1; }
health() {
	vsc status --json 2>/dev/null | python3 -c '
import json, sys; d = json.load(sys.stdin)
print(d["backend"], d["store_health"] if d["store_health"] == "ok" else "failing")'
}

# --- up ---
vsc status --json >"$WORK/status.json" 2>&1
check "status --json: backend postgresql, store_health ok" \
    test "$(health)" = "postgresql ok"
check "status names the store without the password" \
    sh -c "grep -q '\"store\":\"postgresql:host=' '$WORK/status.json' && ! grep -q '$PGPW' '$WORK/status.json'"
r=$(sm mailboxes alice@example.org)
check "socketmap: alice@example.org is a mailbox: $r" test "$r" = OK
r=$(sm mailboxes nobody@example.org)
check "socketmap: an unknown address is NOTFOUND: $r" test "$r" = NOTFOUND
r=$(verify alice "$ALICE_PW")
check "auth verify of alice's password: $r" test "$r" = ok
check "online: address alias2@example.org for alice" \
    vsc address add alias2@example.org alice
r=$(sm mailboxes alias2@example.org)
check "... found at once: $r" test "$r" = OK

# --- down ---
t_pg_stop
r=$(sm mailboxes alice@example.org)
check "PostgreSQL down: socketmap answers TEMP (not NOTFOUND): $r" test "$r" = TEMP
r=$(sm mailboxes nobody@example.org)
check "... also for an unknown address: $r" test "$r" = TEMP
r=$(verify alice "$ALICE_PW")
check "PostgreSQL down: auth verify answers temp (not fail): $r" test "$r" = temp
r=$(verify alice "wrong-password")
check "... also for a wrong password (nothing can be told): $r" test "$r" = temp
check "status: the store is failing" test "$(health)" = "postgresql failing"
vsc user add bob --no-password >"$WORK/bob.out" 2>&1
st=$?
check "online user add while down: exit 4 (got $st: $(head -c 90 "$WORK/bob.out"))" test "$st" -eq 4
check "... and no password of the conninfo in its message" sh -c "! grep -q '$PGPW' '$WORK/bob.out'"

# --- back ---
t_pg_restart || bail "PostgreSQL restart"
ok=
for _ in $(seq 100); do
	[ "$(sm mailboxes alice@example.org)" = OK ] && { ok=1; break; }
	sleep 0.1
done
check "PostgreSQL back: socketmap finds alice again within 10 s, vmsealed not restarted" test -n "$ok"
check "... vmsealed is the same process" kill -0 "$SVC_PID"
r=$(verify alice "$ALICE_PW")
check "auth verify ok again: $r" test "$r" = ok
check "status: store_health ok again" test "$(health)" = "postgresql ok"
vsc user show bob >/dev/null 2>&1
st=$?
check "the add that failed while down left nothing: user show bob exit 1 (got $st)" test "$st" -eq 1
check "a new add works" vsc user add bob --no-password
vpq() { vp "$@" >"$WORK/vp.out" 2>&1; }
check "verify of the store (offline, read-only)" vpq verify
check "the conninfo's password is in no vmsealed log line" sh -c "! grep -q '$PGPW' '$SVCLOG'"
t_done
