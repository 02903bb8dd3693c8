# helper/: the operator CLI (and, later, vmseal-checkpassword).  The
# commands live in a convenience library that vmsealed links too: they run
# there when sent over the admin socket.
noinst_LTLIBRARIES += helper/libvmsealcli.la
helper_libvmsealcli_la_SOURCES = \
	helper/cli.h helper/cli_util.c helper/cli_dispatch.c \
	helper/cli_client.c \
	helper/cmd_opts.c helper/cmd_opts.h \
	helper/cmd_store.c helper/cmd_import.c helper/cmd_export.c \
	helper/cmd_service.c helper/cmd_stats.c helper/cmd_keys.c \
	helper/cmd_audit.c \
	helper/prompt.c helper/prompt.h \
	helper/json.c helper/json.h
helper_libvmsealcli_la_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
helper_libvmsealcli_la_LIBADD = lib/libvmseal.la

bin_PROGRAMS += helper/vmseal
helper_vmseal_SOURCES = helper/vmseal.c
helper_vmseal_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
helper_vmseal_LDADD = helper/libvmsealcli.la

# vmseal-checkpassword: small, links only what it needs (no store code is
# called: it holds no key and opens no store).
libexec_PROGRAMS = helper/vmseal-checkpassword
helper_vmseal_checkpassword_SOURCES = helper/checkpassword.c
helper_vmseal_checkpassword_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
helper_vmseal_checkpassword_LDADD = lib/libvmseal.la
