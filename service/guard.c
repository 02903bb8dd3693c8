/*
 * guard.c - vmsealed's failed-login throttle, event log and log lines.
 *
 * Before a password check is queued, the client's address (IPv4 /32, IPv6
 * /64) and the login name are looked up in two throttles (lib/throttle.h):
 * by default 3 failures in 120 s per address, 10 in 600 s per login name.
 * A blocked attempt is refused at once - no hash is spent - as a plain
 * authentication failure with the reason "throttled", and counts as one
 * more hit, so an attacker that keeps trying stays blocked.  An attempt
 * that is not blocked reserves a slot on both keys in the same step, under
 * the same lock, and only while failures in the window plus checks in
 * flight stay under the limit: a burst of attempts sent together gets at
 * most as many hashes as failures are left (the others are answered
 * "temp", counted nowhere: they told the client nothing).  The worker's
 * answer settles the slot: a failure counts, a success or a temporary
 * failure gives it back.  Addresses on throttle_allow are never
 * throttled.
 *
 * The two limits balance each other: the per-address limit stops one
 * source cold; the per-login limit, higher and over a longer window,
 * slows a guess at one account spread over many addresses.  A login name
 * blocked by others does not lock its owner out for good: it unblocks
 * after its window, and a success from anywhere clears it.
 *
 * The login's key is its canonical login, resolved as the password check
 * resolves it (svc_auth_throttle_key: normalization, then login or
 * address; an unknown name keys on its normalized form), before the
 * reservation and without a hash: "ALICE@example.com", "alice@EXAMPLE.COM."
 * and alice's other address are all "alice".  The key travels with the
 * request (req->throttle_key) to the settling, so the reservation is
 * settled - and a success clears - on the key it was made on; the rebuild
 * at unseal resolves each event's name the same way.
 *
 * Several hosts on one PostgreSQL store count together.  The tables
 * above stay this host's, checked first in the main thread with no
 * database round trip; an attempt they let through is reserved once
 * more, by the hash worker before any hash (svc_guard_shared_reserve,
 * called from auth.c), in the table vmseal_throttle that every host's
 * vmsealed shares (lib/kv_pg_throttle.c: one row per key, named by a
 * keyed hash - store_throttle_key - so the database never holds an
 * address or a login; one atomic INSERT ... ON CONFLICT per key, the
 * database's clock): the same rules, limits and windows, counted across
 * the hosts.  Blocked there (the other hosts' failures): refused as
 * "throttled" with no hash, recorded here, and the key blocked in this
 * host's table, so that the next attempts are refused locally with no
 * round trip; busy there (checks in flight on other hosts): "temp";
 * the database cannot be asked (down, the answer deadline): "temp" -
 * never a hash the hosts did not agree to, never a "no".  The worker
 * settles the reservation once answered (svc_guard_shared_settle: a
 * failure counts, and may block the key here too; a success gives back
 * and clears the login; temp gives back), so that a whole attack spread
 * over the hosts gets `throttle_limit` hashes per window in all.  A
 * reservation whose host died before settling expires after a minute.
 * "vmseal throttle clear" deletes the key's shared row too; "throttle
 * list" shows this host's table.  On LMDB (one host) nothing of this
 * runs.
 *
 * Every failure and every throttled attempt is an event (lib/events.h),
 * queued here and written to the store by a writer thread once a second
 * (one transaction per batch, so an attack does not cost one disk sync per
 * attempt; on a PostgreSQL store shared by several hosts, run again after
 * a conflict with another writer - store_write - and the events of every
 * host land in one log: an event's key is the log's next number, read in
 * the SERIALIZABLE transaction, so two hosts appending at once conflict
 * instead of colliding), and a log line (facility mail) that fail2ban
 * can match:
 *   auth failed: rip=ADDR user=NAME service=SERVICE reason=REASON
 * REASON is bad-password, unknown-user, disabled or throttled.  NAME is
 * the name as tried (log_names = plain), or with log_names = hashed
 * "h:" and a keyed hash of its throttle key (svc_auth_log_name: never the
 * name; the address stays, for fail2ban); "vmseal throttle list" shows
 * both forms, and "vmseal throttle clear h:..." takes the hash.
 *
 * State survives a restart: at every unseal the throttles are rebuilt from
 * the events of the last window.  Memory stays bounded whatever an
 * attacker sends: the throttles have max entries each, the event queue
 * QUEUE_MAX (the oldest are dropped and counted when the store cannot take
 * them, e.g. while sealed), the store keeps the newest events_keep events.
 *
 * Locking: the throttles are used by the main thread (auth requests) and
 * the admin threads (throttle list/clear): one mutex.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "authproto.h"
#include "events.h"
#include "names.h"
#include "service.h"
#include "throttle.h"

#define QUEUE_MAX 10000

static struct {
	pthread_mutex_t mu;
	struct throttle *by_addr, *by_login;
	struct throttle_allow *allow;
	/* event queue: a ring of QUEUE_MAX; ids[] number the events so the
	 * writer drops exactly those it wrote, even if the ring overflowed
	 * while it was writing */
	pthread_mutex_t qmu;
	pthread_cond_t qcv;
	struct vs_event *queue;
	uint64_t *ids;
	size_t head, n;
	uint64_t next_id;
	unsigned long dropped;
	pthread_t writer;
	bool rebuild;
} g = { .mu = PTHREAD_MUTEX_INITIALIZER, .qmu = PTHREAD_MUTEX_INITIALIZER,
    .qcv = PTHREAD_COND_INITIALIZER };

static void
enqueue(const struct vs_event *e)
{
	size_t slot;

	pthread_mutex_lock(&g.qmu);
	if (g.n == QUEUE_MAX) {         /* full: the oldest goes */
		g.head = (g.head + 1) % QUEUE_MAX;
		g.n--;
		g.dropped++;
	}
	slot = (g.head + g.n) % QUEUE_MAX;
	g.queue[slot] = *e;
	g.ids[slot] = ++g.next_id;
	g.n++;
	pthread_mutex_unlock(&g.qmu);
}

/* One batch of events in a write transaction (store_write: run again
 * after a conflict with another writer on a shared PostgreSQL store). */
struct batch_write {
	const struct vs_event *ev;
	size_t n;
	size_t keep;
};

static int
write_batch(struct store_txn *txn, void *ctx, struct vs_err *err)
{
	const struct batch_write *b = ctx;

	return events_append(txn, b->ev, b->n, b->keep, err);
}

static void *
writer_main(void *arg)
{
	struct svc *s = arg;
	struct batch_write bw;
	struct vs_event *batch;
	struct vs_err err;
	uint64_t last_id;
	unsigned long dropped, reported = 0;
	size_t n, i;
	int r;

	batch = calloc(QUEUE_MAX, sizeof(*batch));
	if (batch == NULL)
		return NULL;
	for (;;) {
		sleep(1);
		pthread_mutex_lock(&g.qmu);
		n = g.n;
		for (i = 0; i < n; i++)
			batch[i] = g.queue[(g.head + i) % QUEUE_MAX];
		last_id = n ? g.ids[(g.head + n - 1) % QUEUE_MAX] : 0;
		dropped = g.dropped;
		pthread_mutex_unlock(&g.qmu);
		if (dropped != reported) {
			svc_log(LOG_WARNING, "%lu login event(s) dropped: more "
			    "than %d a second (the throttle itself is not "
			    "affected)", dropped - reported, QUEUE_MAX);
			reported = dropped;
		}
		if (n == 0)
			continue;
		vs_err_clear(&err);
		pthread_rwlock_rdlock(&s->keylock);
		if (store_is_sealed(s->st)) {
			pthread_rwlock_unlock(&s->keylock);
			continue;       /* kept (bounded) until unsealed */
		}
		bw.ev = batch;
		bw.n = n;
		bw.keep = s->conf.events_keep;
		r = store_write(s->st, write_batch, &bw, &err);
		pthread_rwlock_unlock(&s->keylock);
		if (r != VS_OK) {
			svc_log(LOG_ERR, "cannot record %zu login events: %s",
			    n, err.msg);
			continue;
		}
		/* Drop what was written; newer events may have come. */
		pthread_mutex_lock(&g.qmu);
		while (g.n > 0 && g.ids[g.head] <= last_id) {
			g.head = (g.head + 1) % QUEUE_MAX;
			g.n--;
		}
		pthread_mutex_unlock(&g.qmu);
	}
}

int
svc_guard_init(struct svc *s, struct vs_err *err)
{
	size_t max = s->conf.throttle_max_entries ?
	    s->conf.throttle_max_entries : 100000;
	struct throttle_params pa = { s->conf.throttle_limit,
	    s->conf.throttle_window, max };
	struct throttle_params pl = { s->conf.throttle_login_limit,
	    s->conf.throttle_login_window, max };
	int r;

	/* A limit or window of 0 turns that throttle off (the table stays
	 * NULL: the throttle functions treat NULL as "never blocked"). */
	if (pa.limit > 0 && pa.window > 0 &&
	    (r = throttle_new(&pa, &g.by_addr, err)) != VS_OK)
		return r;
	if (pl.limit > 0 && pl.window > 0 &&
	    (r = throttle_new(&pl, &g.by_login, err)) != VS_OK)
		return r;
	if (s->conf.throttle_allow[0] != '\0' &&
	    (r = throttle_allow_parse(s->conf.throttle_allow, &g.allow,
	    err)) != VS_OK)
		return r;
	if ((g.queue = calloc(QUEUE_MAX, sizeof(*g.queue))) == NULL ||
	    (g.ids = calloc(QUEUE_MAX, sizeof(*g.ids))) == NULL)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	if (pthread_create(&g.writer, NULL, writer_main, s) != 0)
		return vs_fail(err, VS_ENOMEM, "cannot start the event writer");
	return VS_OK;
}

/*
 * Does the client's address count in the per-address throttle?  Not for
 * a self-service password change (service "passwd", service/passwd.c)
 * that came from loopback or a Unix socket: that is a webmail on this
 * host, the address of every user's change, and three typos of one user
 * would block every user's change.  Those are throttled per login only
 * (the address still named in events and log lines).
 */
static bool
addr_counts(const char *service, const char *ip)
{
	if (strcmp(service, "passwd") != 0)
		return true;
	return !(ip[0] == '\0' || strncmp(ip, "127.", 4) == 0 ||
	    strcmp(ip, "::1") == 0);
}

static void
fill_event(struct vs_event *e, const struct auth_request *req,
    enum event_kind kind, bool exists)
{
	memset(e, 0, sizeof(*e));
	e->time = (int64_t)time(NULL);
	e->kind = kind;
	e->exists = exists;
	snprintf(e->ip, sizeof(e->ip), "%s", req->remote_ip);
	snprintf(e->login, sizeof(e->login), "%s", req->login);
	snprintf(e->service, sizeof(e->service), "%s", req->service);
}

static void
log_failure(struct svc *s, const struct auth_request *req,
    enum event_kind kind, const char *app)
{
	char user[SVC_LOG_NAME_BUF], ip[NAME_QUOTE_BUF], svc[NAME_QUOTE_BUF];
	char a[APPPW_NAME_MAX + 8];

	/* plain: the name as tried; hashed: its key's hash (the same for
	 * every spelling of one user) */
	svc_auth_log_name(s, strcmp(s->conf.log_names, "hashed") == 0 ?
	    req->throttle_key : req->login, false, user);
	name_quote(req->remote_ip, strlen(req->remote_ip), ip);
	name_quote(req->service, strlen(req->service), svc);
	/* The app password (a name checked by apppw_name_check: no space)
	 * goes before service=, where fail2ban's "user=.*" takes it. */
	snprintf(a, sizeof(a), "%s%s", app[0] ? " app=" : "", app);
	svc_log(LOG_NOTICE, "auth failed: rip=%s user=%s%s service=%s "
	    "reason=%s", ip[0] ? ip : "-", user, a, svc[0] ? svc : "-",
	    event_kind_name(kind));
}

/* The verdict of two tables: blocked by either, else busy by either. */
static enum guard_verdict
verdict(enum throttle_verdict a, enum throttle_verdict b)
{
	if (a == THROTTLE_BLOCKED || b == THROTTLE_BLOCKED)
		return GUARD_THROTTLED;
	if (a == THROTTLE_BUSY || b == THROTTLE_BUSY)
		return GUARD_BUSY;
	return GUARD_PASS;
}

enum guard_verdict
svc_guard_check(struct svc *s, struct auth_request *req)
{
	char key[THROTTLE_KEY_MAX + 1];
	const char *lkey = req->throttle_key;
	int64_t now = (int64_t)time(NULL);
	enum throttle_verdict va = THROTTLE_PASS, vl;
	enum guard_verdict v;
	struct vs_event e;
	bool have_addr, exists;

	/* The login's key first - a lookup under the key lock, taken and
	 * released before ours (the order of every path: keylock, then
	 * g.mu).  Sealed or a store error: the normalized name; the worker
	 * then answers temp (the key is gone, or not the user's). */
	(void)svc_auth_throttle_key(s, req->login, req->throttle_key,
	    &exists);
	if (g.allow != NULL && throttle_allowed(g.allow, req->remote_ip))
		return GUARD_PASS;
	have_addr = addr_counts(req->service, req->remote_ip) &&
	    throttle_addr_key(req->remote_ip, key);
	/* One step under one lock: blocked?  room for one more check in
	 * flight?  reserve it - on both tables, or on neither.  A refusal
	 * while blocked is a hit on each blocked table. */
	pthread_mutex_lock(&g.mu);
	if (have_addr)
		va = throttle_reserve(g.by_addr, key, now);
	if (va == THROTTLE_BLOCKED)
		/* Refused anyway: a hit on the name only if it is blocked
		 * too, and no entry made for a name never seen. */
		vl = throttle_check(g.by_login, lkey, now) ?
		    THROTTLE_BLOCKED : THROTTLE_BUSY;
	else
		vl = throttle_reserve(g.by_login, lkey, now);
	v = verdict(va, vl);
	if (v != GUARD_PASS) {
		if (have_addr && va == THROTTLE_PASS)
			throttle_settle(g.by_addr, key, now, false);
		if (vl == THROTTLE_PASS)
			throttle_settle(g.by_login, lkey, now, false);
	}
	pthread_mutex_unlock(&g.mu);
	if (v == GUARD_BUSY)    /* the main thread, or a self-service one */
		__atomic_add_fetch(&s->stats.auth_busy, 1, __ATOMIC_RELAXED);
	if (v == GUARD_THROTTLED) {
		/* Whether the name exists is part of the report: known from
		 * the key's lookup, never a hash. */
		fill_event(&e, req, EVENT_THROTTLED, exists);
		enqueue(&e);
		log_failure(s, req, EVENT_THROTTLED, "");
	}
	return v;
}

void
svc_guard_result(struct svc *s, const struct auth_request *req,
    const struct auth_reply *rep)
{
	char key[THROTTLE_KEY_MAX + 1];
	int64_t now = (int64_t)time(NULL);
	enum event_kind kind = EVENT_BAD_PASSWORD;
	struct vs_event e;
	bool allowed, failed = true;

	if (rep->result == AUTH_FAIL && strcmp(rep->reason, "throttled") == 0)
		/* Refused by the shared throttle, before any hash
		 * (svc_guard_shared_reserve: counted and recorded there,
		 * the key blocked): the slot goes back, nothing more. */
		failed = false;
	else if (rep->result == AUTH_FAIL)
		kind = EVENT_BAD_PASSWORD;
	else if (rep->result == AUTH_NOUSER)
		kind = EVENT_UNKNOWN_USER;
	else if (rep->result == AUTH_DISABLED)
		kind = EVENT_DISABLED;
	else
		failed = false; /* ok; or temporary: not the client's fault,
				 * and the answer told nothing */
	allowed = g.allow != NULL && throttle_allowed(g.allow, req->remote_ip);
	pthread_mutex_lock(&g.mu);
	/* Settle what svc_guard_check() reserved: a failure becomes a hit
	 * on both keys, anything else gives the slots back. */
	if (!allowed && addr_counts(req->service, req->remote_ip) &&
	    throttle_addr_key(req->remote_ip, key))
		throttle_settle(g.by_addr, key, now, failed);
	/* On the key svc_guard_check() reserved (req->throttle_key); the
	 * success's canonical login (rep->user) is the same key. */
	if (!allowed)
		throttle_settle(g.by_login, req->throttle_key, now, failed);
	if (rep->result == AUTH_OK)
		throttle_clear(g.by_login, req->throttle_key);
	pthread_mutex_unlock(&g.mu);
	if (!failed)
		return;
	fill_event(&e, req, kind, kind != EVENT_UNKNOWN_USER);
	snprintf(e.app, sizeof(e.app), "%s", rep->app);
	enqueue(&e);
	log_failure(s, req, kind, rep->app);
}

/* --- the throttle shared by the hosts of a PostgreSQL store --- */

/* The shared keys of a request, as svc_guard_check() reserved locally:
 * [0] the address's key (akey), [1] the login's; NULL where that table
 * is off or the address does not count.  false: none (allowed). */
static bool
shared_keys(struct svc *s, const struct auth_request *req,
    char akey[THROTTLE_KEY_MAX + 1], const char *keys[2])
{
	keys[0] = keys[1] = NULL;
	if (g.allow != NULL && throttle_allowed(g.allow, req->remote_ip))
		return false;
	if (g.by_addr != NULL && addr_counts(req->service, req->remote_ip) &&
	    throttle_addr_key(req->remote_ip, akey))
		keys[0] = akey;
	if (g.by_login != NULL)
		keys[1] = req->throttle_key;
	(void)s;
	return keys[0] != NULL || keys[1] != NULL;
}

static void
shared_limits(const struct svc *s, unsigned lim[2], unsigned win[2])
{
	lim[0] = s->conf.throttle_limit;
	win[0] = s->conf.throttle_window;
	lim[1] = s->conf.throttle_login_limit;
	win[1] = s->conf.throttle_login_window;
}

/* Give back what gs holds (no failure counted).  keylock held. */
static void
shared_give_back(struct svc *s, struct guard_shared *gs,
    const unsigned lim[2], const unsigned win[2])
{
	struct vs_err err;
	int i;

	for (i = 0; i < 2; i++) {
		if (!gs->held[i])
			continue;
		vs_err_clear(&err);
		if (store_throttle_settle(s->st, gs->k[i], gs->token[i],
		    lim[i], win[i], false, false, NULL, &err) != VS_OK)
			svc_log(LOG_WARNING, "shared throttle: a reserved "
			    "check could not be given back (it expires "
			    "within a minute): %s", err.msg);
		gs->held[i] = false;
	}
}

bool
svc_guard_shared_reserve(struct svc *s, const struct auth_request *req,
    bool exists, struct guard_shared *gs, struct auth_reply *rep)
{
	char akey[THROTTLE_KEY_MAX + 1];
	const char *keys[2];
	unsigned lim[2], win[2];
	enum store_throttle_verdict v = STORE_THROTTLE_PASS;
	struct vs_event e;
	struct vs_err err;
	int i, r = VS_OK, refused = -1;
	int64_t now;

	memset(gs, 0, sizeof(*gs));
	if (!store_throttle_shared(s->st) || !shared_keys(s, req, akey, keys))
		return true;
	shared_limits(s, lim, win);
	vs_err_clear(&err);
	/* The key lock for the keyed hashes, and kept for the statements:
	 * the handle is closed only under the write lock (at exit). */
	pthread_rwlock_rdlock(&s->keylock);
	if (store_is_sealed(s->st)) {
		pthread_rwlock_unlock(&s->keylock);
		sodium_memzero(rep, sizeof(*rep));
		rep->result = AUTH_TEMP;
		snprintf(rep->reason, sizeof(rep->reason), "vmseal is sealed");
		return false;
	}
	for (i = 0; i < 2 && r == VS_OK; i++)
		if (keys[i] != NULL)
			r = store_throttle_key(s->st, i == 0 ?
			    STORE_THROTTLE_ADDR : STORE_THROTTLE_LOGIN, keys[i],
			    gs->k[i], &err);
	/* The address first, then the login (every host in this order:
	 * no two statements wait for each other's rows); both or none. */
	for (i = 0; i < 2 && r == VS_OK && refused < 0; i++) {
		if (keys[i] == NULL)
			continue;
		r = store_throttle_reserve(s->st, gs->k[i], lim[i], win[i], &v,
		    gs->token[i], &err);
		if (r == VS_OK && v == STORE_THROTTLE_PASS)
			gs->held[i] = true;
		else if (r == VS_OK)
			refused = i;
	}
	if (r != VS_OK || refused >= 0)
		shared_give_back(s, gs, lim, win);
	pthread_rwlock_unlock(&s->keylock);

	if (r == VS_OK && refused < 0)
		return true;    /* rep untouched: it holds the ok reply */
	sodium_memzero(rep, sizeof(*rep));      /* may hold the ok reply */
	if (r != VS_OK) {
		/* Never a hash the hosts did not agree to, never a "no":
		 * later. */
		svc_log(LOG_ERR, "shared throttle: %s", err.msg);
		rep->result = AUTH_TEMP;
		snprintf(rep->reason, sizeof(rep->reason), "vmseal store error");
		sodium_memzero(gs, sizeof(*gs));
		return false;
	}
	sodium_memzero(gs, sizeof(*gs));
	if (v == STORE_THROTTLE_BUSY) {
		__atomic_add_fetch(&s->stats.auth_busy, 1, __ATOMIC_RELAXED);
		rep->result = AUTH_TEMP;
		snprintf(rep->reason, sizeof(rep->reason), "too many password "
		    "checks in progress");
		return false;
	}
	/* Blocked across the hosts: refused here too from now on, with no
	 * round trip (svc_guard_check refuses it locally). */
	now = (int64_t)time(NULL);
	pthread_mutex_lock(&g.mu);
	throttle_block(refused == 0 ? g.by_addr : g.by_login, keys[refused],
	    now);
	pthread_mutex_unlock(&g.mu);
	__atomic_add_fetch(&s->stats.auth_throttled, 1, __ATOMIC_RELAXED);
	fill_event(&e, req, EVENT_THROTTLED, exists);
	enqueue(&e);
	log_failure(s, req, EVENT_THROTTLED, "");
	rep->result = AUTH_FAIL;
	snprintf(rep->reason, sizeof(rep->reason), "throttled");
	return false;
}

void
svc_guard_shared_settle(struct svc *s, const struct auth_request *req,
    struct guard_shared *gs, const struct auth_reply *rep)
{
	char akey[THROTTLE_KEY_MAX + 1];
	const char *keys[2];
	unsigned lim[2], win[2];
	struct vs_err err;
	bool failed, blocked[2] = { false, false };
	int i;

	if (!gs->held[0] && !gs->held[1])
		return;
	failed = rep->result == AUTH_FAIL || rep->result == AUTH_NOUSER ||
	    rep->result == AUTH_DISABLED;
	shared_limits(s, lim, win);
	/* The statements need no key, only the handle: kept open while
	 * sealed, closed at exit under the write lock. */
	pthread_rwlock_rdlock(&s->keylock);
	for (i = 0; i < 2; i++) {
		if (!gs->held[i])
			continue;
		vs_err_clear(&err);
		/* A success clears the login, never the address. */
		if (store_throttle_settle(s->st, gs->k[i], gs->token[i],
		    lim[i], win[i], failed, i == 1 && rep->result == AUTH_OK,
		    &blocked[i], &err) != VS_OK)
			svc_log(LOG_WARNING, "shared throttle: the answer to "
			    "a check could not be counted (its reservation "
			    "expires within a minute): %s", err.msg);
	}
	pthread_rwlock_unlock(&s->keylock);
	if ((blocked[0] || blocked[1]) && shared_keys(s, req, akey, keys)) {
		/* This failure with the other hosts' blocked a key: the
		 * next attempts here are refused with no round trip (the
		 * main thread then counts this failure on top). */
		pthread_mutex_lock(&g.mu);
		if (blocked[0] && keys[0] != NULL)
			throttle_block(g.by_addr, keys[0], (int64_t)time(NULL));
		if (blocked[1] && keys[1] != NULL)
			throttle_block(g.by_login, keys[1],
			    (int64_t)time(NULL));
		pthread_mutex_unlock(&g.mu);
	}
	sodium_memzero(gs, sizeof(*gs));
}

bool
svc_guard_ip_blocked(struct svc *s, const char *ip)
{
	char key[THROTTLE_KEY_MAX + 1];
	bool b;

	(void)s;
	if (!throttle_addr_key(ip, key) ||
	    (g.allow != NULL && throttle_allowed(g.allow, ip)))
		return false;
	pthread_mutex_lock(&g.mu);
	b = throttle_blocked(g.by_addr, key, (int64_t)time(NULL));
	pthread_mutex_unlock(&g.mu);
	return b;
}

void
svc_guard_unsealed(struct svc *s)
{
	(void)s;
	g.rebuild = true;
}

/* The rebuild resolves each event's name to its key; an attack repeats
 * names, so the last ones resolved are kept (direct-mapped). */
#define REPLAY_CACHE 256

struct replay_name {
	char name[NAME_BUF];
	char key[NAME_BUF];
	bool used;
};

struct replay {
	int64_t now;
	struct svc *s;
	struct store_txn *txn;
	struct replay_name *cache;      /* REPLAY_CACHE, or NULL */
};

static const char *
replay_key(struct replay *rp, const char *name, char *buf)
{
	struct replay_name *c = NULL;
	uint32_t h = 2166136261u;
	const char *p;
	bool exists;

	if (rp->cache != NULL) {
		for (p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		c = &rp->cache[h % REPLAY_CACHE];
		if (c->used && strcmp(c->name, name) == 0)
			return c->key;
	}
	/* A store error: the normalized name (as svc_guard_check did). */
	(void)svc_auth_key_txn(rp->s, rp->txn, name, buf, &exists);
	if (c != NULL) {
		snprintf(c->name, sizeof(c->name), "%s", name);
		snprintf(c->key, sizeof(c->key), "%s", buf);
		c->used = true;
	}
	return buf;
}

/* Replay one event as it counted when it happened: failures count for
 * the address and the login's key (resolved now as svc_guard_check
 * resolves it); a throttled attempt counted for the address only (a name
 * is hit by a refusal only once it is blocked, and replay cannot tell);
 * allowed addresses count for nothing. */
static int
replay_cb(void *ctx, const struct vs_event *e)
{
	struct replay *rp = ctx;
	char key[THROTTLE_KEY_MAX + 1], lkey[NAME_BUF];

	if (g.allow != NULL && throttle_allowed(g.allow, e->ip))
		return 0;
	if (addr_counts(e->service, e->ip) && throttle_addr_key(e->ip, key))
		throttle_fail(g.by_addr, key, e->time);
	if (e->kind != EVENT_THROTTLED && g.by_login != NULL)
		throttle_fail(g.by_login, replay_key(rp, e->login, lkey),
		    e->time);
	return 0;
}


/* Main thread, once per round: rebuild the throttles after an unseal. */
void
svc_guard_tick(struct svc *s)
{
	struct store_txn *txn = NULL;
	struct replay rp;
	struct vs_err err;
	int64_t span;
	int r;

	if (!g.rebuild)
		return;
	g.rebuild = false;
	rp.now = (int64_t)time(NULL);
	rp.s = s;
	span = s->conf.throttle_window > s->conf.throttle_login_window ?
	    s->conf.throttle_window : s->conf.throttle_login_window;
	vs_err_clear(&err);
	pthread_rwlock_rdlock(&s->keylock);
	if (store_is_sealed(s->st)) {
		pthread_rwlock_unlock(&s->keylock);
		return;
	}
	r = store_txn_begin(s->st, false, &txn, &err);
	/* NULL: no cache, each name resolved */
	rp.cache = calloc(REPLAY_CACHE, sizeof(*rp.cache));
	pthread_mutex_lock(&g.mu);
	if (r == VS_OK) {
		/* The log is the whole truth: start from empty tables, so a
		 * seal and unseal does not count the same failures twice. */
		throttle_reset(g.by_addr);
		throttle_reset(g.by_login);
		rp.txn = txn;
		r = events_each(txn, rp.now - span, replay_cb, &rp, &err);
		store_txn_abort(&txn);
	}
	pthread_mutex_unlock(&g.mu);
	pthread_rwlock_unlock(&s->keylock);
	if (rp.cache != NULL) {
		/* names tried: as sensitive as the user list */
		sodium_memzero(rp.cache, REPLAY_CACHE * sizeof(*rp.cache));
		free(rp.cache);
	}
	if (r != VS_OK)
		svc_log(LOG_ERR, "cannot rebuild the throttle from the event "
		    "log: %s", err.msg);
}

struct list_ctx {
	struct svc *s;
	FILE *out;
	bool json;
	bool hashed;            /* log_names = hashed: show the h: form */
	int n;
	const char *kind;
};

static int
list_cb(void *vctx, const struct throttle_entry *e)
{
	struct list_ctx *c = vctx;
	char q[NAME_QUOTE_BUF], h[SVC_LOG_NAME_BUF] = "";
	bool with_h = c->hashed && strcmp(c->kind, "login") == 0;

	name_quote(e->key, strlen(e->key), q);
	if (with_h)     /* the caller holds keylock */
		svc_auth_log_name(c->s, e->key, true, h);
	c->n++;
	if (c->json)
		fprintf(c->out, "%s{\"kind\":\"%s\",\"key\":\"%s\",%s%s%s"
		    "\"hits\":%u,\"first\":%lld,\"last\":%lld,"
		    "\"blocked\":%s}", c->n > 1 ? "," : "", c->kind, q,
		    with_h ? "\"logged_as\":\"" : "", h, with_h ? "\"," : "",
		    e->hits, (long long)e->first, (long long)e->last,
		    e->blocked ? "true" : "false");
	else
		fprintf(c->out, "%-8s %-40s %3u hits, last %llds ago%s%s%s\n",
		    c->kind, q, e->hits, (long long)(time(NULL) - e->last),
		    e->blocked ? ", BLOCKED" : "", with_h ? ", logged as " : "",
		    h);
	return 0;
}

void
svc_guard_list(struct svc *s, FILE *out, bool json)
{
	struct list_ctx c = { s, out, json, false, 0, "address" };
	int64_t now = (int64_t)time(NULL);

	/* Hashed names need the key: keylock before g.mu, as everywhere. */
	c.hashed = strcmp(s->conf.log_names, "hashed") == 0;
	if (c.hashed)
		pthread_rwlock_rdlock(&s->keylock);
	if (json)
		fputc('[', out);
	pthread_mutex_lock(&g.mu);
	throttle_each(g.by_addr, now, list_cb, &c);
	c.kind = "login";
	throttle_each(g.by_login, now, list_cb, &c);
	pthread_mutex_unlock(&g.mu);
	if (c.hashed)
		pthread_rwlock_unlock(&s->keylock);
	if (json)
		fputs("]\n", out);
	else if (c.n == 0 && !json)
		fprintf(out, "nothing throttled\n");
}

/* Forget a key in the shared table: true if it had a row.  Failures
 * are logged (the local entry is cleared anyway). */
static bool
shared_clear(struct svc *s, enum store_throttle_kind kind, const char *key)
{
	uint8_t k[STORE_THROTTLE_KEY_BYTES];
	struct vs_err err;
	bool found = false;
	int r;

	vs_err_clear(&err);
	pthread_rwlock_rdlock(&s->keylock);
	r = store_throttle_key(s->st, kind, key, k, &err);
	if (r == VS_OK)
		r = store_throttle_clear(s->st, k, &found, &err);
	pthread_rwlock_unlock(&s->keylock);
	if (r != VS_OK && r != VS_ESEALED)
		svc_log(LOG_WARNING, "shared throttle: cannot clear an entry: "
		    "%s", err.msg);
	return found;
}

/* "h:..." as the log shows it: the login keys with that hash. */
#define CLEAR_BY_HASH_MAX 16

struct hash_ctx {
	struct svc *s;
	const char *want;
	char keys[CLEAR_BY_HASH_MAX][THROTTLE_KEY_MAX + 1];
	size_t n;
};

static int
hash_cb(void *vctx, const struct throttle_entry *e)
{
	struct hash_ctx *c = vctx;
	char h[SVC_LOG_NAME_BUF];

	svc_auth_log_name(c->s, e->key, true, h);
	if (strcmp(h, c->want) == 0 && c->n < CLEAR_BY_HASH_MAX)
		memcpy(c->keys[c->n++], e->key, sizeof(c->keys[0]));
	return c->n == CLEAR_BY_HASH_MAX;
}

bool
svc_guard_clear(struct svc *s, const char *what)
{
	char key[THROTTLE_KEY_MAX + 1], lkey[NAME_BUF];
	struct hash_ctx *hc = NULL;
	bool any = false, exists, by_hash;
	size_t i;

	/* A login as any of its spellings or addresses: its key (a lookup,
	 * before g.mu); the name as given is tried too, as before. */
	(void)svc_auth_throttle_key(s, what, lkey, &exists);
	by_hash = strncmp(what, "h:", 2) == 0 &&
	    strcmp(s->conf.log_names, "hashed") == 0;
	if (by_hash && (hc = calloc(1, sizeof(*hc))) != NULL) {
		hc->s = s;
		hc->want = what;
		pthread_rwlock_rdlock(&s->keylock);
	}
	pthread_mutex_lock(&g.mu);
	if (throttle_addr_key(what, key))
		any |= throttle_clear(g.by_addr, key);
	any |= throttle_clear(g.by_addr, what);
	any |= throttle_clear(g.by_login, what);
	if (strcmp(lkey, what) != 0)
		any |= throttle_clear(g.by_login, lkey);
	if (hc != NULL) {
		throttle_each(g.by_login, (int64_t)time(NULL), hash_cb, hc);
		for (i = 0; i < hc->n; i++)
			any |= throttle_clear(g.by_login, hc->keys[i]);
	}
	pthread_mutex_unlock(&g.mu);
	if (hc != NULL)
		pthread_rwlock_unlock(&s->keylock);
	/* The rows the hosts share too (each key in the forms it may have
	 * been counted under). */
	if (store_throttle_shared(s->st)) {
		if (throttle_addr_key(what, key))
			any |= shared_clear(s, STORE_THROTTLE_ADDR, key);
		any |= shared_clear(s, STORE_THROTTLE_LOGIN, what);
		if (strcmp(lkey, what) != 0)
			any |= shared_clear(s, STORE_THROTTLE_LOGIN, lkey);
		for (i = 0; hc != NULL && i < hc->n; i++)
			any |= shared_clear(s, STORE_THROTTLE_LOGIN,
			    hc->keys[i]);
	}
	if (hc != NULL) {
		sodium_memzero(hc, sizeof(*hc));
		free(hc);
	}
	return any;
}
