# contrib/: files for other programs, installed for the operator to use.
#
# contrib/dovecot/vmseal-auth.lua: Dovecot's Lua passdb and userdb asking
# vmsealed (the fallback for a Dovecot without the native driver), into
# $(pkgdatadir) (e.g. /usr/local/share/vmseal); doc/dovecot-lua.md says how
# to use it.
dist_pkgdata_DATA = contrib/dovecot/vmseal-auth.lua
dist_doc_DATA += doc/dovecot-lua.md
