/*
 * null_sockmap.c - a socketmap server that looks nothing up: the baseline
 * of tests/bench/socketmap.sh.
 *
 *   null_sockmap -s SOCKET [-o VALUE]
 *
 * It listens on the Unix socket SOCKET and answers every well-formed
 * socketmap request "NOTFOUND " (or "OK VALUE" with -o), a malformed one
 * "PERM reason" (and then hangs up), exactly as vmsealed frames them.  It
 * runs until SIGTERM or SIGINT.
 *
 * Why it is the baseline: it is vmsealed's socketmap path with the lookup
 * taken out, so that "vmsealed / null" measures what a lookup costs
 * (rwlock, LMDB read transaction, keyed index hash, record decryption,
 * normalization, allocations), not a difference of server design.  It runs
 * vmsealed's own skeleton, service/conn.c (linked, not copied): one
 * thread, one epoll set, accept4(), backlog 512, epoll_wait() of up to 64
 * events with a 1 s timeout, reads of 4096 bytes until EAGAIN, the same
 * per-connection buffers, flush and EPOLLOUT handling, and an idle sweep
 * once a second; and the same framing and parsing code from lib/:
 * netstring_decode() with SOCKMAP_REQUEST_MAX, sockmap_parse() of the
 * payload (map name and key checked), sockmap_reply() into c->out, then
 * conn_consume().  So the system calls per request are vmsealed's, and so
 * are the parser and reply formatter; only svc_socketmap()'s lookup
 * (service/postfix.c: with_txn() and the lookup_*() of lib/lookup.c) is
 * replaced by a constant answer.  There is no admin thread, no policy or
 * auth socket and no connection limit.
 *
 * This is a benchmark tool, never installed; it trusts no more than
 * vmsealed does (every length is capped by the same parsers).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "netstring.h"
#include "sockmap.h"
#include "vs_err.h"

/* vmsealed's CONN_IN_MAX is POLICY_REQUEST_MAX + 1024; any cap far above
 * a request does: the client sends one request at a time. */
#define CONN_IN_MAX (64u * 1024u)
#define CONN_OUT_MAX (4u * 1024u * 1024u)
#define IDLE_TIMEOUT 300

static const char *ok_value;            /* -o: "OK VALUE", else NOTFOUND */
static unsigned long lookups;

/* The stand-in for svc_socketmap_input(): the same framing, then a parse
 * and a constant answer. */
static bool
null_socketmap(struct conn *c)
{
	struct sockmap_request r;
	const uint8_t *p;
	size_t plen, used;
	struct vs_err err;
	int rc;

	vs_err_clear(&err);
	rc = netstring_decode(c->in.data, c->in.len, SOCKMAP_REQUEST_MAX, &p,
	    &plen, &used, &err);
	if (rc == NETSTRING_MORE)
		return false;
	if (rc != NETSTRING_OK) {
		sockmap_reply(&c->out, "PERM", err.msg);
		c->closing = true;
		return false;
	}
	lookups++;
	vs_err_clear(&err);
	if (sockmap_parse(p, plen, &r, &err) != VS_OK)
		sockmap_reply(&c->out, "PERM", err.msg);
	else if (ok_value != NULL)
		sockmap_reply(&c->out, "OK", ok_value);
	else
		sockmap_reply(&c->out, "NOTFOUND", NULL);
	conn_consume(c, used);
	return true;
}

static void
too_long(struct conn *c)
{
	sockmap_reply(&c->out, "PERM", "request too long");
}

static void
on_signal(struct conn_set *s, int fd)
{
	(void)fd;
	s->stop = true;
}

static void
usage(void)
{
	fputs("usage: null_sockmap -s SOCKET [-o VALUE]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct conn_set set;
	const char *path = NULL;
	struct vs_err err;
	sigset_t sigs;
	time_t now, last_sweep = 0;
	int c, sigfd;

	while ((c = getopt(argc, argv, "s:o:h")) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'o': ok_value = optarg; break;
		default: usage();
		}
	}
	if (path == NULL || optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if ((sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "null_sockmap: signalfd: %s\n",
		    strerror(errno));
		return 1;
	}

	set.kind[0].name = "socketmap";
	set.kind[0].process = null_socketmap;
	set.kind[0].too_long = too_long;
	set.kind[0].max = CONN_NO_LIMIT;
	set.max_total = CONN_NO_LIMIT;
	set.in_max = CONN_IN_MAX;
	set.out_max = CONN_OUT_MAX;
	vs_err_clear(&err);
	if (conn_set_init(&set, &err) != VS_OK ||
	    conn_listen(&set, 0, path, (gid_t)-1, 0600, &err) != VS_OK ||
	    conn_watch(&set, sigfd, on_signal, &err) != VS_OK) {
		fprintf(stderr, "null_sockmap: %s\n", err.msg);
		return 1;
	}
	while (!set.stop) {
		if (conn_poll(&set, 1000, &err) != VS_OK) {
			fprintf(stderr, "null_sockmap: %s\n", err.msg);
			return 1;
		}
		if ((now = time(NULL)) != last_sweep) {
			last_sweep = now;
			conn_expire_idle(&set, now, IDLE_TIMEOUT);
		}
	}
	fprintf(stderr, "null_sockmap: %lu requests\n", lookups);
	unlink(path);
	return 0;
}
