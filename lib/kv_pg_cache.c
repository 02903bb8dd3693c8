/*
 * kv_pg_cache.c - the PostgreSQL backend's read cache and its invalidation
 * messages (kv_pg_cache.h says what is cached, why that holds nothing the
 * database does not, and the consistency rule).
 *
 * The table: chained hash buckets (a power of two, doubled when the
 * entries outnumber them, up to 2^22), the bucket chosen by SipHash-2-4
 * (crypto_shorthash) under a key drawn at creation over table || key, so
 * that nobody who picks keys can pile them into one bucket (the keys are
 * blind indexes already, but a payload from the database is not to be
 * trusted for that).  An entry holds the table, the key and the value (or
 * "absent") in one allocation; values are wiped when dropped.
 *
 * The parser reads untrusted text (any role that may LISTEN/NOTIFY on the
 * database can send a payload): it is bounded by KVPG_NOTIFY_MAX, reads
 * only "v1", spaces, digits, ':' and lower-case hex, and anything else is
 * "flush all".  tests/fuzz/fuzz_pgnotify.c runs it.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kv_pg_cache.h"

#define BUCKETS_MIN 1024u
#define BUCKETS_MAX (1u << 22)
#define ENTRY_OVERHEAD 64u

struct ent {
	struct ent *next;
	uint64_t h;
	uint32_t vlen;
	uint16_t klen;
	uint8_t tbl;
	bool absent;
	uint8_t data[];         /* key, then value */
};

struct kvpg_cache {
	pthread_mutex_t mu;
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	struct ent **b;
	size_t nb, n, bytes, max_bytes;
	uint64_t epoch;
	bool live;
	struct kvpg_cache_stats st;
};

bool
kvpg_cache_table(enum kv_table t)
{
	return t == KV_DOMAINS || t == KV_USERS || t == KV_ADDRESSES ||
	    t == KV_ALIASES;
}

static uint64_t
hash(const struct kvpg_cache *c, enum kv_table t, const void *key,
    size_t klen)
{
	unsigned char in[1 + KV_PG_CACHE_KEY_MAX], out[crypto_shorthash_BYTES];
	uint64_t h = 0;
	size_t i;

	in[0] = (unsigned char)t;
	memcpy(in + 1, key, klen);
	crypto_shorthash(out, in, 1 + klen, c->hkey);
	for (i = 0; i < sizeof(h); i++)
		h = (h << 8) | out[i];
	return h;
}

static size_t
ent_bytes(const struct ent *e)
{
	return ENTRY_OVERHEAD + e->klen + e->vlen;
}

static void
ent_free(struct ent *e)
{
	sodium_memzero(e->data, (size_t)e->klen + e->vlen);
	free(e);
}

int
kvpg_cache_new(size_t max_bytes, struct kvpg_cache **c_r, struct vs_err *err)
{
	struct kvpg_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->b = calloc(BUCKETS_MIN, sizeof(*c->b))) == NULL) {
		free(c);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c->b);
		free(c);
		return vs_fail(err, VS_ENOMEM, "cannot make a mutex");
	}
	randombytes_buf(c->hkey, sizeof(c->hkey));
	c->nb = BUCKETS_MIN;
	c->max_bytes = max_bytes;
	*c_r = c;
	return VS_OK;
}

/* Drop every entry; with mu held. */
static void
drop_all(struct kvpg_cache *c)
{
	struct ent *e, *next;
	size_t i;

	for (i = 0; i < c->nb; i++) {
		for (e = c->b[i]; e != NULL; e = next) {
			next = e->next;
			ent_free(e);
		}
		c->b[i] = NULL;
	}
	c->n = 0;
	c->bytes = 0;
}

void
kvpg_cache_free(struct kvpg_cache **cp)
{
	struct kvpg_cache *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	drop_all(c);
	free(c->b);
	pthread_mutex_destroy(&c->mu);
	sodium_memzero(c->hkey, sizeof(c->hkey));
	free(c);
	*cp = NULL;
}

static struct ent **
find(struct kvpg_cache *c, uint64_t h, enum kv_table t, const void *key,
    size_t klen)
{
	struct ent **pp = &c->b[h & (c->nb - 1)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->h == h && (*pp)->tbl == (uint8_t)t &&
		    (*pp)->klen == klen && memcmp((*pp)->data, key, klen) == 0)
			return pp;
	return pp;
}

static bool
keyable(enum kv_table t, size_t klen)
{
	return kvpg_cache_table(t) && klen <= KV_PG_CACHE_KEY_MAX;
}

enum kvpg_cache_found
kvpg_cache_get(struct kvpg_cache *c, enum kv_table t, const void *key,
    size_t klen, void **val_r, size_t *vlen_r, uint64_t *epoch_r)
{
	enum kvpg_cache_found f = KVPG_CACHE_MISS;
	struct ent *e;
	uint64_t h;

	*val_r = NULL;
	*vlen_r = 0;
	pthread_mutex_lock(&c->mu);
	*epoch_r = c->epoch;
	if (!c->live || !keyable(t, klen))
		goto miss;
	h = hash(c, t, key, klen);
	if ((e = *find(c, h, t, key, klen)) == NULL)
		goto miss;
	if (e->absent) {
		c->st.absent_hits++;
		pthread_mutex_unlock(&c->mu);
		return KVPG_CACHE_ABSENT;
	}
	/* malloc(0) may be NULL: one byte more */
	if ((*val_r = malloc((size_t)e->vlen + 1)) == NULL)
		goto miss;
	memcpy(*val_r, e->data + e->klen, e->vlen);
	*vlen_r = e->vlen;
	c->st.hits++;
	f = KVPG_CACHE_HIT;
	pthread_mutex_unlock(&c->mu);
	return f;
miss:
	c->st.misses++;
	pthread_mutex_unlock(&c->mu);
	return KVPG_CACHE_MISS;
}

/* Double the buckets (with mu held); on a failed allocation the table
 * stays as it is, only longer chains. */
static void
grow(struct kvpg_cache *c)
{
	struct ent **nb, *e, *next;
	size_t i, n = c->nb * 2;

	if (n > BUCKETS_MAX || (nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < c->nb; i++)
		for (e = c->b[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->h & (n - 1)];
			nb[e->h & (n - 1)] = e;
		}
	free(c->b);
	c->b = nb;
	c->nb = n;
}

void
kvpg_cache_put(struct kvpg_cache *c, enum kv_table t, const void *key,
    size_t klen, const void *val, size_t vlen, uint64_t epoch)
{
	struct ent *e, **pp;
	uint64_t h;
	size_t sz;

	if (!keyable(t, klen) || vlen > UINT32_MAX)
		return;
	pthread_mutex_lock(&c->mu);
	if (!c->live || c->epoch != epoch) {
		c->st.not_kept++;
		goto out;
	}
	sz = ENTRY_OVERHEAD + klen + (val != NULL ? vlen : 0);
	if (c->bytes + sz > c->max_bytes) {
		c->st.not_kept++;
		goto out;
	}
	h = hash(c, t, key, klen);
	pp = find(c, h, t, key, klen);
	if (*pp != NULL)                /* put by another reader meanwhile */
		goto out;
	if ((e = malloc(sizeof(*e) + klen + (val != NULL ? vlen : 0))) ==
	    NULL)
		goto out;
	e->next = NULL;
	e->h = h;
	e->tbl = (uint8_t)t;
	e->klen = (uint16_t)klen;
	e->absent = val == NULL;
	e->vlen = val != NULL ? (uint32_t)vlen : 0;
	memcpy(e->data, key, klen);
	if (val != NULL && vlen > 0)
		memcpy(e->data + klen, val, vlen);
	*pp = e;
	c->n++;
	c->bytes += ent_bytes(e);
	c->st.kept++;
	if (c->n > c->nb)
		grow(c);
out:
	pthread_mutex_unlock(&c->mu);
}

/* with mu held */
static void
forget_locked(struct kvpg_cache *c, enum kv_table t, const void *key,
    size_t klen)
{
	struct ent **pp, *e;

	c->epoch++;
	c->st.invalidations++;
	if (!keyable(t, klen))
		return;
	pp = find(c, hash(c, t, key, klen), t, key, klen);
	if ((e = *pp) == NULL)
		return;
	*pp = e->next;
	c->n--;
	c->bytes -= ent_bytes(e);
	ent_free(e);
}

void
kvpg_cache_forget(struct kvpg_cache *c, enum kv_table t, const void *key,
    size_t klen)
{
	pthread_mutex_lock(&c->mu);
	forget_locked(c, t, key, klen);
	pthread_mutex_unlock(&c->mu);
}

void
kvpg_cache_flush(struct kvpg_cache *c)
{
	pthread_mutex_lock(&c->mu);
	c->epoch++;
	c->st.flushes++;
	drop_all(c);
	pthread_mutex_unlock(&c->mu);
}

void
kvpg_cache_set_live(struct kvpg_cache *c, bool live)
{
	pthread_mutex_lock(&c->mu);
	c->epoch++;
	drop_all(c);
	c->live = live;
	pthread_mutex_unlock(&c->mu);
}

uint64_t
kvpg_cache_epoch(struct kvpg_cache *c)
{
	uint64_t e;

	pthread_mutex_lock(&c->mu);
	e = c->epoch;
	pthread_mutex_unlock(&c->mu);
	return e;
}

void
kvpg_cache_stats(struct kvpg_cache *c, struct kvpg_cache_stats *s_r)
{
	pthread_mutex_lock(&c->mu);
	*s_r = c->st;
	s_r->live = c->live;
	s_r->entries = c->n;
	s_r->bytes = c->bytes;
	s_r->max_bytes = c->max_bytes;
	pthread_mutex_unlock(&c->mu);
}

/* ---- payloads ---- */

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int
kvpg_notify_parse(const char *p, kvpg_notify_cb *cb, void *ctx)
{
	uint8_t key[KV_PG_CACHE_KEY_MAX];
	size_t klen;
	int n = 0, hi, lo;
	enum kv_table t;

	if (p == NULL || strnlen(p, KVPG_NOTIFY_MAX + 1) > KVPG_NOTIFY_MAX)
		return -1;
	if (strncmp(p, "v1", 2) != 0)
		return -1;              /* "*" and everything else */
	p += 2;
	while (*p != '\0') {
		if (p[0] != ' ' || p[1] < '1' || p[1] > '4' || p[2] != ':')
			return -1;
		t = (enum kv_table)(p[1] - '0');
		p += 3;
		for (klen = 0; *p != ' ' && *p != '\0'; p += 2) {
			if ((hi = hexval(p[0])) < 0 || (lo = hexval(p[1])) < 0 ||
			    klen == sizeof(key))
				return -1;
			key[klen++] = (uint8_t)(hi << 4 | lo);
		}
		if (klen == 0)
			return -1;
		if (cb != NULL)
			cb(ctx, t, key, klen);
		n++;
	}
	return n;
}

static void
apply_cb(void *ctx, enum kv_table t, const uint8_t *key, size_t klen)
{
	forget_locked(ctx, t, key, klen);
}

int
kvpg_cache_apply(struct kvpg_cache *c, const char *payload)
{
	int n;

	pthread_mutex_lock(&c->mu);
	if ((n = kvpg_notify_parse(payload, apply_cb, c)) < 0) {
		c->epoch++;
		c->st.flushes++;
		drop_all(c);
	}
	pthread_mutex_unlock(&c->mu);
	return n;
}

void
kvpg_notify_init(struct kvpg_notify *n)
{
	n->len = 0;
	n->all = false;
	n->text[0] = '\0';
}

void
kvpg_notify_add(struct kvpg_notify *n, enum kv_table t, const void *key,
    size_t klen)
{
	static const char hx[] = "0123456789abcdef";
	const uint8_t *k = key;
	size_t need, i;

	if (!kvpg_cache_table(t) || n->all)
		return;
	if (klen == 0 || klen > KV_PG_CACHE_KEY_MAX)
		goto all;       /* never kept; say "all" to be safe */
	if (n->len == 0) {
		memcpy(n->text, "v1", 2);
		n->len = 2;
	}
	need = 3 + 2 * klen;
	if (n->len + need > KVPG_NOTIFY_MAX)
		goto all;
	n->text[n->len++] = ' ';
	n->text[n->len++] = (char)('0' + (int)t);
	n->text[n->len++] = ':';
	for (i = 0; i < klen; i++) {
		n->text[n->len++] = hx[k[i] >> 4];
		n->text[n->len++] = hx[k[i] & 15];
	}
	n->text[n->len] = '\0';
	return;
all:
	n->all = true;
	n->text[0] = '*';
	n->text[1] = '\0';
	n->len = 1;
}

const char *
kvpg_notify_text(const struct kvpg_notify *n)
{
	return n->len > 0 ? n->text : NULL;
}
