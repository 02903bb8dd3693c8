#!/bin/bash
# pg_attack.sh - the failed-login throttle shared by the hosts of one
# PostgreSQL store: two vmsealed ("host A", "host B") on one throwaway
# database (t_pg_start), throttle 3 failures per 120 s per address (the
# default), cheap Argon2.  Shown:
#   - a burst of 60 wrong passwords for one user from one address, 20 at
#     a time, alternating between A's and B's auth sockets: exactly 3
#     hashes in total across both hosts (hash_verifications of "vmseal
#     status --json" on each), 3 "fail", the rest "fail throttled" or
#     "temp", none "ok"; the shared table holds rows, but neither the
#     address nor the login (COPY of vmseal_throttle);
#   - the address, now blocked: one attempt on each host (a host whose
#     own failures stayed under the limit learns of the block from the
#     table then, one statement), then 10 more over both, all "fail
#     throttled", no hash, and those 10 reached the database with no
#     statement (the table's newest "touched" did not move);
#   - the seed's attack (600 IMAP logins from 127.0.0.9, 480 as root, the
#     first four one by one, the rest 20 at a time) spread over two real
#     Dovecots - 127.0.0.2 asking A, 127.0.0.3 asking B -: all refused,
#     exactly 3 hashes in total (plus bob's), 597 lines "reason=throttled" for
#     127.0.0.9 in the two vmsealed logs together (each host refused some);
#     bob logs in from 127.0.0.10 on both hosts meanwhile;
#   - "vmseal stats --json" on A and on B each report the whole attack for
#     127.0.0.9: 600 attempts, 597 throttled;
#   - PostgreSQL stopped: a password check from a new address is "temp" on
#     both hosts (never "fail" or "nouser"), no hash.
# Skipped (n/a) without libpq in vmseal or without the postgresql package;
# needs root (vmsealed switches users).  The IMAP part is skipped (one
# SKIP) without Dovecot.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}
export LC_ALL=C
PARALLEL=${PARALLEL:-20}

[ "$(id -u)" -eq 0 ] || skip "needs root (vmsealed switches users)"
WORK=$(mktemp -d /tmp/vmseal-pgatt-XXXXXX)
PID_A= PID_B= SVC_PID= DC_PIDS=
MODULE_COPIED= MODULE_BACKUP= SETMOD_COPIED= SETMOD_BACKUP= SETMOD_DIR_MADE=
SVCLOG=$WORK/vmsealed-A.log
cleanup() {
	local p
	for p in $DC_PIDS; do stop_pid "$p"; done
	t_dovecot_stop 2>/dev/null      # the modules put back (DC_STARTED unset)
	for p in $PID_A $PID_B; do stop_pid "$p"; wait "$p" 2>/dev/null; done
	t_pg_stop
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
diagnostics() {
	local h
	for h in A B; do
		echo "# --- vmsealed $h log (tail) ---"
		tail -n 15 "$WORK/vmsealed-$h.log" 2>/dev/null | sed 's/^/#   /'
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$VMSEAL" --offline --store postgresql:dbname=none user list \
    --passphrase-fd 3 3<<<"$PASS" >"$WORK/nopq" 2>&1
grep -q "built without PostgreSQL support" "$WORK/nopq" &&
    skip "n/a: built without the PostgreSQL backend (no libpq-dev, or --without-postgresql)"

DC_OK=
if (skip() { exit 3; }; t_dovecot_env) 8>/dev/null >/dev/null 2>&1; then
	t_dovecot_env
	DC_OK=1
fi
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

t_pg_start
# --- the library: the table's statements, 8 handles racing on one key ---
UNIT=${UNIT_THROTTLE_SHARED:-$(dirname "$VMSEAL")/../tests/unit/test_throttle_shared}
if [ -x "$UNIT" ]; then
	VMSEAL_TEST_PG="$PG_CONNINFO" "$UNIT" >"$WORK/unit.out" 2>&1
	st=$?
	for t in test_block_new_key test_pg_reserve test_pg_race; do
		check "library: $t" grep -q "^\[       OK \] $t\$" "$WORK/unit.out"
	done
	check "test_throttle_shared on PostgreSQL: exit 0 (got $st)" test "$st" -eq 0
	[ "$st" -eq 0 ] || sed 's/^/#   /' "$WORK/unit.out" | grep -v "OK \]" | tail -20
else
	t_skip "library: $UNIT not built (make check builds it; needs cmocka)"
fi
psql -q -c 'DROP TABLE IF EXISTS vmseal_kv, vmseal_throttle' >/dev/null 2>&1 ||
    bail "drop the unit test's tables"
LOC="postgresql:$PG_CONNINFO"
vp() { "$VMSEAL" --offline --store "$LOC" --passphrase-fd 3 "$@" 3<<<"$PASS"; }
BOB_PW='Bob-Harbour-Lilac-48'
RON_PW='Ron-Quarry-Saffron-93'
mkdir -p "$WORK/home"
{
	vp init --unseal-cost 1:8 --hash-cost 1:8 &&
	for u in bob:"$BOB_PW" ron:"$RON_PW" postscript:postscript-Pw4 mysql:mysql-Pw5; do
		vp user add "${u%%:*}" --uid "$NOBODY_UID" --gid "$NOBODY_GID" \
		    --home "$WORK/home/${u%%:*}" --no-policy --password-fd 4 \
		    4<<<"${u#*:}" || exit 1
		mkdir -p "$WORK/home/${u%%:*}"
	done
} >"$WORK/setup.out" 2>&1 || { sed 's/^/#   /' "$WORK/setup.out"; bail "store on PostgreSQL"; }
chown -R "$NOBODY_UID:$NOBODY_GID" "$WORK/home"
chmod 0711 "$WORK/home"
t_ok "store on PostgreSQL: bob, ron, postscript, mysql (Argon2id 1:8)"

for h in A B; do
	cat >"$WORK/vmseal-$h.conf" <<EOF
store = $LOC
socket_dir = $WORK/run$h
user = $PG_USER
group = $(id -gn "$PG_USER")
auth_socket_mode = 0666
socketmap_socket_mode = 0666
throttle_limit = 3
throttle_window = 120
EOF
	chmod 0600 "$WORK/vmseal-$h.conf"
done
SVCLOG=$WORK/vmsealed-A.log
t_svc_start "$WORK/vmseal-A.conf" "host A"
PID_A=$SVC_PID
SVCLOG=$WORK/vmsealed-B.log
t_svc_start "$WORK/vmseal-B.conf" "host B"
PID_B=$SVC_PID
t_ok "two vmsealed on one PostgreSQL store, both unsealed (3 failures / 120 s per address)"

cat >"$WORK/cl.py" <<'PY'
import collections, imaplib, json, random, socket, sys, threading, time

# netstrings: the tests' client (vsclient.py, beside this test)
sys.path.insert(0, sys.argv.pop(1))
from vsclient import ns, read_ns, items

def verify(sock, login, pw, ip):
    """One check on vmsealed's auth socket: 'ok', 'fail', 'fail throttled',
    'temp ...', 'nouser', or 'ERR ...'."""
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(30)
        s.connect(sock)
        s.sendall(ns(b"".join(ns(x.encode()) for x in
                              ("verify", login, pw, "imap", ip,
                               "127.0.0.1", "1"))))
        it = items(read_ns(s))
        s.close()
    except (OSError, EOFError) as e:
        return "ERR %s" % e
    if it[0] == "fail" and len(it) > 1 and it[1] == "throttled":
        return "fail throttled"
    return it[0]

class IMAP(imaplib.IMAP4):
    def __init__(self, host, port, src):
        self.src = src
        super().__init__(host, port, timeout=30)
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.src, 0))

def login(host, port, src, user, pw):
    try:
        m = IMAP(host, port, src)
    except OSError as e:
        return "ERR connect: %s" % e
    try:
        typ, _ = m.login(user, pw)
        r = typ
    except imaplib.IMAP4.error as e:
        r = "NO " + str(e.args[0])[:60]
    except OSError as e:
        r = "ERR %s" % e
    try:
        m.logout()
    except Exception:
        pass
    return r

def pool(n, par, fn):
    res = [None] * n
    nxt = [0]
    lock = threading.Lock()
    def worker():
        while True:
            with lock:
                i = nxt[0]
                if i >= n:
                    return
                nxt[0] += 1
            res[i] = fn(i)
    ths = [threading.Thread(target=worker) for _ in range(par)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    return res

cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "verify":             # verify SOCKET LOGIN PASSWORD IP
    print(verify(*a))
elif cmd == "burst":            # burst SOCK_A SOCK_B IP LOGIN N PAR: JSON
    socks, ip, user, n, par = a[0:2], a[2], a[3], int(a[4]), int(a[5])
    res = pool(n, par, lambda i: (i % 2, verify(socks[i % 2], user,
                                                 "wrong-%d" % i, ip)))
    c = collections.Counter(r for _, r in res)
    per = [collections.Counter(r for h, r in res if h == k) for k in (0, 1)]
    print(json.dumps({"all": dict(c), "A": dict(per[0]), "B": dict(per[1])}))
elif cmd == "plan":             # plan FILE: the seed's attack, 600 names
    names = ("oracle nagios guest ftp www web ubuntu pi support info sales "
             "office mail postmaster webmaster user test1 test2 demo backup "
             "operator service git svn jenkins tomcat apache nginx postgres "
             "redis").split()
    plan = (["root"] * 480 + ["postscript"] * 5 + ["mysql"] * 2 +
            ["admin"] * 8 + ["george"] * 3 + ["gnax"] * 6 + ["test"] * 2)
    while len(plan) < 600:
        plan.append(names[len(plan) % len(names)] + str(len(plan)))
    random.Random(583).shuffle(plan)
    open(a[0], "w").write("\n".join(plan) + "\n")
elif cmd == "attack":   # attack PORT_A PORT_B PLAN PAR SRC: 600 IMAP logins
    # from SRC, alternating 127.0.0.2:PORT_A and 127.0.0.3:PORT_B, the
    # first 4 one by one; JSON counts
    ports, plan, par, src = (int(a[0]), int(a[1])), open(a[2]).read().split(), int(a[3]), a[4]
    hosts = ("127.0.0.2", "127.0.0.3")
    def one(i):
        return login(hosts[i % 2], ports[i % 2], src, plan[i], "Pa55word-%d" % i)
    t0 = time.monotonic()
    first = [one(i) for i in range(4)]
    rest = pool(len(plan) - 4, par, lambda i: one(i + 4))
    res = first + rest
    c = collections.Counter(r.split(" ")[0] for r in res)
    print(json.dumps({"seconds": round(time.monotonic() - t0, 1),
                      "results": dict(c),
                      "other": [r for r in res if not r.startswith("NO")][:5]}))
elif cmd == "login":            # login HOST PORT SRC USER PASSWORD
    print(login(a[0], int(a[1]), a[2], a[3], a[4]))
elif cmd == "hashes":           # hashes STATUS.json
    print(json.load(open(a[0]))["auth"]["hash_verifications"])
elif cmd == "stats":            # stats STATS.json IP: "ATTEMPTS THROTTLED"
    st = json.load(open(a[0]))
    x = [y for y in st["addresses"] if y["address"] == a[1]]
    print("%d %d" % (x[0]["attempts"], x[0]["throttled"]) if x else "0 0")
PY
cl() { timeout 300 python3 "$WORK/cl.py" "$TOP_SRCDIR/tests/integration" "$@"; }
vh() { local h=$1; shift; timeout 60 "$VMSEAL" -c "$WORK/vmseal-$h.conf" "$@"; }
# hashes H: host H's count of password hashes so far
hashes() { vh "$1" status --json >"$WORK/st-$1.json" 2>&1 && cl hashes "$WORK/st-$1.json"; }
total_hashes() { echo $(( $(hashes A) + $(hashes B) )); }
jget() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

# --- a burst over both hosts' auth sockets ---
IP1=198.51.100.77
H0=$(total_hashes) || bail "vmseal status --json"
cl burst "$WORK/runA/auth" "$WORK/runB/auth" "$IP1" ron 60 "$PARALLEL" \
    >"$WORK/burst.json" 2>"$WORK/burst.err" || { sed 's/^/#   /' "$WORK/burst.err"; bail "burst client"; }
H1=$(total_hashes)
echo "# burst of 60 from $IP1 over A and B: $(cat "$WORK/burst.json"); hashes $H0 -> $H1 (A $(hashes A), B $(hashes B))"
FAILS=$(jget "$WORK/burst.json" 'j["all"].get("fail", 0)')
THR=$(jget "$WORK/burst.json" 'j["all"].get("fail throttled", 0)')
OTHER=$(jget "$WORK/burst.json" 'sum(v for k, v in j["all"].items() if k not in ("fail", "fail throttled", "temp"))')
check "60 wrong passwords from one address, 20 at a time over both hosts: exactly 3 hashes in total ($((H1 - H0)))" \
    test "$((H1 - H0))" -eq 3
# How the other 57 split between "fail throttled" and "temp" is timing:
# "temp" while the 3 reserved checks are in flight, "fail throttled" once
# they are settled; on a slow machine (ASan) the whole burst can end
# before they settle (CI once saw fail 3, temp 57). Checked below, after
# the burst: every later attempt is "fail throttled".
check "... 3 answered fail ($FAILS), the others fail throttled ($THR) or temp, nothing else ($OTHER)" \
    test "$FAILS" -eq 3 -a "$OTHER" -eq 0
ROWS=$(psql -Atc "SELECT count(*) FROM vmseal_throttle" 2>&1)
check "the shared table vmseal_throttle was made and holds the keys ($ROWS rows)" test "${ROWS:-0}" -ge 2 2>/dev/null
psql -qc "COPY vmseal_throttle TO STDOUT" >"$WORK/table.txt" 2>&1
check "... with neither the address nor the login in it (keyed hashes; $(wc -c <"$WORK/table.txt") bytes)" \
    sh -c "[ -s '$WORK/table.txt' ] && ! grep -q -e '$IP1' -e 'ron' '$WORK/table.txt'"

# --- blocked: refused locally on both hosts, no database round trip ---
# A host whose own failures of the burst stayed under the limit (all its
# other attempts were "temp") learns of the block from the shared table
# at its next attempt (one statement, answered "fail throttled", the
# block then copied into its own table); from then on neither host asks
# the database.
H2=$(total_hashes)
bad=0
for h in A B; do
	r=$(cl verify "$WORK/run$h/auth" ron "$RON_PW" "$IP1")
	[ "$r" = "fail throttled" ] || { bad=$((bad + 1)); echo "# first attempt on $h after the burst: $r"; }
done
T0=$(psql -Atc "SELECT max(touched) FROM vmseal_throttle")
for i in $(seq 10); do
	h=A; [ $((i % 2)) -eq 0 ] && h=B
	r=$(cl verify "$WORK/run$h/auth" ron "$RON_PW" "$IP1")
	[ "$r" = "fail throttled" ] || { bad=$((bad + 1)); echo "# attempt $i on $h: $r"; }
done
H3=$(total_hashes)
T1=$(psql -Atc "SELECT max(touched) FROM vmseal_throttle")
check "the blocked address, one attempt on each host and 10 more (the right password too) over A and B: all fail throttled" test "$bad" -eq 0
check "... no hash ($H2 -> $H3)" test "$H2" -eq "$H3"
check "... and once each host knew the block, no statement reached the shared table (newest touched $T0 -> $T1)" test "$T0" = "$T1"

# --- the seed's attack through two real Dovecots ---
# reasons H IP: the reasons of host H's "auth failed" lines for IP
reasons() { sed -n "s/.*auth failed: rip=$2 .* reason=\([a-z-]*\)\$/\1/p" "$WORK/vmsealed-$1.log"; }

if [ -n "$DC_OK" ]; then
	read -r IMAP_A IMAP_B < <(t_free_ports 2)
	SOCKDIR=$WORK/runA
	t_dovecot_auth_setup || bail "$T_SETUP_ERR"
	DB_A=$DB
	DB_B=${DB//$WORK\/runA/$WORK/runB}
	check "host A: Dovecot $DC_VERSION on 127.0.0.2:$IMAP_A ($AUTH_MODE, through A's vmsealed)" \
	    t_dovecot_start_host A 127.0.0.2 "$IMAP_A" "" "$DB_A"
	check "host B: Dovecot on 127.0.0.3:$IMAP_B (through B's vmsealed)" \
	    t_dovecot_start_host B 127.0.0.3 "$IMAP_B" "" "$DB_B"
	ready=
	for _ in $(seq 100); do
		[ "$(cl login 127.0.0.2 "$IMAP_A" 127.0.0.10 bob "$BOB_PW")" = OK ] &&
		    [ "$(cl login 127.0.0.3 "$IMAP_B" 127.0.0.10 bob "$BOB_PW")" = OK ] && { ready=1; break; }
		sleep 0.2
	done
	[ -n "$ready" ] || bail "bob logs in over IMAP on both Dovecots"
	cl plan "$WORK/plan" || bail "attack plan"
	H4=$(total_hashes)
	( sleep 2
	  echo "$(cl login 127.0.0.3 "$IMAP_B" 127.0.0.10 bob "$BOB_PW")" >"$WORK/bob-during.out" ) &
	BOBJOB=$!
	cl attack "$IMAP_A" "$IMAP_B" "$WORK/plan" "$PARALLEL" 127.0.0.9 \
	    >"$WORK/attack.json" 2>"$WORK/attack.err" ||
	    { sed 's/^/#   /' "$WORK/attack.err"; bail "attack client"; }
	wait "$BOBJOB"
	H5=$(total_hashes)
	echo "# attack: $(cat "$WORK/attack.json"); hashes $H4 -> $H5"
	NO=$(jget "$WORK/attack.json" 'j["results"].get("NO", 0)')
	check "600 IMAP logins from 127.0.0.9 spread over host A's and host B's Dovecot: all refused ($NO NO)" \
	    test "$NO" -eq 600
	# bob's login meanwhile (another address) is the one more
	check "... exactly 3 hashes in total across both hosts for the attack, 1 for bob's login meanwhile ($((H5 - H4)) = 3 + 1)" \
	    test "$((H5 - H4))" -eq 4
	sleep 1
	TA=$(reasons A 127.0.0.9 | grep -c '^throttled$')
	TB=$(reasons B 127.0.0.9 | grep -c '^throttled$')
	FA=$(reasons A 127.0.0.9 | grep -vc '^throttled$')
	FB=$(reasons B 127.0.0.9 | grep -vc '^throttled$')
	check "... the logs: 3 failures ($FA on A, $FB on B), 597 throttled ($TA on A, $TB on B)" \
	    test "$((FA + FB))" -eq 3 -a "$((TA + TB))" -eq 597
	check "... each host refused its share (A $TA, B $TB throttled)" test "$TA" -gt 200 -a "$TB" -gt 200
	r=$(cat "$WORK/bob-during.out")
	check "bob logs in from 127.0.0.10 on host B during the attack: $r" test "$r" = OK
	r=$(cl login 127.0.0.2 "$IMAP_A" 127.0.0.10 bob "$BOB_PW")
	check "bob logs in from 127.0.0.10 on host A after the attack: $r" test "$r" = OK
	r=$(cl login 127.0.0.2 "$IMAP_A" 127.0.0.9 bob "$BOB_PW")
	check "... but not from 127.0.0.9, blocked: $r" test "${r%% *}" = NO
	# vmseal stats on either host: the whole attack (both hosts' events)
	for h in A B; do
		got=
		for _ in $(seq 50); do
			vh "$h" stats --json >"$WORK/stats-$h.json" 2>&1 &&
			    [ "$(cl stats "$WORK/stats-$h.json" 127.0.0.9)" = "601 598" ] && { got=1; break; }
			sleep 0.2
		done
		check "vmseal stats on host $h: 127.0.0.9 601 attempts, 598 throttled (the attack and bob's password from it): $(cl stats "$WORK/stats-$h.json" 127.0.0.9)" \
		    test -n "$got"
	done
else
	t_skip "the seed's attack through two Dovecots: needs Dovecot (2.3: checkpassword; 2.4: the plugin)"
fi

# --- PostgreSQL stopped: temp, never a "no" ---
H6=$(total_hashes)
t_pg_stop
for h in A B; do
	r=$(cl verify "$WORK/run$h/auth" ron "$RON_PW" 192.0.2.55)
	check "PostgreSQL stopped: a check on host $h from a new address answers temp: $r" test "${r%% *}" = temp
	r=$(cl verify "$WORK/run$h/auth" ron wrong-password 192.0.2.56)
	check "... a wrong password too (temp, not fail): $r" test "${r%% *}" = temp
done
H7=$(total_hashes)
check "... no hash ($H6 -> $H7)" test "$H6" -eq "$H7"
t_done
