#!/bin/bash
# store_pg.sh - the whole store on PostgreSQL (issue 15, second layer):
# vmseal --store postgresql:CONNINFO against a throwaway cluster
# (t_pg_start: initdb into $WORK/pg, Unix socket only).  Shown:
#   - init, domain and user add, an htpasswd import, user list and show,
#     verify, audit --verify and audit --head work on PostgreSQL, with the
#     conninfo in key=value form, as a URI, and as "store =" in
#     vmseal.conf; a second init is refused (exists), a database without
#     a store is "not found", store and store_dir both in the file are
#     refused, and so are -d and --store together;
#   - the table holds only index bytes and ciphertext: no login, domain,
#     address or hash in psql's output of every key and value;
#   - backup of a PostgreSQL store is refused, pointing to pg_dump;
#   - the conninfo's password appears in no output and no error of any
#     command above: where the store is named, it is
#     "postgresql:host=... port=... dbname=..." only.
# Skipped (n/a) when vmseal was built without libpq or the postgresql
# package is absent.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
export LC_ALL=C

WORK=$(mktemp -d /tmp/vmseal-stpg-XXXXXX)
cleanup() {
	t_pg_stop
	if [ "$T_FAILED" -gt 0 ] && [ -f "$WORK/pg/log" ]; then
		echo "# --- tail of the PostgreSQL log ---"
		tail -n 20 "$WORK/pg/log" | sed 's/^/#   /'
	fi
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$VMSEAL" --offline --store postgresql:dbname=none user list \
    --passphrase-fd 3 3<<<"$PASS" >"$WORK/nopq" 2>&1
grep -q "built without PostgreSQL support" "$WORK/nopq" &&
    skip "n/a: built without the PostgreSQL backend (no libpq-dev, or --without-postgresql)"

t_pg_start
# Trust authentication on the socket: the password is accepted and not
# needed, so it can be hunted for in every output.
PGPW='pW-s3cr3t-9f3kQz7x'
LOC="postgresql:$PG_CONNINFO password=$PGPW"
SHOWN="postgresql:host=$PGHOST port=$PGPORT dbname=vmseal"
N=0
# vp ARGS...: vmseal on LOC, offline; output in $WORK/o.N (stdout) and
# $WORK/e.N (stderr), N in $N; exit status kept.
vp() {
	N=$((N + 1))
	"$VMSEAL" --offline -s "$WORK/nosock" --store "$LOC" \
	    --passphrase-fd 3 "$@" 3<<<"$PASS" >"$WORK/o.$N" 2>"$WORK/e.$N"
}
out() { cat "$WORK/o.$N" "$WORK/e.$N"; }

# --- init, and what is done on it ---
vp init --unseal-cost 1:8 --hash-cost 1:8
check "init on PostgreSQL: exit 0" test $? -eq 0
expect_in "$WORK/o.$N" "RECOVERY KEY" "init prints the recovery key banner"
psql -At -c "SELECT count(*) FROM vmseal_kv WHERE tbl = 0" >"$WORK/meta" 2>&1
check "the store's meta entries are in the table ($(cat "$WORK/meta"))" \
    test "$(cat "$WORK/meta")" -ge 5
vp init --unseal-cost 1:8 --hash-cost 1:8
st=$?
check "a second init is refused as a conflict (exit $st)" test "$st" -eq 5
expect_in "$WORK/e.$N" "a store already exists in $SHOWN" \
    "the refusal names the store without its password"

cat >"$WORK/htpasswd" <<'X'
ron:hLILWelxS7E82
alice:ildPSIfh7EkT2
X
vp domain add linuxcoaching.eu
check "domain add" test $? -eq 0
vp user add --no-policy zoe --address zoe@linuxcoaching.eu --home /home/zoe \
    --uid 600 --gid 600 --no-password
check "user add with an address" test $? -eq 0
vp import htpasswd "$WORK/htpasswd" --uid 555 --gid 555 --home '/home/%n'
expect_in "$WORK/o.$N" "imported 2 user(s)" "htpasswd of 2 users imported"
vp user list
check "user list: zoe, ron, alice" test "$(cut -f1 "$WORK/o.$N" |
    grep -cxE 'zoe|ron|alice')" -eq 3
vp user show ron
expect_in "$WORK/o.$N" "/home/ron" "user show ron: home from the template"
expect_in "$WORK/o.$N" "des-crypt" "user show ron: legacy scheme kept"
vp verify
check "verify: exit 0" test $? -eq 0
expect_in "$WORK/o.$N" "$SHOWN: the key opens it and all" \
    "verify names the store as host, port and dbname"
vp audit --verify
check "audit --verify: exit 0" test $? -eq 0
vp audit --head
check "audit --head: exit 0" test $? -eq 0
expect_in "$WORK/o.$N" "generation" "audit --head prints the generation"
vp audit
expect_in "$WORK/o.$N" "domain-add" "the audit trail has the domain add"

# --- other spellings of the location ---
N=$((N + 1))
"$VMSEAL" --offline -s "$WORK/nosock" \
    --store "postgresql://postgres:$PGPW@/vmseal?host=$PGHOST" \
    --passphrase-fd 3 user show zoe 3<<<"$PASS" >"$WORK/o.$N" 2>"$WORK/e.$N"
expect_in "$WORK/o.$N" "zoe@linuxcoaching.eu" "a postgresql:// URI location works"
printf 'store = %s\nsocket_dir = %s\n' "$LOC" "$WORK/nosock" >"$WORK/vmseal.conf"
N=$((N + 1))
"$VMSEAL" -c "$WORK/vmseal.conf" --offline --passphrase-fd 3 user list \
    3<<<"$PASS" >"$WORK/o.$N" 2>"$WORK/e.$N"
expect_in "$WORK/o.$N" "alice" "'store = postgresql:...' in vmseal.conf works"
printf 'store = %s\nstore_dir = /tmp\n' "$LOC" >"$WORK/both.conf"
N=$((N + 1))
"$VMSEAL" -c "$WORK/both.conf" --offline user list >"$WORK/o.$N" \
    2>"$WORK/e.$N"
st=$?
check "store and store_dir both in vmseal.conf: usage error (exit $st)" \
    test "$st" -eq 2
expect_in "$WORK/e.$N" "store and store_dir both name the store" \
    "the refusal says why"
N=$((N + 1))
"$VMSEAL" -d "$WORK/x" --store "$LOC" user list >"$WORK/o.$N" 2>"$WORK/e.$N"
check "-d and --store together: usage error" test $? -eq 2
psql -q -d postgres -c 'CREATE DATABASE vmseal_empty' >/dev/null ||
    bail "CREATE DATABASE vmseal_empty"
N=$((N + 1))
"$VMSEAL" --offline -s "$WORK/nosock" \
    --store "postgresql:host=$PGHOST dbname=vmseal_empty password=$PGPW" \
    --passphrase-fd 3 user list 3<<<"$PASS" >"$WORK/o.$N" 2>"$WORK/e.$N"
st=$?
check "a database without a store: not found (exit $st)" test "$st" -eq 1
expect_in "$WORK/e.$N" "no vmseal store in postgresql:host=$PGHOST dbname=vmseal_empty" \
    "the message names the database, not the password"

# --- nothing readable in the table ---
psql -At -F' ' -c "SELECT encode(k, 'escape'), encode(v, 'escape')
    FROM vmseal_kv" >"$WORK/table" 2>&1
# (Rows counted by psql: the escape form leaves newline bytes of the
# ciphertext as they are, so lines of $WORK/table are not rows.)
ROWS=$(psql -At -c "SELECT count(*) FROM vmseal_kv" 2>&1)
check "psql read the table ($ROWS rows)" test "${ROWS:-0}" -ge 10 -a -s "$WORK/table"
bad=
for s in ron alice zoe linuxcoaching zoe@linuxcoaching.eu hLILWelxS7E82 \
    ildPSIfh7EkT2 /home/ron; do
	grep -qF -- "$s" "$WORK/table" && bad="$bad $s"
done
check "no login, domain, address, home or hash in the table${bad:+ (found:$bad)}" \
    test -z "$bad"

# --- backup is pg_dump's job ---
vp backup "$WORK/bk"
st=$?
check "backup of a PostgreSQL store is refused (exit $st)" test "$st" -eq 2
expect_in "$WORK/e.$N" "pg_dump" "the refusal points to pg_dump"
check "backup created nothing" test ! -e "$WORK/bk"

# --- the password, nowhere ---
cat "$WORK"/o.* "$WORK"/e.* >"$WORK/all"
check "the outputs were collected ($N commands)" test -s "$WORK/all"
leak=$(cd "$WORK" && grep -lF -e "$PGPW" -e "password=" o.* e.* | tr '\n' ' ')
check "the conninfo's password in no output or error${leak:+ (in: $leak)}" \
    test -z "$leak"
[ -z "$leak" ] || (cd "$WORK" && grep -hF -e "$PGPW" -e "password=" o.* e.*) |
    sed "s/$PGPW/<PASSWORD>/g; s/^/#   /"

t_done
