/*
 * kv_pg_throttle.c - the failed-login throttle shared by the hosts of one
 * PostgreSQL store (kv_pg_throttle.h): the table vmseal_throttle and its
 * three statements.
 *
 * Protocol.  One row per key:
 *   k        bytea, the caller's keyed hash of the throttle key;
 *   hits     the newest `limit` failures (and refusals), newest first;
 *   pend     the checks in flight: the database's time stamp of each
 *            reservation, which is also its token;
 *   until    blocked until then (a failure that brought the failures in
 *            the window to `limit` - or any failure or refusal while
 *            blocked - sets it to its time + window: lib/throttle.h's
 *            "blocked while its last hit is in the window");
 *   answer   the last reservation's verdict (what RETURNING reports);
 *   win      the window of the last statement (for the sweep);
 *   touched  the last statement's time.
 * Reserve is one INSERT ... ON CONFLICT (k) DO UPDATE: PostgreSQL inserts
 * the row or locks the existing one and computes the update from its
 * newest version, so the reservations of one key - from any host, in any
 * number - are taken one after the other, each seeing every failure and
 * every check in flight before it.  That is what bounds the hashes spent
 * on one key across hosts: a check is reserved only while failures in
 * the window plus checks in flight stay under `limit`, and settling a
 * failure turns its check in flight into a failure.  Settle is one
 * UPDATE of the row (the same lock), removing exactly one occurrence of
 * its token (array_position; two equal stamps are both kept but one).
 * Times are the database's clock_timestamp(), the same clock for every
 * host, taken once per statement (a CTE) so that one statement's hit,
 * token and block agree.
 *
 * Each statement runs alone, in autocommit (READ COMMITTED unless the
 * role's default says otherwise: a serialization failure or deadlock is
 * run again, up to 3 times), on a connection taken from the kv_pg
 * handle's pool (kvpg_pool_take) or made (kvpg_connect), given back after
 * (kvpg_pool_give), closed after a deadline or a broken connection.  A
 * pooled connection found dead is replaced once.  The table is created
 * by the first statement that finds it missing (SQLSTATE 42P01), with the
 * rights of the role that made the store.  Rows whose window and checks
 * in flight are over are deleted at most every 10 minutes per process.
 *
 * Security: only fixed SQL; the key (at most KV_PG_THROTTLE_KEY_MAX bytes)
 * and the token travel as binary parameters, the numbers as text made
 * here; every result is checked (rows, columns, NULL, lengths) before
 * use.  Errors quote the server only through kvpg_result_fail (the
 * conninfo's password hidden).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "kv_pg_int.h"
#include "kv_pg_throttle.h"

#define PG_OID_BYTEA 17
#define PG_OID_INT4 23
#define PG_OID_TIMESTAMPTZ 1184

#define SWEEP_EVERY_S 600
#define CONFLICT_TRIES 3

static const char sql_create[] =
    "CREATE TABLE IF NOT EXISTS vmseal_throttle ("
    "k bytea PRIMARY KEY, "
    "hits timestamptz[] NOT NULL, "
    "pend timestamptz[] NOT NULL, "
    "until timestamptz, "
    "answer smallint NOT NULL, "
    "win integer NOT NULL, "
    "touched timestamptz NOT NULL)";

/* $1 key, $2 limit, $3 window (s), $4 lifetime of a check in flight (s). */
static const char sql_reserve[] =
    "WITH c AS (SELECT clock_timestamp() AS ts) "
    "INSERT INTO vmseal_throttle AS t "
    "(k, hits, pend, until, answer, win, touched) "
    "SELECT $1, '{}', ARRAY[c.ts], NULL, 0, $3::int, c.ts FROM c "
    "ON CONFLICT (k) DO UPDATE SET (hits, pend, until, answer, win, "
    "touched) = ("
    "SELECT CASE WHEN s.blocked THEN (s.ts || s.lh)[1:$2::int] "
    "ELSE s.lh END, "
    "CASE WHEN s.ok THEN s.lp || s.ts ELSE s.lp END, "
    "CASE WHEN s.blocked THEN s.ts + make_interval(secs => $3::int) "
    "ELSE t.until END, "
    "CASE WHEN s.blocked THEN 2 WHEN s.ok THEN 0 ELSE 1 END, "
    "$3::int, s.ts "
    "FROM (SELECT r.*, NOT r.blocked AND "
    "cardinality(r.lh) + cardinality(r.lp) < $2::int AS ok "
    "FROM (SELECT EXCLUDED.touched AS ts, "
    "coalesce(t.until > EXCLUDED.touched, false) AS blocked, "
    "ARRAY(SELECT h FROM unnest(t.hits) h WHERE h > EXCLUDED.touched - "
    "make_interval(secs => $3::int) ORDER BY h DESC) AS lh, "
    "ARRAY(SELECT p FROM unnest(t.pend) p WHERE p > EXCLUDED.touched - "
    "make_interval(secs => $4::int)) AS lp) r) s) "
    "RETURNING answer, touched";

/* $1 key, $2 token, $3 limit, $4 window (s), $5 failed, $6 clear. */
static const char sql_settle[] =
    "WITH c AS (SELECT clock_timestamp() AS ts) "
    "UPDATE vmseal_throttle AS t SET (hits, pend, until, win, touched) = ("
    "SELECT CASE WHEN $6::bool THEN '{}' WHEN $5::bool THEN s.nh "
    "ELSE s.lh END, "
    "CASE WHEN s.i IS NULL THEN t.pend "
    "ELSE t.pend[1:s.i - 1] || t.pend[s.i + 1:] END, "
    "CASE WHEN $6::bool THEN NULL "
    "WHEN $5::bool AND (coalesce(t.until > s.ts, false) OR "
    "cardinality(s.nh) >= $3::int) "
    "THEN s.ts + make_interval(secs => $4::int) ELSE t.until END, "
    "$4::int, s.ts "
    "FROM (SELECT r.*, (r.ts || r.lh)[1:$3::int] AS nh "
    "FROM (SELECT c.ts, array_position(t.pend, $2::timestamptz) AS i, "
    "ARRAY(SELECT h FROM unnest(t.hits) h WHERE h > c.ts - "
    "make_interval(secs => $4::int) ORDER BY h DESC) AS lh) r) s) "
    "FROM c WHERE t.k = $1 "
    "RETURNING coalesce(until > touched, false)";

static const char sql_clear[] = "DELETE FROM vmseal_throttle WHERE k = $1";

/* $1 lifetime of a check in flight (s). */
static const char sql_sweep[] =
    "DELETE FROM vmseal_throttle WHERE touched < clock_timestamp() - "
    "make_interval(secs => greatest(win, $1::int))";

struct params {
	const char *vals[6];
	int lens[6];
	int fmts[6];
	Oid types[6];
	int n;
	char num[6][16];
};

static void
p_bin(struct params *p, Oid type, const void *data, size_t len)
{
	p->vals[p->n] = (const char *)data;
	p->lens[p->n] = (int)len;
	p->fmts[p->n] = 1;
	p->types[p->n] = type;
	p->n++;
}

static void
p_num(struct params *p, unsigned v)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%u", v);
	p->vals[p->n] = p->num[p->n];
	p->lens[p->n] = 0;
	p->fmts[p->n] = 0;
	p->types[p->n] = PG_OID_INT4;
	p->n++;
}

static void
p_bool(struct params *p, bool v)
{
	p->vals[p->n] = v ? "t" : "f";
	p->lens[p->n] = 0;
	p->fmts[p->n] = 0;
	p->types[p->n] = 16;    /* bool */
	p->n++;
}

static bool
sqlstate_is(const PGresult *res, const char *code)
{
	const char *st = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return st != NULL && strcmp(st, code) == 0;
}

/* Create the table on conn: VS_OK, or the failure. */
static int
create_table(struct kv_pg *pg, PGconn *conn, bool *late_r,
    struct vs_err *err)
{
	PGresult *res;
	int r = VS_OK;

	res = kvpg_exec(pg, conn, sql_create, late_r);
	if (*late_r)
		r = kvpg_late_fail(pg, "cannot create the throttle table",
		    err);
	else if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		r = kvpg_result_fail(pg, conn, res, "cannot create the "
		    "throttle table", err);
	PQclear(res);
	return r;
}

/* Run one statement alone on a connection of the pool (see the top):
 * VS_OK with *res_r a result of status want (the caller clears it). */
static int
run(struct kv_pg *pg, const char *what, const char *sql,
    const struct params *p, ExecStatusType want, PGresult **res_r,
    struct vs_err *err)
{
	PGconn *conn = NULL;
	PGresult *res;
	bool pooled = false, late = false, created = false;
	int attempt, r;

	for (attempt = 0; attempt < CONFLICT_TRIES + 2; attempt++) {
		if (conn == NULL) {
			/* A retry after a dead pooled connection makes a
			 * new one: the other idle ones may be as dead. */
			pooled = attempt == 0 &&
			    (conn = kvpg_pool_take(pg)) != NULL;
			if (conn == NULL &&
			    (r = kvpg_connect(pg, &conn, err)) != VS_OK)
				return r;
		}
		res = kvpg_exec_params(pg, conn, sql, p->n, p->types,
		    p->vals, p->lens, p->fmts, 1, &late);
		if (res != NULL && PQresultStatus(res) == want) {
			kvpg_pool_give(pg, conn);
			*res_r = res;
			return VS_OK;
		}
		if (late) {     /* in the middle of a statement: closed */
			PQfinish(conn);
			return kvpg_late_fail(pg, what, err);
		}
		if (kvpg_conn_broken(conn, res)) {
			if (pooled) {   /* died while idle: a new one, once */
				PQclear(res);
				PQfinish(conn);
				conn = NULL;
				pooled = false;
				continue;
			}
			r = kvpg_result_fail(pg, conn, res, what, err);
			PQclear(res);
			PQfinish(conn);
			return r;
		}
		pooled = false;
		if (sqlstate_is(res, "42P01") && !created) {
			/* undefined_table: the first use on this database */
			PQclear(res);
			created = true;
			if ((r = create_table(pg, conn, &late, err)) != VS_OK) {
				if (late || PQstatus(conn) != CONNECTION_OK)
					PQfinish(conn);
				else
					kvpg_pool_give(pg, conn);
				return r;
			}
			continue;
		}
		if ((sqlstate_is(res, "40001") || sqlstate_is(res, "40P01")) &&
		    attempt < CONFLICT_TRIES) {
			PQclear(res);
			continue;
		}
		r = kvpg_result_fail(pg, conn, res, what, err);
		PQclear(res);
		kvpg_pool_give(pg, conn);       /* idle again, or closed */
		return r;
	}
	kvpg_pool_give(pg, conn);
	return vs_fail(err, VS_EBUSY, "%s: conflict with concurrent "
	    "transactions, tried %d times", what, CONFLICT_TRIES);
}

static int
bad_answer(const char *what, struct vs_err *err)
{
	return vs_fail(err, VS_ECORRUPT, "%s: unexpected answer from "
	    "PostgreSQL", what);
}

/* Now and then: rows whose window and checks in flight are over. */
static void
sweep(struct kv_pg *pg)
{
	static int64_t last;
	int64_t now = (int64_t)time(NULL), seen;
	struct params p = { .n = 0 };
	PGresult *res = NULL;
	struct vs_err err;

	seen = __atomic_load_n(&last, __ATOMIC_RELAXED);
	if (now - seen < SWEEP_EVERY_S ||
	    !__atomic_compare_exchange_n(&last, &seen, now, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	p_num(&p, KV_PG_THROTTLE_PEND_S);
	vs_err_clear(&err);
	if (run(pg, "throttle sweep", sql_sweep, &p, PGRES_COMMAND_OK, &res,
	    &err) == VS_OK)
		PQclear(res);
}

static int
check_key(const uint8_t *key, size_t klen, struct vs_err *err)
{
	if (key == NULL || klen == 0 || klen > KV_PG_THROTTLE_KEY_MAX)
		return vs_fail(err, VS_EINVAL, "throttle key of %zu bytes",
		    klen);
	return VS_OK;
}

int
kv_pg_throttle_reserve(struct kv *kv, const uint8_t *key, size_t klen,
    unsigned limit, unsigned window, enum kv_pg_throttle_verdict *v_r,
    uint8_t token_r[KV_PG_THROTTLE_TOKEN_BYTES], struct vs_err *err)
{
	static const char what[] = "cannot reserve a password check";
	struct kv_pg *pg = kvpg_of(kv);
	struct params p = { .n = 0 };
	PGresult *res;
	const unsigned char *a;
	int r, v;

	if ((r = check_key(key, klen, err)) != VS_OK)
		return r;
	if (limit == 0 || limit > 1000 || window == 0 || window > 86400 * 366)
		return vs_fail(err, VS_EINVAL, "throttle limit %u or window "
		    "%u out of range", limit, window);
	sweep(pg);
	p_bin(&p, PG_OID_BYTEA, key, klen);
	p_num(&p, limit);
	p_num(&p, window);
	p_num(&p, KV_PG_THROTTLE_PEND_S);
	if ((r = run(pg, what, sql_reserve, &p, PGRES_TUPLES_OK, &res, err)) !=
	    VS_OK)
		return r;
	if (PQntuples(res) != 1 || PQnfields(res) != 2 ||
	    PQfformat(res, 0) != 1 || PQfformat(res, 1) != 1 ||
	    PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1) ||
	    PQgetlength(res, 0, 0) != 2 ||
	    PQgetlength(res, 0, 1) != KV_PG_THROTTLE_TOKEN_BYTES) {
		PQclear(res);
		return bad_answer(what, err);
	}
	a = (const unsigned char *)PQgetvalue(res, 0, 0);
	v = a[0] << 8 | a[1];
	if (v > KV_PG_THROTTLE_BLOCKED) {
		PQclear(res);
		return bad_answer(what, err);
	}
	*v_r = (enum kv_pg_throttle_verdict)v;
	memcpy(token_r, PQgetvalue(res, 0, 1), KV_PG_THROTTLE_TOKEN_BYTES);
	PQclear(res);
	return VS_OK;
}

int
kv_pg_throttle_settle(struct kv *kv, const uint8_t *key, size_t klen,
    const uint8_t token[KV_PG_THROTTLE_TOKEN_BYTES], unsigned limit,
    unsigned window, bool failed, bool clear, bool *blocked_r,
    struct vs_err *err)
{
	static const char what[] = "cannot settle a password check";
	struct params p = { .n = 0 };
	PGresult *res;
	int r;

	if (blocked_r != NULL)
		*blocked_r = false;
	if ((r = check_key(key, klen, err)) != VS_OK)
		return r;
	if (limit == 0 || limit > 1000 || window == 0 || window > 86400 * 366)
		return vs_fail(err, VS_EINVAL, "throttle limit %u or window "
		    "%u out of range", limit, window);
	p_bin(&p, PG_OID_BYTEA, key, klen);
	p_bin(&p, PG_OID_TIMESTAMPTZ, token, KV_PG_THROTTLE_TOKEN_BYTES);
	p_num(&p, limit);
	p_num(&p, window);
	p_bool(&p, failed);
	p_bool(&p, clear);
	if ((r = run(kvpg_of(kv), what, sql_settle, &p, PGRES_TUPLES_OK, &res,
	    err)) != VS_OK)
		return r;
	/* No row: swept or cleared meanwhile - nothing to give back. */
	if (PQntuples(res) > 1 || PQnfields(res) != 1 ||
	    (PQntuples(res) == 1 && (PQfformat(res, 0) != 1 ||
	    PQgetisnull(res, 0, 0) || PQgetlength(res, 0, 0) != 1))) {
		PQclear(res);
		return bad_answer(what, err);
	}
	if (blocked_r != NULL && PQntuples(res) == 1)
		*blocked_r = PQgetvalue(res, 0, 0)[0] != 0;
	PQclear(res);
	return VS_OK;
}

int
kv_pg_throttle_clear(struct kv *kv, const uint8_t *key, size_t klen,
    bool *found_r, struct vs_err *err)
{
	struct params p = { .n = 0 };
	PGresult *res;
	const char *n;
	int r;

	if (found_r != NULL)
		*found_r = false;
	if ((r = check_key(key, klen, err)) != VS_OK)
		return r;
	p_bin(&p, PG_OID_BYTEA, key, klen);
	if ((r = run(kvpg_of(kv), "cannot clear a throttle key", sql_clear,
	    &p, PGRES_COMMAND_OK, &res, err)) != VS_OK)
		return r;
	n = PQcmdTuples(res);
	if (found_r != NULL)
		*found_r = n != NULL && n[0] != '\0' && strcmp(n, "0") != 0;
	PQclear(res);
	return VS_OK;
}
