/*
 * fuzz_shamir.c - libFuzzer target for lib/shamir.c.
 *
 * Decodes the input as the paper form of a recovery share; when that
 * succeeds, the share must have a valid header and re-encode to a canonical
 * text that decodes to the same share; when it fails, the error must be a
 * "share ..." VS_EINVAL and the outputs wiped.  Inputs long enough are also
 * read as raw shares for shamir_combine, which must either refuse them
 * (output wiped) or give a result that does not depend on their order.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "shamir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
round_trip(const uint8_t share[SHAMIR_SHARE_BYTES], unsigned k, unsigned n)
{
	char text[SHAMIR_TEXT_BUF], text2[SHAMIR_TEXT_BUF];
	uint8_t back[SHAMIR_SHARE_BYTES];
	unsigned k2, n2;
	struct vs_err err;

	shamir_share_encode(share, k, n, text, sizeof(text));
	CHECK(strlen(text) == SHAMIR_TEXT_LEN);
	CHECK(shamir_share_decode(text, SHAMIR_TEXT_LEN, back, &k2, &n2,
	    &err) == VS_OK);
	CHECK(memcmp(share, back, SHAMIR_SHARE_BYTES) == 0);
	CHECK(k2 == k && n2 == n);
	shamir_share_encode(back, k2, n2, text2, sizeof(text2));
	CHECK(strcmp(text, text2) == 0);
}

static void
combine_raw(const uint8_t *data, size_t size)
{
	/* One row more than a split has, to see 17 shares refused. */
	uint8_t sh[SHAMIR_MAX_SHARES + 1][SHAMIR_SHARE_BYTES];
	uint8_t rev[SHAMIR_MAX_SHARES + 1][SHAMIR_SHARE_BYTES];
	uint8_t out[SHAMIR_SECRET_BYTES], out2[SHAMIR_SECRET_BYTES];
	struct vs_err err;
	unsigned cnt, i;
	int rc;

	cnt = data[0] % (SHAMIR_MAX_SHARES + 2);
	if ((size - 1) / SHAMIR_SHARE_BYTES < cnt)
		cnt = (unsigned)((size - 1) / SHAMIR_SHARE_BYTES);
	for (i = 0; i < cnt; i++) {
		memcpy(sh[i], data + 1 + (size_t)i * SHAMIR_SHARE_BYTES,
		    SHAMIR_SHARE_BYTES);
		/* Mostly small indices, so that some inputs combine. */
		if (data[0] & 0x80)
			sh[i][0] %= SHAMIR_MAX_SHARES + 1;
	}
	memset(out, 0x5a, sizeof(out));
	rc = shamir_combine((const uint8_t (*)[SHAMIR_SHARE_BYTES])sh, cnt,
	    out, &err);
	if (rc != VS_OK) {
		CHECK(rc == VS_EINVAL && err.code == VS_EINVAL);
		for (i = 0; i < SHAMIR_SECRET_BYTES; i++)
			CHECK(out[i] == 0);
		return;
	}
	CHECK(cnt >= SHAMIR_MIN_SHARES && cnt <= SHAMIR_MAX_SHARES);
	for (i = 0; i < cnt; i++)
		memcpy(rev[i], sh[cnt - 1 - i], SHAMIR_SHARE_BYTES);
	CHECK(shamir_combine((const uint8_t (*)[SHAMIR_SHARE_BYTES])rev, cnt,
	    out2, &err) == VS_OK);
	CHECK(memcmp(out, out2, sizeof(out)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	uint8_t share[SHAMIR_SHARE_BYTES];
	unsigned k, n;
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
	memset(share, 0x5a, sizeof(share));
	k = n = 99;
	vs_err_clear(&err);
	rc = shamir_share_decode(in, size, share, &k, &n, &err);
	free(in);
	if (rc == VS_OK) {
		CHECK(n >= SHAMIR_MIN_SHARES && n <= SHAMIR_MAX_SHARES);
		CHECK(k >= SHAMIR_MIN_SHARES && k <= n);
		CHECK(share[0] >= 1 && share[0] <= n);
		round_trip(share, k, n);
	} else {
		CHECK(rc == VS_EINVAL && err.code == VS_EINVAL);
		CHECK(strncmp(err.msg, "share ", 6) == 0);
		CHECK(k == 0 && n == 0);
		for (size_t i = 0; i < SHAMIR_SHARE_BYTES; i++)
			CHECK(share[i] == 0);
	}

	if (size >= 1)
		combine_raw(data, size);
	return 0;
}
