/*
 * shamir.h - splitting the recovery key into paper shares (Shamir's secret
 * sharing over GF(256)), and the shares' paper form.
 *
 * `vmseal init/rotate --recovery-shares N --recovery-threshold K` splits the
 * 32-byte recovery key into N shares of which any K rebuild it; fewer than K
 * reveal nothing about it (every secret stays equally likely).  Each byte of
 * the key is the constant term of its own random polynomial of degree K-1
 * over GF(2^8) (AES polynomial x^8 + x^4 + x^3 + x + 1, 0x11b); share i holds
 * the 32 polynomials evaluated at x = i.
 *
 * A share in memory is SHAMIR_SHARE_BYTES bytes:
 *   byte 0       its index i (1..n), the x coordinate
 *   bytes 1-32   the 32 y values
 *   bytes 33-34  the split id (big-endian), 16 random bits drawn once per
 *                split and shared by all its shares, so that shares of two
 *                different splits (e.g. before and after `rotate`) are not
 *                combined into a wrong key unnoticed.
 *
 * Its paper form is 16 groups of 5 Crockford base32 symbols separated by
 * '-' (SHAMIR_TEXT_LEN = 95 characters), each group being 4 symbols and a
 * check symbol (Luhn mod 32 over the group number and the 4 symbols, as in
 * reckey.h):
 *   group 1      i, n, k, format version (1): "share i of n, k needed",
 *                each as one symbol (1-9, then A=10 ... G=16), so share 3 of
 *                5 with 3 needed starts "3531"
 *   group 2      the split id: 16 bits then 4 zero bits
 *   groups 3-15  the 32 y values: 256 bits then 4 zero bits
 *   group 16     the first 20 bits of BLAKE2b-256("vmseal-share-v1" ||
 *                i || n || k || split id (2 bytes) || y (32 bytes))
 * Every single substitution is named by its group's check ("share group 4
 * has a typo"); what slips through (two typos cancelling out, groups
 * swapped) is caught by the checksum ("share checksum does not match").
 * The checksum covers the share only, never the key, so it tells a holder
 * nothing about the key.  Decoding ignores case, spaces and dashes and reads
 * O as 0, I and L as 1, like reckey_decode.
 *
 * Why at most 16 shares: GF(256) allows up to 255 distinct non-zero x
 * coordinates, but i, n and k each have to fit one base32 symbol of the
 * header group (a readable "share 3 of 5"), `recover` prompts for shares
 * one by one, and nobody hands out more than a dozen or so paper shares of
 * one key.  16 keeps all three small, readable and far from the field's
 * limit.
 *
 * Security: GF(256) arithmetic is constant time (no table lookups, no
 * branches on data); coefficients and temporaries are wiped; error messages
 * name a group, a share number or a count, never share characters or
 * bytes.  The functions keep no copy: wipe secrets, shares and texts after
 * use.
 */
#ifndef VS_SHAMIR_H
#define VS_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#include "vs_err.h"

#define SHAMIR_SECRET_BYTES 32
/* index + 32 y values + 2 bytes of split id */
#define SHAMIR_SHARE_BYTES (1 + SHAMIR_SECRET_BYTES + 2)
#define SHAMIR_MIN_SHARES 2
#define SHAMIR_MAX_SHARES 16
#define SHAMIR_GROUPS 16
/* 16 groups of 5 plus 15 dashes, plus NUL. */
#define SHAMIR_TEXT_LEN (SHAMIR_GROUPS * 5 + SHAMIR_GROUPS - 1)
#define SHAMIR_TEXT_BUF (SHAMIR_TEXT_LEN + 1)
/* Longest text accepted by shamir_share_decode (room for spaces). */
#define SHAMIR_INPUT_MAX 512

/* Split secret into n shares, any k of which rebuild it
 * (2 <= k <= n <= SHAMIR_MAX_SHARES).  shares[j] gets index j + 1; all get
 * the same fresh random split id.  Returns VS_OK, or VS_EINVAL for a bad
 * n or k (shares untouched: nothing was written). */
int shamir_split(const uint8_t secret[SHAMIR_SECRET_BYTES], unsigned n,
    unsigned k, uint8_t shares[][SHAMIR_SHARE_BYTES], struct vs_err *err);

/* Rebuild the secret from k shares (2 <= k <= SHAMIR_MAX_SHARES) by
 * Lagrange interpolation at 0.  Refuses (VS_EINVAL, secret_r wiped) a zero
 * or out-of-range index, two shares with the same index, and shares of
 * different splits.  It cannot know the split's threshold: given fewer
 * shares than that, it returns an unrelated secret, so callers take k from
 * the decoded shares (shamir_share_decode). */
int shamir_combine(const uint8_t shares[][SHAMIR_SHARE_BYTES], unsigned k,
    uint8_t secret_r[SHAMIR_SECRET_BYTES], struct vs_err *err);

/* Write the paper form of share (of a k-of-n split) into out, NUL-terminated.
 * Needs outlen >= SHAMIR_TEXT_BUF and 2 <= k <= n <= SHAMIR_MAX_SHARES,
 * 1 <= index <= n; otherwise out gets "" (when outlen > 0). */
void shamir_share_encode(const uint8_t share[SHAMIR_SHARE_BYTES], unsigned k,
    unsigned n, char *out, size_t outlen);

/* Decode the paper form (len bytes, need not be NUL-terminated) into share_r,
 * *k_r and *n_r.  Returns VS_OK, or VS_EINVAL (share_r wiped, *k_r and *n_r
 * set to 0) with a message such as "share group 4 has a typo", "share
 * checksum does not match (a group was swapped or mistyped)" or "share is
 * too short (16 groups of 5 expected)".  k_r and n_r may be NULL. */
int shamir_share_decode(const char *text, size_t len,
    uint8_t share_r[SHAMIR_SHARE_BYTES], unsigned *k_r, unsigned *n_r,
    struct vs_err *err);

/* GF(2^8) arithmetic modulo 0x11b, constant time; exposed for the tests.
 * shamir_gf_inv(0) is 0. */
uint8_t shamir_gf_mul(uint8_t a, uint8_t b);
uint8_t shamir_gf_inv(uint8_t a);

#endif
