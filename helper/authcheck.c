/*
 * authcheck.c - vmseal-authcheck, an external authenticator for Apache's
 * mod_authnz_external ("pipe" method, pwauth's convention), so that web
 * applications behind Apache log vmseal's users in.
 *
 *   vmseal-authcheck [--socket PATH | -c CONFIG]
 *
 * Protocol: the login and the password on standard input, each ended by
 * LF ("LOGIN\nPASSWORD\n"; the last LF may be missing), then end of
 * file.  mod_authnz_external builds a fresh environment for the program;
 * of it we read IP, the client's address (the request's useragent_ip: the
 * real client's behind mod_remoteip), passed to vmsealed so its throttle
 * counts failures per address.  We send a "verify" with service "web"
 * over vmsealed's auth socket (lib/authproto.h, through authclient.h)
 * and exit:
 *   0    ok: right password, enabled user
 *   1    no: wrong password, unknown or disabled user, throttled; also
 *        input that can never be a login: over its cap (a login over
 *        NAME_BUF - 1 bytes, a password over PW_PASSWORD_MAX), a missing
 *        second line, a third line, a NUL, an empty login, a login with a
 *        control character - with a message on standard error
 *   2    usage
 *   111  temporary: vmsealed sealed, overloaded, down, timing out, or an
 *        answer that cannot be used; a configuration that cannot be read
 * mod_authnz_external (3.3.x, authn_external_check_password()) grants on
 * 0 and answers every other status alike, AUTH_DENIED: Apache's 401.
 * The distinct 111 reaches Apache's error log ("AuthExtern ...: Failed
 * (111) for user ...") with our reason; see doc/web-apps.md.
 *
 * Security: it holds no key and opens no store.  The input is read into
 * one fixed buffer (capped, checked before anything is sent) and wiped
 * on every exit; the password is wiped as soon as the request is written.
 * The reply is wiped (vmsealed never puts a mail private key in the
 * answer to service "web"); only its result and reason are used.
 * Nothing secret is in argv or the environment; standard
 * error (Apache's error log) gets reasons only, never the password nor
 * the login (a login field may hold a mistyped password; Apache logs the
 * user itself).  Core dumps are off and the process is not dumpable.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "authclient.h"
#include "authproto.h"
#include "conf.h"

#define EX_OK_AC 0
#define EX_NO 1
#define EX_USAGE_AC 2
#define EX_TEMP 111
#define LOGIN_MAX (NAME_BUF - 1)        /* what authproto carries */
/* LOGIN LF PASSWORD LF, each at its cap. */
#define IN_MAX (LOGIN_MAX + 1 + PW_PASSWORD_MAX + 1)
#define SERVICE_NAME "web"
/* The messages below name the caps. */
_Static_assert(LOGIN_MAX == 574 && PW_PASSWORD_MAX == 1024,
    "update the caps in vmseal-authcheck's messages");

static char in[IN_MAX + 1];     /* + 1: one byte over the cap shows it */
static struct auth_reply rep;

static void
msg(const char *what, const char *detail)
{
	fprintf(stderr, "vmseal-authcheck: %s%s%s\n", what,
	    detail ? ": " : "", detail ? detail : "");
}

/* Wipe what we hold and exit with code. */
static int
done(int code)
{
	sodium_memzero(in, sizeof(in));
	sodium_memzero(&rep, sizeof(rep));
	return code;
}

/* Read standard input to its end, at most IN_MAX + 1 bytes (one more
 * than allowed shows an overlong input), waiting at most timeout_ms for
 * each read.  0 with *len_r, or -1 with a reason. */
static int
read_input(size_t *len_r, int timeout_ms, const char **why)
{
	struct pollfd pf;
	size_t len = 0;
	ssize_t n;
	int pr;

	while (len < sizeof(in)) {
		pf.fd = 0;
		pf.events = POLLIN;
		pf.revents = 0;
		pr = poll(&pf, 1, timeout_ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			*why = "no complete input within 30 s";
			return -1;
		}
		n = read(0, in + len, sizeof(in) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = "cannot read standard input";
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*len_r = len;
	return 0;
}

/* Split in[0..len) into the login and the password; false when it is not
 * exactly "LOGIN\nPASSWORD[\n]", with the reason in *why. */
static bool
split_input(size_t len, size_t *ulen, char **pass, size_t *plen,
    const char **why)
{
	char *lf, *p, *end;
	size_t i;

	if (len > IN_MAX) {
		*why = memchr(in, '\n', LOGIN_MAX + 1) == NULL ?
		    "the login line is too long (over 574 bytes)" :
		    "the input is too long (a password over 1024 bytes, or "
		    "more than two lines)";
		return false;
	}
	if (memchr(in, '\0', len) != NULL) {
		*why = "the input holds a NUL byte";
		return false;
	}
	if ((lf = memchr(in, '\n', len)) == NULL) {
		*why = len == 0 ? "no input" : len > LOGIN_MAX ?
		    "the login line is too long (over 574 bytes)" :
		    "no second line (the password)";
		return false;
	}
	*ulen = (size_t)(lf - in);
	p = lf + 1;
	end = in + len;
	if (p == end) {
		*why = "no second line (the password)";
		return false;
	}
	if ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (lf + 1 != end) {
			*why = "more than two lines";
			return false;
		}
		*plen = (size_t)(lf - p);
	} else {
		*plen = (size_t)(end - p);
	}
	*pass = p;
	if (*ulen == 0) {
		*why = "empty login";
		return false;
	}
	if (*ulen > LOGIN_MAX) {
		*why = "the login line is too long (over 574 bytes)";
		return false;
	}
	if (*plen > PW_PASSWORD_MAX) {
		*why = "the password is too long (over 1024 bytes)";
		return false;
	}
	for (i = 0; i < *ulen; i++)
		if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f) {
			*why = "the login holds a control character";
			return false;
		}
	return true;
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
	char sockpath[CONF_STR_MAX + 16];
	const char *socket_opt = NULL, *conf_path = NULL, *why = NULL, *ip;
	struct auth_request req;
	struct vs_err err;
	char *pass = NULL;
	size_t len, ulen = 0, plen = 0;
	int c, r;

	authclient_harden();
	while ((c = getopt_long(argc, argv, "s:c:h", lo, NULL)) != -1) {
		switch (c) {
		case 's': socket_opt = optarg; break;
		case 'c': conf_path = optarg; break;
		case 'h':
			printf("usage: vmseal-authcheck [--socket PATH | -c "
			    "CONFIG]\n\n"
			    "Apache mod_authnz_external authenticator (pipe "
			    "method): reads LOGIN and PASSWORD\non two lines of "
			    "standard input and asks vmsealed.  Exit 0: yes; 1: "
			    "no;\n111: temporary failure (sealed, vmsealed "
			    "down).  See vmseal-authcheck(8).\n");
			return 0;
		default:
			return EX_USAGE_AC;
		}
	}
	if (optind != argc) {
		msg("usage: vmseal-authcheck [--socket PATH | -c CONFIG] "
		    "(the login and password come on standard input)", NULL);
		return EX_USAGE_AC;
	}
	vs_err_clear(&err);
	if (authclient_socket_path(socket_opt, conf_path, sockpath,
	    sizeof(sockpath), &err) != VS_OK) {
		msg("configuration", err.msg);
		return EX_TEMP;
	}
	if (sodium_init() < 0)
		return EX_TEMP;

	if (read_input(&len, AUTHCLIENT_TIMEOUT_MS, &why) != 0 ||
	    !split_input(len, &ulen, &pass, &plen, &why)) {
		msg("login refused, malformed input", why);
		return done(EX_NO);
	}
	in[ulen] = '\0';                /* the login's LF */
	ip = getenv("IP");

	memset(&req, 0, sizeof(req));
	req.op = AUTH_VERIFY;
	req.login = in;
	req.password = pass;
	req.password_len = plen;
	req.service = SERVICE_NAME;
	req.remote_ip = ip ? ip : "";
	req.local_ip = "";
	/* mod_authnz_external does not say whether the request came over
	 * TLS: never claim it. */
	req.secured = false;
	r = authclient_ask(sockpath, &req, AUTHCLIENT_TIMEOUT_MS, &rep, &err);
	switch (r) {
	case AUTHCLIENT_ANSWER:
		break;
	case AUTHCLIENT_REFUSED:
		/* Over vmsealed's caps (e.g. an IP it would not take): it
		 * can never succeed. */
		msg("login refused, request not sendable", err.msg);
		return done(EX_NO);
	case AUTHCLIENT_UNREACHABLE:
		msg("temporary failure", err.msg);
		return done(EX_TEMP);
	default:
		msg("temporary failure, no usable answer from vmsealed",
		    err.msg);
		return done(EX_TEMP);
	}
	switch (rep.result) {
	case AUTH_OK:
		return done(EX_OK_AC);
	case AUTH_FAIL:
		if (rep.reason[0] != '\0')
			msg("login refused", rep.reason);
		return done(EX_NO);
	case AUTH_NOUSER:
	case AUTH_DISABLED:
		return done(EX_NO);
	default:
		msg("temporary failure", rep.reason[0] ? rep.reason : NULL);
		return done(EX_TEMP);
	}
}
