/*
 * mailwrap.c - "password" protection of mail private keys: the wrapped
 * form, the escrow copy and the store's escrow key (forms and stance in
 * mailwrap.h).
 *
 * Security: AEAD everywhere (XChaCha20-Poly1305 for the wrap and the
 * escrow secret key, crypto_box_seal for escrow copies); every decoded
 * length is checked before use; plaintext scratch buffers live in
 * sodium_malloc()ed memory or are wiped; a failure to open is VS_EBADKEY
 * and says nothing about the key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "mailkey.h"
#include "mailwrap.h"
#include "record.h"

#define WRAP_VERSION 1
#define NPUB crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define ABYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
static const char wrap_ctx[] = "vmseal-mail-wrap-v1";
static const char escrow_ctx[] = "vmseal-mail-escrow-v1";
/* A login is at most 255 bytes, a PEM MAILKEY_PEM_MAX. */
#define PLAIN_MAX (256 + MAILKEY_PEM_MAX + 1)
#define BLOB_MAX (1 + NPUB + PLAIN_MAX + crypto_box_SEALBYTES + ABYTES)
#define ESCROW_BLOB (1 + MAILWRAP_PK_BYTES + NPUB + MAILWRAP_SK_BYTES + ABYTES)

static int
to_text(const uint8_t *bin, size_t n, char **out_r, struct vs_err *err)
{
	size_t cap = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);

	if (s == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	sodium_bin2base64(s, cap, bin, n, sodium_base64_VARIANT_ORIGINAL);
	*out_r = s;
	return VS_OK;
}

static int
from_text(const char *s, uint8_t *bin, size_t cap, size_t *n_r,
    const char *what, struct vs_err *err)
{
	const char *end;

	if (s == NULL || strlen(s) > sodium_base64_ENCODED_LEN(cap,
	    sodium_base64_VARIANT_ORIGINAL) ||
	    sodium_base642bin(bin, cap, s, strlen(s), NULL, n_r, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || *end != '\0' ||
	    *n_r < 1 || bin[0] != WRAP_VERSION)
		return vs_fail(err, VS_ECORRUPT, "%s is malformed", what);
	return VS_OK;
}

/* The additional data of a wrap: context NUL login. */
static size_t
wrap_ad(const char *login, uint8_t ad[sizeof(wrap_ctx) + 256])
{
	size_t n = strnlen(login, 255);

	memcpy(ad, wrap_ctx, sizeof(wrap_ctx));
	memcpy(ad + sizeof(wrap_ctx), login, n);
	return sizeof(wrap_ctx) + n;
}

static char *
pem_copy(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

int
mailwrap_seal(const char *pem, const char *login,
    const uint8_t key[MAILWRAP_KEY_BYTES], char **out_r, struct vs_err *err)
{
	uint8_t blob[BLOB_MAX], ad[sizeof(wrap_ctx) + 256];
	size_t n = strlen(pem), adlen = wrap_ad(login, ad);
	unsigned long long clen;
	int r;

	*out_r = NULL;
	if (n == 0 || n > MAILKEY_PEM_MAX)
		return vs_fail(err, VS_EINVAL, "mail private key too long");
	blob[0] = WRAP_VERSION;
	randombytes_buf(blob + 1, NPUB);
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 1 + NPUB, &clen,
	    (const uint8_t *)pem, n, ad, adlen, NULL, blob + 1, key);
	r = to_text(blob, 1 + NPUB + (size_t)clen, out_r, err);
	sodium_memzero(blob, sizeof(blob));
	return r;
}

int
mailwrap_open(const char *wrapped, const char *login,
    const uint8_t key[MAILWRAP_KEY_BYTES], char **pem_r, struct vs_err *err)
{
	uint8_t blob[BLOB_MAX], ad[sizeof(wrap_ctx) + 256], *plain;
	size_t n, adlen = wrap_ad(login, ad);
	unsigned long long plen;
	int r;

	*pem_r = NULL;
	if ((r = from_text(wrapped, blob, sizeof(blob), &n, "wrapped mail "
	    "key", err)) != VS_OK)
		return r;
	if (n < 1 + NPUB + ABYTES + 1)
		return vs_fail(err, VS_ECORRUPT, "wrapped mail key is "
		    "malformed");
	if ((plain = sodium_malloc(n)) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL,
	    blob + 1 + NPUB, n - 1 - NPUB, ad, adlen, blob + 1, key) != 0)
		r = vs_fail(err, VS_EBADKEY, "the mail key does not open with "
		    "this password");
	else if (memchr(plain, '\0', (size_t)plen) != NULL)
		r = vs_fail(err, VS_ECORRUPT, "wrapped mail key is malformed");
	else if ((*pem_r = pem_copy(plain, (size_t)plen)) == NULL)
		r = vs_fail(err, VS_ENOMEM, "out of memory");
	sodium_free(plain);
	return r;
}

int
mailwrap_escrow_seal(const char *pem, const char *login,
    const uint8_t pk[MAILWRAP_PK_BYTES], char **out_r, struct vs_err *err)
{
	uint8_t blob[BLOB_MAX], *plain;
	size_t ln = strlen(login), pn = strlen(pem);
	int r;

	*out_r = NULL;
	if (ln > 255 || pn == 0 || pn > MAILKEY_PEM_MAX)
		return vs_fail(err, VS_EINVAL, "mail key or login too long");
	if ((plain = sodium_malloc(ln + 1 + pn)) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	memcpy(plain, login, ln);
	plain[ln] = '\0';
	memcpy(plain + ln + 1, pem, pn);
	blob[0] = WRAP_VERSION;
	r = crypto_box_seal(blob + 1, plain, ln + 1 + pn, pk) == 0 ? VS_OK :
	    vs_fail(err, VS_EINVAL, "the escrow public key is not valid");
	sodium_free(plain);
	if (r == VS_OK)
		r = to_text(blob, 1 + crypto_box_SEALBYTES + ln + 1 + pn, out_r,
		    err);
	return r;
}

int
mailwrap_escrow_open(const char *escrow, const char *login,
    const uint8_t pk[MAILWRAP_PK_BYTES], const uint8_t sk[MAILWRAP_SK_BYTES],
    char **pem_r, struct vs_err *err)
{
	uint8_t blob[BLOB_MAX], *plain;
	size_t n, pn, ln = strlen(login);
	int r;

	*pem_r = NULL;
	if ((r = from_text(escrow, blob, sizeof(blob), &n, "mail key escrow "
	    "copy", err)) != VS_OK)
		return r;
	if (n < 1 + crypto_box_SEALBYTES + 2)
		return vs_fail(err, VS_ECORRUPT, "mail key escrow copy is "
		    "malformed");
	pn = n - 1 - crypto_box_SEALBYTES;
	if ((plain = sodium_malloc(pn)) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	if (crypto_box_seal_open(plain, blob + 1, n - 1, pk, sk) != 0)
		r = vs_fail(err, VS_EBADKEY, "the escrow copy does not open "
		    "with this recovery key");
	else if (pn <= ln + 1 || memcmp(plain, login, ln) != 0 ||
	    plain[ln] != '\0')
		r = vs_fail(err, VS_EBADKEY, "the escrow copy belongs to "
		    "another user");
	else if (memchr(plain + ln + 1, '\0', pn - ln - 1) != NULL)
		r = vs_fail(err, VS_ECORRUPT, "mail key escrow copy is "
		    "malformed");
	else if ((*pem_r = pem_copy(plain + ln + 1, pn - ln - 1)) == NULL)
		r = vs_fail(err, VS_ENOMEM, "out of memory");
	sodium_free(plain);
	return r;
}

/* --- app passwords' copies --- */

int
mailwrap_app_copies(struct vs_user *u, const char *pem, size_t *made_r,
    struct vs_err *err)
{
	struct vs_apppw *e;
	size_t i;
	int r;

	*made_r = 0;
	for (i = 0; i < u->n_apppws; i++) {
		e = &u->apppws[i];
		if (!e->has_mail_pk || e->mail_copy != NULL)
			continue;
		r = mailwrap_escrow_seal(pem, u->login, e->mail_pk,
		    &e->mail_copy, err);
		if (r != VS_OK)
			return r;
		(*made_r)++;
	}
	return VS_OK;
}

int
mailwrap_app_open(const struct vs_apppw *e, const char *login,
    const char *pw, size_t len, char **pem_r, struct vs_err *err)
{
	char sym[APPPW_SYMBOLS + 1];
	uint8_t pk[32], sk[32];
	int r;

	*pem_r = NULL;
	if (!e->has_mail_pk || e->mail_copy == NULL)
		return vs_fail(err, VS_ENOTFOUND, "the app password has no "
		    "copy of the mail key");
	if (!apppw_read(pw, len, sym))
		return vs_fail(err, VS_EBADKEY, "not an app password");
	apppw_mail_keypair(sym, pk, sk);
	sodium_memzero(sym, sizeof(sym));
	if (sodium_memcmp(pk, e->mail_pk, sizeof(pk)) != 0)
		r = vs_fail(err, VS_EBADKEY, "not this app password");
	else
		r = mailwrap_escrow_open(e->mail_copy, login, pk, sk, pem_r,
		    err);
	sodium_memzero(sk, sizeof(sk));
	return r;
}

/* --- the states of a user's mail keys (record.h) --- */

/* Which combinations of the mail key fields are a state (record.h). */
bool
vs_user_mailkey_ok(const struct vs_user *u)
{
	if (u->mail_pub == NULL)
		return u->mail_priv == NULL && !u->mail_pw &&
		    u->mail_wrap == NULL && u->mail_escrow == NULL;
	if (!u->mail_pw)
		return u->mail_priv != NULL && u->mail_wrap == NULL &&
		    u->mail_escrow == NULL;
	if (u->mail_priv != NULL)       /* pending */
		return u->mail_wrap == NULL && u->mail_escrow == NULL;
	return u->mail_escrow != NULL;  /* password, or locked */
}

enum vs_mailkey_state
vs_user_mailkey_state(const struct vs_user *u)
{
	if (u->mail_pub == NULL)
		return MK_NONE;
	if (!u->mail_pw)
		return MK_STORE;
	if (u->mail_priv != NULL)
		return MK_PENDING;
	return u->mail_wrap != NULL ? MK_PASSWORD : MK_LOCKED;
}

const char *
vs_mailkey_state_name(enum vs_mailkey_state s)
{
	switch (s) {
	case MK_NONE:
		return "none";
	case MK_STORE:
		return "store";
	case MK_PENDING:
		return "password (pending: moved at the next login)";
	case MK_PASSWORD:
		return "password";
	case MK_LOCKED:
		return "password (locked: needs vmseal mail-key recover)";
	}
	return "?";
}

/* --- the store's escrow key --- */

/* The key that wraps the escrow secret key: BLAKE2b keyed with the
 * recovery key over the context. */
static void
reckey_kek(const uint8_t reckey[32], uint8_t kek[32])
{
	crypto_generichash(kek, 32, (const uint8_t *)escrow_ctx,
	    sizeof(escrow_ctx) - 1, reckey, 32);
}

static int
load(struct store_txn *txn, uint8_t blob[ESCROW_BLOB], struct vs_err *err)
{
	struct buf b = { NULL, 0, 0 };
	int r;

	r = store_meta_get(txn, MAILWRAP_META, &b, err);
	if (r == VS_OK && (b.len != ESCROW_BLOB || b.data[0] != WRAP_VERSION))
		r = vs_fail(err, VS_ECORRUPT, "the store's mail escrow key is "
		    "malformed");
	if (r == VS_OK)
		memcpy(blob, b.data, ESCROW_BLOB);
	else if (r == VS_ENOTFOUND)
		vs_fail(err, r, "this store has no mail escrow key yet");
	buf_free(&b);
	return r;
}

static int
store_pair(struct store_txn *txn, const uint8_t pk[32], const uint8_t sk[32],
    const uint8_t reckey[32], struct vs_err *err)
{
	uint8_t blob[ESCROW_BLOB], kek[32];
	int r;

	blob[0] = WRAP_VERSION;
	memcpy(blob + 1, pk, 32);
	randombytes_buf(blob + 1 + 32, NPUB);
	reckey_kek(reckey, kek);
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 1 + 32 + NPUB, NULL,
	    sk, 32, pk, 32, NULL, blob + 1 + 32, kek);
	sodium_memzero(kek, sizeof(kek));
	r = store_meta_put(txn, MAILWRAP_META, blob, sizeof(blob), err);
	sodium_memzero(blob, sizeof(blob));
	return r;
}

int
mailwrap_escrow_pk(struct store_txn *txn, uint8_t pk_r[MAILWRAP_PK_BYTES],
    struct vs_err *err)
{
	uint8_t blob[ESCROW_BLOB];
	int r;

	if ((r = load(txn, blob, err)) == VS_OK)
		memcpy(pk_r, blob + 1, 32);
	return r;
}

int
mailwrap_escrow_keys(struct store_txn *txn, const uint8_t reckey[32],
    uint8_t pk_r[MAILWRAP_PK_BYTES], uint8_t sk_r[MAILWRAP_SK_BYTES],
    struct vs_err *err)
{
	uint8_t blob[ESCROW_BLOB], kek[32], check[32];
	int r;

	if ((r = load(txn, blob, err)) != VS_OK)
		return r;
	reckey_kek(reckey, kek);
	memcpy(pk_r, blob + 1, 32);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(sk_r, NULL, NULL,
	    blob + 1 + 32 + NPUB, 32 + ABYTES, pk_r, 32, blob + 1 + 32,
	    kek) != 0)
		r = vs_fail(err, VS_EBADKEY, "the recovery key does not open "
		    "the store's mail escrow key");
	else if (crypto_scalarmult_base(check, sk_r) != 0 ||
	    sodium_memcmp(check, pk_r, 32) != 0)
		r = vs_fail(err, VS_ECORRUPT, "the store's mail escrow key "
		    "pair does not match");
	if (r != VS_OK)
		sodium_memzero(sk_r, 32);
	sodium_memzero(kek, sizeof(kek));
	return r;
}

int
mailwrap_escrow_make(struct store_txn *txn, const uint8_t reckey[32],
    struct vs_err *err)
{
	uint8_t pk[32], sk[32];
	int r;

	r = mailwrap_escrow_pk(txn, pk, err);
	if (r == VS_OK)
		return vs_fail(err, VS_EEXIST, "this store has a mail escrow "
		    "key");
	if (r != VS_ENOTFOUND)
		return r;
	crypto_box_keypair(pk, sk);
	r = store_pair(txn, pk, sk, reckey, err);
	sodium_memzero(sk, sizeof(sk));
	return r;
}

int
mailwrap_escrow_rewrap(struct store_txn *txn, const uint8_t old_reckey[32],
    const uint8_t new_reckey[32], struct vs_err *err)
{
	uint8_t pk[32], sk[32];
	int r;

	if ((r = mailwrap_escrow_keys(txn, old_reckey, pk, sk, err)) == VS_OK)
		r = store_pair(txn, pk, sk, new_reckey, err);
	sodium_memzero(sk, sizeof(sk));
	return r;
}
