/*
 * test_pwhash.c - unit tests for lib/digest.c and lib/pwhash.c.
 *
 * MD5 and SHA-1 are checked against RFC 1321 / FIPS 180 (RFC 3174) vectors
 * and against one-shot vs. chunked input.  Every pwhash scheme is checked
 * against known-answer vectors made by outside tools (mkpasswd, htpasswd,
 * openssl passwd, doveadm pw; see fixtures/pwhash_vectors.txt) plus an
 * inline table of edge cases, against malformed hashes, and against random
 * hashes made here with libxcrypt.  Argon2 hashes made here use libsodium's
 * minimum cost so the test stays fast.  The cost caps (pw_check_cost) are
 * checked at and just over each cap, with and without the store's own
 * Argon2id cost, and an over-cap hash must be refused without computing.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <crypt.h>
#include <sodium.h>

#include "digest.h"
#include "pwhash.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "."
#endif
#define VECTORS_FILE TEST_SRCDIR "/fixtures/pwhash_vectors.txt"

static const struct pw_cost cheap = {
	crypto_pwhash_argon2id_OPSLIMIT_MIN,
	crypto_pwhash_argon2id_MEMLIMIT_MIN,
};

/* ---- digest.h ---- */

struct digest_vector {
	const char *msg;
	size_t repeat;		/* msg is fed this many times */
	const char *md5;	/* hex, or NULL */
	const char *sha1;	/* hex, or NULL */
};

static const struct digest_vector digest_vectors[] = {
	/* RFC 1321 appendix A.5 (and FIPS 180 / RFC 3174 for SHA-1) */
	{ "", 1, "d41d8cd98f00b204e9800998ecf8427e",
	    "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	{ "a", 1, "0cc175b9c0f1b6a831c399e269772661", NULL },
	{ "abc", 1, "900150983cd24fb0d6963f7d28e17f72",
	    "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ "message digest", 1, "f96b697d7cb7938d525a2f31aaf161d0", NULL },
	{ "abcdefghijklmnopqrstuvwxyz", 1,
	    "c3fcd3d76192e4007dfb496cca67e13b", NULL },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 1,
	    "d174ab98d277d9f5a5611c2c9f419d9f", NULL },
	{ "1234567890", 8, "57edf4a22be3c955ac49da2e2107b67a", NULL },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, NULL,
	    "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 1, NULL,
	    "a49b2446a02c645bf419f995b67091253a04a259" },
	{ "0123456701234567012345670123456701234567012345670123456701234567",
	    10, NULL, "dea356a2cddd90c7a7ecedc5ebb563934f460452" },
	{ "a", 1000000, "7707d6ae4e027c70eea2a935c2296f21",
	    "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
};

/* Digests of bytes (7 * i + 3) mod 256, i < n, around the padding
 * boundaries (reference values from Python's hashlib). */
static const struct {
	size_t n;
	const char *md5, *sha1;
} boundary_vectors[] = {
	{ 55, "52c0e574e1198de5fe3f8f11440dcb1b",
	    "ddf57317ef34bfee3b6df83d359098930eb278bc" },
	{ 56, "46c9907fc908ee68b1e7b8e71286a518",
	    "a0d492bb0fc889d0eca3bc137066ab6f4f74f369" },
	{ 57, "1c805dd236c35cab25fcb1bc73802c51",
	    "11a02dcf95859677a62e75024067c22b165d890f" },
	{ 63, "a62f6d59e837867693f042f5b8f5a236",
	    "c55856749bef509bdfe6bfebfc7bf4e793e82132" },
	{ 64, "7160b8fb5e9e4023d549c3971fbaeead",
	    "bede92be29c3874e1b54ddc77988d606fc857a8e" },
	{ 65, "70bd662e7aefbda85a0f7244167b7897",
	    "b05a80522b053d6dc7e0a517d0e70212c7dad11f" },
	{ 119, "e84905d4214f4d1ca56c2cdcc152b143",
	    "504e27376a6e0f0dba8295b85cb25dc4dfa17d23" },
	{ 120, "e3eb5a6c8669ea01a8c185b8abc8a5dc",
	    "82134b02fb3f702491be9bed581eeab59334acb2" },
	{ 128, "10b2da1a82f16d99a81a7203fe9f02cb",
	    "a09133e6730ffe899efb70204cb5646cd5dc24ee" },
};

static void
hex(char *out, const uint8_t *in, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void
test_digest_vectors(void **state)
{
	struct digest_md5 m;
	struct digest_sha1 s;
	uint8_t md[DIGEST_SHA1_LEN];
	char h[2 * DIGEST_SHA1_LEN + 1];
	size_t i, j, n;

	(void)state;
	for (i = 0; i < sizeof(digest_vectors) / sizeof(digest_vectors[0]);
	    i++) {
		const struct digest_vector *v = &digest_vectors[i];

		n = strlen(v->msg);
		if (v->md5 != NULL) {
			digest_md5_init(&m);
			for (j = 0; j < v->repeat; j++)
				digest_md5_update(&m, v->msg, n);
			digest_md5_final(&m, md);
			hex(h, md, DIGEST_MD5_LEN);
			assert_string_equal(h, v->md5);
			/* _final wipes the context */
			assert_true(all_zero(&m, sizeof(m)));
		}
		if (v->sha1 != NULL) {
			digest_sha1_init(&s);
			for (j = 0; j < v->repeat; j++)
				digest_sha1_update(&s, v->msg, n);
			digest_sha1_final(&s, md);
			hex(h, md, DIGEST_SHA1_LEN);
			assert_string_equal(h, v->sha1);
			assert_true(all_zero(&s, sizeof(s)));
		}
	}
}

static void
test_digest_boundaries(void **state)
{
	uint8_t msg[128], md[DIGEST_SHA1_LEN];
	char h[2 * DIGEST_SHA1_LEN + 1];
	struct digest_md5 m;
	struct digest_sha1 s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(7 * i + 3);
	for (i = 0; i < sizeof(boundary_vectors) / sizeof(boundary_vectors[0]);
	    i++) {
		digest_md5_init(&m);
		digest_md5_update(&m, msg, boundary_vectors[i].n);
		digest_md5_final(&m, md);
		hex(h, md, DIGEST_MD5_LEN);
		assert_string_equal(h, boundary_vectors[i].md5);

		digest_sha1_init(&s);
		digest_sha1_update(&s, msg, boundary_vectors[i].n);
		digest_sha1_final(&s, md);
		hex(h, md, DIGEST_SHA1_LEN);
		assert_string_equal(h, boundary_vectors[i].sha1);
	}
}

/* Any split of the input into two or more updates gives the same digest. */
static void
test_digest_chunking(void **state)
{
	uint8_t msg[200], ref_m[DIGEST_MD5_LEN], ref_s[DIGEST_SHA1_LEN];
	uint8_t md[DIGEST_SHA1_LEN];
	struct digest_md5 m;
	struct digest_sha1 s;
	size_t cut, step, off, n;

	(void)state;
	for (off = 0; off < sizeof(msg); off++)
		msg[off] = (uint8_t)(off * 31 + 1);
	digest_md5_init(&m);
	digest_md5_update(&m, msg, sizeof(msg));
	digest_md5_final(&m, ref_m);
	digest_sha1_init(&s);
	digest_sha1_update(&s, msg, sizeof(msg));
	digest_sha1_final(&s, ref_s);

	for (cut = 0; cut <= sizeof(msg); cut++) {
		digest_md5_init(&m);
		digest_md5_update(&m, msg, cut);
		digest_md5_update(&m, NULL, 0);
		digest_md5_update(&m, msg + cut, sizeof(msg) - cut);
		digest_md5_final(&m, md);
		assert_memory_equal(md, ref_m, DIGEST_MD5_LEN);

		digest_sha1_init(&s);
		digest_sha1_update(&s, msg, cut);
		digest_sha1_update(&s, NULL, 0);
		digest_sha1_update(&s, msg + cut, sizeof(msg) - cut);
		digest_sha1_final(&s, md);
		assert_memory_equal(md, ref_s, DIGEST_SHA1_LEN);
	}
	for (step = 1; step <= 70; step++) {
		digest_md5_init(&m);
		digest_sha1_init(&s);
		for (off = 0; off < sizeof(msg); off += n) {
			n = sizeof(msg) - off < step ? sizeof(msg) - off : step;
			digest_md5_update(&m, msg + off, n);
			digest_sha1_update(&s, msg + off, n);
		}
		digest_md5_final(&m, md);
		assert_memory_equal(md, ref_m, DIGEST_MD5_LEN);
		digest_sha1_final(&s, md);
		assert_memory_equal(md, ref_s, DIGEST_SHA1_LEN);
	}
}

/* ---- pwhash.h: known-answer vectors ---- */

struct vector {
	const char *scheme;	/* pw_scheme_name() of the expected scheme */
	const char *password;	/* NULL: unknown */
	size_t pwlen;		/* 0: strlen(password) */
	const char *hash;
};

/* Edge cases not in the fixture file. */
static const struct vector inline_vectors[] = {
	/* the seed's DES hashes (ron, alice); passwords unknown */
	{ "des-crypt", NULL, 0, "hLILWelxS7E82" },
	{ "des-crypt", NULL, 0, "ildPSIfh7EkT2" },
	{ "des-crypt", NULL, 0, "{CRYPT}hLILWelxS7E82" },
	/* $apr1$: empty salt, empty password, lengths around 16 (the
	 * "alternate sum" loop) and well past it (openssl, htpasswd) */
	{ "apr1", "x", 0, "$apr1$$jYtXyIcDHukcQfHjblNhq/" },
	{ "apr1", "", 0, "$apr1$O9fbAJQL$vvBNhs.bqZZ2tVcueLznN/" },
	{ "apr1", "0123456789abcdef", 0,
	    "$apr1$abcdefgh$sxHfOFLANAYXeGF./FBFh." },
	{ "apr1", "0123456789abcdefg", 0,
	    "$apr1$abcdefgh$1EmOoQBtUQ/xoE6y2eLUr/" },
	{ "apr1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0,
	    "$apr1$abcdefgh$COrQNGqQYYp2Us5yxs36l0" },
	{ "apr1",
	    "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP"
	    "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP"
	    "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP", 0,
	    "$apr1$zZ./$z0EByNp4sx.ekBYL5LhCm0" },	/* 200 bytes */
	/* empty password through crypt(3) and the salted digests */
	{ "md5-crypt", "", 0, "$1$80nN/6LS$1j0XY1bUpEEXSW62CHTGd0" },
	{ "ssha512", "", 0,
	    "{SSHA512}cius4SnQc+FqOzO0euTvnGZes7tEPbaWIVW5dEjR5Jfrmrx6tzcG4Dq8o"
	    "ZNEuSG8tWs5TL0VcBgnVo5wnmz/1mzYh4g=" },
	/* a 32-byte salt */
	{ "ssha1", "pw", 0,
	    "{SSHA}uoTX+orhJ5kbrXHMb55swgg1eeZzYWx0c2FsdHNhbHRzYWx0c2FsdHNhbHRz"
	    "YWx0c2FsdA==" },
	/* passwords with a NUL byte are hashed whole by the digests */
	{ "sha1", "a\0b", 3, "{SHA}Sj3sLR+CRSgIVcQtsO5COfkX/bg=" },
	{ "sha256", "a\0b", 3,
	    "{SHA256}WbJxrhu8sdMdQZKYF/Sxb7Q5608xUgta0dXOmJIKcTg=" },
	/* {MD5} is MD5-CRYPT in Dovecot, but also takes a PLAIN-MD5 digest */
	{ "md5", "secret", 0, "{MD5}5ebe2294ecd0e0f08eab7690d2a6ee69" },
	{ "md5", "secret", 0, "{md5}Xr4ilOzQ4PCOq3aQ0qbuaQ==" },
	{ "md5-crypt", "secret", 0,
	    "{MD5}$1$RmJ8.gJM$cGjYbUcVQKODE/J5I5rxW/" },
	/* prefix spellings */
	{ "sha1", "secret", 0, "{sHa}5en6G6MezRroT3XKqkdPOmY/BfQ=" },
	{ "sha1", "secret", 0, "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=" },
	{ "sha1", "secret", 0, "{sha1}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4" },
	{ "sha1", "secret", 0, "{SHA}E5E9FA1BA31ECD1AE84F75CAAA474F3A663F05F4" },
	{ "sha512-crypt", "abc", 0,
	    "{sha512-crypt}$6$2P9NQEe7wLb/10YH$/qlM2HhAsBI4qsAsPEgH5.PXfLxdpCujvv"
	    "GES9VjuEhxinxRe55/YJQ/r40oS7xV3x/DOE5d45fKyeoUT6Ru3." },
	{ "argon2id", "secret", 0,
	    "{argon2id}$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$"
	    "vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4" },
};

static size_t
vec_pwlen(const struct vector *v)
{
	return v->pwlen != 0 ? v->pwlen : strlen(v->password);
}

/* How many leading password bytes the scheme looks at (0: all). */
static size_t
scheme_pw_limit(const char *scheme)
{
	if (strcmp(scheme, "des-crypt") == 0)
		return 8;
	if (strcmp(scheme, "bcrypt") == 0)
		return 72;
	return 0;
}

/* A hash with one character changed near the end must not verify. */
static void
check_mutation(const struct vector *v, size_t from_end, const char *where)
{
	char mut[PW_HASH_MAX];
	struct vs_err err;
	size_t n = strlen(v->hash);
	int r;

	if (from_end >= n)
		return;
	memcpy(mut, v->hash, n + 1);
	if (mut[n - 1 - from_end] == '=')
		return;		/* padding: cannot be changed meaningfully */
	/* 'a' -> 'A' would be no change in a hex digest */
	mut[n - 1 - from_end] = (mut[n - 1 - from_end] == 'A' ||
	    mut[n - 1 - from_end] == 'a') ? 'B' : 'A';
	if (strcmp(mut, v->hash) == 0)
		return;
	vs_err_clear(&err);
	r = pw_verify(mut, v->password, vec_pwlen(v), &err);
	if (r == 1)
		fail_msg("%s: a hash with one changed character verified",
		    where);
}

static void
check_vector(const struct vector *v, const char *where)
{
	char pw[PW_PASSWORD_MAX + 2];
	enum pw_scheme s = PW_SCHEME_COUNT;
	struct vs_err err;
	size_t len, limit;
	int r;

	if (strcmp(pw_scheme_name(pw_identify(v->hash)), v->scheme) != 0)
		fail_msg("%s: identified as %s, expected %s", where,
		    pw_scheme_name(pw_identify(v->hash)), v->scheme);
	vs_err_clear(&err);
	r = pw_check_format(v->hash, &s, &err);
	if (r != VS_OK)
		fail_msg("%s: check_format %d (%s)", where, r, err.msg);
	if (strcmp(pw_scheme_name(s), v->scheme) != 0)
		fail_msg("%s: check_format gave %s", where, pw_scheme_name(s));

	/* a password that is nothing like it */
	r = pw_verify(v->hash, "wrong password", 14, &err);
	if (r != 0)
		fail_msg("%s: wrong password gave %d (%s)", where, r, err.msg);
	if (v->password == NULL)
		return;

	len = vec_pwlen(v);
	limit = scheme_pw_limit(v->scheme);
	assert_true(len <= PW_PASSWORD_MAX);
	r = pw_verify(v->hash, v->password, len, &err);
	if (r != 1)
		fail_msg("%s: right password gave %d (%s)", where, r, err.msg);

	/* one character different (the first, low bit: DES uses 7 bits) */
	if (len > 0) {
		memcpy(pw, v->password, len);
		pw[0] ^= 1;
		r = pw_verify(v->hash, pw, len, &err);
		if (r != 0)
			fail_msg("%s: first byte changed gave %d", where, r);
		memcpy(pw, v->password, len);
		pw[len - 1] ^= 1;
		if (limit == 0 || len <= limit) {
			r = pw_verify(v->hash, pw, len, &err);
			if (r != 0)
				fail_msg("%s: last byte changed gave %d",
				    where, r);
		}
	}
	/* one character more */
	if (limit == 0 || len < limit) {
		memcpy(pw, v->password, len);
		pw[len] = 'x';
		r = pw_verify(v->hash, pw, len + 1, &err);
		if (r != 0)
			fail_msg("%s: one byte appended gave %d", where, r);
	}
	/* one character less */
	if (len > 0 && (limit == 0 || len <= limit)) {
		r = pw_verify(v->hash, v->password, len - 1, &err);
		if (r != 0)
			fail_msg("%s: last byte dropped gave %d", where, r);
	}
	check_mutation(v, 0, where);
	check_mutation(v, 4, where);
}

static void
test_fixture_vectors(void **state)
{
	size_t counts[PW_SCHEME_COUNT] = { 0 };
	char line[2048], where[64];
	struct vector v;
	enum pw_scheme s;
	char *tab1, *tab2, *nl;
	unsigned int lineno = 0, nvec = 0;
	FILE *f;

	(void)state;
	f = fopen(VECTORS_FILE, "r");
	if (f == NULL)
		fail_msg("cannot open %s", VECTORS_FILE);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL)
			fail_msg("line %u: too long or unterminated", lineno);
		*nl = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		tab1 = strchr(line, '\t');
		tab2 = tab1 != NULL ? strchr(tab1 + 1, '\t') : NULL;
		if (tab2 == NULL || strchr(tab2 + 1, '\t') != NULL)
			fail_msg("line %u: need three tab-separated fields",
			    lineno);
		*tab1 = *tab2 = '\0';
		v.scheme = line;
		v.password = tab1 + 1;
		v.pwlen = 0;
		v.hash = tab2 + 1;
		snprintf(where, sizeof(where), "%s line %u", "pwhash_vectors.txt",
		    lineno);
		check_vector(&v, where);
		counts[pw_identify(v.hash)]++;
		nvec++;
	}
	fclose(f);
	assert_true(nvec >= 60);
	/* every verifiable scheme has fixture vectors */
	for (s = PW_UNKNOWN + 1; s < PW_PLAIN; s++)
		if (counts[s] < 2)
			fail_msg("scheme %s has %zu fixture vectors",
			    pw_scheme_name(s), counts[s]);
}

static void
test_inline_vectors(void **state)
{
	char where[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(inline_vectors) / sizeof(inline_vectors[0]);
	    i++) {
		snprintf(where, sizeof(where), "inline vector %zu", i);
		check_vector(&inline_vectors[i], where);
	}
}

static void
test_scheme_names(void **state)
{
	enum pw_scheme s, t;

	(void)state;
	assert_string_equal(pw_scheme_name(PW_UNKNOWN), "unknown");
	assert_string_equal(pw_scheme_name(PW_ARGON2ID), "argon2id");
	assert_string_equal(pw_scheme_name(PW_DES_CRYPT), "des-crypt");
	assert_string_equal(pw_scheme_name(PW_MD5_CRYPT), "md5-crypt");
	assert_string_equal(pw_scheme_name(PW_APR1), "apr1");
	assert_string_equal(pw_scheme_name(PW_SHA256_CRYPT), "sha256-crypt");
	assert_string_equal(pw_scheme_name(PW_SHA512_CRYPT), "sha512-crypt");
	assert_string_equal(pw_scheme_name(PW_BCRYPT), "bcrypt");
	assert_string_equal(pw_scheme_name(PW_SHA1), "sha1");
	assert_string_equal(pw_scheme_name(PW_SSHA1), "ssha1");
	assert_string_equal(pw_scheme_name(PW_SCHEME_COUNT), "unknown");
	assert_string_equal(pw_scheme_name((enum pw_scheme)-1), "unknown");
	for (s = PW_UNKNOWN + 1; s < PW_SCHEME_COUNT; s++) {
		assert_non_null(pw_scheme_name(s));
		assert_string_not_equal(pw_scheme_name(s), "unknown");
		for (t = s + 1; t < PW_SCHEME_COUNT; t++)
			assert_string_not_equal(pw_scheme_name(s),
			    pw_scheme_name(t));
	}
	assert_int_equal(pw_identify(NULL), PW_UNKNOWN);
	assert_int_equal(pw_identify(""), PW_UNKNOWN);
}

/* ---- malformed hashes ---- */

static const char *const malformed[] = {
	"",
	/* unknown or broken prefixes */
	"{FOO}5en6G6MezRroT3XKqkdPOmY/BfQ=",
	"{SHA5en6G6MezRroT3XKqkdPOmY/BfQ=",
	"{}5en6G6MezRroT3XKqkdPOmY/BfQ=",
	"{ SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
	"{SHA-1}5en6G6MezRroT3XKqkdPOmY/BfQ=",
	"{AVERYLONGSCHEMENAMEINDEED}5en6G6MezRroT3XKqkdPOmY/BfQ=",
	/* digests: empty, truncated, bad base64, bad hex, wrong sizes */
	"{SHA}",
	"{SHA}5en6G6MezRroT3XKqkdPOmY/Bf==",
	"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ",
	"{SHA}5en6G6MezRroT3XKqkdPOmY/BfR=",
	"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=5en6",
	"{SHA}5en6G6MezRroT3Xk@kdPOmY/BfQ=",
	"{SHA} 5en6G6MezRroT3XKqkdPOmY/BfQ=",
	"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n",
	"{SHA}5en6G6MezRroT3XKqkdPOmY_BfQ=",
	"{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f",
	"{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05fg",
	"{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
	"{SSHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4aa",
	"{SHA256}5en6G6MezRroT3XKqkdPOmY/BfQ=",
	"{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unol==",
	"{SSHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=",
	"{SHA512}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=",
	"{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee6",
	"{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee6z",
	"{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbua===",
	"{SMD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==",
	"{MD5}Xr4ilOzQ4PCOq3aQ0qbu",
	/* DES */
	"hLILWelxS7E8",
	"hLILWelxS7E822",
	"hLILWelxS7E8!",
	"hLILWel S7E82",
	"hLILWelxS7E83",
	"{DES-CRYPT}hLILWelxS7E8",
	/* md5-crypt and apr1 */
	"$1$RmJ8.gJM$cGjYbUcVQKODE/J5I5rxW",
	"$1$RmJ8.gJM$cGjYbUcVQKODE/J5I5rxW/x",
	"$1$RmJ8.gJM$cGjYbUcVQKODE/J5I5rx!/",
	"$1$RmJ8.gJM$cGjYbUcVQKODE/J5I5rxW2",
	"$1$RmJ8.gJMx$cGjYbUcVQKODE/J5I5rxW/",
	"$1$Rm:8.gJM$cGjYbUcVQKODE/J5I5rxW/",
	"$1$RmJ8.gJM",
	"$1$RmJ8.gJM$",
	"$1$",
	"$apr1$zBgP7coC$ZkgeoGB7QUixJmcA1H4IL",
	"$apr1$zBgP7coC$ZkgeoGB7QUixJmcA1H4IL1$",
	"$apr1$zBgP7coC",
	"$apr1$zBgP7coCzz$ZkgeoGB7QUixJmcA1H4IL1",
	/* SHA-crypt */
	"$5$fs3QyrAv4GbhviKz$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJ",
	"$5$fs3QyrAv4GbhviKz$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJ9z",
	"$5$fs3QyrAv4GbhviKz$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJH",
	"$5$fs3QyrAv4GbhviKzX$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJ9",
	"$5$rounds=999$fs3QyrAv4GbhviKz$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJ9",
	"$5$rounds=01000$fs3QyrAv4GbhviKz$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJ9",
	"$5$rounds=1000000000$fs3QyrAv4GbhviKz$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJ9",
	"$5$rounds=$fs3QyrAv4GbhviKz$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJ9",
	"$5$rounds=1000fs3QyrAv4GbhviKz$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJ9",
	"$5$sixteencharsalt!$dVVNTlRGlqN/Z5i.7/.XctbNMZapHLuBCm4mxfnMAPD",
	"$6$3rwCzEKMr5iWYH4F$RS.zfZy1d9pEyfENoEBYQEspT6oCTy7LgUSSMhu.3vcOLHqSelySXMiA89JP46k/fTq6ocJxDBl.jpveSnsJH",
	"$6$3rwCzEKMr5iWYH4F$RS.zfZy1d9pEyfENoEBYQEspT6oCTy7LgUSSMhu.3vcOLHqSelySXMiA89JP46k/fTq6ocJxDBl.jpveSnsJH4",
	"$6$3rwCzEKMr5iWYH4F",
	"!$6$3rwCzEKMr5iWYH4F$RS.zfZy1d9pEyfENoEBYQEspT6oCTy7LgUSSMhu.3vcOLHqSelySXMiA89JP46k/fTq6ocJxDBl.jpveSnsJH0",
	/* bcrypt */
	"$2b$03$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL6",
	"$2b$32$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL6",
	"$2b$5$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL6",
	"$2x$05$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL6",
	"$2$05$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL6",
	"$2b$05$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL",
	"$2b$05$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL6x",
	"$2b$05$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOu+6",
	"$2b$05$.bWEEkU8pkvbmw.BO1ZWCfzJ2.efEesX4X5NMXFLllGEVzePbOuL6",
	"$2b$05$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL7",
	/* argon2 */
	"$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw",
	"$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$",
	"$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4=",
	"$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4$",
	"$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk!",
	"$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRV",
	"$argon2id$v=16$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"$argon2id$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"$argon2id$v=19$m=0,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"$argon2id$v=19$m=65536,t=0,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"$argon2id$v=19$m=65536,t=3$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"$argon2id$v=19$t=3,m=65536,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"$argon2id$v=19$m=99999999999,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"$argon2d$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"$ARGON2ID$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	/* prefix and body that do not agree */
	"{ARGON2ID}$argon2i$v=19$m=32768,t=4,p=1$93/zrcLNDovmnCfwSN30XQ$juDRyY+BUVh3eNuujss4lGpWY75Kw4n6YeLei949Gvw",
	"{ARGON2I}$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"{CRYPT}$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4",
	"{SHA256-CRYPT}$1$RmJ8.gJM$cGjYbUcVQKODE/J5I5rxW/",
	"{SHA512-CRYPT}$5$fs3QyrAv4GbhviKz$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJ9",
	"{DES-CRYPT}$1$RmJ8.gJM$cGjYbUcVQKODE/J5I5rxW/",
	"{MD5-CRYPT}$apr1$zBgP7coC$ZkgeoGB7QUixJmcA1H4IL1",
	"{CRYPT}$apr1$zBgP7coC$ZkgeoGB7QUixJmcA1H4IL1",
	"{BLF-CRYPT}hLILWelxS7E82",
	"{SHA}$1$RmJ8.gJM$cGjYbUcVQKODE/J5I5rxW/",
	"{CRYPT}{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
	/* locked and placeholder entries */
	"*",
	"!",
	"*LK*",
	"!!",
	"x",
};

/* True when w is part of a scheme name (which messages may contain). */
static bool
in_scheme_name(const char *w)
{
	enum pw_scheme s;

	for (s = PW_UNKNOWN; s < PW_SCHEME_COUNT; s++)
		if (strstr(pw_scheme_name(s), w) != NULL)
			return true;
	return false;
}

/* No 6-character run of the stored hash appears in the message, other
 * than a piece of the scheme name (e.g. "argon2" of "$argon2id$"). */
static void
assert_msg_hides(const char *msg, const char *stored, const char *where)
{
	size_t i, n = strlen(stored);
	char win[7];

	if (msg[0] == '\0')
		fail_msg("%s: empty error message", where);
	if (n > 0 && strstr(msg, stored) != NULL)
		fail_msg("%s: message quotes the hash", where);
	for (i = 0; i + 6 <= n; i++) {
		memcpy(win, stored + i, 6);
		win[6] = '\0';
		if (strstr(msg, win) != NULL && !in_scheme_name(win))
			fail_msg("%s: message \"%s\" contains \"%s\"", where,
			    msg, win);
	}
}

static void
check_malformed(const char *stored, const char *where)
{
	enum pw_scheme s = PW_ARGON2ID;
	struct vs_err err;
	int r;

	vs_err_clear(&err);
	r = pw_check_format(stored, &s, &err);
	if (r != VS_EINVAL)
		fail_msg("%s: check_format gave %d, scheme %s", where, r,
		    pw_scheme_name(s));
	assert_int_equal(err.code, VS_EINVAL);
	assert_msg_hides(err.msg, stored, where);

	vs_err_clear(&err);
	r = pw_verify(stored, "secret", 6, &err);
	if (r >= 0)
		fail_msg("%s: pw_verify gave %d", where, r);
	assert_msg_hides(err.msg, stored, where);
	assert_true(pw_needs_upgrade(stored, &cheap));
}

static void
test_malformed(void **state)
{
	char where[64], big[PW_HASH_MAX + 64];
	struct vs_err err;
	enum pw_scheme s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		snprintf(where, sizeof(where), "malformed[%zu]", i);
		check_malformed(malformed[i], where);
	}

	/* too long, whatever the scheme */
	memcpy(big, "{SSHA}", 6);
	memset(big + 6, 'A', sizeof(big) - 7);
	big[sizeof(big) - 1] = '\0';
	check_malformed(big, "long {SSHA}");

	/* NULL */
	vs_err_clear(&err);
	assert_int_equal(pw_check_format(NULL, &s, &err), VS_EINVAL);
	assert_int_equal(s, PW_UNKNOWN);
	assert_true(pw_verify(NULL, "x", 1, &err) < 0);
	assert_true(pw_needs_upgrade(NULL, &cheap));
	assert_int_equal(pw_check_format("", NULL, NULL), VS_EINVAL);
}

/* ---- {PLAIN} ---- */

static void
test_plain(void **state)
{
	static const char *const plain[] = {
		"{PLAIN}Zebra-Quokka-91", "{CLEARTEXT}Zebra-Quokka-91",
		"{plain}Zebra-Quokka-91", "{Cleartext}Zebra-Quokka-91",
		"{PLAIN}",
	};
	char big[PW_HASH_MAX + 1];
	struct vs_err err;
	enum pw_scheme s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		assert_int_equal(pw_identify(plain[i]), PW_PLAIN);
		vs_err_clear(&err);
		assert_int_equal(pw_check_format(plain[i], &s, &err), VS_OK);
		assert_int_equal(s, PW_PLAIN);
		assert_int_equal(pw_verify(plain[i], "Zebra-Quokka-91", 15,
		    &err), VS_EINVAL);
		assert_int_equal(err.code, VS_EINVAL);
		assert_null(strstr(err.msg, "Quokka"));
		assert_true(pw_needs_upgrade(plain[i], &cheap));
	}

	/* PW_HASH_MAX counts the NUL: 511 characters are fine, 512 not */
	memcpy(big, "{PLAIN}", 7);
	memset(big + 7, 'q', PW_HASH_MAX - 1 - 7);
	big[PW_HASH_MAX - 1] = '\0';
	assert_int_equal(pw_check_format(big, &s, NULL), VS_OK);
	big[PW_HASH_MAX - 1] = 'q';
	big[PW_HASH_MAX] = '\0';
	assert_int_equal(pw_check_format(big, &s, NULL), VS_EINVAL);
}

/* ---- pw_hash and pw_needs_upgrade ---- */

static void
test_hash_roundtrip(void **state)
{
	char h1[PW_HASH_MAX], h2[PW_HASH_MAX], pre[PW_HASH_MAX + 16];
	static const char pw[] = "correct horse battery staple";
	struct vs_err err;
	enum pw_scheme s;

	(void)state;
	vs_err_clear(&err);
	assert_int_equal(pw_hash(pw, strlen(pw), &cheap, h1, &err), VS_OK);
	assert_int_equal(pw_hash(pw, strlen(pw), &cheap, h2, &err), VS_OK);
	assert_true(strncmp(h1, "$argon2id$v=19$", 15) == 0);
	assert_string_not_equal(h1, h2);	/* fresh salt each time */
	assert_null(strstr(h1, pw));

	assert_int_equal(pw_identify(h1), PW_ARGON2ID);
	assert_int_equal(pw_check_format(h1, &s, &err), VS_OK);
	assert_int_equal(s, PW_ARGON2ID);
	assert_int_equal(pw_verify(h1, pw, strlen(pw), &err), 1);
	assert_int_equal(pw_verify(h2, pw, strlen(pw), &err), 1);
	assert_int_equal(pw_verify(h1, pw, strlen(pw) - 1, &err), 0);
	assert_int_equal(pw_verify(h1, "Correct horse battery staple",
	    strlen(pw), &err), 0);
	assert_int_equal(pw_verify(h1, "", 0, &err), 0);

	/* with a Dovecot prefix */
	snprintf(pre, sizeof(pre), "{ARGON2ID}%s", h1);
	assert_int_equal(pw_identify(pre), PW_ARGON2ID);
	assert_int_equal(pw_check_format(pre, &s, &err), VS_OK);
	assert_int_equal(pw_verify(pre, pw, strlen(pw), &err), 1);
	assert_int_equal(pw_verify(pre, "x", 1, &err), 0);

	/* empty password, and a NULL one of length 0 */
	assert_int_equal(pw_hash(NULL, 0, &cheap, h1, &err), VS_OK);
	assert_int_equal(pw_verify(h1, "", 0, &err), 1);
	assert_int_equal(pw_verify(h1, NULL, 0, &err), 1);
	assert_int_equal(pw_verify(h1, "x", 1, &err), 0);

	/* NUL bytes are part of the password for Argon2 */
	assert_int_equal(pw_hash("a\0b", 3, &cheap, h1, &err), VS_OK);
	assert_int_equal(pw_verify(h1, "a\0b", 3, &err), 1);
	assert_int_equal(pw_verify(h1, "a\0c", 3, &err), 0);
	assert_int_equal(pw_verify(h1, "a", 1, &err), 0);
}

static void
test_hash_limits(void **state)
{
	char h[PW_HASH_MAX], pw[PW_PASSWORD_MAX + 1];
	struct pw_cost c;
	struct vs_err err;

	(void)state;
	memset(pw, 'p', sizeof(pw));

	/* the longest password */
	assert_int_equal(pw_hash(pw, PW_PASSWORD_MAX, &cheap, h, &err), VS_OK);
	assert_int_equal(pw_verify(h, pw, PW_PASSWORD_MAX, &err), 1);
	assert_int_equal(pw_verify(h, pw, PW_PASSWORD_MAX - 1, &err), 0);
	/* one more is refused, by both */
	strcpy(h, "junk");
	vs_err_clear(&err);
	assert_int_equal(pw_hash(pw, PW_PASSWORD_MAX + 1, &cheap, h, &err),
	    VS_EINVAL);
	assert_int_equal(h[0], '\0');
	assert_int_equal(err.code, VS_EINVAL);
	assert_int_equal(pw_verify("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", pw,
	    PW_PASSWORD_MAX + 1, &err), VS_EINVAL);

	/* NULL password with a length */
	assert_int_equal(pw_hash(NULL, 3, &cheap, h, &err), VS_EINVAL);
	assert_true(pw_verify("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", NULL, 3,
	    &err) < 0);

	/* costs outside libsodium's range */
	c = cheap;
	c.opslimit = crypto_pwhash_argon2id_OPSLIMIT_MIN - 1;
	assert_int_equal(pw_hash("x", 1, &c, h, &err), VS_EINVAL);
	c.opslimit = (uint64_t)crypto_pwhash_argon2id_OPSLIMIT_MAX + 1;
	assert_int_equal(pw_hash("x", 1, &c, h, &err), VS_EINVAL);
	c = cheap;
	c.memlimit = crypto_pwhash_argon2id_MEMLIMIT_MIN - 1;
	assert_int_equal(pw_hash("x", 1, &c, h, &err), VS_EINVAL);
	c.memlimit = 0;
	assert_int_equal(pw_hash("x", 1, &c, h, &err), VS_EINVAL);
	if (crypto_pwhash_argon2id_MEMLIMIT_MAX < SIZE_MAX) {
		c.memlimit = (size_t)crypto_pwhash_argon2id_MEMLIMIT_MAX + 1;
		assert_int_equal(pw_hash("x", 1, &c, h, &err), VS_EINVAL);
	}
	assert_int_equal(pw_hash("x", 1, NULL, h, &err), VS_EINVAL);
	/* a NULL err is allowed */
	c.memlimit = 0;
	assert_int_equal(pw_hash("x", 1, &c, h, NULL), VS_EINVAL);

	/* a slightly higher cost is accepted and recorded */
	c.opslimit = 2;
	c.memlimit = 2 * crypto_pwhash_argon2id_MEMLIMIT_MIN;
	assert_int_equal(pw_hash("x", 1, &c, h, &err), VS_OK);
	assert_non_null(strstr(h, "$m=16,t=2,p=1$"));
	assert_int_equal(pw_verify(h, "x", 1, NULL), 1);
}

static void
test_needs_upgrade(void **state)
{
	/* doveadm's ARGON2ID default: m=64 MiB, t=3 */
	static const char dove[] =
	    "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$vF2Ixz1uydGjijmtBC0XPw$"
	    "vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4";
	static const char *const legacy[] = {
		"hLILWelxS7E82",
		"$1$RmJ8.gJM$cGjYbUcVQKODE/J5I5rxW/",
		"$apr1$zBgP7coC$ZkgeoGB7QUixJmcA1H4IL1",
		"$2b$05$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL6",
		"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
		"{SSHA512}cius4SnQc+FqOzO0euTvnGZes7tEPbaWIVW5dEjR5Jfrmrx6tzcG4"
		    "Dq8oZNEuSG8tWs5TL0VcBgnVo5wnmz/1mzYh4g=",
		"$argon2i$v=19$m=32768,t=4,p=1$93/zrcLNDovmnCfwSN30XQ$juDRyY+BU"
		    "Vh3eNuujss4lGpWY75Kw4n6YeLei949Gvw",
		"{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$93/zrcLNDovmnCfwSN30XQ$"
		    "juDRyY+BUVh3eNuujss4lGpWY75Kw4n6YeLei949Gvw",
		"{PLAIN}secret",
		"$argon2id$v=19$m=8,t=1,p=1$garbage",
	};
	struct pw_cost c, dcost = { 3, 65536u * 1024u };
	char h[PW_HASH_MAX], pre[PW_HASH_MAX + 16];
	size_t i;

	(void)state;
	assert_int_equal(pw_hash("pw", 2, &cheap, h, NULL), VS_OK);
	assert_false(pw_needs_upgrade(h, &cheap));
	snprintf(pre, sizeof(pre), "{ARGON2ID}%s", h);
	assert_false(pw_needs_upgrade(pre, &cheap));
	snprintf(pre, sizeof(pre), "{argon2id}%s", h);
	assert_false(pw_needs_upgrade(pre, &cheap));

	/* a different cost, either way (libsodium's needs_rehash rule) */
	c = cheap;
	c.opslimit++;
	assert_true(pw_needs_upgrade(h, &c));
	c = cheap;
	c.memlimit *= 2;
	assert_true(pw_needs_upgrade(h, &c));
	c.opslimit = PW_DEFAULT_OPSLIMIT;
	c.memlimit = PW_DEFAULT_MEMLIMIT;
	assert_true(pw_needs_upgrade(h, &c));

	assert_false(pw_needs_upgrade(dove, &dcost));
	assert_false(pw_needs_upgrade(dove + strlen("{ARGON2ID}"), &dcost));
	assert_true(pw_needs_upgrade(dove, &cheap));
	dcost.opslimit = 2;
	assert_true(pw_needs_upgrade(dove, &dcost));

	for (i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
		if (!pw_needs_upgrade(legacy[i], &cheap))
			fail_msg("legacy[%zu] does not need an upgrade", i);
	assert_true(pw_needs_upgrade("", &cheap));
	assert_true(pw_needs_upgrade(h, NULL));
}

/* ---- crypt(3) specifics ---- */

static void
test_crypt_nul_password(void **state)
{
	static const char h[] =
	    "$6$2P9NQEe7wLb/10YH$/qlM2HhAsBI4qsAsPEgH5.PXfLxdpCujvvGES9VjuEhxin"
	    "xRe55/YJQ/r40oS7xV3x/DOE5d45fKyeoUT6Ru3.";

	(void)state;
	assert_int_equal(pw_verify(h, "abc", 3, NULL), 1);
	/* crypt(3) would stop at the NUL and match: must not */
	assert_int_equal(pw_verify(h, "abc\0def", 7, NULL), 0);
	assert_int_equal(pw_verify(h, "abc\0", 4, NULL), 0);
	/* the password need not be NUL-terminated */
	assert_int_equal(pw_verify(h, "abcdef", 3, NULL), 1);
	assert_int_equal(pw_verify("$apr1$zBgP7coC$ZkgeoGB7QUixJmcA1H4IL1",
	    "secretXYZ", 6, NULL), 1);
}

/*
 * Hashes made here by libxcrypt with random salts and passwords: each must
 * pass pw_check_format (this exercises the strict shape rules, including
 * the unused-bit checks on final characters) and verify.
 */
static void
test_random_crypt_hashes(void **state)
{
	static const struct {
		const char *prefix;
		unsigned long count;
		enum pw_scheme scheme;
	} kinds[] = {
		{ "", 0, PW_DES_CRYPT },
		{ "$1$", 0, PW_MD5_CRYPT },
		{ "$5$", 1000, PW_SHA256_CRYPT },
		{ "$5$", 0, PW_SHA256_CRYPT },
		{ "$6$", 1000, PW_SHA512_CRYPT },
		{ "$2b$", 4, PW_BCRYPT },
		{ "$2a$", 4, PW_BCRYPT },
		{ "$2y$", 4, PW_BCRYPT },
	};
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], stored[PW_HASH_MAX];
	char pw[48];
	uint8_t rnd[16];
	struct crypt_data *cd;
	struct vs_err err;
	enum pw_scheme s;
	size_t k, len, j;
	int i, iters;
	const char *out;

	(void)state;
	cd = calloc(1, sizeof(*cd));
	assert_non_null(cd);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		iters = kinds[k].scheme == PW_BCRYPT ? 12 : 40;
		for (i = 0; i < iters; i++) {
			randombytes_buf(rnd, sizeof(rnd));
			assert_non_null(crypt_gensalt_rn(kinds[k].prefix,
			    kinds[k].count, (const char *)rnd, sizeof(rnd),
			    setting, sizeof(setting)));
			len = randombytes_uniform(sizeof(pw) - 1);
			for (j = 0; j < len; j++)
				pw[j] = (char)(1 + randombytes_uniform(255));
			pw[len] = '\0';
			out = crypt_rn(pw, setting, cd, (int)sizeof(*cd));
			assert_non_null(out);
			snprintf(stored, sizeof(stored), "%s%s",
			    i % 2 ? "{CRYPT}" : "", out);
			vs_err_clear(&err);
			if (pw_check_format(stored, &s, &err) != VS_OK)
				fail_msg("libxcrypt hash %s refused: %s",
				    stored, err.msg);
			assert_int_equal(s, kinds[k].scheme);
			assert_int_equal(pw_verify(stored, pw, len, &err), 1);
			if (len > 0) {
				pw[0] ^= 1;	/* DES: keep to the low 7 bits */
				assert_int_equal(pw_verify(stored, pw, len,
				    &err), 0);
			}
		}
	}
	sodium_memzero(cd, sizeof(*cd));
	free(cd);
}

/* ---- cost caps (pw_check_cost, pw_verify_capped) ---- */

#define BC_BODY "$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL6"
#define S5_BODY "fs3QyrAv4GbhviKz$fh3svwsQNEruWDp.ydyH1xuSn9sgTlICrizY5husZJ9"
#define S6_BODY "C/8n7U5LQSU2jn.6$VszKWT0uTauJFAQhH3KVU6qAKCMPt4pX2WGqBRgz" \
	"CgbvO9EIhYIFFv5yTAkHn/CV15g7K.8rO./FyI1cctpIo."
#define A2ID(mt) "$argon2id$v=19$" mt ",p=1$vF2Ixz1uydGjijmtBC0XPw$" \
	"vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4"
#define A2I(mt) "$argon2i$v=19$" mt ",p=1$93/zrcLNDovmnCfwSN30XQ$" \
	"juDRyY+BUVh3eNuujss4lGpWY75Kw4n6YeLei949Gvw"

/* The store's own Argon2id cost, for the cases that pass one. */
enum own { OWN_NONE, OWN_T20, OWN_2G };
static const struct pw_cost owns[] = {
	[OWN_NONE] = { 0, 0 },
	[OWN_T20] = { 20, 8192 },               /* init --hash-cost 20:8 */
	[OWN_2G] = { 1, (size_t)2 << 30 },      /* --hash-cost 1:2097152 */
};

static const struct {
	const char *hash;
	enum own own;
	int rc;                 /* VS_OK or VS_ELIMIT */
	const char *msg;        /* in err.msg when VS_ELIMIT */
} cost_cases[] = {
	/* bcrypt: cost <= 14 */
	{ "$2b$04" BC_BODY, OWN_NONE, VS_OK, NULL },
	{ "$2b$14" BC_BODY, OWN_NONE, VS_OK, NULL },
	{ "$2b$15" BC_BODY, OWN_NONE, VS_ELIMIT,
	    "bcrypt password hash too costly to verify: cost 15, over the "
	    "limit of 14" },
	{ "$2y$31" BC_BODY, OWN_NONE, VS_ELIMIT, "cost 31, over the limit of "
	    "14" },
	{ "$2a$14" BC_BODY, OWN_NONE, VS_OK, NULL },
	{ "{BLF-CRYPT}$2y$15" BC_BODY, OWN_NONE, VS_ELIMIT, "cost 15" },
	{ "{CRYPT}$2y$14" BC_BODY, OWN_NONE, VS_OK, NULL },
	{ "$2b$15" BC_BODY, OWN_2G, VS_ELIMIT, "cost 15" }, /* own: Argon2 */
	/* SHA-crypt: rounds <= 100000 (none: 5000) */
	{ "$5$" S5_BODY, OWN_NONE, VS_OK, NULL },
	{ "$5$rounds=1000$" S5_BODY, OWN_NONE, VS_OK, NULL },
	{ "$5$rounds=100000$" S5_BODY, OWN_NONE, VS_OK, NULL },
	{ "$5$rounds=100001$" S5_BODY, OWN_NONE, VS_ELIMIT,
	    "sha256-crypt password hash too costly to verify: rounds 100001, "
	    "over the limit of 100000" },
	{ "$5$rounds=999999999$" S5_BODY, OWN_NONE, VS_ELIMIT,
	    "rounds 999999999" },
	{ "$6$" S6_BODY, OWN_NONE, VS_OK, NULL },
	{ "$6$rounds=100000$" S6_BODY, OWN_NONE, VS_OK, NULL },
	{ "$6$rounds=100001$" S6_BODY, OWN_NONE, VS_ELIMIT,
	    "sha512-crypt password hash too costly" },
	{ "{SHA512-CRYPT}$6$rounds=100001$" S6_BODY, OWN_NONE, VS_ELIMIT,
	    "rounds 100001" },
	{ "{SHA256-CRYPT}$5$rounds=100000$" S5_BODY, OWN_NONE, VS_OK, NULL },
	/* Argon2: m <= 1 GiB, t <= 16, m x t <= 4 GiB */
	{ A2ID("m=65536,t=3"), OWN_NONE, VS_OK, NULL },
	{ A2ID("m=1048576,t=4"), OWN_NONE, VS_OK, NULL },
	{ A2ID("m=1048577,t=1"), OWN_NONE, VS_ELIMIT,
	    "argon2id password hash too costly to verify: memory 1048577 KiB, "
	    "over the limit of 1048576 KiB" },
	{ A2ID("m=262144,t=16"), OWN_NONE, VS_OK, NULL },
	{ A2ID("m=8,t=16"), OWN_NONE, VS_OK, NULL },
	{ A2ID("m=65536,t=17"), OWN_NONE, VS_ELIMIT,
	    "passes 17, over the limit of 16" },
	{ A2ID("m=524288,t=8"), OWN_NONE, VS_OK, NULL },
	{ A2ID("m=524289,t=8"), OWN_NONE, VS_ELIMIT,
	    "memory x passes 4194312 KiB, over the limit of 4194304 KiB" },
	{ A2ID("m=1048576,t=5"), OWN_NONE, VS_ELIMIT, "memory x passes" },
	{ A2ID("m=262145,t=16"), OWN_NONE, VS_ELIMIT, "memory x passes" },
	{ A2ID("m=4294967295,t=4294967295"), OWN_NONE, VS_ELIMIT, "memory" },
	{ A2I("m=32768,t=16"), OWN_NONE, VS_OK, NULL },
	{ A2I("m=32768,t=17"), OWN_NONE, VS_ELIMIT,
	    "argon2i password hash too costly to verify: passes 17" },
	{ "{ARGON2ID}" A2ID("m=65536,t=17"), OWN_NONE, VS_ELIMIT, "passes" },
	/* ... raised to the store's own cost, never lowered */
	{ A2ID("m=8,t=20"), OWN_NONE, VS_ELIMIT, "passes 20" },
	{ A2ID("m=8,t=20"), OWN_T20, VS_OK, NULL },
	{ A2ID("m=8,t=21"), OWN_T20, VS_ELIMIT, "passes 21, over the limit "
	    "of 20" },
	{ A2ID("m=1048576,t=4"), OWN_T20, VS_OK, NULL },
	{ A2ID("m=2097152,t=1"), OWN_NONE, VS_ELIMIT, "memory 2097152 KiB" },
	{ A2ID("m=2097152,t=1"), OWN_2G, VS_OK, NULL },
	{ A2ID("m=2097152,t=2"), OWN_2G, VS_OK, NULL },     /* 4 GiB x 1 */
	{ A2ID("m=2097153,t=1"), OWN_2G, VS_ELIMIT, "over the limit of "
	    "2097152 KiB" },
	{ A2ID("m=2097152,t=3"), OWN_2G, VS_ELIMIT, "memory x passes" },
	/* fixed, small costs */
	{ "hLILWelxS7E82", OWN_NONE, VS_OK, NULL },
	{ "$1$RmJ8.gJM$cGjYbUcVQKODE/J5I5rxW/", OWN_NONE, VS_OK, NULL },
	{ "$apr1$zBgP7coC$ZkgeoGB7QUixJmcA1H4IL1", OWN_NONE, VS_OK, NULL },
	{ "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", OWN_NONE, VS_OK, NULL },
	{ "{PLAIN}secret", OWN_NONE, VS_OK, NULL },
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The salt and digest (after the last '$', and the field before it) never
 * appear in a cost message; the parameters may. */
static void
assert_msg_hides_digest(const char *msg, const char *stored,
    const char *where)
{
	const char *last = strrchr(stored, '$');
	const char *salt;

	if (last == NULL)
		return;
	for (salt = last - 1; salt > stored && salt[-1] != '$'; salt--)
		;
	assert_msg_hides(msg, last + 1, where);
	if (last - salt >= 6) {
		char s[PW_HASH_MAX];

		memcpy(s, salt, (size_t)(last - salt));
		s[last - salt] = '\0';
		assert_msg_hides(msg, s, where);
	}
}

static void
test_cost_caps(void **state)
{
	const struct pw_cost *own;
	struct vs_err err;
	enum pw_scheme s;
	char where[64];
	double t0;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cost_cases) / sizeof(cost_cases[0]); i++) {
		snprintf(where, sizeof(where), "cost_cases[%zu]", i);
		own = cost_cases[i].own == OWN_NONE ? NULL :
		    &owns[cost_cases[i].own];
		/* Well formed first: the cap is another question. */
		vs_err_clear(&err);
		if (pw_check_format(cost_cases[i].hash, &s, &err) != VS_OK)
			fail_msg("%s: malformed: %s", where, err.msg);
		vs_err_clear(&err);
		r = pw_check_cost(cost_cases[i].hash, own, &err);
		if (r != cost_cases[i].rc)
			fail_msg("%s: pw_check_cost gave %d (%s), want %d",
			    where, r, err.msg, cost_cases[i].rc);
		if (r == VS_OK)
			continue;
		assert_int_equal(err.code, VS_ELIMIT);
		if (strstr(err.msg, cost_cases[i].msg) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", where, err.msg,
			    cost_cases[i].msg);
		assert_msg_hides_digest(err.msg, cost_cases[i].hash, where);
		/* Verification refuses it too, without computing anything
		 * ($2y$31$ would take days, m=4 TiB would not fit). */
		t0 = now_s();
		vs_err_clear(&err);
		assert_int_equal(pw_verify_capped(cost_cases[i].hash, "x", 1,
		    own, &err), VS_ELIMIT);
		if (own == NULL)
			assert_int_equal(pw_verify(cost_cases[i].hash, "x", 1,
			    NULL), VS_ELIMIT);
		if (now_s() - t0 > 1.0)
			fail_msg("%s: refusing took %.2f s", where,
			    now_s() - t0);
	}
	/* Malformed stays malformed. */
	assert_int_equal(pw_check_cost("$2b$32" BC_BODY, NULL, NULL),
	    VS_EINVAL);
	assert_int_equal(pw_check_cost(NULL, NULL, NULL), VS_EINVAL);
	assert_int_equal(pw_check_cost("", &owns[OWN_T20], NULL), VS_EINVAL);
}

/* At the caps, hashes are verified for real: SHA-crypt at 100000 rounds
 * (made here by libxcrypt), and a hash the store made at its own cost
 * over the fixed caps (t = 20, m = 8 KiB: fast). */
static void
test_cost_caps_verify(void **state)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], h[PW_HASH_MAX];
	const struct pw_cost *own = &owns[OWN_T20];
	struct crypt_data *cd;
	struct vs_err err;
	const char *out;

	(void)state;
	cd = calloc(1, sizeof(*cd));
	assert_non_null(cd);
	assert_non_null(crypt_gensalt_rn("$6$", PW_SHACRYPT_ROUNDS_MAX, NULL,
	    0, setting, sizeof(setting)));
	out = crypt_rn("at the cap", setting, cd, (int)sizeof(*cd));
	assert_non_null(out);
	assert_non_null(strstr(out, "rounds=100000$"));
	assert_int_equal(pw_check_cost(out, NULL, NULL), VS_OK);
	assert_int_equal(pw_verify(out, "at the cap", 10, NULL), 1);
	assert_int_equal(pw_verify(out, "at the caP", 10, NULL), 0);
	free(cd);

	vs_err_clear(&err);
	assert_int_equal(pw_hash("store-made", 10, own, h, &err), VS_OK);
	assert_non_null(strstr(h, "$m=8,t=20,p=1$"));
	assert_int_equal(pw_check_cost(h, own, NULL), VS_OK);
	assert_int_equal(pw_verify_capped(h, "store-made", 10, own, NULL), 1);
	assert_int_equal(pw_verify_capped(h, "store-mad", 9, own, NULL), 0);
	assert_false(pw_needs_upgrade(h, own));
	/* without the allowance, the fixed caps */
	assert_int_equal(pw_check_cost(h, NULL, NULL), VS_ELIMIT);
	assert_int_equal(pw_verify(h, "store-made", 10, NULL), VS_ELIMIT);
}

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_vectors),
		cmocka_unit_test(test_digest_boundaries),
		cmocka_unit_test(test_digest_chunking),
		cmocka_unit_test(test_scheme_names),
		cmocka_unit_test(test_fixture_vectors),
		cmocka_unit_test(test_inline_vectors),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_hash_roundtrip),
		cmocka_unit_test(test_hash_limits),
		cmocka_unit_test(test_needs_upgrade),
		cmocka_unit_test(test_crypt_nul_password),
		cmocka_unit_test(test_random_crypt_hashes),
		cmocka_unit_test(test_cost_caps),
		cmocka_unit_test(test_cost_caps_verify),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
