# lib.sh - helpers for vmseal's shell integration tests (sourced).
#
# Each test speaks TAP (automake's tap-driver.sh reads it, so every check
# is counted): "ok N - what", "not ok N - what", "ok N # SKIP why" for a
# check that did not run, and the plan "1..N" from t_done at the end (a
# test that dies before it has no plan: an error).  A whole test that
# cannot run here prints "1..0 # SKIP why" (skip).  The exit status is 1
# when a check failed, for a run by hand.

: "${VMSEAL:?VMSEAL must name the vmseal binary}"
PASS='correct horse battery staple'
T_N=0
T_FAILED=0
# The TAP stream is descriptor 8, a copy of the test's standard output:
# a check whose output a test redirects ("check ... >/dev/null") or runs
# in a subshell is still seen.  Results are counted in two files, so that
# checks made in subshells count too (T_N and T_FAILED are refreshed from
# them at every check and by t_done).
exec 8>&1
T_COUNT=$(mktemp /tmp/vmseal-tap-XXXXXX) || exit 1
T_FCOUNT=$T_COUNT.failed
: >"$T_FCOUNT"

t_result() {    # t_result ok|fail: count one result, set T_N and T_FAILED
	printf x >>"$T_COUNT"
	[ "$1" = fail ] && printf x >>"$T_FCOUNT"
	T_N=$(stat -c %s "$T_COUNT")
	T_FAILED=$(stat -c %s "$T_FCOUNT")
}

t_ok() {
	t_result ok
	echo "ok $T_N - $*" >&8
}

t_fail() {
	t_result fail
	echo "not ok $T_N - $*" >&8
}

# t_skip WHY: a check that did not run here (counted as skipped, never as
# passed).
t_skip() {
	t_result ok
	echo "ok $T_N # SKIP $*" >&8
}

# skip WHY: the whole test cannot run here.
skip() {
	rm -f "$T_COUNT" "$T_FCOUNT"
	echo "1..0 # SKIP $*" >&8
	exit 0
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
	local what=$1; shift
	if "$@"; then t_ok "$what"; else t_fail "$what"; fi
}

# expect_exit CODE DESCRIPTION COMMAND...: exact exit status.
expect_exit() {
	local want=$1 what=$2 got; shift 2
	"$@" >"${WORK:-/tmp}/last.out" 2>&1; got=$?
	if [ "$got" -eq "$want" ]; then t_ok "$what (exit $got)"
	else t_fail "$what: exit $got, wanted $want"
		head -n 20 "${WORK:-/tmp}/last.out" | sed 's/^/#   /'; fi
}

# expect_in FILE TEXT DESCRIPTION: FILE holds TEXT (fixed string).
expect_in() {
	if grep -qF -- "$2" "$1"; then t_ok "$3"
	else t_fail "$3: '$2' not in output:"; head -n 20 "$1" | sed 's/^/#   /'; fi
}

expect_not_in() {
	if grep -qF -- "$2" "$1"; then t_fail "$3: '$2' found"
	else t_ok "$3"; fi
}

t_done() {
	T_N=$(stat -c %s "$T_COUNT" 2>/dev/null || echo "$T_N")
	T_FAILED=$(stat -c %s "$T_FCOUNT" 2>/dev/null || echo "$T_FAILED")
	rm -f "$T_COUNT" "$T_FCOUNT"
	echo "1..$T_N" >&8
	echo "# $T_N checks, $T_FAILED failed" >&8
	[ "$T_FAILED" -eq 0 ]
}

# A fresh store in $WORK/store with cheap Argon2 costs; the recovery key
# lands in $WORK/reckey.
t_new_store() {
	STORE=$WORK/store
	rm -rf "$STORE"
	"$VMSEAL" -d "$STORE" init --unseal-cost 1:8 --hash-cost 1:8 \
	    --passphrase-fd 3 3<<<"$PASS" >"$WORK/init.out" || return 1
	sed -n 's/^    \([0-9A-Z]\{5\}-.*\)$/\1/p' "$WORK/init.out" | paste -sd- \
	    >"$WORK/reckey"
}

# vs ARGS...: vmseal on the store, passphrase from fd 3.
vs() {
	"$VMSEAL" -d "$STORE" --passphrase-fd 3 "$@" 3<<<"$PASS"
}

# stop_pid PID: TERM, up to 5 s, then KILL.
stop_pid() {
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
}

# t_free_ports N: N distinct free TCP ports on 127.0.0.1 above 20000, on
# one line (nothing when none is found: callers check).
t_free_ports() {
	python3 - "$1" <<'PY'
import random, socket, sys
ports = []
while len(ports) < int(sys.argv[1]):
    p = random.randint(20001, 64999)
    if p in ports:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    ports.append(p)
print(*ports)
PY
}

# t_postfix_conf DIR: a minimal Postfix configuration folder for Postfix's
# tools (postmap -c DIR, postconf -c DIR): a fresh machine has no
# /etc/postfix/main.cf, and no test reads the system's.
t_postfix_conf() {
	mkdir -p "$1" || return 1
	cat >"$1/main.cf" <<EOF
compatibility_level = 3.6
myhostname = mx.vmseal.test
mydomain = vmseal.test
inet_protocols = ipv4
alias_maps =
alias_database =
EOF
}

# bail WHAT: a set-up step failed and nothing after it can work: one
# failure, the test's diagnostics (when it defines them), the plan, exit.
bail() {
	t_fail "$*"
	if command -v diagnostics >/dev/null 2>&1; then diagnostics; fi
	t_done
	exit 1
}

# t_favour PID: every thread of process PID (and threads it starts later
# inherit it) runs at nice -10, for a timing measurement on a machine
# where other tests run too.  Best effort: without the privilege the
# measurement runs as it is.
t_favour() {
	local t
	for t in /proc/"$1"/task/*; do
		renice -n -10 -p "${t##*/}" >/dev/null 2>&1
	done
	return 0
}

# t_postfix_start EXTRA: a throwaway Postfix on loopback, the same in every
# test.  Configuration folder $PFDIR, queue $SPOOL, log $MAILLOG, data in
# $WORK/data, smtpd on 127.0.0.1:$SMTP_PORT; main.cf holds the settings
# that keep it local (no DNS, no TLS, no local delivery, loopback only)
# followed by EXTRA, the test's own lines (maps, restrictions, SASL).
# Started and answering 220 within 15 s, or bail; sets PF_STARTED (the
# test's cleanup calls t_postfix_stop).  T_PF_CHROOT=y runs smtpd, cleanup
# and trivial-rewrite chrooted in $SPOOL as Debian's master.cf does (with
# the files Debian copies into the chroot); T_PF_LAUNCH is a command
# "postfix start" runs under (for instance one that enters a mount
# namespace).
t_postfix_start() {
	local ready= c=${T_PF_CHROOT:-n} f
	mkdir -p "$PFDIR" "$SPOOL" "$WORK/data" "$WORK/log" ||
	    bail "mkdir $PFDIR"
	chown postfix "$WORK/data"
	cat >"$PFDIR/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $SPOOL
data_directory = $WORK/data
maillog_file = $MAILLOG
maillog_file_prefixes = $WORK
myhostname = mx.vmseal.test
mydomain = vmseal.test
myorigin = \$myhostname
mydestination =
virtual_alias_domains =
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
biff = no
smtpd_tls_security_level = none
smtp_tls_security_level = none
lmtp_tls_security_level = none
smtpd_error_sleep_time = 0
$1
EOF
	cat >"$PFDIR/master.cf" <<EOF
127.0.0.1:$SMTP_PORT inet n - $c - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       $c       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       $c       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	if [ "$c" = y ]; then
		mkdir -p "$SPOOL/etc"
		for f in localtime services resolv.conf hosts nsswitch.conf host.conf; do
			[ -e "/etc/$f" ] && cp -L "/etc/$f" "$SPOOL/etc/"
		done
	fi
	timeout 30 postfix -c "$PFDIR" check </dev/null >"$WORK/pfcheck.out" 2>&1
	if timeout 30 ${T_PF_LAUNCH:-} postfix -c "$PFDIR" start </dev/null \
	    >"$WORK/pfstart.out" 2>&1; then
		PF_STARTED=1
	else
		sed 's/^/#   /' "$WORK/pfcheck.out" "$WORK/pfstart.out"
		bail "postfix start"
	fi
	for _ in $(seq 150); do
		if python3 - "$SMTP_PORT" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.settimeout(5)
sys.exit(0 if s.recv(512).startswith(b"220") else 1)
PY
		then ready=1; break; fi
		sleep 0.1
	done
	[ -n "$ready" ] ||
	    bail "Postfix smtpd answers 220 on 127.0.0.1:$SMTP_PORT within 15 s"
}

# t_postfix_stop: stop the Postfix of t_postfix_start (its master killed
# when it has not gone within 5 s).
t_postfix_stop() {
	local pid
	[ -n "${PF_STARTED:-}" ] || return 0
	pid=$(sed -n 's/ //gp;1q' "$SPOOL/pid/master.pid" 2>/dev/null)
	timeout 20 postfix -c "$PFDIR" stop </dev/null >/dev/null 2>&1
	[ -n "$pid" ] && stop_pid "$pid"
	PF_STARTED=
}

# t_modules_lock: tests that put vmseal's module into Dovecot's module
# folder (and back at the end) run one at a time, whatever make -j runs
# beside them: the first call in a test waits (up to 15 min) for the lock
# /tmp/vmseal-dovecot-modules.lock, held by a small watcher process until
# this test's shell exits, so every cleanup - whatever path it takes -
# has restored the folder before the next test touches it.  Without it
# two tests back up and restore each other's copy, and one ends with no
# module ("Unknown setting: vmseal_socket_path").
t_modules_lock() {
	local w
	[ -e "$WORK/.modules-locked" ] && return 0
	( flock -w 900 9 || exit 1
	  : >"$WORK/.modules-locked"
	  while kill -0 "$$" 2>/dev/null; do sleep 0.5; done
	) 9>>/tmp/vmseal-dovecot-modules.lock >/dev/null 2>&1 &
	w=$!
	for _ in $(seq 1900); do
		[ -e "$WORK/.modules-locked" ] && return 0
		kill -0 "$w" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}

# t_install_module SRC DIR NAME: SRC as DIR/NAME for the run; a file
# already there is kept in $WORK and put back by cleanup.  Prints the
# backup's path.  Takes t_modules_lock first.
t_install_module() {
	local backup=
	t_modules_lock || return 1
	if [ -e "$2/$3" ]; then
		backup=$WORK/$3.installed
		cp -p "$2/$3" "$backup" || return 1
	fi
	echo "$backup"
	# install, not cp: a loaded module must not be rewritten in place
	install -m 0644 "$1" "$2/$3"
}

# t_dovecot_auth_setup: for AUTH_MODE (plugin, lua, checkpassword) on the
# Dovecot found (DC24 set for 2.4), install what Dovecot needs (the module,
# and on 2.4 its settings module, backed up and restored by the caller's
# cleanup through MODULE_COPIED/MODULE_BACKUP and SETMOD_*) and set DB to
# the passdb and userdb blocks asking vmsealed on $SOCKDIR/auth.  On
# failure: returns 1 with the reason in T_SETUP_ERR.
# (The body is not indented: its configuration text is written as is.)
t_dovecot_auth_setup() {
if [ "$AUTH_MODE" = plugin ]; then
	MODULE_COPIED=1
	MODULE_BACKUP=$(t_install_module "$VMSEAL_PLUGIN" "$AUTH_MODULE_DIR" \
	    libauthdb_vmseal.so) || { T_SETUP_ERR="copy $VMSEAL_PLUGIN to $AUTH_MODULE_DIR"; return 1; }
	if [ -n "$DC24" ]; then
		# doveconf and the config process know the driver's settings
		# only from its settings module
		[ -d "$SETTINGS_MODULE_DIR" ] || SETMOD_DIR_MADE=1
		mkdir -p "$SETTINGS_MODULE_DIR"
		SETMOD_COPIED=1
		SETMOD_BACKUP=$(t_install_module "$VMSEAL_PLUGIN_SETTINGS" \
		    "$SETTINGS_MODULE_DIR" libvmseal_settings.so) ||
		    { T_SETUP_ERR="copy $VMSEAL_PLUGIN_SETTINGS to $SETTINGS_MODULE_DIR"; return 1; }
		DB="vmseal_socket_path = $SOCKDIR/auth
vmseal_timeout = 5s
passdb vmseal {
}
userdb vmseal {
}"
	else
		DB="passdb {
  driver = vmseal
  args = socket=$SOCKDIR/auth timeout=5
}
userdb {
  driver = vmseal
  args = socket=$SOCKDIR/auth timeout=5
}"
	fi
elif [ "$AUTH_MODE" = lua ]; then
	# A copy the auth worker can surely read.
	mkdir -p "$WORK/lua" && chmod 0755 "$WORK/lua"
	install -m 0644 "$VMSEAL_LUA" "$WORK/lua/vmseal-auth.lua" ||
	    { T_SETUP_ERR="copy $VMSEAL_LUA"; return 1; }
	if [ -n "$DC24" ]; then
		DB="passdb lua {
  lua_file = $WORK/lua/vmseal-auth.lua
  lua_settings {
    socket = $SOCKDIR/auth
    timeout = 5
  }
}
userdb lua {
  lua_file = $WORK/lua/vmseal-auth.lua
  lua_settings {
    socket = $SOCKDIR/auth
    timeout = 5
  }
}"
	else
		# 2.3 passes no settings to a script: a file sets them and
		# runs the shipped one.
		cat >"$WORK/lua/vmseal-auth-test.lua" <<EOF
vmseal_settings = { socket = "$SOCKDIR/auth", timeout = "5" }
dofile("$WORK/lua/vmseal-auth.lua")
EOF
		chmod 0644 "$WORK/lua/vmseal-auth-test.lua"
		DB="passdb {
  driver = lua
  args = file=$WORK/lua/vmseal-auth-test.lua
}
userdb {
  driver = lua
  args = file=$WORK/lua/vmseal-auth-test.lua
}"
	fi
else
	# Dovecot runs it as user dovecot: a copy it can surely reach.
	CP=$VMSEAL_CHECKPASSWORD
	if [ "$(head -c 4 "$CP" | tr -d '\0')" = $'\x7fELF' ]; then
		mkdir -p "$WORK/bin" && chmod 0755 "$WORK/bin"
		cp "$CP" "$WORK/bin/vmseal-checkpassword" && CP=$WORK/bin/vmseal-checkpassword
	fi
	DB="passdb {
  driver = checkpassword
  args = $CP --socket $SOCKDIR/auth
}
userdb {
  driver = checkpassword
  args = $CP --socket $SOCKDIR/auth
}"
fi
}

# t_pg_start: a throwaway PostgreSQL cluster from Debian's postgresql
# package: initdb into $WORK/pg (the newest /usr/lib/postgresql/*/bin),
# run by an unprivileged user (under root: postgres when it exists, else
# nobody; otherwise the user running the test),
# listening only on a Unix socket in that folder (listen_addresses = '',
# so no TCP port is taken), fsync off (a stopped or killed server keeps
# every commit; only a crash of the machine could lose some), dynamic
# shared memory in files
# (mmap: works in a chroot with no /dev/shm of its own), trust
# authentication on the socket, which only root and that user can reach
# ($WORK/pg is 0700; $WORK is made 0711 so the user can reach it).
# Database superuser postgres, database vmseal.  Sets PGHOST, PGPORT,
# PGUSER, PGDATABASE (exported, for psql) and PG_CONNINFO; PG_STARTED for
# the test's cleanup (t_pg_stop).  Skips the whole test ("n/a: ...")
# only when the server package is absent; any other failure bails.
t_pg_start() {
	local bin dir=$WORK/pg user=postgres v
	for v in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n); do
		[ -x "$v/initdb" ] && [ -x "$v/pg_ctl" ] && bin=$v
	done
	[ -n "${bin:-}" ] ||
	    skip "n/a: PostgreSQL server not installed (apt-get install postgresql)"
	command -v psql >/dev/null 2>&1 ||
	    skip "n/a: psql not installed (apt-get install postgresql-client)"
	getent passwd postgres >/dev/null || user=nobody
	[ "$(id -u)" -eq 0 ] || user=$(id -un)
	PG_BIN=$bin
	PG_USER=$user
	[ "$user" = "$(id -un)" ] || command -v runuser >/dev/null 2>&1 ||
	    bail "runuser not found (util-linux)"
	PG_DIR=$dir
	chmod 0711 "$WORK" || bail "chmod $WORK"
	rm -rf "$dir"
	mkdir -p "$dir/data" && chown -R "$user" "$dir" && chmod 0700 "$dir" ||
	    bail "mkdir $dir"
	if ! t_pg_as "$bin/initdb" -D "$dir/data" -U postgres \
	    -A trust -E UTF8 --locale=C --no-sync >"$WORK/initdb.out" 2>&1
	then
		sed 's/^/#   /' "$WORK/initdb.out" | tail -20
		bail "initdb ($bin, as $user)"
	fi
	cat >>"$dir/data/postgresql.conf" <<EOF2
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
fsync = off
full_page_writes = off
dynamic_shared_memory_type = mmap
max_connections = 40
shared_buffers = 16MB
logging_collector = off
EOF2
	if ! t_pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" \
	    -w -t 60 start >"$WORK/pgctl.out" 2>&1; then
		sed 's/^/#   /' "$WORK/pgctl.out" | tail -10
		tail -20 "$dir/log" 2>/dev/null | sed 's/^/#   /'
		bail "pg_ctl start ($bin, as $user)"
	fi
	PG_STARTED=1
	export PGHOST=$dir PGPORT=5432 PGUSER=postgres PGDATABASE=vmseal
	PG_CONNINFO="host=$dir port=5432 user=postgres dbname=vmseal"
	psql -q -d postgres -c 'CREATE DATABASE vmseal' >/dev/null 2>&1 ||
	    bail "CREATE DATABASE vmseal"
}

# t_pg_as COMMAND...: COMMAND as the cluster's user.
t_pg_as() {
	if [ "$PG_USER" = "$(id -un)" ]; then "$@"
	else runuser -u "$PG_USER" -- "$@"; fi
}

# t_pg_restart: start the cluster of t_pg_start again after a stop.
t_pg_restart() {
	t_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" \
	    -l "$PG_DIR/log" -w -t 60 start >"$WORK/pgctl.out" 2>&1 &&
	    PG_STARTED=1
}

# t_pg_stop [MODE]: stop the cluster of t_pg_start (pg_ctl's mode: fast by
# default, immediate for a crash), its postmaster killed when it has not
# gone within 10 s.
t_pg_stop() {
	local pid
	[ -n "${PG_STARTED:-}" ] || return 0
	pid=$(head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)
	t_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" \
	    -m "${1:-fast}" -w -t 10 stop >/dev/null 2>&1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	PG_STARTED=
}

# t_dovecot_env: what a test with a real Dovecot needs, found or skipped:
# the binaries (VMSEALED, VMSEAL_CHECKPASSWORD, VMSEAL_PLUGIN and its 2.4
# settings module, VMSEAL_LUA, each defaulting to the build tree), the
# module folders, DC_VERSION and DC24, AUTH_MODE (checkpassword on 2.3;
# on 2.4, which has none, the plugin when built, else lua; "n/a" skip for
# checkpassword on 2.4), and the users Dovecot runs as.  Skips the whole
# test (skip) when something is missing; needs root.
t_dovecot_env() {
	local b f have_unix
	BIN=$(dirname "$VMSEAL")
	VMSEALED=${VMSEALED:-$BIN/../service/vmsealed}
	VMSEAL_CHECKPASSWORD=${VMSEAL_CHECKPASSWORD:-$BIN/vmseal-checkpassword}
	if [ -z "${VMSEAL_PLUGIN:-}" ]; then
		VMSEAL_PLUGIN=$BIN/../plugin/libauthdb_vmseal.so
		[ -f "$VMSEAL_PLUGIN" ] ||
		    [ ! -f "$BIN/../plugin/.libs/libauthdb_vmseal.so" ] ||
		    VMSEAL_PLUGIN=$BIN/../plugin/.libs/libauthdb_vmseal.so
	fi
	VMSEAL_PLUGIN_SETTINGS=${VMSEAL_PLUGIN_SETTINGS:-$(dirname "$VMSEAL_PLUGIN")/libvmseal_settings.so}
	VMSEAL_LUA=${VMSEAL_LUA:-$TOP_SRCDIR/contrib/dovecot/vmseal-auth.lua}
	MODULE_DIR=${DOVECOT_MODULE_DIR:-/usr/lib/dovecot/modules}
	AUTH_MODULE_DIR=$MODULE_DIR/auth
	SETTINGS_MODULE_DIR=$MODULE_DIR/settings
	case ${AUTH_MODE:-} in
	''|checkpassword|plugin|lua) ;;
	*) echo "not ok 1 - AUTH_MODE=$AUTH_MODE: checkpassword, plugin or lua"; exit 1;;
	esac
	[ "$(id -u)" -eq 0 ] || skip "needs root (Dovecot starts only as root)"
	PATH=$PATH:/usr/sbin:/sbin
	for b in dovecot doveadm python3 timeout; do
		command -v "$b" >/dev/null 2>&1 || skip "$b not installed"
	done
	DC_VERSION=$(dovecot --version 2>/dev/null | cut -d' ' -f1)
	case $DC_VERSION in
	2.3.*) DC24=;;
	2.[0-2].*|1.*|'') skip "Dovecot '$DC_VERSION': 2.3 or later needed";;
	*) DC24=1;;
	esac
	if [ -z "${AUTH_MODE:-}" ]; then
		if [ -z "$DC24" ]; then AUTH_MODE=checkpassword
		elif [ -f "$VMSEAL_PLUGIN" ]; then AUTH_MODE=plugin
		else AUTH_MODE=lua; fi
	fi
	[ "$AUTH_MODE" = checkpassword ] && [ -n "$DC24" ] &&
	    skip "n/a: Dovecot 2.4 has no checkpassword passdb"
	[ -x /usr/lib/dovecot/imap ] || skip "dovecot-imapd not installed"
	getent passwd dovecot >/dev/null || skip "no dovecot user"
	getent passwd nobody >/dev/null || skip "no nobody user"
	if [ "$AUTH_MODE" = plugin ]; then
		[ -f "$VMSEAL_PLUGIN" ] || skip "plugin mode: $VMSEAL_PLUGIN not built"
		ldd "$VMSEAL_PLUGIN" 2>/dev/null | grep -q libasan &&
		    skip "plugin mode: $VMSEAL_PLUGIN is a sanitizer build"
		[ -z "$DC24" ] || [ -f "$VMSEAL_PLUGIN_SETTINGS" ] ||
		    skip "plugin mode: $VMSEAL_PLUGIN_SETTINGS (Dovecot 2.4's settings module) not built"
	fi
	if [ "$AUTH_MODE" = lua ]; then
		[ -f "$AUTH_MODULE_DIR/libauthdb_lua.so" ] ||
		    skip "lua mode: $AUTH_MODULE_DIR/libauthdb_lua.so missing (Debian package dovecot-auth-lua)"
		have_unix=
		for f in /usr/lib/*/lua/5.*/socket/unix.so /usr/lib/lua/5.*/socket/unix.so \
		    /usr/local/lib/lua/5.*/socket/unix.so; do
			[ -f "$f" ] && have_unix=1
		done
		[ -n "$have_unix" ] || skip "lua mode: socket.unix missing (Debian package lua-socket)"
		[ -f "$VMSEAL_LUA" ] || { echo "not ok 1 - $VMSEAL_LUA missing"; exit 1; }
	fi
	for b in "$VMSEAL" "$VMSEALED" "$VMSEAL_CHECKPASSWORD"; do
		[ -x "$b" ] || { echo "not ok 1 - $b is not executable"; exit 1; }
	done
	NOBODY_UID=$(id -u nobody)
	NOBODY_GID=$(id -g nobody)
	NOGROUP=$(id -gn nobody)
}

# t_dovecot_start_imap USER PASSWORD: a throwaway Dovecot (2.3 or 2.4) on
# 127.0.0.1:$IMAP_PORT (imap), its auth service on 127.0.0.1:$SASL_PORT
# for Postfix's SASL when SASL_PORT is set; auth through $DB
# (t_dovecot_auth_setup); mail in mbox under each user's home; Dovecot's
# own auth penalty off and no auth cache, so that vmseal alone decides.
# Configuration $DCCONF, base $DCBASE, log $DCLOG.  Ready when "doveadm
# auth test USER PASSWORD" passes (within 10 s), else bail.  Sets
# DC_STARTED (cleanup: t_dovecot_stop).
t_dovecot_start_imap() {
	local addr=address sasl= st=1 ready=
	[ -n "$DC24" ] && addr=listen
	if [ -n "${SASL_PORT:-}" ]; then
		sasl="service auth {
  inet_listener sasl {
    $addr = 127.0.0.1
    port = $SASL_PORT
${DC24:+    type = auth
}  }
}"
	fi
	t_dovecot_mbox_head "$DCCONF"
	cat >>"$DCCONF" <<EOF
# A throwaway Dovecot for a vmseal test.
instance_name = vmseal-t-$$
base_dir = $DCBASE
state_dir = $WORK/dc-state
log_path = $DCLOG
listen = 127.0.0.1
protocols = imap
ssl = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
first_valid_uid = 1
first_valid_gid = 1
$DB
service imap-login {
  inet_listener imap {
    $addr = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
$sasl
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
	mkdir -p "$WORK/dc-state"
	dovecot -c "$DCCONF" </dev/null >"$WORK/dcstart.out" 2>&1 ||
	    { sed 's/^/#   /' "$WORK/dcstart.out"; bail "dovecot -c $DCCONF"; }
	DC_STARTED=1
	: >"$WORK/authtest.out"
	for _ in $(seq 100); do
		if [ -S "$DCBASE/auth-client" ]; then
			timeout 10 doveadm -c "$DCCONF" auth test "$1" "$2" \
			    >"$WORK/authtest.out" 2>&1
			st=$?
			grep -q "^passdb: $1 auth" "$WORK/authtest.out" &&
			    { ready=1; break; }
		fi
		sleep 0.1
	done
	[ -n "$ready" ] && [ "$st" -eq 0 ] || {
		sed 's/^/#   /' "$WORK/authtest.out"
		bail "Dovecot ready: doveadm auth test $1 passes within 10 s"
	}
}

# t_dovecot_stop: stop t_dovecot_start_imap's Dovecot and put back the
# modules t_dovecot_auth_setup installed.
t_dovecot_stop() {
	local pid
	if [ -n "${DC_STARTED:-}" ]; then
		pid=$(cat "$DCBASE/master.pid" 2>/dev/null)
		[ -n "$pid" ] && stop_pid "$pid"
		DC_STARTED=
	fi
	if [ -n "${MODULE_COPIED:-}" ]; then
		rm -f "$AUTH_MODULE_DIR/libauthdb_vmseal.so"
		[ -n "$MODULE_BACKUP" ] &&
		    mv "$MODULE_BACKUP" "$AUTH_MODULE_DIR/libauthdb_vmseal.so"
		MODULE_COPIED=
	fi
	if [ -n "${SETMOD_COPIED:-}" ]; then
		rm -f "$SETTINGS_MODULE_DIR/libvmseal_settings.so"
		[ -n "$SETMOD_BACKUP" ] &&
		    mv "$SETMOD_BACKUP" "$SETTINGS_MODULE_DIR/libvmseal_settings.so"
		[ -n "${SETMOD_DIR_MADE:-}" ] && rmdir "$SETTINGS_MODULE_DIR" 2>/dev/null
		SETMOD_COPIED=
	fi
}

# t_svc_start CONF WHAT: vmsealed -c CONF in the foreground (log appended
# to $SVCLOG, pid in SVC_PID), answering "vmseal status" within 10 s, then
# unsealed with $PASS; else bail.
t_svc_start() {
	local ready=
	"$VMSEALED" -c "$1" -f </dev/null >>"$SVCLOG" 2>&1 &
	SVC_PID=$!
	for _ in $(seq 100); do
		if timeout 30 "$VMSEAL" -c "$1" status >"$WORK/status.out" 2>&1
		then ready=1; break; fi
		kill -0 "$SVC_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$ready" ] || bail "$2: vmsealed answers 'vmseal status' within 10 s"
	timeout 30 "$VMSEAL" -c "$1" unseal --passphrase-fd 3 3<<<"$PASS" \
	    >"$WORK/unseal.out" 2>&1 ||
	    { sed 's/^/#   /' "$WORK/unseal.out"; bail "$2: vmseal unseal"; }
}

# t_have_postfix_sasl: HAVE_POSTFIX=1 when Postfix is installed with its
# users and offers the dovecot SASL server type (postconf -a, with a
# configuration of its own), else empty.
t_have_postfix_sasl() {
	local pfc
	HAVE_POSTFIX=
	if command -v postfix >/dev/null 2>&1 && command -v postconf >/dev/null &&
	    getent passwd postfix >/dev/null && getent group postfix >/dev/null; then
		pfc=$(mktemp -d /tmp/vmseal-pfc-XXXXXX)
		t_postfix_conf "$pfc" &&
		    postconf -c "$pfc" -a 2>/dev/null | grep -qx dovecot && HAVE_POSTFIX=1
		rm -rf "$pfc"
	fi
}

# t_dovecot_start_mailcrypt USER PASSWORD: a throwaway Dovecot (2.3 or
# 2.4) with mail_crypt in global-keys mode, the keys from the userdb (read
# only by default: vmsealed switches writing on for users with keys),
# imap on 127.0.0.1:$IMAP_PORT and lmtp on 127.0.0.1:$LMTP_PORT, Maildir
# per the user's mail field; auth through $DB (t_dovecot_auth_setup).
# Configuration $DCCONF, base $DCBASE, log $DCLOG; ready when "doveadm
# auth test USER PASSWORD" passes within 10 s, else bail.  Sets DC_STARTED
# (cleanup: t_dovecot_stop).
t_dovecot_start_mailcrypt() {
	local addr=address ready=
	if [ -n "$DC24" ]; then
		addr=listen
		cat >"$DCCONF" <<EOF
dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.1
auth_allow_cleartext = yes
default_vsz_limit = unlimited
mail_plugins {
  mail_crypt = yes
}
crypt_write_algorithm =
EOF
	else
		cat >"$DCCONF" <<EOF
disable_plaintext_auth = no
default_vsz_limit = 0
mail_plugins = \$mail_plugins mail_crypt
plugin {
  mail_crypt_save_version = 0
}
EOF
	fi
	cat >>"$DCCONF" <<EOF
# A throwaway Dovecot with mail_crypt for a vmseal test.
instance_name = vmseal-mc-$$
base_dir = $DCBASE
state_dir = $WORK/dc-state
log_path = $DCLOG
listen = 127.0.0.1
protocols = imap lmtp
ssl = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
first_valid_uid = 1
first_valid_gid = 1
$DB
service imap-login {
  inet_listener imap {
    $addr = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    $addr = 127.0.0.1
    port = $LMTP_PORT
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
	mkdir -p "$WORK/dc-state"
	dovecot -c "$DCCONF" </dev/null >"$WORK/dcstart.out" 2>&1 ||
	    { sed 's/^/#   /' "$WORK/dcstart.out"; bail "dovecot -c $DCCONF"; }
	DC_STARTED=1
	: >"$WORK/authtest.out"
	for _ in $(seq 100); do
		if [ -S "$DCBASE/auth-client" ] && timeout 10 doveadm -c \
		    "$DCCONF" auth test "$1" "$2" >"$WORK/authtest.out" 2>&1
		then ready=1; break; fi
		sleep 0.1
	done
	[ -n "$ready" ] || {
		sed 's/^/#   /' "$WORK/authtest.out"
		bail "Dovecot ready: doveadm auth test $1 passes within 10 s"
	}
}

# t_svc_for_dovecot [EXTRA]: $CONF for a vmsealed that a throwaway Dovecot
# asks (the auth socket for group dovecot, loopback on throttle_allow; the
# store $STORE, sockets in $SOCKDIR, running as nobody; EXTRA: more
# lines), vs_svc (vmseal through it) and t_hashes (its count of password
# checks so far); then t_svc_start.
t_svc_for_dovecot() {
	cat >"$CONF" <<EOF
store_dir = $STORE
socket_dir = $SOCKDIR
user = nobody
group = $(id -gn nobody)
auth_socket_group = dovecot
auth_socket_mode = 0660
throttle_allow = 127.0.0.0/8
${1:-}
EOF
	vs_svc() { timeout 60 "$VMSEAL" -c "$CONF" "$@"; }
	t_hashes() {
		vs_svc status --json 2>/dev/null | grep -o '"auth":{[^}]*}' |
		    grep -o '"hash_verifications":[0-9]*' | cut -d: -f2
	}
	t_svc_start "$CONF" "start"
}

# t_dovecot_start_host H ADDR IMAP_PORT LMTP_PORT DB: the Dovecot of a
# "mail host" H of the multi-host tests (pg_hosts.sh, pg_attack.sh) on
# ADDR (127.0.0.2, 127.0.0.3: each its own address), IMAP on IMAP_PORT,
# LMTP on LMTP_PORT (empty: none), auth through DB (the passdb/userdb
# lines t_dovecot_auth_setup made); files under $WORK (dovecot-H.conf,
# dovecot-H.log, dcH/), its master's pid added to $DC_PIDS (the caller
# stops them).  Needs t_dovecot_env first ($DC24).
t_dovecot_start_host() {
	local h=$1 ip=$2 base=$WORK/dc$1 conf=$WORK/dovecot-$1.conf lmtp= a=address
	[ -n "$DC24" ] && a=listen
	[ -n "$4" ] && lmtp="service lmtp {
  inet_listener lmtp {
    $a = $ip
    port = $4
  }
}"
	t_dovecot_mbox_head "$conf"
	cat >>"$conf" <<EOC
instance_name = vmseal-h$h-$$
base_dir = $base
state_dir = $WORK/dc-state-$h
log_path = $WORK/dovecot-$h.log
listen = $ip
protocols = imap${4:+ lmtp}
ssl = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
first_valid_uid = 1
first_valid_gid = 1
$5
service imap-login {
  inet_listener imap {
    $a = $ip
    port = $3
  }
  inet_listener imaps {
    port = 0
  }
}
$lmtp
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOC
	mkdir -p "$WORK/dc-state-$h"
	dovecot -c "$conf" </dev/null >"$WORK/dcstart-$h.out" 2>&1 ||
	    { sed 's/^/#   /' "$WORK/dcstart-$h.out"; return 1; }
	for _ in $(seq 100); do
		if [ -s "$base/master.pid" ]; then
			DC_PIDS="$DC_PIDS $(cat "$base/master.pid")"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# t_dovecot_mbox_head FILE: start a Dovecot configuration in FILE with
# what differs between 2.3 and 2.4 ($DC24): the version lines, plaintext
# logins allowed, no memory limit, mbox mail in ~/mail with ~/inbox.
t_dovecot_mbox_head() {
	if [ -n "$DC24" ]; then
		cat >"$1" <<EOF
dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.1
auth_allow_cleartext = yes
default_vsz_limit = unlimited
mail_driver = mbox
mail_path = ~/mail
mail_inbox_path = ~/inbox
EOF
	else
		cat >"$1" <<EOF
disable_plaintext_auth = no
default_vsz_limit = 0
mail_location = mbox:~/mail:INBOX=~/inbox
EOF
	fi
}
