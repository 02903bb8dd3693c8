# tests/bench: benchmarks (make bench).  Not tests: they print figures and
# ratios against a baseline measured in the same run, and are never part of
# 'make check'.  BENCH_USERS (default 100000) and BENCH_REPEAT (default 3)
# are passed on from the environment or the make command line:
#   make bench BENCH_USERS=10000
# socketmap.sh takes BENCH_SECONDS (per measurement, default 3),
# BENCH_SIZES (default "1000 100000"), BENCH_CONNS (default "1 8 64"),
# BENCH_ROUNDS (default 3) and BENCH_HIT_PCT (default 80):
#   make bench BENCH_SECONDS=2
BENCHMARKS = \
	tests/bench/import.sh \
	tests/bench/socketmap.sh
EXTRA_DIST += $(BENCHMARKS)

# The socketmap benchmark's programs: built by 'make bench' only (not by
# 'all' or 'check'); automake ships their sources, listed here as well so
# that the intent is plain.
EXTRA_PROGRAMS = tests/bench/sockmap_client tests/bench/null_sockmap
EXTRA_DIST += tests/bench/sockmap_client.c tests/bench/null_sockmap.c
CLEANFILES += $(EXTRA_PROGRAMS)
tests_bench_sockmap_client_SOURCES = tests/bench/sockmap_client.c
tests_bench_sockmap_client_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS)
tests_bench_sockmap_client_LDADD = -lpthread
tests_bench_null_sockmap_SOURCES = tests/bench/null_sockmap.c
tests_bench_null_sockmap_LDADD = lib/libvmseal.la

BENCH_BINARIES = helper/vmseal$(EXEEXT) service/vmsealed$(EXEEXT) \
	tests/bench/sockmap_client$(EXEEXT) tests/bench/null_sockmap$(EXEEXT)

.PHONY: bench
bench: $(BENCH_BINARIES)
	@set -e; for s in $(BENCHMARKS); do \
	    echo "== $$s"; \
	    VMSEAL='$(abs_top_builddir)/helper/vmseal' \
	    VMSEALED='$(abs_top_builddir)/service/vmsealed' \
	    SOCKMAP_CLIENT='$(abs_top_builddir)/tests/bench/sockmap_client' \
	    NULL_SOCKMAP='$(abs_top_builddir)/tests/bench/null_sockmap' \
	    BENCH_USERS='$(BENCH_USERS)' BENCH_REPEAT='$(BENCH_REPEAT)' \
	    BENCH_SECONDS='$(BENCH_SECONDS)' BENCH_SIZES='$(BENCH_SIZES)' \
	    BENCH_CONNS='$(BENCH_CONNS)' BENCH_ROUNDS='$(BENCH_ROUNDS)' \
	    BENCH_HIT_PCT='$(BENCH_HIT_PCT)' \
	    bash '$(abs_top_srcdir)/'"$$s"; \
	done
