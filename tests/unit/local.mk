# tests/unit/: cmocka unit tests, one program per module.
if HAVE_CMOCKA
UNIT_TESTS = \
	tests/unit/test_names \
	tests/unit/test_reckey \
	tests/unit/test_pwhash \
	tests/unit/test_import \
	tests/unit/test_record \
	tests/unit/test_seal \
	tests/unit/test_store \
	tests/unit/test_netstring \
	tests/unit/test_sockmap \
	tests/unit/test_policy \
	tests/unit/test_lookup \
	tests/unit/test_authproto \
	tests/unit/test_conf \
	tests/unit/test_throttle \
	tests/unit/test_audit \
	tests/unit/test_events \
	tests/unit/test_shamir \
	tests/unit/test_kv_lmdb \
	tests/unit/test_store_head \
	tests/unit/test_ipc \
	tests/unit/test_buf \
	tests/unit/test_mailkey \
	tests/unit/test_mailwrap \
	tests/unit/test_json \
	tests/unit/test_apppw \
	tests/unit/test_kv_pg_cache \
	tests/unit/test_throttle_shared
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) -DTEST_SRCDIR='"$(abs_top_srcdir)/tests/unit"'
UNIT_LDADD = lib/libvmseal.la $(CMOCKA_LIBS) $(LMDB_LIBS)
tests_unit_test_store_CPPFLAGS = $(AM_CPPFLAGS) $(LMDB_CFLAGS)
tests_unit_test_lookup_CPPFLAGS = $(AM_CPPFLAGS) $(LMDB_CFLAGS)
# The store fixture shared by the tests that need a real store.
STORE_FX = tests/unit/store_fx.c tests/unit/store_fx.h
tests_unit_test_store_SOURCES = tests/unit/test_store.c $(STORE_FX)
tests_unit_test_audit_SOURCES = tests/unit/test_audit.c $(STORE_FX)
tests_unit_test_lookup_SOURCES = tests/unit/test_lookup.c $(STORE_FX)
# throttle_block always; the shared throttle's statements and a race of
# 8 handles with VMSEAL_TEST_PG (pg_attack.sh sets it).
tests_unit_test_throttle_shared_CFLAGS = $(UNIT_CFLAGS) $(PQ_CFLAGS)
tests_unit_test_throttle_shared_LDADD = $(UNIT_LDADD)
tests_unit_test_kv_pg_cache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_kv_pg_cache_LDADD = $(UNIT_LDADD)
tests_unit_test_names_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_names_LDADD = $(UNIT_LDADD)
tests_unit_test_reckey_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_reckey_LDADD = $(UNIT_LDADD)
tests_unit_test_pwhash_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pwhash_LDADD = $(UNIT_LDADD)
tests_unit_test_import_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_import_LDADD = $(UNIT_LDADD)
tests_unit_test_record_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_record_LDADD = $(UNIT_LDADD)
tests_unit_test_seal_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_seal_LDADD = $(UNIT_LDADD)
tests_unit_test_netstring_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_netstring_LDADD = $(UNIT_LDADD)
tests_unit_test_sockmap_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sockmap_LDADD = $(UNIT_LDADD)
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_LDADD = $(UNIT_LDADD)
tests_unit_test_lookup_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_lookup_LDADD = $(UNIT_LDADD)
tests_unit_test_authproto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_authproto_LDADD = $(UNIT_LDADD)
tests_unit_test_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_conf_LDADD = $(UNIT_LDADD)
tests_unit_test_throttle_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_throttle_LDADD = $(UNIT_LDADD)
tests_unit_test_audit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_audit_LDADD = $(UNIT_LDADD)
tests_unit_test_audit_CPPFLAGS = $(AM_CPPFLAGS) $(LMDB_CFLAGS)
tests_unit_test_events_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_events_LDADD = $(UNIT_LDADD)
tests_unit_test_shamir_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_shamir_LDADD = $(UNIT_LDADD)
tests_unit_test_store_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_LDADD = $(UNIT_LDADD)
tests_unit_test_store_head_SOURCES = tests/unit/test_store_head.c $(STORE_FX)
tests_unit_test_store_head_CPPFLAGS = $(AM_CPPFLAGS) $(LMDB_CFLAGS)
tests_unit_test_store_head_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_head_LDADD = $(UNIT_LDADD)
tests_unit_test_kv_lmdb_CPPFLAGS = $(AM_CPPFLAGS) $(LMDB_CFLAGS)
tests_unit_test_kv_lmdb_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_kv_lmdb_LDADD = $(UNIT_LDADD)
tests_unit_test_ipc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ipc_LDADD = $(UNIT_LDADD)
tests_unit_test_buf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_buf_LDADD = $(UNIT_LDADD)
# json is the command library's (admin/).
tests_unit_test_json_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/admin
tests_unit_test_json_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_json_LDADD = admin/libvmsealadmin.la $(UNIT_LDADD)
# Mail keys (lib/mailkey.c, issue 13); the store fixture for the
# keys-kept-by-update test.
tests_unit_test_mailkey_SOURCES = tests/unit/test_mailkey.c $(STORE_FX)
tests_unit_test_mailkey_CPPFLAGS = $(AM_CPPFLAGS) $(LMDB_CFLAGS)
tests_unit_test_mailkey_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mailkey_LDADD = $(UNIT_LDADD)
# Password protection of mail keys (lib/mailwrap.c, lib/pwhash_key.c).
tests_unit_test_mailwrap_SOURCES = tests/unit/test_mailwrap.c $(STORE_FX)
tests_unit_test_mailwrap_CPPFLAGS = $(AM_CPPFLAGS) $(LMDB_CFLAGS)
tests_unit_test_mailwrap_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mailwrap_LDADD = $(UNIT_LDADD)
tests_unit_test_apppw_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_apppw_LDADD = $(UNIT_LDADD)
endif
EXTRA_DIST += tests/unit/fixtures
# Self-service password change (issue 14): the poppassd state machine and
# the form parser (lib/), the password policy (admin/pwpolicy.c, with
# libpwquality).
if HAVE_CMOCKA
UNIT_TESTS += tests/unit/test_poppassd tests/unit/test_form \
	tests/unit/test_pwpolicy
tests_unit_test_poppassd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_poppassd_LDADD = $(UNIT_LDADD)
tests_unit_test_form_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_form_LDADD = $(UNIT_LDADD)
tests_unit_test_pwpolicy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/admin
tests_unit_test_pwpolicy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pwpolicy_LDADD = admin/libvmsealadmin.la $(UNIT_LDADD)
endif
