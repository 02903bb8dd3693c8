/*
 * vmsealed.c - the service that holds vmseal's key.
 *
 *   vmsealed [-c CONFIG] [-d STOREDIR] [--socket-dir DIR] [--foreground]
 *
 * It opens the store at start and stays SEALED (no key) until an operator
 * runs "vmseal unseal"; until then, and whenever the store fails, every
 * lookup is answered "temporary failure".  Unix sockets under socket_dir:
 *   admin      operator commands (root and admin_group; SO_PEERCRED)
 *   socketmap  Postfix lookups (lib/sockmap.h, service/postfix.c)
 *   policy     Postfix policy delegation (lib/policy.h, service/postfix.c)
 *   auth       Dovecot (vmseal-checkpassword and the auth plugin;
 *              lib/authproto.h, service/auth.c, throttle in guard.c)
 *
 * Start-up order (each step checked; any failure stops the start):
 * core dumps off, configuration, sockets bound and given their group and
 * mode, store opened (files kept open), then privileges dropped to the
 * configured user: supplementary groups, gid, uid - and a check that root
 * cannot be regained.  Then the threads: the event loop (epoll), the
 * admin workers, the hash workers and the event writer.
 *
 * Signals: SIGTERM/SIGINT seal (wipe the key) and exit; SIGHUP re-reads
 * the settings that can change at run time (recipient_delimiter,
 * max_connections, idle_timeout, policy_recipient_limit, hash_queue,
 * login_by_address, auto_seal_after); a file with an error is refused
 * and the running settings kept.
 *
 * Security: no secret is ever logged; the key lives in sodium_malloc()ed,
 * read-only, non-dumpable memory (lib/seal.c); the process is not dumpable
 * and has RLIMIT_CORE 0; every length a peer sends is capped (netstring,
 * policy and ipc parsers) and a peer that breaks a protocol is
 * disconnected.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "authproto.h"
#include "netstring.h"
#include "service.h"
#include "sockmap.h"

#define CONN_IN_MAX (POLICY_REQUEST_MAX + 1024)
#define CONN_OUT_MAX (4u * 1024u * 1024u)

static const char *const sock_names[SOCK_KINDS] = {
	[SOCK_ADMIN] = "admin", [SOCK_SOCKETMAP] = "socketmap",
	[SOCK_POLICY] = "policy", [SOCK_AUTH] = "auth",
};

struct conn {
	int fd;
	enum sock_kind kind;
	struct buf in, out;
	time_t last;
	bool closing;           /* close once out is written */
	bool busy;              /* a password check is out for this one */
	bool want_write;        /* EPOLLOUT armed */
	bool eof;               /* the peer sent its last byte */
	bool dead;              /* closed while busy: freed when it returns */
	struct conn *next, *prev;
};

static struct svc svc;
static bool use_syslog;
static int listen_fd[SOCK_KINDS] = { -1, -1, -1, -1 };
static struct conn *conns;
static unsigned long nconns;

void
svc_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		/* Under systemd the journal adds the tag itself. */
		if (getenv("JOURNAL_STREAM") == NULL)
			fprintf(stderr, "vmsealed[%ld]: ", (long)getpid());
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static void
die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	svc_log(LOG_ERR, "fatal: %s", msg);
	if (use_syslog)
		fprintf(stderr, "vmsealed: %s\n", msg);
	exit(1);
}

static int
facility(const char *name)
{
	static const struct { const char *n; int f; } f[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(name, f[i].n) == 0)
			return f[i].f;
	return -1;
}

static void
apply_runtime_settings(void)
{
	lookup_opts_default(&svc.lopts);
	snprintf(svc.lopts.delimiters, sizeof(svc.lopts.delimiters), "%s",
	    svc.conf.recipient_delimiter);
}

/* --- sockets --- */

static gid_t
group_id(const char *name, const char *what)
{
	struct group *g;

	if ((g = getgrnam(name)) == NULL)
		die("%s: no group '%s'", what, name);
	return g->gr_gid;
}

static void
make_socket(enum sock_kind k, const struct conf_socket *cs)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s",
	    svc.conf.socket_dir, sock_names[k]) >= sizeof(sun.sun_path))
		die("socket path %s/%s is too long", svc.conf.socket_dir,
		    sock_names[k]);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (unlink(sun.sun_path) != 0 && errno != ENOENT)
		die("cannot remove the old %s: %s", sun.sun_path,
		    strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		die("cannot bind %s: %s", sun.sun_path, strerror(errno));
	if (cs->group[0] != '\0' &&
	    chown(sun.sun_path, (uid_t)-1, group_id(cs->group,
	    sock_names[k])) != 0)
		die("cannot give %s to group %s: %s", sun.sun_path, cs->group,
		    strerror(errno));
	if (chmod(sun.sun_path, cs->mode) != 0)
		die("cannot chmod %s: %s", sun.sun_path, strerror(errno));
	if (listen(fd, 512) != 0)
		die("listen %s: %s", sun.sun_path, strerror(errno));
	listen_fd[k] = fd;
}

static void
make_sockets(void)
{
	struct stat sb;

	if (mkdir(svc.conf.socket_dir, 0755) != 0 && errno != EEXIST)
		die("cannot create %s: %s", svc.conf.socket_dir,
		    strerror(errno));
	if (stat(svc.conf.socket_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		die("%s is not a folder", svc.conf.socket_dir);
	make_socket(SOCK_ADMIN, &svc.conf.admin);
	make_socket(SOCK_SOCKETMAP, &svc.conf.socketmap);
	make_socket(SOCK_POLICY, &svc.conf.policy);
	make_socket(SOCK_AUTH, &svc.conf.auth);
}

/* --- privileges --- */

static void
drop_privileges(void)
{
	struct passwd *pw;
	gid_t gid;

	if (svc.conf.user[0] == '\0') {
		svc.run_uid = getuid();
		if (getuid() == 0)
			svc_log(LOG_WARNING, "running as root: set 'user' in "
			    "the configuration");
		return;
	}
	if ((pw = getpwnam(svc.conf.user)) == NULL)
		die("no user '%s'", svc.conf.user);
	gid = svc.conf.group[0] ? group_id(svc.conf.group, "group") :
	    pw->pw_gid;
	if (getuid() != 0) {
		if (getuid() != pw->pw_uid)
			die("must start as root to run as %s", svc.conf.user);
		svc.run_uid = getuid();
		return;
	}
	/* Fixed order: groups, gid, uid; then prove it cannot go back. */
	if (setgroups(1, &gid) != 0)
		die("setgroups: %s", strerror(errno));
	if (setresgid(gid, gid, gid) != 0)
		die("setresgid: %s", strerror(errno));
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
		die("setresuid: %s", strerror(errno));
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		die("could regain root after dropping privileges");
	/* Changing uid resets the dumpable flag. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	svc.run_uid = pw->pw_uid;
	svc_log(LOG_INFO, "running as %s (uid %u, gid %u)", svc.conf.user,
	    (unsigned)pw->pw_uid, (unsigned)gid);
}

/* --- connections --- */

static int epfd;

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
	svc.stats.connections[c->kind]--;
	nconns--;
	if (c->busy)
		c->dead = true;         /* a hash worker still holds it */
	else
		free(c);
}

/* After end of file, stop polling for input (it would fire forever). */
static void
epoll_ctl_in_off(struct conn *c)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = c->want_write ? EPOLLOUT : 0;
	ev.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
conn_want_write(struct conn *c, bool want)
{
	struct epoll_event ev;

	if (c->want_write == want)
		return;
	c->want_write = want;
	memset(&ev, 0, sizeof(ev));
	ev.events = (c->eof ? 0 : EPOLLIN) | (want ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what we can; false when the connection is gone. */
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

static void
auth_reply_to(struct conn *c, const struct auth_reply *rep)
{
	struct buf b = { 0 };

	if (auth_encode_reply(rep, &b) == VS_OK)
		buf_append(&c->out, b.data, b.len);
	else
		c->closing = true;
	buf_free(&b);
}

static void
auth_temp(struct conn *c, const char *reason)
{
	struct auth_reply rep;

	memset(&rep, 0, sizeof(rep));
	rep.result = AUTH_TEMP;
	snprintf(rep.reason, sizeof(rep.reason), "%s", reason);
	auth_reply_to(c, &rep);
}

static bool
svc_is_sealed(struct svc *s)
{
	bool sealed;

	pthread_rwlock_rdlock(&s->keylock);
	sealed = store_is_sealed(s->st);
	pthread_rwlock_unlock(&s->keylock);
	return sealed;
}

/* One auth request from c->in; false to stop processing input for now. */
static bool
auth_request(struct conn *c)
{
	const uint8_t *p, **items = NULL;
	size_t plen, used, *lens = NULL, n;
	struct auth_request req;
	struct auth_reply rep;
	enum guard_verdict v;
	struct vs_err err;
	int r;

	vs_err_clear(&err);
	r = netstring_decode(c->in.data, c->in.len, AUTH_REQUEST_MAX, &p,
	    &plen, &used, &err);
	if (r == NETSTRING_MORE)
		return false;
	if (r == NETSTRING_OK)
		r = netstring_split(p, plen, 8, AUTH_REQUEST_MAX, &items,
		    &lens, &n, &err);
	if (r == VS_OK)
		r = auth_parse_request(items, lens, n, &req, &err);
	free(items);
	free(lens);
	/* The frame held a password: wipe it as it leaves the buffer. */
	if (r == VS_OK || r == NETSTRING_OK)
		sodium_memzero(c->in.data, used);
	if (r != VS_OK) {
		svc_log(LOG_WARNING, "auth: malformed request: %s", err.msg);
		sodium_memzero(c->in.data, c->in.len);
		auth_temp(c, "malformed request");
		c->closing = true;
		return false;
	}
	consume(&c->in, used);
	svc.stats.auth_requests++;
	if (req.op == AUTH_LOOKUP) {
		svc_auth_lookup(&svc, &req, &rep);
		auth_reply_to(c, &rep);
	} else if (svc_is_sealed(&svc)) {
		/* Sealed means "later": never "no", throttled or not. */
		auth_temp(c, "vmseal is sealed");
	} else if ((v = svc_guard_check(&svc, &req)) == GUARD_THROTTLED) {
		/* Throttled: refused at once, no hash spent. */
		svc.stats.auth_throttled++;
		memset(&rep, 0, sizeof(rep));
		rep.result = AUTH_FAIL;
		snprintf(rep.reason, sizeof(rep.reason), "throttled");
		auth_reply_to(c, &rep);
	} else if (v == GUARD_BUSY) {
		/* As many checks in flight as failures left: later. */
		auth_temp(c, "too many password checks in progress");
	} else if ((r = svc_auth_submit(&svc, c, &req)) == VS_OK) {
		c->busy = true;
	} else {
		if (r == VS_ELIMIT)
			svc_log(LOG_WARNING, "auth: hash queue full, "
			    "answering temporary failure");
		memset(&rep, 0, sizeof(rep));
		rep.result = AUTH_TEMP;
		snprintf(rep.reason, sizeof(rep.reason), "%s",
		    r == VS_ESEALED ? "vmseal is sealed" :
		    "vmseal is overloaded");
		/* Not queued: give the reservation back. */
		svc_guard_result(&svc, &req, &rep);
		auth_reply_to(c, &rep);
	}
	auth_request_wipe(&req);
	return !c->busy;
}

static void conn_process(struct conn *c);

/* A hash worker finished: answer, and go on with the connection. */
static void
auth_done(void *conn, const struct auth_request *req,
    const struct auth_reply *rep)
{
	struct conn *c = conn;

	svc_guard_result(&svc, req, rep);
	c->busy = false;
	if (c->dead) {
		free(c);
		return;
	}
	auth_reply_to(c, rep);
	conn_process(c);
}

/* Answer every complete request in c->in (without writing). */
static void
conn_process_input(struct conn *c)
{
	struct vs_err err;
	int r;

	while (c->in.len > 0 && !c->closing) {
		if (c->out.len > CONN_OUT_MAX) {
			/* The peer sends but does not read: drop it. */
			c->closing = true;
			c->out.len = 0;
			break;
		}
		vs_err_clear(&err);
		if (c->kind == SOCK_SOCKETMAP) {
			const uint8_t *p;
			size_t plen, used;

			r = netstring_decode(c->in.data, c->in.len,
			    SOCKMAP_REQUEST_MAX, &p, &plen, &used, &err);
			if (r == NETSTRING_MORE)
				break;
			if (r != NETSTRING_OK) {
				svc.stats.perm++;
				sockmap_reply(&c->out, "PERM", err.msg);
				c->closing = true;
				break;
			}
			svc_socketmap(&svc, p, plen, &c->out);
			consume(&c->in, used);
		} else if (c->kind == SOCK_POLICY) {
			struct policy_request req;
			size_t used;

			r = policy_parse(c->in.data, c->in.len, &req, &used,
			    &err);
			if (r == POLICY_MORE)
				break;
			if (r != POLICY_OK) {
				svc_log(LOG_WARNING, "policy: malformed "
				    "request: %s", err.msg);
				c->closing = true;
				break;
			}
			svc_policy(&svc, &req, &c->out);
			consume(&c->in, used);
		} else {
			if (c->busy)
				break;  /* one request at a time */
			if (!auth_request(c))
				break;
		}
	}
}

/* Answer what is complete, write, and close if the peer is done. */
static void
conn_process(struct conn *c)
{
	conn_process_input(c);
	if (c->eof && !c->busy)
		c->closing = true;
	conn_flush(c);
}

static void
conn_read(struct conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->in.len >= CONN_IN_MAX) {
			/* No single request of ours is this long. */
			if (c->kind == SOCK_SOCKETMAP)
				sockmap_reply(&c->out, "PERM",
				    "request too long");
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
			/* The peer is done sending (Postfix's idle close, or a
			 * half-close after its last request): answer what is
			 * complete, then close. */
			c->eof = true;
			epoll_ctl_in_off(c);
			conn_process(c);
			return;
		}
		c->in.len += (size_t)n;
		c->last = time(NULL);
		/* Answer as we go, so pipelined requests never pile up
		 * against the input cap. */
		if (c->in.len >= 4096) {
			conn_process_input(c);
			if (c->closing || c->busy)
				break;
		}
	}
	conn_process(c);
}

static void
accept_on(enum sock_kind k)
{
	struct epoll_event ev;
	struct conn *c;
	int fd;

	for (;;) {
		fd = accept4(listen_fd[k], NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		svc.stats.accepted[k]++;
		if (k == SOCK_ADMIN) {
			svc_admin_enqueue(&svc, fd);
			continue;
		}
		if (nconns >= svc.conf.max_connections) {
			/* Overload: Postfix sees a failed lookup and answers
			 * 4xx; nothing is refused for good. */
			svc.stats.refused++;
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->kind = k;
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
		nconns++;
		svc.stats.connections[k]++;
	}
}

static void
expire_idle(time_t now)
{
	struct conn *c, *next;

	for (c = conns; c != NULL; c = next) {
		next = c->next;
		if (now - c->last > (time_t)svc.conf.idle_timeout)
			conn_close(c);
	}
}

/* --- main --- */

static const char usage_text[] =
"usage: vmsealed [-c CONFIG] [-d STOREDIR] [--socket-dir DIR] [--foreground]\n"
"\n"
"The vmseal service: holds the store's key once an operator has unsealed\n"
"it (vmseal unseal), and answers Postfix (socketmap, policy) and Dovecot.\n"
"It starts SEALED: every lookup answers 'temporary failure' until then.\n"
"\n"
"  -c, --config FILE     configuration (default " CONF_DEFAULT_PATH ")\n"
"  -d, --store-dir DIR   the store (overrides store_dir)\n"
"  -s, --socket-dir DIR  the sockets (overrides socket_dir)\n"
"  -f, --foreground      log to standard error instead of syslog\n"
"  -h, --help, -V, --version\n"
"See vmsealed(8) and vmseal.conf(5).\n";

static void
load_conf(const char *path, bool must_exist, const char *dir,
    const char *sockdir)
{
	struct vs_err err;
	int r;

	conf_defaults(&svc.conf);
	vs_err_clear(&err);
	r = conf_load(&svc.conf, path, &err);
	if (r != VS_OK && (r != VS_ENOTFOUND || must_exist))
		die("%s", err.msg);
	if (dir != NULL)
		snprintf(svc.conf.store_dir, sizeof(svc.conf.store_dir), "%s",
		    dir);
	if (sockdir != NULL)
		snprintf(svc.conf.socket_dir, sizeof(svc.conf.socket_dir),
		    "%s", sockdir);
}

/* DEMO ONLY: unseal at start from a file holding the passphrase.  Read
 * as root, before privileges are dropped; loudly logged at every start. */
static void
unseal_from_keyfile(void)
{
	struct vs_err err;
	char buf[1024 + 2];
	ssize_t n;
	size_t len;
	int fd, r;

	if (svc.conf.unseal_keyfile[0] == '\0')
		return;
	svc_log(LOG_WARNING, "unseal_keyfile is set: unsealing from %s - "
	    "the key lies next to the lock; for demonstrations only",
	    svc.conf.unseal_keyfile);
	if ((fd = open(svc.conf.unseal_keyfile, O_RDONLY | O_CLOEXEC)) < 0) {
		svc_log(LOG_ERR, "cannot open the key file: %s; staying "
		    "sealed", strerror(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		svc_log(LOG_ERR, "cannot read the key file; staying sealed");
		return;
	}
	len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	vs_err_clear(&err);
	r = store_unseal_passphrase(svc.st, buf, len, &err);
	sodium_memzero(buf, sizeof(buf));
	if (r != VS_OK) {
		svc_log(LOG_ERR, "the key file does not open the store (%s); "
		    "staying sealed", err.msg);
		return;
	}
	svc.from_keyfile = true;
	svc.unsealed_at = time(NULL);
}

/* Seal after auto_seal_after seconds without admin contact. */
static void
auto_seal(time_t now)
{
	bool sealed;

	if (svc.conf.auto_seal_after == 0)
		return;
	pthread_rwlock_rdlock(&svc.keylock);
	sealed = store_is_sealed(svc.st);
	pthread_rwlock_unlock(&svc.keylock);
	if (sealed || now - svc.last_admin < (time_t)svc.conf.auto_seal_after)
		return;
	svc_seal(&svc);
	svc_log(LOG_NOTICE, "sealed: no admin contact for %us "
	    "(auto_seal_after)", svc.conf.auto_seal_after);
}

/* SIGHUP: re-read the file; only run-time settings change (sockets,
 * store, user and logging stay as they were bound at start).  A file with
 * an error keeps the running settings: a typo must not cost the key. */
static void
reload_conf(void)
{
	struct vs_conf c;
	struct vs_err err;
	int r;

	conf_defaults(&c);
	vs_err_clear(&err);
	r = conf_load(&c, svc.conf_path, &err);
	if (r != VS_OK) {
		svc_log(LOG_ERR, "reload refused, keeping the running "
		    "settings: %s", err.msg);
		return;
	}
	memcpy(svc.conf.recipient_delimiter, c.recipient_delimiter,
	    sizeof(c.recipient_delimiter));
	svc.conf.auto_seal_after = c.auto_seal_after;
	svc.conf.max_connections = c.max_connections;
	svc.conf.idle_timeout = c.idle_timeout;
	svc.conf.policy_recipient_limit = c.policy_recipient_limit;
	svc.conf.hash_queue = c.hash_queue;
	svc.conf.login_by_address = c.login_by_address;
	apply_runtime_settings();
	svc_log(LOG_NOTICE, "configuration reloaded (recipient_delimiter, "
	    "max_connections, idle_timeout, policy_recipient_limit, "
	    "hash_queue, login_by_address, auto_seal_after)");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store-dir", required_argument, NULL, 'd' },
		{ "socket-dir", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_path = NULL, *dir = NULL, *sockdir = NULL;
	struct rlimit rl = { 0, 0 };
	struct epoll_event ev, evs[64];
	struct vs_err err;
	sigset_t sigs;
	int c, i, n, sigfd, fac;
	time_t last_sweep = 0;

	while ((c = getopt_long(argc, argv, "c:d:s:fhV", lo, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'd': dir = optarg; break;
		case 's': sockdir = optarg; break;
		case 'f': svc.foreground = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': printf("vmsealed %s\n", PACKAGE_VERSION); return 0;
		default:
			fputs("Try 'vmsealed --help'.\n", stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs("vmsealed: no arguments expected\n", stderr);
		return 2;
	}
	/* No core dumps, before anything can hold a secret. */
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (sodium_init() < 0) {
		fputs("vmsealed: cannot initialise libsodium\n", stderr);
		return 1;
	}
	load_conf(conf_path ? conf_path : CONF_DEFAULT_PATH, conf_path != NULL,
	    dir, sockdir);
	if ((fac = facility(svc.conf.syslog_facility)) < 0) {
		fprintf(stderr, "vmsealed: unknown syslog_facility '%s'\n",
		    svc.conf.syslog_facility);
		return 2;
	}
	if (!svc.foreground) {
		openlog("vmsealed", LOG_PID | LOG_NDELAY, fac);
		use_syslog = true;
	}
	svc.conf_path = conf_path ? conf_path : CONF_DEFAULT_PATH;
	apply_runtime_settings();
	if (svc.conf.admin_group[0] != '\0') {
		svc.admin_gid = group_id(svc.conf.admin_group, "admin_group");
		svc.have_admin_gid = true;
	}
	if (svc_rates_init(&svc) != VS_OK)
		die("out of memory");
	{
		pthread_rwlockattr_t ra;

		/* Writers first: "vmseal seal" must not wait behind a flood
		 * of lookups and password checks. */
		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(&ra,
		    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&svc.keylock, &ra);
		pthread_rwlockattr_destroy(&ra);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	/* Blocked before any thread starts, so all inherit it. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if ((sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die("signalfd: %s", strerror(errno));

	make_sockets();
	vs_err_clear(&err);
	if (store_open(svc.conf.store_dir, STORE_OPEN_WRITE, &svc.st, &err) !=
	    VS_OK)
		die("%s", err.msg);
	unseal_from_keyfile();
	drop_privileges();

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll: %s", strerror(errno));
	for (i = 0; i < SOCK_KINDS; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)i;     /* listeners: small numbers */
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd[i], &ev) != 0)
			die("epoll_ctl: %s", strerror(errno));
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = SOCK_KINDS;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev) != 0)
		die("epoll_ctl: %s", strerror(errno));
	if (svc_admin_start(&svc) != VS_OK)
		die("cannot start the admin thread");
	if (svc_auth_start(&svc) != VS_OK)
		die("cannot start the hash workers");
	if (svc_guard_init(&svc, &err) != VS_OK)
		die("%s", err.msg);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = SOCK_KINDS + 1;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, svc_auth_eventfd(), &ev) != 0)
		die("epoll_ctl: %s", strerror(errno));
	svc.started = svc.last_admin = time(NULL);
	if (svc.from_keyfile) {
		svc_auth_unsealed(&svc);
		svc_guard_unsealed(&svc);
		svc_log(LOG_WARNING, "started UNSEALED FROM A KEY FILE (%s): "
		    "demo only; store %s, sockets in %s",
		    svc.conf.unseal_keyfile, svc.conf.store_dir,
		    svc.conf.socket_dir);
	} else {
		svc_log(LOG_NOTICE, "started SEALED: store %s, sockets in %s; "
		    "a person must run 'vmseal unseal'", svc.conf.store_dir,
		    svc.conf.socket_dir);
	}

	for (;;) {
		n = epoll_wait(epfd, evs, 64, 1000);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag < SOCK_KINDS) {
				accept_on((enum sock_kind)tag);
			} else if (tag == SOCK_KINDS + 1) {
				svc_auth_collect(auth_done);
			} else if (tag == SOCK_KINDS) {
				struct signalfd_siginfo si;

				while (read(sigfd, &si, sizeof(si)) ==
				    (ssize_t)sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						reload_conf();
						continue;
					}
					svc_log(LOG_NOTICE, "signal %u: sealing "
					    "and stopping", si.ssi_signo);
					svc_admin_stop(&svc);
					svc_batch_free(&svc);
					svc_seal(&svc);
					/* Kept until exit: a hash worker or
					 * the event writer that comes back
					 * waits here instead of touching a
					 * closed store.  No thread holds it
					 * long (never while hashing), so this
					 * is at once. */
					pthread_rwlock_wrlock(&svc.keylock);
					store_close(&svc.st);
					return 0;
				}
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
		svc_batch_end(&svc);
		svc_guard_tick(&svc);
		if (time(NULL) != last_sweep) {
			last_sweep = time(NULL);
			if (svc.conf.idle_timeout > 0)
				expire_idle(last_sweep);
			auto_seal(last_sweep);
		}
	}
}
