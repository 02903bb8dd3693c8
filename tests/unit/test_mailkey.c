/*
 * test_mailkey.c - mail key pairs for Dovecot's mail_crypt (lib/mailkey.h):
 * generation (P-256 PEMs that check, a fresh pair each time), the checks
 * with their messages on broken pairs, the base64 form, and the store
 * keeping a user's keys across updates that do not carry them.
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
#include "record.h"
#include "store_fx.h"

static void
test_generate(void **state)
{
	char *pub, *priv, *pub2, *priv2;
	struct vs_err err;

	(void)state;
	vs_err_clear(&err);
	assert_int_equal(mailkey_generate(&pub, &priv, &err), VS_OK);
	assert_non_null(pub);
	assert_non_null(priv);
	/* the forms Dovecot's dcrypt reads: SPKI and unencrypted PKCS#8 */
	assert_true(strncmp(pub, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	assert_true(strncmp(priv, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	assert_non_null(strstr(priv, "-----END PRIVATE KEY-----\n"));
	assert_true(strlen(pub) < 200 && strlen(priv) < 300);
	assert_int_equal(mailkey_check(pub, priv, &err), VS_OK);
	/* a fresh pair each time */
	assert_int_equal(mailkey_generate(&pub2, &priv2, &err), VS_OK);
	assert_string_not_equal(pub, pub2);
	assert_string_not_equal(priv, priv2);
	/* crossed halves do not match */
	assert_int_equal(mailkey_check(pub, priv2, &err), VS_EINVAL);
	assert_string_equal(err.msg,
	    "mail public key does not match the private key");
	free(pub);
	free(pub2);
	vs_freestr(priv);
	vs_freestr(priv2);
}

/* A P-384 pair and an "EC PRIVATE KEY" (SEC1) form, made once with
 * openssl(1): refused with the reasons below. */
static const char p384_pub[] =
"-----BEGIN PUBLIC KEY-----\n"
"MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEM9tWNm47RPrlf3qv3yzL5gXwuQLRAP3v\n"
"LU9/ibErtJ/dHorPtLogRKQYttLa7fNPiLSxO4XXcKqOvvEnOWUrG9ljKs19RgbR\n"
"5UIxUk0UxtQ5vKVAuSDcWUk5Y7UxTHlT\n"
"-----END PUBLIC KEY-----\n";
static const char p384_priv[] =
"-----BEGIN PRIVATE KEY-----\n"
"MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDA40opvz9jXv+l6NTmh\n"
"dhoK9I+6aiW8mL/GaIDX6EeHtq4ENrZxUsaRJiKdY9+PfeChZANiAAQz21Y2bjtE\n"
"+uV/eq/fLMvmBfC5AtEA/e8tT3+JsSu0n90eis+0uiBEpBi20trt80+ItLE7hddw\n"
"qo6+8Sc5ZSsb2WMqzX1GBtHlQjFSTRTG1Dm8pUC5INxZSTljtTFMeVM=\n"
"-----END PRIVATE KEY-----\n";

static void
test_check_refuses(void **state)
{
	char *pub, *priv, *sec1, *p;
	struct vs_err err;
	size_t i;

	(void)state;
	assert_int_equal(mailkey_generate(&pub, &priv, NULL), VS_OK);
	/* SEC1 header on the same body: not the PKCS#8 form */
	sec1 = malloc(strlen(priv) + 8);
	assert_non_null(sec1);
	strcpy(sec1, "-----BEGIN EC PRIVATE KEY-----\n");
	strcat(sec1, strchr(priv, '\n') + 1);
	{
		const struct {
			const char *name, *pub, *priv, *msg;
		} cases[] = {
			{ "empty public", "", priv,
			  "mail public key is not a PEM public key" },
			{ "private as public", priv, priv,
			  "mail public key is not a PEM public key" },
			{ "garbage public", "-----BEGIN PUBLIC KEY-----\nAAAA\n"
			  "-----END PUBLIC KEY-----\n", priv,
			  "mail public key is not a PEM public key" },
			{ "public as private", pub, pub, "mail private key is "
			  "not an unencrypted PKCS#8 PEM private key" },
			{ "SEC1 private", pub, sec1, "mail private key is not "
			  "an unencrypted PKCS#8 PEM private key" },
			{ "P-384", p384_pub, p384_priv,
			  "mail key is not on prime256v1" },
			{ "P-384 public", p384_pub, priv,
			  "mail key is not on prime256v1" },
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			vs_err_clear(&err);
			if (mailkey_check(cases[i].pub, cases[i].priv, &err) !=
			    VS_EINVAL || strcmp(err.msg, cases[i].msg) != 0)
				fail_msg("%s: got \"%s\", want \"%s\"",
				    cases[i].name, err.msg, cases[i].msg);
			/* never any key material in a message */
			assert_null(strstr(err.msg, "MI"));
		}
	}
	/* one flipped character in the private key's body */
	p = strchr(priv, '\n') + 40;
	*p = *p == 'A' ? 'B' : 'A';
	vs_err_clear(&err);
	assert_int_equal(mailkey_check(pub, priv, &err), VS_EINVAL);
	free(sec1);
	free(pub);
	vs_freestr(priv);
}

static void
test_b64(void **state)
{
	const char *pem = "-----BEGIN PUBLIC KEY-----\nab\n";
	char out[MAILKEY_B64_MAX], small[8];
	unsigned char back[64];
	size_t n;
	struct vs_err err;

	(void)state;
	assert_int_equal(mailkey_b64(pem, out, sizeof(out), &err), VS_OK);
	assert_string_equal(out, "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KYWIK");
	/* no newline, tab or other control character: fits the protocol */
	assert_null(strpbrk(out, "\n\r\t"));
	assert_int_equal(sodium_base642bin(back, sizeof(back), out,
	    strlen(out), NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(n, strlen(pem));
	assert_memory_equal(back, pem, n);
	vs_err_clear(&err);
	assert_int_equal(mailkey_b64(pem, small, sizeof(small), &err),
	    VS_ELIMIT);
	assert_string_equal(err.msg, "mail key is too long");
}

/* The store keeps a user's keys: an update from a struct without them
 * (an older caller, a rewrite by hand) leaves them as they are. */
static void
test_store_keeps_keys(void **state)
{
	struct store_fx *f = *state;
	struct store_txn *t;
	struct vs_user u, d;
	char *pub, *priv;

	assert_int_equal(mailkey_generate(&pub, &priv, NULL), VS_OK);
	memset(&u, 0, sizeof(u));
	u.login = "kate";
	u.enabled = true;
	u.mail_pub = pub;
	u.mail_priv = priv;
	u.mail_key_created = 1700000000;
	t = store_fx_wtxn(f);
	assert_int_equal(store_user_add(t, &u, NULL), VS_OK);
	store_fx_commit(&t);

	t = store_fx_wtxn(f);
	assert_int_equal(store_user_get(t, "kate", &d, NULL), VS_OK);
	assert_string_equal(d.mail_pub, pub);
	assert_string_equal(d.mail_priv, priv);
	assert_int_equal(d.mail_key_created, 1700000000);
	vs_user_clear(&d);
	/* an update without keys */
	memset(&u, 0, sizeof(u));
	u.login = "kate";
	u.home = "/home/kate";
	assert_int_equal(store_user_update(t, &u, NULL), VS_OK);
	store_fx_commit(&t);

	store_close(&f->st);
	store_fx_reopen(f);
	t = store_fx_wtxn(f);
	assert_int_equal(store_user_get(t, "kate", &d, NULL), VS_OK);
	assert_string_equal(d.home, "/home/kate");
	assert_string_equal(d.mail_pub, pub);
	assert_string_equal(d.mail_priv, priv);
	assert_int_equal(d.mail_key_created, 1700000000);
	assert_int_equal(mailkey_check(d.mail_pub, d.mail_priv, NULL), VS_OK);
	vs_user_clear(&d);
	store_txn_abort(&t);
	free(pub);
	vs_freestr(priv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_check_refuses),
		cmocka_unit_test(test_b64),
		cmocka_unit_test_setup_teardown(test_store_keeps_keys,
		    store_fx_setup, store_fx_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
