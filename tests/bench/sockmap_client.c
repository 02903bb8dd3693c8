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
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "ipc.h"

#define REPLY_MAX 100100        /* Postfix's limit, plus framing */
#define REQ_MAX 1100

struct worker {
	pthread_t tid;
	unsigned id;
	uint64_t rng;
	struct bench_lat lat;   /* nanoseconds, measured phase only */
	unsigned long ok, notfound, temp, perm, errors;
	unsigned long completed;        /* every answered request, warm-up and
					 * tail included */
	char fail[256];         /* set-up failure */
};

static const char *sock_path;
static const char *map_name = "mailboxes";
static struct bench_lines hit_keys, miss_keys;
static unsigned hit_pct = 100;
static double duration = 3.0, warmup = 0.5;
static uint64_t t_start, t_measure, t_end;     /* ns, CLOCK_MONOTONIC */
static pthread_barrier_t barrier;

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
	fd = ipc_connect(sock_path);
	if (fd < 0)
		snprintf(w->fail, sizeof(w->fail), "connect %s: %s",
		    sock_path, strerror(errno));
	pthread_barrier_wait(&barrier);
	if (fd < 0) {
		free(reply);
		return NULL;
	}
	for (;;) {
		const struct bench_lines *k = &hit_keys;

		if (miss_keys.n > 0 && bench_xorshift(&w->rng) % 100 >= hit_pct)
			k = &miss_keys;
		key = k->v[bench_xorshift(&w->rng) % k->n];
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
			t0 = bench_now_ns();
			if (t0 >= t_end)
				break;
			if (bench_write_all(fd, start, (size_t)(pl + n + 1)) != 0 ||
			    read_reply(fd, reply, REPLY_MAX, &pay, &plen) !=
			    0) {
				if (t0 >= t_measure)
					w->errors++;
				close(fd);
				if ((fd = ipc_connect(sock_path)) < 0)
					break;
				continue;
			}
		}
		t1 = bench_now_ns();
		w->completed++;
		if (t0 < t_measure)
			continue;
		if (t1 > t_end)
			break;          /* only whole requests in the window */
		bench_lat_add(&w->lat, t1 - t0);
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
	double secs;
	struct bench_summary sm;

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
	bench_load_lines("sockmap_client", keys_path, "key", &hit_keys);
	if (miss_path != NULL) {
		bench_load_lines("sockmap_client", miss_path, "key",
		    &miss_keys);
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
	t_start = bench_now_ns();
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
		total += ws[i].lat.n;
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
		memcpy(all + at, ws[i].lat.v, ws[i].lat.n * sizeof(*all));
		at += ws[i].lat.n;
		free(ws[i].lat.v);
	}
	bench_summarize(all, total, &sm);
	secs = (double)(t_end - t_measure) / 1e9;
	printf("label=%s conns=%u seconds=%.2f requests=%zu rate=%.0f "
	    "p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f mean_us=%.1f "
	    "ok=%lu notfound=%lu temp=%lu perm=%lu errors=%lu completed=%lu\n",
	    label, conns, secs, total, (double)total / secs,
	    sm.p50, sm.p90, sm.p99, sm.max, sm.mean, ok, nf, temp, perm, errs,
	    done);
	free(all);
	free(ws);
	return 0;
}
