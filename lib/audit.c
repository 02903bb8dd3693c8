/*
 * audit.c - the audit trail: sealed, hash-chained records of operator
 * actions (see audit.h for the format and what is detected).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "audit.h"
#include "buf.h"
#include "record.h"
#include "seal.h"

/* Record tags (this module's own record type). */
enum {
	A_TIME = 1,
	A_UID = 2,
	A_ACTION = 3,
	A_DETAIL = 4,
	A_PREV = 5,
	A_OPTIONAL = 0x80,
};

#define CHAIN_DOMAIN "vmseal-audit-v1"
#define HEAD_VERSION 1
#define HEAD_BYTES (1 + 8 + AUDIT_CHAIN_BYTES)

struct head {
	uint64_t seq;
	uint8_t chain[AUDIT_CHAIN_BYTES];
	bool present;
};

static const struct seal_keys *
keys_of(struct store_txn *txn)
{
	return store_keys(store_txn_store(txn));
}

/* C(seq) = MAC(domain || u64be seq || record bytes). */
static int
chain_of(struct store_txn *txn, uint64_t seq, const uint8_t *rec,
    size_t len, uint8_t out[AUDIT_CHAIN_BYTES], struct vs_err *err)
{
	const struct seal_keys *k = keys_of(txn);
	struct buf b = { 0 };

	if (k == NULL)
		return vs_fail(err, VS_ESEALED, "the store is sealed");
	if (buf_append(&b, CHAIN_DOMAIN, strlen(CHAIN_DOMAIN)) != 0 ||
	    buf_append_u64be(&b, seq) != 0 ||
	    buf_append(&b, rec, len) != 0) {
		buf_free(&b);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	seal_log_mac(k, b.data, b.len, out);
	buf_free(&b);
	return VS_OK;
}

static int
head_get(struct store_txn *txn, struct head *h, struct vs_err *err)
{
	struct buf v = { 0 };
	int r;

	memset(h, 0, sizeof(*h));
	r = store_meta_get(txn, AUDIT_HEAD_NAME, &v, err);
	if (r == VS_ENOTFOUND) {
		if (err != NULL)
			vs_err_clear(err);
		return VS_OK;
	}
	if (r != VS_OK)
		return r;
	if (v.len != HEAD_BYTES || v.data[0] != HEAD_VERSION) {
		buf_free(&v);
		return vs_fail(err, VS_ECORRUPT, "the audit trail's head is "
		    "malformed");
	}
	h->present = true;
	h->seq = vs_get_u64be(v.data + 1);
	memcpy(h->chain, v.data + 9, AUDIT_CHAIN_BYTES);
	buf_free(&v);
	return VS_OK;
}

static int
head_put(struct store_txn *txn, uint64_t seq,
    const uint8_t chain[AUDIT_CHAIN_BYTES], struct vs_err *err)
{
	uint8_t v[HEAD_BYTES];

	v[0] = HEAD_VERSION;
	vs_put_u64be(v + 1, seq);
	memcpy(v + 9, chain, AUDIT_CHAIN_BYTES);
	return store_meta_put(txn, AUDIT_HEAD_NAME, v, sizeof(v), err);
}

static bool
action_ok(const char *a)
{
	size_t n = 0;

	if (a == NULL || *a == '\0')
		return false;
	for (; a[n] != '\0'; n++) {
		char c = a[n];

		if (n >= AUDIT_ACTION_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return false;
	}
	return true;
}

static bool
has_control(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

void
audit_sanitize(char *s)
{
	unsigned char *p;

	for (p = (unsigned char *)s; p != NULL && *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* Copy detail into out (AUDIT_DETAIL_MAX + 1), cut with "..." when too
 * long, never in the middle of a UTF-8 sequence. */
static void
cap_detail(const char *detail, char *out)
{
	size_t len = strlen(detail), cut;

	if (len <= AUDIT_DETAIL_MAX) {
		memcpy(out, detail, len + 1);
		return;
	}
	cut = AUDIT_DETAIL_MAX - 3;
	while (cut > 0 && ((unsigned char)detail[cut] & 0xc0) == 0x80)
		cut--;
	memcpy(out, detail, cut);
	memcpy(out + cut, "...", 4);
}

int
audit_append_at(struct store_txn *txn, int64_t when, uint32_t uid,
    const char *action, const char *detail, struct vs_err *err)
{
	char d[AUDIT_DETAIL_MAX + 1];
	uint8_t chain[AUDIT_CHAIN_BYTES];
	struct buf rec = { 0 };
	struct head h;
	uint64_t seq;
	int r;

	if (!action_ok(action))
		return vs_fail(err, VS_EINVAL, "audit: malformed action");
	if (detail == NULL)
		detail = "";
	if (has_control(detail))
		return vs_fail(err, VS_EINVAL, "audit: the detail holds a "
		    "control character");
	cap_detail(detail, d);
	if ((r = head_get(txn, &h, err)) != VS_OK)
		return r;
	if (rec_begin(&rec) != 0 ||
	    rec_add_i64(&rec, A_TIME, when) != 0 ||
	    rec_add_u32(&rec, A_UID, uid) != 0 ||
	    rec_add_str(&rec, A_ACTION, action) != 0 ||
	    rec_add(&rec, A_DETAIL, d, strlen(d)) != 0 ||
	    rec_add(&rec, A_PREV, h.chain, AUDIT_CHAIN_BYTES) != 0) {
		buf_free(&rec);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	r = store_log_append(txn, STORE_LOG_AUDIT, rec.data, rec.len, &seq,
	    err);
	if (r == VS_OK && seq != h.seq + 1)
		/* Fail closed: the caller aborts, so the change it wanted to
		 * record is not made either. */
		r = vs_fail(err, VS_ECORRUPT, "the audit trail does not match "
		    "its head (entry %llu expected, the log is at %llu): it "
		    "was tampered with or damaged; see 'vmseal audit --verify'",
		    (unsigned long long)(h.seq + 1),
		    (unsigned long long)(seq - 1));
	if (r == VS_OK)
		r = chain_of(txn, seq, rec.data, rec.len, chain, err);
	if (r == VS_OK)
		r = head_put(txn, seq, chain, err);
	buf_free(&rec);
	return r;
}

int
audit_append(struct store_txn *txn, uint32_t uid, const char *action,
    const char *detail, struct vs_err *err)
{
	return audit_append_at(txn, (int64_t)time(NULL), uid, action, detail,
	    err);
}

/* Decode one record (authenticated by seal_open already, but checked as
 * if hostile). */
static int
decode(uint64_t seq, const uint8_t *rec, size_t len, struct audit_entry *e,
    struct vs_err *err)
{
	struct rec_field *f = NULL;
	unsigned seen = 0;
	size_t n, i;
	int r;

	memset(e, 0, sizeof(*e));
	e->seq = seq;
	if ((r = rec_parse(rec, len, &f, &n, err)) != VS_OK) {
		char why[VS_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err != NULL ? err->msg :
		    "bad record");
		return vs_fail(err, VS_ECORRUPT, "audit entry %llu is "
		    "malformed: %s", (unsigned long long)seq, why);
	}
	for (i = 0; i < n; i++) {
		const struct rec_field *x = &f[i];
		bool ok = true;

		if (x->tag >= A_OPTIONAL)
			continue;
		if (x->tag < 32 && (seen & (1u << x->tag)))
			ok = false;
		else switch (x->tag) {
		case A_TIME:
			ok = x->len == 8;
			if (ok)
				e->time = (int64_t)vs_get_u64be(x->val);
			break;
		case A_UID:
			ok = x->len == 4;
			if (ok)
				e->uid = vs_get_u32be(x->val);
			break;
		case A_ACTION:
		case A_DETAIL: {
			char *dst = x->tag == A_ACTION ? e->action : e->detail;
			size_t max = x->tag == A_ACTION ? AUDIT_ACTION_MAX :
			    AUDIT_DETAIL_MAX;

			ok = x->len <= max &&
			    memchr(x->val, '\0', x->len) == NULL;
			if (ok) {
				memcpy(dst, x->val, x->len);
				dst[x->len] = '\0';
			}
			break;
		}
		case A_PREV:
			ok = x->len == AUDIT_CHAIN_BYTES;
			if (ok)
				memcpy(e->prev, x->val, AUDIT_CHAIN_BYTES);
			break;
		default:
			ok = false;
		}
		if (!ok) {
			unsigned tag = x->tag;

			free(f);
			return vs_fail(err, VS_ECORRUPT, "audit entry %llu has "
			    "a malformed field (tag %u)",
			    (unsigned long long)seq, tag);
		}
		seen |= 1u << x->tag;
	}
	free(f);
	if ((seen & 0x3e) != 0x3e)
		return vs_fail(err, VS_ECORRUPT, "audit entry %llu misses a "
		    "field", (unsigned long long)seq);
	return VS_OK;
}

struct each_ctx {
	audit_cb *cb;
	void *ctx;
};

static int
each_cb(void *vctx, uint64_t seq, const uint8_t *rec, size_t len,
    struct vs_err *err)
{
	struct each_ctx *c = vctx;
	struct audit_entry e;
	int r;

	if ((r = decode(seq, rec, len, &e, err)) != VS_OK)
		return r;
	return c->cb(c->ctx, &e, err);
}

int
audit_each(struct store_txn *txn, audit_cb *cb, void *ctx,
    struct vs_err *err)
{
	struct each_ctx c = { cb, ctx };

	return store_log_each(txn, STORE_LOG_AUDIT, 1, each_cb, &c, err);
}

/* --- verification --- */

struct verify_ctx {
	struct store_txn *txn;
	uint64_t last;                  /* last entry checked */
	uint8_t chain[AUDIT_CHAIN_BYTES];       /* C(last) */
	uint64_t bad;
	bool ours;                      /* the failure came from verify_cb */
};

static int
verify_cb(void *vctx, uint64_t seq, const uint8_t *rec, size_t len,
    struct vs_err *err)
{
	struct verify_ctx *v = vctx;
	struct audit_entry e;
	int r;

	v->ours = true;
	if (seq != v->last + 1) {
		v->bad = v->last + 1;
		if (seq < v->last + 1)  /* keys come in order: cannot be */
			return vs_fail(err, VS_ECORRUPT, "audit entry %llu is "
			    "out of order", (unsigned long long)seq);
		if (v->last == 0)
			return vs_fail(err, VS_ECORRUPT, "audit entry 1 is "
			    "missing (deleted): the trail starts at %llu",
			    (unsigned long long)seq);
		return vs_fail(err, VS_ECORRUPT, "audit entry %llu is missing "
		    "(deleted): the trail jumps from %llu to %llu",
		    (unsigned long long)(v->last + 1),
		    (unsigned long long)v->last, (unsigned long long)seq);
	}
	if ((r = decode(seq, rec, len, &e, err)) != VS_OK) {
		v->bad = seq;
		return r;
	}
	if (sodium_memcmp(e.prev, v->chain, AUDIT_CHAIN_BYTES) != 0) {
		v->bad = seq;
		return vs_fail(err, VS_ECORRUPT, "audit entry %llu does not "
		    "follow entry %llu (edited, reordered or inserted)",
		    (unsigned long long)seq, (unsigned long long)v->last);
	}
	if ((r = chain_of(v->txn, seq, rec, len, v->chain, err)) != VS_OK)
		return r;
	v->last = seq;
	v->ours = false;
	return VS_OK;
}

struct first_ctx {
	uint64_t seq;
	bool seen;
};

static int
first_cb(void *vctx, uint64_t seq, const uint8_t *rec, size_t len,
    struct vs_err *err)
{
	struct first_ctx *c = vctx;

	(void)rec;
	(void)len;
	(void)err;
	c->seq = seq;
	c->seen = true;
	return VS_EEXIST;       /* stop */
}

int
audit_verify_count(struct store_txn *txn, uint64_t *bad_seq_r,
    uint64_t *n_r, struct vs_err *err)
{
	struct verify_ctx v;
	struct head h;
	int r;

	*bad_seq_r = 0;
	if (n_r != NULL)
		*n_r = 0;
	if ((r = head_get(txn, &h, err)) != VS_OK)
		return r;
	memset(&v, 0, sizeof(v));
	v.txn = txn;
	r = store_log_each(txn, STORE_LOG_AUDIT, 1, verify_cb, &v, err);
	if (r == VS_ECORRUPT && !v.ours) {
		/* seal_open refused the entry after v.last.  Its number is
		 * v.last + 1 unless entries are missing too: look past it. */
		struct first_ctx fc = { 0, false };
		struct vs_err e2;
		int r2;

		r2 = store_log_each(txn, STORE_LOG_AUDIT, v.last + 2, first_cb,
		    &fc, &e2);
		*bad_seq_r = v.last + 1;
		if (r2 == VS_OK || fc.seen)
			return vs_fail(err, VS_ECORRUPT, "audit entry %llu "
			    "fails to authenticate (edited, or moved from "
			    "another entry)", (unsigned long long)(v.last + 1));
		/* Entries after it fail too: it may be missing instead. */
		return vs_fail(err, VS_ECORRUPT, "audit entry %llu fails to "
		    "authenticate, or is missing and the next one fails "
		    "(edited, moved or deleted)",
		    (unsigned long long)(v.last + 1));
	}
	if (r != VS_OK) {
		if (r == VS_ECORRUPT)
			*bad_seq_r = v.bad;
		return r;
	}
	if (n_r != NULL)
		*n_r = v.last;
	if (!h.present && v.last == 0)
		return VS_OK;           /* an empty trail */
	if (!h.present) {
		*bad_seq_r = v.last;
		return vs_fail(err, VS_ECORRUPT, "the audit trail's head is "
		    "missing (entries 1 to %llu are there)",
		    (unsigned long long)v.last);
	}
	if (h.seq > v.last) {
		*bad_seq_r = v.last + 1;
		return vs_fail(err, VS_ECORRUPT, "audit entry %llu is missing "
		    "(deleted): the trail ends at %llu, its head says %llu",
		    (unsigned long long)(v.last + 1),
		    (unsigned long long)v.last, (unsigned long long)h.seq);
	}
	if (h.seq < v.last) {
		*bad_seq_r = h.seq + 1;
		return vs_fail(err, VS_ECORRUPT, "audit entry %llu was added "
		    "behind the trail's back: its head ends at %llu",
		    (unsigned long long)(h.seq + 1),
		    (unsigned long long)h.seq);
	}
	if (sodium_memcmp(h.chain, v.chain, AUDIT_CHAIN_BYTES) != 0) {
		*bad_seq_r = v.last;
		return vs_fail(err, VS_ECORRUPT, "audit entry %llu does not "
		    "match the trail's head (replaced)",
		    (unsigned long long)v.last);
	}
	return VS_OK;
}

int
audit_verify(struct store_txn *txn, uint64_t *bad_seq_r,
    struct vs_err *err)
{
	return audit_verify_count(txn, bad_seq_r, NULL, err);
}

/* --- after a key rotation --- */

struct rechain_entry {
	uint64_t seq;
	uint8_t *rec;
	size_t len;
};

struct rechain_ctx {
	struct rechain_entry *e;
	size_t n, cap;
};

static int
rechain_collect(void *vctx, uint64_t seq, const uint8_t *rec, size_t len,
    struct vs_err *err)
{
	struct rechain_ctx *c = vctx;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct rechain_entry *ne = realloc(c->e, ncap * sizeof(*ne));

		if (ne == NULL)
			return vs_fail(err, VS_ENOMEM, "out of memory");
		c->e = ne;
		c->cap = ncap;
	}
	if ((c->e[c->n].rec = malloc(len ? len : 1)) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	memcpy(c->e[c->n].rec, rec, len);
	c->e[c->n].len = len;
	c->e[c->n].seq = seq;
	c->n++;
	return VS_OK;
}

int
audit_rechain(struct store_txn *txn, struct vs_err *err)
{
	struct rechain_ctx c = { NULL, 0, 0 };
	uint8_t prev[AUDIT_CHAIN_BYTES], chain[AUDIT_CHAIN_BYTES];
	struct rec_field *f;
	struct buf rec = { 0 };
	size_t i, k, nf;
	int r;

	memset(prev, 0, sizeof(prev));
	r = store_log_each(txn, STORE_LOG_AUDIT, 1, rechain_collect, &c, err);
	for (i = 0; r == VS_OK && i < c.n; i++) {
		/* The same fields, with the new link to the entry before. */
		r = rec_parse(c.e[i].rec, c.e[i].len, &f, &nf, err);
		if (r != VS_OK)
			break;
		r = rec_begin(&rec);
		for (k = 0; r == 0 && k < nf; k++)
			r = f[k].tag == A_PREV ?
			    rec_add(&rec, A_PREV, prev, sizeof(prev)) :
			    rec_add(&rec, f[k].tag, f[k].val, f[k].len);
		free(f);
		if (r != 0) {
			r = vs_fail(err, VS_ENOMEM, "out of memory");
			break;
		}
		r = chain_of(txn, c.e[i].seq, rec.data, rec.len, chain, err);
		if (r == VS_OK)
			r = store_log_replace(txn, STORE_LOG_AUDIT, c.e[i].seq,
			    rec.data, rec.len, err);
		memcpy(prev, chain, sizeof(prev));
	}
	if (r == VS_OK && c.n > 0)
		r = head_put(txn, c.e[c.n - 1].seq, prev, err);
	for (i = 0; i < c.n; i++)
		free(c.e[i].rec);
	free(c.e);
	buf_free(&rec);
	return r;
}
