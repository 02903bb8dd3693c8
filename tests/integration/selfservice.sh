#!/bin/bash
# selfservice.sh - users change their own password from webmail: vmsealed's
# poppassd front end (Unix socket and loopback TCP; service/selfservice.c)
# and its httpapi front end (libmicrohttpd; service/httpapi.c), driven by
# Roundcube's own password plugin drivers "poppassd" and "httpapi"
# (Debian's roundcube-plugins, run unmodified under php-cli by the harness
# roundcube-password.php written below), and by a raw client for what
# Roundcube never sends.  doc/DESIGN.md section 16, doc/self-service.md.
#
# A service of our own (vmsealed -f, user nobody, hash_workers = 1,
# throttle_login_limit = 3: a change from loopback - a webmail on this
# host - is throttled per login only) on a temporary store with cheap
# Argon2.  Shown:
#   - off by default: no poppassd socket, no port, nothing "serving";
#   - the sockets: poppassd's with its configured group and mode;
#   - sealed: both drivers get "temporary failure" (poppassd's message
#     shown by Roundcube; httpapi 503, Roundcube's "connection error");
#   - a change via poppassd (Unix socket) and via httpapi: the new password
#     verifies over the auth socket, the old one no longer does; each
#     change is in the audit trail, made by the user via its front end;
#   - a new password the policy refuses (too short): Roundcube gets the
#     reason, the password is unchanged;
#   - a wrong current password (poppassd over TCP, from 127.0.0.1) is
#     refused and counted: after 3, the right one is refused as throttled
#     without a hash (auth.hash_verifications unchanged), also via httpapi;
#     meanwhile bob changes his from the same 127.0.0.1 (the webmail's
#     address is not blocked: per login only);
#   - raw protocol: GET 405, another content type 415, a body over the cap
#     413, a missing field 400 with its name, a poppassd line over 512
#     bytes "500 line too long" and the end, commands in any letter case;
#   - no password in the log.
# Needs root (vmsealed drops to nobody) and python3; Roundcube's checks
# need php-cli and roundcube-plugins (else skipped, counted).
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}
export LC_ALL=C

[ "$(id -u)" -eq 0 ] || skip "selfservice.sh needs root (vmsealed drops to nobody)"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
    skip "no user nobody or group nogroup"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
RC=/usr/share/roundcube
HAVE_RC=
if command -v php >/dev/null 2>&1 &&
    [ -f "$RC/plugins/password/drivers/poppassd.php" ] &&
    [ -f "$RC/plugins/password/drivers/httpapi.php" ]; then
	HAVE_RC=1
fi

WORK=$(mktemp -d /tmp/vmseal-self-XXXXXX)
chmod 0711 "$WORK"
SOCK=$WORK/sock
CONF=$WORK/vmseal.conf
LOG=$WORK/vmsealed.log
DPID=

cleanup() {
	if [ -n "$DPID" ]; then
		stop_pid "$DPID"
		wait "$DPID" 2>/dev/null
	fi
	if [ "$T_FAILED" -gt 0 ] && [ -f "$LOG" ]; then
		echo "# --- tail of the vmsealed log ---"
		tail -n 30 "$LOG" | sed 's/^/#   /'
	fi
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

vsc() {
	timeout 20 "$VMSEAL" -c "$CONF" "$@"
}

start_service() {
	rm -rf "$SOCK"
	: >"$LOG"
	"$VMSEALED" -c "$CONF" -f </dev/null >>"$LOG" 2>&1 &
	DPID=$!
	local i
	for i in $(seq 50); do
		timeout 5 "$VMSEAL" -c "$CONF" status >/dev/null 2>&1 && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

hashes() {
	vsc status --json 2>/dev/null | $PY -c \
	    'import json,sys; print(json.load(sys.stdin)["auth"]["hash_verifications"])'
}

# The raw clients: the auth socket's verify, a poppassd session, an HTTP
# request.  Passwords come on standard input, never in argv.
cat >"$WORK/cl.py" <<'PY'
import socket, sys

def ns(b):
    return b"%d:%s," % (len(b), b)

def read_ns(s):
    buf = b""
    while True:
        i = buf.find(b":")
        if i > 0:
            n = int(buf[:i])
            if len(buf) >= i + n + 2:
                return buf[i + 1:i + 1 + n]
        d = s.recv(65536)
        if not d:
            raise EOFError
        buf += d

def items(p):
    out = []
    while p:
        i = p.find(b":")
        n = int(p[:i])
        out.append(p[i + 1:i + 1 + n].decode("latin-1"))
        p = p[i + 2 + n:]
    return out

def lines():
    return [l.rstrip("\n") for l in sys.stdin]

def cmd_verify(path, login):
    """verify LOGIN with the password on stdin, from 192.0.2.9."""
    pw = lines()[0]
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(path)
    inner = b"".join(ns(x.encode()) for x in
                     ("verify", login, pw, "imap", "192.0.2.9",
                      "127.0.0.1", "1"))
    s.sendall(ns(inner))
    print(items(read_ns(s))[0])

def connect(where):
    if where.startswith("/"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(where)
    else:
        host, port = where.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(30)
    return s

def cmd_poppassd(where):
    """Send the lines of stdin one by one; print each answer line."""
    s = connect(where)
    f = s.makefile("rwb")
    print(f.readline().decode().rstrip())
    for l in lines():
        f.write(l.encode("latin-1") + b"\r\n")
        f.flush()
        a = f.readline().decode().rstrip()
        print(a if a else "<closed>")

def cmd_http(where, method, ctype):
    """One request with stdin as the body (escapes as Python bytes);
    print the status line and the body."""
    body = sys.stdin.read().encode("latin-1")
    if body.startswith(b"REPEAT "):
        n, chunk = body[7:].split(b" ", 1)
        body = chunk * int(n)
    s = connect(where)
    req = b"%s / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" % \
        method.encode()
    if ctype != "-":
        req += b"Content-Type: %s\r\n" % ctype.encode()
    if method == "POST":
        req += b"Content-Length: %d\r\n" % len(body)
    s.sendall(req + b"\r\n" + (body if method == "POST" else b""))
    data = b""
    while True:
        try:
            d = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not d:
            break
        data += d
    head, _, rest = data.partition(b"\r\n\r\n")
    print(head.split(b"\r\n")[0].decode())
    print(rest.decode("latin-1").rstrip())

globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
PY
cl() {
	timeout 60 $PY "$WORK/cl.py" "$@"
}
# verify_is LOGIN PASSWORD ANSWER DESCRIPTION
verify_is() {
	local got
	got=$(printf '%s\n' "$2" | cl verify "$SOCK/auth" "$1" 2>&1)
	if [ "$got" = "$3" ]; then t_ok "$4"; else t_fail "$4: got '$got'"; fi
}

# The harness that runs Roundcube's drivers (kept in this file so that the
# test travels whole in the tarball).
cat >"$WORK/roundcube-password.php" <<'PHP'
<?php
/*
 * roundcube-password.php - runs one of Roundcube's password plugin
 * drivers, unmodified, under php-cli, for tests/integration/selfservice.sh.
 *
 *   ROUNDCUBE_CONFIG_DIR=DIR php roundcube-password.php DRIVER
 *   standard input: the login, the current password, the new password
 *   (one per line; never in argv or the environment)
 *
 * Roundcube's own CLI set-up (program/include/clisetup.php: iniset.php,
 * the framework's autoloader, rcmail::get_instance()) loads DIR's
 * config.inc.php and defaults.inc.php; no database is opened, since the
 * drivers need none.  The plugin's password.php gives the PASSWORD_*
 * codes and password::get_http_client() (Guzzle, for httpapi); the driver
 * file drivers/DRIVER.php is Roundcube's (Debian's roundcube-plugins).
 * Prints "code=N" and, when the driver returned a message (what Roundcube
 * shows after "Could not save new password."), " message=TEXT".  Codes:
 * 0 PASSWORD_SUCCESS, 2 PASSWORD_ERROR, 3 PASSWORD_CONNECT_ERROR.
 */
if (php_sapi_name() != 'cli' || $argc != 2 ||
    !preg_match('/^[a-z_]+$/', $argv[1])) {
    fwrite(STDERR, "usage: php roundcube-password.php DRIVER\n");
    exit(2);
}
define('INSTALL_PATH', getenv('ROUNDCUBE_INSTALL_PATH') ?: '/usr/share/roundcube/');
require_once INSTALL_PATH . 'program/include/clisetup.php';
require_once INSTALL_PATH . 'plugins/password/password.php';
$driver = $argv[1];
require_once INSTALL_PATH . "plugins/password/drivers/$driver.php";

$user = rtrim((string) fgets(STDIN), "\r\n");
$cur = rtrim((string) fgets(STDIN), "\r\n");
$new = rtrim((string) fgets(STDIN), "\r\n");

$class = "rcube_{$driver}_password";
$object = new $class();
$result = $object->save($cur, $new, $user);
if (is_array($result)) {
    echo "code=" . $result['code'] . " message=" . $result['message'] . "\n";
} else {
    echo "code=" . $result . "\n";
}
PHP
# Roundcube's driver DRIVER (poppassd or httpapi), unmodified, through the
# harness: prints "code=N message=...".  $RC_POP_HOST/PORT choose the
# poppassd endpoint.
roundcube() {
	local user=$2 cur=$3 new=$4
	printf '%s\n%s\n%s\n' "$user" "$cur" "$new" |
	    ROUNDCUBE_CONFIG_DIR=$WORK/rcconfig RC_POP_HOST=$RC_POP_HOST \
	    RC_POP_PORT=$RC_POP_PORT RC_HTTPAPI_URL=http://127.0.0.1:$HPORT/ \
	    timeout 60 php "$WORK/roundcube-password.php" "$1" 2>&1
}
# rc_is DRIVER USER CUR NEW WANT DESCRIPTION (WANT: the output's start)
rc_is() {
	local got
	if [ -z "$HAVE_RC" ]; then
		t_skip "$6 (php-cli or Roundcube's password plugin not installed)"
		return
	fi
	got=$(roundcube "$1" "$2" "$3" "$4" | tail -n 1)
	case $got in
	"$5"*) t_ok "$6" ;;
	*) t_fail "$6: got '$got', want '$5...'" ;;
	esac
}

# --- 1. a store and the service, sealed ---
if ! t_new_store; then
	t_fail "a new store"
	t_done
	exit 1
fi
OLD='Alice-Secret-1'
NEW1='Poppassd-Changed-2026'
NEW2='Httpapi-Changed-2026'
vs --offline user add --no-policy bob@example.org --password-fd 4 \
    4<<<"$OLD" >>"$WORK/setup.out" 2>&1 || bail "user add bob"
vs --offline user add --no-policy alice@example.org --password-fd 4 \
    4<<<"$OLD" >"$WORK/setup.out" 2>&1
check "store: alice@example.org" test $? -eq 0

read -r PPORT HPORT <<<"$(t_free_ports 2)"
[ -n "${HPORT:-}" ] || bail "no free TCP ports"
cat >"$CONF" <<EOF
socket_dir = $SOCK
store_dir = $STORE
user = nobody
group = nogroup
admin_socket_mode = 0666
auth_socket_mode = 0666
hash_workers = 1
idle_timeout = 60
throttle_login_limit = 3
EOF
chmod 0644 "$CONF"
# Off by default: the service with the settings above only.
if start_service; then
	check "default: no poppassd socket" test ! -e "$SOCK/poppassd"
	check "default: nothing listens for poppassd or httpapi (ports of the test's later config)" \
	    $PY -c 'import socket, sys
for p in sys.argv[1:]:
    try:
        socket.create_connection(("127.0.0.1", int(p)), 2).close()
        sys.exit(1)
    except ConnectionRefusedError:
        pass' "$PPORT" "$HPORT"
	expect_not_in "$LOG" "serving" "default: no front end logged as serving"
	stop_pid "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
else
	t_fail "vmsealed starts with the defaults"
fi
cat >>"$CONF" <<EOF
poppassd_socket = poppassd
poppassd_socket_group = nogroup
poppassd_socket_mode = 0660
poppassd_listen = 127.0.0.1:$PPORT
httpapi_listen = 127.0.0.1:$HPORT
selfservice_timeout = 10
EOF
mkdir -p "$WORK/rcconfig"
# Roundcube's defaults, and the password plugin's settings (the harness
# reads the endpoints from the environment).  http_errors off: Guzzle then
# hands 4xx/5xx to the driver, which tells "could not save" (4xx) from
# "connection error" (5xx); with Guzzle's default every non-2xx is a
# connection error (doc/self-service.md).
cp /etc/roundcube/defaults.inc.php "$WORK/rcconfig/" 2>/dev/null ||
    cp "$RC/config/defaults.inc.php" "$WORK/rcconfig/" 2>/dev/null
cat >"$WORK/rcconfig/config.inc.php" <<'EOF'
<?php
$config = [];
$config['log_driver'] = 'stdout';
$config['password_pop_host'] = getenv('RC_POP_HOST');
$config['password_pop_port'] = (int) getenv('RC_POP_PORT');
$config['password_httpapi_url'] = getenv('RC_HTTPAPI_URL');
$config['password_httpapi_method'] = 'POST';
$config['password_httpapi_var_user'] = 'username';
$config['password_httpapi_var_curpass'] = 'curpass';
$config['password_httpapi_var_newpass'] = 'newpass';
$config['password_httpapi_expect'] = '/^password changed/';
$config['password_http_client'] = ['http_errors' => false, 'timeout' => 30];
EOF

if ! start_service; then
	t_fail "vmsealed starts with poppassd and httpapi"
	t_done
	exit 1
fi
t_ok "vmsealed starts with poppassd (socket, TCP) and httpapi"
check "the poppassd socket: group nogroup, mode 0660" \
    test "$(stat -c '%G %a' "$SOCK/poppassd" 2>/dev/null)" = "nogroup 660"
expect_in "$LOG" "httpapi: serving 127.0.0.1:$HPORT" "httpapi serves its loopback port"

# Unix socket for Roundcube's poppassd (Net_Socket: unix://PATH, port -1).
RC_POP_HOST=unix://$SOCK/poppassd
RC_POP_PORT=-1
rc_is poppassd alice@example.org "$OLD" "$NEW1" \
    "code=2 message=temporary failure (vmseal is sealed), try again later" \
    "sealed: Roundcube's poppassd shows 'temporary failure (vmseal is sealed)'"
rc_is httpapi alice@example.org "$OLD" "$NEW1" "code=3" \
    "sealed: Roundcube's httpapi gets 503 (PASSWORD_CONNECT_ERROR)"
printf 'username=alice%%40example.org&curpass=%s&newpass=%s' "$OLD" "$NEW1" |
    cl http "127.0.0.1:$HPORT" POST application/x-www-form-urlencoded \
    >"$WORK/http.out" 2>&1
expect_in "$WORK/http.out" "HTTP/1.1 503" "sealed: httpapi answers 503"

if ! vsc unseal --passphrase-fd 3 3<<<"$PASS" >/dev/null 2>&1; then
	t_fail "unseal"
	t_done
	exit 1
fi
t_ok "unsealed"
verify_is alice@example.org "$OLD" ok "alice's first password verifies"

# --- 2. changes through Roundcube's drivers ---
if [ -n "$HAVE_RC" ]; then
	rc_is poppassd alice@example.org "$OLD" "$NEW1" "code=0" \
	    "Roundcube's poppassd driver (Unix socket) changes the password"
	verify_is alice@example.org "$NEW1" ok "the new password verifies"
	verify_is alice@example.org "$OLD" fail \
	    "the old password no longer does"
	rc_is httpapi alice@example.org "$NEW1" "$NEW2" "code=0" \
	    "Roundcube's httpapi driver changes it (2xx, body matches /^password changed/)"
	verify_is alice@example.org "$NEW2" ok "the httpapi password verifies"
	verify_is alice@example.org "$NEW1" fail \
	    "the poppassd one no longer does"
	rc_is poppassd alice@example.org "$NEW2" "Short-1" \
	    "code=2 message=the new password is refused: The password is shorter than 12 characters" \
	    "policy: Roundcube's poppassd shows 'The password is shorter than 12 characters'"
	rc_is httpapi alice@example.org "$NEW2" "Short-1" "code=2" \
	    "policy: Roundcube's httpapi gets 422 (PASSWORD_ERROR)"
else
	# The same through the raw clients (counted the same).
	t_skip "Roundcube's drivers: php-cli or roundcube-plugins not installed; raw clients instead"
	printf 'user alice@example.org\npass %s\nnewpass %s\nquit\n' "$OLD" \
	    "$NEW1" | cl poppassd "$SOCK/poppassd" >"$WORK/pp.out" 2>&1
	expect_in "$WORK/pp.out" "200 Password changed, thank-you." \
	    "poppassd (Unix socket) changes the password"
	verify_is alice@example.org "$NEW1" ok "the new password verifies"
	verify_is alice@example.org "$OLD" fail "the old password no longer does"
	printf 'username=alice%%40example.org&curpass=%s&newpass=%s' "$NEW1" \
	    "$NEW2" | cl http "127.0.0.1:$HPORT" POST \
	    application/x-www-form-urlencoded >"$WORK/http.out" 2>&1
	expect_in "$WORK/http.out" "password changed" "httpapi changes it"
	verify_is alice@example.org "$NEW2" ok "the httpapi password verifies"
	verify_is alice@example.org "$NEW1" fail "the poppassd one no longer does"
fi
verify_is alice@example.org "$NEW2" ok "the policy's refusals changed nothing"
vsc audit >"$WORK/audit.out" 2>&1
expect_in "$WORK/audit.out" "alice@example.org by the user via poppassd from a local socket" \
    "audit: the poppassd change, by the user, from the Unix socket"
expect_in "$WORK/audit.out" "alice@example.org by the user via httpapi from 127.0.0.1" \
    "audit: the httpapi change, by the user, from 127.0.0.1"

# --- 3. raw protocol: what Roundcube never sends ---
printf 'USER alice@example.org\nPass x\nQUIT\n' |
    cl poppassd "$SOCK/poppassd" >"$WORK/pp.out" 2>&1
check "poppassd: greeting 200, commands in any letter case" test \
    "$(tr '\n' '|' <"$WORK/pp.out")" = \
    "200 vmseal poppassd, hello, who are you?|200 Your password please.|200 Your new password please.|200 Bye.|"
{ printf 'user '; head -c 600 /dev/zero | tr '\0' a; printf '\nquit\n'; } |
    cl poppassd "$SOCK/poppassd" >"$WORK/pp.out" 2>&1
check "poppassd: a line over 512 bytes: '500 line too long', then closed" \
    test "$(sed -n 2,3p "$WORK/pp.out" | tr '\n' '|')" = \
    "500 line too long|<closed>|"
printf 'pass x\nnewpass y\n' | cl poppassd "$SOCK/poppassd" >"$WORK/pp.out" 2>&1
check "poppassd: out of order: '500 send user first'" \
    test "$(sed -n 2p "$WORK/pp.out")" = "500 send user first"
: | cl http "127.0.0.1:$HPORT" GET - >"$WORK/http.out" 2>&1
expect_in "$WORK/http.out" "HTTP/1.1 405" "httpapi: GET is 405 (passwords never in URLs)"
printf 'username=a&curpass=b&newpass=c' |
    cl http "127.0.0.1:$HPORT" POST text/plain >"$WORK/http.out" 2>&1
expect_in "$WORK/http.out" "HTTP/1.1 415" "httpapi: another content type is 415"
printf 'REPEAT 9000 x' | cl http "127.0.0.1:$HPORT" POST \
    application/x-www-form-urlencoded >"$WORK/http.out" 2>&1
expect_in "$WORK/http.out" "HTTP/1.1 413" "httpapi: a body over 8192 bytes is 413"
printf 'username=alice%%40example.org&curpass=x' | cl http "127.0.0.1:$HPORT" \
    POST application/x-www-form-urlencoded >"$WORK/http.out" 2>&1
check "httpapi: a missing field is 400, naming it" test \
    "$(tr '\n' '|' <"$WORK/http.out")" = \
    "HTTP/1.1 400 Bad Request|form field 'newpass': missing|"

# --- 4. wrong current passwords: refused, counted, then throttled ---
RC_POP_HOST=127.0.0.1
RC_POP_PORT=$PPORT
H0=$(hashes)
for i in 1 2 3; do
	if [ -n "$HAVE_RC" ]; then
		rc_is poppassd alice@example.org "Wrong-Guess-$i" "$NEW1" \
		    "code=2 message=the current password is wrong" \
		    "wrong current password $i (Roundcube, poppassd over TCP from 127.0.0.1): refused"
	else
		printf 'user alice@example.org\npass Wrong-Guess-%s\nnewpass %s\n' \
		    "$i" "$NEW1" | cl poppassd "127.0.0.1:$PPORT" \
		    >"$WORK/pp.out" 2>&1
		expect_in "$WORK/pp.out" "500 the current password is wrong" \
		    "wrong current password $i (poppassd over TCP): refused"
	fi
done
H1=$(hashes)
check "the 3 wrong passwords were each hashed ($H0 -> $H1)" \
    test "$((H1 - H0))" -eq 3
rc_is poppassd alice@example.org "$NEW2" "$NEW1" \
    "code=2 message=too many failed attempts, try again later" \
    "4th try from 127.0.0.1, right password: throttled"
[ -n "$HAVE_RC" ] || {
	printf 'user alice@example.org\npass %s\nnewpass %s\n' "$NEW2" "$NEW1" |
	    cl poppassd "127.0.0.1:$PPORT" >"$WORK/pp.out" 2>&1
	expect_in "$WORK/pp.out" "500 too many failed attempts, try again later" \
	    "4th try (raw client): throttled"
}
printf 'username=alice%%40example.org&curpass=%s&newpass=%s' "$NEW2" "$NEW1" |
    cl http "127.0.0.1:$HPORT" POST application/x-www-form-urlencoded \
    >"$WORK/http.out" 2>&1
expect_in "$WORK/http.out" "HTTP/1.1 429" "httpapi from 127.0.0.1: throttled too (429)"
H2=$(hashes)
check "throttled: no hash computed ($H1 -> $H2)" test "$H2" -eq "$H1"
# alice's login is blocked now (3 failures): a login is refused as well,
# until the operator lifts it.
verify_is alice@example.org "$NEW2" fail "alice's login is blocked too (per-login throttle)"
vsc throttle clear alice@example.org >/dev/null 2>&1
verify_is alice@example.org "$NEW2" ok "after 'throttle clear': the password is still the httpapi one"
printf 'username=bob%%40example.org&curpass=%s&newpass=%s' "$OLD" "$NEW1" |
    cl http "127.0.0.1:$HPORT" POST application/x-www-form-urlencoded \
    >"$WORK/http.out" 2>&1
expect_in "$WORK/http.out" "HTTP/1.1 200" "meanwhile bob changes his from the same 127.0.0.1 (per login only: the webmail's address is not blocked)"
verify_is bob@example.org "$NEW1" ok "bob's new password verifies"
expect_in "$LOG" "auth failed: rip=127.0.0.1 user=alice@example.org service=passwd reason=bad-password" \
    "the failures are logged as auth failures (service=passwd, for fail2ban)"

# --- 5. no password in the log ---
for pw in "$OLD" "$NEW1" "$NEW2" Short-1 Wrong-Guess-1; do
	expect_not_in "$LOG" "$pw" "the log never holds '$pw'"
done

t_done
