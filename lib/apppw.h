/*
 * apppw.h - app passwords: a user's extra passwords, one per device, each
 * random, revocable, limited to some services and perhaps to a time.
 *
 * Form: APPPW_BYTES (20) random bytes, 160 bits, written as 32 symbols of
 * Crockford's base32 in lower case, in 8 groups of 4 joined by '-'
 * ("k3fj-9x2m-..."): easy to type on a phone.  Reading is forgiving about
 * presentation (case, '-', spaces; o read as 0, i and l as 1) and strict
 * about content: exactly 32 symbols, or it is not an app password (and the
 * login goes on as a main password check).
 *
 * What is stored (inside the user's sealed record, lib/record.h): never
 * the password - a random 16-byte salt and BLAKE2b-256(key = salt,
 * "vmseal-app-password-v1" || the 32 symbols).  Why not Argon2id: there is
 * nothing to guess - 160 random bits - so a slow hash would only make
 * every login slow; a check costs a microsecond per app password, and
 * apppw_match() compares every one of the user's in constant time, with
 * no early exit.  Why a salt as the key and not a key of the store: the
 * hashes must outlive "vmseal rotate", which changes every key.
 *
 * Services: the service name Dovecot sends - imap, pop3, sieve
 * (ManageSieve; "managesieve" read the same), smtp (SMTP AUTH through
 * Dovecot's SASL; Dovecot's own "submission" read the same).  Other
 * services (web, self-service password changes) never take an app
 * password.
 *
 * Nothing here logs; buffers holding a password or its symbols are the
 * caller's, and wiped by the functions that copy from them.
 */
#ifndef VS_APPPW_H
#define VS_APPPW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vs_err.h"

#define APPPW_BYTES 20
#define APPPW_SYMBOLS 32
#define APPPW_TEXT_BUF (APPPW_SYMBOLS + APPPW_SYMBOLS / 4)      /* 40 */
#define APPPW_SALT_BYTES 16
#define APPPW_HASH_BYTES 32
#define APPPW_MAX 50            /* app passwords per user */
#define APPPW_NAME_MAX 64
#define APPPW_IP_MAX 63

enum {
	APPPW_IMAP = 0x1,
	APPPW_POP3 = 0x2,
	APPPW_SMTP = 0x4,
	APPPW_SIEVE = 0x8,
	APPPW_ALL = 0xf,
};

/* One app password as kept in a user's record. */
struct vs_apppw {
	char *name;                     /* [A-Za-z0-9._@+-], 1..64 */
	uint8_t salt[APPPW_SALT_BYTES];
	uint8_t hash[APPPW_HASH_BYTES];
	uint32_t services;              /* APPPW_* bits, never 0 */
	int64_t created;
	int64_t expires;                /* 0: never */
	int64_t last_used;              /* 0: never */
	char *last_ip;                  /* NULL: unknown or never used */
	/* Its own copy of the user's mail private key, for a key in
	 * "password" protection (lib/mailwrap.h): the public half of an
	 * X25519 pair whose secret half only the app password gives
	 * (apppw_mail_keypair; app passwords made before this have none),
	 * and the key sealed to it (NULL: not made yet). */
	bool has_mail_pk;
	uint8_t mail_pk[32];
	char *mail_copy;
};

/* Wipe and free what e holds; e is zeroed. */
void vs_apppw_clear(struct vs_apppw *e);

/* A new app password: text (shown once to the operator, then wiped by the
 * caller), its salt and hash, and the public half of its mail key pair in
 * e (name etc. untouched). */
void apppw_generate(char text[APPPW_TEXT_BUF], struct vs_apppw *e);

/* The canonical symbols of a typed password when it has the app password
 * form (upper case, NUL-terminated); false otherwise. */
bool apppw_read(const char *pw, size_t len, char sym[APPPW_SYMBOLS + 1]);

/* The X25519 pair of an app password's mail key copy, from its canonical
 * symbols: seed = BLAKE2b-256(key = the 32 symbols,
 * "vmseal-app-password-mail-v1"); never stored.  160 random bits need no
 * stretching.  Wipe sk after use. */
void apppw_mail_keypair(const char sym[APPPW_SYMBOLS], uint8_t pk[32],
    uint8_t sk[32]);
/* Which of list[0..n) the typed password is: its index, or -1 (not an app
 * password's form, or none matches).  Every entry is hashed and compared
 * (sodium_memcmp), whichever matches. */
int apppw_match(const struct vs_apppw *list, size_t n, const char *pw,
    size_t len);

/* "imap,pop3" (names as above, "all"; spaces ignored) to a mask; VS_EINVAL
 * with a reason. */
int apppw_services_parse(const char *s, uint32_t *mask_r, struct vs_err *err);
/* The mask as "imap,pop3,smtp,sieve" (out holds at least 32 bytes). */
void apppw_services_format(uint32_t mask, char *out, size_t size);
/* The APPPW_* bit of a service name as Dovecot sends it; 0 when no app
 * password may be used for it. */
uint32_t apppw_service_bit(const char *service);

/* May the main password of an "app passwords only" user be used for this
 * service?  Only for web logins ("web") and self-service password
 * changes ("passwd"). */
bool apppw_main_allowed(const char *service);

/* A valid name?  VS_EINVAL with a reason. */
int apppw_name_check(const char *name, struct vs_err *err);

/* "30d", "12h", "90m", "2w", "3600s", or a plain number of seconds to
 * seconds (1 s to 100 years); VS_EINVAL with a reason. */
int apppw_duration_parse(const char *s, int64_t *secs_r, struct vs_err *err);

#endif
