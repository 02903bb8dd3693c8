/*
 * conf.h - vmseal.conf, the configuration shared by vmsealed and the
 * vmseal command (documented in vmseal.conf(5)).
 *
 * Format: one "name = value" per line; blank lines and lines starting
 * with '#' are ignored; white space around names and values is trimmed;
 * a value runs to the end of the line (no quoting).  An unknown name, a
 * repeated name, a bad number or mode, and a line longer than
 * CONF_LINE_MAX are errors naming the line: a typo in a security
 * setting must not be silently ignored.
 *
 * Parsing works on a buffer (conf_parse) so that it can be tested and
 * fuzzed; conf_load reads a file (at most CONF_FILE_MAX bytes).
 */
#ifndef VS_CONF_H
#define VS_CONF_H

#include <stdbool.h>

#define CONF_UNSET 0xffffffffu
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vs_err.h"

#define CONF_DEFAULT_PATH "/etc/vmseal/vmseal.conf"
#define CONF_DEFAULT_SOCKET_DIR "/run/vmseal"
#define CONF_LINE_MAX 1024
#define CONF_FILE_MAX (1024 * 1024)
#define CONF_STR_MAX 256

/* One socket: who may connect. */
struct conf_socket {
	char group[CONF_STR_MAX];     /* "" = left as created (root's) */
	mode_t mode;
};

struct vs_conf {
	char store_dir[CONF_STR_MAX];   /* an LMDB folder (lmdb:DIR) */
	/* "store = LOCATION" (store.h: lmdb:DIR, postgresql:CONNINFO); ""
	 * = store_dir.  Only one of the two may be set in the file.  A
	 * CONNINFO may hold a password: keep the file mode 0600 (or use
	 * libpq's passfile). */
	char store[CONF_LINE_MAX];
	char socket_dir[CONF_STR_MAX];
	char user[CONF_STR_MAX];      /* "" = keep the starting user */
	char group[CONF_STR_MAX];
	char admin_group[CONF_STR_MAX];       /* besides root */
	struct conf_socket admin, socketmap, policy, auth;
	char recipient_delimiter[9];    /* LOOKUP_DELIMS_MAX + 1 */
	unsigned max_connections;       /* socketmap + policy + auth */
	/* Per socket; 0 = the default share: socketmap max_connections,
	 * auth half of it, policy a quarter (socketmap keeps a quarter
	 * whatever the others do), admin 20. */
	unsigned admin_max_connections, socketmap_max_connections;
	unsigned policy_max_connections, auth_max_connections;
	unsigned idle_timeout;          /* seconds; 0 = never close */
	unsigned policy_recipient_limit;        /* per login per hour; 0 off */
	unsigned hash_workers;          /* 0 = number of cores */
	unsigned hash_queue;            /* pending verifications */
	unsigned login_by_address;      /* 1: users may log in by address */
	/* Failed-login throttle (throttle.h). */
	unsigned throttle_limit;        /* failures per address in the window */
	unsigned throttle_window;       /* seconds */
	unsigned throttle_login_limit;  /* failures per login name */
	unsigned throttle_login_window;
	unsigned throttle_max_entries;  /* memory bound of each table */
	char throttle_allow[CONF_STR_MAX];      /* networks never throttled */
	unsigned policy_refuse_throttled;       /* 1: policy refuses them */
	unsigned events_keep;           /* newest events kept in the store */
	unsigned auto_seal_after;       /* seconds without admin contact; 0 off */
	char unseal_keyfile[CONF_STR_MAX];      /* DEMO ONLY: unseal at start */
	char syslog_facility[32];
	/* Lowest uid and gid a user may be given (import, user add/set). */
	unsigned uid_min, gid_min;
	/* "plain": log lines name the login; "hashed": a keyed hash of it
	 * (the client address stays in the clear for fail2ban). */
	char log_names[16];
	/* Self-service password change (service/selfservice.c,
	 * service/httpapi.c; all off by default).  poppassd_socket: a name
	 * (under socket_dir) or an absolute path, "" = off; the listen
	 * settings: "ADDRESS:PORT" on a loopback address ("127.0.0.1:106",
	 * "[::1]:106"), "" = off. */
	char poppassd_socket[CONF_STR_MAX];
	struct conf_socket poppassd;
	char poppassd_listen[64];
	char httpapi_listen[64];
	/* The form fields Roundcube's httpapi driver is configured to send
	 * (password_httpapi_var_user, _var_curpass, _var_newpass): letters,
	 * digits, '_', '-', '.', '[', ']'; at most 64 (FORM_NAME_MAX). */
	char httpapi_user_field[65];
	char httpapi_curpass_field[65];
	char httpapi_newpass_field[65];
	unsigned selfservice_max_connections;   /* per front end */
	unsigned selfservice_timeout;           /* seconds per connection */
	/* Password policy (admin/pwpolicy.h): on/off (1/0), the length
	 * floor in characters, a pwquality.conf ("" = the library's
	 * defaults), cracklib's dictionary check. */
	unsigned password_policy;
	unsigned password_min_length;
	char password_quality_conf[CONF_STR_MAX];
	unsigned password_dictcheck;
	/* A PostgreSQL store (doc/cluster.md): this host's name in the hosts
	 * table ("" = gethostname()), the answer deadline in seconds
	 * (CONF_UNSET = VMSEAL_PG_ANSWER_TIMEOUT or 5), the read cache in
	 * MiB (0 = none: every lookup asks the database). */
	char host_name[64];
	unsigned pg_answer_timeout;
	unsigned pg_cache_mb;
};

/* A "listen" value (ADDRESS:PORT on a loopback address, as above): the
 * address (without brackets, into host, hostsize bytes) and the port.
 * VS_EINVAL with the reason. */
int conf_listen_parse(const char *v, char *host, size_t hostsize,
    unsigned *port_r, struct vs_err *err);

void conf_defaults(struct vs_conf *c);
/* The store's location: store when set, else store_dir. */
const char *conf_store_location(const struct vs_conf *c);
/* Parse text[0..len) over c (which holds defaults).  VS_EINVAL with
 * "line N: reason". */
int conf_parse(struct vs_conf *c, const char *text, size_t len,
    struct vs_err *err);
/* Load a file; a missing file is VS_ENOTFOUND (the caller decides whether
 * defaults will do). */
int conf_load(struct vs_conf *c, const char *path, struct vs_err *err);

#endif
