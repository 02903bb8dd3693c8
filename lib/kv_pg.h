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

/* What a service (vmsealed) asks of its handle beyond transactions
 * (kv_pg_listen.c): the read cache kept by a listener thread
 * (cache_bytes 0: none), this host's row in the hosts table (host_name
 * NULL or "": none; printable ASCII, no spaces, at most 63 characters),
 * the answer deadline (answer_timeout_s -1: keep the one read at open).
 * Once per handle, before its transactions begin; kv_close stops it. */
struct kv_pg_service {
	const char *host_name;
	int answer_timeout_s;
	size_t cache_bytes;
};
int kv_pg_serve(struct kv *kv, const struct kv_pg_service *o,
    struct vs_err *err);

#include "kv_pg_cache.h"

struct kv_pg_service_info {
	char host_name[64];
	unsigned answer_timeout_s;
	bool cache_on;                  /* a cache was asked for */
	struct kvpg_cache_stats cache;  /* .live: in use now */
	char listener[VS_ERR_MSG_MAX];  /* "listening", or the last failure */
};
void kv_pg_service_info(struct kv *kv, struct kv_pg_service_info *i_r);

/* The hosts table, one row at a time (cb returns non-zero to stop):
 * VS_ENOTFOUND when no host ever wrote it; a failure otherwise. */
struct kv_pg_host {
	char name[64];
	long pid;
	long long seen_ago_s;           /* by the database's clock */
	long long up_s;
	bool self;                      /* this handle's host_name */
};
typedef int kv_pg_host_cb(void *ctx, const struct kv_pg_host *h);
int kv_pg_hosts(struct kv *kv, kv_pg_host_cb *cb, void *ctx,
    struct vs_err *err);

#endif
