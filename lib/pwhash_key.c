/*
 * pwhash_key.c - the "$vmseal-argon2id$" password hash: one Argon2id that
 * both verifies a password and yields a 32-byte key (the key that wraps a
 * user's mail private key in "password" protection, lib/mailwrap.h).
 *
 * Form: $vmseal-argon2id$v=19$m=M,t=T,p=1$SALT$VERIFIER
 *   M in KiB, T passes, one lane (libsodium's Argon2id); SALT 16 random
 *   bytes and VERIFIER 32 bytes, both base64 without padding (the
 *   alphabet of $argon2id$ strings).
 * Computation: R = Argon2id(password, SALT, T, M) (32 bytes), then with
 *   libsodium's crypto_kdf (BLAKE2b keyed with R, context "vmsealpw"):
 *   VERIFIER = subkey 1 of R, the wrap key = subkey 2 of R.
 * Why not a standard $argon2id$ string: it stores Argon2id's whole
 * output, so any key derived from that output could be derived from the
 * stored hash.  Here the stored verifier and the wrap key are two
 * independent PRF outputs of R; R and the wrap key are never stored.
 *
 * Parsing, cost caps and the dispatch live in pwhash.c (scheme
 * PW_VMSEAL_ARGON2ID); this file checks the shape and computes.
 *
 * Security: the verifier is compared with sodium_memcmp; R, the verifier
 * and every scratch copy are wiped; messages never quote the hash.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pwhash.h"
#include "pwhash_int.h"

#define PWK_SALT_BYTES 16
#define PWK_VERIFIER_BYTES 32
static const char pwk_ctx[crypto_kdf_CONTEXTBYTES] = { 'v', 'm', 's', 'e',
    'a', 'l', 'p', 'w' };

static const char *
parse_ul(const char *s, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return NULL;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno != 0 || *v > 0xffffffffUL)
		return NULL;
	return end;
}

/* Split a body (from "$vmseal-argon2id$") into its cost, salt and
 * verifier.  NULL when well formed, else a fixed reason. */
static const char *
parse(const char *s, unsigned long *m, unsigned long *t,
    uint8_t salt[PWK_SALT_BYTES], uint8_t ver[PWK_VERIFIER_BYTES])
{
	const char *q = s, *end;
	unsigned long p;
	size_t n, got;

	if (strncmp(q, PWK_PREFIX, strlen(PWK_PREFIX)) != 0)
		return "not a vmseal-argon2id hash";
	q += strlen(PWK_PREFIX);
	if (strncmp(q, "v=19$m=", 7) != 0 || (q = parse_ul(q + 7, m)) == NULL ||
	    strncmp(q, ",t=", 3) != 0 || (q = parse_ul(q + 3, t)) == NULL ||
	    strncmp(q, ",p=", 3) != 0 || (q = parse_ul(q + 3, &p)) == NULL ||
	    *q != '$')
		return "bad parameters";
	if (p != 1 || *t < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    (uint64_t)*m * 1024 < crypto_pwhash_argon2id_MEMLIMIT_MIN)
		return "bad parameters";
	q++;
	n = pwi_field_len(q);
	if (sodium_base642bin(salt, PWK_SALT_BYTES, q, n, NULL, &got, &end,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
	    end != q + n || got != PWK_SALT_BYTES)
		return "bad salt";
	q += n;
	if (*q++ != '$')
		return "missing verifier";
	n = strlen(q);
	if (sodium_base642bin(ver, PWK_VERIFIER_BYTES, q, n, NULL, &got, &end,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
	    end != q + n || got != PWK_VERIFIER_BYTES)
		return "bad verifier";
	return NULL;
}

const char *
pwi_key_check(const char *body)
{
	uint8_t salt[PWK_SALT_BYTES], ver[PWK_VERIFIER_BYTES];
	unsigned long m, t;
	const char *why = parse(body, &m, &t, salt, ver);

	sodium_memzero(ver, sizeof(ver));
	return why;
}

int
pwi_key_params(const char *body, unsigned long *m, unsigned long *t)
{
	uint8_t salt[PWK_SALT_BYTES], ver[PWK_VERIFIER_BYTES];
	const char *why = parse(body, m, t, salt, ver);

	sodium_memzero(ver, sizeof(ver));
	return why == NULL ? VS_OK : VS_EINVAL;
}

/* R -> verifier and wrap key; R wiped by the caller. */
static void
derive(const uint8_t r[32], uint8_t ver[PWK_VERIFIER_BYTES],
    uint8_t key[PW_WRAPKEY_BYTES])
{
	crypto_kdf_derive_from_key(ver, PWK_VERIFIER_BYTES, 1, pwk_ctx, r);
	if (key != NULL)
		crypto_kdf_derive_from_key(key, PW_WRAPKEY_BYTES, 2, pwk_ctx,
		    r);
}

static int
argon(const char *pw, size_t len, const uint8_t salt[PWK_SALT_BYTES],
    unsigned long long t, size_t mem, uint8_t r[32], struct vs_err *err)
{
	if (crypto_pwhash(r, 32, pw == NULL ? "" : pw, len, salt, t, mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return vs_fail(err, VS_ENOMEM, "argon2id: cannot allocate "
		    "the memory cost");
	return VS_OK;
}

int
pwi_key_verify(const char *body, const char *pw, size_t len,
    uint8_t *key_r, struct vs_err *err)
{
	uint8_t salt[PWK_SALT_BYTES], ver[PWK_VERIFIER_BYTES];
	uint8_t mine[PWK_VERIFIER_BYTES], r[32];
	unsigned long m, t;
	int rc;

	if (parse(body, &m, &t, salt, ver) != NULL)
		return vs_fail(err, VS_EINVAL, "malformed vmseal-argon2id "
		    "password hash");
	rc = argon(pw, len, salt, t, (size_t)m * 1024, r, err);
	if (rc == VS_OK) {
		derive(r, mine, key_r);
		rc = sodium_memcmp(mine, ver, sizeof(ver)) == 0 ? 1 : 0;
		if (rc != 1 && key_r != NULL)
			sodium_memzero(key_r, PW_WRAPKEY_BYTES);
	}
	sodium_memzero(r, sizeof(r));
	sodium_memzero(mine, sizeof(mine));
	sodium_memzero(ver, sizeof(ver));
	return rc;
}

bool
pwi_key_needs_upgrade(const char *body, const struct pw_cost *cost)
{
	unsigned long m, t;

	if (pwi_key_params(body, &m, &t) != VS_OK)
		return true;
	return (uint64_t)t != cost->opslimit ||
	    (uint64_t)m * 1024 != (uint64_t)cost->memlimit;
}

int
pw_hash_key(const char *password, size_t len, const struct pw_cost *cost,
    char out[PW_HASH_MAX], uint8_t key_r[PW_WRAPKEY_BYTES],
    struct vs_err *err)
{
	uint8_t salt[PWK_SALT_BYTES], ver[PWK_VERIFIER_BYTES], r[32];
	char s64[sodium_base64_ENCODED_LEN(PWK_SALT_BYTES,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	char v64[sodium_base64_ENCODED_LEN(PWK_VERIFIER_BYTES,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	int rc, n;

	if (len > PW_PASSWORD_MAX)
		return vs_fail(err, VS_EINVAL, "password too long (over %d "
		    "bytes)", PW_PASSWORD_MAX);
	if (cost->opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    cost->opslimit > PW_ARGON2_T_MAX * 1024ULL ||
	    cost->memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
	    cost->memlimit % 1024 != 0 ||
	    (uint64_t)cost->memlimit > ((uint64_t)1 << 42))
		return vs_fail(err, VS_EINVAL, "argon2id cost out of range");
	randombytes_buf(salt, sizeof(salt));
	rc = argon(password, len, salt, cost->opslimit, cost->memlimit, r, err);
	if (rc != VS_OK)
		return rc;
	derive(r, ver, key_r);
	sodium_bin2base64(s64, sizeof(s64), salt, sizeof(salt),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_bin2base64(v64, sizeof(v64), ver, sizeof(ver),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	n = snprintf(out, PW_HASH_MAX, "%sv=19$m=%llu,t=%llu,p=1$%s$%s",
	    PWK_PREFIX, (unsigned long long)(cost->memlimit / 1024),
	    (unsigned long long)cost->opslimit, s64, v64);
	sodium_memzero(r, sizeof(r));
	sodium_memzero(ver, sizeof(ver));
	sodium_memzero(v64, sizeof(v64));
	if (n < 0 || n >= PW_HASH_MAX) {
		sodium_memzero(out, PW_HASH_MAX);
		sodium_memzero(key_r, PW_WRAPKEY_BYTES);
		return vs_fail(err, VS_EINVAL, "argon2id cost out of range");
	}
	return VS_OK;
}

int
pw_verify_key(const char *stored, const char *password, size_t len,
    const struct pw_cost *own, uint8_t key_r[PW_WRAPKEY_BYTES],
    bool *have_key_r, struct vs_err *err)
{
	int r;

	*have_key_r = false;
	if (pw_identify(stored) != PW_VMSEAL_ARGON2ID)
		return pw_verify_capped(stored, password, len, own, err);
	if (password == NULL)
		password = "";
	if (len > PW_PASSWORD_MAX)
		return vs_fail(err, VS_EINVAL, "password too long (over %d "
		    "bytes)", PW_PASSWORD_MAX);
	if ((r = pw_check_cost(stored, own, err)) != VS_OK)
		return r;
	r = pwi_key_verify(stored, password, len, key_r, err);
	*have_key_r = r == 1;
	return r;
}
