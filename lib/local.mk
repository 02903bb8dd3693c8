# lib/: the core library.  Nothing outside lib/ touches LMDB or libsodium.
noinst_LTLIBRARIES += lib/libvmseal.la
lib_libvmseal_la_SOURCES = \
	lib/vs_err.c lib/vs_err.h \
	lib/buf.c lib/buf.h \
	lib/names.c lib/names.h \
	lib/crockford.c lib/crockford.h \
	lib/reckey.c lib/reckey.h \
	lib/digest.c lib/digest.h \
	lib/pwhash.c lib/pwhash.h lib/pwhash_int.h lib/pwhash_legacy.c lib/pwhash_key.c \
	lib/import.c lib/import.h \
	lib/record.c lib/record.h lib/apppw.c lib/apppw.h \
	lib/kv.h lib/kv_lmdb.c lib/kv_pg_cache.c lib/kv_pg_cache.h \
	lib/seal.c lib/seal.h \
	lib/store.c lib/store.h lib/store_int.h \
	lib/store_records.c lib/store_log.c lib/store_keys.c lib/store_head.c \
	lib/store_loc.c lib/store_serve.c \
	lib/netstring.c lib/netstring.h \
	lib/sockmap.c lib/sockmap.h \
	lib/policy.c lib/policy.h \
	lib/lookup.c lib/lookup.h \
	lib/ipc.c lib/ipc.h \
	lib/conf.c lib/conf.h \
	lib/authproto.c lib/authproto.h \
	lib/throttle.c lib/throttle.h \
	lib/shamir.c lib/shamir.h \
	lib/events.c lib/events.h \
	lib/audit.c lib/audit.h
lib_libvmseal_la_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(LMDB_CFLAGS) $(CRYPT_CFLAGS)
lib_libvmseal_la_LIBADD = $(SODIUM_LIBS) $(LMDB_LIBS) $(CRYPT_LIBS)
# Mail keys for Dovecot's mail_crypt (issue 13): EC P-256 with libcrypto.
lib_libvmseal_la_SOURCES += lib/mailkey.c lib/mailkey.h lib/mailwrap.c lib/mailwrap.h
lib_libvmseal_la_CFLAGS += $(CRYPTO_CFLAGS)
lib_libvmseal_la_LIBADD += $(CRYPTO_LIBS)
# The PostgreSQL backend (issue 15), when configure found libpq.
if HAVE_PQ
lib_libvmseal_la_SOURCES += lib/kv_pg.c lib/kv_pg.h lib/kv_pg_int.h \
	lib/kv_pg_stmt.c lib/kv_pg_listen.c
lib_libvmseal_la_CFLAGS += $(PQ_CFLAGS)
lib_libvmseal_la_LIBADD += $(PQ_LIBS)
endif
# Self-service password change (issue 14): the poppassd line protocol and
# the urlencoded form parser of the httpapi front end; pure, fuzzed.
lib_libvmseal_la_SOURCES += lib/poppassd.c lib/poppassd.h lib/form.c lib/form.h
# The failed-login throttle shared by the hosts of a PostgreSQL store:
# the store's keyed hash and calls (always built), the table and its
# statements (with libpq).
lib_libvmseal_la_SOURCES += lib/store_throttle.c
if HAVE_PQ
lib_libvmseal_la_SOURCES += lib/kv_pg_throttle.c lib/kv_pg_throttle.h
endif
