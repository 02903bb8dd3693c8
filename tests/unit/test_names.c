/*
 * test_names.c - unit tests for lib/names.c: domain, address and login
 * normalization, error messages and name_quote().
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

#include "names.h"

/* Sentinel: the output buffer must be set to "" on failure. */
#define JUNK "junk"

static void
test_login_paths(void **state)
{
	char out[NAME_BUF];
	struct vs_err err;

	(void)state;
	assert_int_equal(name_login("../etc", true, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "'/' is not allowed"));
	assert_int_equal(name_login("a/b@example.org", true, out, &err),
	    VS_EINVAL);
	assert_int_equal(name_login(".hidden", true, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "cannot start with '.'"));
	assert_int_equal(name_login("a.b", true, out, &err), VS_OK);
	/* Addresses keep RFC 5321's wider local parts. */
	assert_int_equal(name_address("a/b@example.org", true, false, out,
	    &err), VS_OK);
}

static void
check_result(const char *what, const char *in, int rc, const char *out,
    const struct vs_err *err, const char *want, const char *errsub)
{
	if (want != NULL) {
		if (rc != VS_OK)
			fail_msg("%s(\"%s\"): unexpected error: %s", what, in,
			    err->msg);
		if (strcmp(out, want) != 0)
			fail_msg("%s(\"%s\"): got \"%s\", want \"%s\"", what,
			    in, out, want);
		return;
	}
	if (rc != VS_EINVAL)
		fail_msg("%s(\"%s\"): accepted as \"%s\", want an error with"
		    " \"%s\"", what, in, out, errsub);
	assert_int_equal(err->code, VS_EINVAL);
	if (strstr(err->msg, errsub) == NULL)
		fail_msg("%s(\"%s\"): error \"%s\" lacks \"%s\"", what, in,
		    err->msg, errsub);
	assert_string_equal(out, "");
	/* Never a raw control character in a message. */
	for (const char *p = err->msg; *p != '\0'; p++)
		assert_true((unsigned char)*p >= 0x20 &&
		    (unsigned char)*p < 0x7f);
}

/* --- domains -------------------------------------------------------- */

struct domain_case {
	const char *in;
	const char *want;	/* NULL: must fail */
	const char *errsub;
};

static const struct domain_case domain_cases[] = {
	{ "example.com", "example.com", NULL },
	{ "Example.COM", "example.com", NULL },
	{ "SomeDomain.IE", "somedomain.ie", NULL },
	{ "example.com.", "example.com", NULL },
	{ "localhost", "localhost", NULL },
	{ "a.b", "a.b", NULL },
	{ "x-y.example", "x-y.example", NULL },
	{ "_dmarc.example.org", "_dmarc.example.org", NULL },
	{ "123.example", "123.example", NULL },
	{ "xn--caf-dma.example", "xn--caf-dma.example", NULL },
	{ "", NULL, "invalid domain \"\": empty domain" },
	{ ".", NULL, "empty domain" },
	{ "example.com..", NULL, "empty label" },
	{ "ex..com", NULL, "invalid domain \"ex..com\": empty label" },
	{ ".example.com", NULL, "empty label" },
	{ "-example.com", NULL, "label starts with '-'" },
	{ "example-.com", NULL, "label ends with '-'" },
	{ "example.com-", NULL, "label ends with '-'" },
	{ "café.example", NULL, "IDNA" },
	{ "café.example", NULL, "not supported yet" },
	{ "caf\xc3\xa9.example", NULL, "\"caf\\xc3\\xa9.example\"" },
	{ "\xff", NULL, "non-ASCII" },
	{ "exa mple.com", NULL, "space at position 4" },
	{ "example.com\t", NULL, "control character \\x09 at position 12" },
	{ "example.com\nevil", NULL, "control character \\x0a" },
	{ "example.com\r", NULL, "control character \\x0d" },
	{ "example.com\x7f", NULL, "control character \\x7f" },
	{ "example.com:x", NULL,
	    "character ':' at position 12 is not allowed" },
	{ "exa@mple.com", NULL, "character '@'" },
	{ "exa/mple.com", NULL, "character '/'" },
	{ "[127.0.0.1]", NULL, "character '['" },
	{ "*.example.com", NULL, "character '*'" },
};

static void
test_domain_table(void **state)
{
	char out[NAME_BUF];
	struct vs_err err;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(domain_cases) / sizeof(domain_cases[0]); i++) {
		const struct domain_case *c = &domain_cases[i];

		vs_err_clear(&err);
		strcpy(out, JUNK);
		rc = name_domain(c->in, out, &err);
		check_result("name_domain", c->in, rc, out, &err, c->want,
		    c->errsub);
	}
}

/* A label of n copies of ch. */
static char *
label(char *p, char ch, size_t n)
{
	memset(p, ch, n);
	return p + n;
}

static void
test_domain_limits(void **state)
{
	char in[600], want[600], out[NAME_BUF];
	struct vs_err err;
	char *p;

	(void)state;
	/* Label of 63 is fine, 64 is not. */
	p = label(in, 'A', 63);
	strcpy(p, ".com");
	assert_int_equal(name_domain(in, out, &err), VS_OK);
	assert_int_equal(strlen(out), 63 + 4);
	assert_int_equal(out[0], 'a');
	p = label(in, 'a', 64);
	strcpy(p, ".com");
	assert_int_equal(name_domain(in, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "label longer than 63 characters"));
	/* The quote is truncated. */
	assert_non_null(strstr(err.msg, "...\""));

	/* Total 253 is fine, 254 is not; a trailing dot does not count. */
	p = label(in, 'a', 63);
	*p++ = '.';
	p = label(p, 'b', 63);
	*p++ = '.';
	p = label(p, 'c', 63);
	*p++ = '.';
	p = label(p, 'd', 61);
	*p = '\0';
	assert_int_equal(strlen(in), 253);
	assert_int_equal(name_domain(in, out, &err), VS_OK);
	assert_string_equal(out, in);
	strcpy(want, in);
	strcat(in, ".");
	assert_int_equal(name_domain(in, out, &err), VS_OK);
	assert_string_equal(out, want);
	in[253] = 'd';
	in[254] = '\0';
	assert_int_equal(name_domain(in, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "domain longer than 253 characters"));
	strcat(in, ".");
	assert_int_equal(name_domain(in, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "longer than 253"));

	/* Very long input: refused, message stays bounded. */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(name_domain(in, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "longer than"));

	/* A NULL err is allowed. */
	assert_int_equal(name_domain("ex..com", out, NULL), VS_EINVAL);
	assert_int_equal(name_domain("Ex.com", out, NULL), VS_OK);
}

/* --- addresses ------------------------------------------------------ */

struct address_case {
	const char *in;
	bool fold, catchall;
	const char *want;
	const char *errsub;
};

static const struct address_case address_cases[] = {
	{ "alice@example.com", true, false, "alice@example.com", NULL },
	{ "Alice@SomeDomain.IE", true, false, "alice@somedomain.ie", NULL },
	{ "Alice@SomeDomain.IE", false, false, "Alice@somedomain.ie", NULL },
	{ "Alice@SomeDomain.IE.", false, false, "Alice@somedomain.ie", NULL },
	{ "first.last+tag@example.com", true, false,
	    "first.last+tag@example.com", NULL },
	{ "o'brien@example.ie", true, false, "o'brien@example.ie", NULL },
	{ "a!#$%&*+-/=?^_`{|}~.@x.y", false, false,
	    "a!#$%&*+-/=?^_`{|}~.@x.y", NULL },
	{ "@example.com", true, true, "@example.com", NULL },
	{ "@Example.COM", false, true, "@example.com", NULL },
	{ "@example.com", true, false, NULL, "catch-all" },
	{ "@example.com", true, false, NULL, "empty local part" },
	{ "", true, true, NULL, "invalid address \"\": missing '@'" },
	{ "alice", true, false, NULL, "missing '@'" },
	{ "alice@", true, false, NULL, "empty domain" },
	{ "@", true, true, NULL, "empty domain" },
	{ "a@b@example.com", true, false, NULL, "more than one '@'" },
	{ "a@example.com@", true, false, NULL, "more than one '@'" },
	{ "alice@ex..com", true, false, NULL,
	    "invalid address \"alice@ex..com\": empty label" },
	{ "alice@-ex.com", true, false, NULL, "label starts with '-'" },
	{ "alice@café.ie", true, false, NULL, "IDNA" },
	{ "alice@café.ie", true, false, NULL, "position 10" },
	{ "alicé@cafe.ie", true, false, NULL, "non-ASCII" },
	{ "al ice@example.com", true, false, NULL, "space at position 3" },
	{ "alice\t@example.com", true, false, NULL,
	    "control character \\x09 at position 6" },
	{ "alice\n@example.com", true, false, NULL, "\\x0a" },
	{ "alice@example.com\r\nDATA", true, false, NULL,
	    "control character \\x0d at position 18" },
	{ "a@b.c\nRCPT TO:<x@y>", true, false, NULL, "more than one '@'" },
	{ "alice\r\n@example.com", true, false, NULL, "\\x0d" },
	{ "al\x7f" "ice@example.com", true, false, NULL, "\\x7f" },
	{ "al\x01" "ice@example.com", true, false, NULL, "\\x01" },
	{ "alice:x@example.com", true, false, NULL, "character ':'" },
	{ "alice:$6$salt$hash:1000@example.com", true, false, NULL, "':'" },
	{ "alice@example.com:x", true, false, NULL, "character ':'" },
	{ "\"alice\"@example.com", true, false, NULL, "character '\"'" },
	{ "a\\b@example.com", true, false, NULL, "character '\\'" },
	{ "<alice>@example.com", true, false, NULL, "character '<'" },
	{ "a>b@example.com", true, false, NULL, "character '>'" },
	{ "a,b@example.com", true, false, NULL, "character ','" },
	{ "a;b@example.com", true, false, NULL, "character ';'" },
	{ "a(b@example.com", true, false, NULL, "character '('" },
	{ "a)b@example.com", true, false, NULL, "character ')'" },
	{ "a[b@example.com", true, false, NULL, "character '['" },
	{ "a]b@example.com", true, false, NULL, "character ']'" },
	{ "alice@[192.0.2.1]", true, false, NULL, "character '['" },
};

static void
test_address_table(void **state)
{
	char out[NAME_BUF];
	struct vs_err err;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(address_cases) / sizeof(address_cases[0]); i++) {
		const struct address_case *c = &address_cases[i];

		vs_err_clear(&err);
		strcpy(out, JUNK);
		rc = name_address(c->in, c->fold, c->catchall, out, &err);
		check_result("name_address", c->in, rc, out, &err, c->want,
		    c->errsub);
	}
}

static void
test_address_limits(void **state)
{
	char in[700], out[NAME_BUF];
	struct vs_err err;
	char *p;

	(void)state;
	/* Local part of 64 is fine, 65 is not. */
	p = label(in, 'X', 64);
	strcpy(p, "@Example.com");
	assert_int_equal(name_address(in, true, false, out, &err), VS_OK);
	assert_int_equal(strlen(out), 64 + 12);
	assert_int_equal(out[0], 'x');
	assert_int_equal(name_address(in, false, false, out, &err), VS_OK);
	assert_int_equal(out[0], 'X');
	p = label(in, 'x', 65);
	strcpy(p, "@example.com");
	assert_int_equal(name_address(in, true, false, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg,
	    "local part longer than 64 characters"));

	/* Longest address: 64 + 1 + 253. */
	p = label(in, 'l', 64);
	*p++ = '@';
	p = label(p, 'a', 63);
	*p++ = '.';
	p = label(p, 'b', 63);
	*p++ = '.';
	p = label(p, 'c', 63);
	*p++ = '.';
	p = label(p, 'd', 61);
	strcpy(p, ".");
	assert_int_equal(name_address(in, true, false, out, &err), VS_OK);
	assert_int_equal(strlen(out), NAME_ADDRESS_MAX);
	strcpy(p, "d");
	assert_int_equal(name_address(in, true, false, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "domain longer than 253"));

	/* Huge local part. */
	memset(in, 'a', sizeof(in) - 20);
	strcpy(in + sizeof(in) - 20, "@example.com");
	assert_int_equal(name_address(in, true, false, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "longer than 64"));
}

static void
test_domain_of(void **state)
{
	(void)state;
	assert_string_equal(name_domain_of("alice@example.com"), "example.com");
	assert_string_equal(name_domain_of("@example.com"), "example.com");
	assert_string_equal(name_domain_of("alice@"), "");
	assert_null(name_domain_of("alice"));
	assert_null(name_domain_of(""));
	assert_null(name_domain_of(NULL));
}

/* --- logins --------------------------------------------------------- */

struct login_case {
	const char *in;
	bool fold;
	const char *want;
	const char *errsub;
};

static const struct login_case login_cases[] = {
	{ "alice", true, "alice", NULL },
	{ "Alice", true, "alice", NULL },
	{ "Alice", false, "Alice", NULL },
	{ "Alice@Example.COM", true, "alice@example.com", NULL },
	{ "Alice@Example.COM", false, "Alice@example.com", NULL },
	{ "alice@example.com.", true, "alice@example.com", NULL },
	{ "first.last+tag", true, "first.last+tag", NULL },
	{ "", true, NULL, "invalid login \"\": empty login name" },
	{ "@example.com", true, NULL, "empty login name" },
	{ "alice@", true, NULL, "empty domain" },
	{ "a@b@c", true, NULL, "more than one '@'" },
	{ "alice@ex..com", true, NULL, "empty label" },
	{ "alice@café.ie", true, NULL, "IDNA" },
	{ "alicé", true, NULL, "non-ASCII" },
	{ "al ice", true, NULL, "space at position 3" },
	{ "alice\t", true, NULL, "control character \\x09 at position 6" },
	{ "alice\tx", true, NULL, "\"alice\\x09x\"" },
	{ "alice\nadmin:x:0:0::/root:/bin/sh", true, NULL,
	    "control character \\x0a" },
	{ "alice\r", true, NULL, "\\x0d" },
	{ "alice\x1b[31m", true, NULL, "\\x1b" },
	{ "alice\x7f", true, NULL, "\\x7f" },
	{ "alice:x", true, NULL, "character ':' at position 6" },
	{ "alice:{SHA512-CRYPT}$6$x", true, NULL, "':'" },
	{ "root:", true, NULL, "':'" },
	{ "alice@example.com:x", true, NULL, "character ':'" },
	{ "alice@exa mple.com", true, NULL, "space at position 10" },
	{ "<alice>", true, NULL, "character '<'" },
	{ "\"alice\"", true, NULL, "character '\"'" },
};

static void
test_login_table(void **state)
{
	char out[NAME_BUF];
	struct vs_err err;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(login_cases) / sizeof(login_cases[0]); i++) {
		const struct login_case *c = &login_cases[i];

		vs_err_clear(&err);
		strcpy(out, JUNK);
		rc = name_login(c->in, c->fold, out, &err);
		check_result("name_login", c->in, rc, out, &err, c->want,
		    c->errsub);
	}
}

static void
test_login_limits(void **state)
{
	char in[700], out[NAME_BUF];
	struct vs_err err;
	char *p;

	(void)state;
	/* Without a domain: 255 is fine, 256 is not. */
	p = label(in, 'U', NAME_LOGIN_MAX);
	*p = '\0';
	assert_int_equal(name_login(in, true, out, &err), VS_OK);
	assert_int_equal(strlen(out), NAME_LOGIN_MAX);
	assert_int_equal(out[0], 'u');
	p = label(in, 'u', NAME_LOGIN_MAX + 1);
	*p = '\0';
	assert_int_equal(name_login(in, true, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "longer than 255"));

	/* With a domain: the whole normalized name counts. */
	p = label(in, 'u', 255 - 12);
	strcpy(p, "@example.com");
	assert_int_equal(strlen(in), 255);
	assert_int_equal(name_login(in, true, out, &err), VS_OK);
	strcpy(p, "@example.com.");
	assert_int_equal(name_login(in, true, out, &err), VS_OK);
	assert_int_equal(strlen(out), 255);
	strcpy(p, "@example.comx");
	assert_int_equal(name_login(in, true, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "longer than 255"));

	/* Long domain with a short user part. */
	p = label(in, 'u', 1);
	*p++ = '@';
	p = label(p, 'a', 63);
	*p++ = '.';
	p = label(p, 'b', 63);
	*p++ = '.';
	p = label(p, 'c', 63);
	*p++ = '.';
	p = label(p, 'd', 61);
	*p = '\0';
	assert_int_equal(name_login(in, true, out, &err), VS_OK);
	assert_int_equal(strlen(out), 255);

	/* Huge input. */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[300] = '@';
	assert_int_equal(name_login(in, true, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "longer than 255"));
}

/* Normalized names are fixed points. */
static void
test_idempotent(void **state)
{
	static const char *const addrs[] = {
		"Alice@SomeDomain.IE", "@Example.COM.", "x_y@a-b.c_d",
	};
	char out[NAME_BUF], again[NAME_BUF];
	struct vs_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		assert_int_equal(name_address(addrs[i], true, true, out, &err),
		    VS_OK);
		assert_int_equal(name_address(out, true, true, again, &err),
		    VS_OK);
		assert_string_equal(out, again);
		if (out[0] != '@') {
			assert_int_equal(name_login(out, true, again, &err),
			    VS_OK);
			assert_string_equal(out, again);
		}
		assert_int_equal(name_domain(name_domain_of(out), again, &err),
		    VS_OK);
		assert_string_equal(name_domain_of(out), again);
	}
}

/* --- name_quote ----------------------------------------------------- */

struct quote_case {
	const char *in;
	size_t len;
	const char *want;
};

static const struct quote_case quote_cases[] = {
	{ "", 0, "" },
	{ "alice@example.com", 17, "alice@example.com" },
	{ "a\tb", 3, "a\\x09b" },
	{ "a\nb\r", 4, "a\\x0ab\\x0d" },
	{ "\x7f\x80\xff", 3, "\\x7f\\x80\\xff" },
	{ "say \"hi\"", 8, "say \\x22hi\\x22" },
	{ "back\\slash", 10, "back\\x5cslash" },
	{ "a\0b", 3, "a\\x00b" },
	{ "abcdef", 3, "abc" },
};

static void
test_quote(void **state)
{
	char out[NAME_QUOTE_BUF], in[200], want[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(quote_cases) / sizeof(quote_cases[0]); i++) {
		memset(out, 'Z', sizeof(out));
		name_quote(quote_cases[i].in, quote_cases[i].len, out);
		assert_string_equal(out, quote_cases[i].want);
	}

	/* 64 characters pass whole, 65 are cut to 64 and "...". */
	memset(in, 'q', sizeof(in));
	name_quote(in, 64, out);
	assert_int_equal(strlen(out), 64);
	assert_null(strchr(out, '.'));
	name_quote(in, 65, out);
	assert_int_equal(strlen(out), 67);
	memset(want, 'q', 64);
	strcpy(want + 64, "...");
	assert_string_equal(out, want);
	name_quote(in, sizeof(in), out);
	assert_string_equal(out, want);

	/* Worst case fills NAME_QUOTE_BUF exactly. */
	memset(in, '\x01', sizeof(in));
	memset(out, 'Z', sizeof(out));
	name_quote(in, sizeof(in), out);
	assert_int_equal(strlen(out), NAME_QUOTE_BUF - 1);
	assert_memory_equal(out, "\\x01\\x01", 8);
	assert_string_equal(out + 256, "...");
}

/* Error messages quote through name_quote: long input is cut. */
static void
test_message_quote(void **state)
{
	char in[300], out[NAME_BUF];
	struct vs_err err;

	(void)state;
	memset(in, 'a', sizeof(in));
	in[100] = ':';
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(name_login(in, true, out, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "...\": character ':' at position"
	    " 101"));
	assert_true(strlen(err.msg) < 64 + 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_paths),
		cmocka_unit_test(test_domain_table),
		cmocka_unit_test(test_domain_limits),
		cmocka_unit_test(test_address_table),
		cmocka_unit_test(test_address_limits),
		cmocka_unit_test(test_domain_of),
		cmocka_unit_test(test_login_table),
		cmocka_unit_test(test_login_limits),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_message_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
