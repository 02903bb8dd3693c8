/*
 * test_policy.c - unit tests for lib/policy.c: requests as Postfix sends
 * them, partial input, CRLF, limits, malformed lines, repeated attributes,
 * requests back to back, and reply formatting.
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

#include "policy.h"

#define S(s) (s), (sizeof(s) - 1)

/* The example request of Postfix's SMTPD_POLICY_README (3.8), all
 * attributes, as smtpd writes it. */
static const char readme_request[] =
    "request=smtpd_access_policy\n"
    "protocol_state=RCPT\n"
    "protocol_name=SMTP\n"
    "helo_name=some.domain.tld\n"
    "queue_id=8045F2AB23\n"
    "sender=foo@bar.tld\n"
    "recipient=bar@foo.tld\n"
    "recipient_count=0\n"
    "client_address=1.2.3.4\n"
    "client_name=another.domain.tld\n"
    "reverse_client_name=another.domain.tld\n"
    "instance=123.456.7\n"
    "sasl_method=plain\n"
    "sasl_username=you\n"
    "sasl_sender=\n"
    "size=12345\n"
    "ccert_subject=solaris9.porcupine.org\n"
    "ccert_issuer=Wietse+20Venema\n"
    "ccert_fingerprint=C2:9D:F4:87:71:73:73:D9:18:E7:C2:F3:C1:DA:6E:04\n"
    "encryption_protocol=TLSv1/SSLv3\n"
    "encryption_cipher=DHE-RSA-AES256-SHA\n"
    "encryption_keysize=256\n"
    "etrn_domain=\n"
    "stress=\n"
    "ccert_pubkey_fingerprint=68:B3:29:DA:98:93:E3:40:99:C7:D8:AD:5C:B9:C9:40\n"
    "client_port=1234\n"
    "policy_context=submission\n"
    "server_address=10.3.2.1\n"
    "server_port=54321\n"
    "compatibility_level=major.minor.patch\n"
    "mail_version=3.8.0\n"
    "\n";

static void
check_printable(const char *msg)
{
	for (const char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			fail_msg("non-printable byte in message \"%s\"", msg);
}

static void
check_readme_fields(const struct policy_request *req)
{
	assert_string_equal(req->request, "smtpd_access_policy");
	assert_string_equal(req->protocol_state, "RCPT");
	assert_string_equal(req->sasl_username, "you");
	assert_string_equal(req->sender, "foo@bar.tld");
	assert_string_equal(req->recipient, "bar@foo.tld");
	assert_string_equal(req->client_address, "1.2.3.4");
	assert_string_equal(req->recipient_count, "0");
	assert_string_equal(req->instance, "123.456.7");
	assert_int_equal(req->n_attrs, 31);
}

static bool
is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void
test_readme_request(void **state)
{
	const uint8_t *in = (const uint8_t *)readme_request;
	size_t len = strlen(readme_request), used = 4242, k;
	struct policy_request req;
	struct vs_err err;

	(void)state;
	vs_err_clear(&err);
	assert_int_equal(policy_parse(in, len, &req, &used, &err), POLICY_OK);
	assert_int_equal(used, len);
	check_readme_fields(&req);
	/* Every proper prefix: need more, nothing filled, used untouched. */
	for (k = 0; k < len; k++) {
		used = 4242;
		memset(&req, 'J', sizeof(req));
		assert_int_equal(policy_parse(in, k, &req, &used, &err),
		    POLICY_MORE);
		assert_int_equal(used, 4242);
		assert_true(is_zero(&req, sizeof(req)));
		assert_int_equal(err.code, VS_OK);
	}
}

/* The same with "\r\n" line ends (a human with telnet): accepted. */
static void
test_crlf(void **state)
{
	size_t len = strlen(readme_request), i, j, used, k;
	struct policy_request req;
	struct vs_err err;
	char *crlf;

	(void)state;
	crlf = malloc(2 * len);
	assert_non_null(crlf);
	for (i = j = 0; i < len; i++) {
		if (readme_request[i] == '\n')
			crlf[j++] = '\r';
		crlf[j++] = readme_request[i];
	}
	assert_int_equal(policy_parse((uint8_t *)crlf, j, &req, &used, &err),
	    POLICY_OK);
	assert_int_equal(used, j);
	check_readme_fields(&req);
	for (k = 0; k < j; k++)
		assert_int_equal(policy_parse((uint8_t *)crlf, k, &req, &used,
		    &err), POLICY_MORE);
	free(crlf);
}

struct req_case {
	const char *in;
	size_t len;
	int rc;
	size_t used;            /* OK */
	unsigned n_attrs;       /* OK */
	const char *sender;     /* OK: expected sender */
	const char *errsub;     /* error */
};

#define GOOD(in, used, n, sender) { S(in), POLICY_OK, used, n, sender, NULL }
#define MORE(in) { S(in), POLICY_MORE, 0, 0, NULL, NULL }
#define BAD(in, rc, sub) { S(in), rc, 0, 0, NULL, sub }

static const struct req_case req_cases[] = {
	GOOD("sender=a@b.c\n\n", 14, 1, "a@b.c"),
	GOOD("sender=a@b.c\n\nrequest=x\n", 14, 1, "a@b.c"),   /* stops */
	GOOD("sender=\n\n", 9, 1, ""),
	GOOD("sender=a=b\n\n", 12, 1, "a=b"),               /* first '=' */
	GOOD("Sender=x\n\n", 10, 1, ""),                    /* case matters */
	GOOD("senderx=x\nsende=y\n\n", 19, 2, ""),
	GOOD("foo=1\nfoo=2\nsender=s\n\n", 22, 3, "s"),     /* unknown twice */
	GOOD("x y=1\n\n", 7, 1, ""),                        /* any name */
	GOOD("sender=a\rb\n\n", 12, 1, "a\rb"),             /* lone CR kept */
	GOOD("sender=a\r\n\n", 11, 1, "a"),
	GOOD("sender=a\n\r\n", 11, 1, "a"),
	GOOD("sender=a\r\r\n\n", 12, 1, "a\r"),             /* one CR only */
	GOOD("sender=\xc3\xa9@x\n\n", 13, 1, "\xc3\xa9@x"),
	MORE(""),
	MORE("sender=a"),
	MORE("sender=a\n"),
	MORE("sender=a\r"),
	MORE("sender=a\n\r"),
	MORE("foo"),                    /* no '=' yet, but no line end */
	MORE("sender=a\nsender=b"),     /* repeat seen at the line end */
	BAD("foo\n\n", VS_EINVAL, "line 1 lacks '='"),
	BAD("foo\n", VS_EINVAL, "line 1 lacks '='"),
	BAD("sender=a\nfoo\r\n\n", VS_EINVAL, "line 2 lacks '='"),
	BAD("=x\n\n", VS_EINVAL, "line 1 has an empty attribute name"),
	BAD("=\n", VS_EINVAL, "empty attribute name"),
	BAD("\n", VS_EINVAL, "empty policy request"),
	BAD("\r\n", VS_EINVAL, "empty policy request"),
	BAD("\nsender=a\n\n", VS_EINVAL, "empty policy request"),
	BAD("sender=a\nsender=b\n\n", VS_EINVAL,
	    "attribute sender is repeated (line 2)"),
	BAD("request=a\nfoo=x\nrequest=a\n", VS_EINVAL,
	    "attribute request is repeated (line 3)"),
	BAD("sender=a\0b\n\n", VS_EINVAL, "line 1 holds a NUL byte"),
	BAD("sender=a\0", VS_EINVAL, "line 1 holds a NUL byte"),
	BAD("x=1\nfoo=a\0b\n\n", VS_EINVAL, "line 2 holds a NUL byte"),
	BAD("\0", VS_EINVAL, "line 1 holds a NUL byte"),
	BAD("x=1\n\0", VS_EINVAL, "line 2 holds a NUL byte"),
	BAD("x=1\r\0\n", VS_EINVAL, "NUL byte"),
	BAD("protocol_state=0123456789012345678901234567890X\n\n", VS_ELIMIT,
	    "attribute protocol_state is longer than 31 bytes (line 1)"),
	BAD("recipient_count=0123456789abcdef\n\n", VS_ELIMIT,
	    "attribute recipient_count is longer than 15 bytes"),
};

static void
test_request_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *c = &req_cases[i];
		struct policy_request req;
		struct vs_err err;
		size_t used = 4242;
		int rc;

		vs_err_clear(&err);
		rc = policy_parse((const uint8_t *)c->in, c->len, &req, &used,
		    &err);
		if (rc != c->rc)
			fail_msg("case %zu (\"%s\"): rc %d, want %d (%s)", i,
			    c->in, rc, c->rc, err.msg);
		if (rc == POLICY_OK) {
			assert_int_equal(used, c->used);
			assert_int_equal(req.n_attrs, c->n_attrs);
			assert_string_equal(req.sender, c->sender);
			continue;
		}
		assert_int_equal(used, 4242);
		assert_true(is_zero(&req, sizeof(req)));
		if (rc == POLICY_MORE) {
			assert_int_equal(err.code, VS_OK);
			continue;
		}
		assert_int_equal(err.code, c->rc);
		if (strstr(err.msg, c->errsub) == NULL)
			fail_msg("case %zu (\"%s\"): error \"%s\" lacks \"%s\"",
			    i, c->in, err.msg, c->errsub);
		check_printable(err.msg);
	}
}

/* Fields at and just above their size. */
static void
test_field_sizes(void **state)
{
	struct policy_request req;
	struct vs_err err;
	size_t used, vlen;
	char line[1024];
	int n;

	(void)state;
	for (vlen = 327; vlen <= 331; vlen++) {
		n = snprintf(line, sizeof(line), "recipient=%*s\n\n",
		    (int)vlen, "r");
		assert_true(n > 0 && (size_t)n < sizeof(line));
		if (vlen <= sizeof(req.recipient) - 1) {
			assert_int_equal(policy_parse((uint8_t *)line,
			    (size_t)n, &req, &used, &err), POLICY_OK);
			assert_int_equal(strlen(req.recipient), vlen);
		} else {
			assert_int_equal(policy_parse((uint8_t *)line,
			    (size_t)n, &req, &used, &err), VS_ELIMIT);
			assert_non_null(strstr(err.msg, "attribute recipient"
			    " is longer than 329 bytes"));
		}
	}
	/* An unknown attribute may be long: only the line cap applies. */
	n = snprintf(line, sizeof(line), "ccert_subject=%*s\n\n", 900, "s");
	assert_int_equal(policy_parse((uint8_t *)line, (size_t)n, &req, &used,
	    &err), POLICY_OK);
	assert_int_equal(req.n_attrs, 1);
}

static void
test_limits(void **state)
{
	struct policy_request req;
	struct vs_err err;
	struct buf b = { 0 };
	size_t used, i;
	char *line;

	(void)state;
	line = malloc(POLICY_LINE_MAX + 2);
	assert_non_null(line);

	/* A line of exactly POLICY_LINE_MAX bytes, then one more. */
	memcpy(line, "x=", 2);
	memset(line + 2, 'v', POLICY_LINE_MAX);
	line[POLICY_LINE_MAX] = '\n';
	assert_int_equal(buf_append(&b, line, POLICY_LINE_MAX + 1), 0);
	assert_int_equal(buf_append(&b, "\n", 1), 0);
	assert_int_equal(policy_parse(b.data, b.len, &req, &used, &err),
	    POLICY_OK);
	assert_int_equal(used, POLICY_LINE_MAX + 2);
	/* Without its line end: still MORE. */
	assert_int_equal(policy_parse(b.data, POLICY_LINE_MAX, &req, &used,
	    &err), POLICY_MORE);
	b.data[POLICY_LINE_MAX] = 'v';
	assert_int_equal(policy_parse(b.data, b.len, &req, &used, &err),
	    VS_ELIMIT);
	assert_non_null(strstr(err.msg, "line 1 is longer than 2048 bytes"));
	/* Refused as soon as the byte too many arrives. */
	assert_int_equal(policy_parse(b.data, POLICY_LINE_MAX + 1, &req,
	    &used, &err), VS_ELIMIT);
	buf_free(&b);

	/* POLICY_ATTRS_MAX attributes, then one more. */
	for (i = 0; i < POLICY_ATTRS_MAX; i++)
		assert_int_equal(buf_append_str(&b, "foo=bar\n"), 0);
	assert_int_equal(buf_append(&b, "\n", 1), 0);
	assert_int_equal(policy_parse(b.data, b.len, &req, &used, &err),
	    POLICY_OK);
	assert_int_equal(req.n_attrs, POLICY_ATTRS_MAX);
	b.len--;
	assert_int_equal(buf_append_str(&b, "foo=bar\n\n"), 0);
	assert_int_equal(policy_parse(b.data, b.len, &req, &used, &err),
	    VS_ELIMIT);
	assert_non_null(strstr(err.msg, "more than 64 attributes"));
	buf_free(&b);

	/* POLICY_REQUEST_MAX bytes in all, then one more. */
	memset(line, 'v', POLICY_LINE_MAX);
	memcpy(line, "x=", 2);
	line[1999] = '\n';              /* lines of 2000 bytes */
	for (i = 0; i < 8; i++)
		assert_int_equal(buf_append(&b, line, 2000), 0);
	/* 16000 so far; fill to 16383 and end with the empty line. */
	assert_int_equal(buf_append(&b, line, 382), 0);
	assert_int_equal(buf_append(&b, "\n\n", 2), 0);
	assert_int_equal(b.len, POLICY_REQUEST_MAX);
	assert_int_equal(policy_parse(b.data, b.len, &req, &used, &err),
	    POLICY_OK);
	assert_int_equal(used, POLICY_REQUEST_MAX);
	assert_int_equal(req.n_attrs, 9);
	b.len -= 2;
	assert_int_equal(buf_append(&b, "v\n\n", 3), 0);
	assert_int_equal(policy_parse(b.data, b.len, &req, &used, &err),
	    VS_ELIMIT);
	assert_non_null(strstr(err.msg, "longer than 16384 bytes"));
	/* Without any line end, too. */
	memset(b.data, 'v', b.len);
	b.data[0] = 'x';
	b.data[1] = '=';
	assert_int_equal(policy_parse(b.data, b.len, &req, &used, &err),
	    VS_ELIMIT);
	assert_non_null(strstr(err.msg, "line 1 is longer than"));
	buf_free(&b);
	free(line);
}

/* Two requests in one buffer (Postfix keeps the connection; a pipelining
 * client may send the next one before our reply). */
static void
test_back_to_back(void **state)
{
	struct policy_request req;
	struct vs_err err;
	struct buf b = { 0 };
	size_t len = strlen(readme_request), used, off;

	(void)state;
	assert_int_equal(buf_append(&b, readme_request, len), 0);
	assert_int_equal(buf_append_str(&b, "request=smtpd_access_policy\n"
	    "protocol_state=END-OF-MESSAGE\nsender=x@y.z\n\n"), 0);
	assert_int_equal(buf_append_str(&b, "sender="), 0);
	assert_int_equal(policy_parse(b.data, b.len, &req, &used, &err),
	    POLICY_OK);
	assert_int_equal(used, len);
	check_readme_fields(&req);
	off = used;
	assert_int_equal(policy_parse(b.data + off, b.len - off, &req, &used,
	    &err), POLICY_OK);
	assert_int_equal(used, 28 + 30 + 13 + 1);
	assert_string_equal(req.protocol_state, "END-OF-MESSAGE");
	assert_string_equal(req.sender, "x@y.z");
	assert_string_equal(req.recipient, "");
	assert_string_equal(req.sasl_username, "");
	assert_int_equal(req.n_attrs, 3);
	off += used;
	assert_int_equal(policy_parse(b.data + off, b.len - off, &req, &used,
	    &err), POLICY_MORE);
	assert_int_equal(b.len - off, 7);
	buf_free(&b);
}

/* --- replies --------------------------------------------------------- */

struct reply_case {
	const char *action;
	const char *text;
	int rc;
	const char *want;
};

static const struct reply_case reply_cases[] = {
	{ "DUNNO", NULL, 0, "action=DUNNO\n\n" },
	{ "DUNNO", "", 0, "action=DUNNO\n\n" },
	{ "REJECT", "Sender address not owned by you", 0,
	    "action=REJECT Sender address not owned by you\n\n" },
	{ "DEFER_IF_PERMIT", "Service is sealed, try again later", 0,
	    "action=DEFER_IF_PERMIT Service is sealed, try again later\n\n" },
	{ "554 5.7.1", "No", 0, "action=554 5.7.1 No\n\n" },
	{ "REJECT", "line1\nline2\r\n\n", 0,
	    "action=REJECT line1 line2   \n\n" },
	{ "REJECT", "\ttab\x7f\x1b", 0, "action=REJECT  tab  \n\n" },
	{ "OK\nfoo=bar", NULL, 0, "action=OK foo=bar\n\n" },
	{ NULL, "x", VS_EINVAL, "" },
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

		assert_int_equal(buf_append(&b, "X", 1), 0);
		rc = policy_reply(&b, c->action, c->text);
		if (rc != c->rc)
			fail_msg("case %zu: rc %d, want %d", i, rc, c->rc);
		wlen = strlen(c->want);
		if (b.len != 1 + wlen || memcmp(b.data + 1, c->want, wlen)
		    != 0)
			fail_msg("case %zu: got \"%.*s\", want \"%s\"", i,
			    (int)(b.len - 1), b.data + 1, c->want);
		buf_free(&b);
	}
}

/* A long text is cut so that the reply line fits POLICY_LINE_MAX; the
 * reply parses back as a request line would. */
static void
test_reply_long(void **state)
{
	struct buf b = { 0 };
	struct policy_request req;
	struct vs_err err;
	size_t used;
	char *t, *a;

	(void)state;
	t = malloc(5000);
	assert_non_null(t);
	memset(t, 't', 4999);
	t[4999] = '\0';
	assert_int_equal(policy_reply(&b, "REJECT", t), 0);
	assert_int_equal(b.len, POLICY_LINE_MAX + 2);
	assert_memory_equal(b.data, "action=REJECT ttt", 17);
	assert_memory_equal(b.data + b.len - 3, "t\n\n", 3);
	assert_int_equal(policy_parse(b.data, b.len, &req, &used, &err),
	    POLICY_OK);
	assert_int_equal(used, b.len);
	buf_free(&b);
	/* An action that cannot fit is a caller's bug: refused. */
	a = t;
	assert_int_equal(policy_reply(&b, a, NULL), VS_ELIMIT);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readme_request),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_request_table),
		cmocka_unit_test(test_field_sizes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_reply_table),
		cmocka_unit_test(test_reply_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
