#!/bin/bash
# rollback.sh - the store's head catches what LMDB's own tools can do to
# the files without the key (issue 11: "a single record can be rolled
# back"; doc/DESIGN.md, the head), and backup refuses a planted link.
#
# On a temporary store, offline (no vmsealed), with mdb_dump/mdb_load:
#   - bob's users record from a copy taken while he was enabled, loaded
#     over the live store after 'user disable bob': 'vmseal verify' and
#     'vmseal audit --verify' exit 4 naming the users table, a writing
#     command (what vmsealed does at unseal) refuses to unseal, and the
#     data file is unchanged;
#   - the audit trail's tail cut and the meta table (audit head and head)
#     put back from the older copy: the chain alone is whole, but
#     'audit --verify' reports the trail against the store's head;
#   - a users record deleted, and one added (a copy under another key),
#     behind vmseal's back: both reported by verify;
#   - 'vmseal audit --head' prints the generation and hash, one step per
#     change, and --json the same;
#   - 'vmseal backup DEST' as root: DEST a symbolic link planted by nobody
#     to a folder nobody owns is refused, the folder's mode unchanged and
#     nothing written in it; an existing DEST owned by nobody is refused;
#     a new DEST gets mode 0700 and a data.mdb of mode 0600 that verifies.
# Needs mdb_dump/mdb_load (lmdb-utils) and python3; the backup part needs
# root and a user nobody.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
export LC_ALL=C

command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null ||
    skip "mdb_dump/mdb_load missing (apt-get install lmdb-utils)"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

WORK=$(mktemp -d /tmp/vmseal-rollback-XXXXXX)
cleanup() {
	rm -rf "$WORK"
}
trap cleanup EXIT

# vo ARGS...: vmseal offline on the store.
vo() {
	"$VMSEAL" -d "$STORE" --offline --passphrase-fd 3 "$@" 3<<<"$PASS"
}

# head_gen: the generation 'audit --head' prints.
head_gen() {
	vo audit --head | sed -n 's/^generation \([0-9]*\)\t.*/\1/p'
}

# load_table TABLE DUMP: the table in the live store replaced by DUMP's.
load_table() {
	mdb_load -s "$1" -f "$2" "$STORE" 2>/dev/null
}

# rewrite MODE [ARG]: the whole store dumped, changed, and loaded anew
# (mdb_load adds and overwrites, it never deletes):
#   del | add     the first users record deleted, or copied under
#                 another key
#   cut           the audit trail cut back to the older copy's, and the
#                 older audit head put back in meta
#   cutmeta       the same with the older copy's whole meta table
rewrite() {
	mdb_dump -a "$STORE" >"$WORK/all.dump"
	python3 - "$WORK/all.dump" "$WORK/old.dump" "$1" <<'PY' || return 1
import sys
def parse(path):
    secs, cur = {}, None
    for line in open(path).read().split("\n"):
        if line.startswith("database="):
            cur = line[9:]
            secs[cur] = [[], [], False]
        if cur is None:
            continue
        s = secs[cur]
        if line == "HEADER=END":
            s[0].append(line); s[2] = True; continue
        if line == "DATA=END":
            cur = None; continue
        if not s[2]:
            s[0].append(line)
        else:
            s[1].append(line)
    for s in secs.values():
        s[1] = [s[1][i:i + 2] for i in range(0, len(s[1]), 2)]
    return secs
now, old, mode = parse(sys.argv[1]), parse(sys.argv[2]), sys.argv[3]
if mode == "del":
    del now["users"][1][0]
elif mode == "add":
    k, v = now["users"][1][0]
    now["users"][1].insert(0, [" " + ("0" if k[1] != "0" else "1") + k[2:], v])
elif mode in ("cut", "cutmeta"):
    now["audit"][1] = old["audit"][1]
    if mode == "cutmeta":
        now["meta"][1] = old["meta"][1]
    else:
        key = " " + b"audit_head".hex()
        ov = dict(map(tuple, old["meta"][1]))[key]
        for pair in now["meta"][1]:
            if pair[0] == key:
                pair[1] = ov
out = []
for name, (hdr, pairs, _) in now.items():
    out += ["VERSION=3"] if hdr[0] != "VERSION=3" else []
    out += hdr + [x for p in pairs for x in p] + ["DATA=END"]
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
	rm -f "$STORE/data.mdb" "$STORE/lock.mdb"
	mdb_load -f "$WORK/all.dump" "$STORE" 2>/dev/null
}

restore() {
	rm -rf "$STORE"
	cp -a "$WORK/store.now" "$STORE"
}

check "init creates a store" t_new_store
check "domain and user bob" vo domain add example.org
check "bob added" vo user add bob --address bob@example.org --no-password
g1=$(head_gen)
check "audit --head prints a generation" test -n "$g1"
vo audit --head --json >"$WORK/head.json"
check "audit --head --json: generation and a 64-hex hash" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['present'] is True and d['generation'] == int(sys.argv[2]), d
assert len(d['hash']) == 64 and int(d['hash'], 16) >= 0, d
" "$WORK/head.json" "$g1"

# The attacker's copy: bob enabled; then the operator disables him.
cp -a "$STORE" "$WORK/store.old"
mdb_dump -s users "$STORE" >"$WORK/users.old"
mdb_dump -a "$STORE" >"$WORK/old.dump"
check "bob disabled" vo user disable bob
vo user show bob >"$WORK/out" 2>&1
expect_in "$WORK/out" "disabled" "bob shows as disabled"
g2=$(head_gen)
check "the change moved the head one generation on" test "$g2" -eq $((g1 + 1))
expect_exit 0 "the untouched store verifies" vo verify
expect_exit 0 "its audit trail verifies" vo audit --verify
cp -a "$STORE" "$WORK/store.now"

# --- 1. bob's older users record loaded over the live one ---
check "mdb_load puts bob's older record back" load_table users "$WORK/users.old"
vo verify >"$WORK/out" 2>"$WORK/err"
check "verify: rolled-back record, exit 4" test $? -eq 4
expect_in "$WORK/err" "the users table does not match the store's head" "verify names the users table"
vo audit --verify >"$WORK/out" 2>"$WORK/err"
check "audit --verify: exit 4 as well" test $? -eq 4
expect_in "$WORK/err" "users table does not match" "audit --verify says why"
sum=$(sha256sum <"$STORE/data.mdb")
vo user enable bob >"$WORK/out" 2>"$WORK/err"
check "a writer does not unseal the rolled-back store (exit 4)" test $? -eq 4
expect_in "$WORK/err" "the store stays sealed" "the writer's refusal says so"
check "the refused open wrote nothing" test "$sum" = "$(sha256sum <"$STORE/data.mdb")"
restore

# --- 2. the audit trail's tail cut, its audit head put back ---
# (a) only the audit head from the older meta: the chain is whole again,
# the store's head still counts the cut entries.
check "the audit tail cut, the older audit head put back" rewrite cut
vo audit >"$WORK/out" 2>&1
check "the trail now ends before the disable" test "$(wc -l <"$WORK/out")" -eq "$(mdb_dump -s audit "$WORK/store.old" | grep -c '^ 0000')"
vo audit --verify >"$WORK/out" 2>"$WORK/err"
check "audit --verify: cut tail with its old audit head, exit 4" test $? -eq 4
expect_in "$WORK/err" "the audit trail does not match its head" "the trail is named against the store's head"
expect_exit 4 "verify too" vo verify
expect_exit 4 "and a writer refuses it" vo domain add after.org
restore
# (b) the whole older meta (the store's head too): the newer records no
# longer match that head.
check "the audit tail cut, the whole older meta put back" rewrite cutmeta
vo audit --verify >"$WORK/out" 2>"$WORK/err"
check "audit --verify: exit 4" test $? -eq 4
expect_in "$WORK/err" "does not match the store's head" "the older head is named"
expect_exit 4 "a writer refuses it" vo domain add after.org
restore

# --- 3. a record deleted, a record added, behind vmseal's back ---
for mode in del add; do
	check "users record: $mode with mdb_dump/mdb_load" rewrite "$mode"
	vo verify >"$WORK/out" 2>"$WORK/err"
	check "verify: record $mode detected (exit 4)" test $? -eq 4
	expect_in "$WORK/err" "the users table does not match the store's head:" "verify counts the users ($mode)"
	restore
done
expect_exit 0 "the restored store verifies again" vo verify
vo verify >"$WORK/out" 2>&1
expect_in "$WORK/out" "they match its head: generation $g2" "verify prints the head's generation"

# --- 4. the whole store put back: only an anchor tells ---
rm -rf "$STORE"; cp -a "$WORK/store.old" "$STORE"
expect_exit 0 "a whole older copy verifies on its own" vo verify
check "but its generation is older than the one logged" test "$(head_gen)" -lt "$g2"
restore

# --- 5. backup DEST: no link followed, no foreign folder used ---
if [ "$(id -u)" -ne 0 ] || ! getent passwd nobody >/dev/null; then
	t_skip "backup as root against nobody's link: needs root and nobody"
else
	chmod 0711 "$WORK"
	FOREIGN=$WORK/foreign
	mkdir -m 0755 "$FOREIGN" && chown nobody "$FOREIGN"
	mkdir -m 1777 "$WORK/drop"
	su -s /bin/sh nobody -c "ln -s '$FOREIGN' '$WORK/drop/dest'"
	check "nobody planted a link" test -L "$WORK/drop/dest"
	vo backup "$WORK/drop/dest" >"$WORK/out" 2>"$WORK/err"
	check "backup through the link refused (exit 2)" test $? -eq 2
	expect_in "$WORK/err" "is a symbolic link or not a folder: refused" "the refusal says why"
	check "the foreign folder keeps its mode 0755" test "$(stat -c %a "$FOREIGN")" = 755
	check "nothing written in it" test -z "$(ls -A "$FOREIGN")"
	vo backup "$FOREIGN" >"$WORK/out" 2>"$WORK/err"
	check "an existing DEST owned by nobody refused (exit 2)" test $? -eq 2
	expect_in "$WORK/err" "belongs to uid $(id -u nobody), not to uid 0" "the owner is named"
	check "still mode 0755, still empty" test "$(stat -c %a "$FOREIGN")" = 755 -a -z "$(ls -A "$FOREIGN")"
	expect_exit 0 "a new DEST is made" vo backup "$WORK/bk"
	check "DEST mode 0700, data.mdb 0600" test "$(stat -c %a "$WORK/bk")" = 700 -a "$(stat -c %a "$WORK/bk/data.mdb")" = 600
	expect_exit 0 "the backup verifies" vo verify "$WORK/bk"
	expect_exit 5 "a second backup into it: conflict" vo backup "$WORK/bk"
fi

t_done
