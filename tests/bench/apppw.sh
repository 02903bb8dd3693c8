#!/usr/bin/env bash
# tests/bench/apppw.sh - benchmark: logins per second with an app password
# (lib/apppw.h: a salted BLAKE2b per app password of the user, no
# Argon2id) against logins with the main password (Argon2id at the store's
# cost), both through the same vmsealed's auth socket in the same run.
# The issue's target: an app password attempt at least 50 times cheaper.
#
# Three cells, each a closed loop of right-password "verify" requests for
# one user from random addresses of a network on throttle_allow (so no
# address throttle interferes), by tests/bench/authflood.c:
#   main      the main password (one Argon2id at BENCH_COST per login)
#   app-1     an app password, the user having 1
#   app-50    an app password, the user having 50 (the most one may have:
#             every login hashes all 50 and compares each)
# vmsealed's hash counter is read around each cell: app password cells
# must spend none (else the run fails).  Printed: requests/s, p50/p99
# latency, vmsealed's CPU per request, and the ratios app/main.
#
# This is a benchmark, not a test: it prints figures and fails only if a
# step fails.  It builds nothing ('make bench' passes the programs).
#
# usage: tests/bench/apppw.sh
#   VMSEAL, VMSEALED, AUTHFLOOD   the programs (default: under ../..)
#   BENCH_COST    Argon2id OPS:KIB of the main password (default 2:19456,
#                 vmseal's default)
#   BENCH_WORKERS vmsealed's hash_workers (default: the CPUs)
#   BENCH_SECONDS length of one cell (default 3), after
#   BENCH_WARMUP  seconds not counted (default 0.5)
#   BENCH_APP_CONNS  client connections (default 2 x BENCH_WORKERS)
#   BENCH_KEEP=1  keep the work folder
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

COST=${BENCH_COST:-2:19456}
WORKERS=${BENCH_WORKERS:-$(nproc 2>/dev/null || echo 2)}
SECS=${BENCH_SECONDS:-3}
WARMUP=${BENCH_WARMUP:-0.5}
CONNS=${BENCH_APP_CONNS:-$((2 * WORKERS))}
PASS='bench passphrase'
MAIN_PW='Bench-Main-Password-7'
ALLOWNET=10.77.0.0/16

case $COST in
	*:*) isnum "${COST%%:*}" && isnum "${COST#*:}" ||
		die "BENCH_COST must be OPS:KIB" ;;
	*) die "BENCH_COST must be OPS:KIB" ;;
esac
isnum "$WORKERS" && [ "$WORKERS" -ge 1 ] || die "BENCH_WORKERS must be >= 1"
isnum "$CONNS" && [ "$CONNS" -ge 1 ] || die "BENCH_APP_CONNS must be >= 1"
isreal "$SECS" || die "BENCH_SECONDS must be a number of seconds"
isreal "$WARMUP" || die "BENCH_WARMUP must be a number of seconds"

bench_need_prog VMSEAL helper/vmseal
bench_need_prog VMSEALED service/vmsealed
bench_need_prog AUTHFLOOD tests/bench/authflood
bench_workdir vmseal-apppwbench
bench_run_user
CLK_TCK=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "$1" 2>/dev/null || echo 0; }
hashes() { auth_stat "$C" hash_verifications; }

echo "== vmseal app password benchmark (auth socket: app password vs main" \
    "password)"
echo "vmsealed:       $VMSEALED ($("$VMSEALED" -V 2>&1 | head -n 1))"
echo "store:          main password Argon2id t=${COST%%:*} m=${COST#*:} KiB;" \
    "hash_workers = $WORKERS"
echo "each cell:      ${SECS} s after ${WARMUP} s warm-up, $CONNS connections," \
    "right passwords, addresses on throttle_allow"
bench_machine
echo "load average:   $(loadavg) (at start)"

D=$W/svc
start_vmsealed "$D" "$COST" "throttle_allow = $ALLOWNET"
C=$D/vmseal.conf
vsc() { "$VMSEAL" -c "$C" "$@" </dev/null; }
printf '%s\n' "$MAIN_PW" >"$W/mainpw"
"$VMSEAL" -c "$C" user add alice --no-policy --password-fd 4 4<"$W/mainpw" \
    </dev/null >"$W/add.out" 2>&1 || { cat "$W/add.out" >&2; die "user add alice"; }
"$VMSEAL" -c "$C" user add bob --no-policy --password-fd 4 4<"$W/mainpw" \
    </dev/null >"$W/add.out" 2>&1 || { cat "$W/add.out" >&2; die "user add bob"; }
apppw() {       # apppw LOGIN NAME: a new app password's text
	vsc app-password add "$1" --name "$2" --services imap --json |
	    sed -n 's/.*"password":"\([^"]*\)".*/\1/p'
}
APP1=$(apppw alice phone)
[ -n "$APP1" ] || die "app-password add alice"
for i in $(seq 1 49); do apppw bob "dev$i" >/dev/null || die "app-password add bob dev$i"; done
APP50=$(apppw bob dev50)
[ -n "$APP50" ] || die "app-password add bob dev50"

declare -A RES
cell() {        # cell NAME LOGIN PASSWORD
	local line h0 h1 a0 a1
	h0=$(hashes)
	a0=$(ticks "/proc/$VPID/stat")
	line=$("$AUTHFLOOD" -s "$D/run/auth" -u "$2" -p "$3" -m imap \
	    -R "$ALLOWNET" -c "$CONNS" -d "$SECS" -w "$WARMUP" -l "$1" \
	    2>"$W/client.err") || { cat "$W/client.err" >&2; die "$1: client failed"; }
	a1=$(ticks "/proc/$VPID/stat")
	h1=$(hashes)
	[ "$(field "$line" ok)" = "$(field "$line" completed)" ] ||
	    die "$1: not every reply was ok: $line"
	RES[$1,rate]=$(field "$line" rate)
	RES[$1,hashes]=$((h1 - h0))
	RES[$1,cpu]=$(awk -v a="$a0" -v b="$a1" -v hz="$CLK_TCK" \
	    -v n="$(field "$line" completed)" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')
	printf '  %-6s %10s logins/s  p50 %8s us  p99 %8s us  cpu %9s us/login  hashes %s\n' \
	    "$1" "${RES[$1,rate]}" "$(field "$line" p50_us)" \
	    "$(field "$line" p99_us)" "${RES[$1,cpu]}" "${RES[$1,hashes]}"
}
cell main alice "$MAIN_PW"
cell app-1 alice "$APP1"
cell app-50 bob "$APP50"
[ "${RES[app-1,hashes]}" = 0 ] && [ "${RES[app-50,hashes]}" = 0 ] ||
    die "an app password login spent an Argon2id"
echo "ratios (same run):"
printf '  app-1  / main: %s x logins/s, %s x less vmsealed CPU per login\n' \
    "$(ratio "${RES[app-1,rate]}" "${RES[main,rate]}" %.0f)" \
    "$(ratio "${RES[main,cpu]}" "${RES[app-1,cpu]}" %.0f)"
printf '  app-50 / main: %s x logins/s, %s x less vmsealed CPU per login\n' \
    "$(ratio "${RES[app-50,rate]}" "${RES[main,rate]}" %.0f)" \
    "$(ratio "${RES[main,cpu]}" "${RES[app-50,cpu]}" %.0f)"
echo "target: at least 50 x (issue 14)"
echo "load average:   $(loadavg) (at end)"
