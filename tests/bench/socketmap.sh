#!/usr/bin/env bash
# tests/bench/socketmap.sh - benchmark: Postfix socketmap lookups answered
# by vmsealed, against a server that answers without looking anything up
# (tests/bench/null_sockmap.c: vmsealed's event loop, framing and parser
# with the lookup taken out), with the same load generator
# (tests/bench/sockmap_client.c), in the same run on the same machine.
#
# This is a benchmark, not a test: it prints figures and ratios and fails
# only if a step fails (a server that does not start, a client error, a
# TEMP answer or a wrong mix of answers).  It builds nothing: 'make bench'
# builds the four programs and passes their paths.
#
# usage: tests/bench/socketmap.sh
#   VMSEAL, VMSEALED, SOCKMAP_CLIENT, NULL_SOCKMAP, LOOKUP_COST
#                 the programs (default: helper/vmseal, service/vmsealed,
#                 tests/bench/sockmap_client, tests/bench/null_sockmap,
#                 tests/bench/lookup_cost under ../.. from this script,
#                 else under .)
#   BENCH_SIZES   store sizes in users (default "1000 100000")
#   BENCH_CONNS   concurrent connections (default "1 8 64")
#   BENCH_SECONDS length of one measurement (default 3), after
#   BENCH_WARMUP  seconds of warm-up not counted (default 0.5)
#   BENCH_ROUNDS  measurements of each cell; the one with the most
#                 lookups/s is kept, vmsealed and null alternating which
#                 goes first (default 3)
#   BENCH_HIT_PCT share of keys that exist (default 80); the others are
#                 half unknown users in hosted domains, half unknown domains
#   BENCH_MAP     socketmap name asked (default mailboxes)
#   BENCH_KEEP=1  keep the work folder (its path is printed)
#
# What is measured, for each store size and each concurrency:
#   lookups/s   requests answered per second over BENCH_SECONDS, by
#               CONNS connections each sending one request and waiting for
#               its reply (as Postfix processes do)
#   p50, p99    latency of one request as the client sees it (write to
#               the end of the reply), microseconds
#   cpu/req     the server's CPU time (user+system, /proc/PID/stat) per
#               answered request, microseconds: less disturbed by a busy
#               machine than lookups/s (clock-tick resolution: 10 ms over
#               a few seconds, about 1%)
#   ratio       vmsealed lookups/s / null lookups/s (target >= 0.80): of
#               the best rounds, and the median of the rounds' paired
#               ratios (vmsealed and null measured back to back)
# then vmsealed's lookups/s at the largest store over the smallest (it
# should not fall as the store grows), and the peak RSS (VmHWM) of each
# vmsealed after its runs, with its RSS split into anonymous memory and
# mapped data.mdb pages (shared page cache, not memory of its own).
# Before the servers start, tests/bench/lookup_cost times a lookup
# in-process, step by step (transaction, normalization, blind index,
# decryption, the rest): what vmsealed adds to the null server's request.
#
# Client and server share the machine's CPUs (nothing is pinned); with
# many connections the client's threads compete with the server, which is
# the same for both servers.  The load average is printed.
set -eu
set -o pipefail

. "$(dirname "$0")/lib.sh"

SIZES=${BENCH_SIZES:-1000 100000}
CONNS=${BENCH_CONNS:-1 8 64}
SECS=${BENCH_SECONDS:-3}
WARMUP=${BENCH_WARMUP:-0.5}
ROUNDS=${BENCH_ROUNDS:-3}
HIT_PCT=${BENCH_HIT_PCT:-80}
MAP=${BENCH_MAP:-mailboxes}
NDOM=10
PASS='bench passphrase'
TARGET=0.80

for s in $SIZES; do isnum "$s" && [ "$s" -ge 1 ] ||
	die "BENCH_SIZES: '$s' is not a positive number"; done
for c in $CONNS; do isnum "$c" && [ "$c" -ge 1 ] ||
	die "BENCH_CONNS: '$c' is not a positive number"; done
[ -n "$SIZES" ] || die "BENCH_SIZES is empty"
[ -n "$CONNS" ] || die "BENCH_CONNS is empty"
isreal "$SECS" || die "BENCH_SECONDS must be a number of seconds"
isreal "$WARMUP" || die "BENCH_WARMUP must be a number of seconds"
isnum "$ROUNDS" && [ "$ROUNDS" -ge 1 ] || die "BENCH_ROUNDS must be >= 1"
isnum "$HIT_PCT" && [ "$HIT_PCT" -le 100 ] ||
	die "BENCH_HIT_PCT must be 0..100"
case $MAP in domains|mailboxes|aliases|senders) ;;
	*) die "BENCH_MAP must be domains, mailboxes, aliases or senders" ;;
esac

# --- the programs ---
bench_need_prog VMSEAL helper/vmseal
bench_need_prog VMSEALED service/vmsealed
bench_need_prog SOCKMAP_CLIENT tests/bench/sockmap_client
bench_need_prog NULL_SOCKMAP tests/bench/null_sockmap
bench_need_prog LOOKUP_COST tests/bench/lookup_cost

for t in awk sleep; do
	command -v "$t" >/dev/null 2>&1 || die "needs $t"
done

bench_workdir vmseal-sockbench

# Who vmsealed runs as: started as root it drops to nobody.
bench_run_user

echo "== vmseal socketmap benchmark"
echo "vmsealed:       $VMSEALED ($("$VMSEALED" -V 2>&1 | head -n 1))"
echo "baseline:       $NULL_SOCKMAP (same loop and parser, no lookup)"
echo "client:         $SOCKMAP_CLIENT"
echo "sizes (users):  $SIZES over $NDOM domains; connections: $CONNS"
echo "each:           ${SECS} s after ${WARMUP} s warm-up, best of $ROUNDS" \
    "round(s); map '$MAP'; $HIT_PCT% of keys exist"
bench_machine
echo "vmsealed runs as: $RUN_USER${RUN_GROUP:+:$RUN_GROUP}"
LOAD_START=$(loadavg)
echo "load average:   $LOAD_START (at start)"

# --- input: users, addresses, keys ---
# One pre-made hash (SHA-512-crypt of "pw") for every user: the import
# keeps legacy hashes as they are, so their content does not matter.
HASH='$6$benchsalt$6UiyCiBF4eDQmyh3aaWkGygHaY4lh2naqtgcQe6y96VSnLGC19buRKIOp64SBMK.CWq1njbAYIErdD8PmwDgo0'
gen_input() {   # gen_input N DIR
	awk -v n="$1" -v nd="$NDOM" -v h="$HASH" -v d="$2" 'BEGIN {
		for (i = 1; i <= n; i++) {
			login = sprintf("user%07d", i)
			addr = sprintf("%s@dom%02d.example", login, i % nd)
			print login ":" h > (d "/htpasswd")
			print addr " " login > (d "/map")
			print addr > (d "/hits")
			# Unknown keys: an unknown user in a hosted
			# domain, or a user of a domain not hosted.
			if (i % 2)
				m = sprintf("nobody%07d@dom%02d.example",
				    i, i % nd)
			else
				m = sprintf("%s@nodom%02d.example", login,
				    i % nd)
			print m > (d "/miss")
		}
	}'
}

# --- servers ---
declare -A VPID NPID VSOCK NSOCK
wait_socket() {         # wait_socket PATH PID LOG
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || {
			sed 's/^/  | /' "$3" >&2
			die "server exited at start (log above)"
		}
		sleep 0.05
	done
	die "no socket $1 after 5 s"
}

start_servers() {       # start_servers N
	local n=$1 d=$W/n$1 i
	mkdir -p "$d/sock"
	{
		echo "socket_dir = $d/sock"
		echo "store_dir = $d/store"
		echo "user = $RUN_USER"
		[ -z "$RUN_GROUP" ] || echo "group = $RUN_GROUP"
	} >"$d/vmseal.conf"
	"$VMSEALED" -c "$d/vmseal.conf" -f </dev/null >"$d/vmsealed.log" 2>&1 &
	VPID[$n]=$!
	PIDS="$PIDS ${VPID[$n]}"
	VSOCK[$n]=$d/sock/socketmap
	wait_socket "$d/sock/admin" "${VPID[$n]}" "$d/vmsealed.log"
	# The admin thread may take a moment after the socket is bound.
	for ((i = 0; ; i++)); do
		"$VMSEAL" -c "$d/vmseal.conf" unseal --passphrase-fd 3 \
		    3<"$W/pass" </dev/null >"$d/unseal.out" 2>&1 && break
		[ "$i" -lt 50 ] || {
			sed 's/^/  | /' "$d/unseal.out" "$d/vmsealed.log" >&2
			die "cannot unseal vmsealed ($n users)"
		}
		sleep 0.1
	done
	"$NULL_SOCKMAP" -s "$d/null.sock" </dev/null >"$d/null.log" 2>&1 &
	NPID[$n]=$!
	PIDS="$PIDS ${NPID[$n]}"
	NSOCK[$n]=$d/null.sock
	wait_socket "$d/null.sock" "${NPID[$n]}" "$d/null.log"
}

# --- measuring ---
# RES[size,conns,server,field] for the kept round; ROUND[size,conns,
# server,round] every round's lookups/s (for the paired ratios).
declare -A RES ROUND

measure() {     # measure N CONNS SERVER(vmsealed|null) ROUND
	local n=$1 c=$2 srv=$3 r=$4 sock pid line t0 t1 cpu_us d=$W/n$1
	local rate ok nf temp perm errs done
	if [ "$srv" = vmsealed ]; then
		sock=${VSOCK[$n]} pid=${VPID[$n]}
	else
		sock=${NSOCK[$n]} pid=${NPID[$n]}
	fi
	t0=$(cpu_ticks "$pid")
	if ! line=$("$SOCKMAP_CLIENT" -s "$sock" -f "$d/hits" -F "$d/miss" \
	    -p "$HIT_PCT" -c "$c" -d "$SECS" -w "$WARMUP" -m "$MAP" \
	    -S "$((r * 1000 + c))" -l "$srv" 2>"$d/client.err"); then
		sed 's/^/  | /' "$d/client.err" >&2
		die "client failed against $srv ($n users, $c connections)"
	fi
	t1=$(cpu_ticks "$pid")
	echo "$line" >>"$W/raw"
	rate=$(field "$line" rate)
	ok=$(field "$line" ok) nf=$(field "$line" notfound)
	temp=$(field "$line" temp) perm=$(field "$line" perm)
	errs=$(field "$line" errors) done=$(field "$line" completed)
	[ "$temp" = 0 ] && [ "$perm" = 0 ] && [ "$errs" = 0 ] || {
		sed 's/^/  | /' "$d/vmsealed.log" | tail -n 5 >&2
		die "$srv ($n users, $c conns): $line"
	}
	# The mix must be what was asked for (vmsealed) or all NOTFOUND.
	if [ "$srv" = vmsealed ] && [ "$MAP" = mailboxes ]; then
		awk -v ok="$ok" -v nf="$nf" -v p="$HIT_PCT" 'BEGIN {
			s = ok / (ok + nf) * 100
			exit !(s > p - 3 && s < p + 3) }' ||
			die "vmsealed found $ok of $((ok + nf)) keys," \
			    "$HIT_PCT% expected: $line"
	fi
	if [ "$t0" = - ] || [ "$t1" = - ]; then
		cpu_us=-
	else
		cpu_us=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" \
		    -v n="$done" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')
	fi
	printf '  %7s users, %3s conns, round %d, %-8s %8s lookups/s' \
	    "$n" "$c" "$r" "$srv" "$rate"
	printf '  p50 %7s us  p99 %8s us  cpu %6s us/req\n' \
	    "$(field "$line" p50_us)" "$(field "$line" p99_us)" "$cpu_us"
	local k="$n,$c,$srv"
	ROUND[$k,$r]=$rate
	if [ -z "${RES[$k,rate]:-}" ] || awk -v a="$rate" \
	    -v b="${RES[$k,rate]}" 'BEGIN { exit !(a > b) }'; then
		RES[$k,rate]=$rate
		RES[$k,p50]=$(field "$line" p50_us)
		RES[$k,p99]=$(field "$line" p99_us)
		RES[$k,cpu]=$cpu_us
	fi
}

: >"$W/raw"
declare -A HWM NHWM DBSIZE RANON RFILE COST
for n in $SIZES; do
	d=$W/n$n
	mkdir -p "$d"
	echo
	echo "== $n users"
	t_gen=$EPOCHREALTIME
	gen_input "$n" "$d"
	"$VMSEAL" -d "$d/store" init --passphrase-fd 3 --unseal-cost 1:8 \
	    --hash-cost 1:8 3<"$W/pass" </dev/null >"$d/init.out" 2>&1 ||
		{ cat "$d/init.out" >&2; die "vmseal init failed"; }
	"$VMSEAL" -d "$d/store" --passphrase-fd 3 import htpasswd \
	    "$d/htpasswd" 3<"$W/pass" </dev/null >"$d/import.out" 2>&1 &&
	"$VMSEAL" -d "$d/store" --passphrase-fd 3 import postfix-map \
	    "$d/map" 3<"$W/pass" </dev/null >>"$d/import.out" 2>&1 ||
		{ cat "$d/import.out" >&2; die "vmseal import failed"; }
	DBSIZE[$n]=$(stat -c %s "$d/store/data.mdb")
	echo "store built in $(awk -v a="$t_gen" -v b="$EPOCHREALTIME" \
	    'BEGIN { printf "%.1f", b - a }') s ($(mib $((DBSIZE[$n] / 1024)))" \
	    "data.mdb)"
	# In-process cost of a lookup, step by step (no socket, no server).
	if ! COST[$n]=$("$LOOKUP_COST" -d "$d/store" -P "$W/pass" \
	    -f "$d/hits" -F "$d/miss" -p "$HIT_PCT" 2>"$d/cost.err"); then
		cat "$d/cost.err" >&2
		die "lookup_cost failed ($n users)"
	fi
	echo "in-process lookup: $(field "${COST[$n]}" lookup_ns) ns" \
	    "($(field "${COST[$n]}" found) found," \
	    "$(field "${COST[$n]}" notfound) not found)"
	start_servers "$n"
	for c in $CONNS; do
		for ((r = 1; r <= ROUNDS; r++)); do
			if ((r % 2)); then
				measure "$n" "$c" null "$r"
				measure "$n" "$c" vmsealed "$r"
			else
				measure "$n" "$c" vmsealed "$r"
				measure "$n" "$c" null "$r"
			fi
		done
	done
	HWM[$n]=$(hwm_kb "${VPID[$n]}")
	NHWM[$n]=$(hwm_kb "${NPID[$n]}")
	RANON[$n]=$(hwm_kb "${VPID[$n]}" RssAnon)
	RFILE[$n]=$(hwm_kb "${VPID[$n]}" RssFile)
	if grep -qi 'fail\|error' "$d/vmsealed.log"; then
		echo "note: vmsealed logged errors:"
		grep -i 'fail\|error' "$d/vmsealed.log" | head -n 5 | sed 's/^/  | /'
	fi
	bench_stop "${VPID[$n]}"
	bench_stop "${NPID[$n]}"
done
LOAD_END=$(loadavg)

# --- table ---
# paired N CONNS: the median over the rounds of vmsealed's lookups/s over
# null's in the same round (the two ran back to back): less swayed than the
# best-of figures by a machine whose speed drifts from round to round.
paired() {
	local r v=()
	for ((r = 1; r <= ROUNDS; r++)); do
		v+=("$(ratio "${ROUND[$1,$2,vmsealed,$r]}" \
		    "${ROUND[$1,$2,null,$r]}")")
	done
	printf '%s\n' "${v[@]}" | sort -n | awk '{ a[NR] = $1 } END {
		if (NR % 2) print a[(NR + 1) / 2]
		else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
echo
echo "== results (best of $ROUNDS x ${SECS} s; $HIT_PCT% existing keys;" \
    "load average $LOAD_START at start, $LOAD_END at end;"
echo "   latencies in microseconds; cpu = server CPU time per request)"
FMT='%8s %5s | %10s %8s %8s %6s | %10s %8s %8s %6s | %6s %6s %6s\n'
printf "$FMT" "" "" "vmsealed" "" "" "" "null" "" "" "" "ratio" "" ""
printf "$FMT" users conns lookups/s p50 p99 cpu lookups/s p50 p99 cpu \
    rate paired cpu
BELOW=0 PBELOW=0
for n in $SIZES; do
	for c in $CONNS; do
		v="$n,$c,vmsealed" z="$n,$c,null"
		rr=$(ratio "${RES[$v,rate]}" "${RES[$z,rate]}")
		pr=$(paired "$n" "$c")
		cr=-
		[ "${RES[$v,cpu]}" = - ] || cr=$(ratio "${RES[$z,cpu]}" \
		    "${RES[$v,cpu]}")
		awk -v r="$rr" -v t="$TARGET" 'BEGIN { exit !(r < t) }' &&
			BELOW=$((BELOW + 1))
		awk -v r="$pr" -v t="$TARGET" 'BEGIN { exit !(r < t) }' &&
			PBELOW=$((PBELOW + 1))
		printf "$FMT" "$n" "$c" "${RES[$v,rate]}" "${RES[$v,p50]}" \
		    "${RES[$v,p99]}" "${RES[$v,cpu]}" "${RES[$z,rate]}" \
		    "${RES[$z,p50]}" "${RES[$z,p99]}" "${RES[$z,cpu]}" \
		    "$rr" "$pr" "$cr"
	done
done
CELLS=$(( $(wc -w <<<"$SIZES") * $(wc -w <<<"$CONNS") ))
echo "ratio rate = best vmsealed lookups/s / best null lookups/s" \
    "(target >= $TARGET);"
echo "ratio paired = median over the rounds of vmsealed / null in the same" \
    "round; ratio cpu = null cpu/req / vmsealed cpu/req"
if [ "$BELOW" -gt 0 ] || [ "$PBELOW" -gt 0 ]; then
	echo "below target: $BELOW of $CELLS cells (best-of), $PBELOW of" \
	    "$CELLS (paired)"
else
	echo "target met in every cell"
fi

echo
echo "where a lookup's time goes (tests/bench/lookup_cost: in-process, one"
echo "thread, no socket; fastest of 5 passes over 200,000 keys of the same"
echo "mix; ns per lookup; aead counted for the found keys only):"
printf '%8s %8s %8s %10s %8s %8s %8s\n' users lookup txn normalize \
    index aead rest
for n in $SIZES; do
	printf '%8s %8s %8s %10s %8s %8s %8s\n' "$n" \
	    "$(field "${COST[$n]}" lookup_ns)" "$(field "${COST[$n]}" txn_ns)" \
	    "$(field "${COST[$n]}" normalize_ns)" \
	    "$(field "${COST[$n]}" index_ns)" "$(field "${COST[$n]}" aead_ns)" \
	    "$(field "${COST[$n]}" rest_ns)"
done
echo "(rest = the B-tree search in LMDB, record decoding, the answer's copy"
echo "and glue.  The null server's whole request costs its cpu/req above.)"

set -- $SIZES
SMALL=$1
LARGE=${!#}
if [ "$SMALL" != "$LARGE" ]; then
	echo
	echo "scaling: lookups/s at $LARGE users / at $SMALL users" \
	    "(should not fall as the store grows; +-5% is noise here)"
	printf '%5s %10s %10s   %s\n' conns vmsealed null \
	    "vmsealed cpu/req at $SMALL -> $LARGE users"
	for c in $CONNS; do
		vs=$(ratio "${RES[$LARGE,$c,vmsealed,rate]}" \
		    "${RES[$SMALL,$c,vmsealed,rate]}")
		ns=$(ratio "${RES[$LARGE,$c,null,rate]}" \
		    "${RES[$SMALL,$c,null,rate]}")
		flag=
		awk -v r="$vs" 'BEGIN { exit !(r < 0.95) }' && flag="  falls"
		printf '%5s %10s %10s   %s -> %s us%s\n' "$c" "$vs" "$ns" \
		    "${RES[$SMALL,$c,vmsealed,cpu]}" \
		    "${RES[$LARGE,$c,vmsealed,cpu]}" "$flag"
	done
fi

echo
echo "peak RSS (VmHWM after the runs; RSS now split into anonymous memory and"
echo "mapped file pages, i.e. data.mdb pages in the page cache):"
mibx() { if [ -n "$1" ]; then mib "$1"; else echo n/a; fi; }
for n in $SIZES; do
	printf '  vmsealed, %7s users: %10s  (anon %s, file %s; data.mdb %s;' \
	    "$n" "$(mibx "${HWM[$n]}")" "$(mibx "${RANON[$n]}")" \
	    "$(mibx "${RFILE[$n]}")" "$(mib $((DBSIZE[$n] / 1024)))"
	printf ' null_sockmap %s)\n' "$(mibx "${NHWM[$n]}")"
done
echo
echo "notes: one connection = one closed-loop client thread (no" \
    "pipelining); client and"
echo "servers share the CPUs; vmsealed's RSS counts the pages of" \
    "data.mdb it has read"
echo "(LMDB maps the file), which the store size bounds."
