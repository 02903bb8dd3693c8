/*
 * pwhash_int.h - what pwhash.c (parsing, caps, dispatch) and
 * pwhash_legacy.c (the legacy verifiers) share; not for other modules.
 * pwi_ is its prefix.
 */
#ifndef VS_PWHASH_INT_H
#define VS_PWHASH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pwhash.h"
#include "vs_err.h"

/* The shapes' sizes and limits. */
/* md5-crypt / $apr1$ */
#define MD5CRYPT_SALT_MAX 8
#define MD5CRYPT_HASH_LEN 22
/* SHA-crypt */
#define SHACRYPT_SALT_MAX 16
#define SHACRYPT_ROUNDS_MIN 1000UL
#define SHACRYPT_ROUNDS_MAX 999999999UL
/* bcrypt: 22 characters of salt, 31 of hash */
#define BCRYPT_SALT_LEN 22
#define BCRYPT_HASH_LEN 31
/* Argon2 limits enforced by libsodium's decoder */
#define ARGON2_SALT_MIN 8
#define ARGON2_HASH_MIN 16

/* Enough for any decoded payload of a string shorter than PW_HASH_MAX. */
#define RAW_MAX PW_HASH_MAX

/* The crypt(3) alphabet, in value order ("./0-9A-Za-z"). */
extern const char pwi_crypt64[];
/* Length of s up to its next '$' (or its end). */
size_t pwi_field_len(const char *s);
/* Digest size of a {SCHEME} hash; *salted: a salt follows the digest. */
size_t pwi_digest_len(enum pw_scheme s, bool *salted);
/* Decode a {SCHEME} body into raw (room for the digest and a salt);
 * NULL when well formed, else a fixed reason. */
const char *pwi_decode_digest(enum pw_scheme s, const char *body,
    uint8_t *raw, size_t *rawlen);

/* The legacy verifiers (pwhash_legacy.c), on a body that passed the shape
 * check: as pw_verify() (1 match, 0 no match, or a negative VS_E* code
 * with err set). */
int pwi_verify_crypt(const char *body, enum pw_scheme s, const char *pw,
    size_t len, struct vs_err *err);
int pwi_verify_apr1(const char *body, const char *pw, size_t len);
int pwi_verify_digest(const char *body, enum pw_scheme s, const char *pw,
    size_t len);

/* The $vmseal-argon2id$ form (pwhash_key.c), on a whole string: a fixed
 * reason or NULL; its cost (m in KiB); verify (as pw_verify, the key
 * into key_r when given and matching); whether it is not at cost. */
const char *pwi_key_check(const char *body);
int pwi_key_params(const char *body, unsigned long *m, unsigned long *t);
int pwi_key_verify(const char *body, const char *pw, size_t len,
    uint8_t *key_r, struct vs_err *err);
bool pwi_key_needs_upgrade(const char *body, const struct pw_cost *cost);

#endif
