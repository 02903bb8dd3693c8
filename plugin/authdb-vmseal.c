/*
 * authdb-vmseal.c - Dovecot passdb and userdb driver "vmseal": asks vmsealed
 * through its auth socket (protocol: lib/authproto.h).  One source for
 * Dovecot 2.3 and 2.4, chosen at build time by DOVECOT_PREREQ(2, 4, 0).
 *
 * Dovecot 2.3: settings in "args".
 *
 *   passdb {
 *     driver = vmseal
 *     args = socket=/run/vmseal/auth timeout=5
 *   }
 *   userdb {
 *     driver = vmseal
 *     args = socket=/run/vmseal/auth timeout=5
 *   }
 *
 * Dovecot 2.4: typed settings (settings-vmseal.c), known to doveconf
 * through the settings module libvmseal_settings.so; at the top level or
 * inside the blocks.
 *
 *   vmseal_socket_path = /run/vmseal/auth
 *   vmseal_timeout = 5s
 *   passdb vmseal {
 *   }
 *   userdb vmseal {
 *   }
 *
 * Built as libauthdb_vmseal.so in Dovecot's auth module folder; Dovecot
 * loads it when a passdb or userdb names the driver, and only if it was
 * built for the same Dovecot ABI (authdb_vmseal_version).  Lookups run in
 * auth-worker processes, one request at a time, where waiting on a socket
 * is allowed: on 2.3 because both drivers are blocking, on 2.4 because the
 * settings module makes passdb_use_worker and userdb_use_worker default to
 * yes for them (2.4 ignores "blocking"), and preinit refuses "no".  Each
 * worker keeps one connection to the socket, shared by the passdb and the
 * userdb, and reconnects when vmsealed was restarted (vmseal-client.c).
 *
 * passdb: plaintext only.  verify_plain sends "verify"; vmsealed never
 * hands out a hash, so credential lookups for a scheme (CRAM-MD5,
 * DIGEST-MD5, SCRAM, ...) answer SCHEME_NOT_AVAILABLE: only PLAIN and LOGIN
 * work.  A lookup without a scheme (doveadm auth lookup, a PASS lookup on
 * the auth-master socket) is answered from "lookup" with the user's fields
 * and no password.  On success the canonical user name replaces the login
 * ("user"), so mail is filed under it, and the userdb fields travel as
 * userdb_* fields (userdb prefetch works).
 *
 * userdb: "lookup" (login or address, as LMTP asks with the recipient).
 *
 * "temp" (sealed, store error, overload), an unreachable service and a
 * malformed reply are internal failures: Dovecot answers a temporary
 * failure and the client tries again later.  Never "nodelay": for a wrong
 * password Dovecot's failure delay is exactly right, and for an internal
 * failure the field would be lost anyway, as Dovecot 2.3's auth-worker
 * sends no fields back with an internal failure (auth-worker-client.c).
 *
 * Only known userdb fields are passed on (home, uid, gid, mail,
 * quota_rule, and mail_crypt's mail_crypt_save_version,
 * mail_crypt_global_public_key and mail_crypt_global_private_key): a reply can never set passdb fields with
 * a meaning for Dovecot (nopassword, proxy, allow_nets, ...).
 *
 * Mail keys (Dovecot 2.3's mail_crypt, global keys per user): vmsealed
 * sends the public key (base64 of the PEM, as mail_crypt takes it) with
 * every "ok" and the private key only with the "ok" of a verified
 * password, which passes it on as userdb_mail_crypt_global_private_key;
 * a private key in a lookup's reply would be dropped here.  On Dovecot
 * 2.4 they become its settings (vmseal_crypt_setting):
 * crypt_global_public_key_file and the list crypt_global_private_key with
 * one entry "vmseal" (crypt_private_key_file), as inline file contents,
 * and crypt_write_algorithm for save version 2.
 *
 * Security: the password is Dovecot's buffer; the only copies are the
 * request frames, wiped when freed (ipc.c).  Nothing here logs a
 * password or a key; the reply, which may hold a private key, is wiped
 * (safe_memset) once its fields are handed to Dovecot.
 */
#include "auth-common.h"
#include "passdb.h"
#include "userdb.h"
#include "array.h"
#include "str.h"
#include "net.h"
#include "strnum.h"
#include "safe-memset.h"

#if DOVECOT_PREREQ(2, 4, 0)
#  define VMSEAL_DOVECOT_24
#  include "settings.h"
#  include "auth-settings.h"
#endif

#include "settings-vmseal.h"
#include "vmseal-client.h"

#define VMSEAL_EXPORT __attribute__((visibility("default")))

#ifdef VMSEAL_DOVECOT_24
/* 2.4 puts "passdb vmseal"/"userdb vmseal" in front of every line logged
 * with authdb_event() */
#  define VMSEAL_LOG ""
#else
#  define VMSEAL_LOG "vmseal: "
#endif

/* where and how long to ask, from "args" (2.3) or the settings (2.4) */
struct vmseal_conf {
	const char *socket_path;
	unsigned int timeout_secs;
};

struct vmseal_passdb_module {
	struct passdb_module module;
	struct vmseal_conf set;
};

struct vmseal_userdb_module {
	struct userdb_module module;
	struct vmseal_conf set;
};

/* The fields of an "ok" reply that reach Dovecot, as userdb fields. */
static const char *const vmseal_userdb_fields[] = {
	"home", "uid", "gid", "mail", "quota_rule", "mail_crypt_save_version",
	"mail_crypt_global_public_key", "mail_crypt_global_private_key", NULL
};
#define VMSEAL_PRIVATE_KEY_FIELD "mail_crypt_global_private_key"

#ifdef VMSEAL_DOVECOT_24
/* vmseal_socket_path and vmseal_timeout, checked by the settings' own
 * check function (settings-vmseal.c) */
static int
vmseal_conf_get(pool_t pool, struct event *event, struct vmseal_conf *conf,
    const char **error_r)
{
	const struct vmseal_settings *set;

	if (settings_get(event, &vmseal_setting_parser_info, 0, &set,
	    error_r) < 0)
		return -1;
	conf->socket_path = p_strdup(pool, set->socket_path);
	conf->timeout_secs = set->timeout;
	settings_free(set);
	return 0;
}
#else
static void
vmseal_parse_args(pool_t pool, const char *args, const char *what,
    struct vmseal_conf *set)
{
	const char *const *arg;
	unsigned int secs;

	set->socket_path = VMSEAL_DEFAULT_SOCKET;
	set->timeout_secs = VMSEAL_DEFAULT_TIMEOUT_SECS;
	for (arg = t_strsplit_spaces(args, " "); *arg != NULL; arg++) {
		if (str_begins(*arg, "socket=") && (*arg)[7] != '\0') {
			set->socket_path = p_strdup(pool, *arg + 7);
		} else if (str_begins(*arg, "timeout=")) {
			if (str_to_uint(*arg + 8, &secs) < 0 || secs == 0 ||
			    secs > VMSEAL_MAX_TIMEOUT_SECS)
				i_fatal("%s vmseal: Invalid timeout (1..%u "
				    "seconds): %s", what,
				    VMSEAL_MAX_TIMEOUT_SECS, *arg + 8);
			set->timeout_secs = secs;
		} else {
			i_fatal("%s vmseal: Unknown setting: %s", what, *arg);
		}
	}
}
#endif

static void
vmseal_request_init(struct auth_request *request, const char *password,
    struct vsc_request *req)
{
	const struct ip_addr *rip = &request->fields.remote_ip;
	const struct ip_addr *lip = &request->fields.local_ip;

	i_zero(req);
	req->login = request->fields.user;
	req->password = password;
	req->remote_ip = rip->family == 0 ? "" : net_ip2addr(rip);
	req->local_ip = lip->family == 0 ? "" : net_ip2addr(lip);
	/* TLS, or a connection Dovecot trusts as local */
#ifdef VMSEAL_DOVECOT_24
	req->service = request->fields.protocol != NULL ?
	    request->fields.protocol : "";
	req->secured = request->fields.conn_secured !=
	    AUTH_REQUEST_CONN_SECURED_NONE;
#else
	req->service = request->fields.service != NULL ?
	    request->fields.service : "";
	req->secured = request->fields.secured != AUTH_REQUEST_SECURED_NONE;
#endif
}

static bool
vmseal_field_known(const char *name)
{
	unsigned int i;

	for (i = 0; vmseal_userdb_fields[i] != NULL; i++)
		if (strcmp(vmseal_userdb_fields[i], name) == 0)
			return TRUE;
	return FALSE;
}

#ifdef VMSEAL_DOVECOT_24
/* Dovecot 2.4 has no mail location: a 2.3 one, FORMAT:PATH[:KEY=VALUE...]
 * as vmseal keeps it in the userdb field "mail", is passed on as 2.4's
 * settings, as contrib/dovecot/vmseal-auth.lua does. */
static const struct {
	const char *key, *setting;
} vmseal_mail_keys[] = {
	{ "INBOX", "mail_inbox_path" },
	{ "INDEX", "mail_index_path" },
	{ "INDEXPVT", "mail_index_private_path" },
	{ "CONTROL", "mail_control_path" },
	{ "VOLATILEDIR", "mail_volatile_path" },
	{ "ALT", "mail_alt_path" },
	{ "LAYOUT", "mailbox_list_layout" },
};

/* A name put into a path by %n %u %d: it must not leave its folder. */
static bool
vmseal_mail_name_ok(const char *s)
{
	return *s != '\0' && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	    strchr(s, '/') == NULL;
}

/* %n %u %d %h and %% of a 2.3 location, expanded here with the canonical
 * user: Dovecot 2.4 expands no %variables in the values a userdb returns.
 * NULL (and the variable in *error_r) for anything else. */
static const char *
vmseal_mail_expand(const char *s, const char *user, const char *home,
    const char **error_r)
{
	string_t *out = t_str_new(128);
	const char *at = strchr(user, '@');
	const char *v;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			str_append_c(out, *s);
			continue;
		}
		switch (s[1]) {
		case 'n':
			v = at == NULL ? user : t_strdup_until(user, at);
			break;
		case 'u':
			v = user;
			break;
		case 'd':
			v = at == NULL ? "" : at + 1;
			break;
		case 'h':
			v = home;
			break;
		case '%':
			v = "%";
			break;
		default:
			v = NULL;
			break;
		}
		if (v == NULL || (s[1] != 'h' && s[1] != '%' &&
		    !vmseal_mail_name_ok(v))) {
			*error_r = t_strdup_printf("cannot expand %%%c",
			    s[1] == '\0' ? ' ' : s[1]);
			return NULL;
		}
		str_append(out, v);
		s++;
	}
	return str_c(out);
}

/* Append the 2.4 settings of location loc to names/values. */
static int
vmseal_mail_split(const char *loc, const char *user, const char *home,
    ARRAY_TYPE(const_string) *names, ARRAY_TYPE(const_string) *values,
    const char **error_r)
{
	const char *const *parts = t_strsplit(loc, ":");
	const char *driver = parts[0], *key, *name, *value, *eq, *error;
	unsigned int i, j;

	if (*driver < 'a' || *driver > 'z' ||
	    strspn(driver, "abcdefghijklmnopqrstuvwxyz0123456789") !=
	    strlen(driver)) {
		*error_r = "mail: no mailbox format";
		return -1;
	}
	name = "mail_driver";
	array_push_back(names, &name);
	array_push_back(values, &driver);
	if (parts[1] == NULL)
		return 0;
	if (parts[1][0] != '\0') {
		value = vmseal_mail_expand(parts[1], user, home, &error);
		if (value == NULL) {
			*error_r = t_strdup_printf("mail: %s in the path",
			    error);
			return -1;
		}
		name = "mail_path";
		array_push_back(names, &name);
		array_push_back(values, &value);
	}
	for (i = 2; parts[i] != NULL; i++) {
		eq = strchr(parts[i], '=');
		key = eq == NULL ? "" : t_strdup_until(parts[i], eq);
		name = NULL;
		for (j = 0; j < N_ELEMENTS(vmseal_mail_keys); j++) {
			if (strcmp(vmseal_mail_keys[j].key, key) == 0)
				name = vmseal_mail_keys[j].setting;
		}
		if (name == NULL) {
			*error_r = t_strdup_printf("mail: unknown key in %s",
			    t_strcut(parts[i], '='));
			return -1;
		}
		value = vmseal_mail_expand(eq + 1, user, home, &error);
		if (value == NULL) {
			*error_r = t_strdup_printf("mail: %s in %s", error,
			    key);
			return -1;
		}
		array_push_back(names, &name);
		array_push_back(values, &value);
	}
	return 0;
}
#endif

#ifdef VMSEAL_DOVECOT_24
/* mail_crypt's 2.3 fields as 2.4's settings: the keys as file settings
 * with inline content (base64 of the PEM, which mail_crypt decodes as
 * 2.3 did), the private key as the one entry "vmseal" of the named list
 * crypt_global_private_key; save version 2 as the write algorithm (the
 * configuration's crypt_write_algorithm stays empty for users without
 * keys: read only). */
static void
vmseal_crypt_setting(const char *name, const char *value,
    ARRAY_TYPE(const_string) *names, ARRAY_TYPE(const_string) *values)
{
	const char *n = NULL, *v = NULL;

	if (strcmp(name, "mail_crypt_save_version") == 0) {
		if (strcmp(value, "2") != 0)
			return;
		n = "crypt_write_algorithm";
		v = "aes-256-gcm-sha256";
	} else if (strcmp(name, "mail_crypt_global_public_key") == 0) {
		n = "crypt_global_public_key_file";
		v = t_strconcat(SET_FILE_INLINE_PREFIX, value, NULL);
	} else if (strcmp(name, VMSEAL_PRIVATE_KEY_FIELD) == 0) {
		n = "crypt_global_private_key";
		v = "vmseal";
		array_push_back(names, &n);
		array_push_back(values, &v);
		n = "crypt_global_private_key/vmseal/crypt_private_key_file";
		v = t_strconcat(SET_FILE_INLINE_PREFIX, value, NULL);
	}
	if (n == NULL)
		return;
	array_push_back(names, &n);
	array_push_back(values, &v);
}
#endif

/* The canonical user and the userdb fields of an "ok" reply; from the
 * passdb as "user" and userdb_* fields, from the userdb as they are.  All
 * are checked before any is set: -1 (and *error_r) if one is unusable. */
static int
vmseal_set_fields(struct auth_request *request,
    const struct vsc_reply *reply, bool passdb, const char **error_r)
{
	ARRAY_TYPE(const_string) names, values;
	const char *name, *value, *const *n, *const *v;
	unsigned int i, count;
#ifdef VMSEAL_DOVECOT_24
	const char *mail = NULL, *home = "";
#endif

	*error_r = NULL;
	t_array_init(&names, VSC_FIELDS_MAX + 8);
	t_array_init(&values, VSC_FIELDS_MAX + 8);
	for (i = 0; i < reply->n_fields; i++) {
		value = strchr(reply->fields[i], '=');
		if (value == NULL)
			continue;       /* the parser refuses these */
		name = t_strdup_until(reply->fields[i], value++);
		if (!vmseal_field_known(name)) {
			e_debug(authdb_event(request),
			    VMSEAL_LOG "ignoring unknown field %s", name);
			continue;
		}
		/* Only the passdb's reply to a verified password has it
		 * (vmsealed sends it nowhere else). */
		if (!passdb && strcmp(name, VMSEAL_PRIVATE_KEY_FIELD) == 0)
			continue;
#ifdef VMSEAL_DOVECOT_24
		if (str_begins_with(name, "mail_crypt_")) {
			vmseal_crypt_setting(name, value, &names, &values);
			continue;
		}
		if (strcmp(name, "home") == 0)
			home = value;
		if (strcmp(name, "mail") == 0) {
			mail = value;
			continue;
		}
#endif
		array_push_back(&names, &name);
		array_push_back(&values, &value);
	}
#ifdef VMSEAL_DOVECOT_24
	if (mail != NULL && vmseal_mail_split(mail, reply->user, home,
	    &names, &values, error_r) < 0)
		return -1;
#endif

	if (passdb)
		auth_request_set_field(request, "user", reply->user, NULL);
	else
		auth_request_set_userdb_field(request, "user", reply->user);
	n = array_get(&names, &count);
	v = array_get(&values, &i);
	i_assert(i == count);
	for (i = 0; i < count; i++) {
		if (passdb)
			auth_request_set_field(request,
			    t_strconcat("userdb_", n[i], NULL), v[i], NULL);
		else
			auth_request_set_userdb_field(request, n[i], v[i]);
	}
	return 0;
}

static void
vmseal_log_mismatch(struct auth_request *request)
{
#ifdef VMSEAL_DOVECOT_24
	auth_request_db_log_password_mismatch(request);
#else
	auth_request_log_password_mismatch(request, AUTH_SUBSYS_DB);
#endif
}

static void
vmseal_log_unknown(struct auth_request *request)
{
#ifdef VMSEAL_DOVECOT_24
	auth_request_db_log_unknown_user(request);
#else
	auth_request_log_unknown_user(request, AUTH_SUBSYS_DB);
#endif
}

static void
vmseal_log_temp(struct auth_request *request, const struct vsc_reply *reply)
{
	if (reply->result == VSC_TEMP)
		e_warning(authdb_event(request),
		    VMSEAL_LOG "temporary failure: %s", reply->reason);
	else
		e_error(authdb_event(request), VMSEAL_LOG "%s", reply->reason);
}

/* --- passdb --- */

static void
vmseal_verify_plain(struct auth_request *request, const char *password,
    verify_plain_callback_t *callback)
{
	struct vmseal_passdb_module *module =
	    (struct vmseal_passdb_module *)request->passdb->passdb;
	struct vsc_request req;
	struct vsc_reply reply;
	const char *error;
	enum passdb_result result;

	vmseal_request_init(request, password, &req);
	e_debug(authdb_event(request), VMSEAL_LOG "verify via %s",
	    module->set.socket_path);
	vsc_call(module->set.socket_path, (int)module->set.timeout_secs * 1000,
	    &req, &reply);
	switch (reply.result) {
	case VSC_OK:
		if (vmseal_set_fields(request, &reply, TRUE, &error) < 0) {
			e_error(authdb_event(request), VMSEAL_LOG "%s", error);
			result = PASSDB_RESULT_INTERNAL_FAILURE;
			break;
		}
		result = PASSDB_RESULT_OK;
		break;
	case VSC_FAIL:
		if (reply.reason[0] != '\0')
			/* e.g. "throttled": refused without a password check */
			e_info(authdb_event(request),
			    VMSEAL_LOG "login refused: %s", reply.reason);
		else
			vmseal_log_mismatch(request);
		result = PASSDB_RESULT_PASSWORD_MISMATCH;
		break;
	case VSC_DISABLED:
		/* vmsealed says so only after the right password */
		e_info(authdb_event(request), VMSEAL_LOG "user is disabled");
		result = PASSDB_RESULT_USER_DISABLED;
		break;
	case VSC_NOUSER:
		vmseal_log_unknown(request);
		result = PASSDB_RESULT_USER_UNKNOWN;
		break;
	case VSC_TEMP:
	case VSC_ERROR:
	default:
		vmseal_log_temp(request, &reply);
		result = PASSDB_RESULT_INTERNAL_FAILURE;
		break;
	}
	safe_memset(&reply, 0, sizeof(reply));  /* may hold a private key */
	callback(result, request);
}

static void
vmseal_lookup_credentials(struct auth_request *request,
    lookup_credentials_callback_t *callback)
{
	struct vmseal_passdb_module *module =
	    (struct vmseal_passdb_module *)request->passdb->passdb;
	const char *scheme = request->wanted_credentials_scheme;
	struct vsc_request req;
	struct vsc_reply reply;
	const char *error;

	if (scheme != NULL && *scheme != '\0') {
		/* A mechanism that needs the stored secret: vmseal keeps
		 * Argon2id hashes and never hands them out. */
		e_info(authdb_event(request), VMSEAL_LOG "%s credentials are "
		    "not available: only plaintext mechanisms are supported",
		    scheme);
		callback(PASSDB_RESULT_SCHEME_NOT_AVAILABLE, NULL, 0, request);
		return;
	}
	/* A passdb lookup that authenticates nothing: the user's fields. */
	vmseal_request_init(request, NULL, &req);
	e_debug(authdb_event(request), VMSEAL_LOG "lookup via %s",
	    module->set.socket_path);
	vsc_call(module->set.socket_path, (int)module->set.timeout_secs * 1000,
	    &req, &reply);
	switch (reply.result) {
	case VSC_OK:
		if (vmseal_set_fields(request, &reply, TRUE, &error) < 0) {
			e_error(authdb_event(request), VMSEAL_LOG "%s", error);
			break;
		}
		/* no password: passes through for a lookup without scheme */
		passdb_handle_credentials(PASSDB_RESULT_OK, NULL, NULL,
		    callback, request);
		return;
	case VSC_NOUSER:
		vmseal_log_unknown(request);
		callback(PASSDB_RESULT_USER_UNKNOWN, NULL, 0, request);
		return;
	case VSC_FAIL:
	case VSC_DISABLED:
		e_error(authdb_event(request),
		    VMSEAL_LOG "unexpected reply to a lookup");
		break;
	default:
		vmseal_log_temp(request, &reply);
		break;
	}
	callback(PASSDB_RESULT_INTERNAL_FAILURE, NULL, 0, request);
}

#ifdef VMSEAL_DOVECOT_24
static int
vmseal_passdb_preinit(pool_t pool, struct event *event,
    struct passdb_module **module_r, const char **error_r)
{
	const struct auth_passdb_settings *db_set;
	struct vmseal_passdb_module *module;
	bool use_worker;

	/* Lookups wait on a socket: in the main auth process they would
	 * stall every other login.  passdb_use_worker defaults to yes for
	 * this driver (settings-vmseal.c); "no" is refused. */
	if (settings_get(event, &auth_passdb_setting_parser_info, 0, &db_set,
	    error_r) < 0)
		return -1;
	use_worker = db_set->use_worker;
	settings_free(db_set);
	if (!use_worker) {
		*error_r = "passdb_use_worker=no is not supported: vmseal "
		    "lookups wait on a socket and run in auth-worker processes";
		return -1;
	}
	module = p_new(pool, struct vmseal_passdb_module, 1);
	if (vmseal_conf_get(pool, event, &module->set, error_r) < 0)
		return -1;
	/* no caching key: the auth cache stays off unless configured, so a
	 * password change, a disabled user or sealing acts at once */
	*module_r = &module->module;
	return 0;
}
#else
static struct passdb_module *
vmseal_passdb_preinit(pool_t pool, const char *args)
{
	struct vmseal_passdb_module *module;

	module = p_new(pool, struct vmseal_passdb_module, 1);
	vmseal_parse_args(pool, args, "passdb", &module->set);
	/* lookups run in auth-worker processes */
	module->module.blocking = TRUE;
	/* no caching key: the auth cache stays off unless configured, so a
	 * password change, a disabled user or sealing acts at once */
	return &module->module;
}
#endif

static struct passdb_module_interface passdb_vmseal = {
	.name = "vmseal",
	.preinit = vmseal_passdb_preinit,
	.verify_plain = vmseal_verify_plain,
	.lookup_credentials = vmseal_lookup_credentials,
};

/* --- userdb --- */

static void
vmseal_userdb_lookup(struct auth_request *request,
    userdb_callback_t *callback)
{
	struct vmseal_userdb_module *module =
	    (struct vmseal_userdb_module *)request->userdb->userdb;
	struct vsc_request req;
	struct vsc_reply reply;
	const char *error;

	vmseal_request_init(request, NULL, &req);
	e_debug(authdb_event(request), VMSEAL_LOG "lookup via %s",
	    module->set.socket_path);
	vsc_call(module->set.socket_path, (int)module->set.timeout_secs * 1000,
	    &req, &reply);
	switch (reply.result) {
	case VSC_OK:
		if (vmseal_set_fields(request, &reply, FALSE, &error) < 0) {
			e_error(authdb_event(request), VMSEAL_LOG "%s", error);
			break;
		}
		callback(USERDB_RESULT_OK, request);
		return;
	case VSC_NOUSER:
		vmseal_log_unknown(request);
		callback(USERDB_RESULT_USER_UNKNOWN, request);
		return;
	case VSC_FAIL:
	case VSC_DISABLED:
		e_error(authdb_event(request),
		    VMSEAL_LOG "unexpected reply to a lookup");
		break;
	default:
		vmseal_log_temp(request, &reply);
		break;
	}
	callback(USERDB_RESULT_INTERNAL_FAILURE, request);
}

#ifdef VMSEAL_DOVECOT_24
static int
vmseal_userdb_preinit(pool_t pool, struct event *event,
    struct userdb_module **module_r, const char **error_r)
{
	const struct auth_userdb_settings *db_set;
	struct vmseal_userdb_module *module;
	bool use_worker;

	/* as for the passdb: auth-worker processes only */
	if (settings_get(event, &auth_userdb_setting_parser_info, 0, &db_set,
	    error_r) < 0)
		return -1;
	use_worker = db_set->use_worker;
	settings_free(db_set);
	if (!use_worker) {
		*error_r = "userdb_use_worker=no is not supported: vmseal "
		    "lookups wait on a socket and run in auth-worker processes";
		return -1;
	}
	module = p_new(pool, struct vmseal_userdb_module, 1);
	if (vmseal_conf_get(pool, event, &module->set, error_r) < 0)
		return -1;
	*module_r = &module->module;
	return 0;
}
#else
static struct userdb_module *
vmseal_userdb_preinit(pool_t pool, const char *args)
{
	struct vmseal_userdb_module *module;

	module = p_new(pool, struct vmseal_userdb_module, 1);
	vmseal_parse_args(pool, args, "userdb", &module->set);
	module->module.blocking = TRUE;
	return &module->module;
}
#endif

static struct userdb_module_interface userdb_vmseal = {
	.name = "vmseal",
	.preinit = vmseal_userdb_preinit,
	.lookup = vmseal_userdb_lookup,
};

/* --- the module --- */

VMSEAL_EXPORT extern const char *authdb_vmseal_version;
VMSEAL_EXPORT void authdb_vmseal_init(void);
VMSEAL_EXPORT void authdb_vmseal_deinit(void);

/* Dovecot's module loader (module-dir.c) compares this with its own
 * DOVECOT_ABI_VERSION and refuses a module built for another release with
 * one error line, before calling anything in it. */
const char *authdb_vmseal_version = DOVECOT_ABI_VERSION;

void
authdb_vmseal_init(void)
{
	passdb_register_module(&passdb_vmseal);
	userdb_register_module(&userdb_vmseal);
}

void
authdb_vmseal_deinit(void)
{
	passdb_unregister_module(&passdb_vmseal);
	userdb_unregister_module(&userdb_vmseal);
	vsc_close_all();
}
