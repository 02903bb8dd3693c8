#!/usr/bin/env bash
# tests/bench/throttle.sh - benchmark: what vmsealed's failed-login throttle
# (service/guard.c) saves under a password-guessing flood.  A blocked
# address's attempts are refused at once with the reason "throttled" and
# no hash; the baseline, measured in the same run against the same
# vmsealed, is the rate of the real Argon2id verifications each of those
# attempts would otherwise cost.
#
# This is a benchmark, not a test: it prints figures and ratios and fails
# only if a step fails (a server that does not start, a client error, a
# throttled attempt that cost a hash, a reply that is not the one
# expected).  It builds nothing: 'make bench' builds the programs and
# passes their paths.
#
# Everything is throwaway and on this machine: vmsealed on temporary
# stores, asked over its own auth socket (lib/authproto.h) by
# tests/bench/authflood.c, a raw client of that socket (no Dovecot).
# Client addresses are only strings in the requests: no traffic leaves
# the machine.
#
# usage: tests/bench/throttle.sh
#   VMSEAL, VMSEALED, AUTHFLOOD
#                 the programs (default: helper/vmseal, service/vmsealed,
#                 tests/bench/authflood under ../.. from this script,
#                 else under .)
#   BENCH_COST    Argon2id cost OPS:KIB of the store's password hashes
#                 (default 2:19456, vmseal's default)
#   BENCH_WORKERS vmsealed's hash_workers (default: the number of CPUs,
#                 vmsealed's own default)
#   BENCH_FLOOD_CONNS  connections flooding from the blocked address
#                 (default "1 8 64")
#   BENCH_SECONDS length of one measurement (default 3), after
#   BENCH_WARMUP  seconds of warm-up not counted (default 0.5)
#   BENCH_DISTINCT  distinct addresses for the memory part (default
#                 200000; 0 skips it), within
#   BENCH_DISTINCT_SECONDS  at most this long (default 40)
#   BENCH_KEEP=1  keep the work folder (its path is printed)
#
# What is measured (store at BENCH_COST, 4 users with passwords, default
# throttle: 3 failures in 120 s per address, 10 in 600 s per login):
#   verify      the baseline: wrong passwords for the 4 users from random
#               addresses in 192.0.2.0/24, which is on throttle_allow (never
#               throttled), by 2 x hash_workers connections: every request
#               is one Argon2id verification (checked against
#               auth.hash_verifications)
#   refused     after 3 wrong passwords from 10.0.0.1 (it is then
#               blocked), wrong passwords for the same users from 10.0.0.1
#               by CONNS connections: every reply must be "fail"
#               "throttled", and auth.hash_verifications must not move
#   burst       the same with 8 connections for 0.3 s after 2.5 s of
#               silence: vmsealed's event queue (10,000 events, written to
#               the store once a second) starts empty and, in 0.3 s,
#               stays below its 10,000; a sustained flood above 10,000
#               refusals/s keeps it full.  Its cpu, a few clock ticks
#               (10 ms each), is rough.
# For each: req/s (replies per second over BENCH_SECONDS, closed loop: each
# connection sends one request and waits for its reply, as
# vmseal-checkpassword or one Dovecot auth worker does), p50/p99 latency
# as the client sees it (microseconds), and vmsealed's CPU time
# (user+system, /proc/PID/stat, warm-up included) per reply, in all and in
# its main thread alone (the event loop, where the throttle runs; the rest
# is the hash workers and the event writer).  speed-up = refused/s /
# verify/s: how many more attempts the same service turns away than it
# could check.
#
# Then, unless BENCH_DISTINCT=0, the memory a flood of distinct addresses
# costs: a second vmsealed with throttle_limit = 1 (one failure blocks an
# address), throttle_max_entries above the count (nothing is evicted),
# throttle_login_limit = 64 in throttle_login_window = 1 s and 4096
# unknown login names taken in turn (so the login throttle never blocks
# and holds only 4096 entries), on a
# store at hash cost 1:8: each address's first failure costs one hash (at
# the real cost 200,000 of them would take hours), which is checked
# (hashes = addresses), as is that a second attempt from each of the first
# 20,000 is refused without a hash.  RSS is read after 4096 addresses
# (login entries, event queue and LMDB write buffers warmed) and after all
# of them; per entry = the growth of anonymous RSS / the addresses added
# (an upper bound: malloc's slack included).  The unit test
# (tests/unit/test_throttle.c) holds the table's own bound.
#
# Client and server share the machine's CPUs (nothing is pinned); the load
# average is printed at start and end.  vmsealed logs one line per failure
# and per refusal, here to a file in the work folder (in production:
# syslog), which is part of the cost measured.
set -eu
set -o pipefail

. "$(dirname "$0")/lib.sh"

COST=${BENCH_COST:-2:19456}
FLOOD_CONNS=${BENCH_FLOOD_CONNS:-1 8 64}
SECS=${BENCH_SECONDS:-3}
WARMUP=${BENCH_WARMUP:-0.5}
DISTINCT=${BENCH_DISTINCT:-200000}
DSECS=${BENCH_DISTINCT_SECONDS:-40}
WORKERS=${BENCH_WORKERS:-$NCPU}
BLOCKED=10.0.0.1
ALLOWNET=192.0.2.0/24
USERS=user1,user2,user3,user4
WRONG='not the password'
PASS='bench passphrase'
WARM=4096        # distinct part: addresses before the first RSS reading
REPLAY=20000     # distinct part: addresses asked a second time

case $COST in
	*:*) isnum "${COST%%:*}" && isnum "${COST#*:}" ||
		die "BENCH_COST must be OPS:KIB" ;;
	*) die "BENCH_COST must be OPS:KIB" ;;
esac
for c in $FLOOD_CONNS; do isnum "$c" && [ "$c" -ge 1 ] ||
	die "BENCH_FLOOD_CONNS: '$c' is not a positive number"; done
[ -n "$FLOOD_CONNS" ] || die "BENCH_FLOOD_CONNS is empty"
isreal "$SECS" || die "BENCH_SECONDS must be a number of seconds"
isreal "$WARMUP" || die "BENCH_WARMUP must be a number of seconds"
isnum "$WORKERS" && [ "$WORKERS" -ge 1 ] || die "BENCH_WORKERS must be >= 1"
isnum "$DISTINCT" || die "BENCH_DISTINCT must be a number"
[ "$DISTINCT" = 0 ] || [ "$DISTINCT" -gt $((WARM + REPLAY)) ] ||
	die "BENCH_DISTINCT must be 0 or more than $((WARM + REPLAY))"
isreal "$DSECS" || die "BENCH_DISTINCT_SECONDS must be a number of seconds"
BASE_CONNS=$((2 * WORKERS))

# --- the programs ---
bench_need_prog VMSEAL helper/vmseal
bench_need_prog VMSEALED service/vmsealed
bench_need_prog AUTHFLOOD tests/bench/authflood

for t in awk sleep grep; do
	command -v "$t" >/dev/null 2>&1 || die "needs $t"
done

bench_workdir vmseal-throttlebench

# ticks FILE: user+system clock ticks in a /proc .../stat file.  Field 2
# (comm) has no spaces for vmsealed.
ticks() { awk '{ print $14 + $15 }' "$1" 2>/dev/null || echo -; }
status_kb() {    # status_kb PID FIELD: a /proc/PID/status figure in kB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" \
	    2>/dev/null || true
}

# Who vmsealed runs as: started as root it drops to nobody.
bench_run_user

echo "== vmseal throttle benchmark (auth socket, blocked address vs real" \
    "verifications)"
echo "vmsealed:       $VMSEALED ($("$VMSEALED" -V 2>&1 | head -n 1))"
echo "client:         $AUTHFLOOD (vmsealed's auth socket, no Dovecot)"
echo "store:          Argon2id t=${COST%%:*} m=${COST#*:} KiB;" \
    "hash_workers = $WORKERS; default throttle (3 failures/120 s/address)"
echo "each:           ${SECS} s after ${WARMUP} s warm-up; flood" \
    "connections: $FLOOD_CONNS; baseline: $BASE_CONNS connections"
bench_machine
echo "vmsealed runs as: $RUN_USER${RUN_GROUP:+:$RUN_GROUP}"
LOAD_START=$(loadavg)
echo "load average:   $LOAD_START (at start)"

# --- servers ---
# --- measuring ---
# run_flood NAME CONF PID AUTHFLOOD-ARGS...: one client run; sets the
# result line in RUN_LINE and RES[NAME,...].
declare -A RES
run_flood() {
	local name=$1 conf=$2 pid=$3 line a0 a1 m0 m1 h0 h1 done
	shift 3
	h0=$(auth_stat "$conf" hash_verifications)
	a0=$(ticks "/proc/$pid/stat") m0=$(ticks "/proc/$pid/task/$pid/stat")
	if ! line=$("$AUTHFLOOD" -l "$name" "$@" 2>"$W/client.err"); then
		sed 's/^/  | /' "$W/client.err" >&2
		die "client failed ($name)"
	fi
	a1=$(ticks "/proc/$pid/stat") m1=$(ticks "/proc/$pid/task/$pid/stat")
	h1=$(auth_stat "$conf" hash_verifications)
	echo "$line" >>"$W/raw"
	RUN_LINE=$line
	done=$(field "$line" completed)
	[ "$(field "$line" errors)" = 0 ] || {
		sed 's/^/  | /' "$W/client.err" >&2
		die "$name: $line"
	}
	RES[$name,rate]=$(field "$line" rate)
	RES[$name,p50]=$(field "$line" p50_us)
	RES[$name,p99]=$(field "$line" p99_us)
	RES[$name,conns]=$(field "$line" conns)
	RES[$name,done]=$done
	RES[$name,hashes]=$((h1 - h0))
	RES[$name,cpu]=$(awk -v a="$a0" -v b="$a1" -v hz="$CLK_TCK" \
	    -v n="$done" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')
	RES[$name,cpumain]=$(awk -v a="$m0" -v b="$m1" -v hz="$CLK_TCK" \
	    -v n="$done" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')
	printf '  %-14s %3s conns %10s req/s  p50 %8s us  p99 %8s us' \
	    "$name" "${RES[$name,conns]}" "${RES[$name,rate]}" \
	    "${RES[$name,p50]}" "${RES[$name,p99]}"
	printf '  cpu %8s us/req (main %s)  hashes %s\n' "${RES[$name,cpu]}" \
	    "${RES[$name,cpumain]}" "${RES[$name,hashes]}"
}

# expect NAME KEY: every completed request had reply class KEY.
expect_all() {
	local n
	n=$(field "$RUN_LINE" "$2")
	[ "$n" = "$(field "$RUN_LINE" completed)" ] ||
		die "$1: expected only '$2' replies: $RUN_LINE"
}

: >"$W/raw"

# === part 1: a blocked address against real verifications ===
D=$W/main
t0=$EPOCHREALTIME
start_vmsealed "$D" "$COST" "throttle_allow = $ALLOWNET"
C=$D/vmseal.conf
VP=$VPID
for u in 1 2 3 4; do
	printf 'pw-%s\n' "$u" | "$VMSEAL" -c "$C" user add --no-policy "user$u" \
	    --password-fd 0 >"$D/useradd.out" 2>&1 ||
		{ cat "$D/useradd.out" >&2; die "vmseal user add user$u failed"; }
done
echo "store, vmsealed and 4 users ready in $(awk -v a="$t0" \
    -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
# A right password must be "ok" (the users and the socket work).
run_flood check "$C" "$VP" -s "$D/run/auth" -u user1 -p pw-1 \
    -i 192.0.2.1 -n 1 -c 1 -w 0 >/dev/null
expect_all check ok

echo
echo "== baseline: wrong passwords from $ALLOWNET (throttle_allow), one" \
    "Argon2id verification each"
run_flood verify "$C" "$VP" -s "$D/run/auth" -u "$USERS" -p "$WRONG" \
    -R "$ALLOWNET" -c "$BASE_CONNS" -d "$SECS" -w "$WARMUP"
expect_all verify fail
[ "${RES[verify,hashes]}" = "${RES[verify,done]}" ] ||
	die "verify: ${RES[verify,done]} replies but ${RES[verify,hashes]}" \
	    "hash verifications"

echo
echo "== blocking $BLOCKED: 3 wrong passwords, then the 4th attempt"
run_flood block "$C" "$VP" -s "$D/run/auth" -u user1 -p "$WRONG" \
    -i "$BLOCKED" -n 3 -c 1 -w 0 >/dev/null
expect_all block fail
[ "${RES[block,hashes]}" = 3 ] ||
	die "3 failures cost ${RES[block,hashes]} hash verifications"
run_flood blocked "$C" "$VP" -s "$D/run/auth" -u user1 -p "$WRONG" \
    -i "$BLOCKED" -n 1 -c 1 -w 0 >/dev/null
expect_all blocked throttled
"$VMSEAL" -c "$C" throttle list --json </dev/null 2>/dev/null |
    grep -q "\"key\":\"$BLOCKED\",[^}]*\"blocked\":true" ||
	die "'vmseal throttle list' does not show $BLOCKED blocked"
echo "  3 failures cost 3 hashes; the 4th attempt: fail \"throttled\"," \
    "no hash; throttle list: $BLOCKED blocked"

echo
echo "== flood from $BLOCKED (blocked): wrong passwords for the 4 users"
FLOOD_NAMES=
for c in $FLOOD_CONNS; do
	n=refused-$c
	run_flood "$n" "$C" "$VP" -s "$D/run/auth" -u "$USERS" -p "$WRONG" \
	    -i "$BLOCKED" -c "$c" -d "$SECS" -w "$WARMUP"
	expect_all "$n" throttled
	[ "${RES[$n,hashes]}" = 0 ] ||
		die "$n: throttled attempts cost ${RES[$n,hashes]} hashes"
	FLOOD_NAMES="$FLOOD_NAMES $n"
done
sleep 2.5       # the event writer empties its queue once a second
run_flood burst "$C" "$VP" -s "$D/run/auth" -u "$USERS" -p "$WRONG" \
    -i "$BLOCKED" -c 8 -d 0.3 -w 0
expect_all burst throttled
[ "${RES[burst,hashes]}" = 0 ] ||
	die "burst: throttled attempts cost ${RES[burst,hashes]} hashes"
MAIN_HWM=$(status_kb "$VP" VmHWM)
MAIN_ANON=$(status_kb "$VP" RssAnon)
TOTAL_REQ=$(auth_stat "$C" requests)
TOTAL_THR=$(auth_stat "$C" throttled)
TOTAL_HASH=$(auth_stat "$C" hash_verifications)
LOGSIZE=$(stat -c %s "$D/vmsealed.log")
if grep -v 'auth failed: \|admin: \|hint\|unseal' "$D/vmsealed.log" |
    grep -qi 'fail\|error\|drop'; then
	echo "note: vmsealed logged:"
	grep -v 'auth failed: \|admin: ' "$D/vmsealed.log" |
	    grep -i 'fail\|error\|drop' | head -n 5 | sed 's/^/  | /'
fi
bench_stop "$VP"

# === part 2: memory under distinct addresses ===
DIST_DONE=0
if [ "$DISTINCT" -gt 0 ]; then
	echo
	echo "== distinct addresses: throttle_limit = 1, hash cost 1:8," \
	    "$DISTINCT addresses from 10.64.0.0, each failing once"
	D2=$W/distinct
	start_vmsealed "$D2" 1:8 "throttle_limit = 1
throttle_login_limit = 64
throttle_login_window = 1
throttle_max_entries = $((DISTINCT + 10000))"
	C2=$D2/vmseal.conf
	VP2=$VPID
	LOGINS=$(awk -v n="$WARM" 'BEGIN { for (i = 0; i < n; i++)
		printf "%snobody%04d", (i ? "," : ""), i }')
	ANON0=$(status_kb "$VP2" RssAnon)
	run_flood distwarm "$C2" "$VP2" -s "$D2/run/auth" -u "$LOGINS" \
	    -p "$WRONG" -D "10.64.0.0:$WARM" -c 8 -d "$DSECS"
	expect_all distwarm nouser
	ANON1=$(status_kb "$VP2" RssAnon)
	RSS1=$(status_kb "$VP2" VmRSS)
	REST=$((DISTINCT - WARM))
	FIRST2=$(awk -v n="$WARM" 'BEGIN { printf "10.%d.%d.%d", 64 + int(n / 65536),
	    int(n / 256) % 256, n % 256 }')
	run_flood distinct "$C2" "$VP2" -s "$D2/run/auth" -u "$LOGINS" \
	    -p "$WRONG" -D "$FIRST2:$REST" -c 8 -d "$DSECS"
	expect_all distinct nouser
	DIST_DONE=$((WARM + ${RES[distinct,done]}))
	DIST_HASH=$((${RES[distwarm,hashes]} + ${RES[distinct,hashes]}))
	[ "$DIST_HASH" = "$DIST_DONE" ] ||
		die "distinct: $DIST_DONE first failures cost $DIST_HASH hashes"
	ANON2=$(status_kb "$VP2" RssAnon)
	RSS2=$(status_kb "$VP2" VmRSS)
	FILE2=$(status_kb "$VP2" RssFile)
	HWM2=$(status_kb "$VP2" VmHWM)
	ENTRIES=$("$VMSEAL" -c "$C2" throttle list --json </dev/null \
	    2>/dev/null | grep -o '"kind":"address"' | wc -l)
	run_flood replay "$C2" "$VP2" -s "$D2/run/auth" -u "$LOGINS" \
	    -p "$WRONG" -D "10.64.0.0:$REPLAY" -c 8 -d "$DSECS"
	expect_all replay throttled
	[ "${RES[replay,hashes]}" = 0 ] ||
		die "replay: throttled attempts cost ${RES[replay,hashes]} hashes"
	bench_stop "$VP2"
fi
LOAD_END=$(loadavg)

# --- table ---
ratio() { div "$1" "$2" '%.0f'; }
echo
echo "== results (${SECS} s each after ${WARMUP} s warm-up; Argon2id" \
    "t=${COST%%:*} m=${COST#*:} KiB, hash_workers = $WORKERS;"
echo "   load average $LOAD_START at start, $LOAD_END at end;" \
    "latencies and cpu in microseconds per reply)"
printf '%-22s %5s | %10s %9s %9s | %9s %9s | %7s | %8s\n' \
    "" conns "req/s" p50 p99 cpu "cpu main" hashes speed-up
for n in verify $FLOOD_NAMES burst; do
	case $n in
	verify) label="verify (allowed net)" su=1 ;;
	burst) label="refused, burst 0.3 s"
		su=$(ratio "${RES[$n,rate]}" "${RES[verify,rate]}") ;;
	*) label="refused ($BLOCKED)"
		su=$(ratio "${RES[$n,rate]}" "${RES[verify,rate]}") ;;
	esac
	printf '%-22s %5s | %10s %9s %9s | %9s %9s | %7s | %7sx\n' \
	    "$label" "${RES[$n,conns]}" "${RES[$n,rate]}" "${RES[$n,p50]}" \
	    "${RES[$n,p99]}" "${RES[$n,cpu]}" "${RES[$n,cpumain]}" \
	    "${RES[$n,hashes]}" "$su"
done
echo "speed-up = refused/s / verify/s (verifications avoided per second, per" \
    "verification the"
echo "service could do); cpu = vmsealed's CPU time per reply, main = its" \
    "event-loop thread"
echo "(the throttle; the rest: hash workers, event writer); hashes =" \
    "auth.hash_verifications"
echo "during the run.  CPU per refusal vs per verification:" \
    "$(awk -v a="${RES[verify,cpu]}" -v b="${RES[${FLOOD_NAMES##* },cpu]}" \
    'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.0f", a / b }')x" \
    "less (at ${FLOOD_NAMES##*-} connections)."
echo "vmsealed totals: auth.requests $TOTAL_REQ, auth.throttled $TOTAL_THR," \
    "auth.hash_verifications $TOTAL_HASH;"
echo "peak RSS $(mib "$MAIN_HWM") (anon now $(mib "$MAIN_ANON"): hash" \
    "workers' Argon2id memory included); log $(mib $((LOGSIZE / 1024)))"

if [ "$DISTINCT" -gt 0 ]; then
	echo
	echo "distinct addresses (throttle_limit = 1, hash cost 1:8, 8" \
	    "connections):"
	echo "  $DIST_DONE addresses failed once in" \
	    "$(awk -v a="${RES[distwarm,done]}" -v b="${RES[distinct,done]}" \
	    -v r1="${RES[distwarm,rate]}" -v r2="${RES[distinct,rate]}" \
	    'BEGIN { printf "%.1f", a / r1 + b / r2 }') s" \
	    "(${RES[distinct,rate]} first failures/s), one hash each" \
	    "($DIST_HASH hashes);" \
	    "$ENTRIES addresses in 'throttle list'"
	[ "$DIST_DONE" = "$DISTINCT" ] ||
		echo "  (stopped after BENCH_DISTINCT_SECONDS = $DSECS s:" \
		    "$DIST_DONE of $DISTINCT addresses)"
	echo "  again from the first $REPLAY: all refused \"throttled\"," \
	    "${RES[replay,hashes]} hashes, ${RES[replay,rate]} req/s," \
	    "p50 ${RES[replay,p50]} us, p99 ${RES[replay,p99]} us"
	echo "  anonymous RSS: $(mib "$ANON0") unsealed, $(mib "$ANON1") after" \
	    "$WARM addresses, $(mib "$ANON2") after $DIST_DONE"
	echo "  per address entry: $(awk -v a="$ANON1" -v b="$ANON2" \
	    -v n="$((DIST_DONE - WARM))" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')" \
	    "bytes of anonymous RSS (upper bound: malloc slack, LMDB write" \
	    "buffers included)"
	echo "  RSS $(mib "$RSS2") (file pages, i.e. data.mdb with the event" \
	    "log: $(mib "$FILE2")); peak $(mib "$HWM2")"
else
	echo
	echo "distinct addresses: skipped (BENCH_DISTINCT=0)"
fi
echo
echo "notes: one connection = one closed-loop client thread (no" \
    "pipelining); client and"
echo "vmsealed share the CPUs; every refusal is also an event (queued, written" \
    "once a second)"
echo "and a log line (here to a file)."
