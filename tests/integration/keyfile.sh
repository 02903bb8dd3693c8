#!/bin/bash
# keyfile.sh - the demo-only unseal_keyfile (unsealed at start, loudly) and
# auto_seal_after (sealed after a quiet period without admin contact).
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}
[ "$(id -u)" -eq 0 ] || skip "needs root"
getent passwd nobody >/dev/null || skip "no user nobody"
NOGROUP=$(id -gn nobody)
WORK=$(mktemp -d /tmp/vmseal-kf-XXXXXX)
chmod 755 "$WORK"
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

command -v postmap >/dev/null || skip "postmap not installed"
check "store" t_new_store
check "a Postfix configuration of the test's own" t_postfix_conf "$WORK/pfconf"
check "a domain" vs --offline domain add example.org
check "a user" vs --offline user add bob --address bob@example.org --no-password
printf '%s\n' "$PASS" >"$WORK/keyfile"
chmod 600 "$WORK/keyfile"
cat >"$WORK/conf" <<X
store_dir = $STORE
socket_dir = $WORK/run
user = nobody
group = $NOGROUP
unseal_keyfile = $WORK/keyfile
auto_seal_after = 3
X
"$VMSEALED" -c "$WORK/conf" -f </dev/null >"$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 50); do [ -S "$WORK/run/admin" ] && break; sleep 0.1; done
"$VMSEAL" -c "$WORK/conf" status >"$WORK/st" 2>&1
expect_in "$WORK/st" "state:        unsealed" "unsealed at start from the key file"
expect_in "$WORK/st" "the key lies next to the lock" "status says loudly where the key lies"
expect_in "$WORK/log" "UNSEALED FROM A KEY FILE" "the log says it at start"
out=$(postmap -c "$WORK/pfconf" -q bob@example.org "socketmap:unix:$WORK/run/socketmap:mailboxes" 2>&1)
check "lookups answer at once ($out)" test "$out" = bob
sleep 4.5
"$VMSEAL" -c "$WORK/conf" status --json >"$WORK/st2" 2>&1
check "sealed after 3 s without admin contact" python3 -c \
    "import json,sys; assert json.load(open(sys.argv[1]))['sealed'] is True" "$WORK/st2"
expect_in "$WORK/log" "no admin contact for 3s" "the log says why it sealed"
postmap -c "$WORK/pfconf" -q bob@example.org "socketmap:unix:$WORK/run/socketmap:mailboxes" >"$WORK/pq" 2>&1
expect_in "$WORK/pq" "vmseal is sealed" "and lookups are temporary failures again"
t_done
