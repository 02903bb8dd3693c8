# tests/integration/: shell tests that drive the installed-style binaries.
INTEGRATION_TESTS = \
	tests/integration/tree.sh \
	tests/integration/store_cli.sh \
	tests/integration/service.sh \
	tests/integration/postfix.sh \
	tests/integration/postfix_chroot.sh \
	tests/integration/dovecot.sh \
	tests/integration/dovecot_plugin.sh \
	tests/integration/dovecot_lua.sh \
	tests/integration/audit.sh \
	tests/integration/attack.sh \
	tests/integration/keys.sh \
	tests/integration/keyfile.sh \
	tests/integration/hold.sh \
	tests/integration/rollback.sh \
	tests/integration/sockets.sh \
	tests/integration/logins.sh \
	tests/integration/adminproto.sh \
	tests/integration/mailcrypt.sh
TESTS += $(INTEGRATION_TESTS)
# A test-only tool: prints a store's root key and subkeys, so keys.sh can
# prove they are gone from vmsealed's memory and cores after a seal.
check_PROGRAMS += tests/integration/rootkey
tests_integration_rootkey_SOURCES = tests/integration/rootkey.c
tests_integration_rootkey_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_integration_rootkey_LDADD = lib/libvmseal.la
# A test-only tool: stores a user's password hash as it is (no cost check),
# so hold.sh can show a stored over-cap hash is never computed.
check_PROGRAMS += tests/integration/planthash
tests_integration_planthash_SOURCES = tests/integration/planthash.c
tests_integration_planthash_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_integration_planthash_LDADD = lib/libvmseal.la
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/lib.sh \
	tests/integration/vsclient.py
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
# TAP: each "ok"/"not ok"/"# SKIP" line is one result in test-suite.log;
# a test that dies before its plan is an error.  The exit status is not
# read (a failed check is already a "not ok").
SH_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) \
	$(top_srcdir)/build-aux/tap-driver.sh --ignore-exit
AM_TESTS_ENVIRONMENT = \
	VMSEAL='$(abs_top_builddir)/helper/vmseal'; export VMSEAL; \
	VMSEALED='$(abs_top_builddir)/service/vmsealed'; export VMSEALED; \
	VMSEAL_CHECKPASSWORD='$(abs_top_builddir)/helper/vmseal-checkpassword'; \
	export VMSEAL_CHECKPASSWORD; \
	VMSEAL_AUTHCHECK='$(abs_top_builddir)/helper/vmseal-authcheck'; \
	export VMSEAL_AUTHCHECK; \
	VMSEAL_PLUGIN='$(abs_top_builddir)/plugin/libauthdb_vmseal.so'; \
	export VMSEAL_PLUGIN; \
	TOP_SRCDIR='$(abs_top_srcdir)'; export TOP_SRCDIR;
# The key/value backends' conformance suite (LMDB and PostgreSQL, the
# same cases, answers compared) and its test on a throwaway PostgreSQL
# cluster (kv_pg.sh; skipped as n/a when built without libpq).
INTEGRATION_TESTS += tests/integration/kv_pg.sh
INTEGRATION_TESTS += tests/integration/store_pg.sh
check_PROGRAMS += tests/integration/kvconform
tests_integration_kvconform_SOURCES = tests/integration/kvconform.c
tests_integration_kvconform_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_integration_kvconform_LDADD = lib/libvmseal.la
INTEGRATION_TESTS += tests/integration/migrate.sh
# Mail keys in password protection (issue 13, lib/mailwrap.c).
INTEGRATION_TESTS += tests/integration/mailkey_pw.sh
INTEGRATION_TESTS += tests/integration/apache.sh
INTEGRATION_TESTS += tests/integration/apppw.sh
INTEGRATION_TESTS += tests/integration/selfservice.sh
INTEGRATION_TESTS += tests/integration/mailkey_cli.sh
# A real Postfix delivering over LMTP to a Dovecot with mail_crypt, keys
# from vmsealed: encrypted at rest, sealed = deferred, reset keeps the
# mail, doveadm fetch without the password (issue 13).
INTEGRATION_TESTS += tests/integration/mailcrypt_e2e.sh
# Encrypting mail stored before the keys: dsync with the public key only (issue 13).
INTEGRATION_TESTS += tests/integration/mailcrypt_existing.sh
INTEGRATION_TESTS += tests/integration/pg_service.sh
# Two vmsealed (and two mail hosts) writing one PostgreSQL store (issue 15).
INTEGRATION_TESTS += tests/integration/pg_hosts.sh
# pg_dump shows nothing, a kill -9 mid-import, a standby promoted (issue 15).
INTEGRATION_TESTS += tests/integration/pg_faults.sh
# The failed-login throttle shared by two vmsealed on one PostgreSQL
# store: bursts over both auth sockets, the seed's attack through two
# Dovecots, PostgreSQL stopped.
INTEGRATION_TESTS += tests/integration/pg_attack.sh
