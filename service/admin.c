/*
 * admin.c - vmsealed's admin socket: operator commands run inside the
 * service, on its unsealed store, in up to ADMIN_WORKERS admin threads
 * (writes: LMDB's one writer, or PostgreSQL's SERIALIZABLE transactions
 * with cli_run's retries; argv parsing by cmd_parse's lock).
 *
 * Who may connect: root, and members of admin_group, checked with
 * SO_PEERCRED (and the socket's group and mode) before anything is read.
 *
 * The conversation is helper/cli_client.c's (see the comment there): the
 * client sends "run" with the secrets it was given by descriptor
 * (--passphrase-fd, --recovery-key-fd) and the command line; the command
 * runs here through the same code as offline (admin/cmd_*.c), with a
 * cli_io that takes those secrets from the request and asks the client
 * for every other secret, input file, output file and terminal question;
 * the session ends with "exit" CODE STDOUT STDERR.  Every message is
 * checked against ipc.c's table of verbs (ipc_verb_send/ipc_verb_recv);
 * a malformed one ends the session.
 *
 * Security: secrets arrive in ipc frames (wiped buffers) and are copied
 * into sodium_malloc()ed memory at once (the request's frame is wiped
 * before the command runs; a secret the command never asked for is wiped
 * at the end of the session); commands are logged by name and action only
 * (no arguments: an address is not a secret, but a habit of logging argv
 * is how passwords end up in logs).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "cli.h"
#include "json.h"
#include "prompt.h"
#include "ipc.h"
#include "service.h"

/* A person may be typing a passphrase at the other end... */
#define ADMIN_TIMEOUT_MS (15 * 60 * 1000)
/* ...but the command line itself comes at once. */
#define ADMIN_FIRST_MS (10 * 1000)
#define ADMIN_QUEUE 16
/* Sessions served at once: one operator at a prompt never blocks
 * another's "vmseal seal". */
#define ADMIN_WORKERS 4

struct session {
	struct svc *svc;
	int fd;
	uid_t uid;
	struct ipc_msg *in;             /* the input file being read */
	char *in_data;
	size_t in_len;
	struct buf out;                 /* an output file being written */
	bool out_open;
	bool lock_held;
	int failed;                     /* the conversation broke */
	/* Secrets that came with "run": --passphrase-fd's, then
	 * --recovery-key-fd's (fd -1: none); each handed out once. */
	struct presecret {
		int fd;
		struct secret sec;
	} pre[2];
};

static struct {
	pthread_t threads[ADMIN_WORKERS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int queue[ADMIN_QUEUE];
	size_t n;
	bool stop, started;
	struct svc *svc;
} admin = { .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER };

/* --- the remote cli_io --- */

static struct session *
sess(struct cli *cli)
{
	return (struct session *)cli->svc->ctx;
}

/* Ask the client (verb v with args[0..n), lens[i] (size_t)-1 or lens
 * NULL: strlen); *reply is its answer, "ok" [DATA] (a "fail" CODE MSG
 * becomes the error). */
static int
ask_client(struct session *se, int v, const char *const *args, size_t n,
    const size_t *lens, struct ipc_msg *reply, struct vs_err *err)
{
	int r;

	if (se->failed)
		return vs_fail(err, VS_EIO, "admin connection lost");
	/* Commands ask for secrets and files before they open the store:
	 * nothing may wait on a person while the key lock is held. */
	if (se->lock_held)
		return vs_fail(err, VS_EINVAL, "internal error: client asked "
		    "while the store is open");
	r = ipc_verb_send(se->fd, IPC_SERVICE, v, (const void *const *)args,
	    lens, n, ADMIN_TIMEOUT_MS, err);
	if (r == VS_OK)
		r = ipc_verb_recv(se->fd, IPC_CLIENT, IPC_EXPECT_ANSWER,
		    ADMIN_TIMEOUT_MS, reply, err);
	if (r != VS_OK) {
		se->failed = 1;
		return r;
	}
	if (reply->verb == IPC_FAIL) {
		int c = ipc_item_int(reply, 1);

		if (c >= 0 || c < VS_ELIMIT)
			c = VS_EINVAL;
		vs_fail(err, c, "%.*s", (int)(reply->lens[2] <
		    VS_ERR_MSG_MAX ? reply->lens[2] : VS_ERR_MSG_MAX - 1),
		    (const char *)reply->items[2]);
		ipc_msg_free(reply);
		return c;
	}
	return VS_OK;
}

/* The secret the request brought for descriptor fd, if any: handed out
 * once (out owns it then). */
static bool
take_presecret(struct session *se, int fd, struct secret *out)
{
	size_t k;

	for (k = 0; fd >= 0 && k < sizeof(se->pre) / sizeof(se->pre[0]); k++)
		if (se->pre[k].fd == fd && se->pre[k].sec.s != NULL) {
			*out = se->pre[k].sec;
			se->pre[k].sec.s = NULL;
			se->pre[k].sec.len = se->pre[k].sec.cap = 0;
			se->pre[k].fd = -1;
			return true;
		}
	return false;
}

static int
r_secret(struct cli *cli, int fd, const char *prompt, const char *what,
    bool confirm, struct secret *out, struct vs_err *err)
{
	struct session *se = sess(cli);
	struct ipc_msg m;
	char fds[16];
	const char *items[4] = { fds, prompt ? prompt : "", what,
	    confirm ? "1" : "0" };
	int r;

	out->s = NULL;
	out->len = 0;
	/* Given by descriptor: it came with the request, no round trip. */
	if (take_presecret(se, fd, out))
		return VS_OK;
	snprintf(fds, sizeof(fds), "%d", fd);
	if ((r = ask_client(se, IPC_SECRET, items, 4, NULL, &m, err)) != VS_OK)
		return r;
	if (m.n != 2 || m.lens[1] == 0 || m.lens[1] > PROMPT_SECRET_MAX ||
	    memchr(m.items[1], '\0', m.lens[1]) != NULL) {
		ipc_msg_free(&m);
		return vs_fail(err, VS_EINVAL, "the %s is empty or too long",
		    what);
	}
	/* Full size, like a local secret: callers may append to it (a
	 * recovery key given on two lines). */
	if ((out->s = sodium_malloc(PROMPT_SECRET_MAX + 1)) == NULL) {
		ipc_msg_free(&m);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	out->cap = PROMPT_SECRET_MAX + 1;
	memcpy(out->s, m.items[1], m.lens[1]);
	out->s[m.lens[1]] = '\0';
	out->len = m.lens[1];
	ipc_msg_free(&m);       /* wipes the frame */
	return VS_OK;
}

static bool
ask_flag(struct cli *cli, int v, int fd)
{
	struct session *se = sess(cli);
	struct ipc_msg m;
	struct vs_err err;
	char fds[16];
	const char *items[1] = { fds };
	bool yes;

	snprintf(fds, sizeof(fds), "%d", fd);
	if (ask_client(se, v, items, fd >= 0 ? 1 : 0, NULL, &m, &err) != VS_OK)
		return false;
	yes = m.n == 2 && ipc_item_is(&m, 1, "1");
	ipc_msg_free(&m);
	return yes;
}

static bool
r_have_tty(struct cli *cli)
{
	return ask_flag(cli, IPC_HAVE_TTY, -1);
}

static bool
r_is_tty(struct cli *cli, int fd)
{
	return ask_flag(cli, IPC_IS_TTY, fd);
}

static FILE *
r_open_input(struct cli *cli, const char *path, struct vs_err *err)
{
	struct session *se = sess(cli);
	const char *items[1] = { path };
	FILE *fp;

	if (se->in != NULL) {
		vs_fail(err, VS_EINVAL, "one input file at a time");
		return NULL;
	}
	if ((se->in = calloc(1, sizeof(*se->in))) == NULL) {
		vs_fail(err, VS_ENOMEM, "out of memory");
		return NULL;
	}
	if (ask_client(se, IPC_INPUT, items, 1, NULL, se->in, err) != VS_OK) {
		free(se->in);
		se->in = NULL;
		return NULL;
	}
	if (se->in->n != 2) {
		vs_fail(err, VS_EINVAL, "malformed file from the client");
		ipc_msg_free(se->in);
		free(se->in);
		se->in = NULL;
		return NULL;
	}
	/* fmemopen of an empty buffer is allowed with size 0 on glibc >= 2.22
	 * only for "r"... give it one byte it will not read. */
	fp = fmemopen((void *)se->in->items[1],
	    se->in->lens[1] ? se->in->lens[1] : 1, "r");
	if (fp != NULL && se->in->lens[1] == 0)
		fseek(fp, 1, SEEK_SET);
	if (fp == NULL) {
		vs_fail(err, VS_ENOMEM, "cannot read the file");
		ipc_msg_free(se->in);
		free(se->in);
		se->in = NULL;
	}
	return fp;
}

static void
r_close_input(struct cli *cli, FILE *fp)
{
	struct session *se = sess(cli);

	if (fp != NULL)
		fclose(fp);
	if (se->in != NULL) {
		ipc_msg_free(se->in);   /* wipes */
		free(se->in);
		se->in = NULL;
	}
}

static FILE *
r_create_output(struct cli *cli, const char *path, struct vs_err *err)
{
	struct session *se = sess(cli);
	FILE *fp;

	if (se->out_open) {
		vs_fail(err, VS_EINVAL, "one output file at a time");
		return NULL;
	}
	/* An export: a buffer that wipes what it leaves at every growth. */
	fp = buf_stream_open(&se->out, BUF_MAX);
	if (fp == NULL)
		vs_fail(err, VS_ENOMEM, "out of memory");
	else
		se->out_open = true;
	return fp;
}

static int
r_finish_output(struct cli *cli, FILE *fp, const char *path,
    struct vs_err *err)
{
	struct session *se = sess(cli);
	struct ipc_msg m;
	const char *items[2];
	size_t lens[2] = { (size_t)-1, 0 };
	int r;

	if (fclose(fp) != 0) {
		buf_free(&se->out);
		se->out_open = false;
		return vs_fail(err, VS_ELIMIT, "the output is over %u MiB",
		    (unsigned)(BUF_MAX >> 20));
	}
	items[0] = path;
	items[1] = se->out.data ? (const char *)se->out.data : "";
	lens[1] = se->out.len;
	r = ask_client(se, IPC_OUTPUT, items, 2, lens, &m, err);
	if (r == VS_OK)
		ipc_msg_free(&m);
	buf_free(&se->out);     /* wipes */
	se->out_open = false;
	return r;
}

static int
r_open_store(struct cli *cli, bool write, struct store **st_r)
{
	struct session *se = sess(cli);

	pthread_rwlock_rdlock(&se->svc->keylock);
	if (store_is_sealed(se->svc->st)) {
		pthread_rwlock_unlock(&se->svc->keylock);
		return cli_fail(cli, VS_ESEALED, "vmsealed is sealed: run "
		    "'vmseal unseal' first");
	}
	se->lock_held = true;
	*st_r = se->svc->st;
	return EX_VS_OK;
}

static void
r_close_store(struct cli *cli, struct store **st)
{
	struct session *se = sess(cli);

	if (*st != NULL && se->lock_held) {
		se->lock_held = false;
		pthread_rwlock_unlock(&se->svc->keylock);
	}
	*st = NULL;
}

static const struct cli_io remote_io = {
	.secret = r_secret,
	.have_tty = r_have_tty,
	.is_tty = r_is_tty,
	.open_input = r_open_input,
	.close_input = r_close_input,
	.create_output = r_create_output,
	.finish_output = r_finish_output,
	.open_store = r_open_store,
	.close_store = r_close_store,
};

/* --- unseal, seal, status --- */

/* Record unseal or seal in the audit trail (lib/audit.h), in a write
 * transaction of its own on the unsealed store (the caller holds the key
 * lock).  Best effort: a trail that cannot be written must not keep the
 * service sealed (mail would wait) nor keep the key in memory; it is
 * logged and the operator warned instead. */
static void
audit_service(struct cli *cli, struct svc *s, const char *action,
    const char *detail)
{
	if (svc_audit(s, (uint32_t)cli->peer_uid, action, detail) != VS_OK)
		fprintf(cli->err, "vmseal: warning: the %s was not recorded in "
		    "the audit trail (see vmsealed's log)\n", action);
}

static int
s_unseal(struct cli *cli, const char *secret, size_t len, bool recovery,
    struct vs_err *err)
{
	struct svc *s = sess(cli)->svc;
	struct secret sec = { (char *)secret, len, len + 1 };
	int r;

	pthread_rwlock_wrlock(&s->keylock);
	if (!store_is_sealed(s->st)) {
		pthread_rwlock_unlock(&s->keylock);
		fprintf(cli->err, "vmseal: already unsealed\n");
		return VS_OK;
	}
	r = cli_unseal_store(s->st, &sec, recovery, err);
	if (r == VS_OK) {
		s->unsealed_at = time(NULL);
		audit_service(cli, s, "unseal", recovery ?
		    "with the recovery key" : "with the passphrase");
		svc_auth_unsealed(s);
		svc_guard_unsealed(s);
		svc_log_head(s);
	}
	pthread_rwlock_unlock(&s->keylock);
	if (r == VS_OK)
		svc_log(LOG_NOTICE, "unsealed by uid %u with the %s",
		    (unsigned)cli->peer_uid, recovery ? "recovery key" :
		    "passphrase");
	else
		svc_log(LOG_WARNING, "unseal by uid %u failed: %s",
		    (unsigned)cli->peer_uid, vs_strstatus(r));
	return r;
}

void
svc_seal(struct svc *s)
{
	pthread_rwlock_wrlock(&s->keylock);
	store_seal(s->st);
	s->unsealed_at = 0;
	pthread_rwlock_unlock(&s->keylock);
}

static void
s_seal(struct cli *cli)
{
	struct svc *s = sess(cli)->svc;

	/* Recorded before the key is wiped: afterwards nothing can be
	 * written. */
	pthread_rwlock_rdlock(&s->keylock);
	if (!store_is_sealed(s->st))
		audit_service(cli, s, "seal", "");
	pthread_rwlock_unlock(&s->keylock);
	svc_seal(s);
	svc_log(LOG_NOTICE, "sealed by uid %u", (unsigned)cli->peer_uid);
}

static void
s_throttle_list(struct cli *cli, bool json)
{
	svc_guard_list(sess(cli)->svc, cli->out, json);
}

static bool
s_throttle_clear(struct cli *cli, const char *what)
{
	bool r = svc_guard_clear(sess(cli)->svc, what);

	if (r)
		svc_log(LOG_NOTICE, "throttle: uid %u cleared an entry",
		    (unsigned)cli->peer_uid);
	return r;
}

/* --- status (service/status.c) --- */

static void
s_status(struct cli *cli, bool json)
{
	svc_status_print(sess(cli)->svc, cli->out, json);
}

/* --- sessions --- */

static bool
peer_is_admin(struct svc *s, int fd, uid_t *uid_r)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct passwd *pw;
	gid_t groups[256];
	int ngroups = 256, i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	*uid_r = cred.uid;
	if (cred.uid == 0)
		return true;
	if (!s->have_admin_gid)
		return false;
	if (cred.gid == s->admin_gid)
		return true;
	/* Supplementary groups of the peer's user. */
	if ((pw = getpwuid(cred.uid)) == NULL ||
	    getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0)
		return false;
	for (i = 0; i < ngroups; i++)
		if (groups[i] == s->admin_gid)
			return true;
	return false;
}

static void
finish(struct session *se, int code, FILE *out, struct buf *obuf,
    FILE *err, struct buf *ebuf)
{
	char num[16];
	const char *items[3];
	size_t lens[3];
	struct vs_err e;

	fclose(out);
	fclose(err);
	snprintf(num, sizeof(num), "%d", code);
	items[0] = num;
	items[1] = obuf->data ? (const char *)obuf->data : "";
	items[2] = ebuf->data ? (const char *)ebuf->data : "";
	lens[0] = strlen(num);
	lens[1] = obuf->len;
	lens[2] = ebuf->len;
	if (!se->failed)
		ipc_verb_send(se->fd, IPC_SERVICE, IPC_EXIT,
		    (const void *const *)items, lens, 3, ADMIN_TIMEOUT_MS, &e);
	/* Output may hold exported hashes: buf_free wipes it. */
	buf_free(obuf);
	buf_free(ebuf);
}

/* The secrets "run" brought (items 1-4: FD SECRET FD SECRET) into
 * se->pre, in sodium_malloc()ed memory.  A descriptor comes with a
 * non-empty secret, "-1" with an empty item. */
static int
take_request_secrets(struct session *se, const struct ipc_msg *m,
    struct vs_err *err)
{
	size_t k, i;

	for (k = 0; k < 2; k++) {
		int fd = ipc_item_int(m, 1 + 2 * k);

		i = 2 + 2 * k;
		if ((fd < 0) != (m->lens[i] == 0) || fd < -1)
			return vs_fail(err, VS_EINVAL, "message 'run': %s "
			    "descriptor and secret do not match", k == 0 ?
			    "passphrase" : "recovery key");
		if (fd < 0)
			continue;
		if ((se->pre[k].sec.s = sodium_malloc(PROMPT_SECRET_MAX + 1)) ==
		    NULL)
			return vs_fail(err, VS_ENOMEM, "out of memory");
		se->pre[k].sec.cap = PROMPT_SECRET_MAX + 1;
		memcpy(se->pre[k].sec.s, m->items[i], m->lens[i]);
		se->pre[k].sec.s[m->lens[i]] = '\0';
		se->pre[k].sec.len = m->lens[i];
		se->pre[k].fd = fd;
	}
	return VS_OK;
}

_Static_assert(IPC_SECRET_MAX == PROMPT_SECRET_MAX,
    "a secret in a request fits a prompted one");

/* Receive the request: "run" with its secrets and command line.  The
 * frame is wiped before this returns; *argv_r (argc_r strings) is the
 * command line.  VS_ENOTFOUND: the peer closed without a word. */
static int
recv_request(struct session *se, int *argc_r, char ***argv_r,
    struct vs_err *err)
{
	struct ipc_msg m;
	char **argv;
	size_t i, argc;
	int r;

	*argv_r = NULL;
	*argc_r = 0;
	if ((r = ipc_recv(se->fd, IPC_MSG_MAX, ADMIN_FIRST_MS, &m, err)) !=
	    VS_OK) {
		se->failed = 1;         /* the framing broke: no answer */
		return r;
	}
	if ((r = ipc_verb_check(&m, IPC_CLIENT, IPC_BIT(IPC_RUN), err)) ==
	    VS_OK)
		r = take_request_secrets(se, &m, err);
	if (r != VS_OK) {
		ipc_msg_free(&m);
		return r;
	}
	argc = m.n - 5;
	if ((argv = calloc(argc + 1, sizeof(char *))) == NULL) {
		ipc_msg_free(&m);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	for (i = 0; i < argc; i++)
		if ((argv[i] = vs_strndup((const char *)m.items[5 + i],
		    m.lens[5 + i])) == NULL)
			break;
	ipc_msg_free(&m);       /* wipes the secrets' frame */
	if (i < argc) {
		while (i > 0)
			vs_freestr(argv[--i]);
		free(argv);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	*argv_r = argv;
	*argc_r = (int)argc;
	return VS_OK;
}

static void
run_session(struct svc *s, int fd)
{
	struct session se = { .svc = s, .fd = fd,
	    .pre = { { -1, { NULL, 0, 0 } }, { -1, { NULL, 0, 0 } } } };
	struct cli_service svcops = { .unseal = s_unseal, .seal = s_seal,
	    .status = s_status, .throttle_list = s_throttle_list,
	    .throttle_clear = s_throttle_clear, .commands = svc_commands,
	    .ctx = &se };
	struct cli cli;
	struct vs_err err;
	struct buf obuf = { 0 }, ebuf = { 0 };
	char **argv = NULL;
	int code, argc = 0, i, r;

	vs_err_clear(&err);
	memset(&cli, 0, sizeof(cli));
	cli.prog = "vmseal";
	cli.dir = store_dir(s->st);
	cli.socket_dir = s->conf.socket_dir;
	cli.conf = &s->conf;
	cli.passphrase_fd = -1;
	cli.recovery_key_fd = -1;
	cli.io = &remote_io;
	cli.svc = &svcops;
	/* A command's output may hold hashes (export to standard output):
	 * buffers that wipe what they leave when they grow. */
	cli.out = buf_stream_open(&obuf, BUF_MAX);
	cli.err = buf_stream_open(&ebuf, BUF_MAX);
	if (cli.out == NULL || cli.err == NULL) {
		if (cli.out)
			fclose(cli.out);
		if (cli.err)
			fclose(cli.err);
		buf_free(&obuf);
		buf_free(&ebuf);
		return;
	}
	if (!peer_is_admin(s, fd, &se.uid)) {
		svc_log(LOG_WARNING, "admin connection from uid %u refused "
		    "(not root, not in admin_group)", (unsigned)se.uid);
		fprintf(cli.err, "vmseal: permission denied: the admin socket "
		    "is for root and the admin group\n");
		finish(&se, EX_VS_USAGE, cli.out, &obuf, cli.err, &ebuf);
		return;
	}
	cli.peer_uid = se.uid;
	s->last_admin = time(NULL);
	r = recv_request(&se, &argc, &argv, &err);
	if (r != VS_OK) {
		if (r != VS_ENOTFOUND)
			svc_log(LOG_WARNING, "admin: malformed request from "
			    "uid %u: %s", (unsigned)se.uid, err.msg);
		fprintf(cli.err, "vmseal: malformed request: %s\n", err.msg);
		code = EX_VS_USAGE;
	} else if (cli_command_is_local_only(argv[0])) {
		fprintf(cli.err, "vmseal: '%s' cannot run through the service "
		    "(use --offline with the service stopped)\n", argv[0]);
		code = EX_VS_USAGE;
	} else {
		bool action = argc > 1 && argv[1][0] != '-';

		svc_log(LOG_INFO, "admin: uid %u runs '%s%s%s'",
		    (unsigned)se.uid, argv[0], action ? " " : "",
		    action ? argv[1] : "");
		code = cli_run(&cli, argc, argv);       /* retries, cli.h */
	}
	for (i = 0; argv != NULL && i < argc; i++)
		vs_freestr(argv[i]);
	free(argv);
	/* Secrets sent but never asked for. */
	for (i = 0; i < 2; i++)
		prompt_free(&se.pre[i].sec);
	if (se.lock_held) {     /* a command that forgot to close */
		se.lock_held = false;
		pthread_rwlock_unlock(&s->keylock);
	}
	/* Anchor the store's head outside it after a change (vmsealed.c). */
	pthread_rwlock_rdlock(&s->keylock);
	svc_log_head(s);
	pthread_rwlock_unlock(&s->keylock);
	finish(&se, code, cli.out, &obuf, cli.err, &ebuf);
}

static void *
admin_main(void *arg)
{
	struct svc *s = arg;
	int fd;

	for (;;) {
		pthread_mutex_lock(&admin.mu);
		while (admin.n == 0 && !admin.stop)
			pthread_cond_wait(&admin.cv, &admin.mu);
		if (admin.stop) {
			pthread_mutex_unlock(&admin.mu);
			return NULL;
		}
		fd = admin.queue[0];
		memmove(admin.queue, admin.queue + 1,
		    --admin.n * sizeof(int));
		pthread_mutex_unlock(&admin.mu);
		/* Blocking I/O with timeouts from here on. */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		run_session(s, fd);
		close(fd);
		pthread_mutex_lock(&admin.mu);
		s->stats.connections[SOCK_ADMIN]--;
		pthread_mutex_unlock(&admin.mu);
	}
}

int
svc_admin_start(struct svc *s)
{
	int i;

	admin.svc = s;
	for (i = 0; i < ADMIN_WORKERS; i++)
		if (pthread_create(&admin.threads[i], NULL, admin_main, s) != 0)
			return VS_ENOMEM;
	admin.started = true;
	return VS_OK;
}

void
svc_admin_enqueue(struct svc *s, int fd)
{
	pthread_mutex_lock(&admin.mu);
	if (admin.n == ADMIN_QUEUE) {
		pthread_mutex_unlock(&admin.mu);
		svc_log(LOG_WARNING, "admin: too many waiting sessions");
		close(fd);
		return;
	}
	s->stats.connections[SOCK_ADMIN]++;
	admin.queue[admin.n++] = fd;
	pthread_cond_signal(&admin.cv);
	pthread_mutex_unlock(&admin.mu);
}

void
svc_admin_stop(struct svc *s)
{
	if (!admin.started)
		return;
	pthread_mutex_lock(&admin.mu);
	admin.stop = true;
	pthread_cond_broadcast(&admin.cv);
	pthread_mutex_unlock(&admin.mu);
	/* A session may be waiting on a person; do not join it forever. */
	(void)s;
}
