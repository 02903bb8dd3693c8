/*
 * crockford.h - the paper form shared by the recovery key (reckey.h) and
 * its Shamir shares (shamir.h): symbols of Crockford's base32 alphabet
 * (0-9 A-Z without I L O U) in groups of 5 separated by '-', each group
 * 4 symbols and a Luhn mod 32 check symbol over the group's number and
 * its 4 symbols.
 *
 * Reading is forgiving about presentation (case, spaces, tabs, newlines
 * and dashes are ignored; O is read as 0, I and L as 1) and strict about
 * content.  The functions work in caller buffers and keep no copy: the
 * callers wipe symbols and text after use.
 */
#ifndef VS_CROCKFORD_H
#define VS_CROCKFORD_H

#include <stddef.h>
#include <stdint.h>

#define CROCKFORD_GROUP_LEN 5

/* The 32 symbols, value order. */
extern const char crockford_alphabet[33];

/* Luhn mod 32 check symbol for group number g (1-based) and its 4 symbols
 * d: from the right, d4 is doubled, d3 is not, d2 is, d1 is not, g is; a
 * doubled value v counts as v / 32 + v % 32. */
unsigned int crockford_luhn32(unsigned int g, const uint8_t d[4]);

/* Set the check symbol (the 5th) of each of the groups in sym. */
void crockford_set_checks(uint8_t *sym, unsigned int groups);

/* The first group (1-based) whose check symbol is wrong, or 0. */
int crockford_bad_group(const uint8_t *sym, unsigned int groups);

/* Write the groups of sym as text into out (groups * 6 bytes: symbols,
 * dashes between groups, a NUL). */
void crockford_format(const uint8_t *sym, unsigned int groups, char *out);

enum crockford_read_result {
	CROCKFORD_READ_OK = 0,
	CROCKFORD_READ_LONG,            /* more than nsym symbols */
	CROCKFORD_READ_SHORT,           /* fewer */
	CROCKFORD_READ_BADCHAR          /* *group_r: its group, 1-based */
};

/* Read exactly nsym symbol values from text (len bytes, need not be
 * NUL-terminated) into sym. */
enum crockford_read_result crockford_read(const char *text, size_t len,
    uint8_t *sym, size_t nsym, int *group_r);

#endif
