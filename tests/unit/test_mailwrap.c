/*
 * test_mailwrap.c - "password" protection of mail keys: the
 * $vmseal-argon2id$ hash and its key (lib/pwhash_key.c), the wrapped form
 * and the escrow copy (lib/mailwrap.c), app passwords' own copies, the
 * store's escrow key made,
 * opened and re-wrapped with the recovery key, and the record's mail key
 * states (lib/record.c: which combinations encode and decode).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "mailkey.h"
#include "mailwrap.h"
#include "pwhash.h"
#include "record.h"
#include "store_fx.h"

static const struct pw_cost cheap = { 1, 8192 };

static void
test_hash_key(void **state)
{
	char h[PW_HASH_MAX], h2[PW_HASH_MAX];
	uint8_t k[PW_WRAPKEY_BYTES], k2[PW_WRAPKEY_BYTES], k3[PW_WRAPKEY_BYTES];
	struct pw_cost other = { 2, 8192 };
	struct vs_err err;
	bool have;

	(void)state;
	vs_err_clear(&err);
	assert_int_equal(pw_hash_key("s3cret pw", 9, &cheap, h, k, &err),
	    VS_OK);
	assert_true(strncmp(h, "$vmseal-argon2id$v=19$m=8,t=1,p=1$", 34) == 0);
	assert_int_equal(pw_identify(h), PW_VMSEAL_ARGON2ID);
	assert_string_equal(pw_scheme_name(PW_VMSEAL_ARGON2ID),
	    "vmseal-argon2id");
	assert_int_equal(pw_check_format(h, NULL, &err), VS_OK);
	/* the right password: 1 and the same key; a wrong one: 0, no key */
	assert_int_equal(pw_verify_key(h, "s3cret pw", 9, &cheap, k2, &have,
	    &err), 1);
	assert_true(have);
	assert_memory_equal(k, k2, sizeof(k));
	assert_int_equal(pw_verify_key(h, "s3cret pW", 9, &cheap, k3, &have,
	    &err), 0);
	assert_false(have);
	assert_int_equal(pw_verify(h, "s3cret pw", 9, &err), 1);
	assert_int_equal(pw_verify(h, "wrong", 5, &err), 0);
	/* no key from another form */
	assert_int_equal(pw_hash("s3cret pw", 9, &cheap, h2, &err), VS_OK);
	assert_int_equal(pw_verify_key(h2, "s3cret pw", 9, &cheap, k3, &have,
	    &err), 1);
	assert_false(have);
	/* another salt: another key; the key is not in the hash */
	assert_int_equal(pw_hash_key("s3cret pw", 9, &cheap, h2, k3, &err),
	    VS_OK);
	assert_memory_not_equal(k, k3, sizeof(k));
	assert_string_not_equal(h, h2);
	/* at the store's cost: no upgrade; at another: upgrade */
	assert_false(pw_needs_upgrade(h, &cheap));
	assert_true(pw_needs_upgrade(h, &other));
	assert_int_equal(pw_check_cost(h, &cheap, &err), VS_OK);
}

static void
test_hash_key_malformed(void **state)
{
	static const struct {
		const char *hash, *msg;
	} bad[] = {
		{ "$vmseal-argon2id$v=18$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		  "malformed vmseal-argon2id password hash: bad parameters" },
		{ "$vmseal-argon2id$v=19$m=8,t=1,p=2$AAAAAAAAAAAAAAAAAAAAAA$"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		  "malformed vmseal-argon2id password hash: bad parameters" },
		{ "$vmseal-argon2id$v=19$m=8,t=1,p=1$AAAA$"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		  "malformed vmseal-argon2id password hash: bad salt" },
		{ "$vmseal-argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		  "AAAA",
		  "malformed vmseal-argon2id password hash: bad verifier" },
		{ "$vmseal-argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA",
		  "malformed vmseal-argon2id password hash: missing verifier" },
	};
	struct vs_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vs_err_clear(&err);
		assert_int_equal(pw_check_format(bad[i].hash, NULL, &err),
		    VS_EINVAL);
		assert_string_equal(err.msg, bad[i].msg);
	}
	/* over the caps: refused before any work */
	vs_err_clear(&err);
	assert_int_equal(pw_check_cost("$vmseal-argon2id$v=19$m=4194304,t=1,"
	    "p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAA", NULL, &err), VS_ELIMIT);
}

static void
test_wrap(void **state)
{
	uint8_t k[MAILWRAP_KEY_BYTES], k2[MAILWRAP_KEY_BYTES];
	char *pub, *priv, *w, *back;
	struct vs_err err;
	size_t n;

	(void)state;
	assert_int_equal(mailkey_generate(&pub, &priv, NULL), VS_OK);
	randombytes_buf(k, sizeof(k));
	memcpy(k2, k, sizeof(k));
	k2[0] ^= 1;
	vs_err_clear(&err);
	assert_int_equal(mailwrap_seal(priv, "carol", k, &w, &err), VS_OK);
	assert_null(strstr(w, "PRIVATE"));
	assert_int_equal(mailwrap_open(w, "carol", k, &back, &err), VS_OK);
	assert_string_equal(back, priv);
	vs_freestr(back);
	assert_int_equal(mailwrap_open(w, "carol", k2, &back, &err),
	    VS_EBADKEY);
	assert_null(back);
	assert_string_equal(err.msg, "the mail key does not open with this "
	    "password");
	/* bound to the login */
	assert_int_equal(mailwrap_open(w, "dave", k, &back, &err), VS_EBADKEY);
	/* one changed character: does not open, or not base64 */
	n = strlen(w) / 2;
	w[n] = w[n] == 'A' ? 'B' : 'A';
	assert_true(mailwrap_open(w, "carol", k, &back, &err) < 0);
	assert_int_equal(mailwrap_open("@@@", "carol", k, &back, &err),
	    VS_ECORRUPT);
	assert_string_equal(err.msg, "wrapped mail key is malformed");
	assert_int_equal(mailwrap_open("AQ==", "carol", k, &back, &err),
	    VS_ECORRUPT);
	free(w);
	free(pub);
	vs_freestr(priv);
}

static void
test_escrow(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *t;
	uint8_t pk[32], pk2[32], sk[32], other[32], newkey[32];
	char *pub, *priv, *e, *back;
	struct vs_err err;

	assert_int_equal(mailkey_generate(&pub, &priv, NULL), VS_OK);
	t = store_fx_wtxn(f);
	vs_err_clear(&err);
	assert_int_equal(mailwrap_escrow_pk(t, pk, &err), VS_ENOTFOUND);
	assert_string_equal(err.msg, "this store has no mail escrow key yet");
	assert_int_equal(mailwrap_escrow_make(t, f->reckey, &err), VS_OK);
	assert_int_equal(mailwrap_escrow_make(t, f->reckey, &err), VS_EEXIST);
	assert_int_equal(mailwrap_escrow_pk(t, pk, &err), VS_OK);
	store_fx_commit(&t);

	t = store_fx_wtxn(f);
	assert_int_equal(mailwrap_escrow_keys(t, f->reckey, pk2, sk, &err),
	    VS_OK);
	assert_memory_equal(pk, pk2, 32);
	randombytes_buf(other, sizeof(other));
	assert_int_equal(mailwrap_escrow_keys(t, other, pk2, sk + 0, &err),
	    VS_EBADKEY);
	assert_string_equal(err.msg, "the recovery key does not open the "
	    "store's mail escrow key");
	assert_int_equal(mailwrap_escrow_keys(t, f->reckey, pk2, sk, &err),
	    VS_OK);
	assert_int_equal(mailwrap_escrow_seal(priv, "carol", pk, &e, &err),
	    VS_OK);
	assert_null(strstr(e, "PRIVATE"));
	assert_int_equal(mailwrap_escrow_open(e, "carol", pk, sk, &back, &err),
	    VS_OK);
	assert_string_equal(back, priv);
	vs_freestr(back);
	assert_int_equal(mailwrap_escrow_open(e, "carl", pk, sk, &back, &err),
	    VS_EBADKEY);
	assert_string_equal(err.msg, "the escrow copy belongs to another user");
	/* rotate: the same pair, under a new recovery key */
	randombytes_buf(newkey, sizeof(newkey));
	assert_int_equal(mailwrap_escrow_rewrap(t, other, newkey, &err),
	    VS_EBADKEY);
	assert_int_equal(mailwrap_escrow_rewrap(t, f->reckey, newkey, &err),
	    VS_OK);
	assert_int_equal(mailwrap_escrow_keys(t, f->reckey, pk2, sk, &err),
	    VS_EBADKEY);
	assert_int_equal(mailwrap_escrow_keys(t, newkey, pk2, sk, &err), VS_OK);
	assert_memory_equal(pk, pk2, 32);
	assert_int_equal(mailwrap_escrow_open(e, "carol", pk, sk, &back, &err),
	    VS_OK);
	vs_freestr(back);
	store_fx_commit(&t);
	free(e);
	free(pub);
	vs_freestr(priv);
}

/* App passwords' own copies: sealed to each app password with a pair and
 * no copy, opened only with that app password (typed in any case), kept
 * through the record's encoding. */
static void
test_app_copies(void **state)
{
	char text[APPPW_TEXT_BUF], text2[APPPW_TEXT_BUF], upper[APPPW_TEXT_BUF];
	struct vs_apppw e, e2, old;
	struct vs_user u, d;
	struct buf b = { 0 };
	struct vs_err err;
	char *pub, *priv, *back;
	size_t made, i;

	(void)state;
	assert_int_equal(mailkey_generate(&pub, &priv, NULL), VS_OK);
	memset(&u, 0, sizeof(u));
	u.login = "carol";
	u.enabled = true;
	memset(&e, 0, sizeof(e));
	e.name = "phone";
	e.services = APPPW_IMAP;
	apppw_generate(text, &e);
	assert_true(e.has_mail_pk);
	memset(&e2, 0, sizeof(e2));
	e2.name = "laptop";
	e2.services = APPPW_ALL;
	apppw_generate(text2, &e2);
	memset(&old, 0, sizeof(old));   /* made before copies existed */
	old.name = "old";
	old.services = APPPW_ALL;
	apppw_generate(upper, &old);
	old.has_mail_pk = false;
	memset(old.mail_pk, 0, sizeof(old.mail_pk));
	assert_int_equal(vs_user_add_apppw(&u, &e), VS_OK);
	assert_int_equal(vs_user_add_apppw(&u, &e2), VS_OK);
	assert_int_equal(vs_user_add_apppw(&u, &old), VS_OK);
	vs_err_clear(&err);
	assert_int_equal(mailwrap_app_copies(&u, priv, &made, &err), VS_OK);
	assert_int_equal(made, 2);
	assert_null(u.apppws[2].mail_copy);
	assert_int_equal(mailwrap_app_copies(&u, priv, &made, &err), VS_OK);
	assert_int_equal(made, 0);
	/* each opens with its own password only; case does not matter */
	assert_int_equal(mailwrap_app_open(&u.apppws[0], "carol", text,
	    strlen(text), &back, &err), VS_OK);
	assert_string_equal(back, priv);
	vs_freestr(back);
	for (i = 0; text[i]; i++)
		upper[i] = (char)(text[i] >= 'a' && text[i] <= 'z' ?
		    text[i] - 32 : text[i]);
	upper[i] = '\0';
	assert_int_equal(mailwrap_app_open(&u.apppws[0], "carol", upper,
	    strlen(upper), &back, &err), VS_OK);
	vs_freestr(back);
	assert_int_equal(mailwrap_app_open(&u.apppws[0], "carol", text2,
	    strlen(text2), &back, &err), VS_EBADKEY);
	assert_null(back);
	assert_int_equal(mailwrap_app_open(&u.apppws[0], "carl", text,
	    strlen(text), &back, &err), VS_EBADKEY);
	assert_int_equal(mailwrap_app_open(&u.apppws[0], "carol", "main pw", 7,
	    &back, &err), VS_EBADKEY);
	assert_int_equal(mailwrap_app_open(&u.apppws[2], "carol", text,
	    strlen(text), &back, &err), VS_ENOTFOUND);
	/* through the record */
	u.mail_pub = pub;
	u.mail_pw = true;
	u.mail_wrap = "AQ";
	u.mail_escrow = "AQ";
	u.mail_key_created = 1;
	assert_int_equal(rec_user_encode(&u, &b), VS_OK);
	assert_int_equal(rec_user_decode(b.data, b.len, &d, &err), VS_OK);
	assert_int_equal(d.n_apppws, 3);
	assert_true(d.apppws[1].has_mail_pk);
	assert_false(d.apppws[2].has_mail_pk);
	assert_int_equal(mailwrap_app_open(&d.apppws[1], "carol", text2,
	    strlen(text2), &back, &err), VS_OK);
	assert_string_equal(back, priv);
	vs_freestr(back);
	vs_user_clear(&d);
	buf_free(&b);
	for (i = 0; i < u.n_apppws; i++)
		vs_apppw_clear(&u.apppws[i]);
	free(u.apppws);
	e.name = e2.name = old.name = NULL;
	free(pub);
	vs_freestr(priv);
}

/* Which mail key field combinations are a state (record.h). */
static void
test_record_states(void **state)
{
	static const struct {
		bool pub, priv, pw, wrap, escrow;
		enum vs_mailkey_state st;       /* MK_NONE + ok=false: refused */
		bool ok;
	} tab[] = {
		{ 0, 0, 0, 0, 0, MK_NONE, true },
		{ 1, 1, 0, 0, 0, MK_STORE, true },
		{ 1, 1, 1, 0, 0, MK_PENDING, true },
		{ 1, 0, 1, 1, 1, MK_PASSWORD, true },
		{ 1, 0, 1, 0, 1, MK_LOCKED, true },
		{ 1, 0, 0, 0, 0, MK_NONE, false },      /* half a pair */
		{ 0, 1, 0, 0, 0, MK_NONE, false },
		{ 1, 0, 1, 1, 0, MK_NONE, false },      /* no escrow copy */
		{ 1, 1, 1, 1, 1, MK_NONE, false },      /* both */
		{ 1, 1, 0, 1, 0, MK_NONE, false },      /* wrap, no flag */
		{ 0, 0, 1, 0, 0, MK_NONE, false },      /* flag, no keys */
	};
	struct vs_user u, d;
	struct buf b = { 0 };
	struct vs_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		memset(&u, 0, sizeof(u));
		u.login = "carol";
		u.enabled = true;
		u.mail_pub = tab[i].pub ? "pub" : NULL;
		u.mail_priv = tab[i].priv ? "priv" : NULL;
		u.mail_pw = tab[i].pw;
		u.mail_wrap = tab[i].wrap ? "wrap" : NULL;
		u.mail_escrow = tab[i].escrow ? "escrow" : NULL;
		u.mail_key_created = tab[i].pub ? 1700000000 : 0;
		if (!tab[i].ok) {
			assert_int_equal(rec_user_encode(&u, &b), VS_EINVAL);
			continue;
		}
		assert_int_equal(vs_user_mailkey_state(&u), tab[i].st);
		assert_int_equal(rec_user_encode(&u, &b), VS_OK);
		vs_err_clear(&err);
		assert_int_equal(rec_user_decode(b.data, b.len, &d, &err),
		    VS_OK);
		assert_int_equal(vs_user_mailkey_state(&d), tab[i].st);
		assert_int_equal(d.mail_pw, tab[i].pw);
		vs_user_clear(&d);
	}
	/* the decoder refuses a flag without an escrow copy or a key */
	assert_int_equal(rec_begin(&b), 0);
	assert_int_equal(rec_add_str(&b, 1, "carol"), 0);
	assert_int_equal(rec_add(&b, 8, "\x01", 1), 0);
	assert_int_equal(rec_add_str(&b, 15, "pub"), 0);
	assert_int_equal(rec_add_i64(&b, 17, 1700000000), 0);
	assert_int_equal(rec_add(&b, 22, "\x01", 1), 0);
	assert_int_equal(rec_add_str(&b, 23, "wrap"), 0);
	vs_err_clear(&err);
	assert_int_equal(rec_user_decode(b.data, b.len, &d, &err),
	    VS_ECORRUPT);
	assert_string_equal(err.msg, "record has half a mail key pair");
	assert_string_equal(vs_mailkey_state_name(MK_LOCKED),
	    "password (locked: needs vmseal mail-key recover)");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_key),
		cmocka_unit_test(test_hash_key_malformed),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test_setup_teardown(test_escrow, store_fx_setup,
		    store_fx_teardown),
		cmocka_unit_test(test_record_states),
		cmocka_unit_test(test_app_copies),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
