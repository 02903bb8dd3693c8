# tests/bench: benchmarks (make bench).  Not tests: they print figures and
# ratios against a baseline measured in the same run, and are never part of
# 'make check'.  BENCH_USERS (default 100000) and BENCH_REPEAT (default 3)
# are passed on from the environment or the make command line:
#   make bench BENCH_USERS=10000
BENCHMARKS = \
	tests/bench/import.sh
EXTRA_DIST += $(BENCHMARKS)

.PHONY: bench
bench: helper/vmseal
	@set -e; for s in $(BENCHMARKS); do \
	    echo "== $$s"; \
	    VMSEAL='$(abs_top_builddir)/helper/vmseal' \
	    BENCH_USERS='$(BENCH_USERS)' BENCH_REPEAT='$(BENCH_REPEAT)' \
	    bash '$(abs_top_srcdir)/'"$$s"; \
	done
