/*
 * kv_pg_int.h - what kv_pg.c (the handle, messages, connection pool,
 * transactions, open, close, schema) and kv_pg_stmt.c (the statements)
 * share; not for other modules, which use kv_pg.h (and kv.h) only.
 * kvpg_ is its prefix.  Security: the handle holds the conninfo and its
 * password (wiped at close); the server's messages reach an error only
 * through kvpg_result_fail(), which hides that password.
 */
#ifndef VS_KV_PG_INT_H
#define VS_KV_PG_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "kv.h"
#include "kv_pg_cache.h"
#include "vs_err.h"

#define KV_PG_IDLE_MAX 16               /* idle connections kept */

/* The answer deadline: how long a statement (BEGIN, COMMIT, ROLLBACK,
 * get, put, ...) may wait for the server's answer before the connection
 * is given up (VS_EIO "did not answer within N s", the connection closed
 * and never reused).  The default, unless the environment variable
 * KV_PG_ANSWER_ENV holds a whole number of seconds from 0 (no deadline:
 * wait as long as the server takes) to KV_PG_ANSWER_MAX_S, read at open.
 * Every statement vmseal sends is one index lookup or one page of 512
 * rows, answered in milliseconds: 5 s is room for a loaded server, short
 * enough that vmsealed, which waits in its main thread, answers TEMP
 * rather than freezing when the server hangs. */
#define KV_PG_ANSWER_TIMEOUT_MS 5000
#define KV_PG_ANSWER_ENV "VMSEAL_PG_ANSWER_TIMEOUT"
#define KV_PG_ANSWER_MAX_S 3600

struct kv_pg {
	struct kv kv;
	unsigned flags;
	char *conninfo;                 /* may hold a password: wiped */
	char *password;                 /* the conninfo's, for stripping */
	unsigned answer_ms;             /* the answer deadline, 0: none */
	pthread_mutex_t lock;           /* guards idle[] */
	PGconn *idle[KV_PG_IDLE_MAX];
	size_t nidle;
	/* kv_pg_listen.c (kv_pg_serve): the read cache and its listener */
	bool serving;
	struct kvpg_cache *cache;       /* NULL: reads go to the database */
	pthread_t listener;
	int stop_pipe[2];
	char host_name[64];
	bool hosts_ok;                  /* the hosts table is there */
	long long started;
	char listen_msg[VS_ERR_MSG_MAX]; /* under lock */
	/* The listener found the database not answering (under lock): a
	 * lazy read transaction's statement then fails at once (VS_EIO,
	 * naming listen_msg) instead of waiting for the answer deadline
	 * itself, until the listener is through again (kvpg_db_down). */
	bool down;
};

struct kv_pg_txn {
	struct kv_txn base;
	PGconn *conn;
	bool write;
	bool active;                    /* a BEGIN is open on conn */
	bool lost;                      /* conn is broken: never reused */
	int fail_code;                  /* first failure, VS_OK if none */
	char fail_msg[VS_ERR_MSG_MAX];
	unsigned long writes;           /* writes so far (for iter) */
	/* Read transactions of a handle with a cache begin lazily: no
	 * server transaction (open false) until a statement needs a
	 * snapshot (iter, last, count, a table the cache does not keep);
	 * gets of kept tables are answered by the cache, or on a miss by
	 * one statement outside any transaction. */
	bool lazy;
	bool late;                      /* the last statement missed the deadline */
	bool open;                      /* a BEGIN was sent and not ended */
	struct kvpg_notify changed;     /* write: keys to invalidate */
	void **copies;                  /* cache copies lent out */
	size_t ncopies, capcopies;
	PGresult **lent;                /* results whose bytes are lent out */
	size_t nlent, caplent;
};

static inline struct kv_pg *
kvpg_of(struct kv *kv)
{
	return (struct kv_pg *)kv;
}

static inline struct kv_pg_txn *
kvpg_txn_of(struct kv_txn *txn)
{
	return (struct kv_pg_txn *)txn;
}

/* kv_pg.c: messages.  A failure libpq made itself (no SQLSTATE from the
 * server): the connection is not to be trusted again. */
bool kvpg_conn_broken(PGconn *conn, const PGresult *res);
/* A failed statement (res may be NULL) as a VS_* code and message, the
 * server quoted with the conninfo's password hidden. */
int kvpg_result_fail(const struct kv_pg *pg, PGconn *conn,
    const PGresult *res, const char *what, struct vs_err *err);

/* kv_pg_stmt.c: a statement sent and its answer awaited within the handle's
 * deadline (pg->answer_ms), on a connection in non-blocking mode.  As
 * PQexec (kvpg_exec: the simple protocol, several statements allowed)
 * and PQexecParams (kvpg_exec_params) answer: the last result, or NULL
 * when nothing could be sent (a libpq failure: the connection is not to
 * be trusted).  NULL with *late_r set: the server did not answer in
 * time; the statement may still run there, the connection is in the
 * middle of it and must be closed (never reused) - kvpg_late_fail()
 * gives the message. */
/* kv_pg_stmt.c: the monotonic clock in milliseconds (deadlines). */
int64_t kvpg_now_ms(void);
PGresult *kvpg_exec(const struct kv_pg *pg, PGconn *conn, const char *sql,
    bool *late_r);
PGresult *kvpg_exec_params(const struct kv_pg *pg, PGconn *conn,
    const char *sql, int n, const Oid *types, const char *const *vals,
    const int *lens, const int *fmts, int result_fmt, bool *late_r);
int kvpg_late_fail(const struct kv_pg *pg, const char *what,
    struct vs_err *err);

/* kv_pg.c: connections.  kvpg_connect makes a new one (non-blocking,
 * with vmseal's defaults for timeouts and keepalives, the server's
 * version checked); kvpg_pool_take takes an idle one (NULL when none),
 * kvpg_pool_give gives one back (kept only when usable and idle, else
 * closed; NULL allowed).  Whoever takes a connection owns it until it
 * gives it back or closes it with PQfinish (after a deadline passed or a
 * libpq failure: never give back a connection in an unknown state). */
int kvpg_connect(struct kv_pg *pg, PGconn **conn_r, struct vs_err *err);
PGconn *kvpg_pool_take(struct kv_pg *pg);
void kvpg_pool_give(struct kv_pg *pg, PGconn *c);

/* kv_pg_listen.c: stop the listener (kv_close). */
void kvpg_serve_stop(struct kv_pg *pg);
/* kv_pg_listen.c: VS_OK, or VS_EIO when the listener found the database
 * not answering (its message in err): for lazy read transactions, before
 * any statement. */
int kvpg_db_down(struct kv_pg *pg, struct vs_err *err);

/* kv_pg.c: a lazy read transaction's connection (taken or made; no
 * BEGIN), and its snapshot (BEGIN, when not yet open). */
int kvpg_lazy_conn(struct kv_pg_txn *t, bool fresh, struct vs_err *err);
int kvpg_lazy_open(struct kv_pg_txn *t, struct vs_err *err);
/* Lend a malloc'd copy (freed with the loans); frees it on failure. */
int kvpg_lend_copy(struct kv_pg_txn *t, void *p, struct vs_err *err);

/* kv_pg.c: transactions.  The results whose bytes are lent out (get,
 * last, iter) are kept until kvpg_release_lent(). */
void kvpg_release_lent(struct kv_pg_txn *t);
int kvpg_lend(struct kv_pg_txn *t, PGresult *res, struct vs_err *err);
/* Record the first failure (the server's transaction is dead after it);
 * returns code. */
int kvpg_txn_failed(struct kv_pg_txn *t, int code, struct vs_err *err);
/* Each operation first: is the transaction usable, tbl a table? */
int kvpg_txn_usable(struct kv_pg_txn *t, enum kv_table tbl,
    struct vs_err *err);

/* kv_pg_stmt.c: the statements, as struct kv_ops (kv.h) wants them. */
int kvpg_get(struct kv_txn *txn, enum kv_table tbl, const void *key,
    size_t klen, struct kv_val *val_r, struct vs_err *err);
int kvpg_put(struct kv_txn *txn, enum kv_table tbl, const void *key,
    size_t klen, const void *val, size_t vlen, bool no_overwrite,
    struct vs_err *err);
int kvpg_del(struct kv_txn *txn, enum kv_table tbl, const void *key,
    size_t klen, struct vs_err *err);
int kvpg_iter(struct kv_txn *txn, enum kv_table tbl, kv_iter_cb *cb,
    void *ctx, struct vs_err *err);
int kvpg_last(struct kv_txn *txn, enum kv_table tbl, struct kv_val *key_r,
    struct vs_err *err);
int kvpg_count(struct kv_txn *txn, enum kv_table tbl, size_t *n_r,
    struct vs_err *err);
int kvpg_copy(struct kv *kv, int fd, struct vs_err *err);

#endif
