/*
 * store.c - the encrypted store (see store.h).
 *
 * Layout in the kv tables:
 *   meta:      "format" -> u32 STORE_FORMAT
 *              "store_id" -> 16 random bytes
 *              "slot0".."slot7" -> keyslots (seal.h)
 *              "settings" -> sealed struct vs_settings
 *   domains, users, addresses, aliases:
 *              blind index (32 bytes) -> sealed record (record.h)
 *
 * Security stance: nothing but the meta entries above is written
 * unsealed; every record read is authenticated before it is decoded, and a
 * record that fails is reported as corrupt (never as "not found"); every
 * buffer that held a plaintext record is wiped (buf_free).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <stdio.h>

#include "kv.h"
#include "names.h"
#include "pwhash.h"
#include "store.h"

#define META_FORMAT "format"
#define META_STORE_ID "store_id"
#define META_SETTINGS "settings"
#define LOCK_FILE "vmseal.lock"
#define SLOT_PASSPHRASE0 0
#define SLOT_RECOVERY 1

struct store {
	char *dir;
	struct kv *kv;
	int lockfd;
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
};

struct store_txn {
	struct store *st;
	struct kv_txn *kv;
	bool write;
	bool slots_changed;     /* re-read the slot cache at commit */
	bool reset;             /* read txn between store_txn_reset/renew */
};

void
store_init_params_default(struct store_init_params *p)
{
	memset(p, 0, sizeof(*p));
	p->slot_cost.opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
	p->slot_cost.memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
	p->settings.pw_opslimit = PW_DEFAULT_OPSLIMIT;
	p->settings.pw_memlimit = PW_DEFAULT_MEMLIMIT;
	p->settings.fold_local = true;
}

static void
slot_name(uint8_t id, char out[6])
{
	memcpy(out, "slot", 4);
	out[4] = (char)('0' + id);
	out[5] = '\0';
}

static int64_t
now(void)
{
	return (int64_t)time(NULL);
}

/* --- sealed get/put --- */

static void
index_of(const struct store *st, enum kv_table t, const char *name,
    uint8_t idx[SEAL_INDEX_BYTES])
{
	seal_index(st->keys, (uint8_t)t, name, strlen(name), idx);
}

static int
put_sealed(struct store_txn *txn, enum kv_table t, const void *key,
    size_t klen, const struct buf *pt, bool no_overwrite, struct vs_err *err)
{
	struct buf ct = { 0 };
	int r;

	r = seal_record(txn->st->keys, txn->st->store_id, (uint8_t)t, key,
	    klen, pt->data, pt->len, &ct, err);
	if (r == VS_OK)
		r = kv_put(txn->kv, t, key, klen, ct.data, ct.len,
		    no_overwrite, err);
	buf_free(&ct);
	return r;
}

/* Fetch and open a record; VS_ENOTFOUND is returned without touching err
 * so callers can word it. */
static int
get_sealed(struct store_txn *txn, enum kv_table t, const void *key,
    size_t klen, struct buf *pt, struct vs_err *err)
{
	struct kv_val v;
	int r;

	r = kv_get(txn->kv, t, key, klen, &v, err);
	if (r != VS_OK)
		return r;
	return seal_open(txn->st->keys, txn->st->store_id, (uint8_t)t, key,
	    klen, v.data, v.len, pt, err);
}

/* Iterate a table, opening every record. */
struct open_iter {
	struct store_txn *txn;
	enum kv_table t;
	int (*cb)(void *ctx, const struct buf *pt, struct vs_err *err);
	void *ctx;
	struct vs_err *err;
	int result;
};

static int
open_iter_cb(void *vctx, const struct kv_val *key, const struct kv_val *val)
{
	struct open_iter *it = vctx;
	struct buf pt = { 0 };
	int r;

	r = seal_open(it->txn->st->keys, it->txn->st->store_id,
	    (uint8_t)it->t, key->data, key->len, val->data, val->len, &pt,
	    it->err);
	if (r == VS_OK)
		r = it->cb(it->ctx, &pt, it->err);
	buf_free(&pt);
	it->result = r;
	return r != VS_OK;
}

static int
iter_open(struct store_txn *txn, enum kv_table t,
    int (*cb)(void *, const struct buf *, struct vs_err *), void *ctx,
    struct vs_err *err)
{
	struct open_iter it = { txn, t, cb, ctx, err, VS_OK };
	int r;

	r = kv_iter(txn->kv, t, open_iter_cb, &it, err);
	if (r != VS_OK && it.result != VS_OK)
		return it.result;
	return r;
}

/* --- lifecycle --- */

static int
ensure_dir(const char *dir, struct vs_err *err)
{
	struct stat sb;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return vs_fail(err, VS_EIO, "cannot create %s: %s", dir,
		    strerror(errno));
	if (stat(dir, &sb) != 0)
		return vs_fail(err, VS_EIO, "cannot stat %s: %s", dir,
		    strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return vs_fail(err, VS_EINVAL, "%s is not a folder", dir);
	if ((sb.st_mode & 077) != 0 && chmod(dir, 0700) != 0)
		return vs_fail(err, VS_EIO, "cannot set mode 0700 on %s: %s",
		    dir, strerror(errno));
	return VS_OK;
}

static bool
has_store(const char *dir)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >=
	    sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

static int
take_lock(const char *dir, int *fd_r, struct vs_err *err)
{
	char path[4096];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, LOCK_FILE) >=
	    sizeof(path))
		return vs_fail(err, VS_EINVAL, "store path is too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vs_fail(err, VS_EIO, "cannot open %s: %s", path,
		    strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return vs_fail(err, VS_EBUSY,
			    "the store in %s is in use by another writer "
			    "(is vmsealed running? then go through it)", dir);
		return vs_fail(err, VS_EIO, "cannot lock %s: %s", path,
		    strerror(e));
	}
	*fd_r = fd;
	return VS_OK;
}

static int
write_settings(struct store_txn *txn, const struct vs_settings *s,
    struct vs_err *err)
{
	struct buf pt = { 0 };
	int r;

	if ((r = rec_settings_encode(s, &pt)) != 0) {
		buf_free(&pt);
		return vs_fail(err, r, "cannot encode settings");
	}
	r = put_sealed(txn, KV_META, META_SETTINGS, strlen(META_SETTINGS),
	    &pt, false, err);
	buf_free(&pt);
	return r;
}

int
store_init(const char *dir, const struct store_init_params *p,
    const char *pass, size_t passlen, uint8_t reckey_r[SEAL_KEY_BYTES],
    struct vs_err *err)
{
	struct store st;
	struct store_txn txn;
	struct kv_txn *kt = NULL;
	uint8_t fmt[4], slot[SEAL_SLOT_BYTES];
	char name[6];
	int r;

	memset(&st, 0, sizeof(st));
	st.lockfd = -1;
	if ((r = ensure_dir(dir, err)) != VS_OK)
		return r;
	if (has_store(dir))
		return vs_fail(err, VS_EEXIST, "a store already exists in %s",
		    dir);
	if ((r = take_lock(dir, &st.lockfd, err)) != VS_OK)
		return r;
	if ((r = kv_lmdb_open(dir, KV_OPEN_CREATE, 0, &st.kv, err)) != VS_OK)
		goto out;
	if ((r = seal_keys_new(&st.keys, err)) != VS_OK)
		goto out;
	randombytes_buf(st.store_id, sizeof(st.store_id));
	randombytes_buf(reckey_r, SEAL_KEY_BYTES);
	if ((r = st.kv->ops->txn_begin(st.kv, true, &kt, err)) != VS_OK)
		goto out;
	txn.st = &st;
	txn.kv = kt;
	txn.write = true;
	txn.slots_changed = false;
	vs_put_u32be(fmt, STORE_FORMAT);
	if ((r = kv_put(kt, KV_META, META_FORMAT, strlen(META_FORMAT), fmt, 4,
	    true, err)) != VS_OK ||
	    (r = kv_put(kt, KV_META, META_STORE_ID, strlen(META_STORE_ID),
	    st.store_id, sizeof(st.store_id), true, err)) != VS_OK)
		goto out;
	if ((r = seal_slot_wrap_passphrase(st.keys, st.store_id,
	    SLOT_PASSPHRASE0, pass, passlen, &p->slot_cost, slot, err)) !=
	    VS_OK)
		goto out;
	slot_name(SLOT_PASSPHRASE0, name);
	if ((r = kv_put(kt, KV_META, name, strlen(name), slot, sizeof(slot),
	    true, err)) != VS_OK)
		goto out;
	if ((r = seal_slot_wrap_recovery(st.keys, st.store_id, SLOT_RECOVERY,
	    reckey_r, slot, err)) != VS_OK)
		goto out;
	slot_name(SLOT_RECOVERY, name);
	if ((r = kv_put(kt, KV_META, name, strlen(name), slot, sizeof(slot),
	    true, err)) != VS_OK)
		goto out;
	if ((r = write_settings(&txn, &p->settings, err)) != VS_OK)
		goto out;
	r = st.kv->ops->txn_commit(kt, err);
	kt = NULL;
out:
	if (kt != NULL)
		st.kv->ops->txn_abort(kt);
	if (r != VS_OK)
		sodium_memzero(reckey_r, SEAL_KEY_BYTES);
	seal_keys_free(&st.keys);
	kv_close(&st.kv);
	if (st.lockfd >= 0)
		close(st.lockfd);
	return r;
}

static int
read_meta(struct store *st, struct vs_err *err)
{
	struct kv_txn *kt;
	struct kv_val v;
	char name[6];
	uint8_t i;
	int r, nslots = 0;

	if ((r = st->kv->ops->txn_begin(st->kv, false, &kt, err)) != VS_OK)
		return r;
	r = kv_get(kt, KV_META, META_FORMAT, strlen(META_FORMAT), &v, err);
	if (r == VS_ENOTFOUND || (r == VS_OK && v.len != 4)) {
		r = vs_fail(err, VS_ECORRUPT, "store in %s has no valid format "
		    "number", st->dir);
		goto out;
	}
	if (r != VS_OK)
		goto out;
	if (vs_get_u32be(v.data) != STORE_FORMAT) {
		r = vs_fail(err, VS_ECORRUPT, "store format %u is not "
		    "supported by this vmseal (format %u)",
		    vs_get_u32be(v.data), STORE_FORMAT);
		goto out;
	}
	r = kv_get(kt, KV_META, META_STORE_ID, strlen(META_STORE_ID), &v, err);
	if (r == VS_ENOTFOUND || (r == VS_OK && v.len != SEAL_STORE_ID_BYTES))
		r = vs_fail(err, VS_ECORRUPT, "store has no valid store id");
	if (r != VS_OK)
		goto out;
	memcpy(st->store_id, v.data, SEAL_STORE_ID_BYTES);
	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		slot_name(i, name);
		r = kv_get(kt, KV_META, name, strlen(name), &v, err);
		if (r == VS_ENOTFOUND)
			continue;
		if (r != VS_OK)
			goto out;
		if (v.len != SEAL_SLOT_BYTES) {
			r = vs_fail(err, VS_ECORRUPT, "key slot %u is malformed",
			    i);
			goto out;
		}
		memcpy(st->slots[i], v.data, SEAL_SLOT_BYTES);
		st->has_slot[i] = true;
		nslots++;
	}
	r = nslots ? VS_OK : vs_fail(err, VS_ECORRUPT,
	    "store has no key slot");
out:
	st->kv->ops->txn_abort(kt);
	return r;
}

int
store_open(const char *dir, unsigned flags, struct store **st_r,
    struct vs_err *err)
{
	struct store *st;
	struct stat sb;
	int r;

	if (stat(dir, &sb) != 0)
		return vs_fail(err, errno == ENOENT ? VS_ENOTFOUND : VS_EIO,
		    "cannot open store %s: %s", dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return vs_fail(err, VS_EINVAL, "%s is not a folder", dir);
	/* LMDB would create empty files in a folder without a store; those
	 * would then block "vmseal init".  Look before opening. */
	if (!has_store(dir))
		return vs_fail(err, VS_ENOTFOUND, "no vmseal store in %s "
		    "(create one with vmseal init)", dir);
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->dir = vs_strdup(dir)) == NULL) {
		free(st);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	st->lockfd = -1;
	st->unsealed_slot = -1;
	if ((flags & STORE_OPEN_WRITE) &&
	    (r = take_lock(dir, &st->lockfd, err)) != VS_OK)
		goto fail;
	if ((r = kv_lmdb_open(dir, (flags & STORE_OPEN_WRITE) ? 0 :
	    KV_OPEN_RDONLY, 0, &st->kv, err)) != VS_OK)
		goto fail;
	if ((r = read_meta(st, err)) != VS_OK)
		goto fail;
	*st_r = st;
	return VS_OK;
fail:
	store_close(&st);
	return r;
}

/* After a key was loaded: read and check the sealed settings (this also
 * proves the key opens records, not only the slot). */
static int
load_settings(struct store *st, struct vs_err *err)
{
	struct store_txn txn = { st, NULL, false, false, false };
	struct buf pt = { 0 };
	int r;

	if ((r = st->kv->ops->txn_begin(st->kv, false, &txn.kv, err)) != VS_OK)
		return r;
	r = get_sealed(&txn, KV_META, META_SETTINGS, strlen(META_SETTINGS),
	    &pt, err);
	if (r == VS_ENOTFOUND)
		r = vs_fail(err, VS_ECORRUPT, "store has no settings");
	if (r == VS_OK)
		r = rec_settings_decode(pt.data, pt.len, &st->settings, err);
	buf_free(&pt);
	st->kv->ops->txn_abort(txn.kv);
	if (r != VS_OK)
		seal_keys_free(&st->keys);
	return r;
}

int
store_unseal_passphrase(struct store *st, const char *pass, size_t passlen,
    struct vs_err *err)
{
	struct seal_slot_info info;
	uint8_t i;
	int r, tried = 0;

	store_seal(st);
	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		if (!st->has_slot[i] ||
		    seal_slot_info(st->slots[i], SEAL_SLOT_BYTES, &info,
		    NULL) != VS_OK || info.type != SEAL_SLOT_PASSPHRASE)
			continue;
		tried++;
		r = seal_slot_open_passphrase(st->slots[i], SEAL_SLOT_BYTES,
		    st->store_id, pass, passlen, &st->keys, err);
		if (r == VS_OK) {
			st->unsealed_slot = i;
			memcpy(st->unsealed_blob, st->slots[i],
			    SEAL_SLOT_BYTES);
			randombytes_buf(st->pass_mac_key,
			    sizeof(st->pass_mac_key));
			crypto_generichash(st->pass_mac, sizeof(st->pass_mac),
			    (const uint8_t *)pass, passlen, st->pass_mac_key,
			    sizeof(st->pass_mac_key));
			return load_settings(st, err);
		}
		if (r != VS_EBADKEY)
			return r;
	}
	if (tried == 0)
		return vs_fail(err, VS_EBADKEY,
		    "store has no passphrase slot (use the recovery key)");
	return vs_fail(err, VS_EBADKEY, "wrong passphrase");
}

int
store_unseal_recovery(struct store *st, const uint8_t reckey[SEAL_KEY_BYTES],
    struct vs_err *err)
{
	struct seal_slot_info info;
	uint8_t i;
	int r;

	store_seal(st);
	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		if (!st->has_slot[i] ||
		    seal_slot_info(st->slots[i], SEAL_SLOT_BYTES, &info,
		    NULL) != VS_OK || info.type != SEAL_SLOT_RECOVERY)
			continue;
		r = seal_slot_open_recovery(st->slots[i], SEAL_SLOT_BYTES,
		    st->store_id, reckey, &st->keys, err);
		if (r == VS_OK)
			return load_settings(st, err);
		if (r != VS_EBADKEY)
			return r;
	}
	return vs_fail(err, VS_EBADKEY, "wrong recovery key");
}

bool
store_is_sealed(const struct store *st)
{
	return st->keys == NULL;
}

void
store_seal(struct store *st)
{
	seal_keys_free(&st->keys);
	sodium_memzero(&st->settings, sizeof(st->settings));
	st->unsealed_slot = -1;
	sodium_memzero(st->pass_mac, sizeof(st->pass_mac));
	sodium_memzero(st->pass_mac_key, sizeof(st->pass_mac_key));
}

void
store_close(struct store **stp)
{
	struct store *st;

	if (stp == NULL || (st = *stp) == NULL)
		return;
	store_seal(st);
	kv_close(&st->kv);
	if (st->lockfd >= 0)
		close(st->lockfd);
	free(st->dir);
	free(st);
	*stp = NULL;
}

const char *
store_dir(const struct store *st)
{
	return st->dir;
}

const struct vs_settings *
store_settings(const struct store *st)
{
	return st->keys ? &st->settings : NULL;
}

const struct seal_keys *
store_keys(const struct store *st)
{
	return st->keys;
}

int
store_txn_begin(struct store *st, bool write, struct store_txn **txn_r,
    struct vs_err *err)
{
	struct store_txn *t;
	int r;

	if (st->keys == NULL)
		return vs_fail(err, VS_ESEALED, "the store is sealed");
	if (write && st->lockfd < 0)
		return vs_fail(err, VS_EINVAL, "store opened read-only");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	if ((r = st->kv->ops->txn_begin(st->kv, write, &t->kv, err)) != VS_OK) {
		free(t);
		return r;
	}
	t->st = st;
	t->write = write;
	*txn_r = t;
	return VS_OK;
}

int
store_txn_commit(struct store_txn **txnp, struct vs_err *err)
{
	struct store_txn *t = *txnp;
	struct store *st = t->st;
	bool reload = t->slots_changed;
	int r;

	*txnp = NULL;
	r = t->kv->kv->ops->txn_commit(t->kv, err);
	free(t);
	if (r == VS_OK && reload) {
		memset(st->has_slot, 0, sizeof(st->has_slot));
		r = read_meta(st, err);
	}
	return r;
}

void
store_txn_abort(struct store_txn **txnp)
{
	struct store_txn *t;

	if (txnp == NULL || (t = *txnp) == NULL)
		return;
	t->kv->kv->ops->txn_abort(t->kv);
	free(t);
	*txnp = NULL;
}

void
store_txn_reset(struct store_txn *t)
{
	if (t == NULL || t->write || t->reset)
		return;
	t->kv->kv->ops->txn_reset(t->kv);
	t->reset = true;
}

int
store_txn_renew(struct store_txn *t, struct vs_err *err)
{
	int r;

	if (t->write)
		return vs_fail(err, VS_EINVAL, "a write transaction cannot "
		    "be renewed");
	if (t->st->keys == NULL)
		return vs_fail(err, VS_ESEALED, "the store is sealed");
	if (!t->reset)
		return VS_OK;
	if ((r = t->kv->kv->ops->txn_renew(t->kv, err)) != VS_OK)
		return r;
	t->reset = false;
	return VS_OK;
}

struct store *
store_txn_store(struct store_txn *txn)
{
	return txn->st;
}

int
store_count(struct store_txn *txn, struct store_counts *c,
    struct vs_err *err)
{
	const struct kv_ops *o = txn->kv->kv->ops;
	int r;

	if ((r = o->count(txn->kv, KV_DOMAINS, &c->domains, err)) != VS_OK ||
	    (r = o->count(txn->kv, KV_USERS, &c->users, err)) != VS_OK ||
	    (r = o->count(txn->kv, KV_ADDRESSES, &c->addresses, err)) !=
	    VS_OK ||
	    (r = o->count(txn->kv, KV_ALIASES, &c->aliases, err)) != VS_OK)
		return r;
	return VS_OK;
}

/* --- normalization shortcuts --- */

static bool
fold(const struct store_txn *txn)
{
	return txn->st->settings.fold_local;
}

static int
need_write(const struct store_txn *txn, struct vs_err *err)
{
	if (!txn->write)
		return vs_fail(err, VS_EINVAL, "read-only transaction");
	return VS_OK;
}

/* --- generic typed get/put/list --- */

typedef int decode_fn(const uint8_t *, size_t, void *, struct vs_err *);
typedef int encode_fn(const void *, struct buf *);

/* Records of ordinary size (an address, a user, a short alias) are opened
 * on the stack: the lookup path allocates nothing for the plaintext. */
#define GET_STACK_BYTES 1024

static int
get_typed(struct store_txn *txn, enum kv_table t, const char *name,
    decode_fn *dec, void *out, struct vs_err *err)
{
	uint8_t idx[SEAL_INDEX_BYTES], small[GET_STACK_BYTES], *pt = small;
	struct buf big = { 0 };
	struct kv_val v;
	size_t cap = sizeof(small), len = 0;
	int r;

	index_of(txn->st, t, name, idx);
	if ((r = kv_get(txn->kv, t, idx, sizeof(idx), &v, err)) != VS_OK)
		return r;
	if (v.len > SEAL_RECORD_OVERHEAD + sizeof(small)) {
		if ((r = buf_reserve(&big, v.len - SEAL_RECORD_OVERHEAD)) != 0)
			return vs_fail(err, r, "record too large to open");
		pt = big.data;
		cap = big.cap;
	}
	r = seal_open_into(txn->st->keys, txn->st->store_id, (uint8_t)t, idx,
	    sizeof(idx), v.data, v.len, pt, cap, &len, err);
	if (r == VS_OK)
		r = dec(pt, len, out, err);
	sodium_memzero(pt, len);
	buf_free(&big);
	return r;
}

static int
put_typed(struct store_txn *txn, enum kv_table t, const char *name,
    encode_fn *enc, const void *rec, bool no_overwrite, struct vs_err *err)
{
	uint8_t idx[SEAL_INDEX_BYTES];
	struct buf pt = { 0 };
	int r;

	if ((r = enc(rec, &pt)) != 0) {
		buf_free(&pt);
		return vs_fail(err, r, "record for %s is too large", name);
	}
	index_of(txn->st, t, name, idx);
	r = put_sealed(txn, t, idx, sizeof(idx), &pt, no_overwrite, err);
	buf_free(&pt);
	return r;
}

static int
del_typed(struct store_txn *txn, enum kv_table t, const char *name,
    struct vs_err *err)
{
	uint8_t idx[SEAL_INDEX_BYTES];

	index_of(txn->st, t, name, idx);
	return kv_del(txn->kv, t, idx, sizeof(idx), err);
}

struct list_ctx {
	decode_fn *dec;
	size_t elem;
	void *items;
	size_t n, cap;
};

static int
list_cb(void *vctx, const struct buf *pt, struct vs_err *err)
{
	struct list_ctx *l = vctx;
	int r;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		void *ni = realloc(l->items, ncap * l->elem);

		if (ni == NULL)
			return vs_fail(err, VS_ENOMEM, "out of memory");
		l->items = ni;
		l->cap = ncap;
	}
	r = l->dec(pt->data, pt->len, (char *)l->items + l->n * l->elem, err);
	if (r == VS_OK)
		l->n++;
	return r;
}

/* Every record type starts with its name (char *) as first member. */
static int
cmp_first_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
list_typed(struct store_txn *txn, enum kv_table t, decode_fn *dec,
    size_t elem, void (*clear)(void *), void **items_r, size_t *n_r,
    struct vs_err *err)
{
	struct list_ctx l = { dec, elem, NULL, 0, 0 };
	size_t i;
	int r;

	r = iter_open(txn, t, list_cb, &l, err);
	if (r != VS_OK) {
		for (i = 0; i < l.n; i++)
			clear((char *)l.items + i * elem);
		free(l.items);
		return r;
	}
	if (l.n > 1)
		qsort(l.items, l.n, elem, cmp_first_name);
	*items_r = l.items;
	*n_r = l.n;
	return VS_OK;
}

static void
clear_domain(void *p) { vs_domain_clear(p); }
static void
clear_user(void *p) { vs_user_clear(p); }
static void
clear_address(void *p) { vs_address_clear(p); }
static void
clear_alias(void *p) { vs_alias_clear(p); }

static int
dec_domain(const uint8_t *d, size_t n, void *o, struct vs_err *e)
{ return rec_domain_decode(d, n, o, e); }
static int
dec_user(const uint8_t *d, size_t n, void *o, struct vs_err *e)
{ return rec_user_decode(d, n, o, e); }
static int
dec_address(const uint8_t *d, size_t n, void *o, struct vs_err *e)
{ return rec_address_decode(d, n, o, e); }
static int
dec_alias(const uint8_t *d, size_t n, void *o, struct vs_err *e)
{ return rec_alias_decode(d, n, o, e); }
static int
enc_domain(const void *r, struct buf *b) { return rec_domain_encode(r, b); }
static int
enc_user(const void *r, struct buf *b) { return rec_user_encode(r, b); }
static int
enc_address(const void *r, struct buf *b) { return rec_address_encode(r, b); }
static int
enc_alias(const void *r, struct buf *b) { return rec_alias_encode(r, b); }

/* --- domains --- */

int
store_domain_add(struct store_txn *txn, const char *domain,
    struct vs_err *err)
{
	char name[NAME_BUF];
	struct vs_domain d;
	int r;

	if ((r = need_write(txn, err)) != VS_OK ||
	    (r = name_domain(domain, name, err)) != VS_OK)
		return r;
	d.name = name;
	d.created = now();
	r = put_typed(txn, KV_DOMAINS, name, enc_domain, &d, true, err);
	if (r == VS_EEXIST)
		return vs_fail(err, r, "domain %s already exists", name);
	return r;
}

static int
domain_exists(struct store_txn *txn, const char *name, struct vs_err *err)
{
	struct vs_domain d;
	int r;

	r = get_typed(txn, KV_DOMAINS, name, dec_domain, &d, err);
	if (r == VS_OK)
		vs_domain_clear(&d);
	else if (r == VS_ENOTFOUND)
		vs_fail(err, r, "domain %s is not hosted here "
		    "(vmseal domain add %s)", name, name);
	return r;
}

struct domain_refs {
	const char *domain;
	size_t addresses, aliases;
	bool alias_table;
};

static int
domain_refs_cb(void *vctx, const struct buf *pt, struct vs_err *err)
{
	struct domain_refs *d = vctx;
	const char *dom;
	int r;

	if (d->alias_table) {
		struct vs_alias a;

		if ((r = rec_alias_decode(pt->data, pt->len, &a, err)) != VS_OK)
			return r;
		dom = name_domain_of(a.address);
		if (dom != NULL && strcmp(dom, d->domain) == 0)
			d->aliases++;
		vs_alias_clear(&a);
	} else {
		struct vs_address a;

		if ((r = rec_address_decode(pt->data, pt->len, &a, err)) !=
		    VS_OK)
			return r;
		dom = name_domain_of(a.address);
		if (dom != NULL && strcmp(dom, d->domain) == 0)
			d->addresses++;
		vs_address_clear(&a);
	}
	return VS_OK;
}

int
store_domain_del(struct store_txn *txn, const char *domain,
    struct vs_err *err)
{
	char name[NAME_BUF];
	struct domain_refs refs = { name, 0, 0, false };
	int r;

	if ((r = need_write(txn, err)) != VS_OK ||
	    (r = name_domain(domain, name, err)) != VS_OK ||
	    (r = domain_exists(txn, name, err)) != VS_OK)
		return r;
	if ((r = iter_open(txn, KV_ADDRESSES, domain_refs_cb, &refs, err)) !=
	    VS_OK)
		return r;
	refs.alias_table = true;
	if ((r = iter_open(txn, KV_ALIASES, domain_refs_cb, &refs, err)) !=
	    VS_OK)
		return r;
	if (refs.addresses || refs.aliases)
		return vs_fail(err, VS_EEXIST, "domain %s still has %zu "
		    "address(es) and %zu alias(es); delete them first", name,
		    refs.addresses, refs.aliases);
	return del_typed(txn, KV_DOMAINS, name, err);
}

int
store_domain_get(struct store_txn *txn, const char *domain,
    struct vs_domain *d_r, struct vs_err *err)
{
	char name[NAME_BUF];
	int r;

	if ((r = name_domain(domain, name, err)) != VS_OK)
		return r;
	r = get_typed(txn, KV_DOMAINS, name, dec_domain, d_r, err);
	if (r == VS_ENOTFOUND)
		vs_fail(err, r, "domain %s not found", name);
	return r;
}

int
store_domain_list(struct store_txn *txn, struct vs_domain **list_r,
    size_t *n_r, struct vs_err *err)
{
	return list_typed(txn, KV_DOMAINS, dec_domain, sizeof(**list_r),
	    clear_domain, (void **)list_r, n_r, err);
}

void
store_domain_list_free(struct vs_domain *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vs_domain_clear(&list[i]);
	free(list);
}

/* --- addresses (internal helpers shared with users) --- */

/* Check that a normalized mailbox address can be added: hosted domain,
 * not already an address or an alias. */
static int
address_free(struct store_txn *txn, const char *addr, struct vs_err *err)
{
	struct vs_address a;
	struct vs_alias al;
	const char *dom = name_domain_of(addr);
	int r;

	if (dom == NULL)
		return vs_fail(err, VS_EINVAL, "invalid address %s", addr);
	if ((r = domain_exists(txn, dom, err)) != VS_OK)
		return r;
	r = get_typed(txn, KV_ADDRESSES, addr, dec_address, &a, err);
	if (r == VS_OK) {
		r = vs_fail(err, VS_EEXIST, "address %s already belongs to %s",
		    addr, a.login);
		vs_address_clear(&a);
		return r;
	}
	if (r != VS_ENOTFOUND)
		return r;
	r = get_typed(txn, KV_ALIASES, addr, dec_alias, &al, err);
	if (r == VS_OK) {
		vs_alias_clear(&al);
		return vs_fail(err, VS_EEXIST, "%s is an alias; delete the "
		    "alias first", addr);
	}
	return r == VS_ENOTFOUND ? VS_OK : r;
}

static int
address_put(struct store_txn *txn, const char *addr, const char *login,
    struct vs_err *err)
{
	struct vs_address a;

	a.address = (char *)addr;
	a.login = (char *)login;
	a.created = now();
	return put_typed(txn, KV_ADDRESSES, addr, enc_address, &a, true, err);
}

/* --- users --- */

int
store_user_add(struct store_txn *txn, const struct vs_user *tmpl,
    struct vs_err *err)
{
	char login[NAME_BUF], addr[NAME_BUF];
	struct vs_user u;
	size_t i;
	int r;

	if ((r = need_write(txn, err)) != VS_OK ||
	    (r = name_login(tmpl->login, fold(txn), login, err)) != VS_OK)
		return r;
	/* Refuse an existing user before writing any of its addresses
	 * (without addresses, the no-overwrite put below is check enough). */
	if (tmpl->n_addresses > 0) {
		r = get_typed(txn, KV_USERS, login, dec_user, &u, err);
		if (r == VS_OK) {
			vs_user_clear(&u);
			return vs_fail(err, VS_EEXIST, "user %s already exists",
			    login);
		}
		if (r != VS_ENOTFOUND)
			return r;
		r = VS_OK;
	}
	u = *tmpl;
	u.login = login;
	u.addresses = NULL;
	u.n_addresses = 0;
	if (tmpl->n_addresses > REC_LIST_MAX)
		return vs_fail(err, VS_ELIMIT, "a user can have at most %d "
		    "addresses", REC_LIST_MAX);
	u.created = u.updated = now();
	if (u.pwhash != NULL && u.pw_changed == 0)
		u.pw_changed = u.created;
	for (i = 0; i < tmpl->n_addresses && r == VS_OK; i++) {
		r = name_address(tmpl->addresses[i], fold(txn), false, addr,
		    err);
		if (r == VS_OK)
			r = address_free(txn, addr, err);
		if (r == VS_OK)
			r = address_put(txn, addr, login, err);
		if (r == VS_OK) {
			r = vs_user_add_address(&u, addr);
			if (r == VS_EEXIST)
				r = vs_fail(err, r, "address %s given twice",
				    addr);
			else if (r != VS_OK)
				r = vs_fail(err, r, "out of memory");
		}
	}
	if (r == VS_OK) {
		r = put_typed(txn, KV_USERS, login, enc_user, &u, true, err);
		if (r == VS_EEXIST)
			r = vs_fail(err, r, "user %s already exists", login);
	}
	for (i = 0; i < u.n_addresses; i++)
		free(u.addresses[i]);
	free(u.addresses);
	return r;
}

int
store_user_get(struct store_txn *txn, const char *login, struct vs_user *u_r,
    struct vs_err *err)
{
	char name[NAME_BUF];
	int r;

	if ((r = name_login(login, fold(txn), name, err)) != VS_OK)
		return r;
	r = get_typed(txn, KV_USERS, name, dec_user, u_r, err);
	if (r == VS_ENOTFOUND)
		vs_fail(err, r, "user %s not found", name);
	return r;
}

int
store_user_update(struct store_txn *txn, const struct vs_user *u,
    struct vs_err *err)
{
	struct vs_user old, nu;
	int r;

	if ((r = need_write(txn, err)) != VS_OK)
		return r;
	/* The login must exist under exactly this (normalized) name. */
	r = get_typed(txn, KV_USERS, u->login, dec_user, &old, err);
	if (r == VS_ENOTFOUND)
		return vs_fail(err, r, "user %s not found", u->login);
	if (r != VS_OK)
		return r;
	nu = *u;
	nu.addresses = old.addresses;
	nu.n_addresses = old.n_addresses;
	nu.created = old.created;
	nu.updated = now();
	r = put_typed(txn, KV_USERS, u->login, enc_user, &nu, false, err);
	vs_user_clear(&old);
	return r;
}

int
store_user_set_password(struct store_txn *txn, const char *login,
    const char *password, size_t len, struct vs_err *err)
{
	struct pw_cost cost;
	struct vs_user u;
	char hash[PW_HASH_MAX];
	char *old;
	int r;

	if ((r = need_write(txn, err)) != VS_OK ||
	    (r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	cost.opslimit = txn->st->settings.pw_opslimit;
	cost.memlimit = (size_t)txn->st->settings.pw_memlimit;
	r = pw_hash(password, len, &cost, hash, err);
	if (r == VS_OK) {
		old = u.pwhash;
		u.pwhash = hash;
		u.pw_changed = now();
		r = store_user_update(txn, &u, err);
		u.pwhash = old;
	}
	sodium_memzero(hash, sizeof(hash));
	vs_user_clear(&u);
	return r;
}

int
store_user_del(struct store_txn *txn, const char *login, struct vs_err *err)
{
	struct vs_user u;
	size_t i;
	int r;

	if ((r = need_write(txn, err)) != VS_OK ||
	    (r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	for (i = 0; i < u.n_addresses && r == VS_OK; i++) {
		r = del_typed(txn, KV_ADDRESSES, u.addresses[i], err);
		if (r == VS_ENOTFOUND)
			r = VS_OK;      /* already gone: nothing to undo */
	}
	if (r == VS_OK)
		r = del_typed(txn, KV_USERS, u.login, err);
	vs_user_clear(&u);
	return r;
}

int
store_user_list(struct store_txn *txn, struct vs_user **list_r, size_t *n_r,
    struct vs_err *err)
{
	return list_typed(txn, KV_USERS, dec_user, sizeof(**list_r),
	    clear_user, (void **)list_r, n_r, err);
}

void
store_user_list_free(struct vs_user *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vs_user_clear(&list[i]);
	free(list);
}

/* --- addresses --- */

int
store_address_add(struct store_txn *txn, const char *address,
    const char *login, struct vs_err *err)
{
	char addr[NAME_BUF];
	struct vs_user u;
	int r;

	if ((r = need_write(txn, err)) != VS_OK ||
	    (r = name_address(address, fold(txn), false, addr, err)) != VS_OK ||
	    (r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	if (u.n_addresses >= REC_LIST_MAX) {
		r = vs_fail(err, VS_ELIMIT, "user %s already has %d addresses, "
		    "the most one user can have", u.login, REC_LIST_MAX);
		vs_user_clear(&u);
		return r;
	}
	if ((r = address_free(txn, addr, err)) == VS_OK &&
	    (r = address_put(txn, addr, u.login, err)) == VS_OK) {
		if ((r = vs_user_add_address(&u, addr)) != VS_OK)
			r = vs_fail(err, r, "cannot add %s to user %s", addr,
			    u.login);
		else
			r = put_typed(txn, KV_USERS, u.login, enc_user, &u,
			    false, err);
	}
	vs_user_clear(&u);
	return r;
}

int
store_address_del(struct store_txn *txn, const char *address,
    struct vs_err *err)
{
	struct vs_address a;
	struct vs_user u;
	int r;

	if ((r = need_write(txn, err)) != VS_OK ||
	    (r = store_address_get(txn, address, &a, err)) != VS_OK)
		return r;
	r = del_typed(txn, KV_ADDRESSES, a.address, err);
	if (r == VS_OK) {
		r = get_typed(txn, KV_USERS, a.login, dec_user, &u, err);
		if (r == VS_OK) {
			if (vs_user_del_address(&u, a.address) == VS_OK)
				r = put_typed(txn, KV_USERS, u.login,
				    enc_user, &u, false, err);
			vs_user_clear(&u);
		} else if (r == VS_ENOTFOUND) {
			r = VS_OK;      /* dangling address: now gone */
		}
	}
	vs_address_clear(&a);
	return r;
}

int
store_address_get(struct store_txn *txn, const char *address,
    struct vs_address *a_r, struct vs_err *err)
{
	char addr[NAME_BUF];
	int r;

	if ((r = name_address(address, fold(txn), false, addr, err)) != VS_OK)
		return r;
	r = get_typed(txn, KV_ADDRESSES, addr, dec_address, a_r, err);
	if (r == VS_ENOTFOUND)
		vs_fail(err, r, "address %s not found", addr);
	return r;
}

int
store_address_list(struct store_txn *txn, struct vs_address **list_r,
    size_t *n_r, struct vs_err *err)
{
	return list_typed(txn, KV_ADDRESSES, dec_address, sizeof(**list_r),
	    clear_address, (void **)list_r, n_r, err);
}

void
store_address_list_free(struct vs_address *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vs_address_clear(&list[i]);
	free(list);
}

/* --- aliases --- */

int
store_alias_put(struct store_txn *txn, const char *address,
    const char *const *dests, size_t n_dests, bool replace,
    struct vs_err *err)
{
	char addr[NAME_BUF], dest[NAME_BUF];
	struct vs_alias a;
	struct vs_address ma;
	size_t i, j;
	int r;

	if ((r = need_write(txn, err)) != VS_OK ||
	    (r = name_address(address, fold(txn), true, addr, err)) != VS_OK)
		return r;
	if (n_dests == 0 || n_dests > REC_LIST_MAX)
		return vs_fail(err, VS_EINVAL, "an alias needs 1 to %d "
		    "destinations", REC_LIST_MAX);
	if ((r = domain_exists(txn, name_domain_of(addr), err)) != VS_OK)
		return r;
	r = get_typed(txn, KV_ADDRESSES, addr, dec_address, &ma, err);
	if (r == VS_OK) {
		r = vs_fail(err, VS_EEXIST, "%s is a mailbox address of %s; "
		    "delete the address first", addr, ma.login);
		vs_address_clear(&ma);
		return r;
	}
	if (r != VS_ENOTFOUND)
		return r;
	memset(&a, 0, sizeof(a));
	a.address = addr;
	a.created = now();
	a.dests = calloc(n_dests, sizeof(char *));
	if (a.dests == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	r = VS_OK;
	for (i = 0; i < n_dests && r == VS_OK; i++) {
		r = name_address(dests[i], fold(txn), false, dest, err);
		for (j = 0; r == VS_OK && j < a.n_dests; j++)
			if (strcmp(a.dests[j], dest) == 0)
				r = vs_fail(err, VS_EINVAL,
				    "destination %s given twice", dest);
		if (r == VS_OK && strcmp(dest, addr) == 0)
			r = vs_fail(err, VS_EINVAL,
			    "alias %s points to itself", addr);
		if (r == VS_OK &&
		    (a.dests[a.n_dests] = vs_strdup(dest)) == NULL)
			r = vs_fail(err, VS_ENOMEM, "out of memory");
		if (r == VS_OK)
			a.n_dests++;
	}
	if (r == VS_OK) {
		r = put_typed(txn, KV_ALIASES, addr, enc_alias, &a, !replace,
		    err);
		if (r == VS_EEXIST)
			r = vs_fail(err, r, "alias %s already exists", addr);
	}
	for (i = 0; i < a.n_dests; i++)
		free(a.dests[i]);
	free(a.dests);
	return r;
}

int
store_alias_del(struct store_txn *txn, const char *address,
    struct vs_err *err)
{
	char addr[NAME_BUF];
	int r;

	if ((r = need_write(txn, err)) != VS_OK ||
	    (r = name_address(address, fold(txn), true, addr, err)) != VS_OK)
		return r;
	r = del_typed(txn, KV_ALIASES, addr, err);
	if (r == VS_ENOTFOUND)
		vs_fail(err, r, "alias %s not found", addr);
	return r;
}

int
store_alias_get(struct store_txn *txn, const char *address,
    struct vs_alias *a_r, struct vs_err *err)
{
	char addr[NAME_BUF];
	int r;

	if ((r = name_address(address, fold(txn), true, addr, err)) != VS_OK)
		return r;
	r = get_typed(txn, KV_ALIASES, addr, dec_alias, a_r, err);
	if (r == VS_ENOTFOUND)
		vs_fail(err, r, "alias %s not found", addr);
	return r;
}

/* --- the lookup path (store.h) --- */

int
store_name_address(struct store_txn *txn, const char *in,
    bool allow_catchall, char *out, struct vs_err *err)
{
	return name_address(in, fold(txn), allow_catchall, out, err);
}

int
store_domain_find(struct store_txn *txn, const char *domain,
    struct vs_domain *d_r, struct vs_err *err)
{
	return get_typed(txn, KV_DOMAINS, domain, dec_domain, d_r, err);
}

int
store_address_find(struct store_txn *txn, const char *address,
    struct vs_address *a_r, struct vs_err *err)
{
	return get_typed(txn, KV_ADDRESSES, address, dec_address, a_r, err);
}

int
store_alias_find(struct store_txn *txn, const char *address,
    struct vs_alias *a_r, struct vs_err *err)
{
	return get_typed(txn, KV_ALIASES, address, dec_alias, a_r, err);
}

int
store_alias_list(struct store_txn *txn, struct vs_alias **list_r,
    size_t *n_r, struct vs_err *err)
{
	return list_typed(txn, KV_ALIASES, dec_alias, sizeof(**list_r),
	    clear_alias, (void **)list_r, n_r, err);
}

/* --- append-only logs --- */

static enum kv_table
log_table(enum store_log log)
{
	return log == STORE_LOG_AUDIT ? KV_AUDIT : KV_EVENTS;
}

int
store_log_append(struct store_txn *txn, enum store_log log, const void *rec,
    size_t len, uint64_t *seq_r, struct vs_err *err)
{
	enum kv_table t = log_table(log);
	struct kv_val last;
	struct buf pt = { 0 };
	uint8_t key[8];
	uint64_t seq = 1;
	int r;

	if ((r = need_write(txn, err)) != VS_OK)
		return r;
	r = txn->kv->kv->ops->last(txn->kv, t, &last, err);
	if (r == VS_OK) {
		if (last.len != 8)
			return vs_fail(err, VS_ECORRUPT, "log key is malformed");
		seq = vs_get_u64be(last.data) + 1;
	} else if (r != VS_ENOTFOUND) {
		return r;
	}
	vs_put_u64be(key, seq);
	if ((r = buf_append(&pt, rec, len)) != 0) {
		buf_free(&pt);
		return vs_fail(err, r, "log record too large");
	}
	r = put_sealed(txn, t, key, sizeof(key), &pt, true, err);
	buf_free(&pt);
	if (r == VS_OK && seq_r != NULL)
		*seq_r = seq;
	return r;
}

struct log_iter {
	struct store_txn *txn;
	enum kv_table t;
	uint64_t from;
	store_log_cb *cb;
	void *ctx;
	struct vs_err *err;
	int result;
};

static int
log_iter_cb(void *vctx, const struct kv_val *key, const struct kv_val *val)
{
	struct log_iter *it = vctx;
	struct buf pt = { 0 };
	uint64_t seq;
	int r;

	if (key->len != 8) {
		it->result = vs_fail(it->err, VS_ECORRUPT,
		    "log key is malformed");
		return 1;
	}
	seq = vs_get_u64be(key->data);
	if (seq < it->from)
		return 0;
	r = seal_open(it->txn->st->keys, it->txn->st->store_id, (uint8_t)it->t,
	    key->data, key->len, val->data, val->len, &pt, it->err);
	if (r == VS_OK)
		r = it->cb(it->ctx, seq, pt.data, pt.len, it->err);
	buf_free(&pt);
	it->result = r;
	return r != VS_OK;
}

int
store_log_each(struct store_txn *txn, enum store_log log, uint64_t from,
    store_log_cb *cb, void *ctx, struct vs_err *err)
{
	struct log_iter it = { txn, log_table(log), from, cb, ctx, err, VS_OK };
	int r;

	r = kv_iter(txn->kv, it.t, log_iter_cb, &it, err);
	if (r != VS_OK && it.result != VS_OK)
		return it.result;
	return r;
}

struct trim_ctx {
	size_t skip;            /* entries to delete, oldest first */
	uint8_t (*keys)[8];
	size_t n;
};

static int
trim_cb(void *vctx, const struct kv_val *key, const struct kv_val *val)
{
	struct trim_ctx *t = vctx;

	(void)val;
	if (t->n >= t->skip || key->len != 8)
		return 1;
	memcpy(t->keys[t->n++], key->data, 8);
	return 0;
}

int
store_log_trim(struct store_txn *txn, enum store_log log, size_t keep,
    size_t *deleted_r, struct vs_err *err)
{
	enum kv_table t = log_table(log);
	struct trim_ctx tc = { 0, NULL, 0 };
	size_t n, i;
	int r;

	*deleted_r = 0;
	if ((r = need_write(txn, err)) != VS_OK ||
	    (r = txn->kv->kv->ops->count(txn->kv, t, &n, err)) != VS_OK)
		return r;
	if (n <= keep)
		return VS_OK;
	tc.skip = n - keep;
	if ((tc.keys = calloc(tc.skip, 8)) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	/* Collect first, delete after: no deleting under a cursor. */
	r = kv_iter(txn->kv, t, trim_cb, &tc, err);
	if (r == 1)
		r = VS_OK;
	for (i = 0; r == VS_OK && i < tc.n; i++)
		r = kv_del(txn->kv, t, tc.keys[i], 8, err);
	if (r == VS_OK)
		*deleted_r = tc.n;
	free(tc.keys);
	return r;
}

int
store_log_count(struct store_txn *txn, enum store_log log, size_t *n_r,
    struct vs_err *err)
{
	return txn->kv->kv->ops->count(txn->kv, log_table(log), n_r, err);
}

int
store_meta_get(struct store_txn *txn, const char *name, struct buf *out,
    struct vs_err *err)
{
	return get_sealed(txn, KV_META, name, strlen(name), out, err);
}

int
store_meta_put(struct store_txn *txn, const char *name, const void *val,
    size_t len, struct vs_err *err)
{
	struct buf pt = { 0 };
	int r;

	if ((r = need_write(txn, err)) != VS_OK)
		return r;
	if ((r = buf_append(&pt, val, len)) != 0) {
		buf_free(&pt);
		return vs_fail(err, r, "value too large");
	}
	r = put_sealed(txn, KV_META, name, strlen(name), &pt, false, err);
	buf_free(&pt);
	return r;
}

void
store_alias_list_free(struct vs_alias *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vs_alias_clear(&list[i]);
	free(list);
}

/* --- key slots and the key's life --- */

int
store_log_replace(struct store_txn *txn, enum store_log log, uint64_t seq,
    const void *rec, size_t len, struct vs_err *err)
{
	enum kv_table t = log_table(log);
	struct kv_val v;
	struct buf pt = { 0 };
	uint8_t key[8];
	int r;

	if ((r = need_write(txn, err)) != VS_OK)
		return r;
	vs_put_u64be(key, seq);
	r = kv_get(txn->kv, t, key, sizeof(key), &v, err);
	if (r == VS_ENOTFOUND)
		return vs_fail(err, r, "log entry %llu not found",
		    (unsigned long long)seq);
	if (r != VS_OK)
		return r;
	if ((r = buf_append(&pt, rec, len)) != 0) {
		buf_free(&pt);
		return vs_fail(err, r, "log record too large");
	}
	r = put_sealed(txn, t, key, sizeof(key), &pt, false, err);
	buf_free(&pt);
	return r;
}

void
store_slot_list(const struct store *st, struct store_slot out[SEAL_MAX_SLOTS],
    size_t *n_r)
{
	struct seal_slot_info info;
	uint8_t i;

	*n_r = 0;
	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		if (!st->has_slot[i] || seal_slot_info(st->slots[i],
		    SEAL_SLOT_BYTES, &info, NULL) != VS_OK)
			continue;
		out[*n_r].id = i;
		out[*n_r].type = info.type;
		out[*n_r].cost = info.cost;
		(*n_r)++;
	}
}

int
store_slot_match(struct store *st, const char *pass, size_t len,
    uint8_t *id_r, struct vs_err *err)
{
	struct seal_slot_info info;
	struct seal_keys *k = NULL;
	uint8_t i;
	int r;

	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		if (!st->has_slot[i] || seal_slot_info(st->slots[i],
		    SEAL_SLOT_BYTES, &info, NULL) != VS_OK ||
		    info.type != SEAL_SLOT_PASSPHRASE)
			continue;
		r = seal_slot_open_passphrase(st->slots[i], SEAL_SLOT_BYTES,
		    st->store_id, pass, len, &k, NULL);
		seal_keys_free(&k);
		if (r == VS_OK) {
			*id_r = i;
			return VS_OK;
		}
	}
	return vs_fail(err, VS_EBADKEY, "no passphrase slot opens with that "
	    "passphrase");
}

/* Slot writes of a transaction: kept aside and applied to the handle's
 * cache when it commits (store_txn_commit re-reads the meta table). */
static int
slot_put(struct store_txn *txn, uint8_t id, const uint8_t *slot,
    struct vs_err *err)
{
	char name[6];

	slot_name(id, name);
	txn->slots_changed = true;
	return kv_put(txn->kv, KV_META, name, strlen(name), slot,
	    SEAL_SLOT_BYTES, false, err);
}

static int
free_slot_id(struct store_txn *txn, uint8_t *id_r, struct vs_err *err)
{
	struct kv_val v;
	char name[6];
	uint8_t i;
	int r;

	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		slot_name(i, name);
		r = kv_get(txn->kv, KV_META, name, strlen(name), &v, err);
		if (r == VS_ENOTFOUND) {
			*id_r = i;
			return VS_OK;
		}
		if (r != VS_OK)
			return r;
	}
	return vs_fail(err, VS_ELIMIT, "all %d key slots are in use",
	    SEAL_MAX_SLOTS);
}

int
store_slot_add_passphrase(struct store_txn *txn, const char *pass,
    size_t len, const struct seal_slot_cost *cost, uint8_t *id_r,
    struct vs_err *err)
{
	struct store *st = txn->st;
	struct seal_slot_cost c = { crypto_pwhash_OPSLIMIT_MODERATE,
	    crypto_pwhash_MEMLIMIT_MODERATE };
	struct seal_slot_info info;
	uint8_t slot[SEAL_SLOT_BYTES], id, i;
	int r;

	if ((r = need_write(txn, err)) != VS_OK)
		return r;
	if (cost != NULL) {
		c = *cost;
	} else {
		/* As strong as the strongest passphrase slot already there. */
		bool first = true;

		for (i = 0; i < SEAL_MAX_SLOTS; i++)
			if (st->has_slot[i] && seal_slot_info(st->slots[i],
			    SEAL_SLOT_BYTES, &info, NULL) == VS_OK &&
			    info.type == SEAL_SLOT_PASSPHRASE &&
			    (first || info.cost.memlimit > c.memlimit)) {
				c = info.cost;
				first = false;
			}
	}
	if ((r = free_slot_id(txn, &id, err)) != VS_OK)
		return r;
	r = seal_slot_wrap_passphrase(st->keys, st->store_id, id, pass, len,
	    &c, slot, err);
	if (r == VS_OK)
		r = slot_put(txn, id, slot, err);
	if (r == VS_OK && id_r != NULL)
		*id_r = id;
	return r;
}

int
store_slot_remove(struct store_txn *txn, uint8_t id, struct vs_err *err)
{
	struct kv_val v;
	char name[6];
	uint8_t i;
	int r, others = 0;

	if ((r = need_write(txn, err)) != VS_OK)
		return r;
	if (id >= SEAL_MAX_SLOTS)
		return vs_fail(err, VS_EINVAL, "no key slot %u", id);
	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		slot_name(i, name);
		r = kv_get(txn->kv, KV_META, name, strlen(name), &v, err);
		if (r == VS_OK && i != id)
			others++;
		else if (r != VS_OK && r != VS_ENOTFOUND)
			return r;
	}
	if (others == 0)
		return vs_fail(err, VS_EINVAL, "key slot %u is the last way in: "
		    "add another passphrase first", id);
	slot_name(id, name);
	r = kv_del(txn->kv, KV_META, name, strlen(name), err);
	if (r == VS_ENOTFOUND)
		return vs_fail(err, r, "no key slot %u", id);
	txn->slots_changed = true;
	return r;
}

int
store_slot_new_recovery(struct store_txn *txn,
    uint8_t reckey_r[SEAL_KEY_BYTES], struct vs_err *err)
{
	struct store *st = txn->st;
	struct seal_slot_info info;
	uint8_t slot[SEAL_SLOT_BYTES], id, i;
	char name[6];
	int r;

	if ((r = need_write(txn, err)) != VS_OK)
		return r;
	/* The new slot first, then the old ones go: never no way in. */
	if ((r = free_slot_id(txn, &id, err)) != VS_OK)
		return r;
	randombytes_buf(reckey_r, SEAL_KEY_BYTES);
	r = seal_slot_wrap_recovery(st->keys, st->store_id, id, reckey_r,
	    slot, err);
	if (r == VS_OK)
		r = slot_put(txn, id, slot, err);
	for (i = 0; r == VS_OK && i < SEAL_MAX_SLOTS; i++) {
		if (i == id || !st->has_slot[i] ||
		    seal_slot_info(st->slots[i], SEAL_SLOT_BYTES, &info,
		    NULL) != VS_OK || info.type != SEAL_SLOT_RECOVERY)
			continue;
		slot_name(i, name);
		r = kv_del(txn->kv, KV_META, name, strlen(name), err);
		if (r == VS_ENOTFOUND)
			r = VS_OK;
	}
	if (r != VS_OK)
		sodium_memzero(reckey_r, SEAL_KEY_BYTES);
	return r;
}

/* --- rotate --- */

struct kvpair {
	uint8_t *key, *val;
	size_t klen, vlen;
};

struct collect {
	struct kvpair *p;
	size_t n, cap;
	int rc;
};

static int
collect_cb(void *vctx, const struct kv_val *key, const struct kv_val *val)
{
	struct collect *c = vctx;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct kvpair *np = realloc(c->p, ncap * sizeof(*np));

		if (np == NULL) {
			c->rc = VS_ENOMEM;
			return 1;
		}
		c->p = np;
		c->cap = ncap;
	}
	c->p[c->n].key = malloc(key->len);
	c->p[c->n].val = malloc(val->len);
	if (c->p[c->n].key == NULL || c->p[c->n].val == NULL) {
		free(c->p[c->n].key);
		free(c->p[c->n].val);
		c->rc = VS_ENOMEM;
		return 1;
	}
	memcpy(c->p[c->n].key, key->data, key->len);
	memcpy(c->p[c->n].val, val->data, val->len);
	c->p[c->n].klen = key->len;
	c->p[c->n].vlen = val->len;
	c->n++;
	return 0;
}

static void
collect_free(struct collect *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->p[i].key);
		free(c->p[i].val);
	}
	free(c->p);
	memset(c, 0, sizeof(*c));
}

static int
collect_table(struct store_txn *txn, enum kv_table t, struct collect *c,
    struct vs_err *err)
{
	int r;

	memset(c, 0, sizeof(*c));
	r = kv_iter(txn->kv, t, collect_cb, c, err);
	if (c->rc != VS_OK)
		return vs_fail(err, c->rc, "out of memory");
	return r;
}

/* The name a record is indexed by: its first field (tag 1). */
static int
record_name(const struct buf *pt, char *out, struct vs_err *err)
{
	struct rec_field *f;
	size_t n;
	int r;

	if ((r = rec_parse(pt->data, pt->len, &f, &n, err)) != VS_OK)
		return r;
	if (n == 0 || f[0].tag != 1 || f[0].len == 0 || f[0].len >= NAME_BUF) {
		free(f);
		return vs_fail(err, VS_ECORRUPT, "record has no name");
	}
	memcpy(out, f[0].val, f[0].len);
	out[f[0].len] = '\0';
	free(f);
	return VS_OK;
}

/* Re-seal one table's records under nk; named tables are re-indexed. */
static int
rotate_table(struct store_txn *txn, enum kv_table t, bool named,
    struct seal_keys *nk, store_progress_fn *progress, void *ctx,
    size_t *done, size_t total, struct vs_err *err)
{
	struct store *st = txn->st;
	struct collect c;
	struct buf pt = { 0 }, ct = { 0 };
	uint8_t idx[SEAL_INDEX_BYTES];
	char name[NAME_BUF];
	size_t i;
	int r;

	if ((r = collect_table(txn, t, &c, err)) != VS_OK) {
		collect_free(&c);
		return r;
	}
	/* Delete every old entry first: the new keys are new indexes. */
	for (i = 0; r == VS_OK && named && i < c.n; i++)
		r = kv_del(txn->kv, t, c.p[i].key, c.p[i].klen, err);
	for (i = 0; r == VS_OK && i < c.n; i++) {
		const uint8_t *key = c.p[i].key;
		size_t klen = c.p[i].klen;

		r = seal_open(st->keys, st->store_id, (uint8_t)t, key, klen,
		    c.p[i].val, c.p[i].vlen, &pt, err);
		if (r == VS_OK && named) {
			r = record_name(&pt, name, err);
			if (r == VS_OK) {
				seal_index(nk, (uint8_t)t, name, strlen(name),
				    idx);
				key = idx;
				klen = sizeof(idx);
			}
		}
		if (r == VS_OK)
			r = seal_record(nk, st->store_id, (uint8_t)t, key, klen,
			    pt.data, pt.len, &ct, err);
		if (r == VS_OK)
			r = kv_put(txn->kv, t, key, klen, ct.data, ct.len,
			    named, err);
		if (r == VS_EEXIST)
			r = vs_fail(err, VS_ECORRUPT, "two records with one "
			    "name in the %s table", named ? "same" : "log");
		(*done)++;
		if (progress != NULL && (*done % 1000 == 0 || *done == total))
			progress(ctx, *done, total);
	}
	buf_free(&pt);
	buf_free(&ct);
	collect_free(&c);
	return r;
}

static int
rotate_meta(struct store_txn *txn, const char *name, struct seal_keys *nk,
    struct vs_err *err)
{
	struct store *st = txn->st;
	struct buf pt = { 0 }, ct = { 0 };
	int r;

	r = get_sealed(txn, KV_META, name, strlen(name), &pt, err);
	if (r == VS_ENOTFOUND) {
		vs_err_clear(err);
		return VS_OK;
	}
	if (r == VS_OK)
		r = seal_record(nk, st->store_id, KV_META, name, strlen(name),
		    pt.data, pt.len, &ct, err);
	if (r == VS_OK)
		r = kv_put(txn->kv, KV_META, name, strlen(name), ct.data,
		    ct.len, false, err);
	buf_free(&pt);
	buf_free(&ct);
	return r;
}

int
store_rotate(struct store *st, const char *pass, size_t len,
    uint8_t reckey_r[SEAL_KEY_BYTES], store_after_fn *after,
    store_progress_fn *progress, void *ctx, struct vs_err *err)
{
	static const enum kv_table named[] = { KV_DOMAINS, KV_USERS,
	    KV_ADDRESSES, KV_ALIASES };
	struct seal_keys *nk = NULL, *old;
	struct seal_slot_info info;
	struct store_txn *txn = NULL;
	struct seal_slot_cost cost = { crypto_pwhash_OPSLIMIT_MODERATE,
	    crypto_pwhash_MEMLIMIT_MODERATE };
	uint8_t slot[SEAL_SLOT_BYTES], pid;
	size_t total = 0, done = 0, n, i;
	char name[6];
	int r;

	if (st->keys == NULL)
		return vs_fail(err, VS_ESEALED, "the store is sealed");
	/* The passphrase that unsealed the handle is known by its keyed
	 * hash; any other is checked against the slots (Argon2id). */
	{
		uint8_t mac[32];

		crypto_generichash(mac, sizeof(mac), (const uint8_t *)pass, len,
		    st->pass_mac_key, sizeof(st->pass_mac_key));
		/* ...and only while its slot is still there, unchanged: a
		 * removed passphrase must not come back with the new key. */
		if (st->unsealed_slot >= 0 &&
		    st->has_slot[st->unsealed_slot] &&
		    memcmp(st->slots[st->unsealed_slot], st->unsealed_blob,
		    SEAL_SLOT_BYTES) == 0 &&
		    sodium_memcmp(mac, st->pass_mac, sizeof(mac)) == 0)
			pid = (uint8_t)st->unsealed_slot;
		else if ((r = store_slot_match(st, pass, len, &pid, err)) !=
		    VS_OK)
			return r;
		sodium_memzero(mac, sizeof(mac));
	}
	if (seal_slot_info(st->slots[pid], SEAL_SLOT_BYTES, &info, NULL) ==
	    VS_OK)
		cost = info.cost;
	if ((r = seal_keys_new(&nk, err)) != VS_OK)
		return r;
	if ((r = store_txn_begin(st, true, &txn, err)) != VS_OK) {
		seal_keys_free(&nk);
		return r;
	}
	for (i = 0; i < 4; i++) {
		if ((r = txn->kv->kv->ops->count(txn->kv, named[i], &n, err)) !=
		    VS_OK)
			goto fail;
		total += n;
	}
	for (i = 0; r == VS_OK && i < 4; i++)
		r = rotate_table(txn, named[i], true, nk, progress, ctx, &done,
		    total, err);
	if (r == VS_OK)
		r = rotate_table(txn, KV_EVENTS, false, nk, NULL, NULL, &done,
		    total, err);
	if (r == VS_OK)
		r = rotate_table(txn, KV_AUDIT, false, nk, NULL, NULL, &done,
		    total, err);
	if (r == VS_OK)
		r = rotate_meta(txn, META_SETTINGS, nk, err);
	if (r == VS_OK)
		r = rotate_meta(txn, "audit_head", nk, err);
	if (r != VS_OK)
		goto fail;
	/* Slots: every old one goes; the typed passphrase and a new recovery
	 * key wrap the new key. */
	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		slot_name((uint8_t)i, name);
		r = kv_del(txn->kv, KV_META, name, strlen(name), err);
		if (r != VS_OK && r != VS_ENOTFOUND)
			goto fail;
	}
	r = seal_slot_wrap_passphrase(nk, st->store_id, SLOT_PASSPHRASE0, pass,
	    len, &cost, slot, err);
	if (r == VS_OK)
		r = slot_put(txn, SLOT_PASSPHRASE0, slot, err);
	if (r == VS_OK) {
		randombytes_buf(reckey_r, SEAL_KEY_BYTES);
		r = seal_slot_wrap_recovery(nk, st->store_id, SLOT_RECOVERY,
		    reckey_r, slot, err);
	}
	if (r == VS_OK)
		r = slot_put(txn, SLOT_RECOVERY, slot, err);
	if (r != VS_OK)
		goto fail;
	/* From here the handle uses the new key (the audit chain is made
	 * with it); if the commit fails the old key comes back. */
	old = st->keys;
	st->keys = nk;
	if (after != NULL && (r = after(txn, err)) != VS_OK) {
		st->keys = old;
		goto fail;
	}
	r = store_txn_commit(&txn, err);
	if (r != VS_OK) {
		st->keys = old;
		seal_keys_free(&nk);
		sodium_memzero(reckey_r, SEAL_KEY_BYTES);
		return r;
	}
	seal_keys_free(&old);
	return VS_OK;
fail:
	store_txn_abort(&txn);
	seal_keys_free(&nk);
	sodium_memzero(reckey_r, SEAL_KEY_BYTES);
	return r;
}

/* --- backup and verify --- */

int
store_backup(struct store *st, const char *dest, struct vs_err *err)
{
	int r;

	if ((r = ensure_dir(dest, err)) != VS_OK)
		return r;
	if (has_store(dest))
		return vs_fail(err, VS_EEXIST, "%s already holds a store", dest);
	if ((r = st->kv->ops->copy(st->kv, dest, err)) != VS_OK)
		return r;
	/* As private as the store itself, wherever the files travel. */
	{
		char path[4096];

		snprintf(path, sizeof(path), "%s/data.mdb", dest);
		if (chmod(path, 0600) != 0)
			return vs_fail(err, VS_EIO, "cannot chmod %s: %s", path,
			    strerror(errno));
	}
	return VS_OK;
}

struct verify_ctx {
	struct store_txn *txn;
	enum kv_table t;
	struct store_verify_report *rep;
	size_t pos;
};

static int
verify_cb(void *vctx, const struct kv_val *key, const struct kv_val *val)
{
	static const char *const names[] = { "meta", "domains", "users",
	    "addresses", "aliases", "events", "audit" };
	struct verify_ctx *v = vctx;
	struct buf pt = { 0 };

	v->pos++;
	if (v->t == KV_META && !(key->len == strlen(META_SETTINGS) &&
	    memcmp(key->data, META_SETTINGS, key->len) == 0) &&
	    !(key->len == 10 && memcmp(key->data, "audit_head", 10) == 0))
		return 0;       /* format, store id, slots: not sealed */
	v->rep->records++;
	if (seal_open(v->txn->st->keys, v->txn->st->store_id, (uint8_t)v->t,
	    key->data, key->len, val->data, val->len, &pt, NULL) != VS_OK) {
		if (v->rep->bad++ == 0)
			snprintf(v->rep->first_bad, sizeof(v->rep->first_bad),
			    "%s record %zu", names[v->t], v->pos);
	}
	buf_free(&pt);
	return 0;
}

int
store_verify(struct store_txn *txn, struct store_verify_report *rep,
    struct vs_err *err)
{
	struct verify_ctx v = { txn, KV_META, rep, 0 };
	int r = VS_OK, t;

	memset(rep, 0, sizeof(*rep));
	for (t = 0; t < KV_TABLE_COUNT && r == VS_OK; t++) {
		v.t = (enum kv_table)t;
		v.pos = 0;
		r = kv_iter(txn->kv, v.t, verify_cb, &v, err);
	}
	return r;
}
