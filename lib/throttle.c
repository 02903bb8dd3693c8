/*
 * throttle.c - failed-login throttle (see throttle.h): per key, a ring of
 * the `limit` most recent hit times, in a hash table of bounded size.
 *
 * Why: the seed host survived its first attack with iptables' `recent
 * --update --seconds 120 --hitcount 4`; vmsealed does the same per client
 * address (and per login name) before it spends a password hash.
 *
 * Rules, with t the time of the event clamped to the key's last hit:
 *   - a hit at t counts "in the window" at now when t > now - window (a hit
 *     exactly `window` seconds old has left the window);
 *   - a key trips when a hit brings its hits in the window to `limit`;
 *   - a tripped key is blocked while its last hit is in the window; each
 *     refused attempt is a hit, so the block ends only after `window`
 *     seconds with no attempt at all (stricter than iptables, which would
 *     let a slow retrier in as soon as its older hits slide out).
 *
 * Memory: at most max_entries entries of about 96 + 8 * limit bytes, plus
 * a slot array of 4 bytes per 2 entries.  When full, 8 entries are sampled
 * at random and the least valuable is dropped: first one with no hit in
 * the window, then one not blocked, then a blocked one; the oldest last
 * hit among equals.  A flood of single failures from distinct addresses
 * thus replaces itself and does not push out an active block.
 *
 * Reservations: each entry also counts the password checks reserved for
 * it and not settled yet (throttle_reserve); the check "blocked?", the
 * check "hits + in flight < limit?" and the reservation are one call, so
 * the caller holds one lock for all three and no attempt slips between a
 * check and its count.
 *
 * Security: the table is indexed with SipHash (crypto_shorthash) under a
 * key drawn at throttle_new(), so a peer who picks addresses or names
 * cannot aim collisions at one chain; the table never holds more than
 * max_entries keys whatever the peer sends.  Keys longer than
 * THROTTLE_KEY_MAX are cut and end in a keyed hash of the whole key, so two
 * long names are not merged.  No function here allocates per attempt once
 * the table is full (the evicted entry is reused).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "names.h"
#include "throttle.h"

/* Entries sampled for an eviction. */
#define EVICT_SAMPLE 8
/* Indices are 32-bit; the slot array holds at least 2 slots per entry. */
#define ENTRIES_MAX ((size_t)1 << 28)
#define SLOT_EMPTY UINT32_MAX
/* Long keys: this many characters of the key, '~', then 16 hex digits. */
#define KEY_CUT (THROTTLE_KEY_MAX - 17)

struct tentry {
	uint64_t hash;
	int64_t last;           /* newest hit; no hit is later */
	uint32_t inflight;      /* reservations not settled yet */
	uint8_t n;              /* hits held in the ring (<= limit) */
	uint8_t head;           /* index of the oldest held hit */
	bool tripped;           /* a hit brought the window to `limit` */
	char key[THROTTLE_KEY_MAX + 1];
	int64_t hits[];         /* limit of them, oldest at head */
};

struct throttle {
	unsigned limit;
	uint64_t window;
	size_t max;
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	unsigned char skey[crypto_shorthash_KEYBYTES];  /* for sampling */
	uint64_t draws;
	struct tentry **ents;   /* dense: ents[0..count) */
	size_t count, cap;
	uint32_t *slots;        /* open addressing, linear probing */
	size_t mask;            /* nslots - 1; nslots is a power of two */
};

/* Classes of entries for eviction, least valuable first: a key with
 * reservations in flight goes last (its count would be lost). */
enum eclass { E_STALE, E_ACTIVE, E_BLOCKED, E_INFLIGHT };

static uint64_t
key_hash(const struct throttle *t, const char *key, size_t len)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v = 0;
	size_t i;

	crypto_shorthash(h, (const unsigned char *)key, len, t->hkey);
	for (i = 0; i < sizeof(h); i++)
		v = v << 8 | h[i];
	return v;
}

/* The stored form of key: as is when it fits, else cut and tagged with a
 * keyed hash of the whole key.  Returns its hash. */
static uint64_t
key_norm(const struct throttle *t, const char *key,
    char out[THROTTLE_KEY_MAX + 1])
{
	size_t len = strlen(key);
	uint64_t h;

	if (len <= THROTTLE_KEY_MAX) {
		memcpy(out, key, len + 1);
		return key_hash(t, out, len);
	}
	h = key_hash(t, key, len);
	memcpy(out, key, KEY_CUT);
	snprintf(out + KEY_CUT, THROTTLE_KEY_MAX + 1 - KEY_CUT, "~%016llx",
	    (unsigned long long)h);
	return key_hash(t, out, THROTTLE_KEY_MAX);
}

/* Is a hit at h (h <= now) in the window at now? */
static bool
in_window(const struct throttle *t, int64_t h, int64_t now)
{
	return (uint64_t)now - (uint64_t)h < t->window;
}

/* Time never runs backwards for a key: now, or the key's last hit. */
static int64_t
clamp(const struct tentry *e, int64_t now)
{
	return e->n > 0 && now < e->last ? e->last : now;
}

static int64_t
hit_at(const struct throttle *t, const struct tentry *e, unsigned i)
{
	return e->hits[(e->head + i) % t->limit];
}

/* Hits of e in the window at now (clamped), and the oldest of them. */
static unsigned
count_window(const struct throttle *t, const struct tentry *e, int64_t now,
    int64_t *first_r)
{
	unsigned i;

	for (i = 0; i < e->n; i++)
		if (in_window(t, hit_at(t, e, i), now))
			break;
	if (first_r != NULL && i < e->n)
		*first_r = hit_at(t, e, i);
	return e->n - i;
}

static bool
is_blocked(const struct throttle *t, const struct tentry *e, int64_t now)
{
	return e->tripped && e->n > 0 && in_window(t, e->last, clamp(e, now));
}

static void
add_hit(const struct throttle *t, struct tentry *e, int64_t now)
{
	bool still = is_blocked(t, e, now);

	now = clamp(e, now);
	if (e->n < t->limit) {
		e->hits[(e->head + e->n) % t->limit] = now;
		e->n++;
	} else {
		e->hits[e->head] = now;
		e->head = (uint8_t)((e->head + 1) % t->limit);
	}
	e->last = now;
	e->tripped = still || count_window(t, e, now, NULL) >= t->limit;
}

static enum eclass
eclass(const struct throttle *t, const struct tentry *e, int64_t now)
{
	if (e->inflight > 0)
		return E_INFLIGHT;
	if (is_blocked(t, e, now))
		return E_BLOCKED;
	if (e->n > 0 && in_window(t, e->last, clamp(e, now)))
		return E_ACTIVE;
	return E_STALE;
}

/* Slot holding entry index idx, whose hash is h. */
static size_t
slot_of(const struct throttle *t, uint64_t h, uint32_t idx)
{
	size_t i = h & t->mask;

	while (t->slots[i] != idx)
		i = (i + 1) & t->mask;
	return i;
}

/* Slot of the entry with stored key k and hash h, or the empty slot where
 * it would go. */
static size_t
find_slot(const struct throttle *t, const char *k, uint64_t h)
{
	size_t i = h & t->mask;
	const struct tentry *e;

	while (t->slots[i] != SLOT_EMPTY) {
		e = t->ents[t->slots[i]];
		if (e->hash == h && strcmp(e->key, k) == 0)
			break;
		i = (i + 1) & t->mask;
	}
	return i;
}

static struct tentry *
lookup(const struct throttle *t, const char *key)
{
	char k[THROTTLE_KEY_MAX + 1];
	uint64_t h;
	size_t s;

	if (t == NULL || key == NULL)
		return NULL;
	h = key_norm(t, key, k);
	s = find_slot(t, k, h);
	return t->slots[s] == SLOT_EMPTY ? NULL : t->ents[t->slots[s]];
}

/* Empty slot s (backward-shift deletion: no tombstones). */
static void
slot_delete(struct throttle *t, size_t s)
{
	size_t j = s, home;

	for (;;) {
		j = (j + 1) & t->mask;
		if (t->slots[j] == SLOT_EMPTY)
			break;
		home = t->ents[t->slots[j]]->hash & t->mask;
		/* Leave j where it is if its home lies in (s, j]. */
		if (s <= j ? (s < home && home <= j) : (s < home || home <= j))
			continue;
		t->slots[s] = t->slots[j];
		s = j;
	}
	t->slots[s] = SLOT_EMPTY;
}

/* Take entry idx out of the table and the dense array; returns it. */
static struct tentry *
unlink_entry(struct throttle *t, uint32_t idx)
{
	struct tentry *e = t->ents[idx], *m;
	uint32_t lastidx = (uint32_t)(t->count - 1);

	slot_delete(t, slot_of(t, e->hash, idx));
	if (idx != lastidx) {
		m = t->ents[lastidx];
		t->slots[slot_of(t, m->hash, lastidx)] = idx;
		t->ents[idx] = m;
	}
	t->ents[lastidx] = NULL;
	t->count--;
	return e;
}

/* A random index below n: SipHash of a counter under a secret key (as
 * unpredictable as randombytes_uniform() for a peer, without a system call
 * per draw; the modulo bias is below n / 2^64). */
static uint32_t
draw(struct throttle *t, size_t n)
{
	unsigned char in[8], h[crypto_shorthash_BYTES];
	uint64_t v = t->draws++, r = 0;
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(v >> (8 * i));
	crypto_shorthash(h, in, sizeof(in), t->skey);
	for (i = 0; i < sizeof(h); i++)
		r = r << 8 | h[i];
	return (uint32_t)(r % n);
}

/* Drop the least valuable of EVICT_SAMPLE entries drawn at random (with
 * replacement); returns its memory for reuse. */
static struct tentry *
evict(struct throttle *t, int64_t now)
{
	uint32_t best = 0, idx;
	enum eclass bc = E_INFLIGHT, c;
	const struct tentry *e;
	int i, n;

	/* A small table is scanned whole: exact, and testable. */
	n = t->count <= EVICT_SAMPLE ? (int)t->count : EVICT_SAMPLE;
	for (i = 0; i < n; i++) {
		idx = t->count <= EVICT_SAMPLE ? (uint32_t)i :
		    draw(t, t->count);
		e = t->ents[idx];
		c = eclass(t, e, now);
		if (i == 0 || c < bc ||
		    (c == bc && e->last < t->ents[best]->last)) {
			best = idx;
			bc = c;
		}
	}
	return unlink_entry(t, best);
}

/* Make room for one more entry: grow the arrays if allowed.  false if the
 * table is full (or cannot grow). */
static bool
grow(struct throttle *t)
{
	struct tentry **ne;
	uint32_t *ns;
	size_t ncap, nslots, i, s;

	if (t->count < t->cap)
		return true;
	if (t->cap >= t->max)
		return false;
	ncap = t->cap * 2;
	if (ncap > t->max)
		ncap = t->max;
	ne = realloc(t->ents, ncap * sizeof(*ne));
	if (ne == NULL)
		return false;
	t->ents = ne;
	nslots = t->mask + 1;
	if (nslots >= 2 * ncap) {
		t->cap = ncap;
		return true;
	}
	while (nslots < 2 * ncap)
		nslots *= 2;
	ns = malloc(nslots * sizeof(*ns));
	if (ns == NULL)
		return false;
	free(t->slots);
	t->slots = ns;
	t->mask = nslots - 1;
	memset(ns, 0xff, nslots * sizeof(*ns));
	for (i = 0; i < t->count; i++) {
		s = t->ents[i]->hash & t->mask;
		while (ns[s] != SLOT_EMPTY)
			s = (s + 1) & t->mask;
		ns[s] = (uint32_t)i;
	}
	t->cap = ncap;
	return true;
}

/* The entry of key, created (maybe in place of an evicted one) if new.
 * NULL only when memory is short and the table is empty. */
static struct tentry *
get_entry(struct throttle *t, const char *key, int64_t now)
{
	char k[THROTTLE_KEY_MAX + 1];
	struct tentry *e = NULL;
	uint64_t h;
	size_t s;

	h = key_norm(t, key, k);
	s = find_slot(t, k, h);
	if (t->slots[s] != SLOT_EMPTY)
		return t->ents[t->slots[s]];
	if (grow(t))
		e = malloc(sizeof(*e) + t->limit * sizeof(e->hits[0]));
	if (e == NULL) {
		if (t->count == 0)
			return NULL;
		e = evict(t, now);
	}
	/* Growing or evicting moved things: probe again. */
	s = find_slot(t, k, h);
	memset(e, 0, sizeof(*e));
	memcpy(e->key, k, sizeof(k));
	e->hash = h;
	t->slots[s] = (uint32_t)t->count;
	t->ents[t->count++] = e;
	return e;
}

int
throttle_new(const struct throttle_params *p, struct throttle **t_r,
    struct vs_err *err)
{
	struct throttle *t;

	*t_r = NULL;
	if (p->limit < 1 || p->limit > THROTTLE_LIMIT_MAX)
		return vs_fail(err, VS_EINVAL, "throttle limit %u out of range"
		    " (1 to %d)", p->limit, THROTTLE_LIMIT_MAX);
	if (p->window < 1)
		return vs_fail(err, VS_EINVAL, "throttle window must be at"
		    " least 1 second");
	if (p->max_entries < 1 || p->max_entries > ENTRIES_MAX)
		return vs_fail(err, VS_EINVAL, "throttle max_entries %zu out"
		    " of range (1 to %zu)", p->max_entries, ENTRIES_MAX);
	if (sodium_init() < 0)
		return vs_fail(err, VS_EIO, "throttle: libsodium failed to"
		    " initialize");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return vs_fail(err, VS_ENOMEM, "throttle: out of memory");
	t->limit = p->limit;
	t->window = p->window;
	t->max = p->max_entries;
	t->cap = t->max < 64 ? t->max : 64;
	t->mask = 127;
	t->ents = calloc(t->cap, sizeof(*t->ents));
	t->slots = malloc((t->mask + 1) * sizeof(*t->slots));
	if (t->ents == NULL || t->slots == NULL) {
		free(t->ents);
		free(t->slots);
		free(t);
		return vs_fail(err, VS_ENOMEM, "throttle: out of memory");
	}
	memset(t->slots, 0xff, (t->mask + 1) * sizeof(*t->slots));
	randombytes_buf(t->hkey, sizeof(t->hkey));
	randombytes_buf(t->skey, sizeof(t->skey));
	*t_r = t;
	return VS_OK;
}

void
throttle_set_seed(struct throttle *t, uint64_t seed)
{
	static const char ctx[] = "vmseal-throttle-sample-seed";
	unsigned char in[8];
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(seed >> (8 * i));
	/* skey = BLAKE2b-128(key = context, seed): any seed gives a full
	 * SipHash key; the same seed, the same draws. */
	crypto_generichash(t->skey, sizeof(t->skey), in, sizeof(in),
	    (const unsigned char *)ctx, sizeof(ctx) - 1);
	t->draws = 0;
}

void
throttle_free(struct throttle **tp)
{
	struct throttle *t;
	size_t i;

	if (tp == NULL || *tp == NULL)
		return;
	t = *tp;
	for (i = 0; i < t->count; i++)
		free(t->ents[i]);
	free(t->ents);
	free(t->slots);
	sodium_memzero(t->hkey, sizeof(t->hkey));
	sodium_memzero(t->skey, sizeof(t->skey));
	free(t);
	*tp = NULL;
}

bool
throttle_check(struct throttle *t, const char *key, int64_t now)
{
	struct tentry *e = lookup(t, key);

	if (e == NULL || !is_blocked(t, e, now))
		return false;
	add_hit(t, e, now);
	return true;
}

enum throttle_verdict
throttle_reserve(struct throttle *t, const char *key, int64_t now)
{
	struct tentry *e;

	if (t == NULL || key == NULL)
		return THROTTLE_PASS;
	if ((e = get_entry(t, key, now)) == NULL)
		return THROTTLE_PASS;   /* no memory at all: as before */
	if (is_blocked(t, e, now)) {
		add_hit(t, e, now);
		return THROTTLE_BLOCKED;
	}
	if (count_window(t, e, clamp(e, now), NULL) + e->inflight >= t->limit)
		return THROTTLE_BUSY;
	e->inflight++;
	return THROTTLE_PASS;
}

void
throttle_settle(struct throttle *t, const char *key, int64_t now,
    bool failed)
{
	struct tentry *e;

	if (t == NULL || key == NULL)
		return;
	/* Gone (evicted, or cleared while empty): nothing to give back. */
	if ((e = lookup(t, key)) != NULL && e->inflight > 0)
		e->inflight--;
	if (failed)
		throttle_fail(t, key, now);
}

unsigned
throttle_inflight(const struct throttle *t, const char *key)
{
	const struct tentry *e = lookup(t, key);

	return e == NULL ? 0 : e->inflight;
}

void
throttle_fail(struct throttle *t, const char *key, int64_t now)
{
	struct tentry *e;

	if (t == NULL || key == NULL)
		return;
	e = get_entry(t, key, now);
	if (e != NULL)
		add_hit(t, e, now);
}

void
throttle_block(struct throttle *t, const char *key, int64_t now)
{
	struct tentry *e;
	unsigned i;

	if (t == NULL || key == NULL || (e = get_entry(t, key, now)) == NULL)
		return;
	/* one hit (the refusal), and up to limit at now trip it */
	i = 0;
	do
		add_hit(t, e, now);
	while (!is_blocked(t, e, now) && ++i < t->limit);
}

/* No hits any more (reservations stay). */
static void
forget_hits(struct tentry *e)
{
	e->n = 0;
	e->head = 0;
	e->tripped = false;
	e->last = 0;
}

bool
throttle_clear(struct throttle *t, const char *key)
{
	char k[THROTTLE_KEY_MAX + 1];
	struct tentry *e;
	uint64_t h;
	size_t s;

	if (t == NULL || key == NULL)
		return false;
	h = key_norm(t, key, k);
	s = find_slot(t, k, h);
	if (t->slots[s] == SLOT_EMPTY)
		return false;
	e = t->ents[t->slots[s]];
	if (e->inflight > 0)
		forget_hits(e);         /* keep the count in flight */
	else
		free(unlink_entry(t, t->slots[s]));
	return true;
}

void
throttle_reset(struct throttle *t)
{
	size_t i, kept = 0, s;
	struct tentry *e;

	if (t == NULL)
		return;
	for (i = 0; i < t->count; i++) {
		e = t->ents[i];
		if (e->inflight == 0) {
			free(e);
			continue;
		}
		forget_hits(e);
		t->ents[kept++] = e;
	}
	t->count = kept;
	memset(t->slots, 0xff, (t->mask + 1) * sizeof(*t->slots));
	for (i = 0; i < t->count; i++) {
		s = t->ents[i]->hash & t->mask;
		while (t->slots[s] != SLOT_EMPTY)
			s = (s + 1) & t->mask;
		t->slots[s] = (uint32_t)i;
	}
}

bool
throttle_blocked(const struct throttle *t, const char *key, int64_t now)
{
	const struct tentry *e = lookup(t, key);

	return e != NULL && is_blocked(t, e, now);
}

void
throttle_each(const struct throttle *t, int64_t now,
    int (*fn)(void *ctx, const struct throttle_entry *e), void *ctx)
{
	struct throttle_entry out;
	const struct tentry *e;
	int64_t n;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->count; i++) {
		e = t->ents[i];
		n = clamp(e, now);
		memset(&out, 0, sizeof(out));
		out.hits = count_window(t, e, n, &out.first);
		if (out.hits == 0)
			continue;
		memcpy(out.key, e->key, sizeof(out.key));
		out.last = e->last;
		out.blocked = is_blocked(t, e, now);
		if (fn(ctx, &out) != 0)
			return;
	}
}

size_t
throttle_count(const struct throttle *t)
{
	return t == NULL ? 0 : t->count;
}

/* Is the IPv6 address a (16 bytes) an IPv4-mapped one, ::ffff:a.b.c.d? */
static bool
v4mapped(const unsigned char *a)
{
	static const unsigned char pre[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return memcmp(a, pre, sizeof(pre)) == 0;
}

bool
throttle_addr_key(const char *ip, char out[THROTTLE_KEY_MAX + 1])
{
	unsigned char a[16];
	char buf[INET6_ADDRSTRLEN];

	out[0] = '\0';
	if (ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, a) == 1) {
		if (inet_ntop(AF_INET, a, buf, sizeof(buf)) == NULL)
			return false;
		snprintf(out, THROTTLE_KEY_MAX + 1, "%s", buf);
		return true;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return false;
	if (v4mapped(a)) {
		if (inet_ntop(AF_INET, a + 12, buf, sizeof(buf)) == NULL)
			return false;
		snprintf(out, THROTTLE_KEY_MAX + 1, "%s", buf);
		return true;
	}
	memset(a + 8, 0, 8);
	if (inet_ntop(AF_INET6, a, buf, sizeof(buf)) == NULL)
		return false;
	snprintf(out, THROTTLE_KEY_MAX + 1, "%s/64", buf);
	return true;
}

/*
 * Allow-list.
 */

struct anet {
	unsigned char addr[16]; /* network, host bits zero */
	unsigned bits;
	bool v6;
};

struct throttle_allow {
	struct anet *nets;
	size_t n;
};

/* Does a (4 or 16 bytes) lie in the first bits bits of net? */
static bool
prefix_match(const unsigned char *a, const unsigned char *net, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	unsigned char m;

	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	m = (unsigned char)(0xff << (8 - rest));
	return (a[full] & m) == net[full];
}

/* Are bits past the prefix all zero? */
static bool
host_bits_zero(const unsigned char *a, size_t len, unsigned bits)
{
	size_t i;

	for (i = bits / 8; i < len; i++) {
		unsigned char m = 0xff;

		if (i == bits / 8 && bits % 8 != 0)
			m = (unsigned char)(0xff >> (bits % 8));
		if (a[i] & m)
			return false;
	}
	return true;
}

/* Parse one item (len bytes at s, number pos in the list) into net. */
static int
parse_item(const char *s, size_t len, size_t pos, struct anet *net,
    struct vs_err *err)
{
	char buf[INET6_ADDRSTRLEN + 8], q[NAME_QUOTE_BUF];
	const char *slash, *why;
	unsigned long bits = 0;
	size_t alen, i;
	unsigned max;

	name_quote(s, len, q);
	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	memset(net, 0, sizeof(*net));
	why = "not an IPv4 or IPv6 address";
	if (alen >= INET6_ADDRSTRLEN)
		goto bad;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, net->addr) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->v6 = true;
		max = 128;
	} else
		goto bad;
	if (slash == NULL)
		bits = max;
	else {
		why = "bad prefix length";
		i = alen + 1;
		if (i == len || len - i > 3)
			goto bad;
		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				goto bad;
			bits = bits * 10 + (unsigned long)(s[i] - '0');
		}
		if (bits > max) {
			why = net->v6 ? "prefix length over 128" :
			    "prefix length over 32";
			goto bad;
		}
	}
	if (!host_bits_zero(net->addr, max / 8, (unsigned)bits)) {
		why = "address has bits set past the prefix length";
		goto bad;
	}
	net->bits = (unsigned)bits;
	/* ::ffff:a.b.c.d/96+n is the IPv4 network a.b.c.d/n. */
	if (net->v6 && net->bits >= 96 &&
	    v4mapped(net->addr)) {
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
		net->bits -= 96;
		net->v6 = false;
	}
	return VS_OK;
bad:
	return vs_fail(err, VS_EINVAL, "allow-list item %zu \"%s\": %s", pos,
	    q, why);
}

static bool
is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
throttle_allow_parse(const char *list, struct throttle_allow **a_r,
    struct vs_err *err)
{
	struct throttle_allow *a;
	const char *p, *s;
	size_t n = 0, pos = 0;
	int rc;

	*a_r = NULL;
	if (list == NULL)
		list = "";
	for (p = list; *p != '\0'; p++)
		if (!is_sep(*p) && (p == list || is_sep(p[-1])))
			n++;
	a = calloc(1, sizeof(*a));
	if (a == NULL || (n > 0 &&
	    (a->nets = calloc(n, sizeof(*a->nets))) == NULL)) {
		free(a);
		return vs_fail(err, VS_ENOMEM, "allow-list: out of memory");
	}
	for (p = list; *p != '\0';) {
		if (is_sep(*p)) {
			p++;
			continue;
		}
		for (s = p; *p != '\0' && !is_sep(*p); p++)
			;
		pos++;
		rc = parse_item(s, (size_t)(p - s), pos, &a->nets[a->n], err);
		if (rc != VS_OK) {
			throttle_allow_free(&a);
			return rc;
		}
		a->n++;
	}
	*a_r = a;
	return VS_OK;
}

bool
throttle_allowed(const struct throttle_allow *a, const char *ip)
{
	unsigned char b[16];
	const unsigned char *x = b;
	bool v6 = false;
	size_t i;

	if (a == NULL || ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, b) != 1) {
		if (inet_pton(AF_INET6, ip, b) != 1)
			return false;
		if (v4mapped(b))
			x = b + 12;
		else
			v6 = true;
	}
	for (i = 0; i < a->n; i++)
		if (a->nets[i].v6 == v6 &&
		    prefix_match(x, a->nets[i].addr, a->nets[i].bits))
			return true;
	return false;
}

void
throttle_allow_free(struct throttle_allow **ap)
{
	if (ap == NULL || *ap == NULL)
		return;
	free((*ap)->nets);
	free(*ap);
	*ap = NULL;
}
