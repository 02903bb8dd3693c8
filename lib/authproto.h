/*
 * authproto.h - the auth socket's protocol: how vmseal's clients
 * (vmseal-checkpassword and the auth plugin for Dovecot, vmseal-authcheck
 * for Apache) ask vmsealed.
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
 *                        "name=value" (home, uid, gid, mail, quota_rule;
 *                        for a user with mail keys mail_crypt_save_version
 *                        and mail_crypt_global_public_key, and only in
 *                        the "ok" of a verified password
 *                        mail_crypt_global_private_key: base64 of PEMs,
 *                        well under AUTH_FIELD_MAX)
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
 * Both directions are encoded and parsed here, once: the clients
 * (vmseal-checkpassword and vmseal-authcheck through helper/authclient.c,
 * the plugin) build their requests with
 * auth_encode_request()/auth_send_request() and parse replies with
 * auth_parse_reply(); vmsealed parses requests with auth_parse_request()
 * and encodes replies with auth_encode_reply().  The encoders refuse what
 * the parsers would refuse, with the same messages, so a request the
 * service would answer "malformed" is never sent.
 *
 * Security: a request carries a password: parsing copies nothing it does
 * not need, and the caller wipes the frame (ipc_msg_free); the encoder's
 * frame is a struct buf (wiped by buf_free).  A reply may carry a mail
 * private key: whoever holds a struct auth_reply wipes it
 * (sodium_memzero) when done.
 */
#ifndef VS_AUTHPROTO_H
#define VS_AUTHPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apppw.h"
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
	/* The service's, never on the wire (the parser leaves it "", the
	 * encoder ignores it): the key the login was throttled under
	 * (service/guard.c: the canonical login), carried from the check to
	 * the settling of its reservation. */
	char throttle_key[NAME_BUF];
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
/* Encode a request as one ipc message into out (replacing its contents):
 * op, and the strings login, service, remote_ip, local_ip (NULL is "")
 * and for AUTH_VERIFY password[0..password_len) and secured; the _buf
 * fields are not read.  Everything auth_parse_request() refuses is
 * refused here first (VS_EINVAL with the parser's message: "login is
 * empty", "password is too long", ...; VS_ELIMIT over AUTH_REQUEST_MAX),
 * out then empty.  The frame holds the password: buf_free() wipes it. */
int auth_encode_request(const struct auth_request *req, struct buf *out,
    struct vs_err *err);
/* Encode req and write it to fd (a connected stream socket, blocking or
 * not), waiting at most timeout_ms for the socket each time (< 0: no
 * limit).  VS_OK; the encoder's VS_EINVAL/VS_ELIMIT with nothing written;
 * VS_EIO on a write error or a timeout.  The frame is wiped. */
int auth_send_request(int fd, const struct auth_request *req,
    int timeout_ms, struct vs_err *err);

enum auth_result { AUTH_OK, AUTH_FAIL, AUTH_NOUSER, AUTH_DISABLED,
    AUTH_TEMP };

struct auth_reply {
	enum auth_result result;
	char user[NAME_BUF];
	char reason[256];               /* AUTH_TEMP; AUTH_FAIL optional */
	char fields[AUTH_FIELDS_MAX][AUTH_FIELD_MAX];
	size_t n_fields;
	/* The service's, never on the wire (the encoder ignores it, the
	 * parser leaves it ""): the app password the check matched, for the
	 * event and the log line (service/guard.c). */
	char app[APPPW_NAME_MAX + 1];
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
