/*
 * test_netstring.c - unit tests for lib/netstring.c: decoding (good, bad,
 * partial, limits, overflow), encoding, and splitting a message into
 * netstrings.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netstring.h"

/* A literal with its length, NULs included. */
#define S(s) (s), (sizeof(s) - 1)

static void
check_printable(const char *msg)
{
	for (const char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			fail_msg("non-printable byte in message \"%s\"", msg);
}

/* --- decode ---------------------------------------------------------- */

struct dec_case {
	const char *in;
	size_t len;
	size_t max;
	int rc;                 /* NETSTRING_OK/MORE or VS_E* */
	const char *payload;    /* OK: expected payload */
	size_t plen;
	size_t used;
	const char *errsub;     /* error: expected message substring */
};

#define OK(in, max, pl, used) { S(in), max, NETSTRING_OK, S(pl), used, NULL }
#define MORE(in, max) { S(in), max, NETSTRING_MORE, NULL, 0, 0, NULL }
#define BAD(in, max, rc, sub) { S(in), max, rc, NULL, 0, 0, sub }

static const struct dec_case dec_cases[] = {
	OK("5:hello,", 1024, "hello", 8),
	OK("0:,", 1024, "", 3),
	OK("5:hello,5:world,", 1024, "hello", 8),       /* stops after one */
	OK("5:hello,garbage", 1024, "hello", 8),        /* caller's business */
	OK("3:a\0b,", 1024, "a\0b", 6),                 /* NUL in payload */
	OK("1:\0,", 1024, "\0", 4),
	OK("3:,,,,", 1024, ",,,", 6),                   /* ',' in payload */
	OK("2:1:,", 1024, "1:", 5),
	OK("0:,", 0, "", 3),                            /* max 0 */
	OK("5:hello,", 5, "hello", 8),                  /* just at max */
	OK("10:0123456789,", 10, "0123456789", 14),
	MORE("", 1024),
	MORE("5", 1024),
	MORE("5:", 1024),
	MORE("5:hel", 1024),
	MORE("5:hello", 1024),
	MORE("0", 1024),                                /* prefix of "0:," */
	MORE("0:", 1024),
	MORE("102", 1024),
	MORE("1024", 1024),
	MORE("10", 10),
	/* leading zeros */
	BAD("05:hello,", 1024, VS_EINVAL, "leading zero"),
	BAD("00:,", 1024, VS_EINVAL, "leading zero"),
	BAD("00", 1024, VS_EINVAL, "leading zero"),     /* seen early */
	BAD("0005", 1024, VS_EINVAL, "leading zero"),
	/* length above the cap, refused at the first digit too many */
	BAD("6:hello!,", 5, VS_ELIMIT, "above the limit of 5 bytes"),
	BAD("6", 5, VS_ELIMIT, "above the limit"),
	BAD("11", 10, VS_ELIMIT, "above the limit"),
	BAD("100", 10, VS_ELIMIT, "above the limit"),
	BAD("1025", 1024, VS_ELIMIT, "above the limit of 1024"),
	BAD("10240", 1024, VS_ELIMIT, "above the limit"),
	BAD("1", 0, VS_ELIMIT, "above the limit of 0"),
	BAD("99999999999999999999:", 1024, VS_ELIMIT, "above the limit"),
	BAD("99999999999999999999:", SIZE_MAX, VS_ELIMIT, "above the limit"),
	BAD("18446744073709551616:", SIZE_MAX, VS_ELIMIT, "above the limit"),
	BAD("18446744073709551615:", SIZE_MAX, VS_ELIMIT, "too large"),
	BAD("4294967296:", 4294967295u, VS_ELIMIT, "above the limit"),
	/* framing */
	BAD("5:hello;", 1024, VS_EINVAL, "not followed by ',' (got byte \\x3b)"),
	BAD("5:helloX,", 1024, VS_EINVAL, "not followed by ','"),
	BAD("5:hello\0", 1024, VS_EINVAL, "not followed by ',' (got byte \\x00)"),
	BAD("3:abc\n", 1024, VS_EINVAL, "not followed by ','"),
	BAD("5;hello,", 1024, VS_EINVAL, "not followed by ':'"),
	BAD("5x", 1024, VS_EINVAL, "not followed by ':' (got byte \\x78)"),
	BAD("5 :hello,", 1024, VS_EINVAL, "not followed by ':'"),
	BAD(":hello,", 1024, VS_EINVAL, "does not start with a digit"),
	BAD(",", 1024, VS_EINVAL, "does not start with a digit"),
	BAD("-1:x,", 1024, VS_EINVAL, "does not start with a digit"),
	BAD("+1:x,", 1024, VS_EINVAL, "does not start with a digit"),
	BAD(" 5:hello,", 1024, VS_EINVAL, "does not start with a digit"),
	BAD("\0", 1024, VS_EINVAL, "got byte \\x00"),
	BAD("a", 1024, VS_EINVAL, "does not start with a digit"),
	BAD("\xff", 1024, VS_EINVAL, "got byte \\xff"),
};

static void
test_decode_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
		const struct dec_case *c = &dec_cases[i];
		const uint8_t *payload = (const uint8_t *)"untouched";
		size_t plen = 4242, used = 4343;
		struct vs_err err;
		int rc;

		vs_err_clear(&err);
		rc = netstring_decode((const uint8_t *)c->in, c->len, c->max,
		    &payload, &plen, &used, &err);
		if (rc != c->rc)
			fail_msg("case %zu (\"%s\"): rc %d, want %d (%s)", i,
			    c->in, rc, c->rc, err.msg);
		if (rc == NETSTRING_OK) {
			assert_int_equal(plen, c->plen);
			assert_memory_equal(payload, c->payload, c->plen);
			assert_true(payload == (const uint8_t *)c->in +
			    (c->used - c->plen - 1));
			assert_int_equal(used, c->used);
			assert_int_equal(err.code, VS_OK);
		} else if (rc == NETSTRING_MORE) {
			/* Nothing set. */
			assert_int_equal(plen, 4242);
			assert_int_equal(used, 4343);
			assert_int_equal(err.code, VS_OK);
		} else {
			assert_int_equal(err.code, c->rc);
			if (strstr(err.msg, c->errsub) == NULL)
				fail_msg("case %zu (\"%s\"): error \"%s\" lacks"
				    " \"%s\"", i, c->in, err.msg, c->errsub);
			check_printable(err.msg);
			assert_int_equal(plen, 4242);
			assert_int_equal(used, 4343);
		}
	}
}

/* Every proper prefix of a valid netstring is MORE, never an error. */
static void
test_decode_prefixes(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		size_t max;
	} good[] = {
		{ S("5:hello,"), 1024 },
		{ S("0:,"), 1024 },
		{ S("0:,"), 0 },
		{ S("3:\0\0\0,"), 3 },
		{ S("12:hello, world,"), 12 },
		{ S("10:0123456789,"), 99 },
	};
	uint8_t *big;
	size_t i, k, n, plen, used;
	const uint8_t *p;
	struct vs_err err;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		for (k = 0; k < good[i].len; k++) {
			vs_err_clear(&err);
			assert_int_equal(netstring_decode(
			    (const uint8_t *)good[i].in, k, good[i].max, &p,
			    &plen, &used, &err), NETSTRING_MORE);
			assert_int_equal(err.code, VS_OK);
		}
		assert_int_equal(netstring_decode((const uint8_t *)good[i].in,
		    good[i].len, good[i].max, &p, &plen, &used, &err),
		    NETSTRING_OK);
		assert_int_equal(used, good[i].len);
	}

	/* One of exactly the cap (1024), every prefix. */
	n = 5 + 1024 + 1;
	big = malloc(n);
	assert_non_null(big);
	memcpy(big, "1024:", 5);
	memset(big + 5, 'x', 1024);
	big[n - 1] = ',';
	for (k = 0; k < n; k++)
		assert_int_equal(netstring_decode(big, k, 1024, &p, &plen,
		    &used, &err), NETSTRING_MORE);
	assert_int_equal(netstring_decode(big, n, 1024, &p, &plen, &used,
	    &err), NETSTRING_OK);
	assert_int_equal(plen, 1024);
	assert_int_equal(used, n);
	/* The same one cap 1023: refused at its 4th digit. */
	assert_int_equal(netstring_decode(big, 4, 1023, &p, &plen, &used,
	    &err), VS_ELIMIT);
	assert_int_equal(netstring_decode(big, 3, 1023, &p, &plen, &used,
	    &err), NETSTRING_MORE);
	free(big);
}

/* An endless stream of digits is refused after the cap's digit count. */
static void
test_decode_endless_digits(void **state)
{
	uint8_t digits[64];
	const uint8_t *p;
	size_t plen, used, k;
	struct vs_err err;

	(void)state;
	memset(digits, '9', sizeof(digits));
	for (k = 0; k <= 3; k++)
		assert_int_equal(netstring_decode(digits, k, 1024, &p, &plen,
		    &used, &err), NETSTRING_MORE);
	/* "9999" > 1024 */
	assert_int_equal(netstring_decode(digits, 4, 1024, &p, &plen, &used,
	    &err), VS_ELIMIT);
	assert_int_equal(netstring_decode(digits, sizeof(digits), 1024, &p,
	    &plen, &used, &err), VS_ELIMIT);
	assert_int_equal(netstring_decode(digits, sizeof(digits), SIZE_MAX,
	    &p, &plen, &used, &err), VS_ELIMIT);
	/* NULL err is allowed. */
	assert_int_equal(netstring_decode(digits, sizeof(digits), 10, &p,
	    &plen, &used, NULL), VS_ELIMIT);
}

/* --- encode ---------------------------------------------------------- */

static void
test_encode(void **state)
{
	struct buf b = { 0 };
	const uint8_t *p;
	size_t plen, used;
	struct vs_err err;
	uint8_t *big;

	(void)state;
	assert_int_equal(netstring_encode(&b, "hello", 5), 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "5:hello,", 8);
	assert_int_equal(netstring_encode(&b, "", 0), 0);
	assert_int_equal(netstring_encode(&b, "a\0b", 3), 0);
	assert_int_equal(netstring_encode_str(&b, "hello, world"), 0);
	assert_int_equal(b.len, 8 + 3 + 6 + 16);
	assert_memory_equal(b.data, "5:hello,0:,3:a\0b,12:hello, world,",
	    b.len);

	/* Round trip, one after the other. */
	assert_int_equal(netstring_decode(b.data, b.len, 100, &p, &plen,
	    &used, &err), NETSTRING_OK);
	assert_int_equal(used, 8);
	assert_int_equal(netstring_decode(b.data + 8, b.len - 8, 100, &p,
	    &plen, &used, &err), NETSTRING_OK);
	assert_int_equal(plen, 0);
	assert_int_equal(netstring_decode(b.data + 11, b.len - 11, 100, &p,
	    &plen, &used, &err), NETSTRING_OK);
	assert_int_equal(plen, 3);
	assert_memory_equal(p, "a\0b", 3);
	buf_free(&b);

	/* A large payload. */
	big = malloc(100000);
	assert_non_null(big);
	memset(big, 'z', 100000);
	assert_int_equal(netstring_encode(&b, big, 100000), 0);
	assert_int_equal(b.len, 7 + 100000 + 1);
	assert_memory_equal(b.data, "100000:", 7);
	assert_int_equal(netstring_decode(b.data, b.len, 100000, &p, &plen,
	    &used, &err), NETSTRING_OK);
	assert_int_equal(plen, 100000);
	assert_int_equal(netstring_decode(b.data, b.len, 99999, &p, &plen,
	    &used, &err), VS_ELIMIT);
	buf_free(&b);
	free(big);

	/* Beyond BUF_MAX: refused, buffer unchanged. */
	assert_int_equal(netstring_encode(&b, "x", 1), 0);
	assert_int_equal(netstring_encode(&b, "x", BUF_MAX), VS_ELIMIT);
	assert_int_equal(b.len, 4);
	buf_free(&b);
}

/* --- split ----------------------------------------------------------- */

struct split_case {
	const char *in;
	size_t len;
	size_t max_items;
	size_t max_item_len;
	int rc;
	size_t n;
	const char *items[4];
	const char *errsub;
};

static const struct split_case split_cases[] = {
	{ S("5:hello,3:abc,0:,"), 8, 64, VS_OK, 3, { "hello", "abc", "" },
	    NULL },
	{ S("5:hello,"), 1, 5, VS_OK, 1, { "hello" }, NULL },
	{ S(""), 8, 64, VS_OK, 0, { NULL }, NULL },
	{ S("3:abc,3:def,"), 2, 64, VS_OK, 2, { "abc", "def" }, NULL },
	{ S("3:abc,3:def,3:ghi,"), 2, 64, VS_ELIMIT, 0, { NULL },
	    "more than 2 items" },
	{ S("3:abc,"), 0, 64, VS_ELIMIT, 0, { NULL }, "more than 0 items" },
	{ S("5:hello,x"), 8, 64, VS_EINVAL, 0, { NULL },
	    "item 2: netstring does not start with a digit" },
	{ S("5:hello,\n"), 8, 64, VS_EINVAL, 0, { NULL }, "item 2:" },
	{ S("5:hello,3:ab"), 8, 64, VS_EINVAL, 0, { NULL },
	    "item 2: truncated netstring" },
	{ S("5:hello,3"), 8, 64, VS_EINVAL, 0, { NULL },
	    "item 2: truncated netstring" },
	{ S("5:hello"), 8, 64, VS_EINVAL, 0, { NULL },
	    "item 1: truncated" },
	{ S("5:hello,"), 8, 4, VS_ELIMIT, 0, { NULL },
	    "item 1: netstring length is above the limit of 4 bytes" },
	{ S("3:abc,05:hello,"), 8, 64, VS_EINVAL, 0, { NULL },
	    "item 2: netstring length has a leading zero" },
	{ S("3:abc;"), 8, 64, VS_EINVAL, 0, { NULL },
	    "item 1: netstring payload is not followed by ','" },
	{ S("99999999999999999999:"), 8, SIZE_MAX, VS_ELIMIT, 0, { NULL },
	    "item 1: netstring length is above the limit" },
};

static void
test_split_table(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		const struct split_case *c = &split_cases[i];
		const uint8_t **items = (const uint8_t **)1;
		size_t *lens = (size_t *)1, n = 99;
		struct vs_err err;
		int rc;

		vs_err_clear(&err);
		rc = netstring_split((const uint8_t *)c->in, c->len,
		    c->max_items, c->max_item_len, &items, &lens, &n, &err);
		if (rc != c->rc)
			fail_msg("case %zu (\"%s\"): rc %d, want %d (%s)", i,
			    c->in, rc, c->rc, err.msg);
		if (rc != VS_OK) {
			assert_null(items);
			assert_null(lens);
			assert_int_equal(n, 0);
			assert_int_equal(err.code, c->rc);
			if (strstr(err.msg, c->errsub) == NULL)
				fail_msg("case %zu (\"%s\"): error \"%s\" lacks"
				    " \"%s\"", i, c->in, err.msg, c->errsub);
			check_printable(err.msg);
			continue;
		}
		assert_int_equal(n, c->n);
		assert_non_null(items);
		assert_non_null(lens);
		for (j = 0; j < n; j++) {
			assert_int_equal(lens[j], strlen(c->items[j]));
			assert_memory_equal(items[j], c->items[j], lens[j]);
			/* Pointers into the input. */
			assert_true(items[j] >= (const uint8_t *)c->in &&
			    items[j] + lens[j] < (const uint8_t *)c->in +
			    c->len);
		}
		free(items);
		free(lens);
	}
}

/* A netstring of netstrings, as the admin protocol sends them, with NULs
 * in the items. */
static void
test_split_nested(void **state)
{
	struct buf inner = { 0 }, outer = { 0 };
	const uint8_t *p, **items;
	size_t plen, used, *lens, n;
	struct vs_err err;

	(void)state;
	assert_int_equal(netstring_encode_str(&inner, "set-password"), 0);
	assert_int_equal(netstring_encode_str(&inner, "alice@example.org"), 0);
	assert_int_equal(netstring_encode(&inner, "pw\0x", 4), 0);
	assert_int_equal(netstring_encode(&outer, inner.data, inner.len), 0);
	assert_int_equal(netstring_decode(outer.data, outer.len, 4096, &p,
	    &plen, &used, &err), NETSTRING_OK);
	assert_int_equal(used, outer.len);
	assert_int_equal(netstring_split(p, plen, 8, 1024, &items, &lens, &n,
	    &err), VS_OK);
	assert_int_equal(n, 3);
	assert_int_equal(lens[0], 12);
	assert_memory_equal(items[0], "set-password", 12);
	assert_int_equal(lens[1], 17);
	assert_int_equal(lens[2], 4);
	assert_memory_equal(items[2], "pw\0x", 4);
	free(items);
	free(lens);
	/* The outer payload with one byte more is refused. */
	assert_int_equal(netstring_split(p, plen + 1, 8, 1024, &items, &lens,
	    &n, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "item 4:"));
	buf_free(&inner);
	buf_free(&outer);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_prefixes),
		cmocka_unit_test(test_decode_endless_digits),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_split_table),
		cmocka_unit_test(test_split_nested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
