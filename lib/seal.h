/*
 * seal.h - the store's cryptography: root key, keyslots, sealed records and
 * blind indexes.
 *
 * Root key K: 32 random bytes, never written in the clear.  It and the
 * subkeys derived from it (crypto_kdf, context "vmsealv1": 1 record key,
 * 2 index key, 3 log key) live in one sodium_malloc() area (guard pages,
 * excluded from core dumps, mlock()ed where the system allows) that is
 * read-only while in use and wiped by seal_keys_free().
 *
 * Keyslot (SEAL_SLOT_BYTES, all integers big-endian):
 *   0  u8   slot format version (1)
 *   1  u8   type: 1 passphrase, 2 recovery key
 *   2  u8   slot id (0-7)
 *   3  u8   reserved (0)
 *   4  u64  Argon2id opslimit  (0 for a recovery slot)
 *  12  u64  Argon2id memlimit  (bytes; 0 for a recovery slot)
 *  20  16   salt
 *  36  24   nonce
 *  60  48   XChaCha20-Poly1305(K) (32 bytes + 16 tag)
 * KEK = Argon2id(passphrase, salt, ops, mem) for a passphrase slot;
 * KEK = BLAKE2b-256(key = recovery key, "vmseal-recovery-kek" || salt) for a
 * recovery slot.  Associated data = "vmseal-slot-v1" || store id || bytes
 * 0..35 of the slot, so a slot moved to another store, id or type, or with
 * edited parameters, fails to open.  A wrong passphrase fails the AEAD tag
 * check; nothing else tells it apart.
 *
 * Sealed record: u8 version (1) || nonce(24) || XChaCha20-Poly1305(pt)
 * with associated data = store id (16) || u8 table || LMDB key.  Moving a
 * ciphertext to another key, table or store fails to open.
 *
 * Blind index: BLAKE2b-256(key = index key, u8 table || normalized name).
 *
 * Ownership: struct seal_keys is opaque and owned by its creator; free it
 * with seal_keys_free().  Output buffers are the caller's.
 */
#ifndef VS_SEAL_H
#define VS_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vs_err.h"

#define SEAL_KEY_BYTES 32
#define SEAL_STORE_ID_BYTES 16
#define SEAL_INDEX_BYTES 32
#define SEAL_NONCE_BYTES 24
#define SEAL_TAG_BYTES 16
#define SEAL_RECORD_VERSION 1
#define SEAL_RECORD_OVERHEAD (1 + SEAL_NONCE_BYTES + SEAL_TAG_BYTES)
#define SEAL_SLOT_VERSION 1
#define SEAL_SLOT_HEADER_BYTES 36
#define SEAL_SLOT_BYTES (SEAL_SLOT_HEADER_BYTES + SEAL_NONCE_BYTES + \
    SEAL_KEY_BYTES + SEAL_TAG_BYTES)
#define SEAL_MAX_SLOTS 8

enum seal_slot_type {
	SEAL_SLOT_PASSPHRASE = 1,
	SEAL_SLOT_RECOVERY = 2,
};

struct seal_slot_cost {
	uint64_t opslimit;
	uint64_t memlimit;
};

struct seal_slot_info {
	uint8_t version;
	enum seal_slot_type type;
	uint8_t id;
	struct seal_slot_cost cost;
};

struct seal_keys;

/* Make a new random root key (and its subkeys). */
int seal_keys_new(struct seal_keys **keys_r, struct vs_err *err);
/* Wipe and free; sets *keys to NULL; NULL allowed. */
void seal_keys_free(struct seal_keys **keys);
/* True when the key area could be locked in RAM (mlock). */
bool seal_keys_locked(const struct seal_keys *keys);

/* Wrap K into a keyslot.  out must hold SEAL_SLOT_BYTES. */
int seal_slot_wrap_passphrase(const struct seal_keys *keys,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], uint8_t slot_id,
    const char *pass, size_t passlen, const struct seal_slot_cost *cost,
    uint8_t out[SEAL_SLOT_BYTES], struct vs_err *err);
int seal_slot_wrap_recovery(const struct seal_keys *keys,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], uint8_t slot_id,
    const uint8_t reckey[SEAL_KEY_BYTES], uint8_t out[SEAL_SLOT_BYTES],
    struct vs_err *err);

/* Parse a slot's public header (VS_EINVAL if malformed). */
int seal_slot_info(const uint8_t *slot, size_t len,
    struct seal_slot_info *info_r, struct vs_err *err);

/* Open a slot of the matching type.  VS_EBADKEY when the passphrase or
 * key is wrong (or the slot was tampered with), VS_EINVAL when the slot is
 * malformed or of the other type, VS_ENOMEM. */
int seal_slot_open_passphrase(const uint8_t *slot, size_t len,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], const char *pass,
    size_t passlen, struct seal_keys **keys_r, struct vs_err *err);
int seal_slot_open_recovery(const uint8_t *slot, size_t len,
    const uint8_t store_id[SEAL_STORE_ID_BYTES],
    const uint8_t reckey[SEAL_KEY_BYTES], struct seal_keys **keys_r,
    struct vs_err *err);

/* Seal plaintext into out (replacing its contents). */
int seal_record(const struct seal_keys *keys,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], uint8_t table,
    const void *key, size_t klen, const void *pt, size_t ptlen,
    struct buf *out, struct vs_err *err);
/* Open a sealed record into out (replacing its contents).  VS_ECORRUPT
 * when it does not authenticate (tampered, moved, or another key). */
int seal_open(const struct seal_keys *keys,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], uint8_t table,
    const void *key, size_t klen, const void *ct, size_t ctlen,
    struct buf *out, struct vs_err *err);
/* The same into the caller's memory: out holds cap bytes; the plaintext
 * is ctlen - SEAL_RECORD_OVERHEAD bytes (VS_ELIMIT, nothing written, when
 * it does not fit), its length goes to *len_r.  The caller wipes out.
 * For the lookup path: no allocation per record. */
int seal_open_into(const struct seal_keys *keys,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], uint8_t table,
    const void *key, size_t klen, const void *ct, size_t ctlen,
    uint8_t *out, size_t cap, size_t *len_r, struct vs_err *err);

/* Blind index of a normalized name in a table. */
void seal_index(const struct seal_keys *keys, uint8_t table,
    const char *name, size_t len, uint8_t out[SEAL_INDEX_BYTES]);

/* Keyed BLAKE2b-256 with the log subkey (hash chains of logs). */
void seal_log_mac(const struct seal_keys *keys, const void *data, size_t len,
    uint8_t out[SEAL_INDEX_BYTES]);

/* Test and diagnostics only: a copy of the root key (to prove in tests
 * that it does not linger in memory).  Returns false if keys is NULL. */
bool seal_keys_export_root(const struct seal_keys *keys,
    uint8_t out[SEAL_KEY_BYTES]);

#endif
