/*
 * test_record.c - record plaintext encoding and the typed decoders,
 * including malformed input with the expected error messages.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record.h"

static void
make_user(struct vs_user *u)
{
	static char *addrs[] = { "ron@linuxcoaching.eu", "r@somedomain.ie" };

	memset(u, 0, sizeof(*u));
	u->login = "ron";
	u->pwhash = "hLILWelxS7E82";
	u->home = "/kx/dovecot/home/ron";
	u->mail = "mbox:~/mail:INBOX=/kx/dovecot/mail/ron";
	u->quota = "*:storage=1G";
	u->has_uid = u->has_gid = true;
	u->uid = 555;
	u->gid = 4294967295u;
	u->enabled = true;
	u->created = 1700000000;
	u->updated = -1;
	u->pw_changed = 1700000001;
	u->addresses = addrs;
	u->n_addresses = 2;
}

static void
test_user_roundtrip(void **state)
{
	struct vs_user u, d;
	struct buf b = { 0 };

	(void)state;
	make_user(&u);
	assert_int_equal(rec_user_encode(&u, &b), 0);
	assert_int_equal(rec_user_decode(b.data, b.len, &d, NULL), VS_OK);
	assert_string_equal(d.login, "ron");
	assert_string_equal(d.pwhash, "hLILWelxS7E82");
	assert_string_equal(d.home, u.home);
	assert_string_equal(d.mail, u.mail);
	assert_string_equal(d.quota, u.quota);
	assert_true(d.has_uid && d.has_gid);
	assert_int_equal(d.uid, 555);
	assert_int_equal(d.gid, 4294967295u);
	assert_true(d.enabled);
	assert_int_equal(d.created, 1700000000);
	assert_int_equal(d.updated, -1);
	assert_int_equal(d.pw_changed, 1700000001);
	assert_int_equal(d.n_addresses, 2);
	assert_string_equal(d.addresses[1], "r@somedomain.ie");
	vs_user_clear(&d);
	assert_null(d.login);

	/* Optional fields absent. */
	memset(&u, 0, sizeof(u));
	u.login = "bob";
	assert_int_equal(rec_user_encode(&u, &b), 0);
	assert_int_equal(rec_user_decode(b.data, b.len, &d, NULL), VS_OK);
	assert_null(d.pwhash);
	assert_null(d.home);
	assert_false(d.has_uid);
	assert_false(d.enabled);
	assert_int_equal(d.n_addresses, 0);
	vs_user_clear(&d);
	buf_free(&b);
}

static void
test_user_truncations(void **state)
{
	struct vs_user u, d;
	struct buf b = { 0 };
	struct vs_err err;
	size_t n;

	(void)state;
	make_user(&u);
	assert_int_equal(rec_user_encode(&u, &b), 0);
	/* Every proper prefix is read without going past its end (the
	 * copy is exactly n bytes, so ASan catches an overread); a prefix
	 * decodes only when it ends on a field boundary after the required
	 * fields, and then it holds fewer fields than the whole record. */
	for (n = 0; n < b.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, b.data, n);
		if (rec_user_decode(copy, n, &d, &err) == VS_OK) {
			assert_true(d.n_addresses < 2);
			vs_user_clear(&d);
		} else {
			assert_null(d.login);
		}
		free(copy);
	}
	/* One trailing byte. */
	assert_int_equal(buf_append_u8(&b, 0), 0);
	assert_int_equal(rec_user_decode(b.data, b.len, &d, &err),
	    VS_ECORRUPT);
	assert_string_equal(err.msg, "record is truncated");
	buf_free(&b);
}

struct bad_case {
	const char *name;
	const uint8_t *data;
	size_t len;
	const char *msg;
};

#define B(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static void
test_user_malformed(void **state)
{
	const struct bad_case cases[] = {
		{ "version", B(2, 1, 0, 0, 0, 1, 'a'), "record format 2 is unknown" },
		{ "no login", B(1, 8, 0, 0, 0, 1, 1), "record has no login name" },
		{ "no flags", B(1, 1, 0, 0, 0, 1, 'a'), "record has no flags" },
		{ "order", B(1, 8, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 'a'),
		  "record fields out of order" },
		{ "huge len", B(1, 1, 0xff, 0xff, 0xff, 0xff, 'a'),
		  "record field is too large" },
		{ "len past end", B(1, 1, 0, 0, 0, 9, 'a'), "record is truncated" },
		{ "nul", B(1, 1, 0, 0, 0, 2, 'a', 0, 8, 0, 0, 0, 1, 1),
		  "record string holds a NUL" },
		{ "repeat", B(1, 1, 0, 0, 0, 1, 'a', 1, 0, 0, 0, 1, 'b',
		  8, 0, 0, 0, 1, 1), "record field repeated" },
		{ "uid size", B(1, 1, 0, 0, 0, 1, 'a', 6, 0, 0, 0, 2, 0, 1,
		  8, 0, 0, 0, 1, 1), "record number has bad size" },
		{ "unknown", B(1, 1, 0, 0, 0, 1, 'a', 8, 0, 0, 0, 1, 1,
		  0x7f, 0, 0, 0, 0), "record field 127 is unknown" },
		{ "flags size", B(1, 1, 0, 0, 0, 1, 'a', 8, 0, 0, 0, 2, 1, 1),
		  "record flags are malformed" },
		{ "empty", B(1), "record has no login name" },
		{ "repeat time", B(1, 1, 0, 0, 0, 1, 'a', 8, 0, 0, 0, 1, 1,
		  9, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1,
		  9, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2), "record field repeated" },
	};
	struct vs_user d;
	struct vs_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vs_err_clear(&err);
		assert_int_not_equal(rec_user_decode(cases[i].data,
		    cases[i].len, &d, &err), VS_OK);
		if (strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
			    err.msg, cases[i].msg);
	}
	assert_int_equal(rec_user_decode(NULL, 0, &d, &err), VS_ECORRUPT);
	assert_string_equal(err.msg, "record is empty");
}

/* A user's mail keys (tags 15-17, issue 13): kept through a round trip,
 * absent from a record without them (a keyless record is byte for byte
 * what it was before the keys existed), one half alone refused by both
 * the encoder and the decoder. */
static void
test_user_mail_keys(void **state)
{
	static const uint8_t half_pub[] = { 1, 1, 0, 0, 0, 1, 'a',
	    8, 0, 0, 0, 1, 1, 15, 0, 0, 0, 2, 'P', 'K' };
	static const uint8_t half_priv[] = { 1, 1, 0, 0, 0, 1, 'a',
	    8, 0, 0, 0, 1, 1, 16, 0, 0, 0, 2, 'S', 'K' };
	static const uint8_t pair[] = { 1, 1, 0, 0, 0, 1, 'a',
	    8, 0, 0, 0, 1, 1, 15, 0, 0, 0, 2, 'P', 'K',
	    16, 0, 0, 0, 2, 'S', 'K', 17, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 0 };
	static const uint8_t pair_bad_time[] = { 1, 1, 0, 0, 0, 1, 'a',
	    8, 0, 0, 0, 1, 1, 15, 0, 0, 0, 2, 'P', 'K',
	    16, 0, 0, 0, 2, 'S', 'K', 17, 0, 0, 0, 1, 0 };
	static const uint8_t pair_twice[] = { 1, 1, 0, 0, 0, 1, 'a',
	    8, 0, 0, 0, 1, 1, 15, 0, 0, 0, 2, 'P', 'K',
	    16, 0, 0, 0, 2, 'S', 'K', 16, 0, 0, 0, 2, 'S', 'L' };
	const struct bad_case cases[] = {
		{ "public alone", half_pub, sizeof(half_pub),
		  "record has half a mail key pair" },
		{ "private alone", half_priv, sizeof(half_priv),
		  "record has half a mail key pair" },
		{ "time size", pair_bad_time, sizeof(pair_bad_time),
		  "record number has bad size" },
		{ "private twice", pair_twice, sizeof(pair_twice),
		  "record field repeated" },
	};
	struct vs_user u, d;
	struct buf b = { 0 }, plain = { 0 };
	struct vs_err err;
	size_t i;

	(void)state;
	make_user(&u);
	assert_int_equal(rec_user_encode(&u, &plain), 0);
	assert_int_equal(rec_user_decode(plain.data, plain.len, &d, NULL),
	    VS_OK);
	assert_null(d.mail_pub);
	assert_null(d.mail_priv);
	assert_int_equal(d.mail_key_created, 0);
	vs_user_clear(&d);
	/* no key tag in a keyless record: the last field is an address */
	assert_memory_equal(plain.data + plain.len - 15, "r@somedomain.ie", 15);

	u.mail_pub = "-----BEGIN PUBLIC KEY-----\nPK\n";
	u.mail_priv = "-----BEGIN PRIVATE KEY-----\nSK\n";
	u.mail_key_created = 1700000002;
	assert_int_equal(rec_user_encode(&u, &b), 0);
	assert_int_equal(b.len, plain.len + 3 * 5 + strlen(u.mail_pub) +
	    strlen(u.mail_priv) + 8);
	assert_int_equal(rec_user_decode(b.data, b.len, &d, NULL), VS_OK);
	assert_string_equal(d.mail_pub, u.mail_pub);
	assert_string_equal(d.mail_priv, u.mail_priv);
	assert_int_equal(d.mail_key_created, 1700000002);
	assert_int_equal(d.n_addresses, 2);
	vs_user_clear(&d);
	assert_null(d.mail_priv);

	/* one half alone: never written */
	u.mail_priv = NULL;
	assert_int_equal(rec_user_encode(&u, &b), VS_EINVAL);
	u.mail_pub = NULL;
	u.mail_priv = "-----BEGIN PRIVATE KEY-----\nSK\n";
	assert_int_equal(rec_user_encode(&u, &b), VS_EINVAL);

	assert_int_equal(rec_user_decode(pair, sizeof(pair), &d, NULL), VS_OK);
	assert_string_equal(d.mail_pub, "PK");
	assert_string_equal(d.mail_priv, "SK");
	assert_int_equal(d.mail_key_created, 256);
	vs_user_clear(&d);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vs_err_clear(&err);
		assert_int_equal(rec_user_decode(cases[i].data, cases[i].len,
		    &d, &err), VS_ECORRUPT);
		if (strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
			    err.msg, cases[i].msg);
		assert_null(d.mail_pub);
		assert_null(d.login);
	}
	buf_free(&b);
	buf_free(&plain);
}

static void
test_optional_tag_skipped(void **state)
{
	static const uint8_t rec[] = { 1, 1, 0, 0, 0, 1, 'a', 8, 0, 0, 0, 1, 1,
	    0x90, 0, 0, 0, 3, 'x', 'y', 'z' };
	struct vs_user d;

	(void)state;
	assert_int_equal(rec_user_decode(rec, sizeof(rec), &d, NULL), VS_OK);
	assert_string_equal(d.login, "a");
	assert_true(d.enabled);
	vs_user_clear(&d);
}

static void
test_field_caps(void **state)
{
	struct buf b = { 0 };
	char *big = malloc(REC_FIELD_MAX + 2);

	(void)state;
	memset(big, 'a', REC_FIELD_MAX + 1);
	big[REC_FIELD_MAX + 1] = '\0';
	assert_int_equal(rec_begin(&b), 0);
	assert_int_equal(rec_add_str(&b, 1, big), VS_ELIMIT);
	big[REC_FIELD_MAX] = '\0';
	assert_int_equal(rec_add_str(&b, 1, big), 0);
	free(big);
	buf_free(&b);
}

static void
test_other_types(void **state)
{
	struct vs_domain dm = { "example.org", 5 }, dd;
	struct vs_address ad = { "a@example.org", "alice", 6 }, da;
	char *dests[] = { "x@example.org", "y@else.where" };
	struct vs_alias al = { "@example.org", dests, 2, 7 }, dal;
	struct vs_settings s = { 2, 19u << 20, true }, ds;
	struct buf b = { 0 };
	struct vs_err err;

	(void)state;
	assert_int_equal(rec_domain_encode(&dm, &b), 0);
	assert_int_equal(rec_domain_decode(b.data, b.len, &dd, NULL), VS_OK);
	assert_string_equal(dd.name, "example.org");
	assert_int_equal(dd.created, 5);
	vs_domain_clear(&dd);
	/* A domain record is not an address record. */
	assert_int_equal(rec_address_decode(b.data, b.len, &da, &err),
	    VS_ECORRUPT);
	assert_string_equal(err.msg, "record has no login name");

	assert_int_equal(rec_address_encode(&ad, &b), 0);
	assert_int_equal(rec_address_decode(b.data, b.len, &da, NULL), VS_OK);
	assert_string_equal(da.address, "a@example.org");
	assert_string_equal(da.login, "alice");
	vs_address_clear(&da);

	assert_int_equal(rec_alias_encode(&al, &b), 0);
	assert_int_equal(rec_alias_decode(b.data, b.len, &dal, NULL), VS_OK);
	assert_string_equal(dal.address, "@example.org");
	assert_int_equal(dal.n_dests, 2);
	assert_string_equal(dal.dests[1], "y@else.where");
	vs_alias_clear(&dal);
	al.n_dests = 0;
	assert_int_equal(rec_alias_encode(&al, &b), 0);
	assert_int_equal(rec_alias_decode(b.data, b.len, &dal, &err),
	    VS_ECORRUPT);
	assert_string_equal(err.msg, "alias has no destination");

	assert_int_equal(rec_settings_encode(&s, &b), 0);
	assert_int_equal(rec_settings_decode(b.data, b.len, &ds, NULL), VS_OK);
	assert_int_equal(ds.pw_opslimit, 2);
	assert_int_equal(ds.pw_memlimit, 19u << 20);
	assert_true(ds.fold_local);
	buf_free(&b);
}

static void
test_list_cap(void **state)
{
	struct vs_user u, d;
	struct buf b = { 0 };
	struct vs_err err;
	char **l = calloc(REC_LIST_MAX + 1, sizeof(char *));
	size_t i;

	(void)state;
	for (i = 0; i <= REC_LIST_MAX; i++)
		l[i] = "a@b.org";
	memset(&u, 0, sizeof(u));
	u.login = "many";
	u.addresses = l;
	u.n_addresses = REC_LIST_MAX;
	/* Exactly the cap: written and read back. */
	assert_int_equal(rec_user_encode(&u, &b), 0);
	assert_int_equal(rec_user_decode(b.data, b.len, &d, NULL), VS_OK);
	assert_int_equal(d.n_addresses, REC_LIST_MAX);
	vs_user_clear(&d);
	/* One more: refused by the encoder and by the decoder. */
	assert_int_equal(rec_add_str(&b, 13, "a@b.org"), 0);
	assert_int_equal(rec_user_decode(b.data, b.len, &d, &err),
	    VS_ECORRUPT);
	assert_string_equal(err.msg, "record list is too long");
	u.n_addresses = REC_LIST_MAX + 1;
	assert_int_equal(rec_user_encode(&u, &b), VS_ELIMIT);
	free(l);
	buf_free(&b);
}

static void
test_user_address_list(void **state)
{
	struct vs_user u;

	(void)state;
	memset(&u, 0, sizeof(u));
	assert_int_equal(vs_user_add_address(&u, "a@x.org"), VS_OK);
	assert_int_equal(vs_user_add_address(&u, "b@x.org"), VS_OK);
	assert_int_equal(vs_user_add_address(&u, "a@x.org"), VS_EEXIST);
	assert_int_equal(vs_user_del_address(&u, "a@x.org"), VS_OK);
	assert_int_equal(vs_user_del_address(&u, "a@x.org"), VS_ENOTFOUND);
	assert_int_equal(u.n_addresses, 1);
	assert_string_equal(u.addresses[0], "b@x.org");
	vs_user_clear(&u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_roundtrip),
		cmocka_unit_test(test_user_truncations),
		cmocka_unit_test(test_user_malformed),
		cmocka_unit_test(test_user_mail_keys),
		cmocka_unit_test(test_optional_tag_skipped),
		cmocka_unit_test(test_field_caps),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_list_cap),
		cmocka_unit_test(test_user_address_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
