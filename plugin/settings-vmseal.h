/*
 * settings-vmseal.h - the vmseal driver's settings on Dovecot 2.4 and later
 * (settings-vmseal.c).  Dovecot 2.3 has no typed settings: there the
 * driver reads "args" (authdb-vmseal.c).
 */
#ifndef VS_SETTINGS_VMSEAL_H
#define VS_SETTINGS_VMSEAL_H

#define VMSEAL_DEFAULT_SOCKET "/run/vmseal/auth"
#define VMSEAL_DEFAULT_TIMEOUT_SECS 5
#define VMSEAL_MAX_TIMEOUT_SECS 300

#if DOVECOT_PREREQ(2, 4, 0)
struct vmseal_settings {
	pool_t pool;
	/* vmseal_socket_path: vmsealed's auth socket */
	const char *socket_path;
	/* vmseal_timeout: seconds to wait for connecting and for each
	   answer, 1..VMSEAL_MAX_TIMEOUT_SECS */
	unsigned int timeout;
};

/* Shared by the auth module (settings_get) and the settings module
   (doveconf, the config process); the two copies are the same code. */
extern const struct setting_parser_info vmseal_setting_parser_info;
#endif

#endif
