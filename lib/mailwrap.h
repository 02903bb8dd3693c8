/*
 * mailwrap.h - "password" protection of a user's mail private key: the
 * PEM wrapped under a key derived from the user's password, and an escrow
 * copy sealed to a store-wide escrow public key whose secret half only
 * the recovery key opens (issue 13; doc/DESIGN.md section 17.8).
 *
 * Also the states of a user's mail key fields (record.h).
 *
 * Forms (text, so that they sit in a record's string fields):
 *   wrapped: base64 (standard, padded) of
 *            u8 1 || nonce (24) || XChaCha20-Poly1305(PEM)
 *            with additional data "vmseal-mail-wrap-v1" NUL login;
 *            the key is the one pw_hash_key()/pw_verify_key() give
 *            (lib/pwhash.h): the same Argon2id that verifies the login.
 *   escrow:  base64 of u8 1 || crypto_box_seal(login NUL PEM, escrow pk)
 *            (X25519, XSalsa20-Poly1305; the login inside is checked
 *            when opened, so a copy moved to another user is refused).
 *   app password copy: the escrow form, sealed to the app password's own
 *            X25519 public key (apppw_mail_keypair()), so that its login
 *            opens the key without the main password or an Argon2id.
 *   escrow key (meta entry "mail-escrow", sealed like every meta value):
 *            u8 1 || pk (32) || nonce (24) ||
 *            XChaCha20-Poly1305(sk) under BLAKE2b-256(key = recovery
 *            key, "vmseal-mail-escrow-v1"), additional data pk.
 *            Made once (the first user put in password protection) from
 *            the recovery key; the root key alone cannot open sk, so an
 *            unsealed vmsealed cannot open an escrow copy.
 *
 * Ownership: every returned string is malloc()ed; PEMs are freed with
 * vs_freestr() (wiped).  Nothing here logs or exits; messages never hold
 * key material.
 */
#ifndef VS_MAILWRAP_H
#define VS_MAILWRAP_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "vs_err.h"

#define MAILWRAP_KEY_BYTES 32
#define MAILWRAP_PK_BYTES 32
#define MAILWRAP_SK_BYTES 32
/* The meta entry holding the escrow key pair (sk wrapped). */
#define MAILWRAP_META "mail-escrow"

/* Wrap pem for login under key (*out_r: the wrapped form). */
int mailwrap_seal(const char *pem, const char *login,
    const uint8_t key[MAILWRAP_KEY_BYTES], char **out_r, struct vs_err *err);
/* Open a wrapped form: VS_OK and *pem_r; VS_EBADKEY when key (or login)
 * is not the one it was wrapped with; VS_ECORRUPT when malformed. */
int mailwrap_open(const char *wrapped, const char *login,
    const uint8_t key[MAILWRAP_KEY_BYTES], char **pem_r, struct vs_err *err);

/* Seal an escrow copy of pem for login to pk. */
int mailwrap_escrow_seal(const char *pem, const char *login,
    const uint8_t pk[MAILWRAP_PK_BYTES], char **out_r, struct vs_err *err);
/* Open one with the escrow key pair: VS_EBADKEY if it does not open or
 * names another login, VS_ECORRUPT when malformed. */
int mailwrap_escrow_open(const char *escrow, const char *login,
    const uint8_t pk[MAILWRAP_PK_BYTES], const uint8_t sk[MAILWRAP_SK_BYTES],
    char **pem_r, struct vs_err *err);

/* App passwords' own copies (lib/apppw.h): seal pem to every app password
 * of u that has a mail key pair and no copy yet (*made_r: how many); open
 * the copy of e with the typed app password pw (VS_EBADKEY: not its
 * password or not its copy; VS_ENOTFOUND: e has no copy). */
int mailwrap_app_copies(struct vs_user *u, const char *pem, size_t *made_r,
    struct vs_err *err);
int mailwrap_app_open(const struct vs_apppw *e, const char *login,
    const char *pw, size_t len, char **pem_r, struct vs_err *err);

/* The store's escrow key: its public half (VS_ENOTFOUND: none made yet);
 * both halves, sk opened with the recovery key (VS_EBADKEY: another
 * recovery key); made now from the recovery key (VS_EEXIST if there is
 * one).  rewrap: the same pair, sk wrapped under new_reckey (rotate). */
int mailwrap_escrow_pk(struct store_txn *txn,
    uint8_t pk_r[MAILWRAP_PK_BYTES], struct vs_err *err);
int mailwrap_escrow_keys(struct store_txn *txn, const uint8_t reckey[32],
    uint8_t pk_r[MAILWRAP_PK_BYTES], uint8_t sk_r[MAILWRAP_SK_BYTES],
    struct vs_err *err);
int mailwrap_escrow_make(struct store_txn *txn, const uint8_t reckey[32],
    struct vs_err *err);
int mailwrap_escrow_rewrap(struct store_txn *txn, const uint8_t old_reckey[32],
    const uint8_t new_reckey[32], struct vs_err *err);

#endif
