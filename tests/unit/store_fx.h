/*
 * store_fx.h - the unit tests' store fixture: a new store in a temporary
 * folder, with the cheapest Argon2id costs (tests measure behaviour, not
 * cost), opened for writing and unsealed.
 */
#ifndef VS_STORE_FX_H
#define VS_STORE_FX_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define STORE_FX_PASS "correct horse battery"

struct store_fx {
	char dir[64];
	struct store *st;               /* open, writable, unsealed */
	uint8_t reckey[SEAL_KEY_BYTES]; /* the store's recovery key */
};

/* A new store (local parts folded or not); NULL on any failure. */
struct store_fx *store_fx_new(bool fold_local);

/* Open f->st again (writable, STORE_OPEN_INSPECT: it unseals even when
 * the files no longer match the head, then commits nothing) and unseal
 * it; fails the test otherwise. */
void store_fx_reopen(struct store_fx *f);

/* Close the store, remove its folder, free f and set *fp to NULL. */
void store_fx_free(struct store_fx **fp);

/* cmocka setup/teardown: *state = store_fx_new(true) / store_fx_free. */
int store_fx_setup(void **state);
int store_fx_teardown(void **state);
/* A write transaction on f->st, and its commit (both asserted). */
struct store_txn *store_fx_wtxn(struct store_fx *f);
void store_fx_commit(struct store_txn **t);
/* Assert got == want and, when msg is not NULL, that err says msg. */
void store_fx_expect_err(int got, int want, const struct vs_err *err,
    const char *msg);
/* The seed data: domains linuxcoaching.eu and somedomain.ie, users ron
 * (with ron@linuxcoaching.eu) and alice (alice@somedomain.ie). */
void store_fx_seed(struct store_fx *f);

#endif
