#!/bin/sh
# mailkey_pw.sh - "password" protection of mail keys (issue 13; doc/DESIGN.md
# section 17.8; lib/mailwrap.c, lib/pwhash_key.c, service/authkey.c,
# admin/cmd_mailkey.c): the user's mail private key wrapped under a key
# that only their password gives, an escrow copy only the recovery key
# opens, and 'vmseal mail-key recover'.
#
# A throwaway vmsealed (poppassd on a Unix socket) and a throwaway Dovecot
# (2.3 or 2.4, the vmseal plugin - checkpassword on 2.3 when the plugin is
# a sanitizer build -, mail_crypt in global-keys mode, imap and
# lmtp on 127.0.0.1), mail delivered over LMTP, read over IMAP.  Shown:
#   - 'mail-key enable --protection password' is refused while the store
#     has no escrow key and no recovery key is given; offline with
#     --recovery-key-fd it marks carol "pending";
#   - online (the escrow key exists now) it gives dave, a user imported
#     with a DES-crypt hash, new keys in "pending";
#   - mail delivered to both is encrypted on disk;
#   - carol's first login reads it and moves the key: status "password",
#     the record holds the wrapped form and the escrow copy, no private
#     key ('export --with-mail-keys'); each later login costs exactly one
#     Argon2id (vmsealed's hash counter) and reads the mail; so after a
#     seal and an unseal (the key comes from the password alone);
#   - 'doveadm fetch' as the operator (a userdb lookup, no password) does
#     not show the body;
#   - dave's first login (DES) reads his mail: his hash is now
#     vmseal-argon2id and his key in password protection;
#   - carol changes her own password over poppassd: the old one is
#     refused, the new one reads the old mail;
#   - an app password added for carol logs in but gets no key until her
#     next main-password login seals a copy to it (logged); then it reads
#     the old mail with no Argon2id;
#   - the operator's 'user passwd carol' is refused without --yes (and
#     says the mail stays unreadable); with --yes carol logs in with the
#     new password but cannot read the old mail ("locked");
#   - offline: 'rotate' is refused without the current recovery key
#     (--old-recovery-key-fd), and works with it, splitting the new
#     recovery key into 3 shares (any 2); the old recovery key no longer
#     recovers; 'mail-key recover carol' with 2 of the 3 shares and a new
#     password; after the restart carol reads her old mail with it;
#   - a second reset and 'recover' with the whole key (rebuilt: the
#     shares) - and with a wrong share set, refused;
#   - no private key in vmsealed's or Dovecot's log; 'vmseal verify'
#     passes at the end.
# Needs root, Dovecot imapd and lmtpd (mail_crypt in dovecot-core), the
# plugin built (not a sanitizer build), mkpasswd (whois), python3;
# skips otherwise.  KEEP_WORK=1 keeps the work folder.
set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(dirname "$0")/../..}
. "$TOP_SRCDIR/tests/integration/lib.sh"
# The plugin; under a sanitizer build (its module cannot load into
# Dovecot) checkpassword on Dovecot 2.3, so that vmsealed's side runs
# under ASan too.
AUTH_MODE=plugin
if ldd "${VMSEAL_PLUGIN:-$(dirname "$VMSEAL")/../plugin/libauthdb_vmseal.so}" \
    2>/dev/null | grep -q libasan &&
    dovecot --version 2>/dev/null | grep -q '^2\.3\.'; then
	AUTH_MODE=checkpassword
fi
t_dovecot_env
export LC_ALL=C
[ -x /usr/lib/dovecot/lmtp ] || skip "dovecot-lmtpd not installed"
[ -f "$MODULE_DIR/lib10_mail_crypt_plugin.so" ] ||
    skip "Dovecot's mail_crypt plugin not installed"
command -v mkpasswd >/dev/null 2>&1 || skip "mkpasswd (whois) not installed"

WORK=$(mktemp -d /tmp/vmseal-mkpw-XXXXXX)
chmod 0711 "$WORK"
SOCKDIR=$WORK/run
CONF=$WORK/vmseal.conf
SVCLOG=$WORK/vmsealed.log
SVC_PID=
DC_STARTED=
DCBASE=$WORK/dc
DCLOG=$WORK/dovecot.log
DCCONF=$WORK/dovecot.conf

svc_stop() {
	if [ -n "$SVC_PID" ]; then
		stop_pid "$SVC_PID"
		wait "$SVC_PID" 2>/dev/null
		SVC_PID=
	fi
}
cleanup() {
	t_dovecot_stop
	svc_stop
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

CAROL_PW='carol first-Secret1'
CAROL_PW2='Quartz-Meadow-4821x'
CAROL_RESET='carol operator-Reset3'
CAROL_REC='carol recovered-Secret4'
CAROL_REC2='carol recovered-Secret5'
DAVE_PW='dave legacy-Secret1'
ERIN_PW='erin plain-Secret1'
MAILROOT=$WORK/mail
mkdir -p "$MAILROOT"
NU=$(id -u nobody)
NG=$(id -g nobody)
chown "$NU:$NG" "$MAILROOT"
chmod 0700 "$MAILROOT"
t_new_store || bail "vmseal init"
echo "dave:$(mkpasswd -m des "$DAVE_PW")" >"$WORK/htpasswd" || bail "mkpasswd"
{
	vs --offline domain add example.org &&
	vs --offline import htpasswd "$WORK/htpasswd" --uid "$NU" --gid "$NG" \
	    --home "$MAILROOT/%n" --mail "maildir:~/Maildir" &&
	vs --offline address add dave@example.org dave &&
	vs --offline user add --no-policy carol --address carol@example.org \
	    --mail-keys --uid "$NU" --gid "$NG" --home "$MAILROOT/carol" \
	    --mail "maildir:~/Maildir" --password-fd 4 4<<<"$CAROL_PW" &&
	vs --offline user add --no-policy erin --address erin@example.org \
	    --uid "$NU" --gid "$NG" --home "$MAILROOT/erin" \
	    --mail "maildir:~/Maildir" --password-fd 4 4<<<"$ERIN_PW"
} >"$WORK/setup.out" 2>&1 || { sed 's/^/#   /' "$WORK/setup.out"; bail "store set-up"; }

# --- enable: the escrow key needs the recovery key ---------------------
vs --offline mail-key enable carol --protection password >"$WORK/en1.out" 2>&1
st=$?
check "enable --protection password without an escrow key or the recovery key: exit 2 (got $st)" \
    test "$st" -eq 2
expect_in "$WORK/en1.out" "no mail escrow key yet" \
    "... and it says the first one needs the recovery key"
timeout 60 "$VMSEAL" -d "$STORE" --offline --recovery-key-fd 4 mail-key \
    enable carol --protection password 4<"$WORK/reckey" >"$WORK/en2.out" 2>&1
st=$?
check "offline with --recovery-key-fd: carol in password protection (exit $st)" \
    test "$st" -eq 0
vs --offline mail-key status carol --json >"$WORK/st1.json" 2>&1
expect_in "$WORK/st1.json" '"protection":"password","state":"pending"' \
    "status: carol is pending until her next login"

t_svc_for_dovecot "poppassd_socket = poppassd
poppassd_socket_mode = 0600"
t_ok "vmsealed started and unsealed"
vs_svc mail-key enable dave --protection password >"$WORK/en3.out" 2>&1
st=$?
check "online: dave (DES, no keys) gets keys in password protection (exit $st)" \
    test "$st" -eq 0
vs_svc mail-key status dave >"$WORK/st2.out" 2>&1
expect_in "$WORK/st2.out" "password-pending" "status: dave pending"

read -r IMAP_PORT LMTP_PORT < <(t_free_ports 2)
[ -n "${LMTP_PORT:-}" ] || bail "no free ports found"
t_dovecot_auth_setup || bail "$T_SETUP_ERR"
t_dovecot_start_mailcrypt erin "$ERIN_PW"
t_ok "Dovecot $DC_VERSION with mail_crypt started (auth: $AUTH_MODE)"

cat >"$WORK/cl.py" <<'PY'
import imaplib, smtplib, socket, sys
cmd = sys.argv[1]
a = sys.argv[2:]
if cmd == "read":                      # read PORT USER PASS
    m = imaplib.IMAP4("127.0.0.1", int(a[0]), timeout=20)
    try:
        m.login(a[1], a[2])
    except imaplib.IMAP4.error as e:
        print("LOGIN NO"); sys.exit(0)
    print("LOGIN OK")
    m.select("INBOX", readonly=True)
    typ, d = m.search(None, "ALL")
    for n in d[0].split():
        try:
            typ, f = m.fetch(n, "(BODY.PEEK[TEXT])")
            if typ == "OK" and f and isinstance(f[0], tuple):
                print("BODY %s" % f[0][1].decode(errors="replace").strip())
            else:
                print("FETCH %s %s" % (typ, str(f)[:120]))
        except Exception as e:
            print("FETCH ERROR %s" % str(e)[:120])
    m.logout()
elif cmd == "lmtp":                    # lmtp PORT RCPT MARKER
    s = smtplib.LMTP("127.0.0.1", int(a[0]), timeout=20)
    s.ehlo("client.vmseal.test")
    s.mail("sender@example.org")
    code, resp = s.rcpt(a[1])
    if code != 250:
        print("RCPT", code, resp); sys.exit(1)
    msg = ("From: <sender@example.org>\r\nTo: <%s>\r\nSubject: pw\r\n"
           "\r\n%s\r\n" % (a[1], a[2])).encode()
    s.putcmd("data")
    code, resp = s.getreply()
    s.send(msg + b".\r\n")
    code, resp = s.getreply()
    print("DATA", code)
    s.quit()
elif cmd == "poppassd":                # poppassd SOCKET USER OLD NEW
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(a[0])
    f = s.makefile("rwb")
    r = f.readline()
    for l in ("user " + a[1], "pass " + a[2], "newpass " + a[3]):
        f.write(l.encode() + b"\r\n")
        f.flush()
        r = f.readline()
    print(r.decode().strip())
PY
cl() { timeout 60 python3 "$WORK/cl.py" "$@" 2>&1; }
rd() { cl read "$IMAP_PORT" "$@"; }
hashes() { t_hashes; }

# --- delivery: encrypted on disk ---------------------------------------
M1="vmseal-pw-carol-$RANDOM$RANDOM"
M2="vmseal-pw-dave-$RANDOM$RANDOM"
cl lmtp "$LMTP_PORT" carol@example.org "$M1" >"$WORK/l1.out"
expect_in "$WORK/l1.out" "DATA 250" "LMTP delivers to carol (pending)"
cl lmtp "$LMTP_PORT" dave@example.org "$M2" >"$WORK/l2.out"
expect_in "$WORK/l2.out" "DATA 250" "LMTP delivers to dave (pending)"
if grep -rqF -e "$M1" -e "$M2" "$MAILROOT"; then
	t_fail "a marker is readable under the mail root"
else
	t_ok "grep -r finds neither marker under the mail root"
fi

# --- carol's first login moves the key ---------------------------------
rd carol "$CAROL_PW" >"$WORK/r1.out"
expect_in "$WORK/r1.out" "BODY $M1" "carol's first login reads her mail"
vs_svc mail-key status carol --json >"$WORK/st3.json" 2>&1
expect_in "$WORK/st3.json" '"protection":"password","state":"active"' \
    "after it the key is in password protection (status)"
grep -q 'mail key of carol moved to password protection' "$SVCLOG"
check "vmsealed logs the move" test $? -eq 0
vs_svc export --with-mail-keys -o "$WORK/exp.json" >"$WORK/exp.out" 2>&1
python3 - "$WORK/exp.json" >"$WORK/exp.chk" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
u = [x for x in d["users"] if x["login"] == "carol"][0]["mail_keys"]
ok = (u["protection"] == "password" and u["private"] is None and
      u["wrapped"] and u["escrow"] and "PRIVATE" not in json.dumps(u))
print("ok" if ok else "bad %s" % {k: (v[:20] if v else v) for k, v in u.items()})
PY
expect_in "$WORK/exp.chk" "ok" \
    "the record holds the wrapped key and the escrow copy, no private key"
rm -f "$WORK/exp.json"
h0=$(hashes)
rd carol "$CAROL_PW" >"$WORK/r2.out"
h1=$(hashes)
expect_in "$WORK/r2.out" "BODY $M1" "carol's next login reads her mail (key from her password)"
check "that login cost exactly one Argon2id ($h0 -> $h1)" test "$((h1 - h0))" -eq 1
vs_svc seal >/dev/null 2>&1
vs_svc unseal --passphrase-fd 3 3<<<"$PASS" >/dev/null 2>&1
rd carol "$CAROL_PW" >"$WORK/r3.out"
expect_in "$WORK/r3.out" "BODY $M1" "after a seal and an unseal carol still reads it"
timeout 30 doveadm -c "$DCCONF" fetch -u carol body all >"$WORK/fetch.out" 2>&1
expect_not_in "$WORK/fetch.out" "$M1" \
    "doveadm fetch as the operator (no password) does not show the body"
# the private key as Dovecot got it, to look for in the logs
timeout 10 doveadm -c "$DCCONF" auth login carol "$CAROL_PW" >"$WORK/al.out" 2>&1
PRIV=$(sed -n -e 's/^ *mail_crypt_global_private_key[ =:]*\s*//p' \
    -e 's/^ *crypt_global_private_key\/vmseal\/crypt_private_key_file[ =:]*\s*\(inline:\)\{0,1\}//p' \
    "$WORK/al.out" | tr -d ' \t' | head -1)
check "a verified password (doveadm auth login) carries the private key" \
    test -n "$PRIV"

# --- an app password gets its own copy -----------------------------------
vs_svc app-password add carol --name phone --services imap \
    >"$WORK/app.out" 2>&1
APP=$(sed -n 's/^    \([0-9a-z-]\{39\}\)$/\1/p' "$WORK/app.out")
check "app-password add carol (key in password protection)" test -n "$APP"
rd carol "$APP" >"$WORK/ra1.out"
expect_in "$WORK/ra1.out" "LOGIN OK" "the app password logs in"
expect_not_in "$WORK/ra1.out" "BODY $M1" \
    "... but has no copy of the key before carol's next main-password login"
rd carol "$CAROL_PW" >/dev/null
grep -q 'mail key of carol sealed to 1 app password' "$SVCLOG"
check "carol's next login seals the key to the app password (log)" test $? -eq 0
h0=$(hashes)
rd carol "$APP" >"$WORK/ra2.out"
h1=$(hashes)
expect_in "$WORK/ra2.out" "BODY $M1" "now the app password reads the old mail"
check "... with no Argon2id ($h0 -> $h1)" test "$h0" -eq "$h1"

# --- dave: DES, first login ------------------------------------------------
rd dave "$DAVE_PW" >"$WORK/r4.out"
expect_in "$WORK/r4.out" "BODY $M2" "dave (DES-crypt) reads his mail at his first login"
vs_svc user show dave >"$WORK/dave.out" 2>&1
expect_in "$WORK/dave.out" "password scheme:  vmseal-argon2id" \
    "dave's hash is now vmseal-argon2id"
expect_in "$WORK/dave.out" "protection: password, made" \
    "dave's key is in password protection"
rd dave "$DAVE_PW" >"$WORK/r5.out"
expect_in "$WORK/r5.out" "BODY $M2" "dave's second login reads it too"

# --- carol's own change keeps her mail ---------------------------------
r=$(cl poppassd "$SOCKDIR/poppassd" carol "$CAROL_PW" "$CAROL_PW2" | tail -n1)
check "poppassd: carol changes her password ($r)" test "${r%% *}" = 200
rd carol "$CAROL_PW" >"$WORK/r6.out"
expect_in "$WORK/r6.out" "LOGIN NO" "the old password is refused"
rd carol "$CAROL_PW2" >"$WORK/r7.out"
expect_in "$WORK/r7.out" "BODY $M1" "the new one reads the old mail"

# --- the operator's reset ------------------------------------------------
vs_svc user passwd carol --no-policy --password-fd 4 4<<<"$CAROL_RESET" \
    >"$WORK/pw1.out" 2>&1
st=$?
check "user passwd carol without --yes: refused, exit 2 (got $st)" test "$st" -eq 2
expect_in "$WORK/pw1.out" "UNREADABLE until 'vmseal --offline mail-key recover" \
    "... saying the old mail would stay unreadable"
rd carol "$CAROL_PW2" >"$WORK/r8.out"
expect_in "$WORK/r8.out" "BODY $M1" "nothing changed: carol still reads with her password"
vs_svc user passwd carol --no-policy --yes --password-fd 4 4<<<"$CAROL_RESET" \
    >"$WORK/pw2.out" 2>&1
st=$?
check "with --yes: reset (exit $st)" test "$st" -eq 0
expect_in "$WORK/pw2.out" "mail key is locked" "... and it says the key is locked"
vs_svc mail-key status carol >"$WORK/st4.out" 2>&1
expect_in "$WORK/st4.out" "password-locked" "status: locked"
rd carol "$CAROL_RESET" >"$WORK/r9.out"
expect_in "$WORK/r9.out" "LOGIN OK" "carol logs in with the reset password"
expect_not_in "$WORK/r9.out" "BODY $M1" "... but cannot read her old mail"

# --- offline: rotate, recover ---------------------------------------------
svc_stop
vs --offline rotate >"$WORK/rot1.out" 2>&1
st=$?
check "rotate without the current recovery key: refused, exit 2 (got $st)" test "$st" -eq 2
expect_in "$WORK/rot1.out" "--old-recovery-key-fd" "... naming --old-recovery-key-fd"
cp "$WORK/reckey" "$WORK/reckey.old"
vs --offline rotate --old-recovery-key-fd 4 --recovery-shares 3 \
    --recovery-threshold 2 4<"$WORK/reckey.old" >"$WORK/rot2.out" 2>&1
st=$?
check "rotate with it, new key in 3 shares (exit $st)" test "$st" -eq 0
# each share: the two indented lines after "share I of 3:"
for i in 1 2 3; do
	sed -n "/share $i of 3:/{n;s/^ *//;p;n;s/^ *//;p}" "$WORK/rot2.out" \
	    >"$WORK/share$i"
done
cat "$WORK/share1" "$WORK/share3" >"$WORK/shares13"
check "rotate printed three shares" test "$(cat "$WORK/share"[123] | wc -l)" -eq 6
rec() { timeout 60 "$VMSEAL" -d "$STORE" --offline --recovery-key-fd 4 \
    mail-key recover carol --no-policy --password-fd 5 4<"$1" 5<<<"$2"; }
rec "$WORK/reckey.old" "$CAROL_REC" >"$WORK/rec0.out" 2>&1
st=$?
check "recover with the recovery key from before the rotation: refused (exit $st)" \
    test "$st" -ne 0
rec "$WORK/shares13" "$CAROL_REC" >"$WORK/rec1.out" 2>&1
st=$?
check "mail-key recover carol with shares 1 and 3 (exit $st)" test "$st" -eq 0
expect_in "$WORK/rec1.out" "mail key of carol recovered" "... and it says so"
vs --offline audit >"$WORK/audit.out" 2>&1
expect_in "$WORK/audit.out" "mail-key-recover" "the audit trail has the recovery"
t_svc_start "$CONF" "restart"
rd carol "$CAROL_REC" >"$WORK/r10.out"
expect_in "$WORK/r10.out" "BODY $M1" "after the restart carol reads her old mail with the recovered password"
rd carol "$APP" >"$WORK/ra3.out"
expect_in "$WORK/ra3.out" "BODY $M1" "... and her app password still reads it (its copy outlives the reset)"

# a second reset, recovered with a wrong share set, then with shares 2, 3
vs_svc user passwd carol --no-policy --yes --password-fd 4 4<<<"$CAROL_RESET" \
    >/dev/null 2>&1
svc_stop
cat "$WORK/share1" "$WORK/share1" >"$WORK/shares11"
rec "$WORK/shares11" "$CAROL_REC2" >"$WORK/rec2.out" 2>&1
st=$?
check "recover with the same share twice: refused (exit $st)" test "$st" -ne 0
cat "$WORK/share2" "$WORK/share3" >"$WORK/shares23"
rec "$WORK/shares23" "$CAROL_REC2" >"$WORK/rec3.out" 2>&1
st=$?
check "recover with shares 2 and 3 (exit $st)" test "$st" -eq 0
vs --offline verify >"$WORK/verify.out" 2>&1
st=$?
check "vmseal verify passes (exit $st)" test "$st" -eq 0
t_svc_start "$CONF" "restart 2"
rd carol "$CAROL_REC2" >"$WORK/r11.out"
expect_in "$WORK/r11.out" "BODY $M1" "carol reads her old mail again"

# --- logs -------------------------------------------------------------------
for lg in "$DCLOG" "$SVCLOG"; do
	if [ -z "$PRIV" ]; then
		t_fail "$(basename "$lg"): no private key to look for"
	elif grep -qF -- "$PRIV" "$lg" ||
	    grep -qF -- "$(printf '%s' "$PRIV" | base64 -d 2>/dev/null | sed -n 2p)" "$lg"; then
		t_fail "a private key in $(basename "$lg")"
	else
		t_ok "no private key in $(basename "$lg")"
	fi
done
leak=
for p in "$CAROL_PW" "$CAROL_PW2" "$CAROL_RESET" "$CAROL_REC" "$DAVE_PW"; do
	grep -qF -- "$p" "$SVCLOG" "$DCLOG" && leak=1
done
check "no password in vmsealed's or Dovecot's log" test -z "$leak"
t_done
