/*
 * conn.h - vmsealed's skeleton: listening Unix sockets, one epoll loop
 * and buffered non-blocking connections of a few kinds (socketmap, policy,
 * auth; the admin socket's connections are handed over to its threads).
 * Also linked by tests/bench/null_sockmap, so that the benchmark's
 * baseline runs the same loop as the service.
 *
 * Protocol: the caller fills a struct conn_set (its kinds: callbacks and
 * limits), calls conn_set_init(), conn_listen() per kind and conn_watch()
 * for its own descriptors (signalfd, eventfd), then conn_poll() in a loop
 * and conn_expire_idle() once a second.  All of it runs on one thread.
 * For each connection, input is read until EAGAIN; whenever 4096 bytes or
 * more wait, and after each read, the kind's process() answers complete
 * requests one at a time (appending to c->out, conn_consume()-ing what it
 * answered); then the output is written, EPOLLOUT armed only while output
 * waits.  A request handed to another thread sets c->busy; when it comes
 * back the caller calls conn_unbusy() and conn_process().  End of file
 * stops input; complete requests are still answered and written, then
 * the connection is closed (not before a busy request's answer).
 *
 * Limits: a connection whose input reaches in_max without a complete
 * request gets the kind's too_long() reply and is closed; one with more
 * than out_max bytes of unread answers is dropped.  max_total bounds the
 * buffered connections of all kinds together, and each kind's max its
 * own (for a handed-over kind: what its *open counter says), so that one
 * kind can be refused while the others keep their share.  Over a limit a
 * new connection is accepted and closed at once, counted in *refused, and
 * a warning is logged at most once a minute per kind.
 *
 * Security: a socket is bound under umask 0777 (mode 0: nobody but root
 * can connect), then given its group, then its mode, and only then
 * listen()s; so it is never reachable with looser permissions than
 * configured.  The caller makes sure the folder is trusted (conn_listen
 * works by path).  Nothing here looks at what a peer sends beyond the
 * byte counts above; that is the kind's parser's job.
 */
#ifndef VS_CONN_H
#define VS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "vs_err.h"

#define CONN_KINDS_MAX 8        /* kinds of one set */
#define CONN_WATCH_MAX 8        /* other descriptors of one set */
#define CONN_BACKLOG 512        /* listen() backlog */
#define CONN_EVENTS 64          /* events per epoll_wait() */
#define CONN_NO_LIMIT ((unsigned long)-1)

struct conn_set;

struct conn {
	int fd;
	unsigned kind;
	struct conn_set *set;
	struct buf in, out;
	time_t last;            /* last byte read */
	bool closing;           /* close once out is written */
	bool busy;              /* a request is out on another thread */
	bool want_write;        /* EPOLLOUT armed */
	bool eof;               /* the peer sent its last byte */
	bool dead;              /* closed while busy: freed after conn_unbusy */
	struct conn *next, *prev;
};

struct conn_kind {
	const char *name;       /* in log lines */
	/* Answer at most one complete request at the start of c->in;
	 * true when one was answered (and consumed), false to wait for
	 * more input, for a busy request, or after setting c->closing. */
	bool (*process)(struct conn *c);
	/* A last reply before a connection over in_max is closed; NULL:
	 * none. */
	void (*too_long)(struct conn *c);
	/* Set for a kind served elsewhere: the accepted descriptor is handed
	 * over (the receiver closes it) instead of becoming a struct conn. */
	void (*handoff)(struct conn_set *s, int fd);
	unsigned long max;      /* open connections of this kind */
	/* Counters the caller reads (or NULL): open now (for a handed-over
	 * kind the receiver keeps it: read atomically here), accepted,
	 * refused over a limit. */
	unsigned long *open, *accepted, *refused;
	/* internal */
	int listen_fd;
	unsigned long n;        /* buffered connections open now */
	time_t refuse_logged;
};

struct conn_set {
	/* The caller's settings: kinds (indexes 0..nkinds-1), limits. */
	struct conn_kind kind[CONN_KINDS_MAX];
	unsigned nkinds;
	unsigned long max_total;        /* buffered connections, all kinds */
	size_t in_max, out_max;         /* bytes per connection */
	unsigned long *refused;         /* all kinds (or NULL) */
	void *arg;                      /* for the callbacks */
	bool stop;                      /* set by a callback: conn_poll
	                                 * returns at once */
	/* internal */
	int epfd;
	int spare_fd;                   /* /dev/null, given up to shed a
	                                 * connection when out of descriptors */
	time_t nofile_logged;
	unsigned nwatch;
	struct { int fd; void (*fn)(struct conn_set *, int); } watch[
	    CONN_WATCH_MAX];
	unsigned long n;                /* buffered connections open now */
	struct conn *list;
	struct conn *grave;             /* closed this round, freed after */
};

/* The epoll set; kinds and limits may be set before or after. */
int conn_set_init(struct conn_set *s, struct vs_err *err);
/* Bind path (a leftover socket file there is removed) under umask 0777,
 * give it group gid (unless (gid_t)-1) and mode, listen and poll it as
 * kind k. */
int conn_listen(struct conn_set *s, unsigned k, const char *path, gid_t gid,
    mode_t mode, struct vs_err *err);
/* Poll fd, a socket already bound and listening (a loopback TCP address:
 * service/selfservice.c), as kind k; it is closed on failure. */
int conn_listen_fd(struct conn_set *s, unsigned k, int fd,
    struct vs_err *err);
/* Poll fd too: fn(s, fd) when it is readable. */
int conn_watch(struct conn_set *s, int fd,
    void (*fn)(struct conn_set *s, int fd), struct vs_err *err);
/* One round: wait up to timeout_ms, accept, read, answer, write, and call
 * the watchers.  VS_EIO (with the reason) when epoll fails. */
int conn_poll(struct conn_set *s, int timeout_ms, struct vs_err *err);
/* Close connections idle for more than timeout seconds. */
void conn_expire_idle(struct conn_set *s, time_t now, unsigned timeout);

/* For the kinds' callbacks: drop n answered bytes from c->in. */
void conn_consume(struct conn *c, size_t n);
/* A busy request came back: false when the connection was closed in the
 * meantime (it is freed now: do not touch it again). */
bool conn_unbusy(struct conn *c);
/* Answer what is complete, write, and close if the peer is done. */
void conn_process(struct conn *c);
/* Close now (fd becomes -1; the memory is freed after the round, a busy
 * connection's after conn_unbusy). */
void conn_close(struct conn *c);

#endif
