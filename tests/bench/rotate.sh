#!/usr/bin/env bash
# tests/bench/rotate.sh - benchmark: vmseal --offline rotate (a new root key,
# every record re-sealed and re-indexed in one LMDB transaction) on a store
# of N users with addresses, against reading that same store once (a JSON
# export: every record decrypted; and mdb_copy -c: a raw compacted copy),
# measured in the same run on the same machine.  Then the unseal cost every
# offline command pays at the default key-slot cost (Argon2id MODERATE,
# ops 3, 256 MiB), against the same command on a store with the cheap slot
# cost 1:8, and the raw Argon2id time at MODERATE (tests/bench/argon_rate).
#
# This is a benchmark, not a test: it prints figures and ratios and fails
# only if a step fails.
#
# usage: tests/bench/rotate.sh [VMSEAL]
#   VMSEAL        vmseal binary: first argument, else $VMSEAL, else
#                 ../../helper/vmseal from this script, else ./helper/vmseal
#   ARGON_RATE    tests/bench/argon_rate (else next to VMSEAL's build tree);
#                 without it the raw Argon2id figure is skipped
#   BENCH_USERS   number of users (default 100000); each has one address
#   BENCH_DOMAINS number of domains the addresses are spread over (10)
#   BENCH_REPEAT  runs of each step; the best (lowest wall time) is
#                 reported (default 3; the machine may be shared)
#   BENCH_KEEP=1  keep the work folder (its path is printed)
#
# What is measured (wall time; user and system CPU; peak RSS when GNU time
# is there).  Part 1, the store of N users (unseal cost 1:8 and hash cost
# 1:8, so the Argon2id of opening the store is negligible; {SSHA} legacy
# hashes from a pool, kept as they are by the import):
#   rotate        vmseal --offline rotate --passphrase-fd 3; every try on a
#                 fresh copy of the same store (rotate keeps the slot cost
#                 of the passphrase, here 1:8)
#   export json   vmseal --offline export --format json --force -o FILE: a
#                 full decrypt of every record, written out (fresh copy)
#   mdb_copy -c   a raw compacted copy of the store: reading every page once
# Part 2, a small store (100 users) made twice, with the default slot cost
# (init without --unseal-cost) and with --unseal-cost 1:8:
#   domain list   vmseal --offline --passphrase-fd 3 domain list on each;
#                 the difference is the Argon2id derivation of the slot key
#   rotate        vmseal --offline rotate on the small default-cost store
#                 (derives the slot key to open, again in store_slot_match
#                 to find the passphrase's slot, then wraps the new key at
#                 the same cost: three derivations)
#   argon_rate    crypto_pwhash_str_verify at 3:262144, one thread: the raw
#                 derivation, nothing around it
set -eu
set -o pipefail

. "$(dirname "$0")/lib.sh"

N=${BENCH_USERS:-100000}
NDOM=${BENCH_DOMAINS:-10}
REPEAT=${BENCH_REPEAT:-3}
UNSEAL_COST=1:8
HASH_COST=1:8
MODERATE=3:262144
SMALL=100
PASS='bench passphrase'


case $N in ''|*[!0-9]*) die "BENCH_USERS must be a number, not '$N'" ;; esac
case $NDOM in ''|*[!0-9]*) die "BENCH_DOMAINS must be a number" ;; esac
case $REPEAT in ''|*[!0-9]*) die "BENCH_REPEAT must be a number" ;; esac
[ "$REPEAT" -ge 1 ] || die "BENCH_REPEAT must be at least 1"
[ "$N" -ge 1 ] || die "BENCH_USERS must be at least 1"
[ "$NDOM" -ge 1 ] || die "BENCH_DOMAINS must be at least 1"
[ "$SMALL" -le "$N" ] || SMALL=$N

# --- the binaries ---
bench_vmseal "$@"
if [ -z "${ARGON_RATE:-}" ] || [ ! -x "$ARGON_RATE" ]; then
	ARGON_RATE=$(dirname "$VMSEAL")/../tests/bench/argon_rate
	[ -x "$ARGON_RATE" ] || ARGON_RATE=
fi

for t in awk openssl du stat cp; do
	command -v "$t" >/dev/null 2>&1 || die "needs $t"
done

MDB_STAT=$(find_tool mdb_stat || true)
MDB_COPY=$(find_tool mdb_copy || true)

bench_workdir vmseal-bench

# Timing (run, run_best, keep_best), figures and the work folder:
# tests/bench/lib.sh.



# fresh SRC DST: DST becomes a copy of the store SRC (not timed).
fresh() { rm -rf "$2"; cp -a "$1" "$2"; }

# entries STORE: "users addresses domains aliases events audit meta" counts
# from mdb_stat -a (or nothing without mdb_stat).
entries() {
	[ -n "$MDB_STAT" ] || return 0
	"$MDB_STAT" -a "$1" 2>/dev/null | awk '
		/^Status of/ { db = $3 }
		/Entries:/ && db != "" { e[db] = $2 }
		END { printf "%d %d %d %d %d %d %d\n", e["users"],
		    e["addresses"], e["domains"], e["aliases"], e["events"],
		    e["audit"], e["meta"] }'
}

# --- parameters and versions ---
echo "== vmseal rotate benchmark"
echo "users:          $N over $NDOM domains (one address per user)"
echo "vmseal:         $VMSEAL ($("$VMSEAL" -V 2>&1 | head -n 1))"
echo "big store:      --unseal-cost $UNSEAL_COST --hash-cost $HASH_COST" \
    "(the unseal of each command is negligible)"
echo "small store:    $SMALL users, default slot cost (MODERATE $MODERATE)" \
    "and --unseal-cost $UNSEAL_COST"
[ -n "$MDB_STAT" ] && echo "lmdb:           $("$MDB_STAT" -V 2>&1 | head -n 1)"
echo "argon_rate:     ${ARGON_RATE:-not found (raw Argon2id figure skipped)}"
bench_machine
echo "work folder:    $W ($(df -PT "$W" 2>/dev/null | awk 'NR == 2 { print $2 }'))"
echo "timer:          bash time (wall, user, sys)${GNU_TIME:+; peak RSS from $GNU_TIME};" \
    "best of $REPEAT"
LOAD_START=$(loadavg)
echo "load average:   $LOAD_START (at start)"

# --- input: N users with {SSHA} hashes from a pool, N addresses ---
echo
echo "== generating input and the store of $N users (not timed)"
POOL=16
: >"$W/poolssha"
for ((i = 0; i < POOL; i++)); do
	s4=$(printf 's%03d' "$i")
	h=$({ printf '%s%s' "pw$i" "$s4" | openssl dgst -sha1 -binary
	    printf '%s' "$s4"; } | openssl base64 -A)
	echo "{SSHA}$h" >>"$W/poolssha"
done
awk -v n="$N" -v nd="$NDOM" -v users="$W/htpasswd" \
    -v map="$W/virtual_mailbox_map" '
	{ hs[c++] = $0 }
	END {
		for (i = 1; i <= n; i++) {
			login = sprintf("user%07d", i)
			print login ":" hs[i % c] > users
			printf "%s@dom%02d.example %s\n", login, i % nd, \
			    login > map
		}
	}' "$W/poolssha"
head -n "$SMALL" "$W/htpasswd" >"$W/htpasswd.small"

BIG0=$W/big0
build_t0=$EPOCHREALTIME
run b_init "$VMSEAL" -d "$BIG0" init --passphrase-fd 3 \
    --unseal-cost "$UNSEAL_COST" --hash-cost "$HASH_COST"
run b_users "$VMSEAL" -d "$BIG0" --offline --passphrase-fd 3 \
    import htpasswd "$W/htpasswd" --uid 5000 --gid 5000 --home '/var/vmail/%n'
run b_map "$VMSEAL" -d "$BIG0" --offline --passphrase-fd 3 \
    import postfix-map "$W/virtual_mailbox_map"
build_t1=$EPOCHREALTIME
cat "$W/b_users.out" "$W/b_map.out"
echo "built in $(awk -v a="$build_t0" -v b="$build_t1" \
    'BEGIN { printf "%.2f", b - a }') s"
B_APP=$(apparent "$BIG0/data.mdb")
B_DU=$(allocated "$BIG0/data.mdb")
read -r E_USERS E_ADDRS E_DOMS E_ALIASES E_EVENTS E_AUDIT E_META \
    <<<"$(entries "$BIG0")" || true
# The records rotate re-seals: the named tables, the logs, and a few meta.
if [ -n "${E_USERS:-}" ]; then
	RECORDS=$((E_USERS + E_ADDRS + E_DOMS + E_ALIASES + E_EVENTS + E_AUDIT))
	echo "records: $E_USERS users, $E_ADDRS addresses, $E_DOMS domains," \
	    "$E_ALIASES aliases, $E_EVENTS events, $E_AUDIT audit" \
	    "(= $RECORDS), $E_META meta"
else
	RECORDS=$((2 * N + NDOM))
	echo "records: about $RECORDS (no mdb_stat to count them)"
fi

# --- part 1: rotate against reading the store once ---
echo
echo "== part 1: rotate vs. reading every record once ($N users)"
BIG=$W/big
for ((i = 1; i <= REPEAT; i++)); do
	fresh "$BIG0" "$BIG"
	run rotate.try "$VMSEAL" -d "$BIG" --offline rotate --passphrase-fd 3
	grep -q '^rotated' "$W/rotate.try.out" ||
		die "rotate did not say it rotated"
	keep_best rotate rotate.try
	if [ "$i" = 1 ]; then
		R_APP=$(apparent "$BIG/data.mdb")
		R_DU=$(allocated "$BIG/data.mdb")
		# The rotated store opens with the same passphrase and
		# still has the users.
		LOGIN=user$(printf %07d "$N")
		run check "$VMSEAL" -d "$BIG" --offline --passphrase-fd 3 \
		    user show "$LOGIN"
		grep -q "$LOGIN" "$W/check.out" ||
			die "after rotate, user show $LOGIN did not name the user"
		RC_APP=
		if [ -n "$MDB_COPY" ] && mkdir "$W/rcompact" &&
		    "$MDB_COPY" -c "$BIG" "$W/rcompact" 2>/dev/null; then
			RC_APP=$(apparent "$W/rcompact/data.mdb")
			rm -rf "$W/rcompact"
		fi
	fi
	echo "run $i: rotate ${T_REAL[rotate.try]} s wall," \
	    "$(cpu rotate.try) s cpu"
done
for ((i = 1; i <= REPEAT; i++)); do
	fresh "$BIG0" "$BIG"
	rm -f "$W/export.json"
	run export.try "$VMSEAL" -d "$BIG" --offline --passphrase-fd 3 \
	    export --format json --force -o "$W/export.json"
	keep_best export export.try
done
EXPORT_BYTES=$(apparent "$W/export.json")
grep -q "user$(printf %07d "$N")" "$W/export.json" ||
	die "the export lacks user$(printf %07d "$N")"
rm -f "$W/export.json"
BC_APP=
if [ -n "$MDB_COPY" ]; then
	for ((i = 1; i <= REPEAT; i++)); do
		rm -rf "$W/compact"
		mkdir "$W/compact"
		run mdbcopy.try "$MDB_COPY" -c "$BIG0" "$W/compact"
		keep_best mdbcopy mdbcopy.try
	done
	BC_APP=$(apparent "$W/compact/data.mdb")
	rm -rf "$W/compact"
else
	echo "note: mdb_copy (package lmdb-utils) not found: no raw-copy" \
	    "baseline"
fi
rm -rf "$BIG"

# --- part 2: the unseal at the default slot cost ---
echo
echo "== part 2: unseal at the default slot cost ($SMALL users)"
SD=$W/small_default
SC=$W/small_cheap
run s_init_default "$VMSEAL" -d "$SD" init --passphrase-fd 3 \
    --hash-cost "$HASH_COST"
run s_import_default "$VMSEAL" -d "$SD" --offline --passphrase-fd 3 \
    import htpasswd "$W/htpasswd.small"
run s_init_cheap "$VMSEAL" -d "$SC" init --passphrase-fd 3 \
    --unseal-cost "$UNSEAL_COST" --hash-cost "$HASH_COST"
run s_import_cheap "$VMSEAL" -d "$SC" --offline --passphrase-fd 3 \
    import htpasswd "$W/htpasswd.small"
run slots "$VMSEAL" -d "$SD" --offline --passphrase-fd 3 passphrase list
echo "default store's slots:"
sed 's/^/  /' "$W/slots.out"
grep -q 'ops 3, 262144 KiB' "$W/slots.out" ||
	echo "note: the default slot cost is not ops 3, 262144 KiB (see above)"
run_best dl_default "$REPEAT" "$VMSEAL" -d "$SD" --offline \
    --passphrase-fd 3 domain list
run_best dl_cheap "$REPEAT" "$VMSEAL" -d "$SC" --offline \
    --passphrase-fd 3 domain list
for ((i = 1; i <= REPEAT; i++)); do
	fresh "$SD" "$W/small_rot"
	run s_rotate.try "$VMSEAL" -d "$W/small_rot" --offline rotate \
	    --passphrase-fd 3
	keep_best s_rotate s_rotate.try
done
rm -rf "$W/small_rot"
ARGON_LINE=
if [ -n "$ARGON_RATE" ]; then
	# One thread, no warm-up: every verification counted for 3 s.
	run argon "$ARGON_RATE" -c "$MODERATE" -t 1 -w 0 -d 3 -l moderate
	ARGON_LINE=$(tail -n 1 "$W/argon.out")
	echo "argon_rate: $ARGON_LINE"
fi
field() { tr ' ' '\n' <<<"$ARGON_LINE" | awk -F= -v k="$1" \
    '$1 == k { print $2 }'; }

# --- table ---
LOAD_END=$(loadavg)
mib() { if [ "${T_RSS[$1]}" = - ]; then echo -; else
    echo "$((${T_RSS[$1]} / 1024))M"; fi; }
row() {
	local label=$1 name=$2 items=$3 rate
	rate=$(div "$items" "${T_REAL[$label]}" '%.0f')
	[ "$items" = 0 ] && rate=-
	printf '%-34s %8s %8s %8s %8s %10s\n' "$name" "${T_REAL[$label]}" \
	    "${T_USER[$label]}" "${T_SYS[$label]}" "$(mib "$label")" "$rate"
}
echo
echo "== results (N=$N, best of $REPEAT; load average $LOAD_START at" \
    "start, $LOAD_END at end)"
echo "part 1: store of $N users + $N addresses, slot cost $UNSEAL_COST" \
    "($RECORDS records)"
printf '%-34s %8s %8s %8s %8s %10s\n' step "wall s" "user s" "sys s" \
    "peak RSS" "records/s"
row rotate "vmseal --offline rotate" "$RECORDS"
row export "vmseal export --format json" "$RECORDS"
[ -z "$BC_APP" ] || row mdbcopy "mdb_copy -c (raw compacted copy)" "$RECORDS"
printf '%-34s %8s %17s\n' "rotate per 100,000 users" \
    "$(awk -v t="${T_REAL[rotate]}" -v n="$N" \
    'BEGIN { printf "%.3f", t * 100000 / n }')" \
    "(cpu $(awk -v t="$(cpu rotate)" -v n="$N" \
    'BEGIN { printf "%.3f", t * 100000 / n }'))"
echo
printf '%-44s %12s %12s %10s\n' size apparent du B/user
sz() {
	printf '%-44s %12s %12s %10s\n' "$1" "$2" "$3" "$(div "$2" "$N" '%.0f')"
}
sz "data.mdb before rotate" "$B_APP" "$B_DU"
sz "data.mdb after rotate" "$R_APP" "$R_DU"
[ -z "$BC_APP" ] || sz "  before, mdb_copy -c compacted" "$BC_APP" -
[ -z "${RC_APP:-}" ] || sz "  after, mdb_copy -c compacted" "$RC_APP" -
sz "export json" "$EXPORT_BYTES" -
echo
echo "ratios                                              wall      cpu"
ratio() {
	printf '  %-46s %8s %8s\n' "$1" "$(div "${T_REAL[$2]}" \
	    "${T_REAL[$3]}" "${4:-%.2f}")x" "$(div "$(cpu "$2")" \
	    "$(cpu "$3")" "${4:-%.2f}")x"
}
ratio "rotate / export json" rotate export
[ -z "$BC_APP" ] || ratio "rotate / mdb_copy -c" rotate mdbcopy '%.1f'
[ -z "$BC_APP" ] || ratio "export json / mdb_copy -c" export mdbcopy '%.1f'
printf '  %-46s %8s\n' "store after / before rotate (apparent)" \
    "$(div "$R_APP" "$B_APP")x"
echo
echo "part 2: store of $SMALL users; unseal = Argon2id of the passphrase slot"
printf '%-34s %8s %8s %8s %8s\n' step "wall s" "user s" "sys s" "peak RSS"
row2() {
	printf '%-34s %8s %8s %8s %8s\n' "$2" "${T_REAL[$1]}" \
	    "${T_USER[$1]}" "${T_SYS[$1]}" "$(mib "$1")"
}
row2 s_init_default "init, default slot cost"
row2 s_init_cheap "init, --unseal-cost $UNSEAL_COST"
row2 dl_default "domain list, default slot cost"
row2 dl_cheap "domain list, --unseal-cost $UNSEAL_COST"
row2 s_rotate "rotate, default slot cost"
if [ -n "$ARGON_LINE" ]; then
	printf '%-34s %8s %17s %8s   (%s verifications; p50 %s s)\n' \
	    "argon_rate $MODERATE (mean)" \
	    "$(awk -v u="$(field mean_us)" 'BEGIN { printf "%.3f", u / 1e6 }')" \
	    "(cpu $(awk -v u="$(field cpu_us)" 'BEGIN { printf "%.3f", u / 1e6 }'))" \
	    "$(mib argon)" "$(field requests)" \
	    "$(awk -v u="$(field p50_us)" 'BEGIN { printf "%.3f", u / 1e6 }')"
fi
UNSEAL_WALL=$(awk -v a="${T_REAL[dl_default]}" -v b="${T_REAL[dl_cheap]}" \
    'BEGIN { printf "%.3f", a - b }')
UNSEAL_CPU=$(awk -v a="$(cpu dl_default)" -v b="$(cpu dl_cheap)" \
    'BEGIN { printf "%.3f", a - b }')
printf '%-34s %8s %17s\n' "unseal at default cost (difference)" \
    "$UNSEAL_WALL" "(cpu $UNSEAL_CPU)"
if [ -n "$ARGON_LINE" ]; then
	printf '  %-46s %8s %8s\n' "unseal difference / raw Argon2id" \
	    "$(div "$UNSEAL_WALL" "$(awk -v u="$(field mean_us)" \
	    'BEGIN { print u / 1e6 }')")x" \
	    "$(div "$UNSEAL_CPU" "$(awk -v u="$(field cpu_us)" \
	    'BEGIN { print u / 1e6 }')")x"
fi
ratio "domain list, default / $UNSEAL_COST slot cost" \
    dl_default dl_cheap '%.0f'
ratio "rotate / domain list, default slot cost" s_rotate dl_default
printf '  %-46s %8s\n' "rotate ($N users) / one default unseal" \
    "$(div "${T_REAL[rotate]}" "$UNSEAL_WALL")x"
echo
echo "notes: every rotate and export try runs on a fresh copy of the same" \
    "store (export"
echo "writes an audit record; rotate replaces every record); rotate keeps" \
    "the passphrase's"
echo "slot cost, so at the default cost it adds Argon2id derivations to" \
    "the re-sealing:"
echo "opening the store, store_slot_match finding the typed passphrase's" \
    "slot (it derives"
echo "again), and wrapping the new key; compare 'rotate, default slot" \
    "cost' with 'domain"
echo "list, default slot cost' (one derivation) above."
