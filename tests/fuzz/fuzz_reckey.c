/*
 * fuzz_reckey.c - libFuzzer target for lib/reckey.c.
 *
 * Decodes the input as recovery-key text; when that succeeds, the key must
 * re-encode to a text that decodes to the same key and is canonical.  The
 * first 32 bytes are also used as a key for an encode/decode round trip.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "reckey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
round_trip(const uint8_t key[RECKEY_BYTES])
{
	char text[RECKEY_TEXT_BUF], text2[RECKEY_TEXT_BUF];
	uint8_t back[RECKEY_BYTES];
	struct vs_err err;

	reckey_encode(key, text);
	CHECK(strlen(text) == RECKEY_TEXT_LEN);
	CHECK(reckey_decode(text, RECKEY_TEXT_LEN, back, &err) == VS_OK);
	CHECK(memcmp(key, back, RECKEY_BYTES) == 0);
	reckey_encode(back, text2);
	CHECK(strcmp(text, text2) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	uint8_t key[RECKEY_BYTES];
	struct vs_err err;
	char *in;
	int rc;

	if (!inited) {
		if (sodium_init() < 0)
			abort();
		inited = 1;
	}

	/* Exactly size bytes, in a buffer of that size so that ASan sees
	 * any read past the end. */
	if ((in = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	memset(key, 0x5a, sizeof(key));
	vs_err_clear(&err);
	rc = reckey_decode(in, size, key, &err);
	free(in);
	if (rc == VS_OK)
		round_trip(key);
	else {
		CHECK(rc == VS_EINVAL && err.code == VS_EINVAL);
		CHECK(strncmp(err.msg, "recovery key ", 13) == 0);
		for (size_t i = 0; i < RECKEY_BYTES; i++)
			CHECK(key[i] == 0);
	}

	if (size >= RECKEY_BYTES)
		round_trip(data);
	return 0;
}
