/*
 * auth.c - vmsealed's auth socket: Dovecot's password checks and userdb
 * lookups (protocol: lib/authproto.h).
 *
 * Lookups are answered in the event loop (a read and a decryption).
 * Password checks run on a bounded pool of hash workers (hash_workers
 * threads, default the number of cores; hash_queue waiting jobs): Argon2id
 * takes tens of MiB and tens of milliseconds each, so the pool bounds
 * memory and keeps socketmap and policy lookups from ever waiting behind a
 * hash.  A full queue answers "temp" at once (overload is "later", never
 * "no").
 *
 * Timing: every check costs at least one Argon2id at the store's cost,
 * whoever asks.  An unknown user (or one without a password, or with a
 * hash over the caps) is checked against a dummy Argon2id hash at the
 * store's cost; a user whose hash is anything else - DES, md5-crypt,
 * SHA-crypt, bcrypt, the {SCHEME} digests, Argon2 at another cost, a
 * malformed hash - is checked against their own hash AND then against the
 * dummy (unless the success re-hashes the password at the store's cost,
 * which is the same work), disabled users included.  So an unknown user,
 * a wrong password, a legacy hash and a disabled account cannot be told
 * apart by the time of a "no" (a legacy hash costlier than the store's
 * Argon2id - bcrypt at cost 12 - still takes longer: its own cost is
 * added, never hidden).  A disabled user is told "disabled" only after
 * the right password.
 *
 * Throttle key: before a check is reserved in the throttle (guard.c), the
 * login is resolved the way the check resolves it - svc_auth_throttle_key:
 * a lookup, never a hash - to the canonical login (or, unknown, to its
 * normalized form), so "ALICE@Example.COM." and alice's other address
 * count against "alice".  The worker hashes only if the user it finds is
 * still the one the reservation was made for (else "temp").
 *
 * Names in log lines: with log_names = hashed, every auth log line names
 * the login as "h:" and 16 hex digits, a keyed BLAKE2b of the throttle
 * key under the store's log subkey with its own context
 * ("vmseal-log-name-v1"): stable while the store's key is the same, not
 * reversible without it; computed under the key lock when needed, no
 * copy of a key kept.  "vmseal throttle list" shows both forms.
 *
 * Several hosts on one PostgreSQL store: after its lookup and before any
 * hash, the worker reserves the check in the throttle the hosts share
 * (guard.c: a round trip per key, never in the main thread), answers
 * "fail throttled" or "temp" without a hash when refused, and settles
 * the reservation once answered.  On LMDB nothing changes.
 *
 * Legacy hashes: a successful check of a hash that is not Argon2id at the
 * store's cost re-hashes the password and saves it in the same request.
 *
 * Locking: a worker holds the key lock (for reading) only to copy what the
 * check needs and, after the hash, to answer and save an upgrade - never
 * while it hashes, so "vmseal seal", SIGTERM and every lookup go on
 * whatever the workers do; a worker that finds the key gone (or another
 * one) when it is done answers "temp".  A stored hash over the cost caps
 * (lib/pwhash.h) is never hashed: the login fails and the log says the
 * password needs a reset.
 *
 * Mail keys (Dovecot's mail_crypt, lib/mailkey.h): a user's public key is
 * in every "ok" reply (field mail_crypt_global_public_key, base64 of the
 * PEM, as Dovecot 2.3's userdb field takes it, with
 * mail_crypt_save_version=2 so that the configuration can keep 0, read
 * only, for users without keys); the private key
 * (mail_crypt_global_private_key) only in the "ok" of a verified password
 * - never in a lookup's, so LMTP delivery and "doveadm user" can encrypt
 * but not read.
 *
 * Security: passwords are wiped from every buffer as soon as they are
 * checked; log lines name the user (or its keyed hash), the service and
 * the result, never the password, a stored hash or a mail key.  A reply
 * that may hold a private key is wiped (sodium_memzero) whenever it is
 * replaced, and with its job when sent.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "authkey.h"
#include "authproto.h"
#include "mailkey.h"
#include "names.h"
#include "seal.h"
#include "service.h"

struct auth_job {
	struct auth_request req;
	struct auth_reply reply;
	void *conn;                     /* the event loop's connection */
	/* svc_auth_run(): the caller waits for the job (sync), and a
	 * password change (chg, the caller's: it outlives the job) */
	const struct passwd_change *chg;
	bool sync, finished;
	/* what the shared throttle reserved (guard.c), settled after */
	struct guard_shared shared;
	struct auth_job *next;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t sync_cv;         /* a sync job finished */
	struct auth_job *todo, *todo_tail, *done;
	unsigned queued, workers;
	pthread_t *threads;
	bool stop;
	int efd;
	char dummy[PW_HASH_MAX];        /* for unknown users */
	bool have_dummy;
	/* Bumped at every unseal (under keylock, write): a worker that hashed
	 * across a seal and an unseal sees another key and answers temp. */
	uint64_t gen;
} pool = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
    .sync_cv = PTHREAD_COND_INITIALIZER, .efd = -1 };

/* --- looking a user up --- */

static int
find_user(struct svc *s, struct store_txn *txn, const char *name,
    struct vs_user *u, struct vs_err *err)
{
	struct vs_address a;
	int r;

	r = store_user_get(txn, name, u, err);
	if (r != VS_ENOTFOUND || strchr(name, '@') == NULL ||
	    !s->conf.login_by_address)
		return r;
	/* Login by one of the user's addresses. */
	r = store_address_get(txn, name, &a, err);
	if (r != VS_OK)
		return r == VS_EINVAL ? VS_ENOTFOUND : r;
	r = store_user_get(txn, a.login, u, err);
	vs_address_clear(&a);
	return r;
}

/* Take the key lock for reading and look the user up.  The caller
 * unlocks, whatever the result.  VS_ESEALED when sealed. */
static int
lock_and_find(struct svc *s, const char *name, struct vs_user *u,
    struct vs_err *err)
{
	struct store_txn *txn = NULL;
	int r;

	pthread_rwlock_rdlock(&s->keylock);
	if (store_is_sealed(s->st))
		return VS_ESEALED;
	r = store_txn_begin(s->st, false, &txn, err);
	if (r == VS_OK) {
		r = find_user(s, txn, name, u, err);
		store_txn_abort(&txn);
	}
	return r;
}

/* --- the throttle key of a login, and names in log lines --- */

/* The normalized form of a name that is no user (the name as given if it
 * is not even a valid name: it can never be one). */
static void
norm_key(const char *login, bool fold, char key[NAME_BUF])
{
	if (name_login(login, fold, key, NULL) != VS_OK)
		snprintf(key, NAME_BUF, "%s", login);
}

int
svc_auth_key_txn(struct svc *s, struct store_txn *txn, const char *login,
    char *key, bool *exists_r)
{
	struct vs_user u;
	int r;

	*exists_r = false;
	r = find_user(s, txn, login, &u, NULL);
	if (r == VS_OK) {
		snprintf(key, NAME_BUF, "%s", u.login);
		*exists_r = true;
		vs_user_clear(&u);
		return VS_OK;
	}
	norm_key(login, store_settings(s->st)->fold_local, key);
	return r == VS_ENOTFOUND || r == VS_EINVAL ? VS_OK : r;
}

int
svc_auth_throttle_key(struct svc *s, const char *login, char *key,
    bool *exists_r)
{
	struct store_txn *txn = NULL;
	int r;

	*exists_r = false;
	pthread_rwlock_rdlock(&s->keylock);
	if (store_is_sealed(s->st)) {
		pthread_rwlock_unlock(&s->keylock);
		norm_key(login, true, key);
		return VS_ESEALED;
	}
	r = store_txn_begin(s->st, false, &txn, NULL);
	if (r == VS_OK) {
		r = svc_auth_key_txn(s, txn, login, key, exists_r);
		store_txn_abort(&txn);
	} else {
		norm_key(login, store_settings(s->st)->fold_local, key);
	}
	pthread_rwlock_unlock(&s->keylock);
	return r;
}

#define LOG_NAME_HASH_BYTES 8
_Static_assert(SVC_LOG_NAME_BUF >= NAME_QUOTE_BUF, "log name buffer");
_Static_assert(SVC_LOG_NAME_BUF > 2 + 2 * LOG_NAME_HASH_BYTES, "log name");
static const char log_name_ctx[] = "vmseal-log-name-v1";

void
svc_auth_log_name(struct svc *s, const char *name, bool locked, char *out)
{
	uint8_t msg[sizeof(log_name_ctx) + NAME_BUF], mac[SEAL_INDEX_BYTES];
	size_t n = strlen(name), i;

	if (strcmp(s->conf.log_names, "hashed") != 0) {
		name_quote(name, n, out);
		return;
	}
	snprintf(out, SVC_LOG_NAME_BUF, "h:-");
	if (n >= NAME_BUF)
		return;
	if (!locked)
		pthread_rwlock_rdlock(&s->keylock);
	if (!store_is_sealed(s->st)) {
		/* context, its NUL, the name: a MAC no other use of the log
		 * subkey (the audit chain: "vmseal-audit-v1" ...) computes */
		memcpy(msg, log_name_ctx, sizeof(log_name_ctx));
		memcpy(msg + sizeof(log_name_ctx), name, n);
		seal_log_mac(store_keys(s->st), msg, sizeof(log_name_ctx) + n,
		    mac);
		memcpy(out, "h:", 2);
		for (i = 0; i < LOG_NAME_HASH_BYTES; i++)
			snprintf(out + 2 + 2 * i, 3, "%02x", mac[i]);
		sodium_memzero(msg, sizeof(msg));
		sodium_memzero(mac, sizeof(mac));
	}
	if (!locked)
		pthread_rwlock_unlock(&s->keylock);
}

bool
svc_auth_user_exists(struct svc *s, const char *login)
{
	struct vs_user u;
	int r;

	r = lock_and_find(s, login, &u, NULL);
	pthread_rwlock_unlock(&s->keylock);
	if (r == VS_OK)
		vs_user_clear(&u);
	return r == VS_OK;
}

/* The "ok" reply for u; with_private (a verified password only) adds the
 * mail private key. */
static int
fill_ok(struct auth_reply *rep, const struct vs_user *u, bool with_private)
{
	char num[16];
	int r = VS_OK;

	rep->result = AUTH_OK;
	snprintf(rep->user, sizeof(rep->user), "%s", u->login);
	if (r == VS_OK && u->home)
		r = auth_reply_field(rep, "home", u->home);
	if (r == VS_OK && u->has_uid) {
		snprintf(num, sizeof(num), "%u", u->uid);
		r = auth_reply_field(rep, "uid", num);
	}
	if (r == VS_OK && u->has_gid) {
		snprintf(num, sizeof(num), "%u", u->gid);
		r = auth_reply_field(rep, "gid", num);
	}
	if (r == VS_OK && u->mail)
		r = auth_reply_field(rep, "mail", u->mail);
	if (r == VS_OK && u->quota)
		r = auth_reply_field(rep, "quota_rule", u->quota);
	/* A user with keys has mail written encrypted (format 2), whatever
	 * the configuration's default - 0, read only, is the one to set so
	 * that users without keys still get mail. */
	if (r == VS_OK && u->mail_pub != NULL)
		r = auth_reply_field(rep, "mail_crypt_save_version", "2");
	if (r == VS_OK && u->mail_pub != NULL)
		r = authkey_field(rep, "mail_crypt_global_public_key", u->mail_pub);
	if (r == VS_OK && with_private && u->mail_priv != NULL)
		r = authkey_field(rep, "mail_crypt_global_private_key",
		    u->mail_priv);
	return r;
}

static void
temp(struct auth_reply *rep, const char *reason)
{
	sodium_memzero(rep, sizeof(*rep));      /* may hold a private key */
	rep->result = AUTH_TEMP;
	snprintf(rep->reason, sizeof(rep->reason), "%s", reason);
}

void
svc_auth_lookup(struct svc *s, const struct auth_request *req,
    struct auth_reply *rep)
{
	struct vs_user u;
	struct vs_err err;
	int r;

	memset(rep, 0, sizeof(*rep));
	vs_err_clear(&err);
	r = lock_and_find(s, req->login, &u, &err);
	pthread_rwlock_unlock(&s->keylock);
	if (r == VS_ESEALED) {
		temp(rep, "vmseal is sealed");
	} else if (r == VS_OK) {
		if (fill_ok(rep, &u, false) != VS_OK)
			temp(rep, "user record holds a value Dovecot cannot "
			    "take");
		vs_user_clear(&u);
	} else if (r == VS_ENOTFOUND || r == VS_EINVAL) {
		rep->result = AUTH_NOUSER;
	} else {
		svc_log(LOG_ERR, "auth lookup failed: %s", err.msg);
		temp(rep, "vmseal store error");
	}
}

/*
 * What a worker takes from the store before it lets go of the key lock:
 * a copy of the stored hash (or of the dummy), the user's state and the
 * fields of a successful answer.  The hash is wiped after use.
 */
struct snap {
	char hash[PW_HASH_MAX];         /* stored hash or the dummy: wiped */
	char dummy[PW_HASH_MAX];        /* the dummy, for the padding */
	bool found;                     /* the login (or address) is a user */
	bool has_pw;                    /* and has a password hash we check */
	bool too_costly;                /* ... over the caps: the dummy's */
	char why[VS_ERR_MSG_MAX];       /* why too costly (no hash in it) */
	bool enabled;
	bool fill_ok;                   /* the ok reply could be filled */
	char login[NAME_BUF];           /* canonical */
	char logname[SVC_LOG_NAME_BUF]; /* for a log line (log_names) */
	struct pw_cost cost;            /* the store's Argon2id cost */
	uint64_t gen;                   /* pool.gen when taken */
	/* App passwords (lib/apppw.h): the one the password is (app >= 0:
	 * its index, checked under the lock - a keyed hash per entry, no
	 * Argon2id) and what its answer needs; apppw_only: mail clients
	 * must use one. */
	int app;
	char app_name[APPPW_NAME_MAX + 1];
	uint32_t app_services;
	int64_t app_expires, app_used;
	char app_ip[APPPW_IP_MAX + 1];
	bool apppw_only;
	struct authkey ak;              /* the mail key, password protection */
};

/* Look the user up under the key lock (for reading) and copy what the
 * check needs into *sn, the ok reply into *okrep; the lock is released on
 * return.  VS_OK (found or not: sn->found), VS_ESEALED, or a store error. */
static int
take_snap(struct svc *s, const struct auth_request *req, struct snap *sn,
    struct auth_reply *okrep, struct vs_err *err)
{
	const char *name = req->login;
	struct vs_user u;
	const char *h;
	int r;

	memset(sn, 0, sizeof(*sn));
	sn->app = -1;
	r = lock_and_find(s, name, &u, err);
	if (r == VS_ESEALED ||
	    (r != VS_OK && r != VS_ENOTFOUND && r != VS_EINVAL)) {
		pthread_rwlock_unlock(&s->keylock);
		return r;
	}
	sn->found = r == VS_OK;
	sn->has_pw = sn->found && u.pwhash != NULL &&
	    strlen(u.pwhash) < sizeof(sn->hash);
	sn->cost.opslimit = store_settings(s->st)->pw_opslimit;
	sn->cost.memlimit = (size_t)store_settings(s->st)->pw_memlimit;
	/* Over the caps (parsing only, nothing computed): the dummy is
	 * checked instead, so the answer takes as long as a wrong password
	 * and tells nothing more. */
	if (sn->has_pw && pw_check_cost(u.pwhash, &sn->cost, err) ==
	    VS_ELIMIT) {
		sn->has_pw = false;
		sn->too_costly = true;
		snprintf(sn->why, sizeof(sn->why), "%s", err->msg);
	}
	h = sn->has_pw ? u.pwhash : pool.dummy;
	memcpy(sn->hash, h, strlen(h) + 1);
	memcpy(sn->dummy, pool.dummy, sizeof(sn->dummy));
	sn->gen = pool.gen;
	if (sn->found) {
		sn->enabled = u.enabled;
		sn->apppw_only = u.apppw_only;
		sn->app = apppw_match(u.apppws, u.n_apppws, req->password,
		    req->password_len);
		if (sn->app >= 0) {
			const struct vs_apppw *e = &u.apppws[sn->app];

			snprintf(sn->app_name, sizeof(sn->app_name), "%s",
			    e->name);
			sn->app_services = e->services;
			sn->app_expires = e->expires;
			sn->app_used = e->last_used;
			snprintf(sn->app_ip, sizeof(sn->app_ip), "%s",
			    e->last_ip ? e->last_ip : "");
		}
		snprintf(sn->login, sizeof(sn->login), "%s", u.login);
		/* The mail private key only for mail: never in the answer
		 * to a web login or a password change (apppw.h). */
		sn->fill_ok = authkey_take(&sn->ak, &u, sn->app) == VS_OK &&
		    fill_ok(okrep, &u, !apppw_main_allowed(req->service)) ==
		    VS_OK;
		if (sn->too_costly)
			svc_auth_log_name(s, u.login, true, sn->logname);
	}
	pthread_rwlock_unlock(&s->keylock);
	if (sn->found)
		vs_user_clear(&u);
	return VS_OK;
}

static void
snap_wipe(struct snap *sn)
{
	authkey_clear(&sn->ak);
	sodium_memzero(sn, sizeof(*sn));
}

/* Take the key lock again after a hash: true, lock held, if the key made
 * at the snapshot is still the one in memory; else false, lock released
 * (sealed meanwhile, or sealed and unsealed again). */
static bool
relock(struct svc *s, const struct snap *sn)
{
	pthread_rwlock_rdlock(&s->keylock);
	if (!store_is_sealed(s->st) && pool.gen == sn->gen)
		return true;
	pthread_rwlock_unlock(&s->keylock);
	return false;
}

/* Note an app password's use (time and client address), at most once a
 * minute per app password, whatever the address: a login does not cost a
 * disk sync, and a client that changes address at every login cannot
 * turn logins into writes.  Under the key lock; failures are logged, the
 * login stands. */
struct use_ctx {
	const char *login, *name, *ip;
	int64_t now;
};

static int
use_fn(struct store_txn *txn, void *vctx, struct vs_err *err)
{
	const struct use_ctx *c = vctx;

	return store_user_apppw_used(txn, c->login, c->name, c->now, c->ip,
	    err);
}

static void
save_use(struct svc *s, const struct snap *sn, const char *ip, int64_t now)
{
	struct use_ctx c = { sn->login, sn->app_name, ip, now };
	struct vs_err err;
	int r;

	if (now - sn->app_used < 60)
		return;
	vs_err_clear(&err);
	r = store_write(s->st, use_fn, &c, &err);
	if (r != VS_OK && r != VS_ENOTFOUND)
		svc_log(LOG_WARNING, "auth: cannot note the use of an app "
		    "password: %s", err.msg);
}

/* The answer to an app password (sn->app >= 0): no Argon2id, ever.  Good
 * only for its services, until it expires, for an enabled user; never for
 * a password change (chg).  The caller returns "no hash computed". */
static void
answer_app(struct svc *s, const struct auth_request *req,
    struct auth_reply *rep, struct snap *sn, bool chg)
{
	int64_t now = (int64_t)time(NULL);
	const char *why = NULL;

	if (!sn->enabled) {
		sodium_memzero(rep, sizeof(*rep));
		rep->result = AUTH_DISABLED;
	} else if (chg || !(apppw_service_bit(req->service) &
	    sn->app_services)) {
		why = "app password not valid for this service";
	} else if (sn->app_expires != 0 && now >= sn->app_expires) {
		why = "app password expired";
	} else if (!sn->fill_ok) {
		temp(rep, "user record holds a value Dovecot cannot take");
	}
	if (why != NULL) {
		sodium_memzero(rep, sizeof(*rep));
		rep->result = AUTH_FAIL;
		snprintf(rep->reason, sizeof(rep->reason), "%s", why);
	}
	snprintf(rep->app, sizeof(rep->app), "%s", sn->app_name);
	/* password protection: the app password's own copy of the key */
	if (rep->result == AUTH_OK)
		authkey_app_reply(&sn->ak, sn->login, req->password,
		    req->password_len, rep);
	if (!relock(s, sn)) {
		temp(rep, "vmseal is sealed");
	} else {
		if (rep->result == AUTH_OK)
			save_use(s, sn, req->remote_ip, now);
		pthread_rwlock_unlock(&s->keylock);
	}
	snap_wipe(sn);
}

/*
 * One password check.  The key lock is held only to read the user (and,
 * after the hash, to save an upgrade): never while hashing, so a seal, a
 * SIGTERM and every lookup go on whatever the workers are doing.  A hash
 * over the cost caps (lib/pwhash.h) is never computed: the login fails
 * and the log says the password needs a reset.  Returns true if a hash
 * was computed.
 */
static bool
verify(struct svc *s, struct auth_job *j)
{
	struct auth_request *req = &j->req;
	struct auth_reply *rep = &j->reply;
	char newhash[PW_HASH_MAX];
	struct vs_err err;
	struct snap sn;
	bool upgrade = false, change = false, hashed, pad;
	int r, ok;

	memset(rep, 0, sizeof(*rep));
	vs_err_clear(&err);
	r = take_snap(s, req, &sn, rep, &err);
	if (r == VS_ESEALED) {
		temp(rep, "vmseal is sealed");
		return false;
	}
	if (r != VS_OK) {
		svc_log(LOG_ERR, "auth: lookup failed: %s", err.msg);
		temp(rep, "vmseal store error");
		return false;
	}
	newhash[0] = '\0';
	if (sn.found && strcmp(sn.login, req->throttle_key) != 0) {
		/* The throttle reserved another key than the user found now
		 * (the store was sealed, or the name changed owner, between
		 * the reservation and now): no hash for a key that was not
		 * reserved. */
		snap_wipe(&sn);
		temp(rep, "the user changed during the check, try again");
		return false;
	}
	/* The hosts of a PostgreSQL store count together: the check is
	 * reserved in the database (guard.c) before any hash - an app
	 * password's keyed hash included -, or answered without one. */
	if (!svc_guard_shared_reserve(s, req, sn.found, &j->shared, rep)) {
		snap_wipe(&sn);
		return false;
	}
	if (sn.too_costly) {
		/* Never hashed: it could hold this worker for hours. */
		__atomic_add_fetch(&s->stats.auth_too_costly, 1,
		    __ATOMIC_RELAXED);
		svc_log(LOG_WARNING, "auth: %s: login refused without "
		    "checking the password: the stored hash needs a reset "
		    "(%s)", sn.logname, sn.why);
	}
	if (sn.app >= 0) {
		answer_app(s, req, rep, &sn, j->chg != NULL);
		return false;
	}

	/* No lock from here to relock(). */
	ok = pw_verify_key(sn.hash, req->password, req->password_len,
	    &sn.cost, sn.ak.key, &sn.ak.have_key, &err);
	/* A malformed hash (VS_EINVAL) was refused before any work. */
	hashed = ok >= 0 || ok == VS_ENOMEM;
	if (ok < 0 && ok != VS_EINVAL) {
		/* Out of memory for Argon2id: later, not "no". */
		snap_wipe(&sn);
		temp(rep, "vmseal is overloaded");
		return hashed;
	}
	/* Not one Argon2id at the store's cost (legacy, another cost,
	 * malformed): the dummy's is added below, whatever the answer. */
	pad = pw_needs_upgrade(sn.hash, &sn.cost);
	/* Password protection: the key the same Argon2id gave opens the
	 * mail private key (no second hash); a pending one is moved. */
	if (sn.found && sn.has_pw && ok == 1 && sn.enabled)
		(void)authkey_open(&sn.ak, sn.login);
	if (!sn.found || !sn.has_pw || ok != 1) {
		sodium_memzero(rep, sizeof(*rep));
		rep->result = sn.found ? AUTH_FAIL : AUTH_NOUSER;
	} else if (!sn.enabled) {
		sodium_memzero(rep, sizeof(*rep));
		rep->result = AUTH_DISABLED;
	} else if (j->chg != NULL) {
		/* A password change: the new hash, also without the lock
		 * (it is the padding of a legacy hash too); the answer says
		 * only "ok" - no userdb fields, no mail key.  A key in
		 * password protection is wrapped under the new one. */
		sodium_memzero(rep, sizeof(*rep));
		change = (authkey_keyed(&sn.ak) ? pw_hash_key(j->chg->new_pw,
		    j->chg->new_len, &sn.cost, newhash, sn.ak.newkey, NULL) :
		    pw_hash(j->chg->new_pw, j->chg->new_len, &sn.cost,
		    newhash, NULL)) == VS_OK;
		if (!change)
			temp(rep, "vmseal is overloaded");
		pad = false;
	} else if (sn.apppw_only && !apppw_main_allowed(req->service)) {
		/* Right or wrong, the main password is not for mail
		 * clients: the same "no" (after the same hash). */
		sodium_memzero(rep, sizeof(*rep));
		rep->result = AUTH_FAIL;
		snprintf(rep->reason, sizeof(rep->reason), "this account "
		    "takes app passwords only");
	} else if (!sn.fill_ok) {
		temp(rep, "user record holds a value Dovecot cannot take");
	} else if (pad || (sn.ak.state == MK_PENDING && sn.ak.pem)) {
		/* The new hash, also without the lock: it is the padding
		 * (a pending mail key's move costs this one extra hash,
		 * once). */
		upgrade = (authkey_keyed(&sn.ak) ? pw_hash_key(req->password,
		    req->password_len, &sn.cost, newhash, sn.ak.newkey,
		    NULL) : pw_hash(req->password, req->password_len,
		    &sn.cost, newhash, NULL)) == VS_OK;
		pad = pad && !upgrade;
	}
	if (rep->result == AUTH_OK && j->chg == NULL &&
	    sn.ak.state == MK_PASSWORD && sn.ak.pem != NULL &&
	    !apppw_main_allowed(req->service) &&
	    authkey_field(rep, "mail_crypt_global_private_key", sn.ak.pem) !=
	    VS_OK)
		temp(rep, "user record holds a value Dovecot cannot take");
	if (pad) {
		/* The same cost as everyone's "no": one Argon2id at the
		 * store's cost, its answer unused. */
		(void)pw_verify_capped(sn.dummy, req->password,
		    req->password_len, &sn.cost, NULL);
		hashed = true;
	}

	if (!relock(s, &sn)) {
		/* The key went while we hashed: it is not ours to answer. */
		temp(rep, "vmseal is sealed");
	} else {
		const char *pem = authkey_keyed(&sn.ak) ? sn.ak.pem : NULL;

		if (upgrade)
			authkey_save_upgrade(s, sn.login, sn.hash, newhash,
			    pem, sn.ak.newkey);
		else if (rep->result == AUTH_OK && !change && pem != NULL &&
		    sn.ak.apps_missing > 0)
			authkey_save_copies(s, sn.login, pem);
		if (change && svc_passwd_save(s, sn.login, sn.hash, newhash,
		    pem, sn.ak.newkey, j->chg, &err) != VS_OK) {
			svc_log(LOG_ERR, "passwd: the new password of %s "
			    "was not saved: %s", sn.logname[0] ? sn.logname :
			    "a user", err.msg);
			temp(rep, "the new password could not be saved");
		} else if (change) {
			rep->result = AUTH_OK;
			snprintf(rep->user, sizeof(rep->user), "%s", sn.login);
		}
		pthread_rwlock_unlock(&s->keylock);
	}
	sodium_memzero(newhash, sizeof(newhash));
	snap_wipe(&sn);
	return hashed;
}

static void *
worker_main(void *arg)
{
	struct svc *s = arg;
	struct auth_job *j;
	uint64_t one = 1;

	for (;;) {
		pthread_mutex_lock(&pool.mu);
		while (pool.todo == NULL && !pool.stop)
			pthread_cond_wait(&pool.cv, &pool.mu);
		if (pool.stop) {
			/* Nobody will check what is queued: a waiting
			 * caller (svc_auth_run) gets "later" (and frees
			 * its job), the others are dropped. */
			j = pool.todo;
			pool.todo = pool.todo_tail = NULL;
			pool.queued = 0;
			while (j != NULL) {
				struct auth_job *next = j->next;

				if (j->sync) {
					temp(&j->reply, "vmsealed is stopping");
					j->finished = true;
				} else {
					sodium_memzero(j, sizeof(*j));
					free(j);
				}
				j = next;
			}
			pthread_cond_broadcast(&pool.sync_cv);
			pthread_mutex_unlock(&pool.mu);
			return NULL;
		}
		j = pool.todo;
		pool.todo = j->next;
		if (pool.todo == NULL)
			pool.todo_tail = NULL;
		pool.queued--;
		pthread_mutex_unlock(&pool.mu);

		if (verify(s, j))
			__atomic_add_fetch(&s->stats.auth_hashes, 1,
			    __ATOMIC_RELAXED);
		/* In the worker: the main thread never waits for the
		 * database. */
		svc_guard_shared_settle(s, &j->req, &j->shared, &j->reply);
		auth_request_wipe(&j->req);

		pthread_mutex_lock(&pool.mu);
		if (j->sync) {          /* its caller waits: svc_auth_run */
			j->finished = true;
			pthread_cond_broadcast(&pool.sync_cv);
			pthread_mutex_unlock(&pool.mu);
			continue;
		}
		j->next = pool.done;
		pool.done = j;
		pthread_mutex_unlock(&pool.mu);
		if (write(pool.efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			svc_log(LOG_ERR, "auth: eventfd: %s", strerror(errno));
	}
}

int
svc_auth_start(struct svc *s)
{
	long n = s->conf.hash_workers ? (long)s->conf.hash_workers :
	    sysconf(_SC_NPROCESSORS_ONLN);
	unsigned i;

	if (n < 1)
		n = 1;
	pool.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool.efd < 0)
		return VS_EIO;
	pool.threads = calloc((size_t)n, sizeof(pthread_t));
	if (pool.threads == NULL)
		return VS_ENOMEM;
	for (i = 0; i < (unsigned)n; i++) {
		if (pthread_create(&pool.threads[i], NULL, worker_main, s) != 0)
			return VS_ENOMEM;
		pool.workers++;
	}
	return VS_OK;
}

int
svc_auth_eventfd(void)
{
	return pool.efd;
}

/* Called after every unseal: a dummy hash at the store's cost. */
void
svc_auth_unsealed(struct svc *s)
{
	struct pw_cost cost;
	uint8_t junk[16];
	bool r;

	cost.opslimit = store_settings(s->st)->pw_opslimit;
	cost.memlimit = (size_t)store_settings(s->st)->pw_memlimit;
	randombytes_buf(junk, sizeof(junk));
	/* Under keylock (write): no worker reads the dummy meanwhile. */
	r = pw_hash((const char *)junk, sizeof(junk), &cost, pool.dummy,
	    NULL) == VS_OK;
	sodium_memzero(junk, sizeof(junk));
	pool.gen++;
	pthread_mutex_lock(&pool.mu);
	pool.have_dummy = r;
	pthread_mutex_unlock(&pool.mu);
}

/* Queue a new job for req; VS_ESEALED, VS_ELIMIT (queue full), VS_ENOMEM.
 * A sync job is queued with pool.mu still held (*j_r set), for its
 * caller to wait on. */
static int
job_queue(struct svc *s, void *conn, const struct auth_request *req,
    const struct passwd_change *chg, struct auth_job **j_r)
{
	struct auth_job *j;

	pthread_mutex_lock(&pool.mu);
	if (!pool.have_dummy) {         /* never unsealed yet */
		pthread_mutex_unlock(&pool.mu);
		return VS_ESEALED;
	}
	if (pool.queued >= s->conf.hash_queue) {
		pthread_mutex_unlock(&pool.mu);
		return VS_ELIMIT;
	}
	pthread_mutex_unlock(&pool.mu);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return VS_ENOMEM;
	memcpy(&j->req, req, sizeof(*req));
	j->req.login = j->req.login_buf;
	j->req.service = j->req.service_buf;
	j->req.remote_ip = j->req.remote_buf;
	j->req.local_ip = j->req.local_buf;
	j->req.password = j->req.password_buf;
	j->conn = conn;
	j->chg = chg;
	j->sync = j_r != NULL;
	pthread_mutex_lock(&pool.mu);
	if (pool.todo_tail)
		pool.todo_tail->next = j;
	else
		pool.todo = j;
	pool.todo_tail = j;
	pool.queued++;
	pthread_cond_signal(&pool.cv);
	if (j_r != NULL)
		*j_r = j;
	else
		pthread_mutex_unlock(&pool.mu);
	return VS_OK;
}

int
svc_auth_submit(struct svc *s, void *conn, const struct auth_request *req)
{
	return job_queue(s, conn, req, NULL, NULL);
}

int
svc_auth_run(struct svc *s, const struct auth_request *req,
    const struct passwd_change *chg, struct auth_reply *rep)
{
	struct auth_job *j;
	int r;

	if ((r = job_queue(s, NULL, req, chg, &j)) != VS_OK)
		return r;
	while (!j->finished)            /* pool.mu held since job_queue */
		pthread_cond_wait(&pool.sync_cv, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
	memcpy(rep, &j->reply, sizeof(*rep));
	sodium_memzero(j, sizeof(*j));
	free(j);
	return VS_OK;
}

/* Take the finished jobs: fn(conn, reply) for each. */
void
svc_auth_collect(void (*fn)(void *conn, const struct auth_request *req,
    const struct auth_reply *rep))
{
	struct auth_job *j, *next;
	uint64_t n;

	if (read(pool.efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&pool.mu);
	j = pool.done;
	pool.done = NULL;
	pthread_mutex_unlock(&pool.mu);
	for (; j != NULL; j = next) {
		next = j->next;
		fn(j->conn, &j->req, &j->reply);
		sodium_memzero(j, sizeof(*j));
		free(j);
	}
}
