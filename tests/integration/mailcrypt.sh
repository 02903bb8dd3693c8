#!/bin/bash
# mailcrypt.sh - mail sealed at rest with Dovecot's mail_crypt and the
# per-user mail keys vmseal keeps ("store" protection; issue 13, first
# slice; doc/DESIGN.md section 7 (records) and 17 (the auth path)).
#
# A throwaway vmsealed on a temporary store, and a throwaway Dovecot 2.3
# (imap and lmtp on free 127.0.0.1 ports, Maildir under $WORK owned by
# nobody) with mail_crypt in global-keys mode, the keys coming from the
# userdb.  For each auth route - the native driver (libauthdb_vmseal.so)
# and vmseal-checkpassword - shown:
#   - "vmseal user add --mail-keys" made alice a key pair ("user show":
#     mail keys yes, no key printed); bob was added without; "vmseal export"
#     holds no private key, "export --with-mail-keys" does and warns so
#     (json only);
#   - "doveadm user alice" (a userdb lookup, as LMTP's) shows the public
#     key (base64 of a PEM public key) and no private key;
#   - "doveadm auth login alice PASSWORD" (a verified password, then the
#     userdb, as an IMAP login) carries the private key: base64 of an
#     unencrypted PKCS#8 P-256 PEM whose public half is alice's public
#     key; a wrong password carries none;
#   - a message delivered over LMTP with a unique marker is stored
#     encrypted: its file starts with mail_crypt's "CRYPTED" header and
#     grep finds the marker nowhere under the mail root; alice logs in over
#     IMAP and reads it in the clear;
#   - (first route only) bob, who has no keys, gets mail in the clear
#     (mail_crypt_save_version = 0 in the configuration: read only; vmsealed
#     sends 2 for users with keys); "vmseal user mail-key bob --generate"
#     gives him keys (a second time refused: keys are never replaced); his
#     next message is encrypted and he reads both;
#   - no private key (its base64, nor a line of its PEM) in Dovecot's log
#     or vmsealed's log.
# The same through Dovecot's Lua passdb/userdb (vmseal-auth.lua) when
# dovecot-auth-lua and lua-socket are installed.
# Dovecot 2.4 (no checkpassword there: the driver and Lua) names the
# settings differently: the driver turns the fields into
# crypt_global_public_key_file, crypt_global_private_key/vmseal/
# crypt_private_key_file (inline file contents) and crypt_write_algorithm;
# the configuration sets mail_plugins { mail_crypt = yes } and an empty
# crypt_write_algorithm (2.3: mail_crypt_save_version = 0).
#
# Needs root, dovecot-imapd, dovecot-lmtpd (with mail_crypt, in
# dovecot-core), python3, openssl; skips otherwise.  KEEP_WORK=1 keeps
# the work folder.
set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(dirname "$0")/../..}
. "$TOP_SRCDIR/tests/integration/lib.sh"
BIN=$(dirname "$VMSEAL")
VMSEALED=${VMSEALED:-$BIN/../service/vmsealed}
VMSEAL_CHECKPASSWORD=${VMSEAL_CHECKPASSWORD:-$BIN/vmseal-checkpassword}
if [ -z "${VMSEAL_PLUGIN:-}" ]; then
	VMSEAL_PLUGIN=$BIN/../plugin/libauthdb_vmseal.so
	[ -f "$VMSEAL_PLUGIN" ] ||
	    [ ! -f "$BIN/../plugin/.libs/libauthdb_vmseal.so" ] ||
	    VMSEAL_PLUGIN=$BIN/../plugin/.libs/libauthdb_vmseal.so
fi
MODULE_DIR=${DOVECOT_MODULE_DIR:-/usr/lib/dovecot/modules}
AUTH_MODULE_DIR=$MODULE_DIR/auth
SETTINGS_MODULE_DIR=$MODULE_DIR/settings
export LC_ALL=C

[ "$(id -u)" -eq 0 ] || skip "needs root (Dovecot starts only as root)"
PATH=$PATH:/usr/sbin:/sbin
for p in dovecot doveadm python3 openssl timeout; do
	command -v "$p" >/dev/null 2>&1 || skip "$p not installed"
done
DC_VERSION=$(dovecot --version 2>/dev/null | cut -d' ' -f1)
case $DC_VERSION in
2.3.*) DC24=;;
2.[0-2].*|1.*|'') skip "Dovecot '$DC_VERSION': 2.3 or later needed";;
*) DC24=1;;
esac
for p in imap lmtp; do
	[ -x /usr/lib/dovecot/$p ] || skip "dovecot-${p}d not installed"
done
[ -f "$MODULE_DIR/lib10_mail_crypt_plugin.so" ] ||
    skip "Dovecot's mail_crypt plugin not installed"
getent passwd dovecot >/dev/null || skip "no dovecot user"
getent passwd nobody >/dev/null || skip "no nobody user"
for b in "$VMSEAL" "$VMSEALED" "$VMSEAL_CHECKPASSWORD"; do
	[ -x "$b" ] || { echo "not ok 1 - $b is not executable"; exit 1; }
done
# Dovecot 2.4 has no checkpassword driver: the plugin only there.
MODES="checkpassword"
[ -n "$DC24" ] && MODES=
if [ -f "$VMSEAL_PLUGIN" ] && ! ldd "$VMSEAL_PLUGIN" 2>/dev/null | grep -q libasan
then
	MODES="plugin $MODES"
fi
# Dovecot's Lua passdb and userdb with contrib/dovecot/vmseal-auth.lua,
# when dovecot-auth-lua and lua-socket are installed
VMSEAL_LUA=${VMSEAL_LUA:-$TOP_SRCDIR/contrib/dovecot/vmseal-auth.lua}
for f in /usr/lib/*/lua/5.*/socket/unix.so /usr/lib/lua/5.*/socket/unix.so; do
	if [ -f "$f" ] && [ -f "$AUTH_MODULE_DIR/libauthdb_lua.so" ]; then
		MODES="$MODES lua"
		break
	fi
done
if [ -n "$DC24" ] && [ -z "$MODES" ]; then
	skip "Dovecot 2.4: the plugin ($VMSEAL_PLUGIN) is not built"
fi
VMSEAL_PLUGIN_SETTINGS=${VMSEAL_PLUGIN_SETTINGS:-$(dirname "$VMSEAL_PLUGIN")/libvmseal_settings.so}
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
NOGROUP=$(id -gn nobody)

WORK=$(mktemp -d /tmp/vmseal-mc-XXXXXX)
chmod 0711 "$WORK"
SOCKDIR=$WORK/run
CONF=$WORK/vmseal.conf
SVCLOG=$WORK/vmsealed.log
SVC_PID=
DC_STARTED=
DCBASE=
DCLOG=
MODULE_COPIED=
MODULE_BACKUP=
SETMOD_COPIED=
SETMOD_BACKUP=
SETMOD_DIR_MADE=

diagnostics() {
	echo "# --- vmsealed log (tail) ---"
	tail -n 20 "$SVCLOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- Dovecot log (tail) ---"
	tail -n 30 "${DCLOG:-/dev/null}" 2>/dev/null | sed 's/^/#   /'
}

dc_stop() {
	local pid
	[ -n "$DC_STARTED" ] || return 0
	pid=$(cat "$DCBASE/master.pid" 2>/dev/null)
	[ -n "$pid" ] && stop_pid "$pid"
	DC_STARTED=
}

cleanup() {
	dc_stop
	if [ -n "$SVC_PID" ]; then
		stop_pid "$SVC_PID"
		wait "$SVC_PID" 2>/dev/null
	fi
	if [ -n "$MODULE_COPIED" ]; then
		rm -f "$AUTH_MODULE_DIR/libauthdb_vmseal.so"
		[ -n "$MODULE_BACKUP" ] &&
		    mv "$MODULE_BACKUP" "$AUTH_MODULE_DIR/libauthdb_vmseal.so"
	fi
	if [ -n "$SETMOD_COPIED" ]; then
		rm -f "$SETTINGS_MODULE_DIR/libvmseal_settings.so"
		[ -n "$SETMOD_BACKUP" ] &&
		    mv "$SETMOD_BACKUP" "$SETTINGS_MODULE_DIR/libvmseal_settings.so"
		[ -n "$SETMOD_DIR_MADE" ] && rmdir "$SETTINGS_MODULE_DIR" 2>/dev/null
	fi
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ALICE_PW='alice mail-Secret1'
BOB_PW='bob mail-Secret2'
MAILROOT=$WORK/mail
t_new_store || bail "vmseal init"
{
	vs --offline domain add example.org &&
	vs --offline user add --no-policy alice --address alice@example.org --mail-keys \
	    --uid "$NOBODY_UID" --gid "$NOBODY_GID" --home "$MAILROOT/alice" \
	    --mail "maildir:~/Maildir" --password-fd 4 4<<<"$ALICE_PW" &&
	vs --offline user add --no-policy bob --address bob@example.org \
	    --uid "$NOBODY_UID" --gid "$NOBODY_GID" --home "$MAILROOT/bob" \
	    --mail "maildir:~/Maildir" --password-fd 4 4<<<"$BOB_PW"
} >"$WORK/setup.out" 2>&1 || { sed 's/^/#   /' "$WORK/setup.out"; bail "store set-up"; }
vs --offline user show alice >"$WORK/show-alice.out" 2>&1
expect_in "$WORK/show-alice.out" "mail keys:        yes (protection: store" \
    "user add --mail-keys made alice a mail key pair (user show)"
vs --offline user show bob >"$WORK/show-bob.out" 2>&1
expect_in "$WORK/show-bob.out" "mail keys:        none" \
    "user add without --mail-keys: bob has none"
expect_not_in "$WORK/show-alice.out" "BEGIN" "user show prints no key"
# export: mail keys only with --with-mail-keys (json), and then said so
vs --offline export -o "$WORK/export.json" >"$WORK/export.out" 2>&1
expect_not_in "$WORK/export.json" "PRIVATE KEY" \
    "export without --with-mail-keys holds no private key"
vs --offline export --with-mail-keys -o "$WORK/export-keys.json" \
    >"$WORK/export-keys.out" 2>&1
expect_in "$WORK/export-keys.json" "-----BEGIN PRIVATE KEY-----" \
    "export --with-mail-keys holds alice's private key"
expect_in "$WORK/export-keys.out" "mail private keys" \
    "export --with-mail-keys warns about the private keys"
expect_exit 2 "export --with-mail-keys --format htpasswd is refused" \
    vs --offline export --with-mail-keys --format htpasswd -o "$WORK/x"
rm -f "$WORK/export-keys.json"
mkdir -p "$MAILROOT"
chown "$NOBODY_UID:$NOBODY_GID" "$MAILROOT"
chmod 0700 "$MAILROOT"

cat >"$CONF" <<EOF
store_dir = $STORE
socket_dir = $SOCKDIR
user = nobody
group = $NOGROUP
auth_socket_group = dovecot
auth_socket_mode = 0660
throttle_allow = 127.0.0.0/8
EOF
"$VMSEALED" -c "$CONF" -f </dev/null >"$SVCLOG" 2>&1 &
SVC_PID=$!
vs_svc() { timeout 30 "$VMSEAL" -c "$CONF" "$@"; }
ready=
for _ in $(seq 100); do
	if vs_svc status >"$WORK/status.out" 2>&1; then ready=1; break; fi
	kill -0 "$SVC_PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$ready" ] || bail "vmsealed answers 'vmseal status' within 10 s"
vs_svc unseal --passphrase-fd 3 3<<<"$PASS" >"$WORK/unseal.out" 2>&1 ||
    { sed 's/^/#   /' "$WORK/unseal.out"; bail "vmseal unseal"; }
t_ok "vmsealed started and unsealed"

cat >"$WORK/cl.py" <<'PY'
import imaplib, smtplib, sys
cmd, port = sys.argv[1], int(sys.argv[2])
a = sys.argv[3:]
if cmd == "read":                      # read USER PASS: every body, in order
    m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
    m.login(a[0], a[1])
    m.select("INBOX", readonly=True)
    typ, d = m.search(None, "ALL")
    for n in d[0].split():
        typ, f = m.fetch(n, "(BODY.PEEK[TEXT])")
        sys.stdout.write("BODY %s\n" % f[0][1].decode(errors="replace").strip())
    m.logout()
elif cmd == "lmtp":                    # lmtp RCPT MARKER
    s = smtplib.LMTP("127.0.0.1", port, timeout=20)
    s.ehlo("client.vmseal.test")
    s.mail("sender@example.org")
    code, resp = s.rcpt(a[0])
    if code != 250:
        print("RCPT", code, resp); sys.exit(1)
    msg = ("From: <sender@example.org>\r\nTo: <%s>\r\nSubject: sealed\r\n"
           "\r\n%s\r\n" % (a[0], a[1])).encode()
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

# b64pem B64 OUT: decode a userdb value (base64 of a PEM) into OUT.
b64pem() { printf '%s' "$1" | base64 -d >"$2" 2>/dev/null; }

# run_mode MODE [with-bob]: a Dovecot whose passdb and userdb are vmseal
# through MODE (plugin, checkpassword or lua), and the checks above.
run_mode() {
	local mode=$1 pub priv marker f lg
	AUTH_MODE=$mode
	DCBASE=$WORK/dc-$mode
	DCLOG=$WORK/dovecot-$mode.log
	DCCONF=$WORK/dovecot-$mode.conf
	read -r IMAP_PORT LMTP_PORT < <(t_free_ports 2)
	[ -n "${LMTP_PORT:-}" ] || bail "no free ports found"
	t_dovecot_auth_setup || bail "$T_SETUP_ERR"
	t_dovecot_start_mailcrypt alice "$ALICE_PW"
	t_ok "$mode: Dovecot $DC_VERSION with mail_crypt started, alice's login verified"

	# the userdb lookup: public key only
	timeout 10 doveadm -c "$DCCONF" user alice >"$WORK/user.out" 2>&1
	# 2.3: mail_crypt_global_public_key; 2.4: crypt_global_public_key_file
	# (inline:)
	pub=$(sed -n -e 's/^ *mail_crypt_global_public_key[ =:]*\s*//p' \
	    -e 's/^ *crypt_global_public_key_file[ =:]*\s*\(inline:\)\{0,1\}//p' \
	    "$WORK/user.out" | tr -d ' \t' | head -1)
	if [ -n "$pub" ] && b64pem "$pub" "$WORK/pub.pem" &&
	    head -1 "$WORK/pub.pem" | grep -qx -- '-----BEGIN PUBLIC KEY-----'; then
		t_ok "$mode: doveadm user alice carries the public key (base64 of a PEM)"
	else
		t_fail "$mode: doveadm user alice: no usable public key"
		sed 's/^/#   /' "$WORK/user.out"
	fi
	expect_not_in "$WORK/user.out" "private_key" \
	    "$mode: doveadm user alice carries no private key"

	# the verified password (passdb, then userdb, as an IMAP login): the
	# private key, matching the public one
	timeout 10 doveadm -c "$DCCONF" auth login alice "$ALICE_PW" \
	    >"$WORK/authlogin.out" 2>&1
	priv=$(sed -n -e 's/^ *mail_crypt_global_private_key[ =:]*\s*//p' \
	    -e 's/^ *crypt_global_private_key\/vmseal\/crypt_private_key_file[ =:]*\s*\(inline:\)\{0,1\}//p' \
	    "$WORK/authlogin.out" | tr -d ' \t' | head -1)
	if [ -n "$priv" ] && b64pem "$priv" "$WORK/priv.pem" &&
	    head -1 "$WORK/priv.pem" | grep -qx -- '-----BEGIN PRIVATE KEY-----' &&
	    openssl pkey -in "$WORK/priv.pem" -noout -text 2>/dev/null |
	    grep -q 'NIST CURVE: P-256' &&
	    openssl pkey -in "$WORK/priv.pem" -pubout 2>/dev/null |
	    cmp -s - "$WORK/pub.pem"; then
		t_ok "$mode: a verified password carries the private key (PKCS#8 P-256, the public key's pair)"
	else
		t_fail "$mode: no matching private key after a verified password"
		sed 's/^/#   /' "$WORK/authlogin.out" | cut -c1-100
	fi
	timeout 10 doveadm -c "$DCCONF" auth login alice wrong-password \
	    >"$WORK/authbad.out" 2>&1
	expect_not_in "$WORK/authbad.out" "private_key" \
	    "$mode: a wrong password carries no private key"

	# LMTP delivery: encrypted at rest, read in the clear over IMAP
	marker="vmseal-marker-$mode-$RANDOM$RANDOM"
	timeout 40 python3 "$WORK/cl.py" lmtp "$LMTP_PORT" alice@example.org \
	    "$marker" >"$WORK/lmtp.out" 2>&1
	expect_in "$WORK/lmtp.out" "DATA 250" "$mode: LMTP delivers to alice"
	# the newest message file (an earlier mode's is there too)
	f=$(ls -t "$MAILROOT"/alice/Maildir/new/* "$MAILROOT"/alice/Maildir/cur/* \
	    2>/dev/null | head -1)
	if [ -n "$f" ] && [ "$(head -c 7 "$f")" = CRYPTED ]; then
		t_ok "$mode: the message file starts with mail_crypt's CRYPTED header"
	else
		t_fail "$mode: message file ${f:-(none)} is not encrypted"
		head -c 200 "${f:-/dev/null}" | sed 's/^/#   /'
	fi
	if grep -rqF -- "$marker" "$MAILROOT"; then
		t_fail "$mode: the marker is readable under the mail root"
	else
		t_ok "$mode: grep -r finds the marker nowhere under the mail root"
	fi
	timeout 40 python3 "$WORK/cl.py" read "$IMAP_PORT" alice "$ALICE_PW" \
	    >"$WORK/read.out" 2>&1
	expect_in "$WORK/read.out" "BODY $marker" \
	    "$mode: alice reads it in the clear over IMAP"

	# logs: no private key, whole or by a line of its PEM
	for lg in "$DCLOG" "$SVCLOG"; do
		if [ -z "$priv" ] || [ ! -s "$WORK/priv.pem" ]; then
			t_fail "$mode: $(basename "$lg"): no private key to look for"
		elif grep -qF -- "$priv" "$lg" ||
		    grep -qF -- "$(sed -n 2p "$WORK/priv.pem")" "$lg"; then
			t_fail "$mode: a private key in $(basename "$lg")"
		else
			t_ok "$mode: no private key in $(basename "$lg")"
		fi
	done
	[ "$2" = with-bob ] && bob_checks
	dc_stop
	if [ -n "$MODULE_COPIED" ]; then
		rm -f "$AUTH_MODULE_DIR/libauthdb_vmseal.so"
		[ -n "$MODULE_BACKUP" ] &&
		    mv "$MODULE_BACKUP" "$AUTH_MODULE_DIR/libauthdb_vmseal.so"
		MODULE_COPIED=
	fi
}

# bob: without keys his mail is delivered in the clear (the configuration's
# mail_crypt_save_version = 0); once "vmseal user mail-key bob --generate"
# gave him keys (vmsealed then sends mail_crypt_save_version=2), his mail
# is encrypted, and he reads both: mail from before the keys stays
# readable.
bob_checks() {
	local m1="vmseal-before-keys-$RANDOM$RANDOM" m2="vmseal-after-keys-$RANDOM$RANDOM"
	timeout 40 python3 "$WORK/cl.py" lmtp "$LMTP_PORT" bob@example.org \
	    "$m1" >"$WORK/lmtp-bob1.out" 2>&1
	expect_in "$WORK/lmtp-bob1.out" "DATA 250" "LMTP delivers to bob, who has no keys"
	timeout 10 doveadm -c "$DCCONF" user bob >"$WORK/user-bob.out" 2>&1
	expect_not_in "$WORK/user-bob.out" "crypt_global" \
	    "doveadm user bob: no mail key without keys"
	if grep -rqF -- "$m1" "$MAILROOT/bob"; then
		t_ok "bob without keys: his message is plain on disk"
	else
		t_fail "bob without keys: message not found plain"
	fi
	vs_svc user mail-key bob --generate >"$WORK/mk.out" 2>&1
	check "vmseal user mail-key bob --generate (through vmsealed)" \
	    test $? -eq 0
	vs_svc user mail-key bob --generate >"$WORK/mk2.out" 2>&1
	expect_in "$WORK/mk2.out" "already has mail keys: they are never replaced" \
	    "a second mail-key --generate is refused"
	timeout 40 python3 "$WORK/cl.py" lmtp "$LMTP_PORT" bob@example.org \
	    "$m2" >"$WORK/lmtp-bob2.out" 2>&1
	expect_in "$WORK/lmtp-bob2.out" "DATA 250" "LMTP delivers to bob with keys"
	if grep -rqF -- "$m2" "$MAILROOT/bob"; then
		t_fail "bob with keys: the new message is plain on disk"
	else
		t_ok "bob with keys: the new message is not readable on disk"
	fi
	timeout 40 python3 "$WORK/cl.py" read "$IMAP_PORT" bob "$BOB_PW" \
	    >"$WORK/read-bob.out" 2>&1
	expect_in "$WORK/read-bob.out" "BODY $m1" \
	    "bob reads the message from before his keys"
	expect_in "$WORK/read-bob.out" "BODY $m2" \
	    "bob reads the encrypted one"
}

# bob's checks need a running Dovecot: in the first mode's
bob=with-bob
for mode in $MODES; do
	run_mode "$mode" "$bob"
	bob=
done
t_done
