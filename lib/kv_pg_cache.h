/*
 * kv_pg_cache.h - the read cache of the PostgreSQL backend: sealed records
 * kept in memory by (table, key), and the parser of the invalidation
 * messages (NOTIFY payloads) that other writers send at every commit.
 * kvpg_cache_ is its prefix.  Pure: no libpq, no thread of its own (the
 * listener that feeds it is kv_pg_listen.c), so that unit tests and the
 * fuzzer reach it without a server.
 *
 * What is cached: the bytes the database holds - blind indexes and AEAD
 * ciphertexts of the domains, users, addresses and aliases tables - or
 * the fact that a key is absent.  Nothing is decrypted here; a cached
 * record is opened and checked by the store at every use exactly as one
 * read from the database.  The cache therefore holds nothing the database
 * does not, and a record changed in it is refused by the store as one
 * changed in the table would be.
 *
 * Consistency: every change is an invalidation (forget one key, or flush
 * all), and each bumps the cache's epoch.  A reader that missed takes the
 * epoch before it asks the database and puts the answer only if the epoch
 * is still the same (kvpg_cache_put): an answer read before a commit whose
 * invalidation has meanwhile arrived is never cached.  While the cache is
 * not live (the listener lost its connection, or none was made yet)
 * nothing is found and nothing kept: every read goes to the database.
 *
 * Memory: at most max_bytes of entries (key, value and about 64 bytes of
 * bookkeeping each); beyond that new answers are not kept (the next flush
 * starts over).  Locking: one mutex; every call is thread-safe.
 *
 * Payloads (the NOTIFY channel's text, made by kvpg_notify_format and read
 * by kvpg_notify_parse, at most KVPG_NOTIFY_MAX bytes): "*" (flush all),
 * or "v1" followed by entries " T:HEX" - T the table number (1 to 4:
 * domains, users, addresses, aliases), HEX the key in lower-case hex, at
 * most KV_PG_CACHE_KEY_MAX bytes.  A payload that is anything else
 * (written by hand, cut, from another program) means "flush all": the safe
 * reading of a message that cannot be read.
 */
#ifndef VS_KV_PG_CACHE_H
#define VS_KV_PG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "vs_err.h"

#define KV_PG_CACHE_KEY_MAX 64          /* blind indexes are 32 bytes */
#define KVPG_NOTIFY_MAX 7900            /* PostgreSQL allows 8000 */
#define KVPG_NOTIFY_CHANNEL "vmseal_kv"

struct kvpg_cache;

enum kvpg_cache_found {
	KVPG_CACHE_MISS = 0,    /* ask the database */
	KVPG_CACHE_HIT,         /* *val_r: a copy the caller frees */
	KVPG_CACHE_ABSENT,      /* the key is absent (VS_ENOTFOUND) */
};

struct kvpg_cache_stats {
	bool live;
	uint64_t hits, absent_hits, misses, kept, not_kept;
	uint64_t invalidations, flushes;
	size_t entries, bytes, max_bytes;
};

/* Is table t one the cache keeps? */
bool kvpg_cache_table(enum kv_table t);

int kvpg_cache_new(size_t max_bytes, struct kvpg_cache **c_r,
    struct vs_err *err);
/* Free the cache (its values wiped) and set *c to NULL; NULL allowed. */
void kvpg_cache_free(struct kvpg_cache **c);

/* Look key up.  On a miss *epoch_r is the epoch to give kvpg_cache_put
 * with the database's answer.  A HIT's copy is malloc'd (the caller frees
 * it); when that allocation fails the answer is a MISS. */
enum kvpg_cache_found kvpg_cache_get(struct kvpg_cache *c, enum kv_table t,
    const void *key, size_t klen, void **val_r, size_t *vlen_r,
    uint64_t *epoch_r);
/* Keep the database's answer (val NULL: absent) unless an invalidation
 * came since epoch, the cache is not live, the table or key is not one
 * kept, or the cache is full.  The value is copied. */
void kvpg_cache_put(struct kvpg_cache *c, enum kv_table t, const void *key,
    size_t klen, const void *val, size_t vlen, uint64_t epoch);
/* Invalidations. */
void kvpg_cache_forget(struct kvpg_cache *c, enum kv_table t,
    const void *key, size_t klen);
void kvpg_cache_flush(struct kvpg_cache *c);
/* Live: answers are kept and found.  Not live: flushed, nothing found. */
void kvpg_cache_set_live(struct kvpg_cache *c, bool live);
/* The epoch now (for a reader that takes its answers from a snapshot it
 * begins after this call, and whose later invalidations it is sure to
 * receive after its puts: the listener's warm-up). */
uint64_t kvpg_cache_epoch(struct kvpg_cache *c);
void kvpg_cache_stats(struct kvpg_cache *c, struct kvpg_cache_stats *s_r);

/* Apply a payload: forget its keys, or flush all (see above).  Returns
 * the number of keys forgotten, or -1 for a flush. */
int kvpg_cache_apply(struct kvpg_cache *c, const char *payload);

/* The parser alone: calls cb for each key of a "v1" payload, in order,
 * and returns their number; -1 (after no call or some calls: the caller
 * flushes anyway) when the payload is "*" or cannot be read. */
typedef void kvpg_notify_cb(void *ctx, enum kv_table t, const uint8_t *key,
    size_t klen);
int kvpg_notify_parse(const char *payload, kvpg_notify_cb *cb, void *ctx);

/* A payload being made: kvpg_notify_add() each changed key (of a table
 * kept); a key of a table not kept is ignored; when the payload would
 * grow beyond KVPG_NOTIFY_MAX it becomes "*". */
struct kvpg_notify {
	char text[KVPG_NOTIFY_MAX + 1];
	size_t len;             /* 0: nothing to say yet */
	bool all;
};
void kvpg_notify_init(struct kvpg_notify *n);
void kvpg_notify_add(struct kvpg_notify *n, enum kv_table t,
    const void *key, size_t klen);
/* The text to send, NULL when nothing changed that a cache keeps. */
const char *kvpg_notify_text(const struct kvpg_notify *n);

#endif
