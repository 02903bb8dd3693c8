# helper/: the programs operators and Dovecot run: the vmseal command (its
# commands are admin/'s library; cli_client.c is its online mode) and
# vmseal-checkpassword.
bin_PROGRAMS += helper/vmseal
helper_vmseal_SOURCES = helper/vmseal.c helper/cli_client.c
helper_vmseal_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/admin
helper_vmseal_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
helper_vmseal_LDADD = admin/libvmsealadmin.la

# vmseal-checkpassword: small, links only what it needs (no store code is
# called: it holds no key and opens no store).
libexec_PROGRAMS = helper/vmseal-checkpassword
helper_vmseal_checkpassword_SOURCES = helper/checkpassword.c \
	helper/authclient.c helper/authclient.h
helper_vmseal_checkpassword_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
helper_vmseal_checkpassword_LDADD = lib/libvmseal.la

# vmseal-authcheck: Apache mod_authnz_external's authenticator (pipe
# method); like vmseal-checkpassword it links lib/ alone.  authclient.c is
# the auth socket's client steps, for helpers.
libexec_PROGRAMS += helper/vmseal-authcheck
helper_vmseal_authcheck_SOURCES = helper/authcheck.c helper/authclient.c \
	helper/authclient.h
helper_vmseal_authcheck_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
helper_vmseal_authcheck_LDADD = lib/libvmseal.la
