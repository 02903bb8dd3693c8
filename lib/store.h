/*
 * store.h - the encrypted store: domains, users, addresses and aliases.
 *
 * A store is a folder (default /var/lib/vmseal, mode 0700) holding an LMDB
 * database, or a PostgreSQL database shared by several mail hosts, both
 * reached through kv.h (see "Locations" below).  Every name is normalized (names.h), looked
 * up by its blind index and kept in a sealed record (seal.h, record.h): the
 * files hold no user name, address, domain or hash in the clear.
 *
 * Life of a handle:
 *   store_init()      make a new store: root key, passphrase slot 0,
 *                     recovery slot 1, sealed settings.
 *   store_open()      open the files; the handle starts sealed (no key).
 *   store_unseal()    load the key from a passphrase, the recovery key or
 *                     a key file, and check the store against its head.
 *   store_txn_*()     read or write in one transaction; every change of a
 *                     command happens in one, so it lands whole or not at all.
 *   store_seal()      wipe the key; store_close() wipes and closes.
 *
 * Opening an LMDB store for writing takes an exclusive lock (flock on
 * DIR/vmseal.lock): a second writer - the CLI while vmsealed runs - gets
 * VS_EBUSY.  A PostgreSQL store takes no lock: its write transactions
 * are SERIALIZABLE instead (kv_pg.h), and a conflict is VS_EBUSY,
 * nothing written, "run it again".
 *
 * Names passed in are raw (as typed or imported); names in returned records
 * are normalized.  Returned records are owned by the caller: release with
 * vs_*_clear() (record.h) or store_*_list_free().
 *
 * Consistency kept by this module: an address belongs to an existing user
 * and a hosted domain; an address is either a mailbox address or an alias,
 * never both; a user's record lists its addresses and deleting the user
 * deletes them; a domain is deleted only when no address or alias in it
 * remains (logins of the form user@domain and alias destinations are not
 * counted: they are names, not deliveries to a hosted mailbox).
 */
#ifndef VS_STORE_H
#define VS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "seal.h"
#include "vs_err.h"

#define STORE_DEFAULT_DIR "/var/lib/vmseal"
/* Format 2: the store has a sealed head (see "The head" below).  A
 * format 1 store is upgraded by the first unseal of a writable handle. */
#define STORE_FORMAT 2

struct store;
struct store_txn;

/*
 * Locations: where a store is, as the operator writes it (vmseal --store,
 * store = in vmseal.conf; the dir argument of store_init and store_open).
 *   lmdb:DIR or DIR        the LMDB store in folder DIR (the default);
 *   postgresql:CONNINFO    the PostgreSQL database that libpq's CONNINFO
 *                          names ("host=... dbname=..." or a URI; a
 *                          location that is itself a postgresql:// or
 *                          postgres:// URI is taken whole).
 * A CONNINFO may hold a password: it is never shown.  store_location_show
 * gives what may be: the folder, or "postgresql:host=H port=P dbname=D"
 * (those keys only), or "postgresql:(conninfo)" when it cannot tell.
 * Without libpq (HAVE_PQ) a postgresql: location is refused: "this vmseal
 * was built without PostgreSQL support".
 */
enum store_backend { STORE_BACKEND_LMDB, STORE_BACKEND_PG };
/* The backend a location names; *rest_r (may be NULL) the folder or the
 * conninfo, inside loc. */
enum store_backend store_location(const char *loc, const char **rest_r);
#define STORE_SHOW_MAX 256
void store_location_show(const char *loc, char out[STORE_SHOW_MAX]);

struct store_init_params {
	struct seal_slot_cost slot_cost;        /* passphrase slot Argon2id */
	struct vs_settings settings;
};

/* Defaults: slot cost = libsodium MODERATE (ops 3, 256 MiB); user hashes
 * m = 19 MiB, t = 2 (OWASP); local parts folded. */
void store_init_params_default(struct store_init_params *p);

/* Create a store at location dir (an LMDB folder is created with mode 0700
 * if missing; the PostgreSQL table if missing; an existing store there is
 * VS_EEXIST).  Writes the 32-byte recovery key to reckey_r:
 * show it once, then wipe it. */
int store_init(const char *dir, const struct store_init_params *p,
    const char *pass, size_t passlen, uint8_t reckey_r[SEAL_KEY_BYTES],
    struct vs_err *err);

#define STORE_OPEN_WRITE 0x1
/* For inspection (verify, audit --verify, reading what is there): a store
 * that does not match its head still unseals; store_head() says so, and
 * no transaction of the handle commits.  Without it such a store does not
 * unseal (VS_ECORRUPT): vmsealed stays sealed rather than serve it. */
#define STORE_OPEN_INSPECT 0x2

int store_open(const char *dir, unsigned flags, struct store **st_r,
    struct vs_err *err);

/*
 * Unsealing: one call for every way in.  secret is
 *   STORE_UNSEAL_PASSPHRASE  the passphrase (every passphrase slot tried);
 *   STORE_UNSEAL_RECOVERY    the recovery key's text form, as printed
 *                            (reckey.h: groups, dashes, spaces accepted);
 *   STORE_UNSEAL_KEYFILE     a key file's contents: a passphrase, its
 *                            trailing newline(s) ignored.
 * VS_EBADKEY if it opens no slot.  Then the head is checked against the
 * whole store (every table read once, keyed hashes - see "The head"):
 * VS_ECORRUPT with the table named if records were rolled back, deleted or
 * added outside vmseal (unless STORE_OPEN_INSPECT).  A format 1 store
 * opened for writing gets its head here (store_head(): created).  The
 * handle stays sealed on any failure.
 */
enum store_unseal_kind {
	STORE_UNSEAL_PASSPHRASE,
	STORE_UNSEAL_RECOVERY,
	STORE_UNSEAL_KEYFILE,
};
int store_unseal(struct store *st, const char *secret, size_t len,
    enum store_unseal_kind kind, struct vs_err *err);
/* The same with a raw passphrase or a raw 32-byte recovery key. */
int store_unseal_passphrase(struct store *st, const char *pass,
    size_t passlen, struct vs_err *err);
int store_unseal_recovery(struct store *st,
    const uint8_t reckey[SEAL_KEY_BYTES], struct vs_err *err);
bool store_is_sealed(const struct store *st);
/* Wipe the key now; the handle stays open, sealed. */
void store_seal(struct store *st);
void store_close(struct store **st);

/* The store's location as it may be shown (store_location_show): the
 * folder of an LMDB store, never a PostgreSQL password. */
const char *store_dir(const struct store *st);
enum store_backend store_backend(const struct store *st);
/* The sealed settings (valid while unsealed). */
const struct vs_settings *store_settings(const struct store *st);
/* The key handle (valid while unsealed; owned by the store). */
const struct seal_keys *store_keys(const struct store *st);

int store_txn_begin(struct store *st, bool write, struct store_txn **txn_r,
    struct vs_err *err);
int store_txn_commit(struct store_txn **txn, struct vs_err *err);
void store_txn_abort(struct store_txn **txn);
/* A read transaction kept between bursts of reads (vmsealed's event loop):
 * store_txn_reset() ends its snapshot and keeps the handle;
 * store_txn_renew() starts a new snapshot on it (VS_ESEALED if the store
 * was sealed meanwhile: the handle stays reset).  Both refuse a write
 * transaction (reset does nothing, renew gives VS_EINVAL).
 * store_txn_abort() frees a reset transaction as well as a live one. */
void store_txn_reset(struct store_txn *txn);
int store_txn_renew(struct store_txn *txn, struct vs_err *err);
/* The store a transaction belongs to (e.g. for store_keys()). */
struct store *store_txn_store(struct store_txn *txn);

/*
 * Several writers (PostgreSQL): a write transaction that meets a
 * concurrent one fails with VS_EBUSY and commits nothing; it is run again
 * from its start.  store_write() does that for a transaction given as a
 * function: begin, fn, commit, and on a conflict (at begin, in fn - the
 * backend says the transaction died of one, so a VS_EBUSY fn makes up
 * itself is not retried - or at commit) abort, wait and run fn again, at
 * most STORE_WRITE_ATTEMPTS times in all; the last conflict is returned
 * as VS_EBUSY "... (tried N times)".  fn must start from what it reads in
 * txn, and have no effect outside the transaction until store_write()
 * returns VS_OK (its ctx is the caller's: reset what fn fills at fn's
 * start).  With LMDB (one writer) it is one attempt: begin, fn, commit.
 */
#define STORE_WRITE_ATTEMPTS 8
#define STORE_RETRY_BASE_MS 10u
typedef int store_write_fn(struct store_txn *txn, void *ctx,
    struct vs_err *err);
int store_write(struct store *st, store_write_fn *fn, void *ctx,
    struct vs_err *err);
/* For callers with their own loop (the CLI re-runs a command): true when
 * txn, a write transaction, died of a conflict (PostgreSQL), so that
 * nothing of it can commit and running it again may succeed; ask before
 * aborting it. */
bool store_txn_conflicted(const struct store_txn *txn);
/* After attempt number attempt (1, 2, ...) failed with a conflict: false
 * when no other attempt is due (STORE_WRITE_ATTEMPTS reached, or an LMDB
 * store); else sleeps a short random while (10-20 ms, doubling) and
 * returns true. */
bool store_retry_wait(const struct store *st, unsigned attempt);

struct store_counts {
	size_t domains, users, addresses, aliases;
};
int store_count(struct store_txn *txn, struct store_counts *c,
    struct vs_err *err);

/* Domains. */
int store_domain_add(struct store_txn *txn, const char *domain,
    struct vs_err *err);
int store_domain_del(struct store_txn *txn, const char *domain,
    struct vs_err *err);
int store_domain_get(struct store_txn *txn, const char *domain,
    struct vs_domain *d_r, struct vs_err *err);
int store_domain_list(struct store_txn *txn, struct vs_domain **list_r,
    size_t *n_r, struct vs_err *err);
void store_domain_list_free(struct vs_domain *list, size_t n);

/* Users.  store_user_add() takes u as a template: login and addresses are
 * normalized, timestamps set; u is not modified. */
int store_user_add(struct store_txn *txn, const struct vs_user *u,
    struct vs_err *err);
int store_user_get(struct store_txn *txn, const char *login,
    struct vs_user *u_r, struct vs_err *err);
/* Rewrite an existing user from u (as returned by store_user_get() and
 * changed); the address list is not changed by this call, nor are the
 * mail keys dropped: a u without them keeps the stored ones. */
int store_user_update(struct store_txn *txn, const struct vs_user *u,
    struct vs_err *err);
int store_user_del(struct store_txn *txn, const char *login,
    struct vs_err *err);
int store_user_list(struct store_txn *txn, struct vs_user **list_r,
    size_t *n_r, struct vs_err *err);
void store_user_list_free(struct vs_user *list, size_t n);
/* Note the use of app password name (a login): when and from where.  The
 * user's "updated" time is not changed (it is a use, not a change).
 * VS_ENOTFOUND when the user or the app password is gone. */
int store_user_apppw_used(struct store_txn *txn, const char *login,
    const char *name, int64_t when, const char *ip, struct vs_err *err);
/* Hash a new password with Argon2id at the store's cost and save it. */
int store_user_set_password(struct store_txn *txn, const char *login,
    const char *password, size_t len, struct vs_err *err);

/* Addresses (mailbox address -> login). */
int store_address_add(struct store_txn *txn, const char *address,
    const char *login, struct vs_err *err);
int store_address_del(struct store_txn *txn, const char *address,
    struct vs_err *err);
int store_address_get(struct store_txn *txn, const char *address,
    struct vs_address *a_r, struct vs_err *err);
int store_address_list(struct store_txn *txn, struct vs_address **list_r,
    size_t *n_r, struct vs_err *err);
void store_address_list_free(struct vs_address *list, size_t n);

/* Aliases (address or "@domain" -> destinations).  replace: overwrite an
 * existing alias instead of VS_EEXIST. */
int store_alias_put(struct store_txn *txn, const char *address,
    const char *const *dests, size_t n_dests, bool replace,
    struct vs_err *err);
int store_alias_del(struct store_txn *txn, const char *address,
    struct vs_err *err);
int store_alias_get(struct store_txn *txn, const char *address,
    struct vs_alias *a_r, struct vs_err *err);
int store_alias_list(struct store_txn *txn, struct vs_alias **list_r,
    size_t *n_r, struct vs_err *err);
void store_alias_list_free(struct vs_alias *list, size_t n);

/*
 * The lookup path (lib/lookup.c: vmsealed's answers to Postfix, thousands a
 * second).  store_name_address() normalizes an address as this store does
 * (names.h, local part folded by the store's setting) into out (NAME_BUF
 * bytes); the *_find() calls then take a name normalized that way - or
 * read from a record, or cut from such a name by removing part of its
 * local part - so a question normalizes its key once, not once per table.
 * A name that is not normalized is simply not found.  And "not found", the
 * common answer of a lookup, returns VS_ENOTFOUND without a message (err
 * is left as it was); every other failure is reported as by the *_get()
 * calls.
 */
int store_name_address(struct store_txn *txn, const char *in,
    bool allow_catchall, char *out, struct vs_err *err);
int store_domain_find(struct store_txn *txn, const char *domain,
    struct vs_domain *d_r, struct vs_err *err);
int store_address_find(struct store_txn *txn, const char *address,
    struct vs_address *a_r, struct vs_err *err);
int store_alias_find(struct store_txn *txn, const char *address,
    struct vs_alias *a_r, struct vs_err *err);

/*
 * Append-only logs: the events table (failed and throttled logins) and the
 * audit table (operator actions).  Keys are 8-byte big-endian sequence
 * numbers (so the files show how many entries there are and in which
 * order, nothing else); values are sealed like every record, bound to
 * their sequence number.
 */
enum store_log { STORE_LOG_EVENTS, STORE_LOG_AUDIT };

/* Append rec (a record plaintext); *seq_r gets its number (from 1). */
int store_log_append(struct store_txn *txn, enum store_log log,
    const void *rec, size_t len, uint64_t *seq_r, struct vs_err *err);
/* Every entry with seq >= from, in order; cb returns nonzero to stop. */
typedef int store_log_cb(void *ctx, uint64_t seq, const uint8_t *rec,
    size_t len, struct vs_err *err);
int store_log_each(struct store_txn *txn, enum store_log log,
    uint64_t from, store_log_cb *cb, void *ctx, struct vs_err *err);
/* Delete the oldest entries beyond keep; *deleted_r how many. */
int store_log_trim(struct store_txn *txn, enum store_log log, size_t keep,
    size_t *deleted_r, struct vs_err *err);
int store_log_count(struct store_txn *txn, enum store_log log, size_t *n_r,
    struct vs_err *err);

/* Overwrite log entry seq (it must exist) with rec. */
int store_log_replace(struct store_txn *txn, enum store_log log, uint64_t seq,
    const void *rec, size_t len, struct vs_err *err);

/*
 * Key slots and the key's life (issue 6).
 *
 * Slot changes are made in a write transaction and take effect for the
 * handle when it commits.  At least one way in always remains: removing
 * the last slot is refused, and a change of passphrase writes the new slot
 * before it removes the old one (in one transaction, so a crash leaves
 * either both or the old one).
 */
struct store_slot {
	uint8_t id;
	enum seal_slot_type type;
	struct seal_slot_cost cost;
};

/* The slots as last committed (no key needed). */
void store_slot_list(const struct store *st,
    struct store_slot out[SEAL_MAX_SLOTS], size_t *n_r);
/* Which passphrase slot does pass open?  VS_EBADKEY if none. */
int store_slot_match(struct store *st, const char *pass, size_t len,
    uint8_t *id_r, struct vs_err *err);
/* Add a passphrase slot (cost NULL: the strongest existing passphrase
 * slot's, or libsodium MODERATE). */
int store_slot_add_passphrase(struct store_txn *txn, const char *pass,
    size_t len, const struct seal_slot_cost *cost, uint8_t *id_r,
    struct vs_err *err);
/* Remove a slot; refused (VS_EINVAL) if it is the last one. */
int store_slot_remove(struct store_txn *txn, uint8_t id, struct vs_err *err);
/* Replace the recovery slot(s) by one for a new random recovery key. */
int store_slot_new_recovery(struct store_txn *txn,
    uint8_t reckey_r[SEAL_KEY_BYTES], struct vs_err *err);

/* Rotate: a new root key; every record re-sealed and re-indexed, every
 * log entry and meta value re-sealed, the audit chain recomputed, one
 * passphrase slot (for pass, which must open a slot now) and a new
 * recovery key (reckey_r) - all in one transaction: a crash leaves the old
 * store or the new one, whole.  Other passphrase slots are removed (their
 * passphrases are not known here): add them again afterwards. */
typedef void store_progress_fn(void *ctx, size_t done, size_t total);
/* Runs in the rotation's transaction once the handle has the new key
 * (audit_rechain: the audit chain is made with the log key). */
typedef int store_after_fn(struct store_txn *txn, struct vs_err *err);
int store_rotate(struct store *st, const char *pass, size_t len,
    uint8_t reckey_r[SEAL_KEY_BYTES], store_after_fn *after,
    store_progress_fn *progress, void *ctx, struct vs_err *err);

/* A consistent, compacted hot copy into an empty or new folder (still
 * sealed: it opens with the passphrases valid now).  LMDB stores only: a
 * PostgreSQL store is VS_EINVAL, "use pg_dump" (its dump is as sealed as
 * the table).  dest is created
 * without following a symbolic link, and refused when it exists and is
 * not a folder owned by the running uid; the copy is written through the
 * folder's descriptor into a new file (O_EXCL, O_NOFOLLOW, mode 0600). */
int store_backup(struct store *st, const char *dest, struct vs_err *err);

struct store_verify_report {
	size_t records, bad;
	char first_bad[128];    /* "users record 12" */
	bool head_ok;           /* the head matches (or, format 1, none) */
	char head_problem[VS_ERR_MSG_MAX];      /* why not */
};
/* Open every record of every table (needs the key), and check the head
 * against them (store_head_verify). */
int store_verify(struct store_txn *txn, struct store_verify_report *rep,
    struct vs_err *err);

/*
 * The head (rollback protection, issue 11).  Meta entry "head", sealed
 * like every record: u8 version (1) || u64be generation || for each table
 * (meta, domains, users, addresses, aliases, events, audit):
 * u64be count || 32-byte digest, where digest = XOR over the table's
 * entries of BLAKE2b-256(key = log subkey, "vmseal-state-v1" || u8 table
 * || BLAKE2b-256(key) || BLAKE2b-256(value)) - the meta table
 * without the head itself.  Every write transaction keeps it up to date
 * entry by entry and commits it with generation + 1, so the head commits
 * to every record, key slot, setting and audit entry as they are now: a
 * record put back from an older copy, deleted or added with LMDB's tools
 * (no key needed) no longer matches it, and without the key no matching
 * head can be made.  Checked in full at unseal and by store_verify().
 *
 * What the head cannot see: the whole store, head included, put back to
 * an older copy - it matches its own older head.  That is what anchoring
 * is for: the head's hash and generation, logged outside the store at
 * every change (vmsealed's log, 'vmseal audit --head'), show a store
 * whose generation went back or whose hash differs from the one logged
 * for its generation.
 */
#define STORE_HEAD_HASH_BYTES 32
struct store_head {
	uint64_t generation;    /* write transactions since the head began */
	uint8_t hash[STORE_HEAD_HASH_BYTES];    /* keyed hash of the head */
	uint64_t records;       /* entries it covers, all tables */
	bool present;           /* false: a format 1 store, read-only */
	bool created;           /* made at this handle's unseal (upgrade) */
	bool matches;           /* false: STORE_OPEN_INSPECT, no match */
};
/* The head as the transaction sees it (read from meta, authenticated). */
int store_head(struct store_txn *txn, struct store_head *h_r,
    struct vs_err *err);
/* The head as this handle last checked (unseal) or committed it: for
 * vmsealed to log after each change without a transaction.  Valid while
 * unsealed; *problem_r (may be NULL) gets why it does not match. */
void store_head_of(const struct store *st, struct store_head *h_r,
    const char **problem_r);
/* Recompute the head from every entry and compare: VS_OK, or VS_ECORRUPT
 * naming the first table that does not match.  log: only that log's
 * table (audit verify); STORE_HEAD_ALL: every table. */
#define STORE_HEAD_ALL (-1)
int store_head_verify(struct store_txn *txn, int log, struct vs_err *err);
/* After an operator has looked at a store that does not match its head
 * (opened STORE_OPEN_WRITE | STORE_OPEN_INSPECT): take what is there as
 * the new state - a new head over it, generation + 1, written in one
 * transaction together with after() (the audit entry). */
int store_head_accept(struct store *st, store_after_fn *after,
    struct vs_err *err);

/* A small sealed value in the meta table (e.g. the audit chain's head).
 * VS_ENOTFOUND when absent. */
int store_meta_get(struct store_txn *txn, const char *name, struct buf *out,
    struct vs_err *err);
int store_meta_put(struct store_txn *txn, const char *name, const void *val,
    size_t len, struct vs_err *err);

/* A service's handle on a PostgreSQL store (lib/store_serve.c; kv_pg.h's
 * kv_pg_serve): the read cache and its listener, this host's row in the
 * hosts table, the answer deadline.  On an LMDB store: VS_OK, nothing to
 * do.  Call once, after store_open, before the first transaction. */
struct store_service {
	const char *host_name;          /* NULL: none */
	int answer_timeout_s;           /* -1: the default or environment */
	size_t cache_bytes;             /* 0: no read cache */
};
int store_serve(struct store *st, const struct store_service *o,
    struct vs_err *err);
/* What vmseal status shows of it: false on an LMDB store (or a build
 * without PostgreSQL); info is kv_pg.h's struct kv_pg_service_info. */
struct kv_pg_service_info;
bool store_service_info(struct store *st, struct kv_pg_service_info *i_r);
/* The hosts table (kv_pg_hosts): VS_EINVAL on an LMDB store. */
struct kv_pg_host;
int store_hosts(struct store *st,
    int (*cb)(void *ctx, const struct kv_pg_host *h), void *ctx,
    struct vs_err *err);

/*
 * The failed-login throttle shared by the hosts of a PostgreSQL store
 * (lib/store_throttle.c over lib/kv_pg_throttle.h; the semantics of
 * lib/throttle.h, counted in the database with its clock).  A throttle
 * key (a client address's key, a canonical login) is known to the
 * database only as a keyed hash: BLAKE2b-256 under the store's log
 * subkey of "vmseal-throttle-v1" NUL, the kind byte, the key - the same
 * on every host unsealed with the store's key, not reversible without it.
 * store_throttle_shared: the store is on PostgreSQL (else nothing is
 * shared: the other calls are VS_EINVAL).  store_throttle_key needs the
 * key (VS_ESEALED); the others only the handle, and answer within the
 * backend's answer deadline (VS_EIO otherwise, never a verdict).
 * reserve: PASS (token_r to settle it with), BUSY (checks in flight may
 * use up what is left: nothing counted), BLOCKED (refused, counted).
 * settle: failed - a failure; clear - the key's failures forgotten (a
 * login's success); *blocked_r (may be NULL): blocked after it.
 */
#define STORE_THROTTLE_KEY_BYTES 32
#define STORE_THROTTLE_TOKEN_BYTES 8
enum store_throttle_kind { STORE_THROTTLE_ADDR = 1, STORE_THROTTLE_LOGIN = 2 };
enum store_throttle_verdict { STORE_THROTTLE_PASS, STORE_THROTTLE_BUSY,
    STORE_THROTTLE_BLOCKED };
bool store_throttle_shared(const struct store *st);
int store_throttle_key(const struct store *st, enum store_throttle_kind kind,
    const char *key, uint8_t out[STORE_THROTTLE_KEY_BYTES],
    struct vs_err *err);
int store_throttle_reserve(struct store *st,
    const uint8_t k[STORE_THROTTLE_KEY_BYTES], unsigned limit,
    unsigned window, enum store_throttle_verdict *v_r,
    uint8_t token_r[STORE_THROTTLE_TOKEN_BYTES], struct vs_err *err);
int store_throttle_settle(struct store *st,
    const uint8_t k[STORE_THROTTLE_KEY_BYTES],
    const uint8_t token[STORE_THROTTLE_TOKEN_BYTES], unsigned limit,
    unsigned window, bool failed, bool clear, bool *blocked_r,
    struct vs_err *err);
int store_throttle_clear(struct store *st,
    const uint8_t k[STORE_THROTTLE_KEY_BYTES], bool *found_r,
    struct vs_err *err);

#endif
