/*
 * kv_pg_throttle.h - the failed-login throttle that the hosts of one
 * PostgreSQL store share: a table vmseal_throttle beside vmseal_kv, one
 * row per throttle key (a keyed hash made by the caller: the database
 * never sees an address or a login), one atomic statement per step.
 * Built with libpq only (HAVE_PQ); lib/store_throttle.c is its caller
 * (store.h's store_throttle_*), and the semantics are lib/throttle.h's,
 * with the database's clock:
 *   - a key holds its newest `limit` failures and the checks in flight
 *     (reservations, each a time stamp of the database: its token);
 *   - reserve: blocked (a failure brought the failures in the window to
 *     `limit`, and the last failure or refusal is in the window) -
 *     refused, and the refusal counts as a failure; else failures in the
 *     window plus checks in flight at `limit` - busy, nothing counted;
 *     else a check in flight is added and its token returned;
 *   - settle: the check in flight with that token is removed (exactly
 *     one); a failure is added as a hit (and may trip the key); clear
 *     forgets the key's failures (a login's success);
 *   - a check in flight older than KV_PG_THROTTLE_PEND_S seconds (its
 *     host died, or lost the database, between reserve and settle) no
 *     longer counts.
 *
 * The table is created (CREATE TABLE IF NOT EXISTS) at the first
 * statement that finds it missing; rows untouched for longer than their
 * window are deleted now and then (at most every 10 minutes per process).
 * Every statement runs alone (autocommit) on a connection of the
 * handle's pool, within the handle's answer deadline: a server that does
 * not answer is VS_EIO, never a verdict.
 *
 * Security: the key is the caller's keyed hash (at most
 * KV_PG_THROTTLE_KEY_MAX bytes); parameters and results travel in binary
 * and are checked (columns, NULL, lengths) before use.  What the database
 * administrator learns: how many distinct keys failed, when, and how
 * often - not which address or login.
 */
#ifndef VS_KV_PG_THROTTLE_H
#define VS_KV_PG_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "vs_err.h"

#define KV_PG_THROTTLE_KEY_MAX 64
#define KV_PG_THROTTLE_TOKEN_BYTES 8
#define KV_PG_THROTTLE_PEND_S 60        /* a check in flight expires */

enum kv_pg_throttle_verdict {
	KV_PG_THROTTLE_PASS = 0,        /* reserved: settle it */
	KV_PG_THROTTLE_BUSY = 1,        /* checks in flight: nothing counted */
	KV_PG_THROTTLE_BLOCKED = 2,     /* refused, counted as a failure */
};

/* Reserve a check for key (klen bytes) under limit failures per window
 * seconds (both > 0).  *v_r the verdict; on PASS token_r the
 * reservation's token.  kv must be a PostgreSQL handle. */
int kv_pg_throttle_reserve(struct kv *kv, const uint8_t *key, size_t klen,
    unsigned limit, unsigned window, enum kv_pg_throttle_verdict *v_r,
    uint8_t token_r[KV_PG_THROTTLE_TOKEN_BYTES], struct vs_err *err);
/* Settle the reservation token of key: failed, a failure at the
 * database's now; clear, the key's failures forgotten (a login's
 * success; the address's never).  *blocked_r (may be NULL): the key is
 * blocked after it. */
int kv_pg_throttle_settle(struct kv *kv, const uint8_t *key, size_t klen,
    const uint8_t token[KV_PG_THROTTLE_TOKEN_BYTES], unsigned limit,
    unsigned window, bool failed, bool clear, bool *blocked_r,
    struct vs_err *err);
/* Forget key ("vmseal throttle clear"): its failures and its checks in
 * flight.  *found_r (may be NULL): there was a row. */
int kv_pg_throttle_clear(struct kv *kv, const uint8_t *key, size_t klen,
    bool *found_r, struct vs_err *err);

#endif
