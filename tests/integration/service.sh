#!/bin/bash
# service.sh - vmsealed end to end: a service of our own on a temporary
# store and socket folder.  Sealed at start (TEMP / DEFER_IF_PERMIT),
# unseal (passphrase, wrong passphrase, recovery key), seal, lookups with
# lookup.h's answers, the admin socket's SO_PEERCRED check and
# admin_group, malformed and hostile input on every socket, hundreds of
# connections and max_connections, SIGHUP and SIGTERM, privileges and
# core-dump hygiene, and the auth socket's placeholder answer.
#
# Raw protocol clients are inline python3 ($WORK/cl.py).  Needs root (the
# service drops to nobody:nogroup); without root it says so and skips.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}
export LC_ALL=C

if [ "$(id -u)" -ne 0 ]; then
	skip "service.sh needs root (vmsealed drops to nobody)"
fi
if ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null
then
	skip "no user nobody or group nogroup"
fi

WORK=$(mktemp -d /tmp/vmseal-svc-XXXXXX)
chmod 0711 "$WORK"              # nobody reaches the sockets and config
SOCK=$WORK/sock
CONF=$WORK/vmseal.conf
SM=$SOCK/socketmap
POL=$SOCK/policy
DPID=
LOG=
NSTART=0

cleanup() {
	local p
	for p in $DPID ${EXTRA_PIDS:-}; do
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null
			sleep 0.3
			kill -KILL "$p" 2>/dev/null
		fi
	done
	if [ "$T_FAILED" -gt 0 ]; then
		for p in "$WORK"/vmsealed.*.log; do
			[ -f "$p" ] || continue
			echo "# --- tail of $(basename "$p") ---"
			tail -n 25 "$p" | sed 's/^/#   /'
		done
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# --- helpers ---

# expect_eq DESCRIPTION GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"
	else t_fail "$1: got '$2', wanted '$3'"; fi
}

# expect_glob DESCRIPTION GOT PATTERN (bash glob)
expect_glob() {
	# shellcheck disable=SC2053
	if [[ $2 == $3 ]]; then t_ok "$1"
	else t_fail "$1: got '$2', wanted a match for '$3'"; fi
}

# write_conf [name=value ...]: $CONF from the base settings, overridden.
write_conf() {
	python3 - "$CONF" "$SOCK" "$STORE" "$@" <<'PY'
import sys
path, sock, store = sys.argv[1:4]
s = {"socket_dir": sock, "store_dir": store, "user": "nobody",
     "group": "nogroup", "admin_socket_mode": "0666",
     "socketmap_socket_mode": "0666", "policy_socket_mode": "0666",
     "auth_socket_mode": "0666", "recipient_delimiter": "+",
     "max_connections": "1024", "idle_timeout": "2",
     "syslog_facility": "mail"}
for kv in sys.argv[4:]:
    k, v = kv.split("=", 1)
    if v == "":
        s.pop(k, None)
    else:
        s[k] = v
with open(path, "w") as f:
    f.write("# written by service.sh\n")
    for k, v in s.items():
        f.write("%s = %s\n" % (k, v))
PY
	chmod 0644 "$CONF"
}

# vsc ARGS...: vmseal through the service, never waiting forever.
vsc() {
	timeout 20 "$VMSEAL" -c "$CONF" "$@"
}

# start_service: vmsealed on $CONF in the foreground, log to a new file;
# waits (at most 10 s) until its admin socket answers.
start_service() {
	NSTART=$((NSTART + 1))
	LOG=$WORK/vmsealed.$NSTART.log
	rm -rf "$SOCK"
	"$VMSEALED" -c "$CONF" -f </dev/null >"$LOG" 2>&1 &
	DPID=$!
	local i
	for i in $(seq 50); do
		if timeout 5 "$VMSEAL" -c "$CONF" status >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

# reload: SIGHUP and wait (at most 5 s) for the "reloaded" log line.
reload() {
	local before i
	before=$(grep -c 'configuration reloaded' "$LOG")
	kill -HUP "$DPID" || return 1
	for i in $(seq 50); do
		[ "$(grep -c 'configuration reloaded' "$LOG")" -gt "$before" ] &&
		    return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

alive() {
	kill -0 "$1" 2>/dev/null
}

# wait_exit PID SECONDS: true once PID has gone (a child: reaped).
wait_exit() {
	local i
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# status_json EXPR: a python expression over d (status --json) is true.
status_json() {
	vsc status --json >"$WORK/status.json" 2>"$WORK/status.err" &&
	    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
	    "$WORK/status.json" "$1"
}

# The raw clients.  Output is one line per answer; bytes outside printable
# ASCII are escaped python-style.
cat >"$WORK/cl.py" <<'PY'
import codecs, os, select, socket, sys, time

T = 5.0

def esc(b):
    return b.decode("latin-1").encode("unicode_escape").decode()

def unesc(s):
    return codecs.escape_decode(s.encode())[0]

def ns(b):
    return b"%d:%s," % (len(b), b)

def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(T)
    s.connect(path)
    return s

class Closed(Exception):
    pass

def read_ns(s, buf):
    """One reply netstring: (payload, rest).  Closed when the peer hangs
    up first; socket.timeout when it says nothing."""
    while True:
        i = buf.find(b":")
        if i > 0:
            n = int(buf[:i])
            if len(buf) >= i + n + 2:
                if buf[i + 1 + n:i + 2 + n] != b",":
                    raise ValueError("bad reply framing: %r" % buf)
                return buf[i + 1:i + 1 + n], buf[i + 2 + n:]
        d = s.recv(65536)
        if not d:
            raise Closed()
        buf += d

def reply_str(s, buf=b""):
    try:
        p, buf = read_ns(s, buf)
        return esc(p), buf
    except Closed:
        return "<closed>", buf
    except socket.timeout:
        return "<timeout>", buf
    except OSError as e:
        return "<%s>" % e.__class__.__name__, buf

def cmd_q(path, *payloads):
    """One connection; each payload (escapes allowed) as a request,
    waiting for its answer."""
    try:
        s = conn(path)
    except OSError:
        print("<refused>")
        return
    buf = b""
    for p in payloads:
        try:
            s.sendall(ns(unesc(p)))
        except OSError as e:
            print("<%s>" % e.__class__.__name__)
            return
        r, buf = reply_str(s, buf)
        print(r)
        if r.startswith("<"):
            return

def cmd_pipe(path, *payloads):
    """All requests in one write, then read the answers in order."""
    s = conn(path)
    s.sendall(b"".join(ns(unesc(p)) for p in payloads))
    buf = b""
    for _ in payloads:
        r, buf = reply_str(s, buf)
        print(r)

def cmd_pipecount(path, n, payload):
    """n copies of one request in a single write; count the answers."""
    n = int(n)
    s = conn(path)
    s.sendall(ns(unesc(payload)) * n)
    buf, got, last = b"", 0, ""
    while got < n:
        r, buf = reply_str(s, buf)
        if r.startswith("<"):
            break
        got, last = got + 1, r
    print("answered %d of %d, last %s" % (got, n, last))

def cmd_raw(path, expr, shut=""):
    """Send eval(expr) (python bytes), optionally half-close, and read
    until the service closes (or 3 s of silence): closed:BYTES or
    open:BYTES."""
    s = conn(path)
    try:
        s.sendall(eval(expr))
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    s.settimeout(3.0)
    got = b""
    state = "closed"
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except socket.timeout:
        state = "open"
    except OSError:
        pass
    print("%s:%s" % (state, esc(got)))

def cmd_exact(path, expr):
    """Send eval(expr); print the first reply netstring, framing and
    all, byte for byte."""
    s = conn(path)
    s.sendall(eval(expr))
    try:
        p, _ = read_ns(s, b"")
        print(esc(b"%d:%s," % (len(p), p)))
    except (Closed, OSError) as e:
        print("<%s>" % e.__class__.__name__)

def cmd_pol(path, *attrs):
    """One policy request; print the first reply line."""
    s = conn(path)
    s.sendall(("\n".join(attrs) + "\n\n").encode())
    got = b""
    try:
        while b"\n\n" not in got:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except OSError:
        pass
    print(esc(got.split(b"\n")[0]) if got else "<closed>")

def cmd_many(path, n, payload):
    """n connections open at once, one request on each, all answers."""
    n = int(n)
    socks = [conn(path) for _ in range(n)]
    req = ns(unesc(payload))
    for s in socks:
        s.sendall(req)
    answers = {}
    for s in socks:
        r, _ = reply_str(s)
        answers[r] = answers.get(r, 0) + 1
    for s in socks:
        s.close()
    print(" ".join("%s=%d" % (k, v) for k, v in sorted(answers.items())))

def cmd_limit(path, keep, extra, payload):
    """keep connections answered; then extra more (over the limit: each
    closed unanswered); then the first ones again."""
    keep, extra = int(keep), int(extra)
    req = ns(unesc(payload))
    ks = [conn(path) for _ in range(keep)]
    ok1 = 0
    for s in ks:
        s.sendall(req)
        r, _ = reply_str(s)
        ok1 += r.startswith("OK ")
    refused = answered = 0
    xs = []
    for _ in range(extra):
        try:
            s = conn(path)
            xs.append(s)
            s.sendall(req)
            r, _ = reply_str(s)
        except OSError:
            r = "<err>"
        if r.startswith("OK "):
            answered += 1
        else:
            refused += 1
    ok2 = 0
    for s in ks:
        try:
            s.sendall(req)
            r, _ = reply_str(s)
        except OSError:
            r = "<err>"
        ok2 += r.startswith("OK ")
    print("kept=%d refused=%d answered=%d again=%d" % (ok1, refused,
          answered, ok2))

def cmd_idle(path, secs):
    """Connect, say nothing, report when the service hangs up."""
    s = conn(path)
    t0 = time.time()
    s.settimeout(float(secs))
    try:
        d = s.recv(1)
        print("closed after %d s%s" % (int(time.time() - t0),
              "" if not d else " (with data)"))
    except socket.timeout:
        print("still open after %s s" % secs)
    except OSError:
        print("closed after %d s (reset)" % int(time.time() - t0))

def cmd_pipen(path, expr, n):
    """Send eval(expr), read until n policy replies (empty lines)."""
    s = conn(path)
    s.sendall(eval(expr))
    got = b""
    try:
        while got.count(b"\n\n") < int(n):
            d = s.recv(4096)
            if not d:
                break
            got += d
    except OSError:
        pass
    print(esc(got))

def cmd_halfclose(path, n, payload):
    """n times: one request and a half-close at once; count answers."""
    ok = 0
    for _ in range(int(n)):
        s = conn(path)
        s.sendall(ns(unesc(payload)))
        s.shutdown(socket.SHUT_WR)
        got = b""
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                got += d
        except OSError:
            pass
        ok += got.startswith(b"8:OK ")
        s.close()
    print("answered %d of %s" % (ok, n))

def cmd_hold(path, secs, ready):
    """Connect, create the file ready, hold the connection silently."""
    s = conn(path)
    open(ready, "w").close()
    time.sleep(float(secs))

globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
PY
cl() {
	timeout 30 python3 "$WORK/cl.py" "$@" 2>&1 | tr -d '\r'
}

SEALED_TEMP='TEMP vmseal is sealed (an operator must unseal it)'
SEALED_DEFER='action=DEFER_IF_PERMIT 4.7.0 vmseal is sealed (an operator must unseal it), try again later'
POLREQ=(request=smtpd_access_policy protocol_state=RCPT
    sasl_username=alice client_address=192.0.2.1 recipient=x@example.org)

# --- a store with one domain, a user, an alias ---
check "init creates a store" t_new_store
vso() {
	"$VMSEAL" --offline -d "$STORE" --passphrase-fd 3 "$@" 3<<<"$PASS"
}
check "seed: domain" vso domain add somedomain.ie
check "seed: user alice" vso user add --no-policy alice --address alice@somedomain.ie \
    --no-password
check "seed: alias info@ -> alice@" vso alias add info@somedomain.ie \
    alice@somedomain.ie
write_conf

# === 1. sealed at start, unseal, seal, recovery key ===
check "vmsealed starts and its admin socket answers" start_service
check "status --json: running and sealed" \
    status_json 'd["running"] and d["sealed"] and d["counts"] is None'
expect_in "$LOG" "started SEALED" "log says it started sealed"

expect_eq "sealed: socketmap answers the exact TEMP netstring" \
    "$(cl exact "$SM" 'b"29:mailboxes alice@somedomain.ie,"')" \
    "50:$SEALED_TEMP,"
expect_eq "sealed: every map answers TEMP" \
    "$(cl q "$SM" 'domains somedomain.ie' 'aliases info@somedomain.ie' \
    'senders alice@somedomain.ie' 'mailboxes nosuch@somedomain.ie' | sort -u)" \
    "$SEALED_TEMP"
expect_eq "sealed: policy answers DEFER_IF_PERMIT" \
    "$(cl pol "$POL" "${POLREQ[@]}" sender=alice@somedomain.ie)" \
    "$SEALED_DEFER"

"$VMSEAL" --offline -d "$STORE" --passphrase-fd 3 domain add x.org \
    3<<<"$PASS" >"$WORK/out" 2>&1
check "offline write while the service holds the store: exit 4" test $? -eq 4
expect_in "$WORK/out" "in use" "offline refusal says the store is in use"

vsc unseal --passphrase-fd 3 3<<<"not the passphrase" >"$WORK/out" 2>&1
check "unseal with a wrong passphrase: exit 3" test $? -eq 3
expect_in "$WORK/out" "wrong passphrase" "wrong passphrase says so"
check "still sealed after a wrong passphrase" status_json 'd["sealed"]'
expect_in "$LOG" "unseal by uid 0 failed" "log records the failed unseal"

vsc unseal --passphrase-fd 3 3<<<"$PASS" >"$WORK/out" 2>&1
check "unseal with the passphrase: exit 0" test $? -eq 0
expect_in "$WORK/out" "unsealed" "unseal says unsealed"
check "status --json: unsealed, counts 1 domain 1 user 1 alias" \
    status_json 'not d["sealed"] and d["counts"]["domains"]==1 and d["counts"]["users"]==1 and d["counts"]["aliases"]==1'
expect_in "$LOG" "unsealed by uid 0 with the passphrase" "log records the unseal"

expect_eq "unsealed: exact OK netstring" \
    "$(cl exact "$SM" 'b"29:mailboxes alice@somedomain.ie,"')" \
    "8:OK alice,"
check_lookups() {
	local got want
	got=$(cl q "$SM" 'mailboxes alice@somedomain.ie' \
	    'mailboxes ALICE@SomeDomain.IE' 'mailboxes alice+tag@somedomain.ie' \
	    'mailboxes nosuch@somedomain.ie' 'mailboxes @somedomain.ie' \
	    'domains somedomain.ie' 'domains other.org' \
	    'domains alice@somedomain.ie' \
	    'aliases info@somedomain.ie' 'aliases alice@somedomain.ie' \
	    'aliases nosuch@somedomain.ie' \
	    'senders alice@somedomain.ie' 'senders info@somedomain.ie' \
	    'mailboxes not..a..name')
	want=$(printf '%s\n' 'OK alice' 'OK alice' 'OK alice' 'NOTFOUND ' \
	    'NOTFOUND ' 'OK somedomain.ie' 'NOTFOUND ' 'NOTFOUND ' \
	    'OK alice@somedomain.ie' 'NOTFOUND ' 'NOTFOUND ' 'OK alice' \
	    'OK alice' 'NOTFOUND ')
	if [ "$got" = "$want" ]; then return 0; fi
	diff <(echo "$want") <(echo "$got") | sed 's/^/#   /'
	return 1
}
check "unsealed: lookups answer as lookup.h says (14 keys, one connection)" \
    check_lookups
if command -v postmap >/dev/null && t_postfix_conf "$WORK/pfconf"; then
	expect_eq "postmap -q through socketmap" \
	    "$(timeout 10 postmap -c "$WORK/pfconf" -q alice@somedomain.ie \
	    "socketmap:unix:$SM:mailboxes" 2>&1)" alice
else
	t_skip "postmap not installed: no lookup through Postfix's own client"
fi
expect_eq "policy: alice may send as alice@" \
    "$(cl pol "$POL" "${POLREQ[@]}" sender=alice@somedomain.ie)" \
    "action=DUNNO"
expect_glob "policy: alice may not send as someone else's address" \
    "$(cl pol "$POL" "${POLREQ[@]}" sender=bob@somedomain.ie)" \
    "action=REJECT 5.7.1 Sender address <bob@somedomain.ie> is not owned*"
expect_eq "policy: no sasl_username: DUNNO" \
    "$(cl pol "$POL" request=smtpd_access_policy protocol_state=RCPT \
    sender=bob@somedomain.ie)" "action=DUNNO"

vsc seal >"$WORK/out" 2>&1
check "seal: exit 0" test $? -eq 0
check "status --json: sealed again" status_json 'd["sealed"]'
expect_eq "sealed again: TEMP" \
    "$(cl q "$SM" 'mailboxes alice@somedomain.ie')" "$SEALED_TEMP"
expect_in "$LOG" "sealed by uid 0" "log records the seal"
check "unseal again works" vsc unseal --passphrase-fd 3 3<<<"$PASS" >/dev/null
expect_eq "unsealed again: OK" \
    "$(cl q "$SM" 'mailboxes alice@somedomain.ie')" "OK alice"
vsc unseal --passphrase-fd 3 3<<<"$PASS" >"$WORK/out" 2>&1
check "unseal when already unsealed: exit 0" test $? -eq 0
expect_in "$WORK/out" "already unsealed" "and says already unsealed"
vsc seal >/dev/null 2>&1
vsc unseal --recovery-key-fd 4 4<"$WORK/reckey" >"$WORK/out" 2>&1
check "unseal with the recovery key: exit 0" test $? -eq 0
expect_eq "unsealed by the recovery key: OK" \
    "$(cl q "$SM" 'mailboxes alice@somedomain.ie')" "OK alice"
expect_in "$LOG" "with the recovery key" "log names the recovery key"
check "writes go through the service" vsc domain add other.org
expect_eq "a domain added through the service is hosted at once" \
    "$(cl q "$SM" 'domains other.org')" "OK other.org"
expect_not_in "$LOG" "$PASS" "the passphrase never reaches the log"
expect_not_in "$LOG" "$(cut -c1-17 "$WORK/reckey")" \
    "the recovery key never reaches the log"

# === 6. privileges and hygiene ===
expect_eq "runs as nobody (Uid: real, effective, saved, fs)" \
    "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$DPID/status")" \
    "65534 65534 65534 65534"
expect_eq "runs as nogroup (Gid)" \
    "$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$DPID/status")" \
    "65534 65534 65534 65534"
expect_eq "supplementary groups: only nogroup" \
    "$(awk '/^Groups:/ {$1=""; print $0}' "/proc/$DPID/status" | xargs)" \
    "65534"
expect_eq "no capabilities left (CapEff, CapPrm)" \
    "$(awk '/^Cap(Eff|Prm):/ {print $2}' "/proc/$DPID/status" | sort -u)" \
    "0000000000000000"
expect_glob "RLIMIT_CORE is 0" \
    "$(grep '^Max core file size' "/proc/$DPID/limits" | tr -s ' ')" \
    "Max core file size 0 0 *"
# A process that is not dumpable has its /proc files owned by root.
expect_eq "not dumpable (/proc/PID/status owned by root, not nobody)" \
    "$(stat -c %u "/proc/$DPID/status")" 0
expect_eq "admin socket mode from admin_socket_mode" \
    "$(stat -c %a "$SOCK/admin")" 666

# === 7. auth socket: hostile input does not hurt the service ===
# (its protocol, lib/authproto.h, has tests of its own; here only garbage)
expect_glob "auth socket: garbage is refused" \
    "$(cl raw "$SOCK/auth" 'b"hello\n"')" 'closed:*'
cl raw "$SOCK/auth" 'b""' shut >/dev/null
cl raw "$SOCK/auth" 'b"9" * 50 + b":"' >/dev/null
cl raw "$SOCK/auth" 'bytes(range(256)) * 64' >/dev/null
expect_glob "auth socket: a lookup while sealed or not gets an answer" \
    "$(cl exact "$SOCK/auth" 'b"%d:%s," % (len(b"6:lookup,5:alice,4:imap,"), b"6:lookup,5:alice,4:imap,")')" \
    '[0-9]*:*'
check "vmsealed still runs after the auth connections" alive "$DPID"
expect_eq "service still answers after auth connections" \
    "$(cl q "$SM" 'mailboxes alice@somedomain.ie')" "OK alice"

# === 3. malformed input ===
expect_glob "socketmap: 'abc:' gets PERM and is closed" \
    "$(cl raw "$SM" 'b"abc:"')" \
    'closed:*:PERM netstring does not start with a digit*'
expect_glob "socketmap: length above the cap gets PERM and is closed" \
    "$(cl raw "$SM" 'b"1025:" + b"x" * 1025 + b","')" \
    'closed:*:PERM netstring length is above the limit of 1024 bytes,'
expect_glob "socketmap: a huge length gets PERM and is closed at once" \
    "$(cl raw "$SM" 'b"9" * 40 + b":"')" \
    'closed:*:PERM netstring length is above the limit*'
expect_glob "socketmap: 100 KB of digits are refused (no ':' needed)" \
    "$(cl raw "$SM" 'b"1" * 100000')" 'closed:*:PERM *'
expect_glob "socketmap: leading zero refused" \
    "$(cl raw "$SM" 'b"029:mailboxes alice@somedomain.ie,"')" \
    'closed:*:PERM netstring length has a leading zero*'
expect_glob "socketmap: payload not followed by ','" \
    "$(cl raw "$SM" 'b"5:helloX"')" 'closed:*:PERM netstring payload is not followed*'
expect_eq "socketmap: a 1024-byte request (at the cap) is a lookup" \
    "$(cl q "$SM" "mailboxes $(printf 'a%.0s' $(seq 1014))")" "NOTFOUND "
expect_eq "socketmap: NUL in the key gets PERM, the connection goes on" \
    "$(cl q "$SM" 'mailboxes alice\x00@somedomain.ie' \
    'mailboxes alice@somedomain.ie')" \
    "$(printf '%s\n' 'PERM key holds a NUL byte' 'OK alice')"
expect_eq "socketmap: control character, two spaces, empty key, no space" \
    "$(cl q "$SM" 'mailboxes a\x01b@somedomain.ie' \
    'mailboxes  alice@somedomain.ie' 'mailboxes ' 'mailboxes' \
    'mailboxes alice@somedomain.ie')" \
    "$(printf '%s\n' 'PERM key holds a control character' \
    'PERM more than one space after the map name' 'PERM empty key' \
    'PERM request lacks a space between map name and key' 'OK alice')"
expect_eq "socketmap: unknown map name gets PERM, the connection goes on" \
    "$(cl q "$SM" 'nomap alice@somedomain.ie' 'Mailboxes alice@somedomain.ie' \
    'domains somedomain.ie')" \
    "$(printf '%s\n' 'PERM unknown map name "nomap"' \
    'PERM unknown map name "Mailboxes"' 'OK somedomain.ie')"
expect_eq "socketmap: two requests in one write, answered in order" \
    "$(cl pipe "$SM" 'mailboxes nosuch@somedomain.ie' \
    'mailboxes alice@somedomain.ie')" \
    "$(printf '%s\n' 'NOTFOUND ' 'OK alice')"
expect_eq "socketmap: a partial request then close: closed, no answer" \
    "$(cl raw "$SM" 'b"29:mailboxes al"' shut)" "closed:"
# A client that writes its request and half-closes at once: the service
# reads the request and the end of file in one go and must still answer.
check "socketmap: request then half-close is answered, 50 of 50" \
    test "$(cl halfclose "$SM" 50 'mailboxes alice@somedomain.ie')" = \
    "answered 50 of 50"
# 600 small requests in one write (about 20 KB): all valid, all answered.
check "socketmap: 600 pipelined requests in one write are all answered" \
    test "$(cl pipecount "$SM" 600 'mailboxes alice@somedomain.ie')" = \
    "answered 600 of 600, last OK alice"

cl idle "$SM" 10 >"$WORK/idle.out" &
IDLE=$!
sleep 0.5
expect_eq "an idle connection does not block others" \
    "$(cl q "$SM" 'mailboxes alice@somedomain.ie')" "OK alice"
wait "$IDLE"
expect_glob "idle connection closed by idle_timeout (2 s)" \
    "$(cat "$WORK/idle.out")" "closed after [234] s"

expect_eq "policy: a line without '=' closes the connection" \
    "$(cl raw "$POL" 'b"request smtpd_access_policy\n\n"')" "closed:"
expect_eq "policy: an over-long line closes the connection" \
    "$(cl raw "$POL" 'b"request=" + b"x" * 5000 + b"\n"')" "closed:"
expect_eq "policy: a request over 16 KB closes the connection" \
    "$(cl raw "$POL" 'b"".join(b"a%d=%s\n" % (i, b"y" * 1000) for i in range(40))')" \
    "closed:"
expect_eq "policy: binary garbage closes the connection" \
    "$(cl raw "$POL" 'bytes(range(256)) * 8')" "closed:"
expect_eq "policy: empty request (empty line first) closes the connection" \
    "$(cl raw "$POL" 'b"\n"')" "closed:"
expect_eq "policy: a repeated used attribute closes the connection" \
    "$(cl raw "$POL" 'b"sender=a@b.c\nsender=d@e.f\n\n"')" "closed:"
expect_eq "policy: two requests in one write, both answered" \
    "$(cl pipen "$POL" 'b"request=x\n\nrequest=smtpd_access_policy\nprotocol_state=RCPT\n\n"' 2)" \
    'action=DUNNO\n\naction=DUNNO\n\n'
expect_in "$LOG" "policy: malformed request" "log records malformed policy requests"

expect_eq "admin: garbage bytes are refused, connection closed" \
    "$(cl raw "$SOCK/admin" 'b"hello garbage\n"')" "closed:"
expect_glob "admin: a well-framed message that is not 'run' is refused with the reason" \
    "$(cl raw "$SOCK/admin" 'b"8:5:hello,,"')" \
    "closed:*malformed request: unknown message 'hello'*"
expect_eq "admin: a huge length prefix is refused" \
    "$(cl raw "$SOCK/admin" 'b"9" * 30 + b":"')" "closed:"
expect_eq "admin: a partial message then close" \
    "$(cl raw "$SOCK/admin" 'b"100:3:run,"' shut)" "closed:"
expect_eq "admin: 'run' with a NUL in an argument is refused" \
    "$(cl raw "$SOCK/admin" 'b"32:3:run,2:-1,0:,2:-1,0:,7:stat\x00us,,"' shut | \
    grep -c 'ARG (item 5) holds a NUL byte')" 1
expect_in "$LOG" "admin: malformed request" "log records the malformed admin request"
check "after all that: status answers" vsc status >/dev/null
expect_eq "after all that: lookups answer correctly" \
    "$(cl q "$SM" 'mailboxes alice@somedomain.ie' 'aliases info@somedomain.ie')" \
    "$(printf '%s\n' 'OK alice' 'OK alice@somedomain.ie')"
check "status counts the malformed lookups" status_json 'd["lookups"]["perm"] >= 10'

# An admin client that connects and says nothing (a person at a passphrase
# prompt, a stuck script) must not lock every other admin out.
timeout 10 python3 "$WORK/cl.py" hold "$SOCK/admin" 6 "$WORK/held" &
HOLD=$!
for i in $(seq 50); do [ -f "$WORK/held" ] && break; sleep 0.1; done
timeout 3 "$VMSEAL" -c "$CONF" status >/dev/null 2>&1
check "status answers while another admin connection is idle" test $? -eq 0
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null

# === 2. the admin socket refuses other uids ===
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
# The service's answer to a refused peer, read raw (python as nobody: the
# system one, since a python under /root is not reachable).
SYSPY=/usr/bin/python3
REFUSED='closed:*4:exit,1:2,0:,*:vmseal: permission denied: the admin socket is for root and the admin group\\n,,'
if [ -x "$SYSPY" ] && "${NOBODY[@]}" "$SYSPY" -c pass 2>/dev/null; then
	expect_glob "admin socket as nobody: the service answers exit 2, permission denied" \
	    "$("${NOBODY[@]}" timeout 10 "$SYSPY" "$WORK/cl.py" raw \
	    "$SOCK/admin" 'b"13:3:run,4:seal,,"' 2>&1)" "$REFUSED"
else
	t_skip "no $SYSPY usable as nobody"
fi
if "${NOBODY[@]}" "$VMSEAL" --version >/dev/null 2>&1; then
	# vmseal writes its request after connecting; the service answers a
	# refused peer at once and closes without reading it, so the write
	# can hit EPIPE and SIGPIPE kills vmseal (exit 141) before it reads
	# the answer.  Ten tries.
	bad=
	for i in 1 2 3 4 5 6 7 8 9 10; do
		"${NOBODY[@]}" timeout 20 "$VMSEAL" -c "$CONF" status \
		    >"$WORK/out" 2>&1
		rc=$?
		if [ $rc -ne 2 ] || ! grep -q "permission denied" "$WORK/out"
		then
			bad="$bad $rc"
		fi
	done
	check "vmseal status as nobody: exit 2 and 'permission denied', 10 of 10 (got:$bad)" \
	    test -z "$bad"
	"${NOBODY[@]}" timeout 20 "$VMSEAL" -c "$CONF" seal >"$WORK/out" 2>&1
	check "seal as nobody fails (exit $?)" test $? -ne 0
	check "nobody's seal did nothing" status_json 'not d["sealed"]'
	expect_in "$LOG" "admin connection from uid 65534 refused" \
	    "log records the refused admin connection"
	NOBODY_OK=1
else
	t_skip "nobody cannot run $VMSEAL (build folder not reachable)"
	NOBODY_OK=0
fi

# === 4. many connections, max_connections ===
expect_eq "300 concurrent socketmap connections all answered" \
    "$(cl many "$SM" 300 'mailboxes alice@somedomain.ie')" "OK alice=300"
check "status shows no connection left open" \
    status_json 'd["connections"]["socketmap"] == 0'
write_conf max_connections=5 idle_timeout=30
check "SIGHUP reload with max_connections = 5" reload
expect_eq "over max_connections: 5 kept, 10 refused, the 5 still answered" \
    "$(cl limit "$SM" 5 10 'mailboxes alice@somedomain.ie')" \
    "kept=5 refused=10 answered=0 again=5"
check "status counts the refused connections" \
    status_json 'd["refused_connections"] >= 10'
expect_glob "status (text) shows the refused count" \
    "$(vsc status | grep '^connections:')" "*refused over limit: 1[0-9]*"
write_conf
check "SIGHUP reload back to max_connections = 1024" reload
expect_eq "after the limit is lifted: 50 connections answered" \
    "$(cl many "$SM" 50 'mailboxes alice@somedomain.ie')" "OK alice=50"

# === 5. signals ===
expect_eq "delimiter '+': alice-tag@ is not a mailbox" \
    "$(cl q "$SM" 'mailboxes alice-tag@somedomain.ie')" "NOTFOUND "
write_conf recipient_delimiter=-
check "SIGHUP reload (recipient_delimiter = -)" reload
expect_in "$LOG" "configuration reloaded" "log says reloaded"
expect_eq "after reload: alice-tag@ resolves, alice+tag@ does not" \
    "$(cl q "$SM" 'mailboxes alice-tag@somedomain.ie' \
    'mailboxes alice+tag@somedomain.ie')" \
    "$(printf '%s\n' 'OK alice' 'NOTFOUND ')"
check "reload keeps the key (still unsealed)" status_json 'not d["sealed"]'

kill -TERM "$DPID"
if wait_exit "$DPID" 10; then
	wait "$DPID"; rc=$?
	expect_eq "SIGTERM: vmsealed exits with status 0" "$rc" 0
else
	t_fail "SIGTERM: vmsealed still runs after 10 s"
	kill -KILL "$DPID" 2>/dev/null
fi
DPID=
expect_in "$LOG" "signal 15: sealing and stopping" "log says sealing and stopping"
expect_eq "after SIGTERM the socketmap socket does not answer" \
    "$(cl q "$SM" 'mailboxes alice@somedomain.ie')" "<refused>"
vsc status >/dev/null 2>&1
check "after SIGTERM vmseal status says not running (exit 4)" test $? -eq 4

# === 2b. admin_group, and SIGTERM during an admin session ===
AGROUP=
for g in users staff adm daemon; do
	gid=$(getent group "$g" | cut -d: -f3) || continue
	id -G nobody | tr ' ' '\n' | grep -qx "$gid" && continue
	AGROUP=$g
	break
done
if [ "$NOBODY_OK" = 1 ] && [ -n "$AGROUP" ]; then
	write_conf admin_group="$AGROUP"
	check "vmsealed starts with admin_group = $AGROUP" start_service
	setpriv --reuid=nobody --regid="$AGROUP" --clear-groups \
	    timeout 20 "$VMSEAL" -c "$CONF" status >"$WORK/out" 2>&1
	check "nobody with gid $AGROUP may run status (exit 0)" test $? -eq 0
	expect_in "$WORK/out" "SEALED" "and sees the sealed state"
	setpriv --reuid=nobody --regid="$AGROUP" --clear-groups \
	    timeout 20 "$VMSEAL" -c "$CONF" unseal --passphrase-fd 3 \
	    3<<<"$PASS" >"$WORK/out" 2>&1
	check "nobody with gid $AGROUP may unseal" test $? -eq 0
	expect_in "$LOG" "unsealed by uid 65534" "log names the admin's uid"
	"${NOBODY[@]}" timeout 20 "$VMSEAL" -c "$CONF" seal >"$WORK/out" 2>&1
	check "nobody with gid nogroup is still refused" test $? -ne 0
	check "and its seal did nothing" status_json 'not d["sealed"]'
	if [ -x "$SYSPY" ] && "${NOBODY[@]}" "$SYSPY" -c pass 2>/dev/null; then
		expect_glob "admin_group set: gid nogroup still gets permission denied" \
		    "$("${NOBODY[@]}" timeout 10 "$SYSPY" "$WORK/cl.py" raw \
		    "$SOCK/admin" 'b""' 2>&1)" "$REFUSED"
	fi
else
	t_skip "admin_group: no usable group or nobody cannot run vmseal"
	write_conf
	check "vmsealed starts again" start_service
	vsc unseal --passphrase-fd 3 3<<<"$PASS" >/dev/null 2>&1
fi

# An admin session waiting on its client (here: a password from a pipe
# that stays silent) while SIGTERM arrives: the service must still stop
# (and keep answering lookups until it does).
mkfifo "$WORK/fifo"
sleep 20 >"$WORK/fifo" &
FIFOW=$!
EXTRA_PIDS=$FIFOW
timeout 30 "$VMSEAL" -c "$CONF" user passwd --no-policy alice --password-fd 5 \
    5<"$WORK/fifo" >/dev/null 2>&1 &
PWPID=$!
EXTRA_PIDS="$FIFOW $PWPID"
sleep 0.5
kill -TERM "$DPID"
check "SIGTERM during a waiting admin session: exits within 3 s" \
    wait_exit "$DPID" 3
# Unstick it: the client goes, the session ends.
kill "$PWPID" "$FIFOW" 2>/dev/null
wait "$PWPID" "$FIFOW" 2>/dev/null
if wait_exit "$DPID" 10; then
	t_ok "vmsealed stops once the admin client is gone"
else
	t_fail "vmsealed still runs 10 s after SIGTERM and the client's exit"
	kill -KILL "$DPID" 2>/dev/null
fi
wait "$DPID" 2>/dev/null
DPID=

# === SIGHUP with a configuration it cannot use ===
write_conf
check "vmsealed starts for the reload checks" start_service
echo "no_such_setting = 1" >>"$CONF"
kill -HUP "$DPID"
sleep 1
check "SIGHUP with an unknown setting keeps the service running" \
    alive "$DPID"
expect_in "$LOG" "reload refused" "log says the reload was refused"
if kill -0 "$DPID" 2>/dev/null; then
	write_conf
	chmod 0600 "$CONF"      # root's file; the service runs as nobody
	kill -HUP "$DPID"
	sleep 1
	check "SIGHUP with a config it cannot read keeps it running" \
	    alive "$DPID"
	chmod 0644 "$CONF"
fi
if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
	kill -TERM "$DPID"
	wait_exit "$DPID" 10 || kill -KILL "$DPID" 2>/dev/null
fi
wait "$DPID" 2>/dev/null
DPID=

t_done
