#!/bin/bash
# dovecot_lua.sh - the Dovecot tests again, with Dovecot's Lua passdb and
# userdb running contrib/dovecot/vmseal-auth.lua (the fallback for a
# Dovecot without vmseal's native driver) instead of vmseal-checkpassword.
AUTH_MODE=lua
export AUTH_MODE
exec bash "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/dovecot.sh"
