/*
 * netstring.c - netstrings "LEN:PAYLOAD," (see netstring.h): the framing
 * between vmseal's own processes and of Postfix's socketmap protocol.
 *
 * The decoder is stateless: it looks at data[0..len) from the start each
 * time, so a caller reading a stream simply calls it again with more bytes.
 * It answers NETSTRING_MORE only while the bytes seen are a proper prefix
 * of some valid netstring, and fails as soon as they cannot be.
 *
 * Security: every length comes from a peer.  The digit loop compares the
 * length with the caller's cap before each multiplication, so no value
 * above the cap (and no overflow) is ever computed; a length prefix is
 * therefore refused after at most the cap's digit count plus one digit.
 * Payload bytes are never interpreted, and error messages never quote
 * them (only the offending framing byte, in hex).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"

static int
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

int
netstring_decode(const uint8_t *data, size_t len, size_t max,
    const uint8_t **payload_r, size_t *plen_r, size_t *used_r,
    struct vs_err *err)
{
	size_t i, n = 0, end;
	unsigned d;

	for (i = 0; i < len && is_digit(data[i]); i++) {
		if (i == 1 && data[0] == '0')
			return vs_fail(err, VS_EINVAL,
			    "netstring length has a leading zero");
		d = (unsigned)(data[i] - '0');
		if (n > max / 10 || (n == max / 10 && d > max % 10))
			return vs_fail(err, VS_ELIMIT,
			    "netstring length is above the limit of %zu bytes",
			    max);
		n = n * 10 + d;
	}
	if (i == len)
		return NETSTRING_MORE;  /* empty, or digits only so far */
	if (i == 0)
		return vs_fail(err, VS_EINVAL, "netstring does not start with"
		    " a digit (got byte \\x%02x)", data[0]);
	if (data[i] != ':')
		return vs_fail(err, VS_EINVAL, "netstring length is not"
		    " followed by ':' (got byte \\x%02x)", data[i]);
	/* i <= max's digit count and n <= max; refuse a cap so close to
	 * SIZE_MAX that the frame's size would wrap. */
	if (n > SIZE_MAX - i - 2)
		return vs_fail(err, VS_ELIMIT, "netstring is too large");
	end = i + 1 + n;                /* index of the ',' */
	if (len <= end)
		return NETSTRING_MORE;
	if (data[end] != ',')
		return vs_fail(err, VS_EINVAL, "netstring payload is not"
		    " followed by ',' (got byte \\x%02x)", data[end]);
	*payload_r = data + i + 1;
	*plen_r = n;
	*used_r = end + 1;
	return NETSTRING_OK;
}

int
netstring_encode(struct buf *b, const void *p, size_t n)
{
	char pre[32];
	int plen, r;

	plen = snprintf(pre, sizeof(pre), "%zu:", n);
	if (plen < 0 || (size_t)plen >= sizeof(pre))
		return VS_ELIMIT;
	if (n > BUF_MAX)
		return VS_ELIMIT;
	/* Reserve the whole frame first: on failure b is unchanged. */
	if ((r = buf_reserve(b, (size_t)plen + n + 1)) != 0)
		return r;
	if ((r = buf_append(b, pre, (size_t)plen)) != 0 ||
	    (r = buf_append(b, p, n)) != 0 ||
	    (r = buf_append_u8(b, ',')) != 0)
		return r;
	return 0;
}

int
netstring_encode_str(struct buf *b, const char *s)
{
	return netstring_encode(b, s, strlen(s));
}

/* Walk data[0..len) as netstrings; count them in *n_r, and when items is
 * not NULL store them.  Errors say which item failed. */
static int
split_walk(const uint8_t *data, size_t len, size_t max_items,
    size_t max_item_len, const uint8_t **items, size_t *lens, size_t *n_r,
    struct vs_err *err)
{
	struct vs_err e;
	const uint8_t *p;
	size_t off = 0, n = 0, plen, used;
	int r;

	while (off < len) {
		vs_err_clear(&e);
		r = netstring_decode(data + off, len - off, max_item_len, &p,
		    &plen, &used, &e);
		if (r == NETSTRING_MORE)
			return vs_fail(err, VS_EINVAL, "item %zu: truncated"
			    " netstring at the end of the message", n + 1);
		if (r != NETSTRING_OK)
			return vs_fail(err, r, "item %zu: %s", n + 1, e.msg);
		if (n == max_items)
			return vs_fail(err, VS_ELIMIT, "message holds more"
			    " than %zu items", max_items);
		if (items != NULL) {
			items[n] = p;
			lens[n] = plen;
		}
		n++;
		off += used;
	}
	*n_r = n;
	return VS_OK;
}

int
netstring_split(const uint8_t *data, size_t len, size_t max_items,
    size_t max_item_len, const uint8_t ***items_r, size_t **lens_r,
    size_t *n_r, struct vs_err *err)
{
	const uint8_t **items;
	size_t *lens, n, n2;
	int r;

	*items_r = NULL;
	*lens_r = NULL;
	*n_r = 0;
	/* Two passes: validate and count, then fill arrays of exactly the
	 * right size (max_items may be large; a peer decides nothing). */
	if ((r = split_walk(data, len, max_items, max_item_len, NULL, NULL,
	    &n, err)) != VS_OK)
		return r;
	/* At least one entry, so that an empty message still gives arrays
	 * the caller frees like any other. */
	items = calloc(n > 0 ? n : 1, sizeof(*items));
	lens = calloc(n > 0 ? n : 1, sizeof(*lens));
	if (items == NULL || lens == NULL) {
		free(items);
		free(lens);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	r = split_walk(data, len, max_items, max_item_len, items, lens, &n2,
	    err);
	if (r != VS_OK || n2 != n) {        /* cannot happen: same input */
		free(items);
		free(lens);
		return r != VS_OK ? r : vs_fail(err, VS_EINVAL,
		    "netstring split is inconsistent");
	}
	*items_r = items;
	*lens_r = lens;
	*n_r = n;
	return VS_OK;
}
