/*
 * ipc.c - framed messages between vmseal's processes, and the admin
 * conversation's table of verbs (see ipc.h for both).
 *
 * Security: every byte comes from a peer: lengths are capped before
 * anything is allocated for them (netstring.c), and a message of the
 * admin conversation is used only after ipc_verb_check passed it against
 * verbs[] below, the one place that says what each message holds.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"
#include "netstring.h"

int
ipc_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
wait_fd(int fd, short events, int timeout_ms, struct vs_err *err)
{
	struct pollfd p = { fd, events, 0 };
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return vs_fail(err, VS_EIO, "poll: %s", strerror(errno));
	if (r == 0)
		return vs_fail(err, VS_EIO, "timed out waiting for the peer");
	return VS_OK;
}

int
ipc_send(int fd, const void *const *items, const size_t *lens, size_t n,
    int timeout_ms, struct vs_err *err)
{
	struct buf inner = { 0 }, outer = { 0 };
	size_t i, off = 0;
	ssize_t w;
	int r = VS_OK;

	for (i = 0; i < n && r == VS_OK; i++)
		r = netstring_encode(&inner, items[i], lens[i]);
	if (r == VS_OK)
		r = netstring_encode(&outer, inner.data, inner.len);
	buf_free(&inner);
	if (r == VS_OK && outer.len > IPC_MSG_MAX + 16)
		r = VS_ELIMIT;
	if (r != VS_OK) {
		buf_free(&outer);
		return vs_fail(err, r, "message too large");
	}
	while (off < outer.len) {
		if ((r = wait_fd(fd, POLLOUT, timeout_ms, err)) != VS_OK)
			break;
		w = write(fd, outer.data + off, outer.len - off);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0) {
			r = vs_fail(err, VS_EIO, "write: %s", strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	buf_free(&outer);
	return r;
}

int
ipc_send_strs(int fd, const char *const *items, size_t n, int timeout_ms,
    struct vs_err *err)
{
	size_t lens[IPC_ITEMS_MAX], i;

	if (n > IPC_ITEMS_MAX)
		return vs_fail(err, VS_ELIMIT, "too many items");
	for (i = 0; i < n; i++)
		lens[i] = strlen(items[i]);
	return ipc_send(fd, (const void *const *)items, lens, n, timeout_ms,
	    err);
}

int
ipc_recv(int fd, size_t max, int timeout_ms, struct ipc_msg *msg,
    struct vs_err *err)
{
	const uint8_t *payload;
	size_t plen, used;
	ssize_t rd;
	int r;

	memset(msg, 0, sizeof(*msg));
	msg->verb = -1;
	for (;;) {
		r = netstring_decode(msg->frame.data, msg->frame.len, max,
		    &payload, &plen, &used, err);
		if (r == NETSTRING_OK)
			break;
		if (r != NETSTRING_MORE)
			goto fail;
		if ((r = buf_reserve(&msg->frame, 4096)) != 0) {
			r = vs_fail(err, r, "message too large");
			goto fail;
		}
		if ((r = wait_fd(fd, POLLIN, timeout_ms, err)) != VS_OK)
			goto fail;
		rd = read(fd, msg->frame.data + msg->frame.len,
		    msg->frame.cap - msg->frame.len);
		if (rd < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (rd < 0) {
			r = vs_fail(err, VS_EIO, "read: %s", strerror(errno));
			goto fail;
		}
		if (rd == 0) {
			r = msg->frame.len == 0 ? VS_ENOTFOUND :
			    vs_fail(err, VS_EIO, "peer closed the connection "
			    "mid-message");
			if (r == VS_ENOTFOUND)
				vs_fail(err, r, "peer closed the connection");
			goto fail;
		}
		msg->frame.len += (size_t)rd;
	}
	/* One message at a time: the peer waits for our answer, so bytes
	 * after the message are a protocol error. */
	if (used != msg->frame.len) {
		r = vs_fail(err, VS_EINVAL, "unexpected bytes after a message");
		goto fail;
	}
	r = netstring_split(payload, plen, IPC_ITEMS_MAX, max, &msg->items,
	    &msg->lens, &msg->n, err);
	if (r != VS_OK)
		goto fail;
	if (msg->n == 0) {
		r = vs_fail(err, VS_EINVAL, "empty message");
		goto fail;
	}
	return VS_OK;
fail:
	ipc_msg_free(msg);
	return r;
}

int
ipc_item_str(const struct ipc_msg *msg, size_t i, char *out, size_t len)
{
	if (i >= msg->n || msg->lens[i] >= len ||
	    memchr(msg->items[i], '\0', msg->lens[i]) != NULL)
		return 0;
	memcpy(out, msg->items[i], msg->lens[i]);
	out[msg->lens[i]] = '\0';
	return 1;
}

int
ipc_item_is(const struct ipc_msg *msg, size_t i, const char *s)
{
	size_t n = strlen(s);

	return i < msg->n && msg->lens[i] == n &&
	    memcmp(msg->items[i], s, n) == 0;
}

void
ipc_msg_free(struct ipc_msg *msg)
{
	buf_free(&msg->frame);
	free(msg->items);
	free(msg->lens);
	memset(msg, 0, sizeof(*msg));
	msg->verb = -1;
}

/* --- the admin conversation's table --- */

enum ipc_kind {
	K_BYTES,        /* anything (file data, command output) */
	K_TEXT,         /* no NUL byte */
	K_INT,          /* canonical decimal that fits an int: -?[0-9]+ */
	K_BOOL,         /* "0" or "1" */
};

struct ipc_field {
	const char *name;
	enum ipc_kind kind;
	size_t max;
};

struct ipc_verb_def {
	const char *name;
	enum ipc_side from;
	size_t nfixed;                  /* items after the verb... */
	struct ipc_field fixed[4];
	size_t rest_min, rest_max;      /* ...then this many of rest */
	struct ipc_field rest;
};

#define F_INT(n) { n, K_INT, 11 }
#define F_DATA(n) { n, K_BYTES, IPC_MSG_MAX }
#define IPC_FAIL_MSG_MAX 8192

/* The one table: both ends send and receive through it. */
static const struct ipc_verb_def verbs[IPC_NVERBS] = {
	[IPC_RUN] = { "run", IPC_CLIENT, 4, {
		F_INT("PASSPHRASE-FD"),
		{ "PASSPHRASE", K_TEXT, IPC_SECRET_MAX },
		F_INT("RECOVERY-KEY-FD"),
		{ "RECOVERY-KEY", K_TEXT, IPC_SECRET_MAX } },
	    1, IPC_RUN_ARGS_MAX, { "ARG", K_TEXT, IPC_ARG_MAX } },
	[IPC_OK] = { "ok", IPC_CLIENT, 0, { { NULL, K_BYTES, 0 } },
	    0, 1, F_DATA("DATA") },
	[IPC_FAIL] = { "fail", IPC_CLIENT, 2, { F_INT("CODE"),
		{ "MSG", K_TEXT, IPC_FAIL_MSG_MAX } },
	    0, 0, { NULL, K_BYTES, 0 } },
	[IPC_SECRET] = { "secret", IPC_SERVICE, 4, { F_INT("FD"),
		{ "PROMPT", K_TEXT, IPC_PROMPT_MAX },
		{ "WHAT", K_TEXT, IPC_WHAT_MAX },
		{ "CONFIRM", K_BOOL, 1 } },
	    0, 0, { NULL, K_BYTES, 0 } },
	[IPC_HAVE_TTY] = { "have_tty", IPC_SERVICE, 0,
	    { { NULL, K_BYTES, 0 } }, 0, 0, { NULL, K_BYTES, 0 } },
	[IPC_IS_TTY] = { "is_tty", IPC_SERVICE, 1, { F_INT("FD") },
	    0, 0, { NULL, K_BYTES, 0 } },
	[IPC_INPUT] = { "input", IPC_SERVICE, 1,
	    { { "PATH", K_TEXT, IPC_PATH_MAX } },
	    0, 0, { NULL, K_BYTES, 0 } },
	[IPC_OUTPUT] = { "output", IPC_SERVICE, 2,
	    { { "PATH", K_TEXT, IPC_PATH_MAX }, F_DATA("DATA") },
	    0, 0, { NULL, K_BYTES, 0 } },
	[IPC_EXIT] = { "exit", IPC_SERVICE, 3,
	    { F_INT("CODE"), F_DATA("STDOUT"), F_DATA("STDERR") },
	    0, 0, { NULL, K_BYTES, 0 } },
};

const char *
ipc_verb_name(int v)
{
	return v >= 0 && v < IPC_NVERBS ? verbs[v].name : NULL;
}

static const char *
side_name(enum ipc_side s)
{
	return s == IPC_CLIENT ? "client" : "service";
}

/* p[0..len) a canonical decimal int: -?(0|[1-9][0-9]*), in range. */
static bool
parse_int(const uint8_t *p, size_t len, int *out)
{
	long long v = 0;
	size_t i = 0;
	bool neg = false;

	if (len > 0 && p[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len || len > 11 || (p[i] == '0' && (len - i > 1 || neg)))
		return false;
	for (; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < INT_MIN || v > INT_MAX)
		return false;
	if (out != NULL)
		*out = (int)v;
	return true;
}

/* The verb as a printable quote for errors (peer bytes: capped). */
static void
quote_verb(const uint8_t *p, size_t len, char *out, size_t size)
{
	size_t i, n = 0;

	for (i = 0; i < len && i < 16 && n + 1 < size; i++)
		out[n++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	if (len > 16 && n + 4 < size) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static int
check_items(const uint8_t *const *items, const size_t *lens, size_t n,
    enum ipc_side from, unsigned expect, int *verb_r, struct vs_err *err)
{
	const struct ipc_verb_def *d = NULL;
	char q[24], want[96];
	size_t i, args;
	int v;

	*verb_r = -1;
	if (n == 0)
		return vs_fail(err, VS_EINVAL, "empty message");
	for (v = 0; v < IPC_NVERBS; v++)
		if (lens[0] == strlen(verbs[v].name) &&
		    memcmp(items[0], verbs[v].name, lens[0]) == 0) {
			d = &verbs[v];
			break;
		}
	if (d == NULL) {
		quote_verb(items[0], lens[0], q, sizeof(q));
		return vs_fail(err, VS_EINVAL, "unknown message '%s'", q);
	}
	if (d->from != from)
		return vs_fail(err, VS_EINVAL, "message '%s' is the %s's, not "
		    "the %s's", d->name, side_name(d->from), side_name(from));
	if (!(expect & IPC_BIT(v))) {
		int w, k = 0;

		want[0] = '\0';
		for (w = 0; w < IPC_NVERBS; w++)
			if (expect & IPC_BIT(w))
				k += snprintf(want + k, sizeof(want) - (size_t)k,
				    "%s%s", k ? ", " : "", verbs[w].name);
		return vs_fail(err, VS_EINVAL, "unexpected message '%s' here "
		    "(wanted: %s)", d->name, want[0] ? want : "none");
	}
	args = n - 1;
	if (args < d->nfixed + d->rest_min || args > d->nfixed + d->rest_max) {
		if (d->rest_max == 0)
			return vs_fail(err, VS_EINVAL, "message '%s' has %zu "
			    "item(s) after the verb, wants %zu", d->name, args,
			    d->nfixed);
		return vs_fail(err, VS_EINVAL, "message '%s' has %zu item(s) "
		    "after the verb, wants %zu to %zu", d->name, args,
		    d->nfixed + d->rest_min, d->nfixed + d->rest_max);
	}
	for (i = 1; i < n; i++) {
		const struct ipc_field *f = i - 1 < d->nfixed ?
		    &d->fixed[i - 1] : &d->rest;

		if (lens[i] > f->max)
			return vs_fail(err, VS_ELIMIT, "message '%s': %s (item "
			    "%zu) is longer than %zu bytes", d->name, f->name, i,
			    f->max);
		if (f->kind != K_BYTES &&
		    memchr(items[i], '\0', lens[i]) != NULL)
			return vs_fail(err, VS_EINVAL, "message '%s': %s (item "
			    "%zu) holds a NUL byte", d->name, f->name, i);
		if (f->kind == K_INT && !parse_int(items[i], lens[i], NULL))
			return vs_fail(err, VS_EINVAL, "message '%s': %s (item "
			    "%zu) is not a decimal number", d->name, f->name, i);
		if (f->kind == K_BOOL && (lens[i] != 1 ||
		    (items[i][0] != '0' && items[i][0] != '1')))
			return vs_fail(err, VS_EINVAL, "message '%s': %s (item "
			    "%zu) is not 0 or 1", d->name, f->name, i);
	}
	*verb_r = v;
	return VS_OK;
}

int
ipc_verb_check(struct ipc_msg *msg, enum ipc_side from, unsigned expect,
    struct vs_err *err)
{
	return check_items(msg->items, msg->lens, msg->n, from, expect,
	    &msg->verb, err);
}

int
ipc_verb_recv(int fd, enum ipc_side from, unsigned expect, int timeout_ms,
    struct ipc_msg *msg, struct vs_err *err)
{
	int r;

	if ((r = ipc_recv(fd, IPC_MSG_MAX, timeout_ms, msg, err)) != VS_OK)
		return r;
	if ((r = ipc_verb_check(msg, from, expect, err)) != VS_OK)
		ipc_msg_free(msg);
	return r;
}

int
ipc_verb_send(int fd, enum ipc_side from, int v, const void *const *args,
    const size_t *lens, size_t n, int timeout_ms, struct vs_err *err)
{
	const uint8_t *it[IPC_ITEMS_MAX];
	size_t l[IPC_ITEMS_MAX], i;
	int verb, r;

	if (v < 0 || v >= IPC_NVERBS)
		return vs_fail(err, VS_EINVAL, "no such message");
	if (n >= IPC_ITEMS_MAX)
		return vs_fail(err, VS_ELIMIT, "message '%s' has too many "
		    "items", verbs[v].name);
	it[0] = (const uint8_t *)verbs[v].name;
	l[0] = strlen(verbs[v].name);
	for (i = 0; i < n; i++) {
		it[i + 1] = args[i];
		l[i + 1] = lens == NULL || lens[i] == (size_t)-1 ?
		    strlen((const char *)args[i]) : lens[i];
	}
	/* The sender checks what the receiver will: a bug here fails on
	 * this side, with the table's words. */
	if ((r = check_items(it, l, n + 1, from, IPC_BIT(v), &verb, err)) !=
	    VS_OK)
		return r;
	return ipc_send(fd, (const void *const *)it, l, n + 1, timeout_ms,
	    err);
}

int
ipc_item_int(const struct ipc_msg *msg, size_t i)
{
	int v = 0;

	if (i >= msg->n || !parse_int(msg->items[i], msg->lens[i], &v))
		return 0;
	return v;
}
