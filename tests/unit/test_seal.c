/*
 * test_seal.c - keyslots, sealed records and blind indexes.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "seal.h"

static const struct seal_slot_cost cheap = { 1, 8192 };
static uint8_t sid[SEAL_STORE_ID_BYTES] = "0123456789abcdef";

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static void
test_record_roundtrip(void **state)
{
	struct seal_keys *k = NULL;
	struct buf ct = { 0 }, pt = { 0 };
	const char msg[] = "alice's record";
	uint8_t key[32] = { 1, 2, 3 };

	(void)state;
	assert_int_equal(seal_keys_new(&k, NULL), VS_OK);
	assert_int_equal(seal_record(k, sid, 2, key, sizeof(key), msg,
	    sizeof(msg), &ct, NULL), VS_OK);
	assert_int_equal(ct.len, SEAL_RECORD_OVERHEAD + sizeof(msg));
	assert_int_equal(ct.data[0], SEAL_RECORD_VERSION);
	/* The plaintext does not appear in the ciphertext. */
	assert_null(memmem(ct.data, ct.len, "alice", 5));
	assert_int_equal(seal_open(k, sid, 2, key, sizeof(key), ct.data,
	    ct.len, &pt, NULL), VS_OK);
	assert_int_equal(pt.len, sizeof(msg));
	assert_memory_equal(pt.data, msg, sizeof(msg));
	buf_free(&ct);
	buf_free(&pt);
	seal_keys_free(&k);
	assert_null(k);
}

/* seal_open_into: the caller's buffer; too small refused before anything
 * is written; a tampered record leaves nothing behind. */
static void
test_open_into(void **state)
{
	struct seal_keys *k = NULL;
	struct buf ct = { 0 };
	const char msg[] = "ron@linuxcoaching.eu -> ron";
	uint8_t key[32] = { 7 }, out[64], small[sizeof(msg) - 1];
	struct vs_err err;
	size_t len = 99;

	(void)state;
	assert_int_equal(seal_keys_new(&k, NULL), VS_OK);
	assert_int_equal(seal_record(k, sid, 3, key, sizeof(key), msg,
	    sizeof(msg), &ct, NULL), VS_OK);
	assert_int_equal(seal_open_into(k, sid, 3, key, sizeof(key), ct.data,
	    ct.len, out, sizeof(out), &len, NULL), VS_OK);
	assert_int_equal(len, sizeof(msg));
	assert_memory_equal(out, msg, sizeof(msg));

	memset(small, 0x5a, sizeof(small));
	assert_int_equal(seal_open_into(k, sid, 3, key, sizeof(key), ct.data,
	    ct.len, small, sizeof(small), &len, &err), VS_ELIMIT);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, "too large"));
	for (size_t i = 0; i < sizeof(small); i++)
		assert_int_equal(small[i], 0x5a);

	ct.data[ct.len - 1] ^= 1;
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(seal_open_into(k, sid, 3, key, sizeof(key), ct.data,
	    ct.len, out, sizeof(out), &len, &err), VS_ECORRUPT);
	assert_int_equal(len, 0);
	assert_null(memmem(out, sizeof(out), "ron", 3));
	assert_int_equal(seal_open_into(k, sid, 3, key, sizeof(key), ct.data,
	    SEAL_RECORD_OVERHEAD - 1, out, sizeof(out), &len, &err),
	    VS_ECORRUPT);
	assert_non_null(strstr(err.msg, "truncated"));
	buf_free(&ct);
	seal_keys_free(&k);
}

static void
test_record_every_byte_flip_fails(void **state)
{
	struct seal_keys *k = NULL;
	struct buf ct = { 0 }, pt = { 0 };
	struct vs_err err;
	uint8_t key[32] = { 9 };
	size_t i;

	(void)state;
	assert_int_equal(seal_keys_new(&k, NULL), VS_OK);
	assert_int_equal(seal_record(k, sid, 2, key, sizeof(key), "payload",
	    7, &ct, NULL), VS_OK);
	for (i = 0; i < ct.len; i++) {
		ct.data[i] ^= 0x01;
		assert_int_equal(seal_open(k, sid, 2, key, sizeof(key),
		    ct.data, ct.len, &pt, &err), VS_ECORRUPT);
		ct.data[i] ^= 0x01;
	}
	assert_int_equal(seal_open(k, sid, 2, key, sizeof(key), ct.data,
	    ct.len, &pt, NULL), VS_OK);
	buf_free(&ct);
	buf_free(&pt);
	seal_keys_free(&k);
}

static void
test_record_moved_fails(void **state)
{
	struct seal_keys *k = NULL, *k2 = NULL;
	struct buf ct = { 0 }, pt = { 0 };
	struct vs_err err;
	uint8_t key[32] = { 7 }, other[32] = { 8 };
	uint8_t sid2[SEAL_STORE_ID_BYTES] = "fedcba9876543210";

	(void)state;
	assert_int_equal(seal_keys_new(&k, NULL), VS_OK);
	assert_int_equal(seal_keys_new(&k2, NULL), VS_OK);
	assert_int_equal(seal_record(k, sid, 2, key, 32, "x", 1, &ct, NULL),
	    VS_OK);
	/* Another key (LMDB key), table, store or root key: all fail. */
	assert_int_equal(seal_open(k, sid, 2, other, 32, ct.data, ct.len, &pt,
	    &err), VS_ECORRUPT);
	assert_non_null(strstr(err.msg, "failed to authenticate"));
	assert_int_equal(seal_open(k, sid, 3, key, 32, ct.data, ct.len, &pt,
	    &err), VS_ECORRUPT);
	assert_int_equal(seal_open(k, sid2, 2, key, 32, ct.data, ct.len, &pt,
	    &err), VS_ECORRUPT);
	assert_int_equal(seal_open(k2, sid, 2, key, 32, ct.data, ct.len, &pt,
	    &err), VS_ECORRUPT);
	/* Truncated and unknown version. */
	assert_int_equal(seal_open(k, sid, 2, key, 32, ct.data, 10, &pt,
	    &err), VS_ECORRUPT);
	assert_non_null(strstr(err.msg, "truncated"));
	ct.data[0] = 9;
	assert_int_equal(seal_open(k, sid, 2, key, 32, ct.data, ct.len, &pt,
	    &err), VS_ECORRUPT);
	assert_non_null(strstr(err.msg, "unknown version"));
	buf_free(&ct);
	buf_free(&pt);
	seal_keys_free(&k);
	seal_keys_free(&k2);
}

static void
test_passphrase_slot(void **state)
{
	struct seal_keys *k = NULL, *k2 = NULL;
	struct seal_slot_info info;
	struct vs_err err;
	uint8_t slot[SEAL_SLOT_BYTES], r1[32], r2[32];
	uint8_t sid2[SEAL_STORE_ID_BYTES] = "fedcba9876543210";
	size_t i;

	(void)state;
	assert_int_equal(seal_keys_new(&k, NULL), VS_OK);
	assert_int_equal(seal_slot_wrap_passphrase(k, sid, 0, "hunter22", 8,
	    &cheap, slot, NULL), VS_OK);
	assert_int_equal(seal_slot_info(slot, sizeof(slot), &info, NULL),
	    VS_OK);
	assert_int_equal(info.type, SEAL_SLOT_PASSPHRASE);
	assert_int_equal(info.id, 0);
	assert_int_equal(info.cost.opslimit, 1);
	assert_int_equal(info.cost.memlimit, 8192);
	assert_int_equal(seal_slot_open_passphrase(slot, sizeof(slot), sid,
	    "hunter22", 8, &k2, NULL), VS_OK);
	assert_true(seal_keys_export_root(k, r1));
	assert_true(seal_keys_export_root(k2, r2));
	assert_memory_equal(r1, r2, 32);
	seal_keys_free(&k2);
	/* Wrong passphrase, other store: "wrong passphrase or key". */
	assert_int_equal(seal_slot_open_passphrase(slot, sizeof(slot), sid,
	    "hunter23", 8, &k2, &err), VS_EBADKEY);
	assert_non_null(strstr(err.msg, "wrong passphrase"));
	assert_null(k2);
	assert_int_equal(seal_slot_open_passphrase(slot, sizeof(slot), sid2,
	    "hunter22", 8, &k2, &err), VS_EBADKEY);
	/* Any byte of the slot changed: refused (header bytes that make the
	 * slot unparsable give VS_EINVAL, the rest VS_EBADKEY). */
	for (i = 0; i < sizeof(slot); i++) {
		int r;

		if (i >= 4 && i < 20)
			continue;       /* cost: tested below, too slow here */
		slot[i] ^= 0x01;
		r = seal_slot_open_passphrase(slot, sizeof(slot), sid,
		    "hunter22", 8, &k2, &err);
		assert_true(r == VS_EBADKEY || r == VS_EINVAL);
		assert_null(k2);
		slot[i] ^= 0x01;
	}
	/* An edited cost is part of the associated data. */
	slot[11] ^= 0x01;       /* opslimit 1 -> 0: out of range */
	assert_int_equal(seal_slot_open_passphrase(slot, sizeof(slot), sid,
	    "hunter22", 8, &k2, &err), VS_EINVAL);
	slot[11] ^= 0x03;       /* opslimit 2: derives, fails the tag */
	assert_int_equal(seal_slot_open_passphrase(slot, sizeof(slot), sid,
	    "hunter22", 8, &k2, &err), VS_EBADKEY);
	slot[11] ^= 0x02;
	/* Wrong length and wrong type. */
	assert_int_equal(seal_slot_open_passphrase(slot, sizeof(slot) - 1,
	    sid, "hunter22", 8, &k2, &err), VS_EINVAL);
	assert_int_equal(seal_slot_open_recovery(slot, sizeof(slot), sid, r1,
	    &k2, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "not a recovery slot"));
	sodium_memzero(r1, sizeof(r1));
	sodium_memzero(r2, sizeof(r2));
	seal_keys_free(&k);
}

static void
test_recovery_slot(void **state)
{
	struct seal_keys *k = NULL, *k2 = NULL;
	struct vs_err err;
	uint8_t slot[SEAL_SLOT_BYTES], rk[32], r1[32], r2[32];

	(void)state;
	randombytes_buf(rk, sizeof(rk));
	assert_int_equal(seal_keys_new(&k, NULL), VS_OK);
	assert_int_equal(seal_slot_wrap_recovery(k, sid, 1, rk, slot, NULL),
	    VS_OK);
	assert_int_equal(seal_slot_open_recovery(slot, sizeof(slot), sid, rk,
	    &k2, NULL), VS_OK);
	seal_keys_export_root(k, r1);
	seal_keys_export_root(k2, r2);
	assert_memory_equal(r1, r2, 32);
	seal_keys_free(&k2);
	rk[31] ^= 0x80;
	assert_int_equal(seal_slot_open_recovery(slot, sizeof(slot), sid, rk,
	    &k2, &err), VS_EBADKEY);
	assert_int_equal(seal_slot_open_passphrase(slot, sizeof(slot), sid,
	    "x", 1, &k2, &err), VS_EINVAL);
	/* Slot ids beyond the table are refused. */
	assert_int_equal(seal_slot_wrap_recovery(k, sid, SEAL_MAX_SLOTS, rk,
	    slot, &err), VS_EINVAL);
	seal_keys_free(&k);
}

static void
test_index(void **state)
{
	struct seal_keys *k = NULL, *k2 = NULL;
	uint8_t a[32], b[32], c[32], d[32];

	(void)state;
	assert_int_equal(seal_keys_new(&k, NULL), VS_OK);
	assert_int_equal(seal_keys_new(&k2, NULL), VS_OK);
	seal_index(k, 2, "alice", 5, a);
	seal_index(k, 2, "alice", 5, b);
	assert_memory_equal(a, b, 32);
	seal_index(k, 3, "alice", 5, c);
	assert_memory_not_equal(a, c, 32);
	seal_index(k, 2, "alicf", 5, c);
	assert_memory_not_equal(a, c, 32);
	seal_index(k2, 2, "alice", 5, d);
	assert_memory_not_equal(a, d, 32);
	seal_keys_free(&k);
	seal_keys_free(&k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_open_into),
		cmocka_unit_test(test_record_every_byte_flip_fails),
		cmocka_unit_test(test_record_moved_fails),
		cmocka_unit_test(test_passphrase_slot),
		cmocka_unit_test(test_recovery_slot),
		cmocka_unit_test(test_index),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
