#!/bin/bash
# postfix_chroot.sh - vmsealed answering a Postfix whose smtpd, cleanup and
# trivial-rewrite run chrooted in the queue folder, as Debian's master.cf
# has them (chroot column y): the two ways doc/postfix.md gives.
#
#   plain socketmap:unix:SOCKDIR/socketmap:NAME and check_policy_service
#       unix:SOCKDIR/policy, with SOCKDIR bind-mounted at the same path
#       inside the chroot (doc/postfix.md's recommended form: each Postfix
#       process asks vmsealed directly; tests/bench/pg_e2e.sh measures it
#       against proxy:).  The mount is made in a mount namespace of
#       Postfix's own (unshare -m): nothing is mounted on the machine.
#   proxy:socketmap:... with no mount: proxymap, not chrooted, asks.
#
# Shown: the smtpd processes really are chrooted (/proc/PID/root); without
# the mount the plain form fails "temporary" (451, the connect error
# logged: what an operator who forgot the mount sees), never 550; with it
# a hosted mailbox is accepted, an unknown address refused 550 5.1.1, an
# alias expanded by the chrooted cleanup (delivered to discard with
# orig_to), the policy service asked; sealed, 451 4.3.0; and the proxy:
# form accepts and refuses the same.
#
# Needs root, the postfix package and unshare/mount (util-linux); skips
# otherwise.  Environment as postfix.sh; VMSEAL_TEST_KEEP=1 keeps $WORK.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}

[ "$(id -u)" -eq 0 ] || skip "needs root (Postfix starts only as root)"
PATH=$PATH:/usr/sbin:/sbin
for p in postfix postconf postmap python3 unshare mount findmnt; do
	command -v "$p" >/dev/null 2>&1 || skip "$p not installed"
done
[ -x "$VMSEAL" ] || { echo "not ok 1 - VMSEAL=$VMSEAL is not executable"; exit 1; }
[ -x "$VMSEALED" ] || { echo "not ok 1 - VMSEALED=$VMSEALED is not executable"; exit 1; }
getent passwd postfix >/dev/null || skip "no postfix user"
getent passwd nobody >/dev/null || skip "no nobody user"
unshare -m --propagation private sh -c \
    'd=$(mktemp -d) && mount --bind / "$d" && umount "$d" && rmdir "$d"' \
    >/dev/null 2>&1 || skip "cannot bind-mount in a mount namespace here (unshare -m)"

WORK=$(mktemp -d /tmp/vmseal-pfc-XXXXXX)
chmod 0711 "$WORK"
PFDIR=$WORK/pf
SPOOL=$WORK/spool
SOCKDIR=$WORK/run
MAILLOG=$WORK/log/maillog
SVCLOG=$WORK/vmsealed.log
CONF=$WORK/vmseal.conf
SVC_PID=
PF_STARTED=

diagnostics() {
	echo "# --- vmsealed log (tail) ---"
	tail -n 20 "$SVCLOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- Postfix maillog (tail) ---"
	tail -n 30 "$MAILLOG" 2>/dev/null | sed 's/^/#   /'
}
cleanup() {
	t_postfix_stop
	[ -z "$SVC_PID" ] || { stop_pid "$SVC_PID"; wait "$SVC_PID" 2>/dev/null; }
	if [ -n "${VMSEAL_TEST_KEEP:-}" ]; then echo "# kept $WORK"
	else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

read -r SMTP_PORT < <(t_free_ports 1)
[ -n "$SMTP_PORT" ] || bail "no free port"

# --- the store and vmsealed ---
t_new_store || bail "vmseal init"
{
	vs domain add example.test &&
	vs user add alice --address alice@example.test --no-password &&
	vs alias add info@example.test alice@example.test
} >"$WORK/setup.out" 2>&1 || { cat "$WORK/setup.out"; bail "store set-up"; }
cat >"$CONF" <<EOF
store_dir = $STORE
socket_dir = $SOCKDIR
user = nobody
group = $(id -gn nobody)
socketmap_socket_group = postfix
socketmap_socket_mode = 0660
policy_socket_group = postfix
policy_socket_mode = 0660
EOF
t_svc_start "$CONF" "vmsealed"
t_ok "store (alice@, info@ -> alice@) and vmsealed, unsealed"

# --- an SMTP client: "NAME SENDER RCPT" lines, replies in $WORK/NAME.smtp
cat >"$WORK/smtp.py" <<'PY'
import os, smtplib, sys
work, port = sys.argv[1], int(sys.argv[2])
for line in sys.stdin:
    name, sender, rcpt = line.split()
    with open(os.path.join(work, name + ".smtp"), "w") as out:
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=20)
            s.ehlo("client.example.org")
            s.mail(sender)
            r = s.rcpt(rcpt)
            out.write("RCPT %d %s\n" % (r[0], r[1].decode(errors="replace")))
            if r[0] == 250:
                r = s.data("From: <%s>\r\nTo: <%s>\r\nSubject: t\r\n\r\nhi\r\n"
                           % (sender, rcpt))
                out.write("DATA %d\n" % r[0])
            s.quit()
        except Exception as e:
            out.write("ERROR %r\n" % (e,))
PY
smtp_cases() { timeout 90 python3 "$WORK/smtp.py" "$WORK" "$SMTP_PORT"; }
rcpt() { sed -n 's/^RCPT \([0-9]*\) \([0-9.]*\).*/\1 \2/p' "$WORK/$1.smtp"; }
expect_rcpt() {     # expect_rcpt NAME WANT WHAT
	local got; got=$(rcpt "$1")
	case $got in
	"$2"*) t_ok "$3 ($(sed -n 's/^RCPT //p' "$WORK/$1.smtp" | head -c 100))";;
	*) t_fail "$3: RCPT '$got', wanted '$2'"; sed 's/^/#   /' "$WORK/$1.smtp";;
	esac
}
policy_requests() {
	"$VMSEAL" -c "$CONF" status --json 2>/dev/null |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["policy"]["requests"])'
}

# maincf MAPS: main.cf lines with the four maps of the form MAPS ("plain"
# or "proxy"), the policy service (plain only), discard delivery.
maincf() {
	local m pre=
	[ "$1" = proxy ] && pre=proxy:
	for m in domains mailboxes aliases senders; do
		eval "M_$m=${pre}socketmap:unix:$SOCKDIR/socketmap:$m"
	done
	cat <<EOF
virtual_mailbox_domains = $M_domains
virtual_mailbox_maps = $M_mailboxes
virtual_alias_maps = $M_aliases
smtpd_sender_login_maps = $M_senders
virtual_transport = discard
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient$([ "$1" = plain ] && printf ',\n    check_policy_service unix:%s/policy' "$SOCKDIR")
EOF
}
# chrooted: "N BAD": of this Postfix's smtpd processes (its master's
# children), N have $SPOOL as their root, BAD do not.  Compared by device
# and inode: /proc/PID/root's link text is the path as seen from the
# reader's root, which differs when the process is in another mount
# namespace inside a chroot (the Debian 13 root).
chrooted() {
	local p n=0 bad=0 master want
	master=$(tr -d ' ' <"$SPOOL/pid/master.pid")
	want=$(stat -c %d:%i "$SPOOL")
	for p in $(pgrep -P "$master" -x smtpd); do
		if [ "$(stat -Lc %d:%i "/proc/$p/root" 2>/dev/null)" = "$want" ]; then
			n=$((n + 1))
		else
			bad=$((bad + 1))
		fi
	done
	echo "$n $bad"
}

export T_PF_CHROOT=y

# --- 1. plain socketmap, chrooted, no mount: temporary, never "unknown"
t_postfix_start "$(maincf plain)"
smtp_cases <<EOF
nomount-alice sender@example.org alice@example.test
EOF
read -r n bad < <(chrooted)
check "smtpd runs chrooted in the queue folder (/proc/PID/root: $n chrooted, $bad not)" \
    test "$n" -ge 1 -a "$bad" -eq 0
expect_rcpt nomount-alice "451 4.3.0" \
    "no mount: the chrooted smtpd cannot reach the socket: 451, not 550"
check "... and Postfix logs why (the socket's connect error)" \
    grep -q "socketmap.*$SOCKDIR/socketmap.*No such file or directory" "$MAILLOG"
t_postfix_stop

# --- 2. plain socketmap with the socket folder mounted into the chroot
cat >"$WORK/launch.sh" <<EOF
#!/bin/sh
# Postfix in a mount namespace of its own, with $SOCKDIR visible at the
# same path inside its chroot.
exec unshare -m --propagation private sh -c 'mkdir -p "$SPOOL$SOCKDIR" &&
    mount --bind "$SOCKDIR" "$SPOOL$SOCKDIR" && exec "\$0" "\$@"' "\$@"
EOF
chmod 0755 "$WORK/launch.sh"
T_PF_LAUNCH=$WORK/launch.sh
P0=$(policy_requests)
t_postfix_start "$(maincf plain)"
check "the mount is Postfix's own: none on the machine at $SPOOL$SOCKDIR" \
    sh -c "! findmnt -rn '$SPOOL$SOCKDIR' >/dev/null"
smtp_cases <<EOF
plain-alice sender@example.org alice@example.test
plain-info sender@example.org info@example.test
plain-nobody sender@example.org nobody@example.test
EOF
read -r n bad < <(chrooted)
check "smtpd runs chrooted ($n chrooted, $bad not)" test "$n" -ge 1 -a "$bad" -eq 0
expect_rcpt plain-alice "250" "plain socketmap in the chroot: a hosted mailbox is accepted"
expect_rcpt plain-info "250" "... an alias is accepted"
expect_rcpt plain-nobody "550 5.1.1" "... an unknown address is refused 550 5.1.1"
for _ in $(seq 100); do
	grep -q "orig_to=<info@example.test>.*status=sent" "$MAILLOG" && break
	sleep 0.1
done
check "... the chrooted cleanup expands info@ to alice@ (delivered to discard)" \
    grep -q "to=<alice@example.test>, orig_to=<info@example.test>.*status=sent" "$MAILLOG"
P1=$(policy_requests)
check "... and the chrooted smtpd asked the policy service ($P0 -> $P1 requests)" \
    test "${P1:-0}" -gt "${P0:-0}"
"$VMSEAL" -c "$CONF" seal >"$WORK/seal.out" 2>&1 ||
    { cat "$WORK/seal.out"; bail "vmseal seal"; }
postfix -c "$PFDIR" reload >/dev/null 2>&1; sleep 1
smtp_cases <<EOF
sealed-alice sender@example.org alice@example.test
sealed-nobody sender@example.org nobody@example.test
EOF
expect_rcpt sealed-alice "451 4.3.0" "sealed: a hosted mailbox gets 451 4.3.0"
expect_rcpt sealed-nobody "451 4.3.0" "sealed: an unknown address gets 451 4.3.0, not 550"
t_postfix_stop
unset T_PF_LAUNCH
"$VMSEAL" -c "$CONF" unseal --passphrase-fd 3 3<<<"$PASS" >"$WORK/unseal.out" 2>&1 ||
    { cat "$WORK/unseal.out"; bail "vmseal unseal"; }

# --- 3. proxy:socketmap, chrooted, no mount
t_postfix_start "$(maincf proxy)"
smtp_cases <<EOF
proxy-alice sender@example.org alice@example.test
proxy-nobody sender@example.org nobody@example.test
EOF
expect_rcpt proxy-alice "250" "proxy:socketmap, chrooted, no mount: a hosted mailbox is accepted"
expect_rcpt proxy-nobody "550 5.1.1" "... an unknown address is refused 550 5.1.1"
t_postfix_stop

t_done
