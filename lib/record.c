/*
 * record.c - record plaintext encoding and the typed records (see
 * record.h for the format).
 *
 * The parser checks every length against the bytes left before reading,
 * caps fields, records and field counts, rejects trailing bytes, NULs in
 * strings, out-of-order tags and unknown mandatory tags.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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
	T_PW_OPS = 20,
	T_PW_MEM = 21,
	T_OPTIONAL = 0x80,
};

#define FLAG_ENABLED 0x01
#define SFLAG_FOLD_LOCAL 0x01

/* Only list tags may appear more than once in a record. */
static bool
tag_repeats(uint8_t tag)
{
	return tag == T_ADDRESS || tag == T_DEST;
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

/* --- typed field readers --- */

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
get_u32(const struct rec_field *f, uint32_t *out, struct vs_err *err)
{
	if (f->len != 4)
		return vs_fail(err, VS_ECORRUPT, "record number has bad size");
	*out = vs_get_u32be(f->val);
	return VS_OK;
}

static int
get_u64(const struct rec_field *f, uint64_t *out, struct vs_err *err)
{
	if (f->len != 8)
		return vs_fail(err, VS_ECORRUPT, "record number has bad size");
	*out = vs_get_u64be(f->val);
	return VS_OK;
}

static int
get_i64(const struct rec_field *f, int64_t *out, struct vs_err *err)
{
	uint64_t v = 0;
	int r = get_u64(f, &v, err);

	*out = (int64_t)v;
	return r;
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

static int
unknown_tag(const struct rec_field *f, struct vs_err *err)
{
	if (f->tag & T_OPTIONAL)
		return VS_OK;
	return vs_fail(err, VS_ECORRUPT,
	    "record field %u is unknown (newer vmseal?)", f->tag);
}

static int
need(const void *p, const char *what, struct vs_err *err)
{
	if (p == NULL)
		return vs_fail(err, VS_ECORRUPT, "record has no %s", what);
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

/* --- domain --- */

int
rec_domain_encode(const struct vs_domain *d, struct buf *b)
{
	int r;

	if ((r = rec_begin(b)) != 0 ||
	    (r = rec_add_str(b, T_NAME, d->name)) != 0 ||
	    (r = rec_add_i64(b, T_CREATED, d->created)) != 0)
		return r;
	return 0;
}

int
rec_domain_decode(const uint8_t *data, size_t len, struct vs_domain *d,
    struct vs_err *err)
{
	struct rec_field *f;
	size_t n, i;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = rec_parse(data, len, &f, &n, err)) != VS_OK)
		return r;
	for (i = 0; i < n && r == VS_OK; i++) {
		switch (f[i].tag) {
		case T_NAME: r = get_str(&f[i], &d->name, err); break;
		case T_CREATED: r = get_i64(&f[i], &d->created, err); break;
		default: r = unknown_tag(&f[i], err); break;
		}
	}
	free(f);
	if (r == VS_OK)
		r = need(d->name, "domain name", err);
	if (r != VS_OK)
		vs_domain_clear(d);
	return r;
}

void
vs_domain_clear(struct vs_domain *d)
{
	free(d->name);
	memset(d, 0, sizeof(*d));
}

/* --- user --- */

int
rec_user_encode(const struct vs_user *u, struct buf *b)
{
	uint8_t flags = u->enabled ? FLAG_ENABLED : 0;
	size_t i;
	int r;

	if ((r = rec_begin(b)) != 0 ||
	    (r = rec_add_str(b, T_NAME, u->login)) != 0 ||
	    (r = rec_add_str(b, T_PWHASH, u->pwhash)) != 0 ||
	    (r = rec_add_str(b, T_HOME, u->home)) != 0 ||
	    (r = rec_add_str(b, T_MAIL, u->mail)) != 0 ||
	    (r = rec_add_str(b, T_QUOTA, u->quota)) != 0 ||
	    (u->has_uid && (r = rec_add_u32(b, T_UID, u->uid)) != 0) ||
	    (u->has_gid && (r = rec_add_u32(b, T_GID, u->gid)) != 0) ||
	    (r = rec_add(b, T_FLAGS, &flags, 1)) != 0 ||
	    (r = rec_add_i64(b, T_CREATED, u->created)) != 0 ||
	    (r = rec_add_i64(b, T_UPDATED, u->updated)) != 0 ||
	    (r = rec_add_i64(b, T_PWCHANGED, u->pw_changed)) != 0)
		return r;
	if (u->n_addresses > REC_LIST_MAX)
		return VS_ELIMIT;
	for (i = 0; i < u->n_addresses; i++)
		if ((r = rec_add_str(b, T_ADDRESS, u->addresses[i])) != 0)
			return r;
	return 0;
}

int
rec_user_decode(const uint8_t *data, size_t len, struct vs_user *u,
    struct vs_err *err)
{
	struct rec_field *f;
	size_t n, i;
	bool have_flags = false;
	int r;

	memset(u, 0, sizeof(*u));
	if ((r = rec_parse(data, len, &f, &n, err)) != VS_OK)
		return r;
	for (i = 0; i < n && r == VS_OK; i++) {
		switch (f[i].tag) {
		case T_NAME: r = get_str(&f[i], &u->login, err); break;
		case T_PWHASH: r = get_str(&f[i], &u->pwhash, err); break;
		case T_HOME: r = get_str(&f[i], &u->home, err); break;
		case T_MAIL: r = get_str(&f[i], &u->mail, err); break;
		case T_QUOTA: r = get_str(&f[i], &u->quota, err); break;
		case T_UID:
			r = u->has_uid ? vs_fail(err, VS_ECORRUPT,
			    "record field repeated") :
			    get_u32(&f[i], &u->uid, err);
			u->has_uid = true;
			break;
		case T_GID:
			r = u->has_gid ? vs_fail(err, VS_ECORRUPT,
			    "record field repeated") :
			    get_u32(&f[i], &u->gid, err);
			u->has_gid = true;
			break;
		case T_FLAGS:
			if (f[i].len != 1 || have_flags)
				r = vs_fail(err, VS_ECORRUPT,
				    "record flags are malformed");
			else
				u->enabled = (f[i].val[0] & FLAG_ENABLED) != 0;
			have_flags = true;
			break;
		case T_CREATED: r = get_i64(&f[i], &u->created, err); break;
		case T_UPDATED: r = get_i64(&f[i], &u->updated, err); break;
		case T_PWCHANGED:
			r = get_i64(&f[i], &u->pw_changed, err);
			break;
		case T_ADDRESS:
			r = push_str(&u->addresses, &u->n_addresses, &f[i], err);
			break;
		default: r = unknown_tag(&f[i], err); break;
		}
	}
	free(f);
	if (r == VS_OK)
		r = need(u->login, "login name", err);
	if (r == VS_OK && !have_flags)
		r = vs_fail(err, VS_ECORRUPT, "record has no flags");
	if (r != VS_OK)
		vs_user_clear(u);
	return r;
}

void
vs_user_clear(struct vs_user *u)
{
	free(u->login);
	vs_freestr(u->pwhash);
	free(u->home);
	free(u->mail);
	free(u->quota);
	free_list(u->addresses, u->n_addresses);
	memset(u, 0, sizeof(*u));
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

/* --- address --- */

int
rec_address_encode(const struct vs_address *a, struct buf *b)
{
	int r;

	if ((r = rec_begin(b)) != 0 ||
	    (r = rec_add_str(b, T_NAME, a->address)) != 0 ||
	    (r = rec_add_i64(b, T_CREATED, a->created)) != 0 ||
	    (r = rec_add_str(b, T_LOGIN, a->login)) != 0)
		return r;
	return 0;
}

int
rec_address_decode(const uint8_t *data, size_t len, struct vs_address *a,
    struct vs_err *err)
{
	struct rec_field *f;
	size_t n, i;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = rec_parse(data, len, &f, &n, err)) != VS_OK)
		return r;
	for (i = 0; i < n && r == VS_OK; i++) {
		switch (f[i].tag) {
		case T_NAME: r = get_str(&f[i], &a->address, err); break;
		case T_CREATED: r = get_i64(&f[i], &a->created, err); break;
		case T_LOGIN: r = get_str(&f[i], &a->login, err); break;
		default: r = unknown_tag(&f[i], err); break;
		}
	}
	free(f);
	if (r == VS_OK)
		r = need(a->address, "address", err);
	if (r == VS_OK)
		r = need(a->login, "login name", err);
	if (r != VS_OK)
		vs_address_clear(a);
	return r;
}

void
vs_address_clear(struct vs_address *a)
{
	free(a->address);
	free(a->login);
	memset(a, 0, sizeof(*a));
}

/* --- alias --- */

int
rec_alias_encode(const struct vs_alias *a, struct buf *b)
{
	size_t i;
	int r;

	if ((r = rec_begin(b)) != 0 ||
	    (r = rec_add_str(b, T_NAME, a->address)) != 0 ||
	    (r = rec_add_i64(b, T_CREATED, a->created)) != 0)
		return r;
	if (a->n_dests > REC_LIST_MAX)
		return VS_ELIMIT;
	for (i = 0; i < a->n_dests; i++)
		if ((r = rec_add_str(b, T_DEST, a->dests[i])) != 0)
			return r;
	return 0;
}

int
rec_alias_decode(const uint8_t *data, size_t len, struct vs_alias *a,
    struct vs_err *err)
{
	struct rec_field *f;
	size_t n, i;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = rec_parse(data, len, &f, &n, err)) != VS_OK)
		return r;
	for (i = 0; i < n && r == VS_OK; i++) {
		switch (f[i].tag) {
		case T_NAME: r = get_str(&f[i], &a->address, err); break;
		case T_CREATED: r = get_i64(&f[i], &a->created, err); break;
		case T_DEST:
			r = push_str(&a->dests, &a->n_dests, &f[i], err);
			break;
		default: r = unknown_tag(&f[i], err); break;
		}
	}
	free(f);
	if (r == VS_OK)
		r = need(a->address, "alias address", err);
	if (r == VS_OK && a->n_dests == 0)
		r = vs_fail(err, VS_ECORRUPT, "alias has no destination");
	if (r != VS_OK)
		vs_alias_clear(a);
	return r;
}

void
vs_alias_clear(struct vs_alias *a)
{
	free(a->address);
	free_list(a->dests, a->n_dests);
	memset(a, 0, sizeof(*a));
}

/* --- settings --- */

int
rec_settings_encode(const struct vs_settings *s, struct buf *b)
{
	uint8_t flags = s->fold_local ? SFLAG_FOLD_LOCAL : 0;
	uint8_t t[8];
	int r;

	if ((r = rec_begin(b)) != 0 ||
	    (r = rec_add(b, T_FLAGS, &flags, 1)) != 0)
		return r;
	vs_put_u64be(t, s->pw_opslimit);
	if ((r = rec_add(b, T_PW_OPS, t, 8)) != 0)
		return r;
	vs_put_u64be(t, s->pw_memlimit);
	return rec_add(b, T_PW_MEM, t, 8);
}

int
rec_settings_decode(const uint8_t *data, size_t len, struct vs_settings *s,
    struct vs_err *err)
{
	struct rec_field *f;
	size_t n, i;
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = rec_parse(data, len, &f, &n, err)) != VS_OK)
		return r;
	for (i = 0; i < n && r == VS_OK; i++) {
		switch (f[i].tag) {
		case T_FLAGS:
			if (f[i].len != 1)
				r = vs_fail(err, VS_ECORRUPT,
				    "settings flags are malformed");
			else
				s->fold_local =
				    (f[i].val[0] & SFLAG_FOLD_LOCAL) != 0;
			break;
		case T_PW_OPS: r = get_u64(&f[i], &s->pw_opslimit, err); break;
		case T_PW_MEM: r = get_u64(&f[i], &s->pw_memlimit, err); break;
		default: r = unknown_tag(&f[i], err); break;
		}
	}
	free(f);
	if (r == VS_OK && (s->pw_opslimit == 0 || s->pw_memlimit == 0))
		r = vs_fail(err, VS_ECORRUPT, "settings lack the hash cost");
	return r;
}
