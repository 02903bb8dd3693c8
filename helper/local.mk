# helper/: the operator CLI (and, later, vmseal-checkpassword).
bin_PROGRAMS += helper/vmseal
helper_vmseal_SOURCES = \
	helper/vmseal.c helper/cli.h \
	helper/cli_util.c helper/cmd_opts.c helper/cmd_opts.h \
	helper/cmd_store.c helper/cmd_import.c helper/cmd_export.c \
	helper/prompt.c helper/prompt.h \
	helper/json.c helper/json.h
helper_vmseal_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
helper_vmseal_LDADD = lib/libvmseal.la
