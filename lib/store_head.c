/*
 * store_head.c - the store's head: a sealed summary of the whole state
 * that every write transaction brings up to date and every unseal checks
 * (format and what it protects: store.h, "The head").
 *
 * Protocol: every write to a kv table goes through sti_kv_put() and
 * sti_kv_del(), which XOR the keyed hash of the entry's old value out of
 * its table's digest and the new one in (an incremental set hash: each
 * write costs two BLAKE2b, never a pass over the table).  At commit
 * (sti_head_commit) the generation goes up by one and the head is sealed
 * into meta "head" in the same LMDB transaction as the writes, so a crash
 * leaves the old state with the old head or the new one with the new.
 * A write transaction begins by reading the head: the one this handle
 * last read or wrote, or (PostgreSQL, several writers) a newer one another
 * holder of the key committed, which it adopts (head_follow); an older
 * one, or one that does not open, is refused.  Several writers that
 * overlap all write the head row, so PostgreSQL commits one and fails the
 * others with a conflict (VS_EBUSY, nothing committed); store_write() runs
 * such a transaction again (the end of this file).
 *
 * Security stance: the element hashes are keyed with the log subkey
 * (seal.h), so without the root key nobody can tell which head a mixture
 * of entries from different copies would need, nor seal one; the head is
 * itself a sealed record (bound to the store id, the meta table and its
 * name).  A mismatch at unseal wipes the key again (unless the handle is
 * for inspection): a store that was rolled back is not served.  Messages
 * name the table that does not match, never a key or a name.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "kv.h"
#ifdef HAVE_PQ
#include "kv_pg.h"
#endif
#include "store.h"
#include "store_int.h"

#define STATE_DOMAIN "vmseal-state-v1"
#define ANCHOR_DOMAIN "vmseal-head-v1"
#define HEAD_VERSION 1
#define TSUM_BYTES (8 + HEAD_HASH_BYTES)
#define HEAD_BYTES (1 + 8 + KV_TABLE_COUNT * TSUM_BYTES)

/* The order in which tables are compared (the first mismatch is named):
 * the records first, the meta entries (which change with many of them)
 * last. */
static const enum kv_table check_order[KV_TABLE_COUNT] = {
	KV_DOMAINS, KV_USERS, KV_ADDRESSES, KV_ALIASES, KV_EVENTS, KV_AUDIT,
	KV_META,
};

static const char *const table_what[KV_TABLE_COUNT] = {
	[KV_META] = "meta table (key slots, settings, audit head)",
	[KV_DOMAINS] = "domains table",
	[KV_USERS] = "users table",
	[KV_ADDRESSES] = "addresses table",
	[KV_ALIASES] = "aliases table",
	[KV_EVENTS] = "event log",
	[KV_AUDIT] = "audit trail",
};

static bool
is_head_key(enum kv_table t, const void *key, size_t klen)
{
	return t == KV_META && klen == strlen(META_HEAD) &&
	    memcmp(key, META_HEAD, klen) == 0;
}

/* h = MAC(log key, domain || u8 table || H(key) || H(value)). */
static void
elem_hash(const struct seal_keys *k, enum kv_table t, const void *key,
    size_t klen, const void *val, size_t vlen, uint8_t out[HEAD_HASH_BYTES])
{
	uint8_t b[sizeof(STATE_DOMAIN) - 1 + 1 + 2 * HEAD_HASH_BYTES];
	size_t n = sizeof(STATE_DOMAIN) - 1;

	memcpy(b, STATE_DOMAIN, n);
	b[n++] = (uint8_t)t;
	crypto_generichash(b + n, HEAD_HASH_BYTES, key, klen, NULL, 0);
	n += HEAD_HASH_BYTES;
	crypto_generichash(b + n, HEAD_HASH_BYTES, val, vlen, NULL, 0);
	n += HEAD_HASH_BYTES;
	seal_log_mac(k, b, n, out);
}

static void
xor_in(uint8_t d[HEAD_HASH_BYTES], const uint8_t h[HEAD_HASH_BYTES])
{
	size_t i;

	for (i = 0; i < HEAD_HASH_BYTES; i++)
		d[i] ^= h[i];
}

int
sti_kv_put(struct store_txn *txn, enum kv_table t, const void *key,
    size_t klen, const void *val, size_t vlen, bool no_overwrite,
    struct vs_err *err)
{
	const struct seal_keys *k = txn->st->keys;
	struct sti_tsum *s = &txn->head.t[t];
	uint8_t hold[HEAD_HASH_BYTES], hnew[HEAD_HASH_BYTES];
	struct kv_val old;
	bool had = false;
	int r;

	if (is_head_key(t, key, klen))
		return vs_fail(err, VS_EINVAL, "internal: the head is written "
		    "at commit only");
	if (k == NULL)
		return vs_fail(err, VS_ESEALED, "the store is sealed");
	r = kv_get(txn->kv, t, key, klen, &old, err);
	if (r == VS_OK) {
		if (no_overwrite)
			return VS_EEXIST;       /* as kv_put: no message */
		elem_hash(k, t, key, klen, old.data, old.len, hold);
		had = true;
	} else if (r != VS_ENOTFOUND) {
		return r;
	}
	if ((r = kv_put(txn->kv, t, key, klen, val, vlen, no_overwrite,
	    err)) != VS_OK)
		return r;
	elem_hash(k, t, key, klen, val, vlen, hnew);
	if (had)
		xor_in(s->digest, hold);
	else
		s->count++;
	xor_in(s->digest, hnew);
	txn->head_dirty = true;
	return VS_OK;
}

int
sti_kv_del(struct store_txn *txn, enum kv_table t, const void *key,
    size_t klen, struct vs_err *err)
{
	const struct seal_keys *k = txn->st->keys;
	struct sti_tsum *s = &txn->head.t[t];
	uint8_t hold[HEAD_HASH_BYTES];
	struct kv_val old;
	int r;

	if (is_head_key(t, key, klen))
		return vs_fail(err, VS_EINVAL, "internal: the head is never "
		    "deleted");
	if (k == NULL)
		return vs_fail(err, VS_ESEALED, "the store is sealed");
	if ((r = kv_get(txn->kv, t, key, klen, &old, err)) != VS_OK)
		return r;       /* VS_ENOTFOUND without a message, as kv_del */
	elem_hash(k, t, key, klen, old.data, old.len, hold);
	if ((r = kv_del(txn->kv, t, key, klen, err)) != VS_OK)
		return r;
	xor_in(s->digest, hold);
	s->count--;
	txn->head_dirty = true;
	return VS_OK;
}

/* --- the whole state, recomputed --- */

struct compute_ctx {
	const struct seal_keys *k;
	enum kv_table t;
	struct sti_tsum *s;
};

static int
compute_cb(void *vctx, const struct kv_val *key, const struct kv_val *val)
{
	struct compute_ctx *c = vctx;
	uint8_t h[HEAD_HASH_BYTES];

	if (is_head_key(c->t, key->data, key->len))
		return 0;
	elem_hash(c->k, c->t, key->data, key->len, val->data, val->len, h);
	xor_in(c->s->digest, h);
	c->s->count++;
	return 0;
}

static int
compute_table(const struct store *st, struct kv_txn *kt, enum kv_table t,
    struct sti_tsum *s, struct vs_err *err)
{
	struct compute_ctx c = { st->keys, t, s };

	memset(s, 0, sizeof(*s));
	return kv_iter(kt, t, compute_cb, &c, err);
}

int
sti_head_compute(const struct store *st, struct kv_txn *kt,
    struct sti_head *h, struct vs_err *err)
{
	int t, r;

	memset(h, 0, sizeof(*h));
	if (st->keys == NULL)
		return vs_fail(err, VS_ESEALED, "the store is sealed");
	for (t = 0; t < KV_TABLE_COUNT; t++)
		if ((r = compute_table(st, kt, (enum kv_table)t, &h->t[t],
		    err)) != VS_OK)
			return r;
	return VS_OK;
}

/* --- the sealed head --- */

static void
head_encode(const struct sti_head *h, uint8_t out[HEAD_BYTES])
{
	uint8_t *p = out;
	int t;

	*p++ = HEAD_VERSION;
	vs_put_u64be(p, h->generation);
	p += 8;
	for (t = 0; t < KV_TABLE_COUNT; t++) {
		vs_put_u64be(p, h->t[t].count);
		memcpy(p + 8, h->t[t].digest, HEAD_HASH_BYTES);
		p += TSUM_BYTES;
	}
}

static int
head_decode(const uint8_t *p, size_t len, struct sti_head *h,
    struct vs_err *err)
{
	int t;

	if (len != HEAD_BYTES || p[0] != HEAD_VERSION)
		return vs_fail(err, VS_ECORRUPT, "the store's head is "
		    "malformed (version %u, %zu bytes)", len ? p[0] : 0, len);
	h->generation = vs_get_u64be(p + 1);
	p += 9;
	for (t = 0; t < KV_TABLE_COUNT; t++) {
		h->t[t].count = vs_get_u64be(p);
		memcpy(h->t[t].digest, p + 8, HEAD_HASH_BYTES);
		p += TSUM_BYTES;
	}
	return VS_OK;
}

int
sti_head_put(const struct store *st, struct kv_txn *kt,
    const struct sti_head *h, uint8_t ct_hash[HEAD_HASH_BYTES],
    struct vs_err *err)
{
	uint8_t pt[HEAD_BYTES];
	struct buf ct = { 0 };
	int r;

	head_encode(h, pt);
	r = seal_record(st->keys, st->store_id, KV_META, META_HEAD,
	    strlen(META_HEAD), pt, sizeof(pt), &ct, err);
	if (r == VS_OK)
		r = kv_put(kt, KV_META, META_HEAD, strlen(META_HEAD), ct.data,
		    ct.len, false, err);
	if (r == VS_OK)
		crypto_generichash(ct_hash, HEAD_HASH_BYTES, ct.data, ct.len,
		    NULL, 0);
	buf_free(&ct);
	return r;
}

/* Open and decode a sealed head (v: its ciphertext as stored). */
static int
head_open(const struct store *st, const struct kv_val *v, struct sti_head *h,
    struct vs_err *err)
{
	struct buf pt = { 0 };
	int r;

	r = seal_open(st->keys, st->store_id, KV_META, META_HEAD,
	    strlen(META_HEAD), v->data, v->len, &pt, err);
	if (r != VS_OK) {
		char why[VS_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err != NULL ? err->msg : "");
		return vs_fail(err, VS_ECORRUPT, "the store's head fails to "
		    "authenticate (%s)", why);
	}
	r = head_decode(pt.data, pt.len, h, err);
	buf_free(&pt);
	return r;
}

/* Read and open the head; *present_r false when there is none. */
static int
head_read(const struct store *st, struct kv_txn *kt, struct sti_head *h,
    bool *present_r, uint8_t ct_hash[HEAD_HASH_BYTES], struct vs_err *err)
{
	struct kv_val v;
	int r;

	memset(h, 0, sizeof(*h));
	*present_r = false;
	r = kv_get(kt, KV_META, META_HEAD, strlen(META_HEAD), &v, err);
	if (r == VS_ENOTFOUND)
		return VS_OK;
	if (r != VS_OK)
		return r;
	if (ct_hash != NULL)
		crypto_generichash(ct_hash, HEAD_HASH_BYTES, v.data, v.len,
		    NULL, 0);
	r = head_open(st, &v, h, err);
	if (r == VS_OK)
		*present_r = true;
	return r;
}

/* Compare the tables in mask (bit t) of the recomputed state with the
 * head; VS_ECORRUPT naming the first that differs. */
static int
head_compare(const struct sti_head *head, const struct sti_head *now,
    unsigned mask, struct vs_err *err)
{
	unsigned long long g = (unsigned long long)head->generation;
	int i;

	for (i = 0; i < KV_TABLE_COUNT; i++) {
		enum kv_table t = check_order[i];
		const struct sti_tsum *a = &head->t[t], *b = &now->t[t];
		bool audit = t == KV_AUDIT;

		if (!(mask & (1u << t)))
			continue;
		if (a->count != b->count)
			return vs_fail(err, VS_ECORRUPT, "the %s does not match "
			    "%s head: %llu entr%s, the store's head (generation "
			    "%llu) says %llu - entries were %s, added or put "
			    "back from an older copy outside vmseal",
			    table_what[t], audit ? "its" : "the store's",
			    (unsigned long long)b->count,
			    b->count == 1 ? "y" : "ies", g,
			    (unsigned long long)a->count,
			    audit ? "cut" : "deleted");
		if (sodium_memcmp(a->digest, b->digest, HEAD_HASH_BYTES) != 0)
			return vs_fail(err, VS_ECORRUPT, "the %s does not match "
			    "%s head (generation %llu): an entry was put back "
			    "from an older copy or replaced outside vmseal",
			    table_what[t], audit ? "its" : "the store's", g);
	}
	return VS_OK;
}

/* No head: VS_ENOTFOUND for a format 1 store (made by its next writer),
 * VS_ECORRUPT for a format 2 one (it was deleted). */
static int
no_head(struct kv_txn *kt, struct vs_err *err)
{
	struct kv_val v;
	uint32_t fmt = 0;

	if (kv_get(kt, KV_META, META_FORMAT, strlen(META_FORMAT), &v,
	    NULL) == VS_OK && v.len == 4)
		fmt = vs_get_u32be(v.data);
	if (fmt == STORE_FORMAT_NOHEAD)
		return vs_fail(err, VS_ENOTFOUND, "the store has no head yet "
		    "(a format 1 store: it gets one at its first unseal for "
		    "writing)");
	return vs_fail(err, VS_ECORRUPT, "the store's head is missing (a "
	    "format %u store always has one): it was deleted outside vmseal",
	    (unsigned)fmt);
}

/* A format 1 store opened for writing: its first head, over what is
 * there now, and format 2 - one transaction. */
static int
head_create(struct store *st, struct vs_err *err)
{
	struct kv_txn *kt = NULL;
	struct sti_head h;
	uint8_t fmt[4], cth[HEAD_HASH_BYTES];
	int r;

	if ((r = kv_txn_begin(st->kv, true, &kt, err)) != VS_OK)
		return r;
	vs_put_u32be(fmt, STORE_FORMAT);
	r = kv_put(kt, KV_META, META_FORMAT, strlen(META_FORMAT), fmt, 4,
	    false, err);
	if (r == VS_OK)
		r = sti_head_compute(st, kt, &h, err);
	h.generation = 1;
	if (r == VS_OK)
		r = sti_head_put(st, kt, &h, cth, err);
	if (r != VS_OK) {
		kv_txn_abort(kt);
		return r;
	}
	if ((r = kv_txn_commit(kt, err)) != VS_OK)
		return r;
	st->head = h;
	memcpy(st->head_ct_hash, cth, sizeof(cth));
	st->head_present = true;
	st->head_created = true;
	return VS_OK;
}

int
sti_head_check(struct store *st, struct vs_err *err)
{
	struct kv_txn *kt = NULL;
	struct sti_head head, now;
	struct kv_val v;
	struct vs_err e;
	uint8_t cth[HEAD_HASH_BYTES];
	uint32_t fmt = 0;
	bool present;
	int r;

	st->head_bad = false;
	st->head_created = false;
	st->head_problem[0] = '\0';
	vs_err_clear(&e);
	if ((r = kv_txn_begin(st->kv, false, &kt, err)) != VS_OK)
		goto fail;
	r = kv_get(kt, KV_META, META_FORMAT, strlen(META_FORMAT), &v, err);
	if (r == VS_OK && v.len == 4)
		fmt = vs_get_u32be(v.data);
	r = head_read(st, kt, &head, &present, cth, &e);
	if (r == VS_OK && !present && fmt == STORE_FORMAT_NOHEAD) {
		kv_txn_abort(kt);
		st->head_present = false;
		memset(&st->head, 0, sizeof(st->head));
		if (st->lockfd < 0)
			return VS_OK;   /* read-only: made by the next writer */
		if ((r = head_create(st, err)) != VS_OK)
			goto fail;
		return VS_OK;
	}
	if (r == VS_OK && !present)
		r = no_head(kt, &e);
	if (r == VS_OK)
		r = sti_head_compute(st, kt, &now, err);
	if (r == VS_OK)
		r = head_compare(&head, &now, ~0u, &e);
	kv_txn_abort(kt);
	if (r == VS_ECORRUPT && e.code == VS_ECORRUPT) {
		if (st->flags & STORE_OPEN_INSPECT) {
			/* Opened to look: keep the key, commit nothing. */
			st->head_bad = true;
			st->head_present = present;
			st->head = head;
			snprintf(st->head_problem, sizeof(st->head_problem),
			    "%s", e.msg);
			return VS_OK;
		}
		r = vs_fail(err, VS_ECORRUPT, "%s; the store stays sealed "
		    "(see 'vmseal verify', and docs: the head)", e.msg);
		goto fail;
	}
	if (r != VS_OK)
		goto fail;
	st->head = head;
	st->head_present = true;
	memcpy(st->head_ct_hash, cth, sizeof(cth));
	return VS_OK;
fail:
	store_seal(st);
	return r;
}

/* --- transactions --- */

/* Several writers (PostgreSQL): the head in the database, v, is not the
 * one this handle last read or wrote - another handle (another host's
 * vmsealed, vmseal --offline) committed.  Adopted when it opens under the
 * root key (so a holder of the key wrote it) and its generation is above
 * the last one this handle saw; lower is a rollback, equal with other
 * contents a fork (only a put-back copy written on again makes one): both
 * refused.  Its tables' counts and set hashes are the other writer's,
 * kept entry by entry as ours are, and match the rows this transaction
 * sees: the head and the rows are read in one SERIALIZABLE snapshot, and
 * every write transaction writes the head row, so of two writers that
 * overlap only one commits (the other gets VS_EBUSY and runs again).
 * Caller holds head_mu. */
static int
head_follow(struct store_txn *txn, const struct kv_val *v,
    const uint8_t cth[HEAD_HASH_BYTES], struct vs_err *err)
{
	struct store *st = txn->st;
	unsigned long long seen = (unsigned long long)st->head.generation;
	struct sti_head h;
	bool meta_moved;
	int r;

	if ((r = head_open(st, v, &h, err)) != VS_OK) {
		char why[VS_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err != NULL ? err->msg : "");
		sodium_memzero(&h, sizeof(h));
		return vs_fail(err, VS_ECORRUPT, "%s: written without this "
		    "store's key, or the key was rotated on another host "
		    "(seal and unseal this one); nothing is written", why);
	}
	if (h.generation < st->head.generation) {
		unsigned long long g = (unsigned long long)h.generation;

		sodium_memzero(&h, sizeof(h));
		return vs_fail(err, VS_ECORRUPT, "the store's head went back "
		    "from generation %llu (seen by this handle) to %llu: the "
		    "store was put back to an older copy; nothing is written; "
		    "seal, then see 'vmseal verify'", seen, g);
	}
	if (h.generation == st->head.generation) {
		sodium_memzero(&h, sizeof(h));
		return vs_fail(err, VS_ECORRUPT, "the store's head is another "
		    "head of generation %llu than the one this handle saw: the "
		    "store was put back to an older copy and written on; "
		    "nothing is written; seal, then see 'vmseal verify'",
		    seen);
	}
	meta_moved = h.t[KV_META].count != st->head.t[KV_META].count ||
	    sodium_memcmp(h.t[KV_META].digest, st->head.t[KV_META].digest,
	    HEAD_HASH_BYTES) != 0;
	st->head = h;
	memcpy(st->head_ct_hash, cth, HEAD_HASH_BYTES);
	txn->head = h;
	sodium_memzero(&h, sizeof(h));
	/* Key slots added or removed elsewhere: the handle's copy, from
	 * this snapshot (its costs pick a new slot's). */
	return meta_moved ? sti_read_slots(st, txn->kv, err) : VS_OK;
}

int
sti_head_begin(struct store_txn *txn, struct vs_err *err)
{
	struct store *st = txn->st;
	struct kv_val v;
	uint8_t cth[HEAD_HASH_BYTES];
	int r;

	txn->head = st->head;
	txn->head_dirty = false;
	if (!st->head_present || st->head_bad)
		return VS_OK;   /* format 1 read-only; inspect: never commits */
	/* The head in the store is the one this handle last read or wrote;
	 * or, with LMDB (one writer: this handle holds the lock), someone
	 * wrote behind its back; with PostgreSQL another writer may have
	 * committed (head_follow). */
	r = kv_get(txn->kv, KV_META, META_HEAD, strlen(META_HEAD), &v, err);
	if (r == VS_OK)
		crypto_generichash(cth, sizeof(cth), v.data, v.len, NULL, 0);
	if (r == VS_OK && sodium_memcmp(cth, st->head_ct_hash,
	    sizeof(cth)) != 0 && st->backend == STORE_BACKEND_PG)
		return head_follow(txn, &v, cth, err);
	if (r == VS_ENOTFOUND || (r == VS_OK && sodium_memcmp(cth,
	    st->head_ct_hash, sizeof(cth)) != 0))
		return vs_fail(err, VS_ECORRUPT, "the store's head changed "
		    "behind vmseal's back (the files were written while it "
		    "held them): nothing is written; seal, then see 'vmseal "
		    "verify'");
	return r;
}

int
sti_head_commit(struct store_txn *txn, struct vs_err *err)
{
	struct store *st = txn->st;

	if (st->head_bad && !txn->head_accept)
		return vs_fail(err, VS_ECORRUPT, "%s: the store does not match "
		    "its head, nothing is written (opened for inspection)",
		    st->head_problem);
	if (!txn->head_dirty)
		return VS_OK;
	if (!st->head_present && !txn->head_accept)
		return vs_fail(err, VS_EINVAL, "internal: a write on a store "
		    "without a head");
	txn->head.generation++;
	/* Applied to the handle (store_txn_commit) only once the commit
	 * succeeds: kept in the transaction until then. */
	return sti_head_put(st, txn->kv, &txn->head, txn->head_ct_hash, err);
}

/* --- the public side --- */

static void
head_public(const struct store *st, const struct sti_head *h, bool present,
    struct store_head *out)
{
	uint8_t b[sizeof(ANCHOR_DOMAIN) - 1 + SEAL_STORE_ID_BYTES +
	    HEAD_BYTES];
	size_t n = sizeof(ANCHOR_DOMAIN) - 1;
	int t;

	memset(out, 0, sizeof(*out));
	out->present = present;
	out->matches = !st->head_bad;
	out->created = st->head_created;
	if (!present || st->keys == NULL)
		return;
	out->generation = h->generation;
	for (t = 0; t < KV_TABLE_COUNT; t++)
		out->records += h->t[t].count;
	memcpy(b, ANCHOR_DOMAIN, n);
	memcpy(b + n, st->store_id, SEAL_STORE_ID_BYTES);
	n += SEAL_STORE_ID_BYTES;
	head_encode(h, b + n);
	n += HEAD_BYTES;
	seal_log_mac(st->keys, b, n, out->hash);
}

int
store_head(struct store_txn *txn, struct store_head *h_r, struct vs_err *err)
{
	struct sti_head h;
	bool present;
	int r;

	if (txn->st->keys == NULL)
		return vs_fail(err, VS_ESEALED, "the store is sealed");
	if ((r = head_read(txn->st, txn->kv, &h, &present, NULL, err)) !=
	    VS_OK)
		return r;
	head_public(txn->st, &h, present, h_r);
	return VS_OK;
}

void
store_head_of(const struct store *st, struct store_head *h_r,
    const char **problem_r)
{
	struct store *w = (struct store *)(uintptr_t)st;    /* the mutex */
	struct sti_head h;
	bool present;

	pthread_mutex_lock(&w->head_mu);
	h = st->head;
	present = st->head_present;
	pthread_mutex_unlock(&w->head_mu);
	head_public(st, &h, present, h_r);
	sodium_memzero(&h, sizeof(h));
	if (problem_r != NULL)
		*problem_r = st->head_bad ? st->head_problem : NULL;
}

int
store_head_verify(struct store_txn *txn, int log, struct vs_err *err)
{
	struct sti_head head, now;
	enum kv_table only = KV_TABLE_COUNT;
	bool present;
	unsigned mask = ~0u;
	int r;

	if (txn->st->keys == NULL)
		return vs_fail(err, VS_ESEALED, "the store is sealed");
	if (log != STORE_HEAD_ALL) {
		only = log == STORE_LOG_AUDIT ? KV_AUDIT : KV_EVENTS;
		mask = 1u << only;
	}
	if ((r = head_read(txn->st, txn->kv, &head, &present, NULL, err)) !=
	    VS_OK)
		return r;
	if (!present)
		return no_head(txn->kv, err);
	memset(&now, 0, sizeof(now));
	if (only != KV_TABLE_COUNT)
		r = compute_table(txn->st, txn->kv, only, &now.t[only], err);
	else
		r = sti_head_compute(txn->st, txn->kv, &now, err);
	if (r != VS_OK)
		return r;
	return head_compare(&head, &now, mask, err);
}

int
store_head_accept(struct store *st, store_after_fn *after,
    struct vs_err *err)
{
	struct store_txn *txn = NULL;
	struct sti_head now;
	uint64_t gen = st->head.generation;
	int r;

	if ((r = store_txn_begin(st, true, &txn, err)) != VS_OK)
		return r;
	txn->head_accept = true;
	if (after != NULL && (r = after(txn, err)) != VS_OK)
		goto fail;
	if (!st->head_present) {
		uint8_t fmt[4];

		vs_put_u32be(fmt, STORE_FORMAT);
		if ((r = kv_put(txn->kv, KV_META, META_FORMAT,
		    strlen(META_FORMAT), fmt, 4, false, err)) != VS_OK)
			goto fail;
	}
	/* The head over every entry as it is now (after's writes too),
	 * one generation on from the highest seen. */
	if ((r = sti_head_compute(st, txn->kv, &now, err)) != VS_OK)
		goto fail;
	now.generation = gen > txn->head.generation ? gen :
	    txn->head.generation;
	txn->head = now;
	txn->head_dirty = true;
	if ((r = store_txn_commit(&txn, err)) != VS_OK)
		return r;
	st->head_bad = false;
	st->head_problem[0] = '\0';
	st->head_present = true;
	return VS_OK;
fail:
	store_txn_abort(&txn);
	return r;
}

/* --- several writers (PostgreSQL): a transaction run again --- */

bool
store_txn_conflicted(const struct store_txn *txn)
{
#ifdef HAVE_PQ
	return txn != NULL && txn->write &&
	    txn->st->backend == STORE_BACKEND_PG &&
	    kv_pg_txn_failure(txn->kv) == KV_PG_RETRY;
#else
	(void)txn;
	return false;
#endif
}

bool
store_retry_wait(const struct store *st, unsigned attempt)
{
	struct timespec ts;
	uint32_t ms;

	if (st->backend != STORE_BACKEND_PG || attempt == 0 ||
	    attempt >= STORE_WRITE_ATTEMPTS)
		return false;
	/* 10-20 ms, then 20-40, ... up to 160-320: random, so that writers
	 * that collided do not collide again in step. */
	ms = STORE_RETRY_BASE_MS << (attempt - 1 < 4 ? attempt - 1 : 4);
	ms += randombytes_uniform(ms);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return true;
}

int
store_write(struct store *st, store_write_fn *fn, void *ctx,
    struct vs_err *err)
{
	struct store_txn *txn = NULL;
	unsigned attempt;
	bool conflict;
	int r;

	for (attempt = 1;; attempt++) {
		r = store_txn_begin(st, true, &txn, err);
		conflict = r == VS_EBUSY;
		if (r == VS_OK) {
			r = fn(txn, ctx, err);
			if (r == VS_OK) {
				r = store_txn_commit(&txn, err);
				conflict = r == VS_EBUSY;
			} else {
				conflict = store_txn_conflicted(txn);
				store_txn_abort(&txn);
			}
		}
		/* VS_EBUSY from the backend: PostgreSQL's conflict (LMDB
		 * never returns it from a transaction; store_retry_wait
		 * says no for it anyway). */
		if (r == VS_OK || !conflict)
			return r;
		if (!store_retry_wait(st, attempt)) {
			char m[VS_ERR_MSG_MAX];

			if (attempt == 1)
				return r;
			snprintf(m, sizeof(m), "%s", err != NULL ? err->msg :
			    "");
			return vs_fail(err, VS_EBUSY, "%s (tried %u times)", m,
			    attempt);
		}
		vs_err_clear(err);
	}
}
