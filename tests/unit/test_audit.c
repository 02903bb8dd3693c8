/*
 * test_audit.c - the audit trail (lib/audit.c) on a real temporary store:
 * append, read back, verify, and every kind of tampering an attacker with
 * write access to the files (but without the key) can do, plus forgeries
 * made with the key, which the chain must still catch.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <lmdb.h>
#include <sodium.h>

#include "audit.h"
#include "store.h"
#include "store_fx.h"

#define PASS STORE_FX_PASS
#define N_SEED 5

static int
setup(void **state)
{
	struct store_fx *f = store_fx_new(true);

	*state = f;
	return f != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	struct store_fx *f = *state;

	store_fx_free(&f);
	return 0;
}

static struct store_txn *
txn_of(struct store_fx *f, bool write)
{
	struct store_txn *t = NULL;

	assert_int_equal(store_txn_begin(f->st, write, &t, NULL), VS_OK);
	return t;
}

static void
append1(struct store_fx *f, int64_t when, uint32_t uid, const char *action,
    const char *detail)
{
	struct store_txn *t = txn_of(f, true);
	struct vs_err err;

	vs_err_clear(&err);
	if (audit_append_at(t, when, uid, action, detail, &err) != VS_OK)
		fail_msg("audit_append: %s", err.msg);
	assert_int_equal(store_txn_commit(&t, NULL), VS_OK);
}

static const char *const seed_actions[N_SEED] = { "unseal", "domain-add",
    "user-add", "user-passwd", "seal" };
static const char *const seed_details[N_SEED] = { "with the passphrase",
    "somedomain.ie", "ron address=ron@somedomain.ie password-set", "ron",
    "" };

static void
seed(struct store_fx *f)
{
	int i;

	for (i = 0; i < N_SEED; i++)
		append1(f, 1700000000 + i, i == 2 ? 1000 : 0, seed_actions[i],
		    seed_details[i]);
}

/* Verify; want VS_OK, or VS_ECORRUPT naming bad_seq with msg in it. */
static void
expect_verify(struct store_fx *f, int want, uint64_t want_bad, const char *msg)
{
	struct store_txn *t = txn_of(f, false);
	struct vs_err err;
	uint64_t bad = 99, n = 0;
	int r;

	vs_err_clear(&err);
	r = audit_verify_count(t, &bad, &n, &err);
	store_txn_abort(&t);
	if (r != want)
		fail_msg("verify: got %d (%s), want %d", r, err.msg, want);
	if (bad != want_bad)
		fail_msg("verify: bad entry %llu, want %llu (%s)",
		    (unsigned long long)bad, (unsigned long long)want_bad,
		    err.msg);
	if (msg != NULL && strstr(err.msg, msg) == NULL)
		fail_msg("verify: got \"%s\", want \"%s\"", err.msg, msg);
}

struct collect {
	struct audit_entry e[16];
	size_t n;
	size_t stop_at;         /* 0: never */
};

static int
collect_cb(void *ctx, const struct audit_entry *e, struct vs_err *err)
{
	struct collect *c = ctx;

	(void)err;
	if (c->n < 16)
		c->e[c->n++] = *e;
	if (c->stop_at != 0 && c->n == c->stop_at)
		return VS_EEXIST;
	return VS_OK;
}

static void
test_append_each_verify(void **state)
{
	struct store_fx *f = *state;
	struct collect c;
	struct store_txn *t;
	uint8_t zero[AUDIT_CHAIN_BYTES] = { 0 };
	uint64_t bad, n;
	size_t i;

	/* An empty trail verifies. */
	t = txn_of(f, false);
	assert_int_equal(audit_verify_count(t, &bad, &n, NULL), VS_OK);
	assert_int_equal(n, 0);
	store_txn_abort(&t);

	seed(f);
	memset(&c, 0, sizeof(c));
	t = txn_of(f, false);
	assert_int_equal(audit_each(t, collect_cb, &c, NULL), VS_OK);
	store_txn_abort(&t);
	assert_int_equal(c.n, N_SEED);
	for (i = 0; i < N_SEED; i++) {
		assert_int_equal(c.e[i].seq, i + 1);
		assert_int_equal(c.e[i].time, 1700000000 + (int64_t)i);
		assert_int_equal(c.e[i].uid, i == 2 ? 1000 : 0);
		assert_string_equal(c.e[i].action, seed_actions[i]);
		assert_string_equal(c.e[i].detail, seed_details[i]);
	}
	/* Entry 1 follows nothing; the others each follow a chain value. */
	assert_memory_equal(c.e[0].prev, zero, AUDIT_CHAIN_BYTES);
	for (i = 1; i < N_SEED; i++) {
		assert_memory_not_equal(c.e[i].prev, zero, AUDIT_CHAIN_BYTES);
		assert_memory_not_equal(c.e[i].prev, c.e[i - 1].prev,
		    AUDIT_CHAIN_BYTES);
	}
	expect_verify(f, VS_OK, 0, NULL);

	/* The callback stops the walk with its own status. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	t = txn_of(f, false);
	assert_int_equal(audit_each(t, collect_cb, &c, NULL), VS_EEXIST);
	store_txn_abort(&t);
	assert_int_equal(c.n, 2);

	/* An aborted transaction leaves neither entry nor head behind. */
	t = txn_of(f, true);
	assert_int_equal(audit_append(t, 0, "user-del", "ron", NULL), VS_OK);
	store_txn_abort(&t);
	expect_verify(f, VS_OK, 0, NULL);
	append1(f, 1700000100, 0, "user-del", "ron");
	t = txn_of(f, false);
	assert_int_equal(audit_verify_count(t, &bad, &n, NULL), VS_OK);
	assert_int_equal(n, N_SEED + 1);
	store_txn_abort(&t);

	/* A read-only transaction cannot append. */
	t = txn_of(f, false);
	assert_int_not_equal(audit_append(t, 0, "seal", "", NULL), VS_OK);
	store_txn_abort(&t);
}

static void
test_input_rules(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *t = txn_of(f, true);
	struct collect c;
	struct vs_err err;
	char long_detail[AUDIT_DETAIL_MAX * 2];
	size_t i;

	assert_int_equal(audit_append(t, 0, "user-add", "ron\nforged 2",
	    &err), VS_EINVAL);
	assert_int_equal(audit_append(t, 0, "user-add", "a\033[2Jb", &err),
	    VS_EINVAL);
	assert_int_equal(audit_append(t, 0, "", "x", &err), VS_EINVAL);
	assert_int_equal(audit_append(t, 0, NULL, "x", &err), VS_EINVAL);
	assert_int_equal(audit_append(t, 0, "User Add", "x", &err), VS_EINVAL);
	assert_int_equal(audit_append(t, 0,
	    "an-action-name-much-longer-than-32", "x", &err), VS_EINVAL);
	/* Too long: cut, ended with "...", never inside a UTF-8 sequence. */
	memset(long_detail, 'a', sizeof(long_detail));
	for (i = AUDIT_DETAIL_MAX - 8; i < AUDIT_DETAIL_MAX; i += 2)
		memcpy(long_detail + i, "\xc3\xa9", 2);        /* e-acute */
	long_detail[sizeof(long_detail) - 1] = '\0';
	assert_int_equal(audit_append(t, 0, "import", long_detail, &err),
	    VS_OK);
	assert_int_equal(audit_append(t, 0, "seal", NULL, &err), VS_OK);
	assert_int_equal(store_txn_commit(&t, NULL), VS_OK);

	memset(&c, 0, sizeof(c));
	t = txn_of(f, false);
	assert_int_equal(audit_each(t, collect_cb, &c, NULL), VS_OK);
	store_txn_abort(&t);
	assert_int_equal(c.n, 2);       /* the refused ones left nothing */
	assert_true(strlen(c.e[0].detail) <= AUDIT_DETAIL_MAX);
	assert_true(strlen(c.e[0].detail) >= AUDIT_DETAIL_MAX - 4);
	assert_string_equal(c.e[0].detail + strlen(c.e[0].detail) - 3, "...");
	/* The byte before "..." is not the first half of a sequence. */
	assert_true(((unsigned char)c.e[0].detail[strlen(c.e[0].detail) - 4]
	    & 0xc0) != 0xc0);
	assert_string_equal(c.e[1].detail, "");
	expect_verify(f, VS_OK, 0, NULL);

	audit_sanitize(long_detail);
	{
		char s[] = "a\tb\nc\x7f" "d";

		audit_sanitize(s);
		assert_string_equal(s, "a?b?c?d");
	}
}

/* --- under the store, with LMDB itself --- */

static void
with_table(const char *dir, const char *table,
    void (*fn)(MDB_txn *, MDB_dbi, void *), void *arg)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
	fn(txn, dbi, arg);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

struct edit {
	uint64_t seq, seq2;
	size_t at;
};

static void
seq_key(MDB_val *k, uint8_t buf[8], uint64_t seq)
{
	vs_put_u64be(buf, seq);
	k->mv_data = buf;
	k->mv_size = 8;
}

static void
flip_cb(MDB_txn *txn, MDB_dbi dbi, void *arg)
{
	struct edit *e = arg;
	uint8_t kb[8], *copy;
	MDB_val k, v;

	seq_key(&k, kb, e->seq);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	copy = malloc(v.mv_size);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[e->at % v.mv_size] ^= 0x01;
	v.mv_data = copy;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	free(copy);
}

static void
del_cb(MDB_txn *txn, MDB_dbi dbi, void *arg)
{
	struct edit *e = arg;
	uint8_t kb[8];
	MDB_val k;

	seq_key(&k, kb, e->seq);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
}

static void
swap_cb(MDB_txn *txn, MDB_dbi dbi, void *arg)
{
	struct edit *e = arg;
	uint8_t kb1[8], kb2[8], *c1, *c2;
	MDB_val k1, k2, v1, v2;

	seq_key(&k1, kb1, e->seq);
	seq_key(&k2, kb2, e->seq2);
	assert_int_equal(mdb_get(txn, dbi, &k1, &v1), 0);
	c1 = malloc(v1.mv_size);
	memcpy(c1, v1.mv_data, v1.mv_size);
	v1.mv_data = c1;
	assert_int_equal(mdb_get(txn, dbi, &k2, &v2), 0);
	c2 = malloc(v2.mv_size);
	memcpy(c2, v2.mv_data, v2.mv_size);
	v2.mv_data = c2;
	assert_int_equal(mdb_put(txn, dbi, &k1, &v2, 0), 0);
	assert_int_equal(mdb_put(txn, dbi, &k2, &v1, 0), 0);
	free(c1);
	free(c2);
}

static void
tamper(struct store_fx *f, const char *table,
    void (*fn)(MDB_txn *, MDB_dbi, void *), struct edit *e)
{
	store_close(&f->st);
	with_table(f->dir, table, fn, e);
	store_fx_reopen(f);
	/* The chain alone is under test here: the store's head (which
	 * sees every such edit, test_store.c) takes the files as they are. */
	assert_int_equal(store_head_accept(f->st, NULL, NULL), VS_OK);
}

/* Appending after tampering fails closed: nothing is written. */
static void
expect_append_refused(struct store_fx *f)
{
	struct store_txn *t = txn_of(f, true);
	struct vs_err err;
	int r;

	vs_err_clear(&err);
	r = audit_append(t, 0, "domain-add", "x.org", &err);
	store_txn_abort(&t);
	if (r != VS_ECORRUPT || strstr(err.msg, "does not match its head") ==
	    NULL)
		fail_msg("append after tampering: %d (%s)", r, err.msg);
}

static void
test_edited_bytes(void **state)
{
	struct store_fx *f = *state;
	struct edit e = { 3, 0, 0 };
	size_t at;

	seed(f);
	/* A flipped byte anywhere in entry 3 (version, nonce, ciphertext,
	 * tag) is named; flipping it back restores the trail. */
	for (at = 0; at < 120; at += 13) {
		e.at = at;
		tamper(f, "audit", flip_cb, &e);
		expect_verify(f, VS_ECORRUPT, 3,
		    "audit entry 3 fails to authenticate");
		tamper(f, "audit", flip_cb, &e);
		expect_verify(f, VS_OK, 0, NULL);
	}
	/* The last entry too. */
	e.seq = N_SEED;
	e.at = 40;
	tamper(f, "audit", flip_cb, &e);
	expect_verify(f, VS_ECORRUPT, N_SEED, "fails to authenticate");
}

static void
test_deleted_middle(void **state)
{
	struct store_fx *f = *state;
	struct edit e = { 3, 0, 0 };

	seed(f);
	tamper(f, "audit", del_cb, &e);
	expect_verify(f, VS_ECORRUPT, 3,
	    "audit entry 3 is missing (deleted): the trail jumps from 2 to 4");
}

static void
test_deleted_first(void **state)
{
	struct store_fx *f = *state;
	struct edit e = { 1, 0, 0 };

	seed(f);
	tamper(f, "audit", del_cb, &e);
	expect_verify(f, VS_ECORRUPT, 1, "audit entry 1 is missing");
}

static void
test_deleted_last(void **state)
{
	struct store_fx *f = *state;
	struct edit e = { N_SEED, 0, 0 };

	seed(f);
	tamper(f, "audit", del_cb, &e);
	expect_verify(f, VS_ECORRUPT, N_SEED,
	    "audit entry 5 is missing (deleted): the trail ends at 4, its "
	    "head says 5");
	expect_append_refused(f);
	expect_verify(f, VS_ECORRUPT, N_SEED, "audit entry 5 is missing");
}

static void
test_deleted_head(void **state)
{
	struct store_fx *f = *state;
	struct edit e = { 0, 0, 0 };

	seed(f);
	store_close(&f->st);
	{
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		MDB_val k = { strlen(AUDIT_HEAD_NAME), AUDIT_HEAD_NAME };

		assert_int_equal(mdb_env_create(&env), 0);
		assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
		assert_int_equal(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
		assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
		assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		mdb_env_close(env);
	}
	store_fx_reopen(f);
	(void)e;
	expect_verify(f, VS_ECORRUPT, N_SEED, "head is missing");
	expect_append_refused(f);
}

static void
test_swapped(void **state)
{
	struct store_fx *f = *state;
	struct edit e = { 2, 4, 0 };

	seed(f);
	tamper(f, "audit", swap_cb, &e);
	expect_verify(f, VS_ECORRUPT, 2,
	    "audit entry 2 fails to authenticate");
	/* Swapped back: whole again. */
	tamper(f, "audit", swap_cb, &e);
	expect_verify(f, VS_OK, 0, NULL);
}

static void
test_gap_and_bad_entry(void **state)
{
	struct store_fx *f = *state;
	struct edit e = { 3, 0, 30 };

	/* Entry 3 deleted and entry 4 edited: the first bad one is after
	 * 2, and verify does not claim to know more than that. */
	seed(f);
	tamper(f, "audit", del_cb, &e);
	e.seq = 4;
	tamper(f, "audit", flip_cb, &e);
	expect_verify(f, VS_ECORRUPT, 3,
	    "audit entry 3 fails to authenticate, or is missing and the "
	    "next one fails");
}

/* --- forgeries made with the key (store_log_append behind audit's
 * back): the chain catches them --- */

static void
raw_record(struct buf *b, int64_t when, const char *action,
    const char *detail, const uint8_t prev[AUDIT_CHAIN_BYTES])
{
	assert_int_equal(rec_begin(b), 0);
	assert_int_equal(rec_add_i64(b, 1, when), 0);
	assert_int_equal(rec_add_u32(b, 2, 0), 0);
	assert_int_equal(rec_add_str(b, 3, action), 0);
	assert_int_equal(rec_add_str(b, 4, detail), 0);
	assert_int_equal(rec_add(b, 5, prev, AUDIT_CHAIN_BYTES), 0);
}

static void
raw_append(struct store_fx *f, const struct buf *b, uint64_t want_seq)
{
	struct store_txn *t = txn_of(f, true);
	uint64_t seq = 0;

	assert_int_equal(store_log_append(t, STORE_LOG_AUDIT, b->data, b->len,
	    &seq, NULL), VS_OK);
	assert_int_equal(seq, want_seq);
	assert_int_equal(store_txn_commit(&t, NULL), VS_OK);
}

static void
test_appended_behind(void **state)
{
	struct store_fx *f = *state;
	struct collect c;
	struct store_txn *t;
	struct buf b = { 0 };
	uint8_t chain5[AUDIT_CHAIN_BYTES];

	seed(f);
	memset(&c, 0, sizeof(c));
	t = txn_of(f, false);
	assert_int_equal(audit_each(t, collect_cb, &c, NULL), VS_OK);
	store_txn_abort(&t);
	/* C(5) computed as audit.h documents it: MAC(domain || seq ||
	 * record 5).  An entry 6 that follows it, appended with the key but
	 * without moving the head, is still caught. */
	raw_record(&b, 1700000000 + N_SEED - 1, seed_actions[N_SEED - 1],
	    seed_details[N_SEED - 1], c.e[N_SEED - 1].prev);
	{
		struct buf m = { 0 };

		assert_int_equal(buf_append(&m, "vmseal-audit-v1", 15), 0);
		assert_int_equal(buf_append_u64be(&m, N_SEED), 0);
		assert_int_equal(buf_append(&m, b.data, b.len), 0);
		seal_log_mac(store_keys(f->st), m.data, m.len, chain5);
		buf_free(&m);
	}
	raw_record(&b, 1700000999, "user-del", "alice", chain5);
	raw_append(f, &b, N_SEED + 1);
	buf_free(&b);
	expect_verify(f, VS_ECORRUPT, N_SEED + 1,
	    "audit entry 6 was added behind the trail's back");
	expect_append_refused(f);
}

static void
test_replaced_entries(void **state)
{
	struct store_fx *f = *state;
	struct edit e = { N_SEED, 0, 0 };
	uint8_t junk[AUDIT_CHAIN_BYTES];
	struct collect c;
	struct store_txn *t;
	struct buf b = { 0 };

	seed(f);
	memset(&c, 0, sizeof(c));
	t = txn_of(f, false);
	assert_int_equal(audit_each(t, collect_cb, &c, NULL), VS_OK);
	store_txn_abort(&t);

	/* The last entry replaced by one with a wrong prev: it does not
	 * follow entry 4. */
	tamper(f, "audit", del_cb, &e);
	memset(junk, 0x5a, sizeof(junk));
	raw_record(&b, 1700000004, "seal", "", junk);
	raw_append(f, &b, N_SEED);
	expect_verify(f, VS_ECORRUPT, N_SEED,
	    "audit entry 5 does not follow entry 4");

	/* Replaced by one with the right prev but other contents: the
	 * chain ends elsewhere than the head says. */
	tamper(f, "audit", del_cb, &e);
	raw_record(&b, 1700000004, "seal", "something else",
	    c.e[N_SEED - 1].prev);
	raw_append(f, &b, N_SEED);
	expect_verify(f, VS_ECORRUPT, N_SEED,
	    "audit entry 5 does not match the trail's head");

	/* And the genuine entry 5 rebuilt exactly verifies again. */
	tamper(f, "audit", del_cb, &e);
	raw_record(&b, 1700000004, "seal", "", c.e[N_SEED - 1].prev);
	raw_append(f, &b, N_SEED);
	expect_verify(f, VS_OK, 0, NULL);
	buf_free(&b);
}

static void
test_malformed_entry(void **state)
{
	struct store_fx *f = *state;
	struct buf b = { 0 };
	struct store_txn *t;
	struct collect c;
	struct vs_err err;

	/* A record of the wrong shape (with the key): named, not crashed on. */
	assert_int_equal(rec_begin(&b), 0);
	assert_int_equal(rec_add_i64(&b, 1, 1), 0);
	assert_int_equal(rec_add_str(&b, 3, "seal"), 0);
	raw_append(f, &b, 1);
	buf_free(&b);
	expect_verify(f, VS_ECORRUPT, 1, "audit entry 1 misses a field");
	memset(&c, 0, sizeof(c));
	t = txn_of(f, false);
	vs_err_clear(&err);
	assert_int_equal(audit_each(t, collect_cb, &c, &err), VS_ECORRUPT);
	store_txn_abort(&t);
	assert_int_equal(c.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_each_verify, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_input_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_edited_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deleted_middle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deleted_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deleted_last, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deleted_head, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_swapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_and_bad_entry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_appended_behind, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_replaced_entries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed_entry, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
