/*
 * pwhash_legacy.c - verification of the legacy password hashes an import
 * brings (pwhash.h): the crypt(3) forms through libxcrypt, Apache's apr1
 * (MD5-crypt with its own magic), and the {SCHEME} digests of Dovecot's
 * and LDAP's password files (plain, salted, SHA-1/SHA-2/MD5).
 *
 * Security stance: only called by pw_verify_capped() in pwhash.c, after
 * the stored string passed the strict shape check and the cost caps
 * there; computed and stored digests are compared with sodium_memcmp(),
 * every buffer that held password-derived data is wiped, and errors carry
 * the scheme's name and a fixed reason, never the hash or the password.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <crypt.h>
#include <sodium.h>

#include "digest.h"
#include "pwhash.h"
#include "pwhash_int.h"

/* The crypt(3) forms, through libxcrypt. */
int
pwi_verify_crypt(const char *body, enum pw_scheme s, const char *pw, size_t len,
    struct vs_err *err)
{
	char cpw[PW_PASSWORD_MAX + 1];
	struct crypt_data *cd;
	const char *out;
	size_t n;
	int r;

	/* crypt(3) takes a C string: a password with a NUL in it would be
	 * cut short and could match the hash of its prefix. */
	if (len > 0 && memchr(pw, '\0', len) != NULL)
		return 0;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	memcpy(cpw, pw, len);
	cpw[len] = '\0';
	errno = 0;
	out = crypt_rn(cpw, body, cd, (int)sizeof(*cd));
	if (out == NULL) {
		r = errno == ENOMEM ?
		    vs_fail(err, VS_ENOMEM, "out of memory") :
		    vs_fail(err, VS_EINVAL, "%s password hash refused by crypt",
		    pw_scheme_name(s));
	} else {
		n = strlen(body);
		r = strlen(out) == n && sodium_memcmp(out, body, n) == 0;
	}
	sodium_memzero(cpw, sizeof(cpw));
	sodium_memzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

static void
to64(char *dst, uint32_t v, int n)
{
	while (n-- > 0) {
		*dst++ = pwi_crypt64[v & 0x3f];
		v >>= 6;
	}
}

/*
 * The md5-crypt algorithm (Poul-Henning Kamp's, as Apache's $apr1$ uses it
 * with its own magic), writing the 22-character hash into out.
 */
static void
md5crypt_hash(const char *pw, size_t len, const char *magic,
    const char *salt, size_t saltlen, char out[MD5CRYPT_HASH_LEN])
{
	static const uint8_t order[5][3] = {
		{ 0, 6, 12 }, { 1, 7, 13 }, { 2, 8, 14 }, { 3, 9, 15 },
		{ 4, 10, 5 },
	};
	static const uint8_t zero = 0;
	struct digest_md5 ctx, alt;
	uint8_t fin[DIGEST_MD5_LEN];
	size_t i;
	int j;

	digest_md5_init(&alt);
	digest_md5_update(&alt, pw, len);
	digest_md5_update(&alt, salt, saltlen);
	digest_md5_update(&alt, pw, len);
	digest_md5_final(&alt, fin);

	digest_md5_init(&ctx);
	digest_md5_update(&ctx, pw, len);
	digest_md5_update(&ctx, magic, strlen(magic));
	digest_md5_update(&ctx, salt, saltlen);
	for (i = len; i > 0; i -= i > DIGEST_MD5_LEN ? DIGEST_MD5_LEN : i)
		digest_md5_update(&ctx, fin,
		    i > DIGEST_MD5_LEN ? DIGEST_MD5_LEN : i);
	/* For each bit of the length, low first: a zero byte for a 1 bit,
	 * the password's first byte for a 0 bit. */
	for (i = len; i > 0; i >>= 1)
		digest_md5_update(&ctx, (i & 1) ? (const void *)&zero :
		    (const void *)pw, 1);
	digest_md5_final(&ctx, fin);

	for (i = 0; i < 1000; i++) {
		digest_md5_init(&ctx);
		if (i & 1)
			digest_md5_update(&ctx, pw, len);
		else
			digest_md5_update(&ctx, fin, sizeof(fin));
		if (i % 3)
			digest_md5_update(&ctx, salt, saltlen);
		if (i % 7)
			digest_md5_update(&ctx, pw, len);
		if (i & 1)
			digest_md5_update(&ctx, fin, sizeof(fin));
		else
			digest_md5_update(&ctx, pw, len);
		digest_md5_final(&ctx, fin);
	}

	for (j = 0; j < 5; j++)
		to64(out + 4 * j, (uint32_t)fin[order[j][0]] << 16 |
		    (uint32_t)fin[order[j][1]] << 8 | fin[order[j][2]], 4);
	to64(out + 20, fin[11], 2);
	sodium_memzero(fin, sizeof(fin));
}

int
pwi_verify_apr1(const char *body, const char *pw, size_t len)
{
	char calc[MD5CRYPT_HASH_LEN];
	const char *salt, *hash;
	size_t saltlen;
	int r;

	salt = body + strlen("$apr1$");
	saltlen = pwi_field_len(salt);
	hash = salt + saltlen + 1;	/* check() saw the '$' */
	md5crypt_hash(pw, len, "$apr1$", salt, saltlen, calc);
	r = sodium_memcmp(calc, hash, MD5CRYPT_HASH_LEN) == 0;
	sodium_memzero(calc, sizeof(calc));
	return r;
}

/* {SHA} {SSHA} {SHA256} ... {SMD5}: digest(password || salt). */
int
pwi_verify_digest(const char *body, enum pw_scheme s, const char *pw,
    size_t len)
{
	uint8_t raw[RAW_MAX], calc[crypto_hash_sha512_BYTES];
	union {
		struct digest_md5 md5;
		struct digest_sha1 sha1;
		crypto_hash_sha256_state sha256;
		crypto_hash_sha512_state sha512;
	} ctx;
	const uint8_t *salt;
	size_t dlen, rawlen, saltlen;
	bool salted;
	int r;

	dlen = pwi_digest_len(s, &salted);
	if (pwi_decode_digest(s, body, raw, &rawlen) != NULL) {
		sodium_memzero(raw, sizeof(raw));
		return 0;	/* not reached: check() decoded it already */
	}
	salt = raw + dlen;
	saltlen = rawlen - dlen;

	switch (s) {
	case PW_SHA1:
	case PW_SSHA1:
		digest_sha1_init(&ctx.sha1);
		digest_sha1_update(&ctx.sha1, pw, len);
		digest_sha1_update(&ctx.sha1, salt, saltlen);
		digest_sha1_final(&ctx.sha1, calc);
		break;
	case PW_SHA256:
	case PW_SSHA256:
		crypto_hash_sha256_init(&ctx.sha256);
		crypto_hash_sha256_update(&ctx.sha256, (const void *)pw, len);
		crypto_hash_sha256_update(&ctx.sha256, salt, saltlen);
		crypto_hash_sha256_final(&ctx.sha256, calc);
		break;
	case PW_SHA512:
	case PW_SSHA512:
		crypto_hash_sha512_init(&ctx.sha512);
		crypto_hash_sha512_update(&ctx.sha512, (const void *)pw, len);
		crypto_hash_sha512_update(&ctx.sha512, salt, saltlen);
		crypto_hash_sha512_final(&ctx.sha512, calc);
		break;
	default:		/* PW_MD5, PW_SMD5 */
		digest_md5_init(&ctx.md5);
		digest_md5_update(&ctx.md5, pw, len);
		digest_md5_update(&ctx.md5, salt, saltlen);
		digest_md5_final(&ctx.md5, calc);
		break;
	}
	r = sodium_memcmp(calc, raw, dlen) == 0;
	sodium_memzero(&ctx, sizeof(ctx));
	sodium_memzero(calc, sizeof(calc));
	sodium_memzero(raw, sizeof(raw));
	return r;
}
