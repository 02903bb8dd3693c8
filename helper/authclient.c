/*
 * authclient.c - one password check over vmsealed's auth socket, for the
 * small helper programs (see authclient.h): the socket's path, start-up
 * hardening, and connect / send / wipe / receive / parse with each
 * failure sorted into "never sendable" (a definite no) or "no usable
 * answer" (temporary).
 *
 * Protocol: lib/authproto.h (one request, one reply, ipc framing).
 * Security: the password is wiped in the caller's buffer right after
 * auth_send_request() returns, whatever it returned, and before any
 * other exit; the reply frame is wiped by ipc_msg_free(); nothing here
 * prints or logs.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "authclient.h"
#include "conf.h"
#include "ipc.h"

void
authclient_harden(void)
{
	struct rlimit rl = { 0, 0 };

	umask(077);
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
authclient_socket_path(const char *socket_opt, const char *conf_path,
    char *out, size_t size, struct vs_err *err)
{
	static struct vs_conf conf;
	int n, r;

	if (socket_opt != NULL) {
		n = snprintf(out, size, "%s", socket_opt);
	} else {
		conf_defaults(&conf);
		vs_err_clear(err);
		r = conf_load(&conf, conf_path ? conf_path : CONF_DEFAULT_PATH,
		    err);
		if (r != VS_OK && (r != VS_ENOTFOUND || conf_path != NULL))
			return r;
		n = snprintf(out, size, "%s/auth", conf.socket_dir);
	}
	if (n < 0 || (size_t)n >= size)
		return vs_fail(err, VS_EINVAL, "the socket path is too long");
	return VS_OK;
}

static void
wipe_password(const struct auth_request *req)
{
	if (req->password != NULL && req->password_len > 0)
		sodium_memzero((char *)req->password, req->password_len);
}

int
authclient_ask(const char *sockpath, const struct auth_request *req,
    int timeout_ms, struct auth_reply *rep, struct vs_err *err)
{
	struct ipc_msg m;
	int fd, r;

	vs_err_clear(err);
	if ((fd = ipc_connect(sockpath)) < 0) {
		wipe_password(req);
		vs_fail(err, VS_EIO, "vmsealed does not answer on %s: %s",
		    sockpath, strerror(errno));
		return AUTHCLIENT_UNREACHABLE;
	}
	r = auth_send_request(fd, req, timeout_ms, err);
	/* The password is on its way (or never will be): wipe it now. */
	wipe_password(req);
	if (r == VS_EINVAL || r == VS_ELIMIT) {
		close(fd);
		return AUTHCLIENT_REFUSED;
	}
	if (r == VS_OK)
		r = ipc_recv(fd, AUTH_REPLY_MAX, timeout_ms, &m, err);
	close(fd);
	if (r == VS_ENOTFOUND)
		vs_fail(err, VS_EIO, "vmsealed closed the connection without "
		    "an answer");
	if (r != VS_OK)
		return AUTHCLIENT_BROKEN;
	r = auth_parse_reply(m.items, m.lens, m.n, rep, err);
	ipc_msg_free(&m);
	if (r != VS_OK) {
		sodium_memzero(rep, sizeof(*rep));
		return AUTHCLIENT_BROKEN;
	}
	return AUTHCLIENT_ANSWER;
}
