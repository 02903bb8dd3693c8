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

# t_install_module SRC DIR NAME: SRC as DIR/NAME for the run; a file
# already there is kept in $WORK and put back by cleanup.  Prints the
# backup's path.
t_install_module() {
	local backup=
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
