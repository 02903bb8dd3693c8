/*
 * vmseal-client.c - the auth socket's client side for the Dovecot plugin
 * (see vmseal-client.h).  Framing and parsing are vmseal's own (ipc.c,
 * netstring.c, authproto.c), compiled into the plugin; this file adds the
 * connection handling: one reused connection per socket path, reconnect
 * when the service went away, a single retry.  Requests are encoded by
 * auth_send_request() (lib/authproto.h), the one encoder of the protocol;
 * one it refuses (a name or password over vmsealed's caps) is never sent
 * and answered as a wrong password (lookup: no such user), reason set.
 * The parsed reply, which may hold a mail private key, is wiped after it
 * is copied out (the caller wipes its struct vsc_reply).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "authproto.h"
#include "ipc.h"
#include "vmseal-client.h"

_Static_assert(NAME_BUF <= VSC_USER_MAX, "user name buffer too small");
_Static_assert(AUTH_FIELDS_MAX <= VSC_FIELDS_MAX, "too few fields");
_Static_assert(AUTH_FIELD_MAX <= VSC_FIELD_MAX, "field buffer too small");
_Static_assert(sizeof(((struct auth_reply *)0)->reason) <= VSC_REASON_MAX,
    "reason buffer too small");

struct conn {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	struct conn *next;
};

static struct conn *conns;

static struct conn *
conn_get(const char *path)
{
	struct conn *c;

	for (c = conns; c != NULL; c = c->next)
		if (strcmp(c->path, path) == 0)
			return c;
	if (strlen(path) >= sizeof(c->path))
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = -1;
	c->next = conns;
	conns = c;
	return c;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* An idle connection has nothing to read: if it has (an end of file after
 * vmsealed closed or restarted, or stray bytes), it cannot be reused. */
static bool
conn_idle_ok(struct conn *c)
{
	struct pollfd p = { c->fd, POLLIN, 0 };
	int r;

	do {
		r = poll(&p, 1, 0);
	} while (r < 0 && errno == EINTR);
	return r == 0;
}

static int
conn_open(struct conn *c, int timeout_ms, char *why, size_t why_len)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int fd, fl;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, c->path, strlen(c->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_len, "socket: %s", strerror(errno));
		return -1;
	}
	/* A Unix socket connect only waits when the listen queue is full;
	 * SO_SNDTIMEO bounds that wait. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(why, why_len, "connect(%s): %s", c->path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	/* ipc.c polls before every read and write */
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(why, why_len, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	c->fd = fd;
	return 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* XCHG_REFUSED: the request was not sent (auth_encode_request refused
 * it); the connection is still good. */
enum xchg { XCHG_OK, XCHG_IO, XCHG_PROTO, XCHG_REFUSED };

/* One request and its reply on c->fd. */
static enum xchg
exchange(struct conn *c, int timeout_ms, const struct vsc_request *req,
    struct auth_reply *ar, char *why, size_t why_len)
{
	struct auth_request q;
	struct ipc_msg msg;
	struct vs_err err;
	int r;

	vs_err_clear(&err);
	memset(&q, 0, sizeof(q));
	q.op = req->password != NULL ? AUTH_VERIFY : AUTH_LOOKUP;
	q.login = req->login;
	q.service = req->service;
	if (req->password != NULL) {
		q.password = req->password;
		q.password_len = strlen(req->password);
		q.remote_ip = req->remote_ip;
		q.local_ip = req->local_ip;
		q.secured = req->secured;
	}
	r = auth_send_request(c->fd, &q, timeout_ms, &err);
	if (r == VS_EINVAL || r == VS_ELIMIT) {
		/* Refused before anything was sent: vmsealed would refuse
		 * it too (a name or password over its cap). */
		snprintf(why, why_len, "request refused: %s", err.msg);
		return XCHG_REFUSED;
	}
	if (r != VS_OK) {
		snprintf(why, why_len, "sending to %s: %s", c->path, err.msg);
		return XCHG_IO;
	}
	r = ipc_recv(c->fd, AUTH_REPLY_MAX, timeout_ms, &msg, &err);
	if (r != VS_OK) {
		snprintf(why, why_len, "reading from %s: %s", c->path,
		    err.msg);
		return r == VS_EIO || r == VS_ENOTFOUND ? XCHG_IO : XCHG_PROTO;
	}
	r = auth_parse_reply(msg.items, msg.lens, msg.n, ar, &err);
	ipc_msg_free(&msg);
	if (r != VS_OK) {
		snprintf(why, why_len, "malformed reply from %s: %s", c->path,
		    err.msg);
		return XCHG_PROTO;
	}
	return XCHG_OK;
}

static void
copy_reply(const struct auth_reply *ar, struct vsc_reply *reply)
{
	size_t i;

	switch (ar->result) {
	case AUTH_OK:
		reply->result = VSC_OK;
		break;
	case AUTH_FAIL:
		reply->result = VSC_FAIL;
		break;
	case AUTH_NOUSER:
		reply->result = VSC_NOUSER;
		break;
	case AUTH_DISABLED:
		reply->result = VSC_DISABLED;
		break;
	case AUTH_TEMP:
	default:
		reply->result = VSC_TEMP;
		break;
	}
	snprintf(reply->user, sizeof(reply->user), "%s", ar->user);
	snprintf(reply->reason, sizeof(reply->reason), "%s",
	    ar->reason[0] != '\0' ? ar->reason :
	    reply->result == VSC_TEMP ? "temporary failure" : "");
	for (i = 0; i < ar->n_fields && i < VSC_FIELDS_MAX; i++)
		snprintf(reply->fields[i], VSC_FIELD_MAX, "%s", ar->fields[i]);
	reply->n_fields = i;
}

void
vsc_call(const char *socket_path, int timeout_ms,
    const struct vsc_request *req, struct vsc_reply *reply)
{
	struct auth_reply ar;
	struct conn *c;
	enum xchg x;
	long long t0;
	bool reused;
	int attempt;

	memset(reply, 0, sizeof(*reply));
	reply->result = VSC_ERROR;
	if ((c = conn_get(socket_path)) == NULL) {
		snprintf(reply->reason, sizeof(reply->reason),
		    "socket path too long or out of memory: %s", socket_path);
		return;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		if (c->fd >= 0 && !conn_idle_ok(c))
			conn_close(c);
		reused = c->fd >= 0;
		if (!reused && conn_open(c, timeout_ms, reply->reason,
		    sizeof(reply->reason)) < 0)
			return;
		t0 = now_ms();
		x = exchange(c, timeout_ms, req, &ar, reply->reason,
		    sizeof(reply->reason));
		if (x == XCHG_OK) {
			copy_reply(&ar, reply);
			sodium_memzero(&ar, sizeof(ar));
			return;
		}
		sodium_memzero(&ar, sizeof(ar));      /* half parsed */
		if (x == XCHG_REFUSED) {
			/* It can never succeed: a definite "no", not a
			 * temporary failure Dovecot would retry. */
			reply->result = req->password != NULL ? VSC_FAIL :
			    VSC_NOUSER;
			return;
		}
		conn_close(c);
		/* Retry once, on a fresh connection, only when a reused one
		 * broke (the service restarted since): not after a timeout,
		 * which would double the wait and the service's work, nor
		 * after a malformed reply. */
		if (x != XCHG_IO || !reused || now_ms() - t0 >= timeout_ms)
			return;
	}
}

void
vsc_close_all(void)
{
	struct conn *c;

	while ((c = conns) != NULL) {
		conns = c->next;
		conn_close(c);
		free(c);
	}
}
