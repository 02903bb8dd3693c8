#!/usr/bin/env bash
# tests/bench/pg_e2e.sh - benchmark (issue 15): mail through a real Postfix
# whose maps are vmseal's, with the store on LMDB and on PostgreSQL, against
# PostfixAdmin-style proxy:pgsql: maps over plain tables holding the same
# users, all in the same run on the same machine; then the propagation
# delay between two vmsealed on one PostgreSQL store.
#
# What is measured:
#   recipients/s  smtp-source (Postfix's own load generator) sends
#                 BENCH_RCPTS recipients over loopback to one throwaway
#                 Postfix (its own configuration folder and queue; smtpd,
#                 cleanup, qmgr, trivial-rewrite, proxymap; delivery to
#                 discard:, so the figure is the MTA plus its lookups):
#                 from the first connection until the queue is empty again
#                 and every recipient is logged "status=sent" by discard.
#                 Every recipient is a hosted address (80% mailboxes, 20%
#                 aliases to a mailbox), the sender an outside address, so
#                 each message asks the four maps:
#                   virtual_mailbox_domains, virtual_mailbox_maps,
#                   virtual_alias_maps, smtpd_sender_login_maps
#                 (sender checked by reject_unauthenticated_sender_login_
#                 mismatch; smtpd's reject_unlisted_recipient, cleanup's
#                 alias expansion and trivial-rewrite's resolve ask the
#                 others), for three map sources:
#       lmdb       proxy:socketmap:unix:.../socketmap:NAME of a vmsealed on
#                  an LMDB store (doc/postfix.md's main.cf)
#       pg         the same, vmsealed on the same store moved to PostgreSQL
#                  (vmseal migrate) in a throwaway cluster (initdb, Unix
#                  socket; fsync off as in the integration tests)
#       pgsql-maps proxy:pgsql: maps with PostfixAdmin's queries on its
#                  tables domain, mailbox, alias (with its self-alias per
#                  mailbox) in the same cluster: the familiar set-up
#                  (needs Debian's postfix-pgsql; without it that row is
#                  skipped and said so)
#       lmdb-direct, pg-direct
#                  the same two vmsealed asked without proxymap:
#                  socketmap:unix:.../socketmap:NAME, each Postfix process
#                  (smtpd, cleanup, trivial-rewrite) on its own connection
#                  to vmsealed (doc/postfix.md: with a chrooted smtpd this
#                  needs the socket folder bind-mounted into the chroot,
#                  as the policy service does)
#       pgsql-direct the PostfixAdmin maps without proxymap (pgsql:): a
#                  PostgreSQL connection per Postfix process
#       native     Postfix's own hash: tables of the same users, read in
#                  each Postfix process (no proxymap, no daemon, no
#                  database): not a way to run vmseal, but the ceiling of
#                  this Postfix set-up - no map source can be faster, so
#                  native/pgsql-maps bounds what PG/pgsql-maps can reach
#                 Each source is measured BENCH_ROUNDS times, the order
#                 rotating between rounds; the best round is reported, and
#                 the median of each round's ratio.  Printed: PG/LMDB
#                 (target >= 0.9) and PG/pgsql-maps (target >= 1.5) for
#                 vmseal with and without proxymap (the baseline is
#                 always proxy:pgsql:, as the issue and PostfixAdmin have
#                 it), pg-direct/pgsql-direct, and that ceiling.
#   propagation   two vmsealed on the one PostgreSQL store: A takes writes
#                 on its admin socket only, B answers socketmap lookups
#                 only; for BENCH_PROP_TRIALS trials, "vmseal address add"
#                 through A, and B asked in a tight loop (about 1 ms apart):
#                 the time from the command's return (committed) until B
#                 answers OK, p50/p99/max (0 when B answered at its first
#                 question), and from the command's start.
#
# This is a benchmark, not a test: it prints figures and ratios against
# the baselines measured in the same run, and fails only when a step fails
# (a server that does not start, a recipient not delivered, a lookup
# answered wrong).  Without root, Postfix, smtp-source, PostgreSQL's server
# or a vmseal built with libpq it says "skipped" and exits 0.  Everything
# is throwaway, loopback only, in its own folder: it never reads or
# writes /etc/postfix's configuration or a system database.  The clusters'
# socket folder is made 0711 so that Postfix's proxymap (user postfix) can
# reach it: trust authentication, for a throwaway cluster only.
#
# usage: tests/bench/pg_e2e.sh
#   VMSEAL, VMSEALED  the programs (default helper/vmseal, service/vmsealed
#                 under ../.. from this script, else under .)
#   BENCH_USERS   users (default 10000), spread over domains of at most
#                 1000 addresses (smtpd_recipient_limit)
#   BENCH_RCPTS   recipients per measurement (default 8000)
#   BENCH_ROUNDS  measurements of each source (default 2)
#   BENCH_PROP_TRIALS  propagation trials (default 50; 0 skips)
#   BENCH_KEEP=1  keep the work folder (its path is printed)
# The default run takes about 5-6 minutes on 2 CPUs.
set -eu
set -o pipefail

. "$(dirname "$0")/lib.sh"
BENCH_TOP=$(cd "$(dirname "$0")/../.." && pwd)

N=${BENCH_USERS:-10000}
RCPTS=${BENCH_RCPTS:-8000}
ROUNDS=${BENCH_ROUNDS:-2}
TRIALS=${BENCH_PROP_TRIALS:-50}
isnum "$N" && [ "$N" -ge 10 ] || die "BENCH_USERS must be at least 10"
isnum "$RCPTS" && [ "$RCPTS" -ge 1000 ] || die "BENCH_RCPTS must be >= 1000"
isnum "$ROUNDS" && [ "$ROUNDS" -ge 1 ] || die "BENCH_ROUNDS must be >= 1"
isnum "$TRIALS" || die "BENCH_PROP_TRIALS must be a number"

skip() { echo "pg_e2e.sh: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root (Postfix and vmsealed switch users)"
PATH=$PATH:/usr/sbin:/sbin
for t in postfix postconf smtp-source python3 awk openssl; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done
getent passwd postfix >/dev/null || skip "no postfix user"

bench_vmseal
bench_prog VMSEALED service/vmsealed || die "no vmsealed (set \$VMSEALED)"

# The throwaway cluster, Postfix and vmsealed of the integration tests
# (tests/integration/lib.sh: t_pg_start, t_postfix_start, t_svc_start):
# sourced for those helpers only; its TAP counters are removed at exit.
. "$BENCH_TOP/tests/integration/lib.sh"
exec 8>/dev/null
bail() { die "$*"; }
skip() { echo "pg_e2e.sh: skipped: $*"; exit 0; }
TAPFILES="$T_COUNT $T_FCOUNT"

bench_workdir vmseal-pge2e
WORK=$W
"$VMSEAL" --offline --store postgresql:dbname=none user list \
    --passphrase-fd 3 3<<<"$PASS" >"$W/nopq" 2>&1 || true
grep -q "built without PostgreSQL support" "$W/nopq" &&
    skip "vmseal was built without the PostgreSQL backend"
HAVE_PGSQL_MAP=
d=$(mktemp -d "$W/pfc.XXXXXX")
t_postfix_conf "$d"
postconf -c "$d" -m 2>/dev/null | grep -qx pgsql && HAVE_PGSQL_MAP=1
postconf -c "$d" -m 2>/dev/null | grep -qx socketmap ||
    skip "this Postfix has no socketmap map type"
PF_VERSION=$(postconf -c "$d" -h mail_version 2>/dev/null || echo '?')

SVC_PIDS=
PF_STARTED=
bench_cleanup_hook() {
	local p
	[ -z "${PFDIR:-}" ] || t_postfix_stop || true
	for p in $SVC_PIDS; do stop_pid "$p" || true; wait "$p" 2>/dev/null || true; done
	t_pg_stop immediate || true
	rm -f $TAPFILES
}

read -r SMTP_PORT < <(t_free_ports 1)
[ -n "$SMTP_PORT" ] || die "no free port"
PFDIR=$W/pf
SPOOL=$W/spool
MAILLOG=$W/log/maillog

PER=1000
[ "$N" -lt "$PER" ] && PER=$N
NDOM=$(((N + PER - 1) / PER))
N=$((NDOM * PER))

echo "== vmseal end-to-end benchmark: Postfix + maps on LMDB, PostgreSQL, proxy:pgsql"
echo "users:          $N addresses over $NDOM domains of $PER" \
    "(80% mailboxes, 20% aliases to a mailbox)"
echo "recipients:     $RCPTS per measurement, best of $ROUNDS round(s)"
echo "vmseal:         $VMSEAL ($("$VMSEAL" -V 2>&1 | head -n 1))"
echo "postfix:        $PF_VERSION; pgsql map type:" \
    "$([ -n "$HAVE_PGSQL_MAP" ] && echo yes || echo "no (package postfix-pgsql not installed: that row is skipped)")"
bench_machine
echo "load average:   $(loadavg) (at start)"

# --- the users ---
# Domain d (dNN.example): local parts m, 2m, 3m ... PERm: what
# "smtp-source -r PER -t m@dNN.example" sends to.  Every fifth is an
# alias to the one before it; the others are mailboxes of their own user.
H='{SSHA}'$({ printf 'bench-pw'; printf 's001'; } | openssl dgst -sha1 -binary |
    { cat; printf 's001'; } | openssl base64 -A)
awk -v nd="$NDOM" -v per="$PER" -v h="$H" -v w="$W" 'BEGIN {
	for (d = 0; d < nd; d++) {
		dom = sprintf("d%02d.example", d)
		print dom "\t1" > (w "/pfa-domain.tsv")
		for (i = 1; i <= per; i++) {
			lp = (i == 1) ? "m" : i "m"
			a = lp "@" dom
			if (i % 5 == 0) {
				dest = (i - 1) "m@" dom
				print a " " dest > (w "/aliases.map")
				print a "\t" dest "\t" dom "\t1" > (w "/pfa-alias.tsv")
			} else {
				login = "u" d "n" i
				print login ":" h > (w "/users.htpasswd")
				print a " " login > (w "/mailboxes.map")
				print a "\t" dom "/" lp "/\t" dom "\t1" > (w "/pfa-mailbox.tsv")
				print a "\t" a "\t" dom "\t1" > (w "/pfa-alias.tsv")
			}
		}
	}
}'
NUSERS=$(wc -l <"$W/users.htpasswd")
NALIAS=$(wc -l <"$W/aliases.map")

# --- the stores ---
t_pg_start >/dev/null
chmod 0711 "$PG_DIR"    # proxymap (user postfix) reaches the socket
vsd() { "$VMSEAL" --offline -s "$W/nosock" --passphrase-fd 3 "$@" 3<<<"$PASS"; }
t0=$EPOCHREALTIME
{
	vsd -d "$W/lmdb" init --unseal-cost 1:8 --hash-cost 1:8 &&
	vsd -d "$W/lmdb" import htpasswd "$W/users.htpasswd" --uid 5000 \
	    --gid 5000 --home '/var/vmail/%n' &&
	vsd -d "$W/lmdb" import postfix-map "$W/mailboxes.map" &&
	vsd -d "$W/lmdb" import postfix-map --as aliases "$W/aliases.map"
} >"$W/lmdb-setup.out" 2>&1 || { cat "$W/lmdb-setup.out" >&2; die "LMDB store"; }
LOCPG="postgresql:host=$PG_DIR port=$PGPORT user=postgres dbname=vmseal"
vsd -d "$W/lmdb" migrate --to "$LOCPG" >"$W/migrate.out" 2>&1 ||
    { cat "$W/migrate.out" >&2; die "vmseal migrate to PostgreSQL"; }
chown -R "$PG_USER" "$W/lmdb"
echo "stores:         LMDB ($NUSERS users, $((N - NALIAS)) addresses," \
    "$NALIAS aliases) and its copy on PostgreSQL (vmseal migrate):" \
    "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"

# PostfixAdmin's tables (its column names; keys as its schema has them).
psql -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE pfa' >/dev/null
psql -q -v ON_ERROR_STOP=1 -d pfa >"$W/pfa.out" 2>&1 <<EOF || { cat "$W/pfa.out" >&2; die "PostfixAdmin tables"; }
CREATE ROLE pfa LOGIN;
CREATE TABLE domain (domain varchar(255) PRIMARY KEY, active boolean NOT NULL DEFAULT true);
CREATE TABLE mailbox (username varchar(255) PRIMARY KEY, maildir varchar(255) NOT NULL,
    domain varchar(255) NOT NULL, active boolean NOT NULL DEFAULT true);
CREATE TABLE alias (address varchar(255) PRIMARY KEY, goto text NOT NULL,
    domain varchar(255) NOT NULL, active boolean NOT NULL DEFAULT true);
\copy domain FROM '$W/pfa-domain.tsv'
\copy mailbox FROM '$W/pfa-mailbox.tsv'
\copy alias FROM '$W/pfa-alias.tsv'
GRANT SELECT ON domain, mailbox, alias TO pfa;
ANALYZE;
EOF
mkdir -p "$W/pgsql"
pgmap() {   # pgmap NAME QUERY
	cat >"$W/pgsql/$1.cf" <<EOF
hosts = postgresql://pfa@/pfa?host=$PG_DIR&port=$PGPORT
dbname = pfa
query = $2
EOF
	chmod 0644 "$W/pgsql/$1.cf"
}
pgmap domains "SELECT domain FROM domain WHERE domain = '%s' AND active = '1'"
pgmap mailboxes "SELECT maildir FROM mailbox WHERE username = '%s' AND active = '1'"
pgmap aliases "SELECT goto FROM alias WHERE address = '%s' AND active = '1'"
pgmap senders "SELECT username FROM mailbox WHERE username = '%s' AND active = '1' UNION SELECT goto FROM alias WHERE address = '%s' AND active = '1'"

# Postfix's own tables of the same users (the "native" ceiling).
mkdir -p "$W/native"
awk '{ print $1 "\tOK" }' "$W/pfa-domain.tsv" >"$W/native/domains"
cp "$W/mailboxes.map" "$W/native/mailboxes"
cp "$W/mailboxes.map" "$W/native/senders"
cp "$W/aliases.map" "$W/native/aliases"
for m in domains mailboxes aliases senders; do
	postmap -c "$d" "hash:$W/native/$m" || die "postmap $m"
done
chmod -R a+rX "$W/native"

# --- vmsealed on each store ---
SVCLOG=$W/vmsealed.log
svc() {     # svc NAME LOCATION-LINE: vmsealed NAME, started and unsealed
	mkdir -p "$W/svc-$1"
	cat >"$W/svc-$1/vmseal.conf" <<EOF
$2
socket_dir = $W/svc-$1/run
user = $PG_USER
group = $(id -gn "$PG_USER")
socketmap_socket_mode = 0666
auth_socket_mode = 0666
EOF
	chmod 0600 "$W/svc-$1/vmseal.conf"
	t_svc_start "$W/svc-$1/vmseal.conf" "vmsealed $1"
	SVC_PIDS="$SVC_PIDS $SVC_PID"
}
svc lmdb "store_dir = $W/lmdb"
svc pg "store = $LOCPG"

# --- Postfix ---
mkdir -p "$W/sasl"
cat >"$W/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $W/sasl/sasldb2
mech_list: PLAIN LOGIN
EOF
map_of() {      # map_of SOURCE MAP: the table Postfix asks for MAP
	case $1 in
	pgsql-maps)   echo "proxy:pgsql:$W/pgsql/$2.cf";;
	pgsql-direct) echo "pgsql:$W/pgsql/$2.cf";;
	*-direct)     echo "socketmap:unix:$W/svc-${1%-direct}/run/socketmap:$2";;
	native)       echo "hash:$W/native/$2";;
	*)            echo "proxy:socketmap:unix:$W/svc-$1/run/socketmap:$2";;
	esac
}
maps_for() {    # maps_for SOURCE: the four map parameters
	cat <<EOF
virtual_mailbox_domains = $(map_of "$1" domains)
virtual_mailbox_maps = $(map_of "$1" mailboxes)
virtual_alias_maps = $(map_of "$1" aliases)
smtpd_sender_login_maps = $(map_of "$1" senders)
virtual_transport = discard
smtpd_recipient_limit = $PER
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_sender_restrictions = reject_unauthenticated_sender_login_mismatch
smtpd_recipient_restrictions = reject_unlisted_recipient
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $W/sasl
EOF
}

# queue_files: files in the queue (mail not yet delivered).
queue_files() {
	find "$SPOOL/maildrop" "$SPOOL/incoming" "$SPOOL/active" \
	    "$SPOOL/deferred" "$SPOOL/hold" -type f 2>/dev/null | wc -l
}

# Check the maps answer as Postfix asks them before measuring.
probe() {
	local src=$1 a r
	for a in m@d00.example 2m@d00.example 5m@d00.example; do
		r=$(postmap -c "$PFDIR" -q "$a" \
		    "$(postconf -c "$PFDIR" -h virtual_alias_maps)" 2>&1 || true)
		[ "$a" != 5m@d00.example ] || [ "$r" = 4m@d00.example ] ||
		    die "$src: virtual_alias_maps for $a: '$r'"
	done
	r=$(postmap -c "$PFDIR" -q 2m@d00.example \
	    "$(postconf -c "$PFDIR" -h virtual_mailbox_maps)" 2>&1 || true)
	[ -n "$r" ] || die "$src: virtual_mailbox_maps finds no 2m@d00.example"
	r=$(postmap -c "$PFDIR" -q nobody@d00.example \
	    "$(postconf -c "$PFDIR" -h virtual_mailbox_maps)" 2>&1 || true)
	[ -z "$r" ] || die "$src: virtual_mailbox_maps finds nobody@d00.example: '$r'"
}

# pg_xacts SOURCE: transactions committed and rolled back so far in the
# database SOURCE reads (nothing for lmdb).
pg_xacts() {
	local db
	case $1 in pg|pg-direct) db=vmseal;; pgsql-*) db=pfa;; *) return 0;; esac
	psql -At -d postgres -c "SELECT pg_stat_force_next_flush()" >/dev/null 2>&1 || true
	psql -At -d postgres -c "SELECT xact_commit + xact_rollback FROM
	    pg_stat_database WHERE datname = '$db'" 2>/dev/null || true
}

# measure SOURCE ROUND: one measurement; sets RATE[SOURCE.ROUND].
declare -A RATE SMTPRATE XACTS
MSGS=$(((RCPTS + PER - 1) / PER))
TOTAL=$((MSGS * PER))
measure() {
	local src=$1 k=$1.$2 off t0 t1 t2 d i per_dom pids= sent rej left x0 x1
	off=$(stat -c %s "$MAILLOG" 2>/dev/null || echo 0)
	x0=$(pg_xacts "$src")
	t0=$EPOCHREALTIME
	# One smtp-source per domain (NDOM sessions at once), MSGS messages
	# in all, each of PER recipients.
	i=0
	for ((d = 0; d < NDOM && d < MSGS; d++)); do
		per_dom=$((MSGS / NDOM + (d < MSGS % NDOM ? 1 : 0)))
		[ "$per_dom" -gt 0 ] || continue
		smtp-source -s 1 -m "$per_dom" -r "$PER" \
		    -f "sender@outside.example" \
		    -t "m@$(printf 'd%02d' "$d").example" \
		    "127.0.0.1:$SMTP_PORT" >"$W/ss.$d.out" 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || { cat "$W"/ss.*.out >&2; die "$k: smtp-source failed"; }
	done
	t1=$EPOCHREALTIME
	for ((i = 0; i < 6000; i++)); do
		[ "$(queue_files)" -eq 0 ] && break
		sleep 0.05
	done
	t2=$EPOCHREALTIME
	left=$(queue_files)
	sleep 0.5   # postlogd's last lines, PostgreSQL's statistics
	x1=$(pg_xacts "$src")
	[ -z "$x0" ] || XACTS[$k]=$(awk -v a="$x0" -v b="$x1" -v n="$TOTAL" \
	    'BEGIN { printf "%.1f", (b - a) / n }')
	sent=$(tail -c +"$((off + 1))" "$MAILLOG" | grep -c 'status=sent' || true)
	rej=$(tail -c +"$((off + 1))" "$MAILLOG" |
	    grep -cE 'reject:|status=(deferred|bounced)|warning: .*lookup' || true)
	[ "$left" -eq 0 ] || die "$k: $left queue files left after 300 s"
	[ "$rej" -eq 0 ] || {
		tail -c +"$((off + 1))" "$MAILLOG" | grep -E 'reject:|status=(deferred|bounced)|warning' |
		    head -5 >&2
		die "$k: $rej rejected, deferred or bounced recipients or lookup warnings"
	}
	[ "$sent" -eq "$TOTAL" ] ||
	    die "$k: $sent recipients delivered (discard), $TOTAL sent"
	RATE[$k]=$(awk -v n="$TOTAL" -v a="$t0" -v b="$t2" 'BEGIN { printf "%.0f", n / (b - a) }')
	SMTPRATE[$k]=$(awk -v n="$TOTAL" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
	printf '  %-11s round %d: %6s recipients/s end to end (%6s/s accepted' \
	    "$src" "$2" "${RATE[$k]}" "${SMTPRATE[$k]}"
	printf ' by SMTP), %d delivered, %.1f s%s\n' "$sent" \
	    "$(awk -v a="$t0" -v b="$t2" 'BEGIN { print b - a }')" \
	    "${XACTS[$k]:+, ${XACTS[$k]} PostgreSQL transactions per recipient}"
}

SOURCES="lmdb pg lmdb-direct pg-direct native"
[ -n "$HAVE_PGSQL_MAP" ] && SOURCES="$SOURCES pgsql-maps pgsql-direct"
set -- $SOURCES
NS=$#
echo
echo "== recipients/s ($TOTAL recipients: $MSGS messages of $PER," \
    "$((MSGS < NDOM ? MSGS : NDOM)) smtp-source at once; discard delivery)"
for ((r = 1; r <= ROUNDS; r++)); do
	# rotate the order: round r starts with source r
	order=
	for ((j = 0; j < NS; j++)); do
		idx=$(((r - 1 + j) % NS + 1))
		order="$order ${!idx}"
	done
	for src in $order; do
		t_postfix_start "$(maps_for "$src")"
		probe "$src"
		# warm-up: one message, every process started
		smtp-source -s 1 -m 1 -r 50 -f sender@outside.example \
		    -t m@d00.example "127.0.0.1:$SMTP_PORT" >/dev/null 2>&1 ||
		    die "$src: warm-up message"
		for ((i = 0; i < 200; i++)); do
			[ "$(queue_files)" -eq 0 ] && break; sleep 0.05
		done
		measure "$src" "$r"
		t_postfix_stop
	done
done

best() {    # best SOURCE: the highest rate of its rounds
	local r b=0
	for ((r = 1; r <= ROUNDS; r++)); do
		[ "${RATE[$1.$r]}" -gt "$b" ] && b=${RATE[$1.$r]}
	done
	echo "$b"
}
median_ratio() {    # median_ratio A B: median over rounds of A/B
	local r
	for ((r = 1; r <= ROUNDS; r++)); do
		div "${RATE[$1.$r]}" "${RATE[$2.$r]}" '%.3f'
	done | sort -n | awk '{ v[NR] = $1 } END {
		if (NR % 2) printf "%.2f", v[(NR + 1) / 2]
		else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
target() {  # target RATIO MIN
	awk -v r="$1" -v m="$2" 'BEGIN { print (r + 0 >= m + 0) ? "met" : "NOT met" }'
}

# --- propagation ---
PROP=
if [ "$TRIALS" -gt 0 ]; then
	echo
	echo "== propagation: address added through vmsealed A, seen by vmsealed B" \
	    "($TRIALS trials)"
	# B (the reader) is the "pg" vmsealed started above; A is a second
	# vmsealed on the same store, started after it (A's writes follow
	# B's unseal).
	svc pgA "store = $LOCPG"
	cat >"$W/prop.py" <<'PY'
import socket, subprocess, sys, time

def ns(b):
    return str(len(b)).encode() + b":" + b + b","

def ask(s, key):
    s.sendall(ns(b"mailboxes " + key.encode()))
    buf = b""
    while b":" not in buf:
        c = s.recv(1)
        if not c:
            raise EOFError
        buf += c
    n = int(buf[:-1])
    data = b""
    while len(data) < n + 1:
        data += s.recv(n + 1 - len(data))
    return data[:-1].split(b" ")[0].decode()

vmseal, conf_a, sock_b, trials = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sock_b)
after, whole, firsts = [], [], 0
for i in range(trials):
    addr = "prop%d@d00.example" % i
    if ask(s, addr) != "NOTFOUND":
        sys.exit("B finds %s before it is added" % addr)
    t0 = time.monotonic()
    p = subprocess.run([vmseal, "-c", conf_a, "address", "add", addr, "u0n1"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t1 = time.monotonic()
    if p.returncode != 0:
        sys.exit("address add %s through A: exit %d: %s" %
                 (addr, p.returncode, p.stderr.decode().strip()))
    n = 0
    while True:
        r = ask(s, addr)
        n += 1
        if r == "OK":
            break
        if r != "NOTFOUND":
            sys.exit("B answered %s for %s" % (r, addr))
        if time.monotonic() - t1 > 30:
            sys.exit("B does not find %s within 30 s" % addr)
        time.sleep(0.001)
    t2 = time.monotonic()
    if n == 1:
        firsts += 1
    after.append((t2 - t1) * 1000)
    whole.append((t2 - t0) * 1000)

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]

print("after the add returned (committed): p50 %.2f ms, p99 %.2f ms, max %.2f ms"
      % (pct(after, 50), pct(after, 99), max(after)))
print("from the add's start:               p50 %.2f ms, p99 %.2f ms, max %.2f ms"
      % (pct(whole, 50), pct(whole, 99), max(whole)))
print("B found it at its first question after the return in %d of %d trials"
      % (firsts, trials))
print("P50=%.2f P99=%.2f" % (pct(after, 50), pct(after, 99)))
PY
	timeout 300 python3 "$W/prop.py" "$VMSEAL" "$W/svc-pgA/vmseal.conf" \
	    "$W/svc-pg/run/socketmap" "$TRIALS" >"$W/prop.out" 2>&1 ||
	    { cat "$W/prop.out" >&2; tail -5 "$SVCLOG" >&2; die "propagation trials"; }
	grep -v '^P50=' "$W/prop.out" | sed 's/^/  /'
	PROP=$(sed -n 's/^P50=\(.*\) P99=\(.*\)$/p50 \1 ms, p99 \2 ms/p' "$W/prop.out")
fi

# --- results ---
echo
echo "== results (N=$N users, $TOTAL recipients per measurement, best of" \
    "$ROUNDS; load average $(loadavg) at end)"
printf '  %-44s %12s\n' "map source" "recipients/s"
B_LMDB=$(best lmdb); B_PG=$(best pg)
B_LMDBD=$(best lmdb-direct); B_PGD=$(best pg-direct)
printf '  %-44s %12s\n' "vmseal, LMDB store (proxy:socketmap)" "$B_LMDB" \
    "vmseal, PostgreSQL store (proxy:socketmap)" "$B_PG" \
    "vmseal, LMDB store (socketmap, no proxymap)" "$B_LMDBD" \
    "vmseal, PostgreSQL store (socketmap, no proxy)" "$B_PGD"
if [ -n "$HAVE_PGSQL_MAP" ]; then
	B_PGSQL=$(best pgsql-maps); B_PGSQLD=$(best pgsql-direct)
	printf '  %-44s %12s\n' "PostfixAdmin tables (proxy:pgsql)" "$B_PGSQL" \
	    "PostfixAdmin tables (pgsql, no proxymap)" "$B_PGSQLD"
fi
B_NATIVE=$(best native)
printf '  %-44s %12s\n' "Postfix's own hash: tables (the ceiling)" "$B_NATIVE"
echo
echo "ratios                                         best   median of rounds   target"
R=$(div "$B_PG" "$B_LMDB" '%.2f')
printf '  %-42s %6s %12s %14s\n' "PG / LMDB (proxy:socketmap)" "$R" \
    "$(median_ratio pg lmdb)" ">= 0.9 $(target "$R" 0.9)"
R=$(div "$B_PGD" "$B_LMDBD" '%.2f')
printf '  %-42s %6s %12s %14s\n' "PG / LMDB (socketmap, no proxymap)" "$R" \
    "$(median_ratio pg-direct lmdb-direct)" ">= 0.9 $(target "$R" 0.9)"
if [ -n "$HAVE_PGSQL_MAP" ]; then
	R=$(div "$B_PG" "$B_PGSQL" '%.2f')
	printf '  %-42s %6s %12s %14s\n' "PG (proxy:socketmap) / pgsql-maps" "$R" \
	    "$(median_ratio pg pgsql-maps)" ">= 1.5 $(target "$R" 1.5)"
	R=$(div "$B_PGD" "$B_PGSQL" '%.2f')
	printf '  %-42s %6s %12s %14s\n' "PG (socketmap) / pgsql-maps" "$R" \
	    "$(median_ratio pg-direct pgsql-maps)" ">= 1.5 $(target "$R" 1.5)"
	R=$(div "$B_PGD" "$B_PGSQLD" '%.2f')
	printf '  %-42s %6s %12s\n' "PG (socketmap) / pgsql (both no proxymap)" "$R" \
	    "$(median_ratio pg-direct pgsql-direct)"
	R=$(div "$B_LMDB" "$B_PGSQL" '%.2f')
	printf '  %-42s %6s %12s\n' "LMDB / pgsql-maps" "$R" \
	    "$(median_ratio lmdb pgsql-maps)"
	R=$(div "$B_NATIVE" "$B_PGSQL" '%.2f')
	printf '  %-42s %6s %12s\n' "native / pgsql-maps (no source can beat)" "$R" \
	    "$(median_ratio native pgsql-maps)"
else
	echo "  PG / pgsql-maps: not measured (apt-get install postfix-pgsql)"
fi
[ -z "$PROP" ] || echo "  propagation A -> B (after commit):          $PROP (target: within 1 s)"
