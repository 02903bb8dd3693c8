/*
 * test_authproto.c - the auth socket's requests and replies, good and
 * malformed, with the expected error messages.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "authproto.h"
#include "netstring.h"

/* Parse items given as C strings (lengths by strlen unless given). */
static int
parse(const char *const *s, size_t n, struct auth_request *req,
    struct vs_err *err)
{
	const uint8_t *items[16];
	size_t lens[16], i;

	for (i = 0; i < n; i++) {
		items[i] = (const uint8_t *)s[i];
		lens[i] = strlen(s[i]);
	}
	return auth_parse_request(items, lens, n, req, err);
}

static void
test_requests(void **state)
{
	const char *v[] = { "verify", "alice@somedomain.ie", "pa ss\tword",
	    "imap", "127.0.0.2", "127.0.0.1", "1" };
	const char *l[] = { "lookup", "alice", "lmtp" };
	struct auth_request req;

	(void)state;
	assert_int_equal(parse(v, 7, &req, NULL), VS_OK);
	assert_int_equal(req.op, AUTH_VERIFY);
	assert_string_equal(req.login, "alice@somedomain.ie");
	assert_string_equal(req.password, "pa ss\tword");
	assert_int_equal(req.password_len, 10);
	assert_string_equal(req.service, "imap");
	assert_string_equal(req.remote_ip, "127.0.0.2");
	assert_true(req.secured);
	auth_request_wipe(&req);
	assert_int_equal(req.password_len, 0);
	assert_int_equal(req.password_buf[0], 0);
	assert_int_equal(parse(l, 3, &req, NULL), VS_OK);
	assert_int_equal(req.op, AUTH_LOOKUP);
	assert_string_equal(req.login, "alice");
}

static void
test_bad_requests(void **state)
{
	static const struct {
		const char *items[8];
		size_t n;
		const char *msg;
	} cases[] = {
		{ { "verify", "a", "p", "imap", "", "" }, 6, "verify takes 6" },
		{ { "verify", "", "p", "imap", "", "", "0" }, 7, "login is empty" },
		{ { "verify", "a\nb", "p", "imap", "", "", "0" }, 7,
		  "login holds a control character" },
		{ { "verify", "a", "p", "im\tap", "", "", "0" }, 7,
		  "service holds a control character" },
		{ { "verify", "a", "p", "imap", "", "", "yes" }, 7,
		  "secured must be 0 or 1" },
		{ { "lookup", "a" }, 2, "lookup takes 2" },
		{ { "lookup", "", "imap" }, 3, "name is empty" },
		{ { "delete", "a" }, 2, "unknown request" },
		{ { "" }, 0, "empty request" },
	};
	struct auth_request req;
	struct vs_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vs_err_clear(&err);
		assert_int_equal(parse(cases[i].items, cases[i].n, &req, &err),
		    VS_EINVAL);
		if (strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    err.msg, cases[i].msg);
	}
	/* A password with a NUL, and one over the cap. */
	{
		const uint8_t *items[7];
		size_t lens[7];
		char *big = malloc(PW_PASSWORD_MAX + 2);
		const char *s[7] = { "verify", "a", "p\0q", "imap", "", "",
		    "0" };

		for (i = 0; i < 7; i++) {
			items[i] = (const uint8_t *)s[i];
			lens[i] = strlen(s[i]);
		}
		lens[2] = 3;
		assert_int_equal(auth_parse_request(items, lens, 7, &req, &err),
		    VS_EINVAL);
		assert_non_null(strstr(err.msg, "password holds a NUL"));
		memset(big, 'x', PW_PASSWORD_MAX + 1);
		items[2] = (const uint8_t *)big;
		lens[2] = PW_PASSWORD_MAX + 1;
		assert_int_equal(auth_parse_request(items, lens, 7, &req, &err),
		    VS_EINVAL);
		assert_non_null(strstr(err.msg, "password is too long"));
		lens[2] = PW_PASSWORD_MAX;
		assert_int_equal(auth_parse_request(items, lens, 7, &req, &err),
		    VS_OK);
		auth_request_wipe(&req);
		free(big);
	}
}

/* Encode a reply and parse it back through the client's path. */
static void
roundtrip(const struct auth_reply *in, struct auth_reply *out)
{
	struct buf b = { 0 };
	const uint8_t *p, **items;
	size_t plen, used, *lens, n;

	assert_int_equal(auth_encode_reply(in, &b), VS_OK);
	assert_int_equal(netstring_decode(b.data, b.len, AUTH_REPLY_MAX, &p,
	    &plen, &used, NULL), NETSTRING_OK);
	assert_int_equal(used, b.len);
	assert_int_equal(netstring_split(p, plen, 32, AUTH_REPLY_MAX, &items,
	    &lens, &n, NULL), VS_OK);
	assert_int_equal(auth_parse_reply(items, lens, n, out, NULL), VS_OK);
	free(items);
	free(lens);
	buf_free(&b);
}

static void
test_replies(void **state)
{
	struct auth_reply r, d;
	int k;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.result = AUTH_OK;
	strcpy(r.user, "alice");
	assert_int_equal(auth_reply_field(&r, "home", "/kx/dovecot/home/alice"),
	    VS_OK);
	assert_int_equal(auth_reply_field(&r, "uid", "555"), VS_OK);
	assert_int_equal(auth_reply_field(&r, "mail",
	    "mbox:~/mail:INBOX=/kx/dovecot/mail/alice"), VS_OK);
	/* Values that would break Dovecot's environment are refused. */
	assert_int_equal(auth_reply_field(&r, "home", "a\tb"), VS_EINVAL);
	assert_int_equal(auth_reply_field(&r, "home", "a\nb"), VS_EINVAL);
	assert_int_equal(auth_reply_field(&r, "ho=me", "x"), VS_EINVAL);
	roundtrip(&r, &d);
	assert_int_equal(d.result, AUTH_OK);
	assert_string_equal(d.user, "alice");
	assert_int_equal(d.n_fields, 3);
	assert_string_equal(d.fields[0], "home=/kx/dovecot/home/alice");
	for (k = AUTH_FAIL; k <= AUTH_DISABLED; k++) {
		memset(&r, 0, sizeof(r));
		r.result = (enum auth_result)k;
		roundtrip(&r, &d);
		assert_int_equal(d.result, k);
	}
	memset(&r, 0, sizeof(r));
	r.result = AUTH_FAIL;
	strcpy(r.reason, "throttled");
	roundtrip(&r, &d);
	assert_int_equal(d.result, AUTH_FAIL);
	assert_string_equal(d.reason, "throttled");
	memset(&r, 0, sizeof(r));
	r.result = AUTH_TEMP;
	strcpy(r.reason, "vmseal is sealed");
	roundtrip(&r, &d);
	assert_int_equal(d.result, AUTH_TEMP);
	assert_string_equal(d.reason, "vmseal is sealed");
	/* An ok without a user is never encoded. */
	{
		struct buf b = { 0 };

		memset(&r, 0, sizeof(r));
		r.result = AUTH_OK;
		assert_int_equal(auth_encode_reply(&r, &b), VS_EINVAL);
		buf_free(&b);
	}
}

static void
test_bad_replies(void **state)
{
	static const struct {
		const char *items[4];
		size_t n;
		const char *msg;
	} cases[] = {
		{ { "ok" }, 1, "malformed ok reply" },
		{ { "ok", "alice", "home" }, 3, "malformed field" },
		{ { "ok", "al\nice" }, 2, "user holds a control character" },
		{ { "maybe" }, 1, "unknown reply" },
		{ { "fail", "x", "y" }, 3, "unexpected items" },
		{ { "disabled", "x" }, 2, "unexpected items" },
		{ { "temp" }, 1, "malformed temp reply" },
	};
	const uint8_t *items[4];
	size_t lens[4], i, k;
	struct auth_reply r;
	struct vs_err err;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (k = 0; k < cases[i].n; k++) {
			items[k] = (const uint8_t *)cases[i].items[k];
			lens[k] = strlen(cases[i].items[k]);
		}
		vs_err_clear(&err);
		assert_int_not_equal(auth_parse_reply(items, lens, cases[i].n,
		    &r, &err), VS_OK);
		if (strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    err.msg, cases[i].msg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_bad_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
