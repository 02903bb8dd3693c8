/*
 * mailkey.h - a user's mail key pair for Dovecot's mail_crypt plugin
 * ("global keys" given per user by the userdb).
 *
 * What: an EC key pair on NIST P-256 (prime256v1), kept as PEM text - the
 * public key as SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"), the
 * private key as unencrypted PKCS#8 ("-----BEGIN PRIVATE KEY-----"; Dovecot
 * refuses the older "EC PRIVATE KEY" form).  P-256 because both Dovecot
 * 2.3.19 and 2.4.1 load it as a global key (tests/integration/
 * mailcrypt.sh) and mail_crypt's own tests use it; both versions decode
 * the userdb value as base64 of the PEM
 * (mailkey_b64), which also keeps the PEM's newlines out of the auth
 * protocol and Dovecot's tab-separated replies.
 *
 * Protocol: none; the pair is kept in the user's record (record.h, tags
 * "mail public key"/"mail private key"), sealed under the store's root key
 * like every record ("store" protection).  vmsealed puts the public key in
 * every userdb reply and the private key only in the reply to a verified
 * password (service/auth.c).
 *
 * Security: keys are made with OpenSSL's libcrypto, which Dovecot itself
 * links to read them (libsodium has no P-256); the private PEM passes
 * through a BIO_s_secmem() buffer (cleared when freed) and is returned in
 * memory the caller frees with vs_freestr() (wiped).  Nothing here logs or
 * exits.
 */
#ifndef VS_MAILKEY_H
#define VS_MAILKEY_H

#include <stddef.h>

#include "vs_err.h"

#define MAILKEY_CURVE "prime256v1"
/* A PEM is ~180 (public) and ~240 (private) bytes; anything longer than
 * this in a record is refused. */
#define MAILKEY_PEM_MAX 1024
/* base64 of a PEM of at most MAILKEY_PEM_MAX bytes, NUL included */
#define MAILKEY_B64_MAX (((MAILKEY_PEM_MAX + 2) / 3) * 4 + 1)

/* Make a key pair.  *pub_r and *priv_r are malloc()ed PEM strings; free
 * *priv_r with vs_freestr().  VS_EIO (with libcrypto's reason) or
 * VS_ENOMEM. */
int mailkey_generate(char **pub_r, char **priv_r, struct vs_err *err);

/* Check a stored pair: both PEMs parse, are P-256 and the public key is
 * the private key's.  VS_EINVAL with a reason (never any key material). */
int mailkey_check(const char *pub, const char *priv, struct vs_err *err);

/* The userdb form of a PEM: base64 (standard alphabet, padded) into out.
 * VS_ELIMIT if it does not fit out_size (NUL included). */
int mailkey_b64(const char *pem, char *out, size_t out_size,
    struct vs_err *err);

#endif
