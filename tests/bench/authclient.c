/*
 * authclient.c - a load generator for Dovecot's auth-client protocol
 * (the "auth-client" socket under Dovecot's base_dir, as imap-login and
 * pop3-login use it), used by tests/bench/auth.sh.
 *
 *   authclient -s SOCKET -f USERS [-c CONNS] [-d SECONDS] [-w WARMUP]
 *              [-m SERVICE] [-S SEED] [-l LABEL]
 *
 * USERS holds one "login<TAB>password" per line.  Each of CONNS threads
 * opens one connection, sends "VERSION\t1\t2" and "CPID\t<n>" (n unique
 * per connection: Dovecot refuses a second connection with a PID it
 * knows), reads the server's handshake up to "DONE", then - closed loop,
 * one request at a time, as a login process with one client would - sends
 *   AUTH\t<id>\tPLAIN\tservice=SERVICE\tresp=<base64("\0login\0password")>
 * for a user drawn at random and waits for its "OK\t<id>..." or
 * "FAIL\t<id>..." line.  After WARMUP seconds (default 1; not counted),
 * every request's latency (write to the end of the reply line,
 * CLOCK_MONOTONIC) is stored, for SECONDS (default 3).
 *
 * Output: one line of KEY=VALUE fields on standard output:
 *   label= conns= seconds= requests= rate= (logins answered per second)
 *   p50_us= p90_us= p99_us= max_us= mean_us=
 *   ok= fail= (FAIL lines; with "temp" among their fields also counted in
 *   temp=) errors= (anything else: CONT, a wrong id, a closed connection)
 *   completed= (every request answered, warm-up included)
 * Exit status 0, or 1 when nothing was measured or set-up failed.
 *
 * Self-contained on purpose: it shares no code with what it measures.
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

#define LINE_MAX_ 16384
#define REQ_MAX 4096

struct user {
	char *login;
	char *resp;             /* base64("\0login\0password") */
};

struct worker {
	pthread_t tid;
	unsigned id;
	uint64_t rng;
	int fd;
	char buf[LINE_MAX_];
	size_t have;            /* bytes in buf */
	struct bench_lat lat;
	unsigned long ok, fail, temp, errors, completed;
	char fail_msg[256];
};

static const char *sock_path;
static const char *service = "imap";
static struct user *users;
static size_t nusers;
static double duration = 3.0, warmup = 1.0;
static uint64_t t_measure, t_end;
static pthread_barrier_t barrier;
static unsigned cpid_base;

static char *
b64(const unsigned char *p, size_t n)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = malloc((n + 2) / 3 * 4 + 1), *q = o;
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		*q++ = t[p[i] >> 2];
		*q++ = t[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*q++ = t[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		*q++ = t[p[i + 2] & 63];
	}
	if (i < n) {
		*q++ = t[p[i] >> 2];
		if (i + 1 < n) {
			*q++ = t[(p[i] & 3) << 4 | p[i + 1] >> 4];
			*q++ = t[(p[i + 1] & 15) << 2];
		} else {
			*q++ = t[(p[i] & 3) << 4];
			*q++ = '=';
		}
		*q++ = '=';
	}
	*q = '\0';
	return o;
}

static void
load_users(const char *path)
{
	struct bench_lines lines = { 0 };
	char *line, *tab;
	unsigned char raw[2048];
	size_t i, ll, pl;

	bench_load_lines("authclient", path, "user", &lines);
	if ((users = calloc(lines.n, sizeof(*users))) == NULL)
		goto oom;
	for (i = 0; i < lines.n; i++) {
		line = lines.v[i];
		if ((tab = strchr(line, '\t')) == NULL) {
			fprintf(stderr, "authclient: %s: no TAB in a line\n",
			    path);
			exit(1);
		}
		*tab = '\0';
		ll = strlen(line);
		pl = strlen(tab + 1);
		if (ll + pl + 2 > sizeof(raw)) {
			fprintf(stderr, "authclient: %s: line too long\n", path);
			exit(1);
		}
		raw[0] = '\0';
		memcpy(raw + 1, line, ll);
		raw[1 + ll] = '\0';
		memcpy(raw + 2 + ll, tab + 1, pl);
		users[nusers].login = line;     /* the TAB cut the password */
		users[nusers].resp = b64(raw, ll + pl + 2);
		if (users[nusers].resp == NULL)
			goto oom;
		nusers++;
	}
	free(lines.v);
	return;
oom:
	fputs("authclient: out of memory\n", stderr);
	exit(1);
}

/* The next line (without its LF) into line; 0, or -1 on a closed or
 * broken connection or an over-long line. */
static int
read_line(struct worker *w, char *line, size_t cap)
{
	char *nl;
	size_t len;
	ssize_t r;

	for (;;) {
		if ((nl = memchr(w->buf, '\n', w->have)) != NULL) {
			len = (size_t)(nl - w->buf);
			if (len >= cap)
				return -1;
			memcpy(line, w->buf, len);
			line[len] = '\0';
			w->have -= len + 1;
			memmove(w->buf, nl + 1, w->have);
			return 0;
		}
		if (w->have == sizeof(w->buf))
			return -1;
		r = read(w->fd, w->buf + w->have, sizeof(w->buf) - w->have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		w->have += (size_t)r;
	}
}

/* Connect and handshake; 0 or -1 (w->fail_msg says why). */
static int
open_conn(struct worker *w, unsigned gen)
{
	char req[128], line[LINE_MAX_];
	int n;

	w->have = 0;
	if ((w->fd = ipc_connect(sock_path)) < 0) {
		snprintf(w->fail_msg, sizeof(w->fail_msg), "connect %s: %s",
		    sock_path, strerror(errno));
		return -1;
	}
	/* A fake client PID, unique per connection (and per reconnect). */
	n = snprintf(req, sizeof(req), "VERSION\t1\t2\nCPID\t%u\n",
	    cpid_base + gen * 4096u + w->id);
	if (bench_write_all(w->fd, req, (size_t)n) != 0)
		goto broken;
	for (;;) {
		if (read_line(w, line, sizeof(line)) != 0)
			goto broken;
		if (strcmp(line, "DONE") == 0)
			return 0;
	}
broken:
	snprintf(w->fail_msg, sizeof(w->fail_msg), "handshake on %s failed",
	    sock_path);
	close(w->fd);
	w->fd = -1;
	return -1;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	char *req, *line, idstr[16];
	const struct user *u;
	unsigned reqid = 0, gen = 0;
	uint64_t t0, t1;
	size_t idl;
	int n, r;

	req = malloc(REQ_MAX);
	line = malloc(LINE_MAX_);
	if (req == NULL || line == NULL) {
		snprintf(w->fail_msg, sizeof(w->fail_msg), "out of memory");
		w->fd = -1;
	} else {
		(void)open_conn(w, gen);
	}
	pthread_barrier_wait(&barrier);
	if (w->fd < 0)
		goto out;
	for (;;) {
		u = &users[bench_xorshift(&w->rng) % nusers];
		reqid++;
		n = snprintf(req, REQ_MAX, "AUTH\t%u\tPLAIN\tservice=%s\t"
		    "resp=%s\n", reqid, service, u->resp);
		if (n < 0 || n >= REQ_MAX)
			continue;
		idl = (size_t)snprintf(idstr, sizeof(idstr), "\t%u", reqid);
		t0 = bench_now_ns();
		if (t0 >= t_end)
			break;
		if (bench_write_all(w->fd, req, (size_t)n) != 0 ||
		    read_line(w, line, LINE_MAX_) != 0) {
			if (t0 >= t_measure)
				w->errors++;
			close(w->fd);
			if (open_conn(w, ++gen) != 0)
				break;
			continue;
		}
		t1 = bench_now_ns();
		w->completed++;
		if (t0 < t_measure)
			continue;
		if (t1 > t_end)
			break;
		bench_lat_add(&w->lat, t1 - t0);
		/* "OK\t<id>[\t...]" or "FAIL\t<id>[\t...]" */
		r = 0;
		if (strncmp(line, "OK", 2) == 0 &&
		    strncmp(line + 2, idstr, idl) == 0 &&
		    (line[2 + idl] == '\0' || line[2 + idl] == '\t')) {
			w->ok++;
			r = 1;
		} else if (strncmp(line, "FAIL", 4) == 0 &&
		    strncmp(line + 4, idstr, idl) == 0 &&
		    (line[4 + idl] == '\0' || line[4 + idl] == '\t')) {
			w->fail++;
			if (strstr(line + 4, "\ttemp") != NULL)
				w->temp++;
			r = 1;
		}
		if (!r) {
			w->errors++;
			if (w->fail_msg[0] == '\0')
				snprintf(w->fail_msg, sizeof(w->fail_msg),
				    "unexpected reply: %.200s", line);
		}
	}
out:
	if (w->fd >= 0)
		close(w->fd);
	free(req);
	free(line);
	return NULL;
}

static void
usage(void)
{
	fputs("usage: authclient -s SOCKET -f USERS [-c CONNS] [-d SECONDS] "
	    "[-w WARMUP]\n"
	    "                  [-m SERVICE] [-S SEED] [-l LABEL]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *users_path = NULL, *label = "-";
	unsigned conns = 1, i;
	uint64_t seed = 12345, *all;
	unsigned long ok = 0, fail = 0, temp = 0, errs = 0, done = 0;
	size_t total = 0, at;
	struct worker *ws;
	struct bench_summary sm;
	int c, setup_failed = 0;

	while ((c = getopt(argc, argv, "s:f:c:d:w:m:S:l:h")) != -1) {
		switch (c) {
		case 's': sock_path = optarg; break;
		case 'f': users_path = optarg; break;
		case 'c': conns = (unsigned)atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'm': service = optarg; break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'l': label = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || sock_path == NULL || users_path == NULL ||
	    conns < 1 || conns > 4096 || duration <= 0 || warmup < 0)
		usage();
	load_users(users_path);
	/* Far from real PIDs: (pid mod 2^16) * 2^15, plus gen * 4096 + i. */
	cpid_base = 0x40000000u + ((unsigned)getpid() & 0xffffu) * 32768u;
	if ((ws = calloc(conns, sizeof(*ws))) == NULL) {
		fputs("authclient: out of memory\n", stderr);
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
			fputs("authclient: cannot start a thread\n", stderr);
			return 1;
		}
	}
	t_measure = bench_now_ns() + (uint64_t)(warmup * 1e9);
	t_end = t_measure + (uint64_t)(duration * 1e9);
	pthread_barrier_wait(&barrier);
	for (i = 0; i < conns; i++) {
		pthread_join(ws[i].tid, NULL);
		total += ws[i].lat.n;
		ok += ws[i].ok;
		fail += ws[i].fail;
		temp += ws[i].temp;
		errs += ws[i].errors;
		done += ws[i].completed;
		if (ws[i].fail_msg[0] != '\0') {
			fprintf(stderr, "authclient: connection %u: %s\n", i,
			    ws[i].fail_msg);
			if (ws[i].lat.n == 0 && ws[i].completed == 0)
				setup_failed = 1;
		}
	}
	if (total == 0 || setup_failed) {
		fputs("authclient: nothing measured\n", stderr);
		return 1;
	}
	if ((all = malloc(total * sizeof(*all))) == NULL) {
		fputs("authclient: out of memory\n", stderr);
		return 1;
	}
	for (i = 0, at = 0; i < conns; i++) {
		memcpy(all + at, ws[i].lat.v, ws[i].lat.n * sizeof(*all));
		at += ws[i].lat.n;
	}
	bench_summarize(all, total, &sm);
	printf("label=%s conns=%u seconds=%.2f requests=%zu rate=%.1f "
	    "p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f mean_us=%.0f "
	    "ok=%lu fail=%lu temp=%lu errors=%lu completed=%lu\n", label,
	    conns, duration, total, (double)total / duration,
	    sm.p50, sm.p90, sm.p99, sm.max, sm.mean, ok, fail, temp, errs,
	    done);
	return 0;
}
