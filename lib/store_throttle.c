/*
 * store_throttle.c - the store's side of the failed-login throttle shared
 * by the hosts of a PostgreSQL store (store.h, store_throttle_*): the
 * keyed hash that names a throttle key in the database, and the calls
 * into the backend (lib/kv_pg_throttle.h), which holds the protocol.
 *
 * Key: BLAKE2b-256 under the store's log subkey (seal_log_mac) of the
 * context "vmseal-throttle-v1", its NUL, one kind byte (1 address, 2
 * login) and the throttle key - a MAC no other use of the log subkey
 * computes (the audit chain, svc_auth_log_name's "vmseal-log-name-v1"),
 * the same on every host unsealed with the store's key, so all hosts
 * count one address (or login) in one row, and the database never holds
 * the address or the login itself.  After a rotate the hosts still
 * holding the old key count under other rows until they are unsealed
 * again (their writes are refused meanwhile anyway).
 *
 * LMDB stores (one host) share nothing: store_throttle_shared() is false
 * and the other calls are VS_EINVAL; so are they in a build without
 * libpq.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "store_int.h"
#ifdef HAVE_PQ
#include "kv_pg_throttle.h"
#endif

static const char throttle_ctx[] = "vmseal-throttle-v1";
#define THROTTLE_NAME_MAX 1024

_Static_assert(STORE_THROTTLE_KEY_BYTES == SEAL_INDEX_BYTES,
    "throttle key is a log MAC");

bool
store_throttle_shared(const struct store *st)
{
#ifdef HAVE_PQ
	return st != NULL && st->backend == STORE_BACKEND_PG && st->kv != NULL;
#else
	(void)st;
	return false;
#endif
}

int
store_throttle_key(const struct store *st, enum store_throttle_kind kind,
    const char *key, uint8_t out[STORE_THROTTLE_KEY_BYTES],
    struct vs_err *err)
{
	uint8_t msg[sizeof(throttle_ctx) + 1 + THROTTLE_NAME_MAX];
	size_t n;

	if (key == NULL || (n = strlen(key)) > THROTTLE_NAME_MAX ||
	    (kind != STORE_THROTTLE_ADDR && kind != STORE_THROTTLE_LOGIN))
		return vs_fail(err, VS_EINVAL, "invalid throttle key");
	if (st->keys == NULL)
		return vs_fail(err, VS_ESEALED, "the store is sealed");
	memcpy(msg, throttle_ctx, sizeof(throttle_ctx));
	msg[sizeof(throttle_ctx)] = (uint8_t)kind;
	memcpy(msg + sizeof(throttle_ctx) + 1, key, n);
	seal_log_mac(st->keys, msg, sizeof(throttle_ctx) + 1 + n, out);
	sodium_memzero(msg, sizeof(msg));       /* a login, an address */
	return VS_OK;
}

static int
not_shared(struct vs_err *err)
{
	return vs_fail(err, VS_EINVAL, "the throttle is shared only on a "
	    "PostgreSQL store");
}

int
store_throttle_reserve(struct store *st,
    const uint8_t k[STORE_THROTTLE_KEY_BYTES], unsigned limit,
    unsigned window, enum store_throttle_verdict *v_r,
    uint8_t token_r[STORE_THROTTLE_TOKEN_BYTES], struct vs_err *err)
{
#ifdef HAVE_PQ
	enum kv_pg_throttle_verdict v;
	int r;

	_Static_assert(STORE_THROTTLE_TOKEN_BYTES ==
	    KV_PG_THROTTLE_TOKEN_BYTES, "token size");
	if (!store_throttle_shared(st))
		return not_shared(err);
	r = kv_pg_throttle_reserve(st->kv, k, STORE_THROTTLE_KEY_BYTES, limit,
	    window, &v, token_r, err);
	if (r != VS_OK)
		return r;
	*v_r = v == KV_PG_THROTTLE_PASS ? STORE_THROTTLE_PASS :
	    v == KV_PG_THROTTLE_BUSY ? STORE_THROTTLE_BUSY :
	    STORE_THROTTLE_BLOCKED;
	return VS_OK;
#else
	(void)st; (void)k; (void)limit; (void)window; (void)v_r;
	(void)token_r;
	return not_shared(err);
#endif
}

int
store_throttle_settle(struct store *st,
    const uint8_t k[STORE_THROTTLE_KEY_BYTES],
    const uint8_t token[STORE_THROTTLE_TOKEN_BYTES], unsigned limit,
    unsigned window, bool failed, bool clear, bool *blocked_r,
    struct vs_err *err)
{
#ifdef HAVE_PQ
	if (!store_throttle_shared(st))
		return not_shared(err);
	return kv_pg_throttle_settle(st->kv, k, STORE_THROTTLE_KEY_BYTES,
	    token, limit, window, failed, clear, blocked_r, err);
#else
	(void)st; (void)k; (void)token; (void)limit; (void)window;
	(void)failed; (void)clear; (void)blocked_r;
	return not_shared(err);
#endif
}

int
store_throttle_clear(struct store *st,
    const uint8_t k[STORE_THROTTLE_KEY_BYTES], bool *found_r,
    struct vs_err *err)
{
#ifdef HAVE_PQ
	if (!store_throttle_shared(st))
		return not_shared(err);
	return kv_pg_throttle_clear(st->kv, k, STORE_THROTTLE_KEY_BYTES,
	    found_r, err);
#else
	(void)st; (void)k; (void)found_r;
	return not_shared(err);
#endif
}
