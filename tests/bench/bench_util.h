/*
 * bench_util.h - the pieces every load generator under tests/bench shares:
 * a monotonic clock, a cheap random sequence, a write loop, a key file
 * reader, and latency samples with their summary (percentiles as the
 * benchmarks print them).
 *
 * Benchmark tools only, never installed.  Connecting to a Unix socket is
 * lib/ipc.h's ipc_connect().
 */
#ifndef VS_BENCH_UTIL_H
#define VS_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* xorshift64: the next value of the sequence seeded by *s (not 0). */
uint64_t bench_xorshift(uint64_t *s);

/* Write all of p[0..n) to fd (EINTR retried): 0, or -1. */
int bench_write_all(int fd, const void *p, size_t n);

/* The non-empty lines of the file at path (CR/LF stripped), malloc()ed.
 * Exits with a message naming prog on an error, or when there is none
 * ("PATH holds no WHAT"). */
struct bench_lines {
	char **v;
	size_t n;
};
void bench_load_lines(const char *prog, const char *path, const char *what,
    struct bench_lines *l);

/* Latency samples in nanoseconds; zero-initialise.  bench_lat_add() drops
 * a sample it has no memory for (the count of requests is kept by the
 * caller, so a figure is never invented).  Free v with free(). */
struct bench_lat {
	uint64_t *v;
	size_t n, cap;
};
void bench_lat_add(struct bench_lat *l, uint64_t ns);

/* Sort v[0..n) (n > 0) and summarise it, in microseconds: the p-th
 * percentiles by the nearest-rank method, the largest and the mean. */
struct bench_summary {
	double p50, p90, p99, max, mean;
};
void bench_summarize(uint64_t *v, size_t n, struct bench_summary *s);

#endif
