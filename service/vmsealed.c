/*
 * vmsealed.c - the service that holds vmseal's key: start-up, privileges,
 * signals and the wiring of its parts.
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
 * and, when configured (off by default), the self-service password change
 * for webmail: poppassd on poppassd_socket and/or a loopback TCP address
 * (service/selfservice.c), Roundcube's httpapi on a loopback TCP address
 * (service/httpapi.c, libmicrohttpd); both call service/passwd.c.
 * The event loop and the connections are service/conn.c (one kind per
 * socket, each with its own connection limit), the log service/log.c;
 * this file hands the auth socket's requests to guard.c and auth.c.
 *
 * Start-up order (each step checked; any failure stops the start):
 * umask 077, core dumps off, configuration, the socket folder checked
 * (root's or the service user's, writable by its owner only), sockets
 * bound (mode 0) and given their group and mode before they listen, store
 * opened (files kept open), then privileges dropped to the configured
 * user: supplementary groups, gid, uid - and a check that root cannot be
 * regained.  Then the threads: the event loop (epoll), the admin workers,
 * the hash workers and the event writer.
 *
 * Signals: SIGTERM/SIGINT seal (wipe the key) and exit; SIGHUP re-reads
 * the settings that can change at run time (recipient_delimiter, the
 * connection limits, idle_timeout, policy_recipient_limit, hash_queue,
 * login_by_address, auto_seal_after); a file with an error is refused
 * and the running settings kept.
 *
 * Security: no secret is ever logged; the key lives in sodium_malloc()ed,
 * read-only, non-dumpable memory (lib/seal.c); the process is not dumpable
 * and has RLIMIT_CORE 0; every length a peer sends is capped (netstring,
 * policy and ipc parsers) and a peer that breaks a protocol is
 * disconnected; a password frame is wiped as it leaves the input buffer.
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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "authproto.h"
#include "conn.h"
#include "netstring.h"
#include "service.h"

#define CONN_IN_MAX (POLICY_REQUEST_MAX + 1024)
#define CONN_OUT_MAX (4u * 1024u * 1024u)
/* Admin sessions at once (running and waiting) unless configured. */
#define ADMIN_CONNECTIONS_DEFAULT 20

static const char *const sock_names[SOCK_KINDS] = {
	[SOCK_ADMIN] = "admin", [SOCK_SOCKETMAP] = "socketmap",
	[SOCK_POLICY] = "policy", [SOCK_AUTH] = "auth",
};

static struct svc state;
static struct conn_set conns;
static int stop_signal;

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
	if (svc_log_to_syslog())
		fprintf(stderr, "vmsealed: %s\n", msg);
	exit(1);
}

/* The connection limits of each socket kind.  0 in the file means the
 * default share of max_connections (the total of socketmap, policy and
 * auth): socketmap all of it, auth half, policy a quarter - so that
 * however full auth and policy are, Postfix's lookups keep a quarter. */
static void
apply_limits(void)
{
	const struct vs_conf *c = &state.conf;

	conns.max_total = c->max_connections;
	conns.kind[SOCK_SOCKETMAP].max = c->socketmap_max_connections ?
	    c->socketmap_max_connections : c->max_connections;
	conns.kind[SOCK_AUTH].max = c->auth_max_connections ?
	    c->auth_max_connections : c->max_connections / 2;
	conns.kind[SOCK_POLICY].max = c->policy_max_connections ?
	    c->policy_max_connections : c->max_connections / 4;
	conns.kind[SOCK_ADMIN].max = c->admin_max_connections ?
	    c->admin_max_connections : ADMIN_CONNECTIONS_DEFAULT;
}

/* Descriptors beyond max_connections: listeners, the store, the
 * database's connections, admin and self-service sessions, logs. */
#define NOFILE_RESERVE 256

/* The soft open-file limit raised (up to the hard one) to what
 * max_connections needs: systemd starts services with 1024, which the
 * default max_connections alone fills.  Short of it, conn.c refuses the
 * connections it cannot take (and says so); this says why at start. */
static void
fit_nofile(void)
{
	rlim_t want = (rlim_t)state.conf.max_connections + NOFILE_RESERVE;
	struct rlimit rl;
	rlim_t now;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	now = rl.rlim_cur;
	rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want) ?
	    want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		now = rl.rlim_cur;
	if (now < want)
		svc_log(LOG_WARNING, "open-file limit %llu is below the %llu "
		    "that max_connections %u needs: connections beyond it are "
		    "refused (raise LimitNOFILE)", (unsigned long long)now,
		    (unsigned long long)want, state.conf.max_connections);
}

static void
apply_runtime_settings(void)
{
	lookup_opts_default(&state.lopts);
	snprintf(state.lopts.delimiters, sizeof(state.lopts.delimiters), "%s",
	    state.conf.recipient_delimiter);
	apply_limits();
	fit_nofile();
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

/* socket_dir: created 0755 when missing; an existing one must be a folder
 * (not a link) owned by root, the service user or the starting user, and
 * writable by its owner only - else whoever may write it could put their
 * own socket where Postfix, Dovecot or an operator's passphrase goes. */
static void
socket_dir_check(void)
{
	const char *dir = state.conf.socket_dir;
	uid_t user_uid = getuid();
	struct passwd *pw;
	struct stat sb;
	char owner[64];
	bool made;
	int fd;

	if (state.conf.user[0] != '\0') {
		if ((pw = getpwnam(state.conf.user)) == NULL)
			die("no user '%s'", state.conf.user);
		user_uid = pw->pw_uid;
	}
	made = mkdir(dir, 0755) == 0;
	if (!made && errno != EEXIST)
		die("cannot create %s: %s", dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		die("socket_dir %s is not a folder (a file or a symbolic "
		    "link)", dir);
	if (fd < 0)
		die("cannot open %s: %s", dir, strerror(errno));
	/* umask 077 made a new one 0700: Postfix and Dovecot must reach
	 * their sockets through it. */
	if (made && fchmod(fd, 0755) != 0)
		die("cannot chmod %s: %s", dir, strerror(errno));
	if (fstat(fd, &sb) != 0)
		die("cannot stat %s: %s", dir, strerror(errno));
	close(fd);
	if ((sb.st_uid != 0 && sb.st_uid != user_uid &&
	    sb.st_uid != getuid()) || (sb.st_mode & 022) != 0) {
		if ((pw = getpwuid(sb.st_uid)) != NULL)
			snprintf(owner, sizeof(owner), "%s", pw->pw_name);
		else
			snprintf(owner, sizeof(owner), "uid %u",
			    (unsigned)sb.st_uid);
		die("socket_dir %s is owned by %s (uid %u) with mode %04o: it "
		    "must belong to root%s%s and be writable by its owner "
		    "only", dir, owner, (unsigned)sb.st_uid,
		    (unsigned)(sb.st_mode & 07777),
		    state.conf.user[0] ? " or " : "", state.conf.user);
	}
}

static void
make_socket(enum sock_kind k, const struct conf_socket *cs)
{
	char path[sizeof(state.conf.socket_dir) + 16];
	struct vs_err err;
	gid_t gid = (gid_t)-1;

	snprintf(path, sizeof(path), "%s/%s", state.conf.socket_dir,
	    sock_names[k]);
	if (cs->group[0] != '\0')
		gid = group_id(cs->group, sock_names[k]);
	vs_err_clear(&err);
	if (conn_listen(&conns, k, path, gid, cs->mode, &err) != VS_OK)
		die("%s", err.msg);
}

static void
make_sockets(void)
{
	struct vs_err err;

	socket_dir_check();
	make_socket(SOCK_ADMIN, &state.conf.admin);
	make_socket(SOCK_SOCKETMAP, &state.conf.socketmap);
	make_socket(SOCK_POLICY, &state.conf.policy);
	make_socket(SOCK_AUTH, &state.conf.auth);
	/* Self-service (off by default): poppassd as the two kinds after
	 * the four sockets, httpapi's port (served once the hash workers
	 * run). */
	vs_err_clear(&err);
	if (svc_poppassd_open(&state, &conns, SOCK_KINDS, &err) != VS_OK ||
	    svc_httpapi_open(&state, &err) != VS_OK)
		die("%s", err.msg);
}

/* --- privileges --- */

static void
drop_privileges(void)
{
	struct passwd *pw;
	gid_t gid;

	if (state.conf.user[0] == '\0') {
		state.run_uid = getuid();
		if (getuid() == 0)
			svc_log(LOG_WARNING, "running as root: set 'user' in "
			    "the configuration");
		return;
	}
	if ((pw = getpwnam(state.conf.user)) == NULL)
		die("no user '%s'", state.conf.user);
	gid = state.conf.group[0] ? group_id(state.conf.group, "group") :
	    pw->pw_gid;
	if (getuid() != 0) {
		if (getuid() != pw->pw_uid)
			die("must start as root to run as %s", state.conf.user);
		state.run_uid = getuid();
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
	state.run_uid = pw->pw_uid;
	svc_log(LOG_INFO, "running as %s (uid %u, gid %u)", state.conf.user,
	    (unsigned)pw->pw_uid, (unsigned)gid);
}

/* --- the auth socket's requests (guard.c, then auth.c) --- */

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
is_sealed(struct svc *s)
{
	bool sealed;

	pthread_rwlock_rdlock(&s->keylock);
	sealed = store_is_sealed(s->st);
	pthread_rwlock_unlock(&s->keylock);
	return sealed;
}

/* The auth kind of the connection loop: one request from c->in; false to
 * stop processing input for now (incomplete, handed to a hash worker, or
 * closing). */
static bool
auth_input(struct conn *c)
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
	conn_consume(c, used);
	state.stats.auth_requests++;
	if (req.op == AUTH_LOOKUP) {
		svc_auth_lookup(&state, &req, &rep);
		auth_reply_to(c, &rep);
	} else if (is_sealed(&state)) {
		/* Sealed means "later": never "no", throttled or not. */
		auth_temp(c, "vmseal is sealed");
	} else if ((v = svc_guard_check(&state, &req)) == GUARD_THROTTLED) {
		/* Throttled: refused at once, no hash spent. */
		state.stats.auth_throttled++;
		memset(&rep, 0, sizeof(rep));
		rep.result = AUTH_FAIL;
		snprintf(rep.reason, sizeof(rep.reason), "throttled");
		auth_reply_to(c, &rep);
	} else if (v == GUARD_BUSY) {
		/* As many checks in flight as failures left: later. */
		auth_temp(c, "too many password checks in progress");
	} else if ((r = svc_auth_submit(&state, c, &req)) == VS_OK) {
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
		svc_guard_result(&state, &req, &rep);
		auth_reply_to(c, &rep);
	}
	auth_request_wipe(&req);
	return !c->busy;
}

/* A hash worker finished: answer, and go on with the connection. */
static void
auth_done(void *conn, const struct auth_request *req,
    const struct auth_reply *rep)
{
	struct conn *c = conn;

	svc_guard_result(&state, req, rep);
	if (!conn_unbusy(c))
		return;         /* closed while it was hashed */
	auth_reply_to(c, rep);
	conn_process(c);
}

static void
on_auth_done(struct conn_set *s, int fd)
{
	(void)s;
	(void)fd;
	svc_auth_collect(auth_done);
}

static void
admin_handoff(struct conn_set *s, int fd)
{
	svc_admin_enqueue(s->arg, fd);
}

static void reload_conf(void);

static void
on_signal(struct conn_set *s, int fd)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload_conf();
			continue;
		}
		stop_signal = (int)si.ssi_signo;
		s->stop = true;
		return;
	}
}

static void
setup_kinds(void)
{
	int k;

	conns.arg = &state;
	conns.in_max = CONN_IN_MAX;
	conns.out_max = CONN_OUT_MAX;
	conns.refused = &state.stats.refused;
	for (k = 0; k < SOCK_KINDS; k++) {
		conns.kind[k].name = sock_names[k];
		conns.kind[k].open = &state.stats.connections[k];
		conns.kind[k].accepted = &state.stats.accepted[k];
		conns.kind[k].refused = &state.stats.refused_kind[k];
	}
	/* admin.c counts its own sessions (connections[SOCK_ADMIN]). */
	conns.kind[SOCK_ADMIN].handoff = admin_handoff;
	conns.kind[SOCK_SOCKETMAP].process = svc_socketmap_input;
	conns.kind[SOCK_SOCKETMAP].too_long = svc_socketmap_too_long;
	conns.kind[SOCK_POLICY].process = svc_policy_input;
	conns.kind[SOCK_AUTH].process = auth_input;
	conns.nkinds = SOCK_KINDS;
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
"  -d, --store-dir DIR   the store folder (lmdb:DIR; overrides store and\n"
"                        store_dir)\n"
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

	conf_defaults(&state.conf);
	vs_err_clear(&err);
	r = conf_load(&state.conf, path, &err);
	if (r != VS_OK && (r != VS_ENOTFOUND || must_exist))
		die("%s", err.msg);
	if (dir != NULL) {      /* -d DIR: lmdb:DIR, over store and store_dir */
		snprintf(state.conf.store_dir, sizeof(state.conf.store_dir),
		    "%s", dir);
		state.conf.store[0] = '\0';
	}
	if (sockdir != NULL)
		snprintf(state.conf.socket_dir, sizeof(state.conf.socket_dir),
		    "%s", sockdir);
}

/* DEMO ONLY: unseal at start from a file holding the passphrase.  Read
 * as root, before privileges are dropped; loudly logged at every start. */
/* A PostgreSQL store: the read cache and its listener, this host's row
 * in the hosts table, the answer deadline (vmseal.conf's host_name,
 * pg_cache_mb, pg_answer_timeout).  After the privileges are dropped:
 * the listener's connection is made as the service's user, as every
 * connection after the first. */
static void
serve_store(void)
{
	struct store_service o = { .answer_timeout_s = -1 };
	char host[64] = "";
	struct vs_err err;

	if (state.conf.host_name[0] != '\0')
		snprintf(host, sizeof(host), "%s", state.conf.host_name);
	else if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	o.host_name = host[0] != '\0' ? host : NULL;
	if (state.conf.pg_answer_timeout != CONF_UNSET)
		o.answer_timeout_s = (int)state.conf.pg_answer_timeout;
	o.cache_bytes = (size_t)state.conf.pg_cache_mb << 20;
	vs_err_clear(&err);
	if (store_serve(state.st, &o, &err) != VS_OK)
		die("%s", err.msg);
}

static void
unseal_from_keyfile(void)
{
	struct vs_err err;
	char buf[1024 + 2];
	ssize_t n;
	size_t len;
	int fd, r;

	if (state.conf.unseal_keyfile[0] == '\0')
		return;
	svc_log(LOG_WARNING, "unseal_keyfile is set: unsealing from %s - "
	    "the key lies next to the lock; for demonstrations only",
	    state.conf.unseal_keyfile);
	if ((fd = open(state.conf.unseal_keyfile, O_RDONLY | O_CLOEXEC)) < 0) {
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
	vs_err_clear(&err);
	/* The same unseal as the admin command's (lib/store.h). */
	r = store_unseal(state.st, buf, len, STORE_UNSEAL_KEYFILE, &err);
	sodium_memzero(buf, sizeof(buf));
	if (r != VS_OK) {
		svc_log(LOG_ERR, "the key file does not open the store (%s); "
		    "staying sealed", err.msg);
		return;
	}
	state.from_keyfile = true;
	state.unsealed_at = time(NULL);
	svc_audit(&state, 0, "unseal", "with the key file (unseal_keyfile)");
	svc_log_head(&state);
}

/*
 * Record a service action (unseal, seal) in the audit trail, in a write
 * transaction of its own on the unsealed store; uid is the operator's (0
 * for the service itself).  Best effort: a trail that cannot be written
 * must not keep the service sealed (mail would wait) nor keep the key in
 * memory, so a failure is logged and returned for the caller to report.
 */
struct audit_ctx {
	uint32_t uid;
	const char *action, *detail;
};

static int
audit_fn(struct store_txn *txn, void *vctx, struct vs_err *err)
{
	const struct audit_ctx *c = vctx;

	return audit_append(txn, c->uid, c->action, c->detail, err);
}

int
svc_audit(struct svc *s, uint32_t uid, const char *action,
    const char *detail)
{
	struct audit_ctx c = { uid, action, detail };
	struct vs_err e;
	int r;

	vs_err_clear(&e);
	/* run again after a conflict with another host (PostgreSQL) */
	r = store_write(s->st, audit_fn, &c, &e);
	if (r != VS_OK)
		svc_log(LOG_ERR, "%s by uid %u not recorded in the audit "
		    "trail: %s", action, (unsigned)uid, e.msg);
	return r;
}

/*
 * Anchor the store's head outside the store: log its generation and hash
 * whenever they changed since the last line (after an unseal and after
 * admin commands), so that a whole store put back to an older copy shows
 * in the log as a generation going backwards or a hash never seen.  The
 * caller holds the key lock (read or write) and the store is unsealed.
 */
void
svc_log_head(struct svc *s)
{
	static uint64_t logged_gen;
	static bool logged;
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct store_head h;
	const char *problem = NULL;
	char hex[STORE_HEAD_HASH_BYTES * 2 + 1];

	if (store_is_sealed(s->st))
		return;
	store_head_of(s->st, &h, &problem);
	if (!h.present)
		return;
	pthread_mutex_lock(&mu);
	if (!logged || h.generation != logged_gen) {
		sodium_bin2hex(hex, sizeof(hex), h.hash, sizeof(h.hash));
		svc_log(LOG_NOTICE, "store head: generation %llu hash %s%s",
		    (unsigned long long)h.generation, hex, h.created ?
		    " (created: format 1 store upgraded)" : "");
		logged_gen = h.generation;
		logged = true;
	}
	pthread_mutex_unlock(&mu);
}

/* Seal after auto_seal_after seconds without admin contact. */
static void
auto_seal(time_t now)
{
	bool sealed;

	if (state.conf.auto_seal_after == 0)
		return;
	pthread_rwlock_rdlock(&state.keylock);
	sealed = store_is_sealed(state.st);
	pthread_rwlock_unlock(&state.keylock);
	if (sealed ||
	    now - state.last_admin < (time_t)state.conf.auto_seal_after)
		return;
	svc_seal(&state);
	svc_log(LOG_NOTICE, "sealed: no admin contact for %us "
	    "(auto_seal_after)", state.conf.auto_seal_after);
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
	r = conf_load(&c, state.conf_path, &err);
	if (r != VS_OK) {
		svc_log(LOG_ERR, "reload refused, keeping the running "
		    "settings: %s", err.msg);
		return;
	}
	memcpy(state.conf.recipient_delimiter, c.recipient_delimiter,
	    sizeof(c.recipient_delimiter));
	state.conf.auto_seal_after = c.auto_seal_after;
	state.conf.max_connections = c.max_connections;
	state.conf.admin_max_connections = c.admin_max_connections;
	state.conf.socketmap_max_connections = c.socketmap_max_connections;
	state.conf.policy_max_connections = c.policy_max_connections;
	state.conf.auth_max_connections = c.auth_max_connections;
	state.conf.idle_timeout = c.idle_timeout;
	state.conf.policy_recipient_limit = c.policy_recipient_limit;
	state.conf.hash_queue = c.hash_queue;
	state.conf.login_by_address = c.login_by_address;
	apply_runtime_settings();
	svc_log(LOG_NOTICE, "configuration reloaded (recipient_delimiter, "
	    "max_connections and the per-socket limits, idle_timeout, "
	    "policy_recipient_limit, hash_queue, login_by_address, "
	    "auto_seal_after)");
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
	struct vs_err err;
	sigset_t sigs;
	int c, sigfd, fac;
	time_t now, last_sweep = 0;

	/* Nothing this process creates is for anyone else, unless given its
	 * mode on purpose (the sockets and their folder). */
	umask(077);
	while ((c = getopt_long(argc, argv, "c:d:s:fhV", lo, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'd': dir = optarg; break;
		case 's': sockdir = optarg; break;
		case 'f': state.foreground = true; break;
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
	if ((fac = svc_log_facility(state.conf.syslog_facility)) < 0) {
		fprintf(stderr, "vmsealed: unknown syslog_facility '%s'\n",
		    state.conf.syslog_facility);
		return 2;
	}
	if (!state.foreground)
		svc_log_syslog(fac);
	state.conf_path = conf_path ? conf_path : CONF_DEFAULT_PATH;
	apply_runtime_settings();
	if (state.conf.admin_group[0] != '\0') {
		state.admin_gid = group_id(state.conf.admin_group,
		    "admin_group");
		state.have_admin_gid = true;
	}
	if (svc_rates_init(&state) != VS_OK)
		die("out of memory");
	{
		pthread_rwlockattr_t ra;

		/* Writers first: "vmseal seal" must not wait behind a flood
		 * of lookups and password checks. */
		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(&ra,
		    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&state.keylock, &ra);
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

	setup_kinds();
	vs_err_clear(&err);
	if (conn_set_init(&conns, &err) != VS_OK)
		die("%s", err.msg);
	make_sockets();
	vs_err_clear(&err);
	if (store_open(conf_store_location(&state.conf), STORE_OPEN_WRITE,
	    &state.st, &err) != VS_OK)
		die("%s", err.msg);
	unseal_from_keyfile();
	drop_privileges();
	serve_store();

	if (conn_watch(&conns, sigfd, on_signal, &err) != VS_OK)
		die("%s", err.msg);
	if (svc_admin_start(&state) != VS_OK)
		die("cannot start the admin thread");
	if (svc_auth_start(&state) != VS_OK)
		die("cannot start the hash workers");
	if (svc_guard_init(&state, &err) != VS_OK)
		die("%s", err.msg);
	if (conn_watch(&conns, svc_auth_eventfd(), on_auth_done, &err) !=
	    VS_OK)
		die("%s", err.msg);
	if (svc_httpapi_start(&state, &err) != VS_OK)
		die("%s", err.msg);
	state.started = state.last_admin = time(NULL);
	if (state.from_keyfile) {
		svc_auth_unsealed(&state);
		svc_guard_unsealed(&state);
		svc_log(LOG_WARNING, "started UNSEALED FROM A KEY FILE (%s): "
		    "demo only; store %s, sockets in %s",
		    state.conf.unseal_keyfile, store_dir(state.st),
		    state.conf.socket_dir);
	} else {
		svc_log(LOG_NOTICE, "started SEALED: store %s, sockets in %s; "
		    "a person must run 'vmseal unseal'", store_dir(state.st),
		    state.conf.socket_dir);
	}

	for (;;) {
		if (conn_poll(&conns, 1000, &err) != VS_OK)
			die("%s", err.msg);
		if (conns.stop) {
			svc_log(LOG_NOTICE, "signal %d: sealing and stopping",
			    stop_signal);
			svc_admin_stop(&state);
			svc_batch_free(&state);
			svc_seal(&state);
			/* Kept until exit: a hash worker or the event writer
			 * that comes back waits here instead of touching a
			 * closed store.  No thread holds it long (never while
			 * hashing), so this is at once. */
			pthread_rwlock_wrlock(&state.keylock);
			store_close(&state.st);
			return 0;
		}
		svc_batch_end(&state);
		svc_guard_tick(&state);
		if ((now = time(NULL)) != last_sweep) {
			last_sweep = now;
			if (state.conf.idle_timeout > 0)
				conn_expire_idle(&conns, now,
				    state.conf.idle_timeout);
			auto_seal(now);
		}
	}
}
