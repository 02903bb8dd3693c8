/*
 * test_reckey.c - unit tests for lib/reckey.c: the recovery key's paper
 * encoding, its error detection and its forgiving decoder.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "reckey.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Known answers, computed independently from the format description
 * (Python: hashlib.blake2b(b"vmseal-recovery-v1" + key, digest_size=32)).
 * They pin the format: keys printed by one release must decode in all. */
static const struct {
	uint8_t fill;		/* 0: bytes 0..31; else every byte = fill */
	int iota;
	const char *text;
} known[] = {
	{ 0x00, 0, "0000Y-0000W-0000T-0000R-0000P-0000M-0000J-0000G-0000E-"
	    "0000C-0000A-00008-00006-QP6XZ" },
	{ 0x00, 1, "000GX-40R4R-0M30E-E209M-185GZ-R38EJ-1W81E-24GKF-2GAHY-"
	    "C5RRD-34D1G-P70X9-3RFG2-E0391" },
	{ 0xff, 0, "ZZZZ2-ZZZZ0-ZZZZY-ZZZZW-ZZZZT-ZZZZR-ZZZZP-ZZZZM-ZZZZJ-"
	    "ZZZZG-ZZZZE-ZZZZC-ZZZG8-PFYP5" },
};

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* Independent Luhn mod 32 over (group, d1..d4), for building test input. */
static int
luhn(int group, const char *d)
{
	int seq[5], sum = 0, i, v;

	seq[0] = group;
	for (i = 0; i < 4; i++)
		seq[i + 1] = (int)(strchr(alphabet, d[i]) - alphabet);
	for (i = 4; i >= 0; i--) {
		v = seq[i] * ((4 - i) % 2 == 0 ? 2 : 1);
		sum += v / 32 + v % 32;
	}
	return alphabet[(32 - sum % 32) % 32];
}

/* Offset in the text of character j (0-4) of group g (0-13). */
static size_t
at(int g, int j)
{
	return (size_t)g * 6 + (size_t)j;
}

static int
decode_str(const char *s, uint8_t key[RECKEY_BYTES], struct vs_err *err)
{
	vs_err_clear(err);
	return reckey_decode(s, strlen(s), key, err);
}

static void
expect_error(const char *text, const char *sub)
{
	uint8_t key[RECKEY_BYTES];
	struct vs_err err;
	size_t i;

	memset(key, 0xa5, sizeof(key));
	if (decode_str(text, key, &err) != VS_EINVAL)
		fail_msg("\"%s\" decoded, want error \"%s\"", text, sub);
	assert_int_equal(err.code, VS_EINVAL);
	if (strstr(err.msg, sub) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", text, err.msg,
		    sub);
	/* The key buffer is wiped on failure. */
	for (i = 0; i < sizeof(key); i++)
		assert_int_equal(key[i], 0);
}

static void
test_known_answers(void **state)
{
	uint8_t key[RECKEY_BYTES], back[RECKEY_BYTES];
	char text[RECKEY_TEXT_BUF];
	struct vs_err err;
	size_t i, k;

	(void)state;
	for (k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
		for (i = 0; i < sizeof(key); i++)
			key[i] = known[k].iota ? (uint8_t)i : known[k].fill;
		reckey_encode(key, text);
		assert_string_equal(text, known[k].text);
		assert_int_equal(decode_str(known[k].text, back, &err), VS_OK);
		assert_memory_equal(key, back, sizeof(key));
	}
}

static void
test_shape_and_round_trip(void **state)
{
	uint8_t key[RECKEY_BYTES], back[RECKEY_BYTES];
	char text[RECKEY_TEXT_BUF + 8];
	struct vs_err err;
	int n, g, j;

	(void)state;
	assert_int_equal(RECKEY_TEXT_LEN, 83);
	for (n = 0; n < 2000; n++) {
		randombytes_buf(key, sizeof(key));
		memset(text, '#', sizeof(text));
		reckey_encode(key, text);
		assert_int_equal(strlen(text), RECKEY_TEXT_LEN);
		/* Nothing written past the NUL. */
		assert_int_equal(text[RECKEY_TEXT_BUF], '#');
		for (g = 0; g < RECKEY_GROUPS; g++) {
			for (j = 0; j < 5; j++)
				assert_non_null(strchr(alphabet,
				    text[at(g, j)]));
			if (g < RECKEY_GROUPS - 1)
				assert_int_equal(text[at(g, 5)], '-');
		}
		/* 256 bits + 4 zero bits: the last data symbol is 0 or G. */
		assert_true(text[at(12, 3)] == '0' || text[at(12, 3)] == 'G');
		memset(back, 0, sizeof(back));
		assert_int_equal(reckey_decode(text, RECKEY_TEXT_LEN, back,
		    &err), VS_OK);
		assert_memory_equal(key, back, sizeof(key));
	}
}

/* Every single substitution by another alphabet symbol is caught by the
 * check of the group that holds it. */
static void
test_substitutions(void **state)
{
	uint8_t key[RECKEY_BYTES], back[RECKEY_BYTES];
	char text[RECKEY_TEXT_BUF], bad[RECKEY_TEXT_BUF], want[64];
	struct vs_err err;
	int n, g, j, a, orig;

	(void)state;
	for (n = 0; n < 8; n++) {
		randombytes_buf(key, sizeof(key));
		reckey_encode(key, text);
		for (g = 0; g < RECKEY_GROUPS; g++) {
			snprintf(want, sizeof(want),
			    "recovery key group %d has a typo", g + 1);
			for (j = 0; j < 5; j++) {
				orig = text[at(g, j)];
				for (a = 0; a < 32; a++) {
					if (alphabet[a] == orig)
						continue;
					memcpy(bad, text, sizeof(bad));
					bad[at(g, j)] = alphabet[a];
					assert_int_equal(decode_str(bad, back,
					    &err), VS_EINVAL);
					assert_string_equal(err.msg, want);
				}
			}
		}
	}
}

/* Adjacent transpositions of symbols never give a wrong key; those inside
 * a group are (nearly all) named by the group check, the rest by the
 * checksum. */
static void
test_transpositions(void **state)
{
	uint8_t key[RECKEY_BYTES], back[RECKEY_BYTES];
	char text[RECKEY_TEXT_BUF], sym[RECKEY_GROUPS * 5 + 1];
	char bad[RECKEY_GROUPS * 5 + 1];
	struct vs_err err;
	int n, i, rc, caught = 0, by_sum = 0;
	size_t k, o;

	(void)state;
	for (n = 0; n < 200; n++) {
		randombytes_buf(key, sizeof(key));
		reckey_encode(key, text);
		for (k = 0, o = 0; text[k] != '\0'; k++)
			if (text[k] != '-')
				sym[o++] = text[k];
		sym[o] = '\0';
		for (i = 0; i + 1 < RECKEY_GROUPS * 5; i++) {
			if (sym[i] == sym[i + 1])
				continue;
			memcpy(bad, sym, sizeof(bad));
			bad[i] = sym[i + 1];
			bad[i + 1] = sym[i];
			rc = decode_str(bad, back, &err);
			assert_int_equal(rc, VS_EINVAL);
			caught++;
			if (strstr(err.msg, "checksum") != NULL)
				by_sum++;
			else
				assert_non_null(strstr(err.msg, "has a typo"));
		}
	}
	/* The checksum is a rare backstop, not the main line. */
	assert_true(by_sum * 100 < caught);

	/* The pair Luhn mod 32 misses is 0 <-> 31 ('0' <-> 'Z'); such a
	 * transposition is still caught by the checksum.  Key bits
	 * 00000111 11000000 ... give group 1 = "0Z00" + check. */
	memset(key, 0, sizeof(key));
	key[0] = 0x07;
	key[1] = 0xc0;
	reckey_encode(key, text);
	assert_memory_equal(text, "0Z00", 4);
	for (k = 0, o = 0; text[k] != '\0'; k++)
		if (text[k] != '-')
			sym[o++] = text[k];
	sym[o] = '\0';
	for (i = 0; i + 1 < 4; i++) {
		if (!((sym[i] == '0' && sym[i + 1] == 'Z') ||
		    (sym[i] == 'Z' && sym[i + 1] == '0')))
			continue;
		memcpy(bad, sym, sizeof(bad));
		bad[i] = sym[i + 1];
		bad[i + 1] = sym[i];
		assert_int_equal(decode_str(bad, back, &err), VS_EINVAL);
		assert_non_null(strstr(err.msg, "checksum does not match"));
		return;
	}
	fail_msg("no 0Z pair in %s", text);
}

/* Swapping two whole groups is caught: each check covers its position. */
static void
test_group_swaps(void **state)
{
	uint8_t key[RECKEY_BYTES], back[RECKEY_BYTES];
	char text[RECKEY_TEXT_BUF], bad[RECKEY_TEXT_BUF], want[64];
	struct vs_err err;
	int n, g1, g2;

	(void)state;
	for (n = 0; n < 20; n++) {
		randombytes_buf(key, sizeof(key));
		reckey_encode(key, text);
		for (g1 = 0; g1 < RECKEY_GROUPS; g1++) {
			for (g2 = g1 + 1; g2 < RECKEY_GROUPS; g2++) {
				if (memcmp(&text[at(g1, 0)], &text[at(g2, 0)],
				    5) == 0)
					continue;
				memcpy(bad, text, sizeof(bad));
				memcpy(&bad[at(g1, 0)], &text[at(g2, 0)], 5);
				memcpy(&bad[at(g2, 0)], &text[at(g1, 0)], 5);
				assert_int_equal(decode_str(bad, back, &err),
				    VS_EINVAL);
				snprintf(want, sizeof(want),
				    "recovery key group %d has a typo", g1 + 1);
				assert_string_equal(err.msg, want);
			}
		}
	}
}

/* Groups that pass their own check but do not belong together. */
static void
test_checksum(void **state)
{
	uint8_t key[RECKEY_BYTES], back[RECKEY_BYTES];
	char text[RECKEY_TEXT_BUF], other[RECKEY_TEXT_BUF];
	struct vs_err err;
	char c;

	(void)state;
	memset(key, 0x11, sizeof(key));
	reckey_encode(key, text);
	key[31] ^= 0x80;
	reckey_encode(key, other);
	/* Group 14 of another key. */
	memcpy(&text[at(13, 0)], &other[at(13, 0)], 5);
	assert_int_equal(decode_str(text, back, &err), VS_EINVAL);
	assert_string_equal(err.msg, "recovery key checksum does not match"
	    " (a group was swapped or mistyped)");

	/* Two typos in group 3 that keep its check valid. */
	memset(key, 0x11, sizeof(key));
	reckey_encode(key, text);
	c = text[at(2, 0)];
	text[at(2, 0)] = c == 'A' ? 'B' : 'A';
	text[at(2, 4)] = (char)luhn(3, &text[at(2, 0)]);
	assert_int_equal(decode_str(text, back, &err), VS_EINVAL);
	assert_non_null(strstr(err.msg, "checksum does not match"));

	/* Non-zero padding bits in group 13 with a valid group check. */
	reckey_encode(key, text);
	text[at(12, 3)] = text[at(12, 3)] == '0' ? '1' : 'H';
	text[at(12, 4)] = (char)luhn(13, &text[at(12, 0)]);
	expect_error(text, "recovery key group 13 has a typo");
}

static void
test_forgiving_input(void **state)
{
	uint8_t key[RECKEY_BYTES], back[RECKEY_BYTES];
	char text[RECKEY_TEXT_BUF], in[RECKEY_INPUT_MAX + 64];
	struct vs_err err;
	size_t i, o;
	int n;

	(void)state;
	for (n = 0; n < 200; n++) {
		randombytes_buf(key, sizeof(key));
		reckey_encode(key, text);

		/* Lower case. */
		for (i = 0; i <= RECKEY_TEXT_LEN; i++)
			in[i] = (char)((text[i] >= 'A' && text[i] <= 'Z') ?
			    text[i] - 'A' + 'a' : text[i]);
		assert_int_equal(decode_str(in, back, &err), VS_OK);
		assert_memory_equal(key, back, sizeof(key));

		/* No dashes. */
		for (i = 0, o = 0; text[i] != '\0'; i++)
			if (text[i] != '-')
				in[o++] = text[i];
		in[o] = '\0';
		assert_int_equal(decode_str(in, back, &err), VS_OK);
		assert_memory_equal(key, back, sizeof(key));

		/* Spaces instead of dashes, line breaks, tabs, odd
		 * grouping. */
		for (i = 0, o = 0; text[i] != '\0'; i++) {
			if (text[i] == '-')
				in[o++] = (i % 4 == 1) ? '\n' : ' ';
			else {
				in[o++] = text[i];
				if (i % 7 == 3)
					in[o++] = '\t';
				if (i % 11 == 5)
					in[o++] = '-';
			}
		}
		in[o++] = '\r';
		in[o++] = '\n';
		in[o] = '\0';
		assert_int_equal(decode_str(in, back, &err), VS_OK);
		assert_memory_equal(key, back, sizeof(key));

		/* O for 0, I and L for 1, in either case. */
		for (i = 0; text[i] != '\0'; i++) {
			if (text[i] == '0')
				in[i] = (i & 1) ? 'O' : 'o';
			else if (text[i] == '1')
				in[i] = "IiLl"[i & 3];
			else
				in[i] = text[i];
		}
		in[i] = '\0';
		assert_int_equal(decode_str(in, back, &err), VS_OK);
		assert_memory_equal(key, back, sizeof(key));
	}

	/* Not NUL-terminated: only len bytes are read. */
	reckey_encode(key, text);
	memcpy(in, text, RECKEY_TEXT_LEN);
	in[RECKEY_TEXT_LEN] = 'X';
	assert_int_equal(reckey_decode(in, RECKEY_TEXT_LEN, back, &err), VS_OK);
	assert_memory_equal(key, back, sizeof(key));
}

static void
test_lengths(void **state)
{
	uint8_t key[RECKEY_BYTES], back[RECKEY_BYTES];
	char text[RECKEY_TEXT_BUF], in[RECKEY_INPUT_MAX + 64];
	struct vs_err err;

	(void)state;
	memset(key, 0x42, sizeof(key));
	reckey_encode(key, text);

	expect_error("", "recovery key is too short (14 groups of 5 expected)");
	expect_error("   \n", "too short");
	/* One group missing, one symbol missing. */
	memcpy(in, text, RECKEY_TEXT_LEN - 6);
	in[RECKEY_TEXT_LEN - 6] = '\0';
	expect_error(in, "too short");
	memcpy(in, text, RECKEY_TEXT_LEN - 1);
	in[RECKEY_TEXT_LEN - 1] = '\0';
	expect_error(in, "too short");
	/* One symbol more, one group more. */
	snprintf(in, sizeof(in), "%s0", text);
	expect_error(in, "recovery key is too long (14 groups of 5 expected)");
	snprintf(in, sizeof(in), "%s-%.5s", text, text);
	expect_error(in, "too long");
	/* Trailing garbage after a full key is "too long", not a bad char. */
	snprintf(in, sizeof(in), "%s.", text);
	expect_error(in, "too long");

	/* Padding with spaces is fine up to RECKEY_INPUT_MAX. */
	memset(in, ' ', sizeof(in));
	memcpy(in, text, RECKEY_TEXT_LEN);
	assert_int_equal(reckey_decode(in, RECKEY_INPUT_MAX, back, &err),
	    VS_OK);
	assert_memory_equal(key, back, sizeof(key));
	memset(back, 0x5a, sizeof(back));
	assert_int_equal(reckey_decode(in, RECKEY_INPUT_MAX + 1, back, &err),
	    VS_EINVAL);
	assert_non_null(strstr(err.msg, "too long"));
	assert_int_equal(back[0], 0);
}

static void
test_invalid_chars(void **state)
{
	static const char bad_chars[] = "Uu.,_+*/=:;!?#\"'\x01\x7f\x80\xff";
	uint8_t key[RECKEY_BYTES];
	char text[RECKEY_TEXT_BUF], in[RECKEY_TEXT_BUF], want[64];
	size_t b;
	int g;

	(void)state;
	memset(key, 0x99, sizeof(key));
	reckey_encode(key, text);
	for (b = 0; b < sizeof(bad_chars) - 1; b++) {
		for (g = 0; g < RECKEY_GROUPS; g++) {
			memcpy(in, text, sizeof(in));
			in[at(g, (int)b % 5)] = bad_chars[b];
			snprintf(want, sizeof(want), "recovery key group %d has"
			    " an invalid character", g + 1);
			expect_error(in, want);
		}
	}
	/* NUL inside the given length is an invalid character too. */
	{
		uint8_t back[RECKEY_BYTES];
		struct vs_err err;

		memcpy(in, text, sizeof(in));
		in[at(4, 2)] = '\0';
		assert_int_equal(reckey_decode(in, RECKEY_TEXT_LEN, back, &err),
		    VS_EINVAL);
		assert_string_equal(err.msg,
		    "recovery key group 5 has an invalid character");
	}
}

/* Error messages never carry characters of the key. */
static void
test_messages_hold_no_key(void **state)
{
	uint8_t key[RECKEY_BYTES], back[RECKEY_BYTES];
	char text[RECKEY_TEXT_BUF];
	struct vs_err err;
	const char *p;

	(void)state;
	memset(key, 0xee, sizeof(key));
	reckey_encode(key, text);
	text[at(6, 1)] = text[at(6, 1)] == 'X' ? 'Y' : 'X';
	assert_int_equal(decode_str(text, back, &err), VS_EINVAL);
	/* Only fixed wording, digits and punctuation: upper-case letters of
	 * the alphabet would be a leak. */
	for (p = err.msg; *p != '\0'; p++)
		assert_false(*p >= 'A' && *p <= 'Z');
	assert_null(strstr(err.msg, "XX"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_shape_and_round_trip),
		cmocka_unit_test(test_substitutions),
		cmocka_unit_test(test_transpositions),
		cmocka_unit_test(test_group_swaps),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_forgiving_input),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_invalid_chars),
		cmocka_unit_test(test_messages_hold_no_key),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
