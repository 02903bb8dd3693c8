/*
 * test_sockmap.c - unit tests for lib/sockmap.c: request parsing (map
 * names, the one space, key checks, size) and reply formatting (exact
 * bytes, empty OK, sanitizing, the size cap).
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
#include "sockmap.h"

#define S(s) (s), (sizeof(s) - 1)

static void
check_printable(const char *msg)
{
	for (const char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			fail_msg("non-printable byte in message \"%s\"", msg);
}

/* --- requests -------------------------------------------------------- */

struct req_case {
	const char *in;
	size_t len;
	int rc;
	enum sockmap_map map;
	const char *key;        /* OK: expected key */
	const char *errsub;     /* error: expected message substring */
};

#define GOOD(in, map, key) { S(in), VS_OK, map, key, NULL }
#define BAD(in, rc, sub) { S(in), rc, SOCKMAP_DOMAINS, NULL, sub }

static const struct req_case req_cases[] = {
	GOOD("domains example.org", SOCKMAP_DOMAINS, "example.org"),
	GOOD("mailboxes Alice@Example.ORG", SOCKMAP_MAILBOXES,
	    "Alice@Example.ORG"),               /* case kept: lookup folds */
	GOOD("aliases @example.org", SOCKMAP_ALIASES, "@example.org"),
	GOOD("aliases alice+tag@example.org", SOCKMAP_ALIASES,
	    "alice+tag@example.org"),
	GOOD("senders alice@example.org", SOCKMAP_SENDERS,
	    "alice@example.org"),
	GOOD("domains x", SOCKMAP_DOMAINS, "x"),
	GOOD("domains \xc3\xa9t\xc3\xa9@example.org", SOCKMAP_DOMAINS,
	    "\xc3\xa9t\xc3\xa9@example.org"),  /* non-ASCII: lookup's call */
	GOOD("domains a=b:c\"d", SOCKMAP_DOMAINS, "a=b:c\"d"),
	/* map names: exact and case-sensitive */
	BAD("Domains example.org", VS_EINVAL, "unknown map name \"Domains\""),
	BAD("domain example.org", VS_EINVAL, "unknown map name \"domain\""),
	BAD("domainsx example.org", VS_EINVAL, "unknown map name"),
	BAD("virtual example.org", VS_EINVAL, "unknown map name \"virtual\""),
	BAD("dom\x01ins x", VS_EINVAL, "unknown map name \"dom\\x01ins\""),
	BAD("dom\0ins x", VS_EINVAL, "unknown map name \"dom\\x00ins\""),
	BAD("domains\texample.org", VS_EINVAL, "lacks a space"),
	BAD(" example.org", VS_EINVAL, "empty map name"),
	/* the space */
	BAD("domains", VS_EINVAL, "lacks a space"),
	BAD("", VS_EINVAL, "lacks a space"),
	BAD("domains  example.org", VS_EINVAL, "more than one space"),
	BAD("domains   ", VS_EINVAL, "more than one space"),
	/* the key */
	BAD("domains ", VS_EINVAL, "empty key"),
	BAD("domains a b", VS_EINVAL, "key holds a space"),
	BAD("domains example.org ", VS_EINVAL, "key holds a space"),
	BAD("domains a\tb", VS_EINVAL, "key holds a control character"),
	BAD("domains a\nb", VS_EINVAL, "key holds a control character"),
	BAD("domains example.org\r", VS_EINVAL, "control character"),
	BAD("domains \x1b[31m", VS_EINVAL, "control character"),
	BAD("domains a\x7f", VS_EINVAL, "control character"),
	BAD("domains a\0b", VS_EINVAL, "key holds a NUL byte"),
	BAD("domains \0", VS_EINVAL, "key holds a NUL byte"),
};

static void
test_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *c = &req_cases[i];
		struct sockmap_request req;
		struct vs_err err;
		int rc;

		vs_err_clear(&err);
		memset(&req, 'J', sizeof(req));
		rc = sockmap_parse((const uint8_t *)c->in, c->len, &req,
		    &err);
		if (rc != c->rc)
			fail_msg("case %zu (\"%s\"): rc %d, want %d (%s)", i,
			    c->in, rc, c->rc, err.msg);
		if (rc == VS_OK) {
			assert_int_equal(req.map, c->map);
			assert_string_equal(req.key, c->key);
			continue;
		}
		assert_int_equal(err.code, c->rc);
		if (strstr(err.msg, c->errsub) == NULL)
			fail_msg("case %zu (\"%s\"): error \"%s\" lacks \"%s\"",
			    i, c->in, err.msg, c->errsub);
		check_printable(err.msg);
		assert_string_equal(req.key, "");
	}
}

static void
test_parse_size(void **state)
{
	uint8_t in[SOCKMAP_REQUEST_MAX + 2];
	struct sockmap_request req;
	struct vs_err err;
	char *p;

	(void)state;
	/* Exactly SOCKMAP_REQUEST_MAX bytes. */
	memcpy(in, "aliases ", 8);
	memset(in + 8, 'k', sizeof(in) - 8);
	assert_int_equal(sockmap_parse(in, SOCKMAP_REQUEST_MAX, &req, &err),
	    VS_OK);
	assert_int_equal(req.map, SOCKMAP_ALIASES);
	assert_int_equal(strlen(req.key), SOCKMAP_REQUEST_MAX - 8);
	/* One more. */
	assert_int_equal(sockmap_parse(in, SOCKMAP_REQUEST_MAX + 1, &req,
	    &err), VS_ELIMIT);
	assert_non_null(strstr(err.msg, "request too long"));
	assert_string_equal(req.key, "");

	/* A huge map name is quoted, cut and still fits a message. */
	memset(in, 'A', sizeof(in));
	in[600] = ' ';
	assert_int_equal(sockmap_parse(in, 700, &req, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "unknown map name \"AAAA"));
	assert_non_null(strstr(err.msg, "\"AAAAAAAAAAAAAAAA...\""));
	assert_true(strlen(err.msg) < 100);
	memset(in, 0xff, sizeof(in));
	in[600] = ' ';
	assert_int_equal(sockmap_parse(in, 700, &req, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "\"\\xff"));
	assert_true(strlen(err.msg) < 100);
	check_printable(err.msg);
	/* 16 bytes are shown whole. */
	in[16] = ' ';
	assert_int_equal(sockmap_parse(in, 20, &req, &err), VS_EINVAL);
	assert_null(strstr(err.msg, "..."));
	check_printable(err.msg);
	/* The key is never quoted in a message. */
	p = "domains secret\x01";
	assert_int_equal(sockmap_parse((const uint8_t *)p, strlen(p), &req,
	    &err), VS_EINVAL);
	assert_null(strstr(err.msg, "secret"));
}

static void
test_map_names(void **state)
{
	static const enum sockmap_map maps[] = { SOCKMAP_DOMAINS,
	    SOCKMAP_MAILBOXES, SOCKMAP_ALIASES, SOCKMAP_SENDERS };
	static const char *const names[] = { "domains", "mailboxes",
	    "aliases", "senders" };
	struct sockmap_request req;
	struct vs_err err;
	char line[64];
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_string_equal(sockmap_map_name(maps[i]), names[i]);
		snprintf(line, sizeof(line), "%s a@b.c",
		    sockmap_map_name(maps[i]));
		assert_int_equal(sockmap_parse((const uint8_t *)line,
		    strlen(line), &req, &err), VS_OK);
		assert_int_equal(req.map, maps[i]);
	}
	assert_string_equal(sockmap_map_name((enum sockmap_map)42),
	    "unknown");
}

/* --- replies --------------------------------------------------------- */

struct reply_case {
	const char *status;
	const char *text;
	int rc;
	const char *want;       /* the exact netstring */
};

static const struct reply_case reply_cases[] = {
	{ "OK", "example.org", 0, "14:OK example.org," },
	{ "OK", "a@example.org,b@example.org", 0,
	    "30:OK a@example.org,b@example.org," },
	{ "NOTFOUND", NULL, 0, "9:NOTFOUND ," },
	{ "NOTFOUND", "", 0, "9:NOTFOUND ," },
	{ "NOTFOUND", "whatever", 0, "9:NOTFOUND ," },
	{ "OK", "", 0, "16:TEMP empty value," },
	{ "OK", NULL, 0, "16:TEMP empty value," },
	{ "OK", "a\nb", 0, "36:TEMP value holds a control character," },
	{ "OK", "a\tb", 0, "36:TEMP value holds a control character," },
	{ "TEMP", "service is sealed", 0, "22:TEMP service is sealed," },
	{ "PERM", "unknown map name \"x\"", 0,
	    "25:PERM unknown map name \"x\"," },
	{ "PERM", "bad\r\nreason\t\x7f", 0, "18:PERM bad  reason  ," },
	{ "TEMP", "\x1b[0m", 0, "9:TEMP  [0m," },
	{ "TEMP", "", 0, "22:TEMP unspecified error," },
	{ "PERM", NULL, 0, "22:PERM unspecified error," },
	{ "FOO", "x", VS_EINVAL, "" },
	{ "ok", "x", VS_EINVAL, "" },
	{ "", "x", VS_EINVAL, "" },
};

static void
test_reply_table(void **state)
{
	size_t i, wlen;

	(void)state;
	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		const struct reply_case *c = &reply_cases[i];
		struct buf b = { 0 };
		int rc;

		/* Appends after what is there. */
		assert_int_equal(buf_append(&b, "X", 1), 0);
		rc = sockmap_reply(&b, c->status, c->text);
		if (rc != c->rc)
			fail_msg("case %zu (%s): rc %d, want %d", i, c->status,
			    rc, c->rc);
		wlen = strlen(c->want);
		if (b.len != 1 + wlen || memcmp(b.data + 1, c->want, wlen)
		    != 0)
			fail_msg("case %zu (%s): got \"%.*s\", want \"%s\"", i,
			    c->status, (int)(b.len - 1), b.data + 1, c->want);
		buf_free(&b);
	}
}

static void
test_reply_cap(void **state)
{
	struct buf b = { 0 };
	const uint8_t *p;
	size_t plen, used, n;
	struct vs_err err;
	char *v;

	(void)state;
	/* "OK " + value = exactly SOCKMAP_REPLY_MAX. */
	n = SOCKMAP_REPLY_MAX - 3;
	v = malloc(n + 2);
	assert_non_null(v);
	memset(v, 'v', n + 1);
	v[n] = '\0';
	assert_int_equal(sockmap_reply(&b, "OK", v), 0);
	assert_int_equal(netstring_decode(b.data, b.len, SOCKMAP_REPLY_MAX,
	    &p, &plen, &used, &err), NETSTRING_OK);
	assert_int_equal(used, b.len);
	assert_int_equal(plen, SOCKMAP_REPLY_MAX);
	assert_memory_equal(p, "OK vvv", 6);
	buf_free(&b);
	/* One byte more. */
	v[n] = 'v';
	v[n + 1] = '\0';
	assert_int_equal(sockmap_reply(&b, "OK", v), 0);
	assert_int_equal(b.len, 23);
	assert_memory_equal(b.data, "19:TEMP reply too long,", 23);
	buf_free(&b);
	/* Same for a reason. */
	assert_int_equal(sockmap_reply(&b, "PERM", v), 0);
	assert_memory_equal(b.data, "19:TEMP reply too long,", 23);
	buf_free(&b);
	/* "PERM " + reason = exactly SOCKMAP_REPLY_MAX, then one more. */
	v[n - 1] = '\0';
	assert_int_equal(sockmap_reply(&b, "PERM", v), 0);
	assert_memory_equal(b.data, "19:TEMP reply too long,", 23);
	buf_free(&b);
	v[n - 2] = '\0';
	assert_int_equal(sockmap_reply(&b, "PERM", v), 0);
	assert_int_equal(netstring_decode(b.data, b.len, SOCKMAP_REPLY_MAX,
	    &p, &plen, &used, &err), NETSTRING_OK);
	assert_int_equal(plen, SOCKMAP_REPLY_MAX);
	assert_memory_equal(p, "PERM vvv", 8);
	buf_free(&b);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_map_names),
		cmocka_unit_test(test_reply_table),
		cmocka_unit_test(test_reply_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
