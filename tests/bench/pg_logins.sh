#!/usr/bin/env bash
# tests/bench/pg_logins.sh - benchmark (issue 15, the login half of
# pg_e2e.sh): real IMAP logins through a real Dovecot whose passdb and
# userdb are a vmsealed on an LMDB store, against the same Dovecot set-up
# asking a vmsealed on the same store moved to PostgreSQL (vmseal migrate),
# in the same run on the same machine.  The issue's target: logins/s with
# the PostgreSQL store >= 0.95 of LMDB.
#
# What is measured:
#   logins/s      BENCH_LOGIN_CONNS clients (threads of a python3 client,
#                 raw sockets), each in a closed loop: connect to Dovecot's
#                 imap-login on 127.0.0.1, read the greeting, "LOGIN user
#                 password" for a random one of BENCH_LOGIN_USERS users,
#                 wait for the tagged answer, LOGOUT, read to the close.
#                 Counted: logins answered in BENCH_SECONDS after
#                 BENCH_WARMUP seconds.  A right password's "OK" comes from
#                 the imap process after Dovecot's passdb (vmsealed: the
#                 Argon2id verify) and userdb (vmsealed again) lookups: the
#                 whole login.
#   failed/s      the same with a wrong password for every login (each
#                 costs the same Argon2id; Dovecot answers NO
#                 [AUTHENTICATIONFAILED], no imap process; vmsealed logs
#                 and records a failed-login event in the store; 127.0.0.0/8
#                 is on throttle_allow, so nothing is blocked).
#   CPU per login vmsealed's, Dovecot's (master and children, reaped ones
#                 included) and PostgreSQL's (postmaster and backends; pg
#                 only) user+system time per login served (warm-up
#                 included), from /proc, pooled over the alone rounds.
#                 Steadier than the rates on a busy machine, though the
#                 hash's own CPU grows with what else runs (printed: the
#                 raw Argon2id CPU before and after).
# Two stores, one content: BENCH_LOGIN_USERS users with Argon2id hashes at
# BENCH_COST (default 2:19456, vmseal's default hash cost; the store's
# hash cost is the same, so no login rehashes), plus BENCH_FILLER users
# (cheap {SSHA} hashes, never logging in) so that the stores are not
# trivially small; made on LMDB, copied to a throwaway PostgreSQL cluster
# (initdb, Unix socket, fsync off as in the integration tests) with
# vmseal migrate.  Two vmsealed (hash_workers = BENCH_WORKERS each), two
# Dovecot instances (one per vmsealed, each its own port; the plugin
# libauthdb_vmseal.so, no auth cache, Dovecot's auth penalty off).
# Each kind (right, wrong passwords) is measured BENCH_ROUNDS times in two
# ways, since this machine is shared:
#   alone   lmdb then pg, or pg then lmdb (alternating from round to round:
#           ABBA), each with the machine to itself: the best rate of the
#           rounds; PG/LMDB pooled (all rounds' logins added up), and the
#           median of the rounds' ratios;
#   paired  both at the same time (each its own client, as many
#           connections as alone), so that both see the same machine
#           whatever else runs on it: PG/LMDB pooled, and the median of the
#           rounds' ratios.  The figure to read on a shared machine.
# Printed: logins/s of each, PG/LMDB against 0.95 ("met"/"NOT met"; never
# an error) for paired, alone and the CPU per login (LMDB/PG of all the
# serving side's CPU: the ratio a CPU-bound machine allows), the raw
# Argon2id rate and CPU before and after (tests/bench/argon_rate), the
# load average.
#
# Everything is throwaway, on loopback, in its own folder; Dovecot runs in
# a private mount namespace (unshare -m) where Dovecot's module folder is
# a bind-mounted copy holding this build's plugin (as auth.sh and
# mailcrypt.sh do): the real folder, /etc/dovecot and /etc/postfix are
# never touched.
#
# This is a benchmark, not a test: it fails only when a step fails (a
# server that does not start, a right password refused, a wrong one
# accepted).  Without root, Dovecot (2.3 or 2.4, imapd), unshare,
# PostgreSQL's server, the plugin or a vmseal built with libpq it says
# "skipped" and exits 0.
#
# usage: tests/bench/pg_logins.sh
#   VMSEAL, VMSEALED, VMSEAL_PLUGIN, ARGON_RATE  the programs (default:
#                 under ../.. from this script, else under .)
#   BENCH_COST    Argon2id OPS:KIB (default 2:19456)
#   BENCH_WORKERS vmsealed's hash_workers (default: the CPUs)
#   BENCH_LOGIN_CONNS  client connections per store (default 8)
#   BENCH_FAILED_CONNS  the same for wrong passwords (default 6 x
#                 BENCH_LOGIN_CONNS: Dovecot 2.3 holds every failure until
#                 its next 0.5 s flush of failures, auth_failure_delay = 0
#                 or not, so with fewer connections the rate measures that
#                 timer, and an answer a few ms later, missing a flush,
#                 costs 0.5 s)
#   BENCH_LOGIN_USERS  users that log in (default 32)
#   BENCH_FILLER  other users in the store (default 10000)
#   BENCH_LOGIN_SECONDS (else BENCH_SECONDS) length of one alone cell
#                 (default 6; at about 15 logins/s a cell counts about 90:
#                 raise it for steadier figures)
#   BENCH_PAIRED_SECONDS  length of one paired cell (default 10: each side
#                 has half the machine), both after
#   BENCH_WARMUP  seconds not counted (default 1)
#   BENCH_ROUNDS  rounds of each kind (default 3)
#   BENCH_FAILED=0  skip the wrong-password figure
#   BENCH_KEEP=1  keep the work folder
# The default run takes about 3 to 4 minutes on 2 CPUs.
set -eu
set -o pipefail

. "$(dirname "$0")/lib.sh"
BENCH_TOP=$(cd "$(dirname "$0")/../.." && pwd)

COST=${BENCH_COST:-2:19456}
WORKERS=${BENCH_WORKERS:-$NCPU}
CONNS=${BENCH_LOGIN_CONNS:-8}
FCONNS=${BENCH_FAILED_CONNS:-$((6 * CONNS))}
NLOGIN=${BENCH_LOGIN_USERS:-32}
NFILL=${BENCH_FILLER:-10000}
SECS=${BENCH_LOGIN_SECONDS:-${BENCH_SECONDS:-6}}
PSECS=${BENCH_PAIRED_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-3}
FAILED=${BENCH_FAILED:-1}
TARGET=0.95
MODULE_DIR=/usr/lib/dovecot/modules
case $COST in
	*:*) isnum "${COST%%:*}" && isnum "${COST#*:}" ||
		die "BENCH_COST must be OPS:KIB" ;;
	*) die "BENCH_COST must be OPS:KIB" ;;
esac
isnum "$WORKERS" && [ "$WORKERS" -ge 1 ] || die "BENCH_WORKERS must be >= 1"
isnum "$CONNS" && [ "$CONNS" -ge 1 ] || die "BENCH_LOGIN_CONNS must be >= 1"
isnum "$FCONNS" && [ "$FCONNS" -ge 1 ] || die "BENCH_FAILED_CONNS must be >= 1"
MAXC=$CONNS
[ "$FCONNS" -gt "$MAXC" ] && MAXC=$FCONNS
isnum "$NLOGIN" && [ "$NLOGIN" -ge 1 ] || die "BENCH_LOGIN_USERS must be >= 1"
isnum "$NFILL" || die "BENCH_FILLER must be a number"
isnum "$ROUNDS" && [ "$ROUNDS" -ge 1 ] || die "BENCH_ROUNDS must be >= 1"
isreal "$SECS" || die "BENCH_SECONDS must be a number of seconds"
isreal "$PSECS" || die "BENCH_PAIRED_SECONDS must be a number of seconds"
isreal "$WARMUP" || die "BENCH_WARMUP must be a number of seconds"

skip() { echo "pg_logins.sh: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root (Dovecot starts only as root)"
PATH=$PATH:/usr/sbin:/sbin
for t in dovecot doveadm unshare nsenter mount python3 timeout openssl awk; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done
DCV=$(dovecot --version 2>/dev/null | cut -d. -f1,2)
case $DCV in
2.3|2.4) ;;
*) skip "Dovecot $DCV: 2.3 or 2.4 wanted" ;;
esac
[ -x /usr/lib/dovecot/imap ] || skip "dovecot-imapd not installed"
getent passwd dovecot >/dev/null || skip "no dovecot user"
getent passwd nobody >/dev/null || skip "no nobody user"
unshare -m --propagation private true 2>/dev/null ||
	skip "unshare -m does not work here (no CAP_SYS_ADMIN?)"

bench_vmseal
bench_prog VMSEALED service/vmsealed || die "no vmsealed (set \$VMSEALED)"
bench_need_prog ARGON_RATE tests/bench/argon_rate
bench_prog VMSEAL_PLUGIN plugin/libauthdb_vmseal.so plugin/.libs/libauthdb_vmseal.so ||
	skip "plugin/libauthdb_vmseal.so not built (no dovecot-dev?)"
if ldd "$VMSEAL_PLUGIN" 2>/dev/null | grep -q libasan; then
	skip "$VMSEAL_PLUGIN is a sanitizer build"
fi
VMSEAL_PLUGIN_SETTINGS=
if [ "$DCV" = 2.4 ]; then
	for p in "${VMSEAL_PLUGIN_SETTINGS_SO:-}" \
	    "$(dirname "$VMSEAL_PLUGIN")"/libvmseal_settings.so \
	    "$(dirname "$VMSEAL_PLUGIN")"/.libs/libvmseal_settings.so; do
		[ -n "$p" ] && [ -f "$p" ] && { VMSEAL_PLUGIN_SETTINGS=$p; break; }
	done
	[ -n "$VMSEAL_PLUGIN_SETTINGS" ] ||
		skip "Dovecot 2.4: libvmseal_settings.so not built"
fi

# The throwaway cluster and vmsealed starter of the integration tests
# (tests/integration/lib.sh: t_pg_start, t_svc_start, t_free_ports):
# sourced for those helpers only; its TAP counters are removed at exit.
. "$BENCH_TOP/tests/integration/lib.sh"
exec 8>/dev/null
bail() { die "$*"; }
skip() { echo "pg_logins.sh: skipped: $*"; exit 0; }
TAPFILES="$T_COUNT $T_FCOUNT"

bench_workdir vmseal-pglogins
WORK=$W
"$VMSEAL" --offline --store postgresql:dbname=none user list \
    --passphrase-fd 3 3<<<"$PASS" >"$W/nopq" 2>&1 || true
grep -q "built without PostgreSQL support" "$W/nopq" &&
    skip "vmseal was built without the PostgreSQL backend"

SVC_PIDS=
NSPID=
declare -A DCPID
bench_cleanup_hook() {
	local p i
	for p in "${DCPID[@]}"; do
		kill -TERM "$p" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "$NSPID" ]; then
		kill -TERM "$NSPID" 2>/dev/null || true
		wait "$NSPID" 2>/dev/null || true
	fi
	for p in $SVC_PIDS; do stop_pid "$p" || true; wait "$p" 2>/dev/null || true; done
	t_pg_stop immediate || true
	rm -f $TAPFILES
}

echo "== vmseal login benchmark: IMAP logins through Dovecot, vmsealed on LMDB vs PostgreSQL"
echo "dovecot:        $(dovecot --version 2>/dev/null | head -n 1); passdb and userdb:" \
    "the plugin ($VMSEAL_PLUGIN)"
echo "vmseal:         $VMSEAL ($("$VMSEAL" -V 2>&1 | head -n 1))"
echo "users:          $NLOGIN logging in (Argon2id t=${COST%%:*} m=${COST#*:} KiB," \
    "the store's hash cost) + $NFILL others ({SSHA})"
echo "vmsealed:       hash_workers = $WORKERS each; throttle_allow 127.0.0.0/8"
echo "clients:        $CONNS connections per store ($FCONNS for wrong passwords);" \
    "$ROUNDS round(s) of alone (${SECS} s, order alternating) + paired (${PSECS} s)," \
    "after ${WARMUP} s warm-up"
bench_machine
echo "load average:   $(loadavg) (at start)"

# --- users ---
t0=$EPOCHREALTIME
awk -v n="$NLOGIN" -v s="$RANDOM$RANDOM" 'BEGIN {
	for (i = 1; i <= n; i++)
		printf "login%03d\tpw-%s-%03d\n", i, s, i }' >"$W/users-ok"
awk -F'\t' '{ print $1 "\twrong-" $2 }' "$W/users-ok" >"$W/users-bad"
cut -f2 "$W/users-ok" | "$ARGON_RATE" -g "$COST" >"$W/hashes" ||
	die "argon_rate -g $COST failed"
[ "$(wc -l <"$W/hashes")" -eq "$NLOGIN" ] || die "argon_rate -g: wrong count"
grep -q "^\$argon2id\$v=19\$m=${COST#*:},t=${COST%%:*},p=1\\$" "$W/hashes" ||
	die "argon_rate -g made $(head -n 1 "$W/hashes" | cut -d'$' -f1-4)"
paste -d: <(cut -f1 "$W/users-ok") "$W/hashes" >"$W/login.htpasswd"
H='{SSHA}'$({ printf 'filler-pw'; printf 's001'; } | openssl dgst -sha1 -binary |
    { cat; printf 's001'; } | openssl base64 -A)
awk -v n="$NFILL" -v h="$H" 'BEGIN {
	for (i = 1; i <= n; i++) printf "filler%06d:%s\n", i, h }' >"$W/filler.htpasswd"

# --- the stores ---
t_pg_start >/dev/null
mkdir -p "$W/home"
chown nobody "$W/home"
while IFS=$'\t' read -r u _; do
	mkdir -p "$W/home/$u"
	chown nobody:"$(id -gn nobody)" "$W/home/$u"
done <"$W/users-ok"
vsd() { "$VMSEAL" --offline -s "$W/nosock" --passphrase-fd 3 "$@" 3<<<"$PASS"; }
{
	vsd -d "$W/lmdb" init --unseal-cost 1:8 --hash-cost "$COST" &&
	vsd -d "$W/lmdb" import htpasswd "$W/login.htpasswd" \
	    --uid "$(id -u nobody)" --gid "$(id -g nobody)" --home "$W/home/%n" &&
	{ [ "$NFILL" -eq 0 ] || vsd -d "$W/lmdb" import htpasswd \
	    "$W/filler.htpasswd" --uid 5000 --gid 5000 --home '/var/vmail/%n'; }
} >"$W/lmdb-setup.out" 2>&1 || { cat "$W/lmdb-setup.out" >&2; die "LMDB store"; }
LOCPG="postgresql:host=$PG_DIR port=$PGPORT user=postgres dbname=vmseal"
vsd -d "$W/lmdb" migrate --to "$LOCPG" >"$W/migrate.out" 2>&1 ||
    { cat "$W/migrate.out" >&2; die "vmseal migrate to PostgreSQL"; }
chown -R "$PG_USER" "$W/lmdb"
echo "stores:         LMDB and its copy on PostgreSQL (vmseal migrate):" \
    "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"

# --- vmsealed on each store ---
SVCLOG=$W/vmsealed.log
declare -A VPID
svc() {     # svc NAME LOCATION-LINE: vmsealed NAME, started and unsealed
	mkdir -p "$W/svc-$1"
	cat >"$W/svc-$1/vmseal.conf" <<EOF
$2
socket_dir = $W/svc-$1/run
user = $PG_USER
group = $(id -gn "$PG_USER")
auth_socket_mode = 0666
socketmap_socket_mode = 0666
hash_workers = $WORKERS
throttle_allow = 127.0.0.0/8
EOF
	chmod 0600 "$W/svc-$1/vmseal.conf"
	t_svc_start "$W/svc-$1/vmseal.conf" "vmsealed $1"
	SVC_PIDS="$SVC_PIDS $SVC_PID"
	VPID[$1]=$SVC_PID
}
svc lmdb "store_dir = $W/lmdb"
svc pg "store = $LOCPG"

# --- Dovecot: one instance per vmsealed, in one private mount namespace
# whose module folder is a copy holding this build's plugin ---
mkdir -p "$W/modules"
cp -a "$MODULE_DIR"/. "$W/modules/"
rm -f "$W/modules/auth/libauthdb_vmseal.so"
install -m 0644 "$VMSEAL_PLUGIN" "$W/modules/auth/libauthdb_vmseal.so"
if [ -n "$VMSEAL_PLUGIN_SETTINGS" ]; then
	mkdir -p "$W/modules/settings"
	install -m 0644 "$VMSEAL_PLUGIN_SETTINGS" "$W/modules/settings/libvmseal_settings.so"
fi
unshare -m --propagation private sleep 100000 </dev/null >/dev/null 2>&1 &
NSPID=$!
NS() { nsenter -t "$NSPID" -m -r "$@"; }
for ((i = 0; ; i++)); do
	[ "$(readlink "/proc/$NSPID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && break
	[ "$i" -lt 50 ] || die "unshare -m: no private mount namespace"
	sleep 0.1
done
NS mount --bind "$W/modules" "$MODULE_DIR" || die "mount --bind $W/modules"

declare -A PORT
read -r PORT[lmdb] PORT[pg] < <(t_free_ports 2)
[ -n "${PORT[pg]:-}" ] || die "no free ports"
dc_start() {    # dc_start NAME: Dovecot NAME asking vmsealed NAME
	local n=$1 d=$W/dc-$1 addr=address sock=$W/svc-$1/run/auth i
	mkdir -p "$d/state"
	if [ "$DCV" = 2.4 ]; then
		addr=listen
		cat >"$d/dovecot.conf" <<EOF
dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.1
auth_allow_cleartext = yes
default_vsz_limit = unlimited
mail_driver = mbox
mail_path = ~/mail
mail_inbox_path = ~/inbox
vmseal_socket_path = $sock
vmseal_timeout = 30s
passdb vmseal {
}
userdb vmseal {
}
EOF
	else
		cat >"$d/dovecot.conf" <<EOF
disable_plaintext_auth = no
default_vsz_limit = 0
mail_location = mbox:~/mail:INBOX=~/inbox
passdb {
  driver = vmseal
  args = socket=$sock timeout=30
}
userdb {
  driver = vmseal
  args = socket=$sock timeout=30
}
EOF
	fi
	cat >>"$d/dovecot.conf" <<EOF
# A throwaway Dovecot for vmseal's login benchmark (pg_logins.sh).
instance_name = vmseal-pglogins-$n-$$
base_dir = $d/base
state_dir = $d/state
log_path = $d/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_cache_size = 0
auth_verbose = no
first_valid_uid = 1
first_valid_gid = 1
protocol imap {
  mail_max_userip_connections = 1000
}
service imap-login {
  inet_listener imap {
    $addr = 127.0.0.1
    port = ${PORT[$n]}
  }
  inet_listener imaps {
    port = 0
  }
}
service auth-worker {
  process_limit = $((MAXC * 2 + 4))
}
service auth {
  client_limit = $((MAXC * 4 + 128))
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
	NS dovecot -c "$d/dovecot.conf" </dev/null >"$d/start.out" 2>&1 ||
		{ sed 's/^/  | /' "$d/start.out" >&2; die "cannot start Dovecot $n"; }
	for ((i = 0; ; i++)); do
		DCPID[$n]=$(cat "$d/base/master.pid" 2>/dev/null) &&
		    [ -S "$d/base/auth-client" ] && break
		[ "$i" -lt 100 ] || die "Dovecot $n: no auth-client socket"
		sleep 0.1
	done
}
dc_start lmdb
dc_start pg

cat >"$W/imaplogin.py" <<'PY'
# imaplogin.py PORT USERS CONNS SECONDS WARMUP SEED LABEL EXPECT: closed-loop
# IMAP logins over CONNS connections (one login per connection: connect,
# greeting, LOGIN, tagged answer, LOGOUT, close) for WARMUP + SECONDS
# seconds; USERS holds "login<TAB>password" lines.  EXPECT ok: every
# answer must be OK; no: every answer must be NO.  One line of figures;
# only logins answered after WARMUP are counted.
import random, socket, sys, threading, time
port, ufile, conns, secs, warm, seed, label, expect = (
    int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
    float(sys.argv[5]), int(sys.argv[6]), sys.argv[7], sys.argv[8])
users = [l.rstrip("\n").split("\t") for l in open(ufile) if l.strip()]
lock = threading.Lock()
lat, counts = [], {"ok": 0, "no": 0, "errors": 0, "completed": 0}
first_err = []
t0 = time.monotonic()
t_start, t_end = t0 + warm, t0 + warm + secs

def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

def readline(s, buf):
    while b"\r\n" not in buf[0]:
        c = s.recv(4096)
        if not c:
            raise EOFError("connection closed")
        buf[0] += c
    line, buf[0] = buf[0].split(b"\r\n", 1)
    return line

def one(u, p):
    a = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        buf = [b""]
        g = readline(s, buf)
        if not g.startswith(b"* OK"):
            raise RuntimeError("greeting: %r" % g[:80])
        s.sendall(("a LOGIN %s %s\r\n" % (quote(u), quote(p))).encode())
        while True:
            l = readline(s, buf)
            if l.startswith(b"a "):
                break
        b = time.monotonic()
        st = l.split(b" ")[1].decode()
        s.sendall(b"b LOGOUT\r\n")
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
    finally:
        s.close()
    return st, a, b, l

def worker(i):
    rng = random.Random(seed * 1000 + i)
    while time.monotonic() < t_end:
        try:
            st, a, b, l = one(*rng.choice(users))
        except Exception as e:
            with lock:
                counts["errors"] += 1
                if not first_err:
                    first_err.append(str(e))
            time.sleep(0.05)
            continue
        with lock:
            counts["completed"] += 1
            if b < t_start or b > t_end:
                continue
            if st == "OK":
                counts["ok"] += 1
            elif st == "NO":
                counts["no"] += 1
            else:
                counts["errors"] += 1
            if (st == "OK") != (expect == "ok") and not first_err:
                first_err.append(l.decode(errors="replace")[:120])
            lat.append(b - a)

def each(i):
    # SECONDS 0: every user once, the users shared out among the threads
    for k in range(i, len(users), conns):
        try:
            st, a, b, l = one(*users[k])
        except Exception as e:
            with lock:
                counts["errors"] += 1
                if not first_err:
                    first_err.append(str(e))
            continue
        with lock:
            counts["completed"] += 1
            counts["ok" if st == "OK" else "no" if st == "NO" else "errors"] += 1
            if (st == "OK") != (expect == "ok") and not first_err:
                first_err.append(l.decode(errors="replace")[:120])
            lat.append(b - a)

if secs <= 0:
    ts = [threading.Thread(target=each, args=(i,)) for i in range(conns)]
    secs = 1.0
else:
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
for t in ts: t.start()
for t in ts: t.join()
lat.sort()
def pct(p):
    return int(lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))] * 1e6) if lat else 0
n = len(lat)
print("label=%s conns=%d seconds=%.2f logins=%d rate=%.1f ok=%d no=%d errors=%d "
      "completed=%d p50_us=%d p99_us=%d%s" % (
    label, conns, secs, n, n / secs, counts["ok"], counts["no"],
    counts["errors"], counts["completed"], pct(50), pct(99),
    (" first=" + first_err[0].replace(" ", "_")) if first_err else ""))
PY

# Every user logs in once through each Dovecot (their homes and mail
# folders made, every process started), and a wrong password is refused.
for n in lmdb pg; do
	timeout 120 python3 "$W/imaplogin.py" "${PORT[$n]}" "$W/users-ok" \
	    "$CONNS" 0 0 1 warm ok >"$W/warm-$n.out" 2>&1 || true
	line=$(cat "$W/warm-$n.out")
	[ "$(field "$line" errors)" = 0 ] && [ "$(field "$line" no)" = 0 ] &&
	    [ "$(field "$line" ok)" -eq "$NLOGIN" ] || {
		echo "  | $line" >&2
		tail -n 5 "$W/dc-$n/dovecot.log" "$SVCLOG" 2>/dev/null | sed 's/^/  | /' >&2
		die "Dovecot $n: the warm-up logins failed"
	}
	timeout 60 python3 "$W/imaplogin.py" "${PORT[$n]}" "$W/users-bad" \
	    "$CONNS" 0 0 1 warm no >"$W/warm-$n.out" 2>&1 || true
	line=$(cat "$W/warm-$n.out")
	[ "$(field "$line" ok)" = 0 ] && [ "$(field "$line" errors)" = 0 ] &&
	    [ "$(field "$line" no)" -eq "$NLOGIN" ] || {
		echo "  | $line" >&2
		die "Dovecot $n: a wrong password is not refused"
	}
done
echo "Dovecot $DCV: imap on 127.0.0.1:${PORT[lmdb]} (lmdb), 127.0.0.1:${PORT[pg]} (pg);" \
    "every user logged in once through each"

# --- CPU ---
# tree_ticks PID: CPU ticks (user+system, reaped children's too) of PID
# and its children (a child that exits meanwhile moves to PID's figure).
tree_ticks() {
	local p t=0 x
	for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
		x=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' \
		    "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + ${x:-0}))
	done
	echo "$t"
}
pg_pid() { head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null; }
# snap NAME: "vmsealed dovecot postgres" ticks of NAME's side
snap() {
	local pgt=0
	[ "$1" = pg ] && pgt=$(tree_ticks "$(pg_pid)")
	echo "$(cpu_ticks "${VPID[$1]}") $(tree_ticks "${DCPID[$1]}") $pgt"
}
# per_login A B N: microseconds of CPU per login between two tick counts
per_login() {
	awk -v a="$1" -v b="$2" -v hz="$CLK_TCK" -v n="$3" \
	    'BEGIN { printf "%.0f", (n > 0 ? (b - a) / hz * 1e6 / n : 0) }'
}

# --- the measurements ---
declare -A RES
client() {      # client NAME KIND OUT [SECONDS]
	local n=$1 kind=$2 out=$3 uf=$W/users-ok exp=ok line c=$CONNS
	local secs=${4:-$SECS}
	[ "$kind" = failed ] && { uf=$W/users-bad; exp=no; c=$FCONNS; }
	timeout 300 python3 "$W/imaplogin.py" "${PORT[$n]}" "$uf" "$c" \
	    "$secs" "$WARMUP" "$RANDOM" "$n" "$exp" >"$out" 2>"$out.err" ||
		{ cat "$out.err" >&2; die "$n $kind: the client failed"; }
	line=$(cat "$out")
	if [ "$exp" = ok ]; then
		[ "$(field "$line" no)" = 0 ] && [ "$(field "$line" errors)" = 0 ] ||
			die "$n $kind: logins that did not succeed: $line"
	else
		[ "$(field "$line" ok)" = 0 ] && [ "$(field "$line" errors)" = 0 ] ||
			die "$n $kind: wrong passwords not refused: $line"
	fi
}
keep_max() { if [ -z "${RES[$1]:-}" ] || awk -v a="$2" -v b="${RES[$1]}" \
    'BEGIN { exit !(a > b) }'; then RES[$1]=$2; fi; }
alone() {       # alone KIND ROUND
	local kind=$1 r=$2 order n s0 s1 line rate cnt v d p h0 h1 hp
	declare -A rr
	if [ $((r % 2)) = 1 ]; then order="lmdb pg"; else order="pg lmdb"; fi
	for n in $order; do
		h0=$(auth_stat "$W/svc-$n/vmseal.conf" hash_verifications)
		s0=$(snap "$n")
		client "$n" "$kind" "$W/cell"
		s1=$(snap "$n")
		h1=$(auth_stat "$W/svc-$n/vmseal.conf" hash_verifications)
		line=$(cat "$W/cell")
		rate=$(field "$line" rate)
		cnt=$(field "$line" completed)  # warm-up's logins burn CPU too
		set -- $s0 $s1
		v=$(per_login "$1" "$4" "$cnt")
		d=$(per_login "$2" "$5" "$cnt")
		p=$(per_login "$3" "$6" "$cnt")
		hp=$(div "$((h1 - h0))" "$cnt" %.2f)
		printf '  %-6s %-6s alone  round %d %6s /s  p50 %5.0f ms  p99 %5.0f ms  Argon2id each %s  CPU each: vmsealed %5s us, dovecot %5s us%s\n' \
		    "$kind" "$n" "$r" "$rate" \
		    "$(awk -v x="$(field "$line" p50_us)" 'BEGIN { print x / 1000 }')" \
		    "$(awk -v x="$(field "$line" p99_us)" 'BEGIN { print x / 1000 }')" \
		    "$hp" "$v" "$d" "$([ "$n" = pg ] && echo ", postgres $p us")"
		rr[$n]=$rate
		RES[$kind,alone_sum_$n]=$(awk -v a="${RES[$kind,alone_sum_$n]:-0}" -v b="$(field "$line" logins)" 'BEGIN { print a + b }')
		keep_max "$kind,$n" "$rate"
		# CPU: pooled over the rounds (ticks and logins added up), so
		# that both stores' figures span the same ABBA order of cells
		RES[$kind,$n,vt]=$(( ${RES[$kind,$n,vt]:-0} + $4 - $1 ))
		RES[$kind,$n,dt]=$(( ${RES[$kind,$n,dt]:-0} + $5 - $2 ))
		RES[$kind,$n,pt]=$(( ${RES[$kind,$n,pt]:-0} + $6 - $3 ))
		RES[$kind,$n,cnt]=$(( ${RES[$kind,$n,cnt]:-0} + cnt ))
	done
	RES[$kind,alone]="${RES[$kind,alone]:-} $(ratio "${rr[pg]}" "${rr[lmdb]}" %.3f)"
}
paired() {      # paired KIND ROUND
	local kind=$1 r=$2 pl pp rl rp
	client lmdb "$kind" "$W/pl" "$PSECS" & pl=$!
	client pg "$kind" "$W/pp" "$PSECS" & pp=$!
	wait "$pl" || exit 1
	wait "$pp" || exit 1
	rl=$(field "$(cat "$W/pl")" rate)
	rp=$(field "$(cat "$W/pp")" rate)
	printf '  %-6s paired        round %d  lmdb %7s /s  pg %7s /s  ratio %s\n' \
	    "$kind" "$r" "$rl" "$rp" "$(ratio "$rp" "$rl" %.3f)"
	RES[$kind,paired]="${RES[$kind,paired]:-} $(ratio "$rp" "$rl" %.3f)"
	RES[$kind,paired_sum_lmdb]=$(awk -v a="${RES[$kind,paired_sum_lmdb]:-0}" -v b="$(field "$(cat "$W/pl")" logins)" 'BEGIN { print a + b }')
	RES[$kind,paired_sum_pg]=$(awk -v a="${RES[$kind,paired_sum_pg]:-0}" -v b="$(field "$(cat "$W/pp")" logins)" 'BEGIN { print a + b }')
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 }
	END { if (NR == 0) print "n/a"; else if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2];
	    else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
target() { awk -v r="$1" -v m="$2" 'BEGIN { print (r + 0 >= m + 0) ? "met" : "NOT met" }'; }

# raw: the Argon2id verify rate and CPU of this machine now
# (tests/bench/argon_rate, as many threads as hash workers): the CPU a hash
# takes grows with what else runs (memory bandwidth, caches).
raw() {
	local line
	line=$(timeout 60 "$ARGON_RATE" -c "$COST" -t "$WORKERS" -d 2 -w 0.5 \
	    -l raw 2>/dev/null) || { echo "n/a"; return; }
	echo "$(field "$line" rate)/s, $(field "$line" cpu_us) us CPU each"
}
echo
RAW0=$(raw)
echo "raw Argon2id:   $RAW0 (argon_rate, $WORKERS thread(s), alone, before)"

KINDS=ok
[ "$FAILED" = 0 ] || KINDS="ok failed"
LOADS=
for kind in $KINDS; do
	echo
	case $kind in
	ok) echo "== IMAP logins, right passwords (OK after passdb + userdb + imap process)" ;;
	failed) echo "== IMAP logins, wrong passwords (NO [AUTHENTICATIONFAILED]; an event recorded each)" ;;
	esac
	for ((r = 1; r <= ROUNDS; r++)); do
		alone "$kind" "$r"
		paired "$kind" "$r"
		LOADS="$LOADS $(cut -d' ' -f1 /proc/loadavg)"
	done
done

RAW1=$(raw)
echo
echo "raw Argon2id:   $RAW1 (after)"

# --- results ---
echo
echo "== results (Argon2id t=${COST%%:*} m=${COST#*:} KiB, $WORKERS hash" \
    "worker(s), $CONNS/$FCONNS connections, ${SECS}/${PSECS} s cells, $ROUNDS round(s);" \
    "load average $(loadavg) at end, 1-min samples during:$LOADS)"
for kind in $KINDS; do
	case $kind in
	ok) what="logins/s (right passwords)" ;;
	failed) what="failed logins/s (wrong)" ;;
	esac
	A=${RES[$kind,lmdb]} B=${RES[$kind,pg]}
	R=$(ratio "$B" "$A" %.3f)
	RA=$(median <<<"${RES[$kind,alone]}")
	RP=$(median <<<"${RES[$kind,paired]}")
	# pooled: every round's logins added up (the steadier figure)
	PP=$(ratio "${RES[$kind,paired_sum_pg]}" "${RES[$kind,paired_sum_lmdb]}" %.3f)
	PA=$(ratio "${RES[$kind,alone_sum_pg]}" "${RES[$kind,alone_sum_lmdb]}" %.3f)
	printf '  %-28s LMDB %7s  PostgreSQL %7s  (alone, best of %d)\n' \
	    "$what" "$A" "$B" "$ROUNDS"
	printf '  %-28s PG/LMDB paired: %s pooled (%s / %s logins), median %s (rounds: %s)\n' \
	    "" "$PP" "${RES[$kind,paired_sum_pg]}" "${RES[$kind,paired_sum_lmdb]}" \
	    "$RP" "${RES[$kind,paired]# }"
	printf '  %-28s PG/LMDB alone:  %s pooled (%s / %s logins), median %s (rounds: %s), best/best %s\n' \
	    "" "$PA" "${RES[$kind,alone_sum_pg]}" "${RES[$kind,alone_sum_lmdb]}" \
	    "$RA" "${RES[$kind,alone]# }" "$R"
	printf '  %-28s target >= %s: %s (paired, pooled), %s (alone, pooled)\n' "" "$TARGET" \
	    "$(target "$PP" "$TARGET")" "$(target "$PA" "$TARGET")"
	for n in lmdb pg; do
		for x in v d p; do
			RES[$kind,$n,${x}cpu]=$(per_login 0 "${RES[$kind,$n,${x}t]}" "${RES[$kind,$n,cnt]}")
		done
	done
	printf '  %-28s CPU per login (pooled): vmsealed LMDB %s us, PG %s us (+ postgres %s us); dovecot %s / %s us\n' \
	    "" "${RES[$kind,lmdb,vcpu]}" "${RES[$kind,pg,vcpu]}" \
	    "${RES[$kind,pg,pcpu]}" "${RES[$kind,lmdb,dcpu]}" "${RES[$kind,pg,dcpu]}"
	CL=$((RES[$kind,lmdb,vcpu] + RES[$kind,lmdb,dcpu]))
	CP=$((RES[$kind,pg,vcpu] + RES[$kind,pg,dcpu] + RES[$kind,pg,pcpu]))
	RC=$(ratio "$CL" "$CP" %.3f)
	printf '  %-28s all serving CPU per login: LMDB %s us, PG %s us; LMDB/PG %s\n' "" \
	    "$CL" "$CP" "$RC"
	printf '  %-28s (the logins/s ratio a CPU-bound machine allows): target >= %s %s\n' \
	    "" "$TARGET" "$(target "$RC" "$TARGET")"
done
echo "  The paired ratio (both stores measured at the same time) is the one a"
echo "  shared machine disturbs least; the alone figures move with other jobs."
echo "  A cell counts tens of logins: one round's ratio moves by +-10% or more;"
echo "  the pooled ratios (all rounds' logins added up) and the CPU per login"
echo "  are the figures to read."
if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v n="$NCPU" 'BEGIN { exit !(l > n) }'; then
	echo "  NOTE: the machine was busy (load average above $NCPU CPUs): the rates are"
	echo "  this run's share of it, not what the machine can do."
fi
exit 0
echo "  The CPU figures count the warm-up's logins too (all logins served);"
echo "  raw Argon2id: $RAW0 before, $RAW1 after (the hash's own CPU now)."
