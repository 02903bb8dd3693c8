/*
 * kv.h - the narrow key/value interface under the crypto layer.
 *
 * The store (store.c) sees tables of opaque keys and opaque values and
 * nothing else: no LMDB type crosses this line.  A backend provides one
 * struct kv_ops; kv_lmdb.c is the first.  A second one (a shared SQL
 * database for several mail hosts) implements the same few calls.
 *
 * Everything that reaches a backend is already sealed: keys are blind
 * indexes or fixed meta names, values are AEAD ciphertexts, except the
 * meta table's format number, store id and keyslots (which are public by
 * design; a keyslot is itself an AEAD ciphertext).
 *
 * Ownership: a struct kv_val returned by get or passed to an iterator
 * points into backend memory; it is valid until the next write in the same
 * transaction or the end of the transaction, whichever comes first.  Copy
 * what must live longer.  txn_commit and txn_abort free the transaction.
 */
#ifndef VS_KV_H
#define VS_KV_H

#include <stdbool.h>
#include <stddef.h>

#include "vs_err.h"

enum kv_table {
	KV_META = 0,
	KV_DOMAINS,
	KV_USERS,
	KV_ADDRESSES,
	KV_ALIASES,
	KV_EVENTS,
	KV_AUDIT,
	KV_TABLE_COUNT
};

struct kv_val {
	const void *data;
	size_t len;
};

struct kv;
struct kv_txn;

/* Iterator callback: return 0 to go on, anything else to stop; that value
 * is returned by iter(). */
typedef int kv_iter_cb(void *ctx, const struct kv_val *key,
    const struct kv_val *val);

struct kv_ops {
	int (*txn_begin)(struct kv *kv, bool write, struct kv_txn **txn_r,
	    struct vs_err *err);
	int (*txn_commit)(struct kv_txn *txn, struct vs_err *err);
	void (*txn_abort)(struct kv_txn *txn);
	/* Read-only transactions only: release the snapshot but keep the
	 * handle (and its reader slot) for txn_renew, which starts a new
	 * snapshot on it - cheaper than abort and begin for a reader that
	 * reads in short bursts.  txn_abort frees a reset transaction. */
	void (*txn_reset)(struct kv_txn *txn);
	int (*txn_renew)(struct kv_txn *txn, struct vs_err *err);
	/* VS_ENOTFOUND when absent (a definite "no"); other codes are
	 * failures and must never be read as "not found". */
	int (*get)(struct kv_txn *txn, enum kv_table t, const void *key,
	    size_t klen, struct kv_val *val_r, struct vs_err *err);
	/* VS_EEXIST when no_overwrite and the key exists. */
	int (*put)(struct kv_txn *txn, enum kv_table t, const void *key,
	    size_t klen, const void *val, size_t vlen, bool no_overwrite,
	    struct vs_err *err);
	/* VS_ENOTFOUND when absent. */
	int (*del)(struct kv_txn *txn, enum kv_table t, const void *key,
	    size_t klen, struct vs_err *err);
	int (*iter)(struct kv_txn *txn, enum kv_table t, kv_iter_cb *cb,
	    void *ctx, struct vs_err *err);
	/* The last (greatest) key of a table: VS_ENOTFOUND when empty. */
	int (*last)(struct kv_txn *txn, enum kv_table t, struct kv_val *key_r,
	    struct vs_err *err);
	/* Number of entries in a table. */
	int (*count)(struct kv_txn *txn, enum kv_table t, size_t *n_r,
	    struct vs_err *err);
	/* Consistent, compacted copy of the whole database, written to fd
	 * (a new, empty file the caller opened: hot backup).  The caller
	 * closes fd. */
	int (*copy)(struct kv *kv, int fd, struct vs_err *err);
	void (*close)(struct kv *kv);
};

struct kv {
	const struct kv_ops *ops;
};

struct kv_txn {
	struct kv *kv;
};

#define KV_OPEN_CREATE 0x1
#define KV_OPEN_RDONLY 0x2

/* Open (or create) the LMDB database in dir.  mapsize 0 means the default
 * (4 GiB of address space; the file grows only as data is written). */
int kv_lmdb_open(const char *dir, unsigned flags, size_t mapsize,
    struct kv **kv_r, struct vs_err *err);

/* Close a backend and set *kv to NULL; NULL is allowed. */
void kv_close(struct kv **kv);

/* Thin wrappers, one per operation: the store calls these and never
 * reaches into kv->ops itself, so a backend is all of kv_ops and nothing
 * else. */
static inline int
kv_txn_begin(struct kv *kv, bool write, struct kv_txn **txn_r,
    struct vs_err *err)
{
	return kv->ops->txn_begin(kv, write, txn_r, err);
}

static inline int
kv_txn_commit(struct kv_txn *txn, struct vs_err *err)
{
	return txn->kv->ops->txn_commit(txn, err);
}

static inline void
kv_txn_abort(struct kv_txn *txn)
{
	txn->kv->ops->txn_abort(txn);
}

static inline void
kv_txn_reset(struct kv_txn *txn)
{
	txn->kv->ops->txn_reset(txn);
}

static inline int
kv_txn_renew(struct kv_txn *txn, struct vs_err *err)
{
	return txn->kv->ops->txn_renew(txn, err);
}

static inline int
kv_last(struct kv_txn *txn, enum kv_table t, struct kv_val *key_r,
    struct vs_err *err)
{
	return txn->kv->ops->last(txn, t, key_r, err);
}

static inline int
kv_count(struct kv_txn *txn, enum kv_table t, size_t *n_r, struct vs_err *err)
{
	return txn->kv->ops->count(txn, t, n_r, err);
}

static inline int
kv_copy(struct kv *kv, int fd, struct vs_err *err)
{
	return kv->ops->copy(kv, fd, err);
}

static inline int
kv_get(struct kv_txn *txn, enum kv_table t, const void *key, size_t klen,
    struct kv_val *val_r, struct vs_err *err)
{
	return txn->kv->ops->get(txn, t, key, klen, val_r, err);
}

static inline int
kv_put(struct kv_txn *txn, enum kv_table t, const void *key, size_t klen,
    const void *val, size_t vlen, bool no_overwrite, struct vs_err *err)
{
	return txn->kv->ops->put(txn, t, key, klen, val, vlen, no_overwrite,
	    err);
}

static inline int
kv_del(struct kv_txn *txn, enum kv_table t, const void *key, size_t klen,
    struct vs_err *err)
{
	return txn->kv->ops->del(txn, t, key, klen, err);
}

static inline int
kv_iter(struct kv_txn *txn, enum kv_table t, kv_iter_cb *cb, void *ctx,
    struct vs_err *err)
{
	return txn->kv->ops->iter(txn, t, cb, ctx, err);
}

#endif
