/*
 * ipc.c - framed messages between vmseal's processes (see ipc.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
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
}
