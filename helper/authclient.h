/*
 * authclient.h - the client side of vmsealed's auth socket shared by the
 * small programs that ask it for one password check: vmseal-authcheck
 * (helper/authcheck.c) and vmseal-checkpassword (helper/checkpassword.c)
 * take their socket path, their start-up hardening and their
 * connect/send/receive/parse sequence from here.
 *
 * The protocol is lib/authproto.h's, built and parsed there; this file
 * only strings the steps together and says which kind of outcome a
 * failure is: a request vmsealed would refuse (a definite "no": it can
 * never succeed) is kept apart from vmsealed being unreachable or giving
 * no usable answer (a temporary failure), so a failed lookup is never
 * reported as a wrong password.
 *
 * Security: the caller's password (req->password, req->password_len) is
 * wiped in place as soon as the request has been written, and on every
 * path that does not write it; the request frame is wiped by
 * auth_send_request().  A reply may hold a mail private key: the caller
 * wipes its struct auth_reply (sodium_memzero) when done.  Messages in a
 * struct vs_err never hold the password.
 */
#ifndef VS_AUTHCLIENT_H
#define VS_AUTHCLIENT_H

#include <stddef.h>

#include "authproto.h"
#include "vs_err.h"

/* How long to wait for the socket when sending, and for the reply. */
#define AUTHCLIENT_TIMEOUT_MS 30000

enum authclient_outcome {
	AUTHCLIENT_ANSWER,      /* rep holds vmsealed's answer */
	AUTHCLIENT_REFUSED,     /* not sent: vmsealed's caps refuse it */
	AUTHCLIENT_UNREACHABLE, /* no connection to the socket */
	AUTHCLIENT_BROKEN       /* sent, but no usable reply (I/O, timeout,
	                         * a reply that does not parse) */
};

/* Core dumps off, not dumpable, umask 077: for a process that will hold
 * a password. */
void authclient_harden(void);

/* The auth socket's path into out (size bytes): socket_opt when given,
 * else socket_dir/auth from conf_path, or from the default configuration
 * (whose absence is no error: the built-in socket_dir).  VS_OK, or an
 * error with a message (a named configuration that is missing or does
 * not parse, a path too long). */
int authclient_socket_path(const char *socket_opt, const char *conf_path,
    char *out, size_t size, struct vs_err *err);

/* Connect to sockpath, send req, wipe req->password[0..password_len)
 * (the caller's buffer, written to), wait for the reply and parse it into
 * rep.  Returns an enum authclient_outcome; for anything but
 * AUTHCLIENT_ANSWER err says why. */
int authclient_ask(const char *sockpath, const struct auth_request *req,
    int timeout_ms, struct auth_reply *rep, struct vs_err *err);

#endif
