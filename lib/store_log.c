/*
 * store_log.c - the append-only logs (events, audit) and named meta
 * values: sealed entries under a big-endian sequence number, appended,
 * read in order, trimmed from the front, replaced in place (rotate).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kv.h"
#include "names.h"
#include "pwhash.h"
#include "store.h"
#include "store_int.h"

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

	if ((r = sti_need_write(txn, err)) != VS_OK)
		return r;
	r = kv_last(txn->kv, t, &last, err);
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
	r = sti_put_sealed(txn, t, key, sizeof(key), &pt, true, err);
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
	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = kv_count(txn->kv, t, &n, err)) != VS_OK)
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
		r = sti_kv_del(txn, t, tc.keys[i], 8, err);
	if (r == VS_OK)
		*deleted_r = tc.n;
	free(tc.keys);
	return r;
}

int
store_log_count(struct store_txn *txn, enum store_log log, size_t *n_r,
    struct vs_err *err)
{
	return kv_count(txn->kv, log_table(log), n_r, err);
}

int
store_meta_get(struct store_txn *txn, const char *name, struct buf *out,
    struct vs_err *err)
{
	return sti_get_sealed(txn, KV_META, name, strlen(name), out, err);
}

int
store_meta_put(struct store_txn *txn, const char *name, const void *val,
    size_t len, struct vs_err *err)
{
	struct buf pt = { 0 };
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK)
		return r;
	if ((r = buf_append(&pt, val, len)) != 0) {
		buf_free(&pt);
		return vs_fail(err, r, "value too large");
	}
	r = sti_put_sealed(txn, KV_META, name, strlen(name), &pt, false, err);
	buf_free(&pt);
	return r;
}

int
store_log_replace(struct store_txn *txn, enum store_log log, uint64_t seq,
    const void *rec, size_t len, struct vs_err *err)
{
	enum kv_table t = log_table(log);
	struct kv_val v;
	struct buf pt = { 0 };
	uint8_t key[8];
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK)
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
	r = sti_put_sealed(txn, t, key, sizeof(key), &pt, false, err);
	buf_free(&pt);
	return r;
}
