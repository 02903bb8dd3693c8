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
	assert_int_equal(store_open(f->dir, STORE_OPEN_WRITE, &f->st, NULL),
	    VS_OK);
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
