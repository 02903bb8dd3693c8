/*
 * crockford.c - Crockford base32 groups with Luhn mod 32 checks (see
 * crockford.h; the formats that use them are in reckey.c and shamir.c).
 */
#include "config.h"

#include <string.h>

#include "crockford.h"

const char crockford_alphabet[33] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

unsigned int
crockford_luhn32(unsigned int g, const uint8_t d[4])
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

void
crockford_set_checks(uint8_t *sym, unsigned int groups)
{
	unsigned int g;

	for (g = 0; g < groups; g++)
		sym[g * CROCKFORD_GROUP_LEN + 4] = (uint8_t)crockford_luhn32(
		    g + 1, &sym[g * CROCKFORD_GROUP_LEN]);
}

int
crockford_bad_group(const uint8_t *sym, unsigned int groups)
{
	unsigned int g;

	for (g = 0; g < groups; g++)
		if (crockford_luhn32(g + 1, &sym[g * CROCKFORD_GROUP_LEN]) !=
		    sym[g * CROCKFORD_GROUP_LEN + 4])
			return (int)g + 1;
	return 0;
}

void
crockford_format(const uint8_t *sym, unsigned int groups, char *out)
{
	unsigned int g, j;
	size_t o = 0;

	for (g = 0; g < groups; g++) {
		if (g > 0)
			out[o++] = '-';
		for (j = 0; j < CROCKFORD_GROUP_LEN; j++)
			out[o++] = crockford_alphabet[
			    sym[g * CROCKFORD_GROUP_LEN + j] & 31];
	}
	out[o] = '\0';
}

/* Value of a symbol (case-insensitive, O = 0, I = L = 1), or -1. */
static int
symbol_value(int c)
{
	const char *p;

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
		p = strchr(crockford_alphabet, c);
		return p != NULL ? (int)(p - crockford_alphabet) : -1;
	}
	return -1;
}

enum crockford_read_result
crockford_read(const char *text, size_t len, uint8_t *sym, size_t nsym,
    int *group_r)
{
	size_t i, n = 0;
	int c, v;

	*group_r = 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)text[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '-')
			continue;
		if (n == nsym)
			return CROCKFORD_READ_LONG;
		if ((v = symbol_value(c)) < 0) {
			*group_r = (int)(n / CROCKFORD_GROUP_LEN) + 1;
			return CROCKFORD_READ_BADCHAR;
		}
		sym[n++] = (uint8_t)v;
	}
	return n < nsym ? CROCKFORD_READ_SHORT : CROCKFORD_READ_OK;
}
