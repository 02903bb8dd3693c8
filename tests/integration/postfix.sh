#!/bin/bash
# postfix.sh - vmsealed answering a real Postfix 3.7.
#
# Starts, all by itself and on loopback only, a throwaway vmsealed (sealed,
# then unsealed by the test) and a throwaway Postfix instance (own
# config_directory, queue_directory and data_directory, chroot column n,
# smtpd on 127.0.0.1:<free port>, maillog_file in the work folder) whose
# virtual maps are vmsealed's socketmap and whose recipient restrictions
# ask vmsealed's policy service.  Mail for virtual domains goes to an LMTP
# port where nothing listens, so every accepted message stays deferred in
# the queue, where the test finds it with "postqueue -j".
#
# Shown with Python's smtplib: hosted mailbox accepted and queued; unknown
# address 550 5.1.1; sealed 451 4.3.0 and, after unseal and "postfix
# reload", the same message accepted (nothing lost); queued mail survives a
# flush while sealed, nothing bounces; catch-all; an alias chain; +tag;
# mixed case; XCLIENT LOGIN=alice may send as alice@ but not as ron@ (5.7.1 from the
# policy service); "postmap -q" on each map as lib/lookup.h says.
#
# Needs root (Postfix starts only as root) and the postfix package; skips
# otherwise.  Environment: VMSEAL (helper/vmseal), VMSEALED
# (service/vmsealed; default next to VMSEAL), TOP_SRCDIR; VMSEAL_TEST_KEEP=1
# keeps the work folder (maillog, vmsealed.log, *.smtp, queue.json).
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}

[ "$(id -u)" -eq 0 ] || skip "needs root (Postfix starts only as root)"
for p in postfix postconf postmap postqueue python3 runuser; do
	command -v "$p" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
	command -v "$p" >/dev/null 2>&1 || skip "$p not installed"
done
[ -x "$VMSEAL" ] || { echo "not ok 1 - VMSEAL=$VMSEAL is not executable"; exit 1; }
[ -x "$VMSEALED" ] || { echo "not ok 1 - VMSEALED=$VMSEALED is not executable"; exit 1; }
getent passwd postfix >/dev/null || skip "no postfix user"
getent group postfix >/dev/null || skip "no postfix group"
getent passwd nobody >/dev/null || skip "no nobody user"
NOGROUP=$(id -gn nobody)

WORK=$(mktemp -d /tmp/vmseal-pf-XXXXXX)
# Postfix's processes (user postfix) must reach the sockets below.
chmod 0711 "$WORK"
PFDIR=$WORK/pf             # config_directory
SPOOL=$WORK/spool          # queue_directory
SOCKDIR=$WORK/run          # vmsealed's sockets
MAILLOG=$WORK/log/maillog
SVCLOG=$WORK/vmsealed.log
CONF=$WORK/vmseal.conf
SVC_PID=
PF_STARTED=

diagnostics() {
	echo "# --- vmsealed log (tail) ---"
	tail -n 30 "$SVCLOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- Postfix maillog (tail) ---"
	tail -n 40 "$MAILLOG" 2>/dev/null | sed 's/^/#   /'
}

cleanup() {
	local pid i
	t_postfix_stop
	if [ -n "$SVC_PID" ]; then
		kill "$SVC_PID" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$SVC_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$SVC_PID" 2>/dev/null
		wait "$SVC_PID" 2>/dev/null
	fi
	if [ -n "${VMSEAL_TEST_KEEP:-}" ]; then
		echo "# kept $WORK (VMSEAL_TEST_KEEP)"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Two free ports above 20000, chosen at random: smtpd's, and one where
# nothing listens (the LMTP "Dovecot" that is never there).
read -r SMTP_PORT LMTP_PORT < <(t_free_ports 2)
[ -n "$LMTP_PORT" ] || bail "no free ports found"

# --- the store: the seed's users and domains, plus aliases ---
cat >"$WORK/htpasswd" <<'X'
ron:hLILWelxS7E82
alice:ildPSIfh7EkT2
X
cat >"$WORK/virtual_mailbox_map" <<'X'
ron@linuxcoaching.eu ron
alice@somedomain.ie alice
X
t_new_store || bail "vmseal init"
{
	vs import htpasswd "$WORK/htpasswd" --uid 555 --gid 555 \
	    --home '/kx/dovecot/home/%n' && \
	vs import postfix-map "$WORK/virtual_mailbox_map" && \
	vs user add bob --address bob@somedomain.ie --no-password && \
	vs alias add info@somedomain.ie team@somedomain.ie && \
	vs alias add team@somedomain.ie alice@somedomain.ie,bob@somedomain.ie && \
	vs alias add @linuxcoaching.eu ron@linuxcoaching.eu
} >"$WORK/setup.out" 2>&1 || { cat "$WORK/setup.out"; bail "store set-up"; }
t_ok "store with the seed's users, bob, an alias chain and a catch-all"

# --- vmsealed ---
cat >"$CONF" <<EOF
store_dir = $STORE
socket_dir = $SOCKDIR
user = nobody
group = $NOGROUP
socketmap_socket_group = postfix
socketmap_socket_mode = 0660
policy_socket_group = postfix
policy_socket_mode = 0660
recipient_delimiter = +
EOF
"$VMSEALED" -c "$CONF" -f </dev/null >"$SVCLOG" 2>&1 &
SVC_PID=$!
# vs_svc ARGS...: vmseal through the running service's admin socket.
vs_svc() { "$VMSEAL" -c "$CONF" "$@"; }
ready=
for i in $(seq 100); do
	if vs_svc status >"$WORK/status.out" 2>&1; then ready=1; break; fi
	kill -0 "$SVC_PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$ready" ] || bail "vmsealed answers 'vmseal status' within 10 s"
t_ok "vmsealed started and answers on its admin socket"
check "vmsealed starts sealed" grep -q '^state: *SEALED' "$WORK/status.out"
SOCK=$SOCKDIR/socketmap
POLICY=$SOCKDIR/policy
check "socketmap socket is group postfix, mode 0660" \
    test "$(stat -c %G:%a "$SOCK")" = postfix:660
check "policy socket is group postfix, mode 0660" \
    test "$(stat -c %G:%a "$POLICY")" = postfix:660

# --- Postfix ---
mkdir -p "$PFDIR" "$SPOOL" "$WORK/data" "$WORK/log" "$WORK/sasl"
# data_directory belongs to mail_owner; "postfix start" (its check step)
# creates the queue's subfolders with their owners.
chown postfix "$WORK/data"
# SASL is enabled because smtpd passes sasl_username (set by XCLIENT
# LOGIN) to the policy service only then (Postfix's smtpd_check.c); Cyrus
# with a sasldb that does not exist: nobody can AUTH, XCLIENT is the only
# way in.
cat >"$WORK/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $WORK/sasl/sasldb2
mech_list: PLAIN LOGIN
EOF
SM="socketmap:unix:$SOCK"
t_postfix_start "smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
virtual_mailbox_domains = $SM:domains
virtual_mailbox_maps = $SM:mailboxes
virtual_alias_maps = $SM:aliases
smtpd_sender_login_maps = $SM:senders
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
recipient_delimiter = +

smtpd_relay_restrictions =
smtpd_sender_restrictions =
smtpd_recipient_restrictions =
    check_policy_service unix:$POLICY,
    reject_unauth_destination

smtpd_authorized_xclient_hosts = 127.0.0.1
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $WORK/sasl"

# The SMTP client: reads cases "NAME LOGIN|- SENDER RCPT..." on stdin, one
# SMTP session each, and writes "STEP CODE TEXT" lines to $WORK/NAME.smtp
# (one Python for many sessions: the test stays fast on a loaded machine).
cat >"$WORK/smtp.py" <<'PY'
import os, smtplib, sys
work, port = sys.argv[1], int(sys.argv[2])
def session(out, login, sender, rcpts):
    def show(step, r):
        out.write("%s %d %s\n" % (step, r[0],
                  r[1].decode(errors="replace").replace("\n", " ")))
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.vmseal.test",
                     timeout=20)
    s.ehlo()
    if login != "-":
        show("XCLIENT", s.docmd("XCLIENT", "LOGIN=" + login))
        s.ehlo()
    show("MAIL", s.mail(sender))
    ok = 0
    for a in rcpts:
        r = s.rcpt(a)
        show("RCPT", r)
        ok += r[0] == 250
    if ok:
        show("DATA", s.data(("From: <%s>\r\nTo: <%s>\r\nSubject: vmseal "
                             "test\r\n\r\nhello\r\n") % (sender, rcpts[0])))
    s.quit()
for line in sys.stdin:
    f = line.split()
    if len(f) < 4:
        continue
    with open(os.path.join(work, f[0] + ".smtp"), "w") as out:
        try:
            session(out, f[1], f[2], f[3:])
        except Exception as e:
            out.write("ERROR %r\n" % (e,))
PY
# smtp_cases <<EOF ... : run the cases (see smtp.py).
smtp_cases() { timeout 60 python3 "$WORK/smtp.py" "$WORK" "$SMTP_PORT"; }
# rcpt_code NAME: the first RCPT reply's "CODE ENHANCED" ("250 2.1.5").
rcpt_code() { sed -n 's/^RCPT \([0-9]*\) \([0-9.]*\).*/\1 \2/p;T;q' "$WORK/$1.smtp"; }

# Ready when smtpd greets with 220 (bash's /dev/tcp: no process per try).
ready=
for i in $(seq 150); do
	if { exec 5<>"/dev/tcp/127.0.0.1/$SMTP_PORT"; } 2>/dev/null; then
		line=
		read -r -t 5 line <&5
		printf 'QUIT\r\n' >&5 2>/dev/null
		exec 5>&- 5<&-
		case $line in 220*) ready=1; break;; esac
	fi
	sleep 0.1
done
[ -n "$ready" ] || bail "Postfix smtpd answers 220 on 127.0.0.1:$SMTP_PORT within 15 s"
t_ok "Postfix started (smtpd on 127.0.0.1:$SMTP_PORT, LMTP to closed port $LMTP_PORT)"

# queue_snapshot: the queue as "sender<TAB>rcpt,rcpt" lines (recipients
# lower-cased and sorted) in $WORK/queue.txt.  Accepted mail is in the
# queue (incoming, active or deferred) once DATA got its 250.  postqueue
# reads the queue folders one after the other while qmgr moves messages
# between them, so one listing can show a message twice or miss it: a
# message counts once (by queue id), and the snapshot is the first that
# two listings in a row agree on.
queue_snapshot() {
	local prev= cur i
	for i in $(seq 20); do
		postqueue -c "$PFDIR" -j >"$WORK/queue.json" 2>"$WORK/queue.err"
		python3 - "$WORK/queue.json" >"$WORK/queue.txt" <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    r = sorted(x["address"].lower() for x in m.get("recipients", []))
    seen[m.get("queue_id", line)] = "%s\t%s" % (m.get("sender", "").lower(),
                                                ",".join(r))
for v in sorted(seen.values()):
    print(v)
PY
		cur="q:$(cat "$WORK/queue.txt")"
		[ "$cur" = "$prev" ] && return 0
		prev=$cur
		sleep 0.1
	done
}
# queued SENDER: the recipients of the messages from SENDER, per snapshot.
queued() { awk -F'\t' -v s="$1" '$1 == s { print $2 }' "$WORK/queue.txt" | sort | paste -sd' '; }
# expect_queued SENDER RCPTS WHAT
expect_queued() {
	local got; got=$(queued "$1")
	if [ "$got" = "$2" ]; then t_ok "$3"
	else t_fail "$3: queued for '$got', wanted '$2'"; fi
}
# expect_smtp NAME WANT WHAT: the first RCPT reply is WANT ("250 2.1.5").
expect_smtp() {
	local got; got=$(rcpt_code "$1")
	case $got in
	$2*) t_ok "$3 ($(sed -n '/^RCPT/{s/^RCPT //p;q}' "$WORK/$1.smtp"))";;
	*) t_fail "$3: RCPT '$got', wanted '$2'"
	   sed 's/^/#   /' "$WORK/$1.smtp";;
	esac
}
# pmq MAP KEY: postmap -q on vmsealed's socketmap; stdout/stderr in
# $WORK/pmq.out, $WORK/pmq.err; returns postmap's status.
pmq() { postmap -c "$PFDIR" -q "$2" "$SM:$1" >"$WORK/pmq.out" 2>"$WORK/pmq.err"; }
# expect_map MAP KEY VALUE|- : found with VALUE (exit 0), or '-' not found
# (exit 1, no error).
expect_map() {
	local st; pmq "$1" "$2"; st=$?
	if [ "$3" = - ]; then
		if [ $st -eq 1 ] && [ ! -s "$WORK/pmq.out" ] &&
		    [ ! -s "$WORK/pmq.err" ]; then
			t_ok "postmap -q $2 $1: not found (exit 1)"
		else
			t_fail "postmap -q $2 $1: exit $st, '$(cat "$WORK/pmq.out" "$WORK/pmq.err")', wanted not found"
		fi
	elif [ $st -eq 0 ] && [ "$(cat "$WORK/pmq.out")" = "$3" ]; then
		t_ok "postmap -q $2 $1: $3"
	else
		t_fail "postmap -q $2 $1: exit $st, '$(cat "$WORK/pmq.out" "$WORK/pmq.err")', wanted '$3'"
	fi
}
# expect_map_temp MAP KEY: a temporary error, not "not found".
expect_map_temp() {
	local st; pmq "$1" "$2"; st=$?
	if [ $st -ne 0 ] && grep -q 'sealed' "$WORK/pmq.err"; then
		t_ok "postmap -q $2 $1 while sealed: temporary error (exit $st: $(head -c 120 "$WORK/pmq.err" | tr '\n' ' '))"
	else
		t_fail "postmap -q $2 $1 while sealed: exit $st, '$(cat "$WORK/pmq.out" "$WORK/pmq.err")'"
	fi
}

# --- sealed: "later", never "no" ---
for m in domains mailboxes aliases senders; do
	expect_map_temp $m alice@somedomain.ie
done
smtp_cases <<'EOF'
sealed - case-sealed@client.vmseal.test alice@somedomain.ie
sealed-unknown - case-sealed-unknown@client.vmseal.test nobody@somedomain.ie
EOF
expect_smtp sealed "451 4.3.0" "RCPT to a hosted mailbox while sealed: 451 4.3.0"
expect_smtp sealed-unknown "451 4.3.0" "RCPT to an unknown address while sealed: 451 4.3.0, not 550"
queue_snapshot
check "nothing queued while sealed (queue empty)" test ! -s "$WORK/queue.json"

vs_svc unseal --passphrase-fd 3 3<<<"$PASS" >"$WORK/unseal.out" 2>&1 ||
    { cat "$WORK/unseal.out"; bail "vmseal unseal"; }
vs_svc status >"$WORK/status.out" 2>&1
check "vmseal unseal through the admin socket: status says unsealed" \
    grep -q '^state: *unsealed' "$WORK/status.out"

# smtpd caches address resolution per (sender, recipient) for the life of
# the process, failures included: the same client retrying the same
# message would get 451 from an smtpd that served it while sealed.  The
# operator's step after unseal is "postfix reload" (doc/postfix.md); wait
# for the smtpd processes of before the reload to leave.
MASTER_PID=$(tr -d ' ' <"$SPOOL/pid/master.pid")
old_smtpd=$(ps -o pid=,comm= --ppid "$MASTER_PID" | awk '$2 == "smtpd" { print $1 }')
postfix -c "$PFDIR" reload </dev/null >"$WORK/reload.out" 2>&1
check "postfix reload after unseal" test $? -eq 0
for i in $(seq 100); do
	left=
	for p in $old_smtpd; do kill -0 "$p" 2>/dev/null && left=1; done
	[ -z "$left" ] && break
	sleep 0.1
done

smtp_cases <<'EOF'
sealed - case-sealed@client.vmseal.test alice@somedomain.ie
mailbox - case-mailbox@client.vmseal.test alice@somedomain.ie
unknown - case-unknown@client.vmseal.test nobody@somedomain.ie
relay - case-relay@client.vmseal.test someone@elsewhere.example
catchall - case-catchall@client.vmseal.test whoever@linuxcoaching.eu
ron - case-ron@client.vmseal.test Ron@LinuxCoaching.EU
chain - case-chain@client.vmseal.test info@somedomain.ie
tag - case-tag@client.vmseal.test alice+tag@somedomain.ie
tagalias - case-tagalias@client.vmseal.test info+news@somedomain.ie
case - case-case@client.vmseal.test ALICE@SomeDomain.IE
sasl-bad alice ron@linuxcoaching.eu bob@somedomain.ie
sasl-good alice alice@somedomain.ie bob@somedomain.ie
sasl-tag alice alice+lists@somedomain.ie ron@linuxcoaching.eu
sasl-team bob team@somedomain.ie alice@somedomain.ie
sasl-info bob info@somedomain.ie alice@somedomain.ie
inbound - bob@somedomain.ie alice@somedomain.ie
EOF
queue_snapshot

expect_smtp sealed "250" "the same message after unseal: accepted"
expect_queued case-sealed@client.vmseal.test alice@somedomain.ie \
    "...and queued for alice (nothing lost)"

# --- recipients ---
expect_smtp mailbox "250" "hosted mailbox accepted"
expect_queued case-mailbox@client.vmseal.test alice@somedomain.ie \
    "hosted mailbox queued for alice@somedomain.ie"
expect_smtp unknown "550 5.1.1" "unknown address in a domain without catch-all: 550 5.1.1"
expect_queued case-unknown@client.vmseal.test "" \
    "nothing queued for the unknown address"
expect_smtp relay "554 5.7.1" "a domain not hosted: relay access denied"
expect_smtp catchall "250" "unknown local part in a catch-all domain accepted"
expect_queued case-catchall@client.vmseal.test ron@linuxcoaching.eu \
    "catch-all queued to its target ron@linuxcoaching.eu"
expect_smtp ron "250" "a mailbox in a catch-all domain accepted"
expect_queued case-ron@client.vmseal.test ron@linuxcoaching.eu \
    "...and queued for itself, not redirected by the catch-all"
expect_smtp chain "250" "alias chain info@ -> team@ -> alice, bob accepted"
expect_queued case-chain@client.vmseal.test \
    alice@somedomain.ie,bob@somedomain.ie "alias chain queued to alice and bob"
expect_smtp tag "250" "+tag address accepted"
expect_queued case-tag@client.vmseal.test alice+tag@somedomain.ie \
    "+tag address queued as is (the mailbox's address with its extension)"
expect_smtp tagalias "250" "+tag on an alias accepted"
expect_queued case-tagalias@client.vmseal.test \
    alice@somedomain.ie,bob@somedomain.ie "+tag on an alias queued to the chain's end"
expect_smtp case "250" "mixed-case ALICE@SomeDomain.IE accepted"
expect_queued case-case@client.vmseal.test alice@somedomain.ie \
    "mixed-case address queued for alice"

# --- senders: the policy service checks a login's envelope sender ---
if grep -q '^XCLIENT 220' "$WORK/sasl-bad.smtp"; then
	t_ok "XCLIENT LOGIN=alice accepted from 127.0.0.1"
else
	t_fail "XCLIENT LOGIN=alice"; sed 's/^/#   /' "$WORK/sasl-bad.smtp"
fi
expect_smtp sasl-bad "554 5.7.1" "login alice as MAIL FROM:<ron@linuxcoaching.eu>: rejected by the policy service"
expect_in "$WORK/sasl-bad.smtp" "is not owned by user alice" "...with the policy service's reason"
expect_queued ron@linuxcoaching.eu "" "nothing queued from the forged sender"
expect_smtp sasl-good "250" "login alice as MAIL FROM:<alice@somedomain.ie>: accepted"
expect_queued alice@somedomain.ie bob@somedomain.ie "...and queued for bob"
expect_smtp sasl-tag "250" "login alice as MAIL FROM:<alice+lists@somedomain.ie>: accepted"
expect_smtp sasl-team "250" "login bob as MAIL FROM:<team@somedomain.ie> (alias to bob): accepted"
expect_smtp sasl-info "554 5.7.1" "login bob as MAIL FROM:<info@somedomain.ie> (alias of an alias): rejected"
expect_smtp inbound "250" "without a login, the policy service leaves the sender alone"

# --- postmap -q on each map (lib/lookup.h) ---
expect_map domains somedomain.ie somedomain.ie
expect_map domains LinuxCoaching.EU linuxcoaching.eu
expect_map domains elsewhere.example -
expect_map domains alice@somedomain.ie -
expect_map mailboxes alice@somedomain.ie alice
expect_map mailboxes ALICE@SomeDomain.IE alice
expect_map mailboxes alice+tag@somedomain.ie alice
expect_map mailboxes nobody@somedomain.ie -
expect_map mailboxes info@somedomain.ie -
expect_map mailboxes @somedomain.ie -
expect_map aliases info@somedomain.ie team@somedomain.ie
expect_map aliases team@somedomain.ie alice@somedomain.ie,bob@somedomain.ie
expect_map aliases info+x@somedomain.ie team@somedomain.ie
expect_map aliases alice@somedomain.ie -
expect_map aliases alice+tag@somedomain.ie -
expect_map aliases nobody@somedomain.ie -
expect_map aliases whoever@linuxcoaching.eu ron@linuxcoaching.eu
expect_map aliases @linuxcoaching.eu ron@linuxcoaching.eu
expect_map aliases ron@linuxcoaching.eu -
expect_map senders alice@somedomain.ie alice
expect_map senders Alice+x@SomeDomain.ie alice
expect_map senders team@somedomain.ie alice,bob
expect_map senders info@somedomain.ie -
expect_map senders whoever@linuxcoaching.eu -
expect_map senders @linuxcoaching.eu -
expect_map senders nobody@somedomain.ie -
# Postfix's own processes run as user postfix: the socket must let them in.
if runuser -u postfix -- postmap -c "$PFDIR" -q alice@somedomain.ie \
    "$SM:mailboxes" >"$WORK/pmq.out" 2>&1 && [ "$(cat "$WORK/pmq.out")" = alice ]; then
	t_ok "user postfix can query the socketmap"
else
	t_fail "user postfix cannot query the socketmap: $(cat "$WORK/pmq.out")"
fi
if runuser -u nobody -- postmap -c "$PFDIR" -q alice@somedomain.ie \
    "$SM:mailboxes" >"$WORK/pmq.out" 2>&1; then
	t_fail "user nobody (not in group postfix) can query the socketmap"
else
	t_ok "other users cannot query the socketmap"
fi

# --- sealed again: back to 4xx ---
vs_svc seal >"$WORK/seal.out" 2>&1
check "vmseal seal" test $? -eq 0
smtp_cases <<'EOF'
resealed - case-resealed@client.vmseal.test alice@somedomain.ie
EOF
expect_smtp resealed "4" "after seal, RCPT to a hosted mailbox is 4xx again"
expect_map_temp mailboxes alice@somedomain.ie

# Sealed with mail in the queue: a flush makes qmgr resolve every
# recipient again (domains map: TEMP); everything stays deferred, nothing
# bounces.
before=$(wc -l <"$WORK/queue.txt")
postqueue -c "$PFDIR" -f </dev/null >/dev/null 2>&1
sleep 2
queue_snapshot
check "after a flush while sealed, all $before messages are still queued" \
    test "$(wc -l <"$WORK/queue.txt")" -eq "$before"
if grep -q $'^\t' "$WORK/queue.txt"; then
	t_fail "a bounce (null sender) is in the queue"
else
	t_ok "nothing bounced"
fi

[ "$T_FAILED" -eq 0 ] || diagnostics
t_done
