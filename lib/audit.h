/*
 * audit.h - the audit trail: every administrative action, sealed in the
 * store and hash-chained.
 *
 * An entry is a record (record.h) in the store's audit log
 * (store_log_append(STORE_LOG_AUDIT): key = u64 big-endian sequence number
 * from 1, value sealed and bound to that number) with these fields:
 *   1 time    i64, seconds since the epoch
 *   2 uid     u32, the operator (the admin socket's peer in the service,
 *             getuid() offline)
 *   3 action  what was done, a short word: "user-add", "import", "seal"...
 *             (lower-case letters, digits and '-', at most AUDIT_ACTION_MAX)
 *   4 detail  what it was done to, plain text: "ron", "alice@x.ie alice",
 *             "htpasswd users.txt: 1000 user(s) imported"...  Never a
 *             password, a hash or a key.  Longer than AUDIT_DETAIL_MAX:
 *             cut (at a character boundary) and ended with "...";
 *             control characters are refused.
 *   5 prev    32 bytes: the chain value of the entry before (zeros for
 *             entry 1).
 * Chain value of entry n:
 *   C(n) = BLAKE2b-256(key = log subkey,
 *                      "vmseal-audit-v1" || u64be n || record bytes of n)
 * The record bytes hold C(n-1), so C(n) covers the whole trail up to n.
 * The head - u8 version (1) || u64be last seq || C(last) - is kept sealed
 * in the meta table under "audit_head" and rewritten in the same
 * transaction as every append.
 *
 * What audit_verify() detects, without trusting the files: a missing entry
 * (a gap in the numbers, or entries missing at the start), an edited or
 * moved entry (it fails to authenticate: sealed records are bound to their
 * number), an entry whose prev does not match the entry before (forged
 * with the key, reordered), a missing last entry or entries appended
 * outside audit_append() (the head does not match the last entry).  What
 * it cannot detect: the whole store (head included) put back to an older
 * copy - nothing inside the store can; keep copies of
 * 'vmseal audit --json' elsewhere if that matters.
 *
 * audit_append() fails closed: when the head does not match the log (the
 * trail was tampered with or damaged) it returns VS_ECORRUPT and the
 * caller's transaction - the change it wanted to record - is to be
 * aborted.
 */
#ifndef VS_AUDIT_H
#define VS_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "vs_err.h"

#define AUDIT_ACTION_MAX 32
#define AUDIT_DETAIL_MAX 512
#define AUDIT_CHAIN_BYTES 32
#define AUDIT_HEAD_NAME "audit_head"

struct audit_entry {
	uint64_t seq;
	int64_t time;
	uint32_t uid;
	char action[AUDIT_ACTION_MAX + 1];
	char detail[AUDIT_DETAIL_MAX + 1];
	uint8_t prev[AUDIT_CHAIN_BYTES];
};

/* Record an action in txn (a write transaction; commit it to keep the
 * entry, together with the change it records).  detail may be NULL.
 * VS_EINVAL for a malformed action or a control character in detail,
 * VS_ECORRUPT when the trail does not match its head, or a store error. */
int audit_append(struct store_txn *txn, uint32_t uid, const char *action,
    const char *detail, struct vs_err *err);
/* Same at a given time (tests, imports of old trails). */
int audit_append_at(struct store_txn *txn, int64_t when, uint32_t uid,
    const char *action, const char *detail, struct vs_err *err);

/* Every entry in order (decoded, not chain-checked: see audit_verify).
 * cb returns VS_OK to go on, anything else to stop (returned as is). */
typedef int audit_cb(void *ctx, const struct audit_entry *e,
    struct vs_err *err);
int audit_each(struct store_txn *txn, audit_cb *cb, void *ctx,
    struct vs_err *err);

/* Check the whole trail and its head.  VS_OK (*bad_seq_r = 0), or
 * VS_ECORRUPT with a message naming the first bad entry and its number in
 * *bad_seq_r (0 when the head itself is malformed), or a store error.
 * audit_verify_count() also gives the number of entries checked in *n_r
 * (may be NULL). */
int audit_verify(struct store_txn *txn, uint64_t *bad_seq_r,
    struct vs_err *err);
int audit_verify_count(struct store_txn *txn, uint64_t *bad_seq_r,
    uint64_t *n_r, struct vs_err *err);

/* Replace control characters in s by '?' (for details built from file
 * names and other text the operator typed). */
void audit_sanitize(char *s);

/* Recompute every entry's chain link and the head with the store's
 * current keys (after a key rotation re-sealed them); contents, order and
 * numbers are kept.  In a write transaction. */
int audit_rechain(struct store_txn *txn, struct vs_err *err);

#endif
