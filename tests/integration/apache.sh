#!/bin/bash
# apache.sh - web applications sharing vmseal's users: a real Apache 2.4
# with mod_authnz_external running vmseal-authcheck (helper/authcheck.c,
# doc/web-apps.md).
#
# Starts, all by itself and on loopback only: a throwaway vmsealed (user
# nobody, the default throttle: 3 failures in 120 s per address) on a
# temporary store, and a throwaway Apache ("apache2 -f FILE -DFOREGROUND",
# its own ServerRoot, run folder and logs in the work folder, one free
# 127.0.0.1 port, children as www-data, modules loaded by LoadModule from
# the module folder; the system's /etc/apache2 and its service are never
# read or touched) whose /private/ is Basic auth through
# "AuthBasicProvider external" and vmseal-authcheck.  Everything is
# stopped and removed on exit.
#
# Shown with curl: 401 without credentials, 200 with the right ones, 401
# with a wrong password; from 127.0.0.2 (curl --interface) three wrong
# passwords and then the right one is refused too (throttled: vmseal-
# authcheck passed Apache's IP on), while 127.0.0.1 still logs in (the
# throttle counts per address); while vmsealed is sealed and while it is
# stopped the right password gets 401 as well - mod_authnz_external (3.3.x,
# authn_external_check_password) maps every non-zero status to AUTH_DENIED,
# which mod_auth_basic answers 401, so no authenticator can make it answer
# 500 or 503 - but Apache's error log shows the temporary status ("Failed
# (111)") and its reason, where a wrong password is "Failed (1)"; after the
# restart and unseal, 200 again.  Then vmseal-authcheck by itself: exit 0,
# 1 (wrong password, unknown, disabled), 111 (sealed, down), and refusals
# of malformed input (an overlong login or password line, a missing
# second line, a third line, a NUL, an empty login) without asking
# vmsealed; and no test password in any log.
#
# Needs root (Apache switches to www-data, vmsealed to nobody) and Debian's
# apache2; skipped without them.  libapache2-mod-authnz-external and curl
# are test dependencies (scripts/deps.sh): without them the test fails.
# Environment: VMSEAL, VMSEALED (default $(dirname $VMSEAL)/../service/
# vmsealed), VMSEAL_AUTHCHECK (default $(dirname $VMSEAL)/vmseal-authcheck),
# APACHE2 (default /usr/sbin/apache2), APACHE_MODULE_DIR (default
# /usr/lib/apache2/modules), TOP_SRCDIR; KEEP_WORK=1 keeps the work folder.
set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(dirname "$0")/../..}
. "$TOP_SRCDIR/tests/integration/lib.sh"
BIN=$(dirname "$VMSEAL")
VMSEALED=${VMSEALED:-$BIN/../service/vmsealed}
VMSEAL_AUTHCHECK=${VMSEAL_AUTHCHECK:-$BIN/vmseal-authcheck}
APACHE2=${APACHE2:-/usr/sbin/apache2}
MODDIR=${APACHE_MODULE_DIR:-/usr/lib/apache2/modules}
export LC_ALL=C

[ -x "$APACHE2" ] ||
    skip "n/a: Apache not installed ($APACHE2; apt-get install apache2)"
[ "$(id -u)" -eq 0 ] || skip "needs root (Apache and vmsealed switch users)"
for b in "$VMSEAL" "$VMSEALED" "$VMSEAL_AUTHCHECK"; do
	[ -x "$b" ] || { echo "not ok 1 - $b is not executable"; echo "1..1"; exit 1; }
done

WORK=$(mktemp -d /tmp/vmseal-web-XXXXXX)
chmod 0711 "$WORK"              # www-data and nobody pass through
SOCKDIR=$WORK/run
CONF=$WORK/vmseal.conf
SVCLOG=$WORK/vmsealed.log
AP=$WORK/apache
APLOG=$AP/error.log
ACCLOG=$AP/access.log
SVC_PID=
AP_PID=

diagnostics() {
	echo "# --- vmsealed log (tail) ---"
	tail -n 20 "$SVCLOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- Apache error log (tail) ---"
	tail -n 30 "$APLOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- Apache access log (tail) ---"
	tail -n 10 "$ACCLOG" 2>/dev/null | sed 's/^/#   /'
}

cleanup() {
	if [ -n "$AP_PID" ]; then
		stop_pid "$AP_PID"
		wait "$AP_PID" 2>/dev/null
	fi
	if [ -n "$SVC_PID" ]; then
		stop_pid "$SVC_PID"
		wait "$SVC_PID" 2>/dev/null
	fi
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# What CI installs (scripts/deps.sh) is required, not skipped.
command -v curl >/dev/null 2>&1 || bail "curl not installed (scripts/deps.sh)"
for m in mpm_prefork authn_core authz_core authz_user auth_basic \
    authnz_external; do
	[ -f "$MODDIR/mod_$m.so" ] ||
	    bail "$MODDIR/mod_$m.so missing (mod_authnz_external: Debian package libapache2-mod-authnz-external)"
done
getent passwd www-data >/dev/null && getent group www-data >/dev/null ||
    bail "no user or group www-data"
getent passwd nobody >/dev/null || bail "no user nobody"
NOGROUP=$(id -gn nobody)

read -r PORT < <(t_free_ports 1)
[ -n "${PORT:-}" ] || bail "no free port found"
URL=http://127.0.0.1:$PORT/private/index.html

# --- the store: alice (for Apache), bob (for the direct checks), carol
# disabled ---
ALICE_PW='tulip-Harbor-4417'
BOB_PW='quartz-Meadow-9023'
CAROL_PW='velvet-Canyon-3318'
WRONG_PW='not-the-right-one-55'
t_new_store || bail "vmseal init"
{
	vs --offline user add alice --password-fd 4 4<<<"$ALICE_PW" &&
	vs --offline user add bob --password-fd 4 4<<<"$BOB_PW" &&
	vs --offline user add carol --disabled --password-fd 4 4<<<"$CAROL_PW"
} >"$WORK/setup.out" 2>&1 || { sed 's/^/#   /' "$WORK/setup.out"; bail "store set-up"; }
t_ok "store: alice, bob, carol (disabled)"

# --- vmsealed: the default throttle; www-data may use the auth socket ---
cat >"$CONF" <<EOF
store_dir = $STORE
socket_dir = $SOCKDIR
user = nobody
group = $NOGROUP
auth_socket_group = www-data
auth_socket_mode = 0660
EOF
vs_svc() { timeout 30 "$VMSEAL" -c "$CONF" "$@"; }
start_vmsealed() {
	"$VMSEALED" -c "$CONF" -f </dev/null >>"$SVCLOG" 2>&1 &
	SVC_PID=$!
	for _ in $(seq 100); do
		vs_svc status >/dev/null 2>&1 && return 0
		kill -0 "$SVC_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
unseal() {
	vs_svc unseal --passphrase-fd 3 3<<<"$PASS" >"$WORK/unseal.out" 2>&1
}
start_vmsealed || bail "vmsealed answers 'vmseal status' within 10 s"
unseal || { sed 's/^/#   /' "$WORK/unseal.out"; bail "vmseal unseal"; }
t_ok "vmsealed started and unsealed"

# --- Apache ---
# www-data runs the authenticator: a copy it can surely reach.
AC=$VMSEAL_AUTHCHECK
if [ "$(head -c 4 "$AC" | tr -d '\0')" = $'\x7fELF' ]; then
	mkdir -p "$WORK/bin" && chmod 0755 "$WORK/bin"
	cp "$AC" "$WORK/bin/vmseal-authcheck" && AC=$WORK/bin/vmseal-authcheck
fi
mkdir -p "$AP/run" "$WORK/htdocs/private" || bail "mkdir $AP"
echo "public page" >"$WORK/htdocs/index.html"
echo "private page" >"$WORK/htdocs/private/index.html"
chmod -R a+rX "$WORK/htdocs"
cat >"$AP/httpd.conf" <<EOF
# A throwaway Apache for vmseal's tests: loopback only, nothing shared
# with the system's /etc/apache2.
ServerRoot "$AP"
DefaultRuntimeDir "$AP/run"
PidFile "$AP/run/httpd.pid"
Listen 127.0.0.1:$PORT
ServerName 127.0.0.1
User www-data
Group www-data
ErrorLog "$APLOG"
LogLevel warn
LogFormat "%a %u \"%r\" %>s" short
CustomLog "$ACCLOG" short
LoadModule mpm_prefork_module $MODDIR/mod_mpm_prefork.so
StartServers 1
MinSpareServers 1
MaxSpareServers 2
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
LoadModule auth_basic_module $MODDIR/mod_auth_basic.so
LoadModule authnz_external_module $MODDIR/mod_authnz_external.so
DocumentRoot "$WORK/htdocs"
<Directory />
  Require all denied
</Directory>
<Directory "$WORK/htdocs">
  Require all granted
</Directory>
# vmseal-authcheck, "pipe" method: login and password on its stdin.
DefineExternalAuth vmseal pipe "$AC --socket $SOCKDIR/auth"
<Directory "$WORK/htdocs/private">
  AuthType Basic
  AuthName "vmseal test"
  AuthBasicProvider external
  AuthExternal vmseal
  Require valid-user
</Directory>
EOF
"$APACHE2" -t -f "$AP/httpd.conf" >"$WORK/aptest.out" 2>&1 ||
    { sed 's/^/#   /' "$WORK/aptest.out"; bail "apache2 -t: the configuration"; }
# Its own session: at shutdown Apache (prefork) signals its whole process
# group, which must not be ours (nor make's).
setsid "$APACHE2" -f "$AP/httpd.conf" -DFOREGROUND </dev/null \
    >"$WORK/apache.out" 2>&1 &
AP_PID=$!
ready=
for _ in $(seq 100); do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
	    "http://127.0.0.1:$PORT/index.html" 2>/dev/null)
	[ "$code" = 200 ] && { ready=1; break; }
	kill -0 "$AP_PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$ready" ] || { sed 's/^/#   /' "$WORK/apache.out"; bail "Apache answers 200 for /index.html on 127.0.0.1:$PORT within 10 s"; }
t_ok "Apache started on 127.0.0.1:$PORT ($("$APACHE2" -v | sed -n 's/^Server version: //p'))"

# get CRED [SRC]: the status of GET /private/index.html with Basic credentials CRED
# (LOGIN:PASSWORD, none when empty) from source address SRC (default
# 127.0.0.1).  The credentials go through curl's config on stdin, not its
# arguments.  Body in $WORK/body.
get() {
	local cred=$1 src=${2:-127.0.0.1}
	{ [ -z "$cred" ] || printf 'user = "%s"\n' "$cred"; } |
	    curl -s -o "$WORK/body" -w '%{http_code}' --max-time 60 \
	    --interface "$src" -K - "$URL" 2>"$WORK/curl.err"
}
# expect_code WANT DESCRIPTION CRED [SRC]
expect_code() {
	local want=$1 what=$2 got; shift 2
	got=$(get "$@")
	if [ "$got" = "$want" ]; then t_ok "$what: $got"
	else t_fail "$what: got '$got', wanted $want"
		sed 's/^/#   /' "$WORK/curl.err"; fi
}
# log_grew_with TEXT DESCRIPTION: Apache's error log got TEXT since the
# last mark_log.
mark_log() { LOGMARK=$(wc -c <"$APLOG"); }
log_grew_with() {
	tail -c +"$((LOGMARK + 1))" "$APLOG" >"$WORK/aplog.new"
	expect_in "$WORK/aplog.new" "$1" "$2"
}

# --- over Apache ---
expect_code 401 "no credentials" ""
grep -qi '^www-authenticate: basic' <(curl -s -D - -o /dev/null "$URL") &&
    t_ok "401 asks for Basic credentials" ||
    t_fail "401 without WWW-Authenticate: Basic"
expect_code 200 "alice, right password" "alice:$ALICE_PW"
expect_in "$WORK/body" "private page" "the private page is served"
mark_log
expect_code 401 "alice, wrong password" "alice:$WRONG_PW"
log_grew_with "AuthExtern vmseal [$AC --socket $SOCKDIR/auth]: Failed (1) for user alice" \
    "a wrong password: mod_authnz_external logs status 1"
# (from 127.0.0.3: each is a failure for the throttle)
expect_code 401 "unknown user" "mallory:$ALICE_PW" 127.0.0.3
expect_code 401 "disabled user, right password" "carol:$CAROL_PW" 127.0.0.3
expect_code 401 "empty login" ":$ALICE_PW"
LONG=$(head -c 3000 /dev/zero | tr '\0' x)
mark_log
expect_code 401 "a 3000-byte password" "alice:$LONG"
log_grew_with "password over 1024 bytes" \
    "the refusal's reason reaches Apache's error log"
expect_code 200 "Apache still answers after the refusal" "alice:$ALICE_PW"

# The throttle, per address: three failures from 127.0.0.2, then the right
# password from there is refused too, and 127.0.0.1 still logs in.
for i in 1 2 3; do
	expect_code 401 "127.0.0.2: wrong password $i/3" "alice:$WRONG_PW" 127.0.0.2
done
mark_log
expect_code 401 "127.0.0.2 after 3 failures: right password refused" \
    "alice:$ALICE_PW" 127.0.0.2
log_grew_with "login refused: throttled" "Apache's log says throttled"
expect_in "$SVCLOG" "rip=127.0.0.2 user=alice service=web reason=throttled" \
    "vmsealed got the client's address and service web"
expect_code 200 "127.0.0.1 at the same time: right password" "alice:$ALICE_PW"

# Sealed: a temporary failure, which the module can only answer 401.
vs_svc seal >"$WORK/seal.out" 2>&1
check "vmseal seal" test $? -eq 0
mark_log
expect_code 401 "sealed: right password (the module's only refusal)" \
    "alice:$ALICE_PW"
log_grew_with "Failed (111) for user alice" \
    "sealed: mod_authnz_external logs the temporary status 111"
log_grew_with "vmseal-authcheck: temporary failure: vmseal is sealed" \
    "sealed: the reason in Apache's error log"

# Stopped: the same.
stop_pid "$SVC_PID"
wait "$SVC_PID" 2>/dev/null
SVC_PID=
mark_log
expect_code 401 "vmsealed stopped: right password" "alice:$ALICE_PW"
log_grew_with "Failed (111) for user alice" \
    "stopped: mod_authnz_external logs the temporary status 111"
log_grew_with "vmseal-authcheck: temporary failure: vmsealed does not answer on $SOCKDIR/auth" \
    "stopped: the reason in Apache's error log"

# Back: 200 again (the temporary answers counted no failure).
if start_vmsealed && unseal; then
	t_ok "vmsealed restarted and unsealed"
else
	sed 's/^/#   /' "$WORK/unseal.out"
	t_fail "vmsealed restart and unseal"
fi
expect_code 200 "after unseal: right password" "alice:$ALICE_PW"

# --- vmseal-authcheck by itself (IP from 192.0.2.0/24, user bob, so the
# checks above are not disturbed) ---
# ac INPUT [ARGS...]: run it with INPUT (printf format) on stdin.
ac() {
	local input=$1; shift
	printf "$input" | env -i PATH=/usr/bin:/bin IP=192.0.2.7 \
	    "$VMSEAL_AUTHCHECK" "$@"
}
S=(--socket "$SOCKDIR/auth")
expect_exit 0 "direct: bob, right password" ac "bob\n$BOB_PW\n" "${S[@]}"
expect_exit 0 "direct: no final LF after the password" ac "bob\n$BOB_PW" "${S[@]}"
expect_exit 0 "direct: -c CONFIG finds the socket" ac "bob\n$BOB_PW\n" -c "$CONF"
expect_exit 1 "direct: wrong password" ac "bob\nwrong-one\n" "${S[@]}"
expect_in "$SVCLOG" "rip=192.0.2.7 user=bob service=web reason=bad-password" \
    "  ... vmsealed got IP from the environment and service web"
expect_exit 1 "direct: unknown user" ac "nobody-here\n$BOB_PW\n" "${S[@]}"
expect_exit 1 "direct: disabled user" ac "carol\n$CAROL_PW\n" "${S[@]}"
LOGIN575=$(head -c 575 /dev/zero | tr '\0' b)
PW1025=$(head -c 1025 /dev/zero | tr '\0' p)
LOGIN574=$(head -c 574 /dev/zero | tr '\0' b)
PW1024=$(head -c 1024 /dev/zero | tr '\0' p)
expect_exit 1 "direct: a 574-byte login, at the cap: asked, no such user" \
    ac "$LOGIN574\n$BOB_PW\n" "${S[@]}"
expect_not_in "$WORK/last.out" "malformed input" "  ... not refused as malformed"
expect_exit 1 "direct: a 1024-byte password, at the cap: asked, wrong" \
    ac "bob\n$PW1024\n" "${S[@]}"
expect_not_in "$WORK/last.out" "malformed input" "  ... not refused as malformed"
expect_exit 1 "direct: a 575-byte login line" ac "$LOGIN575\n$BOB_PW\n" "${S[@]}"
expect_in "$WORK/last.out" "the login line is too long" "  ... says the login is too long"
expect_exit 1 "direct: a 1025-byte password" ac "bob\n$PW1025\n" "${S[@]}"
expect_in "$WORK/last.out" "the password is too long" "  ... says the password is too long"
expect_exit 1 "direct: no second line" ac "bob\n" "${S[@]}"
expect_in "$WORK/last.out" "no second line" "  ... says the second line is missing"
expect_exit 1 "direct: a login line alone without LF" ac "bob" "${S[@]}"
expect_exit 1 "direct: a third line" ac "bob\n$BOB_PW\nmore\n" "${S[@]}"
expect_exit 1 "direct: a NUL in the password" ac "bob\n$BOB_PW\\000\n" "${S[@]}"
expect_in "$WORK/last.out" "NUL" "  ... says NUL"
expect_exit 1 "direct: an empty login" ac "\n$BOB_PW\n" "${S[@]}"
expect_exit 1 "direct: a TAB in the login" ac "b\tob\n$BOB_PW\n" "${S[@]}"
expect_exit 1 "direct: no input" ac "" "${S[@]}"
expect_exit 2 "direct: an unknown option" ac "bob\n$BOB_PW\n" --frobnicate
expect_exit 2 "direct: an argument" ac "bob\n$BOB_PW\n" "${S[@]}" extra
expect_exit 0 "direct: --help" ac "" --help
expect_in "$WORK/last.out" "usage: vmseal-authcheck" "  ... prints the usage"
expect_exit 111 "direct: a missing named configuration" ac "bob\n$BOB_PW\n" -c "$WORK/none.conf"
vs_svc seal >/dev/null 2>&1
expect_exit 111 "direct: sealed" ac "bob\n$BOB_PW\n" "${S[@]}"
expect_in "$WORK/last.out" "vmseal is sealed" "  ... says sealed"
expect_exit 1 "direct: sealed, malformed input is still a no" ac "bob\n" "${S[@]}"
stop_pid "$SVC_PID"
wait "$SVC_PID" 2>/dev/null
SVC_PID=
expect_exit 111 "direct: vmsealed down" ac "bob\n$BOB_PW\n" "${S[@]}"
expect_in "$WORK/last.out" "does not answer" "  ... says vmsealed does not answer"

# No password of this test in any log or output.
for pw in "$ALICE_PW" "$BOB_PW" "$CAROL_PW" "$WRONG_PW" "$PW1025"; do
	if grep -rqF -- "$pw" "$APLOG" "$ACCLOG" "$SVCLOG" "$WORK/last.out"; then
		t_fail "a test password (${#pw} bytes) is in a log"
	else
		t_ok "no test password (${#pw} bytes) in Apache's or vmsealed's logs"
	fi
done
[ "$T_FAILED" -eq 0 ] || diagnostics
t_done
