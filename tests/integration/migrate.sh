#!/bin/bash
# migrate.sh - vmseal migrate --to LOCATION (issue 15): a whole store
# copied LMDB -> PostgreSQL -> LMDB in one target transaction each, then
# opened with the same passphrase and verified.  Shown:
#   - a source with domains, users (one with mail keys, one with a
#     password), addresses, aliases (and a catch-all), audit entries and
#     events (failed logins through a throwaway vmsealed) is copied to a
#     throwaway PostgreSQL cluster (t_pg_start) and back to a new folder:
#     "export --format json --with-mail-keys" of the source and of the
#     final copy are identical; "verify" and "audit --verify" pass on
#     both copies; each copy has a store-migrate audit entry naming its
#     source without the conninfo's password; the password appears in no
#     output; the --json summary counts every table of the source;
#   - a login works on the final copy (vmsealed on it, vmseal-checkpassword:
#     the right password accepted, a wrong one refused);
#   - while vmsealed runs on the source, migrate is refused (exit 4, it
#     holds the writer lock) and nothing is written, also without
#     --offline (migrate always runs in the client); --live copies a
#     snapshot that verifies;
#   - PostgreSQL -> PostgreSQL (another database) verifies too;
#   - a target holding a store is refused (exit 5) and left as it was
#     (PostgreSQL: the table's rows, md5 of all of them; LMDB: mdb_dump);
#   - a wrong passphrase writes nothing (no table made in PostgreSQL, no
#     folder made for LMDB), exit 3;
#   - the source is unchanged byte for byte (mdb_dump before and after
#     every migrate);
#   - strings of pg_dump of the PostgreSQL copy show no login, address,
#     domain or hash;
#   - a migrate of a big store (20,000 users from "vmseal import", cheap
#     Argon2) stopped mid-copy (SIGSTOP once rows are going in), the
#     postmaster and its processes killed (SIGKILL), the migrate resumed
#     (it fails: connection lost), PostgreSQL restarted: the target table
#     is empty, and a new migrate succeeds (figures printed);
#   - a migrate to a new LMDB folder stopped while it builds its copy
#     (in DIR/.vmseal-migrate) and killed (SIGKILL): no data.mdb in the
#     folder, "verify" there finds no store (exit 1); a new migrate
#     removes what was left, succeeds and verifies;
#   - usage: --help, a missing --to, the target equal to the source.
# The PostgreSQL checks are counted skips ("n/a: ...") when vmseal was
# built without libpq or the server is not installed; then the chain is
# LMDB -> LMDB, with the same checks of the final copy.  Needs root (the
# throwaway vmsealed drops to nobody).
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
VMSEALED=${VMSEALED:-$(dirname "$VMSEAL")/../service/vmsealed}
VMSEAL_CHECKPASSWORD=${VMSEAL_CHECKPASSWORD:-$(dirname "$VMSEAL")/vmseal-checkpassword}
export LC_ALL=C

[ "$(id -u)" -eq 0 ] || skip "needs root (the test's vmsealed drops to nobody)"
getent passwd nobody >/dev/null || skip "no user nobody"
for p in mdb_dump python3 strings; do
	command -v "$p" >/dev/null 2>&1 || skip "$p not installed"
done
NOGROUP=$(id -gn nobody)
WORK=$(mktemp -d /tmp/vmseal-mig-XXXXXX)
chmod 0755 "$WORK"
SVC_PID=
STOPPED=
cleanup() {
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	[ -n "$SVC_PID" ] && stop_pid "$SVC_PID"
	[ -n "${PG_DIR:-}" ] && t_pg_stop
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Is the PostgreSQL half possible here?  (Decided before the first check:
# t_pg_start's own skip would end the whole test.)
PGWHY=
"$VMSEAL" --offline --store postgresql:dbname=none user list \
    --passphrase-fd 3 3<<<"$PASS" >"$WORK/nopq" 2>&1
grep -q "built without PostgreSQL support" "$WORK/nopq" &&
    PGWHY="n/a: built without the PostgreSQL backend (no libpq)"
if [ -z "$PGWHY" ]; then
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 &&
	    command -v psql >/dev/null 2>&1 && command -v pg_dump >/dev/null ||
	    PGWHY="n/a: PostgreSQL server or client not installed"
fi

N=0
# run ARGS...: vmseal offline with the passphrase on fd 3; output in
# $WORK/o.N and $WORK/e.N, status in $ST.
run() {
	N=$((N + 1))
	"$VMSEAL" --offline -s "$WORK/nosock" --passphrase-fd 3 "$@" \
	    3<<<"${RUNPASS:-$PASS}" >"$WORK/o.$N" 2>"$WORK/e.$N"
	ST=$?
}
O() { echo "$WORK/o.$N"; }
E() { echo "$WORK/e.$N"; }
dump() { mdb_dump -a "$1" 2>&1; }    # every table of an LMDB store
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# --- the source ---
check "a source store (LMDB)" t_new_store
SRC=$STORE
run -d "$SRC" domain add example.org
run -d "$SRC" domain add example.net
printf 'vivid-Lantern-87-quartz-Mosaic\n' >"$WORK/alicepw"
run -d "$SRC" user add alice --address alice@example.org --home /home/alice \
    --uid 600 --gid 600 --password-fd 4 4<"$WORK/alicepw"
check "user alice with a password (exit $ST)" test "$ST" -eq 0
run -d "$SRC" user add bob --address bob@example.net --no-password --mail-keys
check "user bob with mail keys (exit $ST)" test "$ST" -eq 0
run -d "$SRC" address add a.other@example.org alice
run -d "$SRC" alias add postmaster@example.org alice@example.org,bob@example.net
run -d "$SRC" alias add @example.net bob@example.net
check "an address and two aliases (exit $ST)" test "$ST" -eq 0

# Events: failed logins through a vmsealed of our own on the source.
cat >"$WORK/conf" <<X
store_dir = $SRC
socket_dir = $WORK/run
user = nobody
group = $NOGROUP
unseal_keyfile = $WORK/keyfile
X
printf '%s\n' "$PASS" >"$WORK/keyfile"
chmod 600 "$WORK/keyfile"
start_svc() {
	rm -rf "$WORK/run"
	"$VMSEALED" -c "$WORK/conf" -f </dev/null >"$WORK/svc.log" 2>&1 &
	SVC_PID=$!
	for _ in $(seq 100); do
		[ -S "$WORK/run/auth" ] && return 0
		kill -0 "$SVC_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# login USER PASSWORD: vmseal-checkpassword's exit status (0 accepted).
login() {
	"$VMSEAL_CHECKPASSWORD" --socket "$WORK/run/auth" /bin/true \
	    3< <(printf '%s\0%s\0' "$1" "$2") >/dev/null 2>&1
}
check "vmsealed on the source" start_svc
login alice wrong-pw-1
login alice wrong-pw-2
login nosuchuser wrong-pw-3
login alice vivid-Lantern-87-quartz-Mosaic
check "alice logs in on the source" test $? -eq 0
# (vmsealed's event writer commits once a second.)
nevents() { mdb_stat -s events "$1" 2>/dev/null | sed -n 's/^ *Entries: //p'; }
for _ in $(seq 100); do
	[ "$(nevents "$SRC")" = 3 ] && break
	sleep 0.1
done

# --- vmsealed holds the source's writer lock: refused, or --live ---
run -d "$SRC" migrate --to "$WORK/while"
check "migrate while vmsealed runs: refused (exit $ST)" test "$ST" -eq 4
expect_in "$(E)" "in use by another writer" "the refusal says the store is in use"
expect_in "$(E)" "--live" "and names --live"
check "nothing was made for the target" test ! -e "$WORK/while"
N=$((N + 1))
"$VMSEAL" -c "$WORK/conf" --passphrase-fd 3 migrate --to "$WORK/while" \
    3<<<"$PASS" >"$WORK/o.$N" 2>"$WORK/e.$N"
ST=$?
check "without --offline it runs here, not in vmsealed: refused the same (exit $ST)" \
    test "$ST" -eq 4
expect_in "$(E)" "in use by another writer" "with the same reason"
run -d "$SRC" migrate --to "$WORK/live" --live
check "migrate --live while vmsealed runs (exit $ST)" test "$ST" -eq 0
run -d "$WORK/live" verify
check "the --live copy verifies (exit $ST)" test "$ST" -eq 0
stop_pid "$SVC_PID"
wait "$SVC_PID" 2>/dev/null
SVC_PID=

run -d "$SRC" export --format json --with-mail-keys -o "$WORK/src.export"
check "export of the source (exit $ST)" test "$ST" -eq 0
# (export adds an audit entry: the source's bytes are taken after it.)
dump "$SRC" >"$WORK/src.dump0"
EVENTS=$(nevents "$SRC")
check "the source has events (${EVENTS:-none})" test "${EVENTS:-0}" -ge 3
AUDITN=$(mdb_stat -s audit "$SRC" 2>/dev/null | sed -n 's/^ *Entries: //p')
check "the source has audit entries (${AUDITN:-none})" test "${AUDITN:-0}" -ge 6
check "the export holds bob's mail keys" grep -q '"mail_keys"' "$WORK/src.export"

# --- usage ---
run -d "$SRC" migrate --help
expect_in "$(O)" "usage: vmseal [-d DIR | --store LOCATION] migrate --to LOCATION" "--help prints the usage"
run -d "$SRC" migrate
check "no --to: usage error (exit $ST)" test "$ST" -eq 2
run -d "$SRC" migrate --to "$SRC"
check "the target is the source: usage error (exit $ST)" test "$ST" -eq 2
run -d "$SRC" migrate --to "lmdb:$SRC/."
check "the same folder spelled otherwise: refused (exit $ST)" test "$ST" -ne 0
expect_in "$(E)" "the target is the source" "it says why"

# --- wrong passphrase: nothing written (LMDB target) ---
RUNPASS='not the passphrase' run -d "$SRC" migrate --to "$WORK/wrong"
check "wrong passphrase: exit 3 ($ST)" test "$ST" -eq 3
check "wrong passphrase: no target folder made" test ! -e "$WORK/wrong"

# --- LMDB target that holds a store: refused, untouched ---
run -d "$SRC" migrate --to "$WORK/live"
check "an LMDB target holding a store: refused (exit $ST)" test "$ST" -eq 5
expect_in "$(E)" "a store already exists in $WORK/live" "the refusal names it"
dump "$WORK/live" >"$WORK/live.dump1"
run -d "$SRC" migrate --to "lmdb:$WORK/live"
dump "$WORK/live" >"$WORK/live.dump2"
check "a refused LMDB target is left byte for byte (mdb_dump)" \
    cmp -s "$WORK/live.dump1" "$WORK/live.dump2"

# final_checks DIR SOURCE-SHOWN: the copy in DIR (LMDB) is the source's:
# verify, audit --verify, its store-migrate entry, the same export, events
# and logins.
final_checks() {
	run -d "$1" verify
	check "verify of the final copy (exit $ST)" test "$ST" -eq 0
	run -d "$1" audit --verify
	check "audit --verify of the final copy (exit $ST)" test "$ST" -eq 0
	run -d "$1" audit
	expect_in "$(O)" "store-migrate	from $2:" "the final copy records its source ($2), no password"
	run -d "$1" export --format json --with-mail-keys -o "$1.export"
	check "export of the source and of the final copy are identical" \
	    cmp -s "$WORK/src.export" "$1.export"
	run -d "$1" user show bob --json
	expect_in "$(O)" "bob@example.net" "bob on the final copy"
	check "the final copy has the source's events" test "$(nevents "$1")" = "$EVENTS"
	sed -i "s|^store_dir = .*|store_dir = $1|" "$WORK/conf"
	check "vmsealed on the final copy" start_svc
	login alice vivid-Lantern-87-quartz-Mosaic
	check "login on the final copy: alice's password accepted" test $? -eq 0
	login alice vivid-Lantern-87-quartz-Mosaix
	check "wrong login refused on the final copy (exit 1)" test $? -eq 1
	stop_pid "$SVC_PID"
	wait "$SVC_PID" 2>/dev/null
	SVC_PID=
}

# --- a big store; a migrate to LMDB killed in the middle ---
BIG=$WORK/big
"$VMSEAL" -d "$BIG" init --unseal-cost 1:8 --hash-cost 1:8 --passphrase-fd 3 \
    3<<<"$PASS" >/dev/null 2>&1 || bail "init of the big store"
seq -f 'u%05g:hLILWelxS7E82' 1 20000 >"$WORK/big.ht"
t0=$(date +%s.%N)
run -d "$BIG" import htpasswd "$WORK/big.ht" --uid 555 --gid 555 --home '/home/%n'
t1=$(date +%s.%N)
check "20,000 users imported (exit $ST, $(secs "$t0" "$t1") s)" test "$ST" -eq 0
"$VMSEAL" --offline -s "$WORK/nosock" -d "$BIG" --passphrase-fd 3 migrate \
    --to "$WORK/bigkill" 3<<<"$PASS" >/dev/null 2>&1 &
MPID=$!
caught=
for _ in $(seq 4000); do
	if [ -e "$WORK/bigkill/.vmseal-migrate/data.mdb" ]; then
		kill -STOP "$MPID" && caught=1
		break
	fi
	kill -0 "$MPID" 2>/dev/null || break
	sleep 0.002
done
check "the migrate to LMDB was caught building its copy, and stopped" test -n "$caught"
kill -9 "$MPID" 2>/dev/null
wait "$MPID"
st=$?
check "a migrate to LMDB killed (SIGKILL) mid-copy (exit $st)" test "$st" -eq 137
check "it left no store in the folder (no data.mdb)" test ! -e "$WORK/bigkill/data.mdb"
run -d "$WORK/bigkill" verify
check "verify there: no vmseal store (exit $ST)" test "$ST" -eq 1
run -d "$BIG" migrate --to "$WORK/bigkill"
check "a new migrate into that folder succeeds (exit $ST)" test "$ST" -eq 0
check "and removed what the killed one left" test ! -e "$WORK/bigkill/.vmseal-migrate"
run -d "$WORK/bigkill" verify
check "and the copy verifies (exit $ST)" test "$ST" -eq 0

if [ -n "$PGWHY" ]; then
	# LMDB -> LMDB instead, and the PostgreSQL checks counted as skipped.
	run -d "$SRC" migrate --to "$WORK/back"
	check "LMDB -> LMDB (exit $ST)" test "$ST" -eq 0
	final_checks "$WORK/back" "$SRC"
	for what in "LMDB -> PostgreSQL" "verify on PostgreSQL" \
	    "audit --verify on PostgreSQL" "PostgreSQL -> LMDB" \
	    "PostgreSQL -> PostgreSQL" \
	    "non-empty PostgreSQL target refused" \
	    "refused target untouched" "wrong passphrase writes nothing" \
	    "no password in any output" "pg_dump shows no login" \
	    "kill -9 of PostgreSQL mid-copy" "target empty after restart" \
	    "a new migrate succeeds"; do
		t_skip "$PGWHY ($what)"
	done
	dump "$SRC" >"$WORK/src.dump9"
	check "the source is unchanged byte for byte (mdb_dump)" \
	    cmp -s "$WORK/src.dump0" "$WORK/src.dump9"
	t_done
	exit
fi

# --- LMDB -> PostgreSQL ---
t_pg_start
PGPW='pW-m1gr4te-s3cr3t'
PGLOC="postgresql:$PG_CONNINFO password=$PGPW"
SHOWN="postgresql:host=$PGHOST port=$PGPORT dbname=vmseal"
run -d "$SRC" migrate --to "$PGLOC" --json
check "LMDB -> PostgreSQL (exit $ST)" test "$ST" -eq 0
[ "$ST" -eq 0 ] || sed 's/^/#   /' "$(E)"
cp "$(O)" "$WORK/topg.json"
check "the --json summary counts every table of the source" python3 - \
    "$WORK/topg.json" "$EVENTS" "$AUDITN" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["entries"]
ok = (e["domains"] == 2 and e["users"] == 2 and e["addresses"] == 3 and
      e["aliases"] == 2 and e["events"] == int(sys.argv[2]) and
      e["audit"] == int(sys.argv[3]) and e["meta"] >= 6 and
      d["total"] == sum(e.values()) and d["verified"] is True and
      isinstance(d["seconds"], float))
sys.exit(0 if ok else 1)
PY
expect_in "$WORK/topg.json" "\"to\":\"$SHOWN\"" "the summary names the target without its password"
ROWS=$(psql -At -c "SELECT count(*) FROM vmseal_kv" 2>&1)
TOTAL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$WORK/topg.json")
check "PostgreSQL holds every entry plus the audit entry ($ROWS = $TOTAL + 1)" \
    test "$ROWS" -eq $((TOTAL + 1))
run --store "$PGLOC" verify
check "verify on PostgreSQL (exit $ST)" test "$ST" -eq 0
run --store "$PGLOC" audit --verify
check "audit --verify on PostgreSQL (exit $ST)" test "$ST" -eq 0
run --store "$PGLOC" audit
expect_in "$(O)" "store-migrate	from $SRC:" "the PostgreSQL copy records where it came from"

# --- a PostgreSQL target holding a store: refused, untouched ---
md5() { psql -At -c "SELECT md5(string_agg(tbl || ':' || encode(k, 'hex') || ':' || encode(v, 'hex'), ',' ORDER BY tbl, k)) FROM vmseal_kv"; }
before=$(md5)
run -d "$SRC" migrate --to "$PGLOC"
check "a PostgreSQL target holding a store: refused (exit $ST)" test "$ST" -eq 5
expect_in "$(E)" "a store already exists in $SHOWN" "the refusal names it without the password"
check "the refused PostgreSQL target is untouched" test "$(md5)" = "$before"

# --- wrong passphrase to PostgreSQL: nothing made ---
psql -q -d postgres -c 'CREATE DATABASE vmseal_wrong' >/dev/null || bail "CREATE DATABASE vmseal_wrong"
RUNPASS='not the passphrase' run -d "$SRC" migrate --to \
    "postgresql:host=$PGHOST dbname=vmseal_wrong password=$PGPW"
check "wrong passphrase to PostgreSQL: exit 3 ($ST)" test "$ST" -eq 3
check "wrong passphrase: no table made in PostgreSQL" test \
    "$(psql -At -d vmseal_wrong -c "SELECT to_regclass('vmseal_kv') IS NULL")" = t

# --- PostgreSQL -> LMDB ---
run --store "$PGLOC" migrate --to "lmdb:$WORK/back"
check "PostgreSQL -> LMDB (exit $ST)" test "$ST" -eq 0
[ "$ST" -eq 0 ] || sed 's/^/#   /' "$(E)"
expect_in "$(O)" "from $SHOWN to $WORK/back" "the summary names both without the password"
final_checks "$WORK/back" "$SHOWN"

# --- PostgreSQL -> PostgreSQL ---
psql -q -d postgres -c 'CREATE DATABASE vmseal_two' >/dev/null || bail "CREATE DATABASE vmseal_two"
run --store "$PGLOC" migrate --to "postgresql:host=$PGHOST dbname=vmseal_two password=$PGPW"
check "PostgreSQL -> PostgreSQL (exit $ST)" test "$ST" -eq 0
run --store "postgresql:host=$PGHOST dbname=vmseal_two" verify
check "verify of the PostgreSQL -> PostgreSQL copy (exit $ST)" test "$ST" -eq 0

# --- nothing readable in PostgreSQL, no password anywhere ---
pg_dump -d vmseal >"$WORK/pg.dump" 2>&1
check "pg_dump of the copy ($(wc -c <"$WORK/pg.dump") bytes)" test -s "$WORK/pg.dump"
bad=
for s in alice bob example.org example.net postmaster /home/alice \
    vivid-Lantern-87-quartz-Mosaic argon2 '$argon2id'; do
	strings "$WORK/pg.dump" | grep -qF -- "$s" && bad="$bad $s"
done
check "strings of pg_dump show no login, address, domain or hash${bad:+ (found:$bad)}" test -z "$bad"
check "the conninfo's password is in no output of any command" \
    sh -c "! grep -qF -- '$PGPW' '$WORK'/o.* '$WORK'/e.*"

# --- a big store, PostgreSQL killed in the middle ---
psql -q -d postgres -c 'CREATE DATABASE vmseal_big' >/dev/null || bail "CREATE DATABASE vmseal_big"
BIGLOC="postgresql:host=$PGHOST dbname=vmseal_big password=$PGPW"
"$VMSEAL" --offline -s "$WORK/nosock" -d "$BIG" --passphrase-fd 3 migrate \
    --to "$BIGLOC" 3<<<"$PASS" >"$WORK/kill.out" 2>&1 &
MPID=$!
inflight=
for _ in $(seq 400); do
	n=$(psql -At -d vmseal_big -c "SELECT count(*) FROM pg_stat_activity
	    WHERE datname = 'vmseal_big' AND query LIKE 'INSERT INTO vmseal_kv%'" 2>/dev/null)
	if [ "${n:-0}" -gt 0 ]; then
		kill -STOP "$MPID" && STOPPED=$MPID && inflight=1
		break
	fi
	kill -0 "$MPID" 2>/dev/null || break
	sleep 0.02
done
check "the migrate was caught with rows going in, and stopped" test -n "$inflight"
PM=$(head -1 "$PG_DIR/data/postmaster.pid")
KIDS=$(ps -o pid= --ppid "$PM" | tr -d ' ')
# shellcheck disable=SC2086
kill -9 "$PM" $KIDS
for _ in $(seq 100); do
	kill -0 "$PM" 2>/dev/null || break
	sleep 0.1
done
kill -CONT "$MPID"
STOPPED=
wait "$MPID"
st=$?
check "kill -9 of PostgreSQL mid-copy: migrate fails (exit $st)" test "$st" -ne 0
sed 's/^/#   /' "$WORK/kill.out" | tail -3
PG_STARTED=
for _ in $(seq 50); do
	t_pg_restart && break
	sleep 0.2
done
check "PostgreSQL restarted" test -n "${PG_STARTED:-}"
left=$(psql -At -d vmseal_big -c "SELECT CASE WHEN to_regclass('vmseal_kv') IS NULL THEN 0 ELSE (SELECT count(*) FROM vmseal_kv) END" 2>&1)
check "after the restart the target is empty ($left rows)" test "$left" = 0
t0=$(date +%s.%N)
run -d "$BIG" migrate --to "$BIGLOC" --json
t1=$(date +%s.%N)
check "a new migrate succeeds (exit $ST)" test "$ST" -eq 0
[ "$ST" -eq 0 ] || sed 's/^/#   /' "$(E)"
echo "# migrate of 20,000 users LMDB -> PostgreSQL: $(secs "$t0" "$t1") s (copy + verify): $(cat "$(O)")"
t0=$(date +%s.%N)
run --store "$BIGLOC" migrate --to "$WORK/bigback"
t1=$(date +%s.%N)
check "and back to LMDB (exit $ST)" test "$ST" -eq 0
echo "# migrate of 20,000 users PostgreSQL -> LMDB: $(secs "$t0" "$t1") s"

dump "$SRC" >"$WORK/src.dump9"
check "the source is unchanged byte for byte after every migrate (mdb_dump)" \
    cmp -s "$WORK/src.dump0" "$WORK/src.dump9"
t_done
