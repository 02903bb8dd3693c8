#!/usr/bin/env bash
# tests/bench/auth.sh - benchmark: IMAP-free password checks (logins/s)
# driven through Dovecot's auth-client socket, for three passdbs holding
# the same Argon2id hashes at the same cost, against the raw Argon2id
# verify rate of this machine measured in the same run:
#
#   plugin         passdb "driver = vmseal" (libauthdb_vmseal.so; blocking,
#                  so it runs in auth-worker processes) asking vmsealed
#   checkpassword  passdb "driver = checkpassword" running
#                  vmseal-checkpassword, which asks vmsealed; Dovecot forks
#                  and execs it for every login, and it execs Dovecot's
#                  checkpassword-reply after a success
#   passwd-file    Dovecot's own passwd-file passdb with "{ARGON2ID}" hashes,
#                  verified by Dovecot itself through libsodium: the
#                  familiar baseline
#   raw            tests/bench/argon_rate: crypto_pwhash_str_verify in as
#                  many threads as vmsealed has hash workers, nothing else:
#                  the ceiling
#
# Dovecot 2.3 and 2.4 alike: the configuration is written for the Dovecot
# found (2.4: "passdb vmseal { }" with vmseal_socket_path, the driver's
# settings module beside it; checkpassword is not measured there, as 2.4
# has none).  On Debian 12, scripts/bench-debian13 runs it again in a
# Debian 13 root, so both are measured in one run.
#
# This is a benchmark, not a test: it prints figures and ratios and fails
# only if a step fails (a server that does not start, a login that does not
# succeed).  Without root, Dovecot, unshare(1) or the plugin it says
# "skipped" and exits 0 (Dovecot starts only as root).  It builds nothing:
# 'make bench' builds the programs and passes their paths.
#
# Everything is throwaway and on this machine: a vmsealed on a temporary
# store, and three Dovecot instances ("dovecot -c FILE", own base_dir, no
# protocol listeners at all - only the auth-client socket is used), started
# inside a private mount namespace (unshare -m) where Dovecot's module
# folder is a bind-mounted private copy holding this build's
# libauthdb_vmseal.so (and on 2.4 its settings module): the real folder is
# never touched.  doveadm runs in that namespace too (nsenter).
#
# usage: tests/bench/auth.sh
#   VMSEAL, VMSEALED, VMSEAL_CHECKPASSWORD, VMSEAL_PLUGIN, AUTHCLIENT,
#   ARGON_RATE    the programs (default: helper/vmseal, service/vmsealed,
#                 helper/vmseal-checkpassword, plugin/libauthdb_vmseal.so,
#                 tests/bench/authclient, tests/bench/argon_rate under ../..
#                 from this script, else under .)
#   BENCH_COST    Argon2id cost OPS:KIB of every hash and of the raw rate
#                 (default 2:19456, vmseal's default hash cost: t=2, m=19
#                 MiB; "doveadm pw -s ARGON2ID" makes 3:65536, which
#                 BENCH_COST=3:65536 matches, about 5 times the work)
#   BENCH_AUTH_CONNS  concurrent auth-client connections (default "2 8")
#   BENCH_SECONDS length of one measurement (default 5), after
#   BENCH_WARMUP  seconds of warm-up not counted (default 1)
#   BENCH_ROUNDS  measurements of each cell, the order of the four rotating
#                 from round to round; the one with the most logins/s is
#                 kept (default 2)
#   BENCH_WORKERS vmsealed's hash_workers, and the raw rate's threads
#                 (default: the number of CPUs, vmsealed's own default)
#   BENCH_AUTH_USERS  users in the store and the passwd-file (default 32;
#                 every login is a right password for a random one of them)
#   BENCH_KEEP=1  keep the work folder (its path is printed)
#
# What is measured, for each concurrency:
#   logins/s    AUTH PLAIN requests answered OK per second over
#               BENCH_SECONDS, by CONNS connections each sending one
#               request and waiting for its answer (as a login process
#               with one client does)
#   p50, p99    latency of one login as the auth client sees it (write to
#               the end of the OK line), milliseconds
#   ratio rate  logins/s / raw verifications/s (target for the plugin:
#               >= 0.90): how much of the machine's Argon2id capacity
#               reaches Dovecot's clients
#   ratio cpu   raw cpu per verification / cpu per login: the share of
#               the serving side's work that is the hash itself
#   cpu         CPU time per login (user+system) of the serving side, ms:
#               vms + dc, or for raw argon_rate's own per verification
#               (getrusage): the work per login, much less disturbed by
#               other jobs than logins/s
#   vms, dc     CPU time per login (user+system, /proc) of vmsealed and of
#               Dovecot's processes (auth, auth-workers, and the reaped
#               checkpassword children counted in auth's cutime/cstime),
#               milliseconds
#   busy        the machine's busy share of all CPUs over the measurement
#               (/proc/stat: other jobs included)
# Client, Dovecot, vmsealed and the raw threads share the machine's CPUs;
# other jobs may too: the load average is printed at start and end.
set -eu
set -o pipefail

. "$(dirname "$0")/lib.sh"

COST=${BENCH_COST:-2:19456}
CONNS=${BENCH_AUTH_CONNS:-2 8}
SECS=${BENCH_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-2}
WORKERS=${BENCH_WORKERS:-$NCPU}
NUSERS=${BENCH_AUTH_USERS:-32}
PASS='bench passphrase'
TARGET=0.90
MODULE_DIR=/usr/lib/dovecot/modules
PATH=$PATH:/usr/sbin:/sbin

skip() { echo "auth.sh: skipped: $*"; exit 0; }

case $COST in *:*) ;; *) die "BENCH_COST must be OPS:KIB" ;; esac
isnum "${COST%%:*}" && isnum "${COST#*:}" || die "BENCH_COST must be OPS:KIB"
for c in $CONNS; do isnum "$c" && [ "$c" -ge 1 ] ||
	die "BENCH_AUTH_CONNS: '$c' is not a positive number"; done
[ -n "$CONNS" ] || die "BENCH_AUTH_CONNS is empty"
isreal "$SECS" || die "BENCH_SECONDS must be a number of seconds"
isreal "$WARMUP" || die "BENCH_WARMUP must be a number of seconds"
isnum "$ROUNDS" && [ "$ROUNDS" -ge 1 ] || die "BENCH_ROUNDS must be >= 1"
isnum "$WORKERS" && [ "$WORKERS" -ge 1 ] && [ "$WORKERS" -le 256 ] ||
	die "BENCH_WORKERS must be 1..256"
isnum "$NUSERS" && [ "$NUSERS" -ge 1 ] || die "BENCH_AUTH_USERS must be >= 1"

# --- the programs ---
for v in VMSEAL:helper/vmseal VMSEALED:service/vmsealed \
    VMSEAL_CHECKPASSWORD:helper/vmseal-checkpassword \
    AUTHCLIENT:tests/bench/authclient ARGON_RATE:tests/bench/argon_rate; do
	n=${v%%:*}
	bench_prog "$n" "${v#*:}" && [ -x "${!n}" ] ||
		die "no $(basename "${v#*:}") (run 'make bench', or set \$$n)"
done

[ "$(id -u)" = 0 ] || skip "needs root (Dovecot starts only as root)"
for t in dovecot doveadm unshare nsenter mount awk timeout; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done
DCV=$(dovecot --version 2>/dev/null | cut -d. -f1,2)
case $DCV in
2.3) MODES="raw plugin checkpassword passwd-file" ;;
2.4) MODES="raw plugin passwd-file" ;;
*) skip "Dovecot $DCV: 2.3 or 2.4 wanted" ;;
esac
DCMODES=${MODES#raw }
getent passwd dovecot >/dev/null || skip "no dovecot user"
getent passwd nobody >/dev/null || skip "no nobody user"
[ -d "$MODULE_DIR/auth" ] || skip "no $MODULE_DIR/auth"
bench_prog VMSEAL_PLUGIN plugin/libauthdb_vmseal.so plugin/.libs/libauthdb_vmseal.so ||
	skip "plugin/libauthdb_vmseal.so not built (no dovecot-dev?)"
if ldd "$VMSEAL_PLUGIN" 2>/dev/null | grep -q libasan; then
	skip "$VMSEAL_PLUGIN is a sanitizer build"
fi
# 2.4: the settings module that declares vmseal_socket_path, built beside
# the driver
VMSEAL_PLUGIN_SETTINGS=
if [ "$DCV" = 2.4 ]; then
	for p in "${VMSEAL_PLUGIN_SETTINGS_SO:-}" "$(dirname "$VMSEAL_PLUGIN")"/settings/lib*vmseal*.so \
	    "$(dirname "$VMSEAL_PLUGIN")"/lib*vmseal*settings*.so; do
		[ -n "$p" ] && [ -f "$p" ] && { VMSEAL_PLUGIN_SETTINGS=$p; break; }
	done
	[ -n "$VMSEAL_PLUGIN_SETTINGS" ] ||
		skip "the 2.4 settings module of the plugin is not built"
fi
unshare -m --propagation private true 2>/dev/null ||
	skip "unshare -m does not work here (no CAP_SYS_ADMIN?)"
[ "$DCV" = 2.4 ] || [ -x /usr/lib/dovecot/checkpassword-reply ] ||
	skip "no /usr/lib/dovecot/checkpassword-reply"

bench_workdir vmseal-authbench
chmod 0711 "$W"         # Dovecot's and vmsealed's users pass through
VPID=
NSPID=
declare -A DCPID
# Run by lib.sh's clean-up before the work folder goes.
bench_cleanup_hook() {
	local p m i
	for m in "${!DCPID[@]}"; do
		p=${DCPID[$m]}
		kill -TERM "$p" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "$VPID" ]; then
		kill -TERM "$VPID" 2>/dev/null || true
		wait "$VPID" 2>/dev/null || true
	fi
	if [ -n "$NSPID" ]; then
		kill -TERM "$NSPID" 2>/dev/null || true
		wait "$NSPID" 2>/dev/null || true
	fi
}

NOGROUP=$(id -gn nobody)

echo "== vmseal auth benchmark (logins through Dovecot's auth-client socket)"
echo "dovecot:        $(dovecot --version 2>/dev/null | head -n 1)"
echo "vmsealed:       $VMSEALED ($("$VMSEALED" -V 2>&1 | head -n 1))"
echo "plugin:         $VMSEAL_PLUGIN${VMSEAL_PLUGIN_SETTINGS:+ (settings: $VMSEAL_PLUGIN_SETTINGS)}"
echo "checkpassword:  $VMSEAL_CHECKPASSWORD"
echo "client:         $AUTHCLIENT; raw rate: $ARGON_RATE"
echo "argon2id cost:  t=${COST%%:*}, m=${COST#*:} KiB (every hash, every mode)"
echo "vmsealed:       hash_workers = $WORKERS; raw rate in $WORKERS threads"
echo "connections:    $CONNS; $NUSERS users, right passwords only"
echo "each:           ${SECS} s after ${WARMUP} s warm-up, best of $ROUNDS" \
    "round(s), order rotating"
bench_machine
LOAD_START=$(loadavg)
echo "load average:   $LOAD_START (at start)"

# --- users and hashes: the same Argon2id strings for vmseal and Dovecot ---
t0=$EPOCHREALTIME
awk -v n="$NUSERS" -v s="$RANDOM$RANDOM" 'BEGIN {
	for (i = 1; i <= n; i++)
		printf "user%04d\tpw-%s-%04d\n", i, s, i }' >"$W/users"
cut -f2 "$W/users" | "$ARGON_RATE" -g "$COST" >"$W/hashes" ||
	die "argon_rate -g $COST failed"
[ "$(wc -l <"$W/hashes")" -eq "$NUSERS" ] || die "argon_rate -g: wrong count"
grep -q "^\$argon2id\$v=19\$m=${COST#*:},t=${COST%%:*},p=1\\$" "$W/hashes" ||
	die "argon_rate -g made $(head -n 1 "$W/hashes" | cut -d'$' -f1-4)"
paste -d: <(cut -f1 "$W/users") "$W/hashes" >"$W/htpasswd"
paste -d: <(cut -f1 "$W/users") <(sed 's/^/{ARGON2ID}/' "$W/hashes") \
    >"$W/passwd"
chmod 0644 "$W/passwd"
LOGIN1=$(head -n 1 "$W/users" | cut -f1)
PW1=$(head -n 1 "$W/users" | cut -f2)
# Dovecot itself must take the hash (same libsodium format).
doveadm pw -t "$(head -n 1 "$W/passwd" | cut -d: -f2-)" -p "$PW1" \
    >"$W/pwtest.out" 2>&1 ||
	{ cat "$W/pwtest.out" >&2; die "doveadm pw -t refuses our {ARGON2ID} hash"; }

# --- the store and vmsealed ---
"$VMSEAL" -d "$W/store" init --passphrase-fd 3 --unseal-cost 1:8 \
    --hash-cost "$COST" 3<"$W/pass" </dev/null >"$W/init.out" 2>&1 ||
	{ cat "$W/init.out" >&2; die "vmseal init --hash-cost $COST failed"; }
"$VMSEAL" -d "$W/store" --passphrase-fd 3 import htpasswd "$W/htpasswd" \
    --uid "$(id -u nobody)" --gid "$(id -g nobody)" --home "$W/home/%n" \
    3<"$W/pass" </dev/null >"$W/import.out" 2>&1 ||
	{ cat "$W/import.out" >&2; die "vmseal import failed"; }
echo "users and store ready in $(awk -v a="$t0" -v b="$EPOCHREALTIME" \
    'BEGIN { printf "%.1f", b - a }') s"
cat >"$W/vmseal.conf" <<EOF
store_dir = $W/store
socket_dir = $W/run
user = nobody
group = $NOGROUP
auth_socket_group = dovecot
auth_socket_mode = 0660
hash_workers = $WORKERS
EOF
"$VMSEALED" -c "$W/vmseal.conf" -f </dev/null >"$W/vmsealed.log" 2>&1 &
VPID=$!
for ((i = 0; ; i++)); do
	"$VMSEAL" -c "$W/vmseal.conf" unseal --passphrase-fd 3 3<"$W/pass" \
	    </dev/null >"$W/unseal.out" 2>&1 && break
	kill -0 "$VPID" 2>/dev/null && [ "$i" -lt 100 ] || {
		sed 's/^/  | /' "$W/unseal.out" "$W/vmsealed.log" >&2
		die "cannot start and unseal vmsealed"
	}
	sleep 0.1
done

# --- Dovecot: one instance per passdb, all in one private mount namespace
# (held by a sleeping process; nsenter runs Dovecot and doveadm in it)
# whose module folder is a private copy with this build's plugin ---
mkdir -p "$W/modules" "$W/bin"
cp -a "$MODULE_DIR"/. "$W/modules/"
rm -f "$W/modules/auth/libauthdb_vmseal.so"
install -m 0644 "$VMSEAL_PLUGIN" "$W/modules/auth/libauthdb_vmseal.so"
if [ -n "$VMSEAL_PLUGIN_SETTINGS" ]; then
	mkdir -p "$W/modules/settings"
	install -m 0644 "$VMSEAL_PLUGIN_SETTINGS" \
	    "$W/modules/settings/$(basename "$VMSEAL_PLUGIN_SETTINGS")"
fi
# Dovecot runs checkpassword as its auth user: a copy it surely reaches.
install -m 0755 "$VMSEAL_CHECKPASSWORD" "$W/bin/vmseal-checkpassword"
maxc=0
for c in $CONNS; do [ "$c" -gt "$maxc" ] && maxc=$c; done
for m in $DCMODES; do
	mkdir -p "$W/dc-$m/state"
	if [ "$DCV" = 2.3 ]; then
		case $m in
		plugin) DB="driver = vmseal
  args = socket=$W/run/auth timeout=30" ;;
		checkpassword) DB="driver = checkpassword
  args = $W/bin/vmseal-checkpassword --socket $W/run/auth" ;;
		passwd-file) DB="driver = passwd-file
  args = $W/passwd" ;;
		esac
		cat >"$W/dc-$m/dovecot.conf" <<EOF
# A throwaway Dovecot for vmseal's auth benchmark: auth-client socket only.
instance_name = vmseal-authbench-$m-$$
base_dir = $W/dc-$m/base
state_dir = $W/dc-$m/state
log_path = $W/dc-$m/dovecot.log
protocols = none
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
auth_cache_size = 0
auth_verbose = no
passdb {
  $DB
}
userdb {
  driver = static
  args = uid=nobody gid=$NOGROUP home=$W/home/%n
}
EOF
	else
		case $m in
		plugin) DB="vmseal_socket_path = $W/run/auth
vmseal_timeout = 30s
passdb vmseal {
}" ;;
		passwd-file) DB="passdb passwd-file {
  passwd_file_path = $W/passwd
}" ;;
		esac
		cat >"$W/dc-$m/dovecot.conf" <<EOF
dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.1
# A throwaway Dovecot for vmseal's auth benchmark: auth-client socket only.
instance_name = vmseal-authbench-$m-$$
base_dir = $W/dc-$m/base
state_dir = $W/dc-$m/state
log_path = $W/dc-$m/dovecot.log
protocols =
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain
auth_failure_delay = 0
auth_cache_size = 0
auth_verbose = no
$DB
userdb static {
  fields {
    uid = nobody
    gid = $NOGROUP
    home = $W/home/%{user | username}
  }
}
EOF
	fi
	cat >>"$W/dc-$m/dovecot.conf" <<EOF
# Blocking passdbs (the plugin) run here, one request per process.
service auth-worker {
  process_limit = $((maxc + 4))
}
service auth {
  client_limit = $((maxc * 2 + 64))
}
# vmseal throttles; Dovecot's own per-IP auth penalty is off.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
done
unshare -m --propagation private sleep 100000 </dev/null >/dev/null 2>&1 &
NSPID=$!
# -r: the target's root too (setns of a mount namespace would leave a chroot)
NS() { nsenter -t "$NSPID" -m -r "$@"; }
for ((i = 0; ; i++)); do
	[ "$(readlink "/proc/$NSPID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && break
	[ "$i" -lt 50 ] || die "unshare -m: no private mount namespace"
	sleep 0.1
done
NS mount --bind "$W/modules" "$MODULE_DIR" || die "mount --bind $W/modules"
for m in $DCMODES; do
	NS dovecot -c "$W/dc-$m/dovecot.conf" </dev/null >"$W/dc-$m/start.out" 2>&1 || {
		sed 's/^/  | /' "$W/dc-$m/start.out" >&2
		die "cannot start the Dovecot instance ($m)"
	}
done
for m in $DCMODES; do
	for ((i = 0; ; i++)); do
		DCPID[$m]=$(cat "$W/dc-$m/base/master.pid" 2>/dev/null) &&
		    [ -S "$W/dc-$m/base/auth-client" ] && break
		[ "$i" -lt 100 ] || die "Dovecot ($m): no auth-client socket"
		sleep 0.1
	done
	# One login must work before anything is measured.
	NS timeout 30 doveadm -c "$W/dc-$m/dovecot.conf" auth test "$LOGIN1" \
	    "$PW1" >"$W/dc-$m/authtest.out" 2>&1 || {
		sed 's/^/  | /' "$W/dc-$m/authtest.out" >&2
		tail -n 10 "$W/dc-$m/dovecot.log" | sed 's/^/  | /' >&2
		die "Dovecot ($m): doveadm auth test $LOGIN1 fails"
	}
done
echo "Dovecot $DCV instances ($DCMODES) answer doveadm auth test"
[ "$DCV" = 2.4 ] && echo "checkpassword:  n/a (Dovecot 2.4 has no checkpassword passdb)"

# --- measuring ---
# proc_ticks PID...: "pid ticks name" lines, ticks =
# utime+stime+cutime+cstime, name = the process title's first word
# (Dovecot's auth and auth-worker are one binary: "dovecot/auth-worker").
proc_ticks() {
	local p n
	for p in "$@"; do
		n=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -d' ' -f1)
		awk -v p="$p" -v n="${n##*/}" '{ sub(/^.*\) /, "");
		    print p, $12 + $13 + $14 + $15, n }' \
		    "/proc/$p/stat" 2>/dev/null || true
	done
}
# dc_pids MODE: the Dovecot master and its children.
dc_pids() {
	local m=${DCPID[$1]}
	echo "$m"
	# not awk over /proc/*/status: a process that exits during the scan
	# (a checkpassword child) would end it early
	ps -o pid= --ppid "$m" 2>/dev/null || true
}
# delta_ms BEFORE AFTER: CPU milliseconds spent between two snapshots
# (a process born meanwhile counts from 0).
delta_ms() {
	awk -v hz="$CLK_TCK" 'FNR == NR { b[$1] = $2; next }
	    { s += $2 - ($1 in b ? b[$1] : 0) }
	    END { printf "%.0f", s / hz * 1000 }' "$1" "$2"
}
# split_ms BEFORE AFTER LOGINS: "name ms/login" for each process title
split_ms() {
	awk -v hz="$CLK_TCK" -v n="$3" 'FNR == NR { b[$1] = $2; next }
	    { s[$3] += $2 - ($1 in b ? b[$1] : 0) }
	    END { for (k in s) if (s[k] > 0)
	        printf " %s %.1f", k, s[k] / hz * 1000 / n }' "$1" "$2"
}
cpu_stat() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9,
	$2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

declare -A RES
: >"$W/raw"
measure() {     # measure MODE CONNS ROUND
	local m=$1 c=$2 r=$3 line s0 s1 vms dcms cpu busy ok rate done
	local tmo
	tmo=$(awk -v a="$SECS" -v b="$WARMUP" 'BEGIN { printf "%d", a + b + 60 }')
	read -r -a s0 < <(cpu_stat)
	if [ "$m" = raw ]; then
		: >"$W/v0"; : >"$W/d0"
		line=$(timeout "$tmo" "$ARGON_RATE" -c "$COST" -t "$WORKERS" \
		    -d "$SECS" -w "$WARMUP" -l raw 2>"$W/client.err") ||
			{ cat "$W/client.err" >&2; die "argon_rate failed"; }
		: >"$W/v1"; : >"$W/d1"
	else
		proc_ticks "$VPID" >"$W/v0"
		proc_ticks $(dc_pids "$m") >"$W/d0"
		line=$(timeout "$tmo" "$AUTHCLIENT" -s "$W/dc-$m/base/auth-client" \
		    -f "$W/users" -c "$c" -d "$SECS" -w "$WARMUP" \
		    -S "$((r * 1000 + c))" -l "$m" 2>"$W/client.err") || {
			sed 's/^/  | /' "$W/client.err" >&2
			tail -n 10 "$W/dc-$m/dovecot.log" | sed 's/^/  | /' >&2
			die "authclient failed against $m ($c connections)"
		}
		proc_ticks "$VPID" >"$W/v1"
		proc_ticks $(dc_pids "$m") >"$W/d1"
	fi
	read -r -a s1 < <(cpu_stat)
	echo "$line" >>"$W/raw"
	ok=$(field "$line" ok) rate=$(field "$line" rate)
	done=$(field "$line" completed)
	if [ "$m" != raw ]; then
		[ "$(field "$line" fail)" = 0 ] && [ "$(field "$line" errors)" = 0 ] || {
			sed 's/^/  | /' "$W/client.err" >&2
			tail -n 10 "$W/dc-$m/dovecot.log" | sed 's/^/  | /' >&2
			tail -n 5 "$W/vmsealed.log" | sed 's/^/  | /' >&2
			die "$m ($c conns): logins that did not succeed: $line"
		}
		vms=$(awk -v ms="$(delta_ms "$W/v0" "$W/v1")" -v n="$done" \
		    'BEGIN { printf "%.1f", ms / n }')
		dcms=$(awk -v ms="$(delta_ms "$W/d0" "$W/d1")" -v n="$done" \
		    'BEGIN { printf "%.1f", ms / n }')
		cpu=$(awk -v a="$vms" -v b="$dcms" 'BEGIN { printf "%.1f", a + b }')
	else
		vms=- dcms=-
		cpu=$(awk -v u="$(field "$line" cpu_us)" 'BEGIN { printf "%.1f", u / 1000 }')
	fi
	busy=$(awk -v b0="${s0[0]}" -v t0="${s0[1]}" -v b1="${s1[0]}" \
	    -v t1="${s1[1]}" 'BEGIN { x = 0; if (t1 > t0)
	    x = (b1 - b0) / (t1 - t0) * 100; printf "%.0f%%", x }')
	printf '  %3s conns, round %d, %-13s %7s logins/s  p50 %7s ms' \
	    "$c" "$r" "$m" "$rate" \
	    "$(awk -v u="$(field "$line" p50_us)" 'BEGIN { printf "%.1f", u / 1000 }')"
	local who="argon_rate itself"
	[ "$m" = raw ] || who="vmsealed $vms, dovecot $dcms:$(split_ms \
	    "$W/d0" "$W/d1" "$done")"
	printf '  p99 %7s ms  cpu %5s ms (%s); busy %s\n' \
	    "$(awk -v u="$(field "$line" p99_us)" 'BEGIN { printf "%.1f", u / 1000 }')" \
	    "$cpu" "$who" "$busy"
	local k="$c,$m"
	if [ -z "${RES[$k,rate]:-}" ] || awk -v a="$rate" \
	    -v b="${RES[$k,rate]}" 'BEGIN { exit !(a > b) }'; then
		RES[$k,rate]=$rate
		RES[$k,p50]=$(field "$line" p50_us)
		RES[$k,p99]=$(field "$line" p99_us)
		RES[$k,vms]=$vms RES[$k,dc]=$dcms RES[$k,busy]=$busy
		RES[$k,cpu]=$cpu
	fi
}

set -- $MODES
NM=$#
for c in $CONNS; do
	echo
	echo "== $c connection(s)"
	for ((r = 1; r <= ROUNDS; r++)); do
		# rotate the order: round r starts with mode r
		for ((j = 0; j < NM; j++)); do
			eval "m=\${$(( (r - 1 + j) % NM + 1 ))}"
			measure "$m" "$c" "$r"
		done
	done
done
LOAD_END=$(loadavg)
if grep -qi 'error\|fatal\|panic' "$W"/dc-*/dovecot.log 2>/dev/null; then
	echo "note: Dovecot logged errors:"
	grep -hi 'error\|fatal\|panic' "$W"/dc-*/dovecot.log | head -n 5 |
	    sed 's/^/  | /'
fi
if grep -qi 'fail\|error\|full\|upgraded' "$W/vmsealed.log"; then
	echo "note: vmsealed logged:"
	grep -i 'fail\|error\|full\|upgraded' "$W/vmsealed.log" | head -n 5 |
	    sed 's/^/  | /'
fi

# --- table ---
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
echo
echo "== results (best of $ROUNDS x ${SECS} s; Argon2id t=${COST%%:*}" \
    "m=${COST#*:} KiB; $WORKERS hash worker(s) / raw threads;"
echo "   load average $LOAD_START at start, $LOAD_END at end;" \
    "latencies and cpu/login in ms)"
printf '%5s %-13s | %9s %8s %8s | %6s %6s | %6s %6s %6s | %5s\n' \
    "" "" "" "" "" ratio ratio "" "" "" ""
printf '%5s %-13s | %9s %8s %8s | %6s %6s | %6s %6s %6s | %5s\n' \
    conns passdb logins/s p50 p99 rate cpu cpu vms dc busy
BELOW=
for c in $CONNS; do
	for m in $MODES; do
		k="$c,$m"
		rr=$(ratio "${RES[$k,rate]}" "${RES[$c,raw,rate]}")
		[ "$m" = plugin ] && awk -v r="$rr" -v t="$TARGET" \
		    'BEGIN { exit !(r < t) }' && BELOW="$BELOW $c"
		cr=$(ratio "${RES[$c,raw,cpu]}" "${RES[$k,cpu]}")
		printf '%5s %-13s | %9s %8s %8s | %6s %6s | %6s %6s %6s | %5s\n' \
		    "$c" "$m" "${RES[$k,rate]}" "$(ms "${RES[$k,p50]}")" \
		    "$(ms "${RES[$k,p99]}")" "$rr" "$cr" "${RES[$k,cpu]}" \
		    "${RES[$k,vms]}" "${RES[$k,dc]}" "${RES[$k,busy]}"
	done
done
echo "ratio rate = logins/s / raw Argon2id verifications/s in $WORKERS" \
    "thread(s) (target for the plugin >= $TARGET);"
echo "ratio cpu = raw cpu per verification / cpu per login (1.00: no work" \
    "beyond the hash);"
echo "cpu = CPU time per login of the serving side: vmsealed (vms) plus" \
    "Dovecot (dc), or"
echo "argon_rate's own per verification for raw; busy = share of all CPUs" \
    "busy, other jobs included"
if [ -n "$BELOW" ]; then
	echo "plugin below target at$BELOW connection(s)"
else
	echo "plugin target met at every concurrency"
fi
echo
echo "notes: one connection = one closed-loop client thread (no pipelining);" \
    "checkpassword"
echo "forks and execs vmseal-checkpassword for every login (and" \
    "checkpassword-reply after"
echo "it); passwd-file verifies in Dovecot's auth process itself; client," \
    "Dovecot, vmsealed"
echo "and the raw threads share the CPUs with whatever else runs here."
