/*
 * kv_pg.c - the PostgreSQL backend of the key/value interface (kv.h), with
 * libpq: several mail hosts, one store.  This file holds the handle, the
 * error messages, the connection pool, the transactions, and open, close
 * and the schema; the statements (get, put, del, iter, last, count, copy)
 * and the sending of every statement within the answer deadline are in
 * kv_pg_stmt.c, and what the two share is in kv_pg_int.h.
 *
 * Schema: one table for the seven kv tables,
 *     vmseal_kv (tbl smallint, k bytea, v bytea, primary key (tbl, k))
 * in the connection's search_path, rather than one table per kv_table:
 * every statement is a fixed string with the table number as a parameter
 * (no identifier is ever built into SQL), one primary-key index serves
 * get, put, del, last and ordered iteration, and the schema is one
 * statement to create and to check.  What the database holds is what
 * kv.h says a backend sees: blind indexes and AEAD ciphertexts, and the
 * public meta entries.
 *
 * Order: PostgreSQL compares bytea as memcmp over the common length, the
 * shorter first when one is a prefix of the other (byteacmp; bytea has no
 * collation), which is exactly LMDB's default key order
 * (mdb_cmp_memn): iter and last see keys in the same order on both
 * backends.  tests/integration/kvconform.c checks it with keys of
 * different lengths holding 0x00 and 0xff.
 *
 * Transactions: each kv_txn holds one connection from a small pool (a
 * kv handle may have many transactions open at once, one per thread, as
 * LMDB allows), returned at commit or abort.  Write transactions are
 * BEGIN ISOLATION LEVEL SERIALIZABLE: concurrent writers on several hosts
 * behave as if they ran one after the other, as LMDB's single writer
 * does.  Where PostgreSQL cannot guarantee that it fails a statement or
 * the commit with SQLSTATE 40001 (serialization failure) or 40P01
 * (deadlock); a unique violation (23505) from a concurrent insert of the
 * same key is the same case.  All three return VS_EBUSY (KV_PG_RETRY in
 * kv_pg.h; kv_lmdb never returns it from a transaction), nothing is
 * committed, and the caller runs the whole transaction again.  After any
 * failed statement the server's transaction is dead: every later call on
 * the kv_txn returns the first failure's code again, and commit rolls
 * back and returns it - a failed transaction never reports success.
 * Read transactions are REPEATABLE READ, READ ONLY, and take their
 * snapshot at begin (the BEGIN is sent with a first statement), as an
 * LMDB reader does.  txn_reset ends the snapshot but keeps the
 * connection; txn_renew begins a new snapshot on it.
 *
 * Faults: a connection found dead at begin or renew (an idle one from
 * the pool, after a server restart) is replaced once by a new one
 * (nothing had been done on it); a connection lost in a transaction is
 * VS_EIO ("connection lost") and is never reused; a loss during COMMIT is
 * VS_EIO saying the outcome is unknown.  No failure is ever VS_ENOTFOUND,
 * which means only "the key is absent" (or, at open, "no vmseal table").
 * A server that does not answer (stopped, hung, or a network dropping
 * packets without a reset) never holds a caller longer than the answer
 * deadline (KV_PG_ANSWER_TIMEOUT_MS, 5 s, or VMSEAL_PG_ANSWER_TIMEOUT
 * seconds read at open; kv_pg_int.h): every statement is sent on a
 * non-blocking connection and awaited with poll() on its socket; at the
 * deadline the statement is abandoned (no PQcancel: libpq's blocks
 * without a limit), the connection closed and never reused, and the
 * call is VS_EIO "PostgreSQL did not answer within N s" - at BEGIN not
 * retried on a new connection, at COMMIT "committed or not: unknown".
 * Making a connection is bounded by connect_timeout, defaulted to 10 s
 * or the deadline when shorter (the conninfo's own wins), and TCP
 * keepalives and tcp_user_timeout are defaulted the same way
 * (kvpg_connect()).
 *
 * Security: all data travels as binary parameters and binary results,
 * every field the server returns is checked before use (kv_pg_stmt.c).
 * The conninfo may hold a password: it is never put in an error or a log,
 * it is wiped at close, and an error quotes only the primary line of
 * libpq's or the server's message with the conninfo's password (if any)
 * replaced by "***"; a conninfo libpq cannot parse is not quoted at all.
 * Server notices are dropped (the core library never writes to stderr).
 * copy (kv.h's hot backup) is refused: a PostgreSQL store is backed up
 * with pg_dump, and what pg_dump writes is as sealed as the table.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "kv.h"
#include "kv_pg.h"
#include "kv_pg_int.h"

#define KV_PG_MIN_SERVER 90500          /* INSERT ... ON CONFLICT */

static const char sql_create[] =
    "CREATE TABLE IF NOT EXISTS vmseal_kv ("
    "tbl smallint NOT NULL, k bytea NOT NULL, v bytea NOT NULL, "
    "PRIMARY KEY (tbl, k))";
static const char sql_exists[] =
    "SELECT to_regclass('vmseal_kv') IS NOT NULL";
/* The second statement takes the snapshot now, as mdb_txn_begin does;
 * one round trip for both. */
static const char sql_begin_read[] =
    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT 1";
static const char sql_begin_write[] = "BEGIN ISOLATION LEVEL SERIALIZABLE";

/* ---- messages ---- */

/* The first line of msg into out, each occurrence of the conninfo's
 * password replaced by "***", trailing spaces and dots dropped. */
static void
clean_msg(const struct kv_pg *pg, const char *msg, char *out, size_t size)
{
	const char *pw = pg != NULL ? pg->password : NULL;
	size_t pwlen = pw != NULL ? strlen(pw) : 0, o = 0;

	if (msg == NULL || *msg == '\0')
		msg = "no message from libpq";
	while (*msg != '\0' && *msg != '\n' && o + 1 < size) {
		if (pwlen > 0 && strncmp(msg, pw, pwlen) == 0) {
			const char *s = "***";

			while (*s != '\0' && o + 1 < size)
				out[o++] = *s++;
			msg += pwlen;
			continue;
		}
		out[o++] = *msg++;
	}
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '.' ||
	    out[o - 1] == '\r'))
		o--;
	out[o] = '\0';
}

/* A failure of the connection itself (no result, or libpq's own error). */
static int
conn_fail(const struct kv_pg *pg, PGconn *conn, const char *what,
    struct vs_err *err)
{
	char m[VS_ERR_MSG_MAX];

	clean_msg(pg, conn != NULL ? PQerrorMessage(conn) : NULL, m,
	    sizeof(m));
	if (conn == NULL)
		return vs_fail(err, VS_ENOMEM, "%s: out of memory", what);
	return vs_fail(err, VS_EIO, "%s: PostgreSQL connection lost: %s",
	    what, m);
}

/* A failure libpq made itself (no SQLSTATE from the server: the
 * connection broke, or memory ran out): the connection is not to be
 * trusted again. */
bool
kvpg_conn_broken(PGconn *conn, const PGresult *res)
{
	return res == NULL || PQstatus(conn) == CONNECTION_BAD ||
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL;
}

/* The VS_* code of a failed statement (res may be NULL). */
static int
result_code(PGconn *conn, const PGresult *res)
{
	const char *st = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (st == NULL)         /* libpq's own: the connection, or memory */
		return VS_EIO;
	if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
	    strcmp(st, "23505") == 0)
		return VS_EBUSY;
	if (strcmp(st, "53100") == 0)           /* disk_full */
		return VS_ELIMIT;
	if (strcmp(st, "53200") == 0)           /* out_of_memory */
		return VS_ENOMEM;
	return VS_EIO;
}

int
kvpg_result_fail(const struct kv_pg *pg, PGconn *conn, const PGresult *res,
    const char *what, struct vs_err *err)
{
	const char *primary;
	char m[VS_ERR_MSG_MAX];
	int code = result_code(conn, res);

	if (kvpg_conn_broken(conn, res))
		return conn_fail(pg, conn, what, err);
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	clean_msg(pg, primary, m, sizeof(m));
	if (code == VS_EBUSY)
		return vs_fail(err, code, "%s: conflict with a concurrent "
		    "transaction, run it again (PostgreSQL: %s)", what, m);
	return vs_fail(err, code, "%s: PostgreSQL: %s", what, m);
}

/* Drop server notices: the core library never writes to stderr. */
static void
quiet_notices(void *arg, const char *message)
{
}

/* ---- connections ---- */

int
kvpg_connect(struct kv_pg *pg, PGconn **conn_r, struct vs_err *err)
{
	/* The conninfo is expanded from "dbname" (libpq's rule for
	 * expand_dbname); what it sets overrides the defaults before it.
	 * connect_timeout bounds the making of a connection (per host): 10 s,
	 * or the answer deadline when that is shorter, so that a caller
	 * waits no longer for a new connection than for an answer; the
	 * keepalives (TCP only: libpq ignores them on a Unix socket) let the
	 * kernel find a peer gone silent under an idle pooled connection
	 * within about a minute (30 s idle, then 3 probes 10 s apart), and
	 * tcp_user_timeout (ms; a key libpq knows from 12 on: older ones
	 * refuse it, so it is left out) closes a connection whose data stays
	 * unacknowledged for 30 s. */
	static const struct { const char *key, *val; int since; } defs[] = {
		{ "connect_timeout", NULL, 0 },
		{ "fallback_application_name", "vmseal", 0 },
		{ "keepalives", "1", 0 },
		{ "keepalives_idle", "30", 0 },
		{ "keepalives_interval", "10", 0 },
		{ "keepalives_count", "3", 0 },
		{ "tcp_user_timeout", "30000", 120000 },
	};
	const char *k[sizeof(defs) / sizeof(defs[0]) + 2];
	const char *v[sizeof(defs) / sizeof(defs[0]) + 2];
	char ct[16];
	unsigned cts = pg->answer_ms / 1000;
	PGconn *conn;
	size_t i, n = 0;
	int r;

	snprintf(ct, sizeof(ct), "%u", cts > 0 && cts < 10 ? cts : 10);
	for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (PQlibVersion() >= defs[i].since) {
			k[n] = defs[i].key;
			v[n++] = defs[i].val != NULL ? defs[i].val : ct;
		}
	k[n] = "dbname";
	v[n++] = pg->conninfo;
	k[n] = NULL;
	v[n] = NULL;
	conn = PQconnectdbParams(k, v, 1);
	if (conn == NULL)
		return vs_fail(err, VS_ENOMEM, "cannot connect to PostgreSQL: "
		    "out of memory");
	if (PQstatus(conn) != CONNECTION_OK) {
		char m[VS_ERR_MSG_MAX];

		clean_msg(pg, PQerrorMessage(conn), m, sizeof(m));
		PQfinish(conn);
		return vs_fail(err, VS_EIO, "cannot connect to PostgreSQL: %s",
		    m);
	}
	PQsetNoticeProcessor(conn, quiet_notices, NULL);
	if (PQserverVersion(conn) < KV_PG_MIN_SERVER) {
		r = vs_fail(err, VS_EINVAL, "PostgreSQL server %d is too old "
		    "(9.5 or later needed)", PQserverVersion(conn));
		PQfinish(conn);
		return r;
	}
	/* Non-blocking: a statement is sent and awaited within the deadline
	 * (kvpg_exec), and PQfinish never waits to send its goodbye. */
	if (PQsetnonblocking(conn, 1) != 0) {
		char m[VS_ERR_MSG_MAX];

		clean_msg(pg, PQerrorMessage(conn), m, sizeof(m));
		PQfinish(conn);
		return vs_fail(err, VS_EIO, "cannot connect to PostgreSQL: %s",
		    m);
	}
	*conn_r = conn;
	return VS_OK;
}

PGconn *
kvpg_pool_take(struct kv_pg *pg)
{
	PGconn *c = NULL;

	pthread_mutex_lock(&pg->lock);
	if (pg->nidle > 0)
		c = pg->idle[--pg->nidle];
	pthread_mutex_unlock(&pg->lock);
	return c;
}

/* Give back a connection in a usable state, or close it. */
void
kvpg_pool_give(struct kv_pg *pg, PGconn *c)
{
	if (c == NULL)
		return;
	if (PQstatus(c) == CONNECTION_OK &&
	    PQtransactionStatus(c) == PQTRANS_IDLE) {
		pthread_mutex_lock(&pg->lock);
		if (pg->nidle < KV_PG_IDLE_MAX) {
			pg->idle[pg->nidle++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&pg->lock);
	}
	if (c != NULL)
		PQfinish(c);
}

/* ---- transactions ---- */

void
kvpg_release_lent(struct kv_pg_txn *t)
{
	size_t i;

	for (i = 0; i < t->nlent; i++)
		PQclear(t->lent[i]);
	t->nlent = 0;
	for (i = 0; i < t->ncopies; i++)
		free(t->copies[i]);
	t->ncopies = 0;
}

int
kvpg_lend_copy(struct kv_pg_txn *t, void *p, struct vs_err *err)
{
	if (t->ncopies == t->capcopies) {
		size_t cap = t->capcopies ? t->capcopies * 2 : 8;
		void **n = realloc(t->copies, cap * sizeof(*n));

		if (n == NULL) {
			free(p);
			return vs_fail(err, VS_ENOMEM, "out of memory");
		}
		t->copies = n;
		t->capcopies = cap;
	}
	t->copies[t->ncopies++] = p;
	return VS_OK;
}

int
kvpg_lend(struct kv_pg_txn *t, PGresult *res, struct vs_err *err)
{
	if (t->nlent == t->caplent) {
		size_t cap = t->caplent ? t->caplent * 2 : 8;
		PGresult **n = realloc(t->lent, cap * sizeof(*n));

		if (n == NULL) {
			PQclear(res);
			return vs_fail(err, VS_ENOMEM, "out of memory");
		}
		t->lent = n;
		t->caplent = cap;
	}
	t->lent[t->nlent++] = res;
	return VS_OK;
}

/* Record the first failure; the server's transaction is dead after it. */
int
kvpg_txn_failed(struct kv_pg_txn *t, int code, struct vs_err *err)
{
	if (t->fail_code == VS_OK) {
		t->fail_code = code;
		snprintf(t->fail_msg, sizeof(t->fail_msg), "%s",
		    err != NULL ? err->msg : vs_strstatus(code));
	}
	if (PQstatus(t->conn) == CONNECTION_BAD)
		t->lost = true;
	return code;
}

int
kv_pg_txn_failure(const struct kv_txn *txn)
{
	return ((const struct kv_pg_txn *)txn)->fail_code;
}

/* Each operation first: is the transaction usable? */
int
kvpg_txn_usable(struct kv_pg_txn *t, enum kv_table tbl, struct vs_err *err)
{
	if (t->fail_code != VS_OK)
		return vs_fail(err, t->fail_code, "transaction failed earlier: "
		    "%s", t->fail_msg);
	if (!t->active)
		return vs_fail(err, VS_EINVAL, "read transaction used while "
		    "reset (renew it first)");
	if ((int)tbl < 0 || tbl >= KV_TABLE_COUNT)
		return vs_fail(err, VS_EINVAL, "no table %d", (int)tbl);
	return VS_OK;
}

/* BEGIN on t->conn (taking or making one if needed), replacing a
 * connection found dead once: nothing had been sent on it. */
static int
server_begin(struct kv_pg_txn *t, struct vs_err *err)
{
	struct kv_pg *pg = kvpg_of(t->base.kv);
	const char *sql = t->write ? sql_begin_write : sql_begin_read;
	ExecStatusType want = t->write ? PGRES_COMMAND_OK : PGRES_TUPLES_OK;
	PGresult *res;
	bool late;
	int attempt, r;

	for (attempt = 0; attempt < 2; attempt++) {
		if (t->conn != NULL && (t->lost ||
		    PQstatus(t->conn) != CONNECTION_OK)) {
			PQfinish(t->conn);
			t->conn = NULL;
		}
		t->lost = false;
		/* the retry makes a new connection: the other idle ones
		 * may be as dead as the first */
		if (t->conn == NULL && (attempt > 0 ||
		    (t->conn = kvpg_pool_take(pg)) == NULL) &&
		    (r = kvpg_connect(pg, &t->conn, err)) != VS_OK)
			return r;
		res = kvpg_exec(pg, t->conn, sql, &late);
		if (res != NULL && PQresultStatus(res) == want) {
			PQclear(res);
			t->active = true;
			t->open = true;
			t->fail_code = VS_OK;
			return VS_OK;
		}
		/* not run again: a new connection would wait as long */
		if (late) {
			t->lost = true;
			return kvpg_late_fail(pg, "cannot begin transaction",
			    err);
		}
		if (kvpg_conn_broken(t->conn, res)) {
			t->lost = true;
			if (attempt == 0) {
				PQclear(res);
				continue;       /* a pooled connection died */
			}
		}
		r = kvpg_result_fail(pg, t->conn, res,
		    "cannot begin transaction", err);
		PQclear(res);
		/* leave the connection clean for the pool or drop it */
		if (!t->lost && PQstatus(t->conn) == CONNECTION_OK &&
		    PQtransactionStatus(t->conn) != PQTRANS_IDLE) {
			PQclear(kvpg_exec(pg, t->conn, "ROLLBACK", &late));
			if (late)
				t->lost = true;
		}
		if (PQstatus(t->conn) == CONNECTION_BAD)
			t->lost = true;
		return r;
	}
	return vs_fail(err, VS_EIO, "cannot begin transaction");
}

/* Begin: a lazy read transaction only marks itself usable (kv_pg_int.h:
 * its connection and snapshot come when a statement needs them). */
static int
txn_start(struct kv_pg_txn *t, struct vs_err *err)
{
	if (!t->lazy)
		return server_begin(t, err);
	t->active = true;
	t->open = false;
	t->fail_code = VS_OK;
	return VS_OK;
}

int
kvpg_lazy_conn(struct kv_pg_txn *t, bool fresh, struct vs_err *err)
{
	struct kv_pg *pg = kvpg_of(t->base.kv);

	if (t->conn != NULL && (fresh || t->lost ||
	    PQstatus(t->conn) != CONNECTION_OK)) {
		PQfinish(t->conn);
		t->conn = NULL;
	}
	t->lost = false;
	if (t->conn == NULL && (fresh || (t->conn = kvpg_pool_take(pg)) ==
	    NULL))
		return kvpg_connect(pg, &t->conn, err);
	return VS_OK;
}

int
kvpg_lazy_open(struct kv_pg_txn *t, struct vs_err *err)
{
	int r;

	if (t->open)
		return VS_OK;
	if (t->fail_code != VS_OK)
		return vs_fail(err, t->fail_code, "transaction failed earlier: "
		    "%s", t->fail_msg);
	if ((r = kvpg_db_down(kvpg_of(t->base.kv), err)) != VS_OK)
		return kvpg_txn_failed(t, r, err);
	if ((r = server_begin(t, err)) != VS_OK)
		return kvpg_txn_failed(t, r, err);
	return VS_OK;
}

/* End the server's transaction with ROLLBACK (errors ignored: a broken
 * connection is marked and dropped). */
static void
txn_rollback(struct kv_pg_txn *t)
{
	bool late = false;

	if (t->conn != NULL && !t->lost && PQstatus(t->conn) == CONNECTION_OK &&
	    PQtransactionStatus(t->conn) != PQTRANS_IDLE)
		PQclear(kvpg_exec(kvpg_of(t->base.kv), t->conn, "ROLLBACK",
		    &late));
	if (late)
		t->lost = true;
	if (t->conn != NULL && PQstatus(t->conn) != CONNECTION_OK)
		t->lost = true;
	t->active = false;
	t->open = false;
}

static void
txn_free(struct kv_pg_txn *t)
{
	struct kv_pg *pg = kvpg_of(t->base.kv);

	kvpg_release_lent(t);
	free(t->lent);
	free(t->copies);
	if (t->conn != NULL) {
		if (t->lost)
			PQfinish(t->conn);
		else
			kvpg_pool_give(pg, t->conn);
	}
	free(t);
}

static int
p_txn_begin(struct kv *kv, bool write, struct kv_txn **txn_r,
    struct vs_err *err)
{
	struct kv_pg_txn *t;
	int r;

	if (write && (kvpg_of(kv)->flags & KV_OPEN_RDONLY))
		return vs_fail(err, VS_EINVAL, "store opened read-only");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	t->base.kv = kv;
	t->write = write;
	t->lazy = !write && kvpg_of(kv)->cache != NULL;
	kvpg_notify_init(&t->changed);
	if ((r = txn_start(t, err)) != VS_OK) {
		txn_free(t);
		return r;
	}
	*txn_r = &t->base;
	return VS_OK;
}

/* Before COMMIT: tell the other hosts' caches what changed, in the same
 * transaction (PostgreSQL delivers it only if the commit succeeds, to
 * every session listening then). */
static int
send_notify(struct kv_pg_txn *t, struct vs_err *err)
{
	struct kv_pg *pg = kvpg_of(t->base.kv);
	const char *vals[2] = { KVPG_NOTIFY_CHANNEL,
	    kvpg_notify_text(&t->changed) };
	PGresult *res;
	bool late;
	int r = VS_OK;

	if (!t->write || vals[1] == NULL)
		return VS_OK;
	res = kvpg_exec_params(pg, t->conn, "SELECT pg_notify($1, $2)", 2,
	    NULL, vals, NULL, NULL, 0, &late);
	if (late) {
		t->lost = true;
		r = kvpg_late_fail(pg, "cannot commit (notification)", err);
	} else if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = kvpg_result_fail(pg, t->conn, res, "cannot commit "
		    "(notification)", err);
		if (kvpg_conn_broken(t->conn, res))
			t->lost = true;
	}
	PQclear(res);
	return r;
}

static int
p_txn_commit(struct kv_txn *txn, struct vs_err *err)
{
	struct kv_pg_txn *t = kvpg_txn_of(txn);
	struct kv_pg *pg = kvpg_of(txn->kv);
	PGresult *res;
	bool late;
	int r = VS_OK;

	kvpg_release_lent(t);
	if (t->fail_code != VS_OK) {
		r = vs_fail(err, t->fail_code, "nothing committed: %s",
		    t->fail_msg);
		txn_rollback(t);
	} else if (!t->active || !t->open) {
		r = VS_OK;      /* reset, or lazy and never begun: nothing open */
	} else if ((r = send_notify(t, err)) != VS_OK) {
		txn_rollback(t);
	} else {
		res = kvpg_exec(pg, t->conn, "COMMIT", &late);
		if (late) {
			t->lost = true;
			r = vs_fail(err, VS_EIO, "PostgreSQL did not answer "
			    "within %u s during commit (committed or not: "
			    "unknown; connection closed)", pg->answer_ms / 1000);
		} else if (res == NULL ||
		    PQresultStatus(res) != PGRES_COMMAND_OK) {
			if (kvpg_conn_broken(t->conn, res)) {
				char m[VS_ERR_MSG_MAX];

				t->lost = true;
				clean_msg(pg, PQerrorMessage(t->conn), m,
				    sizeof(m));
				r = vs_fail(err, VS_EIO, "PostgreSQL connection "
				    "lost during commit (committed or not: "
				    "unknown): %s", m);
			} else {
				r = kvpg_result_fail(pg, t->conn, res,
				    "cannot commit transaction", err);
			}
		} else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
			/* the server rolled back a transaction in error */
			r = vs_fail(err, VS_EIO, "cannot commit transaction: "
			    "PostgreSQL answered %s", PQcmdStatus(res));
		}
		PQclear(res);
		if (PQstatus(t->conn) != CONNECTION_OK)
			t->lost = true;
		else if (!t->lost &&
		    PQtransactionStatus(t->conn) != PQTRANS_IDLE)
			txn_rollback(t);
	}
	/* This host's cache forgets at once what this commit changed (or
	 * may have: an unknown outcome, a failure - forgetting is never
	 * wrong); the others hear it from the notification. */
	if (pg->cache != NULL && kvpg_notify_text(&t->changed) != NULL)
		kvpg_cache_apply(pg->cache, kvpg_notify_text(&t->changed));
	txn_free(t);
	return r;
}

static void
p_txn_abort(struct kv_txn *txn)
{
	struct kv_pg_txn *t = kvpg_txn_of(txn);

	kvpg_release_lent(t);
	txn_rollback(t);
	txn_free(t);
}

static void
p_txn_reset(struct kv_txn *txn)
{
	struct kv_pg_txn *t = kvpg_txn_of(txn);

	if (t->write)
		return;
	kvpg_release_lent(t);
	txn_rollback(t);
}

static int
p_txn_renew(struct kv_txn *txn, struct vs_err *err)
{
	struct kv_pg_txn *t = kvpg_txn_of(txn);

	if (t->write)
		return vs_fail(err, VS_EINVAL, "a write transaction cannot be "
		    "renewed");
	if (t->active)
		return vs_fail(err, VS_EINVAL, "read transaction not reset");
	return txn_start(t, err);
}

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

static void
p_close(struct kv *kv)
{
	struct kv_pg *pg = kvpg_of(kv);
	size_t i;

	kvpg_serve_stop(pg);
	for (i = 0; i < pg->nidle; i++)
		PQfinish(pg->idle[i]);
	pthread_mutex_destroy(&pg->lock);
	wipe_free(pg->conninfo);
	wipe_free(pg->password);
	free(pg);
}

static const struct kv_ops pg_ops = {
	.txn_begin = p_txn_begin,
	.txn_commit = p_txn_commit,
	.txn_abort = p_txn_abort,
	.txn_reset = p_txn_reset,
	.txn_renew = p_txn_renew,
	.get = kvpg_get,
	.put = kvpg_put,
	.del = kvpg_del,
	.iter = kvpg_iter,
	.last = kvpg_last,
	.count = kvpg_count,
	.copy = kvpg_copy,
	.close = p_close,
};

/* The conninfo's password (or NULL), so that messages can hide it. */
static int
find_password(const char *conninfo, char **pw_r, struct vs_err *err)
{
	PQconninfoOption *opts, *o;
	char *msg = NULL;

	*pw_r = NULL;
	/* a bare database name (libpq takes it as dbname): no password */
	if (strchr(conninfo, '=') == NULL &&
	    strncmp(conninfo, "postgresql://", 13) != 0 &&
	    strncmp(conninfo, "postgres://", 11) != 0)
		return VS_OK;
	opts = PQconninfoParse(conninfo, &msg);
	if (opts == NULL) {
		/* libpq's message quotes the string: it may hold a password */
		if (msg != NULL) {
			sodium_memzero(msg, strlen(msg));
			PQfreemem(msg);
			return vs_fail(err, VS_EINVAL, "invalid PostgreSQL "
			    "connection string (libpq's message not shown: it "
			    "may quote a password)");
		}
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0' && (*pw_r = strdup(o->val)) == NULL) {
			PQconninfoFree(opts);
			return vs_fail(err, VS_ENOMEM, "out of memory");
		}
	}
	for (o = opts; o->keyword != NULL; o++)
		if (o->val != NULL)
			sodium_memzero(o->val, strlen(o->val));
	PQconninfoFree(opts);
	return VS_OK;
}

/* The answer deadline: KV_PG_ANSWER_ENV's whole seconds (0: none), or
 * KV_PG_ANSWER_TIMEOUT_MS.  The value is not quoted back. */
static int
answer_timeout(unsigned *ms_r, struct vs_err *err)
{
	const char *v = getenv(KV_PG_ANSWER_ENV);
	unsigned s = 0;
	size_t i;

	*ms_r = KV_PG_ANSWER_TIMEOUT_MS;
	if (v == NULL || *v == '\0')
		return VS_OK;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] < '0' || v[i] > '9' || i >= 4)
			goto bad;
		s = s * 10 + (unsigned)(v[i] - '0');
	}
	if (s > KV_PG_ANSWER_MAX_S)
		goto bad;
	*ms_r = s * 1000;
	return VS_OK;
bad:
	return vs_fail(err, VS_EINVAL, "%s must be a whole number of seconds "
	    "from 0 (no limit) to %d", KV_PG_ANSWER_ENV, KV_PG_ANSWER_MAX_S);
}

/* Create the table, or check that it is there. */
static int
schema(struct kv_pg *pg, PGconn *conn, struct vs_err *err)
{
	PGresult *res;
	bool late;
	int r = VS_OK;

	if (pg->flags & KV_OPEN_CREATE) {
		res = kvpg_exec(pg, conn, sql_create, &late);
		if (late)
			r = kvpg_late_fail(pg, "cannot create the vmseal table",
			    err);
		else if (res == NULL ||
		    PQresultStatus(res) != PGRES_COMMAND_OK)
			r = kvpg_result_fail(pg, conn, res, "cannot create the "
			    "vmseal table", err);
		PQclear(res);
		return r;
	}
	res = kvpg_exec_params(pg, conn, sql_exists, 0, NULL, NULL, NULL, NULL,
	    0, &late);
	if (late)
		r = kvpg_late_fail(pg, "cannot open store", err);
	else if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		r = kvpg_result_fail(pg, conn, res, "cannot open store", err);
	else if (PQntuples(res) != 1 || PQnfields(res) != 1 ||
	    PQgetisnull(res, 0, 0))
		r = vs_fail(err, VS_ECORRUPT, "cannot open store: unexpected "
		    "answer from PostgreSQL");
	else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		r = vs_fail(err, VS_ENOTFOUND, "no vmseal store in this "
		    "PostgreSQL database (run vmseal init)");
	PQclear(res);
	return r;
}

int
kv_pg_open(const char *conninfo, unsigned flags, struct kv **kv_r,
    struct vs_err *err)
{
	struct kv_pg *pg;
	PGconn *conn = NULL;
	int r;

	if (conninfo == NULL)
		return vs_fail(err, VS_EINVAL, "no PostgreSQL connection "
		    "string");
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	pg->kv.ops = &pg_ops;
	pg->flags = flags;
	if (pthread_mutex_init(&pg->lock, NULL) != 0) {
		free(pg);
		return vs_fail(err, VS_ENOMEM, "cannot make a mutex");
	}
	if ((pg->conninfo = strdup(conninfo)) == NULL) {
		r = vs_fail(err, VS_ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = answer_timeout(&pg->answer_ms, err)) != VS_OK ||
	    (r = find_password(conninfo, &pg->password, err)) != VS_OK ||
	    (r = kvpg_connect(pg, &conn, err)) != VS_OK ||
	    (r = schema(pg, conn, err)) != VS_OK)
		goto fail;
	kvpg_pool_give(pg, conn);
	*kv_r = &pg->kv;
	return VS_OK;
fail:
	if (conn != NULL)
		PQfinish(conn);
	p_close(&pg->kv);
	return r;
}
