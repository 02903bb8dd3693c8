/*
 * postfix.c - vmsealed's answers to Postfix: socketmap lookups and policy
 * decisions (the protocols are lib/sockmap.h and lib/policy.h, the lookup
 * semantics lib/lookup.h).
 *
 * Sealed means "later", never "no": while the key is not loaded, or when
 * the store fails, socketmap answers TEMP and the policy service
 * DEFER_IF_PERMIT, so Postfix answers 4xx and senders retry; nothing is
 * bounced and no user is reported unknown.
 *
 * Framing: svc_socketmap_input() and svc_policy_input() are the socketmap
 * and policy kinds of the connection loop (service/conn.h): each answers
 * one complete request from a connection's input; a malformed one is
 * answered PERM (socketmap) or not at all (policy), and the connection is
 * closed.
 *
 * Security: request contents are never logged; a reason sent back quotes
 * at most a key through name_quote(); request sizes are capped by the
 * parsers (SOCKMAP_REQUEST_MAX, POLICY_REQUEST_MAX).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <sodium.h>

#include "conn.h"
#include "names.h"
#include "netstring.h"
#include "service.h"
#include "sockmap.h"

#define SEALED_REASON "vmseal is sealed (an operator must unseal it)"

typedef int lookup_fn(struct store_txn *, const struct lookup_opts *,
    const char *, char **, struct vs_err *);

/* One question on a read transaction of the unsealed store. */
struct question {
	lookup_fn *map;                 /* a socketmap lookup, or */
	const char *key;
	char *value;
	const char *login, *sender;     /* a policy sender check */
};

static int
ask(struct store_txn *txn, const struct lookup_opts *o, struct question *q,
    struct vs_err *err)
{
	int r;

	if (q->map != NULL)
		return q->map(txn, o, q->key, &q->value, err);
	r = lookup_sender_allowed(txn, o, q->login, q->sender, err);
	return r == 1 ? VS_OK : r == 0 ? VS_ENOTFOUND : r;
}

/* The questions of one event-loop round share one read transaction
 * (svc_batch_end ends its snapshot): a round lasts microseconds, so a
 * change an operator commits is seen by the next round.  Between rounds
 * the transaction is reset, not freed, and renewed by the next round's
 * first question: LMDB keeps its reader slot, so a round costs no
 * allocation and no lock on the reader table. */
static int
with_txn(struct svc *s, struct question *q, struct vs_err *err)
{
	int r;

	pthread_rwlock_rdlock(&s->keylock);
	if (store_is_sealed(s->st)) {
		pthread_rwlock_unlock(&s->keylock);
		return vs_fail(err, VS_ESEALED, SEALED_REASON);
	}
	r = s->batch_txn != NULL ? store_txn_renew(s->batch_txn, err) :
	    store_txn_begin(s->st, false, &s->batch_txn, err);
	if (r == VS_OK)
		r = ask(s->batch_txn, &s->lopts, q, err);
	pthread_rwlock_unlock(&s->keylock);
	return r;
}

void
svc_batch_end(struct svc *s)
{
	store_txn_reset(s->batch_txn);
}

void
svc_batch_free(struct svc *s)
{
	store_txn_abort(&s->batch_txn);
}

static int
l_domain(struct store_txn *t, const struct lookup_opts *o, const char *k,
    char **v, struct vs_err *e)
{
	(void)o;
	return lookup_domain(t, k, v, e);
}

void
svc_socketmap(struct svc *s, const uint8_t *req, size_t len, struct buf *out)
{
	static lookup_fn *const fns[] = {
		[SOCKMAP_DOMAINS] = l_domain,
		[SOCKMAP_MAILBOXES] = lookup_mailbox,
		[SOCKMAP_ALIASES] = lookup_alias,
		[SOCKMAP_SENDERS] = lookup_senders,
	};
	struct sockmap_request r;
	struct question q = { NULL, NULL, NULL, NULL, NULL };
	struct vs_err err;
	int rc;

	vs_err_clear(&err);
	s->stats.lookups++;
	if (sockmap_parse(req, len, &r, &err) != VS_OK) {
		s->stats.perm++;
		sockmap_reply(out, "PERM", err.msg);
		return;
	}
	q.map = fns[r.map];
	q.key = r.key;
	rc = with_txn(s, &q, &err);
	if (rc == VS_OK) {
		s->stats.found++;
		sockmap_reply(out, "OK", q.value);
	} else if (rc == VS_ENOTFOUND) {
		s->stats.notfound++;
		sockmap_reply(out, "NOTFOUND", NULL);
	} else {
		s->stats.temp++;
		if (rc != VS_ESEALED)
			svc_log(LOG_ERR, "socketmap %s lookup failed: %s",
			    sockmap_map_name(r.map), err.msg);
		sockmap_reply(out, "TEMP", rc == VS_ESEALED ? SEALED_REASON :
		    "vmseal store error");
	}
	free(q.value);
	sodium_memzero(&r, sizeof(r));
}

/* --- per-login recipient limit (policy_recipient_limit per hour) ---
 * A fixed table of RATE_SLOTS entries indexed by a keyed hash of the login:
 * bounded memory whatever logins are used; a collision replaces the older
 * login's counters (it then starts afresh - the limit errs on the side of
 * letting mail through, never of blocking a user for another's traffic).
 * Each entry counts recipients in 60 one-minute buckets: a sliding hour. */

#define RATE_SLOTS 4096
#define RATE_BUCKETS 60

struct rate_slot {
	char login[NAME_LOGIN_MAX + 1];
	uint32_t count[RATE_BUCKETS];
	int64_t minute[RATE_BUCKETS];
};

static uint8_t rate_key[crypto_shorthash_KEYBYTES];

int
svc_rates_init(struct svc *s)
{
	s->rates = calloc(RATE_SLOTS, sizeof(*s->rates));
	randombytes_buf(rate_key, sizeof(rate_key));
	return s->rates ? VS_OK : VS_ENOMEM;
}

void
svc_rates_free(struct svc *s)
{
	free(s->rates);
	s->rates = NULL;
}

/* Count one recipient for login; returns the count over the last hour
 * including this one. */
static unsigned long
rate_count(struct svc *s, const char *login, int64_t now)
{
	uint8_t h[crypto_shorthash_BYTES];
	struct rate_slot *r;
	int64_t minute = now / 60;
	unsigned long total = 0;
	size_t i;

	crypto_shorthash(h, (const uint8_t *)login, strlen(login), rate_key);
	r = &s->rates[(h[0] | (h[1] << 8)) % RATE_SLOTS];
	if (strcmp(r->login, login) != 0) {
		memset(r, 0, sizeof(*r));
		snprintf(r->login, sizeof(r->login), "%s", login);
	}
	i = (size_t)(minute % RATE_BUCKETS);
	if (r->minute[i] != minute) {
		r->minute[i] = minute;
		r->count[i] = 0;
	}
	r->count[i]++;
	for (i = 0; i < RATE_BUCKETS; i++)
		if (r->minute[i] > minute - RATE_BUCKETS)
			total += r->count[i];
	return total;
}

void
svc_policy(struct svc *s, const struct policy_request *req, struct buf *out)
{
	struct question c = { NULL, NULL, NULL, req->sasl_username,
	    req->sender };
	struct vs_err err;
	char text[1024], q[NAME_QUOTE_BUF], q2[NAME_QUOTE_BUF];
	int rc;

	vs_err_clear(&err);
	s->stats.policy_requests++;
	if (strcmp(req->request, "smtpd_access_policy") != 0) {
		policy_reply(out, "DUNNO", NULL);
		return;
	}
	pthread_rwlock_rdlock(&s->keylock);
	rc = store_is_sealed(s->st);
	pthread_rwlock_unlock(&s->keylock);
	if (rc) {
		s->stats.policy_defers++;
		policy_reply(out, "DEFER_IF_PERMIT", "4.7.0 " SEALED_REASON
		    ", try again later");
		return;
	}
	if (s->conf.policy_refuse_throttled &&
	    svc_guard_ip_blocked(s, req->client_address)) {
		s->stats.policy_defers++;
		policy_reply(out, "DEFER_IF_PERMIT", "4.7.1 Too many failed "
		    "logins from your address, try again later");
		return;
	}
	if (req->sasl_username[0] == '\0') {
		policy_reply(out, "DUNNO", NULL);
		return;
	}
	if (req->sender[0] != '\0') {
		rc = with_txn(s, &c, &err);
		if (rc == VS_ENOTFOUND) {
			s->stats.policy_rejects++;
			name_quote(req->sender, strlen(req->sender), q);
			name_quote(req->sasl_username,
			    strlen(req->sasl_username), q2);
			snprintf(text, sizeof(text), "5.7.1 Sender address <%s> "
			    "is not owned by user %s", q, q2);
			policy_reply(out, "REJECT", text);
			return;
		}
		if (rc != VS_OK) {
			s->stats.policy_defers++;
			svc_log(LOG_ERR, "policy sender check failed: %s",
			    err.msg);
			policy_reply(out, "DEFER_IF_PERMIT", "4.3.0 vmseal "
			    "store error, try again later");
			return;
		}
	}
	if (s->conf.policy_recipient_limit > 0 &&
	    strcmp(req->protocol_state, "RCPT") == 0 &&
	    rate_count(s, req->sasl_username, (int64_t)time(NULL)) >
	    s->conf.policy_recipient_limit) {
		s->stats.policy_defers++;
		name_quote(req->sasl_username, strlen(req->sasl_username), q);
		svc_log(LOG_NOTICE, "policy: recipient limit reached for "
		    "login %s", q);
		snprintf(text, sizeof(text), "4.7.1 Too many recipients this "
		    "hour for user %s, try again later", q);
		policy_reply(out, "451", text);
		return;
	}
	policy_reply(out, "DUNNO", NULL);
}

bool
svc_socketmap_input(struct conn *c)
{
	struct svc *s = c->set->arg;
	const uint8_t *p;
	size_t plen, used;
	struct vs_err err;
	int r;

	vs_err_clear(&err);
	r = netstring_decode(c->in.data, c->in.len, SOCKMAP_REQUEST_MAX, &p,
	    &plen, &used, &err);
	if (r == NETSTRING_MORE)
		return false;
	if (r != NETSTRING_OK) {
		s->stats.perm++;
		sockmap_reply(&c->out, "PERM", err.msg);
		c->closing = true;
		return false;
	}
	svc_socketmap(s, p, plen, &c->out);
	conn_consume(c, used);
	return true;
}

void
svc_socketmap_too_long(struct conn *c)
{
	sockmap_reply(&c->out, "PERM", "request too long");
}

bool
svc_policy_input(struct conn *c)
{
	struct svc *s = c->set->arg;
	struct policy_request req;
	struct vs_err err;
	size_t used;
	int r;

	vs_err_clear(&err);
	r = policy_parse(c->in.data, c->in.len, &req, &used, &err);
	if (r == POLICY_MORE)
		return false;
	if (r != POLICY_OK) {
		svc_log(LOG_WARNING, "policy: malformed request: %s", err.msg);
		c->closing = true;
		return false;
	}
	svc_policy(s, &req, &c->out);
	conn_consume(c, used);
	return true;
}
