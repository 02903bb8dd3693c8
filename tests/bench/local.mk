# tests/bench: benchmarks (make bench).  Not tests: they print figures and
# ratios against a baseline measured in the same run, and are never part of
# 'make check'.  BENCH_USERS (default 100000) and BENCH_REPEAT (default 3)
# are passed on from the environment or the make command line:
#   make bench BENCH_USERS=10000
# socketmap.sh takes BENCH_SECONDS (per measurement, default 3),
# BENCH_SIZES (default "1000 100000"), BENCH_CONNS (default "1 8 64"),
# BENCH_ROUNDS (default 3) and BENCH_HIT_PCT (default 80):
#   make bench BENCH_SECONDS=2
# auth.sh (logins through Dovecot's auth-client socket: the vmseal plugin,
# vmseal-checkpassword and Dovecot's passwd-file against the raw Argon2id
# verify rate; needs root and Dovecot, says "skipped" otherwise) takes
# BENCH_SECONDS (default 5), BENCH_ROUNDS (default 2), BENCH_AUTH_CONNS
# (default "2 8"), BENCH_COST (Argon2id OPS:KIB, default 2:19456),
# BENCH_WORKERS (vmsealed's hash_workers, default the CPUs) and
# BENCH_AUTH_USERS (default 32):
#   make bench BENCH_AUTH_CONNS=8 BENCH_COST=3:65536
# throttle.sh (refusals of a blocked address on vmsealed's auth socket
# against the real Argon2id verifications of the same vmsealed; then the
# memory of BENCH_DISTINCT throttled addresses) takes BENCH_SECONDS
# (default 3), BENCH_FLOOD_CONNS (default "1 8 64"), BENCH_COST (default
# 2:19456), BENCH_WORKERS, BENCH_DISTINCT (default 200000, 0 skips that
# part) and BENCH_DISTINCT_SECONDS (its time limit, default 40):
#   make bench BENCH_DISTINCT=0 BENCH_FLOOD_CONNS=8
# mailcrypt.sh (users with mail keys against users without: logins/s on
# vmsealed's socket and through Dovecot's auth, LMTP deliveries/s into a
# Dovecot with mail_crypt; needs root and Dovecot, says "skipped"
# otherwise) takes BENCH_SECONDS (default 3), BENCH_ROUNDS (default 3),
# BENCH_COST, BENCH_WORKERS, BENCH_AUTH_CONNS, BENCH_MSGS (default 200),
# BENCH_MSG_KIB (default 10) and BENCH_LMTP_CONNS (default 2):
#   make bench BENCH_MSGS=1000
BENCHMARKS = \
	tests/bench/import.sh \
	tests/bench/socketmap.sh \
	tests/bench/auth.sh \
	tests/bench/throttle.sh \
	tests/bench/apppw.sh \
	tests/bench/rotate.sh \
	tests/bench/mailcrypt.sh \
	tests/bench/pg_e2e.sh
EXTRA_DIST += $(BENCHMARKS) tests/bench/lib.sh

# The benchmarks' programs: built by 'make bench' only (not by
# 'all' or 'check'); automake ships their sources, listed here as well so
# that the intent is plain.
EXTRA_PROGRAMS = tests/bench/sockmap_client tests/bench/null_sockmap \
	tests/bench/lookup_cost \
	tests/bench/authclient tests/bench/argon_rate tests/bench/authflood
EXTRA_DIST += tests/bench/sockmap_client.c tests/bench/null_sockmap.c \
	tests/bench/lookup_cost.c tests/bench/bench_util.c \
	tests/bench/bench_util.h \
	tests/bench/authclient.c tests/bench/argon_rate.c \
	tests/bench/authflood.c
CLEANFILES += $(EXTRA_PROGRAMS)
tests_bench_sockmap_client_SOURCES = tests/bench/sockmap_client.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_sockmap_client_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS)
tests_bench_sockmap_client_LDADD = lib/libvmseal.la -lpthread
# vmsealed's own skeleton (service/conn.c, service/log.c), linked.
tests_bench_null_sockmap_SOURCES = tests/bench/null_sockmap.c \
	service/conn.c service/conn.h service/log.c service/log.h
tests_bench_null_sockmap_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/service
tests_bench_null_sockmap_LDADD = lib/libvmseal.la
# What a lookup costs in-process, step by step (tests/bench/socketmap.sh).
tests_bench_lookup_cost_SOURCES = tests/bench/lookup_cost.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_lookup_cost_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_bench_lookup_cost_LDADD = lib/libvmseal.la $(SODIUM_LIBS) $(LMDB_LIBS)
# The auth benchmark's programs (tests/bench/auth.sh): a threaded
# auth-client load generator, and the raw Argon2id verify rate.
tests_bench_authclient_SOURCES = tests/bench/authclient.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_authclient_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS)
tests_bench_authclient_LDADD = lib/libvmseal.la -lpthread
tests_bench_argon_rate_SOURCES = tests/bench/argon_rate.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_argon_rate_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(PTHREAD_CFLAGS)
tests_bench_argon_rate_LDADD = $(SODIUM_LIBS) -lpthread
# The throttle benchmark's client (tests/bench/throttle.sh): a threaded
# load generator speaking vmsealed's own auth socket.
tests_bench_authflood_SOURCES = tests/bench/authflood.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_authflood_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS)
tests_bench_authflood_LDADD = lib/libvmseal.la -lpthread

BENCH_BINARIES = helper/vmseal$(EXEEXT) service/vmsealed$(EXEEXT) \
	helper/vmseal-checkpassword$(EXEEXT) \
	tests/bench/sockmap_client$(EXEEXT) tests/bench/null_sockmap$(EXEEXT) \
	tests/bench/lookup_cost$(EXEEXT) \
	tests/bench/authclient$(EXEEXT) tests/bench/argon_rate$(EXEEXT) \
	tests/bench/authflood$(EXEEXT)
if HAVE_DOVECOT
BENCH_BINARIES += plugin/libauthdb_vmseal.so
endif

# The programs alone, for a benchmark run elsewhere (scripts/bench-debian13).
.PHONY: bench-programs
bench-programs: $(BENCH_BINARIES)

.PHONY: bench
bench: $(BENCH_BINARIES)
	@set -e; for s in $(BENCHMARKS); do \
	    echo "== $$s"; \
	    VMSEAL='$(abs_top_builddir)/helper/vmseal' \
	    VMSEALED='$(abs_top_builddir)/service/vmsealed' \
	    SOCKMAP_CLIENT='$(abs_top_builddir)/tests/bench/sockmap_client' \
	    NULL_SOCKMAP='$(abs_top_builddir)/tests/bench/null_sockmap' \
	    LOOKUP_COST='$(abs_top_builddir)/tests/bench/lookup_cost' \
	    VMSEAL_CHECKPASSWORD='$(abs_top_builddir)/helper/vmseal-checkpassword' \
	    VMSEAL_PLUGIN='$(abs_top_builddir)/plugin/libauthdb_vmseal.so' \
	    AUTHCLIENT='$(abs_top_builddir)/tests/bench/authclient' \
	    ARGON_RATE='$(abs_top_builddir)/tests/bench/argon_rate' \
	    AUTHFLOOD='$(abs_top_builddir)/tests/bench/authflood' \
	    BENCH_USERS='$(BENCH_USERS)' BENCH_REPEAT='$(BENCH_REPEAT)' \
	    BENCH_SECONDS='$(BENCH_SECONDS)' BENCH_SIZES='$(BENCH_SIZES)' \
	    BENCH_CONNS='$(BENCH_CONNS)' BENCH_ROUNDS='$(BENCH_ROUNDS)' \
	    BENCH_HIT_PCT='$(BENCH_HIT_PCT)' \
	    BENCH_AUTH_CONNS='$(BENCH_AUTH_CONNS)' BENCH_COST='$(BENCH_COST)' \
	    BENCH_WORKERS='$(BENCH_WORKERS)' \
	    BENCH_AUTH_USERS='$(BENCH_AUTH_USERS)' \
	    BENCH_FLOOD_CONNS='$(BENCH_FLOOD_CONNS)' \
	    BENCH_DISTINCT='$(BENCH_DISTINCT)' \
	    BENCH_DISTINCT_SECONDS='$(BENCH_DISTINCT_SECONDS)' \
	    bash '$(abs_top_srcdir)/'"$$s"; \
	done

# pg_logins.sh (issue 15, the login half of pg_e2e.sh: real IMAP logins
# through a throwaway Dovecot whose passdb and userdb are a vmsealed on an
# LMDB store, against the same on its copy in PostgreSQL; right and wrong
# passwords, PG/LMDB against 0.95; needs root, Dovecot, PostgreSQL's
# server and a vmseal built with libpq, says "skipped" otherwise) takes
# BENCH_COST, BENCH_WORKERS, BENCH_LOGIN_CONNS (default 8),
# BENCH_FAILED_CONNS (default 6 x BENCH_LOGIN_CONNS), BENCH_LOGIN_USERS
# (default 32), BENCH_FILLER (other users, default 10000),
# BENCH_LOGIN_SECONDS (else BENCH_SECONDS; default 6), BENCH_PAIRED_SECONDS
# (default 10), BENCH_ROUNDS (default 3) and BENCH_FAILED (0 skips wrong
# passwords):
#   make bench BENCH_LOGIN_CONNS=4 BENCH_FAILED=0
BENCHMARKS += tests/bench/pg_logins.sh
