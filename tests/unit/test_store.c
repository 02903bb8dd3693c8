/*
 * test_store.c - the store API on a real LMDB store in a temporary folder:
 * keys and slots, the consistency rules, tampering, locking.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <lmdb.h>
#include <sodium.h>

#include "names.h"
#include "pwhash.h"
#include "store.h"
#include "store_fx.h"

#define PASS STORE_FX_PASS

/* The fixture's helpers (store_fx.h) under this file's short names. */
#define setup store_fx_setup
#define teardown store_fx_teardown
#define wtxn store_fx_wtxn
#define commit store_fx_commit
#define expect_err store_fx_expect_err
#define seed store_fx_seed

static void
test_unseal(void **state)
{
	struct store_fx *f = *state;
	struct store *st = NULL;
	struct vs_err err;

	store_close(&f->st);    /* release the write lock */
	assert_int_equal(store_open(f->dir, 0, &st, NULL), VS_OK);
	assert_true(store_is_sealed(st));
	expect_err(store_unseal_passphrase(st, "wrong", 5, &err), VS_EBADKEY,
	    &err, "wrong passphrase");
	assert_true(store_is_sealed(st));
	assert_int_equal(store_unseal_recovery(st, f->reckey, NULL), VS_OK);
	assert_false(store_is_sealed(st));
	store_seal(st);
	assert_true(store_is_sealed(st));
	f->reckey[0] ^= 1;
	expect_err(store_unseal_recovery(st, f->reckey, &err), VS_EBADKEY,
	    &err, "wrong recovery key");
	f->reckey[0] ^= 1;
	{
		struct store_txn *t = NULL;

		expect_err(store_txn_begin(st, false, &t, &err), VS_ESEALED,
		    &err, "sealed");
	}
	assert_int_equal(store_unseal_passphrase(st, PASS, strlen(PASS),
	    NULL), VS_OK);
	{
		struct store_txn *t = NULL;

		/* Read-only handle: no write transaction. */
		expect_err(store_txn_begin(st, true, &t, &err), VS_EINVAL,
		    &err, "read-only");
	}
	store_close(&st);
	assert_null(st);
	/* A second store in the same folder is refused. */
	{
		struct store_init_params p;
		uint8_t rk[32];

		store_init_params_default(&p);
		expect_err(store_init(f->dir, &p, PASS, strlen(PASS), rk, &err),
		    VS_EEXIST, &err, "already exists");
	}
	/* A folder without a store: "not found", and nothing created. */
	{
		char empty[80];

		snprintf(empty, sizeof(empty), "%s/empty", f->dir);
		assert_int_equal(mkdir(empty, 0700), 0);
		expect_err(store_open(empty, STORE_OPEN_WRITE, &st, &err),
		    VS_ENOTFOUND, &err, "no vmseal store in");
		assert_int_equal(rmdir(empty), 0);   /* still empty */
	}
	/* Missing folder. */
	expect_err(store_open("/nonexistent/vmseal", 0, &st, &err),
	    VS_ENOTFOUND, &err, "cannot open store");
	assert_int_equal(store_open(f->dir, STORE_OPEN_WRITE, &f->st, NULL),
	    VS_OK);
}

static void
test_lock(void **state)
{
	struct store_fx *f = *state;
	struct store *st = NULL;
	struct vs_err err;

	expect_err(store_open(f->dir, STORE_OPEN_WRITE, &st, &err), VS_EBUSY,
	    &err, "in use");
	/* Readers are not locked out. */
	assert_int_equal(store_open(f->dir, 0, &st, NULL), VS_OK);
	store_close(&st);
}

static void
test_domains(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *t;
	struct vs_domain *l, d;
	struct vs_err err;
	size_t n;

	seed(f);
	t = wtxn(f);
	expect_err(store_domain_add(t, "SOMEDOMAIN.ie.", &err), VS_EEXIST,
	    &err, "domain somedomain.ie already exists");
	expect_err(store_domain_add(t, "bad..domain", &err), VS_EINVAL, &err,
	    NULL);
	assert_int_equal(store_domain_list(t, &l, &n, NULL), VS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].name, "linuxcoaching.eu");
	assert_string_equal(l[1].name, "somedomain.ie");
	store_domain_list_free(l, n);
	assert_int_equal(store_domain_get(t, "LinuxCoaching.EU", &d, NULL),
	    VS_OK);
	vs_domain_clear(&d);
	expect_err(store_domain_get(t, "nope.org", &d, &err), VS_ENOTFOUND,
	    &err, "domain nope.org not found");
	expect_err(store_domain_del(t, "somedomain.ie", &err), VS_EEXIST,
	    &err, "still has 1 address(es) and 0 alias(es)");
	assert_int_equal(store_domain_add(t, "empty.org", NULL), VS_OK);
	assert_int_equal(store_domain_del(t, "empty.org", NULL), VS_OK);
	commit(&t);
}

static void
test_users_addresses(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *t;
	struct vs_user u, *ul;
	struct vs_address a, *al;
	struct vs_err err;
	size_t n;

	seed(f);
	t = wtxn(f);
	assert_int_equal(store_user_get(t, "RON", &u, NULL), VS_OK);
	assert_string_equal(u.login, "ron");
	assert_string_equal(u.pwhash, "hLILWelxS7E82");
	assert_int_equal(u.n_addresses, 1);
	assert_string_equal(u.addresses[0], "ron@linuxcoaching.eu");
	vs_user_clear(&u);
	/* Conflicts. */
	memset(&u, 0, sizeof(u));
	u.login = "ron";
	expect_err(store_user_add(t, &u, &err), VS_EEXIST, &err,
	    "user ron already exists");
	expect_err(store_address_add(t, "ron@linuxcoaching.eu", "alice", &err),
	    VS_EEXIST, &err, "already belongs to ron");
	expect_err(store_address_add(t, "x@unhosted.org", "alice", &err),
	    VS_ENOTFOUND, &err, "domain unhosted.org is not hosted");
	expect_err(store_address_add(t, "x@somedomain.ie", "nobody", &err),
	    VS_ENOTFOUND, &err, "user nobody not found");
	expect_err(store_address_add(t, "no-at-sign", "alice", &err),
	    VS_EINVAL, &err, NULL);
	/* A second address, then delete it: the user's list follows. */
	assert_int_equal(store_address_add(t, "Alice.B@somedomain.ie", "ALICE",
	    NULL), VS_OK);
	assert_int_equal(store_address_get(t, "alice.b@SOMEDOMAIN.ie", &a,
	    NULL), VS_OK);
	assert_string_equal(a.login, "alice");
	vs_address_clear(&a);
	assert_int_equal(store_user_get(t, "alice", &u, NULL), VS_OK);
	assert_int_equal(u.n_addresses, 2);
	vs_user_clear(&u);
	assert_int_equal(store_address_del(t, "alice.b@somedomain.ie", NULL),
	    VS_OK);
	assert_int_equal(store_user_get(t, "alice", &u, NULL), VS_OK);
	assert_int_equal(u.n_addresses, 1);
	vs_user_clear(&u);
	expect_err(store_address_del(t, "alice.b@somedomain.ie", &err),
	    VS_ENOTFOUND, &err, "not found");
	/* Password: Argon2id at the store's cost. */
	assert_int_equal(store_user_set_password(t, "alice", "s3cret", 6,
	    NULL), VS_OK);
	assert_int_equal(store_user_get(t, "alice", &u, NULL), VS_OK);
	assert_int_equal(pw_identify(u.pwhash), PW_ARGON2ID);
	assert_int_equal(pw_verify(u.pwhash, "s3cret", 6, NULL), 1);
	assert_int_equal(pw_verify(u.pwhash, "s3creT", 6, NULL), 0);
	assert_true(u.pw_changed > 0);
	/* Update keeps the address list. */
	u.enabled = false;
	assert_int_equal(store_user_update(t, &u, NULL), VS_OK);
	vs_user_clear(&u);
	assert_int_equal(store_user_get(t, "alice", &u, NULL), VS_OK);
	assert_false(u.enabled);
	assert_int_equal(u.n_addresses, 1);
	vs_user_clear(&u);
	/* Deleting a user deletes its addresses. */
	assert_int_equal(store_user_del(t, "ron", NULL), VS_OK);
	expect_err(store_address_get(t, "ron@linuxcoaching.eu", &a, &err),
	    VS_ENOTFOUND, &err, NULL);
	assert_int_equal(store_user_list(t, &ul, &n, NULL), VS_OK);
	assert_int_equal(n, 1);
	store_user_list_free(ul, n);
	assert_int_equal(store_address_list(t, &al, &n, NULL), VS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(al[0].address, "alice@somedomain.ie");
	store_address_list_free(al, n);
	commit(&t);
}

static void
test_aliases(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *t;
	struct vs_alias a, *l;
	struct vs_err err;
	const char *d1[] = { "alice@somedomain.ie" };
	const char *d2[] = { "Ron@linuxcoaching.eu", "someone@elsewhere.org" };
	const char *self[] = { "info@somedomain.ie" };
	const char *dup[] = { "a@b.org", "A@b.org" };
	size_t n;

	seed(f);
	t = wtxn(f);
	assert_int_equal(store_alias_put(t, "@SomeDomain.ie", d1, 1, false,
	    NULL), VS_OK);
	assert_int_equal(store_alias_put(t, "Info@somedomain.ie", d2, 2, false,
	    NULL), VS_OK);
	expect_err(store_alias_put(t, "info@somedomain.ie", d1, 1, false,
	    &err), VS_EEXIST, &err, "alias info@somedomain.ie already exists");
	assert_int_equal(store_alias_put(t, "info@somedomain.ie", d2, 2, true,
	    NULL), VS_OK);
	expect_err(store_alias_put(t, "alice@somedomain.ie", d2, 1, false,
	    &err), VS_EEXIST, &err, "is a mailbox address of alice");
	expect_err(store_alias_put(t, "x@unhosted.org", d1, 1, false, &err),
	    VS_ENOTFOUND, &err, "not hosted");
	expect_err(store_alias_put(t, "y@somedomain.ie", self, 0, false,
	    &err), VS_EINVAL, &err, "needs 1 to");
	expect_err(store_alias_put(t, "info2@somedomain.ie", dup, 2, false,
	    &err), VS_EINVAL, &err, "given twice");
	expect_err(store_alias_put(t, "info@somedomain.ie", self, 1, true,
	    &err), VS_EINVAL, &err, "points to itself");
	/* An alias blocks a mailbox address of the same name. */
	expect_err(store_address_add(t, "info@somedomain.ie", "alice", &err),
	    VS_EEXIST, &err, "is an alias");
	assert_int_equal(store_alias_get(t, "INFO@somedomain.ie", &a, NULL),
	    VS_OK);
	assert_int_equal(a.n_dests, 2);
	assert_string_equal(a.dests[0], "ron@linuxcoaching.eu");
	vs_alias_clear(&a);
	assert_int_equal(store_alias_list(t, &l, &n, NULL), VS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].address, "@somedomain.ie");
	store_alias_list_free(l, n);
	assert_int_equal(store_alias_del(t, "@somedomain.ie", NULL), VS_OK);
	expect_err(store_alias_del(t, "@somedomain.ie", &err), VS_ENOTFOUND,
	    &err, "alias @somedomain.ie not found");
	commit(&t);
}

/* The lookup path: names normalized once by store_name_address(), read by
 * the *_find() calls; "not found" leaves err as it was. */
static void
test_find(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *t = NULL;
	struct vs_address a;
	struct vs_domain d;
	struct vs_alias al;
	struct vs_err err;
	char norm[NAME_BUF];
	const char *d1[] = { "alice@somedomain.ie" };

	seed(f);
	t = wtxn(f);
	assert_int_equal(store_alias_put(t, "@SomeDomain.ie", d1, 1, false,
	    NULL), VS_OK);
	commit(&t);
	assert_int_equal(store_txn_begin(f->st, false, &t, NULL), VS_OK);
	/* Folded by the store's setting (on by default), domain lowered. */
	assert_int_equal(store_name_address(t, "RON@LinuxCoaching.EU", false,
	    norm, NULL), VS_OK);
	assert_string_equal(norm, "ron@linuxcoaching.eu");
	expect_err(store_name_address(t, "@somedomain.ie", false, norm, &err),
	    VS_EINVAL, &err, "catch-all");
	assert_int_equal(store_name_address(t, "@SomeDomain.IE", true, norm,
	    NULL), VS_OK);
	assert_string_equal(norm, "@somedomain.ie");
	expect_err(store_name_address(t, "no-at-sign", false, norm, &err),
	    VS_EINVAL, &err, "missing '@'");

	assert_int_equal(store_address_find(t, "ron@linuxcoaching.eu", &a,
	    NULL), VS_OK);
	assert_string_equal(a.login, "ron");
	vs_address_clear(&a);
	assert_int_equal(store_alias_find(t, "@somedomain.ie", &al, NULL),
	    VS_OK);
	assert_string_equal(al.dests[0], "alice@somedomain.ie");
	vs_alias_clear(&al);
	assert_int_equal(store_domain_find(t, "somedomain.ie", &d, NULL),
	    VS_OK);
	vs_domain_clear(&d);

	/* Not found: no message formatted, err untouched.  A name that is
	 * not normalized is simply not found. */
	strcpy(err.msg, "untouched");
	err.code = 12345;
	assert_int_equal(store_address_find(t, "nobody@linuxcoaching.eu", &a,
	    &err), VS_ENOTFOUND);
	assert_int_equal(store_address_find(t, "Ron@LinuxCoaching.EU", &a,
	    &err), VS_ENOTFOUND);
	assert_int_equal(store_alias_find(t, "@linuxcoaching.eu", &al, &err),
	    VS_ENOTFOUND);
	assert_int_equal(store_domain_find(t, "SomeDomain.ie", &d, &err),
	    VS_ENOTFOUND);
	assert_int_equal(err.code, 12345);
	assert_string_equal(err.msg, "untouched");
	store_txn_abort(&t);
}

/* A read transaction reset between bursts and renewed: it sees the
 * changes committed meanwhile; it cannot be renewed once the store is
 * sealed; a write transaction is neither reset nor renewed. */
static void
test_txn_renew(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *r = NULL, *w;
	struct vs_address a;
	struct vs_err err;

	seed(f);
	assert_int_equal(store_txn_begin(f->st, false, &r, NULL), VS_OK);
	assert_int_equal(store_address_find(r, "ron@linuxcoaching.eu", &a,
	    NULL), VS_OK);
	vs_address_clear(&a);
	/* Renewing a live transaction changes nothing. */
	assert_int_equal(store_txn_renew(r, NULL), VS_OK);
	store_txn_reset(r);
	store_txn_reset(r);             /* twice is harmless */
	w = wtxn(f);
	assert_int_equal(store_address_del(w, "Ron@linuxcoaching.eu", NULL),
	    VS_OK);
	commit(&w);
	assert_int_equal(store_txn_renew(r, NULL), VS_OK);
	assert_int_equal(store_address_find(r, "ron@linuxcoaching.eu", &a,
	    NULL), VS_ENOTFOUND);
	store_txn_reset(r);
	store_seal(f->st);
	expect_err(store_txn_renew(r, &err), VS_ESEALED, &err, "sealed");
	store_txn_abort(&r);            /* frees a reset transaction */
	assert_null(r);
	assert_int_equal(store_unseal_passphrase(f->st, PASS, strlen(PASS),
	    NULL), VS_OK);
	w = wtxn(f);
	store_txn_reset(w);             /* ignored for a writer */
	expect_err(store_txn_renew(w, &err), VS_EINVAL, &err,
	    "write transaction");
	assert_int_equal(store_domain_add(w, "still-writable.example", NULL),
	    VS_OK);
	commit(&w);
}

/* Reach under the store with LMDB itself, as an attacker with write
 * access to the files would. */
static void
with_users_table(const char *dir, void (*fn)(MDB_txn *, MDB_dbi))
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "users", 0, &dbi), 0);
	fn(txn, dbi);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static size_t flip_at;

static void
flip_first(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t *copy;

	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0);
	copy = malloc(v.mv_size);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[flip_at % v.mv_size] ^= 0x20;
	v.mv_data = copy;
	assert_int_equal(mdb_cursor_put(c, &k, &v, MDB_CURRENT), 0);
	mdb_cursor_close(c);
	free(copy);
}

static void
swap_two(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_cursor *c;
	MDB_val k1, v1, k2, v2;
	uint8_t kk1[64], *vv1;

	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	assert_int_equal(mdb_cursor_get(c, &k1, &v1, MDB_FIRST), 0);
	memcpy(kk1, k1.mv_data, k1.mv_size);
	k1.mv_data = kk1;
	vv1 = malloc(v1.mv_size);
	memcpy(vv1, v1.mv_data, v1.mv_size);
	v1.mv_data = vv1;
	assert_int_equal(mdb_cursor_get(c, &k2, &v2, MDB_NEXT), 0);
	/* Copy record 2's value onto record 1's key. */
	assert_int_equal(mdb_put(txn, dbi, &k1, &v2, 0), 0);
	mdb_cursor_close(c);
	free(vv1);
}

static int
read_both(struct store_fx *f, struct vs_err *err)
{
	struct store_txn *t = NULL;
	struct vs_user u;
	int r1, r2;

	/* Records changed behind the store's back no longer match its
	 * head: only a handle for inspection unseals (see test_head_*). */
	assert_int_equal(store_open(f->dir, STORE_OPEN_WRITE |
	    STORE_OPEN_INSPECT, &f->st, NULL), VS_OK);
	assert_int_equal(store_unseal_passphrase(f->st, PASS, strlen(PASS),
	    NULL), VS_OK);
	assert_int_equal(store_txn_begin(f->st, false, &t, NULL), VS_OK);
	r1 = store_user_get(t, "ron", &u, err);
	if (r1 == VS_OK)
		vs_user_clear(&u);
	r2 = store_user_get(t, "alice", &u, r1 == VS_OK ? err : NULL);
	if (r2 == VS_OK)
		vs_user_clear(&u);
	store_txn_abort(&t);
	return r1 != VS_OK ? r1 : r2;
}

static void
test_tamper(void **state)
{
	struct store_fx *f = *state;
	struct vs_err err;
	size_t i;

	seed(f);
	/* Flip bytes all over the first user's sealed record. */
	for (i = 0; i < 120; i += 7) {
		store_close(&f->st);
		flip_at = i;
		with_users_table(f->dir, flip_first);
		/* Byte 0 is the version ("unknown version"), the rest
		 * fail authentication: both name the sealed record. */
		expect_err(read_both(f, &err), VS_ECORRUPT, &err,
		    i == 0 ? "sealed record has unknown version" :
		    "sealed record failed to authenticate");
		store_close(&f->st);
		with_users_table(f->dir, flip_first);   /* flip back */
		assert_int_equal(read_both(f, &err), VS_OK);
	}
	/* A record copied onto another record's key fails to open. */
	store_close(&f->st);
	with_users_table(f->dir, swap_two);
	expect_err(read_both(f, &err), VS_ECORRUPT, &err,
	    "failed to authenticate");
}

static void
test_slots_and_rotate(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *t;
	struct store_slot sl[SEAL_MAX_SLOTS];
	struct vs_user u;
	struct vs_err err;
	uint8_t id, rk[32], root1[32], root2[32];
	size_t n;

	seed(f);
	store_slot_list(f->st, sl, &n);
	assert_int_equal(n, 2);
	/* A second passphrase; the first one's slot is found by it. */
	t = wtxn(f);
	assert_int_equal(store_slot_add_passphrase(t, "second one", 10, NULL,
	    &id, NULL), VS_OK);
	assert_int_equal(id, 2);
	commit(&t);
	store_slot_list(f->st, sl, &n);
	assert_int_equal(n, 3);
	assert_int_equal(store_slot_match(f->st, PASS, strlen(PASS), &id,
	    NULL), VS_OK);
	assert_int_equal(id, 0);
	expect_err(store_slot_match(f->st, "nope", 4, &id, &err), VS_EBADKEY,
	    &err, "no passphrase slot");
	/* Remove slots down to one; the last way in stays. */
	t = wtxn(f);
	assert_int_equal(store_slot_remove(t, 0, NULL), VS_OK);
	assert_int_equal(store_slot_remove(t, 1, NULL), VS_OK);
	expect_err(store_slot_remove(t, 2, &err), VS_EINVAL, &err,
	    "last way in");
	commit(&t);
	/* Rotate with the remaining passphrase: data kept, new key. */
	assert_true(seal_keys_export_root(store_keys(f->st), root1));
	expect_err(store_rotate(f->st, PASS, strlen(PASS), rk, NULL, NULL,
	    NULL, &err), VS_EBADKEY, &err, NULL);
	assert_int_equal(store_rotate(f->st, "second one", 10, rk, NULL, NULL,
	    NULL, &err), VS_OK);
	assert_true(seal_keys_export_root(store_keys(f->st), root2));
	assert_memory_not_equal(root1, root2, 32);
	t = wtxn(f);
	assert_int_equal(store_user_get(t, "ron", &u, NULL), VS_OK);
	assert_string_equal(u.pwhash, "hLILWelxS7E82");
	vs_user_clear(&u);
	store_txn_abort(&t);
	/* The new recovery key and the kept passphrase open it afresh. */
	store_close(&f->st);
	assert_int_equal(store_open(f->dir, STORE_OPEN_WRITE, &f->st, NULL),
	    VS_OK);
	assert_int_equal(store_unseal_recovery(f->st, rk, NULL), VS_OK);
	assert_int_equal(store_unseal_passphrase(f->st, "second one", 10,
	    NULL), VS_OK);
	assert_true(seal_keys_export_root(store_keys(f->st), root1));
	assert_memory_equal(root1, root2, 32);
	sodium_memzero(root1, 32);
	sodium_memzero(root2, 32);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unseal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users_addresses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txn_renew, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots_and_rotate, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
