#!/bin/bash
# adminproto.sh - the admin protocol (lib/ipc.c's table of verbs,
# service/admin.c, helper/cli_client.c; doc/DESIGN.md section 16.4):
#
#  1. a secret given with --passphrase-fd or --recovery-key-fd travels
#     with the request: seen through a logging proxy between vmseal and
#     vmsealed, "unseal --passphrase-fd 3" is one "run" (carrying fd 3 and
#     a secret of the passphrase's length) answered by "exit" - no
#     "secret" round trip; the same for a recovery key; the terminal path
#     (no descriptor) and other descriptors (--password-fd) still ask
#     with "secret";
#  2. the service checks every request against the table and says why it
#     refuses one (unknown verb, old-form "run", NUL in an argument, a
#     descriptor without its secret), closes on broken framing, takes a
#     secret from the request itself (a raw client: the first answer is
#     "exit"), and never logs the passphrase;
#  3. the client checks who serves the admin socket (SO_PEERCRED): a fake
#     server run by nobody while vmseal.conf's user is someone else gets
#     no byte at all (it would ask for the passphrase the old way), the
#     client says it refuses; the same fake server is talked to when
#     vmseal.conf names nobody (the recorder works), and the real
#     vmsealed (running as the configured user) is accepted.
#
# Needs root (vmsealed drops to nobody; the fake server runs as nobody),
# python3 and setpriv; otherwise skipped.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}
export LC_ALL=C

[ "$(id -u)" -eq 0 ] || skip "adminproto.sh needs root (vmsealed drops to nobody)"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
    skip "no user nobody or group nogroup"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
command -v setpriv >/dev/null 2>&1 || skip "setpriv not installed"
# The fake server runs as nobody: the system's python3, not a shim under
# root's home.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
OTHER=daemon
getent passwd "$OTHER" >/dev/null || skip "no user $OTHER"

WORK=$(mktemp -d /tmp/vmseal-ap-XXXXXX)
chmod 0711 "$WORK"              # nobody reaches the sockets and config
SOCK=$WORK/sock
CONF=$WORK/vmseal.conf
LOG=$WORK/vmsealed.log
DPID=
BG=

cleanup() {
	local p
	for p in $BG $DPID; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "$T_FAILED" -gt 0 ]; then
		for p in "$LOG" "$WORK"/proxy.log "$WORK"/fake.log; do
			[ -s "$p" ] || continue
			echo "# --- tail of $(basename "$p") ---"
			tail -n 25 "$p" | sed 's/^/#   /'
		done
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 1" TERM INT HUP

expect_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"
	else t_fail "$1: got '$2', wanted '$3'"; fi
}

# ap.py: the protocol's raw side.
#   proxy LISTEN UPSTREAM LOG   forward sessions, log each message's verb
#                               (and for "run": descriptors, secret
#                               lengths, arguments; never a secret)
#   fake LISTEN RECORD          a server that records every byte it gets
#                               and, given anything, asks for the
#                               passphrase the old way ("secret" 3 ...)
#   send SOCK ITEM...           one message (items with Python escapes),
#                               print the answers' verbs and items
#   raw SOCK PYEXPR             bytes as they are; print the answers
cat >"$WORK/ap.py" <<'PY'
import os, socket, sys

def recv_msg(s):
    """One message: (raw, items), or None at end of file."""
    buf = b""
    while True:
        i = buf.find(b":")
        if i > 0:
            n = int(buf[:i])
            if len(buf) >= i + 1 + n + 1:
                raw = buf[:i + 2 + n]
                return raw, split(buf[i + 1:i + 1 + n])
        d = s.recv(65536)
        if not d:
            return None
        buf += d

def split(p):
    items = []
    while p:
        i = p.find(b":")
        n = int(p[:i])
        items.append(p[i + 1:i + 1 + n])
        p = p[i + 2 + n:]
    return items

def frame(items):
    inner = b"".join(b"%d:%s," % (len(x), x) for x in items)
    return b"%d:%s," % (len(inner), inner)

def show(items):
    return " ".join(x.decode("latin-1").replace("\n", "\\n") or "''"
                    for x in items)

def listen(path):
    try:
        os.unlink(path)
    except OSError:
        pass
    l = socket.socket(socket.AF_UNIX)
    l.bind(path)
    os.chmod(path, 0o777)
    l.listen(8)
    return l

mode = sys.argv[1]
if mode == "proxy":
    l = listen(sys.argv[2])
    log = open(sys.argv[4], "a", buffering=1)
    while True:
        c, _ = l.accept()
        u = socket.socket(socket.AF_UNIX)
        u.connect(sys.argv[3])
        side, peer = (c, u), "client"
        while True:
            m = recv_msg(side[0])
            if m is None:
                break
            raw, it = m
            if it and it[0] == b"run" and len(it) >= 5:
                log.write("client run pfd=%s plen=%d rfd=%s rlen=%d args=%s\n"
                          % (it[1].decode(), len(it[2]), it[3].decode(),
                             len(it[4]), show(it[5:])))
            elif peer == "client":
                log.write("client %s\n" % it[0].decode("latin-1"))
            else:
                log.write("service %s\n" % " ".join(
                    [it[0].decode("latin-1")] +
                    ([it[1].decode("latin-1")] if it[0] == b"secret" else [])))
            side[1].sendall(raw)
            if peer == "service" and it and it[0] == b"exit":
                break
            side = (side[1], side[0])
            peer = "service" if peer == "client" else "client"
        c.close()
        u.close()
elif mode == "fake":
    l = listen(sys.argv[2])
    while True:
        c, _ = l.accept()
        c.settimeout(3)
        got, asked = b"", False
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                got += d
                if not asked:
                    # Ask for the passphrase as the old service did.
                    c.sendall(frame([b"secret", b"3", b"", b"passphrase",
                                     b"0"]))
                    asked = True
                    c.settimeout(2)
        except (socket.timeout, OSError):
            pass
        with open(sys.argv[3], "ab") as f:
            f.write(got)
        c.close()
else:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[2])
    if mode == "send":
        s.sendall(frame([eval("b'%s'" % a.replace("'", "\\'"))
                         for a in sys.argv[3:]]))
    else:
        s.sendall(eval(sys.argv[3]))
        s.shutdown(socket.SHUT_WR)
    try:
        m = recv_msg(s)         # the first answer is all we need
    except OSError:
        m = None
    print(show(m[1]) if m else "closed")
PY

# --- a store and a service of our own ---
check "store" t_new_store
check "a domain" vs --offline domain add example.org
cat >"$CONF" <<EOF
socket_dir = $SOCK
store_dir = $STORE
user = nobody
group = nogroup
admin_socket_mode = 0666
socketmap_socket_mode = 0666
policy_socket_mode = 0666
auth_socket_mode = 0666
EOF
chmod 0644 "$CONF"
# The same with another service user: nobody is then a stranger.
sed "s/^user = nobody/user = $OTHER/" "$CONF" >"$WORK/other.conf"
chmod 0644 "$WORK/other.conf"
vsc() { timeout 20 "$VMSEAL" -c "$CONF" "$@"; }
"$VMSEALED" -c "$CONF" -f </dev/null >"$LOG" 2>&1 &
DPID=$!
for _ in $(seq 50); do vsc status >/dev/null 2>&1 && break; sleep 0.2; done
expect_exit 0 "the real vmsealed (uid nobody, the configured user) is accepted" \
    vsc status
expect_in "$WORK/last.out" "sealed" "and answers status"

echo "# === 1. secrets given by descriptor travel with the request ==="
mkdir -p "$WORK/px"
python3 "$WORK/ap.py" proxy "$WORK/px/admin" "$SOCK/admin" "$WORK/proxy.log" &
BG="$BG $!"
for _ in $(seq 50); do [ -S "$WORK/px/admin" ] && break; sleep 0.1; done
vpx() { timeout 20 "$VMSEAL" -c "$CONF" -s "$WORK/px" "$@"; }
: >"$WORK/proxy.log"
expect_exit 0 "unseal --passphrase-fd 3 through the proxy" \
    vpx unseal --passphrase-fd 3 3<<<"$PASS"
expect_in "$WORK/last.out" "unsealed" "and it is unsealed"
expect_eq "the conversation: one run with fd 3 and the passphrase's length, then exit" \
    "$(cut -d' ' -f1-6 "$WORK/proxy.log" | tr '\n' ';')" \
    "client run pfd=3 plen=${#PASS} rfd=-1 rlen=0;service exit;"
expect_not_in "$WORK/proxy.log" "service secret" "no 'secret' round trip for --passphrase-fd"
expect_not_in "$WORK/proxy.log" "$PASS" "the arguments sent hold no passphrase"
expect_exit 0 "seal" vpx seal

: >"$WORK/proxy.log"
expect_exit 0 "unseal --recovery-key-fd 4 (the key on one line) through the proxy" \
    vpx unseal --recovery-key-fd 4 4<"$WORK/reckey"
expect_in "$WORK/last.out" "unsealed" "and it is unsealed with the recovery key"
expect_in "$WORK/proxy.log" "client run pfd=-1 plen=0 rfd=4 rlen=$(tr -d '\n' <"$WORK/reckey" | wc -c)" \
    "the recovery key travels in the run message"
expect_not_in "$WORK/proxy.log" "service secret" "no 'secret' round trip for --recovery-key-fd"
expect_exit 0 "seal again" vpx seal

# The recovery key on two lines, as init prints it: read whole up front.
sed -n 's/^    \([0-9A-Z]\{5\}-.*\)$/\1/p' "$WORK/init.out" >"$WORK/reckey2"
: >"$WORK/proxy.log"
expect_exit 0 "unseal with the recovery key on two lines through the proxy" \
    vpx unseal --recovery-key-fd 4 4<"$WORK/reckey2"
expect_not_in "$WORK/proxy.log" "service secret" "two lines: still no round trip"
expect_exit 0 "seal" vpx seal

: >"$WORK/proxy.log"
expect_exit 2 "unseal without a descriptor or terminal (setsid): no passphrase" \
    setsid -w timeout 20 "$VMSEAL" -c "$CONF" -s "$WORK/px" unseal </dev/null
expect_in "$WORK/last.out" "no terminal" "and says there is no terminal"
expect_in "$WORK/proxy.log" "service secret -1" "the terminal path still asks the client ('secret' -1)"
expect_exit 0 "unseal for the next checks" vpx unseal --passphrase-fd 3 3<<<"$PASS"
: >"$WORK/proxy.log"
expect_exit 0 "user add --password-fd 5 through the proxy" \
    vpx user add --no-policy carol --address carol@example.org --password-fd 5 5<<<"carol pw"
expect_in "$WORK/proxy.log" "service secret 5" "other descriptors still go by 'secret' (fd 5)"

vsc seal >/dev/null 2>&1
expect_exit 3 "a wrong passphrase given by descriptor: wrong key" \
    vsc unseal --passphrase-fd 3 3<<<"not the passphrase"
expect_exit 2 "--passphrase-fd on a descriptor with nothing: refused" \
    vsc unseal --passphrase-fd 3 3</dev/null
expect_in "$WORK/last.out" "no passphrase given" "and says so"

echo "# === 2. the service checks each request against the table ==="
vseal() { vsc seal >/dev/null 2>&1; }
A=$SOCK/admin
# sendm ITEM...: one message to the admin socket; the answer in $WORK/o.
sendm() { timeout 20 python3 "$WORK/ap.py" send "$A" "$@" >"$WORK/o" 2>&1; }
out=$(python3 "$WORK/ap.py" send "$A" hello)
expect_eq "unknown verb: refused with the reason" "$out" \
    "exit 2 '' vmseal: malformed request: unknown message 'hello'\\n"
sendm run status
expect_in "$WORK/o" "message 'run' has 1 item(s) after the verb, wants 5 to 255" \
    "old-form run (no secret slots): refused, arity named"
sendm run -1 '' -1 '' 'stat\x00us'
expect_in "$WORK/o" "ARG (item 5) holds a NUL byte" "a NUL in an argument: refused"
sendm run -1 'secret' -1 '' status
expect_in "$WORK/o" "passphrase descriptor and secret do not match" \
    "a passphrase without its descriptor: refused"
sendm run 3 '' -1 '' status
expect_in "$WORK/o" "descriptor and secret do not match" \
    "a descriptor without its passphrase: refused"
sendm exit 0 '' ''
expect_in "$WORK/o" "message 'exit' is the service's, not the client's" \
    "the service's own verb from a client: refused"
sendm ok
expect_in "$WORK/o" "unexpected message 'ok' here (wanted: run)" \
    "an answer where the request belongs: refused"
out=$(python3 "$WORK/ap.py" raw "$A" 'b"6:3:run,,6:3:run,,"')
expect_eq "two messages in one write (trailing bytes): closed, no answer" "$out" closed
out=$(python3 "$WORK/ap.py" raw "$A" 'b"12:3:run,"')
expect_eq "a truncated message: closed, no answer" "$out" closed
expect_in "$LOG" "malformed request from uid 0: unknown message 'hello'" \
    "the log says why a request was refused"
vseal
sendm run 3 "$PASS" -1 '' unseal --passphrase-fd 3
check "a raw client's request with the passphrase: the first answer is 'exit 0 unsealed' ($(head -c 40 "$WORK/o"))" \
    grep -q '^exit 0 unsealed' "$WORK/o"
vseal
sendm run 3 "wrong" -1 '' unseal --passphrase-fd 3
expect_in "$WORK/o" "exit 3" "a wrong passphrase in the request: exit 3"
sendm run 7 "$PASS" -1 '' unseal --passphrase-fd 3
expect_in "$WORK/o" "secret 3" \
    "a secret sent for another descriptor than the command reads is not used (asked for fd 3)"
expect_not_in "$LOG" "$PASS" "the log never holds the passphrase"

echo "# === 3. the client checks who serves the admin socket ==="
mkdir -p "$WORK/fake" && chmod 0777 "$WORK/fake"
: >"$WORK/fake.rec" && chmod 0666 "$WORK/fake.rec"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$PY" "$WORK/ap.py" fake "$WORK/fake/admin" "$WORK/fake.rec" \
    >"$WORK/fake.log" 2>&1 &
BG="$BG $!"
for _ in $(seq 50); do [ -S "$WORK/fake/admin" ] && break; sleep 0.1; done
check "the fake admin server runs as nobody" \
    test "$(stat -c %U "$WORK/fake/admin")" = nobody
expect_exit 4 "service user $OTHER, socket served by nobody: refused" \
    timeout 20 "$VMSEAL" -c "$WORK/other.conf" -s "$WORK/fake" unseal \
    --passphrase-fd 3 3<<<"$PASS"
expect_in "$WORK/last.out" "served by uid $(id -u nobody), which is neither root nor the service user '$OTHER'" \
    "the client says who serves it"
expect_in "$WORK/last.out" "refusing to send it anything" "and that it refuses"
sleep 3.5       # the fake server's read timeout: it has written its record
expect_eq "the fake server received no byte" "$(stat -c %s "$WORK/fake.rec")" 0
expect_not_in "$WORK/fake.rec" "$PASS" "in particular no passphrase"
expect_exit 4 "no service user configured: only root (or ourselves) is trusted" \
    timeout 20 "$VMSEAL" -c /dev/null -s "$WORK/fake" status
expect_in "$WORK/last.out" "no 'user' in the configuration" "and it says so"
# Positive control: with user = nobody the same fake server is trusted,
# gets the request and (as it asks the old way) an answer.
timeout 20 "$VMSEAL" -c "$CONF" -s "$WORK/fake" user list \
    --passphrase-fd 3 3<<<"$PASS" >"$WORK/out" 2>&1
sleep 3.5
check "service user nobody: the client talks to the fake server (it recorded $(stat -c %s "$WORK/fake.rec") bytes)" \
    test "$(stat -c %s "$WORK/fake.rec")" -gt 0
expect_in "$WORK/fake.rec" "3:run," "the recorder saw the run message"
t_done
