/*
 * test_kv_lmdb.c - the LMDB backend through kv.h's wrappers only (what
 * the store sees): open, put/get/del, cursor order, last, count, copy to
 * a descriptor, read transactions reset and renewed, abort discarding,
 * and "not found" kept apart from failures.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "kv.h"

struct fx {
	char dir[64];
	struct kv *kv;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/vmseal-kv-XXXXXX");
	if (mkdtemp(f->dir) == NULL ||
	    kv_lmdb_open(f->dir, KV_OPEN_CREATE, 1 << 24, &f->kv, NULL) !=
	    VS_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	kv_close(&f->kv);
	assert_null(f->kv);
	kv_close(&f->kv);               /* NULL is allowed */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct kv_txn *
begin(struct fx *f, bool write)
{
	struct kv_txn *t = NULL;

	assert_int_equal(kv_txn_begin(f->kv, write, &t, NULL), VS_OK);
	return t;
}

static void
expect_get(struct kv_txn *t, enum kv_table tb, const char *k,
    const char *want)
{
	struct kv_val v;
	int r = kv_get(t, tb, k, strlen(k), &v, NULL);

	if (want == NULL) {
		assert_int_equal(r, VS_ENOTFOUND);
		return;
	}
	assert_int_equal(r, VS_OK);
	assert_int_equal(v.len, strlen(want));
	assert_memory_equal(v.data, want, v.len);
}

/* One operation per row, in one write transaction, then read back. */
static const struct {
	char op;                /* p put, n put no-overwrite, d delete */
	enum kv_table t;
	const char *k, *v;
	int want;
} ops[] = {
	{ 'p', KV_USERS, "bb", "2", VS_OK },
	{ 'p', KV_USERS, "a", "1", VS_OK },
	{ 'p', KV_USERS, "c", "3", VS_OK },
	{ 'n', KV_USERS, "a", "x", VS_EEXIST },     /* kept as it was */
	{ 'p', KV_USERS, "c", "33", VS_OK },        /* overwritten */
	{ 'p', KV_DOMAINS, "a", "other table", VS_OK },
	{ 'd', KV_USERS, "zz", NULL, VS_ENOTFOUND },
	{ 'p', KV_USERS, "d", "4", VS_OK },
	{ 'd', KV_USERS, "d", NULL, VS_OK },
};

static void
fill(struct fx *f)
{
	struct kv_txn *t = begin(f, true);
	size_t i;
	int r;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i].op == 'd')
			r = kv_del(t, ops[i].t, ops[i].k, strlen(ops[i].k),
			    NULL);
		else
			r = kv_put(t, ops[i].t, ops[i].k, strlen(ops[i].k),
			    ops[i].v, strlen(ops[i].v), ops[i].op == 'n',
			    NULL);
		if (r != ops[i].want)
			fail_msg("row %zu: got %d, want %d", i, r, ops[i].want);
	}
	assert_int_equal(kv_txn_commit(t, NULL), VS_OK);
}

struct seen {
	char keys[8][8];
	size_t n;
	size_t stop_at;
};

static int
iter_cb(void *ctx, const struct kv_val *k, const struct kv_val *v)
{
	struct seen *s = ctx;

	(void)v;
	memcpy(s->keys[s->n], k->data, k->len);
	s->keys[s->n][k->len] = '\0';
	if (++s->n == s->stop_at)
		return 42;
	return 0;
}

static void
test_put_get_del(void **state)
{
	struct fx *f = *state;
	struct kv_txn *t;
	struct kv_val v;
	struct seen s = { .stop_at = 0 };
	size_t n;

	fill(f);
	t = begin(f, false);
	expect_get(t, KV_USERS, "a", "1");
	expect_get(t, KV_USERS, "bb", "2");
	expect_get(t, KV_USERS, "c", "33");
	expect_get(t, KV_USERS, "d", NULL);
	expect_get(t, KV_DOMAINS, "a", "other table");
	expect_get(t, KV_ALIASES, "a", NULL);
	/* Cursor order is key order; the callback's value stops it. */
	assert_int_equal(kv_iter(t, KV_USERS, iter_cb, &s, NULL), VS_OK);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.keys[0], "a");
	assert_string_equal(s.keys[1], "bb");
	assert_string_equal(s.keys[2], "c");
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(kv_iter(t, KV_USERS, iter_cb, &s, NULL), 42);
	assert_int_equal(s.n, 2);
	/* last and count. */
	assert_int_equal(kv_last(t, KV_USERS, &v, NULL), VS_OK);
	assert_int_equal(v.len, 1);
	assert_memory_equal(v.data, "c", 1);
	assert_int_equal(kv_last(t, KV_EVENTS, &v, NULL), VS_ENOTFOUND);
	assert_int_equal(kv_count(t, KV_USERS, &n, NULL), VS_OK);
	assert_int_equal(n, 3);
	assert_int_equal(kv_count(t, KV_AUDIT, &n, NULL), VS_OK);
	assert_int_equal(n, 0);
	kv_txn_abort(t);
}

static void
test_abort_and_renew(void **state)
{
	struct fx *f = *state;
	struct kv_txn *w, *r;
	struct vs_err err;

	fill(f);
	/* An aborted write leaves nothing. */
	w = begin(f, true);
	assert_int_equal(kv_put(w, KV_USERS, "e", 1, "5", 1, false, NULL),
	    VS_OK);
	assert_int_equal(kv_del(w, KV_USERS, "a", 1, NULL), VS_OK);
	expect_get(w, KV_USERS, "e", "5");      /* seen inside */
	kv_txn_abort(w);
	r = begin(f, false);
	expect_get(r, KV_USERS, "e", NULL);
	expect_get(r, KV_USERS, "a", "1");
	/* A read snapshot does not see a later commit until renewed. */
	w = begin(f, true);
	assert_int_equal(kv_put(w, KV_USERS, "e", 1, "5", 1, false, NULL),
	    VS_OK);
	assert_int_equal(kv_txn_commit(w, NULL), VS_OK);
	expect_get(r, KV_USERS, "e", NULL);
	kv_txn_reset(r);
	assert_int_equal(kv_txn_renew(r, NULL), VS_OK);
	expect_get(r, KV_USERS, "e", "5");
	/* A read transaction cannot write: an error, not "not found". */
	vs_err_clear(&err);
	assert_int_equal(kv_put(r, KV_USERS, "f", 1, "6", 1, false, &err),
	    VS_EIO);
	assert_non_null(strstr(err.msg, "cannot write store"));
	vs_err_clear(&err);
	assert_int_equal(kv_del(r, KV_USERS, "a", 1, &err), VS_EIO);
	assert_non_null(strstr(err.msg, "cannot delete from store"));
	kv_txn_reset(r);
	kv_txn_abort(r);                /* frees a reset transaction */
}

static void
test_copy_and_open(void **state)
{
	struct fx *f = *state;
	struct kv *copy = NULL;
	struct kv_txn *t;
	struct vs_err err;
	char dir[80], path[120];
	int fd;

	fill(f);
	snprintf(dir, sizeof(dir), "%s/copy", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(kv_copy(f->kv, fd, NULL), VS_OK);
	close(fd);
	assert_int_equal(kv_lmdb_open(dir, KV_OPEN_RDONLY, 0, &copy, NULL),
	    VS_OK);
	assert_int_equal(kv_txn_begin(copy, false, &t, NULL), VS_OK);
	expect_get(t, KV_USERS, "c", "33");
	expect_get(t, KV_DOMAINS, "a", "other table");
	kv_txn_abort(t);
	kv_close(&copy);
	/* A closed descriptor: an error, worded. */
	vs_err_clear(&err);
	assert_int_not_equal(kv_copy(f->kv, fd, &err), VS_OK);
	assert_non_null(strstr(err.msg, "cannot copy store"));
	/* Opening: a folder without a database is "not found", a folder
	 * with an LMDB file but none of the tables likewise. */
	snprintf(dir, sizeof(dir), "%s/none", f->dir);
	vs_err_clear(&err);
	assert_int_equal(kv_lmdb_open(dir, 0, 0, &copy, &err), VS_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no store in"));
	assert_int_equal(mkdir(dir, 0700), 0);
	vs_err_clear(&err);
	assert_int_equal(kv_lmdb_open(dir, 0, 0, &copy, &err), VS_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no vmseal store in"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_del, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_abort_and_renew, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_copy_and_open, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
