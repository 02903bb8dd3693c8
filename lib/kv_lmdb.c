/*
 * kv_lmdb.c - the LMDB backend of the key/value interface (kv.h).
 *
 * One LMDB environment per store folder (data.mdb, lock.mdb), one named
 * database per table.  Table names are fixed and public; everything stored
 * in them is sealed by the layer above.  Write transactions are LMDB's:
 * a crash leaves the last committed state, whole.
 *
 * LMDB error codes are turned into VS_* codes here and nowhere else; a
 * failed read is never reported as "not found".
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "kv.h"

#define KV_LMDB_DEFAULT_MAPSIZE ((size_t)4 << 30)

static const char *const table_names[KV_TABLE_COUNT] = {
	[KV_META] = "meta",
	[KV_DOMAINS] = "domains",
	[KV_USERS] = "users",
	[KV_ADDRESSES] = "addresses",
	[KV_ALIASES] = "aliases",
	[KV_EVENTS] = "events",
	[KV_AUDIT] = "audit",
};

struct kv_lmdb {
	struct kv kv;
	MDB_env *env;
	MDB_dbi dbi[KV_TABLE_COUNT];
};

struct kv_lmdb_txn {
	struct kv_txn base;
	MDB_txn *txn;
};

static int
lmdb_fail(struct vs_err *err, int rc, const char *what)
{
	int code = VS_EIO;

	if (rc == ENOMEM)
		code = VS_ENOMEM;
	else if (rc == MDB_MAP_FULL)
		code = VS_ELIMIT;
	else if (rc == MDB_CORRUPTED || rc == MDB_INVALID ||
	    rc == MDB_VERSION_MISMATCH)
		code = VS_ECORRUPT;
	return vs_fail(err, code, "%s: %s", what, mdb_strerror(rc));
}

static struct kv_lmdb *
to_lmdb(struct kv *kv)
{
	return (struct kv_lmdb *)kv;
}

static MDB_txn *
to_mdb_txn(struct kv_txn *txn)
{
	return ((struct kv_lmdb_txn *)txn)->txn;
}

static MDB_dbi
dbi_of(struct kv_txn *txn, enum kv_table t)
{
	return to_lmdb(txn->kv)->dbi[t];
}

static int
l_txn_begin(struct kv *kv, bool write, struct kv_txn **txn_r,
    struct vs_err *err)
{
	struct kv_lmdb_txn *t;
	int rc;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	rc = mdb_txn_begin(to_lmdb(kv)->env, NULL, write ? 0 : MDB_RDONLY,
	    &t->txn);
	if (rc != 0) {
		free(t);
		return lmdb_fail(err, rc, "cannot begin transaction");
	}
	t->base.kv = kv;
	*txn_r = &t->base;
	return VS_OK;
}

static int
l_txn_commit(struct kv_txn *txn, struct vs_err *err)
{
	int rc = mdb_txn_commit(to_mdb_txn(txn));

	free(txn);
	if (rc != 0)
		return lmdb_fail(err, rc, "cannot commit transaction");
	return VS_OK;
}

static void
l_txn_abort(struct kv_txn *txn)
{
	mdb_txn_abort(to_mdb_txn(txn));
	free(txn);
}

static void
l_txn_reset(struct kv_txn *txn)
{
	mdb_txn_reset(to_mdb_txn(txn));
}

static int
l_txn_renew(struct kv_txn *txn, struct vs_err *err)
{
	int rc = mdb_txn_renew(to_mdb_txn(txn));

	if (rc != 0)
		return lmdb_fail(err, rc, "cannot renew read transaction");
	return VS_OK;
}

static int
l_get(struct kv_txn *txn, enum kv_table t, const void *key, size_t klen,
    struct kv_val *val_r, struct vs_err *err)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	rc = mdb_get(to_mdb_txn(txn), dbi_of(txn, t), &k, &v);
	if (rc == MDB_NOTFOUND)
		return VS_ENOTFOUND;
	if (rc != 0)
		return lmdb_fail(err, rc, "cannot read store");
	val_r->data = v.mv_data;
	val_r->len = v.mv_size;
	return VS_OK;
}

static int
l_put(struct kv_txn *txn, enum kv_table t, const void *key, size_t klen,
    const void *val, size_t vlen, bool no_overwrite, struct vs_err *err)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	rc = mdb_put(to_mdb_txn(txn), dbi_of(txn, t), &k, &v,
	    no_overwrite ? MDB_NOOVERWRITE : 0);
	if (rc == MDB_KEYEXIST)
		return VS_EEXIST;
	if (rc != 0)
		return lmdb_fail(err, rc, "cannot write store");
	return VS_OK;
}

static int
l_del(struct kv_txn *txn, enum kv_table t, const void *key, size_t klen,
    struct vs_err *err)
{
	MDB_val k = { klen, (void *)key };
	int rc;

	rc = mdb_del(to_mdb_txn(txn), dbi_of(txn, t), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return VS_ENOTFOUND;
	if (rc != 0)
		return lmdb_fail(err, rc, "cannot delete from store");
	return VS_OK;
}

static int
l_iter(struct kv_txn *txn, enum kv_table t, kv_iter_cb *cb, void *ctx,
    struct vs_err *err)
{
	MDB_cursor *cur;
	MDB_val k, v;
	struct kv_val kk, vv;
	int rc, r = 0;

	rc = mdb_cursor_open(to_mdb_txn(txn), dbi_of(txn, t), &cur);
	if (rc != 0)
		return lmdb_fail(err, rc, "cannot open cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		kk.data = k.mv_data;
		kk.len = k.mv_size;
		vv.data = v.mv_data;
		vv.len = v.mv_size;
		if ((r = cb(ctx, &kk, &vv)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (r != 0)
		return r;
	if (rc != MDB_NOTFOUND)
		return lmdb_fail(err, rc, "cannot read store");
	return VS_OK;
}

static int
l_last(struct kv_txn *txn, enum kv_table t, struct kv_val *key_r,
    struct vs_err *err)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(to_mdb_txn(txn), dbi_of(txn, t), &cur);
	if (rc != 0)
		return lmdb_fail(err, rc, "cannot open cursor");
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return VS_ENOTFOUND;
	if (rc != 0)
		return lmdb_fail(err, rc, "cannot read store");
	key_r->data = k.mv_data;
	key_r->len = k.mv_size;
	return VS_OK;
}

static int
l_count(struct kv_txn *txn, enum kv_table t, size_t *n_r,
    struct vs_err *err)
{
	MDB_stat st;
	int rc;

	rc = mdb_stat(to_mdb_txn(txn), dbi_of(txn, t), &st);
	if (rc != 0)
		return lmdb_fail(err, rc, "cannot read store statistics");
	*n_r = st.ms_entries;
	return VS_OK;
}

static int
l_copy(struct kv *kv, int fd, struct vs_err *err)
{
	int rc;

	rc = mdb_env_copyfd2(to_lmdb(kv)->env, fd, MDB_CP_COMPACT);
	if (rc != 0)
		return lmdb_fail(err, rc, "cannot copy store");
	return VS_OK;
}

static void
l_close(struct kv *kv)
{
	struct kv_lmdb *l = to_lmdb(kv);

	mdb_env_close(l->env);
	free(l);
}

static const struct kv_ops lmdb_ops = {
	.txn_begin = l_txn_begin,
	.txn_commit = l_txn_commit,
	.txn_abort = l_txn_abort,
	.txn_reset = l_txn_reset,
	.txn_renew = l_txn_renew,
	.get = l_get,
	.put = l_put,
	.del = l_del,
	.iter = l_iter,
	.last = l_last,
	.count = l_count,
	.copy = l_copy,
	.close = l_close,
};

int
kv_lmdb_open(const char *dir, unsigned flags, size_t mapsize,
    struct kv **kv_r, struct vs_err *err)
{
	struct kv_lmdb *l;
	MDB_txn *txn = NULL;
	unsigned envflags = MDB_NOTLS;
	int rc, i;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	l->kv.ops = &lmdb_ops;
	if ((rc = mdb_env_create(&l->env)) != 0) {
		free(l);
		return lmdb_fail(err, rc, "cannot create LMDB environment");
	}
	if ((rc = mdb_env_set_maxdbs(l->env, KV_TABLE_COUNT + 2)) != 0 ||
	    (rc = mdb_env_set_mapsize(l->env,
	    mapsize ? mapsize : KV_LMDB_DEFAULT_MAPSIZE)) != 0 ||
	    (rc = mdb_env_set_maxreaders(l->env, 512)) != 0)
		goto fail;
	if (flags & KV_OPEN_RDONLY)
		envflags |= MDB_RDONLY;
	if ((rc = mdb_env_open(l->env, dir, envflags, 0600)) != 0) {
		if (rc == ENOENT) {
			vs_fail(err, VS_ENOTFOUND, "no store in %s", dir);
			mdb_env_close(l->env);
			free(l);
			return VS_ENOTFOUND;
		}
		goto fail;
	}
	if ((rc = mdb_txn_begin(l->env, NULL,
	    (flags & KV_OPEN_RDONLY) ? MDB_RDONLY : 0, &txn)) != 0)
		goto fail;
	for (i = 0; i < KV_TABLE_COUNT; i++) {
		rc = mdb_dbi_open(txn, table_names[i],
		    (flags & KV_OPEN_CREATE) ? MDB_CREATE : 0, &l->dbi[i]);
		if (rc == MDB_NOTFOUND) {
			mdb_txn_abort(txn);
			mdb_env_close(l->env);
			free(l);
			return vs_fail(err, VS_ENOTFOUND,
			    "no vmseal store in %s (run vmseal init)", dir);
		}
		if (rc != 0)
			goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	*kv_r = &l->kv;
	return VS_OK;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(l->env);
	free(l);
	return lmdb_fail(err, rc, "cannot open store");
}

void
kv_close(struct kv **kv)
{
	if (kv == NULL || *kv == NULL)
		return;
	(*kv)->ops->close(*kv);
	*kv = NULL;
}
