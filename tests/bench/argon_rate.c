/*
 * argon_rate.c - the raw Argon2id verify rate of this machine, the
 * ceiling of tests/bench/auth.sh; also makes that benchmark's hashes.
 *
 *   argon_rate -c OPS:KIB [-t THREADS] [-d SECONDS] [-w WARMUP] [-l LABEL]
 *   argon_rate -g OPS:KIB < PASSWORDS > HASHES
 *
 * Rate mode: one Argon2id hash (libsodium's crypto_pwhash_str at OPS
 * passes and KIB KiB) of a fixed password is made, then THREADS threads
 * (default 2) each call crypto_pwhash_str_verify on it in a loop - what a
 * hash worker of vmsealed or a Dovecot auth process does per login, with
 * nothing around it.  After WARMUP seconds (default 1; not counted), every
 * verification's time (CLOCK_MONOTONIC) is stored, for SECONDS (default 3).
 * Output: one line of KEY=VALUE fields, as tests/bench/authclient prints:
 *   label= conns= (threads) seconds= requests= rate= (verifications per
 *   second) p50_us= p90_us= p99_us= max_us= mean_us= ok= fail= errors=
 *   completed= (every verification, warm-up included) cpu_us= (the
 *   process's CPU time, user+system, per completed verification: the work
 *   of one verification, less disturbed by other jobs than rate)
 *
 * Generate mode (-g): for each line of standard input (a password), one
 * line "$argon2id$v=19$m=KIB,t=OPS,p=1$salt$hash" on standard output, the
 * same string vmseal stores and Dovecot 2.3 verifies (with the {ARGON2ID}
 * prefix) through the same libsodium.
 *
 * Exit status 0, or 1 on an error (a message on standard error).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench_util.h"

#define PASSWORD "bench password 1234"

struct worker {
	pthread_t tid;
	struct bench_lat lat;
	unsigned long ok, fail, completed;
};

static char hash[crypto_pwhash_STRBYTES];
static uint64_t t_measure, t_end;
static pthread_barrier_t barrier;

static void *
run(void *arg)
{
	struct worker *w = arg;
	uint64_t t0, t1;
	int r;

	pthread_barrier_wait(&barrier);
	for (;;) {
		t0 = bench_now_ns();
		if (t0 >= t_end)
			break;
		r = crypto_pwhash_str_verify(hash, PASSWORD, strlen(PASSWORD));
		t1 = bench_now_ns();
		w->completed++;
		if (t0 < t_measure)
			continue;
		if (t1 > t_end)
			break;
		bench_lat_add(&w->lat, t1 - t0);
		if (r == 0)
			w->ok++;
		else
			w->fail++;
	}
	return NULL;
}

static double
cpu_now_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
	    (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

static int
parse_cost(const char *s, unsigned long long *ops, size_t *mem)
{
	unsigned long long o, k;
	char *end;

	o = strtoull(s, &end, 10);
	if (*end != ':')
		return -1;
	k = strtoull(end + 1, &end, 10);
	if (*end != '\0' || o < crypto_pwhash_OPSLIMIT_MIN ||
	    k * 1024 < crypto_pwhash_MEMLIMIT_MIN ||
	    k * 1024 > crypto_pwhash_MEMLIMIT_MAX)
		return -1;
	*ops = o;
	*mem = (size_t)(k * 1024);
	return 0;
}

static void
usage(void)
{
	fputs("usage: argon_rate -c OPS:KIB [-t THREADS] [-d SECONDS] "
	    "[-w WARMUP] [-l LABEL]\n"
	    "       argon_rate -g OPS:KIB < PASSWORDS\n", stderr);
	exit(2);
}

static int
generate(unsigned long long ops, size_t mem)
{
	char *line = NULL, out[crypto_pwhash_STRBYTES];
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (crypto_pwhash_str_alg(out, line, (unsigned long long)n,
		    ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
			fputs("argon_rate: out of memory\n", stderr);
			return 1;
		}
		printf("%s\n", out);
	}
	free(line);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *cost = NULL, *label = "raw";
	unsigned threads = 2, i;
	double duration = 3.0, warmup = 1.0, secs, cpu0, cpu1;
	struct bench_summary sm;
	unsigned long long ops;
	size_t mem, total = 0, at;
	unsigned long ok = 0, fail = 0, done = 0;
	struct worker *ws;
	uint64_t *all;
	int gen = 0, c;

	while ((c = getopt(argc, argv, "c:g:t:d:w:l:h")) != -1) {
		switch (c) {
		case 'c': cost = optarg; break;
		case 'g': cost = optarg; gen = 1; break;
		case 't': threads = (unsigned)atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'l': label = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || cost == NULL || threads < 1 || threads > 256 ||
	    duration <= 0 || warmup < 0)
		usage();
	if (sodium_init() < 0) {
		fputs("argon_rate: sodium_init failed\n", stderr);
		return 1;
	}
	if (parse_cost(cost, &ops, &mem) != 0) {
		fprintf(stderr, "argon_rate: bad cost '%s' (OPS:KIB)\n", cost);
		return 1;
	}
	if (gen)
		return generate(ops, mem);
	if (crypto_pwhash_str_alg(hash, PASSWORD, strlen(PASSWORD), ops, mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		fputs("argon_rate: cannot hash (out of memory?)\n", stderr);
		return 1;
	}
	if ((ws = calloc(threads, sizeof(*ws))) == NULL) {
		fputs("argon_rate: out of memory\n", stderr);
		return 1;
	}
	pthread_barrier_init(&barrier, NULL, threads + 1);
	t_measure = t_end = UINT64_MAX;
	cpu0 = cpu_now_us();
	for (i = 0; i < threads; i++)
		if (pthread_create(&ws[i].tid, NULL, run, &ws[i]) != 0) {
			fputs("argon_rate: cannot start a thread\n", stderr);
			return 1;
		}
	t_measure = bench_now_ns() + (uint64_t)(warmup * 1e9);
	t_end = t_measure + (uint64_t)(duration * 1e9);
	pthread_barrier_wait(&barrier);
	for (i = 0; i < threads; i++) {
		pthread_join(ws[i].tid, NULL);
		total += ws[i].lat.n;
	}
	cpu1 = cpu_now_us();
	if (total == 0) {
		fputs("argon_rate: nothing measured\n", stderr);
		return 1;
	}
	if ((all = malloc(total * sizeof(*all))) == NULL) {
		fputs("argon_rate: out of memory\n", stderr);
		return 1;
	}
	for (i = 0, at = 0; i < threads; i++) {
		memcpy(all + at, ws[i].lat.v, ws[i].lat.n * sizeof(*all));
		at += ws[i].lat.n;
		ok += ws[i].ok;
		fail += ws[i].fail;
		done += ws[i].completed;
	}
	bench_summarize(all, total, &sm);
	secs = duration;
	printf("label=%s conns=%u seconds=%.2f requests=%zu rate=%.1f "
	    "p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f mean_us=%.0f "
	    "ok=%lu fail=%lu errors=0 completed=%lu cpu_us=%.0f\n", label,
	    threads, secs, total, (double)total / secs, sm.p50, sm.p90,
	    sm.p99, sm.max, sm.mean, ok, fail, done, done ? (cpu1 - cpu0) / (double)done : 0);
	return fail == 0 ? 0 : 1;
}
