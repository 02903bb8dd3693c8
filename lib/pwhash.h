/*
 * pwhash.h - password hashing (Argon2id) and verification of legacy hashes.
 *
 * New passwords are always hashed with Argon2id through libsodium's
 * crypto_pwhash_str(); the cost is a store setting passed in by the caller.
 * Hashes imported from older systems are kept as they are and verified here:
 *
 *   crypt(3) forms (through libcrypt):  DES (13 chars), $1$ MD5-crypt,
 *       $5$ SHA-256-crypt, $6$ SHA-512-crypt, $2a$/$2b$/$2y$ bcrypt
 *   $apr1$ Apache MD5 (own code: libcrypt does not know it)
 *   {SHA} {SSHA} {SHA256} {SSHA256} {SHA512} {SSHA512} {PLAIN-MD5}
 *       {LDAP-MD5} {SMD5} (base64, as Dovecot and Apache write them)
 *   Dovecot prefixes for the crypt forms: {CRYPT} {DES-CRYPT} {MD5-CRYPT}
 *       {MD5} {SHA256-CRYPT} {SHA512-CRYPT} {BLF-CRYPT}, and {ARGON2ID}
 *       {ARGON2I} in front of a $argon2id$/$argon2i$ string
 *   $argon2id$ / $argon2i$ strings (libsodium)
 *   $vmseal-argon2id$ strings (pwhash_key.c): vmseal's own form, whose
 *       one Argon2id both verifies and yields a key (pw_hash_key)
 *
 * Aliases as Dovecot reads them: {SHA1} = {SHA}, {CLEAR} = {PLAIN}, and
 * {MD5} followed by a hex or base64 digest = {PLAIN-MD5}.
 *
 * {PLAIN} and {CLEARTEXT} are recognised so that import can hash them at
 * once; pw_verify() refuses them (a clear password is never stored).
 *
 * Cost caps: a hash that takes longer to verify than the caps below allow
 * is never computed (pw_check_cost(), and pw_verify() itself): an imported
 * `$2y$31$` (about 2^17 times a cost-14 bcrypt: days) would otherwise hold
 * a hash worker, and one guess would freeze it.  Import refuses such a
 * hash; the service answers a login against one as failed, "needs a
 * reset", without hashing.  DES, md5-crypt, apr1 and the {SCHEME} digests
 * have a fixed, small cost.  Argon2 caps are raised to the store's own
 * Argon2id cost when a caller passes it (the `own` argument), so a hash
 * the store made itself is never refused, whatever `init --hash-cost`
 * said.
 *
 * Security: every comparison of a computed hash with a stored one is done in
 * constant time (sodium_memcmp); intermediate buffers are wiped.  Error
 * messages name the scheme and its cost parameters (public: they are in
 * every hash string), never the salt, the digest or the password.
 */
#ifndef VS_PWHASH_H
#define VS_PWHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vs_err.h"

/* Longest stored hash string we accept, NUL included. */
#define PW_HASH_MAX 512
/* Longest password we accept. */
#define PW_PASSWORD_MAX 1024

enum pw_scheme {
	PW_UNKNOWN = 0,
	PW_ARGON2ID,
	PW_ARGON2I,
	PW_DES_CRYPT,
	PW_MD5_CRYPT,
	PW_APR1,
	PW_SHA256_CRYPT,
	PW_SHA512_CRYPT,
	PW_BCRYPT,
	PW_SHA1,        /* {SHA} */
	PW_SSHA1,       /* {SSHA} */
	PW_SHA256,      /* {SHA256} */
	PW_SSHA256,     /* {SSHA256} */
	PW_SHA512,      /* {SHA512} */
	PW_SSHA512,     /* {SSHA512} */
	PW_MD5,         /* {PLAIN-MD5} / {LDAP-MD5} */
	PW_SMD5,        /* {SMD5} */
	PW_PLAIN,       /* {PLAIN} / {CLEARTEXT}: import hashes it at once */
	PW_VMSEAL_ARGON2ID,     /* $vmseal-argon2id$ (pw_hash_key) */
	PW_SCHEME_COUNT
};

struct pw_cost {
	uint64_t opslimit;
	size_t memlimit;        /* bytes */
};

/* Default cost of user password hashes: OWASP's Argon2id minimum,
 * m = 19 MiB, t = 2, p = 1. */
#define PW_DEFAULT_OPSLIMIT 2
#define PW_DEFAULT_MEMLIMIT (19u * 1024u * 1024u)

/* Cost caps of stored hashes (see above).  bcrypt: cost (log2 rounds) at
 * most 14 (about a second on one core; 31 is days).  SHA-crypt ($5$, $6$):
 * at most 100000 rounds (libxcrypt accepts up to 999999999).  Argon2
 * (both variants): m at most 1 GiB, t at most 16, and m x t at most
 * 4 GiB, libsodium's SENSITIVE (t = 4, m = 1 GiB) - so a hash at the cap
 * costs a worker a few seconds and 1 GiB at worst. */
#define PW_BCRYPT_COST_MAX 14
#define PW_SHACRYPT_ROUNDS_MAX 100000UL
#define PW_ARGON2_MEM_MAX ((uint64_t)1 << 30)          /* bytes */
#define PW_ARGON2_T_MAX 16
#define PW_ARGON2_WORK_MAX ((uint64_t)4 << 30)         /* bytes x passes */

/* The scheme of a stored hash string, from its prefix and shape only
 * (PW_UNKNOWN if none matches).  Does not validate the whole string. */
enum pw_scheme pw_identify(const char *stored);

/* A fixed display name: "argon2id", "des-crypt", "md5-crypt", "apr1",
 * "sha256-crypt", "sha512-crypt", "bcrypt", "sha1", "ssha1", ... */
const char *pw_scheme_name(enum pw_scheme s);

/* Check that a stored hash is well formed for a scheme we can verify
 * (used by import).  Returns VS_OK and *scheme_r, or VS_EINVAL with a reason
 * that does not quote the hash. PW_PLAIN is returned as valid. */
int pw_check_format(const char *stored, enum pw_scheme *scheme_r,
    struct vs_err *err);

/* Hash a password with Argon2id at the given cost into out (PW_HASH_MAX
 * bytes).  Returns VS_OK, VS_EINVAL (cost out of libsodium's range,
 * password too long) or VS_ENOMEM. */
int pw_hash(const char *password, size_t len, const struct pw_cost *cost,
    char out[PW_HASH_MAX], struct vs_err *err);

/* Check the cost of a well-formed stored hash against the caps (Argon2
 * caps raised to *own, the store's Argon2id cost, unless own is NULL).
 * Computes nothing.  VS_OK; VS_ELIMIT when over a cap, with the scheme,
 * the parameter and the cap in err ("bcrypt password hash too costly to
 * verify: cost 31, over the limit of 14"); VS_EINVAL when malformed (as
 * pw_check_format).  {PLAIN} is VS_OK (import hashes it at the store's
 * cost). */
int pw_check_cost(const char *stored, const struct pw_cost *own,
    struct vs_err *err);

/* Verify a password against a stored hash of any supported scheme.
 * Returns 1 on match, 0 on mismatch, or a negative VS_* code
 * (VS_EINVAL: unknown or malformed hash, {PLAIN}, or a password longer
 * than PW_PASSWORD_MAX; VS_ELIMIT: the hash is over the cost caps and
 * was not computed; VS_ENOMEM: Argon2id or crypt could not allocate).
 * pw_verify() applies the fixed caps; pw_verify_capped() raises the
 * Argon2 caps to *own (the store's cost; NULL: the fixed caps). */
int pw_verify(const char *stored, const char *password, size_t len,
    struct vs_err *err);
int pw_verify_capped(const char *stored, const char *password, size_t len,
    const struct pw_cost *own, struct vs_err *err);

/* True when the stored hash is not Argon2id at exactly the given cost
 * (libsodium's crypto_pwhash_str_needs_rehash), i.e. a successful login
 * should re-hash the password at the store's current setting. */
bool pw_needs_upgrade(const char *stored, const struct pw_cost *cost);

/*
 * The "$vmseal-argon2id$" form (lib/pwhash_key.c): one Argon2id whose
 * output R gives both the stored verifier and a 32-byte key, never
 * stored (crypto_kdf subkeys 1 and 2 of R, context "vmsealpw").  Users
 * whose mail key is in "password" protection have such a hash; the key
 * wraps their mail private key (lib/mailwrap.h).
 */
#define PWK_PREFIX "$vmseal-argon2id$"
#define PW_WRAPKEY_BYTES 32
/* Hash a password in that form at the given cost (out: PW_HASH_MAX),
 * and its key into key_r.  VS_EINVAL (cost out of range, password too
 * long), VS_ENOMEM. */
int pw_hash_key(const char *password, size_t len, const struct pw_cost *cost,
    char out[PW_HASH_MAX], uint8_t key_r[PW_WRAPKEY_BYTES],
    struct vs_err *err);
/* pw_verify_capped() for any stored hash; for a $vmseal-argon2id$ one
 * that matches, also its key (*have_key_r true, key_r filled; else
 * key_r untouched or wiped). */
int pw_verify_key(const char *stored, const char *password, size_t len,
    const struct pw_cost *own, uint8_t key_r[PW_WRAPKEY_BYTES],
    bool *have_key_r, struct vs_err *err);

#endif
