# tests/bench/lib.sh - helpers shared by the benchmarks (sourced by
# import.sh, socketmap.sh, auth.sh, throttle.sh and rotate.sh; bash).
#
# What is here: argument checks (die, isnum, isreal), finding programs
# (bench_vmseal, bench_prog, bench_need_prog, find_tool), the work folder with its
# clean-up on exit (bench_workdir; a script adds its own clean-up in
# bench_cleanup_hook), processes (bench_stop, bench_run_user), the machine
# and load lines, /proc figures (cpu_ticks, hwm_kb, mib), the timer of
# one command (run, keep_best, run_best with T_REAL, T_USER, T_SYS,
# T_RSS), and figures (div, ratio, field, human, cpu, apparent,
# allocated).  A script may define a function of the same name after
# sourcing this file to print a figure its own way.
#
# Nothing here runs at source time but plain assignments; every benchmark
# still prints its own parameters, figures and ratios.

LC_ALL=C
export LC_ALL

die() { echo "bench: $*" >&2; exit 1; }
isnum() { case $1 in ''|*[!0-9]*) return 1 ;; esac; }
isreal() { case $1 in ''|.|*[!0-9.]*|*.*.*) return 1 ;; esac; }

NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
BENCH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# --- programs ---

# bench_prog VAR RELPATH [ALTRELPATH]: VAR (from the environment, else
# RELPATH or ALTRELPATH under the top of the build tree, else under the
# current folder) as an absolute path; 1 when there is no such file.
bench_prog() {
	local var=$1 rel=$2 p
	p=${!var:-}
	if [ -z "$p" ]; then
		for p in "$BENCH_HERE/../../$rel" "./$rel" \
		    ${3:+"$BENCH_HERE/../../$3" "./$3"}; do
			[ -f "$p" ] && break
		done
	fi
	[ -f "$p" ] || return 1
	case $p in /*) ;; *) p=$(cd "$(dirname "$p")" && pwd)/$(basename "$p") ;; esac
	printf -v "$var" '%s' "$p"
}

# bench_need_prog VAR RELPATH: bench_prog, and an executable, or die.
bench_need_prog() {
	bench_prog "$1" "$2" && [ -x "${!1}" ] ||
		die "no $(basename "$2") at '${!1:-$2}' (run 'make bench', or" \
		    "set \$$1)"
}

# bench_vmseal [PATH]: VMSEAL, an absolute path: PATH (the script's first
# argument), else $VMSEAL, else the build tree's helper/vmseal, else
# ./helper/vmseal; or die.
bench_vmseal() {
	if [ $# -ge 1 ]; then
		VMSEAL=$1
	elif [ -z "${VMSEAL:-}" ]; then
		if [ -x "$BENCH_HERE/../../helper/vmseal" ]; then
			VMSEAL=$BENCH_HERE/../../helper/vmseal
		else
			VMSEAL=./helper/vmseal
		fi
	fi
	[ -f "$VMSEAL" ] && [ -x "$VMSEAL" ] ||
		die "no vmseal binary at '$VMSEAL' (build it, or give its path" \
		    "as the first argument or in \$VMSEAL)"
	case $VMSEAL in
	/*) ;;
	*) VMSEAL=$(cd "$(dirname "$VMSEAL")" && pwd)/$(basename "$VMSEAL") ;;
	esac
}

# find_tool NAME: its path (Postfix and LMDB tools often live in
# /usr/sbin, off a user's PATH); 1 when missing.
find_tool() {
	local p
	p=$(command -v "$1" 2>/dev/null) && { echo "$p"; return 0; }
	for p in /usr/sbin/$1 /usr/local/sbin/$1 /sbin/$1; do
		[ -x "$p" ] && { echo "$p"; return 0; }
	done
	return 1
}

# --- the work folder, processes, clean-up ---

# bench_workdir NAME: W, a new folder $TMPDIR/NAME.XXXXXX, removed on exit
# (kept with BENCH_KEEP=1), with $W/pass holding $PASS; the processes in
# PIDS are stopped on exit, after bench_cleanup_hook if the script has one.
bench_workdir() {
	W=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || die "mktemp failed"
	PIDS=
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	printf '%s\n' "$PASS" >"$W/pass"
}

bench_cleanup() {
	local p
	if declare -F bench_cleanup_hook >/dev/null; then
		bench_cleanup_hook
	fi
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || true
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: work folder kept: $W" >&2
	else
		rm -rf "$W"
	fi
}

# bench_stop PID: TERM a process started by the script, wait for it, and
# take it out of PIDS.
bench_stop() {
	local p=$1 q= x
	kill -TERM "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	for x in $PIDS; do [ "$x" = "$p" ] || q="$q $x"; done
	PIDS=$q
}

# bench_run_user: RUN_USER and RUN_GROUP, who vmsealed runs as (started
# as root, it drops to nobody).
bench_run_user() {
	if [ "$(id -u)" = 0 ]; then
		RUN_USER=nobody
		if getent group nogroup >/dev/null 2>&1; then
			RUN_GROUP=nogroup
		else
			RUN_GROUP=
		fi
	else
		RUN_USER=$(id -un)
		RUN_GROUP=
	fi
}

# --- the machine ---

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'; }
bench_machine() {
	echo "machine:        $(uname -srm), $NCPU CPU(s), $(awk -F': *' \
	    '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null ||
	    echo ?)"
}

# cpu_ticks PID: user+system clock ticks of the whole process (field 2,
# comm, has no spaces for our programs).
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo -
}
hwm_kb() {       # hwm_kb PID [FIELD]: a /proc/PID/status figure in kB
	awk -v f="${2:-VmHWM}:" '$1 == f { print $2 }' "/proc/$1/status" \
	    2>/dev/null || true
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# --- timing one command ---

# run LABEL CMD...: run CMD (stdout/stderr to $W/LABEL.out/.err, fd 3 the
# passphrase, stdin /dev/null); record wall/user/sys seconds and peak RSS
# (with GNU time, when GNU_TIME names it) in T_*[LABEL].  A failing step
# ends the benchmark.
declare -A T_REAL T_USER T_SYS T_RSS
GNU_TIME=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1; then
	GNU_TIME=/usr/bin/time
fi
run() {
	local label=$1 real user sys rss=- TIMEFORMAT='%3R %3U %3S'
	shift
	if [ -n "$GNU_TIME" ]; then
		set -- "$GNU_TIME" -f %M -o "$W/$label.rss" "$@"
	fi
	if ! { time "$@" <"/dev/null" 3<"$W/pass" >"$W/$label.out" \
	    2>"$W/$label.err"; } 2>"$W/$label.time"; then
		echo "bench: step '$label' failed: $*" >&2
		sed 's/^/  | /' "$W/$label.err" | tail -n 20 >&2
		exit 1
	fi
	read -r real user sys <"$W/$label.time"
	if [ -n "$GNU_TIME" ]; then
		rss=$(tail -n 1 "$W/$label.rss")
	fi
	T_REAL[$label]=$real
	T_USER[$label]=$user
	T_SYS[$label]=$sys
	T_RSS[$label]=$rss
}

# keep_best DST SRC: DST takes SRC's figures (and output) if DST has none
# yet or SRC's wall time is lower.
keep_best() {
	local dst=$1 src=$2
	if [ -z "${T_REAL[$dst]:-}" ] || awk -v a="${T_REAL[$src]}" \
	    -v b="${T_REAL[$dst]}" 'BEGIN { exit !(a < b) }'; then
		T_REAL[$dst]=${T_REAL[$src]}
		T_USER[$dst]=${T_USER[$src]}
		T_SYS[$dst]=${T_SYS[$src]}
		T_RSS[$dst]=${T_RSS[$src]}
		cp "$W/$src.out" "$W/$dst.out"
	fi
}

# run_best LABEL K CMD...: best of K runs (by wall time) under one label.
run_best() {
	local label=$1 k=$2 i
	shift 2
	for ((i = 0; i < k; i++)); do
		run "$label.try" "$@"
		keep_best "$label" "$label.try"
	done
}

# --- figures ---

cpu() { awk -v u="${T_USER[$1]}" -v s="${T_SYS[$1]}" \
    'BEGIN { printf "%.3f\n", u + s }'; }
apparent() { stat -c %s "$1"; }
allocated() { echo $(( $(du -k "$1" | awk '{ print $1 }') * 1024 )); }
# div A B [FMT]: A/B, or "n/a" when B is 0.
div() {
	awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" \
	    'BEGIN { if (b + 0 == 0) print "n/a"; else printf f "\n", a / b }'
}
ratio() { div "$1" "$2" "${3:-%.2f}"; }
human() {
	awk -v b="$1" 'BEGIN {
		if (b >= 1048576) printf "%.1f MiB\n", b / 1048576;
		else if (b >= 1024) printf "%.1f KiB\n", b / 1024;
		else printf "%d B\n", b }'
}
# field LINE KEY: the value of KEY=value in a line of figures.
field() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) {
	split($i, a, "="); if (a[1] == k) { print a[2]; exit } } }' <<<"$1"; }

# start_vmsealed DIR HASHCOST EXTRA-CONF: a store (Argon2id HASHCOST for
# user passwords), a vmsealed with hash_workers = $WORKERS and the lines
# EXTRA-CONF, unsealed with $W/pass; sets VPID (added to PIDS).
start_vmsealed() {
	local d=$1 i
	mkdir -p "$d/run"
	"$VMSEAL" -d "$d/store" init --passphrase-fd 3 --unseal-cost 1:8 \
	    --hash-cost "$2" 3<"$W/pass" </dev/null >"$d/init.out" 2>&1 ||
		{ cat "$d/init.out" >&2; die "vmseal init --hash-cost $2 failed"; }
	{
		echo "store_dir = $d/store"
		echo "socket_dir = $d/run"
		echo "user = $RUN_USER"
		[ -z "$RUN_GROUP" ] || echo "group = $RUN_GROUP"
		echo "hash_workers = $WORKERS"
		printf '%s\n' "$3"
	} >"$d/vmseal.conf"
	"$VMSEALED" -c "$d/vmseal.conf" -f </dev/null >"$d/vmsealed.log" 2>&1 &
	VPID=$!
	PIDS="$PIDS $VPID"
	for ((i = 0; ; i++)); do
		"$VMSEAL" -c "$d/vmseal.conf" unseal --passphrase-fd 3 \
		    3<"$W/pass" </dev/null >"$d/unseal.out" 2>&1 && break
		kill -0 "$VPID" 2>/dev/null && [ "$i" -lt 100 ] || {
			sed 's/^/  | /' "$d/unseal.out" "$d/vmsealed.log" >&2
			die "cannot start and unseal vmsealed ($d)"
		}
		sleep 0.1
	done
	[ -S "$d/run/auth" ] || die "no auth socket in $d/run"
}

# auth_stat CONF KEY: auth.KEY of 'vmseal status --json'.
auth_stat() {
	"$VMSEAL" -c "$1" status --json </dev/null 2>/dev/null |
	    grep -o '"auth":{[^}]*}' | grep -o "\"$2\":[0-9]*" | cut -d: -f2
}
