/*
 * kv_pg.h - the PostgreSQL backend of the key/value interface (kv.h),
 * for several mail hosts sharing one store.  Built when configure finds
 * libpq (HAVE_PQ in config.h); see kv_pg.c for the schema, the
 * transactions and the security stance.
 *
 * Codes beyond kv.h's:
 *   VS_EBUSY  a serialization failure or deadlock (SQLSTATE 40001, 40P01)
 *             at any statement or at commit: nothing of the transaction
 *             was committed; abort it and run it again from the start.
 *   VS_EIO    the server is unreachable, the connection was lost, or
 *             the server did not answer a statement within the answer
 *             deadline (5 s, or the environment's
 *             VMSEAL_PG_ANSWER_TIMEOUT seconds, 0 for none, read at
 *             open; the connection is then closed) - the message says
 *             which; never read as "not found".  A loss or a deadline
 *             during commit leaves its outcome unknown: the message says
 *             so.  An invalid VMSEAL_PG_ANSWER_TIMEOUT is VS_EINVAL at
 *             open.
 *   VS_EINVAL a malformed connection string (not quoted back: it may hold
 *             a password), or copy (a PostgreSQL store is backed up with
 *             pg_dump).
 */
#ifndef VS_KV_PG_H
#define VS_KV_PG_H

#include "kv.h"

/* The code a PostgreSQL transaction returns when it must be run again. */
#define KV_PG_RETRY VS_EBUSY

/* Open the store in the PostgreSQL database that conninfo names (libpq's
 * "key=value ..." form or a postgresql:// URI).  KV_OPEN_CREATE creates
 * the table if it is missing; without it a database with no vmseal table
 * is VS_ENOTFOUND.  KV_OPEN_RDONLY refuses write transactions.  conninfo
 * is copied (and wiped at close); it never appears in an error. */
int kv_pg_open(const char *conninfo, unsigned flags, struct kv **kv_r,
    struct vs_err *err);

/* The first failure of a PostgreSQL transaction (txn from kv_pg's
 * txn_begin), VS_OK when none: KV_PG_RETRY means the server's
 * transaction died of a conflict (40001, 40P01, 23505) and nothing of it
 * can commit - the store's retry (store_write) asks this, so that a
 * caller's own VS_EBUSY is never taken for a conflict. */
int kv_pg_txn_failure(const struct kv_txn *txn);

#endif
