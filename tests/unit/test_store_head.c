/*
 * test_store_head.c - the store's head (lib/store_head.c, store.h "The
 * head"): generations, and each way of changing the files behind the
 * store's back - a record put back from an older copy, deleted, added, a
 * key slot rolled back, the head deleted - refused at unseal, reported by
 * store_verify(), accepted by the operator; a format 1 store's upgrade;
 * store_unseal() for every kind of secret; store_backup() refusing links.
 * With VMSEAL_TEST_PG (a throwaway PostgreSQL database: pg_hosts.sh), two
 * handles on one store: each follows the other's commits, two writers at
 * once conflict (VS_EBUSY, store_write runs again), a head put back is
 * refused.
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

#include "reckey.h"
#include "store.h"
#include "store_fx.h"

#define PASS STORE_FX_PASS
#define wtxn store_fx_wtxn
#define commit store_fx_commit
#define expect_err store_fx_expect_err
#define seed store_fx_seed

struct raw_edit {
	const char *table;
	const char *key;        /* a meta name, or NULL: the table's first */
	MDB_val k, v;           /* saved by raw_save, used by the others */
	uint8_t kb[64], vb[4096];
};

static void
raw_edit(const char *dir, struct raw_edit *e, char op)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, e->table, 0, &dbi), 0);
	if (e->key != NULL) {
		k.mv_data = (void *)e->key;
		k.mv_size = strlen(e->key);
	}
	switch (op) {
	case 's':       /* save the entry (or the first one) */
		assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
		if (e->key != NULL)
			assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_SET_KEY),
			    0);
		else
			assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_FIRST),
			    0);
		memcpy(e->kb, k.mv_data, k.mv_size);
		memcpy(e->vb, v.mv_data, v.mv_size);
		e->k.mv_data = e->kb;
		e->k.mv_size = k.mv_size;
		e->v.mv_data = e->vb;
		e->v.mv_size = v.mv_size;
		mdb_cursor_close(c);
		break;
	case 'p':       /* put the saved value back under its key */
		assert_int_equal(mdb_put(txn, dbi, &e->k, &e->v, 0), 0);
		break;
	case 'd':       /* delete the saved key */
		assert_int_equal(mdb_del(txn, dbi, &e->k, NULL), 0);
		break;
	case 'a':       /* add the saved value under another key */
		e->kb[0] ^= 0x55;
		assert_int_equal(mdb_put(txn, dbi, &e->k, &e->v, 0), 0);
		e->kb[0] ^= 0x55;
		break;
	case 'f':       /* format 1: no head (a store of older vmseal) */
		k.mv_data = "head";
		k.mv_size = 4;
		assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
		k.mv_data = "format";
		k.mv_size = 6;
		v.mv_data = "\0\0\0\1";
		v.mv_size = 4;
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
		break;
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static uint64_t
generation(struct store_fx *f)
{
	struct store_head h;

	store_head_of(f->st, &h, NULL);
	assert_true(h.present);
	return h.generation;
}

static void
test_head_generation(void **state)
{
	struct store_fx *f = *state;
	struct store_head h1, h2;
	struct store_txn *t;
	uint64_t g = generation(f);

	assert_int_equal(g, 1);         /* init wrote generation 1 */
	seed(f);
	assert_int_equal(generation(f), 2);     /* one commit, one step */
	store_head_of(f->st, &h1, NULL);
	t = wtxn(f);                    /* a writer that writes nothing */
	commit(&t);
	t = wtxn(f);                    /* an aborted write */
	assert_int_equal(store_domain_add(t, "gone.org", NULL), VS_OK);
	store_txn_abort(&t);
	assert_int_equal(store_txn_begin(f->st, false, &t, NULL), VS_OK);
	assert_int_equal(store_head(t, &h2, NULL), VS_OK);
	assert_int_equal(store_head_verify(t, STORE_HEAD_ALL, NULL), VS_OK);
	store_txn_abort(&t);
	assert_int_equal(h2.generation, 2);
	assert_memory_equal(h1.hash, h2.hash, sizeof(h1.hash));
	assert_true(h2.matches && !h2.created);
	t = wtxn(f);
	assert_int_equal(store_domain_add(t, "new.org", NULL), VS_OK);
	commit(&t);
	store_head_of(f->st, &h2, NULL);
	assert_int_equal(h2.generation, 3);
	assert_memory_not_equal(h1.hash, h2.hash, sizeof(h1.hash));
	/* The head survives a reopen, and a rotation (keys change, the
	 * generation goes on). */
	store_close(&f->st);
	store_fx_reopen(f);
	assert_int_equal(generation(f), 3);
}

/* Each way of changing the files behind the store's back, and what the
 * unseal of a writer answers. */
static const struct {
	const char *name, *table, *key;
	char op;                        /* after a change through the store */
	const char *msg;
} tampers[] = {
	{ "users record put back", "users", NULL, 'p',
	  "the users table does not match the store's head (generation 3): "
	  "an entry was put back from an older copy" },
	{ "users record deleted", "users", NULL, 'd',
	  "the users table does not match the store's head: 1 entry, the "
	  "store's head (generation 3) says 2 - entries were deleted" },
	{ "users record added", "users", NULL, 'a',
	  "the users table does not match the store's head: 3 entries" },
	{ "meta entry added", "meta", "settings", 'a',
	  "the meta table (key slots, settings, audit head) does not match "
	  "the store's head: 6 entries, the store's head (generation 3) "
	  "says 5" },
	{ "head deleted", "meta", "head", 'd',
	  "the store's head is missing (a format 2 store always has one)" },
};

static void
test_head_tamper(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *t;
	struct store_verify_report rep;
	struct raw_edit e;
	struct vs_user u;
	struct vs_err err;
	const char *problem;
	size_t i, j;

	seed(f);
	store_close(&f->st);
	for (i = 0; i < sizeof(tampers) / sizeof(tampers[0]); i++) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "cp -a %s %s.orig", f->dir, f->dir);
		assert_int_equal(system(cmd), 0);
		memset(&e, 0, sizeof(e));
		e.table = tampers[i].table;
		e.key = tampers[i].key;
		raw_edit(f->dir, &e, 's');
		/* A change through the store: both users disabled (new
		 * users records - the first one saved above among them -
		 * and a new head). */
		store_fx_reopen(f);
		t = wtxn(f);
		for (j = 0; j < 2; j++) {
			assert_int_equal(store_user_get(t, j ? "ron" : "alice",
			    &u, NULL), VS_OK);
			u.enabled = false;
			assert_int_equal(store_user_update(t, &u, NULL), VS_OK);
			vs_user_clear(&u);
		}
		commit(&t);
		store_close(&f->st);
		if (strcmp(tampers[i].table, "users") == 0) {
			/* The first users record is ron's or alice's: save
			 * whichever it is now for 'd' and 'a'. */
			if (tampers[i].op != 'p')
				raw_edit(f->dir, &e, 's');
		}
		raw_edit(f->dir, &e, tampers[i].op);
		/* A writer (vmsealed) does not unseal it. */
		assert_int_equal(store_open(f->dir, STORE_OPEN_WRITE, &f->st,
		    NULL), VS_OK);
		vs_err_clear(&err);
		expect_err(store_unseal(f->st, PASS, strlen(PASS),
		    STORE_UNSEAL_PASSPHRASE, &err), VS_ECORRUPT, &err,
		    tampers[i].msg);
		if (strstr(err.msg, "the store stays sealed") == NULL)
			fail_msg("%s: %s", tampers[i].name, err.msg);
		assert_true(store_is_sealed(f->st));
		store_close(&f->st);
		/* For inspection it unseals, says why, verify reports it and
		 * nothing commits. */
		store_fx_reopen(f);
		store_head_of(f->st, &(struct store_head){ 0 }, &problem);
		assert_non_null(problem);
		assert_non_null(strstr(problem, tampers[i].msg));
		assert_int_equal(store_txn_begin(f->st, false, &t, NULL), VS_OK);
		assert_int_equal(store_verify(t, &rep, NULL), VS_OK);
		store_txn_abort(&t);
		assert_false(rep.head_ok);
		assert_non_null(strstr(rep.head_problem, tampers[i].msg));
		t = wtxn(f);
		assert_int_equal(store_domain_add(t, "x.org", NULL), VS_OK);
		expect_err(store_txn_commit(&t, &err), VS_ECORRUPT, &err,
		    "nothing is written");
		/* Accepted by the operator: a new head, one generation on. */
		assert_int_equal(store_head_accept(f->st, NULL, NULL), VS_OK);
		store_close(&f->st);
		assert_int_equal(store_open(f->dir, STORE_OPEN_WRITE, &f->st,
		    NULL), VS_OK);
		assert_int_equal(store_unseal(f->st, PASS, strlen(PASS),
		    STORE_UNSEAL_PASSPHRASE, NULL), VS_OK);
		/* Generation 3 was the last seen; a deleted head starts
		 * anew. */
		assert_int_equal(generation(f), strcmp(tampers[i].table,
		    "meta") == 0 && tampers[i].op == 'd' ? 1 : 4);
		store_close(&f->st);
		snprintf(cmd, sizeof(cmd), "rm -rf %s && mv %s.orig %s",
		    f->dir, f->dir, f->dir);
		assert_int_equal(system(cmd), 0);
	}
	store_fx_reopen(f);
}

/* A key slot removed and put back from an older copy: the removed
 * passphrase opens the slot, and the head refuses the store. */
static void
test_head_slot_rollback(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *t = wtxn(f);
	struct raw_edit e = { .table = "meta", .key = "slot2" };
	struct vs_err err;
	uint8_t id;

	assert_int_equal(store_slot_add_passphrase(t, "leaked one", 10, NULL,
	    &id, NULL), VS_OK);
	assert_int_equal(id, 2);
	commit(&t);
	store_close(&f->st);
	raw_edit(f->dir, &e, 's');
	store_fx_reopen(f);
	t = wtxn(f);
	assert_int_equal(store_slot_remove(t, 2, NULL), VS_OK);
	commit(&t);
	store_close(&f->st);
	raw_edit(f->dir, &e, 'p');
	assert_int_equal(store_open(f->dir, STORE_OPEN_WRITE, &f->st, NULL),
	    VS_OK);
	expect_err(store_unseal(f->st, "leaked one", 10,
	    STORE_UNSEAL_KEYFILE, &err), VS_ECORRUPT, &err,
	    "the meta table (key slots, settings, audit head) does not match "
	    "the store's head: 6 entries, the store's head (generation 3) "
	    "says 5");
	assert_true(store_is_sealed(f->st));
}

/* A format 1 store (no head): read-only it unseals as it is; the first
 * writer gives it a head. */
static void
test_head_upgrade(void **state)
{
	struct store_fx *f = *state;
	struct raw_edit e = { .table = "meta" };
	struct store_verify_report rep;
	struct store_txn *t;
	struct store_head h;
	struct vs_err err;

	seed(f);
	store_close(&f->st);
	raw_edit(f->dir, &e, 'f');
	assert_int_equal(store_open(f->dir, 0, &f->st, NULL), VS_OK);
	assert_int_equal(store_unseal(f->st, PASS, strlen(PASS),
	    STORE_UNSEAL_PASSPHRASE, NULL), VS_OK);
	store_head_of(f->st, &h, NULL);
	assert_false(h.present);
	assert_int_equal(store_txn_begin(f->st, false, &t, NULL), VS_OK);
	assert_int_equal(store_verify(t, &rep, NULL), VS_OK);
	assert_true(rep.head_ok);
	assert_non_null(strstr(rep.head_problem, "no head yet"));
	store_txn_abort(&t);
	store_close(&f->st);
	assert_int_equal(store_open(f->dir, STORE_OPEN_WRITE, &f->st, NULL),
	    VS_OK);
	assert_int_equal(store_unseal(f->st, PASS, strlen(PASS),
	    STORE_UNSEAL_PASSPHRASE, NULL), VS_OK);
	store_head_of(f->st, &h, NULL);
	assert_true(h.present && h.created && h.matches);
	assert_int_equal(h.generation, 1);
	store_close(&f->st);
	/* Now format 2: deleting the head is no way back to format 1. */
	e.key = "head";
	raw_edit(f->dir, &e, 's');
	raw_edit(f->dir, &e, 'd');
	assert_int_equal(store_open(f->dir, STORE_OPEN_WRITE, &f->st, NULL),
	    VS_OK);
	expect_err(store_unseal(f->st, PASS, strlen(PASS),
	    STORE_UNSEAL_PASSPHRASE, &err), VS_ECORRUPT, &err,
	    "the store's head is missing");
}

/* store_unseal: every kind, each refusal worded. */
static void
test_unseal_kinds(void **state)
{
	struct store_fx *f = *state;
	char text[RECKEY_TEXT_BUF], file[128];
	struct vs_err err;
	static const struct {
		const char *secret;
		enum store_unseal_kind kind;
		int want;
		const char *msg;
	} cases[] = {
		{ PASS, STORE_UNSEAL_PASSPHRASE, VS_OK, NULL },
		{ PASS "\n", STORE_UNSEAL_PASSPHRASE, VS_EBADKEY,
		  "wrong passphrase" },
		{ PASS "\r\n\n", STORE_UNSEAL_KEYFILE, VS_OK, NULL },
		{ "\n", STORE_UNSEAL_KEYFILE, VS_EBADKEY, "key file is empty" },
		{ "ABCD", STORE_UNSEAL_RECOVERY, VS_EINVAL, NULL },
		{ PASS, (enum store_unseal_kind)9, VS_EINVAL,
		  "unknown way to unseal" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vs_err_clear(&err);
		expect_err(store_unseal(f->st, cases[i].secret,
		    strlen(cases[i].secret), cases[i].kind, &err),
		    cases[i].want, &err, cases[i].msg);
		assert_int_equal(store_is_sealed(f->st),
		    cases[i].want != VS_OK);
	}
	reckey_encode(f->reckey, text);
	assert_int_equal(store_unseal(f->st, text, strlen(text),
	    STORE_UNSEAL_RECOVERY, NULL), VS_OK);
	text[3] = text[3] == 'A' ? 'B' : 'A';
	assert_int_not_equal(store_unseal(f->st, text, strlen(text),
	    STORE_UNSEAL_RECOVERY, &err), VS_OK);
	assert_true(store_is_sealed(f->st));
	/* backup: refused through a link, into a foreign folder. */
	snprintf(file, sizeof(file), "%s.link", f->dir);
	assert_int_equal(symlink("/tmp", file), 0);
	expect_err(store_backup(f->st, file, &err), VS_EINVAL, &err,
	    "is a symbolic link or not a folder: refused");
	unlink(file);
	expect_err(store_backup(f->st, "/proc/self", &err), VS_EINVAL, &err,
	    NULL);
}

#ifdef HAVE_PQ
/*
 * Several writers on one PostgreSQL store (issue 15): two handles, as two
 * hosts' vmsealed would hold.  Run when VMSEAL_TEST_PG holds a conninfo
 * of a throwaway database (tests/integration/pg_hosts.sh gives one; its
 * vmseal_kv table is emptied at every setup); skipped otherwise.
 */
#include "kv.h"
#include "kv_pg.h"

struct pg_fx {
	const char *conninfo;
	char loc[1024];
	struct store *a, *b;            /* open, writable, unsealed */
};

/* Empty the table (every entry of every kv table). */
static void
pg_empty(const char *conninfo)
{
	struct kv *kv = NULL;
	struct kv_txn *t = NULL;
	struct kv_val k;
	uint8_t kb[600];
	size_t klen;
	int tbl;

	assert_int_equal(kv_pg_open(conninfo, KV_OPEN_CREATE, &kv, NULL),
	    VS_OK);
	assert_int_equal(kv_txn_begin(kv, true, &t, NULL), VS_OK);
	for (tbl = 0; tbl < KV_TABLE_COUNT; tbl++)
		while (kv_last(t, (enum kv_table)tbl, &k, NULL) == VS_OK) {
			assert_true(k.len <= sizeof(kb));
			memcpy(kb, k.data, k.len);
			klen = k.len;
			assert_int_equal(kv_del(t, (enum kv_table)tbl, kb, klen,
			    NULL), VS_OK);
		}
	assert_int_equal(kv_txn_commit(t, NULL), VS_OK);
	kv_close(&kv);
}

/* Save (op 's') or put back (op 'p') the sealed head, below the store. */
static void
pg_head_raw(const char *conninfo, uint8_t *buf, size_t *len, char op)
{
	struct kv *kv = NULL;
	struct kv_txn *t = NULL;
	struct kv_val v;

	assert_int_equal(kv_pg_open(conninfo, 0, &kv, NULL), VS_OK);
	assert_int_equal(kv_txn_begin(kv, true, &t, NULL), VS_OK);
	if (op == 's') {
		assert_int_equal(kv_get(t, KV_META, "head", 4, &v, NULL),
		    VS_OK);
		assert_true(v.len <= 4096);
		memcpy(buf, v.data, v.len);
		*len = v.len;
	} else {
		assert_int_equal(kv_put(t, KV_META, "head", 4, buf, *len,
		    false, NULL), VS_OK);
	}
	assert_int_equal(kv_txn_commit(t, NULL), VS_OK);
	kv_close(&kv);
}

static void
pg_open(struct pg_fx *f, struct store **st)
{
	assert_int_equal(store_open(f->loc, STORE_OPEN_WRITE, st, NULL),
	    VS_OK);
	assert_int_equal(store_unseal_passphrase(*st, PASS, strlen(PASS),
	    NULL), VS_OK);
}

static int
pg_setup(void **state)
{
	const char *ci = getenv("VMSEAL_TEST_PG");
	struct store_init_params p;
	uint8_t reckey[SEAL_KEY_BYTES];
	struct pg_fx *f;

	*state = NULL;
	if (ci == NULL || *ci == '\0')
		return 0;
	if (sodium_init() < 0 || (f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	f->conninfo = ci;
	snprintf(f->loc, sizeof(f->loc), "postgresql:%s", ci);
	pg_empty(ci);
	store_init_params_default(&p);
	p.slot_cost.opslimit = 1;
	p.slot_cost.memlimit = 8192;
	p.settings.pw_opslimit = 1;
	p.settings.pw_memlimit = 8192;
	if (store_init(f->loc, &p, PASS, strlen(PASS), reckey, NULL) != VS_OK)
		return -1;
	pg_open(f, &f->a);
	pg_open(f, &f->b);
	*state = f;
	return 0;
}

static int
pg_teardown(void **state)
{
	struct pg_fx *f = *state;

	if (f == NULL)
		return 0;
	store_close(&f->a);
	store_close(&f->b);
	free(f);
	return 0;
}

static struct pg_fx *
pg_fx_of(void **state)
{
	if (*state == NULL)
		skip();         /* no VMSEAL_TEST_PG: no database to use */
	return *state;
}

static uint64_t
gen_of(struct store *st)
{
	struct store_head h;

	store_head_of(st, &h, NULL);
	return h.generation;
}

/* One domain added on st, committed (r: what the write gave). */
static int
add_domain(struct store *st, const char *d, struct vs_err *err)
{
	struct store_txn *t = NULL;
	int r;

	if ((r = store_txn_begin(st, true, &t, err)) != VS_OK)
		return r;
	if ((r = store_domain_add(t, d, err)) != VS_OK) {
		store_txn_abort(&t);
		return r;
	}
	return store_txn_commit(&t, err);
}

static void
expect_domain(struct store *st, const char *d, int want)
{
	struct store_txn *t = NULL;
	struct vs_domain dom;
	int r;

	assert_int_equal(store_txn_begin(st, false, &t, NULL), VS_OK);
	r = store_domain_get(t, d, &dom, NULL);
	if (r == VS_OK)
		vs_domain_clear(&dom);
	assert_int_equal(r, want);
	assert_int_equal(store_head_verify(t, STORE_HEAD_ALL, NULL), VS_OK);
	store_txn_abort(&t);
}

/* Handle B writes after A committed, and A after B: each follows the
 * other's head (no "changed behind vmseal's back"). */
static void
test_pg_follow(void **state)
{
	struct pg_fx *f = pg_fx_of(state);
	struct vs_err e;

	vs_err_clear(&e);
	assert_int_equal(gen_of(f->a), 1);
	assert_int_equal(add_domain(f->a, "a1.example", &e), VS_OK);
	assert_int_equal(gen_of(f->a), 2);
	store_fx_expect_err(add_domain(f->b, "b1.example", &e), VS_OK, &e,
	    NULL);
	assert_int_equal(gen_of(f->b), 3);      /* adopted 2, wrote 3 */
	store_fx_expect_err(add_domain(f->a, "a2.example", &e), VS_OK, &e,
	    NULL);
	assert_int_equal(gen_of(f->a), 4);
	expect_domain(f->b, "a2.example", VS_OK);
	expect_domain(f->a, "b1.example", VS_OK);
}

/* Two writers at once: one commits, the other gets VS_EBUSY and nothing
 * of it lands; run again (store_write), it commits. */
static int
add_y(struct store_txn *txn, void *ctx, struct vs_err *err)
{
	(*(int *)ctx)++;
	return store_domain_add(txn, "y.example", err);
}

static void
test_pg_conflict(void **state)
{
	struct pg_fx *f = pg_fx_of(state);
	struct store_txn *ta = NULL, *tb = NULL;
	struct vs_err e;
	int r, calls = 0;

	vs_err_clear(&e);
	assert_int_equal(store_txn_begin(f->a, true, &ta, NULL), VS_OK);
	assert_int_equal(store_txn_begin(f->b, true, &tb, NULL), VS_OK);
	assert_int_equal(store_domain_add(ta, "x.example", NULL), VS_OK);
	assert_int_equal(store_txn_commit(&ta, NULL), VS_OK);
	r = store_domain_add(tb, "y.example", &e);
	if (r == VS_OK) {
		r = store_txn_commit(&tb, &e);
	} else {
		assert_true(store_txn_conflicted(tb));
		store_txn_abort(&tb);
	}
	store_fx_expect_err(r, VS_EBUSY, &e, "concurrent");
	expect_domain(f->a, "y.example", VS_ENOTFOUND);
	vs_err_clear(&e);
	store_fx_expect_err(store_write(f->b, add_y, &calls, &e), VS_OK, &e,
	    NULL);
	assert_int_equal(calls, 1);
	expect_domain(f->a, "y.example", VS_OK);
	expect_domain(f->b, "x.example", VS_OK);
	assert_int_equal(gen_of(f->b), 3);
}

/* store_write runs the function again after a conflict (another handle
 * commits while it runs), and not after a VS_EBUSY of its own. */
struct retry_ctx {
	struct pg_fx *f;
	int calls;
	bool own_busy;
};

static int
add_z(struct store_txn *txn, void *vctx, struct vs_err *err)
{
	struct retry_ctx *c = vctx;

	if (c->own_busy) {
		c->calls++;
		return vs_fail(err, VS_EBUSY, "changed meanwhile");
	}
	if (c->calls++ == 0)    /* after txn's snapshot: a conflict */
		assert_int_equal(add_domain(c->f->a, "w.example", NULL),
		    VS_OK);
	return store_domain_add(txn, "z.example", err);
}

static void
test_pg_store_write(void **state)
{
	struct pg_fx *f = pg_fx_of(state);
	struct retry_ctx c = { f, 0, false };
	struct vs_err e;

	vs_err_clear(&e);
	store_fx_expect_err(store_write(f->b, add_z, &c, &e), VS_OK, &e,
	    NULL);
	assert_int_equal(c.calls, 2);
	expect_domain(f->a, "z.example", VS_OK);
	expect_domain(f->a, "w.example", VS_OK);
	c.calls = 0;
	c.own_busy = true;
	store_fx_expect_err(store_write(f->b, add_z, &c, &e), VS_EBUSY, &e,
	    "changed meanwhile");
	assert_int_equal(c.calls, 1);
}

/* A head put back to an older sealed copy is refused (a rollback), and
 * so is another head of a generation the handle saw (a fork). */
static void
test_pg_rollback(void **state)
{
	struct pg_fx *f = pg_fx_of(state);
	uint8_t old[4096];
	size_t oldlen;
	struct vs_err e;

	vs_err_clear(&e);
	pg_head_raw(f->conninfo, old, &oldlen, 's');    /* generation 1 */
	assert_int_equal(add_domain(f->a, "a.example", NULL), VS_OK);
	assert_int_equal(add_domain(f->b, "b.example", NULL), VS_OK);
	pg_head_raw(f->conninfo, old, &oldlen, 'p');
	store_fx_expect_err(add_domain(f->a, "c.example", &e), VS_ECORRUPT,
	    &e, "went back from generation 2 (seen by this handle) to 1");
	store_fx_expect_err(add_domain(f->b, "c.example", &e), VS_ECORRUPT,
	    &e, "went back from generation 3");
}

/* A fork: A wrote generation 2; the head is put back to 1 and B, which
 * saw 1, writes another generation 2: A refuses it. */
static void
test_pg_fork(void **state)
{
	struct pg_fx *f = pg_fx_of(state);
	uint8_t old[4096];
	size_t oldlen;
	struct vs_err e;

	vs_err_clear(&e);
	pg_head_raw(f->conninfo, old, &oldlen, 's');    /* generation 1 */
	assert_int_equal(add_domain(f->a, "a.example", NULL), VS_OK);
	pg_head_raw(f->conninfo, old, &oldlen, 'p');
	assert_int_equal(add_domain(f->b, "b.example", NULL), VS_OK);
	assert_int_equal(gen_of(f->b), 2);
	store_fx_expect_err(add_domain(f->a, "c.example", &e), VS_ECORRUPT,
	    &e, "another head of generation 2");
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_head_generation,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_head_tamper,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_head_slot_rollback,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_head_upgrade,
		    store_fx_setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_unseal_kinds,
		    store_fx_setup, store_fx_teardown),
#ifdef HAVE_PQ
		cmocka_unit_test_setup_teardown(test_pg_follow, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_pg_conflict, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_pg_store_write, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_pg_rollback, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_pg_fork, pg_setup,
		    pg_teardown),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
