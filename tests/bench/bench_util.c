/*
 * bench_util.c - shared pieces of the benchmark load generators (see
 * bench_util.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
bench_xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

int
bench_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
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

void
bench_load_lines(const char *prog, const char *path, const char *what,
    struct bench_lines *l)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lcap = 0;
	ssize_t n;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		exit(1);
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (l->n == lcap) {
			lcap = lcap ? lcap * 2 : 1024;
			if ((l->v = realloc(l->v, lcap * sizeof(*l->v))) == NULL)
				goto oom;
		}
		if ((l->v[l->n++] = strdup(line)) == NULL)
			goto oom;
	}
	free(line);
	fclose(f);
	if (l->n == 0) {
		fprintf(stderr, "%s: %s holds no %s\n", prog, path, what);
		exit(1);
	}
	return;
oom:
	fprintf(stderr, "%s: out of memory\n", prog);
	exit(1);
}

void
bench_lat_add(struct bench_lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 4096;
		uint64_t *nv = realloc(l->v, nc * sizeof(*nv));

		if (nv == NULL)
			return;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = ns;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile of sorted v[0..n), nearest rank, in microseconds. */
static double
pct_us(const uint64_t *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1000.0;
}

void
bench_summarize(uint64_t *v, size_t n, struct bench_summary *s)
{
	double sum = 0;
	size_t i;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		sum += (double)v[i];
	s->p50 = pct_us(v, n, 50);
	s->p90 = pct_us(v, n, 90);
	s->p99 = pct_us(v, n, 99);
	s->max = (double)v[n - 1] / 1000.0;
	s->mean = sum / (double)n / 1000.0;
}
