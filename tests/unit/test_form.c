/*
 * test_form.c - the urlencoded form parser (lib/form.c): what Roundcube's
 * httpapi driver sends (Guzzle's form_params: http_build_query, '+' for
 * spaces, %XX for the rest), each decoding rule, each error with its
 * exact message (never a value), the caps at their bounds, and that a
 * failed parse leaves no value behind.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "form.h"

struct fcase {
	const char *body;
	int rc;
	const char *user, *cur, *newpw;         /* rc VS_OK */
	const char *msg;                        /* otherwise */
};

static const struct fcase cases[] = {
	{ "username=alice%40example.org&curpass=old+pw&newpass=N%C3%A9w%2B%26%3D",
	    VS_OK, "alice@example.org", "old pw", "N\xc3\xa9w+&=", NULL },
	{ "newpass=b&other=&username=a&curpass=%2f%2F", VS_OK, "a", "//",
	    "b", NULL },
	{ "username=a&curpass=&newpass=x", VS_OK, "a", "", "x", NULL },
	{ "user%6eame=a&curpass=c&newpass=n", VS_OK, "a", "c", "n", NULL },
	{ "username=a=b&curpass=c&newpass=n", VS_OK, "a=b", "c", "n", NULL },
	{ "", VS_EINVAL, NULL, NULL, NULL, "form: the body is empty" },
	{ "username=a&curpass=c", VS_EINVAL, NULL, NULL, NULL,
	    "form field 'newpass': missing" },
	{ "username=a&curpass=c&newpass=n&username=b", VS_EINVAL, NULL, NULL,
	    NULL, "form field 'username': given twice" },
	{ "username=a&&curpass=c&newpass=n", VS_EINVAL, NULL, NULL, NULL,
	    "form pair 2: empty pair" },
	{ "&username=a&curpass=c&newpass=n", VS_EINVAL, NULL, NULL, NULL,
	    "form pair 1: empty pair" },
	{ "username=a&curpass=c&newpass=n&", VS_EINVAL, NULL, NULL, NULL,
	    "form pair 4: empty pair" },
	{ "username=a&curpass&newpass=n", VS_EINVAL, NULL, NULL, NULL,
	    "form pair 2: no '='" },
	{ "=a&curpass=c&newpass=n", VS_EINVAL, NULL, NULL, NULL,
	    "form pair 1: empty name" },
	{ "username=a&curpass=c%2&newpass=n", VS_EINVAL, NULL, NULL, NULL,
	    "form field 'curpass': a bad %-escape" },
	{ "username=a&curpass=c&newpass=n%", VS_EINVAL, NULL, NULL, NULL,
	    "form field 'newpass': a bad %-escape" },
	{ "username=a&curpass=%zz&newpass=n", VS_EINVAL, NULL, NULL, NULL,
	    "form field 'curpass': a bad %-escape" },
	{ "username=a%00b&curpass=c&newpass=n", VS_EINVAL, NULL, NULL, NULL,
	    "form field 'username': a NUL byte" },
	{ "x=%4&username=a&curpass=c&newpass=n", VS_EINVAL, NULL, NULL, NULL,
	    "form pair 1: a bad %-escape" },
	{ "x%0=1&username=a&curpass=c&newpass=n", VS_EINVAL, NULL, NULL, NULL,
	    "form pair 1: a bad %-escape" },
	{ "x=%00&username=a&curpass=c&newpass=n", VS_EINVAL, NULL, NULL, NULL,
	    "form pair 1: a NUL byte" },
};

static char ubuf[256], cbuf[1025], nbuf[1025];

static void
setup(struct form_field f[3])
{
	memset(f, 0, 3 * sizeof(*f));
	f[0].name = "username";
	f[0].value = ubuf;
	f[0].cap = sizeof(ubuf);
	f[1].name = "curpass";
	f[1].value = cbuf;
	f[1].cap = sizeof(cbuf);
	f[2].name = "newpass";
	f[2].value = nbuf;
	f[2].cap = sizeof(nbuf);
}

static void
test_cases(void **state)
{
	struct form_field f[3];
	struct vs_err err;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fcase *c = &cases[i];

		setup(f);
		vs_err_clear(&err);
		rc = form_parse(c->body, strlen(c->body), f, 3, &err);
		if (rc != c->rc)
			fail_msg("case %zu: rc %d, want %d (%s)", i, rc, c->rc,
			    err.msg);
		if (rc == VS_OK) {
			assert_string_equal(ubuf, c->user);
			assert_int_equal(f[0].len, strlen(c->user));
			assert_string_equal(cbuf, c->cur);
			assert_int_equal(f[1].len, strlen(c->cur));
			assert_string_equal(nbuf, c->newpw);
			assert_int_equal(f[2].len, strlen(c->newpw));
			continue;
		}
		if (strcmp(err.msg, c->msg) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, err.msg,
			    c->msg);
		/* Nothing of a failed parse is left behind. */
		assert_int_equal(f[0].found || f[1].found || f[2].found, 0);
		assert_int_equal(ubuf[0] | cbuf[0] | nbuf[0], 0);
	}
}

static void
test_caps(void **state)
{
	static char body[FORM_BODY_MAX + 64];
	struct form_field f[3];
	struct vs_err err;
	size_t n, i;

	(void)state;
	/* A value as long as its buffer allows (cap - 1) is taken. */
	setup(f);
	n = (size_t)snprintf(body, sizeof(body), "username=");
	memset(body + n, 'u', sizeof(ubuf) - 1);
	n += sizeof(ubuf) - 1;
	n += (size_t)snprintf(body + n, sizeof(body) - n,
	    "&curpass=c&newpass=n");
	assert_int_equal(form_parse(body, n, f, 3, &err), VS_OK);
	assert_int_equal(f[0].len, sizeof(ubuf) - 1);
	/* One byte more is over the cap (an escape counts as one byte). */
	setup(f);
	n = (size_t)snprintf(body, sizeof(body), "username=%%41");
	memset(body + n, 'u', sizeof(ubuf) - 1);
	n += sizeof(ubuf) - 1;
	n += (size_t)snprintf(body + n, sizeof(body) - n,
	    "&curpass=c&newpass=n");
	assert_int_equal(form_parse(body, n, f, 3, &err), VS_ELIMIT);
	assert_string_equal(err.msg, "form field 'username': too long");
	/* A value of a field nobody asked for: FORM_VALUE_MAX. */
	setup(f);
	n = (size_t)snprintf(body, sizeof(body), "x=");
	memset(body + n, 'v', FORM_VALUE_MAX + 1);
	n += FORM_VALUE_MAX + 1;
	assert_int_equal(form_parse(body, n, f, 3, &err), VS_ELIMIT);
	assert_string_equal(err.msg, "form pair 1: value too long");
	/* A name over FORM_NAME_MAX. */
	setup(f);
	memset(body, 'k', FORM_NAME_MAX + 1);
	body[FORM_NAME_MAX + 1] = '=';
	assert_int_equal(form_parse(body, FORM_NAME_MAX + 2, f, 3, &err),
	    VS_ELIMIT);
	assert_string_equal(err.msg, "form pair 1: name too long");
	/* FORM_PAIRS_MAX pairs are read, one more is refused. */
	setup(f);
	n = (size_t)snprintf(body, sizeof(body),
	    "username=a&curpass=c&newpass=n");
	for (i = 3; i < FORM_PAIRS_MAX; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "&x=1");
	assert_int_equal(form_parse(body, n, f, 3, &err), VS_OK);
	n += (size_t)snprintf(body + n, sizeof(body) - n, "&x=1");
	setup(f);
	assert_int_equal(form_parse(body, n, f, 3, &err), VS_ELIMIT);
	assert_string_equal(err.msg, "form: too many pairs");
	/* The body: FORM_BODY_MAX bytes and no more. */
	setup(f);
	assert_int_equal(form_parse(body, FORM_BODY_MAX + 1, f, 3, &err),
	    VS_ELIMIT);
	assert_string_equal(err.msg, "form: the body is over the cap");
	setup(f);
	n = (size_t)snprintf(body, sizeof(body),
	    "username=a&curpass=c&newpass=n&x=");
	memset(body + n, 'v', FORM_BODY_MAX - n);
	for (i = n + 900; i < FORM_BODY_MAX; i += 900)
		memcpy(body + i, "&y=", 3);
	assert_int_equal(form_parse(body, FORM_BODY_MAX, f, 3, &err), VS_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
