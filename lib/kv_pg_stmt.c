/*
 * kv_pg_stmt.c - the statements of the PostgreSQL key/value backend
 * (kv_pg.c): get, put, del, iter, last, count and copy, each run in a
 * kv_pg_txn on its connection, with their parameters and the checks of
 * what the server answers; and kvpg_exec()/kvpg_exec_params(), through
 * which every statement of the backend (BEGIN, COMMIT and ROLLBACK
 * too) is sent and its answer awaited within the answer deadline.
 *
 * Order: PostgreSQL compares bytea as memcmp over the common length, the
 * shorter first when one is a prefix of the other (byteacmp; bytea has no
 * collation), which is exactly LMDB's default key order
 * (mdb_cmp_memn): iter and last see keys in the same order on both
 * backends.  tests/integration/kvconform.c checks it with keys of
 * different lengths holding 0x00 and 0xff.
 *
 * Ownership (kv.h): the bytes of a get, last or iter point into libpq
 * results that the kv_txn keeps until its next write, reset, commit or
 * abort.  Iteration fetches pages of KV_PG_PAGE rows in key order (keyset
 * pagination, so a callback that stops early costs one page).
 *
 * Failures: every failed statement goes through kvpg_txn_failed()
 * (kv_pg.c), so that the transaction keeps its first failure's code.
 * Every statement is sent and awaited within the handle's answer
 * deadline (kvpg_exec_params(), kv_pg.c): a server that does not answer
 * in time is VS_EIO, and the connection is closed with the transaction.
 *
 * Security: all data travels as binary parameters and binary results
 * (PQsendQueryParams, format 1): no string is built from a key or value, and
 * every field the server returns is checked (count, format, NULL, length:
 * keys at most KV_PG_KEY_MAX, values at most KV_PG_VAL_MAX) before use.
 * SQL is only the fixed strings below (the table is a parameter), and
 * errors quote the server through kvpg_result_fail(), which hides the
 * conninfo's password.  copy (kv.h's hot backup) is refused: a PostgreSQL
 * store is backed up with pg_dump, and what pg_dump writes is as sealed
 * as the table.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "kv.h"
#include "kv_pg_int.h"

/* Built-in type OIDs (pg_type.h; fixed since PostgreSQL 7). */
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20
#define PG_OID_INT2 21

#define KV_PG_KEY_MAX 511               /* LMDB's largest key */
#define KV_PG_VAL_MAX ((size_t)64 << 20)
#define KV_PG_PAGE 512                  /* rows per iteration page */

#define KV_PG_PAGE_STR "512"

static const char sql_get[] =
    "SELECT v FROM vmseal_kv WHERE tbl = $1 AND k = $2";
static const char sql_put[] =
    "INSERT INTO vmseal_kv (tbl, k, v) VALUES ($1, $2, $3) "
    "ON CONFLICT (tbl, k) DO UPDATE SET v = EXCLUDED.v";
static const char sql_put_new[] =
    "INSERT INTO vmseal_kv (tbl, k, v) VALUES ($1, $2, $3) "
    "ON CONFLICT (tbl, k) DO NOTHING";
static const char sql_del[] =
    "DELETE FROM vmseal_kv WHERE tbl = $1 AND k = $2";
static const char sql_first_page[] =
    "SELECT k, v FROM vmseal_kv WHERE tbl = $1 ORDER BY k LIMIT "
    KV_PG_PAGE_STR;
static const char sql_next_page[] =
    "SELECT k, v FROM vmseal_kv WHERE tbl = $1 AND k > $2 ORDER BY k LIMIT "
    KV_PG_PAGE_STR;
static const char sql_last[] =
    "SELECT k FROM vmseal_kv WHERE tbl = $1 ORDER BY k DESC LIMIT 1";
static const char sql_count[] =
    "SELECT count(*) FROM vmseal_kv WHERE tbl = $1";

/* ---- statements with a deadline ---- */

int64_t
kvpg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until conn's socket is readable (or writable, with out) or the
 * deadline (0: none) passes: 1 ready, 0 late, -1 no socket or poll
 * failed. */
static int
wait_socket(PGconn *conn, bool out, int64_t deadline)
{
	struct pollfd p;
	int64_t left;
	int r;

	if ((p.fd = PQsocket(conn)) < 0)
		return -1;
	p.events = POLLIN | (out ? POLLOUT : 0);
	for (;;) {
		left = -1;
		if (deadline != 0 && (left = deadline - kvpg_now_ms()) <= 0)
			return 0;
		p.revents = 0;
		r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r > 0)
			return 1;
		if (r == 0 && deadline != 0 && kvpg_now_ms() >= deadline)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* The answer to what was just sent: the last result, as PQexec's
 * (PQexecFinish) loop keeps it; NULL and *late_r on the deadline. */
static PGresult *
await_answer(const struct kv_pg *pg, PGconn *conn, bool *late_r)
{
	int64_t deadline = pg->answer_ms ? kvpg_now_ms() + pg->answer_ms : 0;
	PGresult *res, *last = NULL;
	int w = 0, f;

	/* the statement out: in non-blocking mode libpq may hold some */
	while ((f = PQflush(conn)) == 1) {
		if ((w = wait_socket(conn, true, deadline)) <= 0)
			goto abandon;
		if (!PQconsumeInput(conn))
			break;  /* the failure is in the next result */
	}
	for (;;) {
		while (f == 0 && PQisBusy(conn)) {
			if ((w = wait_socket(conn, false, deadline)) <= 0)
				goto abandon;
			if (!PQconsumeInput(conn))
				break;  /* PQgetResult returns the failure */
		}
		if ((res = PQgetResult(conn)) == NULL)
			break;
		PQclear(last);
		last = res;
		if (PQstatus(conn) == CONNECTION_BAD ||
		    PQresultStatus(res) == PGRES_COPY_IN ||
		    PQresultStatus(res) == PGRES_COPY_OUT ||
		    PQresultStatus(res) == PGRES_COPY_BOTH)
			break;
		f = 0;
	}
	return last;
abandon:
	/* No PQcancel: before libpq 17 it blocks without a limit (connect,
	 * send, then wait for the server to close), forever on a stopped
	 * server.  The caller closes the connection; the server's backend
	 * ends the transaction (rolled back, unless COMMIT was under way)
	 * when it next talks to the closed socket. */
	PQclear(last);
	*late_r = w == 0;
	return NULL;
}

PGresult *
kvpg_exec(const struct kv_pg *pg, PGconn *conn, const char *sql,
    bool *late_r)
{
	*late_r = false;
	if (!PQsendQuery(conn, sql))
		return NULL;
	return await_answer(pg, conn, late_r);
}

PGresult *
kvpg_exec_params(const struct kv_pg *pg, PGconn *conn, const char *sql,
    int n, const Oid *types, const char *const *vals, const int *lens,
    const int *fmts, int result_fmt, bool *late_r)
{
	*late_r = false;
	if (!PQsendQueryParams(conn, sql, n, types, vals, lens, fmts,
	    result_fmt))
		return NULL;
	return await_answer(pg, conn, late_r);
}

int
kvpg_late_fail(const struct kv_pg *pg, const char *what, struct vs_err *err)
{
	return vs_fail(err, VS_EIO, "%s: PostgreSQL did not answer within %u "
	    "s (connection closed)", what, pg->answer_ms / 1000);
}

struct pg_params {
	const char *vals[3];
	int lens[3];
	int fmts[3];
	Oid types[3];
	int n;
	unsigned char tbl[2];
};

static void
params_init(struct pg_params *p, enum kv_table tbl)
{
	memset(p, 0, sizeof(*p));
	p->tbl[0] = (unsigned char)((unsigned)tbl >> 8);
	p->tbl[1] = (unsigned char)tbl;
	p->vals[0] = (const char *)p->tbl;
	p->lens[0] = 2;
	p->fmts[0] = 1;
	p->types[0] = PG_OID_INT2;
	p->n = 1;
}

static void
params_bytea(struct pg_params *p, const void *data, size_t len)
{
	/* A NULL pointer would be SQL NULL: an empty value is "". */
	p->vals[p->n] = data != NULL ? (const char *)data : "";
	p->lens[p->n] = (int)len;
	p->fmts[p->n] = 1;
	p->types[p->n] = PG_OID_BYTEA;
	p->n++;
}

/* Run one statement in the transaction; on success *res_r holds a result
 * of status want (the caller clears or lends it). */
static int
run(struct kv_pg_txn *t, const char *sql, const struct pg_params *p,
    ExecStatusType want, const char *what, PGresult **res_r,
    struct vs_err *err)
{
	struct kv_pg *pg = kvpg_of(t->base.kv);
	PGresult *res;
	bool late;
	int r;

	res = kvpg_exec_params(pg, t->conn, sql, p->n, p->types, p->vals,
	    p->lens, p->fmts, 1, &late);
	if (res != NULL && PQresultStatus(res) == want) {
		*res_r = res;
		return VS_OK;
	}
	t->late = late;
	if (late) {
		t->lost = true;         /* in the middle of a statement */
		return kvpg_txn_failed(t, kvpg_late_fail(pg, what, err), err);
	}
	r = kvpg_result_fail(kvpg_of(t->base.kv), t->conn, res, what, err);
	if (kvpg_conn_broken(t->conn, res))
		t->lost = true;
	PQclear(res);
	return kvpg_txn_failed(t, r, err);
}

/* Check a result: rows 0..max_rows, nfields columns, binary, no NULL,
 * field lengths within the caps (column 0 a key, 1 a value). */
static int
check_result(struct kv_pg_txn *t, const PGresult *res, int max_rows,
    int nfields, const char *what, struct vs_err *err)
{
	int rows = PQntuples(res), i, j, len;
	size_t cap;

	if (rows < 0 || rows > max_rows || PQnfields(res) != nfields)
		goto bad;
	for (j = 0; j < nfields; j++)
		if (PQfformat(res, j) != 1)
			goto bad;
	for (i = 0; i < rows; i++) {
		for (j = 0; j < nfields; j++) {
			if (PQgetisnull(res, i, j))
				goto bad;
			len = PQgetlength(res, i, j);
			cap = (nfields == 2 && j == 0) ? KV_PG_KEY_MAX :
			    KV_PG_VAL_MAX;
			if (len < 0 || (size_t)len > cap)
				goto bad;
		}
	}
	return VS_OK;
bad:
	return kvpg_txn_failed(t, vs_fail(err, VS_ECORRUPT, "%s: unexpected "
	    "answer from PostgreSQL", what), err);
}

static int
key_ok(const void *key, size_t klen, struct vs_err *err)
{
	if (klen > KV_PG_KEY_MAX)
		return vs_fail(err, VS_EINVAL, "key of %zu bytes (at most %d)",
		    klen, KV_PG_KEY_MAX);
	return VS_OK;
}

/* A get of a kept table in a lazy read transaction: the cache, or on a
 * miss one statement outside any transaction (on a connection from the
 * pool found dead, once more on a new one: nothing was done on it), its
 * answer kept unless an invalidation came meanwhile (kv_pg_cache.h). */
static int
cached_get(struct kv_pg_txn *t, enum kv_table tbl, const void *key,
    size_t klen, struct kv_val *val_r, struct vs_err *err)
{
	struct kv_pg *pg = kvpg_of(t->base.kv);
	struct pg_params p;
	PGresult *res;
	uint64_t epoch;
	void *copy;
	size_t len;
	int r, attempt;

	switch (kvpg_cache_get(pg->cache, tbl, key, klen, &copy, &len,
	    &epoch)) {
	case KVPG_CACHE_HIT:
		val_r->data = copy;
		val_r->len = len;
		return kvpg_lend_copy(t, copy, err);
	case KVPG_CACHE_ABSENT:
		return VS_ENOTFOUND;
	case KVPG_CACHE_MISS:
		break;
	}
	if ((r = kvpg_db_down(pg, err)) != VS_OK)
		return kvpg_txn_failed(t, r, err);
	params_init(&p, tbl);
	params_bytea(&p, key, klen);
	for (attempt = 0;; attempt++) {
		if ((r = kvpg_lazy_conn(t, attempt > 0, err)) != VS_OK)
			return r;
		r = run(t, sql_get, &p, PGRES_TUPLES_OK, "cannot read store",
		    &res, err);
		if (r == VS_OK)
			break;
		if (attempt > 0 || !t->lost || t->late)
			return r;
		t->fail_code = VS_OK;   /* a pooled connection had died */
	}
	if ((r = check_result(t, res, 1, 1, "cannot read store", err))
	    != VS_OK) {
		PQclear(res);
		return r;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		kvpg_cache_put(pg->cache, tbl, key, klen, NULL, 0, epoch);
		return VS_ENOTFOUND;
	}
	val_r->data = PQgetvalue(res, 0, 0);
	val_r->len = (size_t)PQgetlength(res, 0, 0);
	kvpg_cache_put(pg->cache, tbl, key, klen, val_r->data, val_r->len,
	    epoch);
	return kvpg_lend(t, res, err);
}

int
kvpg_get(struct kv_txn *txn, enum kv_table tbl, const void *key, size_t klen,
    struct kv_val *val_r, struct vs_err *err)
{
	struct kv_pg_txn *t = kvpg_txn_of(txn);
	struct pg_params p;
	PGresult *res;
	int r;

	if ((r = kvpg_txn_usable(t, tbl, err)) != VS_OK ||
	    (r = key_ok(key, klen, err)) != VS_OK)
		return r;
	if (t->lazy && !t->open) {
		if (kvpg_cache_table(tbl))
			return cached_get(t, tbl, key, klen, val_r, err);
		if ((r = kvpg_lazy_open(t, err)) != VS_OK)
			return r;
	}
	params_init(&p, tbl);
	params_bytea(&p, key, klen);
	if ((r = run(t, sql_get, &p, PGRES_TUPLES_OK, "cannot read store",
	    &res, err)) != VS_OK)
		return r;
	if ((r = check_result(t, res, 1, 1, "cannot read store", err))
	    != VS_OK) {
		PQclear(res);
		return r;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return VS_ENOTFOUND;
	}
	val_r->data = PQgetvalue(res, 0, 0);
	val_r->len = (size_t)PQgetlength(res, 0, 0);
	return kvpg_lend(t, res, err);
}

/* A write: run it, then end the loans (its inputs may have been lent). */
static int
write_stmt(struct kv_pg_txn *t, const char *sql, const struct pg_params *p,
    const char *what, bool *none_r, struct vs_err *err)
{
	PGresult *res;
	const char *n;
	int r;

	if (!t->write)
		return vs_fail(err, VS_EINVAL, "%s: read-only transaction",
		    what);
	r = run(t, sql, p, PGRES_COMMAND_OK, what, &res, err);
	t->writes++;
	kvpg_release_lent(t);
	if (r != VS_OK)
		return r;
	n = PQcmdTuples(res);
	if (strcmp(n, "0") == 0)
		*none_r = true;
	else if (strcmp(n, "1") == 0)
		*none_r = false;
	else
		r = kvpg_txn_failed(t, vs_fail(err, VS_ECORRUPT,
		    "%s: PostgreSQL answered %s rows", what, n), err);
	PQclear(res);
	return r;
}

int
kvpg_put(struct kv_txn *txn, enum kv_table tbl, const void *key, size_t klen,
    const void *val, size_t vlen, bool no_overwrite, struct vs_err *err)
{
	struct kv_pg_txn *t = kvpg_txn_of(txn);
	struct pg_params p;
	bool none;
	int r;

	if ((r = kvpg_txn_usable(t, tbl, err)) != VS_OK ||
	    (r = key_ok(key, klen, err)) != VS_OK)
		return r;
	if (vlen > KV_PG_VAL_MAX)
		return vs_fail(err, VS_ELIMIT, "value of %zu bytes (at most "
		    "%zu)", vlen, KV_PG_VAL_MAX);
	params_init(&p, tbl);
	params_bytea(&p, key, klen);
	params_bytea(&p, val, vlen);
	if (t->write)
		kvpg_notify_add(&t->changed, tbl, key, klen);
	if ((r = write_stmt(t, no_overwrite ? sql_put_new : sql_put, &p,
	    "cannot write store", &none, err)) != VS_OK)
		return r;
	return none ? VS_EEXIST : VS_OK;
}

int
kvpg_del(struct kv_txn *txn, enum kv_table tbl, const void *key, size_t klen,
    struct vs_err *err)
{
	struct kv_pg_txn *t = kvpg_txn_of(txn);
	struct pg_params p;
	bool none;
	int r;

	if ((r = kvpg_txn_usable(t, tbl, err)) != VS_OK ||
	    (r = key_ok(key, klen, err)) != VS_OK)
		return r;
	params_init(&p, tbl);
	params_bytea(&p, key, klen);
	if (t->write)
		kvpg_notify_add(&t->changed, tbl, key, klen);
	if ((r = write_stmt(t, sql_del, &p, "cannot delete from store", &none,
	    err)) != VS_OK)
		return r;
	return none ? VS_ENOTFOUND : VS_OK;
}

int
kvpg_iter(struct kv_txn *txn, enum kv_table tbl, kv_iter_cb *cb, void *ctx,
    struct vs_err *err)
{
	struct kv_pg_txn *t = kvpg_txn_of(txn);
	unsigned char after[KV_PG_KEY_MAX];
	size_t afterlen = 0;
	struct pg_params p;
	struct kv_val kk, vv;
	unsigned long writes;
	PGresult *res;
	int r, rows, i, cbr = 0;
	bool first = true;

	if ((r = kvpg_txn_usable(t, tbl, err)) != VS_OK ||
	    (t->lazy && (r = kvpg_lazy_open(t, err)) != VS_OK))
		return r;
	for (;;) {
		params_init(&p, tbl);
		if (!first)
			params_bytea(&p, after, afterlen);
		if ((r = run(t, first ? sql_first_page : sql_next_page, &p,
		    PGRES_TUPLES_OK, "cannot read store", &res, err)) != VS_OK)
			return r;
		if ((r = check_result(t, res, KV_PG_PAGE, 2,
		    "cannot read store", err)) != VS_OK) {
			PQclear(res);
			return r;
		}
		first = false;
		writes = t->writes;
		rows = PQntuples(res);
		for (i = 0; i < rows && cbr == 0; i++) {
			kk.data = PQgetvalue(res, i, 0);
			kk.len = (size_t)PQgetlength(res, i, 0);
			vv.data = PQgetvalue(res, i, 1);
			vv.len = (size_t)PQgetlength(res, i, 1);
			cbr = cb(ctx, &kk, &vv);
		}
		if (rows > 0) {
			afterlen = (size_t)PQgetlength(res, rows - 1, 0);
			memcpy(after, PQgetvalue(res, rows - 1, 0), afterlen);
		}
		/* The page's bytes stay lent unless a write ended the loans
		 * while the callbacks ran. */
		if (writes != t->writes)
			PQclear(res);
		else if ((r = kvpg_lend(t, res, err)) != VS_OK)
			return r;
		if (cbr != 0)
			return cbr;
		if (rows < KV_PG_PAGE)
			return VS_OK;
		/* A callback's failed write killed the transaction. */
		if ((r = kvpg_txn_usable(t, tbl, err)) != VS_OK)
			return r;
	}
}

int
kvpg_last(struct kv_txn *txn, enum kv_table tbl, struct kv_val *key_r,
    struct vs_err *err)
{
	struct kv_pg_txn *t = kvpg_txn_of(txn);
	struct pg_params p;
	PGresult *res;
	int r;

	if ((r = kvpg_txn_usable(t, tbl, err)) != VS_OK ||
	    (t->lazy && (r = kvpg_lazy_open(t, err)) != VS_OK))
		return r;
	params_init(&p, tbl);
	if ((r = run(t, sql_last, &p, PGRES_TUPLES_OK, "cannot read store",
	    &res, err)) != VS_OK)
		return r;
	/* one column: checked against the key cap by hand below */
	if ((r = check_result(t, res, 1, 1, "cannot read store", err))
	    != VS_OK) {
		PQclear(res);
		return r;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return VS_ENOTFOUND;
	}
	if ((r = PQgetlength(res, 0, 0)) > KV_PG_KEY_MAX) {
		PQclear(res);
		return kvpg_txn_failed(t, vs_fail(err, VS_ECORRUPT,
		    "cannot read store: a key of %d bytes", r), err);
	}
	key_r->data = PQgetvalue(res, 0, 0);
	key_r->len = (size_t)PQgetlength(res, 0, 0);
	return kvpg_lend(t, res, err);
}

int
kvpg_count(struct kv_txn *txn, enum kv_table tbl, size_t *n_r,
    struct vs_err *err)
{
	struct kv_pg_txn *t = kvpg_txn_of(txn);
	struct pg_params p;
	const unsigned char *b;
	uint64_t n = 0;
	PGresult *res;
	int r, i;

	if ((r = kvpg_txn_usable(t, tbl, err)) != VS_OK ||
	    (t->lazy && (r = kvpg_lazy_open(t, err)) != VS_OK))
		return r;
	params_init(&p, tbl);
	if ((r = run(t, sql_count, &p, PGRES_TUPLES_OK,
	    "cannot read store statistics", &res, err)) != VS_OK)
		return r;
	if (PQntuples(res) != 1 || PQnfields(res) != 1 ||
	    PQfformat(res, 0) != 1 || PQftype(res, 0) != PG_OID_INT8 ||
	    PQgetisnull(res, 0, 0) || PQgetlength(res, 0, 0) != 8) {
		PQclear(res);
		return kvpg_txn_failed(t, vs_fail(err, VS_ECORRUPT,
		    "cannot read store statistics: unexpected answer from "
		    "PostgreSQL"), err);
	}
	b = (const unsigned char *)PQgetvalue(res, 0, 0);
	for (i = 0; i < 8; i++)
		n = n << 8 | b[i];
	PQclear(res);
	if (n > SIZE_MAX || n > INT64_MAX)      /* int8: never negative */
		return kvpg_txn_failed(t, vs_fail(err, VS_ECORRUPT,
		    "cannot read store statistics: a count out of range"), err);
	*n_r = (size_t)n;
	return VS_OK;
}

int
kvpg_copy(struct kv *kv, int fd, struct vs_err *err)
{
	return vs_fail(err, VS_EINVAL, "a PostgreSQL store is backed up with "
	    "pg_dump (what it writes stays sealed), not copied by vmseal");
}
