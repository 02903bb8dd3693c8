/*
 * pwhash.c - Argon2id password hashing, the strict parsing and cost caps
 * of every scheme, and verification's dispatch (see pwhash.h for the
 * schemes; the legacy verifiers are pwhash_legacy.c).
 *
 * Security stance: new hashes are Argon2id only.  Legacy hashes are parsed
 * strictly (prefix, lengths, alphabets, unused encoding bits, decoded sizes)
 * before anything is computed, so a hash that no verifier could ever match
 * is refused at import rather than silently locking a user out; and their
 * cost is capped (pwhash.h), so a hash that would hold a CPU for hours is
 * never computed - not by import's check, not by pw_verify().  Computed
 * and stored digests are compared with sodium_memcmp(); every buffer that
 * held password-derived data is wiped with sodium_memzero().  Error messages
 * carry the scheme name and a fixed reason, never any part of the stored
 * string or the password.
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

/* The crypt(3) alphabet, in value order ("./0-9A-Za-z"). */
const char pwi_crypt64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/* bcrypt's own base64 alphabet, in value order. */
static const char bcrypt64[] =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static const char *const scheme_names[PW_SCHEME_COUNT] = {
	[PW_UNKNOWN] = "unknown",
	[PW_ARGON2ID] = "argon2id",
	[PW_ARGON2I] = "argon2i",
	[PW_VMSEAL_ARGON2ID] = "vmseal-argon2id",
	[PW_DES_CRYPT] = "des-crypt",
	[PW_MD5_CRYPT] = "md5-crypt",
	[PW_APR1] = "apr1",
	[PW_SHA256_CRYPT] = "sha256-crypt",
	[PW_SHA512_CRYPT] = "sha512-crypt",
	[PW_BCRYPT] = "bcrypt",
	[PW_SHA1] = "sha1",
	[PW_SSHA1] = "ssha1",
	[PW_SHA256] = "sha256",
	[PW_SSHA256] = "ssha256",
	[PW_SHA512] = "sha512",
	[PW_SSHA512] = "ssha512",
	[PW_MD5] = "md5",
	[PW_SMD5] = "smd5",
	[PW_PLAIN] = "plain",
};

/*
 * Dovecot-style {SCHEME} prefixes.  A "crypt" prefix is followed by a
 * crypt-style string whose own form must be the one given (PW_UNKNOWN: any
 * crypt(3) form, as {CRYPT} means "whatever crypt(3) understands"); a
 * "digest" prefix is followed by an encoded digest.  {MD5} is special: in
 * Dovecot it is MD5-CRYPT, but it also verifies a bare PLAIN-MD5 digest.
 */
enum prefix_kind {
	PK_DIGEST,
	PK_CRYPT,
	PK_PLAIN,
	PK_MD5,
};

struct prefix {
	const char *name;
	enum prefix_kind kind;
	enum pw_scheme scheme;
};

static const struct prefix prefixes[] = {
	{ "SHA", PK_DIGEST, PW_SHA1 },
	{ "SHA1", PK_DIGEST, PW_SHA1 },
	{ "SSHA", PK_DIGEST, PW_SSHA1 },
	{ "SHA256", PK_DIGEST, PW_SHA256 },
	{ "SSHA256", PK_DIGEST, PW_SSHA256 },
	{ "SHA512", PK_DIGEST, PW_SHA512 },
	{ "SSHA512", PK_DIGEST, PW_SSHA512 },
	{ "PLAIN-MD5", PK_DIGEST, PW_MD5 },
	{ "LDAP-MD5", PK_DIGEST, PW_MD5 },
	{ "SMD5", PK_DIGEST, PW_SMD5 },
	{ "PLAIN", PK_PLAIN, PW_PLAIN },
	{ "CLEARTEXT", PK_PLAIN, PW_PLAIN },
	{ "CLEAR", PK_PLAIN, PW_PLAIN },
	{ "CRYPT", PK_CRYPT, PW_UNKNOWN },
	{ "DES-CRYPT", PK_CRYPT, PW_DES_CRYPT },
	{ "MD5-CRYPT", PK_CRYPT, PW_MD5_CRYPT },
	{ "MD5", PK_MD5, PW_MD5_CRYPT },
	{ "SHA256-CRYPT", PK_CRYPT, PW_SHA256_CRYPT },
	{ "SHA512-CRYPT", PK_CRYPT, PW_SHA512_CRYPT },
	{ "BLF-CRYPT", PK_CRYPT, PW_BCRYPT },
	{ "ARGON2ID", PK_CRYPT, PW_ARGON2ID },
	{ "ARGON2I", PK_CRYPT, PW_ARGON2I },
};

/* Longest {NAME} we look at, braces excluded. */
#define PREFIX_NAME_MAX 16

/* The shapes' sizes and limits are in pwhash_int.h. */

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive compare of n bytes, ASCII only (no locale surprises). */
static bool
ascii_caseeq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a[i]) !=
		    ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Value of c in alphabet (64 characters), or -1. */
static int
alpha_value(const char *alphabet, char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p == NULL ? -1 : (int)(p - alphabet);
}

/* True when s[0..n) is made of alphabet characters only. */
static bool
all_in(const char *alphabet, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (alpha_value(alphabet, s[i]) < 0)
			return false;
	return true;
}

/* Length of the run of characters before the next '$' or the end. */
size_t
pwi_field_len(const char *s)
{
	return strcspn(s, "$");
}

/* A decimal number without sign or leading zero that fits in 32 bits. */
static const char *
parse_u32(const char *s, unsigned long *v)
{
	unsigned long n = 0;
	const char *p = s;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 0xffffffffUL)
			return NULL;
	}
	*v = n;
	return p;
}

/* The scheme of a bare crypt-style string (no {PREFIX}). */
static enum pw_scheme
identify_bare(const char *s)
{
	if (has_prefix(s, "$argon2id$"))
		return PW_ARGON2ID;
	if (has_prefix(s, PWK_PREFIX))
		return PW_VMSEAL_ARGON2ID;
	if (has_prefix(s, "$argon2i$"))
		return PW_ARGON2I;
	if (has_prefix(s, "$1$"))
		return PW_MD5_CRYPT;
	if (has_prefix(s, "$apr1$"))
		return PW_APR1;
	if (has_prefix(s, "$5$"))
		return PW_SHA256_CRYPT;
	if (has_prefix(s, "$6$"))
		return PW_SHA512_CRYPT;
	if (has_prefix(s, "$2a$") || has_prefix(s, "$2b$") ||
	    has_prefix(s, "$2y$"))
		return PW_BCRYPT;
	if (strlen(s) == 13 && all_in(pwi_crypt64, s, 13))
		return PW_DES_CRYPT;
	return PW_UNKNOWN;
}

static bool
is_crypt3_scheme(enum pw_scheme s)
{
	return s == PW_DES_CRYPT || s == PW_MD5_CRYPT ||
	    s == PW_SHA256_CRYPT || s == PW_SHA512_CRYPT || s == PW_BCRYPT;
}

/*
 * The scheme of stored, and in *body_r the part after any {PREFIX}: the
 * crypt-style string, the encoded digest or the clear password.
 */
static enum pw_scheme
identify(const char *stored, const char **body_r)
{
	const struct prefix *px = NULL;
	const char *close, *body;
	enum pw_scheme inner;
	size_t i, n;

	*body_r = stored;
	if (stored == NULL)
		return PW_UNKNOWN;
	if (stored[0] != '{')
		return identify_bare(stored);

	n = strnlen(stored + 1, PREFIX_NAME_MAX + 1);
	close = memchr(stored + 1, '}', n);
	if (close == NULL)
		return PW_UNKNOWN;
	n = (size_t)(close - (stored + 1));
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (strlen(prefixes[i].name) == n &&
		    ascii_caseeq(prefixes[i].name, stored + 1, n)) {
			px = &prefixes[i];
			break;
		}
	}
	if (px == NULL)
		return PW_UNKNOWN;
	body = close + 1;
	*body_r = body;

	switch (px->kind) {
	case PK_DIGEST:
	case PK_PLAIN:
		return px->scheme;
	case PK_MD5:
		return has_prefix(body, "$1$") ? PW_MD5_CRYPT : PW_MD5;
	case PK_CRYPT:
		inner = identify_bare(body);
		if (px->scheme == PW_UNKNOWN)
			return is_crypt3_scheme(inner) ? inner : PW_UNKNOWN;
		return inner == px->scheme ? inner : PW_UNKNOWN;
	}
	return PW_UNKNOWN;
}

enum pw_scheme
pw_identify(const char *stored)
{
	const char *body;

	return identify(stored, &body);
}

const char *
pw_scheme_name(enum pw_scheme s)
{
	if ((unsigned int)s >= PW_SCHEME_COUNT || scheme_names[s] == NULL)
		return "unknown";
	return scheme_names[s];
}

/* ---- shape checks: return NULL when well formed, else a fixed reason ---- */

static const char *
check_des(const char *s)
{
	if (strlen(s) != 13 || !all_in(pwi_crypt64, s, 13))
		return "not 13 crypt characters";
	/* 64 bits in 11 characters: the last one has 2 unused low bits. */
	if (alpha_value(pwi_crypt64, s[12]) % 4 != 0)
		return "non-canonical final character";
	return NULL;
}

/* $1$salt$hash and $apr1$salt$hash */
static const char *
check_md5crypt(const char *s, const char *magic)
{
	size_t n;

	s += strlen(magic);
	n = pwi_field_len(s);
	if (n > MD5CRYPT_SALT_MAX || !all_in(pwi_crypt64, s, n))
		return "bad salt";
	s += n;
	if (*s++ != '$')
		return "missing hash";
	if (strlen(s) != MD5CRYPT_HASH_LEN ||
	    !all_in(pwi_crypt64, s, MD5CRYPT_HASH_LEN))
		return "bad hash length or character";
	/* The last character carries the top 2 bits of one byte. */
	if (alpha_value(pwi_crypt64, s[MD5CRYPT_HASH_LEN - 1]) >= 4)
		return "non-canonical final character";
	return NULL;
}

/* $5$[rounds=N$]salt$hash and $6$... */
static const char *
check_shacrypt(const char *s, size_t hashlen, int lastmax)
{
	unsigned long rounds;
	const char *p;
	size_t n;

	s += 3;
	if (has_prefix(s, "rounds=")) {
		p = parse_u32(s + 7, &rounds);
		if (p == NULL || *p != '$' || rounds < SHACRYPT_ROUNDS_MIN ||
		    rounds > SHACRYPT_ROUNDS_MAX)
			return "bad round count";
		s = p + 1;
	}
	n = pwi_field_len(s);
	if (n > SHACRYPT_SALT_MAX || !all_in(pwi_crypt64, s, n))
		return "bad salt";
	s += n;
	if (*s++ != '$')
		return "missing hash";
	if (strlen(s) != hashlen || !all_in(pwi_crypt64, s, hashlen))
		return "bad hash length or character";
	if (alpha_value(pwi_crypt64, s[hashlen - 1]) >= lastmax)
		return "non-canonical final character";
	return NULL;
}

/* $2b$NN$ + 22 salt + 31 hash characters */
static const char *
check_bcrypt(const char *s)
{
	int cost;

	s += 4;
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != '$')
		return "bad cost";
	cost = (s[0] - '0') * 10 + (s[1] - '0');
	if (cost < 4 || cost > 31)
		return "cost out of range";
	s += 3;
	if (strlen(s) != BCRYPT_SALT_LEN + BCRYPT_HASH_LEN ||
	    !all_in(bcrypt64, s, BCRYPT_SALT_LEN + BCRYPT_HASH_LEN))
		return "bad length or character";
	/* 16 salt bytes: the 22nd character holds 2 bits; 23 hash bytes:
	 * the 31st holds 4 bits.  Unused bits must be zero, as crypt(3)
	 * writes them, or no password could ever match. */
	if (alpha_value(bcrypt64, s[BCRYPT_SALT_LEN - 1]) % 16 != 0 ||
	    alpha_value(bcrypt64, s[BCRYPT_SALT_LEN + BCRYPT_HASH_LEN - 1]) %
	    4 != 0)
		return "non-canonical salt or hash";
	return NULL;
}

/* An unpadded standard base64 field that decodes to at least min bytes. */
static const char *
check_b64_field(const char *s, size_t n, size_t min)
{
	uint8_t raw[RAW_MAX];
	size_t rawlen;
	const char *end;
	int r;

	r = sodium_base642bin(raw, sizeof(raw), s, n, NULL, &rawlen, &end,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	if (r != 0 || end != s + n || rawlen < min)
		return "bad base64 field";
	return NULL;
}

/* The parameters of $argon2id$v=19$m=M,t=T,p=P$...: *end_r points at the
 * '$' after them.  A fixed reason, or NULL. */
static const char *
argon2_params(const char *s, enum pw_scheme scheme, unsigned long *m,
    unsigned long *t, unsigned long *p, const char **end_r)
{
	const char *q;

	q = s + (scheme == PW_ARGON2ID ? strlen("$argon2id$") :
	    strlen("$argon2i$"));
	if (!has_prefix(q, "v=19$"))
		return "unsupported version";
	q += 5;
	if (!has_prefix(q, "m=") || (q = parse_u32(q + 2, m)) == NULL ||
	    !has_prefix(q, ",t=") || (q = parse_u32(q + 3, t)) == NULL ||
	    !has_prefix(q, ",p=") || (q = parse_u32(q + 3, p)) == NULL ||
	    *q != '$')
		return "bad parameters";
	if (*m == 0 || *t == 0 || *p == 0)
		return "bad parameters";
	*end_r = q;
	return NULL;
}

/* $argon2id$v=19$m=M,t=T,p=P$salt$hash */
static const char *
check_argon2(const char *s, enum pw_scheme scheme)
{
	char buf[PW_HASH_MAX];
	unsigned long m, t, p;
	const char *q, *why;
	size_t n;
	int r;

	if ((why = argon2_params(s, scheme, &m, &t, &p, &q)) != NULL)
		return why;
	q++;
	n = pwi_field_len(q);
	if (check_b64_field(q, n, ARGON2_SALT_MIN) != NULL)
		return "bad salt";
	q += n;
	if (*q++ != '$')
		return "missing hash";
	n = strlen(q);
	if (check_b64_field(q, n, ARGON2_HASH_MIN) != NULL)
		return "bad hash";

	/* Finally let libsodium's own decoder have a look (this computes
	 * nothing).  It reads up to STRBYTES, hence the padded copy. */
	if (strlen(s) >= crypto_pwhash_argon2id_STRBYTES)
		return "too long";
	memset(buf, 0, sizeof(buf));
	memcpy(buf, s, strlen(s));
	if (scheme == PW_ARGON2ID)
		r = crypto_pwhash_argon2id_str_needs_rehash(buf,
		    crypto_pwhash_argon2id_OPSLIMIT_MIN,
		    crypto_pwhash_argon2id_MEMLIMIT_MIN);
	else
		r = crypto_pwhash_argon2i_str_needs_rehash(buf,
		    crypto_pwhash_argon2i_OPSLIMIT_MIN,
		    crypto_pwhash_argon2i_MEMLIMIT_MIN);
	if (r < 0)
		return "rejected by libsodium";
	return NULL;
}

/* Digest length of a {SCHEME} digest, and whether it is salted. */
size_t
pwi_digest_len(enum pw_scheme s, bool *salted)
{
	*salted = s == PW_SSHA1 || s == PW_SSHA256 || s == PW_SSHA512 ||
	    s == PW_SMD5;
	switch (s) {
	case PW_SHA1:
	case PW_SSHA1:
		return DIGEST_SHA1_LEN;
	case PW_SHA256:
	case PW_SSHA256:
		return crypto_hash_sha256_BYTES;
	case PW_SHA512:
	case PW_SSHA512:
		return crypto_hash_sha512_BYTES;
	case PW_MD5:
	case PW_SMD5:
		return DIGEST_MD5_LEN;
	default:
		return 0;
	}
}

/*
 * Decode the payload of a {SCHEME} digest into raw (RAW_MAX bytes).
 * Unsalted digests are hex when the length says so, else base64; salted
 * ones are base64 (digest followed by at least one byte of salt).
 */
const char *
pwi_decode_digest(enum pw_scheme s, const char *body, uint8_t *raw,
    size_t *rawlen)
{
	size_t dlen, n = strlen(body);
	bool salted;
	int r;

	dlen = pwi_digest_len(s, &salted);
	*rawlen = 0;
	if (n == 0)
		return "empty";
	if (!salted && n == 2 * dlen) {
		if (sodium_hex2bin(raw, RAW_MAX, body, n, NULL, rawlen,
		    NULL) != 0 || *rawlen != dlen)
			return "bad hex";
		return NULL;
	}
	r = sodium_base642bin(raw, RAW_MAX, body, n, NULL, rawlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL);
	if (r != 0)
		return "bad base64";
	if (salted ? *rawlen <= dlen : *rawlen != dlen)
		return "wrong decoded length";
	return NULL;
}

/*
 * Full check of stored: its scheme in *scheme_r, the part after the prefix
 * in *body_r.
 */
static int
check(const char *stored, enum pw_scheme *scheme_r, const char **body_r,
    struct vs_err *err)
{
	uint8_t raw[RAW_MAX];
	const char *why = NULL, *body;
	enum pw_scheme s;
	size_t rawlen;

	*scheme_r = PW_UNKNOWN;
	*body_r = NULL;
	if (stored == NULL || stored[0] == '\0')
		return vs_fail(err, VS_EINVAL, "empty password hash");
	if (strnlen(stored, PW_HASH_MAX) >= PW_HASH_MAX)
		return vs_fail(err, VS_EINVAL, "password hash too long");
	s = identify(stored, &body);
	switch (s) {
	case PW_UNKNOWN:
	case PW_SCHEME_COUNT:
		return vs_fail(err, VS_EINVAL,
		    "unknown or mismatched password hash scheme");
	case PW_ARGON2ID:
	case PW_ARGON2I:
		why = check_argon2(body, s);
		break;
	case PW_VMSEAL_ARGON2ID:
		why = pwi_key_check(body);
		break;
	case PW_DES_CRYPT:
		why = check_des(body);
		break;
	case PW_MD5_CRYPT:
		why = check_md5crypt(body, "$1$");
		break;
	case PW_APR1:
		why = check_md5crypt(body, "$apr1$");
		break;
	case PW_SHA256_CRYPT:
		why = check_shacrypt(body, 43, 16);
		break;
	case PW_SHA512_CRYPT:
		why = check_shacrypt(body, 86, 4);
		break;
	case PW_BCRYPT:
		why = check_bcrypt(body);
		break;
	case PW_SHA1:
	case PW_SSHA1:
	case PW_SHA256:
	case PW_SSHA256:
	case PW_SHA512:
	case PW_SSHA512:
	case PW_MD5:
	case PW_SMD5:
		why = pwi_decode_digest(s, body, raw, &rawlen);
		sodium_memzero(raw, sizeof(raw));
		break;
	case PW_PLAIN:
		break;
	}
	if (why != NULL)
		return vs_fail(err, VS_EINVAL, "malformed %s password hash: %s",
		    pw_scheme_name(s), why);
	*scheme_r = s;
	*body_r = body;
	return VS_OK;
}

/* ---- cost caps ---- */

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* a * b, or UINT64_MAX when it does not fit. */
static uint64_t
mul_sat(uint64_t a, uint64_t b)
{
	return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static int
too_costly(struct vs_err *err, enum pw_scheme s, const char *what,
    unsigned long long v, const char *unit, unsigned long long max)
{
	return vs_fail(err, VS_ELIMIT, "%s password hash too costly to "
	    "verify: %s %llu%s, over the limit of %llu%s", pw_scheme_name(s),
	    what, v, unit, max, unit);
}

/* The cost of a body that check() accepted, against the caps. */
static int
check_cost(enum pw_scheme s, const char *body, const struct pw_cost *own,
    struct vs_err *err)
{
	unsigned long rounds, m, t, p;
	uint64_t mem, mem_max, t_max, work_max;
	const char *q;
	int cost;

	switch (s) {
	case PW_BCRYPT:
		/* $2b$NN$: check_bcrypt() saw two digits */
		cost = (body[4] - '0') * 10 + (body[5] - '0');
		if (cost > PW_BCRYPT_COST_MAX)
			return too_costly(err, s, "cost", (unsigned)cost, "",
			    PW_BCRYPT_COST_MAX);
		return VS_OK;
	case PW_SHA256_CRYPT:
	case PW_SHA512_CRYPT:
		/* Without rounds= crypt(3) does 5000. */
		if (!has_prefix(body + 3, "rounds=") ||
		    parse_u32(body + 10, &rounds) == NULL)
			return VS_OK;
		if (rounds > PW_SHACRYPT_ROUNDS_MAX)
			return too_costly(err, s, "rounds", rounds, "",
			    PW_SHACRYPT_ROUNDS_MAX);
		return VS_OK;
	case PW_ARGON2ID:
	case PW_ARGON2I:
	case PW_VMSEAL_ARGON2ID:
		if (s == PW_VMSEAL_ARGON2ID ?
		    pwi_key_params(body, &m, &t) != VS_OK :
		    argon2_params(body, s, &m, &t, &p, &q) != NULL)
			return vs_fail(err, VS_EINVAL, "malformed %s password "
			    "hash: bad parameters", pw_scheme_name(s));
		mem_max = PW_ARGON2_MEM_MAX;
		t_max = PW_ARGON2_T_MAX;
		work_max = PW_ARGON2_WORK_MAX;
		if (own != NULL) {
			/* What the store makes itself is always fine. */
			mem_max = max_u64(mem_max, own->memlimit);
			t_max = max_u64(t_max, own->opslimit);
			work_max = max_u64(work_max,
			    mul_sat(own->memlimit, own->opslimit));
		}
		mem = (uint64_t)m * 1024;       /* m is in KiB */
		if (mem > mem_max)
			return too_costly(err, s, "memory", m, " KiB",
			    mem_max / 1024);
		if (t > t_max)
			return too_costly(err, s, "passes", t, "", t_max);
		if (mem > work_max / t)
			return too_costly(err, s, "memory x passes",
			    (unsigned long long)m * t, " KiB", work_max / 1024);
		return VS_OK;
	default:
		return VS_OK;   /* a fixed, small cost */
	}
}

int
pw_check_cost(const char *stored, const struct pw_cost *own,
    struct vs_err *err)
{
	enum pw_scheme s;
	const char *body;
	int r;

	if ((r = check(stored, &s, &body, err)) != VS_OK)
		return r;
	return check_cost(s, body, own, err);
}

int
pw_check_format(const char *stored, enum pw_scheme *scheme_r,
    struct vs_err *err)
{
	enum pw_scheme s;
	const char *body;
	int r;

	r = check(stored, &s, &body, err);
	if (scheme_r != NULL)
		*scheme_r = s;
	return r;
}

/* ---- hashing ---- */

int
pw_hash(const char *password, size_t len, const struct pw_cost *cost,
    char out[PW_HASH_MAX], struct vs_err *err)
{
	char tmp[crypto_pwhash_argon2id_STRBYTES];

	if (out == NULL || cost == NULL)
		return vs_fail(err, VS_EINVAL, "pw_hash: missing argument");
	out[0] = '\0';
	if (password == NULL && len > 0)
		return vs_fail(err, VS_EINVAL, "pw_hash: missing password");
	if (len > PW_PASSWORD_MAX)
		return vs_fail(err, VS_EINVAL,
		    "password too long (over %d bytes)", PW_PASSWORD_MAX);
	if (cost->opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    cost->opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX)
		return vs_fail(err, VS_EINVAL,
		    "argon2id time cost out of range");
	if (cost->memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
	    cost->memlimit > crypto_pwhash_argon2id_MEMLIMIT_MAX)
		return vs_fail(err, VS_EINVAL,
		    "argon2id memory cost out of range");
	if (crypto_pwhash_argon2id_str(tmp, password == NULL ? "" : password,
	    len, cost->opslimit, cost->memlimit) != 0) {
		sodium_memzero(tmp, sizeof(tmp));
		return vs_fail(err, VS_ENOMEM,
		    "argon2id: cannot allocate the memory cost");
	}
	/* STRBYTES < PW_HASH_MAX, and tmp is NUL-terminated. */
	memcpy(out, tmp, strlen(tmp) + 1);
	sodium_memzero(tmp, sizeof(tmp));
	return VS_OK;
}

/* ---- verification ---- */

static int
verify_argon2(const char *body, enum pw_scheme s, const char *pw,
    size_t len, struct vs_err *err)
{
	char buf[PW_HASH_MAX];
	int r;

	/* check_argon2() made sure body is shorter than STRBYTES. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, body, strlen(body));
	errno = 0;
	if (s == PW_ARGON2ID)
		r = crypto_pwhash_argon2id_str_verify(buf, pw, len);
	else
		r = crypto_pwhash_argon2i_str_verify(buf, pw, len);
	if (r == 0)
		return 1;
	if (errno == ENOMEM)
		return vs_fail(err, VS_ENOMEM,
		    "%s: cannot allocate the memory cost", pw_scheme_name(s));
	return 0;
}

int
pw_verify(const char *stored, const char *password, size_t len,
    struct vs_err *err)
{
	return pw_verify_capped(stored, password, len, NULL, err);
}

int
pw_verify_capped(const char *stored, const char *password, size_t len,
    const struct pw_cost *own, struct vs_err *err)
{
	enum pw_scheme s;
	const char *body;
	int r;

	if (password == NULL) {
		if (len > 0)
			return vs_fail(err, VS_EINVAL,
			    "pw_verify: missing password");
		password = "";
	}
	if (len > PW_PASSWORD_MAX)
		return vs_fail(err, VS_EINVAL,
		    "password too long (over %d bytes)", PW_PASSWORD_MAX);
	if ((r = check(stored, &s, &body, err)) != VS_OK ||
	    (r = check_cost(s, body, own, err)) != VS_OK)
		return r;

	switch (s) {
	case PW_ARGON2ID:
	case PW_ARGON2I:
		return verify_argon2(body, s, password, len, err);
	case PW_VMSEAL_ARGON2ID:
		return pwi_key_verify(body, password, len, NULL, err);
	case PW_DES_CRYPT:
	case PW_MD5_CRYPT:
	case PW_SHA256_CRYPT:
	case PW_SHA512_CRYPT:
	case PW_BCRYPT:
		return pwi_verify_crypt(body, s, password, len, err);
	case PW_APR1:
		return pwi_verify_apr1(body, password, len);
	case PW_SHA1:
	case PW_SSHA1:
	case PW_SHA256:
	case PW_SSHA256:
	case PW_SHA512:
	case PW_SSHA512:
	case PW_MD5:
	case PW_SMD5:
		return pwi_verify_digest(body, s, password, len);
	case PW_PLAIN:
		return vs_fail(err, VS_EINVAL,
		    "refusing to verify against a clear-text password");
	case PW_UNKNOWN:
	case PW_SCHEME_COUNT:
		break;
	}
	return vs_fail(err, VS_EINVAL, "unknown password hash scheme");
}

bool
pw_needs_upgrade(const char *stored, const struct pw_cost *cost)
{
	char buf[PW_HASH_MAX];
	const char *body;
	size_t n;
	int r;

	if (stored == NULL || cost == NULL)
		return true;
	if (strnlen(stored, PW_HASH_MAX) >= PW_HASH_MAX)
		return true;
	if (identify(stored, &body) == PW_VMSEAL_ARGON2ID)
		return pwi_key_needs_upgrade(body, cost);
	if (identify(stored, &body) != PW_ARGON2ID)
		return true;
	n = strlen(body);
	if (n >= crypto_pwhash_argon2id_STRBYTES)
		return true;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, body, n);
	r = crypto_pwhash_argon2id_str_needs_rehash(buf, cost->opslimit,
	    cost->memlimit);
	return r != 0;
}
