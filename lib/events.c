/*
 * events.c - failed-login events and the attack report (see events.h).
 *
 * Security: events are sealed records (the record key, store.h); decoding
 * is strict (record.h) and treats the record as hostile.  The report holds
 * names tried by attackers: it is printed for the operator only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "record.h"

enum { E_TIME = 1, E_KIND = 2, E_EXISTS = 3, E_IP = 4, E_LOGIN = 5,
    E_SERVICE = 6,
    /* Optional (an older vmseal skips it): the app password a failure
     * named (wrong service, expired). */
    E_APP = 0x81 };

static const char *const kind_names[] = {
	[EVENT_BAD_PASSWORD] = "bad-password",
	[EVENT_UNKNOWN_USER] = "unknown-user",
	[EVENT_DISABLED] = "disabled",
	[EVENT_THROTTLED] = "throttled",
};

const char *
event_kind_name(enum event_kind k)
{
	if (k < EVENT_BAD_PASSWORD || k > EVENT_THROTTLED)
		return "unknown";
	return kind_names[k];
}

int
event_encode(const struct vs_event *e, struct buf *b)
{
	uint8_t k = (uint8_t)e->kind, x = e->exists ? 1 : 0;
	int r;

	if ((r = rec_begin(b)) != 0 ||
	    (r = rec_add_i64(b, E_TIME, e->time)) != 0 ||
	    (r = rec_add(b, E_KIND, &k, 1)) != 0 ||
	    (r = rec_add(b, E_EXISTS, &x, 1)) != 0 ||
	    (r = rec_add_str(b, E_IP, e->ip)) != 0 ||
	    (r = rec_add_str(b, E_LOGIN, e->login)) != 0 ||
	    (r = rec_add_str(b, E_SERVICE, e->service)) != 0 ||
	    (e->app[0] != '\0' && (r = rec_add_str(b, E_APP, e->app)) != 0))
		return r;
	return 0;
}

static int
copy_field(const struct rec_field *f, char *out, size_t size,
    struct vs_err *err)
{
	if (f->len >= size || memchr(f->val, '\0', f->len) != NULL)
		return vs_fail(err, VS_ECORRUPT, "event field is malformed");
	memcpy(out, f->val, f->len);
	out[f->len] = '\0';
	return VS_OK;
}

int
event_decode(const uint8_t *d, size_t n, struct vs_event *e,
    struct vs_err *err)
{
	struct rec_field *f;
	size_t nf, i;
	int r;

	memset(e, 0, sizeof(*e));
	if ((r = rec_parse(d, n, &f, &nf, err)) != VS_OK)
		return r;
	for (i = 0; i < nf && r == VS_OK; i++) {
		switch (f[i].tag) {
		case E_TIME:
			if (f[i].len != 8)
				r = vs_fail(err, VS_ECORRUPT, "event time");
			else
				e->time = (int64_t)vs_get_u64be(f[i].val);
			break;
		case E_KIND:
			if (f[i].len != 1 || f[i].val[0] < EVENT_BAD_PASSWORD ||
			    f[i].val[0] > EVENT_THROTTLED)
				r = vs_fail(err, VS_ECORRUPT, "event kind");
			else
				e->kind = (enum event_kind)f[i].val[0];
			break;
		case E_EXISTS:
			if (f[i].len != 1)
				r = vs_fail(err, VS_ECORRUPT, "event flag");
			else
				e->exists = f[i].val[0] != 0;
			break;
		case E_IP:
			r = copy_field(&f[i], e->ip, sizeof(e->ip), err);
			break;
		case E_LOGIN:
			r = copy_field(&f[i], e->login, sizeof(e->login), err);
			break;
		case E_SERVICE:
			r = copy_field(&f[i], e->service, sizeof(e->service),
			    err);
			break;
		case E_APP:
			r = copy_field(&f[i], e->app, sizeof(e->app), err);
			break;
		default:
			if (!(f[i].tag & 0x80))
				r = vs_fail(err, VS_ECORRUPT,
				    "event field %u is unknown", f[i].tag);
		}
	}
	free(f);
	if (r == VS_OK && e->kind == 0)
		r = vs_fail(err, VS_ECORRUPT, "event has no kind");
	return r;
}

int
events_append(struct store_txn *txn, const struct vs_event *ev, size_t n,
    size_t keep, struct vs_err *err)
{
	struct buf b = { 0 };
	size_t i, deleted;
	int r = VS_OK;

	for (i = 0; i < n && r == VS_OK; i++) {
		if ((r = event_encode(&ev[i], &b)) != 0) {
			r = vs_fail(err, r, "event too large");
			break;
		}
		r = store_log_append(txn, STORE_LOG_EVENTS, b.data, b.len,
		    NULL, err);
	}
	buf_free(&b);
	if (r == VS_OK && keep > 0)
		r = store_log_trim(txn, STORE_LOG_EVENTS, keep, &deleted, err);
	return r;
}

struct each_ctx {
	int64_t since;
	int (*cb)(void *, const struct vs_event *);
	void *ctx;
};

static int
each_cb(void *vctx, uint64_t seq, const uint8_t *rec, size_t len,
    struct vs_err *err)
{
	struct each_ctx *c = vctx;
	struct vs_event e;
	int r;

	(void)seq;
	if ((r = event_decode(rec, len, &e, err)) != VS_OK)
		return r;
	if (e.time < c->since)
		return VS_OK;
	return c->cb(c->ctx, &e) ? 1 : VS_OK;
}

int
events_each(struct store_txn *txn, int64_t since,
    int (*cb)(void *ctx, const struct vs_event *e), void *ctx,
    struct vs_err *err)
{
	struct each_ctx c = { since, cb, ctx };
	int r;

	r = store_log_each(txn, STORE_LOG_EVENTS, 1, each_cb, &c, err);
	return r == 1 ? VS_OK : r;
}

bool
event_name_is_admin(const char *login)
{
	static const char *const names[] = { "root", "admin",
	    "administrator", "toor", "sysadmin", "superuser", "adm" };
	char local[NAME_BUF];
	const char *at = strchr(login, '@');
	size_t n = at ? (size_t)(at - login) : strlen(login), i;

	if (n >= sizeof(local))
		return false;
	for (i = 0; i < n; i++)
		local[i] = (char)((login[i] >= 'A' && login[i] <= 'Z') ?
		    login[i] + 32 : login[i]);
	local[n] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(local, names[i]) == 0)
			return true;
	return false;
}

/* --- report --- */

static struct report_addr *
find_addr(struct report *r, const char *ip)
{
	struct report_addr *na;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->addrs[i].ip, ip) == 0)
			return &r->addrs[i];
	na = realloc(r->addrs, (r->n + 1) * sizeof(*na));
	if (na == NULL)
		return NULL;
	r->addrs = na;
	memset(&na[r->n], 0, sizeof(na[r->n]));
	snprintf(na[r->n].ip, sizeof(na[r->n].ip), "%s", ip);
	return &na[r->n++];
}

int
report_add(struct report *r, const struct vs_event *e)
{
	struct report_addr *a;
	struct report_name *nn;
	size_t i;

	if ((a = find_addr(r, e->ip[0] ? e->ip : "-")) == NULL)
		return VS_ENOMEM;
	if (a->attempts == 0 || e->time < a->first)
		a->first = e->time;
	if (e->time > a->last)
		a->last = e->time;
	if (r->attempts == 0 || e->time < r->first)
		r->first = e->time;
	if (e->time > r->last)
		r->last = e->time;
	a->attempts++;
	r->attempts++;
	if (e->kind == EVENT_THROTTLED) {
		a->throttled++;
		r->throttled++;
	}
	if (event_name_is_admin(e->login)) {
		a->at_admin++;
		r->at_admin++;
	}
	for (i = 0; i < a->n_names; i++)
		if (strcmp(a->names[i].name, e->login) == 0)
			break;
	if (i == a->n_names) {
		nn = realloc(a->names, (a->n_names + 1) * sizeof(*nn));
		if (nn == NULL)
			return VS_ENOMEM;
		a->names = nn;
		memset(&nn[i], 0, sizeof(nn[i]));
		snprintf(nn[i].name, sizeof(nn[i].name), "%s", e->login);
		nn[i].valid = e->exists;
		a->n_names++;
		if (e->exists)
			a->valid_distinct++;
		else
			a->invalid_distinct++;
	}
	a->names[i].count++;
	return VS_OK;
}

static int
cmp_name(const void *x, const void *y)
{
	const struct report_name *a = x, *b = y;

	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return strcmp(a->name, b->name);
}

static int
cmp_addr(const void *x, const void *y)
{
	const struct report_addr *a = x, *b = y;

	if (a->attempts != b->attempts)
		return a->attempts < b->attempts ? 1 : -1;
	return strcmp(a->ip, b->ip);
}

void
report_finish(struct report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->addrs[i].n_names > 1)
			qsort(r->addrs[i].names, r->addrs[i].n_names,
			    sizeof(struct report_name), cmp_name);
	if (r->n > 1)
		qsort(r->addrs, r->n, sizeof(*r->addrs), cmp_addr);
}

struct build_ctx {
	struct report *r;
	int rc;
};

static int
build_cb(void *vctx, const struct vs_event *e)
{
	struct build_ctx *b = vctx;

	b->rc = report_add(b->r, e);
	return b->rc != VS_OK;
}

int
report_build(struct store_txn *txn, int64_t since, struct report *r,
    struct vs_err *err)
{
	struct build_ctx b = { r, VS_OK };
	int rc;

	memset(r, 0, sizeof(*r));
	rc = events_each(txn, since, build_cb, &b, err);
	if (rc == VS_OK && b.rc != VS_OK)
		rc = vs_fail(err, b.rc, "out of memory");
	if (rc != VS_OK) {
		report_free(r);
		return rc;
	}
	report_finish(r);
	return VS_OK;
}

void
report_free(struct report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->addrs[i].names);
	free(r->addrs);
	memset(r, 0, sizeof(*r));
}
