/*
 * mailkey.c - mail key pairs for Dovecot's mail_crypt (see mailkey.h).
 *
 * libcrypto, not libsodium: mail_crypt's global keys are EC keys OpenSSL
 * reads (Dovecot's dcrypt is built on it), on curves libsodium does not
 * have.  Only this module includes OpenSSL headers.  The private key's PEM
 * is written into a BIO_s_secmem() buffer (cleared when freed) and copied
 * once into memory the caller wipes; libcrypto's error queue is cleared on
 * every return so no reason of ours lingers in another caller's.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "buf.h"
#include "mailkey.h"

static int
crypto_fail(struct vs_err *err, int code, const char *what)
{
	char why[160];
	unsigned long e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "unknown error");
	ERR_clear_error();
	return vs_fail(err, code, "%s: %s", what, why);
}

/* The BIO's contents as a NUL-terminated malloc()ed string (wiped on
 * free by the caller). */
static int
bio_string(BIO *bio, char **out_r, struct vs_err *err)
{
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);

	if (n <= 0 || (size_t)n >= MAILKEY_PEM_MAX)
		return vs_fail(err, VS_EIO, "key PEM has an unexpected size");
	if ((*out_r = vs_strndup(p, (size_t)n)) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	return VS_OK;
}

int
mailkey_generate(char **pub_r, char **priv_r, struct vs_err *err)
{
	EVP_PKEY *pk = NULL;
	BIO *pb = NULL, *sb = NULL;
	int r = VS_OK;

	*pub_r = *priv_r = NULL;
	ERR_clear_error();
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (pk == NULL)
		return crypto_fail(err, VS_EIO, "making a mail key");
	pb = BIO_new(BIO_s_mem());
	sb = BIO_new(BIO_s_secmem());
	if (pb == NULL || sb == NULL)
		r = crypto_fail(err, VS_ENOMEM, "making a mail key");
	else if (PEM_write_bio_PUBKEY(pb, pk) != 1 ||
	    PEM_write_bio_PrivateKey(sb, pk, NULL, NULL, 0, NULL, NULL) != 1)
		r = crypto_fail(err, VS_EIO, "writing a mail key");
	if (r == VS_OK && (r = bio_string(pb, pub_r, err)) == VS_OK &&
	    (r = bio_string(sb, priv_r, err)) != VS_OK) {
		free(*pub_r);
		*pub_r = NULL;
	}
	BIO_free(pb);
	BIO_free(sb);           /* secmem: cleared */
	EVP_PKEY_free(pk);      /* clears the private scalar */
	ERR_clear_error();
	return r;
}

/* Parse one PEM (public or private); NULL on error. */
static EVP_PKEY *
read_pem(const char *pem, int priv)
{
	size_t n = strnlen(pem, MAILKEY_PEM_MAX);
	EVP_PKEY *pk;
	BIO *b;

	if (n == 0 || n >= MAILKEY_PEM_MAX)
		return NULL;
	if ((b = BIO_new_mem_buf(pem, (int)n)) == NULL)
		return NULL;
	pk = priv ? PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"") :
	    PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	return pk;
}

static bool
is_p256(EVP_PKEY *pk)
{
	char name[64];
	size_t len = 0;

	return EVP_PKEY_is_a(pk, "EC") &&
	    EVP_PKEY_get_group_name(pk, name, sizeof(name), &len) == 1 &&
	    strcmp(name, MAILKEY_CURVE) == 0;
}

int
mailkey_check(const char *pub, const char *priv, struct vs_err *err)
{
	EVP_PKEY *pp = NULL, *sp = NULL;
	int r = VS_OK;

	ERR_clear_error();
	if (strncmp(pub, "-----BEGIN PUBLIC KEY-----\n", 27) != 0 ||
	    (pp = read_pem(pub, 0)) == NULL)
		r = vs_fail(err, VS_EINVAL, "mail public key is not a PEM "
		    "public key");
	else if (strncmp(priv, "-----BEGIN PRIVATE KEY-----\n", 28) != 0 ||
	    (sp = read_pem(priv, 1)) == NULL)
		r = vs_fail(err, VS_EINVAL, "mail private key is not an "
		    "unencrypted PKCS#8 PEM private key");
	else if (!is_p256(pp) || !is_p256(sp))
		r = vs_fail(err, VS_EINVAL, "mail key is not on %s",
		    MAILKEY_CURVE);
	else if (EVP_PKEY_eq(pp, sp) != 1)
		r = vs_fail(err, VS_EINVAL, "mail public key does not match "
		    "the private key");
	EVP_PKEY_free(pp);
	EVP_PKEY_free(sp);
	ERR_clear_error();
	return r;
}

int
mailkey_b64(const char *pem, char *out, size_t out_size, struct vs_err *err)
{
	size_t n = strlen(pem);

	if (out_size < sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_ORIGINAL))
		return vs_fail(err, VS_ELIMIT, "mail key is too long");
	sodium_bin2base64(out, out_size, (const unsigned char *)pem, n,
	    sodium_base64_VARIANT_ORIGINAL);
	return VS_OK;
}
