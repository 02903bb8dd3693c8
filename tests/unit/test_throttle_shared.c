/*
 * test_throttle_shared.c - the pieces of the failed-login throttle shared
 * by the hosts of a PostgreSQL store: throttle_block() (lib/throttle.h:
 * a key blocked by failures counted elsewhere) always; and, when
 * VMSEAL_TEST_PG holds a conninfo of a throwaway database
 * (tests/integration/pg_attack.sh), the table's statements
 * (lib/kv_pg_throttle.h): reserve, busy, block, settle by token, clear,
 * and 8 threads racing on one key (as many hosts would) spending no more
 * checks than the limit.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "throttle.h"
#ifdef HAVE_PQ
#include "kv.h"
#include "kv_pg.h"
#include "kv_pg_throttle.h"
#endif

static struct throttle *
mk(unsigned limit, unsigned window)
{
	struct throttle_params p = { limit, window, 100 };
	struct throttle *t = NULL;
	struct vs_err err;

	if (throttle_new(&p, &t, &err) != VS_OK)
		fail_msg("throttle_new: %s", err.msg);
	return t;
}

static void
test_block_new_key(void **state)
{
	struct throttle *t = mk(3, 120);

	(void)state;
	assert_false(throttle_blocked(t, "10.0.0.1", 100));
	throttle_block(t, "10.0.0.1", 100);
	assert_true(throttle_blocked(t, "10.0.0.1", 100));
	assert_true(throttle_blocked(t, "10.0.0.1", 219));
	assert_false(throttle_blocked(t, "10.0.0.1", 220));  /* window */
	assert_int_equal(throttle_reserve(t, "10.0.0.1", 150),
	    THROTTLE_BLOCKED);
	/* the refusal at 150 is a hit: blocked until 270 */
	assert_true(throttle_blocked(t, "10.0.0.1", 269));
	assert_false(throttle_blocked(t, "10.0.0.2", 150));
	throttle_free(&t);
}

static void
test_block_keeps_reservations(void **state)
{
	struct throttle *t = mk(3, 120);

	(void)state;
	assert_int_equal(throttle_reserve(t, "k", 10), THROTTLE_PASS);
	assert_int_equal(throttle_reserve(t, "k", 10), THROTTLE_PASS);
	throttle_block(t, "k", 11);
	assert_int_equal(throttle_inflight(t, "k"), 2);
	assert_true(throttle_blocked(t, "k", 11));
	throttle_settle(t, "k", 12, false);
	throttle_settle(t, "k", 12, false);
	assert_int_equal(throttle_inflight(t, "k"), 0);
	assert_true(throttle_blocked(t, "k", 12));  /* giving back: no unblock */
	assert_true(throttle_clear(t, "k"));
	assert_false(throttle_blocked(t, "k", 12));
	/* NULL table or key: nothing */
	throttle_block(NULL, "k", 1);
	throttle_block(t, NULL, 1);
	throttle_free(&t);
}

static void
test_block_already_blocked(void **state)
{
	struct throttle *t = mk(2, 60);

	(void)state;
	throttle_fail(t, "k", 0);
	throttle_fail(t, "k", 1);
	assert_true(throttle_blocked(t, "k", 1));
	throttle_block(t, "k", 50);     /* one more hit: extends */
	assert_true(throttle_blocked(t, "k", 109));
	assert_false(throttle_blocked(t, "k", 110));
	throttle_free(&t);
}

#ifdef HAVE_PQ
static const char *pg_conninfo;

static struct kv *
pg_open(void)
{
	struct kv *kv = NULL;
	struct vs_err err;

	if (kv_pg_open(pg_conninfo, KV_OPEN_CREATE, &kv, &err) != VS_OK)
		fail_msg("kv_pg_open: %s", err.msg);
	return kv;
}

static enum kv_pg_throttle_verdict
res(struct kv *kv, const char *key, unsigned limit, uint8_t *tok)
{
	enum kv_pg_throttle_verdict v;
	uint8_t t[KV_PG_THROTTLE_TOKEN_BYTES];
	struct vs_err err;

	if (kv_pg_throttle_reserve(kv, (const uint8_t *)key, strlen(key),
	    limit, 120, &v, tok != NULL ? tok : t, &err) != VS_OK)
		fail_msg("reserve: %s", err.msg);
	return v;
}

static bool
settle(struct kv *kv, const char *key, unsigned limit, const uint8_t *tok,
    bool failed, bool clear)
{
	struct vs_err err;
	bool blocked;

	if (kv_pg_throttle_settle(kv, (const uint8_t *)key, strlen(key), tok,
	    limit, 120, failed, clear, &blocked, &err) != VS_OK)
		fail_msg("settle: %s", err.msg);
	return blocked;
}

static void
test_pg_reserve(void **state)
{
	uint8_t tok[4][KV_PG_THROTTLE_TOKEN_BYTES];
	struct kv *kv;
	struct vs_err err;
	bool found;
	int i;

	(void)state;
	if (pg_conninfo == NULL)
		skip();
	kv = pg_open();
	(void)kv_pg_throttle_clear(kv, (const uint8_t *)"unit-a", 6, NULL,
	    &err);
	for (i = 0; i < 3; i++)
		assert_int_equal(res(kv, "unit-a", 3, tok[i]),
		    KV_PG_THROTTLE_PASS);
	/* 3 in flight: busy, nothing counted */
	assert_int_equal(res(kv, "unit-a", 3, NULL), KV_PG_THROTTLE_BUSY);
	/* a success gives its slot back (exactly one) */
	assert_false(settle(kv, "unit-a", 3, tok[0], false, false));
	assert_int_equal(res(kv, "unit-a", 3, tok[0]), KV_PG_THROTTLE_PASS);
	assert_int_equal(res(kv, "unit-a", 3, NULL), KV_PG_THROTTLE_BUSY);
	/* three failures: the third blocks */
	assert_false(settle(kv, "unit-a", 3, tok[0], true, false));
	assert_false(settle(kv, "unit-a", 3, tok[1], true, false));
	assert_true(settle(kv, "unit-a", 3, tok[2], true, false));
	assert_int_equal(res(kv, "unit-a", 3, NULL), KV_PG_THROTTLE_BLOCKED);
	/* a token settled twice gives nothing back twice */
	assert_true(settle(kv, "unit-a", 3, tok[2], false, false));
	/* clear (a login's success) unblocks */
	assert_int_equal(kv_pg_throttle_clear(kv, (const uint8_t *)"unit-a", 6,
	    &found, &err), VS_OK);
	assert_true(found);
	assert_int_equal(res(kv, "unit-a", 3, tok[3]), KV_PG_THROTTLE_PASS);
	assert_false(settle(kv, "unit-a", 3, tok[3], false, true));
	kv_close(&kv);
}

struct racer {
	struct kv *kv;
	int passed, refused;
};

#define RACERS 8
#define RACE_TRIES 25

/* A host: reserve; on pass, a hash's worth of waiting, then a failure. */
static void *
race_main(void *arg)
{
	struct racer *r = arg;
	uint8_t tok[KV_PG_THROTTLE_TOKEN_BYTES];
	int i;

	for (i = 0; i < RACE_TRIES; i++) {
		if (res(r->kv, "unit-race", 3, tok) == KV_PG_THROTTLE_PASS) {
			r->passed++;
			(void)settle(r->kv, "unit-race", 3, tok, true, false);
		} else {
			r->refused++;
		}
	}
	return NULL;
}

static void
test_pg_race(void **state)
{
	struct racer r[RACERS];
	pthread_t th[RACERS];
	struct vs_err err;
	int i, passed = 0;

	(void)state;
	if (pg_conninfo == NULL)
		skip();
	memset(r, 0, sizeof(r));
	for (i = 0; i < RACERS; i++)
		r[i].kv = pg_open();    /* a handle each: as many hosts */
	(void)kv_pg_throttle_clear(r[0].kv, (const uint8_t *)"unit-race", 9,
	    NULL, &err);
	for (i = 0; i < RACERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_main,
		    &r[i]), 0);
	for (i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		passed += r[i].passed;
	}
	/* 200 attempts at once from 8 "hosts": 3 checks, not one more */
	assert_int_equal(passed, 3);
	for (i = 0; i < RACERS; i++)
		kv_close(&r[i].kv);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_new_key),
		cmocka_unit_test(test_block_keeps_reservations),
		cmocka_unit_test(test_block_already_blocked),
#ifdef HAVE_PQ
		cmocka_unit_test(test_pg_reserve),
		cmocka_unit_test(test_pg_race),
#endif
	};

#ifdef HAVE_PQ
	pg_conninfo = getenv("VMSEAL_TEST_PG");
	if (pg_conninfo != NULL && pg_conninfo[0] == '\0')
		pg_conninfo = NULL;
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
