/*
 * netstring.h - netstrings ("5:hello,"), the framing of every message
 * between vmseal's own processes and of Postfix's socketmap protocol.
 *
 * One parser, fuzzed once.  The decoder works on a byte buffer that may
 * hold a partial message (a stream read in pieces): it answers "need more",
 * "here is one netstring and how many bytes it used", or an error.  Every
 * length is capped by the caller's limit before any byte of the payload is
 * looked at; the length prefix may not have leading zeros (other than "0"
 * itself) nor more digits than the cap needs; the payload must be followed
 * by ','.  Payload bytes are not interpreted (they may hold NUL).
 *
 * Security: lengths come from peers; the digit loop checks for overflow
 * against the cap at every digit, so no length beyond the cap is ever
 * computed, and a peer that sends an endless length prefix is refused
 * after the cap's digit count.
 */
#ifndef VS_NETSTRING_H
#define VS_NETSTRING_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vs_err.h"

/* Results of netstring_decode(). */
#define NETSTRING_MORE 0        /* incomplete: read more and call again */
#define NETSTRING_OK 1          /* one netstring decoded */

/* Decode one netstring from the start of data[0..len).
 * On NETSTRING_OK: *payload_r points into data, *plen_r is its length, and
 * *used_r the bytes consumed (prefix, payload and ','). On NETSTRING_MORE
 * nothing is set: data is empty or a proper prefix of a valid netstring
 * (digits only, such as "0" or "12", included).  On error: VS_ELIMIT
 * (length above max, refused at the first digit that makes it so),
 * VS_EINVAL (malformed: no digit first, leading zero, no ':' or ','),
 * with a reason in err, as soon as the bytes seen can no longer start a
 * valid netstring.  The decoder keeps no state: call it again from the
 * start with more bytes. */
int netstring_decode(const uint8_t *data, size_t len, size_t max,
    const uint8_t **payload_r, size_t *plen_r, size_t *used_r,
    struct vs_err *err);

/* Append one netstring holding p[0..n) to b (the canonical form, which
 * netstring_decode accepts).  0, or VS_ELIMIT / VS_ENOMEM with b
 * unchanged. */
int netstring_encode(struct buf *b, const void *p, size_t n);
/* Same for a NUL-terminated string. */
int netstring_encode_str(struct buf *b, const char *s);

/* Decode a message that is a sequence of netstrings filling data[0..len)
 * exactly (used for admin requests: a netstring of netstrings).
 * items_r/lens_r are malloc()ed arrays of at most max_items entries
 * pointing into data; free() both (they are allocated even when the
 * message is empty and *n_r is 0).  VS_EINVAL on any malformed item or
 * trailing byte (a truncated last item included), VS_ELIMIT when there
 * are more than max_items or an item is longer than max_item_len; the
 * reason names the item ("item 2: ...").  On error *items_r and *lens_r
 * are NULL and *n_r is 0. */
int netstring_split(const uint8_t *data, size_t len, size_t max_items,
    size_t max_item_len, const uint8_t ***items_r, size_t **lens_r,
    size_t *n_r, struct vs_err *err);

#endif
