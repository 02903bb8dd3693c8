/*
 * seal.c - root key, keyslots, sealed records, blind indexes (see seal.h
 * for the byte formats).
 *
 * Security stance: the key area is sodium_malloc()ed and kept read-only
 * (sodium_mprotect_readonly) except while it is being filled; every KEK and
 * temporary plaintext is wiped before return; a failed authentication is
 * reported as such and never partially decrypted output is returned.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "seal.h"

#define KDF_CONTEXT "vmsealv1"
#define SUBKEY_RECORD 1
#define SUBKEY_INDEX 2
#define SUBKEY_LOG 3

static const char slot_ad_prefix[] = "vmseal-slot-v1";
static const char recovery_kek_label[] = "vmseal-recovery-kek";

struct seal_keys {
	uint8_t root[SEAL_KEY_BYTES];
	uint8_t record[SEAL_KEY_BYTES];
	uint8_t index[SEAL_KEY_BYTES];
	uint8_t log[SEAL_KEY_BYTES];
	bool locked;
};

/* Allocate a key area, copy the root key in (or make a random one when
 * root is NULL), derive the subkeys, then make the area read-only. */
static int
keys_alloc(const uint8_t *root, struct seal_keys **keys_r,
    struct vs_err *err)
{
	struct seal_keys *k;

	k = sodium_malloc(sizeof(*k));
	if (k == NULL)
		return vs_fail(err, VS_ENOMEM, "cannot allocate key memory");
	if (root != NULL)
		memcpy(k->root, root, SEAL_KEY_BYTES);
	else
		randombytes_buf(k->root, SEAL_KEY_BYTES);
	crypto_kdf_derive_from_key(k->record, SEAL_KEY_BYTES, SUBKEY_RECORD,
	    KDF_CONTEXT, k->root);
	crypto_kdf_derive_from_key(k->index, SEAL_KEY_BYTES, SUBKEY_INDEX,
	    KDF_CONTEXT, k->root);
	crypto_kdf_derive_from_key(k->log, SEAL_KEY_BYTES, SUBKEY_LOG,
	    KDF_CONTEXT, k->root);
	/* sodium_malloc already tries mlock; check it for status reports. */
	k->locked = sodium_mlock(k, sizeof(*k)) == 0;
	sodium_mprotect_readonly(k);
	*keys_r = k;
	return VS_OK;
}

int
seal_keys_new(struct seal_keys **keys_r, struct vs_err *err)
{
	return keys_alloc(NULL, keys_r, err);
}

void
seal_keys_free(struct seal_keys **keys)
{
	if (keys == NULL || *keys == NULL)
		return;
	/* sodium_free wipes the area before unmapping it. */
	sodium_mprotect_readwrite(*keys);
	sodium_free(*keys);
	*keys = NULL;
}

bool
seal_keys_locked(const struct seal_keys *keys)
{
	return keys != NULL && keys->locked;
}

bool
seal_keys_export_root(const struct seal_keys *keys,
    uint8_t out[SEAL_KEY_BYTES])
{
	if (keys == NULL)
		return false;
	memcpy(out, keys->root, SEAL_KEY_BYTES);
	return true;
}

static void
slot_ad(const uint8_t store_id[SEAL_STORE_ID_BYTES], const uint8_t *hdr,
    uint8_t *ad, size_t *adlen)
{
	size_t n = sizeof(slot_ad_prefix) - 1;

	memcpy(ad, slot_ad_prefix, n);
	memcpy(ad + n, store_id, SEAL_STORE_ID_BYTES);
	n += SEAL_STORE_ID_BYTES;
	memcpy(ad + n, hdr, SEAL_SLOT_HEADER_BYTES);
	n += SEAL_SLOT_HEADER_BYTES;
	*adlen = n;
}

#define SLOT_AD_MAX (sizeof(slot_ad_prefix) + SEAL_STORE_ID_BYTES + \
    SEAL_SLOT_HEADER_BYTES)

static int
passphrase_kek(const char *pass, size_t passlen, const uint8_t *salt,
    uint64_t ops, uint64_t mem, uint8_t kek[SEAL_KEY_BYTES],
    struct vs_err *err)
{
	if (ops < crypto_pwhash_OPSLIMIT_MIN ||
	    ops > crypto_pwhash_OPSLIMIT_MAX ||
	    mem < crypto_pwhash_MEMLIMIT_MIN ||
	    mem > crypto_pwhash_MEMLIMIT_MAX || mem > SIZE_MAX)
		return vs_fail(err, VS_EINVAL,
		    "key slot cost out of range (ops %llu, mem %llu)",
		    (unsigned long long)ops, (unsigned long long)mem);
	if (crypto_pwhash(kek, SEAL_KEY_BYTES, pass, passlen, salt, ops,
	    (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return vs_fail(err, VS_ENOMEM,
		    "not enough memory to derive the key (Argon2id, %llu MiB)",
		    (unsigned long long)(mem >> 20));
	return VS_OK;
}

static void
recovery_kek(const uint8_t reckey[SEAL_KEY_BYTES], const uint8_t *salt,
    uint8_t kek[SEAL_KEY_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, reckey, SEAL_KEY_BYTES, SEAL_KEY_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)recovery_kek_label,
	    sizeof(recovery_kek_label) - 1);
	crypto_generichash_update(&st, salt, crypto_pwhash_SALTBYTES);
	crypto_generichash_final(&st, kek, SEAL_KEY_BYTES);
	sodium_memzero(&st, sizeof(st));
}

static void
slot_header(uint8_t *s, enum seal_slot_type type, uint8_t slot_id,
    const struct seal_slot_cost *cost)
{
	s[0] = SEAL_SLOT_VERSION;
	s[1] = (uint8_t)type;
	s[2] = slot_id;
	s[3] = 0;
	vs_put_u64be(s + 4, cost ? cost->opslimit : 0);
	vs_put_u64be(s + 12, cost ? cost->memlimit : 0);
	randombytes_buf(s + 20, crypto_pwhash_SALTBYTES);
}

static void
slot_wrap(const struct seal_keys *keys, const uint8_t *store_id,
    uint8_t *s, const uint8_t kek[SEAL_KEY_BYTES])
{
	uint8_t ad[SLOT_AD_MAX];
	size_t adlen;
	uint8_t *nonce = s + SEAL_SLOT_HEADER_BYTES;

	randombytes_buf(nonce, SEAL_NONCE_BYTES);
	slot_ad(store_id, s, ad, &adlen);
	crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + SEAL_NONCE_BYTES,
	    NULL, keys->root, SEAL_KEY_BYTES, ad, adlen, NULL, nonce, kek);
}

int
seal_slot_wrap_passphrase(const struct seal_keys *keys,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], uint8_t slot_id,
    const char *pass, size_t passlen, const struct seal_slot_cost *cost,
    uint8_t out[SEAL_SLOT_BYTES], struct vs_err *err)
{
	uint8_t kek[SEAL_KEY_BYTES];
	int r;

	if (slot_id >= SEAL_MAX_SLOTS)
		return vs_fail(err, VS_EINVAL, "slot id out of range");
	slot_header(out, SEAL_SLOT_PASSPHRASE, slot_id, cost);
	r = passphrase_kek(pass, passlen, out + 20, cost->opslimit,
	    cost->memlimit, kek, err);
	if (r == VS_OK)
		slot_wrap(keys, store_id, out, kek);
	sodium_memzero(kek, sizeof(kek));
	return r;
}

int
seal_slot_wrap_recovery(const struct seal_keys *keys,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], uint8_t slot_id,
    const uint8_t reckey[SEAL_KEY_BYTES], uint8_t out[SEAL_SLOT_BYTES],
    struct vs_err *err)
{
	uint8_t kek[SEAL_KEY_BYTES];

	if (slot_id >= SEAL_MAX_SLOTS)
		return vs_fail(err, VS_EINVAL, "slot id out of range");
	slot_header(out, SEAL_SLOT_RECOVERY, slot_id, NULL);
	recovery_kek(reckey, out + 20, kek);
	slot_wrap(keys, store_id, out, kek);
	sodium_memzero(kek, sizeof(kek));
	return VS_OK;
}

int
seal_slot_info(const uint8_t *slot, size_t len,
    struct seal_slot_info *info_r, struct vs_err *err)
{
	if (len != SEAL_SLOT_BYTES)
		return vs_fail(err, VS_EINVAL, "key slot has %zu bytes, not %u",
		    len, (unsigned)SEAL_SLOT_BYTES);
	if (slot[0] != SEAL_SLOT_VERSION)
		return vs_fail(err, VS_EINVAL, "key slot version %u unknown",
		    slot[0]);
	if (slot[1] != SEAL_SLOT_PASSPHRASE && slot[1] != SEAL_SLOT_RECOVERY)
		return vs_fail(err, VS_EINVAL, "key slot type %u unknown",
		    slot[1]);
	if (slot[2] >= SEAL_MAX_SLOTS || slot[3] != 0)
		return vs_fail(err, VS_EINVAL, "key slot header is malformed");
	info_r->version = slot[0];
	info_r->type = (enum seal_slot_type)slot[1];
	info_r->id = slot[2];
	info_r->cost.opslimit = vs_get_u64be(slot + 4);
	info_r->cost.memlimit = vs_get_u64be(slot + 12);
	return VS_OK;
}

static int
slot_unwrap(const uint8_t *slot, const uint8_t *store_id,
    const uint8_t kek[SEAL_KEY_BYTES], struct seal_keys **keys_r,
    struct vs_err *err)
{
	uint8_t ad[SLOT_AD_MAX];
	uint8_t *root;
	size_t adlen;
	const uint8_t *nonce = slot + SEAL_SLOT_HEADER_BYTES;
	int r;

	root = sodium_malloc(SEAL_KEY_BYTES);
	if (root == NULL)
		return vs_fail(err, VS_ENOMEM, "cannot allocate key memory");
	slot_ad(store_id, slot, ad, &adlen);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(root, NULL, NULL,
	    nonce + SEAL_NONCE_BYTES, SEAL_KEY_BYTES + SEAL_TAG_BYTES, ad,
	    adlen, nonce, kek) != 0) {
		sodium_free(root);
		return vs_fail(err, VS_EBADKEY, "wrong passphrase or key");
	}
	r = keys_alloc(root, keys_r, err);
	sodium_free(root);
	return r;
}

int
seal_slot_open_passphrase(const uint8_t *slot, size_t len,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], const char *pass,
    size_t passlen, struct seal_keys **keys_r, struct vs_err *err)
{
	struct seal_slot_info info;
	uint8_t kek[SEAL_KEY_BYTES];
	int r;

	if ((r = seal_slot_info(slot, len, &info, err)) != VS_OK)
		return r;
	if (info.type != SEAL_SLOT_PASSPHRASE)
		return vs_fail(err, VS_EINVAL, "not a passphrase slot");
	r = passphrase_kek(pass, passlen, slot + 20, info.cost.opslimit,
	    info.cost.memlimit, kek, err);
	if (r == VS_OK)
		r = slot_unwrap(slot, store_id, kek, keys_r, err);
	sodium_memzero(kek, sizeof(kek));
	return r;
}

int
seal_slot_open_recovery(const uint8_t *slot, size_t len,
    const uint8_t store_id[SEAL_STORE_ID_BYTES],
    const uint8_t reckey[SEAL_KEY_BYTES], struct seal_keys **keys_r,
    struct vs_err *err)
{
	struct seal_slot_info info;
	uint8_t kek[SEAL_KEY_BYTES];
	int r;

	if ((r = seal_slot_info(slot, len, &info, err)) != VS_OK)
		return r;
	if (info.type != SEAL_SLOT_RECOVERY)
		return vs_fail(err, VS_EINVAL, "not a recovery slot");
	recovery_kek(reckey, slot + 20, kek);
	r = slot_unwrap(slot, store_id, kek, keys_r, err);
	sodium_memzero(kek, sizeof(kek));
	return r;
}

static int
record_ad(struct buf *ad, const uint8_t *store_id, uint8_t table,
    const void *key, size_t klen)
{
	int r;

	if ((r = buf_append(ad, store_id, SEAL_STORE_ID_BYTES)) != 0 ||
	    (r = buf_append_u8(ad, table)) != 0 ||
	    (r = buf_append(ad, key, klen)) != 0)
		return r;
	return 0;
}

int
seal_record(const struct seal_keys *keys,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], uint8_t table,
    const void *key, size_t klen, const void *pt, size_t ptlen,
    struct buf *out, struct vs_err *err)
{
	struct buf ad = { 0 };
	uint8_t *p;
	int r;

	out->len = 0;
	if ((r = record_ad(&ad, store_id, table, key, klen)) != 0 ||
	    (r = buf_reserve(out, SEAL_RECORD_OVERHEAD + ptlen)) != 0) {
		buf_free(&ad);
		return vs_fail(err, r, "record too large to seal");
	}
	p = out->data;
	p[0] = SEAL_RECORD_VERSION;
	randombytes_buf(p + 1, SEAL_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + 1 + SEAL_NONCE_BYTES,
	    NULL, pt, ptlen, ad.data, ad.len, NULL, p + 1, keys->record);
	out->len = SEAL_RECORD_OVERHEAD + ptlen;
	buf_free(&ad);
	return VS_OK;
}

int
seal_open_into(const struct seal_keys *keys,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], uint8_t table,
    const void *key, size_t klen, const void *ct, size_t ctlen,
    uint8_t *out, size_t cap, size_t *len_r, struct vs_err *err)
{
	uint8_t ad[SEAL_STORE_ID_BYTES + 1 + 64];
	const uint8_t *c = ct;

	*len_r = 0;
	if (ctlen < SEAL_RECORD_OVERHEAD)
		return vs_fail(err, VS_ECORRUPT, "sealed record is truncated");
	if (c[0] != SEAL_RECORD_VERSION)
		return vs_fail(err, VS_ECORRUPT,
		    "sealed record has unknown version %u", c[0]);
	/* Keys are blind indexes (32 bytes) or short meta names. */
	if (klen > sizeof(ad) - SEAL_STORE_ID_BYTES - 1)
		return vs_fail(err, VS_ECORRUPT, "record key is too long");
	if (ctlen - SEAL_RECORD_OVERHEAD > cap)
		return vs_fail(err, VS_ELIMIT, "record too large to open");
	memcpy(ad, store_id, SEAL_STORE_ID_BYTES);
	ad[SEAL_STORE_ID_BYTES] = table;
	memcpy(ad + SEAL_STORE_ID_BYTES + 1, key, klen);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL,
	    c + 1 + SEAL_NONCE_BYTES, ctlen - 1 - SEAL_NONCE_BYTES, ad,
	    SEAL_STORE_ID_BYTES + 1 + klen, c + 1, keys->record) != 0) {
		sodium_memzero(out, ctlen - SEAL_RECORD_OVERHEAD);
		return vs_fail(err, VS_ECORRUPT,
		    "sealed record failed to authenticate (tampered with, "
		    "moved, or sealed with another key)");
	}
	*len_r = ctlen - SEAL_RECORD_OVERHEAD;
	return VS_OK;
}

int
seal_open(const struct seal_keys *keys,
    const uint8_t store_id[SEAL_STORE_ID_BYTES], uint8_t table,
    const void *key, size_t klen, const void *ct, size_t ctlen,
    struct buf *out, struct vs_err *err)
{
	int r;

	out->len = 0;
	if (ctlen < SEAL_RECORD_OVERHEAD)
		return vs_fail(err, VS_ECORRUPT, "sealed record is truncated");
	if ((r = buf_reserve(out, ctlen - SEAL_RECORD_OVERHEAD)) != 0)
		return vs_fail(err, r, "record too large to open");
	return seal_open_into(keys, store_id, table, key, klen, ct, ctlen,
	    out->data, out->cap, &out->len, err);
}

void
seal_log_mac(const struct seal_keys *keys, const void *data, size_t len,
    uint8_t out[SEAL_INDEX_BYTES])
{
	crypto_generichash(out, SEAL_INDEX_BYTES, data, len, keys->log,
	    SEAL_KEY_BYTES);
}

void
seal_index(const struct seal_keys *keys, uint8_t table, const char *name,
    size_t len, uint8_t out[SEAL_INDEX_BYTES])
{
	crypto_generichash_state st;
	uint8_t in[1024];

	/* One-shot for names of ordinary size (all of them: NAME_BUF < 1024);
	 * the streaming form, same result, for anything longer. */
	if (len < sizeof(in)) {
		in[0] = table;
		memcpy(in + 1, name, len);
		crypto_generichash(out, SEAL_INDEX_BYTES, in, len + 1,
		    keys->index, SEAL_KEY_BYTES);
		sodium_memzero(in, len + 1);
		return;
	}

	crypto_generichash_init(&st, keys->index, SEAL_KEY_BYTES,
	    SEAL_INDEX_BYTES);
	crypto_generichash_update(&st, &table, 1);
	crypto_generichash_update(&st, (const uint8_t *)name, len);
	crypto_generichash_final(&st, out, SEAL_INDEX_BYTES);
	sodium_memzero(&st, sizeof(st));
}
