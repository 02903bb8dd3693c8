/*
 * passwd.c - a user's own password change (self-service), for the front
 * ends that speak the webmail protocols (poppassd, Roundcube's httpapi).
 *
 * One change, in this order (svc_passwd_change, blocking, called from a
 * front end's own thread - never the event loop):
 *   1. the request's lengths (login, passwords) are capped, and nothing
 *      happens while sealed ("later");
 *   2. the new password against the policy (admin/pwpolicy.h): cheap,
 *      before anything is reserved or hashed;
 *   3. the throttle's reservation, as for a login (service/guard.c: the
 *      client's address and the canonical login), with service "passwd":
 *      a change is a login attempt, and its failures count like one -
 *      except that a front end reached from loopback or a Unix socket
 *      (a webmail on this host, the address of every user's change) is
 *      throttled per login only: per address, one user's typos would
 *      block every user's change;
 *   4. a hash worker (auth.c, svc_auth_run) checks the current password -
 *      the MAIN password only: an app password is refused at once, like a
 *      wrong one - and, when it is right, hashes the new one (so both
 *      Argon2ids run on the bounded pool, never here);
 *   5. the worker, holding the key lock, saves it (svc_passwd_save) only
 *      if the stored hash is still the one it checked, with an audit entry
 *      "user-passwd" made by the user, in the same transaction; the mail
 *      keys stay (store protection: sealed under the root key, untouched
 *      by a password change; password protection: re-wrapped under the
 *      new password's key, from the same Argon2id that hashed it).
 * The reservation is settled with the worker's answer (a wrong current
 * password is a failure; the right one clears the login's count).
 *
 * Security: passwords are copied only into the request's own buffers,
 * wiped before return; the messages given back are fixed sentences (no
 * password, no hash); log lines name the user as every auth line does
 * (log_names) and the front end (via).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <sodium.h>

#include "audit.h"
#include "authkey.h"
#include "authproto.h"
#include "pwpolicy.h"
#include "service.h"

static enum passwd_result
say(enum passwd_result r, char *msg, size_t size, const char *text)
{
	if (size > 0)
		snprintf(msg, size, "%s", text);
	return r;
}

/* The request a change is checked as: a login for service "passwd". */
static bool
make_request(const struct passwd_change *c, struct auth_request *req)
{
	size_t n = c->login ? strlen(c->login) : 0;

	memset(req, 0, sizeof(*req));
	if (n == 0 || n >= sizeof(req->login_buf) ||
	    c->old_len > PW_PASSWORD_MAX ||
	    memchr(c->old_pw, '\0', c->old_len) != NULL ||
	    (c->remote_ip && strlen(c->remote_ip) >= sizeof(req->remote_buf)))
		return false;
	req->op = AUTH_VERIFY;
	memcpy(req->login_buf, c->login, n);
	snprintf(req->service_buf, sizeof(req->service_buf), "passwd");
	snprintf(req->remote_buf, sizeof(req->remote_buf), "%s",
	    c->remote_ip ? c->remote_ip : "");
	memcpy(req->password_buf, c->old_pw, c->old_len);
	req->login = req->login_buf;
	req->service = req->service_buf;
	req->remote_ip = req->remote_buf;
	req->local_ip = req->local_buf;
	req->password = req->password_buf;
	req->password_len = c->old_len;
	req->secured = true;
	return true;
}

static bool
sealed(struct svc *s)
{
	bool r;

	pthread_rwlock_rdlock(&s->keylock);
	r = store_is_sealed(s->st);
	pthread_rwlock_unlock(&s->keylock);
	return r;
}

enum passwd_result
svc_passwd_change(struct svc *s, const struct passwd_change *c, char *msg,
    size_t msgsize)
{
	struct auth_request req;
	struct auth_reply rep;
	enum guard_verdict v;
	enum passwd_result res;
	char reason[256], who[SVC_LOG_NAME_BUF];
	const char *via = c->via ? c->via : "self-service";
	int r;

	if (c->new_len == 0 || c->new_len > PW_PASSWORD_MAX ||
	    memchr(c->new_pw, '\0', c->new_len) != NULL)
		return say(PASSWD_POLICY, msg, msgsize, c->new_len == 0 ?
		    "the new password is empty" :
		    "the new password is too long or holds a NUL byte");
	if (!make_request(c, &req))
		return say(PASSWD_FAIL, msg, msgsize, "malformed request");
	if (sealed(s)) {
		auth_request_wipe(&req);
		return say(PASSWD_TEMP, msg, msgsize, "temporary failure "
		    "(vmseal is sealed), try again later");
	}
	reason[0] = '\0';
	r = pwpolicy_check(&s->conf, c->login, c->new_pw, c->new_len,
	    c->old_pw, c->old_len, reason, sizeof(reason));
	if (r == VS_EINVAL) {
		auth_request_wipe(&req);
		snprintf(msg, msgsize, "the new password is refused: %s",
		    reason[0] ? reason : "it does not meet the policy");
		return PASSWD_POLICY;
	}
	if (r != VS_OK) {
		/* The policy could not be checked (its configuration, the
		 * dictionary): the operator's to fix, the user's "later". */
		svc_log(LOG_ERR, "passwd: cannot check the password policy: "
		    "%s", reason);
		auth_request_wipe(&req);
		return say(PASSWD_TEMP, msg, msgsize, "temporary failure, try "
		    "again later");
	}
	v = svc_guard_check(s, &req);
	if (v == GUARD_THROTTLED) {
		__atomic_add_fetch(&s->stats.auth_throttled, 1,
		    __ATOMIC_RELAXED);
		auth_request_wipe(&req);
		return say(PASSWD_THROTTLED, msg, msgsize, "too many failed "
		    "attempts, try again later");
	}
	if (v == GUARD_BUSY) {
		auth_request_wipe(&req);
		return say(PASSWD_TEMP, msg, msgsize, "temporary failure, try "
		    "again later");
	}
	memset(&rep, 0, sizeof(rep));
	r = svc_auth_run(s, &req, c, &rep);
	if (r != VS_OK) {
		rep.result = AUTH_TEMP;
		snprintf(rep.reason, sizeof(rep.reason), "%s",
		    r == VS_ESEALED ? "vmseal is sealed" :
		    "vmseal is overloaded");
	}
	svc_guard_result(s, &req, &rep);
	switch (rep.result) {
	case AUTH_OK:
		svc_auth_log_name(s, rep.user, false, who);
		svc_log(LOG_NOTICE, "passwd: %s changed the password via %s "
		    "rip=%s", who, via, req.remote_ip[0] ? req.remote_ip : "-");
		res = say(PASSWD_OK, msg, msgsize, "password changed");
		break;
	case AUTH_DISABLED:
		res = say(PASSWD_DISABLED, msg, msgsize, "the account is "
		    "disabled");
		break;
	case AUTH_TEMP:
		res = say(PASSWD_TEMP, msg, msgsize, "temporary failure, try "
		    "again later");
		break;
	case AUTH_FAIL:
		/* refused by the throttle the hosts of a PostgreSQL store
		 * share (the worker, guard.c): no check was made */
		if (strcmp(rep.reason, "throttled") == 0) {
			res = say(PASSWD_THROTTLED, msg, msgsize, "too many "
			    "failed attempts, try again later");
			break;
		}
		/* FALLTHROUGH */
	default:
		res = say(PASSWD_FAIL, msg, msgsize, "the current password is "
		    "wrong");
	}
	auth_request_wipe(&req);
	sodium_memzero(&rep, sizeof(rep));
	return res;
}

struct save_ctx {
	const char *login, *oldhash, *newhash, *pem;
	const uint8_t *newkey;
	const struct passwd_change *c;
	uint32_t uid;
};

/* One attempt (store_write() runs it again after a conflict with another
 * host; not after its own VS_EBUSY below). */
static int
save_fn(struct store_txn *txn, void *vctx, struct vs_err *err)
{
	const struct save_ctx *x = vctx;
	const struct passwd_change *c = x->c;
	char detail[AUDIT_DETAIL_MAX], *prev;
	size_t n = strlen(x->oldhash);
	struct vs_user u;
	int r;

	if ((r = store_user_get(txn, x->login, &u, err)) != VS_OK)
		return r;
	if (u.pwhash == NULL || strlen(u.pwhash) != n ||
	    sodium_memcmp(u.pwhash, x->oldhash, n) != 0) {
		/* Changed (or removed) since the check: the operator's
		 * "user passwd" or another change wins. */
		vs_user_clear(&u);
		return vs_fail(err, VS_EBUSY, "the password changed during "
		    "the request, try again");
	}
	/* Password protection: the key wrapped under the new password's
	 * key (or, pending, moved); without the key, locked. */
	if (x->pem != NULL && x->newkey != NULL)
		r = authkey_apply(txn, &u, x->pem, x->newkey, err);
	else
		authkey_lock(&u);
	prev = u.pwhash;
	u.pwhash = (char *)x->newhash;
	u.pw_changed = (int64_t)time(NULL);
	if (r == VS_OK)
		r = store_user_update(txn, &u, err);
	u.pwhash = prev;
	vs_user_clear(&u);
	snprintf(detail, sizeof(detail), "%s by the user via %s from %s",
	    x->login, c->via ? c->via : "self-service",
	    c->remote_ip && *c->remote_ip ? c->remote_ip : "a local socket");
	audit_sanitize(detail);
	if (r == VS_OK)
		r = audit_append(txn, x->uid, "user-passwd", detail, err);
	return r;
}

int
svc_passwd_save(struct svc *s, const char *login, const char *oldhash,
    const char *newhash, const char *pem, const uint8_t *newkey,
    const struct passwd_change *c, struct vs_err *err)
{
	struct save_ctx x = { login, oldhash, newhash, pem, newkey, c,
	    (uint32_t)s->run_uid };
	int r;

	r = store_write(s->st, save_fn, &x, err);
	if (r == VS_OK)
		svc_log_head(s);
	return r;
}
