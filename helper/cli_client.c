/*
 * cli_client.c - the vmseal command's online mode: run a command inside
 * vmsealed through its admin socket.
 *
 * The conversation (strictly one message each way at a time, ipc.h
 * framing; the service side is service/admin.c):
 *
 *   client  "run" ARGV...
 *   service "secret" FD PROMPT WHAT CONFIRM  -> "ok" SECRET | "fail" CODE MSG
 *           "have_tty"                       -> "ok" "1"|"0"
 *           "is_tty" FD                      -> "ok" "1"|"0"
 *           "input" PATH                     -> "ok" DATA | "fail" CODE MSG
 *           "output" PATH DATA               -> "ok" | "fail" CODE MSG
 *           "exit" CODE STDOUT STDERR        (end)
 *
 * Security: the client is the operator's agent, so it answers only for
 * what the operator named on this command line: a descriptor is read only
 * if it is the value of a "--...-fd" option, a file is read or created only
 * if its path is an argument; everything else is refused.  Secrets are read
 * into sodium_malloc()ed memory and wiped after sending.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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
	const char *items[3] = { "fail", num, msg };

	snprintf(num, sizeof(num), "%d", code);
	return ipc_send_strs(c->fd, items, 3, CLIENT_TIMEOUT_MS, err);
}

static int
reply_ok(struct client *c, const void *data, size_t len, struct vs_err *err)
{
	const void *items[2] = { "ok", data };
	size_t lens[2] = { 2, len };

	return ipc_send(c->fd, items, lens, data ? 2 : 1, CLIENT_TIMEOUT_MS,
	    err);
}

static int
do_secret(struct client *c, const struct ipc_msg *m, struct vs_err *err)
{
	char fdbuf[16], prompt[256], what[64], confirm[4];
	struct secret sec = { NULL, 0, 0 };
	struct vs_err perr;
	int fd, r;

	if (m->n != 5 || !ipc_item_str(m, 1, fdbuf, sizeof(fdbuf)) ||
	    !ipc_item_str(m, 2, prompt, sizeof(prompt)) ||
	    !ipc_item_str(m, 3, what, sizeof(what)) ||
	    !ipc_item_str(m, 4, confirm, sizeof(confirm)))
		return vs_fail(err, VS_EINVAL, "malformed secret request");
	fd = atoi(fdbuf);
	if (fd >= 0 && !fd_allowed(c, fd))
		return reply_fail(c, VS_EINVAL, "descriptor not named on the "
		    "command line", err);
	vs_err_clear(&perr);
	r = prompt_secret(fd, prompt[0] ? prompt : NULL, what,
	    strcmp(confirm, "1") == 0, &sec, &perr);
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
	char path[1024];
	struct buf data = { 0 };
	ssize_t n;
	int fd, r = VS_OK;

	if (m->n != 2 || !ipc_item_str(m, 1, path, sizeof(path)))
		return vs_fail(err, VS_EINVAL, "malformed input request");
	if (!path_allowed(c, path))
		return reply_fail(c, VS_EINVAL, "file not named on the command "
		    "line", err);
	fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		char msg[VS_ERR_MSG_MAX + 1200];

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
	char path[1024], msg[VS_ERR_MSG_MAX + 1200];
	size_t off = 0;
	ssize_t w;
	int fd;

	if (m->n != 3 || !ipc_item_str(m, 1, path, sizeof(path)))
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

bool
cli_client_run(struct cli *cli, int argc, char **argv, int *exit_r)
{
	struct client c = { cli, -1, argc, argv };
	struct ipc_msg m;
	struct vs_err err;
	char code[16];
	int r;

	if ((c.fd = connect_admin(cli->socket_dir)) < 0)
		return false;
	if (cli->dir_explicit)
		fprintf(cli->err, "vmseal: note: vmsealed is running: commands "
		    "use its store; -d applies only with --offline\n");
	vs_err_clear(&err);
	{
		const void **items = calloc((size_t)argc + 1, sizeof(*items));
		size_t *lens = calloc((size_t)argc + 1, sizeof(*lens));
		int i;

		if (items == NULL || lens == NULL) {
			free(items);
			free(lens);
			close(c.fd);
			*exit_r = cli_fail(cli, VS_ENOMEM, "out of memory");
			return true;
		}
		items[0] = "run";
		lens[0] = 3;
		for (i = 0; i < argc; i++) {
			items[i + 1] = argv[i];
			lens[i + 1] = strlen(argv[i]);
		}
		r = ipc_send(c.fd, items, lens, (size_t)argc + 1,
		    CLIENT_TIMEOUT_MS, &err);
		free(items);
		free(lens);
		/* Refused before reading us: its answer is still there. */
		if (r != VS_OK)
			r = VS_OK;
	}
	while (r == VS_OK) {
		r = ipc_recv(c.fd, IPC_MSG_MAX, CLIENT_TIMEOUT_MS, &m, &err);
		if (r != VS_OK)
			break;
		if (ipc_item_is(&m, 0, "exit") && m.n == 4 &&
		    ipc_item_str(&m, 1, code, sizeof(code))) {
			fwrite(m.items[2], 1, m.lens[2], cli->out);
			fwrite(m.items[3], 1, m.lens[3], cli->err);
			*exit_r = atoi(code);
			ipc_msg_free(&m);
			close(c.fd);
			return true;
		}
		if (ipc_item_is(&m, 0, "secret"))
			r = do_secret(&c, &m, &err);
		else if (ipc_item_is(&m, 0, "have_tty"))
			r = reply_ok(&c, prompt_have_tty() ? "1" : "0", 1, &err);
		else if (ipc_item_is(&m, 0, "is_tty") && m.n == 2 &&
		    ipc_item_str(&m, 1, code, sizeof(code)) &&
		    atoi(code) >= 0 && atoi(code) <= 2)
			r = reply_ok(&c, isatty(atoi(code)) ? "1" : "0", 1,
			    &err);
		else if (ipc_item_is(&m, 0, "input"))
			r = do_input(&c, &m, &err);
		else if (ipc_item_is(&m, 0, "output"))
			r = do_output(&c, &m, &err);
		else
			r = vs_fail(&err, VS_EINVAL, "unexpected message from "
			    "the service");
		ipc_msg_free(&m);
	}
	close(c.fd);
	if (r == VS_ENOTFOUND)
		vs_fail(&err, VS_EIO, "the service closed the connection");
	*exit_r = cli_fail(cli, VS_EIO, "admin socket %s/admin: %s",
	    cli->socket_dir, err.msg);
	return true;
}
