/*
 * authproto.h - the auth socket's protocol: how Dovecot's side of vmseal
 * (vmseal-checkpassword, the auth plugin) asks vmsealed.
 *
 * One request, one reply, both framed as an ipc message (ipc.h: a netstring
 * of netstrings) on a connection that may be reused for further requests.
 *
 * Requests:
 *   "verify" LOGIN PASSWORD SERVICE REMOTE_IP LOCAL_IP SECURED
 *            check a password (SECURED is "1" for TLS or a local
 *            connection, else "0"; IPs may be empty)
 *   "lookup" NAME SERVICE
 *            userdb lookup without a password (NAME: login or address)
 * Replies:
 *   "ok" USER FIELD...   USER is the canonical login; each FIELD is
 *                        "name=value" (home, uid, gid, mail, quota_rule)
 *   "fail" [REASON]      wrong password (REASON, when present, says why
 *                        the attempt was refused, e.g. "throttled")
 *   "nouser"             no such user (lookup), or - for verify only when
 *                        the caller must know it - the same as fail
 *   "disabled"           the user exists but may not log in
 *   "temp" REASON        try again later: sealed, store error, overload
 *
 * Caps: a request is at most AUTH_REQUEST_MAX bytes; LOGIN at most
 * NAME_LOGIN_MAX + a domain, PASSWORD at most PW_PASSWORD_MAX; no item may
 * hold NUL, and LOGIN/SERVICE/IPs no control character.  Values in a
 * reply never hold NUL, TAB or LF (they end up in Dovecot's environment
 * and protocol).
 *
 * Security: a request carries a password: parsing copies nothing it does
 * not need, and the caller wipes the frame (ipc_msg_free).
 */
#ifndef VS_AUTHPROTO_H
#define VS_AUTHPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "names.h"
#include "pwhash.h"
#include "vs_err.h"

#define AUTH_REQUEST_MAX 4096
#define AUTH_REPLY_MAX 16384
#define AUTH_FIELD_MAX 1024
#define AUTH_FIELDS_MAX 16

enum auth_op { AUTH_VERIFY, AUTH_LOOKUP };

/* A parsed request; strings point into the message (not copied). */
struct auth_request {
	enum auth_op op;
	const char *login;      /* NUL-terminated copies below */
	const char *password;
	size_t password_len;
	const char *service;
	const char *remote_ip;
	const char *local_ip;
	bool secured;
	/* storage for the NUL-terminated copies */
	char login_buf[NAME_BUF];
	char service_buf[64];
	char remote_buf[64];
	char local_buf[64];
	char password_buf[PW_PASSWORD_MAX + 1];
};

/* Parse request items (from ipc: items[0..n) with lengths).  VS_EINVAL
 * with a reason.  The password copy in req must be wiped by the caller
 * (auth_request_wipe). */
int auth_parse_request(const uint8_t *const *items, const size_t *lens,
    size_t n, struct auth_request *req, struct vs_err *err);
void auth_request_wipe(struct auth_request *req);

enum auth_result { AUTH_OK, AUTH_FAIL, AUTH_NOUSER, AUTH_DISABLED,
    AUTH_TEMP };

struct auth_reply {
	enum auth_result result;
	char user[NAME_BUF];
	char reason[256];               /* AUTH_TEMP; AUTH_FAIL optional */
	char fields[AUTH_FIELDS_MAX][AUTH_FIELD_MAX];
	size_t n_fields;
};

/* Encode a reply as one ipc message into out (a netstring of netstrings).
 * Values with NUL/TAB/LF/CR are refused (VS_EINVAL). */
int auth_encode_reply(const struct auth_reply *r, struct buf *out);
/* Parse reply items (the client side). */
int auth_parse_reply(const uint8_t *const *items, const size_t *lens,
    size_t n, struct auth_reply *r, struct vs_err *err);
/* Add "name=value" to a reply; VS_EINVAL on NUL/TAB/LF/CR or overflow. */
int auth_reply_field(struct auth_reply *r, const char *name,
    const char *value);

#endif
