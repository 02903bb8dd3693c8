#!/bin/bash
# mailcrypt_e2e.sh - mail sealed at rest from end to end: a real Postfix
# delivering over LMTP to a Dovecot with mail_crypt whose users and mail
# keys come from vmsealed (issue 13's end-to-end proof; doc/mail-crypt.md,
# doc/DESIGN.md section 17.8).  mailcrypt.sh shows the pieces with a raw
# LMTP client; this one shows the whole path.
#
# Set up, all throwaway and on loopback: a vmsealed on a temporary store
# (cheap Argon2id), alice (with mail keys, "user add --mail-keys") and bob
# (without); a Dovecot (2.3 or 2.4) with imap and lmtp on free 127.0.0.1
# ports, Maildir under $WORK/mail owned by nobody, mail_crypt in global-keys
# mode, read only by default (the keys and the switch to writing come from
# vmsealed through the native driver, libauthdb_vmseal.so); a Postfix (own
# config_directory and queue, smtpd on a free port) whose virtual
# transport is that LMTP.  Postfix's own maps are a static texthash file,
# not vmsealed's socketmap, so that mail sent while vmsealed is sealed is
# accepted and waits in the queue (with the socketmap, smtpd itself answers
# 451 at RCPT then: postfix.sh shows that).  Shown:
#   a. a MIME message with a unique marker in its body and a 1 MiB random
#      binary attachment (base64), sent over SMTP (python3 smtplib) to
#      alice, who has not logged in since vmsealed started (vmsealed's
#      password-check counter does not move during delivery): delivered;
#      its file starts with CRYPTED; grep -r finds the marker nowhere under
#      the mail root; strings(1) over every file there finds neither the
#      marker nor any 32-character run of the attachment's base64 (the same
#      scan finds both in the message as sent: the scan can fail); alice
#      logs in over IMAP (imaplib) and reads the marker and an attachment
#      whose sha256 is the original's;
#   b. sealed ("vmseal seal"): a message sent to alice is accepted by
#      smtpd, then deferred (still in the queue, a 4xx delay reason in
#      "postqueue -j", status=deferred in the log, never bounced); alice's
#      IMAP login is a temporary failure ([UNAVAILABLE], not
#      [AUTHENTICATIONFAILED]); after "vmseal unseal" and "postqueue -f" it
#      is delivered (encrypted) and readable over IMAP: nothing lost;
#   c. protection "store": the operator resets alice's password ("vmseal
#      user passwd alice --no-policy", the password on a descriptor);
#      the old password is refused, the new one reads the old mail intact
#      (marker, attachment sha256);
#   d. the operator without alice's password: "doveadm fetch -u alice body
#      ALL" (a userdb lookup: public key only) does not show the marker
#      (its output and exit status are printed as diagnostics); the same
#      command shows bob's (no keys, mail in the clear) marker;
#   e. no private key (the base64 Dovecot gets, nor a line of its PEM) and
#      no password in Dovecot's, Postfix's or vmsealed's log.
# Dovecot 2.4: the configuration is written with 2.4's names (as in
# mailcrypt.sh); the plugin and its settings module are needed there.
#
# Needs root, dovecot-imapd, dovecot-lmtpd (mail_crypt is in dovecot-core),
# Postfix, python3, openssl; skips otherwise.  Environment as dovecot.sh
# (t_dovecot_env in lib.sh; the plugin route only).  KEEP_WORK=1 keeps the
# work folder.
# (bash: lib.sh needs it; "sh mailcrypt_e2e.sh" runs it again in bash)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(dirname "$0")/../..}
. "$TOP_SRCDIR/tests/integration/lib.sh"
AUTH_MODE=plugin
t_dovecot_env
[ -x /usr/lib/dovecot/lmtp ] || skip "dovecot-lmtpd not installed"
[ -f "$MODULE_DIR/lib10_mail_crypt_plugin.so" ] ||
    skip "Dovecot's mail_crypt plugin not installed"
for p in postfix postconf postqueue openssl sha256sum; do
	command -v "$p" >/dev/null 2>&1 || skip "$p not installed"
done
getent passwd postfix >/dev/null || skip "no postfix user"
getent group postfix >/dev/null || skip "no postfix group"

WORK=$(mktemp -d /tmp/vmseal-mce-XXXXXX)
chmod 0711 "$WORK"
SOCKDIR=$WORK/run
CONF=$WORK/vmseal.conf
SVCLOG=$WORK/vmsealed.log
DCBASE=$WORK/dc
DCCONF=$WORK/dovecot.conf
DCLOG=$WORK/dovecot.log
PFDIR=$WORK/pf
SPOOL=$WORK/spool
MAILLOG=$WORK/log/maillog
MAILROOT=$WORK/mail
SVC_PID="" DC_STARTED="" PF_STARTED="" MODULE_COPIED="" SETMOD_COPIED=""

diagnostics() {
	echo "# --- vmsealed log (tail) ---"
	tail -n 20 "$SVCLOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- Dovecot log (tail) ---"
	tail -n 30 "$DCLOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- Postfix log (tail) ---"
	tail -n 20 "$MAILLOG" 2>/dev/null | sed 's/^/#   /'
}
cleanup() {
	t_postfix_stop
	t_dovecot_stop
	if [ -n "$SVC_PID" ]; then stop_pid "$SVC_PID"; wait "$SVC_PID" 2>/dev/null; fi
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

read -r IMAP_PORT LMTP_PORT SMTP_PORT < <(t_free_ports 3)
[ -n "${SMTP_PORT:-}" ] || bail "no free ports found"

ALICE_PW='Quartz-Meadow-Violin-58'
ALICE_PW2='Harbor-Ember-Saddle-26'
BOB_PW='Falcon-Pepper-Canyon-93'

# --- the store: alice with mail keys, bob without ---
t_new_store || bail "vmseal init"
{
	vs --offline domain add example.org &&
	vs --offline user add alice --address alice@example.org --mail-keys \
	    --uid "$NOBODY_UID" --gid "$NOBODY_GID" --home "$MAILROOT/alice" \
	    --mail "maildir:~/Maildir" --password-fd 4 4<<<"$ALICE_PW" &&
	vs --offline user add bob --address bob@example.org \
	    --uid "$NOBODY_UID" --gid "$NOBODY_GID" --home "$MAILROOT/bob" \
	    --mail "maildir:~/Maildir" --password-fd 4 4<<<"$BOB_PW"
} >"$WORK/setup.out" 2>&1 || { sed 's/^/#   /' "$WORK/setup.out"; bail "store set-up"; }
vs --offline user show alice >"$WORK/show-alice.out" 2>&1
expect_in "$WORK/show-alice.out" "mail keys:        yes (protection: store" \
    "alice has mail keys, protection store (passwords pass the default policy)"
mkdir -p "$MAILROOT"
chown "$NOBODY_UID:$NOBODY_GID" "$MAILROOT"
chmod 0700 "$MAILROOT"

# --- vmsealed ---
t_svc_for_dovecot
t_ok "vmsealed started and unsealed"
hashes() { t_hashes; }

# --- Dovecot: imap + lmtp, Maildir, mail_crypt read only by default ---
t_dovecot_auth_setup || bail "$T_SETUP_ERR"
# ready: bob's login works (alice must not log in before her mail comes)
t_dovecot_start_mailcrypt bob "$BOB_PW"
t_ok "Dovecot $DC_VERSION started (plugin; imap $IMAP_PORT, lmtp $LMTP_PORT, mail_crypt)"

# --- Postfix: static maps, LMTP to Dovecot ---
printf 'alice@example.org alice\nbob@example.org bob\n' >"$WORK/vmailbox"
chmod 0644 "$WORK/vmailbox"
t_postfix_start "virtual_mailbox_domains = example.org
virtual_mailbox_maps = texthash:$WORK/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
message_size_limit = 20480000"
t_ok "Postfix started (smtpd 127.0.0.1:$SMTP_PORT, virtual_transport lmtp:inet:127.0.0.1:$LMTP_PORT)"
PFQ() { timeout 20 postqueue -c "$PFDIR" "$@" </dev/null 2>/dev/null; }
# queue_state: "N:REASON" (N messages in the queue, the first recipient's
# delay reason)
queue_state() {
	PFQ -j | python3 -c '
import json, sys
ms = [json.loads(l) for l in sys.stdin if l.strip()]
r = ""
for m in ms:
    for x in m.get("recipients", []):
        r = r or x.get("delay_reason", "")
print("%d:%s" % (len(ms), r))'
}
# wait_queue PATTERN: poll (up to 30 s) until queue_state matches PATTERN.
wait_queue() {
	local s
	for _ in $(seq 150); do
		s=$(queue_state)
		# shellcheck disable=SC2254 # $1 is a pattern
		case $s in $1) echo "$s"; return 0;; esac
		sleep 0.2
	done
	echo "$s"; return 1
}
# wait_log PATTERN: poll (up to 30 s) until Postfix's log matches the ERE.
wait_log() {
	for _ in $(seq 150); do
		grep -qE -- "$1" "$MAILLOG" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

cat >"$WORK/cl.py" <<'PY'
import base64, email, email.policy, hashlib, imaplib, os, re, smtplib, sys
from email.message import EmailMessage
cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "mkmsg":      # mkmsg OUT MARKER TO [ATTACH-BYTES]: message, its
    # attachment's base64 (no line breaks) in OUT.b64, sha256 in OUT.sha
    out, marker, to = a[0], a[1], a[2]
    n = int(a[3]) if len(a) > 3 else 0
    m = EmailMessage()
    m["From"] = "sender@example.net"
    m["To"] = to
    m["Subject"] = "a sealed message"
    m.set_content("Hello,\n\nthe marker is %s.\n" % marker)
    if n:
        data = os.urandom(n)
        m.add_attachment(data, maintype="application",
                         subtype="octet-stream", filename="random.bin")
        open(out + ".b64", "w").write(base64.b64encode(data).decode())
        open(out + ".sha", "w").write(hashlib.sha256(data).hexdigest())
    open(out, "wb").write(m.as_bytes(policy=email.policy.SMTP))
elif cmd == "send":     # send PORT TO FILE
    s = smtplib.SMTP("127.0.0.1", int(a[0]), local_hostname="client.vmseal.test",
                     timeout=60)
    try:
        r = s.sendmail("sender@example.net", [a[1]], open(a[2], "rb").read())
        print("SENT", r)
    except smtplib.SMTPException as e:
        print("SMTP-ERROR", e); sys.exit(1)
    s.quit()
elif cmd == "read":     # read PORT USER PASS: each message's marker and
    # attachments' sha256
    m = imaplib.IMAP4("127.0.0.1", int(a[0]), timeout=60)
    try:
        m.login(a[1], a[2])
    except imaplib.IMAP4.error as e:
        print("LOGIN-FAILED", e); sys.exit(2)
    m.select("INBOX", readonly=True)
    typ, d = m.search(None, "ALL")
    for n in d[0].split():
        typ, f = m.fetch(n, "(BODY.PEEK[])")
        msg = email.message_from_bytes(f[0][1], policy=email.policy.default)
        marks = []
        shas = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            if part.get_content_type() == "text/plain" and not part.get_filename():
                marks += re.findall(r"vmseal-e2e-[a-z]+-[0-9]+", part.get_content())
            elif part.get_filename():
                shas.append(hashlib.sha256(part.get_payload(decode=True)).hexdigest())
        print("MSG", n.decode(), "MARKERS", ",".join(marks) or "-",
              "SHA256", ",".join(shas) or "-")
    m.logout()
elif cmd == "runs":     # runs B64FILE < strings output: 32-char runs of
    # B64FILE's text found in the input (any 32-character window of the
    # base64 holds one whole 16-character block at a multiple of 16)
    b = open(a[0]).read().strip()
    blocks = {}
    for k in range(0, len(b) - 15, 16):
        blocks.setdefault(b[k:k + 16], []).append(k)
    hits = 0
    for line in sys.stdin:
        for run in re.findall(r"[A-Za-z0-9+/]{32,}", line):
            found = False
            for j in range(len(run) - 15):
                for k in blocks.get(run[j:j + 16], ()):
                    for s in range(-16, 1):
                        if j + s >= 0 and k + s >= 0 and \
                           run[j + s:j + s + 32] == b[k + s:k + s + 32] and \
                           len(run[j + s:j + s + 32]) == 32:
                            found = True; break
                    if found: break
                if found: break
            hits += found
    print(hits)
PY
cl() { timeout 120 python3 "$WORK/cl.py" "$@"; }
# read_as NAME USER PASS: IMAP read, output in $WORK/NAME.read
read_as() { cl read "$IMAP_PORT" "$2" "$3" >"$WORK/$1.read" 2>&1; }
# scan_strings OUT FILE...: strings(1) of the files (python's equivalent
# without binutils)
scan_strings() {
	local out=$1; shift
	if command -v strings >/dev/null 2>&1; then
		strings -a -n 8 "$@" >"$out" 2>/dev/null
	else
		python3 -c '
import re, sys
for f in sys.argv[1:]:
    for s in re.findall(rb"[\x20-\x7e\t]{8,}", open(f, "rb").read()):
        print(s.decode())' "$@" >"$out"
	fi
}

# --- a. delivered encrypted, to a user who has not logged in ---
M1="vmseal-e2e-first-$RANDOM$RANDOM"
cl mkmsg "$WORK/m1.eml" "$M1" alice@example.org 1048576 ||
    bail "making the first message"
SHA1=$(cat "$WORK/m1.eml.sha")
H0=$(hashes)
cl send "$SMTP_PORT" alice@example.org "$WORK/m1.eml" >"$WORK/send1.out" 2>&1
expect_in "$WORK/send1.out" "SENT {}" \
    "Postfix accepts the message with a 1 MiB attachment for alice ($(stat -c %s "$WORK/m1.eml") bytes)"
if wait_log "to=<alice@example.org>.*relay=127\.0\.0\.1\[127\.0\.0\.1\]:$LMTP_PORT.*status=sent"; then
	t_ok "Postfix delivered it over LMTP (status=sent)"
else
	t_fail "Postfix's log: no status=sent to alice over LMTP"
fi
st=$(wait_queue '0:') && t_ok "Postfix's queue is empty again" ||
    t_fail "Postfix's queue: '$st'"
H1=$(hashes)
check "delivery checked no password: nobody logged in (vmsealed's password checks: $H0 before, $H1 after)" \
    test -n "$H0" -a "$H0" = "$H1"
F1=$(ls "$MAILROOT"/alice/Maildir/new/* "$MAILROOT"/alice/Maildir/cur/* 2>/dev/null | head -1)
if [ -n "$F1" ] && [ "$(head -c 7 "$F1")" = CRYPTED ] &&
    [ "$(stat -c %s "$F1")" -gt 1048576 ]; then
	t_ok "the message file starts with CRYPTED ($(stat -c %s "$F1") bytes)"
else
	t_fail "message file ${F1:-(none)} is not an encrypted message"
	head -c 200 "${F1:-/dev/null}" | sed 's/^/#   /'
fi
# the scans, first on the message as sent: they must find both there
scan_strings "$WORK/strings-eml.out" "$WORK/m1.eml"
n=$(python3 "$WORK/cl.py" runs "$WORK/m1.eml.b64" <"$WORK/strings-eml.out")
check "control: strings of the message as sent show the marker and $n runs of the attachment's base64" \
    grep -qF -- "$M1" "$WORK/strings-eml.out" -a "${n:-0}" -gt 1000
if grep -rqF -- "$M1" "$MAILROOT"; then
	t_fail "grep -r finds the marker under the mail root:"
	grep -rlF -- "$M1" "$MAILROOT" | sed 's/^/#   /'
else
	t_ok "grep -r finds the marker nowhere under the mail root"
fi
mapfile -t files < <(find "$MAILROOT" -type f)
scan_strings "$WORK/strings-root.out" "${files[@]}"
expect_not_in "$WORK/strings-root.out" "$M1" \
    "strings over all ${#files[@]} files under the mail root: no marker"
n=$(python3 "$WORK/cl.py" runs "$WORK/m1.eml.b64" <"$WORK/strings-root.out")
check "...and no 32-character run of the attachment's base64 ($n found)" \
    test "$n" = 0
read_as r1 alice "$ALICE_PW"
expect_in "$WORK/r1.read" "MARKERS $M1 SHA256 $SHA1" \
    "alice logs in over IMAP and reads it: the marker, the attachment's sha256 the original's"

# bob (no keys): mail in the clear, for the controls of d
MB="vmseal-e2e-bob-$RANDOM$RANDOM"
cl mkmsg "$WORK/mb.eml" "$MB" bob@example.org &&
    cl send "$SMTP_PORT" bob@example.org "$WORK/mb.eml" >"$WORK/sendb.out" 2>&1
wait_log "to=<bob@example.org>.*status=sent" &&
    t_ok "Postfix delivered a message to bob (no keys)" ||
    t_fail "no status=sent to bob"
check "bob's message is in the clear on disk (users without keys keep working)" \
    grep -rqF -- "$MB" "$MAILROOT/bob"

# --- b. sealed: deferred, never bounced; then delivered ---
vs_svc seal >"$WORK/seal.out" 2>&1
check "vmseal seal" test $? -eq 0
M2="vmseal-e2e-sealed-$RANDOM$RANDOM"
cl mkmsg "$WORK/m2.eml" "$M2" alice@example.org 65536 || bail "making the second message"
SHA2=$(cat "$WORK/m2.eml.sha")
cl send "$SMTP_PORT" alice@example.org "$WORK/m2.eml" >"$WORK/send2.out" 2>&1
expect_in "$WORK/send2.out" "SENT {}" "while sealed, Postfix accepts a message for alice"
if wait_log "to=<alice@example.org>.*status=deferred"; then
	t_ok "...and defers it: $(grep -m1 -o 'status=deferred.*' "$MAILLOG" | cut -c -120)"
else
	t_fail "no status=deferred to alice in Postfix's log"
fi
st=$(wait_queue '1:*4[0-9][0-9]*') &&
    t_ok "...it waits in the queue with a 4xx reason ($(echo "$st" | cut -c -110))" ||
    t_fail "queue while sealed: '$st', wanted one message with a 4xx reason"
check "the queued message is in the clear in Postfix's queue (not covered by mail_crypt, as documented)" \
    grep -rqF -- "$M2" "$SPOOL"
read_as sealed alice "$ALICE_PW"
if grep -qF "[UNAVAILABLE]" "$WORK/sealed.read" &&
    ! grep -qF "AUTHENTICATIONFAILED" "$WORK/sealed.read"; then
	t_ok "while sealed, alice's IMAP login is a temporary failure: $(cut -c -90 "$WORK/sealed.read")"
else
	t_fail "while sealed, alice's IMAP login: $(cut -c -120 "$WORK/sealed.read"), wanted [UNAVAILABLE]"
fi
vs_svc unseal --passphrase-fd 3 3<<<"$PASS" >"$WORK/unseal2.out" 2>&1
check "vmseal unseal" test $? -eq 0
PFQ -f
st=$(wait_queue '0:') && t_ok "after unseal and postqueue -f the queue is empty" ||
    t_fail "after unseal and a flush: queue '$st'"
sent=0
for _ in $(seq 150); do
	sent=$(grep -c "to=<alice@example.org>.*relay=127\.0\.0\.1\[127\.0\.0\.1\]:$LMTP_PORT.*status=sent" "$MAILLOG")
	[ "$sent" -ge 2 ] && break
	sleep 0.2
done
check "Postfix's log: the held message sent over LMTP too (status=sent to alice: $sent times)" \
    test "$sent" -eq 2
check "nothing bounced (no status=bounced, no bounce notice in the log)" \
    test "$(grep -cE 'status=bounced|sender non-delivery notification' "$MAILLOG")" -eq 0
if grep -rqF -- "$M2" "$MAILROOT"; then
	t_fail "the held message's marker is readable under the mail root"
else
	t_ok "the held message is encrypted on disk too (no marker under the mail root)"
fi
read_as r2 alice "$ALICE_PW"
if grep -qF "MARKERS $M1 SHA256 $SHA1" "$WORK/r2.read" &&
    grep -qF "MARKERS $M2 SHA256 $SHA2" "$WORK/r2.read"; then
	t_ok "alice reads both messages over IMAP: nothing lost"
else
	t_fail "alice's INBOX after unseal:"; sed 's/^/#   /' "$WORK/r2.read"
fi

# --- c. the operator resets alice's password (protection store) ---
vs_svc user passwd alice --no-policy --password-fd 4 4<<<"$ALICE_PW2" \
    >"$WORK/passwd.out" 2>&1
check "vmseal user passwd alice (through vmsealed, the password on descriptor 4)" \
    test $? -eq 0
read_as oldpw alice "$ALICE_PW"
if grep -qF "LOGIN-FAILED" "$WORK/oldpw.read" && grep -qF "AUTHENTICATIONFAILED" "$WORK/oldpw.read"; then
	t_ok "the old password is refused"
else
	t_fail "the old password: $(head -c 200 "$WORK/oldpw.read")"
fi
read_as r3 alice "$ALICE_PW2"
if grep -qF "MARKERS $M1 SHA256 $SHA1" "$WORK/r3.read" &&
    grep -qF "MARKERS $M2 SHA256 $SHA2" "$WORK/r3.read"; then
	t_ok "with the new password alice reads her old mail intact (markers, sha256)"
else
	t_fail "alice's INBOX with the new password:"; sed 's/^/#   /' "$WORK/r3.read"
fi

# --- d. the operator reads without the password ---
timeout 60 doveadm -c "$DCCONF" fetch -u alice body ALL \
    >"$WORK/fetch-alice.out" 2>&1
st=$?
echo "# doveadm fetch -u alice body ALL: exit $st, $(wc -c <"$WORK/fetch-alice.out") bytes; begins:"
head -c 300 "$WORK/fetch-alice.out" | sed 's/^/#   /'
echo
expect_not_in "$WORK/fetch-alice.out" "$M1" \
    "doveadm fetch -u alice body ALL (no password, so no private key) does not show the marker"
expect_not_in "$WORK/fetch-alice.out" "$M2" "...nor the held message's"
timeout 60 doveadm -c "$DCCONF" fetch -u bob body ALL \
    >"$WORK/fetch-bob.out" 2>&1
expect_in "$WORK/fetch-bob.out" "$MB" \
    "control: doveadm fetch -u bob body ALL shows bob's marker (no keys)"

# --- e. no private key, no password in the logs ---
vs_svc export --with-mail-keys -o "$WORK/keys.json" >"$WORK/export.out" 2>&1
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
us = d["users"] if isinstance(d, dict) and "users" in d else d
for u in us:
    if u.get("login") == "alice":
        sys.stdout.write(u["mail_keys"]["private"])' "$WORK/keys.json" \
    >"$WORK/priv.pem" 2>"$WORK/priv.err"
rm -f "$WORK/keys.json"
if head -1 "$WORK/priv.pem" | grep -qx -- '-----BEGIN PRIVATE KEY-----'; then
	t_ok "alice's private key, from export --with-mail-keys (to look for)"
else
	t_fail "no private key for alice in the export"; sed 's/^/#   /' "$WORK/priv.err" "$WORK/export.out"
fi
PRIV64=$(base64 -w0 <"$WORK/priv.pem")
for lg in "$DCLOG" "$MAILLOG" "$SVCLOG"; do
	[ -s "$lg" ] || { t_fail "$(basename "$lg") is empty or missing"; continue; }
	bad=
	# a part of the base64 Dovecot gets (past the common BEGIN line), and
	# each base64 line of the PEM
	[ "${#PRIV64}" -gt 150 ] && grep -qF -- "${PRIV64:60:80}" "$lg" && bad="base64 key"
	while read -r l; do
		case $l in -----*|'') continue;; esac
		grep -qF -- "$l" "$lg" && bad="a PEM line"
	done <"$WORK/priv.pem"
	for pw in "$ALICE_PW" "$ALICE_PW2" "$BOB_PW" "$PASS"; do
		grep -qF -- "$pw" "$lg" && bad="${bad:+$bad, }a password"
	done
	if [ -z "$bad" ] && [ "${#PRIV64}" -gt 150 ]; then
		t_ok "no private key and no password in $(basename "$lg") ($(wc -l <"$lg") lines)"
	else
		t_fail "$(basename "$lg"): ${bad:-no key to look for}"
	fi
done
rm -f "$WORK/priv.pem"
t_done
