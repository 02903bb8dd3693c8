/*
 * import.c - line reader and parsers for htpasswd, Dovecot passwd-file and
 * Postfix table sources (see import.h for the formats and the rules).
 *
 * The reader reads with fgets() in chunks into a fixed buffer, so a line
 * never costs more than IMPORT_LINE_MAX bytes of memory however long it
 * is; the rest of an over-long line is read and thrown away.  For
 * postfix-map it reads one physical line ahead to find where a logical line
 * ends.  The parsers split the line in place and allocate nothing.  Neither
 * ever puts a hash (or anything else from the password field) into an
 * error message; the reader's buffers are wiped when it is freed.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "import.h"
#include "names.h"
#include "pwhash.h"

/* Longest postfix-map key: an address, the longest name we can store. */
#define IMPORT_KEY_MAX NAME_ADDRESS_MAX
/* Longest password hash, without its NUL. */
#define IMPORT_HASH_MAX (PW_HASH_MAX - 1)

/* fgets() reads this much at a time: a line costs time in proportion to
 * its length, not to IMPORT_LINE_MAX. */
#define IMPORT_CHUNK 256

/* What a physical line looks like, from its first non-blank byte. */
enum pl_kind {
	PL_TEXT,        /* starts with a non-blank byte other than '#' */
	PL_INDENT,      /* starts with white space, then text (continuation) */
	PL_SKIP,        /* blank, white space only, or a comment */
};

/* Why a physical line is unusable (0: it is fine). */
enum pl_bad {
	PL_OK = 0,
	PL_TOOLONG,     /* more than IMPORT_LINE_MAX bytes */
	PL_NUL,         /* holds a NUL byte */
	PL_JOINED,      /* continuation made the logical line too long */
	PL_ORPHAN,      /* continuation line with nothing to continue */
};

struct import_reader {
	FILE *fp;
	enum import_format fmt;
	unsigned long lineno;   /* physical lines read so far */
	bool ahead;             /* phys holds a line not yet consumed */
	bool failed;            /* a read error happened: VS_EIO from now on */
	int io_errno;
	/* the current physical line */
	size_t plen;
	unsigned long pno;
	enum pl_kind pkind;
	enum pl_bad pbad;
	char chunk[IMPORT_CHUNK];
	/* content, optional "\r\n", NUL */
	char phys[IMPORT_LINE_MAX + 3];
	char line[IMPORT_LINE_MAX + 1];
};

static bool
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* A control character: C0, or DEL. */
static bool
is_ctrl(int c)
{
	return (unsigned char)c < 0x20 || c == 0x7f;
}

/* Remove one trailing "\n", then one trailing "\r". */
static void
chomp(char *line)
{
	size_t n = strlen(line);

	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
}

static enum pl_kind
classify(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && is_blank(s[i]); i++)
		;
	if (i == len || s[i] == '#')
		return PL_SKIP;
	return i == 0 ? PL_TEXT : PL_INDENT;
}

/* ---- reader ---- */

/*
 * One fgets() call.  A NUL byte read from the stream cannot be told from
 * the terminator by strlen(), so the buffer is first filled with 0xff:
 * fgets() stops after the first '\n' it reads, so a '\n' in the buffer
 * ends the data; without one, the data ends at the last NUL in the buffer
 * (the terminator fgets() wrote after the bytes read).  Returns the number
 * of bytes read, or -1 at end of input or on a read error (see ferror()).
 */
static long
read_chunk(FILE *fp, char *buf, size_t size)
{
	const char *nl;
	size_t n;

	memset(buf, 0xff, size);
	errno = 0;
	if (fgets(buf, (int)size, fp) == NULL)
		return -1;
	if ((nl = memchr(buf, '\n', size)) != NULL)
		return (long)(nl - buf) + 1;
	for (n = size; n > 0 && buf[n - 1] != '\0'; n--)
		;
	return n == 0 ? 0 : (long)(n - 1);
}

/*
 * Read one physical line into r->phys (or take the one read ahead), in
 * chunks of IMPORT_CHUNK bytes.  What does not fit in r->phys is read and
 * dropped, and the line marked too long.  Returns 1, 0 at end of input, or
 * VS_EIO.
 */
static int
read_phys(struct import_reader *r)
{
	size_t len = 0, n;
	bool got = false, nl = false, toolong = false;
	long c;

	if (r->ahead) {
		r->ahead = false;
		return 1;
	}
	while (!nl) {
		if ((c = read_chunk(r->fp, r->chunk, sizeof(r->chunk))) < 0) {
			if (ferror(r->fp)) {
				r->io_errno = errno != 0 ? errno : EIO;
				r->failed = true;
				return VS_EIO;
			}
			break;
		}
		got = true;
		n = (size_t)c;
		nl = n > 0 && r->chunk[n - 1] == '\n';
		if (toolong)
			continue;
		/* r->phys holds IMPORT_LINE_MAX bytes, "\r\n" and a NUL:
		 * more than that is too long whatever the line ending. */
		if (n > sizeof(r->phys) - 1 - len) {
			toolong = true;
			continue;
		}
		memcpy(r->phys + len, r->chunk, n);
		len += n;
	}
	if (!got)
		return 0;
	r->pno = ++r->lineno;
	r->pbad = PL_OK;
	if (toolong) {
		/* classified from its first part */
		r->pkind = classify(r->phys, len);
		r->pbad = PL_TOOLONG;
		r->plen = 0;
		r->phys[0] = '\0';
		return 1;
	}
	if (nl)
		len--;
	if (len > 0 && r->phys[len - 1] == '\r')
		len--;
	r->phys[len] = '\0';
	r->plen = len;
	r->pkind = classify(r->phys, len);
	if (len > IMPORT_LINE_MAX)
		r->pbad = PL_TOOLONG;
	else if (memchr(r->phys, '\0', len) != NULL)
		r->pbad = PL_NUL;
	return 1;
}

/* Report a bad logical line that starts at line start; the fault is in
 * physical line at. */
static int
report(struct vs_err *err, enum pl_bad why, unsigned long start,
    unsigned long at)
{
	switch (why) {
	case PL_TOOLONG:
		if (at != start)
			return vs_fail(err, VS_ELIMIT, "continuation line %lu "
			    "is longer than %d bytes", at, IMPORT_LINE_MAX);
		return vs_fail(err, VS_ELIMIT, "line is longer than %d bytes",
		    IMPORT_LINE_MAX);
	case PL_NUL:
		if (at != start)
			return vs_fail(err, VS_EINVAL, "continuation line %lu "
			    "contains a NUL byte", at);
		return vs_fail(err, VS_EINVAL, "line contains a NUL byte");
	case PL_JOINED:
		return vs_fail(err, VS_ELIMIT, "line is longer than %d bytes "
		    "once continuation line %lu is joined", IMPORT_LINE_MAX,
		    at);
	case PL_ORPHAN:
		return vs_fail(err, VS_EINVAL, "line starts with white space "
		    "(a continuation line) but there is no line before it to "
		    "continue");
	case PL_OK:
		break;
	}
	return vs_fail(err, VS_EINVAL, "bad line");
}

/* postfix-map: after a bad logical line, read and drop the rest of it
 * (continuation, blank and comment lines) up to the next line of text. */
static void
skip_rest(struct import_reader *r)
{
	int rc;

	if (r->fmt != IMPORT_POSTFIX_MAP)
		return;
	while ((rc = read_phys(r)) == 1) {
		if (r->pkind == PL_TEXT) {
			r->ahead = true;
			return;
		}
	}
	/* rc == 0: end of input; VS_EIO: r->failed is set and the next
	 * call reports it. */
}

int
import_reader_new(FILE *fp, enum import_format fmt,
    struct import_reader **r_r)
{
	struct import_reader *r;

	*r_r = NULL;
	if (fp == NULL)
		return VS_EINVAL;
	switch (fmt) {
	case IMPORT_HTPASSWD:
	case IMPORT_DOVECOT_PASSWD:
	case IMPORT_POSTFIX_MAP:
		break;
	default:
		return VS_EINVAL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return VS_ENOMEM;
	r->fp = fp;
	r->fmt = fmt;
	*r_r = r;
	return VS_OK;
}

int
import_reader_next(struct import_reader *r, char **line_r,
    unsigned long *lineno_r, struct vs_err *err)
{
	enum pl_bad bad = PL_OK;
	unsigned long start, badat = 0;
	size_t len, n;
	const char *s;
	int rc;

	*line_r = NULL;
	*lineno_r = r->lineno;
	if (r->failed)
		return vs_fail(err, VS_EIO, "read error after line %lu: %s",
		    r->lineno, strerror(r->io_errno));

	/* Find the first line of the next logical line. */
	do {
		if ((rc = read_phys(r)) != 1) {
			*lineno_r = r->lineno;
			if (rc == 0)
				return 0;
			return vs_fail(err, VS_EIO, "read error after line "
			    "%lu: %s", r->lineno, strerror(r->io_errno));
		}
	} while (r->pbad == PL_OK && r->pkind == PL_SKIP);
	start = r->pno;
	*lineno_r = start;
	if (r->pbad != PL_OK) {
		bad = r->pbad;
		skip_rest(r);
		return report(err, bad, start, start);
	}
	if (r->fmt == IMPORT_POSTFIX_MAP && r->pkind == PL_INDENT) {
		skip_rest(r);
		return report(err, PL_ORPHAN, start, start);
	}
	len = r->plen;
	memcpy(r->line, r->phys, len);

	/* postfix-map: join continuation lines; blank and comment lines in
	 * between are dropped, as Postfix does. */
	while (r->fmt == IMPORT_POSTFIX_MAP) {
		if ((rc = read_phys(r)) == 0)
			break;
		if (rc < 0) {
			*lineno_r = r->lineno;
			return vs_fail(err, VS_EIO, "read error after line "
			    "%lu: %s", r->lineno, strerror(r->io_errno));
		}
		if (r->pkind == PL_TEXT) {
			/* the next logical line (good or bad) */
			r->ahead = true;
			break;
		}
		if (bad != PL_OK)
			continue;
		if (r->pbad != PL_OK) {
			bad = r->pbad;
			badat = r->pno;
			continue;
		}
		if (r->pkind == PL_SKIP)
			continue;
		while (len > 0 && is_blank(r->line[len - 1]))
			len--;
		for (s = r->phys; is_blank(*s); s++)
			;
		n = r->plen - (size_t)(s - r->phys);
		if (len + 1 + n > IMPORT_LINE_MAX) {
			bad = PL_JOINED;
			badat = r->pno;
			continue;
		}
		r->line[len++] = ' ';
		memcpy(r->line + len, s, n);
		len += n;
	}
	if (bad != PL_OK)
		return report(err, bad, start, badat);
	r->line[len] = '\0';
	*line_r = r->line;
	return 1;
}

void
import_reader_free(struct import_reader **rp)
{
	struct import_reader *r;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	vs_wipe(r, sizeof(*r));
	free(r);
	*rp = NULL;
}

/* ---- field checks ---- */

/* Returns the first control character or space (if no_space) in s, or
 * NUL when there is none. */
static int
bad_char(const char *s, bool no_space)
{
	for (; *s != '\0'; s++)
		if (is_ctrl(*s) || (no_space && *s == ' '))
			return (unsigned char)*s;
	return 0;
}

static int
check_login(const char *login, struct vs_err *err)
{
	char q[NAME_QUOTE_BUF];
	size_t len = strlen(login);
	int c;

	if (len == 0)
		return vs_fail(err, VS_EINVAL, "empty login");
	name_quote(login, len, q);
	if (len > NAME_LOGIN_MAX)
		return vs_fail(err, VS_EINVAL, "login '%s' is longer than %d "
		    "characters", q, NAME_LOGIN_MAX);
	if ((c = bad_char(login, true)) == ' ')
		return vs_fail(err, VS_EINVAL, "login '%s' contains a space",
		    q);
	else if (c == '\t')
		return vs_fail(err, VS_EINVAL, "login '%s' contains a tab", q);
	else if (c != 0)
		return vs_fail(err, VS_EINVAL, "login '%s' contains a control "
		    "character (0x%02x)", q, c);
	return VS_OK;
}

/* The hash is never quoted; the login (already checked) is. */
static int
check_hash(const char *hash, const char *login, struct vs_err *err)
{
	char q[NAME_QUOTE_BUF];
	size_t len = strlen(hash);
	int c;

	name_quote(login, strlen(login), q);
	if (len == 0)
		return vs_fail(err, VS_EINVAL, "empty password hash for login "
		    "'%s'", q);
	if (len > IMPORT_HASH_MAX)
		return vs_fail(err, VS_EINVAL, "password hash for login '%s' "
		    "is longer than %d characters", q, IMPORT_HASH_MAX);
	if ((c = bad_char(hash, true)) == ' ')
		return vs_fail(err, VS_EINVAL, "password hash for login '%s' "
		    "contains a space", q);
	else if (c == '\t')
		return vs_fail(err, VS_EINVAL, "password hash for login '%s' "
		    "contains a tab", q);
	else if (c != 0)
		return vs_fail(err, VS_EINVAL, "password hash for login '%s' "
		    "contains a control character", q);
	return VS_OK;
}

/* A free-text field (gecos, home, shell, extra fields): spaces allowed. */
static int
check_text(const char *s, const char *what, struct vs_err *err)
{
	int c;

	if ((c = bad_char(s, false)) == '\t')
		return vs_fail(err, VS_EINVAL, "%s contains a tab", what);
	else if (c != 0)
		return vs_fail(err, VS_EINVAL, "%s contains a control "
		    "character (0x%02x)", what, c);
	return VS_OK;
}

/* Decimal uint32: digits only (no sign, space or '+'), at most
 * 4294967295; leading zeros are allowed. */
static int
parse_u32(const char *s, const char *what, uint32_t *v_r,
    struct vs_err *err)
{
	const char *p;
	uint32_t v = 0, d;

	if (*s == '\0')
		return vs_fail(err, VS_EINVAL, "%s is empty", what);
	for (p = s; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return vs_fail(err, VS_EINVAL, "%s is not a number",
			    what);
	for (p = s; *p != '\0'; p++) {
		d = (uint32_t)(*p - '0');
		if (v > (UINT32_MAX - d) / 10)
			return vs_fail(err, VS_EINVAL, "%s is out of range "
			    "(more than %lu)", what,
			    (unsigned long)UINT32_MAX);
		v = v * 10 + d;
	}
	*v_r = v;
	return VS_OK;
}

/* Blank or comment line (after chomp). */
static bool
is_skip(const char *line)
{
	return classify(line, strlen(line)) == PL_SKIP;
}

/* ---- the hash of a user line ---- */

int
import_check_user_hash(const struct import_user *u, const struct pw_cost *own,
    enum pw_scheme *scheme_r, struct vs_err *err)
{
	char q[NAME_QUOTE_BUF];
	struct vs_err e;
	enum pw_scheme s;
	int r;

	if (scheme_r != NULL)
		*scheme_r = PW_UNKNOWN;
	if (u == NULL || u->login == NULL || u->hash == NULL)
		return vs_fail(err, VS_EINVAL, "no login or password hash");
	name_quote(u->login, strlen(u->login), q);
	vs_err_clear(&e);
	if ((r = pw_check_format(u->hash, &s, &e)) != VS_OK)
		return vs_fail(err, VS_EINVAL, "password hash for login '%s': "
		    "%s", q, e.msg);
	vs_err_clear(&e);
	if ((r = pw_check_cost(u->hash, own, &e)) != VS_OK)
		return vs_fail(err, VS_EINVAL, "password hash for login '%s': "
		    "%s (re-hash it at a lower cost, or give the user a new "
		    "password)", q, e.msg);
	if (scheme_r != NULL)
		*scheme_r = s;
	return VS_OK;
}

/* ---- the uid/gid floor ---- */

static int
check_id(const struct import_user *u, const char *what, uint32_t id,
    unsigned min, struct vs_err *err)
{
	char q[NAME_QUOTE_BUF];

	if (id >= min)
		return VS_OK;
	if (u->login == NULL)
		return vs_fail(err, VS_EINVAL, "%s %lu is below %s_min %u "
		    "(vmseal.conf): system accounts cannot be mail users",
		    what, (unsigned long)id, what, min);
	name_quote(u->login, strlen(u->login), q);
	return vs_fail(err, VS_EINVAL, "login '%s': %s %lu is below %s_min "
	    "%u (vmseal.conf): system accounts cannot be mail users", q,
	    what, (unsigned long)id, what, min);
}

int
import_check_ids(const struct import_user *u, unsigned uid_min,
    unsigned gid_min, struct vs_err *err)
{
	int r;

	if (u == NULL)
		return vs_fail(err, VS_EINVAL, "no user");
	if (u->has_uid && (r = check_id(u, "uid", u->uid, uid_min, err)) !=
	    VS_OK)
		return r;
	if (u->has_gid && (r = check_id(u, "gid", u->gid, gid_min, err)) !=
	    VS_OK)
		return r;
	return VS_OK;
}

/* ---- htpasswd ---- */

int
import_parse_htpasswd(char *line, struct import_user *u, struct vs_err *err)
{
	char *colon, *p;
	size_t nf = 1;
	int rc;

	memset(u, 0, sizeof(*u));
	chomp(line);
	if (is_skip(line))
		return 0;
	for (p = line; (p = strchr(p, ':')) != NULL; p++)
		nf++;
	if (nf == 1)
		return vs_fail(err, VS_EINVAL, "missing ':' after the login");
	if (nf != 2)
		return vs_fail(err, VS_EINVAL, "line has %zu fields, htpasswd "
		    "has 2 (login:hash)", nf);
	colon = strchr(line, ':');
	*colon = '\0';
	if ((rc = check_login(line, err)) != VS_OK ||
	    (rc = check_hash(colon + 1, line, err)) != VS_OK)
		return rc;
	u->login = line;
	u->hash = colon + 1;
	return 1;
}

/* ---- dovecot passwd-file ---- */

enum {
	DF_LOGIN, DF_HASH, DF_UID, DF_GID, DF_GECOS, DF_HOME, DF_SHELL,
	DF_EXTRA, DF_COUNT
};

#define SEEN_MAIL       0x01
#define SEEN_QUOTA      0x02
#define SEEN_HOME       0x04
#define SEEN_UID        0x08
#define SEEN_GID        0x10

static const struct extra_name {
	const char *name;
	unsigned int bit;
} extra_names[] = {
	{ "userdb_mail", SEEN_MAIL },
	{ "userdb_quota_rule", SEEN_QUOTA },
	{ "userdb_home", SEEN_HOME },
	{ "userdb_uid", SEEN_UID },
	{ "userdb_gid", SEEN_GID },
};

/* An extra field's name: letters, digits, '_', '.', '-', and '/' (as in
 * Dovecot's userdb_namespace/inbox/prefix).  Anything else, a ':' from a
 * miscounted field above all, is refused rather than silently ignored. */
static bool
extra_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		    *s == '-' || *s == '/'))
			return false;
	return true;
}

/* The extra fields: space-separated name=value (or a bare name).  The
 * userdb_* fields we use override the positional home, uid and gid, and
 * may appear only once; the others are ignored, but their names must be
 * well formed. */
static int
parse_extra(char *s, struct import_user *u, struct vs_err *err)
{
	const struct extra_name *e;
	char q[NAME_QUOTE_BUF];
	unsigned int seen = 0;
	char *tok, *eq, *value;
	size_t i;
	int rc;

	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		tok = s;
		s += strcspn(s, " ");
		if (*s != '\0')
			*s++ = '\0';
		if ((eq = strchr(tok, '=')) != NULL) {
			*eq = '\0';
			value = eq + 1;
		} else
			value = NULL;
		if (!extra_name_ok(tok)) {
			name_quote(tok, strlen(tok), q);
			return vs_fail(err, VS_EINVAL, "extra field name '%s' "
			    "is not valid", q);
		}
		e = NULL;
		for (i = 0; i < sizeof(extra_names) / sizeof(extra_names[0]);
		    i++)
			if (strcmp(tok, extra_names[i].name) == 0)
				e = &extra_names[i];
		if (e == NULL)
			continue;
		if (value == NULL)
			return vs_fail(err, VS_EINVAL, "%s has no value "
			    "(expected %s=...)", e->name, e->name);
		if (*value == '\0')
			return vs_fail(err, VS_EINVAL, "%s has an empty value",
			    e->name);
		if (seen & e->bit)
			return vs_fail(err, VS_EINVAL, "%s is given twice",
			    e->name);
		seen |= e->bit;
		switch (e->bit) {
		case SEEN_MAIL:
			u->mail = value;
			break;
		case SEEN_QUOTA:
			u->quota = value;
			break;
		case SEEN_HOME:
			u->home = value;
			break;
		case SEEN_UID:
			if ((rc = parse_u32(value, e->name, &u->uid, err)) != 0)
				return rc;
			u->has_uid = true;
			break;
		case SEEN_GID:
			if ((rc = parse_u32(value, e->name, &u->gid, err)) != 0)
				return rc;
			u->has_gid = true;
			break;
		}
	}
	return VS_OK;
}

int
import_parse_dovecot_passwd(char *line, struct import_user *u,
    struct vs_err *err)
{
	static const char *const names[DF_COUNT] = {
		"login", "password hash", "uid", "gid", "gecos", "home",
		"shell", "extra fields"
	};
	char *f[DF_COUNT] = { NULL };
	char *p;
	int i, nf, rc;

	memset(u, 0, sizeof(*u));
	chomp(line);
	if (is_skip(line))
		return 0;
	/* Seven ':'-separated fields, then the extra fields: the rest of
	 * the line, which may hold ':' (userdb_mail=maildir:~/Maildir). */
	f[0] = line;
	for (nf = 1, p = line; nf < DF_COUNT; nf++) {
		if ((p = strchr(p, ':')) == NULL)
			break;
		*p++ = '\0';
		f[nf] = p;
	}
	if (nf == 1)
		return vs_fail(err, VS_EINVAL, "missing ':' after the login");
	if ((rc = check_login(f[DF_LOGIN], err)) != VS_OK ||
	    (rc = check_hash(f[DF_HASH], f[DF_LOGIN], err)) != VS_OK)
		return rc;
	for (i = DF_UID; i < nf; i++)
		if (i != DF_UID && i != DF_GID &&
		    (rc = check_text(f[i], names[i], err)) != VS_OK)
			return rc;
	u->login = f[DF_LOGIN];
	u->hash = f[DF_HASH];
	if (f[DF_UID] != NULL && *f[DF_UID] != '\0') {
		if ((rc = parse_u32(f[DF_UID], "uid", &u->uid, err)) != VS_OK)
			return rc;
		u->has_uid = true;
	}
	if (f[DF_GID] != NULL && *f[DF_GID] != '\0') {
		if ((rc = parse_u32(f[DF_GID], "gid", &u->gid, err)) != VS_OK)
			return rc;
		u->has_gid = true;
	}
	if (f[DF_HOME] != NULL && *f[DF_HOME] != '\0')
		u->home = f[DF_HOME];
	if (f[DF_EXTRA] != NULL &&
	    (rc = parse_extra(f[DF_EXTRA], u, err)) != VS_OK)
		return rc;
	return 1;
}

/* ---- postfix-map ---- */

int
import_parse_postfix_map(char *line, struct import_map *m,
    struct vs_err *err)
{
	char q[NAME_QUOTE_BUF];
	char *p, *value;
	size_t klen, vlen;
	int c;

	memset(m, 0, sizeof(*m));
	chomp(line);
	if (is_skip(line))
		return 0;
	if (is_blank(line[0]))
		return vs_fail(err, VS_EINVAL, "line starts with white space "
		    "(a continuation line) but there is no line before it to "
		    "continue");
	/* Tab is white space here, like space. */
	for (p = line; *p != '\0'; p++) {
		c = (unsigned char)*p;
		if (is_ctrl(c) && c != '\t')
			return vs_fail(err, VS_EINVAL, "line contains a "
			    "control character (0x%02x)", c);
	}
	klen = strcspn(line, " \t");
	name_quote(line, klen, q);
	if (klen > IMPORT_KEY_MAX)
		return vs_fail(err, VS_EINVAL, "key '%s' is longer than %d "
		    "characters", q, IMPORT_KEY_MAX);
	for (value = line + klen; is_blank(*value); value++)
		;
	vlen = strlen(value);
	while (vlen > 0 && is_blank(value[vlen - 1]))
		vlen--;
	if (vlen == 0)
		return vs_fail(err, VS_EINVAL, "key '%s' has no value "
		    "(expected: key, white space, value)", q);
	value[vlen] = '\0';
	line[klen] = '\0';
	m->key = line;
	m->value = value;
	return 1;
}
