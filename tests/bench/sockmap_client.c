/*
 * sockmap_client.c - a load generator for Postfix's socketmap protocol,
 * used by tests/bench/socketmap.sh.
 *
 *   sockmap_client -s SOCKET -f KEYS [-F MISSKEYS -p HITPCT] [-c CONNS]
 *                  [-d SECONDS] [-w WARMUP] [-m MAP] [-S SEED] [-l LABEL]
 *
 * Each of CONNS threads opens one connection and, like a Postfix process
 * with its socketmap table, sends one request "MAP KEY" (a netstring),
 * waits for the whole reply, and repeats - closed loop, no pipelining.
 * Keys are drawn at random (each thread its own generator, seeded from
 * SEED and its number) from KEYS, one key per line; with -F, a request
 * takes a key from MISSKEYS instead with probability (100-HITPCT)%, so the
 * mix of existing and unknown keys is set by -p (default 100 without -F,
 * 80 with it).  After WARMUP seconds (default 0.5; not counted) every
 * request's latency (write to the end of its reply, CLOCK_MONOTONIC) is
 * stored in an array per thread, for SECONDS (default 3).  At the end the
 * arrays are merged and sorted for the percentiles.
 *
 * Output: one line of KEY=VALUE fields on standard output:
 *   label= conns= seconds= requests= rate= (requests per second)
 *   p50_us= p90_us= p99_us= max_us= mean_us=
 *   ok= notfound= temp= perm= errors= (bad replies, closed connections,
 *   reconnects: a broken connection is reopened and counted once)
 *   completed= (every request answered, warm-up and the requests still
 *   running at the end included: what the server did while measured from
 *   outside, e.g. for its CPU time per request)
 * Exit status 0, or 1 when nothing was measured or set-up failed (an
 * error message on standard error).
 *
 * It is self-contained on purpose (its own netstring reader): the client
 * must not share code with the server it measures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX 100100        /* Postfix's limit, plus framing */
#define REQ_MAX 1100

struct keys {
	char **v;
	size_t n;
};

struct worker {
	pthread_t tid;
	unsigned id;
	uint64_t rng;
	uint64_t *lat;          /* nanoseconds, measured phase only */
	size_t nlat, caplat;
	unsigned long ok, notfound, temp, perm, errors;
	unsigned long completed;        /* every answered request, warm-up and
					 * tail included */
	char fail[256];         /* set-up failure */
};

static const char *sock_path;
static const char *map_name = "mailboxes";
static struct keys hit_keys, miss_keys;
static unsigned hit_pct = 100;
static double duration = 3.0, warmup = 0.5;
static uint64_t t_start, t_measure, t_end;     /* ns, CLOCK_MONOTONIC */
static pthread_barrier_t barrier;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void
load_keys(const char *path, struct keys *k)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, kcap = 0;
	ssize_t n;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "sockmap_client: %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (k->n == kcap) {
			kcap = kcap ? kcap * 2 : 1024;
			if ((k->v = realloc(k->v, kcap * sizeof(*k->v))) ==
			    NULL) {
				fputs("sockmap_client: out of memory\n", stderr);
				exit(1);
			}
		}
		if ((k->v[k->n++] = strdup(line)) == NULL) {
			fputs("sockmap_client: out of memory\n", stderr);
			exit(1);
		}
	}
	free(line);
	fclose(f);
	if (k->n == 0) {
		fprintf(stderr, "sockmap_client: %s holds no key\n", path);
		exit(1);
	}
}

static int
connect_to(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one netstring reply into buf; its payload at *pay, length *plen.
 * 0, or -1 on a closed connection or a malformed reply. */
static int
read_reply(int fd, char *buf, size_t cap, const char **pay, size_t *plen)
{
	size_t have = 0, len = 0, i, hdr = 0;
	ssize_t r;

	for (;;) {
		if (hdr == 0) {
			/* Parse "LEN:" once the ':' is in. */
			for (i = 0; i < have; i++) {
				if (buf[i] == ':')
					break;
				if (buf[i] < '0' || buf[i] > '9' || i > 6)
					return -1;
				len = len * 10 + (size_t)(buf[i] - '0');
			}
			if (i < have) {
				if (i == 0 || len + i + 2 > cap)
					return -1;
				hdr = i + 1;
			} else {
				len = 0;
			}
		}
		if (hdr != 0 && have >= hdr + len + 1) {
			if (buf[hdr + len] != ',' || have != hdr + len + 1)
				return -1;      /* no pipelining: nothing more */
			*pay = buf + hdr;
			*plen = len;
			return 0;
		}
		r = read(fd, buf + have, cap - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
}

static void
record(struct worker *w, uint64_t ns)
{
	if (w->nlat == w->caplat) {
		size_t nc = w->caplat ? w->caplat * 2 : 65536;
		uint64_t *nv = realloc(w->lat, nc * sizeof(*nv));

		if (nv == NULL)
			return;         /* keep counting, drop the sample */
		w->lat = nv;
		w->caplat = nc;
	}
	w->lat[w->nlat++] = ns;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	char req[REQ_MAX], *reply;
	const char *key, *pay;
	size_t plen;
	uint64_t t0, t1;
	int fd, n;

	if ((reply = malloc(REPLY_MAX)) == NULL) {
		snprintf(w->fail, sizeof(w->fail), "out of memory");
		pthread_barrier_wait(&barrier);
		return NULL;
	}
	fd = connect_to();
	if (fd < 0)
		snprintf(w->fail, sizeof(w->fail), "connect %s: %s",
		    sock_path, strerror(errno));
	pthread_barrier_wait(&barrier);
	if (fd < 0) {
		free(reply);
		return NULL;
	}
	for (;;) {
		const struct keys *k = &hit_keys;

		if (miss_keys.n > 0 && xorshift(&w->rng) % 100 >= hit_pct)
			k = &miss_keys;
		key = k->v[xorshift(&w->rng) % k->n];
		n = snprintf(req + 8, sizeof(req) - 8, "%s %s", map_name, key);
		if (n < 0 || (size_t)n >= sizeof(req) - 8 - 1)
			continue;       /* a key too long for us: skip it */
		{
			/* Prefix "LEN:" right before the payload. */
			char pre[8];
			int pl = snprintf(pre, sizeof(pre), "%d:", n);
			char *start = req + 8 - pl;

			memcpy(start, pre, (size_t)pl);
			start[pl + n] = ',';
			t0 = now_ns();
			if (t0 >= t_end)
				break;
			if (write_all(fd, start, (size_t)(pl + n + 1)) != 0 ||
			    read_reply(fd, reply, REPLY_MAX, &pay, &plen) !=
			    0) {
				if (t0 >= t_measure)
					w->errors++;
				close(fd);
				if ((fd = connect_to()) < 0)
					break;
				continue;
			}
		}
		t1 = now_ns();
		w->completed++;
		if (t0 < t_measure)
			continue;
		if (t1 > t_end)
			break;          /* only whole requests in the window */
		record(w, t1 - t0);
		if (plen >= 3 && memcmp(pay, "OK ", 3) == 0)
			w->ok++;
		else if (plen == 9 && memcmp(pay, "NOTFOUND ", 9) == 0)
			w->notfound++;
		else if (plen >= 5 && memcmp(pay, "TEMP ", 5) == 0)
			w->temp++;
		else if (plen >= 5 && memcmp(pay, "PERM ", 5) == 0)
			w->perm++;
		else
			w->errors++;
	}
	if (fd >= 0)
		close(fd);
	free(reply);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double
pct_us(const uint64_t *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1000.0;
}

static void
usage(void)
{
	fputs("usage: sockmap_client -s SOCKET -f KEYS [-F MISSKEYS] "
	    "[-p HITPCT] [-c CONNS]\n"
	    "       [-d SECONDS] [-w WARMUP] [-m MAP] [-S SEED] "
	    "[-l LABEL]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *keys_path = NULL, *miss_path = NULL, *label = "-";
	unsigned conns = 1, i;
	int pct_set = 0, c;
	uint64_t seed = 12345, *all;
	unsigned long ok = 0, nf = 0, temp = 0, perm = 0, errs = 0, done = 0;
	size_t total = 0, at;
	struct worker *ws;
	double secs, sum = 0;

	while ((c = getopt(argc, argv, "s:f:F:p:c:d:w:m:S:l:h")) != -1) {
		switch (c) {
		case 's': sock_path = optarg; break;
		case 'f': keys_path = optarg; break;
		case 'F': miss_path = optarg; break;
		case 'p': hit_pct = (unsigned)atoi(optarg); pct_set = 1; break;
		case 'c': conns = (unsigned)atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'm': map_name = optarg; break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'l': label = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || sock_path == NULL || keys_path == NULL ||
	    conns < 1 || conns > 4096 || duration <= 0 || warmup < 0 ||
	    hit_pct > 100)
		usage();
	load_keys(keys_path, &hit_keys);
	if (miss_path != NULL) {
		load_keys(miss_path, &miss_keys);
		if (!pct_set)
			hit_pct = 80;
	}
	if ((ws = calloc(conns, sizeof(*ws))) == NULL) {
		fputs("sockmap_client: out of memory\n", stderr);
		return 1;
	}
	pthread_barrier_init(&barrier, NULL, conns + 1);
	/* Far in the future until every connection is open. */
	t_measure = t_end = UINT64_MAX;
	for (i = 0; i < conns; i++) {
		ws[i].id = i;
		ws[i].rng = (seed + 1) * 0x9E3779B97F4A7C15ull ^
		    ((uint64_t)i + 1) * 0xBF58476D1CE4E5B9ull;
		if (ws[i].rng == 0)
			ws[i].rng = 1;
		if (pthread_create(&ws[i].tid, NULL, run, &ws[i]) != 0) {
			fputs("sockmap_client: cannot start a thread\n", stderr);
			return 1;
		}
	}
	t_start = now_ns();
	t_measure = t_start + (uint64_t)(warmup * 1e9);
	t_end = t_measure + (uint64_t)(duration * 1e9);
	/* The workers read t_measure/t_end after the barrier: it orders
	 * these stores before their loads. */
	pthread_barrier_wait(&barrier);
	for (i = 0; i < conns; i++)
		pthread_join(ws[i].tid, NULL);
	for (i = 0; i < conns; i++) {
		if (ws[i].fail[0] != '\0') {
			fprintf(stderr, "sockmap_client: %s\n", ws[i].fail);
			return 1;
		}
		total += ws[i].nlat;
		ok += ws[i].ok;
		nf += ws[i].notfound;
		temp += ws[i].temp;
		perm += ws[i].perm;
		errs += ws[i].errors;
		done += ws[i].completed;
	}
	if (total == 0) {
		fputs("sockmap_client: no request completed\n", stderr);
		return 1;
	}
	if ((all = malloc(total * sizeof(*all))) == NULL) {
		fputs("sockmap_client: out of memory\n", stderr);
		return 1;
	}
	for (at = 0, i = 0; i < conns; i++) {
		memcpy(all + at, ws[i].lat, ws[i].nlat * sizeof(*all));
		at += ws[i].nlat;
		free(ws[i].lat);
	}
	qsort(all, total, sizeof(*all), cmp_u64);
	for (at = 0; at < total; at++)
		sum += (double)all[at];
	secs = (double)(t_end - t_measure) / 1e9;
	printf("label=%s conns=%u seconds=%.2f requests=%zu rate=%.0f "
	    "p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f mean_us=%.1f "
	    "ok=%lu notfound=%lu temp=%lu perm=%lu errors=%lu completed=%lu\n",
	    label, conns, secs, total, (double)total / secs,
	    pct_us(all, total, 50), pct_us(all, total, 90),
	    pct_us(all, total, 99), (double)all[total - 1] / 1000.0,
	    sum / (double)total / 1000.0, ok, nf, temp, perm, errs, done);
	free(all);
	free(ws);
	return 0;
}
