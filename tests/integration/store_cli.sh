#!/bin/bash
# store_cli.sh - the offline store and CLI end to end: the seed setup and
# 1,000 generated users imported, nothing readable in the store files,
# wrong keys refused, tampering detected, exit codes and messages, the
# uid/gid floor (uid_min, gid_min) in import and user add/set, exports.
set -u
. "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
WORK=$(mktemp -d /tmp/vmseal-it-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# --- the seed's files, as they were ---
cat >"$WORK/htpasswd" <<'X'
ron:hLILWelxS7E82
alice:ildPSIfh7EkT2
X
cat >"$WORK/virtual_mailbox_map" <<'X'
ron@linuxcoaching.eu ron
alice@somedomain.ie alice
X

# --- 1,000 generated users with real hashes of several schemes ---
python3 - "$WORK" <<'PY'
import base64, hashlib, os, random, subprocess, sys
w = sys.argv[1]
random.seed(7)
def name(i):
    return "user%04d%s" % (i, "".join(random.choice("bcdfghjkmnpqrstvwxz") for _ in range(4)))
# A few real crypt hashes made by mkpasswd, reused; {SSHA} made here.
crypt = []
for m in ("sha-512", "sha-256", "md5", "des"):
    out = subprocess.run(["mkpasswd", "-m", m, "pw-" + m], capture_output=True, text=True)
    if out.returncode == 0:
        crypt.append(out.stdout.strip())
with open(os.path.join(w, "gen.htpasswd"), "w") as h, \
     open(os.path.join(w, "gen.map"), "w") as m, \
     open(os.path.join(w, "gen.names"), "w") as n:
    for i in range(1000):
        u = name(i)
        if i % 2 and crypt:
            hsh = crypt[i % len(crypt)]
        else:
            salt = os.urandom(4)
            hsh = "{SSHA}" + base64.b64encode(hashlib.sha1(("pw%d" % i).encode() + salt).digest() + salt).decode()
        h.write("%s:%s\n" % (u, hsh))
        dom = "gen%d.example" % (i % 10)
        m.write("%s@%s %s\n" % (u, dom, u))
        n.write("%s\n%s@%s\n%s\n" % (u, u, dom, hsh))
PY

check "init creates a store" t_new_store
expect_in "$WORK/init.out" "RECOVERY KEY" "init prints the recovery key banner"
check "recovery key has 14 groups" test "$(tr -cd '-' <"$WORK/reckey" | wc -c)" -eq 13
check "store folder is mode 0700" test "$(stat -c %a "$STORE")" = 700

vs import htpasswd "$WORK/htpasswd" --uid 555 --gid 555 \
    --home '/kx/dovecot/home/%n' --mail 'mbox:~/mail:INBOX=/kx/dovecot/mail/%n' \
    >"$WORK/out" 2>&1
expect_in "$WORK/out" "imported 2 user(s)" "seed htpasswd imported"
expect_in "$WORK/out" "2 legacy hash(es) kept" "DES hashes kept as legacy"
vs import postfix-map "$WORK/virtual_mailbox_map" >"$WORK/out" 2>&1
expect_in "$WORK/out" "imported 2 address(es)" "seed virtual_mailbox_map imported"
expect_in "$WORK/out" "2 domain(s) added" "seed domains added from the map"
vs import htpasswd "$WORK/gen.htpasswd" >"$WORK/out" 2>&1
expect_in "$WORK/out" "imported 1000 user(s)" "1,000 generated users imported"
vs import postfix-map "$WORK/gen.map" --json >"$WORK/out" 2>"$WORK/err"
expect_in "$WORK/out" '"imported":1000' "1,000 generated addresses imported (json)"

vs user show ron >"$WORK/out"
expect_in "$WORK/out" "/kx/dovecot/home/ron" "ron's home from the template"
expect_in "$WORK/out" "mbox:~/mail:INBOX=/kx/dovecot/mail/ron" "ron's mail location"
expect_in "$WORK/out" "des-crypt" "ron's scheme is shown as des-crypt"
expect_not_in "$WORK/out" "hLILWelxS7E82" "user show never prints the hash"
vs user show alice --json >"$WORK/out"
check "user show --json parses" python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['login']=='alice' and d['uid']==555 and d['addresses']==['alice@somedomain.ie']" "$WORK/out"

# --- nothing readable in the store files ---
strings -n 4 "$STORE"/data.mdb "$STORE"/lock.mdb >"$WORK/strings"
{
	printf '%s\n' ron alice ron@linuxcoaching.eu alice@somedomain.ie \
	    linuxcoaching.eu somedomain.ie hLILWelxS7E82 ildPSIfh7EkT2 \
	    /kx/dovecot/home mbox:~/mail
	cat "$WORK/gen.names"
	for i in 0 1 2 3 4 5 6 7 8 9; do echo "gen$i.example"; done
} >"$WORK/secrets"
leaks=$(python3 - "$WORK/strings" "$WORK/secrets" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
words = set(re.findall(r"[^\s]+", text))
bad = []
for s in open(sys.argv[2]).read().split():
    if len(s) < 6:
        # Short names: a random 4+ character run of ciphertext may hold
        # them by chance; look for them as whole strings.
        if s in words:
            bad.append(s)
    else:
        # Long names and hashes: any 8-character fragment.
        for i in range(0, max(1, len(s) - 7), 4):
            if s[i:i + 8] in text:
                bad.append(s)
                break
print("\n".join(sorted(set(bad))))
PY
)
if [ -z "$leaks" ]; then
	t_ok "strings -n 4 over the store shows no name, address, domain or hash"
else
	t_fail "store files leak: $(echo "$leaks" | head -5 | tr '\n' ' ')"
fi

# --- wrong passphrase: clear error, exit 3, nothing touched ---
sum1=$(sha256sum "$STORE/data.mdb")
"$VMSEAL" -d "$STORE" --passphrase-fd 3 user list 3<<<"not the passphrase" \
    >"$WORK/out" 2>"$WORK/err"
check "wrong passphrase exits 3" test $? -eq 3
expect_in "$WORK/err" "wrong passphrase" "wrong passphrase says so"
check "wrong passphrase leaves data.mdb untouched" test "$sum1" = "$(sha256sum "$STORE/data.mdb")"
expect_exit 3 "wrong passphrase on a write command" \
    "$VMSEAL" -d "$STORE" --passphrase-fd 3 domain add x.org 3<<<"nope"
check "failed write left data.mdb untouched" test "$sum1" = "$(sha256sum "$STORE/data.mdb")"

# --- recovery key opens the store ---
"$VMSEAL" -d "$STORE" --recovery-key-fd 4 user show alice 4<"$WORK/reckey" >"$WORK/out" 2>&1
expect_in "$WORK/out" "alice@somedomain.ie" "recovery key unseals"
# Change the first character of group 2 to another valid one.
python3 -c 'import sys; k=open(sys.argv[1]).read(); c="Z" if k[6]!="Z" else "Y"; open(sys.argv[2],"w").write(k[:6]+c+k[7:])' \
    "$WORK/reckey" "$WORK/badkey"
"$VMSEAL" -d "$STORE" --recovery-key-fd 4 user show alice 4<"$WORK/badkey" >"$WORK/out" 2>&1
expect_in "$WORK/out" "group 2" "a typo in the recovery key names its group"

# --- exit codes and messages ---
expect_exit 1 "unknown user is 'not found'" vs user show nobody
expect_exit 5 "existing user is a conflict" vs user add ron --no-password
expect_exit 2 "invalid domain is a usage error" vs domain add 'bad..domain'
expect_exit 2 "unknown action is a usage error" vs user frobnicate x
expect_exit 2 "missing argument is a usage error" vs user show
expect_exit 5 "domain in use cannot be deleted" vs domain del somedomain.ie
for c in init domain user address alias import export; do
	expect_exit 0 "vmseal $c --help" "$VMSEAL" $c --help >/dev/null
done
expect_exit 0 "vmseal --help" "$VMSEAL" --help >/dev/null
expect_exit 2 "unknown command" "$VMSEAL" frobnicate 2>/dev/null

# --- import: bad lines named, all or nothing, --partial ---
printf 'good1:{SSHA}%s\nbroken line\nx:\n\ngood2:$1$abcdefgh$HM9rCrfhbYbe9GS1cB3iI/\n' \
    "$(python3 -c 'import base64,hashlib;print(base64.b64encode(hashlib.sha1(b"pwSALT").digest()+b"SALT").decode())')" \
    >"$WORK/bad.htpasswd"
vs import htpasswd "$WORK/bad.htpasswd" >"$WORK/out" 2>"$WORK/err"
check "import with bad lines exits 6" test $? -eq 6
expect_in "$WORK/err" "bad.htpasswd:2:" "bad line 2 is reported with its number"
expect_in "$WORK/err" "bad.htpasswd:3:" "bad line 3 is reported with its number"
expect_in "$WORK/out" "nothing imported" "all or nothing without --partial"
expect_exit 1 "nothing of it was imported" vs user show good1
vs import htpasswd "$WORK/bad.htpasswd" --partial >"$WORK/out" 2>"$WORK/err"
check "--partial still exits 6 when lines were skipped" test $? -eq 6
expect_in "$WORK/out" "imported 2 user(s), skipped 2 bad line(s)" "--partial imports the good lines"
expect_exit 0 "good1 exists after --partial" vs user show good1

# --- the uid/gid floor (uid_min, gid_min; default 500) ---
cat >"$WORK/floor.passwd" <<'X'
# dovecot-passwd: uid and gid positional, or userdb_uid/userdb_gid
fl1:{PLAIN}pw1:5000:5000::/home/fl1
root:{PLAIN}pw2:0:0::/root
fl3:{PLAIN}pw3:5003:5003::/home/fl3::userdb_uid=0
fl4:{PLAIN}pw4:5004:100::/home/fl4
fl5:{PLAIN}pw5:500:500::/home/fl5
X
vs import dovecot-passwd "$WORK/floor.passwd" >"$WORK/out" 2>"$WORK/err"
check "import of uids below the floor exits 6" test $? -eq 6
expect_in "$WORK/err" "floor.passwd:3: login 'root': uid 0 is below uid_min 500" "uid 0 refused with its line number"
expect_in "$WORK/err" "floor.passwd:4: login 'fl3': uid 0 is below uid_min 500" "userdb_uid=0 refused with its line number"
expect_in "$WORK/err" "floor.passwd:5: login 'fl4': gid 100 is below gid_min 500" "a gid below the floor refused with its line number"
expect_not_in "$WORK/err" "floor.passwd:6:" "uid and gid 500 (the floor itself) are fine"
expect_not_in "$WORK/err" "pw2" "the refusal never quotes the password field"
expect_in "$WORK/out" "nothing imported" "all or nothing with low uids"
expect_exit 1 "not even the good line was imported" vs user show fl1
vs import dovecot-passwd "$WORK/floor.passwd" --partial >"$WORK/out" 2>"$WORK/err"
expect_in "$WORK/out" "imported 2 user(s), skipped 3 bad line(s)" "--partial imports the users at or above the floor"
expect_exit 1 "root was not imported" vs user show root
vs user show fl5 --json >"$WORK/out"
check "the floor itself is allowed (uid 500, gid 500)" python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['uid']==500 and d['gid']==500" "$WORK/out"
printf 'fl6:{PLAIN}pw6\n' >"$WORK/floor.htpasswd"
expect_exit 2 "import htpasswd --uid 0 is refused" vs import htpasswd "$WORK/floor.htpasswd" --uid 0
expect_in "$WORK/last.out" "--uid 0 is below uid_min 500" "import --uid 0: the reason"
expect_exit 2 "import htpasswd --gid 499 is refused" vs import htpasswd "$WORK/floor.htpasswd" --uid 5000 --gid 499
expect_exit 1 "nothing was imported with a low --uid/--gid" vs user show fl6
expect_exit 2 "user add --uid 0 is refused" vs user add fl7 --uid 0 --no-password
expect_in "$WORK/last.out" "login 'fl7': uid 0 is below uid_min 500" "user add --uid 0: the reason"
expect_exit 1 "the refused user was not added" vs user show fl7
expect_exit 2 "user set --uid 0 is refused" vs user set fl1 --uid 0
expect_exit 2 "user set --gid 499 is refused" vs user set fl1 --gid 499
vs user show fl1 --json >"$WORK/out"
check "a refused user set changed nothing" python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['uid']==5000 and d['gid']==5000" "$WORK/out"
check "user set --uid 500 is allowed" vs user set fl1 --uid 500
# The floor comes from vmseal.conf (-c).
printf 'uid_min = 1000\ngid_min = 0\n' >"$WORK/floor.conf"
vsc() { "$VMSEAL" -c "$WORK/floor.conf" -d "$STORE" --passphrase-fd 3 "$@" 3<<<"$PASS"; }
expect_exit 2 "uid_min = 1000 in vmseal.conf: --uid 999 refused" vsc user set fl1 --uid 999
expect_in "$WORK/last.out" "uid 999 is below uid_min 1000" "the configured floor is named"
expect_exit 0 "gid_min = 0 in vmseal.conf: gid 0 allowed" vsc user set fl1 --uid 1000 --gid 0
expect_exit 0 "the configured floor applies to import too" vsc import htpasswd "$WORK/floor.htpasswd" --uid 1000 --gid 0

# --- users, passwords, aliases through the CLI ---
check "user add with a password from a descriptor (--no-policy)" vs user add carol --no-policy \
    --address carol@somedomain.ie --password-fd 4 4<<<"carols password"
vs user show carol >"$WORK/out"
expect_in "$WORK/out" "argon2id" "new passwords are Argon2id"
check "alias catch-all" vs alias add @somedomain.ie alice@somedomain.ie
check "alias with two destinations" vs alias add Info@SomeDomain.ie carol@somedomain.ie,ron@linuxcoaching.eu
vs alias list >"$WORK/out"
expect_in "$WORK/out" "info@somedomain.ie	carol@somedomain.ie,ron@linuxcoaching.eu" "alias list shows normalized aliases"
check "user disable" vs user disable carol
vs user show carol --json >"$WORK/out"
expect_in "$WORK/out" '"enabled":false' "disabled user shows enabled:false"
vs user list --legacy >"$WORK/out"
expect_in "$WORK/out" "ron	enabled	des-crypt" "user list --legacy lists imported hashes"
expect_not_in "$WORK/out" "carol" "user list --legacy leaves Argon2id users out"

# --- export ---
vs export --format htpasswd >"$WORK/export" 2>"$WORK/err"
expect_in "$WORK/err" "in the clear" "export warns on stderr"
expect_in "$WORK/export" "ron:hLILWelxS7E82" "export htpasswd gives the hash back as imported"
vs export --format postfix-map >"$WORK/out" 2>/dev/null
expect_in "$WORK/out" "alice@somedomain.ie alice" "export postfix-map"
vs export -o "$WORK/export.json" 2>/dev/null
check "export -o writes mode 0600" test "$(stat -c %a "$WORK/export.json")" = 600
expect_exit 5 "export -o does not overwrite an existing file" vs export -o "$WORK/export.json" 2>/dev/null
# Built in a wiping buffer (lib/buf.h) that grows many times: whole.
check "export json holds every user and alias" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
logins = {u['login'] for u in d['users']}
assert len(d['users']) >= 1005 and {'ron', 'alice', 'carol', 'fl1'} <= logins, len(d['users'])
assert any(a['address'] == 'info@somedomain.ie' for a in d['aliases'])
assert d['format'] == 'vmseal-export-1'
" "$WORK/export.json"
vs export --format dovecot-passwd >"$WORK/export.passwd" 2>/dev/null
check "export dovecot-passwd has a line per user" test "$(grep -c . "$WORK/export.passwd")" -eq "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['users']))" "$WORK/export.json")"
expect_in "$WORK/export.passwd" "fl1:" "export dovecot-passwd names fl1"

# --- tampering with the files is detected (mdb_dump/mdb_load) ---
if command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null; then
	mdb_dump -s users "$STORE" >"$WORK/users.dump"
	python3 - "$WORK/users.dump" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
start = lines.index("HEADER=END") + 1
# Data lines come in pairs: " key" / " value" (hex).  Swap the values of
# the first two records: each now sits under the other's key.
v1, v2 = lines[start + 1], lines[start + 3]
lines[start + 1], lines[start + 3] = v2, v1
open(p + ".swapped", "w").write("\n".join(lines))
# And flip one byte in the middle of the first value.
h = v1.strip()
mid = len(h) // 2
flipped = h[:mid] + ("0" if h[mid] != "0" else "1") + h[mid + 1:]
lines[start + 1], lines[start + 3] = " " + flipped, v2
open(p + ".flipped", "w").write("\n".join(lines))
PY
	cp -a "$STORE" "$WORK/store.orig"
	mdb_load -s users -f "$WORK/users.dump.flipped" "$STORE" 2>/dev/null
	vs user list >"$WORK/out" 2>"$WORK/err"
	check "a flipped byte makes reading fail with exit 4" test $? -eq 4
	expect_in "$WORK/err" "failed to authenticate" "a flipped byte is reported as tampering"
	rm -rf "$STORE"; cp -a "$WORK/store.orig" "$STORE"
	mdb_load -s users -f "$WORK/users.dump.swapped" "$STORE" 2>/dev/null
	vs user list >"$WORK/out" 2>"$WORK/err"
	check "a record moved to another key fails with exit 4" test $? -eq 4
	expect_in "$WORK/err" "failed to authenticate" "a moved record is reported as tampering"
	rm -rf "$STORE"; cp -a "$WORK/store.orig" "$STORE"
	expect_exit 0 "the untouched store still reads" vs user list >/dev/null
else
	t_fail "mdb_dump/mdb_load missing (apt-get install lmdb-utils)"
fi

# --- one writer at a time ---
exec 9>"$STORE/vmseal.lock"
flock -n 9
vs domain add locked.org >"$WORK/out" 2>"$WORK/err"
check "a second writer is refused with exit 4" test $? -eq 4
expect_in "$WORK/err" "in use by another writer" "the lock is explained"
exec 9>&-

t_done
