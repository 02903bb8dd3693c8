/*
 * cli_client.c - the vmseal command's online mode: run a command inside
 * vmsealed through its admin socket.
 *
 * The conversation (strictly one message each way at a time; every
 * message checked against ipc.c's table of verbs, ipc.h; the service side
 * is service/admin.c):
 *
 *   client  "run" PFD PASSPHRASE RFD RECOVERY-KEY ARGV...
 *   service "secret" FD PROMPT WHAT CONFIRM  -> "ok" SECRET | "fail" CODE MSG
 *           "have_tty"                       -> "ok" "1"|"0"
 *           "is_tty" FD                      -> "ok" "1"|"0"
 *           "input" PATH                     -> "ok" DATA | "fail" CODE MSG
 *           "output" PATH DATA               -> "ok" | "fail" CODE MSG
 *           "exit" CODE STDOUT STDERR        (end)
 *
 * A secret given with --passphrase-fd N or --recovery-key-fd N travels in
 * "run" (PFD/RFD "-1" and an empty item when not given): it is read here
 * before the request is sent (the recovery key as offline: one line, two,
 * or shares combined), so the service needs no round trip for it.  The
 * terminal and the other --*-fd options are still asked with "secret".
 *
 * Security: before anything is read or sent, the admin socket's server
 * must be root, the service user of vmseal.conf ("user") or ourselves
 * (SO_PEERCRED): whoever else listens there gets nothing, not even the
 * command line.  The client is the operator's agent, so it answers only
 * for what the operator named on this command line: a descriptor is read
 * only if it is the value of a "--...-fd" option, a file is read or
 * created only if its path is an argument; everything else is refused.
 * Secrets are read into sodium_malloc()ed memory and wiped after sending
 * (the frames that carried them are wiped buffers, ipc.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "ipc.h"
#include "prompt.h"

#define CLIENT_TIMEOUT_MS (15 * 60 * 1000)   /* a person may be typing */

struct client {
	struct cli *cli;
	int fd;
	int argc;
	char **argv;
};

static int
connect_admin(const char *dir)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/admin", dir) >=
	    sizeof(path))
		return -1;
	return ipc_connect(path);
}

/* Was fd named as the value of a --...-fd option? */
static bool
fd_allowed(const struct client *c, int fd)
{
	char num[16];
	int i;
	size_t l;

	snprintf(num, sizeof(num), "%d", fd);
	for (i = 0; i < c->argc; i++) {
		const char *a = c->argv[i], *eq = strchr(a, '=');

		l = strlen(a);
		if (strncmp(a, "--", 2) != 0)
			continue;
		if (eq != NULL && eq - a > 3 && strncmp(eq - 3, "-fd", 3) == 0 &&
		    strcmp(eq + 1, num) == 0)
			return true;
		if (eq == NULL && l > 3 && strcmp(a + l - 3, "-fd") == 0 &&
		    i + 1 < c->argc && strcmp(c->argv[i + 1], num) == 0)
			return true;
	}
	return false;
}

static bool
path_allowed(const struct client *c, const char *path)
{
	int i;

	for (i = 0; i < c->argc; i++)
		if (strcmp(c->argv[i], path) == 0)
			return true;
	return false;
}

static int
reply_fail(struct client *c, int code, const char *msg, struct vs_err *err)
{
	char num[16];
	const char *items[2] = { num, msg };

	snprintf(num, sizeof(num), "%d", code);
	return ipc_verb_send(c->fd, IPC_CLIENT, IPC_FAIL,
	    (const void *const *)items, NULL, 2, CLIENT_TIMEOUT_MS, err);
}

static int
reply_ok(struct client *c, const void *data, size_t len, struct vs_err *err)
{
	const void *items[1] = { data };
	size_t lens[1] = { len };

	return ipc_verb_send(c->fd, IPC_CLIENT, IPC_OK, items, lens,
	    data ? 1 : 0, CLIENT_TIMEOUT_MS, err);
}

static int
do_secret(struct client *c, const struct ipc_msg *m, struct vs_err *err)
{
	char prompt[IPC_PROMPT_MAX + 1], what[IPC_WHAT_MAX + 1];
	struct secret sec = { NULL, 0, 0 };
	struct vs_err perr;
	int fd, r;

	/* Checked by the table: the copies fit. */
	if (!ipc_item_str(m, 2, prompt, sizeof(prompt)) ||
	    !ipc_item_str(m, 3, what, sizeof(what)))
		return vs_fail(err, VS_EINVAL, "malformed secret request");
	fd = ipc_item_int(m, 1);
	if (fd >= 0 && !fd_allowed(c, fd))
		return reply_fail(c, VS_EINVAL, "descriptor not named on the "
		    "command line", err);
	vs_err_clear(&perr);
	r = prompt_secret(fd, prompt[0] ? prompt : NULL, what,
	    ipc_item_is(m, 4, "1"), &sec, &perr);
	if (r == VS_OK && fd < 0 && prompt[0] == '\0')
		r = vs_fail(&perr, VS_EINVAL, "no %s given", what);
	if (r != VS_OK) {
		prompt_free(&sec);
		return reply_fail(c, r, perr.msg, err);
	}
	r = reply_ok(c, sec.s, sec.len, err);
	prompt_free(&sec);
	return r;
}

static int
do_input(struct client *c, const struct ipc_msg *m, struct vs_err *err)
{
	char path[IPC_PATH_MAX + 1];
	struct buf data = { 0 };
	ssize_t n;
	int fd, r = VS_OK;

	if (!ipc_item_str(m, 1, path, sizeof(path)))
		return vs_fail(err, VS_EINVAL, "malformed input request");
	if (!path_allowed(c, path))
		return reply_fail(c, VS_EINVAL, "file not named on the command "
		    "line", err);
	fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		char msg[VS_ERR_MSG_MAX + IPC_PATH_MAX];

		snprintf(msg, sizeof(msg), "cannot open %s: %s", path,
		    strerror(errno));
		return reply_fail(c, errno == ENOENT ? VS_ENOTFOUND : VS_EIO,
		    msg, err);
	}
	for (;;) {
		if (data.len > IPC_MSG_MAX - 1024 * 1024 ||
		    buf_reserve(&data, 65536) != 0) {
			r = VS_ELIMIT;
			break;
		}
		n = read(fd, data.data + data.len, data.cap - data.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = VS_EIO;
			break;
		}
		if (n == 0)
			break;
		data.len += (size_t)n;
	}
	if (fd != 0)
		close(fd);
	if (r == VS_ELIMIT)
		r = reply_fail(c, VS_EINVAL, "file too large to send to the "
		    "service (stop vmsealed and import offline)", err);
	else if (r != VS_OK)
		r = reply_fail(c, VS_EIO, "cannot read the file", err);
	else
		r = reply_ok(c, data.data ? data.data : (const void *)"",
		    data.len, err);
	buf_free(&data);
	return r;
}

static int
do_output(struct client *c, const struct ipc_msg *m, struct vs_err *err)
{
	char path[IPC_PATH_MAX + 1], msg[VS_ERR_MSG_MAX + IPC_PATH_MAX];
	size_t off = 0;
	ssize_t w;
	int fd;

	if (!ipc_item_str(m, 1, path, sizeof(path)))
		return vs_fail(err, VS_EINVAL, "malformed output request");
	if (!path_allowed(c, path))
		return reply_fail(c, VS_EINVAL, "file not named on the command "
		    "line", err);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "cannot create %s: %s", path,
		    strerror(errno));
		return reply_fail(c, errno == EEXIST ? VS_EEXIST : VS_EIO, msg,
		    err);
	}
	while (off < m->lens[2]) {
		w = write(fd, m->items[2] + off, m->lens[2] - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off < m->lens[2] || close(fd) != 0) {
		snprintf(msg, sizeof(msg), "cannot write %s: %s", path,
		    strerror(errno));
		return reply_fail(c, VS_EIO, msg, err);
	}
	return reply_ok(c, NULL, 0, err);
}

/* Who answers on the admin socket: root, the configured service user
 * (vmseal.conf's "user"), or ourselves; anyone else could be a listener
 * planted where vmsealed's socket should be, waiting for a passphrase. */
static int
check_server(struct client *c, struct vs_err *err)
{
	const char *user = c->cli->conf->user;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct passwd *pw;

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return vs_fail(err, VS_EIO, "cannot tell who serves it: %s",
		    strerror(errno));
	if (cred.uid == 0 || cred.uid == getuid())
		return VS_OK;
	if (user[0] != '\0' && (pw = getpwnam(user)) != NULL &&
	    pw->pw_uid == cred.uid)
		return VS_OK;
	return vs_fail(err, VS_EIO, "it is served by uid %u, which is neither "
	    "root nor the service user%s%s%s: refusing to send it anything",
	    (unsigned)cred.uid, user[0] ? " '" : " (no 'user' in the "
	    "configuration)", user[0] ? user : "", user[0] ? "'" : "");
}

/* The descriptor of the last --NAME N or --NAME=N on the command line
 * (options end at "--"), or -1; the service parses the same argv the
 * same way (getopt: the last one wins). */
static int
fd_option(int argc, char **argv, const char *name)
{
	size_t l = strlen(name);
	int i, fd = -1, v;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, l) != 0)
			continue;
		if (a[2 + l] == '=' && cli_parse_fd(a + 3 + l, &v))
			fd = v;
		else if (a[2 + l] == '\0' && i + 1 < argc &&
		    cli_parse_fd(argv[i + 1], &v))
			fd = v;
	}
	return fd;
}

/* Read the secrets of --passphrase-fd and --recovery-key-fd up front, as
 * the command would offline; pfd/rfd -1 when not given. */
static int
read_fd_secrets(struct client *c, int *pfd, struct secret *psec, int *rfd,
    struct secret *rsec, struct vs_err *err)
{
	struct cli tmp = *c->cli;
	bool recovery;
	int r;

	*pfd = fd_option(c->argc, c->argv, "passphrase-fd");
	*rfd = fd_option(c->argc, c->argv, "recovery-key-fd");
	if (*rfd >= 0) {
		/* One line, two, or shares: the command's own reader. */
		tmp.io = &cli_io_local;
		tmp.recovery_key_fd = *rfd;
		tmp.passphrase_fd = -1;
		if ((r = cli_read_unseal_secret(&tmp, rsec, &recovery, err)) !=
		    VS_OK)
			return r;
		/* The same descriptor twice: the recovery key took it. */
		if (*pfd == *rfd)
			*pfd = -1;
	}
	if (*pfd >= 0)
		return prompt_read_fd(*pfd, "passphrase", psec, err);
	return VS_OK;
}

/* Send "run": the secrets read up front, then the command line; the
 * secrets are wiped right after. */
static int
send_request(struct client *c, struct vs_err *err)
{
	struct secret psec = { NULL, 0, 0 }, rsec = { NULL, 0, 0 };
	const void **items;
	size_t *lens;
	char pnum[16], rnum[16];
	int pfd, rfd, i, r;

	if ((r = read_fd_secrets(c, &pfd, &psec, &rfd, &rsec, err)) != VS_OK) {
		prompt_free(&psec);
		prompt_free(&rsec);
		return r;
	}
	items = calloc((size_t)c->argc + 4, sizeof(*items));
	lens = calloc((size_t)c->argc + 4, sizeof(*lens));
	if (items == NULL || lens == NULL) {
		r = vs_fail(err, VS_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(pnum, sizeof(pnum), "%d", psec.s ? pfd : -1);
	snprintf(rnum, sizeof(rnum), "%d", rsec.s ? rfd : -1);
	items[0] = pnum;
	lens[0] = strlen(pnum);
	items[1] = psec.s ? psec.s : "";
	lens[1] = psec.len;
	items[2] = rnum;
	lens[2] = strlen(rnum);
	items[3] = rsec.s ? rsec.s : "";
	lens[3] = rsec.len;
	for (i = 0; i < c->argc; i++) {
		items[i + 4] = c->argv[i];
		lens[i + 4] = strlen(c->argv[i]);
	}
	r = ipc_verb_send(c->fd, IPC_CLIENT, IPC_RUN, items, lens,
	    (size_t)c->argc + 4, CLIENT_TIMEOUT_MS, err);
	/* Refused before reading us: its answer is still there. */
	if (r == VS_EIO)
		r = VS_OK;
out:
	free(items);
	free(lens);
	prompt_free(&psec);     /* wipes */
	prompt_free(&rsec);
	return r;
}

bool
cli_client_run(struct cli *cli, int argc, char **argv, int *exit_r)
{
	struct client c = { cli, -1, argc, argv };
	struct ipc_msg m;
	struct vs_err err;
	int r;

	if ((c.fd = connect_admin(cli->socket_dir)) < 0)
		return false;
	vs_err_clear(&err);
	if (check_server(&c, &err) != VS_OK) {
		close(c.fd);
		*exit_r = cli_fail(cli, VS_EIO, "admin socket %s/admin: %s",
		    cli->socket_dir, err.msg);
		return true;
	}
	if (cli->dir_explicit)
		fprintf(cli->err, "vmseal: note: vmsealed is running: commands "
		    "use its store; -d applies only with --offline\n");
	if ((r = send_request(&c, &err)) != VS_OK) {
		close(c.fd);
		*exit_r = cli_fail_err(cli, &err);
		return true;
	}
	while (r == VS_OK) {
		r = ipc_verb_recv(c.fd, IPC_SERVICE, IPC_EXPECT_REQUEST,
		    CLIENT_TIMEOUT_MS, &m, &err);
		if (r != VS_OK)
			break;
		switch (m.verb) {
		case IPC_EXIT:
			fwrite(m.items[2], 1, m.lens[2], cli->out);
			fwrite(m.items[3], 1, m.lens[3], cli->err);
			*exit_r = ipc_item_int(&m, 1);
			ipc_msg_free(&m);
			close(c.fd);
			return true;
		case IPC_SECRET:
			r = do_secret(&c, &m, &err);
			break;
		case IPC_HAVE_TTY:
			r = reply_ok(&c, prompt_have_tty() ? "1" : "0", 1, &err);
			break;
		case IPC_IS_TTY: {
			int fd = ipc_item_int(&m, 1);

			if (fd >= 0 && fd <= 2)
				r = reply_ok(&c, isatty(fd) ? "1" : "0", 1,
				    &err);
			else
				r = vs_fail(&err, VS_EINVAL, "is_tty for "
				    "descriptor %d (only 0-2)", fd);
			break;
		}
		case IPC_INPUT:
			r = do_input(&c, &m, &err);
			break;
		case IPC_OUTPUT:
			r = do_output(&c, &m, &err);
			break;
		default:
			r = vs_fail(&err, VS_EINVAL, "unexpected message from "
			    "the service");
			break;
		}
		ipc_msg_free(&m);
	}
	close(c.fd);
	if (r == VS_ENOTFOUND)
		vs_fail(&err, VS_EIO, "the service closed the connection");
	*exit_r = cli_fail(cli, VS_EIO, "admin socket %s/admin: %s",
	    cli->socket_dir, err.msg);
	return true;
}
