#!/bin/bash
# apppw.sh - app passwords (issue 14) through a real Dovecot (2.3 or 2.4)
# and a real Postfix (SMTP AUTH with Dovecot SASL), all on loopback.
#
# Shown: "vmseal app-password add" offline and online (through vmsealed),
# the password printed once (--json field "password"), in groups of 4, 160
# bits; an IMAP login with an imap-only app password works, the same
# password is refused for SMTP AUTH (535) and an smtp one accepted (235);
# an expired one is refused; "del" takes effect at once; "list" shows the
# last use and its address, never a password; the main password still
# works; app password logins spend no Argon2id (vmsealed's hash counter
# does not move); a refusal for the wrong service is an event and a log
# line naming the app password (app=NAME) that fail2ban's filter still
# matches; "user set LOGIN app-passwords-only=yes": the main password is
# refused over IMAP (and SMTP AUTH), an app password works; the audit
# trail holds add/del/set, and no password shows in any log or output
# other than the add's; malformed options are usage errors (exit 2).
#
# Needs root, Dovecot (imapd), python3; Postfix optional (SMTP checks
# skipped with a reason when missing).  Environment as dovecot.sh
# (t_dovecot_env in lib.sh); KEEP_WORK=1 keeps the work folder.
set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(dirname "$0")/../..}
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_dovecot_env
t_have_postfix_sasl

WORK=$(mktemp -d /tmp/vmseal-app-XXXXXX)
chmod 0711 "$WORK"
KX=$WORK/kx
SOCKDIR=$WORK/run
DCBASE=$WORK/dc
DCCONF=$WORK/dovecot.conf
DCLOG=$WORK/dovecot.log
CONF=$WORK/vmseal.conf
SVCLOG=$WORK/vmsealed.log
PFDIR=$WORK/pf
SPOOL=$WORK/spool
MAILLOG=$WORK/log/maillog
SVC_PID= DC_STARTED= PF_STARTED= MODULE_COPIED= SETMOD_COPIED=

diagnostics() {
	echo "# --- vmsealed log (tail) ---"
	tail -n 25 "$SVCLOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- Dovecot log (tail) ---"
	tail -n 25 "$DCLOG" 2>/dev/null | sed 's/^/#   /'
}
cleanup() {
	t_postfix_stop
	t_dovecot_stop
	if [ -n "$SVC_PID" ]; then stop_pid "$SVC_PID"; wait "$SVC_PID" 2>/dev/null; fi
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

read -r IMAP_PORT SASL_PORT SMTP_PORT < <(t_free_ports 3)
[ -n "${SMTP_PORT:-}" ] || bail "no free ports found"

ALICE_PW='Tulip-Ranch-Window-41'
BOB_PW='Copper-Moss-Lantern-73'
t_new_store || bail "vmseal init"
mkdir -p "$KX/home/alice" "$KX/home/bob"
chown -R "$NOBODY_UID:$NOBODY_GID" "$KX"
chmod 0711 "$KX"
for u in alice:"$ALICE_PW" bob:"$BOB_PW"; do
	vs --offline user add "${u%%:*}" --uid "$NOBODY_UID" --gid "$NOBODY_GID" \
	    --home "$KX/home/${u%%:*}" --password-fd 4 4<<<"${u#*:}" \
	    >>"$WORK/setup.out" 2>&1 || { sed 's/^/#   /' "$WORK/setup.out"; bail "user add"; }
done
t_ok "store: alice and bob (their passwords pass the default policy)"

# --- usage errors: nothing written ---
for args in "add alice" "add alice --name 'a b'" "add alice --name x --services imap,ftp" \
    "add alice --name x --expires 0d" "add alice --name x --expires 5q" \
    "del alice" "list alice --name x" "frob"; do
	eval "vs --offline app-password $args" >"$WORK/usage.out" 2>&1
	st=$?
	check "app-password $args: usage error, exit 2 (got $st: $(head -c 80 "$WORK/usage.out" | tr '\n' ' '))" test "$st" -eq 2
done

# --- offline: alice's phone (imap only), JSON ---
vs --offline app-password add alice --name phone --services imap --json \
    >"$WORK/phone.json" 2>"$WORK/phone.err"
st=$?
PHONE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$WORK/phone.json" 2>/dev/null)
check "offline add --json: exit 0, a password field (exit $st)" test "$st" -eq 0 -a -n "$PHONE"
check "the password is 8 groups of 4 base32 symbols (160 bits): ${PHONE//?/x}" \
    grep -Eqx '([0-9a-hjkmnp-tv-z]{4}-){7}[0-9a-hjkmnp-tv-z]{4}' <<<"$PHONE"
check "JSON names the services and no expiry" python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
sys.exit(0 if d["services"]=="imap" and d["expires"] is None and d["name"]=="phone" else 1)' "$WORK/phone.json"

# --- vmsealed, Dovecot, Postfix ---
cat >"$CONF" <<EOF
store_dir = $STORE
socket_dir = $SOCKDIR
user = nobody
group = $NOGROUP
auth_socket_group = dovecot
auth_socket_mode = 0660
throttle_limit = 20
throttle_login_limit = 40
poppassd_socket = poppassd
poppassd_socket_mode = 0600
EOF
vs_svc() { timeout 30 "$VMSEAL" -c "$CONF" "$@"; }
t_svc_start "$CONF" "start"
t_ok "vmsealed started and unsealed"
t_dovecot_auth_setup || bail "$T_SETUP_ERR"
t_dovecot_start_imap alice "$ALICE_PW"
t_ok "Dovecot $DC_VERSION started ($AUTH_MODE; imap 127.0.0.1:$IMAP_PORT, auth 127.0.0.1:$SASL_PORT)"
if [ -n "$HAVE_POSTFIX" ]; then
	t_postfix_start "smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$SASL_PORT
smtpd_sasl_security_options = noanonymous
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination"
	t_ok "Postfix started (smtpd 127.0.0.1:$SMTP_PORT, SASL through Dovecot)"
fi

# --- online: the laptop (smtp only), an old one (expires in 1 s) ---
LAPTOP=$(vs_svc app-password add alice --name laptop --services smtp --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
check "online add (through vmsealed): a password" test -n "$LAPTOP"
vs_svc app-password add alice --name old --services imap,smtp --expires 1s \
    >"$WORK/old.out" 2>&1
OLD=$(sed -n 's/^    \([0-9a-z-]\{39\}\)$/\1/p' "$WORK/old.out")
check "the plain output shows the password once, indented, and says so" \
    test -n "$OLD" -a "$(grep -c 'shown this once' "$WORK/old.out")" -eq 1
vs_svc app-password add alice --name phone >"$WORK/dup.out" 2>&1
st=$?
check "a second app password called phone: exit 5 (got $st)" test "$st" -eq 5

cat >"$WORK/cl.py" <<'PY'
import imaplib, smtplib, sys
if sys.argv[1] == "poppassd":   # poppassd SOCKET USER OLD NEW: last answer
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(sys.argv[2])
    f = s.makefile("rwb")
    a = f.readline()
    for l in ("user " + sys.argv[3], "pass " + sys.argv[4],
              "newpass " + sys.argv[5]):
        f.write(l.encode() + b"\r\n")
        f.flush()
        a = f.readline()
    print(a.decode().strip())
    sys.exit(0)
cmd, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if cmd == "imap":
    try:
        m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
        typ, _ = m.login(user, pw)
        print(typ)
        m.logout()
    except imaplib.IMAP4.error as e:
        print("NO", str(e.args[0])[:80])
else:
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    s.ehlo("client.vmseal.test")
    try:
        code, msg = s.login(user, pw)
    except smtplib.SMTPAuthenticationError as e:
        code, msg = e.smtp_code, e.smtp_error
    print(code)
    s.quit()
PY
imap() { python3 "$WORK/cl.py" imap "$IMAP_PORT" "$1" "$2" 2>&1 | head -n1; }
smtp() { python3 "$WORK/cl.py" smtp "$SMTP_PORT" "$1" "$2" 2>&1 | tail -n1; }
hashes() { vs_svc status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["auth"]["hash_verifications"])'; }

H0=$(hashes)
r=$(imap alice "$PHONE")
check "IMAP login with the imap app password: $r" test "$r" = OK
r=$(imap alice "${PHONE^^}")
check "... typed in capitals: $r" test "$r" = OK
r=$(imap alice "${PHONE//-/}")
check "... without the dashes: $r" test "$r" = OK
H1=$(hashes)
check "three app password logins spent no Argon2id (hashes $H0 -> $H1)" test "$H0" = "$H1"
r=$(imap alice "$LAPTOP")
check "IMAP login with the smtp-only app password refused: $r" test "${r%% *}" = NO
sleep 1.2
r=$(imap alice "$OLD")
check "IMAP login with the expired app password refused: $r" test "${r%% *}" = NO
r=$(imap alice "$ALICE_PW")
check "the main password still works over IMAP: $r" test "$r" = OK
if [ -n "$HAVE_POSTFIX" ]; then
	r=$(smtp alice "$PHONE")
	check "SMTP AUTH with the imap-only app password refused: $r" test "$r" = 535
	r=$(smtp alice "$LAPTOP")
	check "SMTP AUTH with the smtp app password accepted: $r" test "$r" = 235
else
	t_skip "Postfix with Dovecot SASL not installed: SMTP AUTH refused"
	t_skip "Postfix with Dovecot SASL not installed: SMTP AUTH accepted"
fi
# The refusals named the app password (event and log line) - and fail2ban's
# filter still takes the line.
check "vmsealed's log: the laptop's IMAP refusal names it (app=laptop)" \
    grep -q 'auth failed: rip=127.0.0.1 user=.* app=laptop service=imap reason=bad-password' "$SVCLOG"
check "... the expired one (app=old)" grep -q 'app=old service=imap reason=bad-password' "$SVCLOG"
check "fail2ban's filter regex matches those lines" python3 - "$TOP_SRCDIR/doc/fail2ban/vmsealed.conf" "$SVCLOG" <<'PY'
import re, sys
rx = [l.split("=", 1)[1].strip() for l in open(sys.argv[1]) if l.startswith("failregex")][0]
rx = rx.replace("%(_prefix)s", "").replace("<ADDR>", r"(?P<addr>\S+)")
lines = [l for l in open(sys.argv[2]) if "app=" in l and "auth failed" in l]
sys.exit(0 if lines and all(re.search(rx, l) for l in lines) else 1)
PY

# --- list: last use and address, never a password ---
vs_svc app-password list alice --json >"$WORK/list.json"
check "list --json: phone used from 127.0.0.1, laptop used (SMTP, when Postfix ran), old expired" python3 - "$WORK/list.json" "$HAVE_POSTFIX" <<'PY'
import json, sys
d = {e["name"]: e for e in json.load(open(sys.argv[1]))}
ok = (d["phone"]["last_ip"] == "127.0.0.1" and d["phone"]["last_used"]
      and d["old"]["expired"] is True and d["phone"]["services"] == "imap"
      and (not sys.argv[2] or d["laptop"]["last_used"]))
sys.exit(0 if ok else 1)
PY
vs_svc app-password list >"$WORK/list.txt"
check "list (all users, text): three lines for alice" test "$(grep -c '^alice	' "$WORK/list.txt")" -eq 3

# --- del takes effect at once ---
check "del alice phone" vs_svc app-password del alice phone
r=$(imap alice "$PHONE")
check "IMAP login with the deleted app password refused at once: $r" test "${r%% *}" = NO
vs_svc app-password del alice phone >/dev/null 2>&1
st=$?
check "del of an app password that is gone: exit 1 (got $st)" test "$st" -eq 1

# --- app-passwords-only ---
BOBAPP=$(vs_svc app-password add bob --name tablet --services imap,smtp --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
check "user set bob app-passwords-only=yes" vs_svc user set bob app-passwords-only=yes
vs_svc user show bob >"$WORK/bob.show"
check "user show says so" grep -q 'app passwords:    1 (mail clients must use one' "$WORK/bob.show"
H0=$(hashes)
r=$(imap bob "$BOB_PW")
check "bob's main password refused over IMAP: $r" test "${r%% *}" = NO
H1=$(hashes)
check "... after one Argon2id, as any wrong password ($H0 -> $H1)" test "$((H1 - H0))" -eq 1
r=$(imap bob "$BOBAPP")
check "bob's app password works over IMAP: $r" test "$r" = OK
# The self-service change (poppassd, as Roundcube's driver speaks it):
# bob's main password is good for it; an app password is not.
BOB_PW2='Harbor-Violet-Kettle-58'
pp() { timeout 60 python3 "$WORK/cl.py" poppassd "$SOCKDIR/poppassd" "$@" 2>&1; }
r=$(pp bob "$BOBAPP" "$BOB_PW2")
check "poppassd: an app password as the current password is refused: $r" \
    test "$r" = "500 the current password is wrong"
r=$(pp bob "$BOB_PW" "$BOB_PW2")
check "poppassd: bob (app passwords only) changes his main password with it: $r" \
    test "${r%% *}" = 200
r=$(imap bob "$BOB_PW2")
check "... still refused over IMAP (app passwords only): $r" test "${r%% *}" = NO
r=$(imap bob "$BOBAPP")
check "... and his app password still works: $r" test "$r" = OK
if [ -n "$HAVE_POSTFIX" ]; then
	r=$(smtp bob "$BOB_PW")
	check "bob's main password refused for SMTP AUTH: $r" test "$r" = 535
else
	t_skip "Postfix with Dovecot SASL not installed: SMTP AUTH of bob"
fi
vs_svc user set bob app-passwords-only=maybe >/dev/null 2>&1
st=$?
check "app-passwords-only=maybe: exit 2 (got $st)" test "$st" -eq 2
check "user set bob app-passwords-only=no" vs_svc user set bob app-passwords-only=no
r=$(imap bob "$BOB_PW2")
check "bob's new main password (changed through poppassd) logs in over IMAP: $r" test "$r" = OK
r=$(imap bob "$BOB_PW")
check "... the old one does not: $r" test "${r%% *}" = NO

# --- the audit trail; no password anywhere ---
vs_svc audit >"$WORK/audit.txt" 2>&1
check "audit: the adds (names, services, expiry), the del, the set" \
    test "$(grep -c 'app-password-add' "$WORK/audit.txt")" -eq 4 -a \
    "$(grep -c 'app-password-del	alice phone' "$WORK/audit.txt")" -eq 1 -a \
    "$(grep -c 'user-set	bob app-passwords-only=yes' "$WORK/audit.txt")" -eq 1
leak=
for p in "$PHONE" "$LAPTOP" "$OLD" "$BOBAPP" "${PHONE//-/}" "$BOB_PW" "$BOB_PW2"; do
	grep -rqF -- "$p" "$SVCLOG" "$DCLOG" "$WORK/audit.txt" "$WORK/list.json" \
	    "$WORK/list.txt" "$WORK/bob.show" "$STORE" ${MAILLOG:+"$MAILLOG"} 2>/dev/null && leak="$leak ${p:0:4}"
done
check "no app password in vmsealed's or Dovecot's log, the audit, list, show, the store files${leak:+ (found:$leak)}" test -z "$leak"
vs_svc stats --json >"$WORK/stats.json" 2>&1
check "vmseal stats counts the refusals of the app passwords like other failures" python3 - "$WORK/stats.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d.get("attempts", 0) >= 4 else 1)
PY
t_done
