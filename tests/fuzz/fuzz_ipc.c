/*
 * fuzz_ipc.c - libFuzzer target for lib/ipc.c's receiving side: the bytes
 * a peer sends on vmsealed's admin socket (or the service sends the
 * vmseal client).
 *
 * Input: byte 0 picks the size cap passed to ipc_recv (small caps reach
 * the limit paths; IPC_MSG_MAX is what the admin socket uses); the rest is
 * written into one end of a socketpair, which is then shut for writing,
 * and ipc_recv reads the other end (as the admin thread does: blocking
 * with a timeout; the end of file makes it return at once).  Checks:
 *  - ipc_recv agrees with a model built from netstring_decode and
 *    netstring_split: VS_ENOTFOUND for nothing at all, VS_EIO for a
 *    message cut short, the decoder's error for bad framing, VS_EINVAL
 *    for trailing bytes or an empty message, the splitter's error for bad
 *    items; on success the same items;
 *  - errors carry the code and a printable message, and leave the
 *    message empty (n 0, no arrays);
 *  - on success items point into the frame, respect the caps, and
 *    ipc_item_str / ipc_item_is behave; the items sent back with
 *    ipc_send and received again are the same (the round trip the
 *    client and the service make);
 *  - the admin conversation's table of verbs (ipc_verb_check), for a
 *    message received from either side: on success the verb is the
 *    first item, and the sender's check agrees (ipc_verb_send of the same
 *    items succeeds, and what arrives checks again to the same verb);
 *    on failure the message is VS_EINVAL or VS_ELIMIT with a printable
 *    message, msg->verb is -1, and ipc_verb_send of the same items, if
 *    the verb is known, refuses them with the same code and message and
 *    writes nothing (one table for both ends); expecting nothing always
 *    fails;
 *  - the admin session's own use of a checked "run" (service/admin.c
 *    recv_request): descriptors are numbers, secrets within
 *    IPC_SECRET_MAX, and the command line an argv of NUL-free strings.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define TIMEOUT_MS 1000

static size_t
pick_max(uint8_t b)
{
	switch (b % 6) {
	case 0: return 0;
	case 1: return 9;
	case 2: return 64;
	case 3: return 4096;
	case 4: return (size_t)b * 3;
	}
	return IPC_MSG_MAX;
}

static void
check_msg(const struct vs_err *e, int rc)
{
	const char *m;

	CHECK(e->code == rc);
	CHECK(e->msg[0] != '\0');
	for (m = e->msg; *m != '\0'; m++)
		CHECK((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f);
}

/* Write d[0..len) into a fresh socketpair, shut it, return the read end. */
static int
feed(const uint8_t *d, size_t len)
{
	int sv[2], sz = 1 << 20;
	size_t off = 0;
	ssize_t w;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	while (off < len) {
		w = write(sv[1], d + off, len - off);
		CHECK(w > 0);   /* inputs are capped well below the buffer */
		off += (size_t)w;
	}
	close(sv[1]);
	return sv[0];
}

/* What ipc_recv must answer for the whole stream d[0..len). */
struct model {
	int rc;
	const uint8_t **items;
	size_t *lens, n;
};

static void
model(const uint8_t *d, size_t len, size_t max, struct model *m)
{
	const uint8_t *p;
	size_t plen, used;
	struct vs_err e;
	int r;

	memset(m, 0, sizeof(*m));
	vs_err_clear(&e);
	r = netstring_decode(d, len, max, &p, &plen, &used, &e);
	if (r == NETSTRING_MORE) {
		m->rc = len == 0 ? VS_ENOTFOUND : VS_EIO;
		return;
	}
	if (r != NETSTRING_OK) {
		m->rc = r;
		return;
	}
	if (used != len) {
		m->rc = VS_EINVAL;
		return;
	}
	r = netstring_split(p, plen, IPC_ITEMS_MAX, max, &m->items, &m->lens,
	    &m->n, &e);
	if (r != VS_OK) {
		m->rc = r;
		return;
	}
	if (m->n == 0) {
		free(m->items);
		free(m->lens);
		m->items = NULL;
		m->lens = NULL;
		m->rc = VS_EINVAL;
		return;
	}
	m->rc = VS_OK;
}

/* The admin session's use of a checked "run" message. */
static void
as_run(const struct ipc_msg *msg)
{
	char **argv;
	size_t i, argc;

	CHECK(msg->n >= 6 && msg->n <= IPC_ITEMS_MAX);
	CHECK(msg->lens[2] <= IPC_SECRET_MAX && msg->lens[4] <= IPC_SECRET_MAX);
	(void)ipc_item_int(msg, 1);
	(void)ipc_item_int(msg, 3);
	argc = msg->n - 5;
	argv = calloc(argc + 1, sizeof(char *));
	CHECK(argv != NULL);
	for (i = 0; i < argc; i++) {
		CHECK(msg->lens[5 + i] <= IPC_ARG_MAX);
		CHECK(memchr(msg->items[5 + i], '\0', msg->lens[5 + i]) == NULL);
		argv[i] = vs_strndup((const char *)msg->items[5 + i],
		    msg->lens[5 + i]);
		CHECK(argv[i] != NULL);
		CHECK(strlen(argv[i]) == msg->lens[5 + i]);
	}
	for (i = 0; i < argc; i++)
		vs_freestr(argv[i]);
	free(argv);
}

/* Send items[1..n) as verb v from side `from` on a fresh socketpair;
 * returns ipc_verb_send's result, *fd_r the read end (closed writer). */
static int
verb_send(const struct ipc_msg *msg, int v, enum ipc_side from, int *fd_r,
    struct vs_err *err)
{
	int sv[2], sz = 1 << 20, r;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	vs_err_clear(err);
	r = ipc_verb_send(sv[1], from, v, (const void *const *)msg->items + 1,
	    msg->lens + 1, msg->n - 1, TIMEOUT_MS, err);
	close(sv[1]);
	*fd_r = sv[0];
	return r;
}

/* The verb table, from both sides. */
static void
check_verbs(struct ipc_msg *msg)
{
	static const enum ipc_side sides[2] = { IPC_CLIENT, IPC_SERVICE };
	struct vs_err err, serr;
	struct ipc_msg back;
	int k, v, rc, src, fd;
	char c;

	for (v = 0; v < IPC_NVERBS; v++)
		if (ipc_item_is(msg, 0, ipc_verb_name(v)))
			break;
	for (k = 0; k < 2; k++) {
		vs_err_clear(&err);
		rc = ipc_verb_check(msg, sides[k], 0xffffu, &err);
		if (rc != VS_OK) {
			check_msg(&err, rc);
			CHECK(rc == VS_EINVAL || rc == VS_ELIMIT);
			CHECK(msg->verb == -1);
			if (v == IPC_NVERBS)
				continue;
			/* The sender refuses it the same way, unsent. */
			src = verb_send(msg, v, sides[k], &fd, &serr);
			CHECK(src == rc);
			CHECK(strcmp(serr.msg, err.msg) == 0);
			CHECK(read(fd, &c, 1) == 0);
			close(fd);
			continue;
		}
		CHECK(msg->verb == v && v < IPC_NVERBS);
		CHECK(ipc_item_is(msg, 0, ipc_verb_name(msg->verb)));
		/* Expecting nothing refuses it; expecting it alone passes. */
		CHECK(ipc_verb_check(msg, sides[k], 0, &err) == VS_EINVAL);
		CHECK(msg->verb == -1);
		CHECK(ipc_verb_check(msg, sides[k], IPC_BIT(v), &err) == VS_OK);
		/* The other side may not send it. */
		CHECK(ipc_verb_check(msg, sides[1 - k], 0xffffu, &err) ==
		    VS_EINVAL);
		if (v == IPC_RUN)
			as_run(msg);
		/* The sender agrees, and it arrives as it was. */
		src = verb_send(msg, v, sides[k], &fd, &serr);
		CHECK(src == VS_OK);
		CHECK(ipc_verb_recv(fd, sides[k], IPC_BIT(v), TIMEOUT_MS, &back,
		    &serr) == VS_OK);
		close(fd);
		CHECK(back.verb == v && back.n == msg->n);
		ipc_msg_free(&back);
		msg->verb = v;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg msg, back;
	struct model m;
	struct vs_err err;
	const uint8_t *d;
	size_t len, max, i;
	char small[16], big[256];
	int fd, sv[2], rc;

	if (size < 1 || size > 65536)
		return 0;
	max = pick_max(data[0]);
	d = data + 1;
	len = size - 1;

	model(d, len, max, &m);
	fd = feed(d, len);
	vs_err_clear(&err);
	rc = ipc_recv(fd, max, TIMEOUT_MS, &msg, &err);
	close(fd);
	CHECK(rc == m.rc);
	if (rc != VS_OK) {
		check_msg(&err, rc);
		CHECK(msg.n == 0 && msg.items == NULL && msg.lens == NULL &&
		    msg.frame.data == NULL);
		return 0;
	}

	CHECK(err.code == VS_OK);
	CHECK(msg.n == m.n && msg.n >= 1 && msg.n <= IPC_ITEMS_MAX);
	CHECK(msg.frame.len == len && memcmp(msg.frame.data, d, len) == 0);
	for (i = 0; i < msg.n; i++) {
		CHECK(msg.lens[i] == m.lens[i] && msg.lens[i] <= max);
		CHECK(msg.items[i] == msg.frame.data + (m.items[i] - d));
		CHECK(msg.items[i] + msg.lens[i] <=
		    msg.frame.data + msg.frame.len);
		if (ipc_item_str(&msg, i, small, sizeof(small))) {
			CHECK(msg.lens[i] < sizeof(small));
			CHECK(strlen(small) == msg.lens[i]);
			CHECK(ipc_item_is(&msg, i, small));
		} else {
			CHECK(msg.lens[i] >= sizeof(small) ||
			    memchr(msg.items[i], '\0', msg.lens[i]) != NULL);
		}
		if (ipc_item_str(&msg, i, big, sizeof(big)))
			CHECK(memcmp(big, msg.items[i], msg.lens[i]) == 0);
	}
	CHECK(!ipc_item_is(&msg, msg.n, ""));
	CHECK(msg.verb == -1);          /* the framing alone says nothing */
	check_verbs(&msg);

	/* Send the items back and receive them again. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	{
		int sz = 1 << 20;

		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	vs_err_clear(&err);
	CHECK(ipc_send(sv[1], (const void *const *)msg.items, msg.lens, msg.n,
	    TIMEOUT_MS, &err) == VS_OK);
	close(sv[1]);
	vs_err_clear(&err);
	CHECK(ipc_recv(sv[0], max < len ? len : max, TIMEOUT_MS, &back,
	    &err) == VS_OK);
	close(sv[0]);
	CHECK(back.n == msg.n);
	for (i = 0; i < msg.n; i++)
		CHECK(back.lens[i] == msg.lens[i] &&
		    memcmp(back.items[i], msg.items[i], msg.lens[i]) == 0);
	ipc_msg_free(&back);
	ipc_msg_free(&msg);
	CHECK(msg.n == 0 && msg.frame.data == NULL);
	free(m.items);
	free(m.lens);
	return 0;
}
