# scripts/deps.sh - the Debian packages vmseal builds, runs and tests with,
# on Debian 12 (bookworm: Dovecot 2.3, Postfix 3.7) and Debian 13 (trixie:
# Dovecot 2.4, Postfix 3.10); sourced by scripts/demo and scripts/test.
# The names below exist under the same name in both releases (clang and
# libclang-rt-dev pull each release's own LLVM version).
VMSEAL_BUILD_DEPS="build-essential autoconf automake libtool pkg-config
  libsodium-dev liblmdb-dev libcrypt-dev libcmocka-dev libpq-dev"
# libcrypto (libssl-dev): the mail keys of lib/mailkey.c (EC P-256).
VMSEAL_BUILD_DEPS="$VMSEAL_BUILD_DEPS libssl-dev"
# Self-service password change (issue 14): libmicrohttpd (the httpapi
# front end's HTTP server, service/httpapi.c) and libpwquality (the
# password policy, admin/pwpolicy.c).
VMSEAL_BUILD_DEPS="$VMSEAL_BUILD_DEPS libmicrohttpd-dev libpwquality-dev"
# Running it with Dovecot and Postfix (the demo, and the integration tests
# tests/integration/dovecot*.sh and postfix.sh): Dovecot with IMAP and LMTP,
# dovecot-dev (dovecot-config and dovecot.m4, to build the Dovecot auth
# plugin), dovecot-auth-lua and lua-socket (the Lua passdb/userdb
# fallback), Postfix, and python3 (the demo's and the tests' IMAP/SMTP
# clients).  Postfix is preseeded to "No configuration": the system's own
# Postfix is left unconfigured; the demo and the tests run their own
# instances with their own config_directory.
VMSEAL_RUNTIME_DEPS="dovecot-core dovecot-imapd dovecot-lmtpd dovecot-dev
  dovecot-auth-lua lua-socket postfix python3"
# The password policy's dictionary check (password_dictcheck, on by
# default) needs cracklib's dictionary, which libpwquality only
# recommends: cracklib-runtime builds /var/cache/cracklib/cracklib_dict.*.
VMSEAL_RUNTIME_DEPS="$VMSEAL_RUNTIME_DEPS cracklib-runtime"
# Tests: lmdb-utils (mdb_dump/mdb_load for tamper tests), binutils
# (strings), whois (mkpasswd), apache2-utils (htpasswd), openssl, python3,
# dovecot-core (doveadm pw), clang + libclang-rt-dev (libFuzzer,
# sanitizers), groff-base and man-db (man page checks), fail2ban (the
# filter's check), gdb and strace (key-in-memory and crash tests),
# mmdebstrap and zstd (the Debian 13 root of scripts/test-debian13),
# libsasl2-modules (postfix.sh's smtpd has Cyrus SASL on: without a
# mechanism plugin smtpd refuses to start), postgresql (the server:
# tests/integration/kv_pg.sh makes a throwaway cluster with its initdb and
# pg_ctl; libpq-dev above builds the backend, lib/kv_pg.c).
VMSEAL_TEST_DEPS="lmdb-utils binutils whois apache2-utils openssl python3
  dovecot-core clang libclang-rt-dev groff-base man-db fail2ban gdb strace
  mmdebstrap zstd libsasl2-modules postgresql"
# Web apps sharing the users (tests/integration/apache.sh): a throwaway
# Apache with mod_authnz_external running vmseal-authcheck, asked with curl.
VMSEAL_TEST_DEPS="$VMSEAL_TEST_DEPS apache2 libapache2-mod-authnz-external curl"
# Self-service (tests/integration/selfservice.sh): Roundcube's own password
# plugin drivers (poppassd, httpapi) run under php-cli.  roundcube-core
# comes with them; its database question is preseeded to "no" in
# install_deps (nothing is configured), and roundcube-sqlite3 satisfies its
# database dependency without a MySQL client.
VMSEAL_TEST_DEPS="$VMSEAL_TEST_DEPS php-cli roundcube-plugins roundcube-sqlite3"
# The end-to-end PostgreSQL benchmark (tests/bench/pg_e2e.sh) compares
# vmseal's socketmap with PostfixAdmin-style proxy:pgsql maps: Postfix's
# pgsql map type.
VMSEAL_TEST_DEPS="$VMSEAL_TEST_DEPS postfix-pgsql"

# install_deps [PACKAGE...]: the build and runtime packages, and these.
install_deps() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "scripts: run as root (it installs Debian packages)" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	echo "== installing packages"
	# Postfix's debconf question, answered before it is asked: leave the
	# system's Postfix unconfigured (no-op if Postfix is already set up).
	echo 'postfix postfix/main_mailer_type select No configuration' |
	    debconf-set-selections
	# Roundcube (the self-service test's drivers): no database set-up.
	echo 'roundcube-core roundcube/dbconfig-install boolean false' |
	    debconf-set-selections
	apt-get update -q >/tmp/vmseal-apt.log 2>&1 || {
		tail -20 /tmp/vmseal-apt.log >&2
		return 1
	}
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $VMSEAL_BUILD_DEPS \
	    $VMSEAL_RUNTIME_DEPS "$@" >>/tmp/vmseal-apt.log 2>&1 || {
		tail -20 /tmp/vmseal-apt.log >&2
		return 1
	}
}
