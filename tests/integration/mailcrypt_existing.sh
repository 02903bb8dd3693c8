#!/bin/bash
# mailcrypt_existing.sh - encrypting mail stored before a user got mail
# keys (issue 13; doc/mail-crypt.md, "Encrypting mail stored before the
# keys").  mail_crypt encrypts only what it saves: a user's mail from
# before the keys stays in the clear until it is saved again.  This test
# runs the operator's procedure from the documentation, with Dovecot's own
# tools and without the user's password, and shows that it works.
#
# The procedure (encrypt_existing below, the documented commands), with
# bob kicked and nothing delivered meanwhile: nothing to do when every
# message file starts with mail_crypt's CRYPTED header; else
#   1. the Maildir moved aside (Maildir.plain), and the message files that
#      are encrypted already put aside from it (Maildir.enc, same relative
#      paths): reading them needs the private key, which the procedure
#      does not have;
#   2. "doveadm -o maildir_copy_with_hardlinks=no backup -R -u bob
#      maildir:~/Maildir.plain": dsync pulls every folder into a new, empty
#      Maildir, keeping UIDVALIDITY, UIDs, flags and keywords, and saves
#      each message through mail_crypt with bob's public key (the userdb
#      lookup gives it and mail_crypt_save_version=2): encrypted.  Without
#      the -o, dsync (in one process) copies with mailbox_copy(), which
#      mail_crypt lets through as it is for a user with global keys, and
#      Maildir hardlinks the plain file (measured on 2.3.19 and 2.4.1);
#   3. the encrypted files back into Maildir.plain (Dovecot sees them as
#      new messages there), and "doveadm backup -R" again, hardlinks
#      allowed: they are linked as they are, with their flags, under new
#      UIDs (the plain ones keep theirs);
#   4. every message file must now start with CRYPTED;
#   5. the index cache files deleted (dsync caches From, Subject,
#      Message-ID, Date in the clear; Dovecot rebuilds the cache), and
#      Maildir.plain.
# Letting dsync meet an encrypted message instead fails: it stops the
# whole run at the first one (exit 75, "Private key not available"), so
# what is saved depends on the order of the folders and messages
# (measured on 2.3.19).
#
# Set up, throwaway and on loopback: vmsealed on a temporary store (cheap
# Argon2id), bob without mail keys; a Dovecot (2.3 or 2.4) with imap and
# lmtp, mail_crypt in global-keys mode, read only by default (vmsealed's
# userdb answer switches writing on for users with keys), the native
# driver (libauthdb_vmseal.so), Maildir under $WORK/mail.  Shown:
#   - three plain messages delivered over LMTP to bob, one saved into a
#     folder Archive (doveadm save), each with unique markers in its body,
#     Subject and Message-ID: grep -r finds all 12 on disk (the scan can
#     fail); \Seen and $Label1 set on INBOX UID 2; bob reads the four
#     over IMAP;
#   - "vmseal user mail-key bob --generate" through vmsealed; "doveadm user
#     bob" then carries the public key and no private key; message 5
#     (LMTP, then \Flagged) and message 6 (doveadm save into a folder
#     Mixed) are stored encrypted; INBOX UID 1 copied into Mixed after
#     message 6 stays plain (a hardlink): the old Maildir holds both
#     kinds, in both orders;
#   - the procedure succeeds (both dsync passes exit 0) with no password
#     (vmsealed's count of password verifications does not move);
#   - after it: 7 message files, each starting with CRYPTED; Maildir.plain
#     and Maildir.enc gone; neither grep -r nor strings(1) over every file
#     of the mail root finds any of the 18 markers;
#   - bob (with his password) reads over IMAP the same folders: same
#     UIDVALIDITYs, same 7 messages with the same flags (\Seen $Label1,
#     \Flagged) and bodies, the plain ones under their old UIDs;
#   - a second run finds nothing to encrypt and changes nothing (same
#     checks again);
#   - message 7, delivered after it, is stored encrypted and read.
#
# Not covered: mbox and dbox (Maildir only); a mail location with a
# separate INDEX or CONTROL folder; deliveries or logins during the
# procedure (the documentation says to hold them); the freed disk blocks
# of the deleted plain files (a filesystem matter); FTS indexes (they live
# under ~/Maildir with fts-xapian and go with Maildir.plain; measured by
# hand, doc/mail-crypt.md).
#
# Needs root, dovecot-imapd, dovecot-lmtpd (mail_crypt in dovecot-core),
# python3, strings (binutils); skips otherwise.  Environment as
# mailcrypt_e2e.sh (t_dovecot_env in lib.sh; the plugin route only).
# KEEP_WORK=1 keeps the work folder.
# (bash: lib.sh needs it; "sh mailcrypt_existing.sh" runs it again in bash)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(dirname "$0")/../..}
. "$TOP_SRCDIR/tests/integration/lib.sh"
AUTH_MODE=plugin
t_dovecot_env
[ -x /usr/lib/dovecot/lmtp ] || skip "dovecot-lmtpd not installed"
[ -f "$MODULE_DIR/lib10_mail_crypt_plugin.so" ] ||
    skip "Dovecot's mail_crypt plugin not installed"
command -v strings >/dev/null 2>&1 || skip "strings (binutils) not installed"

WORK=$(mktemp -d /tmp/vmseal-mcx-XXXXXX)
chmod 0711 "$WORK"
SOCKDIR=$WORK/run
CONF=$WORK/vmseal.conf
SVCLOG=$WORK/vmsealed.log
DCBASE=$WORK/dc
DCCONF=$WORK/dovecot.conf
DCLOG=$WORK/dovecot.log
MAILROOT=$WORK/mail
BOBHOME=$MAILROOT/bob
SVC_PID="" DC_STARTED="" MODULE_COPIED="" SETMOD_COPIED=""

diagnostics() {
	echo "# --- vmsealed log (tail) ---"
	tail -n 20 "$SVCLOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- Dovecot log (tail) ---"
	tail -n 30 "$DCLOG" 2>/dev/null | sed 's/^/#   /'
}
cleanup() {
	t_dovecot_stop
	if [ -n "$SVC_PID" ]; then stop_pid "$SVC_PID"; wait "$SVC_PID" 2>/dev/null; fi
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

read -r IMAP_PORT LMTP_PORT < <(t_free_ports 2)
[ -n "${LMTP_PORT:-}" ] || bail "no free ports found"
BOB_PW='Falcon-Pepper-Canyon-93'

# --- the store: bob without keys ---
t_new_store || bail "vmseal init"
{
	vs --offline domain add example.org &&
	vs --offline user add bob --address bob@example.org \
	    --uid "$NOBODY_UID" --gid "$NOBODY_GID" --home "$BOBHOME" \
	    --mail "maildir:~/Maildir" --password-fd 4 4<<<"$BOB_PW"
} >"$WORK/setup.out" 2>&1 || { sed 's/^/#   /' "$WORK/setup.out"; bail "store set-up"; }
mkdir -p "$MAILROOT"
chown "$NOBODY_UID:$NOBODY_GID" "$MAILROOT"
chmod 0700 "$MAILROOT"

t_svc_for_dovecot
t_ok "vmsealed started and unsealed"
hashes() { t_hashes; }

t_dovecot_auth_setup || bail "$T_SETUP_ERR"
t_dovecot_start_mailcrypt bob "$BOB_PW"
t_ok "Dovecot $DC_VERSION with mail_crypt started, bob's login verified"
da() { timeout 120 doveadm -c "$DCCONF" "$@"; }

cat >"$WORK/cl.py" <<'PY'
import imaplib, re, smtplib, sys
cmd, port = sys.argv[1], int(sys.argv[2])
a = sys.argv[3:]
if cmd == "snap":                      # snap USER PASS: every mailbox's view
    m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    m.login(a[0], a[1])
    for box in ("INBOX", "Archive", "Mixed"):
        typ, d = m.select(box, readonly=True)
        if typ != "OK":
            print("NOSELECT", box); continue
        typ, uv = m.response("UIDVALIDITY")
        print("BOX %s UIDVALIDITY %s" % (box, uv[0].decode()))
        typ, d = m.uid("search", None, "ALL")
        for uid in d[0].split():
            typ, f = m.uid("fetch", uid, "(FLAGS BODY.PEEK[TEXT])")
            meta = f[0][0].decode()
            fl = re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split()
            fl = " ".join(sorted(x for x in fl if x != "\\Recent"))
            body = f[0][1].decode(errors="replace").strip()
            print("MSG %s uid=%s flags=[%s] body=%s" % (box, uid.decode(), fl, body))
    m.logout()
elif cmd == "lmtp":                    # lmtp RCPT BODY SUBJECT MSGID
    s = smtplib.LMTP("127.0.0.1", port, timeout=30)
    s.ehlo("client.vmseal.test")
    s.mail("sender@example.org")
    code, resp = s.rcpt(a[0])
    if code != 250:
        print("RCPT", code, resp); sys.exit(1)
    msg = ("From: <sender@example.org>\r\nTo: <%s>\r\nSubject: %s\r\n"
           "Message-ID: <%s@example.org>\r\n"
           "Date: Fri, 04 Dec 2026 12:00:00 +0000\r\n"
           "\r\n%s\r\n" % (a[0], a[2], a[3], a[1])).encode()
    s.putcmd("data")
    code, resp = s.getreply()
    if code != 354:
        print("DATA", code, resp); sys.exit(1)
    s.send(msg + b".\r\n")
    code, resp = s.getreply()
    print("DATA", code, resp.decode(errors="replace"))
    s.quit()
    sys.exit(0 if code == 250 else 1)
PY

# the markers of message N: body b, Subject s, Message-ID i
R=$RANDOM$RANDOM
MARKERS=
mk() {
	b=vmsx-body$1-$R s=vmsx-subj$1-$R i=vmsx-mid$1-$R
	MARKERS="$MARKERS $b $s $i"
}
# msg N: a message with N's markers on standard output (for doveadm save)
msg() {
	mk "$1"
	printf 'From: <sender@example.org>\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\nDate: Fri, 04 Dec 2026 12:00:00 +0000\r\n\r\n%s\r\n' \
	    "$s" "$i" "$b"
}
nmarkers() { set -- $MARKERS; echo $#; }

# --- plain mail, before the keys ---
for n in 1 2 3; do
	mk "$n"
	timeout 60 python3 "$WORK/cl.py" lmtp "$LMTP_PORT" bob@example.org "$b" "$s" "$i" \
	    >"$WORK/lmtp$n.out" 2>&1
	expect_in "$WORK/lmtp$n.out" "DATA 250" "LMTP delivers plain message $n to bob (no keys)"
done
da mailbox create -u bob Archive Mixed >"$WORK/mbcreate.out" 2>&1
msg 4 >"$WORK/msg4"
da save -u bob -m Archive <"$WORK/msg4" >"$WORK/save.out" 2>&1
check "doveadm save: a plain message in bob's folder Archive" test $? -eq 0
missing=
for m in $MARKERS; do grep -rqF -- "$m" "$BOBHOME" || missing="$missing $m"; done
if [ -z "$missing" ] && [ "$(nmarkers)" -eq 12 ]; then
	t_ok "before the keys: each of the 12 markers (body, Subject, Message-ID) is readable on disk (grep -r)"
else
	t_fail "before the keys: markers not found on disk:$missing"
fi
da flags add -u bob '\Seen $Label1' mailbox INBOX uid 2 >"$WORK/flags.out" 2>&1
check "doveadm flags add: \\Seen and \$Label1 on INBOX UID 2" test $? -eq 0
timeout 60 python3 "$WORK/cl.py" snap "$IMAP_PORT" bob "$BOB_PW" \
    >"$WORK/snap-plain.out" 2>&1
if [ "$(grep -c '^MSG ' "$WORK/snap-plain.out")" -eq 4 ] &&
    grep -q '^MSG INBOX uid=2 flags=\[$Label1 \\Seen\]' "$WORK/snap-plain.out"; then
	t_ok "bob reads his 4 plain messages over IMAP, \\Seen and \$Label1 on INBOX UID 2"
else
	t_fail "IMAP before the keys: not 4 messages, or the flags are wrong"
	sed 's/^/#   /' "$WORK/snap-plain.out"
fi

# --- the keys ---
vs_svc user mail-key bob --generate >"$WORK/mk.out" 2>&1
check "vmseal user mail-key bob --generate (through vmsealed)" test $? -eq 0
da user bob >"$WORK/user.out" 2>&1
if grep -Eq '(mail_crypt_global_public_key|crypt_global_public_key_file)[[:space:]=]+[^[:space:]]' \
    "$WORK/user.out" && ! grep -q private_key "$WORK/user.out"; then
	t_ok "doveadm user bob: the public key, no private key"
else
	t_fail "doveadm user bob: no public key (or a private key)"
	cut -c1-100 "$WORK/user.out" | sed 's/^/#   /'
fi
# Mail from after the keys, in the same Maildir: encrypted.  Message 5
# (INBOX, \Flagged); message 6 first in Mixed, then a copy of the plain
# INBOX UID 1 after it (a copy within the user is a hardlink: plain), so
# that Mixed holds an encrypted message before a plain one.
mk 5
timeout 60 python3 "$WORK/cl.py" lmtp "$LMTP_PORT" bob@example.org "$b" "$s" "$i" \
    >"$WORK/lmtp5.out" 2>&1
expect_in "$WORK/lmtp5.out" "DATA 250" "LMTP delivers message 5 to bob, now with keys"
msg 6 >"$WORK/msg6"
da save -u bob -m Mixed <"$WORK/msg6" >"$WORK/save6.out" 2>&1 &&
    da copy -u bob Mixed mailbox INBOX uid 1 >"$WORK/copy.out" 2>&1 &&
    da flags add -u bob '\Flagged' mailbox INBOX uid 4 >"$WORK/flags5.out" 2>&1
check "message 6 saved to Mixed, INBOX UID 1 copied after it, \\Flagged on message 5" \
    test $? -eq 0
enc_ok=1
for m in "vmsx-body5-$R" "vmsx-body6-$R"; do
	grep -rqF -- "$m" "$BOBHOME/Maildir" && enc_ok=
done
grep -rqF -- "vmsx-body1-$R" "$BOBHOME/Maildir/.Mixed" || enc_ok=
if [ -n "$enc_ok" ]; then
	t_ok "messages 5 and 6 (after the keys) are encrypted, the copy in Mixed is plain: both kinds, in either order"
else
	t_fail "the set-up of encrypted and plain messages is not as wanted"
fi
timeout 60 python3 "$WORK/cl.py" snap "$IMAP_PORT" bob "$BOB_PW" \
    >"$WORK/snap-before.out" 2>&1
n_before=$(grep -c '^MSG ' "$WORK/snap-before.out")
if [ "$n_before" -eq 7 ]; then
	t_ok "bob reads all 7 messages over IMAP before the procedure"
else
	t_fail "IMAP before the procedure: $n_before messages, wanted 7"
	sed 's/^/#   /' "$WORK/snap-before.out"
fi

# --- the procedure (doc/mail-crypt.md), for USER whose home is HOME ---
# Returns 0 when done, 2 when there was nothing to encrypt, 1 on a
# failure (then Maildir.plain and Maildir.enc are kept).  Sets P1 and P2
# (the dsync passes' exit statuses, - when not run) and PLAIN_LEFT (message
# files that do not start with CRYPTED).  Output: $WORK/pass1.out, pass2.out.
plain_files() {         # plain_files DIR: message files not encrypted
	find "$1" -type f \( -path '*/cur/*' -o -path '*/new/*' \) |
	    while read -r f; do
		[ "$(head -c 7 "$f")" = CRYPTED ] || echo "$f"
	done
}
encrypt_existing() {
	local user=$1 home=$2 f
	P1=- P2=- PLAIN_LEFT=
	# nothing to do when every message file is encrypted already
	[ -n "$(plain_files "$home/Maildir")" ] || return 2
	da kick "$user" >"$WORK/kick.out" 2>&1
	mv "$home/Maildir" "$home/Maildir.plain" || return 1
	# 1. the encrypted messages aside (reading them needs the private key)
	(cd "$home/Maildir.plain" &&
	    find . -type f \( -path '*/cur/*' -o -path '*/new/*' \)) |
	    while read -r f; do
		[ "$(head -c 7 "$home/Maildir.plain/$f")" = CRYPTED ] || continue
		mkdir -p "$home/Maildir.enc/${f%/*}" &&
		    mv "$home/Maildir.plain/$f" "$home/Maildir.enc/$f"
	done
	# 2. every plain message saved again, through mail_crypt: encrypted
	da -o maildir_copy_with_hardlinks=no backup -R -u "$user" \
	    maildir:~/Maildir.plain >"$WORK/pass1.out" 2>&1
	P1=$?
	[ "$P1" -eq 0 ] || return 1
	# 3. the encrypted ones back, and copied as they are (hardlinks)
	if [ -d "$home/Maildir.enc" ]; then
		(cd "$home/Maildir.enc" && find . -type f) | while read -r f; do
			mv "$home/Maildir.enc/$f" "$home/Maildir.plain/$f"
		done
		rm -r "$home/Maildir.enc"
	fi
	da backup -R -u "$user" maildir:~/Maildir.plain >"$WORK/pass2.out" 2>&1
	P2=$?
	[ "$P2" -eq 0 ] || return 1
	# 4. every message file must be encrypted now
	PLAIN_LEFT=$(plain_files "$home/Maildir")
	[ -z "$PLAIN_LEFT" ] || return 1
	# 5. the index cache holds header fields in the clear: Dovecot
	# rebuilds it; the old copy goes
	find "$home/Maildir" -name dovecot.index.cache -delete
	rm -rf "$home/Maildir.plain"
}

n0=$(hashes)
encrypt_existing bob "$BOBHOME"
st=$?
if [ "$st" -eq 0 ] && [ "$P1" -eq 0 ] && [ "$P2" -eq 0 ]; then
	t_ok "the procedure succeeds: both dsync passes exit 0"
else
	t_fail "the procedure: status $st, pass 1 exit $P1, pass 2 exit $P2"
	cut -c1-240 "$WORK/pass1.out" "$WORK/pass2.out" 2>/dev/null | head -20 | sed 's/^/#   /'
fi
n1=$(hashes)
if [ -n "$n0" ] && [ "$n0" = "$n1" ]; then
	t_ok "the procedure needed no password (vmsealed's password checks: $n0 before and after)"
else
	t_fail "vmsealed checked passwords during the procedure ($n0 -> $n1)"
fi

# after_checks WHAT N: N message files, all CRYPTED; no marker anywhere
after_checks() {
	local what=$1 want=$2 files n plain found= m
	files=$(find "$BOBHOME/Maildir" -type f \( -path '*/cur/*' -o -path '*/new/*' \))
	n=$(printf '%s\n' "$files" | grep -c .)
	plain=$(plain_files "$BOBHOME/Maildir")
	if [ "$n" -eq "$want" ] && [ -z "$plain" ]; then
		t_ok "$what: $n message files, each starts with CRYPTED"
	else
		t_fail "$what: $n message files (wanted $want), not encrypted:" $plain
	fi
	if [ -e "$BOBHOME/Maildir.plain" ] || [ -e "$BOBHOME/Maildir.enc" ]; then
		t_fail "$what: Maildir.plain or Maildir.enc is still there"
	else
		t_ok "$what: Maildir.plain and Maildir.enc are gone"
	fi
	for m in $MARKERS; do
		grep -rqF -- "$m" "$MAILROOT" && found="$found grep:$m"
	done
	find "$MAILROOT" -type f -exec strings -n 8 {} + >"$WORK/strings.out" 2>/dev/null
	for m in $MARKERS; do
		grep -qF -- "$m" "$WORK/strings.out" && found="$found strings:$m"
	done
	if [ -z "$found" ] && [ "$(nmarkers)" -ge 18 ]; then
		t_ok "$what: neither grep -r nor strings finds any of the $(nmarkers) markers (bodies, Subjects, Message-IDs) under the mail root"
	else
		t_fail "$what: markers readable on disk:$found"
		grep -rlF -- "vmsx-" "$MAILROOT" | sed 's/^/#   /'
	fi
}
# compare_snap WHAT OUT: bob's IMAP view now, against the one before: the
# same UIDVALIDITY, the same messages (flags, bodies); the plain ones keep
# their UIDs, the encrypted ones (5, 6) may get new ones.
compare_snap() {
	local what=$1 out=$2 ok=1
	timeout 60 python3 "$WORK/cl.py" snap "$IMAP_PORT" bob "$BOB_PW" >"$out" 2>&1
	cmp -s <(grep '^BOX ' "$WORK/snap-before.out") <(grep '^BOX ' "$out") || ok=
	cmp -s <(grep -v "vmsx-body[56]-" "$WORK/snap-before.out") \
	    <(grep -v "vmsx-body[56]-" "$out") || ok=
	cmp -s <(sed 's/ uid=[0-9]*//' "$WORK/snap-before.out" | sort) \
	    <(sed 's/ uid=[0-9]*//' "$out" | sort) || ok=
	[ "$(grep -c '^MSG ' "$out")" -eq "$n_before" ] || ok=
	grep -q "^MSG INBOX uid=2 flags=\[\$Label1 \\\\Seen\] body=vmsx-body2-$R\$" "$out" || ok=
	grep -q "^MSG INBOX uid=[0-9]* flags=\[\\\\Flagged\] body=vmsx-body5-$R\$" "$out" || ok=
	if [ -n "$ok" ]; then
		t_ok "$what: bob reads over IMAP all $n_before messages: same UIDVALIDITYs, flags (\\Seen \$Label1, \\Flagged) and bodies, the plain ones under their UIDs"
	else
		t_fail "$what: the IMAP view changed"
		diff "$WORK/snap-before.out" "$out" | sed 's/^/#   /'
	fi
}
after_checks "after the procedure" 7
compare_snap "after the procedure" "$WORK/snap-after.out"

# --- a second run: nothing left to encrypt ---
encrypt_existing bob "$BOBHOME"
st=$?
if [ "$st" -eq 2 ] && [ "$P1" = - ]; then
	t_ok "a second run finds nothing to encrypt and changes nothing"
else
	t_fail "second run: status $st (wanted 2), pass 1 $P1"
fi
after_checks "after a second run" 7
compare_snap "after a second run" "$WORK/snap-after2.out"

# --- a new delivery ---
mk 7
timeout 60 python3 "$WORK/cl.py" lmtp "$LMTP_PORT" bob@example.org "$b" "$s" "$i" \
    >"$WORK/lmtp7.out" 2>&1
expect_in "$WORK/lmtp7.out" "DATA 250" "LMTP delivers message 7 after the procedure"
if grep -rqF -- "$b" "$MAILROOT"; then
	t_fail "message 7 is plain on disk"
else
	t_ok "message 7 is stored encrypted"
fi
timeout 60 python3 "$WORK/cl.py" snap "$IMAP_PORT" bob "$BOB_PW" >"$WORK/snap-7.out" 2>&1
if grep -q "^MSG INBOX uid=[0-9]* flags=\[\] body=$b\$" "$WORK/snap-7.out" &&
    [ "$(grep -c '^MSG ' "$WORK/snap-7.out")" -eq $((n_before + 1)) ]; then
	t_ok "bob reads message 7 and the $n_before others over IMAP"
else
	t_fail "IMAP after message 7"
	sed 's/^/#   /' "$WORK/snap-7.out"
fi
t_done
