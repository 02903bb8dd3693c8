# tests/integration/: shell tests that drive the installed-style binaries.
INTEGRATION_TESTS = \
	tests/integration/store_cli.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/lib.sh
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	VMSEAL='$(abs_top_builddir)/helper/vmseal'; export VMSEAL; \
	TOP_SRCDIR='$(abs_top_srcdir)'; export TOP_SRCDIR;
