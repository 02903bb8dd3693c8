/*
 * test_apppw.c - unit tests for lib/apppw.c (app passwords) and their place
 * in the user record (lib/record.c): the generated form, forgiving reading
 * and strict refusal, matching (the right entry whichever its place, none
 * for a near miss, never for another form), services, durations and
 * names (table-driven, asserting values and messages), and the record:
 * app passwords and the app-passwords-only flag round-trip, a record
 * without them is unchanged byte for byte, malformed nested records are
 * refused with their reason.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>

#include "apppw.h"
#include "record.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
t_generate_form(void **state)
{
	char text[APPPW_TEXT_BUF], sym[APPPW_SYMBOLS + 1], prev[APPPW_TEXT_BUF];
	struct vs_apppw e;
	size_t i;
	int k;

	(void)state;
	prev[0] = '\0';
	for (k = 0; k < 50; k++) {
		memset(&e, 0, sizeof(e));
		apppw_generate(text, &e);
		assert_int_equal(strlen(text), APPPW_TEXT_BUF - 1);
		for (i = 0; i < strlen(text); i++) {
			if (i % 5 == 4)
				assert_int_equal(text[i], '-');
			else
				assert_non_null(strchr(
				    "0123456789abcdefghjkmnpqrstvwxyz", text[i]));
		}
		assert_true(apppw_read(text, strlen(text), sym));
		assert_int_equal(apppw_match(&e, 1, text, strlen(text)), 0);
		assert_string_not_equal(text, prev);
		memcpy(prev, text, sizeof(prev));
	}
}

static void
t_read(void **state)
{
	static const struct {
		const char *in;
		const char *sym;        /* NULL: not an app password */
	} cases[] = {
		{ "abcd-efgh-jkmn-pqrs-tvwx-yz01-2345-6789",
		    "ABCDEFGHJKMNPQRSTVWXYZ0123456789" },
		{ "ABCDEFGHJKMNPQRSTVWXYZ0123456789",
		    "ABCDEFGHJKMNPQRSTVWXYZ0123456789" },
		{ "abcd efgh jkmn pqrs tvwx yz01 2345 6789",
		    "ABCDEFGHJKMNPQRSTVWXYZ0123456789" },
		/* o read as 0, i and l as 1 */
		{ "abcd-efgh-jkmn-pqrs-tvwx-yzoi-2345-678l",
		    "ABCDEFGHJKMNPQRSTVWXYZ0123456781" },
		{ "abcd-efgh-jkmn-pqrs-tvwx-yz01-2345-678", NULL },     /* 31 */
		{ "abcd-efgh-jkmn-pqrs-tvwx-yz01-2345-67890", NULL },   /* 33 */
		{ "abcd-efgh-jkmn-pqrs-tvwx-yz01-2345-678u", NULL },    /* u */
		{ "abcd_efgh-jkmn-pqrs-tvwx-yz01-2345-6789", NULL },    /* _ */
		{ "", NULL },
		{ "correct horse battery staple", NULL },
	};
	char sym[APPPW_SYMBOLS + 1];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		bool r = apppw_read(cases[i].in, strlen(cases[i].in), sym);

		if (cases[i].sym == NULL) {
			if (r)
				fail_msg("case %zu [%s] read as %s", i,
				    cases[i].in, sym);
			continue;
		}
		if (!r)
			fail_msg("case %zu [%s] not read", i, cases[i].in);
		assert_string_equal(sym, cases[i].sym);
	}
	/* A NUL inside, and an overlong input, are not read. */
	assert_false(apppw_read("abcd\0efgh-jkmn-pqrs-tvwx-yz01-2345-6789", 39,
	    sym));
	{
		char big[1000];

		memset(big, '-', sizeof(big));
		memcpy(big, "ABCDEFGHJKMNPQRSTVWXYZ0123456789", 32);
		assert_false(apppw_read(big, sizeof(big), sym));
	}
}

static void
t_match(void **state)
{
	char text[5][APPPW_TEXT_BUF];
	struct vs_apppw e[5];
	size_t i;

	(void)state;
	memset(e, 0, sizeof(e));
	for (i = 0; i < 5; i++)
		apppw_generate(text[i], &e[i]);
	for (i = 0; i < 5; i++)
		assert_int_equal(apppw_match(e, 5, text[i], strlen(text[i])),
		    (int)i);
	/* one symbol changed: no match */
	text[2][0] = text[2][0] == 'a' ? 'b' : 'a';
	assert_int_equal(apppw_match(e, 5, text[2], strlen(text[2])), -1);
	/* the same symbols under another entry's salt: no match */
	memcpy(e[4].salt, e[3].salt, sizeof(e[3].salt));
	assert_int_equal(apppw_match(e, 5, text[4], strlen(text[4])), -1);
	/* no entries, another form */
	assert_int_equal(apppw_match(e, 0, text[0], strlen(text[0])), -1);
	assert_int_equal(apppw_match(e, 5, "secret", 6), -1);
}

static void
t_services(void **state)
{
	static const struct {
		const char *in;
		uint32_t mask;
		const char *out;        /* formatted, or the error */
	} cases[] = {
		{ "imap", APPPW_IMAP, "imap" },
		{ "imap,pop3", APPPW_IMAP | APPPW_POP3, "imap,pop3" },
		{ "sieve, smtp", APPPW_SIEVE | APPPW_SMTP, "smtp,sieve" },
		{ "all", APPPW_ALL, "imap,pop3,smtp,sieve" },
		{ "imap,imap", APPPW_IMAP, "imap" },
		{ "", 0, "no service named (imap, pop3, smtp, sieve or all)" },
		{ "ftp", 0, "unknown service 'ftp' (imap, pop3, smtp, sieve "
		    "or all)" },
		{ "imap,", 0, "malformed service list (names separated by "
		    "commas: imap, pop3, smtp, sieve or all)" },
		{ "IMAP", 0, "unknown service 'IMAP' (imap, pop3, smtp, sieve "
		    "or all)" },
		{ "web", 0, "unknown service 'web' (imap, pop3, smtp, sieve "
		    "or all)" },
	};
	char out[48];
	struct vs_err err;
	uint32_t m;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		vs_err_clear(&err);
		r = apppw_services_parse(cases[i].in, &m, &err);
		if (cases[i].mask == 0) {
			assert_int_equal(r, VS_EINVAL);
			assert_string_equal(err.msg, cases[i].out);
			continue;
		}
		assert_int_equal(r, VS_OK);
		assert_int_equal(m, cases[i].mask);
		apppw_services_format(m, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
	}
	/* Dovecot's names */
	assert_int_equal(apppw_service_bit("imap"), APPPW_IMAP);
	assert_int_equal(apppw_service_bit("pop3"), APPPW_POP3);
	assert_int_equal(apppw_service_bit("smtp"), APPPW_SMTP);
	assert_int_equal(apppw_service_bit("submission"), APPPW_SMTP);
	assert_int_equal(apppw_service_bit("sieve"), APPPW_SIEVE);
	assert_int_equal(apppw_service_bit("managesieve"), APPPW_SIEVE);
	assert_int_equal(apppw_service_bit("web"), 0);
	assert_int_equal(apppw_service_bit("passwd"), 0);
	assert_int_equal(apppw_service_bit(""), 0);
	assert_true(apppw_main_allowed("web"));
	assert_true(apppw_main_allowed("passwd"));
	assert_false(apppw_main_allowed("imap"));
	assert_false(apppw_main_allowed("smtp"));
}

static void
t_duration_name(void **state)
{
	static const struct {
		const char *in;
		int64_t secs;   /* -1: refused */
	} cases[] = {
		{ "1", 1 }, { "90s", 90 }, { "15m", 900 }, { "12h", 43200 },
		{ "30d", 2592000 }, { "2w", 1209600 }, { "1y", 31536000 },
		{ "100y", 3153600000LL }, { "101y", -1 }, { "0", -1 },
		{ "0d", -1 }, { "", -1 }, { "d", -1 }, { "5q", -1 },
		{ "5dd", -1 }, { "-5d", -1 }, { " 5d", -1 },
		{ "99999999999999999999", -1 },
	};
	static const struct {
		const char *name;
		const char *err;        /* NULL: valid */
	} names[] = {
		{ "phone", NULL }, { "alice@laptop.home", NULL },
		{ "a+b_c-d.e", NULL },
		{ "", "app password name is empty" },
		{ "a b", "app password name may hold letters, digits and "
		    ". _ @ + - only" },
		{ "tab\there", "app password name may hold letters, digits "
		    "and . _ @ + - only" },
		{ "x1234567890123456789012345678901234567890123456789012345"
		    "678901234", "app password name is longer than 64 "
		    "characters" },
	};
	struct vs_err err;
	int64_t s;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		int r = apppw_duration_parse(cases[i].in, &s, &err);

		if (cases[i].secs < 0) {
			if (r != VS_EINVAL)
				fail_msg("duration [%s] accepted: %lld",
				    cases[i].in, (long long)s);
			assert_non_null(strstr(err.msg, "malformed duration"));
		} else {
			assert_int_equal(r, VS_OK);
			assert_int_equal(s, cases[i].secs);
		}
	}
	for (i = 0; i < NELEM(names); i++) {
		vs_err_clear(&err);
		if (names[i].err == NULL) {
			assert_int_equal(apppw_name_check(names[i].name, &err),
			    VS_OK);
		} else {
			assert_int_equal(apppw_name_check(names[i].name, &err),
			    VS_EINVAL);
			assert_string_equal(err.msg, names[i].err);
		}
	}
}

static void
t_record(void **state)
{
	struct vs_user u, d;
	struct vs_apppw e;
	struct buf b = { 0 }, b2 = { 0 };
	char text[APPPW_TEXT_BUF], name[16];
	struct vs_err err;
	int k;

	(void)state;
	memset(&u, 0, sizeof(u));
	u.login = "alice";
	u.enabled = true;
	u.created = 7;
	/* no app passwords: no field of theirs written */
	assert_int_equal(rec_user_encode(&u, &b), 0);
	assert_int_equal(rec_user_decode(b.data, b.len, &d, &err), VS_OK);
	assert_int_equal(d.n_apppws, 0);
	assert_false(d.apppw_only);
	vs_user_clear(&d);
	for (size_t i = 1; i < b.len; ) {       /* tags 18 and 19 absent */
		assert_true(b.data[i] != 18 && b.data[i] != 19);
		i += 5 + vs_get_u32be(b.data + i + 1);
	}

	for (k = 0; k < 3; k++) {
		snprintf(name, sizeof(name), "dev%d", k);
		memset(&e, 0, sizeof(e));
		e.name = name;
		e.services = (uint32_t)(k + 1);
		e.created = 100 + k;
		e.expires = k == 1 ? 5000 : 0;
		e.last_used = k == 2 ? 4000 : 0;
		e.last_ip = k == 2 ? "192.0.2.7" : NULL;
		apppw_generate(text, &e);
		assert_int_equal(vs_user_add_apppw(&u, &e), VS_OK);
	}
	assert_int_equal(vs_user_add_apppw(&u, &e), VS_EEXIST);
	u.apppw_only = true;
	assert_int_equal(rec_user_encode(&u, &b), 0);
	assert_int_equal(rec_user_decode(b.data, b.len, &d, &err), VS_OK);
	assert_int_equal(d.n_apppws, 3);
	assert_true(d.apppw_only);
	assert_string_equal(d.apppws[1].name, "dev1");
	assert_int_equal(d.apppws[1].expires, 5000);
	assert_int_equal(d.apppws[2].last_used, 4000);
	assert_string_equal(d.apppws[2].last_ip, "192.0.2.7");
	assert_null(d.apppws[0].last_ip);
	assert_int_equal(d.apppws[2].services, 3);
	assert_memory_equal(d.apppws[2].hash, u.apppws[2].hash, APPPW_HASH_BYTES);
	assert_int_equal(apppw_match(d.apppws, d.n_apppws, text, strlen(text)),
	    2);
	/* encode(decode(x)) == x */
	assert_int_equal(rec_user_encode(&d, &b2), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	vs_user_del_apppw(&d, 0);
	assert_int_equal(d.n_apppws, 2);
	assert_int_equal(vs_user_find_apppw(&d, "dev0"), -1);
	assert_int_equal(vs_user_find_apppw(&d, "dev2"), 1);
	vs_user_clear(&d);

	/* Damage: the flag's byte, a nested record's key length. */
	{
		size_t i, n = b.len;
		uint8_t *c = malloc(n);
		bool seen18 = false;

		assert_non_null(c);
		for (i = 1; i < n; i += 5 + vs_get_u32be(b.data + i + 1)) {
			if (b.data[i] == 19) {
				memcpy(c, b.data, n);
				c[i + 5] = 2;
				assert_int_equal(rec_user_decode(c, n, &d, &err),
				    VS_ECORRUPT);
				assert_string_equal(err.msg,
				    "record flags are malformed");
			}
			if (b.data[i] == 18 && !seen18) {
				/* dev0's last fields: A_CREATED (8 bytes),
				 * A_MAILPK (32 bytes) */
				size_t vl = vs_get_u32be(b.data + i + 1);
				size_t kp = i + 5 + vl - 37 - 13;

				seen18 = true;
				memcpy(c, b.data, n);
				assert_int_equal(c[kp], 4);
				kp += 13;       /* the last one */
				assert_int_equal(c[kp], 8);
				c[kp] = 0x7f;   /* an unknown mandatory tag */
				assert_int_equal(rec_user_decode(c, n, &d, &err),
				    VS_ECORRUPT);
				assert_string_equal(err.msg, "app password field "
				    "127 is unknown (newer vmseal?)");
				c[kp] = 0x81;   /* an unknown optional one */
				assert_int_equal(rec_user_decode(c, n, &d, &err),
				    VS_OK);
				assert_false(d.apppws[0].has_mail_pk);
				assert_int_equal(d.apppws[0].created, 100);
				vs_user_clear(&d);
				c[kp] = 1;      /* a repeated name */
				assert_int_equal(rec_user_decode(c, n, &d, &err),
				    VS_ECORRUPT);
				assert_string_equal(err.msg,
				    "record fields out of order");
			}
		}
		free(c);
	}
	while (u.n_apppws > 0)
		vs_user_del_apppw(&u, 0);
	free(u.apppws);
	buf_free(&b);
	buf_free(&b2);
}

static void
t_limit(void **state)
{
	struct vs_user u;
	struct vs_apppw e;
	char text[APPPW_TEXT_BUF], name[16];
	int k;

	(void)state;
	memset(&u, 0, sizeof(u));
	for (k = 0; k < APPPW_MAX; k++) {
		snprintf(name, sizeof(name), "d%d", k);
		memset(&e, 0, sizeof(e));
		e.name = name;
		e.services = APPPW_ALL;
		apppw_generate(text, &e);
		assert_int_equal(vs_user_add_apppw(&u, &e), VS_OK);
	}
	snprintf(name, sizeof(name), "one-more");
	e.name = name;
	assert_int_equal(vs_user_add_apppw(&u, &e), VS_ELIMIT);
	while (u.n_apppws > 0)
		vs_user_del_apppw(&u, u.n_apppws - 1);
	free(u.apppws);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_generate_form),
		cmocka_unit_test(t_read),
		cmocka_unit_test(t_match),
		cmocka_unit_test(t_services),
		cmocka_unit_test(t_duration_name),
		cmocka_unit_test(t_record),
		cmocka_unit_test(t_limit),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
