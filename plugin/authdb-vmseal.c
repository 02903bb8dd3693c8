/*
 * authdb-vmseal.c - Dovecot 2.3 passdb and userdb driver "vmseal": asks
 * vmsealed through its auth socket (protocol: lib/authproto.h).
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
 * Built as libauthdb_vmseal.so in Dovecot's auth module folder; Dovecot
 * loads it when a passdb or userdb names the driver.  Both drivers are
 * blocking: their lookups run in auth-worker processes, one request at a
 * time, where waiting on a socket is allowed.  Each worker keeps one
 * connection to the socket, shared by the passdb and the userdb, and
 * reconnects when vmsealed was restarted (vmseal-client.c).
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
 * quota_rule): a reply can never set passdb fields with a meaning for
 * Dovecot (nopassword, proxy, allow_nets, ...).
 *
 * Security: the password is Dovecot's buffer; the only copies are the
 * request frames, wiped when freed (ipc.c).  Nothing here logs a
 * password.
 */
#include "auth-common.h"
#include "passdb.h"
#include "userdb.h"
#include "net.h"
#include "strnum.h"

#include "vmseal-client.h"

#define VMSEAL_EXPORT __attribute__((visibility("default")))

#define VMSEAL_DEFAULT_SOCKET "/run/vmseal/auth"
#define VMSEAL_DEFAULT_TIMEOUT_SECS 5
#define VMSEAL_MAX_TIMEOUT_SECS 300

struct vmseal_settings {
	const char *socket_path;
	unsigned int timeout_secs;
};

struct vmseal_passdb_module {
	struct passdb_module module;
	struct vmseal_settings set;
};

struct vmseal_userdb_module {
	struct userdb_module module;
	struct vmseal_settings set;
};

/* The fields of an "ok" reply that reach Dovecot, as userdb fields. */
static const char *const vmseal_userdb_fields[] = {
	"home", "uid", "gid", "mail", "quota_rule", NULL
};

static void
vmseal_parse_args(pool_t pool, const char *args, const char *what,
    struct vmseal_settings *set)
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

static void
vmseal_request_init(struct auth_request *request, const char *password,
    struct vsc_request *req)
{
	const struct ip_addr *rip = &request->fields.remote_ip;
	const struct ip_addr *lip = &request->fields.local_ip;

	i_zero(req);
	req->login = request->fields.user;
	req->password = password;
	req->service = request->fields.service != NULL ?
	    request->fields.service : "";
	req->remote_ip = rip->family == 0 ? "" : net_ip2addr(rip);
	req->local_ip = lip->family == 0 ? "" : net_ip2addr(lip);
	/* TLS, or a connection Dovecot trusts as local */
	req->secured = request->fields.secured != AUTH_REQUEST_SECURED_NONE;
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

/* The canonical user and the userdb fields of an "ok" reply; from the
 * passdb as "user" and userdb_* fields, from the userdb as they are. */
static void
vmseal_set_fields(struct auth_request *request,
    const struct vsc_reply *reply, bool passdb)
{
	const char *name, *value;
	size_t i;

	if (passdb)
		auth_request_set_field(request, "user", reply->user, NULL);
	else
		auth_request_set_userdb_field(request, "user", reply->user);
	for (i = 0; i < reply->n_fields; i++) {
		value = strchr(reply->fields[i], '=');
		if (value == NULL)
			continue;       /* the parser refuses these */
		name = t_strdup_until(reply->fields[i], value++);
		if (!vmseal_field_known(name)) {
			e_debug(authdb_event(request),
			    "vmseal: ignoring unknown field %s", name);
			continue;
		}
		if (passdb)
			auth_request_set_field(request,
			    t_strconcat("userdb_", name, NULL), value, NULL);
		else
			auth_request_set_userdb_field(request, name, value);
	}
}

static void
vmseal_log_temp(struct auth_request *request, const struct vsc_reply *reply)
{
	if (reply->result == VSC_TEMP)
		e_warning(authdb_event(request),
		    "vmseal: temporary failure: %s", reply->reason);
	else
		e_error(authdb_event(request), "vmseal: %s", reply->reason);
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
	enum passdb_result result;

	vmseal_request_init(request, password, &req);
	e_debug(authdb_event(request), "vmseal: verify via %s",
	    module->set.socket_path);
	vsc_call(module->set.socket_path, (int)module->set.timeout_secs * 1000,
	    &req, &reply);
	switch (reply.result) {
	case VSC_OK:
		vmseal_set_fields(request, &reply, TRUE);
		result = PASSDB_RESULT_OK;
		break;
	case VSC_FAIL:
		if (reply.reason[0] != '\0')
			/* e.g. "throttled": refused without a password check */
			e_info(authdb_event(request), "vmseal: login refused: "
			    "%s", reply.reason);
		else
			auth_request_log_password_mismatch(request,
			    AUTH_SUBSYS_DB);
		result = PASSDB_RESULT_PASSWORD_MISMATCH;
		break;
	case VSC_DISABLED:
		/* vmsealed says so only after the right password */
		e_info(authdb_event(request), "vmseal: user is disabled");
		result = PASSDB_RESULT_USER_DISABLED;
		break;
	case VSC_NOUSER:
		auth_request_log_unknown_user(request, AUTH_SUBSYS_DB);
		result = PASSDB_RESULT_USER_UNKNOWN;
		break;
	case VSC_TEMP:
	case VSC_ERROR:
	default:
		vmseal_log_temp(request, &reply);
		result = PASSDB_RESULT_INTERNAL_FAILURE;
		break;
	}
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

	if (scheme != NULL && *scheme != '\0') {
		/* A mechanism that needs the stored secret: vmseal keeps
		 * Argon2id hashes and never hands them out. */
		e_info(authdb_event(request), "vmseal: %s credentials are "
		    "not available: only plaintext mechanisms are supported",
		    scheme);
		callback(PASSDB_RESULT_SCHEME_NOT_AVAILABLE, NULL, 0, request);
		return;
	}
	/* A passdb lookup that authenticates nothing: the user's fields. */
	vmseal_request_init(request, NULL, &req);
	e_debug(authdb_event(request), "vmseal: lookup via %s",
	    module->set.socket_path);
	vsc_call(module->set.socket_path, (int)module->set.timeout_secs * 1000,
	    &req, &reply);
	switch (reply.result) {
	case VSC_OK:
		vmseal_set_fields(request, &reply, TRUE);
		/* no password: passes through for a lookup without scheme */
		passdb_handle_credentials(PASSDB_RESULT_OK, NULL, NULL,
		    callback, request);
		return;
	case VSC_NOUSER:
		auth_request_log_unknown_user(request, AUTH_SUBSYS_DB);
		callback(PASSDB_RESULT_USER_UNKNOWN, NULL, 0, request);
		return;
	case VSC_FAIL:
	case VSC_DISABLED:
		e_error(authdb_event(request), "vmseal: unexpected reply to a "
		    "lookup");
		break;
	default:
		vmseal_log_temp(request, &reply);
		break;
	}
	callback(PASSDB_RESULT_INTERNAL_FAILURE, NULL, 0, request);
}

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

	vmseal_request_init(request, NULL, &req);
	e_debug(authdb_event(request), "vmseal: lookup via %s",
	    module->set.socket_path);
	vsc_call(module->set.socket_path, (int)module->set.timeout_secs * 1000,
	    &req, &reply);
	switch (reply.result) {
	case VSC_OK:
		vmseal_set_fields(request, &reply, FALSE);
		callback(USERDB_RESULT_OK, request);
		return;
	case VSC_NOUSER:
		auth_request_log_unknown_user(request, AUTH_SUBSYS_DB);
		callback(USERDB_RESULT_USER_UNKNOWN, request);
		return;
	case VSC_FAIL:
	case VSC_DISABLED:
		e_error(authdb_event(request), "vmseal: unexpected reply to a "
		    "lookup");
		break;
	default:
		vmseal_log_temp(request, &reply);
		break;
	}
	callback(USERDB_RESULT_INTERNAL_FAILURE, request);
}

static struct userdb_module *
vmseal_userdb_preinit(pool_t pool, const char *args)
{
	struct vmseal_userdb_module *module;

	module = p_new(pool, struct vmseal_userdb_module, 1);
	vmseal_parse_args(pool, args, "userdb", &module->set);
	module->module.blocking = TRUE;
	return &module->module;
}

static struct userdb_module_interface userdb_vmseal = {
	.name = "vmseal",
	.preinit = vmseal_userdb_preinit,
	.lookup = vmseal_userdb_lookup,
};

/* --- the module --- */

VMSEAL_EXPORT extern const char *authdb_vmseal_version;
VMSEAL_EXPORT void authdb_vmseal_init(void);
VMSEAL_EXPORT void authdb_vmseal_deinit(void);

/* Dovecot refuses the module if built for another ABI. */
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
