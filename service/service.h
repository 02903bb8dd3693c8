/*
 * service.h - vmsealed's shared state, seen by its parts: the wiring
 * (vmsealed.c: start-up, privileges, signals), the answers to Postfix
 * (postfix.c), the auth socket and its hash workers (auth.c), the
 * throttle (guard.c) and the admin session (admin.c).  The event loop and
 * connections are service/conn.h, the log service/log.h; neither knows
 * this struct.  Calls go one way only: vmsealed.c wires the others;
 * admin.c and postfix.c call guard.c, which calls auth.c; the kinds'
 * callbacks reach conn.c; everything logs through log.c, which calls
 * nothing back.
 *
 * Threads: the main thread runs the event loop and answers socketmap,
 * policy and auth lookups itself (an LMDB read and a record decryption: a
 * few microseconds); hash workers check passwords (auth.c); up to four
 * admin threads run operator commands (admin.c); one thread writes login
 * events (guard.c).  The key is guarded by keylock: lookups, commands and
 * the store steps of a password check hold it for reading - never a hash:
 * a worker copies what it needs, lets go, hashes, and takes it again to
 * answer - ; seal and unseal take it for writing (the lock prefers
 * writers, so a seal is never starved by a login flood, and never waits
 * for a hash).
 */
#ifndef VS_SERVICE_H
#define VS_SERVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "log.h"
#include "lookup.h"
#include "policy.h"
#include "store.h"

enum sock_kind { SOCK_ADMIN, SOCK_SOCKETMAP, SOCK_POLICY, SOCK_AUTH,
    SOCK_KINDS };

struct svc_stats {
	unsigned long connections[SOCK_KINDS];  /* open now */
	unsigned long accepted[SOCK_KINDS];
	unsigned long refused;                  /* over a connection limit */
	unsigned long refused_kind[SOCK_KINDS]; /* ... by socket */
	unsigned long lookups, found, notfound, temp, perm;
	unsigned long policy_requests, policy_rejects, policy_defers;
	unsigned long auth_requests;    /* main thread */
	unsigned long auth_throttled;   /* refused without a hash */
	unsigned long auth_busy;        /* "later": checks in flight (guard) */
	unsigned long auth_hashes;      /* hashes computed (workers) */
	unsigned long auth_too_costly;  /* stored hash over the caps (workers) */
};

struct rate_slot;

struct svc {
	struct vs_conf conf;
	const char *conf_path;
	struct store *st;
	pthread_rwlock_t keylock;
	time_t started, unsealed_at;
	uid_t run_uid;
	gid_t admin_gid;
	bool have_admin_gid;
	struct lookup_opts lopts;
	struct svc_stats stats;         /* main thread writes, admin reads */
	struct rate_slot *rates;        /* policy recipient limits */
	struct store_txn *batch_txn;    /* main thread: this round's reads */
	bool foreground;
	time_t last_admin;              /* last admin session (auto seal) */
	bool from_keyfile;              /* unsealed from unseal_keyfile */
};

struct conn;

/* postfix.c: answer one socketmap request payload into out. */
void svc_socketmap(struct svc *s, const uint8_t *req, size_t len,
    struct buf *out);
/* postfix.c: answer one policy request into out. */
void svc_policy(struct svc *s, const struct policy_request *req,
    struct buf *out);
/* postfix.c: the socketmap and policy kinds of the connection loop
 * (conn.h: one complete request answered per call; c->set->arg is the
 * struct svc). */
bool svc_socketmap_input(struct conn *c);
void svc_socketmap_too_long(struct conn *c);
bool svc_policy_input(struct conn *c);
/* End of an event-loop round: end the snapshot of the round's reads. */
void svc_batch_end(struct svc *s);
/* Free the round's transaction (before the store is closed). */
void svc_batch_free(struct svc *s);
int svc_rates_init(struct svc *s);
void svc_rates_free(struct svc *s);

/* admin.c: start the admin thread; svc_admin_enqueue hands it an accepted
 * connection (it closes it when done). */
int svc_admin_start(struct svc *s);
/* status.c: "vmseal status" (text, or JSON with json) to out. */
void svc_status_print(struct svc *s, FILE *out, bool json);
void svc_admin_enqueue(struct svc *s, int fd);
void svc_admin_stop(struct svc *s);
/* cmd_service.c: unseal, seal, status (struct cli_command, admin/cli.h),
 * NULL-terminated. */
extern const struct cli_command svc_commands[];

/* Seal now (wipe the key). */
void svc_seal(struct svc *s);
/* vmsealed.c: an unseal or seal in the audit trail (own transaction, best
 * effort: logged on failure); the store head in the log when it changed
 * (anchoring, doc/DESIGN.md).  The caller holds the key lock. */
int svc_audit(struct svc *s, uint32_t uid, const char *action,
    const char *detail);
void svc_log_head(struct svc *s);

/* auth.c: the auth socket (lib/authproto.h). */
struct auth_request;
struct auth_reply;
int svc_auth_start(struct svc *s);
bool svc_auth_user_exists(struct svc *s, const char *login);
/* The throttle key of a login: the canonical login of the user it names
 * (as the password check finds it: login, else address), else its
 * normalized form (else the name as given).  key holds NAME_BUF bytes;
 * *exists_r: a user.  A lookup, never a hash.  Sealed (VS_ESEALED) or a
 * store error: the normalized form, and the code.  _txn: in the caller's
 * transaction (keylock held). */
int svc_auth_throttle_key(struct svc *s, const char *login, char *key,
    bool *exists_r);
int svc_auth_key_txn(struct svc *s, struct store_txn *txn,
    const char *login, char *key, bool *exists_r);
/* A name as auth log lines show it: quoted (log_names = plain), or "h:"
 * and 16 hex digits of a keyed hash (hashed; "h:-" while sealed).
 * locked: the caller holds keylock. */
#define SVC_LOG_NAME_BUF 260            /* NAME_QUOTE_BUF */
void svc_auth_log_name(struct svc *s, const char *name, bool locked,
    char *out);
int svc_auth_eventfd(void);
void svc_auth_unsealed(struct svc *s);
void svc_auth_lookup(struct svc *s, const struct auth_request *req,
    struct auth_reply *rep);
/* Queue a password check; VS_ELIMIT when the queue is full, VS_ESEALED
 * before the first unseal.  svc_auth_run: the same, and wait for the
 * answer (not from the event loop); with chg, a password change
 * (passwd.c). */
struct passwd_change;
int svc_auth_run(struct svc *s, const struct auth_request *req,
    const struct passwd_change *chg, struct auth_reply *rep);
int svc_auth_submit(struct svc *s, void *conn,
    const struct auth_request *req);
void svc_auth_collect(void (*fn)(void *conn, const struct auth_request *req,
    const struct auth_reply *rep));

/*
 * passwd.c: a user's own password change (self-service: poppassd,
 * Roundcube's httpapi).  Blocking: call it from a thread that is not the
 * event loop (a front end's own thread); it waits for a hash worker.
 * Order: the new password against the policy (cheap, before anything is
 * reserved), then the throttle's reservation (address and login, as a
 * login), then the current password checked by a hash worker (the MAIN
 * password only: an app password is refused as a wrong password), then
 * the new one hashed and saved with an audit entry "user-passwd" made by
 * the user (via, remote_ip), mail keys kept.  msg gets a sentence that
 * may be shown to the user (never a password or a hash).
 */
enum passwd_result {
	PASSWD_OK,              /* changed */
	PASSWD_FAIL,            /* unknown user or wrong current password */
	PASSWD_THROTTLED,       /* refused without a hash */
	PASSWD_POLICY,          /* the new password is refused by the policy */
	PASSWD_DISABLED,        /* the account is disabled */
	PASSWD_TEMP,            /* sealed, overloaded, store error: later */
};
struct passwd_change {
	const char *login;
	const char *old_pw;
	size_t old_len;
	const char *new_pw;
	size_t new_len;
	const char *remote_ip;  /* "" or NULL: unknown (a Unix socket) */
	const char *via;        /* "poppassd", "httpapi": audit and log */
};
enum passwd_result svc_passwd_change(struct svc *s,
    const struct passwd_change *c, char *msg, size_t msgsize);
/* The hash worker's last step of a change (auth.c, key lock held): save
 * newhash for login if its stored hash is still oldhash, with the audit
 * entry; VS_EBUSY if it changed meanwhile.  pem (not NULL): the mail
 * private key in password protection, wrapped under newkey (newhash's
 * key) in the same transaction; without it a wrapped key is locked. */
int svc_passwd_save(struct svc *s, const char *login, const char *oldhash,
    const char *newhash, const char *pem, const uint8_t *newkey,
    const struct passwd_change *c, struct vs_err *err);

/* guard.c: failed-login throttle, events, log lines. */
int svc_guard_init(struct svc *s, struct vs_err *err);
enum guard_verdict {
	GUARD_PASS,             /* reserved: queue it, then svc_guard_result */
	GUARD_THROTTLED,        /* refuse now: "fail throttled" (recorded) */
	GUARD_BUSY,             /* answer "temp": checks in flight */
};
/* Before a password check is queued: check and reserve in one step (per
 * address and per login - its canonical login, set in
 * req->throttle_key -, lib/throttle.h).  Every GUARD_PASS must be
 * settled by exactly one svc_guard_result(), also when it is never
 * queued (a temp reply then). */
enum guard_verdict svc_guard_check(struct svc *s, struct auth_request *req);
/* After a password check: settle the reservation - a failure is counted
 * and recorded, a success clears the login, temp gives the slot back. */
void svc_guard_result(struct svc *s, const struct auth_request *req,
    const struct auth_reply *rep);
bool svc_guard_ip_blocked(struct svc *s, const char *ip);
void svc_guard_unsealed(struct svc *s);
void svc_guard_tick(struct svc *s);
void svc_guard_list(struct svc *s, FILE *out, bool json);
bool svc_guard_clear(struct svc *s, const char *what);

/*
 * selfservice.c: the poppassd front end (lib/poppassd.h), on the Unix
 * socket poppassd_socket and the loopback TCP address poppassd_listen
 * (both off by default).  svc_poppassd_open binds them (before privileges
 * are dropped) as kinds k and k + 1 of the event loop, whose accepted
 * descriptors go to a thread of their own each (at most
 * selfservice_max_connections at once), which runs the line protocol and
 * calls svc_passwd_change().  httpapi.c: Roundcube's httpapi driver over
 * libmicrohttpd on httpapi_listen (off by default): svc_httpapi_open binds
 * (before privileges are dropped), svc_httpapi_start serves (after the
 * hash workers started).  Neither is stopped at SIGTERM (like the admin
 * threads: a session may wait for a hash); the process seals and exits.
 * Failures: VS_* with err set; the caller dies.
 */
struct conn_set;
int svc_poppassd_open(struct svc *s, struct conn_set *cs, unsigned k,
    struct vs_err *err);
int svc_httpapi_open(struct svc *s, struct vs_err *err);
int svc_httpapi_start(struct svc *s, struct vs_err *err);
/* Both: a loopback ADDRESS:PORT (conf_listen_parse) bound and listening,
 * non-blocking, close-on-exec; the descriptor, or -1 with err set. */
int svc_listen_tcp(const char *what, const char *listen, struct vs_err *err);

/*
 * guard.c: the failed-login throttle shared by the hosts of a PostgreSQL
 * store (store.h's store_throttle_*, lib/kv_pg_throttle.h).  The local
 * reservation (svc_guard_check, main thread, no database) comes first;
 * then a hash worker, before it hashes (after its lookup: exists, the
 * login is a user), reserves the check in the database on the same keys:
 * svc_guard_shared_reserve() - true: go on (gs holds what to settle);
 * false: no check, *rep is the answer (wiped and filled): "fail" with the
 * reason "throttled" (a key is at its limit across the hosts: counted in
 * the database, blocked locally so that the next attempts here are
 * refused with no round trip, recorded as an event and a log line here),
 * or "temp" (checks in flight elsewhere, sealed, or the database could
 * not be asked - never a "no" it did not give).  After the answer the
 * worker settles what it reserved: svc_guard_shared_settle() (a failure
 * counts, a success gives back - and clears the login -, temp gives
 * back).  The main thread never waits for the database.  LMDB stores:
 * true, nothing reserved.  svc_guard_result() gives a "fail throttled"
 * reply's local reservation back without counting it again.
 */
struct guard_shared {
	bool held[2];                   /* [0] the address, [1] the login */
	uint8_t k[2][STORE_THROTTLE_KEY_BYTES];
	uint8_t token[2][STORE_THROTTLE_TOKEN_BYTES];
};
bool svc_guard_shared_reserve(struct svc *s, const struct auth_request *req,
    bool exists, struct guard_shared *gs, struct auth_reply *rep);
void svc_guard_shared_settle(struct svc *s, const struct auth_request *req,
    struct guard_shared *gs, const struct auth_reply *rep);

#endif
