/*
 * digest.c - MD5 (RFC 1321) and SHA-1 (FIPS 180-4), see digest.h.
 *
 * Written from the specifications and checked against their published test
 * vectors (tests/unit/test_pwhash.c).  Used only to verify legacy password
 * hashes, so the data passing through is secret: message schedules on the
 * stack are wiped after each block and contexts are wiped by _final.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "digest.h"

#define ROTL32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static uint32_t
load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- MD5, RFC 1321 ---- */

/* T[i] = floor(2^32 * abs(sin(i + 1))), RFC 1321 section 3.4. */
static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Per-step left rotations: four per round, repeated four times. */
static const uint8_t md5_s[4][4] = {
	{ 7, 12, 17, 22 },
	{ 5, 9, 14, 20 },
	{ 4, 11, 16, 23 },
	{ 6, 10, 15, 21 },
};

static void
md5_block(uint32_t state[4], const uint8_t block[64])
{
	uint32_t x[16], a, b, c, d, f, tmp;
	unsigned int i, g;

	for (i = 0; i < 16; i++)
		x[i] = load_le32(block + 4 * i);
	a = state[0];
	b = state[1];
	c = state[2];
	d = state[3];
	for (i = 0; i < 64; i++) {
		switch (i / 16) {
		case 0:		/* F(X,Y,Z) = XY v not(X) Z */
			f = (b & c) | (~b & d);
			g = i;
			break;
		case 1:		/* G(X,Y,Z) = XZ v Y not(Z) */
			f = (b & d) | (c & ~d);
			g = (5 * i + 1) % 16;
			break;
		case 2:		/* H(X,Y,Z) = X xor Y xor Z */
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
			break;
		default:	/* I(X,Y,Z) = Y xor (X v not(Z)) */
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
			break;
		}
		tmp = a + f + md5_t[i] + x[g];
		a = d;
		d = c;
		c = b;
		b = b + ROTL32(tmp, md5_s[i / 16][i % 4]);
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	sodium_memzero(x, sizeof(x));
}

/* ---- Merkle-Damgard buffering, shared by MD5 and SHA-1 (both take
 * 64-byte blocks and end with a 1 bit, zeros and a 64-bit bit count) ---- */

typedef void md_block_fn(uint32_t *state, const uint8_t block[64]);

/* Feed n bytes: complete the buffered block, hash whole blocks from the
 * input, buffer the rest. */
static void
md_update(uint32_t *state, uint8_t block[64], uint64_t *count,
    md_block_fn *fn, const uint8_t *in, size_t n)
{
	size_t used, take;

	if (n == 0)
		return;
	used = (size_t)(*count % 64);
	*count += n;
	if (used > 0) {
		take = 64 - used;
		if (take > n)
			take = n;
		memcpy(block + used, in, take);
		in += take;
		n -= take;
		if (used + take < 64)
			return;
		fn(state, block);
	}
	for (; n >= 64; in += 64, n -= 64)
		fn(state, in);
	if (n > 0)
		memcpy(block, in, n);
}

/* Pad the last block: a 1 bit, zeros up to 56 mod 64, then the bit length
 * (RFC 1321 3.1-3.2: little-endian; FIPS 180-4 5.1.1: big-endian), and
 * hash it. */
static void
md_final(uint32_t *state, uint8_t block[64], uint64_t count,
    md_block_fn *fn, int big_endian)
{
	uint64_t bits = count * 8;
	size_t used = (size_t)(count % 64);

	block[used++] = 0x80;
	if (used > 56) {
		memset(block + used, 0, 64 - used);
		fn(state, block);
		used = 0;
	}
	memset(block + used, 0, 56 - used);
	if (big_endian) {
		store_be32(block + 56, (uint32_t)(bits >> 32));
		store_be32(block + 60, (uint32_t)bits);
	} else {
		store_le32(block + 56, (uint32_t)bits);
		store_le32(block + 60, (uint32_t)(bits >> 32));
	}
	fn(state, block);
}

void
digest_md5_init(struct digest_md5 *c)
{
	memset(c, 0, sizeof(*c));
	c->state[0] = 0x67452301;
	c->state[1] = 0xefcdab89;
	c->state[2] = 0x98badcfe;
	c->state[3] = 0x10325476;
}

void
digest_md5_update(struct digest_md5 *c, const void *p, size_t n)
{
	md_update(c->state, c->block, &c->count, md5_block, p, n);
}

void
digest_md5_final(struct digest_md5 *c, uint8_t out[DIGEST_MD5_LEN])
{
	unsigned int i;

	md_final(c->state, c->block, c->count, md5_block, 0);
	for (i = 0; i < 4; i++)
		store_le32(out + 4 * i, c->state[i]);
	sodium_memzero(c, sizeof(*c));
}

/* ---- SHA-1, FIPS 180-4 ---- */

static void
sha1_block(uint32_t state[5], const uint8_t block[64])
{
	uint32_t w[80], a, b, c, d, e, f, k, tmp;
	unsigned int t;

	for (t = 0; t < 16; t++)
		w[t] = load_be32(block + 4 * t);
	for (t = 16; t < 80; t++) {
		tmp = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
		w[t] = ROTL32(tmp, 1);
	}
	a = state[0];
	b = state[1];
	c = state[2];
	d = state[3];
	e = state[4];
	for (t = 0; t < 80; t++) {
		if (t < 20) {		/* Ch */
			f = (b & c) ^ (~b & d);
			k = 0x5a827999;
		} else if (t < 40) {	/* Parity */
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (t < 60) {	/* Maj */
			f = (b & c) ^ (b & d) ^ (c & d);
			k = 0x8f1bbcdc;
		} else {		/* Parity */
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		tmp = ROTL32(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = ROTL32(b, 30);
		b = a;
		a = tmp;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	state[4] += e;
	sodium_memzero(w, sizeof(w));
}

void
digest_sha1_init(struct digest_sha1 *c)
{
	memset(c, 0, sizeof(*c));
	c->state[0] = 0x67452301;
	c->state[1] = 0xefcdab89;
	c->state[2] = 0x98badcfe;
	c->state[3] = 0x10325476;
	c->state[4] = 0xc3d2e1f0;
}

void
digest_sha1_update(struct digest_sha1 *c, const void *p, size_t n)
{
	md_update(c->state, c->block, &c->count, sha1_block, p, n);
}

void
digest_sha1_final(struct digest_sha1 *c, uint8_t out[DIGEST_SHA1_LEN])
{
	unsigned int i;

	md_final(c->state, c->block, c->count, sha1_block, 1);
	for (i = 0; i < 5; i++)
		store_be32(out + 4 * i, c->state[i]);
	sodium_memzero(c, sizeof(*c));
}
