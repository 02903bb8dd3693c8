# tests/fuzz/: libFuzzer targets.  They are not part of "all", "check" or
# "distcheck" (they need clang); build and run them by hand or in CI:
#
#   make fuzz                           build every tests/fuzz/fuzz_*.c
#   make fuzz-run [FUZZ_SECONDS=20]     run each for that long, from a copy
#                                       of tests/fuzz/corpus/<target>/
#
# FUZZ_CC (default clang) picks the compiler, FUZZ_ARGS adds libFuzzer
# options.  A new target only needs its fuzz_<name>.c (and, if wanted,
# corpus/fuzz_<name>/, fuzz_<name>.dict, fuzz_<name>.options): the scripts
# find it and dist-fuzz ships it.
FUZZ_ENV = \
	FUZZ_CC='$(FUZZ_CC)' FUZZ_CFLAGS='$(FUZZ_CFLAGS)' \
	FUZZ_SANITIZE='$(FUZZ_SANITIZE)' \
	FUZZ_CPPFLAGS='$(SODIUM_CFLAGS) $(LMDB_CFLAGS) $(CRYPT_CFLAGS) $(PQ_CFLAGS) $(CRYPTO_CFLAGS)' \
	FUZZ_LIBS='$(SODIUM_LIBS) $(LMDB_LIBS) $(CRYPT_LIBS) $(PQ_LIBS) $(CRYPTO_LIBS)' \
	FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_ARGS='$(FUZZ_ARGS)'

fuzz:
	$(AM_V_at)$(FUZZ_ENV) $(SHELL) $(top_srcdir)/tests/fuzz/build.sh \
	    '$(abs_top_srcdir)' '$(abs_top_builddir)'

fuzz-run: fuzz
	$(AM_V_at)$(FUZZ_ENV) $(SHELL) $(top_srcdir)/tests/fuzz/run.sh \
	    '$(abs_top_srcdir)' '$(abs_top_builddir)'

# Sources, dictionaries and options are copied by pattern so that new
# targets are shipped without editing this file.
EXTRA_DIST += tests/fuzz/build.sh tests/fuzz/run.sh tests/fuzz/corpus
dist-hook: dist-fuzz
dist-fuzz:
	$(AM_V_at)for f in $(srcdir)/tests/fuzz/*.c $(srcdir)/tests/fuzz/*.h \
	    $(srcdir)/tests/fuzz/*.dict $(srcdir)/tests/fuzz/*.options; do \
	  test -f "$$f" || continue; \
	  cp -p "$$f" $(distdir)/tests/fuzz/ || exit 1; \
	done

clean-local: clean-fuzz
clean-fuzz:
	-rm -rf tests/fuzz/obj tests/fuzz/corpus-work
	-for f in tests/fuzz/fuzz_*; do \
	  case $$f in *.c|*.h|*.dict|*.options) continue ;; esac; \
	  test -f "$$f" && rm -f "$$f"; \
	done; :

.PHONY: fuzz fuzz-run dist-fuzz clean-fuzz
