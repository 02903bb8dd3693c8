/*
 * store_fx.c - the unit tests' store fixture (see store_fx.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "store_fx.h"

struct store_fx *
store_fx_new(bool fold_local)
{
	struct store_init_params p;
	struct store_fx *f = calloc(1, sizeof(*f));

	if (sodium_init() < 0 || f == NULL) {
		free(f);
		return NULL;
	}
	strcpy(f->dir, "/tmp/vmseal-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return NULL;
	}
	store_init_params_default(&p);
	p.slot_cost.opslimit = 1;
	p.slot_cost.memlimit = 8192;
	p.settings.pw_opslimit = 1;
	p.settings.pw_memlimit = 8192;
	p.settings.fold_local = fold_local;
	if (store_init(f->dir, &p, STORE_FX_PASS, strlen(STORE_FX_PASS),
	    f->reckey, NULL) != 0 ||
	    store_open(f->dir, STORE_OPEN_WRITE, &f->st, NULL) != 0 ||
	    store_unseal_passphrase(f->st, STORE_FX_PASS,
	    strlen(STORE_FX_PASS), NULL) != 0) {
		store_fx_free(&f);
		return NULL;
	}
	return f;
}

void
store_fx_reopen(struct store_fx *f)
{
	/* For inspection: a test that tampered with the files looks at
	 * them (the handle commits nothing if they no longer match the
	 * head). */
	assert_int_equal(store_open(f->dir, STORE_OPEN_WRITE |
	    STORE_OPEN_INSPECT, &f->st, NULL), VS_OK);
	assert_int_equal(store_unseal_passphrase(f->st, STORE_FX_PASS,
	    strlen(STORE_FX_PASS), NULL), VS_OK);
}

void
store_fx_free(struct store_fx **fp)
{
	struct store_fx *f = *fp;
	char cmd[128];

	if (f == NULL)
		return;
	store_close(&f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	sodium_memzero(f->reckey, sizeof(f->reckey));
	free(f);
	*fp = NULL;
}

/* --- helpers --- */

int
store_fx_setup(void **state)
{
	struct store_fx *f = store_fx_new(true);

	*state = f;
	return f != NULL ? 0 : -1;
}

int
store_fx_teardown(void **state)
{
	struct store_fx *f = *state;

	store_fx_free(&f);
	return 0;
}

struct store_txn *
store_fx_wtxn(struct store_fx *f)
{
	struct store_txn *t = NULL;

	assert_int_equal(store_txn_begin(f->st, true, &t, NULL), VS_OK);
	return t;
}

void
store_fx_commit(struct store_txn **t)
{
	assert_int_equal(store_txn_commit(t, NULL), VS_OK);
}

void
store_fx_expect_err(int got, int want, const struct vs_err *err, const char *msg)
{
	if (got != want)
		fail_msg("got %d (%s), want %d", got, err->msg, want);
	if (msg != NULL && strstr(err->msg, msg) == NULL)
		fail_msg("got \"%s\", want \"%s\"", err->msg, msg);
}

void
store_fx_seed(struct store_fx *f)
{
	struct store_txn *t = store_fx_wtxn(f);
	struct vs_user u;
	char *ra[] = { "Ron@LinuxCoaching.EU" };
	char *aa[] = { "alice@somedomain.ie" };

	assert_int_equal(store_domain_add(t, "LinuxCoaching.eu", NULL), VS_OK);
	assert_int_equal(store_domain_add(t, "somedomain.ie", NULL), VS_OK);
	memset(&u, 0, sizeof(u));
	u.login = "Ron";
	u.pwhash = "hLILWelxS7E82";
	u.enabled = true;
	u.addresses = ra;
	u.n_addresses = 1;
	assert_int_equal(store_user_add(t, &u, NULL), VS_OK);
	u.login = "alice";
	u.pwhash = NULL;
	u.addresses = aa;
	assert_int_equal(store_user_add(t, &u, NULL), VS_OK);
	store_fx_commit(&t);
}
