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

#include "crockford.h"
#include "reckey.h"

#define GROUP_LEN CROCKFORD_GROUP_LEN
#define DATA_GROUPS (RECKEY_GROUPS - 1)
#define SYMBOLS (RECKEY_GROUPS * GROUP_LEN)

static const char domain_sep[] = "vmseal-recovery-v1";


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
	size_t i, n;
	int g;

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

	for (g = 0; g < DATA_GROUPS; g++)
		memcpy(&sym[g * GROUP_LEN], &data[g * 4], 4);
	checksum(key, &sym[DATA_GROUPS * GROUP_LEN]);
	crockford_set_checks(sym, RECKEY_GROUPS);
	crockford_format(sym, RECKEY_GROUPS, out);

	sodium_memzero(sym, sizeof(sym));
	sodium_memzero(data, sizeof(data));
	sodium_memzero(&acc, sizeof(acc));
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
	size_t i, o;
	int g;

	if (len > RECKEY_INPUT_MAX)
		return fail(key_r, sym, 0, err,
		    "is too long (14 groups of 5 expected)", 0);
	switch (crockford_read(text, len, sym, SYMBOLS, &g)) {
	case CROCKFORD_READ_OK:
		break;
	case CROCKFORD_READ_LONG:
		return fail(key_r, sym, sizeof(sym), err,
		    "is too long (14 groups of 5 expected)", 0);
	case CROCKFORD_READ_SHORT:
		return fail(key_r, sym, sizeof(sym), err,
		    "is too short (14 groups of 5 expected)", 0);
	default:
		return fail(key_r, sym, sizeof(sym), err,
		    "has an invalid character", g);
	}
	if ((g = crockford_bad_group(sym, RECKEY_GROUPS)) != 0)
		return fail(key_r, sym, sizeof(sym), err, "has a typo", g);

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
