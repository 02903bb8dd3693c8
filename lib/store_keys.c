/*
 * store_keys.c - the key's life in the store: unsealing a handle (one
 * entry, store_unseal(), for a passphrase, the recovery key or a key file),
 * key slots, rotate, backup and verify; and the store's locations
 * (store.h: which backend, and the form that may be shown - never a
 * conninfo's password; here for store.c's size, lib/store_loc.c would do).
 *
 * Security stance: the root key and passphrases are only in caller buffers
 * and sodium_malloc'd seal_keys; every temporary copy is wiped.  A backup
 * is written as root into a folder that may be reached by others: it is
 * created or opened without following links, refused unless it belongs
 * to the running uid, and written through its descriptor only.  A
 * PostgreSQL store is not copied here: pg_dump does it, and its output is
 * as sealed as the table.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kv.h"
#include "names.h"
#include "pwhash.h"
#include "reckey.h"
#include "store.h"
#include "mailwrap.h"
#include "store_int.h"

/* --- unsealing --- */

/* A PostgreSQL store is shared: another host may have added, removed or
 * rewrapped a key slot since this handle read them (at open, or when a
 * write of its own followed another host's head): read them again from
 * the database before trying them, so that a passphrase added on another
 * host unseals here without a restart, and a removed one no longer does.
 * An LMDB store has one writer, and the handle's copy is current. */
static int
reread_slots(struct store *st, struct vs_err *err)
{
	struct kv_txn *kt;
	int r;

	if (st->backend != STORE_BACKEND_PG)
		return VS_OK;
	if ((r = kv_txn_begin(st->kv, false, &kt, err)) != VS_OK)
		return r;
	r = sti_read_slots(st, kt, err);
	kv_txn_abort(kt);
	return r;
}

int
store_unseal(struct store *st, const char *secret, size_t len,
    enum store_unseal_kind kind, struct vs_err *err)
{
	uint8_t key[RECKEY_BYTES];
	int r;

	store_seal(st);         /* whatever happens, not the old key */
	switch (kind) {
	case STORE_UNSEAL_PASSPHRASE:
		return store_unseal_passphrase(st, secret, len, err);
	case STORE_UNSEAL_KEYFILE:
		/* A file ends with a newline (or CRLF): not part of it. */
		while (len > 0 && (secret[len - 1] == '\n' ||
		    secret[len - 1] == '\r'))
			len--;
		if (len == 0)
			return vs_fail(err, VS_EBADKEY, "the key file is empty");
		return store_unseal_passphrase(st, secret, len, err);
	case STORE_UNSEAL_RECOVERY:
		if ((r = reckey_decode(secret, len, key, err)) == VS_OK)
			r = store_unseal_recovery(st, key, err);
		sodium_memzero(key, sizeof(key));
		return r;
	}
	return vs_fail(err, VS_EINVAL, "unknown way to unseal (%d)", (int)kind);
}

int
store_unseal_passphrase(struct store *st, const char *pass, size_t passlen,
    struct vs_err *err)
{
	struct seal_slot_info info;
	uint8_t i;
	int r, tried = 0;

	store_seal(st);
	if ((r = reread_slots(st, err)) != VS_OK)
		return r;
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
			return sti_load_settings(st, err);
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
	if ((r = reread_slots(st, err)) != VS_OK)
		return r;
	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		if (!st->has_slot[i] ||
		    seal_slot_info(st->slots[i], SEAL_SLOT_BYTES, &info,
		    NULL) != VS_OK || info.type != SEAL_SLOT_RECOVERY)
			continue;
		r = seal_slot_open_recovery(st->slots[i], SEAL_SLOT_BYTES,
		    st->store_id, reckey, &st->keys, err);
		if (r == VS_OK)
			return sti_load_settings(st, err);
		if (r != VS_EBADKEY)
			return r;
	}
	return vs_fail(err, VS_EBADKEY, "wrong recovery key");
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

	sti_slot_name(id, name);
	txn->slots_changed = true;
	return sti_kv_put(txn, KV_META, name, strlen(name), slot,
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
		sti_slot_name(i, name);
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

	if ((r = sti_need_write(txn, err)) != VS_OK)
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

	if ((r = sti_need_write(txn, err)) != VS_OK)
		return r;
	if (id >= SEAL_MAX_SLOTS)
		return vs_fail(err, VS_EINVAL, "no key slot %u", id);
	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		sti_slot_name(i, name);
		r = kv_get(txn->kv, KV_META, name, strlen(name), &v, err);
		if (r == VS_OK && i != id)
			others++;
		else if (r != VS_OK && r != VS_ENOTFOUND)
			return r;
	}
	if (others == 0)
		return vs_fail(err, VS_EINVAL, "key slot %u is the last way in: "
		    "add another passphrase first", id);
	sti_slot_name(id, name);
	r = sti_kv_del(txn, KV_META, name, strlen(name), err);
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

	if ((r = sti_need_write(txn, err)) != VS_OK)
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
		sti_slot_name(i, name);
		r = sti_kv_del(txn, KV_META, name, strlen(name), err);
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
		r = sti_kv_del(txn, t, c.p[i].key, c.p[i].klen, err);
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
			r = sti_kv_put(txn, t, key, klen, ct.data, ct.len,
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

	r = sti_get_sealed(txn, KV_META, name, strlen(name), &pt, err);
	if (r == VS_ENOTFOUND) {
		vs_err_clear(err);
		return VS_OK;
	}
	if (r == VS_OK)
		r = seal_record(nk, st->store_id, KV_META, name, strlen(name),
		    pt.data, pt.len, &ct, err);
	if (r == VS_OK)
		r = sti_kv_put(txn, KV_META, name, strlen(name), ct.data,
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
		if ((r = kv_count(txn->kv, named[i], &n, err)) !=
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
		r = rotate_meta(txn, META_AUDIT_HEAD, nk, err);
	if (r == VS_OK)
		r = rotate_meta(txn, MAILWRAP_META, nk, err);
	if (r != VS_OK)
		goto fail;
	/* Slots: every old one goes; the typed passphrase and a new recovery
	 * key wrap the new key. */
	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		sti_slot_name((uint8_t)i, name);
		r = sti_kv_del(txn, KV_META, name, strlen(name), err);
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
	/* The head's hashes are keyed: all of them again, with the new
	 * key (the generation goes on). */
	{
		uint64_t gen = txn->head.generation;

		if ((r = sti_head_compute(st, txn->kv, &txn->head, err)) !=
		    VS_OK) {
			st->keys = old;
			goto fail;
		}
		txn->head.generation = gen;
		txn->head_dirty = true;
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
	struct stat sb;
	int dfd, fd, r;

	if (st->backend != STORE_BACKEND_LMDB)
		return vs_fail(err, VS_EINVAL, "%s is a PostgreSQL store: back "
		    "it up with pg_dump (what it writes is as sealed as the "
		    "table); vmseal backup copies LMDB stores", st->dir);
	if ((r = sti_open_dir(dest, &dfd, err)) != VS_OK)
		return r;
	if (fstatat(dfd, "data.mdb", &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		close(dfd);
		return vs_fail(err, VS_EEXIST, "%s already holds a store (or "
		    "a data.mdb)", dest);
	}
	/* A new file, never one planted there (O_EXCL, no link followed),
	 * as private as the store itself wherever the files travel. */
	fd = openat(dfd, "data.mdb", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		r = vs_fail(err, errno == EEXIST ? VS_EEXIST : VS_EIO,
		    "cannot create %s/data.mdb: %s", dest, strerror(errno));
		close(dfd);
		return r;
	}
	if ((r = kv_copy(st->kv, fd, err)) == VS_OK && (fchmod(fd, 0600) != 0 ||
	    fsync(fd) != 0))
		r = vs_fail(err, VS_EIO, "cannot write %s/data.mdb: %s", dest,
		    strerror(errno));
	if (close(fd) != 0 && r == VS_OK)
		r = vs_fail(err, VS_EIO, "cannot write %s/data.mdb: %s", dest,
		    strerror(errno));
	if (r != VS_OK)
		(void)unlinkat(dfd, "data.mdb", 0);
	close(dfd);
	return r;
}

static bool
meta_is_sealed(const struct kv_val *key)
{
	static const char *const sealed[] = { META_SETTINGS, META_AUDIT_HEAD,
	    META_HEAD, MAILWRAP_META };
	size_t i;

	for (i = 0; i < sizeof(sealed) / sizeof(sealed[0]); i++)
		if (key->len == strlen(sealed[i]) &&
		    memcmp(key->data, sealed[i], key->len) == 0)
			return true;
	return false;
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
	if (v->t == KV_META && !meta_is_sealed(key))
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
	if (r != VS_OK)
		return r;
	/* And every entry against the head: nothing put back, deleted or
	 * added outside vmseal. */
	{
		struct vs_err e;

		vs_err_clear(&e);
		r = store_head_verify(txn, STORE_HEAD_ALL, &e);
		rep->head_ok = r == VS_OK || r == VS_ENOTFOUND;
		if (r == VS_ENOTFOUND || r == VS_ECORRUPT)
			snprintf(rep->head_problem, sizeof(rep->head_problem),
			    "%s", e.msg);
		else if (r != VS_OK)
			return vs_fail(err, r, "%s", e.msg);
	}
	return VS_OK;
}
