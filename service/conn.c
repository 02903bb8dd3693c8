/*
 * conn.c - vmsealed's skeleton: listening sockets, the epoll loop and
 * buffered connections (see conn.h for the protocol and limits).
 *
 * Security: sockets are bound under umask 0777 and get their group and
 * mode before listen(); every connection's buffers are capped (in_max,
 * out_max) and the number of connections is capped per kind and in all;
 * over a cap a peer is closed, never waited for.  No peer byte is logged.
 * Out of file descriptors (EMFILE/ENFILE), a pending connection is still
 * taken - with a descriptor kept spare for it - and closed at once, so the
 * level-triggered listener does not spin the loop until one frees.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "conn.h"
#include "log.h"

#define READ_CHUNK 4096

/* epoll tags: listeners 0..CONN_KINDS_MAX-1, then the watched
 * descriptors; a connection's tag is its pointer (never that small). */
#define TAG_WATCH0 CONN_KINDS_MAX

int
conn_set_init(struct conn_set *s, struct vs_err *err)
{
	unsigned k;

	for (k = 0; k < CONN_KINDS_MAX; k++)
		s->kind[k].listen_fd = -1;
	s->list = NULL;
	s->grave = NULL;
	s->n = 0;
	s->nwatch = 0;
	s->stop = false;
	s->nofile_logged = 0;
	if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return vs_fail(err, VS_EIO, "epoll: %s", strerror(errno));
	if ((s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return vs_fail(err, VS_EIO, "/dev/null: %s", strerror(errno));
	return VS_OK;
}

static int
poll_add(struct conn_set *s, int fd, uint64_t tag, struct vs_err *err)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = tag;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return vs_fail(err, VS_EIO, "epoll_ctl: %s", strerror(errno));
	return VS_OK;
}

int
conn_listen(struct conn_set *s, unsigned k, const char *path, gid_t gid,
    mode_t mode, struct vs_err *err)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, r;

	if (k >= CONN_KINDS_MAX)
		return vs_fail(err, VS_EINVAL, "socket kind %u out of range",
		    k);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return vs_fail(err, VS_EINVAL, "socket path %s is too long",
		    path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vs_fail(err, VS_EIO, "socket: %s", strerror(errno));
	if (unlink(path) != 0 && errno != ENOENT) {
		r = vs_fail(err, VS_EIO, "cannot remove the old %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	/* Mode 0 until the configured group and mode are set: no moment
	 * with the inherited umask's permissions. */
	old = umask(0777);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r != 0) {
		r = vs_fail(err, VS_EIO, "cannot bind %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) {
		r = vs_fail(err, VS_EIO, "cannot give %s to gid %u: %s", path,
		    (unsigned)gid, strerror(errno));
		goto fail;
	}
	if (chmod(path, mode) != 0) {
		r = vs_fail(err, VS_EIO, "cannot chmod %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (listen(fd, CONN_BACKLOG) != 0) {
		r = vs_fail(err, VS_EIO, "listen %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if ((r = poll_add(s, fd, (uint64_t)k, err)) != VS_OK)
		goto fail;
	s->kind[k].listen_fd = fd;
	if (k >= s->nkinds)
		s->nkinds = k + 1;
	return VS_OK;
fail:
	close(fd);
	return r;
}

int
conn_listen_fd(struct conn_set *s, unsigned k, int fd, struct vs_err *err)
{
	int r;

	if (k >= CONN_KINDS_MAX || s->kind[k].listen_fd >= 0) {
		close(fd);
		return vs_fail(err, VS_EINVAL, "socket kind %u out of range "
		    "or taken", k);
	}
	if ((r = poll_add(s, fd, (uint64_t)k, err)) != VS_OK) {
		close(fd);
		return r;
	}
	s->kind[k].listen_fd = fd;
	if (k >= s->nkinds)
		s->nkinds = k + 1;
	return VS_OK;
}

int
conn_watch(struct conn_set *s, int fd, void (*fn)(struct conn_set *, int),
    struct vs_err *err)
{
	int r;

	if (s->nwatch == CONN_WATCH_MAX)
		return vs_fail(err, VS_ELIMIT, "more than %d watched "
		    "descriptors", CONN_WATCH_MAX);
	if ((r = poll_add(s, fd, TAG_WATCH0 + s->nwatch, err)) != VS_OK)
		return r;
	s->watch[s->nwatch].fd = fd;
	s->watch[s->nwatch].fn = fn;
	s->nwatch++;
	return VS_OK;
}

static void
count(unsigned long *c, long d)
{
	if (c != NULL)
		*c += (unsigned long)d;
}

void
conn_close(struct conn *c)
{
	struct conn_set *s = c->set;

	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->kind[c->kind].n--;
	count(s->kind[c->kind].open, -1);
	s->n--;
	c->fd = -1;
	/* Freed at the end of the round: an event of this round may still
	 * name it. */
	if (c->busy) {
		c->dead = true;         /* another thread still holds it */
	} else {
		c->next = s->grave;
		s->grave = c;
	}
}

static void
bury(struct conn_set *s)
{
	struct conn *c;

	while ((c = s->grave) != NULL) {
		s->grave = c->next;
		free(c);
	}
}

/* After end of file, stop polling for input (it would fire forever). */
static void
input_off(struct conn *c)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = c->want_write ? EPOLLOUT : 0;
	ev.data.ptr = c;
	epoll_ctl(c->set->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
want_write(struct conn *c, bool want)
{
	struct epoll_event ev;

	if (c->want_write == want)
		return;
	c->want_write = want;
	memset(&ev, 0, sizeof(ev));
	ev.events = (c->eof ? 0 : EPOLLIN) | (want ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(c->set->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what we can; false when the connection is gone. */
static bool
flush(struct conn *c)
{
	ssize_t w;

	while (c->out.len > 0) {
		w = write(c->fd, c->out.data, c->out.len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			want_write(c, true);
			return true;
		}
		if (w <= 0) {
			conn_close(c);
			return false;
		}
		memmove(c->out.data, c->out.data + w, c->out.len - (size_t)w);
		c->out.len -= (size_t)w;
		/* A sent answer may hold a mail key: nothing of it stays in
		 * the buffer's spare room. */
		sodium_memzero(c->out.data + c->out.len, (size_t)w);
	}
	want_write(c, false);
	if (c->closing) {
		conn_close(c);
		return false;
	}
	return true;
}

void
conn_consume(struct conn *c, size_t n)
{
	memmove(c->in.data, c->in.data + n, c->in.len - n);
	c->in.len -= n;
	/* A request may hold a password: wipe what was consumed. */
	sodium_memzero(c->in.data + c->in.len, n);
}

/* Answer every complete request in c->in (without writing). */
static void
process_input(struct conn *c)
{
	const struct conn_kind *k = &c->set->kind[c->kind];

	while (c->in.len > 0 && !c->closing && !c->busy) {
		if (c->out.len > c->set->out_max) {
			/* The peer sends but does not read: drop it. */
			c->closing = true;
			c->out.len = 0;
			break;
		}
		if (!k->process(c))
			break;
	}
}

void
conn_process(struct conn *c)
{
	process_input(c);
	if (c->eof && !c->busy)
		c->closing = true;
	flush(c);
}

bool
conn_unbusy(struct conn *c)
{
	c->busy = false;
	if (c->dead) {
		c->next = c->set->grave;
		c->set->grave = c;
		return false;
	}
	return true;
}

static void
conn_read(struct conn *c)
{
	const struct conn_kind *k = &c->set->kind[c->kind];
	ssize_t n;

	for (;;) {
		if (c->in.len >= c->set->in_max) {
			/* No single request of ours is this long. */
			if (k->too_long != NULL)
				k->too_long(c);
			c->closing = true;
			c->in.len = 0;
			flush(c);
			return;
		}
		if (buf_reserve(&c->in, READ_CHUNK) != 0) {
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
			/* The peer is done sending (Postfix's idle close, or a
			 * half-close after its last request): answer what is
			 * complete, then close. */
			c->eof = true;
			input_off(c);
			conn_process(c);
			return;
		}
		c->in.len += (size_t)n;
		c->last = time(NULL);
		/* Answer as we go, so pipelined requests never pile up
		 * against the input cap. */
		if (c->in.len >= READ_CHUNK) {
			process_input(c);
			if (c->closing || c->busy)
				break;
		}
	}
	conn_process(c);
}

static unsigned long
open_now(const struct conn_kind *k)
{
	if (k->handoff == NULL)
		return k->n;
	return k->open != NULL ? __atomic_load_n(k->open, __ATOMIC_RELAXED) :
	    0;
}

/* Over a limit: which one (for the log), or NULL. */
static const char *
over_limit(const struct conn_set *s, const struct conn_kind *k,
    unsigned long *open_r, unsigned long *max_r)
{
	*open_r = open_now(k);
	*max_r = k->max;
	if (*open_r >= k->max)
		return k->name;
	if (k->handoff == NULL && s->n >= s->max_total) {
		*open_r = s->n;
		*max_r = s->max_total;
		return "all kinds";
	}
	return NULL;
}

static void
refuse(struct conn_set *s, struct conn_kind *k, int fd, const char *which,
    unsigned long open, unsigned long max)
{
	time_t now = time(NULL);

	/* Postfix sees a failed lookup and answers 4xx, Dovecot a temporary
	 * failure; nothing is refused for good. */
	close(fd);
	count(k->refused, 1);
	count(s->refused, 1);
	if (now - k->refuse_logged >= 60) {
		k->refuse_logged = now;
		svc_log(LOG_WARNING, "%s: refusing new connections: %lu open, "
		    "the limit for %s is %lu", k->name, open, which, max);
	}
}

/* accept4() failed with EMFILE or ENFILE: take the pending connection
 * with the spare descriptor's place and close it (the peer sees the
 * connection closed: Postfix answers 4xx, Dovecot a temporary failure).
 * False when there was none or the spare could not be used. */
static bool
shed_one(struct conn_set *s, struct conn_kind *k)
{
	time_t now = time(NULL);
	int fd;

	if (s->spare_fd < 0 &&
	    (s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return false;       /* another thread took the last one */
	close(s->spare_fd);
	fd = accept4(k->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	count(k->refused, 1);
	count(s->refused, 1);
	if (now - s->nofile_logged >= 60) {
		s->nofile_logged = now;
		svc_log(LOG_WARNING, "%s: out of file descriptors (%lu "
		    "connections open): refusing new connections; raise the "
		    "open-file limit (LimitNOFILE) or lower max_connections",
		    k->name, s->n);
	}
	return true;
}

static void
accept_on(struct conn_set *s, unsigned kind)
{
	struct conn_kind *k = &s->kind[kind];
	struct epoll_event ev;
	unsigned long open, max;
	const char *which;
	struct conn *c;
	int fd;

	for (;;) {
		fd = accept4(k->listen_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) &&
			    shed_one(s, k))
				continue;
			return;
		}
		count(k->accepted, 1);
		if ((which = over_limit(s, k, &open, &max)) != NULL) {
			refuse(s, k, fd, which, open, max);
			continue;
		}
		if (k->handoff != NULL) {
			k->handoff(s, fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->kind = kind;
		c->set = s;
		c->last = time(NULL);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->list;
		if (s->list)
			s->list->prev = c;
		s->list = c;
		s->n++;
		k->n++;
		count(k->open, 1);
	}
}

void
conn_expire_idle(struct conn_set *s, time_t now, unsigned timeout)
{
	struct conn *c, *next;

	for (c = s->list; c != NULL; c = next) {
		next = c->next;
		if (now - c->last > (time_t)timeout)
			conn_close(c);
	}
}

int
conn_poll(struct conn_set *s, int timeout_ms, struct vs_err *err)
{
	struct epoll_event evs[CONN_EVENTS];
	int i, n;

	n = epoll_wait(s->epfd, evs, CONN_EVENTS, timeout_ms);
	if (n < 0 && errno != EINTR)
		return vs_fail(err, VS_EIO, "epoll_wait: %s", strerror(errno));
	for (i = 0; i < n && !s->stop; i++) {
		uint64_t tag = evs[i].data.u64;
		struct conn *c;

		if (tag < CONN_KINDS_MAX) {
			accept_on(s, (unsigned)tag);
			continue;
		}
		if (tag < TAG_WATCH0 + CONN_WATCH_MAX) {
			s->watch[tag - TAG_WATCH0].fn(s,
			    s->watch[tag - TAG_WATCH0].fd);
			continue;
		}
		c = evs[i].data.ptr;
		if (c->fd < 0)
			continue;       /* closed earlier in this round */
		if (evs[i].events & (EPOLLERR | EPOLLHUP) &&
		    !(evs[i].events & EPOLLIN)) {
			conn_close(c);
			continue;
		}
		if ((evs[i].events & EPOLLOUT) && !flush(c))
			continue;
		if (evs[i].events & EPOLLIN)
			conn_read(c);
	}
	bury(s);
	return VS_OK;
}
