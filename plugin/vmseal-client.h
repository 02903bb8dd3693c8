/*
 * vmseal-client.h - the auth socket's client side, for the Dovecot auth
 * plugin (plugin/authdb-vmseal.c).
 *
 * This header is the plugin's only window on vmseal's core library: it
 * names no vmseal type (lib/authproto.h has a struct auth_request, and so
 * has Dovecot's auth-request.h; the two cannot meet in one file) and no
 * Dovecot type.
 *
 * Connections: one per socket path per process, opened on first use and
 * reused for every later request (Dovecot's auth-worker processes run one
 * request at a time, so no locking).  A connection that the service closed
 * while idle is noticed before a request is sent; a request that fails on a
 * reused connection for any reason but a timeout is sent once more on a
 * fresh connection (vmsealed was restarted).  All I/O is blocking with a
 * timeout, which is right in an auth-worker process.
 *
 * Security: the password is only pointed to; the request frames that carry
 * it are wiped when freed (ipc.c, buf.c).  A reply may hold a mail private
 * key (the field mail_crypt_global_private_key, after a verified password):
 * the caller wipes its struct vsc_reply when done.
 */
#ifndef VS_VMSEAL_CLIENT_H
#define VS_VMSEAL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

enum vsc_result {
	VSC_OK,                 /* user and fields are set */
	VSC_FAIL,               /* wrong password (or a verify request
	                           over vmsealed's caps, never sent:
	                           reason is set) */
	VSC_NOUSER,             /* no such user (or a lookup over the
	                           caps, never sent: reason is set) */
	VSC_DISABLED,           /* the user may not log in */
	VSC_TEMP,               /* the service said "later": reason is set */
	VSC_ERROR,              /* unreachable, timed out or malformed:
	                           reason is set */
};

#define VSC_USER_MAX 640
#define VSC_REASON_MAX 768
#define VSC_FIELDS_MAX 16
#define VSC_FIELD_MAX 1024

struct vsc_reply {
	enum vsc_result result;
	char user[VSC_USER_MAX];
	char reason[VSC_REASON_MAX];
	/* "name=value", as sent by the service (no NUL, TAB, LF or other
	 * control character: checked by the parser) */
	char fields[VSC_FIELDS_MAX][VSC_FIELD_MAX];
	size_t n_fields;
};

struct vsc_request {
	const char *login;
	const char *password;   /* NULL: a lookup */
	const char *service;    /* may be "" */
	const char *remote_ip;  /* may be "" */
	const char *local_ip;   /* may be "" */
	bool secured;
};

/* Ask the service at socket_path (timeout_ms for connecting and for each
 * wait).  The result is in reply->result; never fails otherwise. */
void vsc_call(const char *socket_path, int timeout_ms,
    const struct vsc_request *req, struct vsc_reply *reply);

/* Close every connection of this process (module deinit). */
void vsc_close_all(void);

#endif
