/*
 * store_int.h - the store's insides, shared by its modules and by nothing
 * else: store.c (the handle, its lock and meta, transactions, sealed and
 * typed get/put), store_records.c (domains, users, addresses, aliases),
 * store_log.c (append-only logs, meta values), store_keys.c (unseal, key
 * slots, rotate, backup, verify), store_head.c (the sealed head that
 * commits to the whole state: rollback detection; following other
 * writers' heads and running a conflicting write again, store_write).  Callers outside
 * lib/store*.c use store.h only.
 *
 * Every write to the kv tables goes through sti_kv_put()/sti_kv_del()
 * (store_head.c), which keep the transaction's copy of the head up to
 * date; nothing in lib/store*.c calls kv_put()/kv_del() itself.
 */
#ifndef VS_STORE_INT_H
#define VS_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "kv.h"
#include "seal.h"
#include "store.h"
#include "vs_err.h"

#define META_FORMAT "format"
#define META_STORE_ID "store_id"
#define META_SETTINGS "settings"
#define META_HEAD "head"
#define META_AUDIT_HEAD "audit_head"
/* Format 1: no head (before rollback protection); upgraded to 2 by the
 * first unseal of a writable handle. */
#define STORE_FORMAT_NOHEAD 1
#define HEAD_HASH_BYTES 32
#define LOCK_FILE "vmseal.lock"
#define SLOT_PASSPHRASE0 0
#define SLOT_RECOVERY 1

/* One table's share of the head: how many entries, and the XOR of a
 * keyed hash of each (table, key, value) - an incremental set hash. */
struct sti_tsum {
	uint64_t count;
	uint8_t digest[HEAD_HASH_BYTES];
};

struct sti_head {
	uint64_t generation;
	struct sti_tsum t[KV_TABLE_COUNT];
};

struct store {
	char *dir;              /* the location as shown (store_dir()) */
	enum store_backend backend;
	unsigned flags;         /* STORE_OPEN_* */
	struct kv *kv;
	int lockfd;             /* LMDB writer's flock; -1 otherwise */
	uint8_t store_id[SEAL_STORE_ID_BYTES];
	uint8_t slots[SEAL_MAX_SLOTS][SEAL_SLOT_BYTES];
	bool has_slot[SEAL_MAX_SLOTS];
	struct seal_keys *keys;
	struct vs_settings settings;
	/* The passphrase slot that unsealed the handle, and a keyed hash of
	 * that passphrase (random key per unseal): rotate recognises the
	 * same passphrase without another Argon2id derivation. */
	int unsealed_slot;
	uint8_t unsealed_blob[SEAL_SLOT_BYTES];
	uint8_t pass_mac_key[32], pass_mac[32];
	/* The head as last checked (unseal), committed by this handle or
	 * (PostgreSQL) adopted from another writer's commit, and a hash of
	 * its sealed form: an LMDB writer whose head changed on disk behind
	 * its back refuses to write; a PostgreSQL one follows a newer head
	 * that opens under the key and refuses an older one
	 * (store_head.c). */
	struct sti_head head;
	uint8_t head_ct_hash[HEAD_HASH_BYTES];
	/* Guards head and head_ct_hash between threads sharing the handle
	 * (vmsealed's admin threads): held from a writer's kv commit until
	 * the handle has its new head, and by the next writer's check, so
	 * that a commit of this very handle is never taken for a write
	 * behind its back. */
	pthread_mutex_t head_mu;
	bool head_present;      /* false: format 1, read-only */
	bool head_created;      /* created (format 1 upgraded) at unseal */
	bool head_bad;          /* STORE_OPEN_INSPECT and no match */
	char head_problem[VS_ERR_MSG_MAX];
};

struct store_txn {
	struct store *st;
	struct kv_txn *kv;
	bool write;
	bool slots_changed;     /* re-read the slot cache at commit */
	bool reset;             /* read txn between store_txn_reset/renew */
	bool head_dirty;        /* something written: a new head at commit */
	bool head_accept;       /* store_head_accept(): commit though bad */
	struct sti_head head;   /* write txn: the head as of its writes */
	uint8_t head_ct_hash[HEAD_HASH_BYTES];  /* of the head it wrote */
};

static inline void
sti_slot_name(uint8_t id, char out[6])
{
	memcpy(out, "slot", 4);
	out[4] = (char)('0' + id);
	out[5] = '\0';
}

static inline int64_t
sti_now(void)
{
	return (int64_t)time(NULL);
}


static inline bool
sti_fold(const struct store_txn *txn)
{
	return txn->st->settings.fold_local;
}

static inline int
sti_need_write(const struct store_txn *txn, struct vs_err *err)
{
	if (!txn->write)
		return vs_fail(err, VS_EINVAL, "read-only transaction");
	return VS_OK;
}

/* Sealed get/put by raw key (store.c).  sti_get_sealed returns
 * VS_ENOTFOUND without touching err, so callers can word it. */
void sti_index_of(const struct store *st, enum kv_table t, const char *name,
    uint8_t idx[SEAL_INDEX_BYTES]);
int sti_put_sealed(struct store_txn *txn, enum kv_table t, const void *key,
    size_t klen, const struct buf *pt, bool no_overwrite, struct vs_err *err);
int sti_get_sealed(struct store_txn *txn, enum kv_table t, const void *key,
    size_t klen, struct buf *pt, struct vs_err *err);
/* Iterate a table, opening every record. */
int sti_iter_open(struct store_txn *txn, enum kv_table t,
    int (*cb)(void *, const struct buf *, struct vs_err *), void *ctx,
    struct vs_err *err);

/* Typed records by name (store.c): the name is blind-indexed. */
typedef int decode_fn(const uint8_t *, size_t, void *, struct vs_err *);
typedef int encode_fn(const void *, struct buf *);
int sti_get_typed(struct store_txn *txn, enum kv_table t, const char *name,
    decode_fn *dec, void *out, struct vs_err *err);
int sti_put_typed(struct store_txn *txn, enum kv_table t, const char *name,
    encode_fn *enc, const void *rec, bool no_overwrite, struct vs_err *err);
int sti_del_typed(struct store_txn *txn, enum kv_table t, const char *name,
    struct vs_err *err);
int sti_list_typed(struct store_txn *txn, enum kv_table t, decode_fn *dec,
    size_t elem, void (*clear)(void *), void **items_r, size_t *n_r,
    struct vs_err *err);

/* The handle's life (store.c), used by unseal and backup. */
int sti_read_meta(struct store *st, struct vs_err *err);
/* The key slots as kt sees them into the handle's copy (has_slot, slots);
 * VS_ECORRUPT when there is none or one is malformed (copy unchanged). */
int sti_read_slots(struct store *st, struct kv_txn *kt, struct vs_err *err);
int sti_load_settings(struct store *st, struct vs_err *err);
bool sti_has_store(const char *dir);
/* Create dir (mode 0700) or open the existing one without following a
 * symbolic link; refused unless owned by the running uid; mode set to
 * 0700 through the descriptor.  *fd_r: an O_DIRECTORY descriptor. */
int sti_open_dir(const char *dir, int *fd_r, struct vs_err *err);
int sti_ensure_dir(const char *dir, struct vs_err *err);

/* The head (store_head.c).  Writes through these keep txn->head. */
int sti_kv_put(struct store_txn *txn, enum kv_table t, const void *key,
    size_t klen, const void *val, size_t vlen, bool no_overwrite,
    struct vs_err *err);
int sti_kv_del(struct store_txn *txn, enum kv_table t, const void *key,
    size_t klen, struct vs_err *err);
/* Recompute the head's tables from what the files hold (generation
 * left 0). */
int sti_head_compute(const struct store *st, struct kv_txn *kt,
    struct sti_head *h, struct vs_err *err);
/* After the key was loaded (unseal): check the head, or create it for a
 * format 1 store opened for writing.  On a mismatch: VS_ECORRUPT and the
 * handle sealed again, or (STORE_OPEN_INSPECT) VS_OK with head_bad set. */
int sti_head_check(struct store *st, struct vs_err *err);
/* Write txn begin and commit: the head carried by the transaction. */
int sti_head_begin(struct store_txn *txn, struct vs_err *err);
int sti_head_commit(struct store_txn *txn, struct vs_err *err);
/* Seal and write h as the head in kt; its ciphertext's hash to ct_hash. */
int sti_head_put(const struct store *st, struct kv_txn *kt,
    const struct sti_head *h, uint8_t ct_hash[HEAD_HASH_BYTES],
    struct vs_err *err);

#endif
