/*
 * fuzz_pgnotify.c - libFuzzer target for the PostgreSQL backend's
 * invalidation messages (lib/kv_pg_cache.c: kvpg_notify_parse, and
 * kvpg_cache_apply on a live cache), the text any role allowed to NOTIFY
 * on the database can send to every vmsealed listening.
 *
 * Input: the payload (cut at the first NUL, as PostgreSQL's text is).
 * Checked: the parser never reads past the text or calls back with a key
 * longer than KV_PG_CACHE_KEY_MAX or a table the cache does not keep; a
 * payload it accepts, made again with kvpg_notify_add from the keys it
 * gave, is the same text (the format has one spelling); applied to a
 * live cache holding one entry, a payload either forgets exactly the
 * keys named (the entry stays unless named) or flushes it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kv_pg_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static struct kvpg_notify again;
static int calls;
static const uint8_t probe[32] = { 0xab, 0xcd };
static int named;

static void
cb(void *ctx, enum kv_table t, const uint8_t *key, size_t klen)
{
	(void)ctx;
	CHECK(kvpg_cache_table(t));
	CHECK(klen > 0 && klen <= KV_PG_CACHE_KEY_MAX);
	kvpg_notify_add(&again, t, key, klen);
	if (t == KV_USERS && klen == sizeof(probe) &&
	    memcmp(key, probe, klen) == 0)
		named = 1;
	calls++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kvpg_cache *c;
	char *text;
	int n;
	uint64_t epoch;
	void *v;
	size_t vl;

	if (c == NULL) {
		CHECK(sodium_init() >= 0);
		CHECK(kvpg_cache_new(1 << 20, &c, NULL) == VS_OK);
		kvpg_cache_set_live(c, true);
	}
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	kvpg_notify_init(&again);
	calls = 0;
	named = 0;
	n = kvpg_notify_parse(text, cb, NULL);
	if (n >= 0) {
		CHECK(n == calls);
		if (n > 0 && !again.all)
			CHECK(strcmp(kvpg_notify_text(&again), text) == 0);
		if (n == 0)
			CHECK(strcmp(text, "v1") == 0);
	}
	/* one entry, then the payload */
	kvpg_cache_flush(c);
	epoch = kvpg_cache_epoch(c);
	kvpg_cache_put(c, KV_USERS, probe, sizeof(probe), "x", 1, epoch);
	n = kvpg_cache_apply(c, text);
	if (kvpg_cache_get(c, KV_USERS, probe, sizeof(probe), &v, &vl,
	    &epoch) == KVPG_CACHE_HIT) {
		CHECK(n >= 0 && !named);
		CHECK(vl == 1 && memcmp(v, "x", 1) == 0);
		free(v);
	} else {
		CHECK(n < 0 || named);
	}
	free(text);
	return 0;
}
