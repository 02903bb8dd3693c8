#!/usr/bin/env bash
# tests/bench/import.sh - benchmark: import N virtual users into a vmseal
# store, against Postfix's own postmap building the plaintext map from the
# same input (the seed setup), measured in the same run on the same machine.
#
# This is a benchmark, not a test: it prints figures and ratios and fails
# only if a step fails.
#
# usage: tests/bench/import.sh [VMSEAL]
#   VMSEAL        vmseal binary: first argument, else $VMSEAL, else
#                 ../../helper/vmseal from this script, else ./helper/vmseal
#   BENCH_USERS   number of users (default 100000)
#   BENCH_DOMAINS number of domains the addresses are spread over (10)
#   BENCH_REPEAT  runs of each step; the best (lowest wall time) is
#                 reported (default 3; the machine may be shared)
#   BENCH_KEEP=1  keep the work folder (its path is printed)
#   BENCH_NO_POSTFIX=1  act as if Postfix were not installed (mdb_load
#                 baseline)
#
# What is measured (wall time; user and system CPU; peak RSS when GNU time
# is there):
#   cp          copy of the htpasswd file: the floor of "write N lines"
#   postmap     postmap lmdb:MAP (hash:MAP if Postfix has no lmdb) of the
#               N-line "address login" map; without Postfix, mdb_load -T of
#               an equivalent plaintext dump (said so in the output)
#   init        vmseal init (unseal cost 1:8, hash cost 1:8)
#   import-users    vmseal import htpasswd (N users, legacy hashes kept)
#   import-map      vmseal import postfix-map (N addresses, domains added)
#   user-list   vmseal user list: opens (decrypts) every user record
#   user-show   vmseal user show (best of 5); with unseal cost 1:8 the
#               Argon2id unseal is negligible, so this is the open + lookup +
#               decrypt cost of one command
#   domain-list vmseal domain list (best of 5) on the same store: a command
#               that does little but open and unseal, for comparison
# Every import starts from a new store.  Wall time suffers when the machine
# is busy (the load average is printed); user+sys CPU much less so, and the
# ratios are given for both.
set -eu
set -o pipefail

. "$(dirname "$0")/lib.sh"

N=${BENCH_USERS:-100000}
NDOM=${BENCH_DOMAINS:-10}
REPEAT=${BENCH_REPEAT:-3}
UNSEAL_COST=1:8
HASH_COST=1:8
PASS='bench passphrase'


case $N in ''|*[!0-9]*) die "BENCH_USERS must be a number, not '$N'" ;; esac
case $NDOM in ''|*[!0-9]*) die "BENCH_DOMAINS must be a number" ;; esac
case $REPEAT in ''|*[!0-9]*) die "BENCH_REPEAT must be a number" ;; esac
[ "$REPEAT" -ge 1 ] || die "BENCH_REPEAT must be at least 1"
[ "$N" -ge 1 ] || die "BENCH_USERS must be at least 1"
[ "$NDOM" -ge 1 ] || die "BENCH_DOMAINS must be at least 1"

# --- the binary ---
bench_vmseal "$@"

for t in awk openssl du stat cp; do
	command -v "$t" >/dev/null 2>&1 || die "needs $t"
done

POSTMAP=$(find_tool postmap || true)
POSTCONF=$(find_tool postconf || true)
MDB_LOAD=$(find_tool mdb_load || true)
[ "${BENCH_NO_POSTFIX:-0}" = 1 ] && POSTMAP= POSTCONF=
MDB_STAT=$(find_tool mdb_stat || true)
MDB_COPY=$(find_tool mdb_copy || true)

bench_workdir vmseal-bench
STORE=$W/store

# Timing (run, run_best, keep_best), figures and the work folder:
# tests/bench/lib.sh.

# --- parameters and versions ---
echo "== vmseal import benchmark"
echo "users:          $N over $NDOM domains (one address per user)"
echo "vmseal:         $VMSEAL ($("$VMSEAL" -V 2>&1 | head -n 1))"
echo "store costs:    --unseal-cost $UNSEAL_COST --hash-cost $HASH_COST" \
    "(cheap: the unseal of each command is negligible)"
if [ -n "$POSTCONF" ]; then
	echo "postfix:        $("$POSTCONF" -h mail_version 2>/dev/null ||
	    echo '?') ($POSTMAP)"
else
	echo "postfix:        not found"
fi
[ -n "$MDB_STAT" ] && echo "lmdb:           $("$MDB_STAT" -V 2>&1 | head -n 1)"
echo "openssl:        $(openssl version 2>&1)"
bench_machine
echo "work folder:    $W ($(df -PT "$W" 2>/dev/null | awk 'NR == 2 { print $2 }'))"
echo "timer:          bash time (wall, user, sys)${GNU_TIME:+; peak RSS from $GNU_TIME};" \
    "best of $REPEAT"
LOAD_START=$(loadavg)
echo "load average:   $LOAD_START (at start)"

# --- input ---
# A few real hashes, reused cyclically: generating input takes a second.
# Even users get a $6$ SHA-512-crypt hash, odd users an {SSHA} one.
echo
echo "== generating input"
gen_start=$EPOCHREALTIME
POOL=16
: >"$W/pool6"
: >"$W/poolssha"
sha512_ok=1
for ((i = 0; i < POOL; i++)); do
	salt=$(printf 'bench%03dsalt%03d' "$i" "$i")
	if [ "$sha512_ok" = 1 ] &&
	    h=$(openssl passwd -6 -salt "$salt" "pw$i" 2>/dev/null) &&
	    [ "${h#\$6\$}" != "$h" ]; then
		echo "$h" >>"$W/pool6"
	else
		sha512_ok=0
	fi
	s4=$(printf 's%03d' "$i")
	h=$({ printf '%s%s' "pw$i" "$s4" | openssl dgst -sha1 -binary
	    printf '%s' "$s4"; } | openssl base64 -A)
	echo "{SSHA}$h" >>"$W/poolssha"
done
[ "$sha512_ok" = 1 ] || {
	echo "note: openssl passwd -6 is not available: {SSHA} hashes only"
	cp "$W/poolssha" "$W/pool6"
}
awk -v n="$N" -v nd="$NDOM" -v pool="$POOL" \
    -v users="$W/htpasswd" -v map="$W/virtual_mailbox_map" \
    -v dump="$W/map.txt" '
	FILENAME == ARGV[1] { h6[c6++] = $0; next }
	FILENAME == ARGV[2] { hs[cs++] = $0; next }
	END {
		for (i = 1; i <= n; i++) {
			login = sprintf("user%07d", i)
			addr = sprintf("%s@dom%02d.example", login, i % nd)
			h = (i % 2 == 0) ? h6[i % c6] : hs[i % cs]
			print login ":" h > users
			print addr " " login > map
			# mdb_load -T: key line, value line (as postmap
			# stores them: with the NUL)
			print addr "\\00" > dump
			print login "\\00" > dump
		}
	}' "$W/pool6" "$W/poolssha"
gen_end=$EPOCHREALTIME
HT_BYTES=$(apparent "$W/htpasswd")
MAP_BYTES=$(apparent "$W/virtual_mailbox_map")
PLAIN_BYTES=$((HT_BYTES + MAP_BYTES))
echo "htpasswd:            $N lines, $HT_BYTES bytes ($(human "$HT_BYTES"))"
echo "virtual_mailbox_map: $N lines, $MAP_BYTES bytes ($(human "$MAP_BYTES"))"
echo "generated in $(awk -v a="$gen_start" -v b="$gen_end" \
    'BEGIN { printf "%.2f", b - a }') s"

# --- baseline ---
echo
echo "== baseline"
run_best cp "$REPEAT" cp "$W/htpasswd" "$W/htpasswd.copy"
BASE_KIND=
if [ -n "$POSTMAP" ]; then
	if [ -n "$POSTCONF" ] && "$POSTCONF" -m 2>/dev/null | grep -qx lmdb; then
		BASE_KIND=lmdb
	elif [ -n "$POSTCONF" ] && "$POSTCONF" -m 2>/dev/null | grep -qx hash; then
		BASE_KIND=hash
		echo "note: this Postfix has no lmdb map type: baseline is" \
		    "postmap hash: (Berkeley DB)"
	fi
fi
if [ -n "$BASE_KIND" ]; then
	BASE_LABEL="postmap $BASE_KIND:"
	if [ "$BASE_KIND" = lmdb ]; then
		BASE_FILE=$W/virtual_mailbox_map.lmdb
	else
		BASE_FILE=$W/virtual_mailbox_map.db
	fi
	# From scratch each time: postmap over an existing .lmdb empties
	# it and leaves the file grown.
	for ((i = 0; i < REPEAT; i++)); do
		rm -f "$BASE_FILE" "$BASE_FILE-lock"
		run postmap.try "$POSTMAP" "$BASE_KIND:$W/virtual_mailbox_map"
		keep_best postmap postmap.try
	done
	# Check that the map answers, as Postfix would query it.
	q=$("$POSTMAP" -q "user$(printf %07d "$N")@dom$(printf %02d \
	    $((N % NDOM))).example" "$BASE_KIND:$W/virtual_mailbox_map")
	[ "$q" = "user$(printf %07d "$N")" ] ||
		die "postmap -q gave '$q'"
elif [ -n "$MDB_LOAD" ]; then
	BASE_KIND=mdb_load
	BASE_LABEL="mdb_load -T"
	echo "note: Postfix (postmap) is not available: the baseline is" \
	    "mdb_load -T of the same N key/value pairs (what postmap lmdb:" \
	    "would write), not postmap itself"
	for ((i = 0; i < REPEAT; i++)); do
		rm -f "$W/map.mdb" "$W/map.mdb-lock"
		run postmap.try "$MDB_LOAD" -n -T -f "$W/map.txt" "$W/map.mdb"
		keep_best postmap postmap.try
	done
	BASE_FILE=$W/map.mdb
else
	die "neither postmap (package postfix, postfix-lmdb) nor mdb_load" \
	    "(package lmdb-utils) is installed: no baseline"
fi
[ -f "$BASE_FILE" ] || die "baseline wrote no $BASE_FILE"
BASE_APP=$(apparent "$BASE_FILE")
BASE_DU=$(allocated "$BASE_FILE")
echo "$BASE_LABEL ${T_REAL[postmap]} s -> $BASE_APP bytes"

# --- vmseal ---
echo
echo "== vmseal"
for ((i = 1; i <= REPEAT; i++)); do
	rm -rf "$STORE"
	run init.try "$VMSEAL" -d "$STORE" init --passphrase-fd 3 \
	    --unseal-cost "$UNSEAL_COST" --hash-cost "$HASH_COST"
	keep_best init init.try
	run import_users.try "$VMSEAL" -d "$STORE" --passphrase-fd 3 \
	    import htpasswd "$W/htpasswd" --uid 5000 --gid 5000 \
	    --home '/var/vmail/%n'
	keep_best import_users import_users.try
	U_APP=$(apparent "$STORE/data.mdb")
	U_DU=$(allocated "$STORE/data.mdb")
	run import_map.try "$VMSEAL" -d "$STORE" --passphrase-fd 3 \
	    import postfix-map "$W/virtual_mailbox_map"
	keep_best import_map import_map.try
	S_APP=$(apparent "$STORE/data.mdb")
	S_DU=$(allocated "$STORE/data.mdb")
	echo "run $i: import htpasswd ${T_REAL[import_users.try]} s," \
	    "import postfix-map ${T_REAL[import_map.try]} s (wall)"
done
cat "$W/import_users.try.out" "$W/import_map.try.out"
run_best user_list "$REPEAT" "$VMSEAL" -d "$STORE" --passphrase-fd 3 \
    user list
LISTED=$(wc -l <"$W/user_list.out")
# user list may print a header line: accept N or N+1 lines.
[ "$LISTED" -eq "$N" ] || [ "$LISTED" -eq $((N + 1)) ] ||
	die "user list printed $LISTED lines for $N users"
SHOW_LOGIN=user$(printf %07d $(((N + 1) / 2)))
run_best user_show 5 "$VMSEAL" -d "$STORE" --passphrase-fd 3 user show \
    "$SHOW_LOGIN"
grep -q "$SHOW_LOGIN" "$W/user_show.out" ||
	die "user show $SHOW_LOGIN did not name the user"
# The cost of a command that does nothing but unseal: subtract it from
# user show to see the lookup itself.
run_best domain_list 5 "$VMSEAL" -d "$STORE" --passphrase-fd 3 domain list
echo "user list: $LISTED lines; user show $SHOW_LOGIN: ok"
# What the store would take without the pages freed during the import
# (mdb_copy -c writes a compacted copy).
C_APP=
if [ -n "$MDB_COPY" ] && mkdir "$W/compact" &&
    "$MDB_COPY" -c "$STORE" "$W/compact" 2>/dev/null; then
	C_APP=$(apparent "$W/compact/data.mdb")
	C_DU=$(allocated "$W/compact/data.mdb")
fi
if [ -n "$MDB_STAT" ]; then
	echo "store pages (mdb_stat -ef):"
	"$MDB_STAT" -ef "$STORE" 2>/dev/null | awk '
		/Page size/ || /Number of pages used/ || /Free pages/ {
			sub(/^ +/, ""); print "  " $0 }' | head -n 3 || true
	"$MDB_STAT" -a "$STORE" 2>/dev/null | awk '
		/^Status of/ { db = $3 }
		/Entries:/ && db != "" { e[db] = $2 }
		/Leaf pages:/ && db != "" { l[db] = $3 }
		/Overflow pages:/ && db != "" { o[db] = $3 }
		END { for (d in e) printf "  table %-10s %8d entries, " \
		    "%6d leaf pages, %6d overflow pages\n", d, e[d], l[d], o[d] }' |
	    sort || true
fi

# --- table ---
row() {
	local label=$1 name=$2 items=$3 rate
	rate=$(div "$items" "${T_REAL[$label]}" '%.0f')
	[ "$items" = 0 ] && rate=-
	printf '%-26s %9s %9s %9s %9s %10s\n' "$name" "${T_REAL[$label]}" \
	    "${T_USER[$label]}" "${T_SYS[$label]}" \
	    "$(if [ "${T_RSS[$label]}" = - ]; then echo -; else
	    echo "$((${T_RSS[$label]} / 1024))M"; fi)" "$rate"
}
TOTAL_IMPORT=$(awk -v a="${T_REAL[import_users]}" \
    -v b="${T_REAL[import_map]}" 'BEGIN { printf "%.3f", a + b }')
TOTAL_CPU=$(awk -v a="$(cpu import_users)" -v b="$(cpu import_map)" \
    'BEGIN { printf "%.3f", a + b }')
LOAD_END=$(loadavg)
echo
echo "== results (N=$N, best of $REPEAT; user show and domain list best of 5;" \
    "load average $LOAD_START at start, $LOAD_END at end)"
printf '%-26s %9s %9s %9s %9s %10s\n' step "wall s" "user s" "sys s" \
    "peak RSS" "items/s"
row cp "cp htpasswd (floor)" 0
row postmap "$BASE_LABEL map" "$N"
row init "vmseal init" 0
row import_users "vmseal import htpasswd" "$N"
row import_map "vmseal import postfix-map" "$N"
row user_list "vmseal user list" "$N"
row user_show "vmseal user show" 0
row domain_list "vmseal domain list" 0
printf '%-26s %9s %19s\n' "vmseal import, both" "$TOTAL_IMPORT" \
    "(cpu $TOTAL_CPU)"
echo
printf '%-34s %12s %12s %10s\n' size apparent "du" "B/user"
sz() {
	printf '%-34s %12s %12s %10s\n' "$1" "$2" "$3" "$(div "$2" "$N" '%.0f')"
}
sz "htpasswd (plaintext)" "$HT_BYTES" "$(allocated "$W/htpasswd")"
sz "virtual_mailbox_map (plaintext)" "$MAP_BYTES" \
    "$(allocated "$W/virtual_mailbox_map")"
sz "plaintext, both" "$PLAIN_BYTES" "-"
sz "$BASE_LABEL output" "$BASE_APP" "$BASE_DU"
sz "vmseal data.mdb after users" "$U_APP" "$U_DU"
sz "vmseal data.mdb after addresses" "$S_APP" "$S_DU"
[ -z "$C_APP" ] || sz "  the same, mdb_copy -c compacted" "$C_APP" "$C_DU"
echo
BASE_CPU=$(cpu postmap)
echo "ratios                                                  wall      cpu"
ratio() {
	printf '  %-50s %8s %8s\n' "$1" "$(div "${T_REAL[$2]}" \
	    "${T_REAL[$3]}" "${4:-%.2f}")x" "$(div "$(cpu "$2")" \
	    "$(cpu "$3")" "${4:-%.2f}")x"
}
ratio "import htpasswd / $BASE_LABEL" import_users postmap
ratio "import postfix-map / $BASE_LABEL" import_map postmap
printf '  %-50s %8s %8s\n' "both imports / $BASE_LABEL" \
    "$(div "$TOTAL_IMPORT" "${T_REAL[postmap]}")x" \
    "$(div "$TOTAL_CPU" "$BASE_CPU")x"
ratio "import postfix-map / import htpasswd" import_map import_users
ratio "import htpasswd / cp" import_users cp '%.0f'
ratio "user list / $BASE_LABEL" user_list postmap
printf '  %-50s %8s\n' \
    "store / plaintext htpasswd+map (apparent size)" \
    "$(div "$S_APP" "$PLAIN_BYTES")x" \
    "store / plaintext htpasswd+map (du)" \
    "$(div "$S_DU" "$PLAIN_BYTES")x" \
    "store / $BASE_LABEL output (apparent size)" \
    "$(div "$S_APP" "$BASE_APP")x"
echo
echo "notes: one transaction per import; hashes are a pool of $POOL" \
    "\$6\$ and $POOL {SSHA} reused"
echo "cyclically (import keeps legacy hashes as they are, so their" \
    "content does not"
echo "change the work); 'user show' at unseal cost $UNSEAL_COST is" \
    "mostly open + lookup +"
echo "decrypt, 'domain list' on the same store is a command that" \
    "only unseals."
