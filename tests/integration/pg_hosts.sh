#!/bin/bash
# pg_hosts.sh - several writers on one PostgreSQL store (issue 15): two
# vmsealed instances ("host A" and "host B", each with its own socket
# folder) and vmseal --offline on one throwaway database (t_pg_start:
# initdb into $WORK/pg, Unix socket only).  Shown:
#   - the library's two-handle cases (tests/unit/test_store_head with
#     VMSEAL_TEST_PG): each handle follows the other's commits, two
#     writers at once conflict (VS_EBUSY, nothing of the loser lands) and
#     store_write runs the loser again, a head put back to an older sealed
#     copy is refused, and so is another head of a generation seen (fork);
#   - writes through A, then B, then offline, then A again all work (each
#     follows the others' head: no "changed behind vmseal's back"), and
#     what one host wrote the other answers at once;
#   - the head row put back to an older copy (psql): the next write
#     through A is refused (exit 4, "went back"), nothing is written; the
#     newest head put back, writes work again;
#   - 2 hosts x 15 "address add" at once, plus 5 offline, and 3 "user add"
#     each (A, B, offline) with a password from a descriptor: every
#     command succeeds or says "run the command again" (exit 4, nothing
#     written), every reported success is there and nothing else, each
#     user's password verifies (a run again is given the password the
#     first read), the store verifies (vmseal verify) and the audit trail
#     is one chain (audit --verify) holding one entry per success;
#   - what one host writes the other serves, through the sockets Dovecot
#     and Postfix use: a user added on A verifies on B's auth socket, its
#     address is a mailbox on B's socketmap; a password changed on B
#     verifies on A (and the old one fails);
#   - the read cache (LISTEN/NOTIFY): both hosts' status says it is live
#     and lists both hosts with their last contact; B answers a known
#     address and an unknown one again from its cache (hit counters); an
#     address added on A replaces B's cached "not found", and removed on
#     A its cached "found", each within 1 s (measured); NOTIFY vmseal_kv,
#     '*' from psql flushes B's cache;
#   - failed logins on both hosts at once: the events of both land in the
#     one event table (none lost to a key collision), the store verifies;
#   - a passphrase added through A (online) unseals B, running since
#     before and sealed (B reads the key slots again at unseal); removed
#     through A, it no longer does; the first passphrase still does.
#   - two mail hosts (when Dovecot 2.3 and Postfix are here): a Dovecot on
#     127.0.0.2 asking A, a Dovecot (imap, lmtp) and a Postfix on
#     127.0.0.3 asking B: a user added through A logs in over IMAP on B;
#     mail sent through B's Postfix to his address (added on A) is
#     accepted by B's socketmap and delivered to his mailbox, an unknown
#     address refused; his password changed through B logs in on A, the
#     old one is refused.
# Skipped (n/a) without libpq in vmseal or without the postgresql package;
# needs root (vmsealed switches users).
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}
UNIT_HEAD=${UNIT_HEAD:-$(dirname "$VMSEAL")/../tests/unit/test_store_head}
export LC_ALL=C

[ "$(id -u)" -eq 0 ] || skip "needs root (vmsealed switches users)"
WORK=$(mktemp -d /tmp/vmseal-pghosts-XXXXXX)
PID_A= PID_B= SVC_PID=
SVCLOG=$WORK/vmsealed.log
cleanup() {
	local p
	for p in $PID_A $PID_B; do stop_pid "$p"; wait "$p" 2>/dev/null; done
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

# --- the library: two handles on one database ---
if [ -x "$UNIT_HEAD" ]; then
	VMSEAL_TEST_PG="$PG_CONNINFO" "$UNIT_HEAD" >"$WORK/unit.out" 2>&1
	st=$?
	for t in test_pg_follow test_pg_conflict test_pg_store_write \
	    test_pg_rollback test_pg_fork; do
		check "two handles: $t" grep -q "^\[       OK \] $t\$" "$WORK/unit.out"
	done
	check "test_store_head on PostgreSQL: exit 0 (got $st)" test "$st" -eq 0
	[ "$st" -eq 0 ] || sed 's/^/#   /' "$WORK/unit.out" | grep -v "OK \]" | tail -20
else
	t_skip "two handles: $UNIT_HEAD not built (make check builds it)"
fi
psql -q -c 'DROP TABLE IF EXISTS vmseal_kv' >/dev/null 2>&1 ||
    bail "drop the unit test's table"

LOC="postgresql:$PG_CONNINFO"
vp() { "$VMSEAL" --offline --store "$LOC" --passphrase-fd 3 "$@" 3<<<"$PASS"; }
{
	vp init --unseal-cost 1:8 --hash-cost 1:8 &&
	vp domain add example.org &&
	vp user add alice --address alice@example.org --no-password
} >"$WORK/setup.out" 2>&1 || { sed 's/^/#   /' "$WORK/setup.out"; bail "store on PostgreSQL"; }
t_ok "store on PostgreSQL: example.org, alice"

# Two hosts: two vmsealed, one database.
for h in A B; do
	cat >"$WORK/vmseal-$h.conf" <<EOF
store = $LOC
host_name = host-$h
socket_dir = $WORK/run$h
user = $PG_USER
group = $(id -gn "$PG_USER")
auth_socket_mode = 0666
socketmap_socket_mode = 0666
EOF
	chmod 0600 "$WORK/vmseal-$h.conf"
done
t_svc_start "$WORK/vmseal-A.conf" "host A"
PID_A=$SVC_PID
t_svc_start "$WORK/vmseal-B.conf" "host B"
PID_B=$SVC_PID
t_ok "two vmsealed on one PostgreSQL store, both unsealed"
va() { timeout 60 "$VMSEAL" -c "$WORK/vmseal-A.conf" "$@"; }
vb() { timeout 60 "$VMSEAL" -c "$WORK/vmseal-B.conf" "$@"; }
out() { "$@" >"$WORK/cmd.out" 2>&1 || { sed 's/^/#   /' "$WORK/cmd.out"; return 1; }; }

# --- each writer follows the others' commits ---
check "host A: address add a1@example.org" out va address add a1@example.org alice
check "host B writes after A committed: address add b1@example.org" out vb address add b1@example.org alice
check "host A again: address add a2@example.org" out va address add a2@example.org alice
check "offline beside both: address add o1@example.org" out vp address add o1@example.org alice
check "host A after the offline write: address add a3@example.org" out va address add a3@example.org alice
check "host B after that: user add bob" out vb user add bob --no-password
check "host B answers what A wrote: address show a3@example.org" out vb address show a3@example.org
check "host A answers what B wrote: user show bob" out va user show bob

# --- a head put back ---
headhex() { psql -Atc "SELECT encode(v, 'hex') FROM vmseal_kv WHERE tbl = 0 AND k = 'head'::bytea"; }
puthead() { psql -qc "UPDATE vmseal_kv SET v = decode('$1', 'hex') WHERE tbl = 0 AND k = 'head'::bytea" >/dev/null; }
OLD=$(headhex)
check "host A: address add r1@example.org" out va address add r1@example.org alice
NEW=$(headhex)
puthead "$OLD"
va address add r2@example.org alice >"$WORK/rb.out" 2>&1
st=$?
check "head put back to an older copy: host A refuses to write (exit $st: $(head -c 120 "$WORK/rb.out"))" \
    sh -c "[ $st -eq 4 ] && grep -q 'went back from generation' '$WORK/rb.out'"
puthead "$NEW"
absent() { ! va address show "$1" >/dev/null 2>&1; }
check "... wrote nothing: r2@example.org absent" absent r2@example.org
check "the newest head back: host A writes again (address add r3@example.org)" out va address add r3@example.org alice

# --- 2 hosts x 15 commands at once, and 5 offline ---
N=15
mkdir -p "$WORK/par"
AUDIT0=$(vp audit --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
for i in $(seq $N); do
	( va address add "pa$i@example.org" alice >"$WORK/par/pa$i.out" 2>&1; echo $? >"$WORK/par/pa$i.rc" ) &
	( vb address add "pb$i@example.org" alice >"$WORK/par/pb$i.out" 2>&1; echo $? >"$WORK/par/pb$i.rc" ) &
done
for i in $(seq 5); do
	( vp address add "po$i@example.org" alice >"$WORK/par/po$i.out" 2>&1; echo $? >"$WORK/par/po$i.rc" ) &
done
# and users with a password from a descriptor, read once whatever the runs
for i in 1 2 3; do
	( va user add "ua$i" --no-policy --password-fd 4 4<<<"Pw-ua$i-Kq7" >"$WORK/par/ua$i.out" 2>&1; echo $? >"$WORK/par/ua$i.rc" ) &
	( vb user add "ub$i" --no-policy --password-fd 4 4<<<"Pw-ub$i-Kq7" >"$WORK/par/ub$i.out" 2>&1; echo $? >"$WORK/par/ub$i.rc" ) &
	( vp user add "uo$i" --no-policy --password-fd 4 4<<<"Pw-uo$i-Kq7" >"$WORK/par/uo$i.out" 2>&1; echo $? >"$WORK/par/uo$i.rc" ) &
done
wait_all() { local p; for p in $(jobs -p); do [ "$p" = "$PID_A" ] || [ "$p" = "$PID_B" ] || wait "$p"; done; }
wait_all
ok=0 again=0 bad=0
: >"$WORK/par/expect"
: >"$WORK/par/users"
for f in "$WORK"/par/*.rc; do
	n=$(basename "$f" .rc)
	rc=$(cat "$f")
	if [ "$rc" -eq 0 ]; then
		ok=$((ok + 1))
		case $n in
		p*) echo "$n@example.org" >>"$WORK/par/expect";;
		*) echo "$n" >>"$WORK/par/users";;
		esac
	elif [ "$rc" -eq 4 ] && grep -q "run the command again" "$WORK/par/$n.out"; then again=$((again + 1))
	else bad=$((bad + 1)); sed "s/^/#   $n: /" "$WORK/par/$n.out"; fi
done
echo "# $((2 * N + 14)) commands at once: $ok succeeded, $again said 'run the command again', $bad other;" \
    "$(grep -c 'could not serialize' "$PG_DIR/log" 2>/dev/null) serialization failures in PostgreSQL's log (each a run again)"
check "2 x $N + 5 concurrent 'address add', 3 x 3 'user add': each succeeded or said 'run the command again' ($ok ok, $again again, $bad other)" \
    test "$bad" -eq 0
check "... at least $((2 * N + 9)) of $((2 * N + 14)) succeeded (retries): $ok" test "$ok" -ge $((2 * N + 9))
va address list >"$WORK/list.out" 2>&1
grep -oE '^p[abo][0-9]+@example.org' "$WORK/list.out" | sort >"$WORK/par/got"
sort -o "$WORK/par/expect" "$WORK/par/expect"
check "the store holds exactly the addresses reported added ($(wc -l <"$WORK/par/got"))" \
    cmp -s "$WORK/par/got" "$WORK/par/expect"
check "vmseal verify (offline) after the concurrent writes" out vp verify
check "vmseal audit --verify: one chain across hosts" out vp audit --verify
AUDIT1=$(vp audit --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
check "the audit trail has one entry per success: $AUDIT0 + $ok = $AUDIT1" \
    test "$((AUDIT0 + ok))" -eq "$AUDIT1"

# --- what one host writes, the other serves ---
# sm HOST MAP KEY; verify HOST LOGIN PASSWORD [IP]: vmsealed's socketmap
# (Postfix's protocol) and auth socket (what Dovecot's passdb asks).
sm() { timeout 40 python3 "$TOP_SRCDIR/tests/integration/vsclient.py" sm "$WORK/run$1/socketmap" "$2" "$3" 2>&1; }
verify() { printf '%s\n' "$3" | timeout 40 python3 "$TOP_SRCDIR/tests/integration/vsclient.py" verify "$WORK/run$1/auth" "$2" "${4:-192.0.2.99}" 2>&1; }
CAROL_PW='Harbour-Lilac-Tundra-48'
CAROL_PW2='Quarry-Saffron-Beacon-93'
check "host A: user add carol with carol@example.org and a password" \
    out va user add carol --address carol@example.org --password-fd 4 --no-policy 4<<<"$CAROL_PW"
r=$(verify B carol "$CAROL_PW")
check "host B: carol's password (added on A) verifies: $r" test "$r" = ok
r=$(sm B mailboxes carol@example.org)
check "host B's socketmap: carol@example.org (added on A) is a mailbox: $r" test "$r" = OK
check "host B: user passwd carol" \
    out vb user passwd carol --password-fd 4 --no-policy 4<<<"$CAROL_PW2"
r=$(verify A carol "$CAROL_PW2")
check "host A: the password changed on B verifies: $r" test "$r" = ok
r=$(verify A carol "$CAROL_PW" 192.0.2.98)
check "host A: the old one no longer does: $r" test "$r" = fail

# --- the read cache (LISTEN/NOTIFY) and the hosts table ---
# cj HOST EXPR: a value of HOST's status --json (python over "d").
cj() {
	timeout 30 "$VMSEAL" -c "$WORK/vmseal-$1.conf" status --json 2>/dev/null |
	    python3 -c "import json,sys; d=json.load(sys.stdin); print($2)" 2>&1
}
check "host A: status says the read cache is live: $(cj A "d['cluster']['cache']['live']")" \
    test "$(cj A "d['cluster']['cache']['live']")" = True
check "host B: the same: $(cj B "d['cluster']['cache']['live']")" \
    test "$(cj B "d['cluster']['cache']['live']")" = True
HOSTS=$(cj B "' '.join('%s:%s:%s' % (h['name'], h['self'], h['last_contact_s']) for h in d['cluster']['hosts'])")
check "host B: status lists both hosts, itself marked, each seen within 5 s: $HOSTS" \
    python3 -c "
import sys
h = dict((x.split(':')[0], x.split(':')[1:]) for x in sys.argv[1].split())
assert h['host-A'][0] == 'False' and h['host-B'][0] == 'True', h
assert all(0 <= int(v[1]) <= 5 for v in h.values()), h" "$HOSTS"
timeout 30 "$VMSEAL" -c "$WORK/vmseal-A.conf" status >"$WORK/status-a.txt" 2>&1
check "host A: status text shows the cache and the other host's last contact" \
    sh -c "grep -q '^read cache: *live' '$WORK/status-a.txt' && grep -q 'host-B: last contact [0-9]*s ago' '$WORK/status-a.txt'"
H0=$(cj B "d['cluster']['cache']['hits']")
sm B mailboxes carol@example.org >/dev/null
sm B mailboxes carol@example.org >/dev/null
H1=$(cj B "d['cluster']['cache']['hits']")
check "host B answers a known address from its cache (hits $H0 -> $H1)" test "$H1" -ge $((H0 + 2))
r=$(sm B mailboxes cache1@example.org)
A0=$(cj B "d['cluster']['cache']['absent_hits']")
r2=$(sm B mailboxes cache1@example.org)
A1=$(cj B "d['cluster']['cache']['absent_hits']")
check "host B: an unknown address is NOTFOUND, the second time from the cache ($r, $r2; absent hits $A0 -> $A1)" \
    sh -c "[ '$r' = NOTFOUND ] && [ '$r2' = NOTFOUND ] && [ $A1 -gt $A0 ]"
# propagation HOST WANT CMD...: a client asks HOST's socketmap for
# cache1@example.org again and again on one connection (no process
# start between questions) while CMD runs; prints the milliseconds from
# CMD's return to the first answer WANT (0 when it came before the
# return), or "never" after 10 s.
propagation() {
	local h=$1 want=$2 ready=$WORK/smwait.ready seen done
	shift 2
	rm -f "$ready"
	python3 "$TOP_SRCDIR/tests/integration/vsclient.py" smwait \
	    "$WORK/run$h/socketmap" mailboxes cache1@example.org "$want" 10 \
	    "$ready" >"$WORK/smwait.out" 2>&1 &
	local p=$!
	for _ in $(seq 500); do [ -e "$ready" ] && break; sleep 0.02; done
	out "$@"
	done=$(date +%s%N)
	wait "$p"
	seen=$(cat "$WORK/smwait.out")
	case $seen in
	''|*[!0-9]*) echo never;;
	*) [ "$seen" -le "$done" ] && echo 0 || echo $(((seen - done) / 1000000));;
	esac
}
ms=$(propagation B OK va address add cache1@example.org alice)
check "address added on A: B's cached 'not found' gives way within 1 s ($ms ms after the command returned)" \
    sh -c "[ '$ms' != never ] && [ '$ms' -le 1000 ]"
ms=$(propagation B NOTFOUND va address del cache1@example.org)
check "address removed on A: B's cached 'found' gives way within 1 s ($ms ms)" \
    sh -c "[ '$ms' != never ] && [ '$ms' -le 1000 ]"
F0=$(cj B "d['cluster']['cache']['flushes']")
psql -qc "NOTIFY vmseal_kv, '*'" >/dev/null
sleep 0.5
F1=$(cj B "d['cluster']['cache']['flushes']")
check "NOTIFY vmseal_kv, '*' from psql flushes host B's cache (flushes $F0 -> $F1)" test "$F1" -gt "$F0"
r=$(sm B mailboxes carol@example.org)
check "... and B answers from the database again: carol@example.org: $r" test "$r" = OK

pwbad=0
for u in $(cat "$WORK/par/users"); do
	[ "$(verify A "$u" "Pw-$u-Kq7")" = ok ] || { pwbad=$((pwbad + 1)); echo "# $u: its password does not verify"; }
done
check "each user added at once verifies with its own password (read once, given again to a second run): $(wc -l <"$WORK/par/users") users" \
    test "$pwbad" -eq 0

# --- events from both hosts in one table ---
evcount() { psql -Atc "SELECT count(*) FROM vmseal_kv WHERE tbl = 5"; }
EV0=$(evcount)
for i in 1 2; do
	verify A alice wrong-password "192.0.2.$i" >>"$WORK/ev.out" &
	verify B bob wrong-password "198.51.100.$i" >>"$WORK/ev.out" &
done
wait_all
got=
for _ in $(seq 60); do
	[ "$(evcount)" -ge $((EV0 + 4)) ] && { got=1; break; }
	sleep 0.2
done
check "failed logins on both hosts at once: 4 events in the one table ($EV0 -> $(evcount))" test -n "$got"
check "vmseal verify after both hosts' event writers" out vp verify
# --- a passphrase added on A unseals B, which opened the store before ---
# B read the key slots when it opened the store; sealed, it writes
# nothing that would read them again: only its unseal can see A's slot.
NEWPASS='Lagoon-Thistle-Ember-Quartz-62'
slots() { va passphrase list 2>/dev/null | sed -n 's/^slot \([0-9]*\)\tpassphrase.*/\1/p' | sort; }
SLOTS0=$(slots)
check "host B: seal" out vb seal
vb status --json >"$WORK/b-status.json" 2>&1
check "host B is sealed (status)" grep -q '"sealed":true' "$WORK/b-status.json"
check "host A (online): passphrase add" \
    out va passphrase add --new-passphrase-fd 5 5<<<"$NEWPASS"
NEWSLOT=$(comm -13 <(echo "$SLOTS0") <(slots))
check "... a new passphrase slot: ${NEWSLOT:-none} (before: $(echo $SLOTS0))" \
    test -n "$NEWSLOT" -a "$(echo "$NEWSLOT" | wc -l)" -eq 1
vb unseal --passphrase-fd 3 3<<<"$NEWPASS" >"$WORK/b-unseal.out" 2>&1
st=$?
check "host B (running since before, sealed) unseals with the passphrase added on A (exit $st: $(head -c 120 "$WORK/b-unseal.out" | tr '\n' ' '))" \
    test "$st" -eq 0
r=$(verify B carol "$CAROL_PW2" 192.0.2.97)
check "host B answers after that unseal: carol verifies: $r" test "$r" = ok
check "host B: seal again" out vb seal
check "host A (online): passphrase remove $NEWSLOT (the one added)" \
    out va passphrase remove "$NEWSLOT"
vb unseal --passphrase-fd 3 3<<<"$NEWPASS" >"$WORK/b-unseal2.out" 2>&1
st=$?
check "host B: the passphrase removed on A no longer unseals it (exit $st: $(head -c 120 "$WORK/b-unseal2.out" | tr '\n' ' '))" \
    sh -c "[ $st -ne 0 ] && grep -q 'wrong passphrase' '$WORK/b-unseal2.out'"
check "host B unseals with the first passphrase" \
    out vb unseal --passphrase-fd 3 3<<<"$PASS"
r=$(sm B mailboxes carol@example.org)
check "host B's socketmap answers again: carol@example.org: $r" test "$r" = OK

# --- two mail hosts: a Dovecot and a Postfix per vmsealed ---
# Host A: Dovecot on 127.0.0.2; host B: Dovecot (imap, lmtp) and Postfix
# on 127.0.0.3; each asks its own vmsealed.  lib.sh's starters listen on
# 127.0.0.1: t_dovecot_start_host (lib.sh) is t_dovecot_start_imap with an address, and B's
# Postfix is t_postfix_start moved to 127.0.0.3 (master.cf, reload).
# Dovecot 2.3 through checkpassword, 2.4 through the plugin (t_dovecot_env's
# choice).  Skipped (one SKIP) without Dovecot or Postfix.
DC_OK=
if (skip() { exit 3; }; t_dovecot_env) 8>/dev/null >/dev/null 2>&1 &&
    command -v postfix >/dev/null 2>&1 && getent passwd postfix >/dev/null; then
	t_dovecot_env
	DC_OK=1
fi
DC_PIDS=
PF_STARTED=
cleanup_mail() {
	local p
	for p in $DC_PIDS; do stop_pid "$p"; done
	t_postfix_stop
}
trap 'cleanup_mail; cleanup' EXIT


if [ -n "$DC_OK" ]; then
	read -r IMAP_A IMAP_B LMTP_B SMTP_PORT < <(t_free_ports 4)
	SOCKDIR=$WORK/runA
	t_dovecot_auth_setup || bail "$T_SETUP_ERR"
	DB_A=$DB
	DB_B=${DB//$WORK\/runA/$WORK/runB}
	check "host A: Dovecot on 127.0.0.2:$IMAP_A ($AUTH_MODE, through host A's vmsealed)" \
	    t_dovecot_start_host A 127.0.0.2 "$IMAP_A" "" "$DB_A"
	check "host B: Dovecot on 127.0.0.3:$IMAP_B, LMTP on 127.0.0.3:$LMTP_B (through host B's vmsealed)" \
	    t_dovecot_start_host B 127.0.0.3 "$IMAP_B" "$LMTP_B" "$DB_B"
	PFDIR=$WORK/postfix SPOOL=$WORK/spool MAILLOG=$WORK/maillog
	SM="socketmap:unix:$WORK/runB/socketmap"
	t_postfix_start "virtual_mailbox_domains = $SM:domains
virtual_mailbox_maps = $SM:mailboxes
virtual_alias_maps = $SM:aliases
virtual_transport = lmtp:inet:127.0.0.3:$LMTP_B
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination"
	sed -i "s/^127\.0\.0\.1:$SMTP_PORT /127.0.0.3:$SMTP_PORT /" "$PFDIR/master.cf"
	timeout 30 postfix -c "$PFDIR" reload >/dev/null 2>&1
	cat >"$WORK/mail.py" <<'PY'
import imaplib, smtplib, sys, time
cmd = sys.argv[1]
if cmd == "imap":               # imap ADDR PORT USER PASSWORD
    try:
        m = imaplib.IMAP4(sys.argv[2], int(sys.argv[3]), timeout=20)
        typ, _ = m.login(sys.argv[4], sys.argv[5])
        print(typ)
        m.logout()
    except imaplib.IMAP4.error as e:
        print("NO", str(e.args[0])[:80])
    except OSError as e:
        print("ERR", e)
else:                           # rcpt ADDR PORT RECIPIENT SUBJECT: code
    s = None
    for _ in range(75):
        try:
            s = smtplib.SMTP(sys.argv[2], int(sys.argv[3]), timeout=20)
            break
        except OSError:
            time.sleep(0.2)
    s.ehlo("client.vmseal.test")
    s.mail("sender@elsewhere.test")
    code, _ = s.rcpt(sys.argv[4])
    if code == 250:
        s.data(("Subject: %s\r\n\r\nhello from host B\r\n" %
                sys.argv[5]).encode())
    print(code)
    s.quit()
PY
	imap() { timeout 60 python3 "$WORK/mail.py" imap "$@" 2>&1 | head -n1; }
	rcpt() { timeout 60 python3 "$WORK/mail.py" rcpt 127.0.0.3 "$SMTP_PORT" "$@" 2>&1 | tail -n1; }
	DAVE_PW='Meadow-Pylon-Walnut-62'
	DAVE_PW2='Crater-Juniper-Signal-17'
	mkdir -p "$WORK/home/dave"
	chown -R "$NOBODY_UID:$NOBODY_GID" "$WORK/home"
	chmod 0711 "$WORK/home"
	check "host A: user add dave (dave@example.org, uid nobody, a home)" \
	    out va user add dave --address dave@example.org --uid "$NOBODY_UID" \
	    --gid "$NOBODY_GID" --home "$WORK/home/dave" --password-fd 4 \
	    --no-policy 4<<<"$DAVE_PW"
	r=$(imap 127.0.0.3 "$IMAP_B" dave "$DAVE_PW")
	check "dave (added through host A) logs in over IMAP on host B: $r" test "$r" = OK
	r=$(rcpt nobody@example.org x)
	check "host B's Postfix refuses an unknown address of example.org: $r" test "$r" = 550
	r=$(rcpt dave@example.org "pg-hosts-$$")
	check "host B's Postfix accepts dave@example.org (added on A; B's socketmap): $r" test "$r" = 250
	got=
	for _ in $(seq 150); do
		grep -q "pg-hosts-$$" "$WORK/home/dave/inbox" 2>/dev/null && { got=1; break; }
		sleep 0.2
	done
	check "... and delivers it to dave's mailbox (LMTP to host B's Dovecot)" test -n "$got"
	[ -n "$got" ] || tail -n 5 "$MAILLOG" 2>/dev/null | sed 's/^/#   /'
	check "host B: user passwd dave" \
	    out vb user passwd dave --password-fd 4 --no-policy 4<<<"$DAVE_PW2"
	r=$(imap 127.0.0.2 "$IMAP_A" dave "$DAVE_PW2")
	check "the password changed on B logs in over IMAP on host A: $r" test "$r" = OK
	r=$(imap 127.0.0.2 "$IMAP_A" dave "$DAVE_PW")
	check "... and the old one is refused on A: $r" test "${r%% *}" = NO
else
	t_skip "two mail hosts: needs Dovecot (2.3: checkpassword; 2.4: the plugin) and Postfix"
fi
t_done
