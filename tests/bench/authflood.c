/*
 * authflood.c - a load generator for vmsealed's own auth socket (the
 * socket vmseal-checkpassword and the Dovecot plugin use; protocol:
 * lib/authproto.h), used by tests/bench/throttle.sh.
 *
 *   authflood -s SOCKET -u LOGINS [-p PASSWORD] [-m SERVICE]
 *             (-i IP | -R A.B.C.D/LEN | -D A.B.C.D:COUNT)
 *             [-n MAX] [-c CONNS] [-d SECONDS] [-w WARMUP] [-S SEED]
 *             [-l LABEL]
 *
 * Each of CONNS threads opens one connection and - closed loop, one
 * request at a time, as vmseal-checkpassword or one auth worker does -
 * sends
 *   "verify" LOGIN PASSWORD SERVICE REMOTE_IP "" "0"
 * as one ipc message (a netstring of netstrings) and waits for the reply
 * message.  LOGINS is a comma-separated list: the threads take them in
 * turn (one shared counter), so each is used about as often.  PASSWORD
 * (default "wrong password") is the same for every request.  REMOTE_IP is
 *   -i IP              always IP (a blocked address);
 *   -R A.B.C.D/LEN     a random address in that IPv4 network for each
 *                      request (e.g. a network on throttle_allow);
 *   -D A.B.C.D:COUNT   COUNT distinct addresses, A.B.C.D and the ones
 *                      after it, each used once (one shared counter):
 *                      the run ends when all are sent or after SECONDS,
 *                      whichever comes first, and every request is
 *                      measured (WARMUP is ignored).
 * With -i and -R, after WARMUP seconds (default 0.5; not counted) every
 * request's latency (write to the end of the reply, CLOCK_MONOTONIC) is
 * stored, for SECONDS (default 3).  -n MAX stops after MAX requests in all
 * (warm-up included), e.g. -n 3 -c 1 -w 0 for exactly three failures.
 *
 * Output: one line of KEY=VALUE fields on standard output:
 *   label= conns= seconds= (measured, wall clock) requests= rate=
 *   (replies per second) p50_us= p90_us= p99_us= max_us= mean_us=
 *   ok= fail= (a "fail" without a reason) throttled= ("fail" "throttled")
 *   nouser= disabled= temp= errors= (anything else: a malformed reply, a
 *   closed connection) completed= (every reply, warm-up included)
 * Exit status 0, or 1 when nothing was measured or set-up failed.
 *
 * Self-contained on purpose: it shares no code with what it measures.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "ipc.h"

#define REQ_MAX 4096
#define REPLY_MAX 20000

enum ipmode { IP_FIXED, IP_RANDOM, IP_DISTINCT };

struct worker {
	pthread_t tid;
	unsigned id;
	uint64_t rng;
	int fd;
	char buf[REPLY_MAX];
	size_t have;
	struct bench_lat lat;
	unsigned long ok, fail, throttled, nouser, disabled, temp, errors,
	    completed;
	char fail_msg[256];
};

static const char *sock_path;
static const char *service = "imap";
static const char *password = "wrong password";
static char **logins;
static size_t nlogins;
static enum ipmode ipmode;
static const char *fixed_ip;
static uint32_t net_base, net_size;     /* -R: host order; -D: first, count */
static double duration = 3.0, warmup = 0.5;
static uint64_t t_measure, t_end;
static unsigned long next_login, next_addr;     /* shared, atomic */
static unsigned long max_req = ~0ul, sent;      /* -n; shared, atomic */
static pthread_barrier_t barrier;

/* Append the netstring of s[0..n) at out+*at (room checked by caller). */
static void
ns_put(char *out, size_t *at, const char *s, size_t n)
{
	*at += (size_t)sprintf(out + *at, "%zu:", n);
	memcpy(out + *at, s, n);
	*at += n;
	out[(*at)++] = ',';
}

/* Build one verify request in out; its length, or 0 if too long. */
static size_t
build_request(char *out, size_t cap, const char *login, const char *ip)
{
	char inner[REQ_MAX];
	size_t n = 0, at = 0;
	const char *it[7] = { "verify", login, password, service, ip, "",
	    "0" };
	int i;

	for (i = 0; i < 7; i++) {
		if (n + strlen(it[i]) + 24 > sizeof(inner))
			return 0;
		ns_put(inner, &n, it[i], strlen(it[i]));
	}
	if (n + 24 > cap)
		return 0;
	ns_put(out, &at, inner, n);
	return at;
}

/* Parse one netstring at p[0..n): 1 and payload/used, 0 need more, -1
 * malformed. */
static int
ns_get(const char *p, size_t n, const char **pl, size_t *plen, size_t *used)
{
	size_t i = 0, len = 0;

	while (i < n && p[i] >= '0' && p[i] <= '9') {
		len = len * 10 + (size_t)(p[i] - '0');
		if (len > REPLY_MAX || ++i > 6)
			return -1;
	}
	if (i == n)
		return 0;
	if (i == 0 || p[i] != ':')
		return -1;
	i++;
	if (n - i < len + 1)
		return 0;
	if (p[i + len] != ',')
		return -1;
	*pl = p + i;
	*plen = len;
	*used = i + len + 1;
	return 1;
}

/* Read one reply message; classify it.  0 or -1 (errors, fail_msg). */
static int
read_reply(struct worker *w)
{
	const char *pl, *it, *first = NULL, *second = NULL;
	size_t plen, used, ilen, iused, flen = 0, slen = 0, off;
	ssize_t r;
	int k, items = 0;

	for (;;) {
		k = ns_get(w->buf, w->have, &pl, &plen, &used);
		if (k < 0) {
			snprintf(w->fail_msg, sizeof(w->fail_msg),
			    "malformed reply");
			return -1;
		}
		if (k > 0)
			break;
		if (w->have == sizeof(w->buf)) {
			snprintf(w->fail_msg, sizeof(w->fail_msg),
			    "reply too long");
			return -1;
		}
		r = read(w->fd, w->buf + w->have, sizeof(w->buf) - w->have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(w->fail_msg, sizeof(w->fail_msg),
			    "connection closed (%s)", r < 0 ? strerror(errno) :
			    "EOF");
			return -1;
		}
		w->have += (size_t)r;
	}
	for (off = 0; off < plen; off += iused) {
		if (ns_get(pl + off, plen - off, &it, &ilen, &iused) != 1) {
			snprintf(w->fail_msg, sizeof(w->fail_msg),
			    "malformed reply item");
			return -1;
		}
		if (items == 0)
			first = it, flen = ilen;
		else if (items == 1)
			second = it, slen = ilen;
		items++;
	}
	memmove(w->buf, w->buf + used, w->have - used);
	w->have -= used;
#define IS(p, l, s) ((p) != NULL && (l) == strlen(s) && memcmp(p, s, l) == 0)
	if (IS(first, flen, "ok"))
		w->ok++;
	else if (IS(first, flen, "fail") && IS(second, slen, "throttled"))
		w->throttled++;
	else if (IS(first, flen, "fail"))
		w->fail++;
	else if (IS(first, flen, "nouser"))
		w->nouser++;
	else if (IS(first, flen, "disabled"))
		w->disabled++;
	else if (IS(first, flen, "temp"))
		w->temp++;
	else {
		snprintf(w->fail_msg, sizeof(w->fail_msg),
		    "unexpected reply '%.*s'", (int)(flen > 40 ? 40 : flen),
		    first ? first : "");
		return -1;
	}
#undef IS
	return 0;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	char req[REQ_MAX + 32], ip[64];
	const char *login;
	unsigned long a;
	uint32_t addr;
	uint64_t t0, t1;
	size_t n;
	struct in_addr ia;

	w->fd = ipc_connect(sock_path);
	if (w->fd < 0)
		snprintf(w->fail_msg, sizeof(w->fail_msg), "connect %s: %s",
		    sock_path, strerror(errno));
	pthread_barrier_wait(&barrier);
	if (w->fd < 0)
		return NULL;
	for (;;) {
		t0 = bench_now_ns();
		if (t0 >= t_end)
			break;
		if (__atomic_fetch_add(&sent, 1, __ATOMIC_RELAXED) >= max_req)
			break;
		login = logins[__atomic_fetch_add(&next_login, 1,
		    __ATOMIC_RELAXED) % nlogins];
		if (ipmode == IP_FIXED) {
			snprintf(ip, sizeof(ip), "%s", fixed_ip);
		} else {
			if (ipmode == IP_RANDOM) {
				addr = net_base + (uint32_t)(bench_xorshift(&w->rng) %
				    net_size);
			} else {
				a = __atomic_fetch_add(&next_addr, 1,
				    __ATOMIC_RELAXED);
				if (a >= net_size)
					break;
				addr = net_base + (uint32_t)a;
			}
			ia.s_addr = htonl(addr);
			inet_ntop(AF_INET, &ia, ip, sizeof(ip));
		}
		n = build_request(req, sizeof(req), login, ip);
		if (n == 0) {
			snprintf(w->fail_msg, sizeof(w->fail_msg),
			    "request too long");
			w->errors++;
			break;
		}
		if (bench_write_all(w->fd, req, n) != 0) {
			snprintf(w->fail_msg, sizeof(w->fail_msg), "write: %s",
			    strerror(errno));
			w->errors++;
			break;
		}
		if (read_reply(w) != 0) {
			w->errors++;
			break;
		}
		t1 = bench_now_ns();
		w->completed++;
		if (t0 >= t_measure && t1 <= t_end)
			bench_lat_add(&w->lat, t1 - t0);
	}
	close(w->fd);
	return NULL;
}

static void
usage(void)
{
	fputs("usage: authflood -s SOCKET -u LOGIN[,LOGIN...] [-p PASSWORD]\n"
	    "                 (-i IP | -R A.B.C.D/LEN | -D A.B.C.D:COUNT)\n"
	    "                 [-n MAX] [-c CONNS] [-d SECONDS] [-w WARMUP]\n"
	    "                 [-m SERVICE] [-S SEED] [-l LABEL]\n", stderr);
	exit(2);
}

static void
parse_logins(char *list)
{
	char *p, *save = NULL;
	size_t cap = 0;

	for (p = strtok_r(list, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (nlogins == cap) {
			cap = cap ? cap * 2 : 16;
			if ((logins = realloc(logins, cap * sizeof(*logins))) ==
			    NULL) {
				fputs("authflood: out of memory\n", stderr);
				exit(1);
			}
		}
		logins[nlogins++] = p;
	}
}

static uint32_t
parse_v4(const char *s)
{
	struct in_addr ia;

	if (inet_pton(AF_INET, s, &ia) != 1) {
		fprintf(stderr, "authflood: '%s' is not an IPv4 address\n", s);
		exit(2);
	}
	return ntohl(ia.s_addr);
}

int
main(int argc, char **argv)
{
	const char *label = "-";
	char *sep, *arg;
	unsigned conns = 1, i, len;
	uint64_t seed = 12345, *all, t_start, t_stop;
	unsigned long ok = 0, fail = 0, thr = 0, nou = 0, dis = 0, temp = 0,
	    errs = 0, done = 0;
	size_t total = 0, at;
	struct worker *ws;
	double secs;
	struct bench_summary sm;
	int c, setup_failed = 0, have_ip = 0;

	while ((c = getopt(argc, argv, "s:u:p:m:i:R:D:n:c:d:w:S:l:h")) != -1) {
		switch (c) {
		case 's': sock_path = optarg; break;
		case 'u': parse_logins(optarg); break;
		case 'p': password = optarg; break;
		case 'm': service = optarg; break;
		case 'i':
			ipmode = IP_FIXED;
			fixed_ip = optarg;
			have_ip++;
			break;
		case 'R':
			arg = optarg;
			if ((sep = strchr(arg, '/')) == NULL)
				usage();
			*sep = '\0';
			len = (unsigned)atoi(sep + 1);
			if (len < 1 || len > 32)
				usage();
			net_size = len == 32 ? 1 : (uint32_t)(1ull << (32 - len));
			net_base = parse_v4(arg) & ~(net_size - 1);
			ipmode = IP_RANDOM;
			have_ip++;
			break;
		case 'D':
			arg = optarg;
			if ((sep = strchr(arg, ':')) == NULL)
				usage();
			*sep = '\0';
			net_base = parse_v4(arg);
			net_size = (uint32_t)strtoul(sep + 1, NULL, 10);
			if (net_size == 0 ||
			    (uint64_t)net_base + net_size > 0x100000000ull)
				usage();
			ipmode = IP_DISTINCT;
			have_ip++;
			break;
		case 'n': max_req = strtoul(optarg, NULL, 10); break;
		case 'c': conns = (unsigned)atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'l': label = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || sock_path == NULL || nlogins == 0 ||
	    have_ip != 1 || conns < 1 || conns > 4096 || duration <= 0 ||
	    warmup < 0)
		usage();
	if (ipmode == IP_DISTINCT)
		warmup = 0;
	if ((ws = calloc(conns, sizeof(*ws))) == NULL) {
		fputs("authflood: out of memory\n", stderr);
		return 1;
	}
	pthread_barrier_init(&barrier, NULL, conns + 1);
	t_measure = t_end = UINT64_MAX;
	for (i = 0; i < conns; i++) {
		ws[i].id = i;
		ws[i].fd = -1;
		ws[i].rng = (seed + 1) * 0x9E3779B97F4A7C15ull ^
		    ((uint64_t)i + 1) * 0xBF58476D1CE4E5B9ull;
		if (ws[i].rng == 0)
			ws[i].rng = 1;
		if (pthread_create(&ws[i].tid, NULL, run, &ws[i]) != 0) {
			fputs("authflood: cannot start a thread\n", stderr);
			return 1;
		}
	}
	t_start = bench_now_ns();
	t_measure = t_start + (uint64_t)(warmup * 1e9);
	t_end = t_measure + (uint64_t)(duration * 1e9);
	pthread_barrier_wait(&barrier);
	for (i = 0; i < conns; i++) {
		pthread_join(ws[i].tid, NULL);
		total += ws[i].lat.n;
		ok += ws[i].ok;
		fail += ws[i].fail;
		thr += ws[i].throttled;
		nou += ws[i].nouser;
		dis += ws[i].disabled;
		temp += ws[i].temp;
		errs += ws[i].errors;
		done += ws[i].completed;
		if (ws[i].fail_msg[0] != '\0') {
			fprintf(stderr, "authflood: connection %u: %s\n", i,
			    ws[i].fail_msg);
			if (ws[i].lat.n == 0 && ws[i].completed == 0)
				setup_failed = 1;
		}
	}
	t_stop = bench_now_ns();
	if (total == 0 || setup_failed) {
		fputs("authflood: nothing measured\n", stderr);
		return 1;
	}
	/* -D and -n end early: measure what it took. */
	secs = (double)(t_stop - t_start) / 1e9 - warmup;
	if (secs > duration || secs <= 0)
		secs = duration;
	if ((all = malloc(total * sizeof(*all))) == NULL) {
		fputs("authflood: out of memory\n", stderr);
		return 1;
	}
	for (i = 0, at = 0; i < conns; i++) {
		memcpy(all + at, ws[i].lat.v, ws[i].lat.n * sizeof(*all));
		at += ws[i].lat.n;
	}
	bench_summarize(all, total, &sm);
	printf("label=%s conns=%u seconds=%.2f requests=%zu rate=%.1f "
	    "p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f mean_us=%.0f "
	    "ok=%lu fail=%lu throttled=%lu nouser=%lu disabled=%lu temp=%lu "
	    "errors=%lu completed=%lu\n", label, conns, secs, total,
	    (double)total / secs, sm.p50, sm.p90, sm.p99, sm.max, sm.mean, ok,
	    fail, thr, nou, dis, temp, errs, done);
	return 0;
}
