/*
 * lookup.c - Postfix's four questions (domains, mailboxes, aliases,
 * senders) answered from the store (see lookup.h for the contract).
 *
 * Postfix gives socketmap the whole address as the client wrote it, so this
 * module does what Postfix does for its own tables: it normalizes the key,
 * tries the address without its recipient_delimiter extension after the
 * full address (split the way Postfix's split_addr() splits), and falls
 * back to the "@domain" catch-all - but only for an address that resolves
 * neither to an alias nor to a mailbox.  Alias answers are one level deep:
 * Postfix feeds every destination back in and recurses itself.
 *
 * Security stance: keys are untrusted peer data.  A key that is not a valid
 * name is a definite "not found", checked before anything reaches the
 * store.  Everything else the store reports - sealed, I/O, a record that
 * fails to authenticate - is passed up as an error, never turned into "not
 * found": Postfix must answer "try later", not "user unknown".  Sending
 * rights are granted narrowly: catch-alls grant none, aliases only to the
 * owners of their direct mailbox destinations.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "lookup.h"
#include "names.h"

void
lookup_opts_default(struct lookup_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->delimiters[0] = '+';
}

static const char *
delims_of(const struct lookup_opts *o)
{
	return o != NULL ? o->delimiters : "+";
}

/* --- extensions --- */

/* Postfix's split_addr(): local parts it never splits. */
static bool
no_split(const char *local, size_t llen, const char *delims)
{
	static const char *const reserved[] = {
		"postmaster", "mailer-daemon", "double-bounce"
	};
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (llen == strlen(reserved[i]) &&
		    strncasecmp(local, reserved[i], llen) == 0)
			return true;
	/* owner_request_special (default yes): with '-' as a delimiter,
	 * owner-list and list-request stay whole. */
	if (strchr(delims, '-') != NULL) {
		if (llen >= 6 && strncasecmp(local, "owner-", 6) == 0)
			return true;
		if (llen > 8 &&
		    strncasecmp(local + llen - 8, "-request", 8) == 0)
			return true;
	}
	return false;
}

bool
lookup_strip_extension(const char *addr, const char *delims, char *out)
{
	const char *at;
	size_t len, llen, cut;

	len = strlen(addr);
	if (len >= NAME_BUF) {
		out[0] = '\0';
		return false;
	}
	memcpy(out, addr, len + 1);
	if (delims == NULL || delims[0] == '\0')
		return false;
	at = strrchr(addr, '@');
	llen = at != NULL ? (size_t)(at - addr) : len;
	/* The first delimiter character in the local part; none, or one at
	 * the very start (the local part would be empty): nothing cut. */
	for (cut = 0; cut < llen; cut++)
		if (strchr(delims, addr[cut]) != NULL)
			break;
	if (cut == 0 || cut == llen || no_split(addr, llen, delims))
		return false;
	memcpy(out + cut, addr + llen, len - llen + 1);
	return true;
}

/* --- keys --- */

/*
 * Check an address key and write it normalized the store's way to out
 * (store_name_address(): the domain lower-cased, the local part folded by
 * the store's setting), once per question: every form tried from it - the
 * extension-less address, the "@domain" catch-all - is cut from it and
 * so normalized too, and goes to the store's *_find() calls as it is.
 * Postfix splits extensions the same way, on the key it has folded.
 * Returns false for anything that is not a valid address (or "@domain"
 * when catchall).
 */
static bool
address_key(struct store_txn *txn, const char *key, bool catchall, char *out)
{
	if (key == NULL)
		return false;
	return store_name_address(txn, key, catchall, out, NULL) == VS_OK;
}

/* "Not found" is the common answer of a lookup: no message is formatted
 * (nobody reads it; socketmap answers a bare NOTFOUND). */
static int
not_found(struct vs_err *err)
{
	static const char msg[] = "not found";

	if (err != NULL) {
		err->code = VS_ENOTFOUND;
		memcpy(err->msg, msg, sizeof(msg));
	}
	return VS_ENOTFOUND;
}

/* --- output --- */

/* A list of unique names, joined with ',' for the answer. */
struct names {
	char **v;
	size_t n;
};

static int
names_add(struct names *l, const char *s, struct vs_err *err)
{
	char **nv;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return VS_OK;
	if ((nv = realloc(l->v, (l->n + 1) * sizeof(*nv))) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	l->v = nv;
	if ((l->v[l->n] = vs_strdup(s)) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	l->n++;
	return VS_OK;
}

static void
names_free(struct names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
join(char *const *v, size_t n, char **value_r, struct vs_err *err)
{
	struct buf b = { 0 };
	size_t i;
	int r = VS_OK;

	for (i = 0; i < n && r == VS_OK; i++) {
		if (i > 0)
			r = buf_append_u8(&b, ',');
		if (r == VS_OK)
			r = buf_append_str(&b, v[i]);
	}
	if (r != VS_OK) {
		buf_free(&b);
		return vs_fail(err, r, "answer too large");
	}
	if (b.len == 0) {
		buf_free(&b);
		return vs_fail(err, VS_ECORRUPT, "empty answer");
	}
	*value_r = vs_strndup((const char *)b.data, b.len);
	buf_free(&b);
	if (*value_r == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	return VS_OK;
}

static int
answer(const char *s, char **value_r, struct vs_err *err)
{
	if (s == NULL || s[0] == '\0')
		return vs_fail(err, VS_ECORRUPT, "empty answer");
	if ((*value_r = vs_strdup(s)) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	return VS_OK;
}

/* --- resolving an address the way delivery does --- */

enum kind { K_NONE, K_ALIAS, K_MAILBOX };

struct resolved {
	enum kind kind;
	struct vs_alias alias;          /* K_ALIAS */
	struct vs_address mailbox;      /* K_MAILBOX */
};

static void
resolved_clear(struct resolved *res)
{
	if (res->kind == K_ALIAS)
		vs_alias_clear(&res->alias);
	else if (res->kind == K_MAILBOX)
		vs_address_clear(&res->mailbox);
	res->kind = K_NONE;
}

/*
 * What is the (valid, normalized) address addr: for the full
 * address, then for its extension-less form, an alias wins over a mailbox
 * (the two cannot coexist for one name, the store sees to that), and the
 * first form that is either decides.  So a mailbox address is never
 * redirected by an alias on its extension-less form.  K_NONE when neither
 * form is known; errors other than "not found" are returned.
 */
static int
resolve(struct store_txn *txn, const struct lookup_opts *o,
    const char *addr, struct resolved *res, struct vs_err *err)
{
	char bare[NAME_BUF];
	const char *forms[2];
	size_t nforms, i;
	int r;

	memset(res, 0, sizeof(*res));
	forms[0] = addr;
	nforms = 1;
	if (lookup_strip_extension(addr, delims_of(o), bare))
		forms[nforms++] = bare;
	for (i = 0; i < nforms; i++) {
		r = store_alias_find(txn, forms[i], &res->alias, err);
		if (r == VS_OK) {
			res->kind = K_ALIAS;
			return VS_OK;
		}
		if (r != VS_ENOTFOUND)
			return r;
		r = store_address_find(txn, forms[i], &res->mailbox, err);
		if (r == VS_OK) {
			res->kind = K_MAILBOX;
			return VS_OK;
		}
		if (r != VS_ENOTFOUND)
			return r;
	}
	return VS_OK;
}

/* --- the four maps --- */

int
lookup_domain(struct store_txn *txn, const char *key, char **value_r,
    struct vs_err *err)
{
	char name[NAME_BUF];
	struct vs_domain d;
	int r;

	*value_r = NULL;
	if (key == NULL || strchr(key, '@') != NULL ||
	    name_domain(key, name, NULL) != VS_OK)
		return not_found(err);
	r = store_domain_find(txn, name, &d, err);
	if (r == VS_ENOTFOUND)
		return not_found(err);
	if (r != VS_OK)
		return r;
	r = answer(d.name, value_r, err);
	vs_domain_clear(&d);
	return r;
}

int
lookup_mailbox(struct store_txn *txn, const struct lookup_opts *o,
    const char *key, char **value_r, struct vs_err *err)
{
	char addr[NAME_BUF], bare[NAME_BUF];
	struct vs_address a;
	int r;

	*value_r = NULL;
	if (!address_key(txn, key, false, addr))
		return not_found(err);
	r = store_address_find(txn, addr, &a, err);
	if (r == VS_ENOTFOUND &&
	    lookup_strip_extension(addr, delims_of(o), bare))
		r = store_address_find(txn, bare, &a, err);
	if (r == VS_ENOTFOUND)
		return not_found(err);
	if (r != VS_OK)
		return r;
	r = answer(a.login, value_r, err);
	vs_address_clear(&a);
	return r;
}

int
lookup_alias(struct store_txn *txn, const struct lookup_opts *o,
    const char *key, char **value_r, struct vs_err *err)
{
	char addr[NAME_BUF];
	struct resolved res;
	struct vs_alias al;
	const char *dom;
	int r;

	*value_r = NULL;
	if (!address_key(txn, key, true, addr))
		return not_found(err);
	if (addr[0] == '@') {
		/* The catch-all itself, asked for by name. */
		r = store_alias_find(txn, addr, &al, err);
	} else {
		if ((r = resolve(txn, o, addr, &res, err)) != VS_OK)
			return r;
		if (res.kind == K_MAILBOX) {
			/* Not an alias: Postfix delivers to the mailbox. */
			resolved_clear(&res);
			return not_found(err);
		}
		if (res.kind == K_ALIAS) {
			al = res.alias;         /* hand over ownership */
			r = VS_OK;
		} else {
			dom = name_domain_of(addr);
			addr[0] = '@';
			memmove(addr + 1, dom, strlen(dom) + 1);
			r = store_alias_find(txn, addr, &al, err);
		}
	}
	if (r == VS_ENOTFOUND)
		return not_found(err);
	if (r != VS_OK)
		return r;
	r = join(al.dests, al.n_dests, value_r, err);
	vs_alias_clear(&al);
	return r;
}

/* Add the login that owns addr's mailbox, if addr resolves to one. */
static int
add_owner(struct store_txn *txn, const struct lookup_opts *o,
    const char *addr, struct names *l, struct vs_err *err)
{
	struct resolved res;
	int r;

	if ((r = resolve(txn, o, addr, &res, err)) != VS_OK)
		return r;
	if (res.kind == K_MAILBOX)
		r = names_add(l, res.mailbox.login, err);
	resolved_clear(&res);
	return r;
}

/* Add name if it is the login of a user. */
static int
add_login(struct store_txn *txn, const char *name, struct names *l,
    struct vs_err *err)
{
	char login[NAME_BUF];
	struct vs_user u;
	int r;

	if (name_login(name, false, login, NULL) != VS_OK)
		return VS_OK;
	r = store_user_get(txn, login, &u, err);
	if (r == VS_ENOTFOUND)
		return VS_OK;
	if (r != VS_OK)
		return r;
	r = names_add(l, u.login, err);
	vs_user_clear(&u);
	return r;
}

/* The logins that may send as the address key (none: l stays empty). */
static int
senders_of(struct store_txn *txn, const struct lookup_opts *o,
    const char *key, struct names *l, struct vs_err *err)
{
	char addr[NAME_BUF], bare[NAME_BUF];
	struct resolved res;
	size_t i;
	int r;

	/* "@domain" is no sender: a catch-all grants no sending right. */
	if (!address_key(txn, key, false, addr))
		return VS_OK;
	if ((r = resolve(txn, o, addr, &res, err)) != VS_OK)
		return r;
	if (res.kind == K_MAILBOX) {
		r = names_add(l, res.mailbox.login, err);
	} else if (res.kind == K_ALIAS) {
		/* One level: the owners of the mailboxes the alias delivers
		 * to directly; an alias of an alias grants nothing. */
		for (i = 0; i < res.alias.n_dests && r == VS_OK; i++)
			if (address_key(txn, res.alias.dests[i], false, bare))
				r = add_owner(txn, o, bare, l, err);
	}
	resolved_clear(&res);
	if (r == VS_OK)
		r = add_login(txn, addr, l, err);
	if (r == VS_OK && lookup_strip_extension(addr, delims_of(o), bare))
		r = add_login(txn, bare, l, err);
	return r;
}

int
lookup_senders(struct store_txn *txn, const struct lookup_opts *o,
    const char *key, char **value_r, struct vs_err *err)
{
	struct names l = { 0 };
	int r;

	*value_r = NULL;
	r = senders_of(txn, o, key, &l, err);
	if (r == VS_OK && l.n == 0)
		r = not_found(err);
	else if (r == VS_OK)
		r = join(l.v, l.n, value_r, err);
	names_free(&l);
	return r;
}

int
lookup_sender_allowed(struct store_txn *txn, const struct lookup_opts *o,
    const char *login, const char *sender, struct vs_err *err)
{
	char name[NAME_BUF];
	struct names l = { 0 };
	struct vs_user u;
	size_t i;
	int r, allowed = 0;

	if (sender != NULL && sender[0] == '\0')
		return 1;               /* bounces */
	if (sender == NULL || login == NULL ||
	    name_login(login, false, name, NULL) != VS_OK)
		return 0;
	r = store_user_get(txn, name, &u, err);
	if (r == VS_ENOTFOUND)
		return 0;
	if (r != VS_OK)
		return r;
	/* A disabled user may not log in, so may not send either (a
	 * session opened before it was disabled included). */
	if (u.enabled) {
		r = senders_of(txn, o, sender, &l, err);
		for (i = 0; r == VS_OK && i < l.n; i++)
			if (strcmp(l.v[i], u.login) == 0)
				allowed = 1;
		names_free(&l);
	}
	vs_user_clear(&u);
	return r != VS_OK ? r : allowed;
}
