/*
 * reckey.h - the recovery key's paper form.
 *
 * The recovery key is 32 random bytes shown once at `vmseal init`, to be
 * copied onto paper.  Its text form is 14 groups of 5 characters from
 * Crockford's base32 alphabet (0-9 A-Z without I L O U), separated by '-':
 * groups 1-13 hold 4 data characters each (52 characters = 260 bits: the
 * 256 key bits and 4 zero bits) followed by a check character over that
 * group and its position (Luhn mod 32), so a typo is caught and the group
 * that holds it named; group 14 holds 4 characters of a checksum of the
 * whole key (BLAKE2b) and its own check character.
 *
 * Decoding is forgiving about presentation: case, spaces and dashes are
 * ignored, and O is read as 0, I and L as 1.  It is strict about content.
 *
 * Security: the functions work in caller buffers and keep no copy; wipe the
 * key and the text after use.  Error messages name a group number, never
 * its characters.
 */
#ifndef VS_RECKEY_H
#define VS_RECKEY_H

#include <stddef.h>
#include <stdint.h>

#include "vs_err.h"

#define RECKEY_BYTES 32
#define RECKEY_GROUPS 14
/* 14 groups of 5 plus 13 dashes plus NUL. */
#define RECKEY_TEXT_LEN (RECKEY_GROUPS * 5 + RECKEY_GROUPS - 1)
#define RECKEY_TEXT_BUF (RECKEY_TEXT_LEN + 1)
/* Longest text accepted by reckey_decode (room for spaces). */
#define RECKEY_INPUT_MAX 512

/* Encode key into out (RECKEY_TEXT_BUF bytes, NUL-terminated). */
void reckey_encode(const uint8_t key[RECKEY_BYTES], char out[RECKEY_TEXT_BUF]);

/* Decode text (len bytes, need not be NUL-terminated) into key_r.
 * Returns VS_OK, or VS_EINVAL with a message such as
 * "recovery key group 5 has a typo" or "recovery key is too short". */
int reckey_decode(const char *text, size_t len, uint8_t key_r[RECKEY_BYTES],
    struct vs_err *err);

#endif
