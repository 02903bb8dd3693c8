/*
 * null_sockmap.c - a socketmap server that looks nothing up: the baseline
 * of tests/bench/socketmap.sh.
 *
 *   null_sockmap -s SOCKET [-o VALUE]
 *
 * It listens on the Unix socket SOCKET and answers every well-formed
 * socketmap request "NOTFOUND " (or "OK VALUE" with -o), a malformed one
 * "PERM reason" (and then hangs up), exactly as vmsealed frames them.  It
 * runs until SIGTERM or SIGINT.
 *
 * Why it is the baseline: it is vmsealed's socketmap path with the lookup
 * taken out, so that "vmsealed / null" measures what a lookup costs
 * (rwlock, LMDB read transaction, keyed index hash, record decryption,
 * normalization, allocations), not a difference of server design.  It
 * copies service/vmsealed.c's shape on purpose:
 *   - one thread, one epoll set, non-blocking sockets accepted with
 *     accept4(), listen backlog 512, epoll_wait() of up to 64 events with a
 *     1 s timeout and an idle-connection sweep once a second;
 *   - the same per-connection struct buf in/out; reads of 4096 bytes in a
 *     loop until EAGAIN (time(NULL) after each read, as vmsealed does);
 *   - the same framing and parsing code from lib/: netstring_decode() with
 *     SOCKMAP_REQUEST_MAX, sockmap_parse() of the payload (map name and key
 *     checked) and sockmap_reply() into c->out, then consume() by memmove;
 *   - the same flush: write() what is pending, then epoll_ctl(MOD) only when
 *     the write interest changes, to drop
 *     or add EPOLLOUT - after every batch of replies, as vmsealed does.
 * So the system calls per request are the same as vmsealed's (read until
 * EAGAIN, write, epoll_ctl, epoll_wait), and so are the parser and reply
 * formatter; only svc_socketmap()'s lookup (service/postfix.c:
 * with_txn() and the lookup_*() of lib/lookup.c) is replaced by a constant
 * answer.  There is no admin thread, no policy socket and no
 * max_connections limit (the benchmark stays far below vmsealed's 1024).
 *
 * This is a benchmark tool, never installed; it trusts no more than
 * vmsealed does (every length is capped by the same parsers).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "netstring.h"
#include "sockmap.h"
#include "vs_err.h"

/* vmsealed's CONN_IN_MAX is POLICY_REQUEST_MAX + 1024; any cap far above
 * a request does: the client sends one request at a time. */
#define CONN_IN_MAX (64u * 1024u)
#define CONN_OUT_MAX (4u * 1024u * 1024u)
#define IDLE_TIMEOUT 300

struct conn {
	bool want_write;	/* EPOLLOUT armed (as in vmsealed) */
	int fd;
	struct buf in, out;
	time_t last;
	bool closing;
	struct conn *next, *prev;
};

static int epfd, listen_fd = -1;
static struct conn *conns;
static const char *ok_value;            /* -o: "OK VALUE", else NOTFOUND */
static unsigned long lookups;

static void
die(const char *what)
{
	fprintf(stderr, "null_sockmap: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
conn_close(struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void
conn_want_write(struct conn *c, bool want)
{
	struct epoll_event ev;

	if (c->want_write == want)
		return;
	c->want_write = want;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static bool
conn_flush(struct conn *c)
{
	ssize_t w;

	while (c->out.len > 0) {
		w = write(c->fd, c->out.data, c->out.len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			conn_want_write(c, true);
			return true;
		}
		if (w <= 0) {
			conn_close(c);
			return false;
		}
		memmove(c->out.data, c->out.data + w, c->out.len - (size_t)w);
		c->out.len -= (size_t)w;
	}
	conn_want_write(c, false);
	if (c->closing) {
		conn_close(c);
		return false;
	}
	return true;
}

static void
consume(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

/* The stand-in for svc_socketmap(): parse, then a constant answer. */
static void
null_socketmap(const uint8_t *req, size_t len, struct buf *out)
{
	struct sockmap_request r;
	struct vs_err err;

	vs_err_clear(&err);
	lookups++;
	if (sockmap_parse(req, len, &r, &err) != VS_OK) {
		sockmap_reply(out, "PERM", err.msg);
		return;
	}
	if (ok_value != NULL)
		sockmap_reply(out, "OK", ok_value);
	else
		sockmap_reply(out, "NOTFOUND", NULL);
}

static void
conn_process(struct conn *c)
{
	struct vs_err err;
	const uint8_t *p;
	size_t plen, used;
	int r;

	while (c->in.len > 0 && !c->closing) {
		if (c->out.len > CONN_OUT_MAX) {
			c->closing = true;
			c->out.len = 0;
			break;
		}
		vs_err_clear(&err);
		r = netstring_decode(c->in.data, c->in.len,
		    SOCKMAP_REQUEST_MAX, &p, &plen, &used, &err);
		if (r == NETSTRING_MORE)
			break;
		if (r != NETSTRING_OK) {
			sockmap_reply(&c->out, "PERM", err.msg);
			c->closing = true;
			break;
		}
		null_socketmap(p, plen, &c->out);
		consume(&c->in, used);
	}
	conn_flush(c);
}

static void
conn_read(struct conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->in.len >= CONN_IN_MAX) {
			sockmap_reply(&c->out, "PERM", "request too long");
			c->closing = true;
			c->in.len = 0;
			conn_flush(c);
			return;
		}
		if (buf_reserve(&c->in, 4096) != 0) {
			conn_close(c);
			return;
		}
		n = read(c->fd, c->in.data + c->in.len,
		    c->in.cap - c->in.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->in.len += (size_t)n;
		c->last = time(NULL);
	}
	conn_process(c);
}

static void
accept_all(void)
{
	struct epoll_event ev;
	struct conn *c;
	int fd;

	for (;;) {
		fd = accept4(listen_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->last = time(NULL);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = conns;
		if (conns)
			conns->prev = c;
		conns = c;
	}
}

static void
expire_idle(time_t now)
{
	struct conn *c, *next;

	for (c = conns; c != NULL; c = next) {
		next = c->next;
		if (now - c->last > (time_t)IDLE_TIMEOUT)
			conn_close(c);
	}
}

/* Tags of the non-connection fds in epoll (connections carry pointers). */
#define TAG_LISTEN 1
#define TAG_SIGNAL 2

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	struct epoll_event ev, evs[64];
	const char *path = NULL;
	sigset_t sigs;
	time_t last_sweep = 0;
	int c, i, n, sigfd;

	while ((c = getopt(argc, argv, "s:o:h")) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'o': ok_value = optarg; break;
		default:
			fputs("usage: null_sockmap -s SOCKET [-o VALUE]\n",
			    stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		fputs("usage: null_sockmap -s SOCKET [-o VALUE]\n", stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if ((sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die("signalfd");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "null_sockmap: socket path too long\n");
		return 2;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		die("socket");
	if (unlink(path) != 0 && errno != ENOENT)
		die(path);
	if (bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		die(path);
	if (listen(listen_fd, 512) != 0)
		die("listen");

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_LISTEN;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
		die("epoll_ctl");
	ev.data.u64 = TAG_SIGNAL;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev) != 0)
		die("epoll_ctl");

	for (;;) {
		n = epoll_wait(epfd, evs, 64, 1000);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_LISTEN) {
				accept_all();
			} else if (tag == TAG_SIGNAL) {
				fprintf(stderr, "null_sockmap: %lu requests\n",
				    lookups);
				unlink(path);
				return 0;
			} else {
				struct conn *cn = evs[i].data.ptr;

				if (evs[i].events & (EPOLLERR | EPOLLHUP) &&
				    !(evs[i].events & EPOLLIN)) {
					conn_close(cn);
					continue;
				}
				if (evs[i].events & EPOLLOUT) {
					if (!conn_flush(cn))
						continue;
				}
				if (evs[i].events & EPOLLIN)
					conn_read(cn);
			}
		}
		if (time(NULL) != last_sweep) {
			last_sweep = time(NULL);
			expire_idle(last_sweep);
		}
	}
}
