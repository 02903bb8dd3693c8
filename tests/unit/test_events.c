/*
 * test_events.c - login events (encoding, decoding, the log in a real
 * store) and the attack report, on a replay of the seed's attack.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "events.h"

static void
ev(struct vs_event *e, int64_t t, enum event_kind k, bool exists,
    const char *ip, const char *login)
{
	memset(e, 0, sizeof(*e));
	e->time = t;
	e->kind = k;
	e->exists = exists;
	snprintf(e->ip, sizeof(e->ip), "%s", ip);
	snprintf(e->login, sizeof(e->login), "%s", login);
	snprintf(e->service, sizeof(e->service), "imap");
}

static void
test_codec(void **state)
{
	struct vs_event e, d;
	struct buf b = { 0 };
	struct vs_err err;
	size_t n;

	(void)state;
	ev(&e, 1700000000, EVENT_THROTTLED, true, "2001:db8::1", "alice");
	assert_int_equal(event_encode(&e, &b), 0);
	assert_int_equal(event_decode(b.data, b.len, &d, NULL), VS_OK);
	assert_int_equal(d.time, e.time);
	assert_int_equal(d.kind, EVENT_THROTTLED);
	assert_true(d.exists);
	assert_string_equal(d.ip, "2001:db8::1");
	assert_string_equal(d.login, "alice");
	assert_string_equal(d.service, "imap");
	for (n = 0; n < b.len; n++)     /* every prefix read safely */
		(void)event_decode(b.data, n, &d, &err);
	b.data[19] = 9;  /* kind: after version, time field, kind tag+len */
	assert_int_equal(event_decode(b.data, b.len, &d, &err), VS_ECORRUPT);
	buf_free(&b);
	assert_string_equal(event_kind_name(EVENT_BAD_PASSWORD),
	    "bad-password");
	assert_true(event_name_is_admin("Root"));
	assert_true(event_name_is_admin("admin@example.org"));
	assert_false(event_name_is_admin("rooted"));
}

/* The seed's table: 583 attempts in 38 minutes, 474 at root, valid
 * postscript (5) and mysql (2), 102 distinct invalid names, admin (8),
 * george (3), gnax (6), test (2). */
static void
test_seed_report(void **state)
{
	struct report r;
	struct vs_event e;
	int64_t t0 = 1700000000;
	unsigned i, n = 0;
	char name[32];

	(void)state;
	memset(&r, 0, sizeof(r));
#define ADD(k, ex, who) do { \
	ev(&e, t0 + (int64_t)(n * 2280) / 582, k, ex, "198.51.100.7", who); \
	assert_int_equal(report_add(&r, &e), VS_OK); n++; } while (0)
	for (i = 0; i < 474; i++)
		ADD(i < 3 ? EVENT_UNKNOWN_USER : EVENT_THROTTLED, false, "root");
	for (i = 0; i < 5; i++)
		ADD(EVENT_THROTTLED, true, "postscript");
	for (i = 0; i < 2; i++)
		ADD(EVENT_THROTTLED, true, "mysql");
	for (i = 0; i < 8; i++)
		ADD(EVENT_THROTTLED, false, "admin");
	for (i = 0; i < 3; i++)
		ADD(EVENT_THROTTLED, false, "george");
	for (i = 0; i < 6; i++)
		ADD(EVENT_THROTTLED, false, "gnax");
	for (i = 0; i < 2; i++)
		ADD(EVENT_THROTTLED, false, "test");
	/* 583 - 500 = 83 more attempts over 97 more invalid names (+ root
	 * admin george gnax test = 102): one each for 83 of them. */
	for (i = 0; i < 83; i++) {
		snprintf(name, sizeof(name), "guest%02u", i);
		ADD(EVENT_THROTTLED, false, name);
	}
	/* A second, small attacker. */
	ev(&e, t0 + 5, EVENT_BAD_PASSWORD, true, "203.0.113.9", "alice");
	assert_int_equal(report_add(&r, &e), VS_OK);
	report_finish(&r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.addrs[0].ip, "198.51.100.7");
	assert_int_equal(r.addrs[0].attempts, 583);
	assert_int_equal(r.addrs[0].last - r.addrs[0].first, 2280);
	assert_int_equal(r.addrs[0].at_admin, 474 + 8);
	assert_int_equal(r.addrs[0].throttled, 580);
	assert_int_equal(r.addrs[0].valid_distinct, 2);
	assert_int_equal(r.addrs[0].invalid_distinct, 5 + 83);
	assert_string_equal(r.addrs[0].names[0].name, "root");
	assert_int_equal(r.addrs[0].names[0].count, 474);
	assert_string_equal(r.addrs[0].names[1].name, "admin");
	assert_string_equal(r.addrs[0].names[2].name, "gnax");
	assert_string_equal(r.addrs[0].names[3].name, "postscript");
	assert_int_equal(r.attempts, 584);
	assert_int_equal(r.addrs[1].attempts, 1);
	assert_int_equal(r.addrs[1].valid_distinct, 1);
	report_free(&r);
#undef ADD
}

static void
test_log_in_store(void **state)
{
	struct store_init_params p;
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct vs_event e[5];
	struct report r;
	uint8_t rk[32];
	char dir[] = "/tmp/vmseal-events-XXXXXX";
	char cmd[128];
	size_t n, i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	store_init_params_default(&p);
	p.slot_cost.opslimit = 1;
	p.slot_cost.memlimit = 8192;
	p.settings.pw_opslimit = 1;
	p.settings.pw_memlimit = 8192;
	assert_int_equal(store_init(dir, &p, "passphrase", 10, rk, NULL), 0);
	assert_int_equal(store_open(dir, STORE_OPEN_WRITE, &st, NULL), 0);
	assert_int_equal(store_unseal_passphrase(st, "passphrase", 10, NULL),
	    0);
	for (i = 0; i < 5; i++)
		ev(&e[i], 100 + (int64_t)i, EVENT_BAD_PASSWORD, false,
		    "192.0.2.1", "root");
	assert_int_equal(store_txn_begin(st, true, &txn, NULL), 0);
	/* Keep only the newest 3. */
	assert_int_equal(events_append(txn, e, 5, 3, NULL), VS_OK);
	assert_int_equal(store_txn_commit(&txn, NULL), 0);
	assert_int_equal(store_txn_begin(st, false, &txn, NULL), 0);
	assert_int_equal(store_log_count(txn, STORE_LOG_EVENTS, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_int_equal(report_build(txn, 0, &r, NULL), VS_OK);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(r.first, 102);
	report_free(&r);
	assert_int_equal(report_build(txn, 104, &r, NULL), VS_OK);
	assert_int_equal(r.attempts, 1);
	report_free(&r);
	store_txn_abort(&txn);
	store_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_seed_report),
		cmocka_unit_test(test_log_in_store),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
