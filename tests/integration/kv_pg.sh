#!/bin/bash
# kv_pg.sh - the PostgreSQL key/value backend (lib/kv_pg.c, issue 15's
# first layer) against a real, throwaway PostgreSQL cluster (t_pg_start:
# Debian's postgresql package, initdb into $WORK/pg, Unix socket only).
# Shown:
#   - the conformance suite (tests/integration/kvconform.c) passes on
#     LMDB and on PostgreSQL - put/get/del, no_overwrite, not found, iter
#     and last in memcmp order with 0x00/0xff keys of several lengths,
#     pages of iteration, count, abort and commit, empty and 1 MiB values,
#     a reader's snapshot against a concurrent writer, reset and renew -
#     and both backends give the same answers to every operation;
#     PostgreSQL only: write skew between two serializable writers gives
#     the retry code (VS_EBUSY) and leaves nothing, as does an update
#     conflict (the statement fails, and so do every later call and the
#     commit), no password from the
#     conninfo in any error, copy refused (pg_dump's job);
#   - the database holds exactly what was put: a fixed set of puts,
#     overwrites, deletes and an aborted transaction, read back with psql
#     (and in psql's ORDER BY k, which must be kvconform's memcmp order);
#   - the table is (tbl smallint, k bytea, v bytea) with its primary key;
#   - the server stopped (immediate: a crash) under open transactions:
#     every operation is an error, never "not found", the interrupted
#     write commits nothing, and once the server is back the same handle
#     answers again, without a reopen.
# Skipped (n/a) only when vmseal was built without libpq or the
# postgresql package is absent (scripts/deps.sh installs both).
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
KVCONFORM=${KVCONFORM:-$(dirname "$VMSEAL")/../tests/integration/kvconform}
export LC_ALL=C

[ -x "$KVCONFORM" ] || skip "kvconform not built (make check builds it)"
"$KVCONFORM" has-pg ||
    skip "n/a: built without the PostgreSQL backend (no libpq-dev, or --without-postgresql)"

WORK=$(mktemp -d /tmp/vmseal-kvpg-XXXXXX)
KPID=

cleanup() {
	exec 7>&- 2>/dev/null
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null
	t_pg_stop
	if [ "$T_FAILED" -gt 0 ] && [ -f "$WORK/pg/log" ]; then
		echo "# --- tail of the PostgreSQL log ---"
		tail -n 20 "$WORK/pg/log" | sed 's/^/#   /'
	fi
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# t_feed: kvconform's "ok - ..." / "not ok - ..." lines as TAP results;
# anything else as a comment.
t_feed() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok - "*) t_ok "${line#ok - }" ;;
		"not ok - "*) t_fail "${line#not ok - }" ;;
		*) echo "#   $line" ;;
		esac
	done
}

# wait_line FILE LINE: FILE has the line LINE within 60 s.
wait_line() {
	for _ in $(seq 600); do
		grep -qx -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$KPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

t_pg_start
conn() { echo "host=$PGHOST port=$PGPORT user=$PGUSER dbname=$1"; }
for db in vmseal_fill vmseal_outage; do
	psql -q -d postgres -c "CREATE DATABASE $db" >/dev/null ||
	    bail "CREATE DATABASE $db"
done

# --- the conformance suite on both backends ---
mkdir -p "$WORK/lmdb"
"$KVCONFORM" both "$WORK/lmdb" "$PG_CONNINFO" >"$WORK/suite.out" 2>&1
st=$?
t_feed <"$WORK/suite.out"
# every case of both backends and every comparison reported, and no crash
n=$(grep -c '^\(not \)\{0,1\}ok - ' "$WORK/suite.out")
check "kvconform both: exit 0 and 30 results (got exit $st, $n)" \
    test "$st" -eq 0 -a "$n" -eq 30
expect_in "$WORK/suite.out" "ok - pg: write skew between two writers gives the retry code" \
    "the serialization conflict case ran on PostgreSQL"

# --- exactly what was put ---
"$KVCONFORM" fill "$(conn vmseal_fill)" >"$WORK/fill.want" 2>"$WORK/fill.err"
check "kvconform fill: puts, overwrites, deletes, an abort" test $? -eq 0
psql -d vmseal_fill -At -F'|' -c "SELECT tbl, encode(k, 'hex'),
    encode(v, 'hex') FROM vmseal_kv ORDER BY tbl, k" >"$WORK/fill.got" 2>&1
if [ -s "$WORK/fill.want" ] && cmp -s "$WORK/fill.want" "$WORK/fill.got"
then
	t_ok "the table holds exactly the $(wc -l <"$WORK/fill.want") rows put, in memcmp order"
else
	t_fail "the table differs from what was put"
	diff "$WORK/fill.want" "$WORK/fill.got" | head -20 | sed 's/^/#   /'
	sed 's/^/#   /' "$WORK/fill.err"
fi
psql -d vmseal_fill -At -F' ' -c "SELECT column_name, data_type,
    is_nullable FROM information_schema.columns WHERE table_name =
    'vmseal_kv' ORDER BY ordinal_position" >"$WORK/cols" 2>&1
printf 'tbl smallint NO\nk bytea NO\nv bytea NO\n' >"$WORK/cols.want"
if cmp -s "$WORK/cols" "$WORK/cols.want"; then
	t_ok "schema: vmseal_kv (tbl smallint, k bytea, v bytea), not null"
else
	t_fail "schema differs:"; sed 's/^/#   /' "$WORK/cols"
fi
psql -d vmseal_fill -At -c "SELECT pg_get_constraintdef(oid) FROM
    pg_constraint WHERE conrelid = 'vmseal_kv'::regclass AND contype = 'p'" \
    >"$WORK/pkey" 2>&1
expect_in "$WORK/pkey" "PRIMARY KEY (tbl, k)" "primary key (tbl, k)"

# --- the server goes away under open transactions, and comes back ---
mkfifo "$WORK/go" || bail "mkfifo"
"$KVCONFORM" outage "$(conn vmseal_outage)" <"$WORK/go" \
    >"$WORK/outage.out" 2>&1 &
KPID=$!
exec 7>"$WORK/go"
if wait_line "$WORK/outage.out" ready; then
	t_pg_stop immediate
	echo go >&7
	if wait_line "$WORK/outage.out" down; then
		check "the cluster starts again" t_pg_restart
	else
		t_fail "kvconform outage did not get through the outage"
	fi
	echo go >&7
else
	t_fail "kvconform outage did not set up"
fi
exec 7>&-
wait "$KPID"
st=$?
KPID=
t_feed <"$WORK/outage.out"
n=$(grep -c '^\(not \)\{0,1\}ok - ' "$WORK/outage.out")
check "kvconform outage: exit 0 and 10 results (got exit $st, $n)" \
    test "$st" -eq 0 -a "$n" -eq 10

t_done
