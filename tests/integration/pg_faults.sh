#!/bin/bash
# pg_faults.sh - the PostgreSQL backend under the faults issue 15 names,
# on throwaway clusters (t_pg_start:
# initdb into $WORK/pg, Unix socket only; a standby made here by
# pg_basebackup).  Shown:
#   a. pg_dump of a store's database (init, a domain, users with
#      addresses and aliases, failed logins through vmsealed so that
#      events exist) piped through strings holds no login, address,
#      domain, local part (of 4 characters or more) and no piece of a
#      password hash ("$argon2id$", and 12-character pieces of a user's
#      stored hash, read with "vmseal export"); the dump did hold the
#      vmseal_kv table and its rows (so the check can fail);
#   b. the postmaster killed with SIGKILL in the middle of a 100,000-user
#      import (htpasswd, one cheap legacy hash for every line; import is
#      one transaction, DESIGN.md section 12.3): after a restart the
#      import is whole or absent (users counted with "user list"), the
#      import reported a failure, and "vmseal verify" passes; the store
#      then takes a new write, and the same import run again completes
#      whole (100,000 users counted, verify passes);
#   c. a primary and a streaming standby (pg_basebackup -R, its own
#      socket folder and port, hot_standby on); one vmsealed with a
#      multi-host conninfo (target_session_attrs=read-write): a user
#      added before the failover answers (socketmap and auth verify); the
#      primary stopped (pg_ctl -m fast), the standby promoted (pg_ctl
#      promote): during the gap answers are temporary (TEMP / temp, never
#      NOTFOUND / fail), after it the same vmsealed (no restart) answers
#      again, the user added before answers, and a new user added through
#      vmsealed (online) is written on the promoted server;
#   d. a server that does not answer: the cluster (its postmaster, then
#      its children, by pid: other clusters may run as the same user)
#      stopped with SIGSTOP, psql getting nothing; vmsealed answers a
#      known address from its read cache until the cache's listener finds
#      the database silent (its 2-s beat + the 5-s answer deadline), then
#      TEMP (within 12 s, never NOTFOUND); then an unknown address TEMP at
#      once (under 4 s: no wait for the deadline), auth verify temp (two
#      transactions: within two deadlines + 5 s), vmseal status with a
#      store_health that is not ok, the deadline in vmsealed's log;
#      vmseal --offline with VMSEAL_PG_ANSWER_TIMEOUT=2 fails within 5 s,
#      an invalid value is refused naming the variable; after
#      SIGCONT the same vmsealed (no restart) answers OK, NOTFOUND and ok
#      again and status says ok.
# Needs root (vmsealed switches users), Debian's postgresql package and a
# vmseal built with libpq; skipped (n/a) otherwise.  About 3-4 minutes.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}
export LC_ALL=C
NIMPORT=${PG_FAULTS_USERS:-100000}

[ "$(id -u)" -eq 0 ] || skip "needs root (vmsealed switches users)"
WORK=$(mktemp -d /tmp/vmseal-pgflt-XXXXXX)
SVC_PID=
SVCLOG=$WORK/vmsealed.log
IMP_PID=
PG2_STARTED=
STOPPED=
cleanup() {
	# (processes stopped by section d go on first: a stopped cluster
	# could not be stopped)
	if [ -n "$STOPPED" ]; then kill -CONT $STOPPED 2>/dev/null; fi
	if [ -n "$IMP_PID" ]; then stop_pid "$IMP_PID"; wait "$IMP_PID" 2>/dev/null; fi
	if [ -n "$SVC_PID" ]; then stop_pid "$SVC_PID"; wait "$SVC_PID" 2>/dev/null; fi
	if [ -n "$PG2_STARTED" ]; then
		pid=$(head -1 "$WORK/pg2/data/postmaster.pid" 2>/dev/null)
		t_pg_as "$PG_BIN/pg_ctl" -D "$WORK/pg2/data" -m immediate \
		    -w -t 10 stop >/dev/null 2>&1
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	t_pg_stop immediate
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
diagnostics() {
	echo "# --- vmsealed log (tail) ---"
	tail -n 20 "$SVCLOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- PostgreSQL log (tail) ---"
	tail -n 15 "$WORK/pg/log" 2>/dev/null | sed 's/^/#   /'
	[ -f "$WORK/pg2/log" ] && { echo "# --- standby log (tail) ---"
		tail -n 15 "$WORK/pg2/log" | sed 's/^/#   /'; }
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$VMSEAL" --offline --store postgresql:dbname=none user list \
    --passphrase-fd 3 3<<<"$PASS" >"$WORK/nopq" 2>&1
grep -q "built without PostgreSQL support" "$WORK/nopq" &&
    skip "n/a: built without the PostgreSQL backend (no libpq-dev, or --without-postgresql)"
[ -x "$VMSEALED" ] || skip "no vmsealed at $VMSEALED"

t_pg_start
for b in pg_dump pg_basebackup strings; do
	[ -x "$PG_BIN/$b" ] || command -v "$b" >/dev/null 2>&1 ||
	    bail "$b not found"
done
PGDUMP=$PG_BIN/pg_dump
[ -x "$PGDUMP" ] || PGDUMP=$(command -v pg_dump)

# vpl LOC ARGS...: vmseal offline on LOC, passphrase from fd 3.
vpl() {
	local loc=$1; shift
	timeout 300 "$VMSEAL" --offline -s "$WORK/nosock" --store "$loc" \
	    --passphrase-fd 3 "$@" 3<<<"$PASS"
}

# vmsealed's socketmap and auth socket: tests/integration/vsclient.py.
sm() { timeout 40 python3 "$TOP_SRCDIR/tests/integration/vsclient.py" sm "$WORK/run/socketmap" "$1" "$2" 2>&1; }
# verify LOGIN PASSWORD [REMOTE-IP]
verify() { printf '%s\n' "$2" | timeout 40 python3 "$TOP_SRCDIR/tests/integration/vsclient.py" verify "$WORK/run/auth" "$1" ${3:+"$3"} 2>&1; }

# svc_conf LOC: vmsealed's configuration for the store at LOC.
CONF=$WORK/vmseal.conf
svc_conf() {
	cat >"$CONF" <<EOF
store = $1
socket_dir = $WORK/run
user = $PG_USER
group = $(id -gn "$PG_USER")
auth_socket_mode = 0666
socketmap_socket_mode = 0666
EOF
	chmod 0600 "$CONF"
}
vsc() { timeout 60 "$VMSEAL" -c "$CONF" "$@"; }
svc_stop() {
	[ -n "$SVC_PID" ] || return 0
	stop_pid "$SVC_PID"; wait "$SVC_PID" 2>/dev/null; SVC_PID=
}

# ======================================================================
# a. pg_dump shows nothing of the store in the clear
# ======================================================================
psql -q -d postgres -c 'CREATE DATABASE dumpme' >/dev/null 2>&1 ||
    bail "CREATE DATABASE dumpme"
LOCA="postgresql:host=$PGHOST port=$PGPORT user=postgres dbname=dumpme"
DOMS="quillbrook.example harrowgate.example"
USERS="wendolyn marcusfield ottiliana"
PWS="Saffron-Vessel-Quarry-81 Timber-Lagoon-Marble-27 Cobalt-Harvest-Ember-64"
{
	vpl "$LOCA" init --unseal-cost 1:8 --hash-cost 1:8 &&
	for d in $DOMS; do vpl "$LOCA" domain add "$d" || exit 1; done &&
	set -- $PWS &&
	for u in $USERS; do
		vpl "$LOCA" user add --no-policy "$u" \
		    --address "$u@quillbrook.example" --password-fd 4 \
		    4<<<"$1" || exit 1
		shift
	done &&
	vpl "$LOCA" address add ottiliana.second@harrowgate.example ottiliana &&
	vpl "$LOCA" alias add postmasterdesk@quillbrook.example \
	    wendolyn@quillbrook.example,externalfriend@elsewhere.example &&
	vpl "$LOCA" alias add billingteam@harrowgate.example \
	    marcusfield@quillbrook.example
} >"$WORK/a-setup.out" 2>&1 ||
    { sed 's/^/#   /' "$WORK/a-setup.out" | tail -20; bail "a: store with domains, users, addresses and aliases"; }
t_ok "a: store on PostgreSQL: 2 domains, 3 users with addresses, 2 aliases"

# Failed logins through vmsealed, so that the events table has rows.
svc_conf "$LOCA"
t_svc_start "$CONF" "a: vmsealed"
# (each from its own address: the throttle refuses a fourth from one)
bad=
i=10
for u in wendolyn marcusfield nosuchperson; do
	i=$((i + 1))
	bad="$bad $(verify "$u" "Wrong-Guess-Pass-00" "192.0.2.$i")"
done
check "a: 3 failed logins through vmsealed answered fail, fail, nouser:$bad" \
    test "$bad" = " fail fail nouser"
r=$(verify wendolyn "Saffron-Vessel-Quarry-81" 192.0.2.20)
check "a: a good login is ok: $r" test "$r" = ok
# table 5 is the events table (enum kv_table, lib/kv.h); the event
# writer commits once a second: wait for it (up to 15 s), then stop
for _ in $(seq 30); do
	n_ev=$(psql -At -d dumpme -c 'SELECT count(*) FROM vmseal_kv WHERE tbl = 5' 2>&1)
	case $n_ev in ''|*[!0-9]*|0) sleep 0.5;; *) break;; esac
done
svc_stop
check "a: the failed logins left events in the database ($n_ev rows)" \
    test "${n_ev:-0}" -ge 1 2>/dev/null

# Hashes, as the store keeps them (export needs the key: offline).
vpl "$LOCA" export --format htpasswd -o "$WORK/a-export.htpasswd" \
    >"$WORK/a-export.out" 2>&1
check "a: vmseal export of the users' hashes" \
    test "$(grep -c '^[a-z]*:\$argon2id\$' "$WORK/a-export.htpasswd" 2>/dev/null)" -eq 3
# From each hash: the salt and digest parts (base64), and 12-character
# pieces of them at several offsets.
: >"$WORK/a-needles"
for u in $USERS; do
	h=$(sed -n "s/^$u://p" "$WORK/a-export.htpasswd")
	salt=$(printf '%s' "$h" | awk -F'$' '{ print $(NF-1) }')
	dig=$(printf '%s' "$h" | awk -F'$' '{ print $NF }')
	for part in "$salt" "$dig"; do
		len=${#part}
		for off in 0 4 9 $((len / 2)) $((len - 12)); do
			[ "$off" -ge 0 ] && [ $((off + 12)) -le "$len" ] &&
			    printf '%s\n' "${part:$off:12}" >>"$WORK/a-needles"
		done
	done
done
# Names: logins, addresses, domains, local parts (4+ characters), the
# alias destinations, and the hash marker.
{
	for u in $USERS; do echo "$u"; echo "$u@quillbrook.example"; done
	for d in $DOMS elsewhere.example; do echo "$d"; done
	echo quillbrook; echo harrowgate
	echo ottiliana.second@harrowgate.example; echo ottiliana.second
	echo postmasterdesk; echo postmasterdesk@quillbrook.example
	echo billingteam; echo billingteam@harrowgate.example
	echo externalfriend; echo externalfriend@elsewhere.example
	echo nosuchperson
	echo '$argon2id$'; echo 'argon2id'
} >>"$WORK/a-needles"
check "a: $(wc -l <"$WORK/a-needles") strings to look for (at least 30)" \
    test "$(wc -l <"$WORK/a-needles")" -ge 30

"$PGDUMP" -d dumpme >"$WORK/a-dump.sql" 2>"$WORK/a-dump.err"
check "a: pg_dump of the store's database (exit $?)" test -s "$WORK/a-dump.sql"
"$PGDUMP" -Fc -d dumpme >"$WORK/a-dump.custom" 2>>"$WORK/a-dump.err"
strings -n 4 "$WORK/a-dump.sql" "$WORK/a-dump.custom" >"$WORK/a-dump.strings"
expect_in "$WORK/a-dump.sql" "CREATE TABLE public.vmseal_kv" \
    "a: the dump holds the vmseal_kv table"
rows=$(awk '/^COPY public.vmseal_kv/ { on = 1; next } on && /^\\\.$/ { on = 0 }
    on { n++ } END { print n + 0 }' "$WORK/a-dump.sql")
check "a: ... and its $rows rows (events among them: $n_ev)" \
    test "$rows" -ge 20
# Proof that the search finds what is there: the table's name is in the
# strings output, and so is a name planted in a comment of a copy.
{ cat "$WORK/a-dump.sql"; echo "-- wendolyn@quillbrook.example"; } |
    strings -n 4 | grep -qF "wendolyn@quillbrook.example"
check "a: the search finds a name when one is there (planted copy)" test $? -eq 0
found=
while IFS= read -r needle; do
	[ -n "$needle" ] || continue
	if grep -qiF -- "$needle" "$WORK/a-dump.strings"; then
		found="$found '$needle'"
	fi
done <"$WORK/a-needles"
check "a: strings of the dumps (plain and custom format) hold none of the $(wc -l <"$WORK/a-needles") strings${found:+: found$found}" \
    test -z "$found"
# The hash pieces alone, as their own check, to say so.
hp=0
for u in $USERS; do
	h=$(sed -n "s/^$u://p" "$WORK/a-export.htpasswd")
	grep -qF -- "${h##*\$}" "$WORK/a-dump.strings" && hp=$((hp + 1))
done
check "a: no user's whole hash digest is in the dump ($hp found)" test "$hp" -eq 0
psql -q -d postgres -c 'DROP DATABASE dumpme' >/dev/null 2>&1

# ======================================================================
# b. SIGKILL of the postmaster in the middle of a 100,000-user import
# ======================================================================
psql -q -d postgres -c 'CREATE DATABASE imp' >/dev/null 2>&1 ||
    bail "CREATE DATABASE imp"
LOCB="postgresql:host=$PGHOST port=$PGPORT user=postgres dbname=imp"
vpl "$LOCB" init --unseal-cost 1:8 --hash-cost 1:8 >"$WORK/b-init.out" 2>&1 &&
    vpl "$LOCB" user add --no-policy keeper --no-password >>"$WORK/b-init.out" 2>&1 ||
    { sed 's/^/#   /' "$WORK/b-init.out"; bail "b: store for the import"; }
# One cheap legacy hash (SHA-512-crypt, kept as it is by import) for
# every line: the file is written in a second.
H=$(openssl passwd -6 -salt importsalt01 'Import-Pass-42' 2>/dev/null)
case $H in '$6$'*) ;; *) H='{SHA}'$(printf 'Import-Pass-42' | openssl dgst -sha1 -binary | openssl base64 -A);; esac
awk -v n="$NIMPORT" -v h="$H" 'BEGIN {
	for (i = 1; i <= n; i++) printf "imp%07d:%s\n", i, h }' \
    >"$WORK/b-users.htpasswd"
check "b: $NIMPORT htpasswd lines generated" \
    test "$(wc -l <"$WORK/b-users.htpasswd")" -eq "$NIMPORT"
size0=$(psql -At -d imp -c "SELECT pg_relation_size('vmseal_kv')" 2>/dev/null)
PM_PID=$(head -1 "$PG_DIR/data/postmaster.pid")
t0=$EPOCHREALTIME
timeout 600 "$VMSEAL" --offline -s "$WORK/nosock" --store "$LOCB" \
    --passphrase-fd 3 import htpasswd "$WORK/b-users.htpasswd" \
    --uid 5000 --gid 5000 --home '/var/vmail/%n' 3<<<"$PASS" \
    >"$WORK/b-import.out" 2>&1 &
IMP_PID=$!
# In the middle: the table's file has grown by half of what the whole
# import writes (a user is about 330 bytes of table: 100,000 users made
# 32.8 MB here) with the import's uncommitted rows, while it still runs.
half=$((NIMPORT * 165))
mid=
for _ in $(seq 1200); do
	kill -0 "$IMP_PID" 2>/dev/null || break
	s=$(psql -At -d imp -c "SELECT pg_relation_size('vmseal_kv')" 2>/dev/null)
	if [ -n "$s" ] && [ "$s" -gt $((size0 + half)) ]; then mid=$s; break; fi
	sleep 0.1
done
t_kill=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
KIDS=$(pgrep -P "$PM_PID" | tr '\n' ' ')
if [ -n "$mid" ] && kill -0 "$IMP_PID" 2>/dev/null; then
	kill -9 "$PM_PID"
	t_ok "b: postmaster $PM_PID killed (SIGKILL) ${t_kill} s into the import, table at $mid bytes (from $size0), import still running"
else
	t_fail "b: the import did not reach the middle while running (table ${s:-?} bytes after ${t_kill} s; import running: $(kill -0 "$IMP_PID" 2>/dev/null && echo yes || echo no))"
	sed 's/^/#   /' "$WORK/b-import.out" | tail -5
	kill -9 "$PM_PID" 2>/dev/null
fi
wait "$IMP_PID"; imp_st=$?; IMP_PID=
check "b: the import failed (exit $imp_st: $(tail -1 "$WORK/b-import.out" | head -c 120))" \
    test "$imp_st" -ne 0
expect_in "$WORK/b-import.out" "nothing imported" "b: ... and says nothing was imported"
# The backends notice their postmaster's death and leave; the shared
# memory must be free before a restart.  (Its children were listed
# before the kill: other clusters may run as the same user.)
left=
for _ in $(seq 100); do
	left=
	for k in $KIDS; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
	[ -z "$left" ] && break
	sleep 0.1
done
check "b: every child of the killed postmaster left within 10 s (left:${left:- none})" \
    test -z "$left"
for k in $left; do kill -9 "$k" 2>/dev/null; done
PG_STARTED=
t_pg_restart || { sed 's/^/#   /' "$WORK/pgctl.out"; bail "b: PostgreSQL restart (crash recovery)"; }
t_ok "b: PostgreSQL started again (crash recovery)"
grep -q "database system was interrupted\|not properly shut down" "$PG_DIR/log" &&
    t_ok "b: its log shows the crash recovery" ||
    t_fail "b: its log shows no crash recovery"
vpl "$LOCB" user list >"$WORK/b-list.out" 2>"$WORK/b-list.err"
check "b: user list after the restart (exit $?)" test -s "$WORK/b-list.out"
n_imp=$(grep -c '^imp[0-9]\{7\}' "$WORK/b-list.out")
n_keep=$(grep -c '^keeper' "$WORK/b-list.out")
if [ "$n_imp" -eq 0 ] || [ "$n_imp" -eq "$NIMPORT" ]; then
	t_ok "b: the import is whole or absent: $n_imp of $NIMPORT users"
else
	t_fail "b: the import is neither whole nor absent: $n_imp of $NIMPORT users"
fi
check "b: the user from before the import is there ($n_keep)" test "$n_keep" -eq 1
vpl "$LOCB" verify >"$WORK/b-verify.out" 2>&1
st=$?
check "b: vmseal verify passes after the crash (exit $st: $(tail -1 "$WORK/b-verify.out" | head -c 100))" \
    test "$st" -eq 0
vpl "$LOCB" audit --verify >"$WORK/b-audit.out" 2>&1
st=$?
check "b: audit --verify passes (exit $st)" test "$st" -eq 0
vpl "$LOCB" user add --no-policy after-crash --no-password >"$WORK/b-add.out" 2>&1
st=$?
check "b: the store takes a new write after the crash (exit $st)" test "$st" -eq 0
vpl "$LOCB" user show after-crash >/dev/null 2>&1
check "b: ... and it is there" test $? -eq 0
# The same import, not interrupted: whole (so the count above can tell
# whole from absent from partial).
if [ "$n_imp" -eq 0 ]; then
	vpl "$LOCB" import htpasswd "$WORK/b-users.htpasswd" --uid 5000 \
	    --gid 5000 --home '/var/vmail/%n' >"$WORK/b-import2.out" 2>&1
	st=$?
	check "b: the import run again completes (exit $st: $(tail -1 "$WORK/b-import2.out" | head -c 100))" \
	    test "$st" -eq 0
	n2=$(vpl "$LOCB" user list 2>/dev/null | grep -c '^imp[0-9]\{7\}')
	check "b: ... and is whole: $n2 of $NIMPORT users" test "$n2" -eq "$NIMPORT"
	vpl "$LOCB" verify >"$WORK/b-verify2.out" 2>&1
	st=$?
	check "b: vmseal verify passes with the whole import (exit $st)" test "$st" -eq 0
fi
psql -q -d postgres -c 'DROP DATABASE imp' >/dev/null 2>&1
rm -f "$WORK/b-users.htpasswd"

# ======================================================================
# d. a server that does not answer (the cluster stopped with SIGSTOP)
# ======================================================================
# The answer deadline of kv_pg (5 s by default; VMSEAL_PG_ANSWER_TIMEOUT
# unset here) bounds every wait for an answer, and the default
# connect_timeout (the deadline when shorter than 10 s) every wait for a
# new connection: a socketmap lookup (one read transaction, in the main
# thread) answers TEMP within the deadline, an auth verify (two: the
# throttle key in the main thread, the user in a hash worker) within two.
unset VMSEAL_PG_ANSWER_TIMEOUT
DEADLINE=5
psql -q -d postgres -c 'CREATE DATABASE hang' >/dev/null 2>&1 ||
    bail "CREATE DATABASE hang"
LOCD="postgresql:host=$PGHOST port=$PGPORT user=postgres dbname=hang"
DANA_PW='Meadow-Falcon-Copper-37'
{
	vpl "$LOCD" init --unseal-cost 1:8 --hash-cost 1:8 &&
	vpl "$LOCD" domain add hang.example &&
	vpl "$LOCD" user add --no-policy dana --address dana@hang.example \
	    --password-fd 4 4<<<"$DANA_PW"
} >"$WORK/d-setup.out" 2>&1 ||
    { sed 's/^/#   /' "$WORK/d-setup.out" | tail; bail "d: store for the hang"; }
svc_conf "$LOCD"
t_svc_start "$CONF" "d: vmsealed"
r=$(sm mailboxes dana@hang.example)
check "d: before the hang: socketmap finds dana@hang.example: $r" test "$r" = OK
r=$(verify dana "$DANA_PW" 192.0.2.40)
check "d: before the hang: auth verify of dana ok: $r" test "$r" = ok

# secs T0: seconds since T0 ($EPOCHREALTIME), one decimal.
secs() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
# answered WANT GOT SECONDS MAX: GOT is WANT, within MAX seconds.
answered() {
	[ "$2" = "$1" ] && awk -v d="$3" -v m="$4" 'BEGIN { exit !(d <= m) }'
}
# The whole cluster, and only it: the postmaster of this data folder
# first (it forks no child while stopped), then its children.
PM_PID=$(head -1 "$PG_DIR/data/postmaster.pid")
kill -STOP "$PM_PID" && STOPPED=$PM_PID
KIDS=$(pgrep -P "$PM_PID" | tr '\n' ' ')
for k in $KIDS; do kill -STOP "$k" && STOPPED="$STOPPED $k"; done
nst=0
for p in $STOPPED; do
	case $(ps -o stat= -p "$p" 2>/dev/null) in T*) nst=$((nst + 1));; esac
done
check "d: postmaster $PM_PID and its $(echo $KIDS | wc -w) children stopped (SIGSTOP; $nst processes in state T)" \
    test "$nst" -ge 2 -a "$nst" -eq "$(echo $STOPPED | wc -w)"
t0=$EPOCHREALTIME
timeout 3 psql -At -d hang -c 'SELECT 1' >/dev/null 2>&1
st=$?
check "d: the server does not answer: psql gets nothing within 3 s (exit $st, 124: timed out)" \
    test "$st" -eq 124

# dana is in vmsealed's read cache: answered from it until the cache's
# listener finds the database not answering (its beat every 2 s, within
# the deadline), then TEMP; after that a question the cache cannot
# answer is TEMP at once (no wait for the deadline).
t0=$EPOCHREALTIME; r=; before=
for _ in $(seq 60); do
	r=$(sm mailboxes dana@hang.example)
	[ "$r" = TEMP ] && break
	before="$before $r"
	awk -v d="$(secs "$t0")" 'BEGIN { exit !(d > 15) }' && break
	sleep 0.3
done
dt=$(secs "$t0")
check "d: hung: socketmap answers TEMP for dana within $((DEADLINE + 2 + 5)) s (beat 2 s + deadline $DEADLINE s + 5; from the cache before:${before:- nothing}): $r after $dt s" \
    answered TEMP "$r" "$dt" $((DEADLINE + 2 + 5))
check "d: hung: ... never NOTFOUND or PERM before it" \
    sh -c "! echo '$before' | grep -q 'NOTFOUND\|PERM'"
t0=$EPOCHREALTIME
r=$(sm mailboxes nobody@hang.example)
dt=$(secs "$t0")
check "d: hung: an unknown address is TEMP too, not NOTFOUND, at once (listener knows: under $((DEADLINE - 1)) s): $r after $dt s" \
    answered TEMP "$r" "$dt" $((DEADLINE - 1))
t0=$EPOCHREALTIME
r=$(verify dana "$DANA_PW" 192.0.2.41)
dt=$(secs "$t0")
check "d: hung: auth verify answers temp, not fail, within $((2 * DEADLINE + 5)) s: $r after $dt s" \
    answered temp "$r" "$dt" $((2 * DEADLINE + 5))
t0=$EPOCHREALTIME
vsc status --json >"$WORK/d-status.json" 2>&1
st=$?
dt=$(secs "$t0")
check "d: hung: vmseal status answers within $((DEADLINE + 5)) s (exit $st after $dt s)" \
    answered 0 "$st" "$dt" $((DEADLINE + 5))
expect_in "$WORK/d-status.json" '"store_health":"' \
    "d: hung: status reports the store's health"
expect_not_in "$WORK/d-status.json" '"store_health":"ok"' \
    "d: hung: ... and it is not ok"
check "d: hung: vmsealed logs the deadline (\"did not answer within $DEADLINE s\")" \
    grep -q "did not answer within $DEADLINE s" "$SVCLOG"
r=$(sm mailboxes dana@hang.example)
check "d: hung: socketmap still answers (TEMP): $r" test "$r" = TEMP
# The deadline from the environment (whole seconds), read at open; it
# also bounds the making of a connection (connect_timeout's default).
t0=$EPOCHREALTIME
VMSEAL_PG_ANSWER_TIMEOUT=2 vpl "$LOCD" user list >"$WORK/d-cli.out" 2>&1
st=$?
dt=$(secs "$t0")
check "d: hung: vmseal --offline with VMSEAL_PG_ANSWER_TIMEOUT=2 fails within 2 + 3 s (exit $st after $dt s: $(head -c 140 "$WORK/d-cli.out" | tr '\n' ' '))" \
    sh -c "[ $st -ne 0 ] && awk -v d=$dt 'BEGIN { exit !(d <= 5) }'"
VMSEAL_PG_ANSWER_TIMEOUT=2x vpl "$LOCD" user list >"$WORK/d-cli2.out" 2>&1
st=$?
check "d: VMSEAL_PG_ANSWER_TIMEOUT=2x is refused, naming the variable (exit $st)" \
    sh -c "[ $st -ne 0 ] && grep -q 'VMSEAL_PG_ANSWER_TIMEOUT must be' '$WORK/d-cli2.out'"

# --- SIGCONT: the same vmsealed answers again ---
kill -CONT $STOPPED
STOPPED=
t0=$EPOCHREALTIME; ok=; last=
for _ in $(seq 60); do
	last=$(sm mailboxes dana@hang.example)
	[ "$last" = OK ] && { ok=1; break; }
	[ "$last" = TEMP ] || break
	sleep 0.5
done
dt=$(secs "$t0")
check "d: after SIGCONT the same vmsealed finds dana again (${dt} s; last answer $last)" \
    test -n "$ok"
check "d: ... vmsealed was not restarted" kill -0 "$SVC_PID"
r=$(sm mailboxes nobody@hang.example)
check "d: an unknown address is NOTFOUND again: $r" test "$r" = NOTFOUND
r=$(verify dana "$DANA_PW" 192.0.2.42)
check "d: dana's password verifies again: $r" test "$r" = ok
vsc status --json >"$WORK/d-status2.json" 2>&1
check "d: status: store_health ok again" \
    grep -q '"store_health":"ok"' "$WORK/d-status2.json"
svc_stop
psql -q -d postgres -c 'DROP DATABASE hang' >/dev/null 2>&1

# ======================================================================
# c. failover to a promoted streaming standby
# ======================================================================
psql -q -d postgres -c 'CREATE DATABASE fo' >/dev/null 2>&1 ||
    bail "CREATE DATABASE fo"
PG2=$WORK/pg2
mkdir -p "$PG2" && chown "$PG_USER" "$PG2" && chmod 0700 "$PG2" ||
    bail "mkdir $PG2"
t_pg_as "$PG_BIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres \
    -D "$PG2/data" -R -X stream -c fast >"$WORK/c-basebackup.out" 2>&1 ||
    { sed 's/^/#   /' "$WORK/c-basebackup.out"; bail "c: pg_basebackup -R"; }
PORT2=5433
cat >>"$PG2/data/postgresql.conf" <<EOF
unix_socket_directories = '$PG2'
port = $PORT2
hot_standby = on
EOF
t_pg_as "$PG_BIN/pg_ctl" -D "$PG2/data" -l "$PG2/log" -w -t 60 start \
    >"$WORK/c-pgctl2.out" 2>&1 ||
    { sed 's/^/#   /' "$WORK/c-pgctl2.out"; tail -10 "$PG2/log" | sed 's/^/#   /'; bail "c: start the standby"; }
PG2_STARTED=1
r=$(psql -At -h "$PG2" -p "$PORT2" -d postgres -c 'SELECT pg_is_in_recovery()' 2>&1)
check "c: the standby runs in recovery: $r" test "$r" = t
r=$(psql -At -d postgres -c "SELECT state FROM pg_stat_replication" 2>&1)
check "c: the primary streams to it: $r" test "$r" = streaming

LOC1="postgresql:host=$PGHOST port=$PGPORT user=postgres dbname=fo"
LOCC="postgresql:host=$PGHOST,$PG2 port=$PGPORT,$PORT2 user=postgres dbname=fo target_session_attrs=read-write connect_timeout=3"
ALICE_PW='Lantern-Orchard-Copper-5'
{
	vpl "$LOCC" init --unseal-cost 1:8 --hash-cost 1:8 &&
	vpl "$LOCC" domain add failover.example &&
	vpl "$LOCC" user add --no-policy alice --address alice@failover.example \
	    --password-fd 4 4<<<"$ALICE_PW"
} >"$WORK/c-setup.out" 2>&1 ||
    { sed 's/^/#   /' "$WORK/c-setup.out" | tail; bail "c: store on the primary through the multi-host conninfo"; }
t_ok "c: store made through the multi-host conninfo (primary first)"
svc_conf "$LOCC"
t_svc_start "$CONF" "c: vmsealed on the multi-host conninfo"
t_ok "c: vmsealed unsealed on the multi-host conninfo"
check "c: online: user bob added before the failover" \
    vsc user add --no-policy bob --address bob@failover.example --no-password
r=$(sm mailboxes bob@failover.example)
check "c: socketmap: bob@failover.example found before the failover: $r" test "$r" = OK
r=$(verify alice "$ALICE_PW")
check "c: auth verify of alice ok before the failover: $r" test "$r" = ok
# The standby has replayed everything the primary wrote.
lsn=$(psql -At -d postgres -c 'SELECT pg_current_wal_lsn()')
ok=
for _ in $(seq 100); do
	r=$(psql -At -h "$PG2" -p "$PORT2" -d postgres -c \
	    "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn" 2>/dev/null)
	[ "$r" = t ] && { ok=1; break; }
	sleep 0.1
done
check "c: the standby has replayed the primary's WAL up to $lsn" test -n "$ok"
n2=$(psql -At -h "$PG2" -p "$PORT2" -d fo -c 'SELECT count(*) FROM vmseal_kv' 2>&1)
n1=$(psql -At -d fo -c 'SELECT count(*) FROM vmseal_kv' 2>&1)
check "c: the standby holds the same $n1 entries ($n2)" test "$n1" = "$n2"

# --- the gap: primary stopped, standby not yet promoted ---
t_pg_stop fast
r=$(sm mailboxes bob@failover.example)
check "c: gap (primary down, standby read-only): socketmap answers TEMP, not NOTFOUND: $r" test "$r" = TEMP
r=$(sm mailboxes nobody@failover.example)
check "c: gap: an unknown address is TEMP too: $r" test "$r" = TEMP
r=$(verify alice "$ALICE_PW")
check "c: gap: auth verify answers temp, not fail: $r" test "$r" = temp

# --- promotion ---
t_pg_as "$PG_BIN/pg_ctl" -D "$PG2/data" -w -t 60 promote >"$WORK/c-promote.out" 2>&1
check "c: pg_ctl promote of the standby (exit $?)" grep -q "promoted" "$WORK/c-promote.out"
r=$(psql -At -h "$PG2" -p "$PORT2" -d postgres -c 'SELECT pg_is_in_recovery()' 2>&1)
check "c: the promoted server is out of recovery: $r" test "$r" = f
ok=; t0=$EPOCHREALTIME; last=
for _ in $(seq 150); do
	last=$(sm mailboxes bob@failover.example)
	[ "$last" = OK ] && { ok=1; break; }
	case $last in TEMP) ;; *) break;; esac
	sleep 0.1
done
dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
check "c: after the promotion the same vmsealed finds bob again (${dt} s; until then only TEMP; last answer $last)" \
    test -n "$ok"
check "c: ... vmsealed was not restarted" kill -0 "$SVC_PID"
r=$(sm mailboxes alice@failover.example)
check "c: alice@failover.example (added before the failover) found: $r" test "$r" = OK
r=$(sm mailboxes nobody@failover.example)
check "c: an unknown address is NOTFOUND again: $r" test "$r" = NOTFOUND
r=$(verify alice "$ALICE_PW")
check "c: alice's password verifies after the failover: $r" test "$r" = ok
r=$(verify alice "Wrong-Guess-Pass-00")
check "c: a wrong password fails (not temp): $r" test "$r" = fail
vsc user add --no-policy carol --address carol@failover.example \
    --no-password >"$WORK/c-carol.out" 2>&1
st=$?
check "c: online write on the promoted server: user add carol (exit $st: $(head -c 160 "$WORK/c-carol.out" | tr '\n' ' '))" \
    test "$st" -eq 0
r=$(sm mailboxes carol@failover.example)
check "c: carol@failover.example found through the socketmap: $r" test "$r" = OK
vsc status --json >"$WORK/c-status.json" 2>&1
check "c: status: store_health ok after the failover" \
    grep -q '"store_health":"ok"' "$WORK/c-status.json"
svc_stop
vpl "postgresql:host=$PG2 port=$PORT2 user=postgres dbname=fo" verify \
    >"$WORK/c-verify.out" 2>&1
st=$?
check "c: vmseal verify of the promoted server's store (exit $st)" test "$st" -eq 0
vpl "postgresql:host=$PG2 port=$PORT2 user=postgres dbname=fo" user list \
    >"$WORK/c-list.out" 2>&1
check "c: its users: alice, bob, carol" \
    test "$(cut -f1 "$WORK/c-list.out" | grep -cxE 'alice|bob|carol')" -eq 3
t_done
