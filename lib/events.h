/*
 * events.h - the record of failed and throttled logins, and the attack
 * report built from it (vmseal stats).
 *
 * Every failed or throttled attempt is an event: time, client address,
 * login name tried, whether that name exists, service, and what happened.
 * Events are kept sealed in the store's events log (store.h, append-only,
 * trimmed to the newest events_keep); the names tried are as sensitive as
 * the user list, so they are sealed like it.
 *
 * The report groups events by client address, like the seed's table of
 * the attack it survived: first and last attempt, duration, attempts, how
 * many were throttled, the share aimed at root/admin-like names, the valid
 * names tried (with counts), the number of distinct invalid names, and the
 * most tried names; plus totals.
 */
#ifndef VS_EVENTS_H
#define VS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apppw.h"
#include "buf.h"
#include "names.h"
#include "store.h"
#include "vs_err.h"

enum event_kind {
	EVENT_BAD_PASSWORD = 1,
	EVENT_UNKNOWN_USER = 2,
	EVENT_DISABLED = 3,
	EVENT_THROTTLED = 4,
};

struct vs_event {
	int64_t time;
	enum event_kind kind;
	bool exists;                    /* the login name is a user */
	char ip[64];
	char login[NAME_BUF];
	char service[32];
	char app[APPPW_NAME_MAX + 1];   /* the app password named, or "" */
};

const char *event_kind_name(enum event_kind k);

int event_encode(const struct vs_event *e, struct buf *b);
int event_decode(const uint8_t *d, size_t n, struct vs_event *e,
    struct vs_err *err);

/* Append n events in this (write) transaction, then trim the log to the
 * newest keep events. */
int events_append(struct store_txn *txn, const struct vs_event *ev, size_t n,
    size_t keep, struct vs_err *err);
/* Events with time >= since, oldest first; cb returns nonzero to stop. */
int events_each(struct store_txn *txn, int64_t since,
    int (*cb)(void *ctx, const struct vs_event *e), void *ctx,
    struct vs_err *err);

/* A name aimed at an administrator account (root, admin, ...)? */
bool event_name_is_admin(const char *login);

struct report_name {
	char name[NAME_BUF];
	unsigned count;
	bool valid;
};

struct report_addr {
	char ip[64];
	int64_t first, last;
	unsigned attempts, throttled, at_admin;
	unsigned valid_distinct, invalid_distinct;
	struct report_name *names;      /* most tried first */
	size_t n_names;
};

struct report {
	struct report_addr *addrs;      /* most attempts first */
	size_t n;
	unsigned attempts, throttled, at_admin;
	int64_t first, last;
};

/* Build the report from the events with time >= since. */
int report_build(struct store_txn *txn, int64_t since, struct report *r,
    struct vs_err *err);
/* Add one event to a report (report_build uses it; tests too). */
int report_add(struct report *r, const struct vs_event *e);
/* Sort (addresses by attempts, names by count) after adding. */
void report_finish(struct report *r);
void report_free(struct report *r);

#endif
