# plugin/: libauthdb_vmseal.so, the Dovecot 2.3 passdb and userdb driver
# "vmseal", installed in Dovecot's auth module folder
# ($(dovecot_moduledir)/auth, from DC_DOVECOT in configure.ac).
#
# The project's LT_INIT([disable-shared]) keeps libtool from making any
# shared object ("cannot build a shared library"), so the module is linked
# without libtool, as a program with -shared, from its own -fPIC objects
# of the few lib/ sources it needs: framing and the auth protocol, no store
# code and no LMDB.  Only authdb_vmseal_* are exported
# (-fvisibility=hidden), so vmseal's names cannot clash with Dovecot's.
if HAVE_DOVECOT
dovecot_authdir = $(dovecot_moduledir)/auth
dovecot_auth_PROGRAMS = plugin/libauthdb_vmseal.so
endif
plugin_libauthdb_vmseal_so_SOURCES = \
	plugin/authdb-vmseal.c \
	plugin/vmseal-client.c plugin/vmseal-client.h \
	lib/vs_err.c lib/vs_err.h \
	lib/buf.c lib/buf.h \
	lib/netstring.c lib/netstring.h \
	lib/ipc.c lib/ipc.h \
	lib/authproto.c lib/authproto.h lib/names.h lib/pwhash.h
plugin_libauthdb_vmseal_so_CPPFLAGS = $(AM_CPPFLAGS) $(LIBDOVECOT_INCLUDE)
plugin_libauthdb_vmseal_so_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) \
	-fPIC -fvisibility=hidden
plugin_libauthdb_vmseal_so_LDFLAGS = -shared -Wl,-z,relro -Wl,-z,now
plugin_libauthdb_vmseal_so_LDADD = $(SODIUM_LIBS)
plugin_libauthdb_vmseal_so_LINK = $(CCLD) $(plugin_libauthdb_vmseal_so_CFLAGS) \
	$(CFLAGS) $(plugin_libauthdb_vmseal_so_LDFLAGS) $(LDFLAGS) -o $@

# "make distcheck" configures with --without-dovecot-install-dirs (from
# DC_DOVECOT), which points dovecot_moduledir here, under the prefix.
moduledir = $(libdir)/dovecot/modules
