/*
 * test_shamir.c - unit tests for lib/shamir.c: GF(256) arithmetic (against
 * table-based reference arithmetic), splitting and combining the recovery
 * key, the secrecy of fewer than k shares, and the shares' paper form.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <cmocka.h>

#include <sodium.h>

#include "shamir.h"

#define SB SHAMIR_SHARE_BYTES
#define KB SHAMIR_SECRET_BYTES
#define NSYM (SHAMIR_GROUPS * 5)

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* ---- reference GF(2^8): log/exp tables over the generator 3 ---- */

static uint8_t gf_exp[510], gf_log[256];

static void
build_tables(void)
{
	unsigned int x = 1, i;

	for (i = 0; i < 255; i++) {
		gf_exp[i] = gf_exp[i + 255] = (uint8_t)x;
		gf_log[x] = (uint8_t)i;
		/* x *= 3, i.e. x ^ xtime(x) */
		x ^= (x << 1) ^ ((x & 0x80) ? 0x11b : 0);
		x &= 0xff;
	}
	assert_int_equal(x, 1);		/* 3 has order 255 */
}

static uint8_t
ref_mul(uint8_t a, uint8_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return gf_exp[gf_log[a] + gf_log[b]];
}

static uint8_t
ref_inv(uint8_t a)
{
	return a == 0 ? 0 : gf_exp[255 - gf_log[a]];
}

static void
test_gf_against_tables(void **state)
{
	unsigned int a, b;

	(void)state;
	build_tables();
	/* Worked example of FIPS-197 section 4.2. */
	assert_int_equal(shamir_gf_mul(0x57, 0x83), 0xc1);
	assert_int_equal(shamir_gf_mul(0x57, 0x13), 0xfe);
	for (a = 0; a < 256; a++) {
		for (b = 0; b < 256; b++)
			if (shamir_gf_mul((uint8_t)a, (uint8_t)b) !=
			    ref_mul((uint8_t)a, (uint8_t)b))
				fail_msg("%02x * %02x: got %02x want %02x", a,
				    b, shamir_gf_mul((uint8_t)a, (uint8_t)b),
				    ref_mul((uint8_t)a, (uint8_t)b));
		assert_int_equal(shamir_gf_inv((uint8_t)a),
		    ref_inv((uint8_t)a));
		if (a != 0)
			assert_int_equal(shamir_gf_mul((uint8_t)a,
			    shamir_gf_inv((uint8_t)a)), 1);
	}
	assert_int_equal(shamir_gf_inv(0), 0);
	assert_int_equal(shamir_gf_inv(0x53), 0xca);	/* FIPS-197 5.1.1 */
}

/* ---- helpers ---- */

static unsigned
rnd(unsigned n)
{
	return randombytes_uniform(n);
}

static void
shuffle(unsigned *v, unsigned n)
{
	unsigned i, j, t;

	for (i = n; i > 1; i--) {
		j = rnd(i);
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* Combine the shares picked by idx[0..k-1]; returns the status. */
static int
combine_pick(uint8_t shares[][SB], const unsigned *idx, unsigned k,
    uint8_t out[KB], struct vs_err *err)
{
	uint8_t pick[SHAMIR_MAX_SHARES][SB];
	unsigned i;
	int rc;

	for (i = 0; i < k; i++)
		memcpy(pick[i], shares[idx[i]], SB);
	vs_err_clear(err);
	rc = shamir_combine((const uint8_t (*)[SB])pick, k, out, err);
	sodium_memzero(pick, sizeof(pick));
	return rc;
}

/* ---- split / combine ---- */

static void
test_round_trip_all_k_n(void **state)
{
	uint8_t secret[KB], back[KB], shares[SHAMIR_MAX_SHARES][SB];
	unsigned idx[SHAMIR_MAX_SHARES], n, k, i, t;
	struct vs_err err;

	(void)state;
	for (n = 2; n <= 8; n++) {
		for (k = 2; k <= n; k++) {
			for (t = 0; t < 40; t++) {
				randombytes_buf(secret, sizeof(secret));
				if (t == 0)
					memset(secret, 0, sizeof(secret));
				if (t == 1)
					memset(secret, 0xff, sizeof(secret));
				vs_err_clear(&err);
				assert_int_equal(shamir_split(secret, n, k,
				    shares, &err), VS_OK);
				for (i = 0; i < n; i++) {
					assert_int_equal(shares[i][0], i + 1);
					assert_memory_equal(&shares[i][1 + KB],
					    &shares[0][1 + KB], 2);
					idx[i] = i;
				}
				/* First k, in order. */
				assert_int_equal(combine_pick(shares, idx, k,
				    back, &err), VS_OK);
				assert_memory_equal(secret, back, KB);
				/* A random k of n, in random order. */
				shuffle(idx, n);
				assert_int_equal(combine_pick(shares, idx, k,
				    back, &err), VS_OK);
				assert_memory_equal(secret, back, KB);
				/* More than k shares also work. */
				assert_int_equal(combine_pick(shares, idx, n,
				    back, &err), VS_OK);
				assert_memory_equal(secret, back, KB);
			}
		}
	}
	/* The widest split. */
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(shamir_split(secret, 16, 16, shares, &err), VS_OK);
	for (i = 0; i < 16; i++)
		idx[i] = i;
	shuffle(idx, 16);
	assert_int_equal(combine_pick(shares, idx, 16, back, &err), VS_OK);
	assert_memory_equal(secret, back, KB);
}

/* 3 of 5: each of the 10 subsets, in each of its 6 orders. */
static void
test_3_of_5_every_subset_and_order(void **state)
{
	static const unsigned perm[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	uint8_t secret[KB], back[KB], shares[5][SB];
	unsigned a, b, c, p, idx[3], set[3], subsets = 0;
	struct vs_err err;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(shamir_split(secret, 5, 3, shares, &err), VS_OK);
	for (a = 0; a < 5; a++)
		for (b = a + 1; b < 5; b++)
			for (c = b + 1; c < 5; c++) {
				set[0] = a;
				set[1] = b;
				set[2] = c;
				subsets++;
				for (p = 0; p < 6; p++) {
					idx[0] = set[perm[p][0]];
					idx[1] = set[perm[p][1]];
					idx[2] = set[perm[p][2]];
					memset(back, 0, sizeof(back));
					assert_int_equal(combine_pick(shares,
					    idx, 3, back, &err), VS_OK);
					assert_memory_equal(secret, back, KB);
				}
			}
	assert_int_equal(subsets, 10);
}

/* k-1 shares interpolate to something else (a degree k-2 curve through
 * them), never to the secret except with probability 2^-256. */
static void
test_fewer_than_k(void **state)
{
	uint8_t secret[KB], back[KB], shares[SHAMIR_MAX_SHARES][SB];
	unsigned idx[SHAMIR_MAX_SHARES], n, k, i, t;
	struct vs_err err;

	(void)state;
	for (n = 3; n <= 8; n++)
		for (k = 3; k <= n; k++)
			for (t = 0; t < 10; t++) {
				randombytes_buf(secret, sizeof(secret));
				assert_int_equal(shamir_split(secret, n, k,
				    shares, &err), VS_OK);
				for (i = 0; i < n; i++)
					idx[i] = i;
				shuffle(idx, n);
				assert_int_equal(combine_pick(shares, idx,
				    k - 1, back, &err), VS_OK);
				assert_memory_not_equal(secret, back, KB);
			}
	/* 2 of a 3-of-5 split, all 10 pairs. */
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(shamir_split(secret, 5, 3, shares, &err), VS_OK);
	for (idx[0] = 0; idx[0] < 5; idx[0]++)
		for (idx[1] = idx[0] + 1; idx[1] < 5; idx[1]++) {
			assert_int_equal(combine_pick(shares, idx, 2, back,
			    &err), VS_OK);
			assert_memory_not_equal(secret, back, KB);
		}
	/* A single share is not accepted at all. */
	idx[0] = 0;
	memset(back, 0x77, sizeof(back));
	assert_int_equal(combine_pick(shares, idx, 1, back, &err), VS_EINVAL);
	for (i = 0; i < KB; i++)
		assert_int_equal(back[i], 0);
}

/*
 * "k-1 shares reveal nothing", on real splits (shamir_split).
 *
 * 1. Structure: take k-1 shares of a real split of a secret.  For every
 *    value of a secret byte there is exactly one value of the missing
 *    share's byte that completes them to it (checked through
 *    shamir_combine with the k-th share's byte running over all 256
 *    values): the k-1 shares are consistent with every secret alike.
 *
 * 2. Distribution: the k-1 shares of a split are uniform whatever the
 *    secret.  With the secret bytes fixed at 0x00, 0xa5 and a random
 *    value, the bytes at one position of k-1 shares (one byte for k = 2,
 *    the pair for k = 3, i.e. 65536 cells) are counted over many splits
 *    and must pass a chi-square test of uniformity; and the degree k-2
 *    interpolation of the k-1 shares at 0 (what an attacker holding them
 *    would guess) must equal the secret byte as often as any other value
 *    (1/256).  This fails if the split leaked: a degree too low (k-1
 *    shares give the secret), coefficients derived from the secret, a
 *    coefficient that is never zero (the guess is then never the secret),
 *    or biased coefficients.
 */

/* Chi-square statistic of counts against a uniform expectation. */
static double
chi_square(const unsigned *count, size_t cells, double expected)
{
	double chi = 0, d;
	size_t i;

	for (i = 0; i < cells; i++) {
		d = (double)count[i] - expected;
		chi += d * d / expected;
	}
	return chi;
}

static void
test_k_minus_1_reveal_nothing(void **state)
{
	static const struct {
		unsigned n, k;
		unsigned keep[3];       /* 0-based share numbers: k-1 of them */
		unsigned missing;       /* a share number not kept */
	} cases[] = {
		{ 2, 2, { 1 }, 0 },
		{ 5, 2, { 3 }, 4 },
		{ 5, 3, { 0, 4 }, 2 },
		{ 16, 3, { 6, 15 }, 0 },
		{ 8, 4, { 1, 2, 7 }, 5 },
	};
	uint8_t secret[KB], out[KB], guess[KB];
	uint8_t shares[SHAMIR_MAX_SHARES][SB], pick[SHAMIR_MAX_SHARES][SB];
	unsigned seen[256], fill, i, j, v, b, t;
	unsigned *count, hits[256];
	struct vs_err err;
	double chi, df;

	(void)state;
	/* 1. Every secret byte completes the k-1 shares exactly once. */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned k = cases[i].k;

		randombytes_buf(secret, sizeof(secret));
		vs_err_clear(&err);
		assert_int_equal(shamir_split(secret, cases[i].n, k, shares,
		    &err), VS_OK);
		for (j = 0; j + 1 < k; j++)
			memcpy(pick[j], shares[cases[i].keep[j]], SB);
		memcpy(pick[k - 1], shares[cases[i].missing], SB);
		/* The true k-th share gives the secret back. */
		assert_int_equal(shamir_combine((const uint8_t (*)[SB])pick, k,
		    out, &err), VS_OK);
		assert_memory_equal(out, secret, KB);
		for (b = 0; b < KB; b++) {
			memset(seen, 0, sizeof(seen));
			for (v = 0; v < 256; v++) {
				pick[k - 1][1 + b] = (uint8_t)v;
				assert_int_equal(shamir_combine(
				    (const uint8_t (*)[SB])pick, k, out, &err),
				    VS_OK);
				seen[out[b]]++;
				/* the other bytes do not move */
				assert_memory_equal(out, secret, b);
			}
			pick[k - 1][1 + b] = shares[cases[i].missing][1 + b];
			for (v = 0; v < 256; v++)
				if (seen[v] != 1)
					fail_msg("%u-of-%u, byte %u: secret "
					    "value %02x completed by %u share "
					    "values", k, cases[i].n, b, v,
					    seen[v]);
		}
	}

	/* 2. The distribution of k-1 shares does not depend on the
	 * secret. */
	count = calloc(65536, sizeof(*count));
	assert_non_null(count);
	for (fill = 0; fill < 3; fill++) {
		if (fill == 2)
			randombytes_buf(secret, sizeof(secret));
		else
			memset(secret, fill ? 0xa5 : 0x00, sizeof(secret));

		/* k = 2 of n = 3: share 3's bytes, 256 cells; 4096 splits of
		 * 32 bytes, 512 expected per cell. */
		memset(count, 0, 256 * sizeof(*count));
		memset(hits, 0, sizeof(hits));
		for (t = 0; t < 4096; t++) {
			assert_int_equal(shamir_split(secret, 3, 2, shares,
			    &err), VS_OK);
			for (b = 0; b < KB; b++) {
				count[shares[2][1 + b]]++;
				/* a single share is a degree-0 guess */
				hits[shares[2][1 + b] ^ secret[b]]++;
			}
		}
		/* 255 degrees of freedom: mean 255, sd 22.6; 8 sd. */
		chi = chi_square(count, 256, 4096.0 * KB / 256);
		if (chi > 255 + 8 * 22.6)
			fail_msg("2-of-3, secret fill %u: share byte not "
			    "uniform (chi-square %.0f)", fill, chi);
		chi = chi_square(hits, 256, 4096.0 * KB / 256);
		if (chi > 255 + 8 * 22.6)
			fail_msg("2-of-3, secret fill %u: share minus secret "
			    "not uniform (chi-square %.0f, %u hits on the "
			    "secret itself)", fill, chi, hits[0]);

		/* k = 3 of n = 5, shares 2 and 5: the pair of bytes at one
		 * position, 65536 cells; 16384 splits of 32 positions, 8
		 * expected per cell; and the guess from the two shares. */
		memset(count, 0, 65536 * sizeof(*count));
		memset(hits, 0, sizeof(hits));
		for (t = 0; t < 16384; t++) {
			assert_int_equal(shamir_split(secret, 5, 3, shares,
			    &err), VS_OK);
			memcpy(pick[0], shares[1], SB);
			memcpy(pick[1], shares[4], SB);
			assert_int_equal(shamir_combine(
			    (const uint8_t (*)[SB])pick, 2, guess, &err),
			    VS_OK);
			for (b = 0; b < KB; b++) {
				count[(unsigned)shares[1][1 + b] << 8 |
				    shares[4][1 + b]]++;
				hits[guess[b] ^ secret[b]]++;
			}
		}
		/* 65535 degrees of freedom: sd 362; 8 sd. */
		df = 65535;
		chi = chi_square(count, 65536, 16384.0 * KB / 65536);
		if (chi > df + 8 * 362)
			fail_msg("3-of-5, secret fill %u: pairs of share bytes "
			    "not uniform (chi-square %.0f)", fill, chi);
		/* The guess is right 1 time in 256, like any other value:
		 * 2048 expected per value. */
		chi = chi_square(hits, 256, 16384.0 * KB / 256);
		if (chi > 255 + 8 * 22.6)
			fail_msg("3-of-5, secret fill %u: the guess from 2 "
			    "shares is not uniform around the secret "
			    "(chi-square %.0f, right %u times of %u)", fill,
			    chi, hits[0], 16384 * KB);
		if (hits[0] < 2048 - 8 * 45 || hits[0] > 2048 + 8 * 45)
			fail_msg("3-of-5, secret fill %u: the guess from 2 "
			    "shares is the secret %u times, want about 2048",
			    fill, hits[0]);
	}
	free(count);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(shares, sizeof(shares));
	sodium_memzero(pick, sizeof(pick));
}

/* Statistically: a share byte of a 2-of-2 split is uniform whatever the
 * secret (coefficients are uniform, zero included). */
static void
test_share_bytes_uniform(void **state)
{
	uint8_t secret[KB], shares[2][SB];
	unsigned count[256], t, b, v, fill;
	struct vs_err err;

	(void)state;
	for (fill = 0; fill < 2; fill++) {
		memset(secret, fill ? 0xff : 0x00, sizeof(secret));
		memset(count, 0, sizeof(count));
		for (t = 0; t < 8192; t++) {
			assert_int_equal(shamir_split(secret, 2, 2, shares,
			    &err), VS_OK);
			for (b = 0; b < KB; b++)
				count[shares[1][1 + b]]++;
		}
		/* 262144 samples, 1024 expected per value, sd 32: allow
		 * 8 standard deviations. */
		for (v = 0; v < 256; v++)
			if (count[v] < 768 || count[v] > 1280)
				fail_msg("share byte %02x seen %u times", v,
				    count[v]);
	}
}

static void
test_mixed_splits_refused(void **state)
{
	uint8_t secret[KB], back[KB], s1[5][SB], s2[5][SB], mix[3][SB];
	struct vs_err err;
	unsigned i;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(shamir_split(secret, 5, 3, s1, &err), VS_OK);
	/* Split ids are random: two splits differ (but for 1 in 65536). */
	for (i = 0; i < 4; i++) {
		assert_int_equal(shamir_split(secret, 5, 3, s2, &err), VS_OK);
		if (memcmp(&s1[0][1 + KB], &s2[0][1 + KB], 2) != 0)
			break;
	}
	assert_true(i < 4);
	/* Same secret, same k, distinct indices: still refused. */
	memcpy(mix[0], s1[0], SB);
	memcpy(mix[1], s1[1], SB);
	memcpy(mix[2], s2[2], SB);
	memset(back, 0x55, sizeof(back));
	vs_err_clear(&err);
	assert_int_equal(shamir_combine((const uint8_t (*)[SB])mix, 3, back,
	    &err), VS_EINVAL);
	assert_string_equal(err.msg, "recovery shares are from different"
	    " splits");
	for (i = 0; i < KB; i++)
		assert_int_equal(back[i], 0);
	/* Either order. */
	memcpy(mix[0], s2[4], SB);
	memcpy(mix[2], s1[2], SB);
	assert_int_equal(shamir_combine((const uint8_t (*)[SB])mix, 3, back,
	    &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "different splits"));
	/* Ids differing in one bit of either byte. */
	for (i = 0; i < 16; i++) {
		memcpy(mix[0], s1[0], SB);
		memcpy(mix[1], s1[1], SB);
		memcpy(mix[2], s1[2], SB);
		mix[1 + i % 2][1 + KB + i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(shamir_combine((const uint8_t (*)[SB])mix, 3,
		    back, &err), VS_EINVAL);
		assert_non_null(strstr(err.msg, "different splits"));
	}
}

static void
test_bad_indices_refused(void **state)
{
	uint8_t secret[KB], back[KB], s[5][SB], pick[3][SB];
	struct vs_err err;
	unsigned i;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(shamir_split(secret, 5, 3, s, &err), VS_OK);

	/* The same share twice. */
	memcpy(pick[0], s[1], SB);
	memcpy(pick[1], s[3], SB);
	memcpy(pick[2], s[1], SB);
	memset(back, 0x55, sizeof(back));
	vs_err_clear(&err);
	assert_int_equal(shamir_combine((const uint8_t (*)[SB])pick, 3, back,
	    &err), VS_EINVAL);
	assert_string_equal(err.msg, "recovery share 2 was given twice");
	for (i = 0; i < KB; i++)
		assert_int_equal(back[i], 0);

	/* Two different shares claiming the same index. */
	memcpy(pick[2], s[2], SB);
	pick[2][0] = 4;
	assert_int_equal(shamir_combine((const uint8_t (*)[SB])pick, 3, back,
	    &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "given twice"));

	/* Index 0 would be the secret itself; 17 is out of range. */
	memcpy(pick[2], s[2], SB);
	pick[2][0] = 0;
	assert_int_equal(shamir_combine((const uint8_t (*)[SB])pick, 3, back,
	    &err), VS_EINVAL);
	assert_string_equal(err.msg, "recovery share 3 of those given has an"
	    " invalid index");
	pick[2][0] = SHAMIR_MAX_SHARES + 1;
	assert_int_equal(shamir_combine((const uint8_t (*)[SB])pick, 3, back,
	    &err), VS_EINVAL);

	/* Counts. */
	assert_int_equal(shamir_combine((const uint8_t (*)[SB])pick, 0, back,
	    &err), VS_EINVAL);
	assert_int_equal(shamir_combine((const uint8_t (*)[SB])pick,
	    SHAMIR_MAX_SHARES + 1, back, &err), VS_EINVAL);
}

static void
test_split_arguments(void **state)
{
	static const unsigned bad[][2] = {
		{ 0, 0 }, { 1, 1 }, { 2, 1 }, { 2, 3 }, { 5, 6 }, { 5, 0 },
		{ 17, 3 }, { 17, 17 }, { 16, 17 }, { 100, 2 },
	};
	uint8_t secret[KB], shares[SHAMIR_MAX_SHARES][SB];
	struct vs_err err;
	size_t i, j;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(shares, 0xee, sizeof(shares));
		vs_err_clear(&err);
		assert_int_equal(shamir_split(secret, bad[i][0], bad[i][1],
		    shares, &err), VS_EINVAL);
		assert_int_equal(err.code, VS_EINVAL);
		assert_true(err.msg[0] != '\0');
		for (j = 0; j < sizeof(shares); j++)
			assert_int_equal(((uint8_t *)shares)[j], 0xee);
	}
	/* Edges that are fine. */
	assert_int_equal(shamir_split(secret, 2, 2, shares, &err), VS_OK);
	assert_int_equal(shamir_split(secret, 16, 2, shares, &err), VS_OK);
	assert_int_equal(shamir_split(secret, 16, 16, shares, &err), VS_OK);
}

/* ---- paper form ---- */

/* Offset in the text of character j (0-4) of group g (0-15). */
static size_t
at(int g, int j)
{
	return (size_t)g * 6 + (size_t)j;
}

static int
sym_of(char c)
{
	return (int)(strchr(alphabet, c) - alphabet);
}

/* Independent Luhn mod 32 over (group, d[0..3]) (symbol values). */
static int
luhn(int group, const int *d)
{
	int seq[5], sum = 0, i, v;

	seq[0] = group;
	for (i = 0; i < 4; i++)
		seq[i + 1] = d[i];
	for (i = 4; i >= 0; i--) {
		v = seq[i] * ((4 - i) % 2 == 0 ? 2 : 1);
		sum += v / 32 + v % 32;
	}
	return (32 - sum % 32) % 32;
}

/* Bits of p (nbits of them, MSB first) as symbols, zero-padded; the pad
 * value (0-15) goes into the 4 bits after them. */
static void
to_syms(const uint8_t *p, size_t nbytes, int *sym, size_t nsym, int pad)
{
	size_t bit, s;
	int v;

	for (s = 0; s < nsym; s++) {
		v = 0;
		for (bit = s * 5; bit < s * 5 + 5; bit++) {
			v <<= 1;
			if (bit < nbytes * 8)
				v |= (p[bit / 8] >> (7 - bit % 8)) & 1;
			else
				v |= (pad >> (3 - (bit - nbytes * 8))) & 1;
		}
		sym[s] = v;
	}
}

/* A second, independent encoder written from the format description in
 * shamir.h, with every field settable (for malformed but well-checked
 * input). */
static void
ref_encode(int i, int n, int k, int ver, const uint8_t id[2],
    const uint8_t y[KB], int id_pad, int y_pad, char out[SHAMIR_TEXT_BUF])
{
	int sym[NSYM], d[52], g, j, o;
	uint8_t h[32], hdr[3];
	crypto_generichash_state st;
	unsigned long v;

	sym[0] = i;
	sym[1] = n;
	sym[2] = k;
	sym[3] = ver;
	to_syms(id, 2, &sym[5], 4, id_pad);
	to_syms(y, KB, d, 52, y_pad);
	for (g = 0; g < 13; g++)
		for (j = 0; j < 4; j++)
			sym[(2 + g) * 5 + j] = d[g * 4 + j];
	hdr[0] = (uint8_t)i;
	hdr[1] = (uint8_t)n;
	hdr[2] = (uint8_t)k;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)"vmseal-share-v1", 15);
	crypto_generichash_update(&st, hdr, 3);
	crypto_generichash_update(&st, id, 2);
	crypto_generichash_update(&st, y, KB);
	crypto_generichash_final(&st, h, sizeof(h));
	v = ((unsigned long)h[0] << 12) | ((unsigned long)h[1] << 4) |
	    (h[2] >> 4);
	for (j = 0; j < 4; j++)
		sym[75 + j] = (int)((v >> (15 - 5 * j)) & 31);
	for (g = 0; g < 16; g++)
		sym[g * 5 + 4] = luhn(g + 1, &sym[g * 5]);
	o = 0;
	for (g = 0; g < 16; g++) {
		if (g > 0)
			out[o++] = '-';
		for (j = 0; j < 5; j++)
			out[o++] = alphabet[sym[g * 5 + j]];
	}
	out[o] = '\0';
}

static int
decode_str(const char *s, uint8_t share[SB], unsigned *k, unsigned *n,
    struct vs_err *err)
{
	vs_err_clear(err);
	return shamir_share_decode(s, strlen(s), share, k, n, err);
}

/* The message must not quote any group of text. */
static void
assert_no_quote(const char *msg, const char *text)
{
	char up[VS_ERR_MSG_MAX], grp[6];
	size_t i, g;

	for (i = 0; msg[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)msg[i]);
	up[i] = '\0';
	for (g = 0; g < SHAMIR_GROUPS; g++) {
		if (strlen(text) < at((int)g, 5))
			break;
		memcpy(grp, text + at((int)g, 0), 5);
		grp[5] = '\0';
		for (i = 0; i < 5; i++)
			grp[i] = (char)toupper((unsigned char)grp[i]);
		if (strstr(up, grp) != NULL)
			fail_msg("message \"%s\" quotes group %zu", msg, g + 1);
	}
}

static void
expect_error(const char *text, const char *want_exact, const char *sub)
{
	uint8_t share[SB];
	unsigned k = 99, n = 99;
	struct vs_err err;
	size_t i;

	memset(share, 0xa5, sizeof(share));
	if (decode_str(text, share, &k, &n, &err) != VS_EINVAL)
		fail_msg("\"%s\" decoded, want error", text);
	assert_int_equal(err.code, VS_EINVAL);
	if (want_exact != NULL && strcmp(err.msg, want_exact) != 0)
		fail_msg("\"%s\": error \"%s\", want \"%s\"", text, err.msg,
		    want_exact);
	if (sub != NULL && strstr(err.msg, sub) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", text, err.msg,
		    sub);
	assert_true(strncmp(err.msg, "share ", 6) == 0);
	assert_no_quote(err.msg, text);
	for (i = 0; i < sizeof(share); i++)
		assert_int_equal(share[i], 0);
	assert_int_equal(k, 0);
	assert_int_equal(n, 0);
}

static void
test_encode_shape_and_round_trip(void **state)
{
	uint8_t secret[KB], shares[SHAMIR_MAX_SHARES][SB], back[SB];
	char text[SHAMIR_TEXT_BUF + 8], ref[SHAMIR_TEXT_BUF];
	unsigned n, k, i, kk, nn;
	struct vs_err err;
	int g, j;

	(void)state;
	assert_int_equal(SHAMIR_TEXT_LEN, 95);
	for (n = 2; n <= SHAMIR_MAX_SHARES; n++)
		for (k = 2; k <= n; k += 3) {
			randombytes_buf(secret, sizeof(secret));
			assert_int_equal(shamir_split(secret, n, k, shares,
			    &err), VS_OK);
			for (i = 0; i < n; i++) {
				memset(text, '#', sizeof(text));
				shamir_share_encode(shares[i], k, n, text,
				    SHAMIR_TEXT_BUF);
				assert_int_equal(strlen(text),
				    SHAMIR_TEXT_LEN);
				assert_int_equal(text[SHAMIR_TEXT_BUF], '#');
				for (g = 0; g < SHAMIR_GROUPS; g++) {
					for (j = 0; j < 5; j++)
						assert_non_null(strchr(
						    alphabet, text[at(g, j)]));
					if (g < SHAMIR_GROUPS - 1)
						assert_int_equal(
						    text[at(g, 5)], '-');
				}
				/* "share i of n, k needed", version 1 */
				assert_int_equal(text[0], alphabet[i + 1]);
				assert_int_equal(text[1], alphabet[n]);
				assert_int_equal(text[2], alphabet[k]);
				assert_int_equal(text[3], '1');
				/* Same text as the independent encoder. */
				ref_encode((int)i + 1, (int)n, (int)k, 1,
				    &shares[i][1 + KB], &shares[i][1], 0, 0,
				    ref);
				assert_string_equal(text, ref);
				memset(back, 0, sizeof(back));
				assert_int_equal(decode_str(text, back, &kk,
				    &nn, &err), VS_OK);
				assert_memory_equal(back, shares[i], SB);
				assert_int_equal(kk, k);
				assert_int_equal(nn, n);
			}
		}
	/* k_r and n_r may be NULL. */
	assert_int_equal(decode_str(text, back, NULL, NULL, &err), VS_OK);
}

static void
test_encode_refuses_bad_input(void **state)
{
	uint8_t share[SB];
	char text[SHAMIR_TEXT_BUF];

	(void)state;
	randombytes_buf(share, sizeof(share));
	share[0] = 3;
	/* Too small a buffer. */
	memset(text, '#', sizeof(text));
	shamir_share_encode(share, 3, 5, text, SHAMIR_TEXT_BUF - 1);
	assert_string_equal(text, "");
	shamir_share_encode(share, 3, 5, text, 0);
	/* Bad header values. */
	shamir_share_encode(share, 3, 2, text, sizeof(text));
	assert_string_equal(text, "");
	shamir_share_encode(share, 1, 5, text, sizeof(text));
	assert_string_equal(text, "");
	shamir_share_encode(share, 6, 5, text, sizeof(text));
	assert_string_equal(text, "");
	shamir_share_encode(share, 3, 17, text, sizeof(text));
	assert_string_equal(text, "");
	share[0] = 0;
	shamir_share_encode(share, 3, 5, text, sizeof(text));
	assert_string_equal(text, "");
	share[0] = 3;
	shamir_share_encode(share, 3, 5, text, sizeof(text));
	assert_int_equal(strlen(text), SHAMIR_TEXT_LEN);
}

/* Every single substitution by another symbol, in every position, is
 * caught by the check of the group that holds it, and the group named. */
static void
test_substitutions(void **state)
{
	uint8_t secret[KB], shares[5][SB], back[SB];
	char text[SHAMIR_TEXT_BUF], bad[SHAMIR_TEXT_BUF], want[64];
	struct vs_err err;
	unsigned kk, nn;
	int t, g, j, a, orig;

	(void)state;
	for (t = 0; t < 5; t++) {
		randombytes_buf(secret, sizeof(secret));
		assert_int_equal(shamir_split(secret, 5, 3, shares, &err),
		    VS_OK);
		shamir_share_encode(shares[t], 3, 5, text, sizeof(text));
		for (g = 0; g < SHAMIR_GROUPS; g++) {
			snprintf(want, sizeof(want),
			    "share group %d has a typo", g + 1);
			for (j = 0; j < 5; j++) {
				orig = text[at(g, j)];
				for (a = 0; a < 32; a++) {
					if (alphabet[a] == orig)
						continue;
					memcpy(bad, text, sizeof(bad));
					bad[at(g, j)] = alphabet[a];
					assert_int_equal(decode_str(bad, back,
					    &kk, &nn, &err), VS_EINVAL);
					if (strcmp(err.msg, want) != 0)
						fail_msg("position %d.%d -> %c:"
						    " \"%s\"", g + 1, j + 1,
						    alphabet[a], err.msg);
				}
			}
		}
	}
}

/* Adjacent transpositions never give a wrong share. */
static void
test_transpositions(void **state)
{
	uint8_t secret[KB], shares[5][SB], back[SB];
	char text[SHAMIR_TEXT_BUF], sym[NSYM + 1], bad[NSYM + 1];
	struct vs_err err;
	unsigned kk, nn;
	int t, i, caught = 0, by_group = 0;
	size_t c, o;

	(void)state;
	for (t = 0; t < 100; t++) {
		randombytes_buf(secret, sizeof(secret));
		assert_int_equal(shamir_split(secret, 5, 3, shares, &err),
		    VS_OK);
		shamir_share_encode(shares[t % 5], 3, 5, text, sizeof(text));
		for (c = 0, o = 0; text[c] != '\0'; c++)
			if (text[c] != '-')
				sym[o++] = text[c];
		sym[o] = '\0';
		for (i = 0; i + 1 < NSYM; i++) {
			if (sym[i] == sym[i + 1])
				continue;
			memcpy(bad, sym, sizeof(bad));
			bad[i] = sym[i + 1];
			bad[i + 1] = sym[i];
			if (decode_str(bad, back, &kk, &nn, &err) == VS_OK)
				fail_msg("transposition at %d decoded", i);
			caught++;
			if (strstr(err.msg, "has a typo") != NULL)
				by_group++;
		}
	}
	/* Nearly all are named by a group. */
	assert_true(by_group * 100 >= caught * 95);
}

/* Whole groups swapped or moved are caught. */
static void
test_group_swaps(void **state)
{
	uint8_t secret[KB], shares[5][SB], back[SB];
	char text[SHAMIR_TEXT_BUF], bad[SHAMIR_TEXT_BUF];
	struct vs_err err;
	unsigned kk, nn;
	int g, h;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(shamir_split(secret, 5, 3, shares, &err), VS_OK);
	shamir_share_encode(shares[1], 3, 5, text, sizeof(text));
	for (g = 0; g < SHAMIR_GROUPS; g++)
		for (h = g + 1; h < SHAMIR_GROUPS; h++) {
			if (memcmp(text + at(g, 0), text + at(h, 0), 5) == 0)
				continue;
			memcpy(bad, text, sizeof(bad));
			memcpy(bad + at(g, 0), text + at(h, 0), 5);
			memcpy(bad + at(h, 0), text + at(g, 0), 5);
			assert_int_equal(decode_str(bad, back, &kk, &nn, &err),
			    VS_EINVAL);
		}
}

/* Two typos that cancel within a group's check are caught by the
 * checksum. */
static void
test_checksum(void **state)
{
	uint8_t id[2], y[KB], back[SB];
	char text[SHAMIR_TEXT_BUF], bad[SHAMIR_TEXT_BUF];
	int d[4], g, j, v;
	struct vs_err err;
	unsigned kk, nn;

	(void)state;
	randombytes_buf(id, sizeof(id));
	randombytes_buf(y, sizeof(y));
	ref_encode(2, 3, 2, 1, id, y, 0, 0, text);
	assert_int_equal(decode_str(text, back, &kk, &nn, &err), VS_OK);
	/* Change a data symbol (not the last one of group 15, which holds
	 * the padding) and fix up the group's check. */
	for (g = 1; g < SHAMIR_GROUPS; g++) {
		memcpy(bad, text, sizeof(bad));
		j = g == 1 ? 0 : 1;
		v = sym_of(bad[at(g, j)]);
		bad[at(g, j)] = alphabet[(v + 1) % 32];
		for (int i = 0; i < 4; i++)
			d[i] = sym_of(bad[at(g, i)]);
		bad[at(g, 4)] = alphabet[luhn(g + 1, d)];
		expect_error(bad, "share checksum does not match (a group was"
		    " swapped or mistyped)", NULL);
	}
	/* The checksum covers the header: another index, count or threshold
	 * with a fixed-up group 1 check is caught. */
	memcpy(bad, text, sizeof(bad));
	bad[at(0, 0)] = '3';		/* share 3 of 3 */
	for (int i = 0; i < 4; i++)
		d[i] = sym_of(bad[at(0, i)]);
	bad[at(0, 4)] = alphabet[luhn(1, d)];
	expect_error(bad, NULL, "checksum does not match");
}

/* Well-checked text with impossible fields. */
static void
test_bad_fields(void **state)
{
	static const int hdr[][4] = {	/* i, n, k, version */
		{ 0, 5, 3, 1 }, { 6, 5, 3, 1 }, { 3, 5, 6, 1 },
		{ 3, 5, 1, 1 }, { 3, 5, 0, 1 }, { 1, 1, 1, 1 },
		{ 17, 17, 3, 1 }, { 3, 17, 3, 1 }, { 31, 31, 31, 1 },
	};
	uint8_t id[2], y[KB], back[SB];
	char text[SHAMIR_TEXT_BUF];
	struct vs_err err;
	unsigned kk, nn;
	size_t t;

	(void)state;
	randombytes_buf(id, sizeof(id));
	randombytes_buf(y, sizeof(y));
	for (t = 0; t < sizeof(hdr) / sizeof(hdr[0]); t++) {
		ref_encode(hdr[t][0], hdr[t][1], hdr[t][2], hdr[t][3], id, y,
		    0, 0, text);
		expect_error(text, "share group 1 does not state a valid share"
		    " number, count and threshold", NULL);
	}
	ref_encode(3, 5, 3, 2, id, y, 0, 0, text);
	expect_error(text, NULL, "unknown format");
	ref_encode(3, 5, 3, 0, id, y, 0, 0, text);
	expect_error(text, NULL, "unknown format");
	/* Non-zero padding bits. */
	ref_encode(3, 5, 3, 1, id, y, 1, 0, text);
	expect_error(text, "share group 2 has a typo", NULL);
	ref_encode(3, 5, 3, 1, id, y, 0, 8, text);
	expect_error(text, "share group 15 has a typo", NULL);
	/* Extremes that are fine. */
	ref_encode(16, 16, 16, 1, id, y, 0, 0, text);
	assert_memory_equal(text, "GGG1", 4);
	assert_int_equal(decode_str(text, back, &kk, &nn, &err), VS_OK);
	assert_int_equal(back[0], 16);
	assert_int_equal(kk, 16);
	assert_int_equal(nn, 16);
	assert_memory_equal(&back[1], y, KB);
	assert_memory_equal(&back[1 + KB], id, 2);
	/* A recovery key is not a share. */
	expect_error("0000Y-0000W-0000T-0000R-0000P-0000M-0000J-0000G-0000E-"
	    "0000C-0000A-00008-00006-QP6XZ", NULL, "too short");
}

static void
test_forgiving_input(void **state)
{
	uint8_t secret[KB], shares[4][SB], back[SB];
	char text[SHAMIR_TEXT_BUF], in[4 * SHAMIR_TEXT_BUF];
	struct vs_err err;
	unsigned kk, nn;
	size_t i, o;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(shamir_split(secret, 4, 2, shares, &err), VS_OK);
	shamir_share_encode(shares[3], 2, 4, text, sizeof(text));

	/* Lower case, spaces for dashes, a trailing newline. */
	for (i = 0; text[i] != '\0'; i++)
		in[i] = text[i] == '-' ? ' ' :
		    (char)tolower((unsigned char)text[i]);
	in[i++] = '\n';
	in[i] = '\0';
	assert_int_equal(decode_str(in, back, &kk, &nn, &err), VS_OK);
	assert_memory_equal(back, shares[3], SB);

	/* No separators at all; 0 written O, 1 written I or l. */
	for (i = 0, o = 0; text[i] != '\0'; i++) {
		if (text[i] == '-')
			continue;
		in[o] = text[i] == '0' ? 'O' : text[i] == '1' ?
		    (o % 2 ? 'I' : 'l') : text[i];
		o++;
	}
	in[o] = '\0';
	assert_int_equal(decode_str(in, back, &kk, &nn, &err), VS_OK);
	assert_memory_equal(back, shares[3], SB);
	assert_int_equal(kk, 2);
	assert_int_equal(nn, 4);

	/* Not NUL-terminated: len is honoured. */
	memcpy(in, text, SHAMIR_TEXT_LEN);
	in[SHAMIR_TEXT_LEN] = 'Z';
	assert_int_equal(shamir_share_decode(in, SHAMIR_TEXT_LEN, back, &kk,
	    &nn, &err), VS_OK);
	assert_memory_equal(back, shares[3], SB);
}

static void
test_lengths_and_chars(void **state)
{
	uint8_t secret[KB], shares[3][SB];
	char text[SHAMIR_TEXT_BUF], in[SHAMIR_INPUT_MAX + 16];
	struct vs_err err;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	assert_int_equal(shamir_split(secret, 3, 2, shares, &err), VS_OK);
	shamir_share_encode(shares[0], 2, 3, text, sizeof(text));

	expect_error("", "share is too short (16 groups of 5 expected)", NULL);
	memcpy(in, text, sizeof(text));
	in[SHAMIR_TEXT_LEN - 1] = '\0';
	expect_error(in, NULL, "too short");
	snprintf(in, sizeof(in), "%s0", text);
	expect_error(in, "share is too long (16 groups of 5 expected)", NULL);
	snprintf(in, sizeof(in), "%s-%s", text, text);
	expect_error(in, NULL, "too long");
	/* Over SHAMIR_INPUT_MAX, even if only spaces. */
	memset(in, ' ', sizeof(in));
	memcpy(in, text, SHAMIR_TEXT_LEN);
	in[SHAMIR_INPUT_MAX + 1] = '\0';
	expect_error(in, NULL, "too long");
	in[SHAMIR_INPUT_MAX] = '\0';
	{
		uint8_t back[SB];

		assert_int_equal(decode_str(in, back, NULL, NULL, &err),
		    VS_OK);
		assert_memory_equal(back, shares[0], SB);
	}
	/* Invalid characters name their group. */
	memcpy(in, text, sizeof(text));
	in[at(6, 2)] = 'U';
	expect_error(in, "share group 7 has an invalid character", NULL);
	memcpy(in, text, sizeof(text));
	in[at(15, 4)] = '*';
	expect_error(in, "share group 16 has an invalid character", NULL);
	memcpy(in, text, sizeof(text));
	in[at(0, 0)] = '\x80';
	expect_error(in, "share group 1 has an invalid character", NULL);
}

/* The scenario: a 3-of-5 split on paper; shares typed back one by
 * one in any order; a typo'd one is named and refused; 2 are not enough. */
static void
test_paper_end_to_end(void **state)
{
	uint8_t secret[KB], shares[5][SB], got[3][SB], back[KB];
	char text[5][SHAMIR_TEXT_BUF], bad[SHAMIR_TEXT_BUF];
	unsigned order[5] = { 0, 1, 2, 3, 4 }, kk = 0, nn, have, t, i;
	struct vs_err err;

	(void)state;
	for (t = 0; t < 50; t++) {
		randombytes_buf(secret, sizeof(secret));
		assert_int_equal(shamir_split(secret, 5, 3, shares, &err),
		    VS_OK);
		for (i = 0; i < 5; i++)
			shamir_share_encode(shares[i], 3, 5, text[i],
			    SHAMIR_TEXT_BUF);
		sodium_memzero(shares, sizeof(shares));
		shuffle(order, 5);

		/* The first share is typed with a typo in group 4. */
		memcpy(bad, text[order[0]], sizeof(bad));
		bad[at(3, 1)] = bad[at(3, 1)] == 'X' ? 'Y' : 'X';
		expect_error(bad, "share group 4 has a typo", NULL);

		have = 0;
		for (i = 0; i < 5 && (have == 0 || have < kk); i++) {
			assert_int_equal(decode_str(text[order[i]], got[have],
			    &kk, &nn, &err), VS_OK);
			assert_int_equal(kk, 3);
			assert_int_equal(nn, 5);
			assert_int_equal(got[have][0], order[i] + 1);
			have++;
			if (have == 2) {
				assert_int_equal(shamir_combine(
				    (const uint8_t (*)[SB])got, 2, back, &err),
				    VS_OK);
				assert_memory_not_equal(back, secret, KB);
			}
		}
		assert_int_equal(have, 3);
		assert_int_equal(shamir_combine((const uint8_t (*)[SB])got, 3,
		    back, &err), VS_OK);
		assert_memory_equal(back, secret, KB);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gf_against_tables),
		cmocka_unit_test(test_round_trip_all_k_n),
		cmocka_unit_test(test_3_of_5_every_subset_and_order),
		cmocka_unit_test(test_fewer_than_k),
		cmocka_unit_test(test_k_minus_1_reveal_nothing),
		cmocka_unit_test(test_share_bytes_uniform),
		cmocka_unit_test(test_mixed_splits_refused),
		cmocka_unit_test(test_bad_indices_refused),
		cmocka_unit_test(test_split_arguments),
		cmocka_unit_test(test_encode_shape_and_round_trip),
		cmocka_unit_test(test_encode_refuses_bad_input),
		cmocka_unit_test(test_substitutions),
		cmocka_unit_test(test_transpositions),
		cmocka_unit_test(test_group_swaps),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_forgiving_input),
		cmocka_unit_test(test_lengths_and_chars),
		cmocka_unit_test(test_paper_end_to_end),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
