# plugin/: libauthdb_vmseal.so, the Dovecot passdb and userdb driver
# "vmseal", installed in Dovecot's auth module folder
# ($(dovecot_moduledir)/auth, from DC_DOVECOT in configure.ac); on Dovecot
# 2.4 and later also libvmseal_settings.so, the settings module that tells
# doveconf and the config process about vmseal_socket_path, vmseal_timeout
# and "passdb/userdb vmseal" ($(dovecot_moduledir)/settings).  Both are
# built for the one Dovecot release configure found (VMSEAL_DOVECOT_ABI):
# Dovecot refuses modules built for another ABI.
#
# The project's LT_INIT([disable-shared]) keeps libtool from making any
# shared object ("cannot build a shared library"), so the modules are
# linked without libtool, as programs with -shared, from their own -fPIC
# objects (for the auth module: the few lib/ sources it needs: framing and
# the auth protocol, no store code and no LMDB).  Only the names Dovecot
# looks up are exported (-fvisibility=hidden): authdb_vmseal_* and
# vmseal_settings_*, so vmseal's names cannot clash with Dovecot's.
if HAVE_DOVECOT
dovecot_authdir = $(dovecot_moduledir)/auth
dovecot_auth_PROGRAMS = plugin/libauthdb_vmseal.so
if DOVECOT_SETTINGS_MODULE
dovecot_settingsdir = $(dovecot_moduledir)/settings
dovecot_settings_PROGRAMS = plugin/libvmseal_settings.so
endif
endif

VS_PLUGIN_CC = -fPIC -fvisibility=hidden
VS_PLUGIN_LD = -shared -Wl,-z,relro -Wl,-z,now

plugin_libauthdb_vmseal_so_SOURCES = \
	plugin/authdb-vmseal.c plugin/settings-vmseal.h \
	plugin/vmseal-client.c plugin/vmseal-client.h \
	lib/vs_err.c lib/vs_err.h \
	lib/buf.c lib/buf.h \
	lib/netstring.c lib/netstring.h \
	lib/ipc.c lib/ipc.h \
	lib/authproto.c lib/authproto.h lib/names.h lib/pwhash.h
if DOVECOT_SETTINGS_MODULE
plugin_libauthdb_vmseal_so_SOURCES += plugin/settings-vmseal.c
endif
plugin_libauthdb_vmseal_so_CPPFLAGS = $(AM_CPPFLAGS) $(LIBDOVECOT_INCLUDE)
plugin_libauthdb_vmseal_so_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) \
	$(VS_PLUGIN_CC)
plugin_libauthdb_vmseal_so_LDFLAGS = $(VS_PLUGIN_LD)
plugin_libauthdb_vmseal_so_LDADD = $(SODIUM_LIBS)
plugin_libauthdb_vmseal_so_LINK = $(CCLD) $(plugin_libauthdb_vmseal_so_CFLAGS) \
	$(CFLAGS) $(plugin_libauthdb_vmseal_so_LDFLAGS) $(LDFLAGS) -o $@

# settings only: no vmseal code, no libsodium
plugin_libvmseal_settings_so_SOURCES = \
	plugin/settings-vmseal.c plugin/settings-vmseal.h
plugin_libvmseal_settings_so_CPPFLAGS = $(LIBDOVECOT_INCLUDE) \
	-DVMSEAL_SETTINGS_MODULE
plugin_libvmseal_settings_so_CFLAGS = $(AM_CFLAGS) $(VS_PLUGIN_CC)
plugin_libvmseal_settings_so_LDFLAGS = $(VS_PLUGIN_LD)
plugin_libvmseal_settings_so_LINK = $(CCLD) \
	$(plugin_libvmseal_settings_so_CFLAGS) $(CFLAGS) \
	$(plugin_libvmseal_settings_so_LDFLAGS) $(LDFLAGS) -o $@

# "make distcheck" configures with --without-dovecot-install-dirs (from
# DC_DOVECOT), which points dovecot_moduledir here, under the prefix.
moduledir = $(libdir)/dovecot/modules
