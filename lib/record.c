/*
 * record.c - record plaintext encoding and the typed records (see
 * record.h for the format).
 *
 * The parser checks every length against the bytes left before reading,
 * caps fields, records and field counts, rejects trailing bytes, NULs in
 * strings, out-of-order tags and unknown mandatory tags.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "record.h"

/* Tags.  Shared across record types: a type uses the ones it needs. */
enum {
	T_NAME = 1,             /* domain, login, address */
	T_PWHASH = 2,
	T_HOME = 3,
	T_MAIL = 4,
	T_QUOTA = 5,
	T_UID = 6,
	T_GID = 7,
	T_FLAGS = 8,
	T_CREATED = 9,
	T_UPDATED = 10,
	T_PWCHANGED = 11,
	T_LOGIN = 12,           /* address -> login */
	T_ADDRESS = 13,         /* user's address list (repeats) */
	T_DEST = 14,            /* alias destinations (repeats) */
	/* A user's mail keys (issue 13).  Below 0x80 on purpose: a vmseal
	 * that does not know them refuses the record instead of rewriting
	 * it without the private key (mail encrypted to it would be lost). */
	T_MAIL_PUB = 15,
	T_MAIL_PRIV = 16,
	T_MAIL_CREATED = 17,
	/* App passwords (issue 14): one nested record per app password
	 * (repeats), and the flag "app passwords only" (written only when
	 * set).  Below 0x80: a vmseal that does not know them must not
	 * rewrite the record without them (that would revive the main
	 * password for mail clients). */
	T_APPPW = 18,
	T_APPONLY = 19,
	T_PW_OPS = 20,
	T_PW_MEM = 21,
	/* "password" protection of mail keys (issue 13): the flag, the
	 * wrapped key and the escrow copy.  Below 0x80 for the same reason
	 * as the keys themselves. */
	T_MAIL_PW = 22,
	T_MAIL_WRAP = 23,
	T_MAIL_ESCROW = 24,
	T_OPTIONAL = 0x80,
};

#define FLAG_ENABLED 0x01
#define SFLAG_FOLD_LOCAL 0x01

/* Only list tags may appear more than once in a record. */
static bool
tag_repeats(uint8_t tag)
{
	return tag == T_ADDRESS || tag == T_DEST || tag == T_APPPW;
}

int
rec_begin(struct buf *b)
{
	b->len = 0;
	return buf_append_u8(b, REC_VERSION);
}

int
rec_add(struct buf *b, uint8_t tag, const void *val, size_t len)
{
	int r;

	if (len > REC_FIELD_MAX || b->len + 5 + len > REC_MAX)
		return VS_ELIMIT;
	if ((r = buf_append_u8(b, tag)) != 0 ||
	    (r = buf_append_u32be(b, (uint32_t)len)) != 0 ||
	    (r = buf_append(b, val, len)) != 0)
		return r;
	return 0;
}

int
rec_add_str(struct buf *b, uint8_t tag, const char *s)
{
	if (s == NULL)
		return 0;
	return rec_add(b, tag, s, strlen(s));
}

int
rec_add_u32(struct buf *b, uint8_t tag, uint32_t v)
{
	uint8_t t[4];

	vs_put_u32be(t, v);
	return rec_add(b, tag, t, 4);
}

int
rec_add_i64(struct buf *b, uint8_t tag, int64_t v)
{
	uint8_t t[8];

	vs_put_u64be(t, (uint64_t)v);
	return rec_add(b, tag, t, 8);
}

int
rec_parse(const uint8_t *data, size_t len, struct rec_field **fields_r,
    size_t *n_r, struct vs_err *err)
{
	struct rec_field *f = NULL;
	size_t n = 0, cap = 0, off = 1, repeats = 0;
	uint8_t last = 0;
	uint32_t flen;

	*fields_r = NULL;
	*n_r = 0;
	if (len < 1)
		return vs_fail(err, VS_ECORRUPT, "record is empty");
	if (len > REC_MAX)
		return vs_fail(err, VS_ECORRUPT, "record is too large");
	if (data[0] != REC_VERSION)
		return vs_fail(err, VS_ECORRUPT,
		    "record format %u is unknown (newer vmseal?)", data[0]);
	while (off < len) {
		if (len - off < 5)
			goto trunc;
		if (data[off] < last || (n > 0 && data[off] == last &&
		    !tag_repeats(last))) {
			free(f);
			return vs_fail(err, VS_ECORRUPT, data[off] < last ?
			    "record fields out of order" :
			    "record field repeated");
		}
		if (data[off] == last && ++repeats >= REC_LIST_MAX) {
			free(f);
			return vs_fail(err, VS_ECORRUPT,
			    "record list is too long");
		}
		if (data[off] != last)
			repeats = 0;
		last = data[off];
		flen = vs_get_u32be(data + off + 1);
		if (flen > REC_FIELD_MAX) {
			free(f);
			return vs_fail(err, VS_ECORRUPT,
			    "record field is too large");
		}
		if (flen > len - off - 5)
			goto trunc;
		if (n == REC_FIELDS_MAX) {
			free(f);
			return vs_fail(err, VS_ECORRUPT,
			    "record has too many fields");
		}
		if (n == cap) {
			struct rec_field *nf;

			cap = cap ? cap * 2 : 16;
			nf = realloc(f, cap * sizeof(*f));
			if (nf == NULL) {
				free(f);
				return vs_fail(err, VS_ENOMEM,
				    "out of memory");
			}
			f = nf;
		}
		f[n].tag = data[off];
		f[n].len = flen;
		f[n].val = data + off + 5;
		n++;
		off += 5 + (size_t)flen;
	}
	*fields_r = f;
	*n_r = n;
	return VS_OK;
trunc:
	free(f);
	return vs_fail(err, VS_ECORRUPT, "record is truncated");
}

/* --- typed records: one field table per type --- */

/* How a field is kept in the record's struct. */
enum rf_kind {
	RF_STR,         /* char *: written when not NULL */
	RF_SECRET,      /* char *, wiped when freed (password hash, mail
	                   private key) */
	RF_U32,         /* uint32_t, with a bool saying it is set */
	RF_U64,         /* uint64_t, always written */
	RF_I64,         /* int64_t, always written */
	RF_I64NZ,       /* int64_t, written when not 0 */
	RF_LIST,        /* char ** and a size_t count: a repeated tag */
	RF_FLAG,        /* bool: one bit of a 1-byte flags field */
	RF_FLAGNZ,      /* bool: a 1-byte field written only when true */
	RF_APPPW        /* struct vs_apppw * and a size_t count: nested
	                   records of a repeated tag (apppw_encode) */
};

struct rf {
	uint8_t tag;
	uint8_t kind;
	uint8_t bit;            /* RF_FLAG: the bit */
	size_t off;             /* the member */
	size_t aux;             /* RF_U32: its bool; RF_LIST: its count */
	const char *required;   /* "record has no %s" when absent */
};

/* A type's table, in tag order (the encoder writes fields in table
 * order, and the parser wants them ascending). */
struct rtype {
	const struct rf *f;
	size_t n;
	size_t size;
	const char *flags_bad;  /* message for a malformed flags field */
};

#define AT(p, off, type) ((type *)(void *)((char *)(p) + (off)))
#define CAT(p, off, type) ((const type *)(const void *)((const char *)(p) + (off)))

static int
get_str(const struct rec_field *f, char **out, struct vs_err *err)
{
	if (*out != NULL)
		return vs_fail(err, VS_ECORRUPT, "record field repeated");
	if (memchr(f->val, '\0', f->len) != NULL)
		return vs_fail(err, VS_ECORRUPT, "record string holds a NUL");
	*out = vs_strndup((const char *)f->val, f->len);
	if (*out == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	return VS_OK;
}

static int
push_str(char ***list, size_t *n, const struct rec_field *f,
    struct vs_err *err)
{
	char **nl;
	char *s = NULL;
	int r;

	if ((r = get_str(f, &s, err)) != VS_OK)
		return r;
	nl = realloc(*list, (*n + 1) * sizeof(**list));
	if (nl == NULL) {
		free(s);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	nl[*n] = s;
	*list = nl;
	(*n)++;
	return VS_OK;
}

static void
free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/*
 * An app password as a nested record (the value of one T_APPPW field):
 * its own version byte and fields, A_NAME, A_KEY (salt || hash),
 * A_SERVICES, A_CREATED, then A_EXPIRES, A_USED, A_IP, A_MAILPK (32
 * bytes) and A_MAILCOPY (a mail key copy needs the pk) when set.  The
 * same rules as a record: in order, no repeats, unknown tags below 0x80
 * refused.
 */
enum { A_NAME = 1, A_KEY = 2, A_SERVICES = 3, A_CREATED = 4, A_EXPIRES = 5,
    A_USED = 6, A_IP = 7, A_MAILPK = 8, A_MAILCOPY = 9 };

static int
apppw_encode(struct buf *b, uint8_t tag, const struct vs_apppw *e)
{
	uint8_t key[APPPW_SALT_BYTES + APPPW_HASH_BYTES];
	struct buf nb = { 0 };
	int r;

	memcpy(key, e->salt, APPPW_SALT_BYTES);
	memcpy(key + APPPW_SALT_BYTES, e->hash, APPPW_HASH_BYTES);
	if ((r = rec_begin(&nb)) == 0 &&
	    (r = rec_add_str(&nb, A_NAME, e->name)) == 0 &&
	    (r = rec_add(&nb, A_KEY, key, sizeof(key))) == 0 &&
	    (r = rec_add_u32(&nb, A_SERVICES, e->services)) == 0 &&
	    (r = rec_add_i64(&nb, A_CREATED, e->created)) == 0 &&
	    (e->expires == 0 ||
	    (r = rec_add_i64(&nb, A_EXPIRES, e->expires)) == 0) &&
	    (e->last_used == 0 ||
	    (r = rec_add_i64(&nb, A_USED, e->last_used)) == 0) &&
	    (r = rec_add_str(&nb, A_IP, e->last_ip)) == 0 &&
	    (!e->has_mail_pk ||
	    (r = rec_add(&nb, A_MAILPK, e->mail_pk, 32)) == 0) &&
	    (r = rec_add_str(&nb, A_MAILCOPY, e->mail_copy)) == 0)
		r = rec_add(b, tag, nb.data, nb.len);
	sodium_memzero(key, sizeof(key));
	buf_free(&nb);
	return r;
}

static int
apppw_decode(const struct rec_field *outer, struct vs_apppw *e,
    struct vs_err *err)
{
	struct rec_field *f;
	size_t n, i;
	int r;

	memset(e, 0, sizeof(*e));
	if ((r = rec_parse(outer->val, outer->len, &f, &n, err)) != VS_OK)
		return r;
	for (i = 0; i < n && r == VS_OK; i++) {
		switch (f[i].tag) {
		case A_NAME:
			r = get_str(&f[i], &e->name, err);
			break;
		case A_KEY:
			if (f[i].len != APPPW_SALT_BYTES + APPPW_HASH_BYTES) {
				r = vs_fail(err, VS_ECORRUPT, "app password "
				    "record is malformed");
				break;
			}
			memcpy(e->salt, f[i].val, APPPW_SALT_BYTES);
			memcpy(e->hash, f[i].val + APPPW_SALT_BYTES,
			    APPPW_HASH_BYTES);
			break;
		case A_SERVICES:
			if (f[i].len != 4 ||
			    (e->services = vs_get_u32be(f[i].val)) == 0)
				r = vs_fail(err, VS_ECORRUPT, "app password "
				    "record is malformed");
			break;
		case A_CREATED:
		case A_EXPIRES:
		case A_USED:
			if (f[i].len != 8) {
				r = vs_fail(err, VS_ECORRUPT, "app password "
				    "record is malformed");
				break;
			}
			*(f[i].tag == A_CREATED ? &e->created :
			    f[i].tag == A_EXPIRES ? &e->expires :
			    &e->last_used) = (int64_t)vs_get_u64be(f[i].val);
			break;
		case A_IP:
			r = get_str(&f[i], &e->last_ip, err);
			break;
		case A_MAILPK:
			if (f[i].len != 32) {
				r = vs_fail(err, VS_ECORRUPT, "app password "
				    "record is malformed");
				break;
			}
			memcpy(e->mail_pk, f[i].val, 32);
			e->has_mail_pk = true;
			break;
		case A_MAILCOPY:
			r = get_str(&f[i], &e->mail_copy, err);
			break;
		default:
			if (!(f[i].tag & T_OPTIONAL))
				r = vs_fail(err, VS_ECORRUPT, "app password "
				    "field %u is unknown (newer vmseal?)",
				    f[i].tag);
		}
	}
	free(f);
	if (r == VS_OK && (e->name == NULL || e->services == 0 ||
	    (e->mail_copy != NULL && !e->has_mail_pk)))
		r = vs_fail(err, VS_ECORRUPT, "app password record is "
		    "incomplete");
	if (r != VS_OK)
		vs_apppw_clear(e);
	return r;
}

static void
free_apppws(struct vs_apppw *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vs_apppw_clear(&l[i]);
	free(l);
}

static int
push_apppw(struct vs_apppw **list, size_t *n, const struct rec_field *f,
    struct vs_err *err)
{
	struct vs_apppw e, *nl;
	size_t i;
	int r;

	if (*n >= APPPW_MAX)
		return vs_fail(err, VS_ECORRUPT, "record has more than %d app "
		    "passwords", APPPW_MAX);
	if ((r = apppw_decode(f, &e, err)) != VS_OK)
		return r;
	for (i = 0; i < *n; i++)
		if (strcmp((*list)[i].name, e.name) == 0) {
			vs_apppw_clear(&e);
			return vs_fail(err, VS_ECORRUPT, "record has two app "
			    "passwords of one name");
		}
	if ((nl = realloc(*list, (*n + 1) * sizeof(*nl))) == NULL) {
		vs_apppw_clear(&e);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	nl[(*n)++] = e;
	*list = nl;
	return VS_OK;
}

/* Free what a decoded or half-decoded record holds and zero it. */
static void
rtype_clear(const struct rtype *t, void *obj)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct rf *d = &t->f[i];

		switch (d->kind) {
		case RF_STR:
			free(*AT(obj, d->off, char *));
			break;
		case RF_SECRET:
			vs_freestr(*AT(obj, d->off, char *));
			break;
		case RF_LIST:
			free_list(*AT(obj, d->off, char **),
			    *AT(obj, d->aux, size_t));
			break;
		case RF_APPPW:
			free_apppws(*AT(obj, d->off, struct vs_apppw *),
			    *AT(obj, d->aux, size_t));
			break;
		default:
			break;
		}
	}
	memset(obj, 0, t->size);
}

static int
rtype_encode(const struct rtype *t, const void *obj, struct buf *b)
{
	uint8_t flags, v[8];
	size_t i, j, cnt;
	int r;

	if ((r = rec_begin(b)) != 0)
		return r;
	for (i = 0; i < t->n; i++) {
		const struct rf *d = &t->f[i];

		switch (d->kind) {
		case RF_STR:
		case RF_SECRET:
			r = rec_add_str(b, d->tag, *CAT(obj, d->off, char *));
			break;
		case RF_U32:
			if (*CAT(obj, d->aux, bool))
				r = rec_add_u32(b, d->tag,
				    *CAT(obj, d->off, uint32_t));
			break;
		case RF_U64:
			vs_put_u64be(v, *CAT(obj, d->off, uint64_t));
			r = rec_add(b, d->tag, v, 8);
			break;
		case RF_I64:
			r = rec_add_i64(b, d->tag, *CAT(obj, d->off, int64_t));
			break;
		case RF_I64NZ:
			if (*CAT(obj, d->off, int64_t) != 0)
				r = rec_add_i64(b, d->tag,
				    *CAT(obj, d->off, int64_t));
			break;
		case RF_LIST:
			cnt = *CAT(obj, d->aux, size_t);
			if (cnt > REC_LIST_MAX)
				return VS_ELIMIT;
			for (j = 0; j < cnt && r == 0; j++)
				r = rec_add_str(b, d->tag,
				    (*CAT(obj, d->off, char *const *))[j]);
			break;
		case RF_FLAG:
			flags = *CAT(obj, d->off, bool) ? d->bit : 0;
			r = rec_add(b, d->tag, &flags, 1);
			break;
		case RF_FLAGNZ:
			flags = d->bit;
			if (*CAT(obj, d->off, bool))
				r = rec_add(b, d->tag, &flags, 1);
			break;
		case RF_APPPW:
			cnt = *CAT(obj, d->aux, size_t);
			if (cnt > APPPW_MAX)
				return VS_ELIMIT;
			for (j = 0; j < cnt && r == 0; j++)
				r = apppw_encode(b, d->tag,
				    &(*CAT(obj, d->off, struct vs_apppw *))[j]);
			break;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

/* One field into obj; seen[i] says table entry i was met before. */
static int
rtype_field(const struct rtype *t, const struct rec_field *f, void *obj,
    bool *seen, struct vs_err *err)
{
	const struct rf *d = NULL;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->f[i].tag == f->tag) {
			d = &t->f[i];
			break;
		}
	if (d == NULL) {
		if (f->tag & T_OPTIONAL)
			return VS_OK;
		return vs_fail(err, VS_ECORRUPT,
		    "record field %u is unknown (newer vmseal?)", f->tag);
	}
	if (seen[i] && d->kind != RF_LIST && d->kind != RF_APPPW)
		return vs_fail(err, VS_ECORRUPT, "%s", d->kind == RF_FLAG ?
		    t->flags_bad : "record field repeated");
	seen[i] = true;
	switch (d->kind) {
	case RF_STR:
	case RF_SECRET:
		return get_str(f, AT(obj, d->off, char *), err);
	case RF_LIST:
		return push_str(AT(obj, d->off, char **),
		    AT(obj, d->aux, size_t), f, err);
	case RF_FLAG:
		if (f->len != 1)
			return vs_fail(err, VS_ECORRUPT, "%s", t->flags_bad);
		*AT(obj, d->off, bool) = (f->val[0] & d->bit) != 0;
		return VS_OK;
	case RF_FLAGNZ:
		if (f->len != 1 || f->val[0] != d->bit)
			return vs_fail(err, VS_ECORRUPT, "%s", t->flags_bad);
		*AT(obj, d->off, bool) = true;
		return VS_OK;
	case RF_APPPW:
		return push_apppw(AT(obj, d->off, struct vs_apppw *),
		    AT(obj, d->aux, size_t), f, err);
	case RF_U32:
		if (f->len != 4)
			break;
		*AT(obj, d->off, uint32_t) = vs_get_u32be(f->val);
		*AT(obj, d->aux, bool) = true;
		return VS_OK;
	case RF_U64:
	case RF_I64:
	case RF_I64NZ:
		if (f->len != 8)
			break;
		*AT(obj, d->off, uint64_t) = vs_get_u64be(f->val);
		return VS_OK;
	}
	return vs_fail(err, VS_ECORRUPT, "record number has bad size");
}

/* Parse data into obj (zeroed first); on failure obj is cleared. */
static int
rtype_decode(const struct rtype *t, const uint8_t *data, size_t len,
    void *obj, struct vs_err *err)
{
	struct rec_field *f;
	bool seen[24] = { false };
	size_t n, i;
	int r;

	memset(obj, 0, t->size);
	if (t->n > sizeof(seen) / sizeof(seen[0]))
		return vs_fail(err, VS_EINVAL, "record table too large");
	if ((r = rec_parse(data, len, &f, &n, err)) != VS_OK)
		return r;
	for (i = 0; i < n && r == VS_OK; i++)
		r = rtype_field(t, &f[i], obj, seen, err);
	free(f);
	for (i = 0; i < t->n && r == VS_OK; i++)
		if (t->f[i].required != NULL && !seen[i])
			r = vs_fail(err, VS_ECORRUPT, "record has no %s",
			    t->f[i].required);
	if (r != VS_OK)
		rtype_clear(t, obj);
	return r;
}

#define F(tag, kind, T, m, req) \
	{ tag, kind, 0, offsetof(T, m), 0, req }
#define F_U32(tag, T, m, has) \
	{ tag, RF_U32, 0, offsetof(T, m), offsetof(T, has), NULL }
#define F_LIST(tag, T, m, cnt) \
	{ tag, RF_LIST, 0, offsetof(T, m), offsetof(T, cnt), NULL }
#define F_FLAG(tag, bit, T, m, req) \
	{ tag, RF_FLAG, bit, offsetof(T, m), 0, req }
#define RTYPE(tab, T, flagsmsg) \
	{ tab, sizeof(tab) / sizeof(tab[0]), sizeof(T), flagsmsg }

/* --- domain --- */

static const struct rf domain_f[] = {
	F(T_NAME, RF_STR, struct vs_domain, name, "domain name"),
	F(T_CREATED, RF_I64, struct vs_domain, created, NULL),
};
static const struct rtype domain_t =
    RTYPE(domain_f, struct vs_domain, "record flags are malformed");

int
rec_domain_encode(const struct vs_domain *d, struct buf *b)
{
	return rtype_encode(&domain_t, d, b);
}

int
rec_domain_decode(const uint8_t *data, size_t len, struct vs_domain *d,
    struct vs_err *err)
{
	return rtype_decode(&domain_t, data, len, d, err);
}

void
vs_domain_clear(struct vs_domain *d)
{
	rtype_clear(&domain_t, d);
}

/* --- user --- */

static const struct rf user_f[] = {
	F(T_NAME, RF_STR, struct vs_user, login, "login name"),
	F(T_PWHASH, RF_SECRET, struct vs_user, pwhash, NULL),
	F(T_HOME, RF_STR, struct vs_user, home, NULL),
	F(T_MAIL, RF_STR, struct vs_user, mail, NULL),
	F(T_QUOTA, RF_STR, struct vs_user, quota, NULL),
	F_U32(T_UID, struct vs_user, uid, has_uid),
	F_U32(T_GID, struct vs_user, gid, has_gid),
	F_FLAG(T_FLAGS, FLAG_ENABLED, struct vs_user, enabled, "flags"),
	F(T_CREATED, RF_I64, struct vs_user, created, NULL),
	F(T_UPDATED, RF_I64, struct vs_user, updated, NULL),
	F(T_PWCHANGED, RF_I64, struct vs_user, pw_changed, NULL),
	F_LIST(T_ADDRESS, struct vs_user, addresses, n_addresses),
	F(T_MAIL_PUB, RF_STR, struct vs_user, mail_pub, NULL),
	F(T_MAIL_PRIV, RF_SECRET, struct vs_user, mail_priv, NULL),
	F(T_MAIL_CREATED, RF_I64NZ, struct vs_user, mail_key_created, NULL),
	{ T_APPPW, RF_APPPW, 0, offsetof(struct vs_user, apppws),
	    offsetof(struct vs_user, n_apppws), NULL },
	{ T_APPONLY, RF_FLAGNZ, 1, offsetof(struct vs_user, apppw_only), 0,
	    NULL },
	{ T_MAIL_PW, RF_FLAGNZ, 1, offsetof(struct vs_user, mail_pw), 0,
	    NULL },
	F(T_MAIL_WRAP, RF_STR, struct vs_user, mail_wrap, NULL),
	F(T_MAIL_ESCROW, RF_STR, struct vs_user, mail_escrow, NULL),
};
static const struct rtype user_t =
    RTYPE(user_f, struct vs_user, "record flags are malformed");

int
rec_user_encode(const struct vs_user *u, struct buf *b)
{
	if (!vs_user_mailkey_ok(u))
		return VS_EINVAL;       /* the decoder would refuse it */
	return rtype_encode(&user_t, u, b);
}

int
rec_user_decode(const uint8_t *data, size_t len, struct vs_user *u,
    struct vs_err *err)
{
	int r = rtype_decode(&user_t, data, len, u, err);

	if (r == VS_OK && !vs_user_mailkey_ok(u)) {
		vs_user_clear(u);
		r = vs_fail(err, VS_ECORRUPT, "record has half a mail key "
		    "pair");
	}
	return r;
}

void
vs_user_clear(struct vs_user *u)
{
	rtype_clear(&user_t, u);
}

int
vs_user_add_address(struct vs_user *u, const char *address)
{
	char **nl, *s;
	size_t i;

	for (i = 0; i < u->n_addresses; i++)
		if (strcmp(u->addresses[i], address) == 0)
			return VS_EEXIST;
	if ((s = vs_strdup(address)) == NULL)
		return VS_ENOMEM;
	nl = realloc(u->addresses, (u->n_addresses + 1) * sizeof(*nl));
	if (nl == NULL) {
		free(s);
		return VS_ENOMEM;
	}
	nl[u->n_addresses++] = s;
	u->addresses = nl;
	return VS_OK;
}

int
vs_user_del_address(struct vs_user *u, const char *address)
{
	size_t i;

	for (i = 0; i < u->n_addresses; i++) {
		if (strcmp(u->addresses[i], address) != 0)
			continue;
		free(u->addresses[i]);
		memmove(&u->addresses[i], &u->addresses[i + 1],
		    (u->n_addresses - i - 1) * sizeof(char *));
		u->n_addresses--;
		return VS_OK;
	}
	return VS_ENOTFOUND;
}

int
vs_user_find_apppw(const struct vs_user *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->n_apppws; i++)
		if (strcmp(u->apppws[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
vs_user_add_apppw(struct vs_user *u, const struct vs_apppw *e)
{
	struct vs_apppw c, *nl;

	if (vs_user_find_apppw(u, e->name) >= 0)
		return VS_EEXIST;
	if (u->n_apppws >= APPPW_MAX)
		return VS_ELIMIT;
	c = *e;
	c.name = vs_strdup(e->name);
	c.last_ip = e->last_ip ? vs_strdup(e->last_ip) : NULL;
	c.mail_copy = e->mail_copy ? vs_strdup(e->mail_copy) : NULL;
	nl = realloc(u->apppws, (u->n_apppws + 1) * sizeof(*nl));
	if (c.name == NULL || (e->last_ip && c.last_ip == NULL) ||
	    (e->mail_copy && c.mail_copy == NULL) || nl == NULL) {
		if (nl != NULL)
			u->apppws = nl;
		vs_apppw_clear(&c);
		return VS_ENOMEM;
	}
	nl[u->n_apppws++] = c;
	u->apppws = nl;
	return VS_OK;
}

void
vs_user_del_apppw(struct vs_user *u, size_t i)
{
	if (i >= u->n_apppws)
		return;
	vs_apppw_clear(&u->apppws[i]);
	memmove(&u->apppws[i], &u->apppws[i + 1],
	    (u->n_apppws - i - 1) * sizeof(u->apppws[0]));
	u->n_apppws--;
}

/* --- address --- */

static const struct rf address_f[] = {
	F(T_NAME, RF_STR, struct vs_address, address, "address"),
	F(T_CREATED, RF_I64, struct vs_address, created, NULL),
	F(T_LOGIN, RF_STR, struct vs_address, login, "login name"),
};
static const struct rtype address_t =
    RTYPE(address_f, struct vs_address, "record flags are malformed");

int
rec_address_encode(const struct vs_address *a, struct buf *b)
{
	return rtype_encode(&address_t, a, b);
}

int
rec_address_decode(const uint8_t *data, size_t len, struct vs_address *a,
    struct vs_err *err)
{
	return rtype_decode(&address_t, data, len, a, err);
}

void
vs_address_clear(struct vs_address *a)
{
	rtype_clear(&address_t, a);
}

/* --- alias --- */

static const struct rf alias_f[] = {
	F(T_NAME, RF_STR, struct vs_alias, address, "alias address"),
	F(T_CREATED, RF_I64, struct vs_alias, created, NULL),
	F_LIST(T_DEST, struct vs_alias, dests, n_dests),
};
static const struct rtype alias_t =
    RTYPE(alias_f, struct vs_alias, "record flags are malformed");

int
rec_alias_encode(const struct vs_alias *a, struct buf *b)
{
	return rtype_encode(&alias_t, a, b);
}

int
rec_alias_decode(const uint8_t *data, size_t len, struct vs_alias *a,
    struct vs_err *err)
{
	int r = rtype_decode(&alias_t, data, len, a, err);

	if (r == VS_OK && a->n_dests == 0) {
		vs_alias_clear(a);
		r = vs_fail(err, VS_ECORRUPT, "alias has no destination");
	}
	return r;
}

void
vs_alias_clear(struct vs_alias *a)
{
	rtype_clear(&alias_t, a);
}

/* --- settings --- */

static const struct rf settings_f[] = {
	F_FLAG(T_FLAGS, SFLAG_FOLD_LOCAL, struct vs_settings, fold_local,
	    NULL),
	F(T_PW_OPS, RF_U64, struct vs_settings, pw_opslimit, NULL),
	F(T_PW_MEM, RF_U64, struct vs_settings, pw_memlimit, NULL),
};
static const struct rtype settings_t =
    RTYPE(settings_f, struct vs_settings, "settings flags are malformed");

int
rec_settings_encode(const struct vs_settings *s, struct buf *b)
{
	return rtype_encode(&settings_t, s, b);
}

int
rec_settings_decode(const uint8_t *data, size_t len, struct vs_settings *s,
    struct vs_err *err)
{
	int r = rtype_decode(&settings_t, data, len, s, err);

	if (r == VS_OK && (s->pw_opslimit == 0 || s->pw_memlimit == 0))
		r = vs_fail(err, VS_ECORRUPT, "settings lack the hash cost");
	return r;
}
