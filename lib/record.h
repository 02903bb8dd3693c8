/*
 * record.h - the plaintext inside a sealed record, and the store's record
 * types (domain, user, address, alias).
 *
 * Encoding (all integers big-endian):
 *   u8 format version (REC_VERSION)
 *   then fields: u8 tag || u32 length || value
 * Tags appear in non-decreasing order; only list tags (a user's addresses,
 * an alias's destinations) may repeat, at most REC_LIST_MAX times; a
 * record ends exactly at its last field - trailing bytes are an error.
 * Every length is checked against what is left before it is used, each
 * field is capped at REC_FIELD_MAX and a record at REC_MAX bytes, and at
 * most REC_FIELDS_MAX fields are read.  String values hold no NUL byte.
 * Tags 0x80 and above are optional: a reader that does not know one skips
 * it; an unknown tag below 0x80 is an error (the record needs a newer
 * vmseal).
 *
 * Decoding happens only after the record authenticated (seal_open), but the
 * decoder is written, tested and fuzzed as if its input were hostile.
 *
 * Ownership: decoded structs own their strings (malloc); release them with
 * the matching *_clear() function, which wipes secrets (the password hash,
 * the mail private key) before freeing.
 */
#ifndef VS_RECORD_H
#define VS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apppw.h"
#include "buf.h"
#include "vs_err.h"

#define REC_VERSION 1
#define REC_FIELD_MAX 4096
#define REC_MAX (1024u * 1024u)
#define REC_FIELDS_MAX 4096
/* Most addresses per user and destinations per alias (well inside
 * REC_FIELDS_MAX, so any record the encoder writes can be read back). */
#define REC_LIST_MAX 1000

struct rec_field {
	uint8_t tag;
	uint32_t len;
	const uint8_t *val;
};

/* Low level. rec_begin() resets b and writes the version byte. */
int rec_begin(struct buf *b);
int rec_add(struct buf *b, uint8_t tag, const void *val, size_t len);
int rec_add_str(struct buf *b, uint8_t tag, const char *s);
int rec_add_u32(struct buf *b, uint8_t tag, uint32_t v);
int rec_add_i64(struct buf *b, uint8_t tag, int64_t v);

/* Validate a whole record and return its fields (pointing into data).
 * *fields_r is malloc()ed; free() it.  VS_ECORRUPT with a reason on any
 * structural error. */
int rec_parse(const uint8_t *data, size_t len, struct rec_field **fields_r,
    size_t *n_r, struct vs_err *err);

/* --- record types --- */

struct vs_domain {
	char *name;
	int64_t created;
};

struct vs_user {
	char *login;
	char *pwhash;           /* NULL: no password set (cannot log in) */
	char *home;             /* NULL: Dovecot's default */
	char *mail;             /* mail location, NULL: Dovecot's default */
	char *quota;            /* quota rule, NULL: none */
	bool has_uid, has_gid;
	uint32_t uid, gid;
	bool enabled;
	int64_t created, updated, pw_changed;
	char **addresses;       /* the addresses that deliver to this user */
	size_t n_addresses;
	/* Mail keys for Dovecot's mail_crypt (lib/mailkey.h): both PEMs or
	 * neither (the decoder refuses one alone); the private one is wiped
	 * when freed.  mail_key_created is 0 when there are none. */
	char *mail_pub;
	char *mail_priv;
	int64_t mail_key_created;
	/* App passwords (lib/apppw.h), at most APPPW_MAX; and whether mail
	 * clients must use one (the main password then serves self-service
	 * and web logins only). */
	struct vs_apppw *apppws;
	size_t n_apppws;
	bool apppw_only;
	/* "password" protection of the mail private key (lib/mailwrap.h):
	 * mail_pw set means the user is in it.  Then mail_priv is kept only
	 * until the next verified password moves it ("pending"); after that
	 * mail_priv is NULL, mail_wrap holds it wrapped under the password's
	 * key and mail_escrow the escrow copy; mail_wrap NULL with an escrow
	 * copy is "locked" (an operator's reset: 'mail-key recover').  The
	 * decoder refuses any other combination. */
	bool mail_pw;
	char *mail_wrap;
	char *mail_escrow;
};

struct vs_address {
	char *address;
	char *login;
	int64_t created;
};

struct vs_alias {
	char *address;          /* "local@domain" or "@domain" (catch-all) */
	char **dests;
	size_t n_dests;
	int64_t created;
};

/* Settings kept sealed in the store. */
struct vs_settings {
	uint64_t pw_opslimit;   /* Argon2id cost of user password hashes */
	uint64_t pw_memlimit;
	bool fold_local;        /* lower-case local parts and logins */
};

int rec_domain_encode(const struct vs_domain *d, struct buf *b);
int rec_domain_decode(const uint8_t *data, size_t len, struct vs_domain *d,
    struct vs_err *err);
void vs_domain_clear(struct vs_domain *d);

/* The mail key state of u (from the fields above). */
enum vs_mailkey_state {
	MK_NONE,                /* no keys */
	MK_STORE,               /* "store" protection */
	MK_PENDING,             /* "password", moved at the next login */
	MK_PASSWORD,            /* "password": wrapped and escrowed */
	MK_LOCKED,              /* "password", escrow copy only */
};
/* (lib/mailwrap.c) The state, its name, and whether u's mail key fields
 * are one of the states at all (the encoder and decoder refuse others). */
enum vs_mailkey_state vs_user_mailkey_state(const struct vs_user *u);
bool vs_user_mailkey_ok(const struct vs_user *u);
const char *vs_mailkey_state_name(enum vs_mailkey_state s);

int rec_user_encode(const struct vs_user *u, struct buf *b);
int rec_user_decode(const uint8_t *data, size_t len, struct vs_user *u,
    struct vs_err *err);
void vs_user_clear(struct vs_user *u);
/* Add an address to u's list (copy); VS_EEXIST if already listed. */
int vs_user_add_address(struct vs_user *u, const char *address);
/* Remove an address from u's list; VS_ENOTFOUND if absent. */
int vs_user_del_address(struct vs_user *u, const char *address);
/* The index of u's app password called name, or -1. */
int vs_user_find_apppw(const struct vs_user *u, const char *name);
/* Append a copy of e (name and last_ip duplicated); VS_EEXIST if the name
 * is taken, VS_ELIMIT beyond APPPW_MAX. */
int vs_user_add_apppw(struct vs_user *u, const struct vs_apppw *e);
/* Remove (and wipe) app password i. */
void vs_user_del_apppw(struct vs_user *u, size_t i);

int rec_address_encode(const struct vs_address *a, struct buf *b);
int rec_address_decode(const uint8_t *data, size_t len,
    struct vs_address *a, struct vs_err *err);
void vs_address_clear(struct vs_address *a);

int rec_alias_encode(const struct vs_alias *a, struct buf *b);
int rec_alias_decode(const uint8_t *data, size_t len, struct vs_alias *a,
    struct vs_err *err);
void vs_alias_clear(struct vs_alias *a);

int rec_settings_encode(const struct vs_settings *s, struct buf *b);
int rec_settings_decode(const uint8_t *data, size_t len,
    struct vs_settings *s, struct vs_err *err);

#endif
