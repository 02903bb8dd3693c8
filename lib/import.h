/*
 * import.h - parsers for the plaintext files vmseal takes over.
 *
 *   htpasswd        "login:hash" (Apache htpasswd, Dovecot passwd-file with
 *                   two fields; the seed's /kx/horde/htpasswd)
 *   dovecot-passwd  Dovecot passwd-file:
 *                   "login:hash:uid:gid:gecos:home:shell:extra fields"
 *                   (fields after the hash optional; extra fields are
 *                   space-separated name=value, of which userdb_mail,
 *                   userdb_quota_rule, userdb_home, userdb_uid and
 *                   userdb_gid are used and others ignored)
 *   postfix-map     a Postfix lookup table source ("key  value"): the seed's
 *                   virtual_mailbox_map, or a virtual_alias_maps source
 *
 * Blank lines and lines whose first non-blank character is '#' are skipped
 * in every format.  Postfix continuation lines (a line starting with
 * white space continues the previous logical line) are joined by the reader
 * for postfix-map only.
 *
 * The parsers work in place: they split the caller's mutable line and
 * return pointers into it, so they allocate nothing and every field lives as
 * long as the line.  No normalization is done here (the store does it);
 * the parsers check structure, lengths and characters only.
 *
 * Security: lines come from files an operator gives us, but are treated as
 * hostile all the same: every line is capped at IMPORT_LINE_MAX, numbers
 * are range-checked, control characters refused.  Error messages give the
 * reason and never quote a hash.
 */
#ifndef VS_IMPORT_H
#define VS_IMPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vs_err.h"

#define IMPORT_LINE_MAX 8192

enum import_format {
	IMPORT_HTPASSWD,
	IMPORT_DOVECOT_PASSWD,
	IMPORT_POSTFIX_MAP,
};

/* One user line (htpasswd or dovecot-passwd).  Unset strings are NULL. */
struct import_user {
	const char *login;
	const char *hash;       /* never empty */
	const char *home;
	const char *mail;       /* userdb_mail */
	const char *quota;      /* userdb_quota_rule */
	bool has_uid, has_gid;
	uint32_t uid, gid;
};

/* One postfix-map line: key and the rest of the line (trimmed). */
struct import_map {
	const char *key;
	const char *value;
};

/* Parse one line (NUL-terminated, modified in place).
 * Return 1 when u/m was filled, 0 for a blank or comment line, or
 * VS_EINVAL with a reason in err ("missing ':' after the login",
 * "uid is not a number", ...). */
int import_parse_htpasswd(char *line, struct import_user *u,
    struct vs_err *err);
int import_parse_dovecot_passwd(char *line, struct import_user *u,
    struct vs_err *err);
int import_parse_postfix_map(char *line, struct import_map *m,
    struct vs_err *err);

/* Logical-line reader over a stdio stream (a file, or fmemopen() in tests
 * and fuzzing).  The reader owns its line buffer; a returned line is valid
 * until the next call.  Lines longer than IMPORT_LINE_MAX, or holding a NUL
 * byte, are reported as errors (VS_ELIMIT / VS_EINVAL, with their line
 * number in *lineno_r) and skipped; reading goes on after them. */
struct import_reader;

int import_reader_new(FILE *fp, enum import_format fmt,
    struct import_reader **r_r);
/* Returns 1 with *line_r and *lineno_r (the number of the logical line's
 * first physical line, from 1), 0 at end of input, or a negative VS_* code
 * for a bad line (reading may continue) - VS_EIO is final. */
int import_reader_next(struct import_reader *r, char **line_r,
    unsigned long *lineno_r, struct vs_err *err);
void import_reader_free(struct import_reader **r);

#endif
