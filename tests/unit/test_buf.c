/*
 * test_buf.c - unit tests for lib/buf.c: growth of a struct buf (sizes,
 * contents, the BUF_MAX cap and its error codes), the wipe of every block
 * it gives back (seen through buf_set_release_hook: each released block
 * must be all zeros, and growing must release the old block rather than
 * realloc it), the stream into a buf that replaces open_memstream()
 * (contents, its own cap, errors, wiped stdio buffer), and the small
 * helpers (big-endian integers, strdup, wiping).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "vs_err.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the release hook: what buf gives back, and whether it was wiped ---- */

static struct {
	unsigned released;      /* blocks given back */
	unsigned dirty;         /* of which not all zeros */
	size_t bytes;           /* their total size */
	size_t last;            /* size of the last one */
} rel;

static void
on_release(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	rel.released++;
	rel.bytes += n;
	rel.last = n;
	for (i = 0; i < n; i++)
		if (c[i] != 0) {
			rel.dirty++;
			break;
		}
}

static int
hook_on(void **state)
{
	(void)state;
	memset(&rel, 0, sizeof(rel));
	buf_set_release_hook(on_release);
	return 0;
}

static int
hook_off(void **state)
{
	(void)state;
	buf_set_release_hook(NULL);
	return 0;
}

/* ---- growth ---- */

static void
test_growth(void **state)
{
	/* Appends of these sizes, one after the other, and the capacity
	 * after each: 64 first, then doubled until it fits. */
	static const struct {
		size_t n;
		size_t len, cap;
		unsigned released;      /* blocks given back so far */
	} t[] = {
		{ 0, 0, 0, 0 },         /* nothing to reserve: no block */
		{ 1, 1, 64, 0 },
		{ 63, 64, 64, 0 },      /* exactly full */
		{ 1, 65, 128, 1 },      /* grows: the 64 block goes back */
		{ 100, 165, 256, 2 },
		{ 1000, 1165, 2048, 3 },        /* 256 -> 2048 in one step */
		{ 883, 2048, 2048, 3 },
		{ 5000, 7048, 8192, 4 },
	};
	struct buf b = { 0 };
	uint8_t chunk[5000];
	size_t i, k, off = 0;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		for (k = 0; k < t[i].n; k++)
			chunk[k] = (uint8_t)(off + k);
		assert_int_equal(buf_append(&b, chunk, t[i].n), 0);
		off += t[i].n;
		if (b.len != t[i].len || b.cap != t[i].cap ||
		    rel.released != t[i].released)
			fail_msg("step %zu: len %zu cap %zu released %u, want "
			    "%zu %zu %u", i, b.len, b.cap, rel.released,
			    t[i].len, t[i].cap, t[i].released);
	}
	/* The contents survived every move. */
	for (k = 0; k < b.len; k++)
		if (b.data[k] != (uint8_t)k)
			fail_msg("byte %zu is %02x, want %02x", k, b.data[k],
			    (uint8_t)k);
	assert_int_equal(rel.dirty, 0);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(rel.released, 5);
	assert_int_equal(rel.last, 8192);
	assert_int_equal(rel.dirty, 0);
	/* Freed twice, or never used: nothing to give back. */
	buf_free(&b);
	assert_int_equal(rel.released, 5);
	/* Reusable after buf_free. */
	assert_int_equal(buf_append_str(&b, "again"), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "again", 5);
	buf_free(&b);
}

/* Every block given back by a growth is the old one, wiped: a secret put
 * in a buffer leaves no copy in freed memory however often it grows. */
static void
test_wipe_on_grow(void **state)
{
	static const char secret[] = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA";
	struct buf b = { 0 };
	unsigned grows = 0;
	size_t cap = 0, i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		assert_int_equal(buf_append_str(&b, secret), 0);
		if (b.cap != cap) {
			if (cap != 0)
				grows++;
			cap = b.cap;
		}
	}
	assert_true(grows >= 9);        /* 64 ... 131072 */
	assert_int_equal(rel.released, grows);
	assert_int_equal(rel.dirty, 0);
	buf_free(&b);
	assert_int_equal(rel.released, grows + 1);
	assert_int_equal(rel.last, cap);
	assert_int_equal(rel.dirty, 0);
}

/* The BUF_MAX cap: refused before any allocation or arithmetic overflow,
 * and the buffer is left as it was. */
static void
test_caps(void **state)
{
	static const struct {
		size_t len;             /* what the buffer claims to hold */
		size_t extra;
		int rc;
	} t[] = {
		{ 0, BUF_MAX + (size_t)1, VS_ELIMIT },
		{ 0, SIZE_MAX, VS_ELIMIT },
		{ 1, BUF_MAX, VS_ELIMIT },
		{ BUF_MAX, 1, VS_ELIMIT },
		{ BUF_MAX - 10, 11, VS_ELIMIT },
		{ BUF_MAX - 10, SIZE_MAX - 5, VS_ELIMIT },
		/* fits the cap, and needs no growth: the claimed capacity */
		{ BUF_MAX - 10, 10, 0 },
		{ BUF_MAX, 0, 0 },
	};
	struct buf b;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		/* No memory behind it: only the checks may run. */
		b.data = NULL;
		b.len = t[i].len;
		b.cap = BUF_MAX;
		rc = buf_reserve(&b, t[i].extra);
		if (rc != t[i].rc)
			fail_msg("len %zu + %zu: rc %d, want %d", t[i].len,
			    t[i].extra, rc, t[i].rc);
		assert_null(b.data);
		assert_int_equal(b.len, t[i].len);
		assert_int_equal(b.cap, BUF_MAX);
	}
	/* The appenders pass the refusal on and append nothing. */
	b.data = NULL;
	b.len = BUF_MAX;
	b.cap = BUF_MAX;
	assert_int_equal(buf_append_u8(&b, 1), VS_ELIMIT);
	assert_int_equal(buf_append_u32be(&b, 1), VS_ELIMIT);
	assert_int_equal(buf_append_u64be(&b, 1), VS_ELIMIT);
	assert_int_equal(buf_append_str(&b, "x"), VS_ELIMIT);
	assert_int_equal(buf_append(&b, "xy", 2), VS_ELIMIT);
	assert_int_equal(b.len, BUF_MAX);
	assert_int_equal(rel.released, 0);
}

/* ---- the stream ---- */

static void
test_stream(void **state)
{
	struct buf b = { 0 };
	FILE *fp;
	size_t i;

	(void)state;
	/* Appends to what the buffer holds already. */
	assert_int_equal(buf_append_str(&b, "head:"), 0);
	fp = buf_stream_open(&b, BUF_MAX);
	assert_non_null(fp);
	fprintf(fp, "%s=%d;", "uid", 5000);
	fputc('x', fp);
	fputs("yz", fp);
	fflush(fp);
	assert_int_equal(b.len, 5 + 9 + 3);
	assert_memory_equal(b.data, "head:uid=5000;xyz", b.len);
	/* Much more than stdio's buffer, written in small pieces. */
	for (i = 0; i < 50000; i++)
		fprintf(fp, "%05zu\n", i);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(b.len, 17 + 50000 * 6);
	assert_memory_equal(b.data + 17, "00000\n00001\n", 12);
	assert_memory_equal(b.data + b.len - 6, "49999\n", 6);
	/* The growths and the stream's own state (its stdio buffer held
	 * the text too) went back wiped. */
	/* 64, then 8192 (the first 4 KiB flush) ... 262144: 7 growths, and
	 * the stream's own state with its stdio buffer. */
	if (rel.released != 8 || rel.bytes < 64 + 524288 - 8192 + 4096)
		fail_msg("%u blocks released, %zu bytes", rel.released,
		    rel.bytes);
	assert_int_equal(rel.dirty, 0);
	buf_free(&b);
	assert_int_equal(rel.dirty, 0);

	/* An empty stream leaves an empty buffer. */
	fp = buf_stream_open(&b, BUF_MAX);
	assert_non_null(fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(b.len, 0);
	assert_null(b.data);

	/* No buffer. */
	errno = 0;
	assert_null(buf_stream_open(NULL, 10));
	assert_int_equal(errno, EINVAL);
}

/* The stream's cap: a write that would pass it fails as a whole and the
 * error shows at fclose (and in ferror before it). */
static void
test_stream_cap(void **state)
{
	static const struct {
		size_t max;
		const char *w[3];       /* written one after the other */
		int fails;              /* fclose fails */
		const char *got;        /* what the buffer holds then */
	} t[] = {
		{ 10, { "0123456789", NULL, NULL }, 0, "0123456789" },
		{ 10, { "01234", "56789", NULL }, 0, "0123456789" },
		{ 10, { "01234567890", NULL, NULL }, 1, "" },
		/* flushed first, then the piece that does not fit */
		{ 10, { "0123", "!", "456789AB" }, 1, "" },
		{ 0, { "x", NULL, NULL }, 1, "" },
		{ 0, { NULL, NULL, NULL }, 0, "" },
	};
	struct buf b;
	FILE *fp;
	size_t i, k;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		memset(&b, 0, sizeof(b));
		fp = buf_stream_open(&b, t[i].max);
		assert_non_null(fp);
		for (k = 0; k < 3 && t[i].w[k] != NULL; k++) {
			fputs(t[i].w[k], fp);
			if (k == 1)
				fflush(fp);
		}
		errno = 0;
		rc = fclose(fp);
		if ((rc != 0) != t[i].fails)
			fail_msg("case %zu: fclose %d, want %s", i, rc,
			    t[i].fails ? "a failure" : "0");
		if (t[i].fails)
			assert_int_equal(errno, EFBIG);
		/* Whole writes only: never half a piece. */
		if (b.len > t[i].max)
			fail_msg("case %zu: %zu bytes over a cap of %zu", i,
			    b.len, t[i].max);
		if (!t[i].fails) {
			assert_int_equal(b.len, strlen(t[i].got));
			if (b.len > 0)
				assert_memory_equal(b.data, t[i].got, b.len);
		}
		buf_free(&b);
	}
	/* Caps above BUF_MAX are BUF_MAX: an append that the buffer itself
	 * refuses fails the stream the same way. */
	memset(&b, 0, sizeof(b));
	fp = buf_stream_open(&b, SIZE_MAX);
	assert_non_null(fp);
	fputs("fine", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(b.len, 4);
	buf_free(&b);
	assert_int_equal(rel.dirty, 0);
}

/* ---- helpers ---- */

static void
test_be_integers(void **state)
{
	static const struct {
		uint64_t v;
		uint8_t be[8];
	} t[] = {
		{ 0, { 0, 0, 0, 0, 0, 0, 0, 0 } },
		{ 1, { 0, 0, 0, 0, 0, 0, 0, 1 } },
		{ 0x0102030405060708ull, { 1, 2, 3, 4, 5, 6, 7, 8 } },
		{ 0xfffffffffffffffeull, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xfe } },
		{ 0x80000000ffull, { 0, 0, 0, 0x80, 0, 0, 0, 0xff } },
	};
	struct buf b = { 0 };
	uint8_t out[8];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		vs_put_u64be(out, t[i].v);
		assert_memory_equal(out, t[i].be, 8);
		assert_true(vs_get_u64be(t[i].be) == t[i].v);
		vs_put_u32be(out, (uint32_t)t[i].v);
		assert_memory_equal(out, t[i].be + 4, 4);
		assert_int_equal(vs_get_u32be(t[i].be + 4),
		    (uint32_t)t[i].v);
		assert_int_equal(buf_append_u64be(&b, t[i].v), 0);
		assert_int_equal(buf_append_u32be(&b, (uint32_t)t[i].v), 0);
		assert_int_equal(buf_append_u8(&b, (uint8_t)t[i].v), 0);
		assert_memory_equal(b.data + b.len - 13, t[i].be, 8);
		assert_memory_equal(b.data + b.len - 5, t[i].be + 4, 4);
		assert_int_equal(b.data[b.len - 1], t[i].be[7]);
	}
	assert_int_equal(b.len, 13 * NELEM(t));
	buf_free(&b);
}

static void
test_strings_and_wipe(void **state)
{
	char *s, w[16];

	(void)state;
	s = vs_strndup("abcdef", 3);
	assert_non_null(s);
	assert_string_equal(s, "abc");
	vs_freestr(s);
	s = vs_strdup("");
	assert_non_null(s);
	assert_string_equal(s, "");
	vs_freestr(s);
	vs_freestr(NULL);
	/* A NUL inside the first n bytes ends nothing: n bytes copied. */
	s = vs_strndup("a\0b", 3);
	assert_non_null(s);
	assert_memory_equal(s, "a\0b\0", 4);
	free(s);

	memset(w, 'x', sizeof(w));
	vs_wipe(w + 4, 8);
	assert_memory_equal(w, "xxxx\0\0\0\0\0\0\0\0xxxx", 16);
	vs_wipe(NULL, 5);
	vs_wipe(w, 0);
	assert_int_equal(w[0], 'x');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_growth, hook_on, hook_off),
		cmocka_unit_test_setup_teardown(test_wipe_on_grow, hook_on,
		    hook_off),
		cmocka_unit_test_setup_teardown(test_caps, hook_on, hook_off),
		cmocka_unit_test_setup_teardown(test_stream, hook_on, hook_off),
		cmocka_unit_test_setup_teardown(test_stream_cap, hook_on,
		    hook_off),
		cmocka_unit_test(test_be_integers),
		cmocka_unit_test(test_strings_and_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
