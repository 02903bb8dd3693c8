/*
 * import.h - parsers for the plaintext files vmseal takes over.
 *
 *   htpasswd        "login:hash" (Apache htpasswd, Dovecot passwd-file with
 *                   two fields; the seed's /kx/horde/htpasswd): exactly two
 *                   fields, both non-empty
 *   dovecot-passwd  Dovecot passwd-file:
 *                   "login:hash:uid:gid:gecos:home:shell:extra fields"
 *                   (fields after the hash optional and may be empty; the
 *                   extra fields are the rest of the line, ':' included,
 *                   space-separated name=value, of which userdb_mail,
 *                   userdb_quota_rule, userdb_home, userdb_uid and
 *                   userdb_gid are used and others ignored)
 *   postfix-map     a Postfix lookup table source ("key  value"): the seed's
 *                   virtual_mailbox_map, or a virtual_alias_maps source;
 *                   the value is the rest of the line, trimmed, and must
 *                   not be empty
 *
 * Blank lines and lines whose first non-blank character is '#' are skipped
 * in every format ('#' later in a line is not a comment, as in Postfix).
 * Postfix continuation lines (a line starting with white space continues
 * the previous logical line) are joined by the reader for postfix-map only,
 * with one space in place of the line break and the leading white space;
 * as in Postfix, blank and comment lines between them do not end the
 * logical line.  A continuation line with no line before it is an error.
 *
 * Rules (VS_EINVAL when broken):
 *   - login and hash: no control character, no space; login at most
 *     NAME_LOGIN_MAX bytes, hash at most PW_HASH_MAX - 1.  (A {PLAIN}
 *     password with a space in it cannot be imported.)
 *   - uid, gid: decimal digits only (no sign, no space), 0..4294967295;
 *     the floor (uid_min, gid_min) is the caller's: import_check_ids().
 *   - gecos, home, shell, extra fields: no control character.
 *   - extra fields: names of [A-Za-z0-9_./-] (so a miscounted ':' is
 *     caught, not ignored); a used userdb_* field needs a non-empty value
 *     and may appear once.  userdb_home, userdb_uid and userdb_gid win over
 *     the positional home, uid and gid.
 *   - postfix-map: no control character but tab (white space, like
 *     space); the key is at most NAME_ADDRESS_MAX bytes.
 *
 * The parsers work in place: they split the caller's mutable line and
 * return pointers into it, so they allocate nothing and every field lives as
 * long as the line.  No normalization is done here (the store does it);
 * the parsers check structure, lengths and characters only.  They also
 * accept a line still ending in "\n" or "\r\n", and skip blank and comment
 * lines themselves (the reader never returns those).
 *
 * Security: lines come from files an operator gives us, but are treated as
 * hostile all the same: every line is capped at IMPORT_LINE_MAX, numbers
 * are range-checked, control characters refused, and a hash too costly to
 * verify (import_check_user_hash) is refused: stored, one login against
 * it would hold a hash worker for hours.  Error messages give the
 * reason and never quote a hash; they may quote a login or key (escaped
 * and cut by name_quote()).
 */
#ifndef VS_IMPORT_H
#define VS_IMPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pwhash.h"
#include "vs_err.h"

/* Longest logical line, in bytes, without its line end ("\n" or "\r\n"). */
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

/* The password hash of a parsed user line, checked for use: well formed
 * (pw_check_format) and within the cost caps (pw_check_cost, lib/pwhash.h;
 * the Argon2 caps raised to *own, the store's own Argon2id cost, or NULL).
 * VS_OK with *scheme_r (may be NULL), or VS_EINVAL - a bad line, reported
 * with its number like any other - naming the login, never the hash:
 * "password hash for login 'dave' is too costly to verify: bcrypt cost
 * 31, over the limit of 14 (re-hash it, or give the user a new
 * password)". */
int import_check_user_hash(const struct import_user *u,
    const struct pw_cost *own, enum pw_scheme *scheme_r,
    struct vs_err *err);

/* The uid and gid floor (vmseal.conf uid_min and gid_min, default 500):
 * a uid below uid_min or a gid below gid_min would hand a mail user the
 * files of root or of a system account (Dovecot runs the user's mail
 * processes with them).  VS_OK when u sets no uid/gid or sets them at or
 * above the floor; else VS_EINVAL - for import a bad line, reported with
 * its number like any other - naming the login when u->login is set:
 * "login 'root': uid 0 is below uid_min 500 (vmseal.conf): system
 * accounts cannot be mail users".  uid checked before gid. */
int import_check_ids(const struct import_user *u, unsigned uid_min,
    unsigned gid_min, struct vs_err *err);

/* Logical-line reader over a stdio stream (a file, or fmemopen() in tests
 * and fuzzing).  The reader owns its line buffer; a returned line is valid
 * (and may be modified in place) until the next call.  It strips the line
 * end and skips blank and comment lines.  Lines longer than
 * IMPORT_LINE_MAX, or holding a NUL byte (comment lines included), are
 * reported as errors (VS_ELIMIT / VS_EINVAL, with their line number in
 * *lineno_r) and skipped; reading goes on after them.  For postfix-map the
 * error covers the whole logical line: a bad continuation line, or a join
 * longer than IMPORT_LINE_MAX, makes the logical line fail (the message
 * names the physical line), and its remaining continuation lines are
 * skipped with it.  import_reader_new() returns VS_OK, VS_EINVAL (no
 * stream, unknown format) or VS_ENOMEM; it does not take over fp. */
struct import_reader;

int import_reader_new(FILE *fp, enum import_format fmt,
    struct import_reader **r_r);
/* Returns 1 with *line_r and *lineno_r (the number of the logical line's
 * first physical line, from 1), 0 at end of input (again on every later
 * call), or a negative VS_* code with the reason in err for a bad line
 * (reading may continue) - VS_EIO is final. */
int import_reader_next(struct import_reader *r, char **line_r,
    unsigned long *lineno_r, struct vs_err *err);
/* Wipes the buffers (lines hold hashes) and frees; *r becomes NULL.  NULL
 * and *r == NULL are allowed. */
void import_reader_free(struct import_reader **r);

#endif
