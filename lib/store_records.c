/*
 * store_records.c - domains, users, addresses and aliases, with the
 * consistency rules between them (store.h), and the lookup path.
 *
 * Security stance: as store.c - every record is sealed, keyed by its blind
 * index, authenticated before it is decoded; plaintext buffers are wiped.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kv.h"
#include "names.h"
#include "pwhash.h"
#include "store.h"
#include "store_int.h"

static void
clear_domain(void *p) { vs_domain_clear(p); }
static void
clear_user(void *p) { vs_user_clear(p); }
static void
clear_address(void *p) { vs_address_clear(p); }
static void
clear_alias(void *p) { vs_alias_clear(p); }

static int
dec_domain(const uint8_t *d, size_t n, void *o, struct vs_err *e)
{ return rec_domain_decode(d, n, o, e); }
static int
dec_user(const uint8_t *d, size_t n, void *o, struct vs_err *e)
{ return rec_user_decode(d, n, o, e); }
static int
dec_address(const uint8_t *d, size_t n, void *o, struct vs_err *e)
{ return rec_address_decode(d, n, o, e); }
static int
dec_alias(const uint8_t *d, size_t n, void *o, struct vs_err *e)
{ return rec_alias_decode(d, n, o, e); }
static int
enc_domain(const void *r, struct buf *b) { return rec_domain_encode(r, b); }
static int
enc_user(const void *r, struct buf *b) { return rec_user_encode(r, b); }
static int
enc_address(const void *r, struct buf *b) { return rec_address_encode(r, b); }
static int
enc_alias(const void *r, struct buf *b) { return rec_alias_encode(r, b); }

/* --- domains --- */

int
store_domain_add(struct store_txn *txn, const char *domain,
    struct vs_err *err)
{
	char name[NAME_BUF];
	struct vs_domain d;
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = name_domain(domain, name, err)) != VS_OK)
		return r;
	d.name = name;
	d.created = sti_now();
	r = sti_put_typed(txn, KV_DOMAINS, name, enc_domain, &d, true, err);
	if (r == VS_EEXIST)
		return vs_fail(err, r, "domain %s already exists", name);
	return r;
}

static int
domain_exists(struct store_txn *txn, const char *name, struct vs_err *err)
{
	struct vs_domain d;
	int r;

	r = sti_get_typed(txn, KV_DOMAINS, name, dec_domain, &d, err);
	if (r == VS_OK)
		vs_domain_clear(&d);
	else if (r == VS_ENOTFOUND)
		vs_fail(err, r, "domain %s is not hosted here "
		    "(vmseal domain add %s)", name, name);
	return r;
}

struct domain_refs {
	const char *domain;
	size_t addresses, aliases;
	bool alias_table;
};

static int
domain_refs_cb(void *vctx, const struct buf *pt, struct vs_err *err)
{
	struct domain_refs *d = vctx;
	const char *dom;
	int r;

	if (d->alias_table) {
		struct vs_alias a;

		if ((r = rec_alias_decode(pt->data, pt->len, &a, err)) != VS_OK)
			return r;
		dom = name_domain_of(a.address);
		if (dom != NULL && strcmp(dom, d->domain) == 0)
			d->aliases++;
		vs_alias_clear(&a);
	} else {
		struct vs_address a;

		if ((r = rec_address_decode(pt->data, pt->len, &a, err)) !=
		    VS_OK)
			return r;
		dom = name_domain_of(a.address);
		if (dom != NULL && strcmp(dom, d->domain) == 0)
			d->addresses++;
		vs_address_clear(&a);
	}
	return VS_OK;
}

int
store_domain_del(struct store_txn *txn, const char *domain,
    struct vs_err *err)
{
	char name[NAME_BUF];
	struct domain_refs refs = { name, 0, 0, false };
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = name_domain(domain, name, err)) != VS_OK ||
	    (r = domain_exists(txn, name, err)) != VS_OK)
		return r;
	if ((r = sti_iter_open(txn, KV_ADDRESSES, domain_refs_cb, &refs, err)) !=
	    VS_OK)
		return r;
	refs.alias_table = true;
	if ((r = sti_iter_open(txn, KV_ALIASES, domain_refs_cb, &refs, err)) !=
	    VS_OK)
		return r;
	if (refs.addresses || refs.aliases)
		return vs_fail(err, VS_EEXIST, "domain %s still has %zu "
		    "address(es) and %zu alias(es); delete them first", name,
		    refs.addresses, refs.aliases);
	return sti_del_typed(txn, KV_DOMAINS, name, err);
}

int
store_domain_get(struct store_txn *txn, const char *domain,
    struct vs_domain *d_r, struct vs_err *err)
{
	char name[NAME_BUF];
	int r;

	if ((r = name_domain(domain, name, err)) != VS_OK)
		return r;
	r = sti_get_typed(txn, KV_DOMAINS, name, dec_domain, d_r, err);
	if (r == VS_ENOTFOUND)
		vs_fail(err, r, "domain %s not found", name);
	return r;
}

int
store_domain_list(struct store_txn *txn, struct vs_domain **list_r,
    size_t *n_r, struct vs_err *err)
{
	return sti_list_typed(txn, KV_DOMAINS, dec_domain, sizeof(**list_r),
	    clear_domain, (void **)list_r, n_r, err);
}

void
store_domain_list_free(struct vs_domain *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vs_domain_clear(&list[i]);
	free(list);
}

/* --- addresses (internal helpers shared with users) --- */

/* Check that a normalized mailbox address can be added: hosted domain,
 * not already an address or an alias. */
static int
address_free(struct store_txn *txn, const char *addr, struct vs_err *err)
{
	struct vs_address a;
	struct vs_alias al;
	const char *dom = name_domain_of(addr);
	int r;

	if (dom == NULL)
		return vs_fail(err, VS_EINVAL, "invalid address %s", addr);
	if ((r = domain_exists(txn, dom, err)) != VS_OK)
		return r;
	r = sti_get_typed(txn, KV_ADDRESSES, addr, dec_address, &a, err);
	if (r == VS_OK) {
		r = vs_fail(err, VS_EEXIST, "address %s already belongs to %s",
		    addr, a.login);
		vs_address_clear(&a);
		return r;
	}
	if (r != VS_ENOTFOUND)
		return r;
	r = sti_get_typed(txn, KV_ALIASES, addr, dec_alias, &al, err);
	if (r == VS_OK) {
		vs_alias_clear(&al);
		return vs_fail(err, VS_EEXIST, "%s is an alias; delete the "
		    "alias first", addr);
	}
	return r == VS_ENOTFOUND ? VS_OK : r;
}

static int
address_put(struct store_txn *txn, const char *addr, const char *login,
    struct vs_err *err)
{
	struct vs_address a;

	a.address = (char *)addr;
	a.login = (char *)login;
	a.created = sti_now();
	return sti_put_typed(txn, KV_ADDRESSES, addr, enc_address, &a, true, err);
}

/* --- users --- */

int
store_user_add(struct store_txn *txn, const struct vs_user *tmpl,
    struct vs_err *err)
{
	char login[NAME_BUF], addr[NAME_BUF];
	struct vs_user u;
	size_t i;
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = name_login(tmpl->login, sti_fold(txn), login, err)) != VS_OK)
		return r;
	/* Refuse an existing user before writing any of its addresses
	 * (without addresses, the no-overwrite put below is check enough). */
	if (tmpl->n_addresses > 0) {
		r = sti_get_typed(txn, KV_USERS, login, dec_user, &u, err);
		if (r == VS_OK) {
			vs_user_clear(&u);
			return vs_fail(err, VS_EEXIST, "user %s already exists",
			    login);
		}
		if (r != VS_ENOTFOUND)
			return r;
		r = VS_OK;
	}
	u = *tmpl;
	u.login = login;
	u.addresses = NULL;
	u.n_addresses = 0;
	if (tmpl->n_addresses > REC_LIST_MAX)
		return vs_fail(err, VS_ELIMIT, "a user can have at most %d "
		    "addresses", REC_LIST_MAX);
	u.created = u.updated = sti_now();
	if (u.pwhash != NULL && u.pw_changed == 0)
		u.pw_changed = u.created;
	for (i = 0; i < tmpl->n_addresses && r == VS_OK; i++) {
		r = name_address(tmpl->addresses[i], sti_fold(txn), false, addr,
		    err);
		if (r == VS_OK)
			r = address_free(txn, addr, err);
		if (r == VS_OK)
			r = address_put(txn, addr, login, err);
		if (r == VS_OK) {
			r = vs_user_add_address(&u, addr);
			if (r == VS_EEXIST)
				r = vs_fail(err, r, "address %s given twice",
				    addr);
			else if (r != VS_OK)
				r = vs_fail(err, r, "out of memory");
		}
	}
	if (r == VS_OK) {
		r = sti_put_typed(txn, KV_USERS, login, enc_user, &u, true, err);
		if (r == VS_EEXIST)
			r = vs_fail(err, r, "user %s already exists", login);
	}
	for (i = 0; i < u.n_addresses; i++)
		free(u.addresses[i]);
	free(u.addresses);
	return r;
}

int
store_user_get(struct store_txn *txn, const char *login, struct vs_user *u_r,
    struct vs_err *err)
{
	char name[NAME_BUF];
	int r;

	if ((r = name_login(login, sti_fold(txn), name, err)) != VS_OK)
		return r;
	r = sti_get_typed(txn, KV_USERS, name, dec_user, u_r, err);
	if (r == VS_ENOTFOUND)
		vs_fail(err, r, "user %s not found", name);
	return r;
}

int
store_user_update(struct store_txn *txn, const struct vs_user *u,
    struct vs_err *err)
{
	struct vs_user old, nu;
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK)
		return r;
	/* The login must exist under exactly this (normalized) name. */
	r = sti_get_typed(txn, KV_USERS, u->login, dec_user, &old, err);
	if (r == VS_ENOTFOUND)
		return vs_fail(err, r, "user %s not found", u->login);
	if (r != VS_OK)
		return r;
	nu = *u;
	nu.addresses = old.addresses;
	nu.n_addresses = old.n_addresses;
	nu.created = old.created;
	nu.updated = sti_now();
	/* Mail keys are never dropped by an update: without the private
	 * key the user's encrypted mail is lost. */
	if (u->mail_pub == NULL && old.mail_pub != NULL) {
		nu.mail_pub = old.mail_pub;
		nu.mail_priv = old.mail_priv;
		nu.mail_key_created = old.mail_key_created;
		nu.mail_pw = old.mail_pw;
		nu.mail_wrap = old.mail_wrap;
		nu.mail_escrow = old.mail_escrow;
	}
	r = sti_put_typed(txn, KV_USERS, u->login, enc_user, &nu, false, err);
	vs_user_clear(&old);
	return r;
}

int
store_user_apppw_used(struct store_txn *txn, const char *login,
    const char *name, int64_t when, const char *ip, struct vs_err *err)
{
	struct vs_user u;
	struct vs_apppw *e;
	char *nip = NULL;
	int i, r;

	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = sti_get_typed(txn, KV_USERS, login, dec_user, &u, err)) !=
	    VS_OK)
		return r;
	if ((i = vs_user_find_apppw(&u, name)) < 0) {
		vs_user_clear(&u);
		return vs_fail(err, VS_ENOTFOUND, "app password %s of %s not "
		    "found", name, login);
	}
	if (ip != NULL && *ip != '\0' && (nip = vs_strndup(ip,
	    strnlen(ip, APPPW_IP_MAX))) == NULL) {
		vs_user_clear(&u);
		return vs_fail(err, VS_ENOMEM, "out of memory");
	}
	e = &u.apppws[i];
	e->last_used = when;
	free(e->last_ip);
	e->last_ip = nip;
	r = sti_put_typed(txn, KV_USERS, u.login, enc_user, &u, false, err);
	vs_user_clear(&u);
	return r;
}

int
store_user_set_password(struct store_txn *txn, const char *login,
    const char *password, size_t len, struct vs_err *err)
{
	struct pw_cost cost;
	struct vs_user u;
	char hash[PW_HASH_MAX];
	char *old;
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	cost.opslimit = txn->st->settings.pw_opslimit;
	cost.memlimit = (size_t)txn->st->settings.pw_memlimit;
	r = pw_hash(password, len, &cost, hash, err);
	/* A mail key wrapped under the old password cannot follow: locked
	 * (its escrow copy stays for 'mail-key recover'). */
	if (r == VS_OK && vs_user_mailkey_state(&u) == MK_PASSWORD) {
		free(u.mail_wrap);
		u.mail_wrap = NULL;
	}
	if (r == VS_OK) {
		old = u.pwhash;
		u.pwhash = hash;
		u.pw_changed = sti_now();
		r = store_user_update(txn, &u, err);
		u.pwhash = old;
	}
	sodium_memzero(hash, sizeof(hash));
	vs_user_clear(&u);
	return r;
}

int
store_user_del(struct store_txn *txn, const char *login, struct vs_err *err)
{
	struct vs_user u;
	size_t i;
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	for (i = 0; i < u.n_addresses && r == VS_OK; i++) {
		r = sti_del_typed(txn, KV_ADDRESSES, u.addresses[i], err);
		if (r == VS_ENOTFOUND)
			r = VS_OK;      /* already gone: nothing to undo */
	}
	if (r == VS_OK)
		r = sti_del_typed(txn, KV_USERS, u.login, err);
	vs_user_clear(&u);
	return r;
}

int
store_user_list(struct store_txn *txn, struct vs_user **list_r, size_t *n_r,
    struct vs_err *err)
{
	return sti_list_typed(txn, KV_USERS, dec_user, sizeof(**list_r),
	    clear_user, (void **)list_r, n_r, err);
}

void
store_user_list_free(struct vs_user *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vs_user_clear(&list[i]);
	free(list);
}

/* --- addresses --- */

int
store_address_add(struct store_txn *txn, const char *address,
    const char *login, struct vs_err *err)
{
	char addr[NAME_BUF];
	struct vs_user u;
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = name_address(address, sti_fold(txn), false, addr, err)) != VS_OK ||
	    (r = store_user_get(txn, login, &u, err)) != VS_OK)
		return r;
	if (u.n_addresses >= REC_LIST_MAX) {
		r = vs_fail(err, VS_ELIMIT, "user %s already has %d addresses, "
		    "the most one user can have", u.login, REC_LIST_MAX);
		vs_user_clear(&u);
		return r;
	}
	if ((r = address_free(txn, addr, err)) == VS_OK &&
	    (r = address_put(txn, addr, u.login, err)) == VS_OK) {
		if ((r = vs_user_add_address(&u, addr)) != VS_OK)
			r = vs_fail(err, r, "cannot add %s to user %s", addr,
			    u.login);
		else
			r = sti_put_typed(txn, KV_USERS, u.login, enc_user, &u,
			    false, err);
	}
	vs_user_clear(&u);
	return r;
}

int
store_address_del(struct store_txn *txn, const char *address,
    struct vs_err *err)
{
	struct vs_address a;
	struct vs_user u;
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = store_address_get(txn, address, &a, err)) != VS_OK)
		return r;
	r = sti_del_typed(txn, KV_ADDRESSES, a.address, err);
	if (r == VS_OK) {
		r = sti_get_typed(txn, KV_USERS, a.login, dec_user, &u, err);
		if (r == VS_OK) {
			if (vs_user_del_address(&u, a.address) == VS_OK)
				r = sti_put_typed(txn, KV_USERS, u.login,
				    enc_user, &u, false, err);
			vs_user_clear(&u);
		} else if (r == VS_ENOTFOUND) {
			r = VS_OK;      /* dangling address: now gone */
		}
	}
	vs_address_clear(&a);
	return r;
}

int
store_address_get(struct store_txn *txn, const char *address,
    struct vs_address *a_r, struct vs_err *err)
{
	char addr[NAME_BUF];
	int r;

	if ((r = name_address(address, sti_fold(txn), false, addr, err)) != VS_OK)
		return r;
	r = sti_get_typed(txn, KV_ADDRESSES, addr, dec_address, a_r, err);
	if (r == VS_ENOTFOUND)
		vs_fail(err, r, "address %s not found", addr);
	return r;
}

int
store_address_list(struct store_txn *txn, struct vs_address **list_r,
    size_t *n_r, struct vs_err *err)
{
	return sti_list_typed(txn, KV_ADDRESSES, dec_address, sizeof(**list_r),
	    clear_address, (void **)list_r, n_r, err);
}

void
store_address_list_free(struct vs_address *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vs_address_clear(&list[i]);
	free(list);
}

/* --- aliases --- */

int
store_alias_put(struct store_txn *txn, const char *address,
    const char *const *dests, size_t n_dests, bool replace,
    struct vs_err *err)
{
	char addr[NAME_BUF], dest[NAME_BUF];
	struct vs_alias a;
	struct vs_address ma;
	size_t i, j;
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = name_address(address, sti_fold(txn), true, addr, err)) != VS_OK)
		return r;
	if (n_dests == 0 || n_dests > REC_LIST_MAX)
		return vs_fail(err, VS_EINVAL, "an alias needs 1 to %d "
		    "destinations", REC_LIST_MAX);
	if ((r = domain_exists(txn, name_domain_of(addr), err)) != VS_OK)
		return r;
	r = sti_get_typed(txn, KV_ADDRESSES, addr, dec_address, &ma, err);
	if (r == VS_OK) {
		r = vs_fail(err, VS_EEXIST, "%s is a mailbox address of %s; "
		    "delete the address first", addr, ma.login);
		vs_address_clear(&ma);
		return r;
	}
	if (r != VS_ENOTFOUND)
		return r;
	memset(&a, 0, sizeof(a));
	a.address = addr;
	a.created = sti_now();
	a.dests = calloc(n_dests, sizeof(char *));
	if (a.dests == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	r = VS_OK;
	for (i = 0; i < n_dests && r == VS_OK; i++) {
		r = name_address(dests[i], sti_fold(txn), false, dest, err);
		for (j = 0; r == VS_OK && j < a.n_dests; j++)
			if (strcmp(a.dests[j], dest) == 0)
				r = vs_fail(err, VS_EINVAL,
				    "destination %s given twice", dest);
		if (r == VS_OK && strcmp(dest, addr) == 0)
			r = vs_fail(err, VS_EINVAL,
			    "alias %s points to itself", addr);
		if (r == VS_OK &&
		    (a.dests[a.n_dests] = vs_strdup(dest)) == NULL)
			r = vs_fail(err, VS_ENOMEM, "out of memory");
		if (r == VS_OK)
			a.n_dests++;
	}
	if (r == VS_OK) {
		r = sti_put_typed(txn, KV_ALIASES, addr, enc_alias, &a, !replace,
		    err);
		if (r == VS_EEXIST)
			r = vs_fail(err, r, "alias %s already exists", addr);
	}
	for (i = 0; i < a.n_dests; i++)
		free(a.dests[i]);
	free(a.dests);
	return r;
}

int
store_alias_del(struct store_txn *txn, const char *address,
    struct vs_err *err)
{
	char addr[NAME_BUF];
	int r;

	if ((r = sti_need_write(txn, err)) != VS_OK ||
	    (r = name_address(address, sti_fold(txn), true, addr, err)) != VS_OK)
		return r;
	r = sti_del_typed(txn, KV_ALIASES, addr, err);
	if (r == VS_ENOTFOUND)
		vs_fail(err, r, "alias %s not found", addr);
	return r;
}

int
store_alias_get(struct store_txn *txn, const char *address,
    struct vs_alias *a_r, struct vs_err *err)
{
	char addr[NAME_BUF];
	int r;

	if ((r = name_address(address, sti_fold(txn), true, addr, err)) != VS_OK)
		return r;
	r = sti_get_typed(txn, KV_ALIASES, addr, dec_alias, a_r, err);
	if (r == VS_ENOTFOUND)
		vs_fail(err, r, "alias %s not found", addr);
	return r;
}

/* --- the lookup path (store.h) --- */

int
store_name_address(struct store_txn *txn, const char *in,
    bool allow_catchall, char *out, struct vs_err *err)
{
	return name_address(in, sti_fold(txn), allow_catchall, out, err);
}

int
store_domain_find(struct store_txn *txn, const char *domain,
    struct vs_domain *d_r, struct vs_err *err)
{
	return sti_get_typed(txn, KV_DOMAINS, domain, dec_domain, d_r, err);
}

int
store_address_find(struct store_txn *txn, const char *address,
    struct vs_address *a_r, struct vs_err *err)
{
	return sti_get_typed(txn, KV_ADDRESSES, address, dec_address, a_r, err);
}

int
store_alias_find(struct store_txn *txn, const char *address,
    struct vs_alias *a_r, struct vs_err *err)
{
	return sti_get_typed(txn, KV_ALIASES, address, dec_alias, a_r, err);
}

int
store_alias_list(struct store_txn *txn, struct vs_alias **list_r,
    size_t *n_r, struct vs_err *err)
{
	return sti_list_typed(txn, KV_ALIASES, dec_alias, sizeof(**list_r),
	    clear_alias, (void **)list_r, n_r, err);
}

void
store_alias_list_free(struct vs_alias *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vs_alias_clear(&list[i]);
	free(list);
}
