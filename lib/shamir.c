/*
 * shamir.c - Shamir's secret sharing of the recovery key over GF(256), and
 * the shares' paper form (see shamir.h for the format).
 *
 * Arithmetic: GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (0x11b, as in AES).
 * Multiplication runs over all 8 bits of the multiplier with masks instead
 * of branches, and inversion is a^254 by a fixed chain of squarings and
 * multiplications, so neither time nor memory access depends on the values
 * (no log/exp tables: their lookups would be indexed by secret bytes).
 *
 * Paper form: 80 symbols (values 0-31 of Crockford's alphabet) in 16 groups
 * of 4 symbols and a check symbol; the check symbol of group g (1-16) is the
 * Luhn mod 32 check character of (g, d1, d2, d3, d4), as in reckey.c: it
 * catches every single substitution, nearly every adjacent transposition,
 * and a group moved to another position (g contributes 2g folded mod 32:
 * 2, 4, ..., 30, then 1 for g = 16, all distinct).  The code is a sibling of
 * reckey.c's rather than shared with it, so that reckey's API, format and
 * tests stay exactly as they are.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "crockford.h"
#include "shamir.h"

#define GROUP_LEN 5
#define SYMBOLS (SHAMIR_GROUPS * GROUP_LEN)
#define FORMAT_VERSION 1
/* Symbol offsets of the groups. */
#define HDR_AT 0
#define ID_AT (1 * GROUP_LEN)
#define DATA_AT (2 * GROUP_LEN)
#define DATA_GROUPS 13
#define SUM_GROUP (SHAMIR_GROUPS - 1)
#define SUM_AT (SUM_GROUP * GROUP_LEN)

static const char domain_sep[] = "vmseal-share-v1";

/* ---- GF(2^8) ---- */

uint8_t
shamir_gf_mul(uint8_t a, uint8_t b)
{
	unsigned int x = a, y = b, p = 0, i;

	for (i = 0; i < 8; i++) {
		/* p ^= x if the low bit of y is set */
		p ^= x & (0u - (y & 1u));
		/* x *= X, reduced modulo 0x11b if bit 7 was set */
		x = (x << 1) ^ (0x11bu & (0u - (x >> 7)));
		y >>= 1;
	}
	return (uint8_t)p;
}

uint8_t
shamir_gf_inv(uint8_t a)
{
	uint8_t sq, r;
	int i;

	/* a^254 = a^2 * a^4 * a^8 * a^16 * a^32 * a^64 * a^128 */
	sq = shamir_gf_mul(a, a);
	r = sq;
	for (i = 0; i < 6; i++) {
		sq = shamir_gf_mul(sq, sq);
		r = shamir_gf_mul(r, sq);
	}
	sq = 0;
	return r;
}

/* ---- splitting and combining ---- */

int
shamir_split(const uint8_t secret[SHAMIR_SECRET_BYTES], unsigned n,
    unsigned k, uint8_t shares[][SHAMIR_SHARE_BYTES], struct vs_err *err)
{
	/* coef[j][b]: coefficient of x^(j+1) of the polynomial of byte b. */
	uint8_t coef[SHAMIR_MAX_SHARES - 1][SHAMIR_SECRET_BYTES];
	uint8_t id[2];
	uint8_t x, y;
	unsigned i, j, b;

	if (n < SHAMIR_MIN_SHARES || n > SHAMIR_MAX_SHARES)
		return vs_fail(err, VS_EINVAL, "the number of recovery shares"
		    " must be between %d and %d", SHAMIR_MIN_SHARES,
		    SHAMIR_MAX_SHARES);
	if (k < SHAMIR_MIN_SHARES || k > n)
		return vs_fail(err, VS_EINVAL, "the recovery threshold must be"
		    " between %d and the number of shares (%u)",
		    SHAMIR_MIN_SHARES, n);

	/* Uniform coefficients, zero included: with any k-1 points fixed,
	 * every constant term remains reached by exactly one polynomial. */
	randombytes_buf(coef, (size_t)(k - 1) * SHAMIR_SECRET_BYTES);
	randombytes_buf(id, sizeof(id));

	for (i = 0; i < n; i++) {
		x = (uint8_t)(i + 1);
		shares[i][0] = x;
		for (b = 0; b < SHAMIR_SECRET_BYTES; b++) {
			/* Horner: ((c[k-2] x + c[k-3]) x + ... + c[0]) x + s */
			y = coef[k - 2][b];
			for (j = k - 2; j > 0; j--)
				y = shamir_gf_mul(y, x) ^ coef[j - 1][b];
			y = shamir_gf_mul(y, x) ^ secret[b];
			shares[i][1 + b] = y;
		}
		shares[i][1 + SHAMIR_SECRET_BYTES] = id[0];
		shares[i][2 + SHAMIR_SECRET_BYTES] = id[1];
	}

	sodium_memzero(coef, sizeof(coef));
	sodium_memzero(&y, sizeof(y));
	sodium_memzero(id, sizeof(id));
	return VS_OK;
}

int
shamir_combine(const uint8_t shares[][SHAMIR_SHARE_BYTES], unsigned k,
    uint8_t secret_r[SHAMIR_SECRET_BYTES], struct vs_err *err)
{
	uint8_t out[SHAMIR_SECRET_BYTES];
	uint8_t num, den, l;
	unsigned i, j, b;

	sodium_memzero(secret_r, SHAMIR_SECRET_BYTES);
	if (k < SHAMIR_MIN_SHARES || k > SHAMIR_MAX_SHARES)
		return vs_fail(err, VS_EINVAL, "between %d and %d recovery"
		    " shares are needed, %u given", SHAMIR_MIN_SHARES,
		    SHAMIR_MAX_SHARES, k);
	for (i = 0; i < k; i++) {
		if (shares[i][0] == 0 || shares[i][0] > SHAMIR_MAX_SHARES)
			return vs_fail(err, VS_EINVAL, "recovery share %u of"
			    " those given has an invalid index", i + 1);
		if (shares[i][1 + SHAMIR_SECRET_BYTES] !=
		    shares[0][1 + SHAMIR_SECRET_BYTES] ||
		    shares[i][2 + SHAMIR_SECRET_BYTES] !=
		    shares[0][2 + SHAMIR_SECRET_BYTES])
			return vs_fail(err, VS_EINVAL, "recovery shares are"
			    " from different splits");
		for (j = 0; j < i; j++)
			if (shares[j][0] == shares[i][0])
				return vs_fail(err, VS_EINVAL, "recovery"
				    " share %u was given twice", shares[i][0]);
	}

	memset(out, 0, sizeof(out));
	for (i = 0; i < k; i++) {
		/* Lagrange basis polynomial i at 0:
		 * l_i = prod_{j != i} x_j / (x_j - x_i); "-" is XOR. */
		num = 1;
		den = 1;
		for (j = 0; j < k; j++) {
			if (j == i)
				continue;
			num = shamir_gf_mul(num, shares[j][0]);
			den = shamir_gf_mul(den, shares[j][0] ^ shares[i][0]);
		}
		l = shamir_gf_mul(num, shamir_gf_inv(den));
		for (b = 0; b < SHAMIR_SECRET_BYTES; b++)
			out[b] ^= shamir_gf_mul(l, shares[i][1 + b]);
	}
	memcpy(secret_r, out, SHAMIR_SECRET_BYTES);
	sodium_memzero(out, sizeof(out));
	return VS_OK;
}

/* ---- paper form ---- */


/* nin bytes, most significant bit first, into nsym 5-bit symbols, padded
 * with zero bits. */
static void
pack(const uint8_t *in, size_t nin, uint8_t *sym, size_t nsym)
{
	uint32_t acc = 0;
	unsigned int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < nin; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			sym[o++] = (uint8_t)((acc >> bits) & 31);
		}
	}
	if (bits > 0)
		sym[o++] = (uint8_t)((acc << (5 - bits)) & 31);
	while (o < nsym)
		sym[o++] = 0;
	sodium_memzero(&acc, sizeof(acc));
}

/* The reverse of pack; returns 0, or -1 if the padding bits are not 0. */
static int
unpack(const uint8_t *sym, size_t nsym, uint8_t *out, size_t nout)
{
	uint32_t acc = 0;
	unsigned int bits = 0;
	size_t i, o = 0;
	int rc;

	for (i = 0; i < nsym; i++) {
		acc = (acc << 5) | sym[i];
		bits += 5;
		if (bits >= 8 && o < nout) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	rc = (o == nout && bits < 8 && (acc & ((1u << bits) - 1)) == 0) ?
	    0 : -1;
	sodium_memzero(&acc, sizeof(acc));
	return rc;
}

/* First 20 bits of the checksum of a share as 4 symbols. */
static void
checksum(const uint8_t share[SHAMIR_SHARE_BYTES], unsigned k, unsigned n,
    uint8_t sym[4])
{
	crypto_generichash_state st;
	uint8_t h[crypto_generichash_BYTES];
	uint8_t hdr[3];
	uint32_t v;

	hdr[0] = share[0];
	hdr[1] = (uint8_t)n;
	hdr[2] = (uint8_t)k;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)domain_sep,
	    sizeof(domain_sep) - 1);
	crypto_generichash_update(&st, hdr, sizeof(hdr));
	crypto_generichash_update(&st, &share[1 + SHAMIR_SECRET_BYTES], 2);
	crypto_generichash_update(&st, &share[1], SHAMIR_SECRET_BYTES);
	crypto_generichash_final(&st, h, sizeof(h));
	v = ((uint32_t)h[0] << 12) | ((uint32_t)h[1] << 4) | (h[2] >> 4);
	sym[0] = (uint8_t)((v >> 15) & 31);
	sym[1] = (uint8_t)((v >> 10) & 31);
	sym[2] = (uint8_t)((v >> 5) & 31);
	sym[3] = (uint8_t)(v & 31);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(&v, sizeof(v));
}

static int
header_ok(unsigned i, unsigned k, unsigned n)
{
	return n >= SHAMIR_MIN_SHARES && n <= SHAMIR_MAX_SHARES &&
	    k >= SHAMIR_MIN_SHARES && k <= n && i >= 1 && i <= n;
}

void
shamir_share_encode(const uint8_t share[SHAMIR_SHARE_BYTES], unsigned k,
    unsigned n, char *out, size_t outlen)
{
	uint8_t sym[SYMBOLS];
	int g;

	if (out == NULL || outlen == 0)
		return;
	out[0] = '\0';
	if (outlen < SHAMIR_TEXT_BUF || !header_ok(share[0], k, n))
		return;

	sym[HDR_AT + 0] = share[0];
	sym[HDR_AT + 1] = (uint8_t)n;
	sym[HDR_AT + 2] = (uint8_t)k;
	sym[HDR_AT + 3] = FORMAT_VERSION;
	pack(&share[1 + SHAMIR_SECRET_BYTES], 2, &sym[ID_AT], 4);
	{
		uint8_t data[DATA_GROUPS * 4];

		pack(&share[1], SHAMIR_SECRET_BYTES, data, sizeof(data));
		for (g = 0; g < DATA_GROUPS; g++)
			memcpy(&sym[DATA_AT + g * GROUP_LEN], &data[g * 4], 4);
		sodium_memzero(data, sizeof(data));
	}
	checksum(share, k, n, &sym[SUM_AT]);
	crockford_set_checks(sym, SHAMIR_GROUPS);
	crockford_format(sym, SHAMIR_GROUPS, out);
	sodium_memzero(sym, sizeof(sym));
}


static int
fail(uint8_t *share_r, unsigned *k_r, unsigned *n_r, uint8_t *sym,
    struct vs_err *err, const char *msg, int group)
{
	sodium_memzero(sym, SYMBOLS);
	sodium_memzero(share_r, SHAMIR_SHARE_BYTES);
	if (k_r != NULL)
		*k_r = 0;
	if (n_r != NULL)
		*n_r = 0;
	if (group > 0)
		return vs_fail(err, VS_EINVAL, "share group %d %s", group,
		    msg);
	return vs_fail(err, VS_EINVAL, "share %s", msg);
}

int
shamir_share_decode(const char *text, size_t len,
    uint8_t share_r[SHAMIR_SHARE_BYTES], unsigned *k_r, unsigned *n_r,
    struct vs_err *err)
{
	uint8_t sym[SYMBOLS] = { 0 };
	uint8_t share[SHAMIR_SHARE_BYTES];
	uint8_t data[DATA_GROUPS * 4];
	uint8_t sum[4];
	unsigned int idx, n, k;
	int g, bad;

	if (len > SHAMIR_INPUT_MAX)
		return fail(share_r, k_r, n_r, sym, err,
		    "is too long (16 groups of 5 expected)", 0);
	switch (crockford_read(text, len, sym, SYMBOLS, &g)) {
	case CROCKFORD_READ_OK:
		break;
	case CROCKFORD_READ_LONG:
		return fail(share_r, k_r, n_r, sym, err,
		    "is too long (16 groups of 5 expected)", 0);
	case CROCKFORD_READ_SHORT:
		return fail(share_r, k_r, n_r, sym, err,
		    "is too short (16 groups of 5 expected)", 0);
	default:
		return fail(share_r, k_r, n_r, sym, err,
		    "has an invalid character", g);
	}
	if ((g = crockford_bad_group(sym, SHAMIR_GROUPS)) != 0)
		return fail(share_r, k_r, n_r, sym, err, "has a typo", g);

	if (sym[HDR_AT + 3] != FORMAT_VERSION)
		return fail(share_r, k_r, n_r, sym, err, "is in an unknown"
		    " format (not a vmseal recovery share, or from a newer"
		    " version)", 0);
	idx = sym[HDR_AT + 0];
	n = sym[HDR_AT + 1];
	k = sym[HDR_AT + 2];
	if (!header_ok(idx, k, n))
		return fail(share_r, k_r, n_r, sym, err, "does not state a"
		    " valid share number, count and threshold", 1);

	share[0] = (uint8_t)idx;
	if (unpack(&sym[ID_AT], 4, &share[1 + SHAMIR_SECRET_BYTES], 2) != 0) {
		sodium_memzero(share, sizeof(share));
		return fail(share_r, k_r, n_r, sym, err, "has a typo", 2);
	}
	for (g = 0; g < DATA_GROUPS; g++)
		memcpy(&data[g * 4], &sym[DATA_AT + g * GROUP_LEN], 4);
	bad = unpack(data, sizeof(data), &share[1], SHAMIR_SECRET_BYTES);
	sodium_memzero(data, sizeof(data));
	if (bad != 0) {
		sodium_memzero(share, sizeof(share));
		return fail(share_r, k_r, n_r, sym, err, "has a typo",
		    2 + DATA_GROUPS);
	}

	checksum(share, k, n, sum);
	bad = sodium_memcmp(sum, &sym[SUM_AT], 4);
	sodium_memzero(sum, sizeof(sum));
	if (bad != 0) {
		sodium_memzero(share, sizeof(share));
		return fail(share_r, k_r, n_r, sym, err, "checksum does not"
		    " match (a group was swapped or mistyped)", 0);
	}
	memcpy(share_r, share, SHAMIR_SHARE_BYTES);
	if (k_r != NULL)
		*k_r = k;
	if (n_r != NULL)
		*n_r = n;
	sodium_memzero(share, sizeof(share));
	sodium_memzero(sym, sizeof(sym));
	return VS_OK;
}
