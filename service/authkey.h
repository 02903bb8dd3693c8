/*
 * authkey.h - the mail private key at a login, for users whose key is in
 * "password" protection (issue 13; lib/mailwrap.h, doc/DESIGN.md section
 * 17.8): opened with the key the login's own Argon2id gives
 * (pw_verify_key), moved into that protection at the first verified
 * password after 'mail-key enable --protection password', re-wrapped
 * when the hash is upgraded or the user changes the password.
 *
 * A hash worker takes a copy under the key lock (authkey_take), works
 * without it (authkey_open, pw_hash_key), and saves under it
 * (authkey_save_upgrade, or svc_passwd_save with authkey_apply).
 * Everything here is wiped on authkey_clear().
 */
#ifndef VS_AUTHKEY_H
#define VS_AUTHKEY_H

#include <stdbool.h>
#include <stdint.h>

#include "pwhash.h"
#include "authproto.h"
#include "record.h"
#include "store.h"

struct svc;

struct authkey {
	enum vs_mailkey_state state;
	char *wrap;                     /* MK_PASSWORD: the wrapped form */
	char *pem;                      /* at hand: MK_PENDING's store copy,
	                                   or opened from wrap */
	uint8_t key[PW_WRAPKEY_BYTES];  /* the verified password's key */
	bool have_key;
	uint8_t newkey[PW_WRAPKEY_BYTES];       /* the new hash's key */
	size_t apps_missing;            /* app passwords without a copy */
	struct vs_apppw app;            /* the app password logging in:
	                                   its pk and copy (MK_PASSWORD) */
};

/* Copy what a login needs from u (under the key lock); app: the index of
 * the app password typed, or -1.  VS_ENOMEM. */
int authkey_take(struct authkey *k, const struct vs_user *u, int app);
/* MK_PASSWORD with the login's key: open the wrap into k->pem.  false
 * when it does not open (the state is then treated as locked). */
bool authkey_open(struct authkey *k, const char *login);
/* Whether a new hash of this user must be a $vmseal-argon2id$ one (the
 * key is at hand to wrap under it). */
bool authkey_keyed(const struct authkey *k);
void authkey_clear(struct authkey *k);

/* A mail key (PEM) as a reply field: base64, the scratch copy wiped. */
int authkey_field(struct auth_reply *rep, const char *name, const char *pem);
/* The "ok" of an app password (MK_PASSWORD): its own copy of the key,
 * opened with the typed password, as the private key field; nothing when
 * it has none (made before its first main-password login since). */
void authkey_app_reply(struct authkey *k, const char *login, const char *pw,
    size_t len, struct auth_reply *rep);

/* In a write transaction: put u's key (pem, checked against u's public
 * key) into password protection under key - the wrap; the escrow copy
 * if u has none yet (the store's escrow key, lib/mailwrap.h); the store
 * copy dropped. */
int authkey_apply(struct store_txn *txn, struct vs_user *u, const char *pem,
    const uint8_t key[PW_WRAPKEY_BYTES], struct vs_err *err);
/* The password changed without its key: drop the wrap (locked). */
void authkey_lock(struct vs_user *u);

/* Save newhash for a user whose stored hash old just verified (key lock
 * held), only if nobody changed it meanwhile; with pem (not NULL) the
 * key goes into password protection under newkey in the same
 * transaction.  Logs what it did. */
void authkey_save_upgrade(struct svc *s, const char *login, const char *old,
    const char *newhash, const char *pem, const uint8_t *newkey);
/* After a verified main password (key lock held): seal pem to the app
 * passwords that have no copy yet. */
void authkey_save_copies(struct svc *s, const char *login, const char *pem);

#endif
