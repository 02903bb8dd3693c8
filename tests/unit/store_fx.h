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

/* Open f->st again (writable) and unseal it; fails the test otherwise. */
void store_fx_reopen(struct store_fx *f);

/* Close the store, remove its folder, free f and set *fp to NULL. */
void store_fx_free(struct store_fx **fp);

#endif
