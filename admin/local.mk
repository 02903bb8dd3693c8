# admin/: the command library.  One implementation of every vmseal command
# (options, help, the work on the store, its output), run by the vmseal
# client offline and by vmsealed for commands sent over the admin socket.
# It sits on lib/ and knows nothing of either program: the client
# (helper/cli_client.c) and the service (service/admin.c) supply the I/O
# through struct cli_io and struct cli_service (admin/cli.h).
noinst_LTLIBRARIES += admin/libvmsealadmin.la
admin_libvmsealadmin_la_SOURCES = \
	admin/cli.h admin/cli_util.c admin/cli_dispatch.c \
	admin/cmd_opts.c admin/cmd_opts.h \
	admin/cmd_store.c admin/cmd_user.c admin/cmd_import.c admin/cmd_export.c \
	admin/cmd_stats.c admin/cmd_keys.c admin/cmd_audit.c \
	admin/cmd_migrate.c admin/cmd_apppw.c admin/cmd_mailkey.c \
	admin/prompt.c admin/prompt.h \
	admin/json.c admin/json.h
admin_libvmsealadmin_la_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
admin_libvmsealadmin_la_LIBADD = lib/libvmseal.la
# The password policy with libpwquality (issue 14): not in lib/, which the
# Dovecot plugin links.
admin_libvmsealadmin_la_SOURCES += admin/pwpolicy.c admin/pwpolicy.h
admin_libvmsealadmin_la_CFLAGS += $(PWQUALITY_CFLAGS)
admin_libvmsealadmin_la_LIBADD += $(PWQUALITY_LIBS)
