/*
 * store_serve.c - the store's side of what a service asks of a PostgreSQL
 * store beyond transactions (store.h's store_serve, store_service_info,
 * store_hosts): a thin pass to the backend (kv_pg.h, kv_pg_listen.c),
 * which knows the cache, the listener and the hosts table.  Nothing here
 * touches a key or a record.  Without libpq (HAVE_PQ) a store is never
 * on PostgreSQL, and these answer as for LMDB.
 */
#include "config.h"

#include <string.h>

#include "store.h"
#include "store_int.h"
#ifdef HAVE_PQ
#include "kv_pg.h"
#endif

int
store_serve(struct store *st, const struct store_service *o,
    struct vs_err *err)
{
#ifdef HAVE_PQ
	struct kv_pg_service s;

	if (st->backend != STORE_BACKEND_PG)
		return VS_OK;
	s.host_name = o->host_name;
	s.answer_timeout_s = o->answer_timeout_s;
	s.cache_bytes = o->cache_bytes;
	return kv_pg_serve(st->kv, &s, err);
#else
	(void)st;
	(void)o;
	(void)err;
	return VS_OK;
#endif
}

bool
store_service_info(struct store *st, struct kv_pg_service_info *i_r)
{
#ifdef HAVE_PQ
	if (st->backend != STORE_BACKEND_PG)
		return false;
	kv_pg_service_info(st->kv, i_r);
	return true;
#else
	(void)st;
	(void)i_r;
	return false;
#endif
}

int
store_hosts(struct store *st,
    int (*cb)(void *ctx, const struct kv_pg_host *h), void *ctx,
    struct vs_err *err)
{
#ifdef HAVE_PQ
	if (st->backend == STORE_BACKEND_PG)
		return kv_pg_hosts(st->kv, cb, ctx, err);
#else
	(void)cb;
	(void)ctx;
#endif
	(void)st;
	return vs_fail(err, VS_EINVAL, "no hosts table: not a PostgreSQL "
	    "store");
}
