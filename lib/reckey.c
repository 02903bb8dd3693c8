/*
 * reckey.c - the recovery key's paper form (see reckey.h for the format).
 *
 * Layout of the 70 symbols (values 0-31 of Crockford's alphabet):
 *   groups 1-13: 4 data symbols, then check symbol
 *   group 14:    4 checksum symbols, then check symbol
 * The 52 data symbols are the 256 key bits, most significant bit of byte 0
 * first, followed by 4 zero bits.  The checksum symbols are the first 20
 * bits of BLAKE2b-256("vmseal-recovery-v1" || key).
 *
 * The check symbol of group g (1-14) is the Luhn mod 32 check character of
 * the sequence (g, d1, d2, d3, d4): from the right, d4 is doubled, d3 is not,
 * d2 is, d1 is not, g is; a doubled value v counts as v / 32 + v % 32.
 * Luhn mod 32 catches every single substitution and nearly every adjacent
 * transposition within a group; since g contributes 2g (distinct for
 * g = 1..14), a whole group moved to another position fails its check too.
 * The whole-key checksum catches what slips through (e.g. two typos in one
 * group that cancel out).
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "reckey.h"

#define GROUP_LEN 5
#define DATA_GROUPS (RECKEY_GROUPS - 1)
#define SYMBOLS (RECKEY_GROUPS * GROUP_LEN)

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static const char domain_sep[] = "vmseal-recovery-v1";

/* Luhn mod 32 check symbol for group number g and its 4 symbols d. */
static unsigned int
luhn32(unsigned int g, const uint8_t d[4])
{
	unsigned int sum, v;
	int i, dbl;

	sum = 0;
	dbl = 1;
	for (i = 4; i >= 0; i--) {
		v = i > 0 ? d[i - 1] : g;
		if (dbl)
			v *= 2;
		sum += v / 32 + v % 32;
		dbl = !dbl;
	}
	return (32 - sum % 32) % 32;
}

/* First 20 bits of the checksum as 4 symbols. */
static void
checksum(const uint8_t key[RECKEY_BYTES], uint8_t sym[4])
{
	crypto_generichash_state st;
	uint8_t h[crypto_generichash_BYTES];
	uint32_t v;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)domain_sep,
	    sizeof(domain_sep) - 1);
	crypto_generichash_update(&st, key, RECKEY_BYTES);
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

void
reckey_encode(const uint8_t key[RECKEY_BYTES], char out[RECKEY_TEXT_BUF])
{
	uint8_t sym[SYMBOLS];
	uint8_t data[DATA_GROUPS * 4];
	uint32_t acc;
	unsigned int bits;
	size_t i, n, o;
	int g, j;

	/* 256 key bits + 4 zero bits -> 52 symbols. */
	acc = 0;
	bits = 0;
	n = 0;
	for (i = 0; i < RECKEY_BYTES; i++) {
		acc = (acc << 8) | key[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			data[n++] = (uint8_t)((acc >> bits) & 31);
		}
	}
	/* bits == 1 here: pad with 4 zero bits. */
	data[n++] = (uint8_t)((acc << (5 - bits)) & 31);

	for (g = 0; g < DATA_GROUPS; g++) {
		memcpy(&sym[g * GROUP_LEN], &data[g * 4], 4);
		sym[g * GROUP_LEN + 4] = (uint8_t)luhn32((unsigned int)g + 1,
		    &data[g * 4]);
	}
	checksum(key, &sym[DATA_GROUPS * GROUP_LEN]);
	sym[SYMBOLS - 1] = (uint8_t)luhn32(RECKEY_GROUPS,
	    &sym[DATA_GROUPS * GROUP_LEN]);

	o = 0;
	for (g = 0; g < RECKEY_GROUPS; g++) {
		if (g > 0)
			out[o++] = '-';
		for (j = 0; j < GROUP_LEN; j++)
			out[o++] = alphabet[sym[g * GROUP_LEN + j]];
	}
	out[o] = '\0';

	sodium_memzero(sym, sizeof(sym));
	sodium_memzero(data, sizeof(data));
	sodium_memzero(&acc, sizeof(acc));
}

/* Value of a Crockford symbol (case-insensitive, O = 0, I = L = 1), or -1. */
static int
symbol_value(int c)
{
	if (c >= 'a' && c <= 'z')
		c -= 'a' - 'A';
	switch (c) {
	case 'O':
		return 0;
	case 'I':
	case 'L':
		return 1;
	case 'U':
		return -1;
	}
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z') {
		const char *p = strchr(alphabet, c);

		return p != NULL ? (int)(p - alphabet) : -1;
	}
	return -1;
}

static int
fail(uint8_t key_r[RECKEY_BYTES], uint8_t *sym, size_t symlen,
    struct vs_err *err, const char *msg, int group)
{
	sodium_memzero(sym, symlen);
	sodium_memzero(key_r, RECKEY_BYTES);
	if (group > 0)
		return vs_fail(err, VS_EINVAL, "recovery key group %d %s",
		    group, msg);
	return vs_fail(err, VS_EINVAL, "recovery key %s", msg);
}

int
reckey_decode(const char *text, size_t len, uint8_t key_r[RECKEY_BYTES],
    struct vs_err *err)
{
	uint8_t sym[SYMBOLS] = { 0 };
	uint8_t key[RECKEY_BYTES];
	uint8_t sum[4];
	uint32_t acc;
	unsigned int bits;
	size_t i, n, o;
	int c, v, g;

	if (len > RECKEY_INPUT_MAX)
		return fail(key_r, sym, 0, err,
		    "is too long (14 groups of 5 expected)", 0);
	n = 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)text[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '-')
			continue;
		if (n == SYMBOLS)
			return fail(key_r, sym, sizeof(sym), err,
			    "is too long (14 groups of 5 expected)", 0);
		if ((v = symbol_value(c)) < 0)
			return fail(key_r, sym, sizeof(sym), err,
			    "has an invalid character",
			    (int)(n / GROUP_LEN) + 1);
		sym[n++] = (uint8_t)v;
	}
	if (n < SYMBOLS)
		return fail(key_r, sym, sizeof(sym), err,
		    "is too short (14 groups of 5 expected)", 0);

	for (g = 0; g < RECKEY_GROUPS; g++)
		if (luhn32((unsigned int)g + 1, &sym[g * GROUP_LEN]) !=
		    sym[g * GROUP_LEN + 4])
			return fail(key_r, sym, sizeof(sym), err, "has a typo",
			    g + 1);

	/* 52 data symbols -> 256 key bits; the last 4 bits must be zero. */
	acc = 0;
	bits = 0;
	o = 0;
	for (g = 0; g < DATA_GROUPS; g++) {
		for (i = 0; i < 4; i++) {
			acc = (acc << 5) | sym[g * GROUP_LEN + i];
			bits += 5;
			if (bits >= 8 && o < RECKEY_BYTES) {
				bits -= 8;
				key[o++] = (uint8_t)(acc >> bits);
			}
		}
	}
	/* 4 bits left over: the padding. */
	if ((acc & 0x0f) != 0) {
		sodium_memzero(key, sizeof(key));
		sodium_memzero(&acc, sizeof(acc));
		return fail(key_r, sym, sizeof(sym), err, "has a typo",
		    DATA_GROUPS);
	}
	sodium_memzero(&acc, sizeof(acc));

	checksum(key, sum);
	if (sodium_memcmp(sum, &sym[DATA_GROUPS * GROUP_LEN], 4) != 0) {
		sodium_memzero(key, sizeof(key));
		sodium_memzero(sum, sizeof(sum));
		return fail(key_r, sym, sizeof(sym), err, "checksum does not"
		    " match (a group was swapped or mistyped)", 0);
	}
	memcpy(key_r, key, RECKEY_BYTES);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(sum, sizeof(sum));
	sodium_memzero(sym, sizeof(sym));
	return VS_OK;
}
