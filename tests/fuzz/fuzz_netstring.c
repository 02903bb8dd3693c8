/*
 * fuzz_netstring.c - libFuzzer target for lib/netstring.c.
 *
 * Input: byte 0 picks the length cap, byte 1 seeds the piece sizes, the
 * rest is a byte stream.  Checks:
 *  - decoding the stream whole and decoding it as it "arrives" in pieces
 *    of random size give the same answer, at the first prefix that is not
 *    NETSTRING_MORE (and every longer prefix keeps that answer);
 *  - an accepted netstring is canonical: encoding its payload gives back
 *    exactly the bytes used; every proper prefix of it is MORE;
 *  - errors carry the right code and a printable message;
 *  - encode -> decode round trip of the stream as a payload;
 *  - netstring_split accepts exactly the streams that are a sequence of
 *    netstrings, and re-encoding its items gives back the stream.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

struct res {
	int rc;
	const uint8_t *p;
	size_t plen, used;
	struct vs_err err;
};

static void
decode(const uint8_t *d, size_t len, size_t max, struct res *r)
{
	r->p = NULL;
	r->plen = r->used = 0;
	vs_err_clear(&r->err);
	r->rc = netstring_decode(d, len, max, &r->p, &r->plen, &r->used,
	    &r->err);
}

static int
same(const struct res *a, const struct res *b)
{
	return a->rc == b->rc && a->p == b->p && a->plen == b->plen &&
	    a->used == b->used && a->err.code == b->err.code &&
	    strcmp(a->err.msg, b->err.msg) == 0;
}

static void
check_msg(const struct res *r)
{
	const char *m;

	CHECK(r->rc == VS_EINVAL || r->rc == VS_ELIMIT);
	CHECK(r->err.code == r->rc);
	CHECK(r->err.msg[0] != '\0');
	for (m = r->err.msg; *m != '\0'; m++)
		CHECK((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f);
}

static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static size_t
pick_max(uint8_t b)
{
	switch (b % 8) {
	case 0: return 0;
	case 1: return 9;
	case 2: return 10;
	case 3: return 100;
	case 4: return 1024;
	case 5: return 4294967295u;
	case 6: return SIZE_MAX;
	}
	return b;
}

static void
check_ok(const uint8_t *d, size_t max, const struct res *r)
{
	struct buf b = { 0 };
	struct res pr;

	CHECK(r->plen <= max);
	CHECK(r->used >= r->plen + 3);
	CHECK(r->p == d + r->used - r->plen - 1);
	CHECK(d[r->used - 1] == ',');
	CHECK(r->err.code == VS_OK);
	/* Canonical: our encoder writes exactly these bytes. */
	CHECK(netstring_encode(&b, r->p, r->plen) == 0);
	CHECK(b.len == r->used && memcmp(b.data, d, b.len) == 0);
	buf_free(&b);
	/* The netstring alone, and one byte short. */
	decode(d, r->used, max, &pr);
	CHECK(pr.rc == NETSTRING_OK && pr.used == r->used);
	decode(d, r->used - 1, max, &pr);
	CHECK(pr.rc == NETSTRING_MORE);
}

static void
check_split(const uint8_t *d, size_t len, size_t max, const struct res *whole)
{
	const uint8_t **items;
	size_t *lens, n, i;
	struct buf b = { 0 };
	struct vs_err err;
	int rc;

	vs_err_clear(&err);
	rc = netstring_split(d, len, 16, max, &items, &lens, &n, &err);
	if (rc != VS_OK) {
		CHECK(rc == VS_EINVAL || rc == VS_ELIMIT);
		CHECK(err.code == rc && items == NULL && lens == NULL &&
		    n == 0);
		/* A first netstring that is wrong makes the split wrong. */
		return;
	}
	CHECK(n <= 16);
	CHECK(items != NULL && lens != NULL);
	CHECK(len == 0 || whole->rc == NETSTRING_OK);
	if (n > 0)
		CHECK(items[0] == whole->p && lens[0] == whole->plen);
	for (i = 0; i < n; i++) {
		CHECK(lens[i] <= max);
		CHECK(netstring_encode(&b, items[i], lens[i]) == 0);
	}
	CHECK(b.len == len && (len == 0 || memcmp(b.data, d, len) == 0));
	buf_free(&b);
	free(items);
	free(lens);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct res whole, part, again;
	struct buf b = { 0 };
	const uint8_t *d;
	size_t len, max, k, step;
	uint32_t seed;

	if (size < 2)
		return 0;
	max = pick_max(data[0]);
	seed = 0x9e3779b9u ^ data[1];
	d = data + 2;
	len = size - 2;

	decode(d, len, max, &whole);
	if (whole.rc == NETSTRING_OK)
		check_ok(d, max, &whole);
	else if (whole.rc == NETSTRING_MORE)
		CHECK(whole.err.code == VS_OK);
	else
		check_msg(&whole);

	/* The stream arriving in pieces. */
	for (k = 0;;) {
		decode(d, k, max, &part);
		if (part.rc != NETSTRING_MORE) {
			CHECK(same(&part, &whole));
			/* Stable once decided. */
			if (k < len) {
				decode(d, k + 1 + next(&seed) % (len - k), max,
				    &again);
				CHECK(same(&again, &whole));
			}
			break;
		}
		CHECK(part.err.code == VS_OK);
		if (k == len) {
			CHECK(whole.rc == NETSTRING_MORE);
			break;
		}
		step = 1 + next(&seed) % 16;
		k = step > len - k ? len : k + step;
	}

	check_split(d, len, max, &whole);

	/* Round trip of the stream as one payload. */
	CHECK(netstring_encode(&b, d, len) == 0);
	decode(b.data, b.len, len, &part);
	CHECK(part.rc == NETSTRING_OK && part.used == b.len &&
	    part.plen == len && memcmp(part.p, d, len) == 0);
	if (len > 0) {
		decode(b.data, b.len, len - 1, &part);
		CHECK(part.rc == VS_ELIMIT);
	}
	buf_free(&b);
	return 0;
}
