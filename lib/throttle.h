/*
 * throttle.h - failed-login throttle: a sliding window of failures per key
 * (a client address prefix, or a login name), in bounded memory.
 *
 * Semantics (the seed's `iptables -m recent --update --seconds 120
 * --hitcount 4`): a key whose last `limit` hits all fall within `window`
 * seconds is blocked; while blocked, every further attempt is refused at
 * once AND counts as a hit (so a client that keeps trying keeps itself
 * blocked; it is let in again only after `window` seconds of silence).
 * Exactly: a hit at h is within the window at now when h > now - window (a
 * hit `window` seconds old is out); a key trips when a hit brings its hits
 * within the window to `limit`, and stays blocked while its last hit is
 * within the window.  (Stricter than iptables, which lets a retrier in once
 * its older hits slide out of the window.)  Checking is not a hit unless
 * the check refuses.
 * A hit is a failed login or a refused attempt; a successful login does not
 * clear the hits of an address (an attacker may also know one password),
 * but does clear those of the login name.
 *
 * Reservations (throttle_reserve/throttle_settle): a password check takes
 * a hash worker for a while, and a failure known only at its end would let
 * every attempt sent meanwhile through.  So an attempt is checked and
 * reserved in one step before it is hashed: it passes only while hits in
 * the window plus reservations in flight stay below `limit` - no more
 * checks run at once than failures are left - and is settled when its
 * answer is known: a failure becomes a hit, anything else gives the slot
 * back.  An attempt over that budget but not blocked is "busy": nothing is
 * counted, nothing reserved (the caller answers "later").  A key with
 * reservations in flight is kept by throttle_clear() and throttle_reset()
 * (its hits go) and evicted last.  Keys are compared byte for byte;
 * one longer than THROTTLE_KEY_MAX is stored cut, ending in a keyed hash
 * of the whole key (so long keys are not merged).  A NULL key is ignored.
 *
 * Memory: at most `max_entries` keys (1 to 2^28; each about 120 + 8 * limit
 * bytes with the table's share); when full, 8 entries are sampled at random
 * (under a secret key, or a fixed seed: throttle_set_seed) and the least
 * valuable is forgotten: one with no hit in the window, else
 * one not blocked, else a blocked one, the oldest last hit first (so a
 * flood of distinct keys evicts itself, not active blocks).  A table of at
 * most 8 entries is searched whole.  Clock jumps: a time earlier than a
 * key's last hit is taken as that last hit (time never runs backwards for a
 * key; after a jump back, a block lasts until the clock has caught up, so
 * callers should pass a monotonic clock).  A jump forward ages hits out.
 *
 * Not thread-safe: the caller serializes (vmsealed's main thread).
 */
#ifndef VS_THROTTLE_H
#define VS_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vs_err.h"

#define THROTTLE_LIMIT_MAX 64
#define THROTTLE_KEY_MAX 64

struct throttle_params {
	unsigned limit;         /* hits in the window that block (e.g. 3) */
	unsigned window;        /* seconds (e.g. 120) */
	size_t max_entries;     /* memory bound (e.g. 100000) */
};

struct throttle;

int throttle_new(const struct throttle_params *p, struct throttle **t_r,
    struct vs_err *err);
void throttle_free(struct throttle **t);
/* Tests and benchmarks: draw the eviction samples from seed instead of a
 * secret random key (and start the draws over), so that which entries a
 * flood evicts is the same at every run.  Never in the service: a peer
 * who knows the seed could aim its flood at the entries it wants gone.
 * May be called at any time (the table's index key is not changed). */
void throttle_set_seed(struct throttle *t, uint64_t seed);

/* An attempt by key at time now: true if it must be refused now (and the
 * refusal was counted as a hit).  Nothing is reserved. */
bool throttle_check(struct throttle *t, const char *key, int64_t now);

enum throttle_verdict {
	THROTTLE_PASS,          /* reserved: settle it with throttle_settle */
	THROTTLE_BUSY,          /* the checks in flight may use up what is
	                         * left: nothing counted, nothing reserved */
	THROTTLE_BLOCKED,       /* refused, and counted as a hit */
};
/* Check and reserve in one step (see above).  A NULL table or key passes
 * with nothing reserved (settling it is harmless). */
enum throttle_verdict throttle_reserve(struct throttle *t, const char *key,
    int64_t now);
/* Settle one THROTTLE_PASS of key: failed, a hit at now (as
 * throttle_fail); else the slot is given back. */
void throttle_settle(struct throttle *t, const char *key, int64_t now,
    bool failed);
/* Reservations of key in flight (0 if unknown). */
unsigned throttle_inflight(const struct throttle *t, const char *key);
/* A failed login by key at now. */
void throttle_fail(struct throttle *t, const char *key, int64_t now);
/* Block key at now, as if `limit` failures had just come: used when
 * failures counted elsewhere (the other hosts of a shared PostgreSQL
 * store, service/guard.c) blocked it, so that further attempts are
 * refused here at once, with no round trip.  Reservations in flight are
 * kept.  A NULL table or key is ignored. */
void throttle_block(struct throttle *t, const char *key, int64_t now);
/* Forget the hits of key (success of a login, or "vmseal throttle
 * clear"); the key itself too unless it has reservations in flight.
 * Returns true if it was known. */
bool throttle_clear(struct throttle *t, const char *key);
/* Forget every hit, and every key without reservations in flight. */
void throttle_reset(struct throttle *t);
/* Is key blocked at now (without counting anything)? */
bool throttle_blocked(const struct throttle *t, const char *key,
    int64_t now);

struct throttle_entry {
	char key[THROTTLE_KEY_MAX + 1];
	unsigned hits;          /* hits within the window */
	int64_t first, last;    /* of those hits */
	bool blocked;
};
/* Call fn for every key with hits in the window; stops when fn returns
 * nonzero.  hits counts at most `limit` (only those are kept); first is the
 * oldest of them.  fn must not change t. */
void throttle_each(const struct throttle *t, int64_t now,
    int (*fn)(void *ctx, const struct throttle_entry *e), void *ctx);
size_t throttle_count(const struct throttle *t);

/* The throttle key of a client address: IPv4 as is (a /32, written by
 * inet_ntop), an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4
 * address, other IPv6 cut to its /64 in RFC 5952 form ("2001:db8:1:2::/64",
 * "2001:db8::/64").  false, and out "", if ip is not an address (a zone
 * "%eth0", brackets or spaces are refused too). */
bool throttle_addr_key(const char *ip, char out[THROTTLE_KEY_MAX + 1]);

/* Allow-list: networks never throttled ("127.0.0.0/8, ::1/128, ...").
 * Items are separated by commas and/or white space; a bare address is a
 * /32 or /128; bits past the prefix length must be zero (catches typos
 * such as "192.168.1.10/2"); ::ffff:a.b.c.d/96+n is a.b.c.d/n.  An IPv4
 * network never matches an IPv6 address nor the reverse, but an
 * IPv4-mapped client address is matched as IPv4.  An empty list allows
 * nothing.  Errors (VS_EINVAL) name the item by number and quote it.
 * throttle_allowed(NULL, ip) is false. */
struct throttle_allow;
int throttle_allow_parse(const char *list, struct throttle_allow **a_r,
    struct vs_err *err);
bool throttle_allowed(const struct throttle_allow *a, const char *ip);
void throttle_allow_free(struct throttle_allow **a);

#endif
