/*
 * selfservice.c - the poppassd front end of the self-service password
 * change: users change their own password from webmail (Roundcube's
 * password plugin, driver "poppassd"; Horde's passwd module).
 *
 * Protocol: lib/poppassd.h (greeting "200 ...", user, pass, newpass,
 * quit; one change per connection).  Served on the Unix socket
 * poppassd_socket (a name under socket_dir, or an absolute path whose
 * folder is checked like socket_dir) with its group and mode, and on the
 * loopback TCP address poppassd_listen; both off by default, both bound
 * before privileges are dropped, as kinds of the event loop whose
 * accepted descriptors are handed here.  Each connection gets a detached
 * thread of its own (at most selfservice_max_connections at once: the
 * event loop refuses more, as for every socket) that runs the line
 * protocol with blocking waits and calls svc_passwd_change() (service/
 * passwd.c: policy, throttle, current password, save, audit), which
 * waits for a hash worker - never on the event loop.
 *
 * Limits: a line POPPASSD_LINE_MAX bytes; the client's waits together at
 * most selfservice_timeout seconds per connection (the time of the change
 * itself not counted), then "500 timeout" and the end; POPPASSD_ERRORS_MAX
 * protocol errors end a session; one change per connection.
 *
 * Security: the address of a TCP client goes to the throttle (a Unix
 * socket client has none: only the login is throttled); passwords live
 * in the session's struct and input buffer only, both wiped as soon as
 * the change is answered and at the end; no password in a log line or a
 * reply (replies are the fixed sentences of poppassd.c and passwd.c).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "conn.h"
#include "names.h"
#include "poppassd.h"
#include "service.h"

struct session_arg {
	struct svc *svc;
	int fd;
};

static struct {
	struct svc *svc;
	unsigned long open, accepted, refused;
} pp;

int
svc_listen_tcp(const char *what, const char *listen_on, struct vs_err *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char host[64];
	unsigned port;
	socklen_t len;
	int fd, one = 1, r;

	if ((r = conf_listen_parse(listen_on, host, sizeof(host), &port,
	    err)) != VS_OK) {
		char msg[VS_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return vs_fail(err, r, "%s %s: %s", what, listen_on, msg), -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		len = sizeof(*in4);
	} else {
		inet_pton(AF_INET6, host, &in6->sin6_addr);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		len = sizeof(*in6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return vs_fail(err, VS_EIO, "%s: socket: %s", what,
		    strerror(errno)), -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, CONN_BACKLOG) != 0) {
		vs_fail(err, VS_EIO, "%s: cannot listen on %s: %s", what,
		    listen_on, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* An absolute poppassd_socket's folder: the rule of socket_dir (a folder,
 * not a link, owned by root, the service user or the starting user, not
 * writable by group or others), but it is never created. */
static int
folder_check(struct svc *s, const char *path, struct vs_err *err)
{
	char dir[CONF_STR_MAX];
	const char *slash = strrchr(path, '/');
	uid_t user_uid = getuid();
	struct passwd *pw;
	struct stat sb;
	int fd;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (dir[0] == '\0')
		snprintf(dir, sizeof(dir), "/");
	if (s->conf.user[0] != '\0' && (pw = getpwnam(s->conf.user)) != NULL)
		user_uid = pw->pw_uid;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vs_fail(err, VS_EIO, "poppassd_socket: cannot open the "
		    "folder %s: %s", dir, strerror(errno));
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return vs_fail(err, VS_EIO, "poppassd_socket: cannot stat "
		    "%s: %s", dir, strerror(errno));
	}
	close(fd);
	if ((sb.st_uid != 0 && sb.st_uid != user_uid &&
	    sb.st_uid != getuid()) || (sb.st_mode & 022) != 0)
		return vs_fail(err, VS_EINVAL, "poppassd_socket: the folder %s "
		    "(uid %u, mode %04o) must belong to root or the service "
		    "user and be writable by its owner only", dir,
		    (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
	return VS_OK;
}

/* --- one session --- */

static long
ms_until(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms;
}

/* Wait for events on fd until the deadline: false on a timeout. */
static bool
wait_fd(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&pfd, 1, (int)ms_until(deadline));
	} while (r < 0 && errno == EINTR);
	return r > 0;
}

static bool
send_line(int fd, const char *text, const struct timespec *deadline)
{
	char line[POPPASSD_REPLY_MAX + 2];
	size_t n, off = 0;
	ssize_t w;

	n = (size_t)snprintf(line, sizeof(line), "%s\r\n", text);
	while (off < n) {
		w = send(fd, line + off, n - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    wait_fd(fd, POLLOUT, deadline))
			continue;
		return false;
	}
	return true;
}

static void
peer_address(int fd, char *ip, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	ip[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip,
		    (socklen_t)size);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    ip, (socklen_t)size);
}

static const char *
result_name(enum passwd_result r)
{
	switch (r) {
	case PASSWD_OK: return "changed";
	case PASSWD_FAIL: return "fail";
	case PASSWD_THROTTLED: return "throttled";
	case PASSWD_POLICY: return "policy";
	case PASSWD_DISABLED: return "disabled";
	default: return "temp";
	}
}

/* The change, timed out of the client's budget; the reply into reply. */
static void
change(struct svc *s, struct poppassd *p, const char *ip, char *reply,
    struct timespec *deadline)
{
	struct passwd_change c;
	struct timespec t0, t1;
	enum passwd_result r;
	char msg[256], who[SVC_LOG_NAME_BUF], rip[NAME_QUOTE_BUF];

	memset(&c, 0, sizeof(c));
	c.login = p->user;
	c.old_pw = p->old_pw;
	c.old_len = p->old_len;
	c.new_pw = p->new_pw;
	c.new_len = p->new_len;
	c.remote_ip = ip;
	c.via = "poppassd";
	msg[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = svc_passwd_change(s, &c, msg, sizeof(msg));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	deadline->tv_sec += t1.tv_sec - t0.tv_sec + 1;
	/* Roundcube shows the text after "500 " to the user. */
	poppassd_result(p, r == PASSWD_OK, msg, reply);
	if (r != PASSWD_OK) {
		svc_auth_log_name(s, p->user, false, who);
		name_quote(ip, strlen(ip), rip);
		svc_log(LOG_NOTICE, "poppassd: password not changed: rip=%s "
		    "user=%s result=%s (%s)", ip[0] ? rip : "-", who,
		    result_name(r), msg);
	}
}

/* Before close: our last line must reach the client even when it sent
 * more than was read (closing with unread input sends a reset, which can
 * overtake the reply).  Half-close, then drop what still comes: at most
 * 64 KiB, for at most a second. */
static void
linger_close(int fd)
{
	struct timespec deadline;
	char junk[4096];
	size_t total = 0;
	ssize_t n;

	shutdown(fd, SHUT_WR);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 1;
	while (total < 65536 && wait_fd(fd, POLLIN, &deadline)) {
		n = read(fd, junk, sizeof(junk));
		if (n <= 0 && !(n < 0 && errno == EINTR))
			break;
		if (n > 0)
			total += (size_t)n;
	}
	sodium_memzero(junk, sizeof(junk));
}

static void
run_session(struct svc *s, int fd)
{
	struct poppassd p;
	struct timespec deadline;
	char buf[POPPASSD_LINE_MAX], reply[POPPASSD_REPLY_MAX];
	char ip[INET6_ADDRSTRLEN];
	size_t have = 0, used;
	enum pp_action a;
	ssize_t n;
	bool go = true;

	peer_address(fd, ip, sizeof(ip));
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += s->conf.selfservice_timeout ?
	    s->conf.selfservice_timeout : 30;
	poppassd_init(&p);
	if (!send_line(fd, POPPASSD_GREETING, &deadline))
		go = false;
	while (go) {
		a = poppassd_step(&p, buf, have, &used, reply);
		if (a == PP_MORE) {
			if (!wait_fd(fd, POLLIN, &deadline)) {
				send_line(fd, "500 timeout", &deadline);
				break;
			}
			n = read(fd, buf + have, sizeof(buf) - have);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				break;          /* the client left */
			have += (size_t)n;
			continue;
		}
		/* The line is used: wipe it as it leaves the buffer. */
		if (a == PP_CHANGE)
			change(s, &p, ip, reply, &deadline);
		sodium_memzero(buf, used);
		memmove(buf, buf + used, have - used);
		have -= used;
		sodium_memzero(buf + have, sizeof(buf) - have);
		if (!send_line(fd, reply, &deadline) || a == PP_CLOSE)
			go = false;
	}
	poppassd_wipe(&p);
	sodium_memzero(buf, sizeof(buf));
	linger_close(fd);
}

static void *
session_main(void *arg)
{
	struct session_arg *sa = arg;

	run_session(sa->svc, sa->fd);
	close(sa->fd);
	free(sa);
	__atomic_sub_fetch(&pp.open, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void
handoff(struct conn_set *cs, int fd)
{
	struct session_arg *sa;
	pthread_attr_t attr;
	pthread_t t;
	int r = -1;

	(void)cs;
	__atomic_add_fetch(&pp.open, 1, __ATOMIC_RELAXED);
	if ((sa = malloc(sizeof(*sa))) != NULL) {
		sa->svc = pp.svc;
		sa->fd = fd;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		r = pthread_create(&t, &attr, session_main, sa);
		pthread_attr_destroy(&attr);
	}
	if (r != 0) {
		svc_log(LOG_WARNING, "poppassd: cannot start a session "
		    "thread");
		free(sa);
		close(fd);
		__atomic_sub_fetch(&pp.open, 1, __ATOMIC_RELAXED);
	}
}

static void
set_kind(struct conn_set *cs, unsigned k, const char *name, struct svc *s)
{
	struct conn_kind *kind = &cs->kind[k];

	kind->name = name;
	kind->handoff = handoff;
	kind->max = s->conf.selfservice_max_connections ?
	    s->conf.selfservice_max_connections : 8;
	/* Both listeners share the sessions' count and limit. */
	kind->open = &pp.open;
	kind->accepted = &pp.accepted;
	kind->refused = &pp.refused;
}

int
svc_poppassd_open(struct svc *s, struct conn_set *cs, unsigned k,
    struct vs_err *err)
{
	char path[CONF_STR_MAX * 2];
	struct group *g;
	gid_t gid = (gid_t)-1;
	int fd, r;

	pp.svc = s;
	if (k + 1 >= CONN_KINDS_MAX)
		return vs_fail(err, VS_EINVAL, "poppassd: no socket kind left");
	if (s->conf.poppassd_socket[0] != '\0') {
		if (s->conf.poppassd_socket[0] == '/') {
			if ((r = folder_check(s, s->conf.poppassd_socket,
			    err)) != VS_OK)
				return r;
			snprintf(path, sizeof(path), "%s",
			    s->conf.poppassd_socket);
		} else {
			snprintf(path, sizeof(path), "%s/%s",
			    s->conf.socket_dir, s->conf.poppassd_socket);
		}
		if (s->conf.poppassd.group[0] != '\0') {
			if ((g = getgrnam(s->conf.poppassd.group)) == NULL)
				return vs_fail(err, VS_EINVAL, "poppassd: no "
				    "group '%s'", s->conf.poppassd.group);
			gid = g->gr_gid;
		}
		set_kind(cs, k, "poppassd", s);
		if ((r = conn_listen(cs, k, path, gid, s->conf.poppassd.mode,
		    err)) != VS_OK)
			return r;
		svc_log(LOG_INFO, "poppassd: serving %s", path);
	}
	if (s->conf.poppassd_listen[0] != '\0') {
		if ((fd = svc_listen_tcp("poppassd_listen",
		    s->conf.poppassd_listen, err)) < 0)
			return err->code;
		set_kind(cs, k + 1, "poppassd-tcp", s);
		if ((r = conn_listen_fd(cs, k + 1, fd, err)) != VS_OK)
			return r;
		svc_log(LOG_INFO, "poppassd: serving %s",
		    s->conf.poppassd_listen);
	}
	return VS_OK;
}
