/*
 * test_authproto.c - the auth socket's requests and replies, good and
 * malformed, with the expected error messages; requests encoded by the
 * clients' encoder and parsed back by the service's parser (round trips
 * at the caps, and the encoder refusing what the parser would).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "authproto.h"
#include "mailkey.h"
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

/* The reply to a verified password as vmsealed builds it for a user with
 * mail keys (service/auth.c): the usual fields and both keys as base64 of
 * their PEMs, from real P-256 keys, fit the caps and come back exact; a
 * field at AUTH_FIELD_MAX is refused, one byte less passes. */
static void
test_reply_mail_keys(void **state)
{
	struct auth_reply r, d;
	char *pub, *priv, b64pub[MAILKEY_B64_MAX], b64priv[MAILKEY_B64_MAX];
	char want[MAILKEY_B64_MAX + 64], big[AUTH_FIELD_MAX + 1];
	size_t room;

	(void)state;
	assert_int_equal(mailkey_generate(&pub, &priv, NULL), VS_OK);
	assert_int_equal(mailkey_b64(pub, b64pub, sizeof(b64pub), NULL), VS_OK);
	assert_int_equal(mailkey_b64(priv, b64priv, sizeof(b64priv), NULL),
	    VS_OK);
	memset(&r, 0, sizeof(r));
	r.result = AUTH_OK;
	strcpy(r.user, "alice@somedomain.ie");
	assert_int_equal(auth_reply_field(&r, "home",
	    "/kx/dovecot/home/alice@somedomain.ie"), VS_OK);
	assert_int_equal(auth_reply_field(&r, "uid", "4294967295"), VS_OK);
	assert_int_equal(auth_reply_field(&r, "gid", "4294967295"), VS_OK);
	assert_int_equal(auth_reply_field(&r, "mail",
	    "maildir:~/Maildir:INDEX=/var/index/%u"), VS_OK);
	assert_int_equal(auth_reply_field(&r, "quota_rule", "*:storage=10G"),
	    VS_OK);
	assert_int_equal(auth_reply_field(&r, "mail_crypt_save_version", "2"),
	    VS_OK);
	assert_int_equal(auth_reply_field(&r, "mail_crypt_global_public_key",
	    b64pub), VS_OK);
	assert_int_equal(auth_reply_field(&r, "mail_crypt_global_private_key",
	    b64priv), VS_OK);
	roundtrip(&r, &d);
	assert_int_equal(d.n_fields, 8);
	assert_string_equal(d.fields[5], "mail_crypt_save_version=2");
	snprintf(want, sizeof(want), "mail_crypt_global_public_key=%s", b64pub);
	assert_string_equal(d.fields[6], want);
	snprintf(want, sizeof(want), "mail_crypt_global_private_key=%s",
	    b64priv);
	assert_string_equal(d.fields[7], want);
	/* room to spare: a key field is well under the field cap */
	assert_true(strlen(want) < AUTH_FIELD_MAX / 2);

	/* the cap itself: "k=" and a value, NUL included */
	room = AUTH_FIELD_MAX - 3;
	memset(big, 'A', room + 1);
	big[room + 1] = '\0';
	memset(&r, 0, sizeof(r));
	r.result = AUTH_OK;
	strcpy(r.user, "alice");
	assert_int_equal(auth_reply_field(&r, "k", big), VS_EINVAL);
	big[room] = '\0';
	assert_int_equal(auth_reply_field(&r, "k", big), VS_OK);
	roundtrip(&r, &d);
	assert_int_equal(strlen(d.fields[0]), AUTH_FIELD_MAX - 1);
	sodium_memzero(b64priv, sizeof(b64priv));
	sodium_memzero(&r, sizeof(r));
	sodium_memzero(&d, sizeof(d));
	free(pub);
	vs_freestr(priv);
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

/* Encode a request and parse it back as vmsealed does (the frame decoded
 * with the service's caps).  Returns the encoder's code; on VS_OK *out
 * holds the parsed request and *frame_len the frame's length. */
static int
req_roundtrip(const struct auth_request *in, struct auth_request *out,
    size_t *frame_len, struct vs_err *err)
{
	struct buf b = { 0 };
	const uint8_t *p, **items;
	size_t plen, used, *lens, n;
	int r;

	r = auth_encode_request(in, &b, err);
	if (r != VS_OK) {
		assert_int_equal(b.len, 0);
		buf_free(&b);
		return r;
	}
	*frame_len = b.len;
	assert_int_equal(netstring_decode(b.data, b.len, AUTH_REQUEST_MAX, &p,
	    &plen, &used, NULL), NETSTRING_OK);
	assert_int_equal(used, b.len);
	assert_int_equal(netstring_split(p, plen, 8, AUTH_REQUEST_MAX, &items,
	    &lens, &n, NULL), VS_OK);
	assert_int_equal(auth_parse_request(items, lens, n, out, NULL), VS_OK);
	free(items);
	free(lens);
	buf_free(&b);
	return VS_OK;
}

static void
test_request_roundtrip(void **state)
{
	static char big_pw[PW_PASSWORD_MAX + 1];
	static char big_login[NAME_BUF];
	static const struct {
		enum auth_op op;
		const char *login, *password, *service, *rip, *lip;
		bool secured;
	} cases[] = {
		{ AUTH_VERIFY, "alice@somedomain.ie", "pa ss\tword", "imap",
		  "127.0.0.2", "127.0.0.1", true },
		{ AUTH_VERIFY, "bob", "", "", "", "", false },
		{ AUTH_VERIFY, "ALICE@EXAMPLE.COM.", "\x01\xff:,;", "smtp",
		  "2001:db8::1", "::1", false },
		{ AUTH_VERIFY, "x", NULL, NULL, NULL, NULL, true }, /* NULL: "" */
		{ AUTH_VERIFY, big_login, big_pw, "imap", "", "", true },
		{ AUTH_LOOKUP, "alice", NULL, "lmtp", NULL, NULL, false },
		{ AUTH_LOOKUP, big_login, NULL, "", NULL, NULL, false },
	};
	struct auth_request in, out;
	size_t i, flen;

	(void)state;
	memset(big_pw, 'p', PW_PASSWORD_MAX);           /* at the caps */
	memset(big_login, 'l', NAME_BUF - 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.op = cases[i].op;
		in.login = cases[i].login;
		in.password = cases[i].password;
		in.password_len = cases[i].password ?
		    strlen(cases[i].password) : 0;
		in.service = cases[i].service;
		in.remote_ip = cases[i].rip;
		in.local_ip = cases[i].lip;
		in.secured = cases[i].secured;
		snprintf(in.throttle_key, sizeof(in.throttle_key), "never sent");
		if (req_roundtrip(&in, &out, &flen, NULL) != VS_OK)
			fail_msg("case %zu: not encoded", i);
		assert_int_equal(out.op, cases[i].op);
		assert_string_equal(out.login, cases[i].login);
		assert_string_equal(out.service, cases[i].service ?
		    cases[i].service : "");
		assert_string_equal(out.throttle_key, "");
		if (cases[i].op == AUTH_VERIFY) {
			assert_int_equal(out.password_len, in.password_len);
			assert_memory_equal(out.password, in.password ?
			    in.password : "", in.password_len);
			assert_string_equal(out.remote_ip, cases[i].rip ?
			    cases[i].rip : "");
			assert_string_equal(out.local_ip, cases[i].lip ?
			    cases[i].lip : "");
			assert_int_equal(out.secured, cases[i].secured);
		}
		auth_request_wipe(&out);
		assert_true(flen <= AUTH_REQUEST_MAX + 8);
	}
}

/* What the parser refuses, the encoder refuses first - same message -
 * and leaves nothing in the frame. */
static void
test_request_encode_caps(void **state)
{
	static char big_pw[PW_PASSWORD_MAX + 2];
	static char big_login[NAME_BUF + 1];
	static char big_service[80];
	static const struct {
		enum auth_op op;
		const char *login, *password;
		size_t pwlen;           /* 0: strlen */
		const char *service, *rip, *lip;
		int code;
		const char *msg;
	} cases[] = {
		{ AUTH_VERIFY, "", "p", 0, "imap", "", "", VS_EINVAL,
		  "login is empty" },
		{ AUTH_VERIFY, NULL, "p", 0, "imap", "", "", VS_EINVAL,
		  "login is empty" },
		{ AUTH_LOOKUP, "", NULL, 0, "imap", "", "", VS_EINVAL,
		  "name is empty" },
		{ AUTH_VERIFY, "a\nb", "p", 0, "imap", "", "", VS_EINVAL,
		  "login holds a control character" },
		{ AUTH_VERIFY, "a\x7f", "p", 0, "imap", "", "", VS_EINVAL,
		  "login holds a control character" },
		{ AUTH_VERIFY, big_login, "p", 0, "imap", "", "", VS_EINVAL,
		  "login is too long" },
		{ AUTH_LOOKUP, big_login, NULL, 0, "imap", "", "", VS_EINVAL,
		  "name is too long" },
		{ AUTH_VERIFY, "a", big_pw, 0, "imap", "", "", VS_EINVAL,
		  "password is too long" },
		{ AUTH_VERIFY, "a", "p\0q", 3, "imap", "", "", VS_EINVAL,
		  "password holds a NUL" },
		{ AUTH_VERIFY, "a", "p", 0, "im\tap", "", "", VS_EINVAL,
		  "service holds a control character" },
		{ AUTH_VERIFY, "a", "p", 0, big_service, "", "", VS_EINVAL,
		  "service is too long" },
		{ AUTH_VERIFY, "a", "p", 0, "imap", big_service, "", VS_EINVAL,
		  "remote IP is too long" },
		{ AUTH_VERIFY, "a", "p", 0, "imap", "", "1.2.3.4\r", VS_EINVAL,
		  "local IP holds a control character" },
		{ (enum auth_op)7, "a", "p", 0, "imap", "", "", VS_EINVAL,
		  "unknown request" },
	};
	struct auth_request in, out;
	struct vs_err err;
	size_t i, flen;

	(void)state;
	memset(big_pw, 'p', PW_PASSWORD_MAX + 1);
	memset(big_login, 'l', NAME_BUF);
	memset(big_service, 's', sizeof(big_service) - 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.op = cases[i].op;
		in.login = cases[i].login;
		in.password = cases[i].password;
		in.password_len = cases[i].pwlen ? cases[i].pwlen :
		    cases[i].password ? strlen(cases[i].password) : 0;
		in.service = cases[i].service;
		in.remote_ip = cases[i].rip;
		in.local_ip = cases[i].lip;
		vs_err_clear(&err);
		assert_int_equal(req_roundtrip(&in, &out, &flen, &err),
		    cases[i].code);
		if (strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    err.msg, cases[i].msg);
	}
}

/* auth_send_request writes exactly the encoded frame; a refused request
 * writes nothing; a closed peer is VS_EIO. */
static void
test_request_send(void **state)
{
	struct auth_request in;
	struct buf want = { 0 };
	struct vs_err err;
	char got[AUTH_REQUEST_MAX + 16];
	ssize_t n;
	int sv[2];

	(void)state;
	memset(&in, 0, sizeof(in));
	in.op = AUTH_VERIFY;
	in.login = "alice";
	in.password = "secret";
	in.password_len = 6;
	in.service = "imap";
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(auth_send_request(sv[0], &in, 1000, NULL), VS_OK);
	assert_int_equal(auth_encode_request(&in, &want, NULL), VS_OK);
	n = read(sv[1], got, sizeof(got));
	assert_int_equal(n, (ssize_t)want.len);
	assert_memory_equal(got, want.data, want.len);
	in.login = "";
	vs_err_clear(&err);
	assert_int_equal(auth_send_request(sv[0], &in, 1000, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "login is empty"));
	/* nothing was written */
	assert_int_equal(recv(sv[1], got, sizeof(got), MSG_DONTWAIT), -1);
	close(sv[1]);
	in.login = "alice";
	vs_err_clear(&err);
	assert_int_equal(auth_send_request(sv[0], &in, 1000, &err), VS_EIO);
	assert_non_null(strstr(err.msg, "sending the request"));
	close(sv[0]);
	buf_free(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_reply_mail_keys),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_encode_caps),
		cmocka_unit_test(test_request_send),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
