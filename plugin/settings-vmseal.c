/*
 * settings-vmseal.c - the settings of the passdb and userdb driver "vmseal"
 * on Dovecot 2.4 and later:
 *
 *   vmseal_socket_path = /run/vmseal/auth   vmsealed's auth socket
 *   vmseal_timeout = 5s                     1..300 seconds
 *
 * at the top level or inside "passdb vmseal { }" / "userdb vmseal { }",
 * and the defaults passdb_vmseal/passdb_use_worker = yes and
 * userdb_vmseal/userdb_use_worker = yes: the lookups wait on a socket, so
 * they run in auth-worker processes (Dovecot 2.4 ignores a driver's
 * "blocking" flag; db-lua.c does the same for Lua).
 *
 * This file is built twice:
 *
 *  - into libauthdb_vmseal.so ($moduledir/auth), whose preinit reads the
 *    settings with settings_get(event, &vmseal_setting_parser_info, ...);
 *
 *  - with VMSEAL_SETTINGS_MODULE defined, as libvmseal_settings.so
 *    ($moduledir/settings).  Dovecot's config process and doveconf load
 *    every module in that folder and take the setting_parser_infos of
 *    <name>_set_infos[] (config-parser.c), here vmseal_settings_set_infos:
 *    without it, "vmseal_socket_path" and "passdb vmseal" are unknown to
 *    the configuration, and the use_worker defaults are not applied.  Like
 *    every Dovecot module it carries <name>_version, which module-dir.c
 *    compares with the loading Dovecot's DOVECOT_ABI_VERSION: a module
 *    built for another release is refused with one error line ("Module is
 *    for different ABI version") instead of being used.
 *
 * Security: settings only; the socket path takes no %variables.
 */
#include "lib.h"
#include "settings-parser.h"

#include <sys/un.h>

#include "settings-vmseal.h"

#if !DOVECOT_PREREQ(2, 4, 0)
#  error "settings-vmseal.c is for Dovecot 2.4 and later"
#endif

#define VMSEAL_EXPORT __attribute__((visibility("default")))

#undef DEF
#define DEF(type, name, key) \
	SETTING_DEFINE_STRUCT_##type(key, name, struct vmseal_settings)

static const struct setting_define vmseal_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "passdb_vmseal", },
	{ .type = SET_FILTER_NAME, .key = "userdb_vmseal", },
	DEF(STR_NOVARS, socket_path, "vmseal_socket_path"),
	DEF(TIME, timeout, "vmseal_timeout"),

	SETTING_DEFINE_LIST_END
};

static const struct vmseal_settings vmseal_default_settings = {
	.socket_path = VMSEAL_DEFAULT_SOCKET,
	.timeout = VMSEAL_DEFAULT_TIMEOUT_SECS,
};

static const struct setting_keyvalue vmseal_default_settings_keyvalue[] = {
	{ "passdb_vmseal/passdb_use_worker", "yes" },
	{ "userdb_vmseal/userdb_use_worker", "yes" },
	{ NULL, NULL }
};

static bool
vmseal_settings_check(void *_set, pool_t pool ATTR_UNUSED,
    const char **error_r)
{
	struct vmseal_settings *set = _set;

	if (set->socket_path[0] != '/') {
		*error_r = "vmseal_socket_path must be an absolute path";
		return FALSE;
	}
	if (strlen(set->socket_path) >=
	    sizeof(((struct sockaddr_un *)0)->sun_path)) {
		*error_r = "vmseal_socket_path is too long for a Unix socket";
		return FALSE;
	}
	if (set->timeout == 0 || set->timeout > VMSEAL_MAX_TIMEOUT_SECS) {
		*error_r = t_strdup_printf("vmseal_timeout must be 1..%u "
		    "seconds", VMSEAL_MAX_TIMEOUT_SECS);
		return FALSE;
	}
	return TRUE;
}

const struct setting_parser_info vmseal_setting_parser_info = {
	.name = "vmseal",

	.defines = vmseal_setting_defines,
	.defaults = &vmseal_default_settings,
	.default_settings = vmseal_default_settings_keyvalue,

	.struct_size = sizeof(struct vmseal_settings),
	.pool_offset1 = 1 + offsetof(struct vmseal_settings, pool),

	.check_func = vmseal_settings_check,
};

#ifdef VMSEAL_SETTINGS_MODULE
/* libvmseal_settings.so: module name "vmseal_settings" */
VMSEAL_EXPORT extern const struct setting_parser_info *
    vmseal_settings_set_infos[];
VMSEAL_EXPORT extern const char *vmseal_settings_version;

const struct setting_parser_info *vmseal_settings_set_infos[] = {
	&vmseal_setting_parser_info,
	NULL
};

const char *vmseal_settings_version = DOVECOT_ABI_VERSION;
#endif
