/*
 * test_ipc.c - unit tests for lib/ipc.c: the framing (ipc_send/ipc_recv
 * over a socketpair: round trip, end of file, truncated, trailing bytes,
 * empty, caps, timeout) and the admin conversation's table of verbs
 * (ipc_verb_recv/ipc_verb_send): every verb good, wrong arity both ways,
 * every capped item one byte over, kinds (number, 0/1, NUL in text),
 * unknown verb, a verb from the wrong side or at the wrong moment; the
 * sender refuses what the receiver would, and writes nothing then.
 * Errors are checked by code and message, and must be printable and
 * never quote an item's content (only an unknown verb, cut short).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipc.h"
#include "netstring.h"

#define TMO 2000

static void
check_printable(const char *msg)
{
	for (const char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			fail_msg("non-printable byte in message \"%s\"", msg);
}

static void
pair(int sv[2])
{
	int sz = 1 << 20;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/* Write raw bytes into a fresh socketpair, shut it; the read end. */
static int
feed(const void *d, size_t len)
{
	int sv[2];
	size_t off = 0;
	ssize_t w;

	pair(sv);
	while (off < len) {
		w = write(sv[1], (const uint8_t *)d + off, len - off);
		assert_true(w > 0);
		off += (size_t)w;
	}
	close(sv[1]);
	return sv[0];
}

/* No byte waiting on fd (the other end still open). */
static void
assert_nothing_sent(int fd)
{
	char c;

	assert_int_equal(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/* --- items of a case: a string, or "@N" = N bytes 'x', or "@N0" = N
 * bytes with a NUL in the middle (N up to 99999) --- */

struct item {
	const char *s;
	size_t len;             /* 0 with s: strlen */
};

static uint8_t *
make_item(const struct item *it, size_t *len_r)
{
	uint8_t *p;
	size_t n;

	if (it->s[0] == '@') {
		n = strtoul(it->s + 1, NULL, 10);
		p = malloc(n + 1);
		assert_non_null(p);
		memset(p, 'x', n);
		if (it->s[strlen(it->s) - 1] == 'z')
			p[n / 2] = '\0';
		*len_r = n;
		return p;
	}
	n = it->len ? it->len : strlen(it->s);
	p = malloc(n + 1);
	assert_non_null(p);
	memcpy(p, it->s, n);
	*len_r = n;
	return p;
}

/* The whole message: netstring of the items' netstrings. */
static void
frame(const struct item *items, size_t n, struct buf *out)
{
	struct buf inner = { 0 };
	size_t i, l;
	uint8_t *p;

	for (i = 0; i < n; i++) {
		p = make_item(&items[i], &l);
		assert_int_equal(netstring_encode(&inner, p, l), 0);
		free(p);
	}
	assert_int_equal(netstring_encode(out, inner.data, inner.len), 0);
	buf_free(&inner);
}

#define MAXI 8
#define A IPC_EXPECT_ANSWER
#define Q IPC_EXPECT_REQUEST
#define R IPC_BIT(IPC_RUN)
#define ALL 0xffffu

struct vcase {
	const char *what;
	enum ipc_side from;
	unsigned expect;
	size_t n;
	struct item items[MAXI];
	int rc;
	int verb;               /* on success */
	const char *errsub;
};

#define I(...) { __VA_ARGS__ }
#define GOOD(w, from, ex, n, items, verb) \
	{ w, from, ex, n, items, VS_OK, verb, NULL }
#define BAD(w, from, ex, n, items, rc, sub) \
	{ w, from, ex, n, items, rc, -1, sub }
#define C IPC_CLIENT
#define S IPC_SERVICE

static const struct vcase vcases[] = {
	/* every verb, good */
	GOOD("run, no secrets", C, R, 6,
	    I({ "run", 0 }, { "-1", 0 }, { "", 0 }, { "-1", 0 }, { "", 0 }, { "status", 0 }),
	    IPC_RUN),
	GOOD("run, both secrets, many args", C, R, 8,
	    I({ "run", 0 }, { "3", 0 }, { "pass phrase", 0 }, { "4", 0 }, { "@1024", 0 },
	    { "user", 0 }, { "add", 0 }, { "@65536", 0 }), IPC_RUN),
	GOOD("ok", C, A, 1, I({ "ok", 0 }), IPC_OK),
	GOOD("ok DATA with NULs", C, A, 2, I({ "ok", 0 }, { "a\0b", 3 }),
	    IPC_OK),
	GOOD("fail", C, A, 3, I({ "fail", 0 }, { "-6", 0 }, { "no such file", 0 }),
	    IPC_FAIL),
	GOOD("secret", S, Q, 5, I({ "secret", 0 }, { "-1", 0 }, { "Passphrase: ", 0 },
	    { "passphrase", 0 }, { "0", 0 }), IPC_SECRET),
	GOOD("secret, caps", S, Q, 5, I({ "secret", 0 }, { "2147483647", 0 },
	    { "@255", 0 }, { "@63", 0 }, { "1", 0 }), IPC_SECRET),
	GOOD("have_tty", S, Q, 1, I({ "have_tty", 0 }), IPC_HAVE_TTY),
	GOOD("is_tty", S, Q, 2, I({ "is_tty", 0 }, { "0", 0 }), IPC_IS_TTY),
	GOOD("input", S, Q, 2, I({ "input", 0 }, { "@4095", 0 }), IPC_INPUT),
	GOOD("output", S, Q, 3, I({ "output", 0 }, { "-", 0 }, { "\0\0", 2 }),
	    IPC_OUTPUT),
	GOOD("exit", S, Q, 4, I({ "exit", 0 }, { "0", 0 }, { "out\n", 0 }, { "", 0 }),
	    IPC_EXIT),
	GOOD("exit, negative code", S, Q, 4,
	    I({ "exit", 0 }, { "-2147483648", 0 }, { "", 0 }, { "", 0 }), IPC_EXIT),

	/* wrong arity */
	BAD("run without args", C, R, 5, I({ "run", 0 }, { "-1", 0 }, { "", 0 },
	    { "-1", 0 }, { "", 0 }), VS_EINVAL,
	    "message 'run' has 4 item(s) after the verb, wants 5 to 255"),
	BAD("run, old form", C, R, 2, I({ "run", 0 }, { "status", 0 }), VS_EINVAL,
	    "message 'run' has 1 item(s) after the verb, wants 5 to 255"),
	BAD("ok with two", C, A, 3, I({ "ok", 0 }, { "1", 0 }, { "1", 0 }), VS_EINVAL,
	    "message 'ok' has 2 item(s) after the verb, wants 0 to 1"),
	BAD("fail short", C, A, 2, I({ "fail", 0 }, { "-6", 0 }), VS_EINVAL,
	    "message 'fail' has 1 item(s) after the verb, wants 2"),
	BAD("fail, extra item", C, A, 4, I({ "fail", 0 }, { "-6", 0 }, { "m", 0 },
	    { "x", 0 }), VS_EINVAL,
	    "message 'fail' has 3 item(s) after the verb, wants 2"),
	BAD("secret short", S, Q, 4, I({ "secret", 0 }, { "-1", 0 }, { "P: ", 0 },
	    { "x", 0 }), VS_EINVAL,
	    "message 'secret' has 3 item(s) after the verb, wants 4"),
	BAD("secret, extra item", S, Q, 6, I({ "secret", 0 }, { "-1", 0 }, { "", 0 },
	    { "x", 0 }, { "0", 0 }, { "", 0 }), VS_EINVAL,
	    "message 'secret' has 5 item(s) after the verb, wants 4"),
	BAD("have_tty with an item", S, Q, 2, I({ "have_tty", 0 }, { "0", 0 }),
	    VS_EINVAL, "message 'have_tty' has 1 item(s) after the verb, "
	    "wants 0"),
	BAD("is_tty bare", S, Q, 1, I({ "is_tty", 0 }), VS_EINVAL,
	    "message 'is_tty' has 0 item(s) after the verb, wants 1"),
	BAD("input, extra item", S, Q, 3, I({ "input", 0 }, { "a", 0 }, { "b", 0 }),
	    VS_EINVAL, "message 'input' has 2 item(s) after the verb, wants 1"),
	BAD("output short", S, Q, 2, I({ "output", 0 }, { "f", 0 }), VS_EINVAL,
	    "message 'output' has 1 item(s) after the verb, wants 2"),
	BAD("exit short", S, Q, 3, I({ "exit", 0 }, { "0", 0 }, { "", 0 }), VS_EINVAL,
	    "message 'exit' has 2 item(s) after the verb, wants 3"),

	/* one byte over a cap */
	BAD("run, passphrase over 1024", C, R, 6, I({ "run", 0 }, { "3", 0 },
	    { "@1025", 0 }, { "-1", 0 }, { "", 0 }, { "unseal", 0 }), VS_ELIMIT,
	    "message 'run': PASSPHRASE (item 2) is longer than 1024 bytes"),
	BAD("run, recovery key over 1024", C, R, 6, I({ "run", 0 }, { "-1", 0 },
	    { "", 0 }, { "4", 0 }, { "@1025", 0 }, { "unseal", 0 }), VS_ELIMIT,
	    "RECOVERY-KEY (item 4) is longer than 1024 bytes"),
	BAD("run, argument over 64 KiB", C, R, 7, I({ "run", 0 }, { "-1", 0 },
	    { "", 0 }, { "-1", 0 }, { "", 0 }, { "user", 0 }, { "@65537", 0 }), VS_ELIMIT,
	    "message 'run': ARG (item 6) is longer than 65536 bytes"),
	BAD("fail, message over 8192", C, A, 3, I({ "fail", 0 }, { "-6", 0 },
	    { "@8193", 0 }), VS_ELIMIT, "MSG (item 2) is longer than 8192"),
	BAD("secret, prompt over 255", S, Q, 5, I({ "secret", 0 }, { "-1", 0 },
	    { "@256", 0 }, { "x", 0 }, { "0", 0 }), VS_ELIMIT,
	    "message 'secret': PROMPT (item 2) is longer than 255 bytes"),
	BAD("secret, what over 63", S, Q, 5, I({ "secret", 0 }, { "-1", 0 },
	    { "", 0 }, { "@64", 0 }, { "0", 0 }), VS_ELIMIT,
	    "WHAT (item 3) is longer than 63 bytes"),
	BAD("input, path over 4095", S, Q, 2, I({ "input", 0 }, { "@4096", 0 }),
	    VS_ELIMIT, "message 'input': PATH (item 1) is longer than 4095"),
	BAD("output, path over 4095", S, Q, 3, I({ "output", 0 }, { "@4096", 0 },
	    { "", 0 }), VS_ELIMIT, "PATH (item 1) is longer than 4095"),
	BAD("secret, fd of 12 digits", S, Q, 5, I({ "secret", 0 },
	    { "123456789012", 0 }, { "", 0 }, { "x", 0 }, { "0", 0 }), VS_ELIMIT,
	    "FD (item 1) is longer than 11 bytes"),

	/* kinds */
	BAD("run, fd not a number", C, R, 6, I({ "run", 0 }, { "x", 0 }, { "", 0 },
	    { "-1", 0 }, { "", 0 }, { "status", 0 }), VS_EINVAL,
	    "message 'run': PASSPHRASE-FD (item 1) is not a decimal number"),
	BAD("secret, fd with a leading zero", S, Q, 5, I({ "secret", 0 },
	    { "03", 0 }, { "", 0 }, { "x", 0 }, { "0", 0 }), VS_EINVAL,
	    "FD (item 1) is not a decimal number"),
	BAD("secret, fd -0", S, Q, 5, I({ "secret", 0 }, { "-0", 0 }, { "", 0 },
	    { "x", 0 }, { "0", 0 }), VS_EINVAL, "FD (item 1) is not a decimal"),
	BAD("secret, fd over INT_MAX", S, Q, 5, I({ "secret", 0 },
	    { "2147483648", 0 }, { "", 0 }, { "x", 0 }, { "0", 0 }), VS_EINVAL,
	    "FD (item 1) is not a decimal number"),
	BAD("is_tty, empty fd", S, Q, 2, I({ "is_tty", 0 }, { "", 0 }), VS_EINVAL,
	    "message 'is_tty': FD (item 1) is not a decimal number"),
	BAD("exit, code with a sign only", S, Q, 4, I({ "exit", 0 }, { "-", 0 },
	    { "", 0 }, { "", 0 }), VS_EINVAL, "CODE (item 1) is not a decimal"),
	BAD("secret, confirm 2", S, Q, 5, I({ "secret", 0 }, { "-1", 0 }, { "", 0 },
	    { "x", 0 }, { "2", 0 }), VS_EINVAL,
	    "message 'secret': CONFIRM (item 4) is not 0 or 1"),
	BAD("secret, confirm empty", S, Q, 5, I({ "secret", 0 }, { "-1", 0 },
	    { "", 0 }, { "x", 0 }, { "", 0 }), VS_EINVAL, "CONFIRM (item 4) is not 0 or"),
	BAD("run, NUL in an argument", C, R, 6, I({ "run", 0 }, { "-1", 0 },
	    { "", 0 }, { "-1", 0 }, { "", 0 }, { "stat\0us", 7 }), VS_EINVAL,
	    "message 'run': ARG (item 5) holds a NUL byte"),
	BAD("run, NUL in the passphrase", C, R, 6, I({ "run", 0 }, { "3", 0 },
	    { "a\0b", 3 }, { "-1", 0 }, { "", 0 }, { "unseal", 0 }), VS_EINVAL,
	    "PASSPHRASE (item 2) holds a NUL byte"),
	BAD("input, NUL in the path", S, Q, 2, I({ "input", 0 }, { "@40z", 0 }),
	    VS_EINVAL, "message 'input': PATH (item 1) holds a NUL byte"),

	/* unknown verb, wrong side, wrong moment */
	BAD("unknown verb", C, ALL, 1, I({ "bogus", 0 }), VS_EINVAL,
	    "unknown message 'bogus'"),
	BAD("unknown verb, long", S, ALL, 1, I({ "@40", 0 }), VS_EINVAL,
	    "unknown message 'xxxxxxxxxxxxxxxx...'"),
	BAD("unknown verb, binary", S, ALL, 2, I({ "r\x01n\xff", 4 },
	    { "x", 0 }), VS_EINVAL, "unknown message 'r?n?'"),
	BAD("empty verb", C, ALL, 1, I({ "", 0 }), VS_EINVAL,
	    "unknown message ''"),
	BAD("verb with a NUL", C, ALL, 1, I({ "run\0", 4 }), VS_EINVAL,
	    "unknown message 'run?'"),
	BAD("verb in capitals", C, ALL, 1, I({ "RUN", 0 }), VS_EINVAL,
	    "unknown message 'RUN'"),
	BAD("run from the service", S, ALL, 6, I({ "run", 0 }, { "-1", 0 },
	    { "", 0 }, { "-1", 0 }, { "", 0 }, { "x", 0 }), VS_EINVAL,
	    "message 'run' is the client's, not the service's"),
	BAD("secret from the client", C, ALL, 5, I({ "secret", 0 }, { "-1", 0 },
	    { "", 0 }, { "x", 0 }, { "0", 0 }), VS_EINVAL,
	    "message 'secret' is the service's, not the client's"),
	BAD("run where an answer is awaited", C, A, 1,
	    I({ "run", 0 }), VS_EINVAL,
	    "unexpected message 'run' here (wanted: ok, fail)"),
	BAD("ok as the first message", C, R, 1, I({ "ok", 0 }), VS_EINVAL,
	    "unexpected message 'ok' here (wanted: run)"),
	BAD("a request where nothing is expected", S, 0, 1,
	    I({ "have_tty", 0 }), VS_EINVAL, "(wanted: none)"),
};

static void
test_verb_table(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		struct buf f = { 0 };
		struct ipc_msg m;
		struct vs_err err;
		int fd, rc;

		frame(c->items, c->n, &f);
		fd = feed(f.data, f.len);
		vs_err_clear(&err);
		rc = ipc_verb_recv(fd, c->from, c->expect, TMO, &m, &err);
		close(fd);
		if (rc != c->rc)
			fail_msg("case %zu (%s): rc %d, want %d (%s)", i,
			    c->what, rc, c->rc, err.msg);
		if (rc == VS_OK) {
			assert_int_equal(m.verb, c->verb);
			assert_int_equal(m.n, c->n);
			for (k = 0; k < c->n; k++) {
				size_t l;
				uint8_t *p = make_item(&c->items[k], &l);

				assert_int_equal(m.lens[k], l);
				assert_memory_equal(m.items[k], p, l);
				free(p);
			}
			ipc_msg_free(&m);
		} else {
			assert_int_equal(err.code, c->rc);
			if (strstr(err.msg, c->errsub) == NULL)
				fail_msg("case %zu (%s): error \"%s\" lacks "
				    "\"%s\"", i, c->what, err.msg, c->errsub);
			check_printable(err.msg);
			/* Freed (wiped) on failure. */
			assert_int_equal(m.n, 0);
			assert_null(m.frame.data);
			assert_int_equal(m.verb, -1);
		}
		buf_free(&f);
	}
}

/* The sender checks with the same table: what the receiver refuses is
 * never sent, with the same message; what it takes arrives intact. */
static void
test_verb_send_same_table(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		const void *args[MAXI];
		uint8_t *bufs[MAXI];
		size_t lens[MAXI];
		struct ipc_msg m;
		struct vs_err err;
		int v, sv[2], rc;

		/* The moment is the receiver's business (the sender names
		 * its verb); only known verbs can be sent: find this one. */
		if (c->errsub != NULL && strstr(c->errsub, "wanted") != NULL)
			continue;
		for (v = 0; v < IPC_NVERBS; v++)
			if (c->items[0].len == 0 &&
			    strcmp(c->items[0].s, ipc_verb_name(v)) == 0)
				break;
		if (v == IPC_NVERBS)
			continue;
		for (k = 1; k < c->n; k++) {
			bufs[k] = make_item(&c->items[k], &lens[k - 1]);
			args[k - 1] = bufs[k];
		}
		pair(sv);
		vs_err_clear(&err);
		rc = ipc_verb_send(sv[1], c->from, v, args, lens, c->n - 1, TMO,
		    &err);
		/* A verb from the other side is the sender's bug too. */
		if (c->rc == VS_OK) {
			if (rc != VS_OK)
				fail_msg("case %zu (%s): send refused: %s", i,
				    c->what, err.msg);
			close(sv[1]);
			assert_int_equal(ipc_verb_recv(sv[0], c->from, ALL, TMO,
			    &m, &err), VS_OK);
			assert_int_equal(m.verb, v);
			assert_int_equal(m.n, c->n);
			for (k = 1; k < c->n; k++) {
				assert_int_equal(m.lens[k], lens[k - 1]);
				assert_memory_equal(m.items[k], bufs[k],
				    lens[k - 1]);
			}
			ipc_msg_free(&m);
		} else {
			if (rc != c->rc || strstr(err.msg, c->errsub) == NULL)
				fail_msg("case %zu (%s): send gave %d \"%s\", "
				    "want %d \"%s\"", i, c->what, rc, err.msg,
				    c->rc, c->errsub);
			assert_nothing_sent(sv[0]);
			close(sv[1]);
		}
		close(sv[0]);
		for (k = 1; k < c->n; k++)
			free(bufs[k]);
	}
}

static void
test_verb_send_errors(void **state)
{
	struct vs_err err;
	const void *args[1] = { "x" };
	int sv[2];

	(void)state;
	pair(sv);
	vs_err_clear(&err);
	assert_int_equal(ipc_verb_send(sv[1], IPC_CLIENT, IPC_NVERBS, args,
	    NULL, 1, TMO, &err), VS_EINVAL);
	assert_string_equal(err.msg, "no such message");
	assert_int_equal(ipc_verb_send(sv[1], IPC_CLIENT, -1, args, NULL, 1,
	    TMO, &err), VS_EINVAL);
	/* lens NULL and (size_t)-1 mean strlen. */
	{
		const void *a[2] = { "-6", "no" };
		size_t l[2] = { (size_t)-1, 2 };
		struct ipc_msg m;

		assert_int_equal(ipc_verb_send(sv[1], IPC_CLIENT, IPC_FAIL, a,
		    l, 2, TMO, &err), VS_OK);
		assert_int_equal(ipc_verb_recv(sv[0], IPC_CLIENT, A, TMO, &m,
		    &err), VS_OK);
		assert_int_equal(m.verb, IPC_FAIL);
		assert_int_equal(ipc_item_int(&m, 1), -6);
		assert_true(ipc_item_is(&m, 2, "no"));
		/* Not a number, or out of range: 0. */
		assert_int_equal(ipc_item_int(&m, 2), 0);
		assert_int_equal(ipc_item_int(&m, 3), 0);
		ipc_msg_free(&m);
	}
	assert_nothing_sent(sv[0]);
	close(sv[0]);
	close(sv[1]);
	assert_null(ipc_verb_name(IPC_NVERBS));
	assert_string_equal(ipc_verb_name(IPC_EXIT), "exit");
}

/* --- framing (ipc_send / ipc_recv) --- */

struct fcase {
	const char *what;
	const char *in;
	size_t len;
	size_t max;
	int rc;
	const char *errsub;
};

#define F(w, in, max, rc, sub) { w, in, sizeof(in) - 1, max, rc, sub }

static const struct fcase fcases[] = {
	F("nothing at all", "", 1024, VS_ENOTFOUND, "peer closed the connection"),
	F("truncated frame", "10:3:run,", 1024, VS_EIO,
	    "closed the connection mid-message"),
	F("truncated length", "1", 1024, VS_EIO, "mid-message"),
	F("trailing bytes", "6:3:run,,x", 1024, VS_EINVAL,
	    "unexpected bytes after a message"),
	F("two messages at once", "6:3:run,,6:3:run,,", 1024, VS_EINVAL,
	    "unexpected bytes after a message"),
	F("empty message", "0:,", 1024, VS_EINVAL, "empty message"),
	F("inner framing short", "5:3:run,", 1024, VS_EINVAL,
	    "item 1: truncated netstring at the end of the message"),
	F("inner garbage", "4:abcd,", 1024, VS_EINVAL,
	    "item 1: netstring does not start with a digit"),
	F("over the cap", "11:2:ab,2:cd,,", 10, VS_ELIMIT, "above the limit"),
	F("not a netstring", "hello", 1024, VS_EINVAL,
	    "does not start with a digit"),
	F("outer comma missing", "6:3:run,;", 1024, VS_EINVAL,
	    "not followed by ','"),
};

static void
test_frame_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		const struct fcase *c = &fcases[i];
		struct ipc_msg m;
		struct vs_err err;
		int fd, rc;

		fd = feed(c->in, c->len);
		vs_err_clear(&err);
		rc = ipc_recv(fd, c->max, TMO, &m, &err);
		close(fd);
		if (rc != c->rc || strstr(err.msg, c->errsub) == NULL)
			fail_msg("case %zu (%s): %d \"%s\", want %d \"%s\"", i,
			    c->what, rc, err.msg, c->rc, c->errsub);
		assert_true(err.msg[0] != '\0');
		check_printable(err.msg);
		assert_int_equal(m.n, 0);
		assert_null(m.items);
		assert_null(m.frame.data);
	}
}

static void
test_frame_roundtrip(void **state)
{
	const void *items[4] = { "ok", "", "a\0b", NULL };
	size_t lens[4] = { 2, 0, 3, 100000 };
	uint8_t *big = malloc(100000);
	struct ipc_msg m;
	struct vs_err err;
	char small[4];
	int sv[2];

	(void)state;
	assert_non_null(big);
	memset(big, 'z', 100000);
	items[3] = big;
	pair(sv);
	vs_err_clear(&err);
	assert_int_equal(ipc_send(sv[1], items, lens, 4, TMO, &err), VS_OK);
	assert_int_equal(ipc_recv(sv[0], IPC_MSG_MAX, TMO, &m, &err), VS_OK);
	assert_int_equal(m.n, 4);
	assert_int_equal(m.verb, -1);   /* the framing alone says nothing */
	assert_true(ipc_item_is(&m, 0, "ok"));
	assert_false(ipc_item_is(&m, 0, "o"));
	assert_false(ipc_item_is(&m, 4, "ok"));
	assert_true(ipc_item_str(&m, 1, small, sizeof(small)));
	assert_string_equal(small, "");
	assert_false(ipc_item_str(&m, 2, small, sizeof(small)));  /* NUL */
	assert_false(ipc_item_str(&m, 3, small, sizeof(small)));  /* long */
	assert_int_equal(m.lens[3], 100000);
	assert_memory_equal(m.items[3], big, 100000);
	ipc_msg_free(&m);
	assert_int_equal(m.n, 0);

	/* ipc_send_strs, and a message over the cap is refused unsent. */
	{
		const char *s[2] = { "have_tty", "x" };

		assert_int_equal(ipc_send_strs(sv[1], s, 2, TMO, &err), VS_OK);
		assert_int_equal(ipc_recv(sv[0], 64, TMO, &m, &err), VS_OK);
		assert_true(ipc_item_is(&m, 1, "x"));
		ipc_msg_free(&m);
	}
	/* A receiver with a small cap refuses a bigger message. */
	assert_int_equal(ipc_send(sv[1], items, lens, 4, TMO, &err), VS_OK);
	assert_int_equal(ipc_recv(sv[0], 1000, TMO, &m, &err), VS_ELIMIT);
	assert_non_null(strstr(err.msg, "above the limit of 1000"));
	close(sv[0]);
	close(sv[1]);
	free(big);
}

static void
test_frame_timeout(void **state)
{
	struct ipc_msg m;
	struct vs_err err;
	int sv[2];

	(void)state;
	pair(sv);
	vs_err_clear(&err);
	assert_int_equal(write(sv[1], "6:3:r", 5), 5);
	assert_int_equal(ipc_recv(sv[0], 1024, 50, &m, &err), VS_EIO);
	assert_string_equal(err.msg, "timed out waiting for the peer");
	assert_int_equal(m.n, 0);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verb_table),
		cmocka_unit_test(test_verb_send_same_table),
		cmocka_unit_test(test_verb_send_errors),
		cmocka_unit_test(test_frame_table),
		cmocka_unit_test(test_frame_roundtrip),
		cmocka_unit_test(test_frame_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
