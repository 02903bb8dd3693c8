/*
 * checkpassword.c - vmseal-checkpassword, Dovecot 2.3's checkpassword
 * program for vmseal.
 *
 *   vmseal-checkpassword [--socket PATH | -c CONFIG] REPLY-PROGRAM [ARGS...]
 *
 * Dovecot starts it with the reply program appended and writes
 * "user\0password\0" (plus optional fields) on descriptor 3.  With
 * AUTHORIZED=1 in the environment it is a userdb lookup (no password:
 * LMTP delivery, doveadm user).  We ask vmsealed over its auth socket
 * (lib/authproto.h), then:
 *   ok       set USER (the canonical login), HOME, userdb_uid, userdb_gid,
 *            userdb_mail, userdb_quota_rule, mail_crypt's fields
 *            (userdb_mail_crypt_save_version,
 *            userdb_mail_crypt_global_public_key, and after a verified
 *            password only userdb_mail_crypt_global_private_key) and EXTRA
 *            naming them; in lookup mode AUTHORIZED=2; exec the reply
 *            program
 *   fail, disabled, nouser (verify)      exit 1
 *   nouser (lookup)                      exit 3
 *   temp, or vmsealed unreachable        exit 111 (temporary failure)
 * Anything malformed - fd 3 over its cap or without its NULs, an empty
 * user, a value with NUL/LF/TAB - is refused (exit 111 for our side, 1 for
 * a bad request), never passed on to the environment.  The request is
 * built by auth_send_request() (lib/authproto.h), which refuses what
 * vmsealed would (a name or password over its cap: exit 1, lookup 3).
 * The umask is 077 from the start.
 *
 * Security: it holds no key and opens no store.  The password is read into
 * a fixed buffer and wiped right after the request is sent; it is never in
 * argv or the environment; the environment of the reply program is the
 * one Dovecot gave us plus the userdb fields.  A mail private key reaches
 * only that environment (Dovecot's checkpassword reply channel: the reply
 * program hands it back to Dovecot), never in lookup mode, never stderr.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "authclient.h"
#include "authproto.h"
#include "conf.h"
#include "ipc.h"

#define EX_FAIL 1
#define EX_USAGE_CP 2
#define EX_NOUSER 3
#define EX_TEMP 111
#define FD3_MAX (NAME_BUF + PW_PASSWORD_MAX + 256)
#define CP_TIMEOUT_MS 30000

static void
warnx_cp(const char *msg, const char *detail)
{
	/* Dovecot logs our stderr: never a password or a hash here. */
	fprintf(stderr, "vmseal-checkpassword: %s%s%s\n", msg,
	    detail ? ": " : "", detail ? detail : "");
}

/* Read descriptor 3 whole (at most FD3_MAX bytes). */
static int
read_fd3(char *buf, size_t *len_r)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		if (len == FD3_MAX)
			return -1;      /* over the cap */
		n = read(3, buf + len, FD3_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*len_r = len;
	return 0;
}

static const char *
env_or(const char *a, const char *b)
{
	const char *v = getenv(a);

	if (v == NULL && b != NULL)
		v = getenv(b);
	return v ? v : "";
}

/* The userdb fields of an "ok" reply that reach Dovecot (HOME for home,
 * userdb_<name> for the others); any other field is ignored, so a reply
 * can never set a field with a meaning for Dovecot's passdb (nopassword,
 * proxy, host, allow_nets, ...).  The same list as the plugin's. */
static const char *const userdb_fields[] = {
	"uid", "gid", "mail", "quota_rule", "mail_crypt_save_version",
	"mail_crypt_global_public_key", "mail_crypt_global_private_key", NULL
};
#define PRIVATE_KEY_FIELD "mail_crypt_global_private_key"


static bool
field_known(const char *f, size_t nl)
{
	size_t i;

	for (i = 0; userdb_fields[i] != NULL; i++)
		if (strlen(userdb_fields[i]) == nl &&
		    strncmp(f, userdb_fields[i], nl) == 0)
			return true;
	return false;
}

/* Export the known userdb fields; Dovecot's names are userdb_<name>. */
static int
export_fields(const struct auth_reply *rep, bool lookup, char *extra,
    size_t extra_len)
{
	char name[64];
	size_t i, used = 0;

	extra[0] = '\0';
	for (i = 0; i < rep->n_fields; i++) {
		const char *f = rep->fields[i], *eq = strchr(f, '=');
		size_t nl;

		if (eq == NULL)
			return -1;
		nl = (size_t)(eq - f);
		if (nl == 0 || nl > 32)
			return -1;
		if (nl == 4 && strncmp(f, "home", 4) == 0) {
			if (setenv("HOME", eq + 1, 1) != 0)
				return -1;
			continue;
		}
		if (!field_known(f, nl))
			continue;
		/* vmsealed never sends it to a lookup; nor do we pass it. */
		if (lookup && nl == strlen(PRIVATE_KEY_FIELD) &&
		    strncmp(f, PRIVATE_KEY_FIELD, nl) == 0)
			continue;
		snprintf(name, sizeof(name), "userdb_%.*s", (int)nl, f);
		if (setenv(name, eq + 1, 1) != 0)
			return -1;
		if (used + strlen(name) + 2 > extra_len)
			return -1;
		used += (size_t)snprintf(extra + used, extra_len - used,
		    "%s%s", used ? " " : "", name);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static char fd3[FD3_MAX + 1];
	char sockpath[CONF_STR_MAX + 16], extra[512];
	const char *socket_opt = NULL, *conf_path = NULL, *user, *pass;
	const char *service, *rip, *lip;
	struct auth_request req;
	struct auth_reply rep;
	struct vs_err err;
	size_t len, ulen, plen;
	bool lookup;
	int c, r;

	/* Nothing we create is for anyone else; no core, not dumpable. */
	authclient_harden();
	/* '+': the reply program and its arguments are not ours. */
	while ((c = getopt_long(argc, argv, "+s:c:h", lo, NULL)) != -1) {
		switch (c) {
		case 's': socket_opt = optarg; break;
		case 'c': conf_path = optarg; break;
		case 'h':
			printf("usage: vmseal-checkpassword [--socket PATH | -c "
			    "CONFIG] REPLY-PROGRAM [ARGS...]\n\n"
			    "Dovecot 2.3 checkpassword program: asks vmsealed "
			    "over its auth socket.\nSee "
			    "vmseal-checkpassword(8).\n");
			return 0;
		default:
			return EX_USAGE_CP;
		}
	}
	if (optind >= argc) {
		warnx_cp("usage: vmseal-checkpassword [--socket PATH] "
		    "REPLY-PROGRAM", NULL);
		return EX_USAGE_CP;
	}
	if (authclient_socket_path(socket_opt, conf_path, sockpath,
	    sizeof(sockpath), &err) != VS_OK) {
		warnx_cp("configuration", err.msg);
		return EX_TEMP;
	}
	if (sodium_init() < 0)
		return EX_TEMP;

	/* fd 3: user NUL password NUL [more...] */
	if (read_fd3(fd3, &len) != 0) {
		sodium_memzero(fd3, sizeof(fd3));
		warnx_cp("cannot read the request on descriptor 3 (missing or "
		    "too long)", NULL);
		return EX_FAIL;
	}
	user = fd3;
	ulen = strnlen(fd3, len);
	if (ulen == len || ulen == 0) {
		sodium_memzero(fd3, sizeof(fd3));
		warnx_cp(ulen == 0 ? "empty user name" :
		    "malformed request on descriptor 3", NULL);
		return EX_FAIL;
	}
	pass = fd3 + ulen + 1;
	plen = strnlen(pass, len - ulen - 1);
	if (plen == len - ulen - 1) {
		sodium_memzero(fd3, sizeof(fd3));
		warnx_cp("malformed request on descriptor 3", NULL);
		return EX_FAIL;
	}
	lookup = strcmp(env_or("AUTHORIZED", NULL), "1") == 0;
	/* A name with a control character can never be a user: a definite
	 * "no" (not a temporary failure Dovecot would retry). */
	{
		size_t i;

		for (i = 0; i < ulen; i++)
			if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f) {
				sodium_memzero(fd3, sizeof(fd3));
				return lookup ? EX_NOUSER : EX_FAIL;
			}
	}
	service = env_or("SERVICE", NULL);
	rip = env_or("TCPREMOTEIP", "REMOTE_IP");
	lip = env_or("TCPLOCALIP", "LOCAL_IP");

	memset(&req, 0, sizeof(req));
	req.op = lookup ? AUTH_LOOKUP : AUTH_VERIFY;
	req.login = user;
	req.service = service;
	if (!lookup) {
		req.password = pass;
		req.password_len = plen;
		req.remote_ip = rip;
		req.local_ip = lip;
		/* Dovecot 2.3 sets AUTH_SECURED (non-empty when secured). */
		req.secured = env_or("AUTH_SECURED", "SECURED")[0] != '\0';
	}
	/* Sent, and the password wiped as it leaves (authclient.h). */
	r = authclient_ask(sockpath, &req, CP_TIMEOUT_MS, &rep, &err);
	if (r != AUTHCLIENT_ANSWER) {
		sodium_memzero(fd3, sizeof(fd3));
		if (r == AUTHCLIENT_REFUSED) {
			/* A request vmsealed would refuse (a name or password
			 * over its cap): it can never succeed, a definite
			 * "no". */
			warnx_cp("request refused", err.msg);
			return lookup ? EX_NOUSER : EX_FAIL;
		}
		warnx_cp("vmsealed", err.msg);
		return EX_TEMP;
	}
	switch (rep.result) {
	case AUTH_OK:
		break;
	case AUTH_NOUSER:
		sodium_memzero(fd3, sizeof(fd3));
		return lookup ? EX_NOUSER : EX_FAIL;
	case AUTH_FAIL:
		sodium_memzero(fd3, sizeof(fd3));
		if (rep.reason[0] != '\0')
			warnx_cp("login refused", rep.reason);
		return EX_FAIL;
	case AUTH_DISABLED:
		sodium_memzero(fd3, sizeof(fd3));
		return EX_FAIL;
	default:
		sodium_memzero(fd3, sizeof(fd3));
		warnx_cp("temporary failure", rep.reason);
		return EX_TEMP;
	}
	sodium_memzero(fd3, sizeof(fd3));
	if (setenv("USER", rep.user, 1) != 0 ||
	    export_fields(&rep, lookup, extra, sizeof(extra)) != 0 ||
	    (extra[0] && setenv("EXTRA", extra, 1) != 0) ||
	    (lookup && setenv("AUTHORIZED", "2", 1) != 0)) {
		sodium_memzero(&rep, sizeof(rep));
		warnx_cp("cannot set the reply environment", NULL);
		return EX_TEMP;
	}
	/* What it held is in the environment now, for the reply program. */
	sodium_memzero(&rep, sizeof(rep));
	execv(argv[optind], argv + optind);
	warnx_cp("cannot run the reply program", strerror(errno));
	return EX_TEMP;
}
