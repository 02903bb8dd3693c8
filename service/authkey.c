/*
 * authkey.c - the mail private key at a login in "password" protection
 * (what and why: authkey.h), and the write a successful login may make:
 * the upgraded hash, with the key moved or re-wrapped under it.
 *
 * App passwords: each new one has an X25519 pair only it gives
 * (lib/apppw.h); the key is sealed to it whenever the PEM is at hand (a
 * move, a re-wrap, or a main-password login that finds one without a
 * copy), and its own login opens that copy - no Argon2id.
 *
 * Security: the PEM and the keys are copied only into memory wiped by
 * authkey_clear(); a wrap that does not open is logged as "locked"
 * without any key material; the save compares the stored hash with the
 * one verified in constant time and writes nothing if it changed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <sodium.h>

#include "authkey.h"
#include "mailkey.h"
#include "mailwrap.h"
#include "service.h"

int
authkey_take(struct authkey *k, const struct vs_user *u, int app)
{
	const struct vs_apppw *e;
	size_t i;

	memset(k, 0, sizeof(*k));
	k->state = vs_user_mailkey_state(u);
	if (k->state == MK_PASSWORD &&
	    (k->wrap = vs_strdup(u->mail_wrap)) == NULL)
		return VS_ENOMEM;
	if (k->state == MK_PENDING &&
	    (k->pem = vs_strdup(u->mail_priv)) == NULL)
		return VS_ENOMEM;
	for (i = 0; i < u->n_apppws; i++)
		k->apps_missing += u->apppws[i].has_mail_pk &&
		    u->apppws[i].mail_copy == NULL;
	if (k->state == MK_PASSWORD && app >= 0 && (size_t)app < u->n_apppws) {
		e = &u->apppws[app];
		k->app.has_mail_pk = e->has_mail_pk;
		memcpy(k->app.mail_pk, e->mail_pk, sizeof(e->mail_pk));
		if (e->mail_copy != NULL &&
		    (k->app.mail_copy = vs_strdup(e->mail_copy)) == NULL)
			return VS_ENOMEM;
	}
	return VS_OK;
}

int
authkey_field(struct auth_reply *rep, const char *name, const char *pem)
{
	char b64[MAILKEY_B64_MAX];
	int r;

	r = mailkey_b64(pem, b64, sizeof(b64), NULL);
	if (r == VS_OK)
		r = auth_reply_field(rep, name, b64);
	sodium_memzero(b64, sizeof(b64));
	return r;
}

void
authkey_app_reply(struct authkey *k, const char *login, const char *pw,
    size_t len, struct auth_reply *rep)
{
	char *pem = NULL;

	if (k->state != MK_PASSWORD || k->app.mail_copy == NULL)
		return;
	if (mailwrap_app_open(&k->app, login, pw, len, &pem, NULL) == VS_OK &&
	    authkey_field(rep, "mail_crypt_global_private_key", pem) != VS_OK) {
		sodium_memzero(rep, sizeof(*rep));
		rep->result = AUTH_TEMP;
		snprintf(rep->reason, sizeof(rep->reason), "user record holds "
		    "a value Dovecot cannot take");
	}
	vs_freestr(pem);
}

bool
authkey_open(struct authkey *k, const char *login)
{
	if (k->state != MK_PASSWORD || !k->have_key || k->pem != NULL)
		return k->pem != NULL;
	if (mailwrap_open(k->wrap, login, k->key, &k->pem, NULL) != VS_OK) {
		k->state = MK_LOCKED;
		return false;
	}
	return true;
}

bool
authkey_keyed(const struct authkey *k)
{
	return k->pem != NULL && (k->state == MK_PENDING ||
	    k->state == MK_PASSWORD);
}

void
authkey_clear(struct authkey *k)
{
	free(k->app.mail_copy);
	free(k->wrap);
	vs_freestr(k->pem);
	sodium_memzero(k, sizeof(*k));
}

int
authkey_apply(struct store_txn *txn, struct vs_user *u, const char *pem,
    const uint8_t key[PW_WRAPKEY_BYTES], struct vs_err *err)
{
	uint8_t pk[MAILWRAP_PK_BYTES];
	char *wrap = NULL, *esc = NULL;
	int r;

	if (u->mail_pub == NULL || !u->mail_pw)
		return vs_fail(err, VS_EINVAL, "user %s has no mail key in "
		    "password protection", u->login);
	if ((r = mailkey_check(u->mail_pub, pem, err)) != VS_OK)
		return r;
	r = mailwrap_seal(pem, u->login, key, &wrap, err);
	if (r == VS_OK && u->mail_escrow == NULL &&
	    (r = mailwrap_escrow_pk(txn, pk, err)) == VS_OK)
		r = mailwrap_escrow_seal(pem, u->login, pk, &esc, err);
	if (r != VS_OK) {
		free(wrap);
		return r;
	}
	free(u->mail_wrap);
	u->mail_wrap = wrap;
	if (esc != NULL) {
		free(u->mail_escrow);
		u->mail_escrow = esc;
	}
	vs_freestr(u->mail_priv);
	u->mail_priv = NULL;
	{
		size_t made;

		return mailwrap_app_copies(u, pem, &made, err);
	}
}

void
authkey_lock(struct vs_user *u)
{
	if (u->mail_pw && u->mail_priv == NULL) {
		free(u->mail_wrap);
		u->mail_wrap = NULL;
	}
}

struct upgrade_ctx {
	const char *login, *old, *newhash, *pem;
	const uint8_t *newkey;
	enum vs_mailkey_state was;      /* out */
	bool saved;                     /* out */
};

/* One attempt (store_write() runs it again after a conflict). */
static int
upgrade_fn(struct store_txn *txn, void *vctx, struct vs_err *err)
{
	struct upgrade_ctx *c = vctx;
	size_t n = strlen(c->old);
	struct vs_user u;
	char *prev;
	int r;

	c->saved = false;
	c->was = MK_NONE;
	if ((r = store_user_get(txn, c->login, &u, err)) != VS_OK)
		return r;
	c->was = vs_user_mailkey_state(&u);
	if (u.pwhash != NULL && strlen(u.pwhash) == n &&
	    sodium_memcmp(u.pwhash, c->old, n) == 0) {
		if (c->pem != NULL && c->newkey != NULL)
			r = authkey_apply(txn, &u, c->pem, c->newkey, err);
		else
			authkey_lock(&u);       /* did not open */
		prev = u.pwhash;
		u.pwhash = (char *)c->newhash;
		u.pw_changed = (int64_t)time(NULL);
		if (r == VS_OK)
			r = store_user_update(txn, &u, err);
		u.pwhash = prev;
		c->saved = r == VS_OK;
	}
	vs_user_clear(&u);
	return r;
}

void
authkey_save_upgrade(struct svc *s, const char *login, const char *old,
    const char *newhash, const char *pem, const uint8_t *newkey)
{
	struct upgrade_ctx c = { login, old, newhash, pem, newkey, MK_NONE,
	    false };
	enum pw_scheme from = pw_identify(old);
	char who[SVC_LOG_NAME_BUF];
	struct vs_err err;
	int r;

	vs_err_clear(&err);
	r = store_write(s->st, upgrade_fn, &c, &err);
	svc_auth_log_name(s, login, true, who);  /* we hold the key lock */
	if (r != VS_OK) {
		svc_log(LOG_ERR, "auth: cannot save the upgraded hash of %s: "
		    "%s", who, err.msg);
		return;
	}
	if (c.saved && from != PW_ARGON2ID && from != PW_VMSEAL_ARGON2ID)
		svc_log(LOG_NOTICE, "auth: password hash of %s upgraded from "
		    "%s to %s", who, pw_scheme_name(from), pem != NULL ?
		    "vmseal-argon2id" : "argon2id");
	if (c.saved && pem != NULL && c.was == MK_PENDING)
		svc_log(LOG_NOTICE, "auth: mail key of %s moved to password "
		    "protection", who);
}

struct copies_ctx {
	const char *login, *pem;
	size_t made;                    /* out */
};

static int
copies_fn(struct store_txn *txn, void *vctx, struct vs_err *err)
{
	struct copies_ctx *c = vctx;
	struct vs_user u;
	int r;

	c->made = 0;
	if ((r = store_user_get(txn, c->login, &u, err)) != VS_OK)
		return r;
	if (vs_user_mailkey_state(&u) == MK_PASSWORD &&
	    (r = mailkey_check(u.mail_pub, c->pem, err)) == VS_OK &&
	    (r = mailwrap_app_copies(&u, c->pem, &c->made, err)) == VS_OK &&
	    c->made > 0)
		r = store_user_update(txn, &u, err);
	vs_user_clear(&u);
	return r;
}

void
authkey_save_copies(struct svc *s, const char *login, const char *pem)
{
	struct copies_ctx c = { login, pem, 0 };
	char who[SVC_LOG_NAME_BUF];
	struct vs_err err;
	int r;

	vs_err_clear(&err);
	r = store_write(s->st, copies_fn, &c, &err);
	svc_auth_log_name(s, login, true, who);  /* we hold the key lock */
	if (r != VS_OK)
		svc_log(LOG_WARNING, "auth: cannot seal the mail key to the app "
		    "passwords of %s: %s", who, err.msg);
	else if (c.made > 0)
		svc_log(LOG_NOTICE, "auth: mail key of %s sealed to %zu app "
		    "password(s)", who, c.made);
}
