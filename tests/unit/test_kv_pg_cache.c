/*
 * test_kv_pg_cache.c - the PostgreSQL backend's read cache and its
 * invalidation messages (lib/kv_pg_cache.c), without a server: the
 * payload parser on a table of texts (what it reads, what it refuses as
 * "flush"), payloads made by kvpg_notify_add (one spelling, "*" when too
 * long), and the cache's rules - the epoch (an answer read before an
 * invalidation is not kept), not live (nothing found, nothing kept), the
 * size bound, absent entries, forget and flush.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "kv_pg_cache.h"

struct seen {
	int n;
	enum kv_table t[8];
	size_t klen[8];
	uint8_t first[8];
};

static void
collect(void *ctx, enum kv_table t, const uint8_t *key, size_t klen)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->t[s->n] = t;
		s->klen[s->n] = klen;
		s->first[s->n] = key[0];
	}
	s->n++;
}

static void
test_parse_table(void **state)
{
	static const struct {
		const char *text;
		int want;               /* keys, or -1: flush */
		enum kv_table t0;
		size_t klen0;
		uint8_t first0;
	} cases[] = {
		{ "v1", 0, 0, 0, 0 },
		{ "v1 2:ab", 1, KV_USERS, 1, 0xab },
		{ "v1 1:00ff 3:0102 4:ff", 3, KV_DOMAINS, 2, 0x00 },
		{ "*", -1, 0, 0, 0 },
		{ "", -1, 0, 0, 0 },
		{ "v2 2:ab", -1, 0, 0, 0 },             /* another version */
		{ "v1 0:ab", -1, 0, 0, 0 },             /* meta: not kept */
		{ "v1 5:ab", -1, 0, 0, 0 },             /* events */
		{ "v1 2:AB", -1, 0, 0, 0 },             /* upper case */
		{ "v1 2:a", -1, 0, 0, 0 },              /* odd hex */
		{ "v1 2:", -1, 0, 0, 0 },               /* empty key */
		{ "v1  2:ab", -1, 0, 0, 0 },            /* two spaces */
		{ "v1 2:ab ", -1, 0, 0, 0 },            /* trailing space */
		{ "v12:ab", -1, 0, 0, 0 },
		{ "v1 2;ab", -1, 0, 0, 0 },
		{ "hello", -1, 0, 0, 0 },
	};
	struct seen s;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0, sizeof(s));
		n = kvpg_notify_parse(cases[i].text, collect, &s);
		if (n != cases[i].want)
			fail_msg("case %zu \"%s\": %d keys, want %d", i,
			    cases[i].text, n, cases[i].want);
		if (cases[i].want > 0) {
			assert_int_equal(s.n, cases[i].want);
			assert_int_equal(s.t[0], cases[i].t0);
			assert_int_equal(s.klen[0], cases[i].klen0);
			assert_int_equal(s.first[0], cases[i].first0);
		}
	}
}

static void
test_parse_key_cap(void **state)
{
	char text[16 + 2 * (KV_PG_CACHE_KEY_MAX + 1)];
	size_t i;

	(void)state;
	/* a key of KV_PG_CACHE_KEY_MAX bytes is read, one more is not */
	strcpy(text, "v1 3:");
	for (i = 0; i < KV_PG_CACHE_KEY_MAX; i++)
		strcat(text, "7f");
	assert_int_equal(kvpg_notify_parse(text, NULL, NULL), 1);
	strcat(text, "7f");
	assert_int_equal(kvpg_notify_parse(text, NULL, NULL), -1);
	assert_int_equal(kvpg_notify_parse(NULL, NULL, NULL), -1);
}

static void
test_notify_make(void **state)
{
	struct kvpg_notify *n = malloc(sizeof(*n));
	uint8_t k[32];
	int i;

	(void)state;
	assert_non_null(n);
	kvpg_notify_init(n);
	assert_null(kvpg_notify_text(n));
	/* tables the cache does not keep say nothing */
	kvpg_notify_add(n, KV_META, "head", 4);
	kvpg_notify_add(n, KV_EVENTS, "\0\0\0\1", 4);
	assert_null(kvpg_notify_text(n));
	kvpg_notify_add(n, KV_USERS, "\x01\xfe", 2);
	kvpg_notify_add(n, KV_ALIASES, "\x00", 1);
	assert_string_equal(kvpg_notify_text(n), "v1 2:01fe 4:00");
	assert_int_equal(kvpg_notify_parse(kvpg_notify_text(n), NULL, NULL),
	    2);
	/* more keys than a payload holds: "*" */
	memset(k, 0x5a, sizeof(k));
	for (i = 0; i < 200; i++) {
		k[0] = (uint8_t)i;
		kvpg_notify_add(n, KV_ADDRESSES, k, sizeof(k));
	}
	assert_string_equal(kvpg_notify_text(n), "*");
	free(n);
}

static struct kvpg_cache *
live_cache(size_t max)
{
	struct kvpg_cache *c = NULL;

	assert_int_equal(kvpg_cache_new(max, &c, NULL), VS_OK);
	kvpg_cache_set_live(c, true);
	return c;
}

static enum kvpg_cache_found
get(struct kvpg_cache *c, enum kv_table t, const char *k, char *v, size_t vs)
{
	enum kvpg_cache_found f;
	uint64_t e;
	void *p;
	size_t l;

	f = kvpg_cache_get(c, t, k, strlen(k), &p, &l, &e);
	if (f == KVPG_CACHE_HIT) {
		assert_true(l < vs);
		memcpy(v, p, l);
		v[l] = '\0';
		free(p);
	}
	return f;
}

static void
put(struct kvpg_cache *c, enum kv_table t, const char *k, const char *v,
    uint64_t epoch)
{
	kvpg_cache_put(c, t, k, strlen(k), v, v != NULL ? strlen(v) : 0,
	    epoch);
}

static void
test_cache_rules(void **state)
{
	struct kvpg_cache *c = live_cache(1 << 20);
	struct kvpg_cache_stats st;
	char v[64];
	uint64_t e;

	(void)state;
	e = kvpg_cache_epoch(c);
	assert_int_equal(get(c, KV_USERS, "alice", v, sizeof(v)),
	    KVPG_CACHE_MISS);
	put(c, KV_USERS, "alice", "sealed-1", e);
	assert_int_equal(get(c, KV_USERS, "alice", v, sizeof(v)),
	    KVPG_CACHE_HIT);
	assert_string_equal(v, "sealed-1");
	/* the same key in another table is another entry */
	assert_int_equal(get(c, KV_ADDRESSES, "alice", v, sizeof(v)),
	    KVPG_CACHE_MISS);
	/* absent */
	put(c, KV_ADDRESSES, "nobody", NULL, e);
	assert_int_equal(get(c, KV_ADDRESSES, "nobody", v, sizeof(v)),
	    KVPG_CACHE_ABSENT);
	/* an answer read before an invalidation is not kept */
	e = kvpg_cache_epoch(c);
	kvpg_cache_forget(c, KV_DOMAINS, "other", 5);
	put(c, KV_USERS, "bob", "stale", e);
	assert_int_equal(get(c, KV_USERS, "bob", v, sizeof(v)),
	    KVPG_CACHE_MISS);
	/* forget one */
	kvpg_cache_forget(c, KV_USERS, "alice", 5);
	assert_int_equal(get(c, KV_USERS, "alice", v, sizeof(v)),
	    KVPG_CACHE_MISS);
	assert_int_equal(get(c, KV_ADDRESSES, "nobody", v, sizeof(v)),
	    KVPG_CACHE_ABSENT);
	/* a payload naming it, then "*" */
	put(c, KV_USERS, "alice", "sealed-2", kvpg_cache_epoch(c));
	assert_int_equal(kvpg_cache_apply(c, "v1 2:616c696365"), 1);
	assert_int_equal(get(c, KV_USERS, "alice", v, sizeof(v)),
	    KVPG_CACHE_MISS);
	assert_int_equal(kvpg_cache_apply(c, "anything"), -1);
	assert_int_equal(get(c, KV_ADDRESSES, "nobody", v, sizeof(v)),
	    KVPG_CACHE_MISS);
	/* tables not kept are never kept */
	put(c, KV_META, "head", "x", kvpg_cache_epoch(c));
	assert_int_equal(get(c, KV_META, "head", v, sizeof(v)),
	    KVPG_CACHE_MISS);
	/* not live: nothing found, nothing kept */
	put(c, KV_USERS, "carol", "sealed-3", kvpg_cache_epoch(c));
	kvpg_cache_set_live(c, false);
	assert_int_equal(get(c, KV_USERS, "carol", v, sizeof(v)),
	    KVPG_CACHE_MISS);
	put(c, KV_USERS, "carol", "sealed-3", kvpg_cache_epoch(c));
	kvpg_cache_set_live(c, true);
	assert_int_equal(get(c, KV_USERS, "carol", v, sizeof(v)),
	    KVPG_CACHE_MISS);
	kvpg_cache_stats(c, &st);
	assert_true(st.live);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.absent_hits, 2);
	assert_int_equal(st.flushes, 1);
	kvpg_cache_free(&c);
	assert_null(c);
	kvpg_cache_free(&c);
}

static void
test_cache_bound(void **state)
{
	struct kvpg_cache *c = live_cache(64 * 1024);
	struct kvpg_cache_stats st;
	char k[16], val[512];
	int i;

	(void)state;
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		put(c, KV_ALIASES, k, val, kvpg_cache_epoch(c));
	}
	kvpg_cache_stats(c, &st);
	assert_true(st.bytes <= st.max_bytes);
	assert_true(st.entries > 50 && st.entries < 1000);
	assert_true(st.not_kept > 0);
	/* many entries: the table grows, every one is found */
	kvpg_cache_free(&c);
	c = live_cache(64 << 20);
	for (i = 0; i < 20000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		put(c, KV_USERS, k, k, kvpg_cache_epoch(c));
	}
	for (i = 0; i < 20000; i += 997) {
		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(get(c, KV_USERS, k, val, sizeof(val)),
		    KVPG_CACHE_HIT);
		assert_string_equal(val, k);
	}
	kvpg_cache_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_key_cap),
		cmocka_unit_test(test_notify_make),
		cmocka_unit_test(test_cache_rules),
		cmocka_unit_test(test_cache_bound),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
