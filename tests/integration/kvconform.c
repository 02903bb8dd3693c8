/*
 * kvconform.c - test helper for tests/integration/kv_pg.sh: one table of
 * key/value cases (kv.h) run on both backends, LMDB (lib/kv_lmdb.c) and
 * PostgreSQL (lib/kv_pg.c), each asserting its expected answers, and the
 * two backends' answers compared operation by operation.
 *
 * usage:
 *   kvconform both TMPDIR CONNINFO   the suite on a new LMDB store in
 *                                    TMPDIR and on the (empty) database
 *                                    CONNINFO names, and the comparison
 *   kvconform lmdb TMPDIR            the suite on LMDB only
 *   kvconform fill CONNINFO          a fixed set of puts, overwrites and
 *                                    deletes; prints what the table must
 *                                    then hold, "tbl|hexkey|hexval" in
 *                                    (tbl, key) order (the shell compares
 *                                    it with psql's view)
 *   kvconform outage CONNINFO        the server going away under open
 *                                    transactions: prints "ready" and
 *                                    waits for a line on stdin (the shell
 *                                    stops the server), checks, prints
 *                                    "down" and waits again (the shell
 *                                    starts it), checks recovery
 *   kvconform has-pg                 exit 0 when built with libpq
 *
 * Output: one line per check, "ok - WHAT" or "not ok - WHAT: WHY"; the
 * shell numbers them as TAP.  Every answer of every operation (its code,
 * and the bytes it returned) is hashed per case; "same answers" checks
 * that LMDB and PostgreSQL hashed the same.  Cases that only one backend
 * can run (two write transactions at once: LMDB has one writer) say so.
 * Exit 0 when every check passed, 1 otherwise, 2 on bad usage.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "kv.h"
#ifdef HAVE_PQ
#include "kv_pg.h"
#endif

#define SECRET_PW "Sekr3t-pw-9f8e7d"

struct fx {
	const char *name;               /* "lmdb" or "pg" */
	bool pg;
	char target[1024];              /* the folder or the conninfo */
	struct kv *kv;
};

struct c {
	struct fx *fx;
	crypto_generichash_state h;
	char why[1200];
	struct vs_err err;
};

static int failures;

static void
result(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

/* Every function using these has an "out:" label that cleans up and
 * returns -1 (a transaction left open would block LMDB's next writer). */
#define FAIL(c, ...) do { \
	snprintf((c)->why, sizeof((c)->why), __VA_ARGS__); \
	goto out; \
} while (0)
/* The code must be want; the trace records it. */
#define EXPECT(c, got, want, what) do { \
	int g_ = (got); \
	trace_code((c), g_); \
	if (g_ != (want)) \
		FAIL((c), "%s: got %d (%s), wanted %d (%s): %s", (what), g_, \
		    vs_strstatus(g_), (want), vs_strstatus(want), \
		    (c)->err.msg); \
} while (0)
#define CHECK(c, cond, ...) do { \
	if (!(cond)) \
		FAIL((c), __VA_ARGS__); \
} while (0)

static void
trace(struct c *c, const void *p, size_t n)
{
	uint64_t len = n;

	crypto_generichash_update(&c->h, (const unsigned char *)&len,
	    sizeof(len));
	if (n > 0)
		crypto_generichash_update(&c->h, p, n);
}

static void
trace_code(struct c *c, int code)
{
	trace(c, &code, sizeof(code));
}

/* A fixed byte stream (xorshift): the same data on both backends. */
static void
fill_bytes(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

static int
keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen;
}

/* ---- fixture ---- */

static int
fx_open(struct fx *fx, unsigned flags, struct vs_err *err)
{
	vs_err_clear(err);
#ifdef HAVE_PQ
	if (fx->pg)
		return kv_pg_open(fx->target, flags, &fx->kv, err);
#endif
	if (fx->pg)
		return vs_fail(err, VS_EINVAL, "built without libpq");
	return kv_lmdb_open(fx->target, flags, 0, &fx->kv, err);
}

struct keys {
	unsigned char k[4096][32];
	size_t len[4096];
	size_t n;
};

static int
collect_cb(void *ctx, const struct kv_val *key, const struct kv_val *val)
{
	struct keys *ks = ctx;

	if (ks->n >= 4096 || key->len > 32)
		return -100;
	memcpy(ks->k[ks->n], key->data, key->len);
	ks->len[ks->n++] = key->len;
	return 0;
}

/* Every table emptied (collect, then delete), committed. */
static int
wipe(struct c *c)
{
	static struct keys ks;
	struct kv_txn *w;
	size_t i;
	int t, r;

	if ((r = kv_txn_begin(c->fx->kv, true, &w, &c->err)) != VS_OK) {
		snprintf(c->why, sizeof(c->why), "wipe: begin: %s", c->err.msg);
		return -1;
	}
	for (t = 0; t < KV_TABLE_COUNT; t++) {
		ks.n = 0;
		if ((r = kv_iter(w, t, collect_cb, &ks, &c->err)) != VS_OK)
			break;
		for (i = 0; i < ks.n && r == VS_OK; i++)
			r = kv_del(w, t, ks.k[i], ks.len[i], &c->err);
		if (r != VS_OK)
			break;
	}
	if (r != VS_OK) {
		kv_txn_abort(w);
		FAIL(c, "wipe: %d %s", r, c->err.msg);
	}
	if ((r = kv_txn_commit(w, &c->err)) != VS_OK)
		FAIL(c, "wipe: commit: %s", c->err.msg);
	return 0;
out:
	return -1;
}

/* get and compare with want (NULL: must be absent). */
static int
get_is(struct c *c, struct kv_txn *txn, enum kv_table t, const char *key,
    const char *want)
{
	struct kv_val v;
	int r;

	vs_err_clear(&c->err);
	r = kv_get(txn, t, key, strlen(key), &v, &c->err);
	trace_code(c, r);
	if (want == NULL) {
		CHECK(c, r == VS_ENOTFOUND, "get %s: %d (%s), wanted not found: "
		    "%s", key, r, vs_strstatus(r), c->err.msg);
		return 0;
	}
	CHECK(c, r == VS_OK, "get %s: %d (%s): %s", key, r, vs_strstatus(r),
	    c->err.msg);
	trace(c, v.data, v.len);
	CHECK(c, v.len == strlen(want) && memcmp(v.data, want, v.len) == 0,
	    "get %s: %.*s, wanted %s", key, (int)v.len, (const char *)v.data,
	    want);
	return 0;
out:
	return -1;
}

static int
put_s(struct c *c, struct kv_txn *txn, enum kv_table t, const char *key,
    const char *val, bool noover, int want)
{
	vs_err_clear(&c->err);
	EXPECT(c, kv_put(txn, t, key, strlen(key), val, strlen(val), noover,
	    &c->err), want, key);
	return 0;
out:
	return -1;
}

/* Commit *txn (freed whatever the outcome: *txn set to NULL). */
static int
commit(struct c *c, struct kv_txn **txn)
{
	struct kv_txn *t = *txn;

	*txn = NULL;
	vs_err_clear(&c->err);
	EXPECT(c, kv_txn_commit(t, &c->err), VS_OK, "commit");
	return 0;
out:
	return -1;
}

#define TRY(x) do { if ((x) != 0) goto out; } while (0)

/* ---- the cases ---- */

static int
case_put_get_del(struct c *c)
{
	struct kv_txn *w = NULL;
	int r = -1;

	EXPECT(c, kv_txn_begin(c->fx->kv, true, &w, &c->err), VS_OK, "begin");
	TRY(get_is(c, w, KV_USERS, "alice", NULL));
	TRY(put_s(c, w, KV_USERS, "alice", "sealed-a1", false, VS_OK));
	TRY(get_is(c, w, KV_USERS, "alice", "sealed-a1"));
	/* the same key in another table is another entry */
	TRY(get_is(c, w, KV_ADDRESSES, "alice", NULL));
	TRY(put_s(c, w, KV_ADDRESSES, "alice", "addr", false, VS_OK));
	TRY(get_is(c, w, KV_USERS, "alice", "sealed-a1"));
	vs_err_clear(&c->err);
	EXPECT(c, kv_del(w, KV_USERS, "alice", 5, &c->err), VS_OK, "del");
	TRY(get_is(c, w, KV_USERS, "alice", NULL));
	TRY(get_is(c, w, KV_ADDRESSES, "alice", "addr"));
	vs_err_clear(&c->err);
	EXPECT(c, kv_del(w, KV_USERS, "alice", 5, &c->err), VS_ENOTFOUND,
	    "del of an absent key");
	r = commit(c, &w);
out:
	if (w != NULL)
		kv_txn_abort(w);
	return r;
}

static int
case_overwrite(struct c *c)
{
	struct kv_txn *w = NULL;
	int r = -1;

	EXPECT(c, kv_txn_begin(c->fx->kv, true, &w, &c->err), VS_OK, "begin");
	TRY(put_s(c, w, KV_DOMAINS, "d1", "first", true, VS_OK));
	TRY(put_s(c, w, KV_DOMAINS, "d1", "second", false, VS_OK));
	TRY(get_is(c, w, KV_DOMAINS, "d1", "second"));
	TRY(put_s(c, w, KV_DOMAINS, "d1", "third", true, VS_EEXIST));
	/* the transaction goes on after EEXIST, the value unchanged */
	TRY(get_is(c, w, KV_DOMAINS, "d1", "second"));
	TRY(put_s(c, w, KV_DOMAINS, "d2", "other", true, VS_OK));
	TRY(commit(c, &w));
	EXPECT(c, kv_txn_begin(c->fx->kv, false, &w, &c->err), VS_OK,
	    "begin read");
	TRY(get_is(c, w, KV_DOMAINS, "d1", "second"));
	TRY(get_is(c, w, KV_DOMAINS, "d2", "other"));
	r = commit(c, &w);
out:
	if (w != NULL)
		kv_txn_abort(w);
	return r;
}

/* Keys of different lengths, with 0x00, 0x7f, 0x80 and 0xff bytes, put
 * in a scrambled order; iter and last must follow memcmp-then-length. */
static const struct {
	unsigned char b[4];
	size_t n;
} order_keys[] = {
	{ { 0xff }, 1 }, { { 0x00, 0x00 }, 2 }, { { 'a', 'b' }, 2 },
	{ { 0x80 }, 1 }, { { 0x00 }, 1 }, { { 0xff, 0xff, 0xff }, 3 },
	{ { 0x7f, 0xff }, 2 }, { { 0x00, 0xff }, 2 }, { { 'a' }, 1 },
	{ { 0xff, 0x00 }, 2 }, { { 0x01 }, 1 }, { { 'b' }, 1 },
	{ { 0x00, 0x00, 0x00, 0x01 }, 4 }, { { 0x7f }, 1 },
};
#define N_ORDER (sizeof(order_keys) / sizeof(order_keys[0]))

struct walk {
	struct c *c;
	unsigned char k[N_ORDER][4];
	size_t len[N_ORDER], n, stop_at;
	bool bad;
};

static int
walk_cb(void *ctx, const struct kv_val *key, const struct kv_val *val)
{
	struct walk *w = ctx;

	trace(w->c, key->data, key->len);
	trace(w->c, val->data, val->len);
	if (w->n >= N_ORDER || key->len > 4 || val->len != 1 ||
	    ((const unsigned char *)val->data)[0] != (unsigned char)key->len) {
		w->bad = true;
		return 99;
	}
	memcpy(w->k[w->n], key->data, key->len);
	w->len[w->n++] = key->len;
	if (w->stop_at != 0 && w->n == w->stop_at)
		return 7;
	return 0;
}

static int
idx_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	return keycmp(order_keys[i].b, order_keys[i].n, order_keys[j].b,
	    order_keys[j].n);
}

static int
case_order(struct c *c)
{
	struct kv_txn *w = NULL;
	static struct walk wk;
	size_t idx[N_ORDER], i, n;
	unsigned char v;
	struct kv_val last;
	int r = -1;

	for (i = 0; i < N_ORDER; i++)
		idx[i] = i;
	qsort(idx, N_ORDER, sizeof(idx[0]), idx_cmp);
	EXPECT(c, kv_txn_begin(c->fx->kv, true, &w, &c->err), VS_OK, "begin");
	vs_err_clear(&c->err);
	EXPECT(c, kv_last(w, KV_ALIASES, &last, &c->err), VS_ENOTFOUND,
	    "last of an empty table");
	for (i = 0; i < N_ORDER; i++) {
		v = (unsigned char)order_keys[i].n;
		EXPECT(c, kv_put(w, KV_ALIASES, order_keys[i].b,
		    order_keys[i].n, &v, 1, true, &c->err), VS_OK, "put");
	}
	TRY(commit(c, &w));
	EXPECT(c, kv_txn_begin(c->fx->kv, false, &w, &c->err), VS_OK,
	    "begin read");
	memset(&wk, 0, sizeof(wk));
	wk.c = c;
	EXPECT(c, kv_iter(w, KV_ALIASES, walk_cb, &wk, &c->err), VS_OK,
	    "iter");
	CHECK(c, !wk.bad && wk.n == N_ORDER, "iter: %zu keys of %zu%s", wk.n,
	    N_ORDER, wk.bad ? " (a bad entry)" : "");
	for (i = 0; i < N_ORDER; i++)
		CHECK(c, wk.len[i] == order_keys[idx[i]].n &&
		    memcmp(wk.k[i], order_keys[idx[i]].b, wk.len[i]) == 0,
		    "iter: key %zu out of memcmp order", i);
	/* a callback's non-zero answer stops the walk and is returned */
	memset(&wk, 0, sizeof(wk));
	wk.c = c;
	wk.stop_at = 3;
	EXPECT(c, kv_iter(w, KV_ALIASES, walk_cb, &wk, &c->err), 7,
	    "iter stopped by its callback");
	CHECK(c, wk.n == 3, "iter went on after the stop: %zu", wk.n);
	EXPECT(c, kv_last(w, KV_ALIASES, &last, &c->err), VS_OK, "last");
	trace(c, last.data, last.len);
	CHECK(c, last.len == 3 && memcmp(last.data, "\xff\xff\xff", 3) == 0,
	    "last: not ff ff ff");
	EXPECT(c, kv_count(w, KV_ALIASES, &n, &c->err), VS_OK, "count");
	CHECK(c, n == N_ORDER, "count %zu, wanted %zu", n, N_ORDER);
	EXPECT(c, kv_count(w, KV_AUDIT, &n, &c->err), VS_OK, "count");
	CHECK(c, n == 0, "count of an empty table: %zu", n);
	/* an empty table: the callback never runs */
	memset(&wk, 0, sizeof(wk));
	wk.c = c;
	EXPECT(c, kv_iter(w, KV_AUDIT, walk_cb, &wk, &c->err), VS_OK,
	    "iter of an empty table");
	CHECK(c, wk.n == 0, "iter of an empty table ran its callback");
	r = commit(c, &w);
out:
	if (w != NULL)
		kv_txn_abort(w);
	return r;
}

/* More entries than a page of kv_pg's iteration (512): u64 BE keys as
 * the event log's, put in reverse. */
#define N_EVENTS 1300

struct seq {
	struct c *c;
	uint64_t next;
	bool bad;
	const void *first_val;          /* lent bytes, checked at the end */
	size_t first_len;
};

static int
seq_cb(void *ctx, const struct kv_val *key, const struct kv_val *val)
{
	struct seq *s = ctx;
	const unsigned char *k = key->data;
	uint64_t n = 0;
	int i;

	if (key->len != 8 || val->len != 16) {
		s->bad = true;
		return 99;
	}
	for (i = 0; i < 8; i++)
		n = n << 8 | k[i];
	if (n != s->next) {
		s->bad = true;
		return 98;
	}
	if (n == 1) {
		s->first_val = val->data;
		s->first_len = val->len;
	}
	s->next++;
	trace(s->c, val->data, val->len);
	return 0;
}

static void
be64(unsigned char *b, uint64_t n)
{
	int i;

	for (i = 7; i >= 0; i--, n >>= 8)
		b[i] = (unsigned char)n;
}

static int
case_many(struct c *c)
{
	struct kv_txn *w = NULL;
	unsigned char k[8], v[16], want1[16];
	struct seq s = { c, 1, false, NULL, 0 };
	struct kv_val last;
	size_t n;
	uint64_t i;
	int r = -1;

	EXPECT(c, kv_txn_begin(c->fx->kv, true, &w, &c->err), VS_OK, "begin");
	for (i = N_EVENTS; i >= 1; i--) {
		be64(k, i);
		fill_bytes(v, sizeof(v), i);
		vs_err_clear(&c->err);
		r = kv_put(w, KV_EVENTS, k, 8, v, 16, true, &c->err);
		if (r != VS_OK) {
			trace_code(c, r);
			FAIL(c, "put event %llu: %s", (unsigned long long)i,
			    c->err.msg);
		}
	}
	r = -1;
	TRY(commit(c, &w));
	EXPECT(c, kv_txn_begin(c->fx->kv, false, &w, &c->err), VS_OK,
	    "begin read");
	EXPECT(c, kv_iter(w, KV_EVENTS, seq_cb, &s, &c->err), VS_OK, "iter");
	CHECK(c, !s.bad && s.next == N_EVENTS + 1, "iter: stopped at %llu%s",
	    (unsigned long long)s.next, s.bad ? " (out of order)" : "");
	/* bytes lent by the first page are still valid after the walk */
	fill_bytes(want1, sizeof(want1), 1);
	CHECK(c, s.first_val != NULL && s.first_len == 16 &&
	    memcmp(s.first_val, want1, 16) == 0,
	    "the first entry's bytes changed before the transaction ended");
	EXPECT(c, kv_count(w, KV_EVENTS, &n, &c->err), VS_OK, "count");
	CHECK(c, n == N_EVENTS, "count %zu, wanted %d", n, N_EVENTS);
	EXPECT(c, kv_last(w, KV_EVENTS, &last, &c->err), VS_OK, "last");
	be64(k, N_EVENTS);
	CHECK(c, last.len == 8 && memcmp(last.data, k, 8) == 0,
	    "last is not event %d", N_EVENTS);
	r = commit(c, &w);
out:
	if (w != NULL)
		kv_txn_abort(w);
	return r;
}

static int
case_abort_commit(struct c *c)
{
	struct kv_txn *w = NULL;
	int r = -1;

	EXPECT(c, kv_txn_begin(c->fx->kv, true, &w, &c->err), VS_OK, "begin");
	TRY(put_s(c, w, KV_META, "kept", "yes", false, VS_OK));
	TRY(commit(c, &w));
	EXPECT(c, kv_txn_begin(c->fx->kv, true, &w, &c->err), VS_OK, "begin");
	TRY(put_s(c, w, KV_META, "dropped", "no", false, VS_OK));
	vs_err_clear(&c->err);
	EXPECT(c, kv_del(w, KV_META, "kept", 4, &c->err), VS_OK, "del");
	kv_txn_abort(w);
	w = NULL;
	/* commit persists across a close and an open without create */
	kv_close(&c->fx->kv);
	EXPECT(c, fx_open(c->fx, 0, &c->err), VS_OK, "open again");
	EXPECT(c, kv_txn_begin(c->fx->kv, false, &w, &c->err), VS_OK,
	    "begin read");
	TRY(get_is(c, w, KV_META, "kept", "yes"));
	TRY(get_is(c, w, KV_META, "dropped", NULL));
	r = commit(c, &w);
out:
	if (w != NULL)
		kv_txn_abort(w);
	return r;
}

static int
case_values(struct c *c)
{
	struct kv_txn *w = NULL;
	unsigned char *big = NULL;
	struct kv_val v1, v2;
	size_t bign = (size_t)1 << 20;
	int r = -1;

	if ((big = malloc(bign)) == NULL)
		FAIL(c, "out of memory");
	fill_bytes(big, bign, 42);
	EXPECT(c, kv_txn_begin(c->fx->kv, true, &w, &c->err), VS_OK, "begin");
	vs_err_clear(&c->err);
	EXPECT(c, kv_put(w, KV_USERS, "empty", 5, NULL, 0, true, &c->err),
	    VS_OK, "put of an empty value");
	EXPECT(c, kv_put(w, KV_USERS, "big", 3, big, bign, true, &c->err),
	    VS_OK, "put of 1 MiB");
	EXPECT(c, kv_put(w, KV_USERS, "zero", 4, "\0\0\xff", 3, true, &c->err),
	    VS_OK, "put of a value with 0x00");
	TRY(commit(c, &w));
	EXPECT(c, kv_txn_begin(c->fx->kv, false, &w, &c->err), VS_OK,
	    "begin read");
	EXPECT(c, kv_get(w, KV_USERS, "empty", 5, &v1, &c->err), VS_OK,
	    "get of an empty value (not \"not found\")");
	CHECK(c, v1.len == 0, "empty value read back as %zu bytes", v1.len);
	EXPECT(c, kv_get(w, KV_USERS, "big", 3, &v1, &c->err), VS_OK,
	    "get of 1 MiB");
	EXPECT(c, kv_get(w, KV_USERS, "zero", 4, &v2, &c->err), VS_OK,
	    "get of a value with 0x00");
	trace(c, v1.data, v1.len);
	trace(c, v2.data, v2.len);
	/* both lent values valid at once */
	CHECK(c, v1.len == bign && memcmp(v1.data, big, bign) == 0,
	    "1 MiB value read back as %zu different bytes", v1.len);
	CHECK(c, v2.len == 3 && memcmp(v2.data, "\0\0\xff", 3) == 0,
	    "the value with 0x00 changed");
	r = commit(c, &w);
out:
	if (w != NULL)
		kv_txn_abort(w);
	free(big);
	return r;
}

static int
case_readonly(struct c *c)
{
	struct kv_txn *rt = NULL;
	int r;

	EXPECT(c, kv_txn_begin(c->fx->kv, false, &rt, &c->err), VS_OK,
	    "begin read");
	vs_err_clear(&c->err);
	r = kv_put(rt, KV_USERS, "x", 1, "y", 1, false, &c->err);
	trace_code(c, r == VS_OK);
	kv_txn_abort(rt);
	CHECK(c, r != VS_OK && r != VS_ENOTFOUND,
	    "put in a read transaction: %d", r);
	return 0;
out:
	return -1;
}

/* A reader's snapshot is taken at begin and kept against a writer that
 * commits meanwhile (another connection on PostgreSQL); reset and renew
 * move it to the newest commit. */
static int
case_snapshot(struct c *c)
{
	struct kv_txn *rd = NULL, *w = NULL, *rd2 = NULL;
	int r = -1;

	EXPECT(c, kv_txn_begin(c->fx->kv, true, &w, &c->err), VS_OK, "begin");
	TRY(put_s(c, w, KV_USERS, "bob", "v1", false, VS_OK));
	TRY(commit(c, &w));
	EXPECT(c, kv_txn_begin(c->fx->kv, false, &rd, &c->err), VS_OK,
	    "begin read");
	/* the writer commits before the reader's first read: the snapshot
	 * is the one of the reader's begin */
	EXPECT(c, kv_txn_begin(c->fx->kv, true, &w, &c->err), VS_OK,
	    "begin write");
	TRY(put_s(c, w, KV_USERS, "bob", "v2", false, VS_OK));
	TRY(put_s(c, w, KV_USERS, "carol", "c1", false, VS_OK));
	TRY(commit(c, &w));
	TRY(get_is(c, rd, KV_USERS, "bob", "v1"));
	TRY(get_is(c, rd, KV_USERS, "carol", NULL));
	EXPECT(c, kv_txn_begin(c->fx->kv, false, &rd2, &c->err), VS_OK,
	    "begin read");
	TRY(get_is(c, rd2, KV_USERS, "bob", "v2"));
	/* reset, another commit, renew: the newest state */
	kv_txn_reset(rd);
	EXPECT(c, kv_txn_begin(c->fx->kv, true, &w, &c->err), VS_OK,
	    "begin write");
	TRY(put_s(c, w, KV_USERS, "bob", "v3", false, VS_OK));
	TRY(commit(c, &w));
	vs_err_clear(&c->err);
	EXPECT(c, kv_txn_renew(rd, &c->err), VS_OK, "renew");
	TRY(get_is(c, rd, KV_USERS, "bob", "v3"));
	TRY(get_is(c, rd, KV_USERS, "carol", "c1"));
	TRY(get_is(c, rd2, KV_USERS, "bob", "v2"));
	/* reset twice in a row, then abort a reset transaction */
	kv_txn_reset(rd);
	EXPECT(c, kv_txn_renew(rd, &c->err), VS_OK, "renew");
	kv_txn_reset(rd);
	kv_txn_abort(rd);
	rd = NULL;
	r = commit(c, &rd2);
out:
	if (w != NULL)
		kv_txn_abort(w);
	if (rd != NULL)
		kv_txn_abort(rd);
	if (rd2 != NULL)
		kv_txn_abort(rd2);
	return r;
}

#ifdef HAVE_PQ
/* Write skew between two serializable writers: each reads what the other
 * writes.  One of them must fail with the retry code (at a statement or
 * at commit), leave nothing behind, and succeed when run again. */
static int
case_conflict(struct c *c)
{
	struct kv_txn *t1 = NULL, *t2 = NULL, *rd = NULL;
	struct kv_val v;
	int r = -1, r2, rc2;

	EXPECT(c, kv_txn_begin(c->fx->kv, true, &t1, &c->err), VS_OK,
	    "begin");
	TRY(put_s(c, t1, KV_DOMAINS, "A", "a0", false, VS_OK));
	TRY(put_s(c, t1, KV_DOMAINS, "B", "b0", false, VS_OK));
	TRY(commit(c, &t1));
	EXPECT(c, kv_txn_begin(c->fx->kv, true, &t1, &c->err), VS_OK,
	    "begin T1");
	EXPECT(c, kv_txn_begin(c->fx->kv, true, &t2, &c->err), VS_OK,
	    "begin T2");
	TRY(get_is(c, t1, KV_DOMAINS, "A", "a0"));
	TRY(get_is(c, t2, KV_DOMAINS, "B", "b0"));
	TRY(put_s(c, t1, KV_DOMAINS, "B", "b1", false, VS_OK));
	vs_err_clear(&c->err);
	r2 = kv_put(t2, KV_DOMAINS, "A", 1, "a2", 2, false, &c->err);
	CHECK(c, r2 == VS_OK || r2 == KV_PG_RETRY, "T2's put: %d: %s", r2,
	    c->err.msg);
	TRY(commit(c, &t1));
	vs_err_clear(&c->err);
	rc2 = kv_txn_commit(t2, &c->err);
	t2 = NULL;
	CHECK(c, rc2 == KV_PG_RETRY, "T2's commit: %d (%s), wanted %d "
	    "(retry): %s", rc2, vs_strstatus(rc2), KV_PG_RETRY, c->err.msg);
	CHECK(c, strstr(c->err.msg, "run it again") != NULL,
	    "the retry message does not say so: %s", c->err.msg);
	/* nothing of T2 was committed */
	EXPECT(c, kv_txn_begin(c->fx->kv, false, &rd, &c->err), VS_OK,
	    "begin read");
	TRY(get_is(c, rd, KV_DOMAINS, "A", "a0"));
	TRY(get_is(c, rd, KV_DOMAINS, "B", "b1"));
	kv_txn_abort(rd);
	rd = NULL;
	/* run again, it succeeds */
	EXPECT(c, kv_txn_begin(c->fx->kv, true, &t2, &c->err), VS_OK,
	    "begin T2 again");
	TRY(get_is(c, t2, KV_DOMAINS, "B", "b1"));
	TRY(put_s(c, t2, KV_DOMAINS, "A", "a2", false, VS_OK));
	TRY(commit(c, &t2));
	EXPECT(c, kv_txn_begin(c->fx->kv, false, &rd, &c->err), VS_OK,
	    "begin read");
	EXPECT(c, kv_get(rd, KV_DOMAINS, "A", 1, &v, &c->err), VS_OK, "get");
	CHECK(c, v.len == 2 && memcmp(v.data, "a2", 2) == 0,
	    "the retried write is not there");
	r = 0;
out:
	if (t1 != NULL)
		kv_txn_abort(t1);
	if (t2 != NULL)
		kv_txn_abort(t2);
	if (rd != NULL)
		kv_txn_abort(rd);
	return r;
}

/* A writer updates a key another writer committed since its snapshot:
 * the statement itself fails with the retry code, every later call of
 * the dead transaction says so again, and commit commits nothing. */
static int
case_conflict_stmt(struct c *c)
{
	struct kv_txn *t1 = NULL, *t2 = NULL, *rd = NULL;
	struct kv_val v;
	int r = -1;

	EXPECT(c, kv_txn_begin(c->fx->kv, true, &t1, &c->err), VS_OK,
	    "begin");
	TRY(put_s(c, t1, KV_USERS, "A", "a0", false, VS_OK));
	TRY(commit(c, &t1));
	EXPECT(c, kv_txn_begin(c->fx->kv, true, &t2, &c->err), VS_OK,
	    "begin T2");
	TRY(get_is(c, t2, KV_USERS, "A", "a0"));
	EXPECT(c, kv_txn_begin(c->fx->kv, true, &t1, &c->err), VS_OK,
	    "begin T1");
	TRY(put_s(c, t1, KV_USERS, "A", "a1", false, VS_OK));
	TRY(commit(c, &t1));
	TRY(put_s(c, t2, KV_USERS, "A", "a2", false, KV_PG_RETRY));
	TRY(put_s(c, t2, KV_USERS, "B", "b2", false, KV_PG_RETRY));
	vs_err_clear(&c->err);
	EXPECT(c, kv_get(t2, KV_USERS, "A", 1, &v, &c->err), KV_PG_RETRY,
	    "get in the failed transaction");
	vs_err_clear(&c->err);
	r = kv_txn_commit(t2, &c->err);
	t2 = NULL;
	EXPECT(c, r, KV_PG_RETRY, "commit of the failed transaction");
	r = -1;
	CHECK(c, strstr(c->err.msg, "nothing committed") != NULL,
	    "commit's message: %s", c->err.msg);
	EXPECT(c, kv_txn_begin(c->fx->kv, false, &rd, &c->err), VS_OK,
	    "begin read");
	TRY(get_is(c, rd, KV_USERS, "A", "a1"));
	TRY(get_is(c, rd, KV_USERS, "B", NULL));
	r = 0;
out:
	if (t1 != NULL)
		kv_txn_abort(t1);
	if (t2 != NULL)
		kv_txn_abort(t2);
	if (rd != NULL)
		kv_txn_abort(rd);
	return r;
}

/* A password in the conninfo never shows in an error: unreachable
 * server, a malformed string, and a message from libpq quoting a value
 * that happens to be the password. */
static int
case_password(struct c *c)
{
	static const struct {
		const char *conninfo;
		int code;
		const char *says;
	} cases[] = {
		{ "host=/nonexistent/vmseal port=1 password=" SECRET_PW,
		  VS_EIO, "cannot connect to PostgreSQL" },
		{ "host=/nonexistent password " SECRET_PW, VS_EINVAL,
		  "invalid PostgreSQL connection string" },
		{ "postgresql://u:" SECRET_PW "@/db?host=/x&nonsense=" SECRET_PW,
		  VS_EINVAL, "invalid PostgreSQL connection string" },
		{ "host=/nonexistent/vmseal password=" SECRET_PW
		  " sslmode=" SECRET_PW, VS_EIO, "***" },
	};
	struct kv *kv = NULL;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vs_err_clear(&c->err);
		r = kv_pg_open(cases[i].conninfo, 0, &kv, &c->err);
		if (r == VS_OK)
			kv_close(&kv);
		CHECK(c, r == cases[i].code, "conninfo %zu: %d (%s), wanted "
		    "%d: %s", i, r, vs_strstatus(r), cases[i].code,
		    c->err.msg);
		CHECK(c, strstr(c->err.msg, SECRET_PW) == NULL,
		    "conninfo %zu: the password is in the error", i);
		CHECK(c, strstr(c->err.msg, cases[i].says) != NULL,
		    "conninfo %zu: \"%s\" not in: %s", i, cases[i].says,
		    c->err.msg);
	}
	return 0;
out:
	return -1;
}

/* copy is pg_dump's job: refused, saying so. */
static int
case_copy(struct c *c)
{
	vs_err_clear(&c->err);
	CHECK(c, kv_copy(c->fx->kv, 1, &c->err) == VS_EINVAL &&
	    strstr(c->err.msg, "pg_dump") != NULL, "copy: %s", c->err.msg);
	return 0;
out:
	return -1;
}
#endif

/* Open without create on an empty folder or database: VS_ENOTFOUND. */
static int
case_no_store(struct c *c)
{
	struct kv *kv = c->fx->kv;
	int r;

	c->fx->kv = NULL;
	r = fx_open(c->fx, 0, &c->err);
	trace_code(c, r);
	if (r == VS_OK)
		kv_close(&c->fx->kv);
	c->fx->kv = kv;
	CHECK(c, r == VS_ENOTFOUND && strstr(c->err.msg, "vmseal init"),
	    "open of an empty store: %d (%s): %s", r, vs_strstatus(r),
	    c->err.msg);
	return 0;
out:
	return -1;
}

enum only { BOTH, PG_ONLY };

static const struct kcase {
	const char *name;
	int (*run)(struct c *c);
	enum only only;
} kcases[] = {
	{ "put, get, del; tables apart; not found", case_put_get_del, BOTH },
	{ "overwrite, no_overwrite gives EEXIST", case_overwrite, BOTH },
	{ "iter and last in memcmp order (0x00, 0xff, lengths), count",
	  case_order, BOTH },
	{ "1300 entries: iter in order over pages, count, last", case_many,
	  BOTH },
	{ "abort discards, commit persists across reopen", case_abort_commit,
	  BOTH },
	{ "empty value, 1 MiB value, 0x00 bytes", case_values, BOTH },
	{ "no write in a read transaction", case_readonly, BOTH },
	{ "read snapshot vs a concurrent writer; reset and renew",
	  case_snapshot, BOTH },
#ifdef HAVE_PQ
	{ "write skew between two writers gives the retry code",
	  case_conflict, PG_ONLY },
	{ "an update conflict fails the statement, later calls and commit "
	  "with the retry code", case_conflict_stmt, PG_ONLY },
	{ "no password in connection errors", case_password, PG_ONLY },
	{ "copy refused: pg_dump's job", case_copy, PG_ONLY },
#endif
};
#define N_CASES (sizeof(kcases) / sizeof(kcases[0]))

/* Run every case on fx; digests[i] gets case i's answers. */
static void
run_suite(struct fx *fx, unsigned char digests[][32], bool *ran)
{
	static struct c c;
	size_t i;
	int r;

	memset(&c, 0, sizeof(c));
	c.fx = fx;
	/* before the store exists */
	crypto_generichash_init(&c.h, NULL, 0, 32);
	c.why[0] = '\0';
	r = case_no_store(&c);
	if (c.why[0] != '\0' && r == 0)
		r = -1;
	result(r == 0, "%s: open without create on an empty store is "
	    "\"not found\"%s%s", fx->name, r ? ": " : "", r ? c.why : "");
	if ((r = fx_open(fx, KV_OPEN_CREATE, &c.err)) != VS_OK) {
		result(false, "%s: open: %s", fx->name, c.err.msg);
		return;
	}
	for (i = 0; i < N_CASES; i++) {
		ran[i] = false;
		if (kcases[i].only == PG_ONLY && !fx->pg)
			continue;
		c.why[0] = '\0';
		vs_err_clear(&c.err);
		if (fx->kv == NULL &&
		    fx_open(fx, KV_OPEN_CREATE, &c.err) != VS_OK) {
			result(false, "%s: open again: %s", fx->name,
			    c.err.msg);
			return;
		}
		r = wipe(&c);
		crypto_generichash_init(&c.h, NULL, 0, 32);
		if (r == 0)
			r = kcases[i].run(&c);
		/* FAIL always leaves a reason, whatever r the case returns */
		if (c.why[0] != '\0' && r == 0)
			r = -1;
		crypto_generichash_final(&c.h, digests[i], 32);
		ran[i] = true;
		result(r == 0, "%s: %s%s%s", fx->name, kcases[i].name,
		    r ? ": " : "", r ? c.why : "");
	}
	kv_close(&fx->kv);
}

static int
make_lmdb_dir(struct fx *fx, const char *tmpdir)
{
	snprintf(fx->target, sizeof(fx->target), "%s/kvconform-XXXXXX",
	    tmpdir);
	if (mkdtemp(fx->target) == NULL) {
		perror("kvconform: mkdtemp");
		return -1;
	}
	return 0;
}

static int
cmd_suite(const char *tmpdir, const char *conninfo)
{
	static unsigned char dl[N_CASES][32], dp[N_CASES][32];
	bool ranl[N_CASES] = { false }, ranp[N_CASES] = { false };
	struct fx l = { "lmdb", false, "", NULL }, p = { "pg", true, "", NULL };
	size_t i;

	if (make_lmdb_dir(&l, tmpdir) != 0)
		return 1;
	run_suite(&l, dl, ranl);
	if (conninfo == NULL)
		return failures ? 1 : 0;
	snprintf(p.target, sizeof(p.target), "%s", conninfo);
	run_suite(&p, dp, ranp);
	for (i = 0; i < N_CASES; i++) {
		if (kcases[i].only != BOTH)
			continue;
		result(ranl[i] && ranp[i] && memcmp(dl[i], dp[i], 32) == 0,
		    "same answers from LMDB and PostgreSQL: %s",
		    kcases[i].name);
	}
	return failures ? 1 : 0;
}

#ifdef HAVE_PQ
struct row {
	int tbl;
	unsigned char k[8], v[40];
	size_t kn, vn;
	bool gone;
};

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->tbl != y->tbl)
		return x->tbl < y->tbl ? -1 : 1;
	return keycmp(x->k, x->kn, y->k, y->kn);
}

/* A fixed set of writes in three transactions (one aborted), and what
 * the table must hold after them. */
static int
cmd_fill(const char *conninfo)
{
	static struct row rows[64];
	struct fx p = { "pg", true, "", NULL };
	struct kv_txn *w;
	struct vs_err err;
	size_t n = 0, i, j;
	int t, r = VS_OK;

	snprintf(p.target, sizeof(p.target), "%s", conninfo);
	if (fx_open(&p, KV_OPEN_CREATE, &err) != VS_OK) {
		fprintf(stderr, "kvconform: %s\n", err.msg);
		return 1;
	}
	for (t = 0; t < KV_TABLE_COUNT; t++) {
		for (i = 0; i < 5; i++, n++) {
			rows[n].tbl = t;
			rows[n].kn = 1 + (i * 3 + (size_t)t) % 8;
			fill_bytes(rows[n].k, rows[n].kn, n + 1);
			if (i == 1)
				rows[n].k[0] = 0x00;
			if (i == 2)
				rows[n].k[0] = 0xff;
			rows[n].vn = (i == 3) ? 0 : 8 + (n % 32);
			fill_bytes(rows[n].v, rows[n].vn, 1000 + n);
		}
	}
	if (kv_txn_begin(p.kv, true, &w, &err) != VS_OK)
		goto fail;
	for (i = 0; i < n && r == VS_OK; i++)
		r = kv_put(w, rows[i].tbl, rows[i].k, rows[i].kn,
		    "placeholder", 11, true, &err);
	if (r != VS_OK || kv_txn_commit(w, &err) != VS_OK)
		goto fail;
	/* overwrite all with the real values; delete every fifth */
	if (kv_txn_begin(p.kv, true, &w, &err) != VS_OK)
		goto fail;
	for (i = 0; i < n && r == VS_OK; i++) {
		r = kv_put(w, rows[i].tbl, rows[i].k, rows[i].kn, rows[i].v,
		    rows[i].vn, false, &err);
		if (r == VS_OK && i % 5 == 4) {
			r = kv_del(w, rows[i].tbl, rows[i].k, rows[i].kn, &err);
			rows[i].gone = true;
		}
	}
	if (r != VS_OK || kv_txn_commit(w, &err) != VS_OK)
		goto fail;
	/* an aborted transaction leaves nothing */
	if (kv_txn_begin(p.kv, true, &w, &err) != VS_OK)
		goto fail;
	for (i = 0; i < n && r == VS_OK; i++)
		r = kv_put(w, rows[i].tbl, "aborted", 7, "x", 1, false, &err);
	kv_txn_abort(w);
	if (r != VS_OK)
		goto fail;
	kv_close(&p.kv);
	qsort(rows, n, sizeof(rows[0]), row_cmp);
	for (i = 0; i < n; i++) {
		if (rows[i].gone)
			continue;
		printf("%d|", rows[i].tbl);
		for (j = 0; j < rows[i].kn; j++)
			printf("%02x", rows[i].k[j]);
		printf("|");
		for (j = 0; j < rows[i].vn; j++)
			printf("%02x", rows[i].v[j]);
		printf("\n");
	}
	return 0;
fail:
	fprintf(stderr, "kvconform: fill: %s\n", err.msg);
	return 1;
}

static void
wait_line(const char *say)
{
	char line[64];

	printf("%s\n", say);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		exit(2);
}

/* Open transactions when the server goes: errors, never "not found";
 * nothing half-written; and answers again once it is back, on the same
 * handle. */
static int
cmd_outage(const char *conninfo)
{
	struct fx p = { "pg", true, "", NULL };
	struct kv_txn *rd = NULL, *w = NULL, *t = NULL, *x = NULL, *y = NULL;
	struct kv_val v;
	struct vs_err err;
	size_t n;
	int r;

	snprintf(p.target, sizeof(p.target), "%s", conninfo);
	if (fx_open(&p, KV_OPEN_CREATE, &err) != VS_OK ||
	    kv_txn_begin(p.kv, true, &w, &err) != VS_OK ||
	    kv_put(w, KV_USERS, "here", 4, "v", 1, false, &err) != VS_OK ||
	    kv_txn_commit(w, &err) != VS_OK ||
	    kv_txn_begin(p.kv, false, &rd, &err) != VS_OK ||
	    kv_get(rd, KV_USERS, "here", 4, &v, &err) != VS_OK ||
	    kv_txn_begin(p.kv, true, &w, &err) != VS_OK ||
	    kv_put(w, KV_USERS, "half", 4, "v", 1, false, &err) != VS_OK ||
	    /* two idle connections in the pool, to die while idle */
	    kv_txn_begin(p.kv, false, &x, &err) != VS_OK ||
	    kv_txn_begin(p.kv, false, &y, &err) != VS_OK ||
	    kv_txn_commit(x, &err) != VS_OK ||
	    kv_txn_commit(y, &err) != VS_OK) {
		result(false, "outage: set-up: %s", err.msg);
		return 1;
	}
	wait_line("ready");
	/* the server is gone */
	r = kv_get(rd, KV_USERS, "here", 4, &v, &err);
	result(r == VS_EIO && strstr(err.msg, "connection"),
	    "server down: get of a present key is an I/O error (%d): %s", r,
	    err.msg);
	r = kv_get(rd, KV_USERS, "absent", 6, &v, &err);
	result(r != VS_OK && r != VS_ENOTFOUND,
	    "server down: get of an absent key is an error, not \"not found\" "
	    "(%d)", r);
	r = kv_count(rd, KV_USERS, &n, &err);
	result(r != VS_OK && r != VS_ENOTFOUND, "server down: count fails "
	    "(%d)", r);
	r = kv_last(rd, KV_USERS, &v, &err);
	result(r != VS_OK && r != VS_ENOTFOUND, "server down: last fails "
	    "(%d)", r);
	kv_txn_abort(rd);
	r = kv_del(w, KV_USERS, "here", 4, &err);
	result(r != VS_OK && r != VS_ENOTFOUND, "server down: del in an open "
	    "write fails (%d), not \"not found\"", r);
	r = kv_txn_commit(w, &err);
	result(r == VS_EIO, "server down: commit fails (%d): %s", r, err.msg);
	/* takes an idle connection, finds it dead, cannot make another */
	r = kv_txn_begin(p.kv, false, &t, &err);
	if (r == VS_OK)
		kv_txn_abort(t);
	result(r == VS_EIO && strstr(err.msg, "cannot connect"),
	    "server down: begin fails, cannot connect (%d): %s", r, err.msg);
	wait_line("down");
	/* the server is back: the same handle answers, though its last idle
	 * connection died while idle */
	vs_err_clear(&err);
	r = kv_txn_begin(p.kv, false, &rd, &err);
	result(r == VS_OK, "server back: begin on the same handle, a dead "
	    "idle connection replaced (%d)%s%s", r, r ? ": " : "", err.msg);
	if (r != VS_OK)
		return 1;
	r = kv_get(rd, KV_USERS, "here", 4, &v, &err);
	result(r == VS_OK && v.len == 1, "server back: the committed key is "
	    "read (%d)", r);
	r = kv_get(rd, KV_USERS, "half", 4, &v, &err);
	result(r == VS_ENOTFOUND, "server back: nothing of the interrupted "
	    "write was committed (%d)", r);
	kv_txn_abort(rd);
	kv_close(&p.kv);
	return failures ? 1 : 0;
}
#endif

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "has-pg") == 0) {
#ifdef HAVE_PQ
		return 0;
#else
		return 1;
#endif
	}
	if (argc == 3 && strcmp(argv[1], "lmdb") == 0)
		return cmd_suite(argv[2], NULL);
#ifdef HAVE_PQ
	if (argc == 4 && strcmp(argv[1], "both") == 0)
		return cmd_suite(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "fill") == 0)
		return cmd_fill(argv[2]);
	if (argc == 3 && strcmp(argv[1], "outage") == 0)
		return cmd_outage(argv[2]);
#endif
	fprintf(stderr, "usage: kvconform both TMPDIR CONNINFO | lmdb TMPDIR | "
	    "fill CONNINFO | outage CONNINFO | has-pg\n");
	return 2;
}
