/*
 * store.c - the encrypted store (see store.h): the handle, its lock and
 * meta entries, transactions, and sealed and typed get/put by name.  The
 * rest of the store is in store_records.c (domains, users, addresses,
 * aliases and their rules), store_log.c (append-only logs, meta values) and
 * store_keys.c (unseal, key slots, rotate, backup, verify) and store_head.c
 * (the head: rollback detection); store_int.h is what they share.  Every
 * backend operation goes through kv.h's wrappers, every write through
 * sti_kv_put()/sti_kv_del() (store_head.c), which keep the head.
 *
 * Layout in the kv tables:
 *   meta:      "format" -> u32 STORE_FORMAT
 *              "store_id" -> 16 random bytes
 *              "slot0".."slot7" -> keyslots (seal.h)
 *              "settings" -> sealed struct vs_settings
 *              "audit_head" -> sealed (audit.h)
 *              "head" -> sealed head (store.h, "The head")
 *   domains, users, addresses, aliases:
 *              blind index (32 bytes) -> sealed record (record.h)
 *
 * Locations (store.h): an LMDB folder, or a PostgreSQL database
 * (kv_pg.h).  An LMDB writer holds the flock DIR/vmseal.lock: one writer.
 * A PostgreSQL store has no lock - several hosts share it - and what
 * replaces the single writer is the backend's SERIALIZABLE write
 * transactions: a conflict is VS_EBUSY with nothing written.  The head
 * follows another writer's commits and store_write() runs a write
 * transaction again after a conflict (both in store_head.c); the CLI
 * re-runs whole commands (admin/cli_util.c).  A conninfo may hold a password: the
 * handle keeps only the shown form (store_location_show), the backend
 * wipes its copy.
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
#ifdef HAVE_PQ
#include "kv_pg.h"
#endif
#include "names.h"
#include "pwhash.h"
#include "store.h"

#include "store_int.h"

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

/* --- sealed get/put --- */

void
sti_index_of(const struct store *st, enum kv_table t, const char *name,
    uint8_t idx[SEAL_INDEX_BYTES])
{
	seal_index(st->keys, (uint8_t)t, name, strlen(name), idx);
}

int
sti_put_sealed(struct store_txn *txn, enum kv_table t, const void *key,
    size_t klen, const struct buf *pt, bool no_overwrite, struct vs_err *err)
{
	struct buf ct = { 0 };
	int r;

	r = seal_record(txn->st->keys, txn->st->store_id, (uint8_t)t, key,
	    klen, pt->data, pt->len, &ct, err);
	if (r == VS_OK)
		r = sti_kv_put(txn, t, key, klen, ct.data, ct.len,
		    no_overwrite, err);
	buf_free(&ct);
	return r;
}

/* Fetch and open a record; VS_ENOTFOUND is returned without touching err
 * so callers can word it. */
int
sti_get_sealed(struct store_txn *txn, enum kv_table t, const void *key,
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

int
sti_iter_open(struct store_txn *txn, enum kv_table t,
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

/* Open a PostgreSQL store's backend (flags: KV_OPEN_*). */
static int
open_pg(const char *conninfo, unsigned flags, struct kv **kv_r,
    struct vs_err *err)
{
#ifdef HAVE_PQ
	return kv_pg_open(conninfo, flags, kv_r, err);
#else
	(void)conninfo;
	(void)flags;
	(void)kv_r;
	return vs_fail(err, VS_EINVAL, "this vmseal was built without "
	    "PostgreSQL support");
#endif
}

/* --- lifecycle --- */

int
sti_open_dir(const char *dir, int *fd_r, struct vs_err *err)
{
	struct stat sb;
	int fd;

	/* mkdir never follows a link; open with O_NOFOLLOW refuses one
	 * planted in its place; everything after goes through the fd. */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return vs_fail(err, VS_EIO, "cannot create %s: %s", dir,
		    strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ELOOP || e == ENOTDIR)
			return vs_fail(err, VS_EINVAL, "%s is a symbolic link "
			    "or not a folder: refused", dir);
		return vs_fail(err, VS_EIO, "cannot open %s: %s", dir,
		    strerror(e));
	}
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return vs_fail(err, VS_EIO, "cannot stat %s: %s", dir,
		    strerror(errno));
	}
	if (!S_ISDIR(sb.st_mode)) {
		close(fd);
		return vs_fail(err, VS_EINVAL, "%s is not a folder", dir);
	}
	if (sb.st_uid != geteuid()) {
		close(fd);
		return vs_fail(err, VS_EINVAL, "%s belongs to uid %lu, not to "
		    "uid %lu (running): refused", dir,
		    (unsigned long)sb.st_uid, (unsigned long)geteuid());
	}
	if ((sb.st_mode & 077) != 0 && fchmod(fd, 0700) != 0) {
		int e = errno;

		close(fd);
		return vs_fail(err, VS_EIO, "cannot set mode 0700 on %s: %s",
		    dir, strerror(e));
	}
	*fd_r = fd;
	return VS_OK;
}

int
sti_ensure_dir(const char *dir, struct vs_err *err)
{
	int fd, r;

	if ((r = sti_open_dir(dir, &fd, err)) == VS_OK)
		close(fd);
	return r;
}

bool
sti_has_store(const char *dir)
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
	r = sti_put_sealed(txn, KV_META, META_SETTINGS, strlen(META_SETTINGS),
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
	struct kv_val v;
	uint8_t fmt[4], slot[SEAL_SLOT_BYTES];
	char name[6];
	int r;

	const char *rest;

	memset(&st, 0, sizeof(st));
	memset(&txn, 0, sizeof(txn));
	st.lockfd = -1;
	if (store_location(dir, &rest) == STORE_BACKEND_PG) {
		char shown[STORE_SHOW_MAX];

		store_location_show(dir, shown);
		if ((r = open_pg(rest, KV_OPEN_CREATE, &st.kv, err)) != VS_OK)
			return r;
		/* The table may be there already (made above or by another
		 * host): a store is there when it has a format number. */
		if ((r = kv_txn_begin(st.kv, false, &kt, err)) != VS_OK)
			goto out;
		r = kv_get(kt, KV_META, META_FORMAT, strlen(META_FORMAT), &v,
		    err);
		kv_txn_abort(kt);
		kt = NULL;
		if (r == VS_OK)
			r = vs_fail(err, VS_EEXIST, "a store already exists in "
			    "%s", shown);
		if (r != VS_ENOTFOUND)
			goto out;
		vs_err_clear(err);
	} else {
		dir = rest;
		if ((r = sti_ensure_dir(dir, err)) != VS_OK)
			return r;
		if (sti_has_store(dir))
			return vs_fail(err, VS_EEXIST, "a store already exists "
			    "in %s", dir);
		if ((r = take_lock(dir, &st.lockfd, err)) != VS_OK)
			return r;
		if ((r = kv_lmdb_open(dir, KV_OPEN_CREATE, 0, &st.kv, err)) !=
		    VS_OK)
			goto out;
	}
	if ((r = seal_keys_new(&st.keys, err)) != VS_OK)
		goto out;
	randombytes_buf(st.store_id, sizeof(st.store_id));
	randombytes_buf(reckey_r, SEAL_KEY_BYTES);
	if ((r = kv_txn_begin(st.kv, true, &kt, err)) != VS_OK)
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
	sti_slot_name(SLOT_PASSPHRASE0, name);
	if ((r = kv_put(kt, KV_META, name, strlen(name), slot, sizeof(slot),
	    true, err)) != VS_OK)
		goto out;
	if ((r = seal_slot_wrap_recovery(st.keys, st.store_id, SLOT_RECOVERY,
	    reckey_r, slot, err)) != VS_OK)
		goto out;
	sti_slot_name(SLOT_RECOVERY, name);
	if ((r = kv_put(kt, KV_META, name, strlen(name), slot, sizeof(slot),
	    true, err)) != VS_OK)
		goto out;
	if ((r = write_settings(&txn, &p->settings, err)) != VS_OK)
		goto out;
	/* The first head: generation 1, over everything above. */
	if ((r = sti_head_compute(&st, kt, &txn.head, err)) != VS_OK)
		goto out;
	txn.head.generation = 1;
	if ((r = sti_head_put(&st, kt, &txn.head, txn.head_ct_hash, err)) !=
	    VS_OK)
		goto out;
	r = kv_txn_commit(kt, err);
	kt = NULL;
out:
	if (kt != NULL)
		kv_txn_abort(kt);
	if (r != VS_OK)
		sodium_memzero(reckey_r, SEAL_KEY_BYTES);
	seal_keys_free(&st.keys);
	kv_close(&st.kv);
	if (st.lockfd >= 0)
		close(st.lockfd);
	return r;
}

int
sti_read_meta(struct store *st, struct vs_err *err)
{
	struct kv_txn *kt;
	struct kv_val v;
	int r;

	if ((r = kv_txn_begin(st->kv, false, &kt, err)) != VS_OK)
		return r;
	r = kv_get(kt, KV_META, META_FORMAT, strlen(META_FORMAT), &v, err);
	if (r == VS_ENOTFOUND && st->backend == STORE_BACKEND_PG) {
		/* The table without a store (made by an init that did not
		 * finish, or by hand). */
		r = vs_fail(err, VS_ENOTFOUND, "no vmseal store in %s (create "
		    "one with vmseal init)", st->dir);
		goto out;
	}
	if (r == VS_ENOTFOUND || (r == VS_OK && v.len != 4)) {
		r = vs_fail(err, VS_ECORRUPT, "store in %s has no valid format "
		    "number", st->dir);
		goto out;
	}
	if (r != VS_OK)
		goto out;
	if (vs_get_u32be(v.data) != STORE_FORMAT &&
	    vs_get_u32be(v.data) != STORE_FORMAT_NOHEAD) {
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
	r = sti_read_slots(st, kt, err);
out:
	kv_txn_abort(kt);
	return r;
}

int
sti_read_slots(struct store *st, struct kv_txn *kt, struct vs_err *err)
{
	uint8_t slots[SEAL_MAX_SLOTS][SEAL_SLOT_BYTES];
	bool has[SEAL_MAX_SLOTS];
	struct kv_val v;
	char name[6];
	uint8_t i;
	int r, nslots = 0;

	memset(has, 0, sizeof(has));
	for (i = 0; i < SEAL_MAX_SLOTS; i++) {
		sti_slot_name(i, name);
		r = kv_get(kt, KV_META, name, strlen(name), &v, err);
		if (r == VS_ENOTFOUND)
			continue;
		if (r != VS_OK)
			return r;
		if (v.len != SEAL_SLOT_BYTES)
			return vs_fail(err, VS_ECORRUPT, "key slot %u is "
			    "malformed", i);
		memcpy(slots[i], v.data, SEAL_SLOT_BYTES);
		has[i] = true;
		nslots++;
	}
	if (nslots == 0)
		return vs_fail(err, VS_ECORRUPT, "store has no key slot");
	for (i = 0; i < SEAL_MAX_SLOTS; i++)
		if (has[i])
			memcpy(st->slots[i], slots[i], SEAL_SLOT_BYTES);
	memcpy(st->has_slot, has, sizeof(has));
	return VS_OK;
}

int
store_open(const char *dir, unsigned flags, struct store **st_r,
    struct vs_err *err)
{
	struct store *st;
	struct stat sb;
	char shown[STORE_SHOW_MAX];
	enum store_backend be;
	const char *rest;
	int r;

	be = store_location(dir, &rest);
	store_location_show(dir, shown);
	if (be == STORE_BACKEND_LMDB) {
		dir = rest;
		if (stat(dir, &sb) != 0)
			return vs_fail(err, errno == ENOENT ? VS_ENOTFOUND :
			    VS_EIO, "cannot open store %s: %s", dir,
			    strerror(errno));
		if (!S_ISDIR(sb.st_mode))
			return vs_fail(err, VS_EINVAL, "%s is not a folder",
			    dir);
		/* LMDB would create empty files in a folder without a
		 * store; those would then block "vmseal init".  Look before
		 * opening. */
		if (!sti_has_store(dir))
			return vs_fail(err, VS_ENOTFOUND, "no vmseal store in "
			    "%s (create one with vmseal init)", dir);
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->dir = vs_strdup(shown)) == NULL) {
		free(st);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	st->backend = be;
	st->lockfd = -1;
	st->unsealed_slot = -1;
	st->flags = flags;
	pthread_mutex_init(&st->head_mu, NULL);
	if (be == STORE_BACKEND_PG) {
		/* No lock: SERIALIZABLE transactions instead (above). */
		r = open_pg(rest, (flags & STORE_OPEN_WRITE) ? 0 :
		    KV_OPEN_RDONLY, &st->kv, err);
		if (r == VS_ENOTFOUND)
			vs_fail(err, r, "no vmseal store in %s (create one "
			    "with vmseal init)", shown);
		if (r != VS_OK)
			goto fail;
	} else {
		if ((flags & STORE_OPEN_WRITE) &&
		    (r = take_lock(dir, &st->lockfd, err)) != VS_OK)
			goto fail;
		if ((r = kv_lmdb_open(dir, (flags & STORE_OPEN_WRITE) ? 0 :
		    KV_OPEN_RDONLY, 0, &st->kv, err)) != VS_OK)
			goto fail;
	}
	if ((r = sti_read_meta(st, err)) != VS_OK)
		goto fail;
	*st_r = st;
	return VS_OK;
fail:
	store_close(&st);
	return r;
}

/* After a key was loaded: read and check the sealed settings (this also
 * proves the key opens records, not only the slot). */
int
sti_load_settings(struct store *st, struct vs_err *err)
{
	struct store_txn txn = { .st = st };
	struct buf pt = { 0 };
	int r;

	if ((r = kv_txn_begin(st->kv, false, &txn.kv, err)) != VS_OK)
		return r;
	r = sti_get_sealed(&txn, KV_META, META_SETTINGS, strlen(META_SETTINGS),
	    &pt, err);
	if (r == VS_ENOTFOUND)
		r = vs_fail(err, VS_ECORRUPT, "store has no settings");
	if (r == VS_OK)
		r = rec_settings_decode(pt.data, pt.len, &st->settings, err);
	buf_free(&pt);
	kv_txn_abort(txn.kv);
	if (r != VS_OK) {
		seal_keys_free(&st->keys);
		return r;
	}
	/* And the state against its head (seals again on a mismatch). */
	return sti_head_check(st, err);
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
	pthread_mutex_destroy(&st->head_mu);
	free(st);
	*stp = NULL;
}

const char *
store_dir(const struct store *st)
{
	return st->dir;
}

enum store_backend
store_backend(const struct store *st)
{
	return st->backend;
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
	if (write && !(st->flags & STORE_OPEN_WRITE))
		return vs_fail(err, VS_EINVAL, "store opened read-only");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	if ((r = kv_txn_begin(st->kv, write, &t->kv, err)) != VS_OK) {
		free(t);
		return r;
	}
	t->st = st;
	t->write = write;
	if (write) {
		pthread_mutex_lock(&st->head_mu);
		r = sti_head_begin(t, err);
		pthread_mutex_unlock(&st->head_mu);
	}
	if (write && r != VS_OK) {
		kv_txn_abort(t->kv);
		free(t);
		return r;
	}
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
	if (t->write && (r = sti_head_commit(t, err)) != VS_OK) {
		kv_txn_abort(t->kv);
		free(t);
		return r;
	}
	/* The next writer (another thread on this handle) may begin as soon
	 * as the kv commit lets go of the write lock: it checks the head on
	 * disk against ours only once ours is in place. */
	if (t->write)
		pthread_mutex_lock(&st->head_mu);
	r = kv_txn_commit(t->kv, err);
	/* (A newer head adopted meanwhile would mean this commit was not
	 * the last: PostgreSQL refuses that; kept newest anyway.) */
	if (r == VS_OK && t->write && t->head_dirty &&
	    t->head.generation >= st->head.generation) {
		st->head = t->head;
		st->head_present = true;
		memcpy(st->head_ct_hash, t->head_ct_hash,
		    sizeof(st->head_ct_hash));
	}
	if (t->write)
		pthread_mutex_unlock(&st->head_mu);
	free(t);
	if (r == VS_OK && reload) {
		r = sti_read_meta(st, err);
	}
	return r;
}

void
store_txn_abort(struct store_txn **txnp)
{
	struct store_txn *t;

	if (txnp == NULL || (t = *txnp) == NULL)
		return;
	kv_txn_abort(t->kv);
	free(t);
	*txnp = NULL;
}

void
store_txn_reset(struct store_txn *t)
{
	if (t == NULL || t->write || t->reset)
		return;
	kv_txn_reset(t->kv);
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
	if ((r = kv_txn_renew(t->kv, err)) != VS_OK)
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
	int r;

	if ((r = kv_count(txn->kv, KV_DOMAINS, &c->domains, err)) != VS_OK ||
	    (r = kv_count(txn->kv, KV_USERS, &c->users, err)) != VS_OK ||
	    (r = kv_count(txn->kv, KV_ADDRESSES, &c->addresses, err)) !=
	    VS_OK ||
	    (r = kv_count(txn->kv, KV_ALIASES, &c->aliases, err)) != VS_OK)
		return r;
	return VS_OK;
}

/* --- generic typed get/put/list --- */


/* Records of ordinary size (an address, a user, a short alias) are opened
 * on the stack: the lookup path allocates nothing for the plaintext. */
#define GET_STACK_BYTES 1024

int
sti_get_typed(struct store_txn *txn, enum kv_table t, const char *name,
    decode_fn *dec, void *out, struct vs_err *err)
{
	uint8_t idx[SEAL_INDEX_BYTES], small[GET_STACK_BYTES], *pt = small;
	struct buf big = { 0 };
	struct kv_val v;
	size_t cap = sizeof(small), len = 0;
	int r;

	sti_index_of(txn->st, t, name, idx);
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

int
sti_put_typed(struct store_txn *txn, enum kv_table t, const char *name,
    encode_fn *enc, const void *rec, bool no_overwrite, struct vs_err *err)
{
	uint8_t idx[SEAL_INDEX_BYTES];
	struct buf pt = { 0 };
	int r;

	if ((r = enc(rec, &pt)) != 0) {
		buf_free(&pt);
		return vs_fail(err, r, "record for %s is too large", name);
	}
	sti_index_of(txn->st, t, name, idx);
	r = sti_put_sealed(txn, t, idx, sizeof(idx), &pt, no_overwrite, err);
	buf_free(&pt);
	return r;
}

int
sti_del_typed(struct store_txn *txn, enum kv_table t, const char *name,
    struct vs_err *err)
{
	uint8_t idx[SEAL_INDEX_BYTES];

	sti_index_of(txn->st, t, name, idx);
	return sti_kv_del(txn, t, idx, sizeof(idx), err);
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

int
sti_list_typed(struct store_txn *txn, enum kv_table t, decode_fn *dec,
    size_t elem, void (*clear)(void *), void **items_r, size_t *n_r,
    struct vs_err *err)
{
	struct list_ctx l = { dec, elem, NULL, 0, 0 };
	size_t i;
	int r;

	r = sti_iter_open(txn, t, list_cb, &l, err);
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
