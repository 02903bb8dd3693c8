#!/bin/bash
# dovecot_plugin.sh - the Dovecot tests again, with the native auth plugin
# (libauthdb_vmseal.so, driver vmseal; on Dovecot 2.4 with its settings
# module libvmseal_settings.so) instead of vmseal-checkpassword.
AUTH_MODE=plugin
export AUTH_MODE
exec bash "${TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/dovecot.sh"
