/*
 * test_json.c - unit tests for admin/json.c, the --json writer: the
 * escaping of every control character, of quotes and backslashes, bytes
 * of 0x80 and over passed through as they are (UTF-8 or not: json.h
 * promises no more), commas through nesting, keys, numbers, booleans,
 * null, times, and documents deeper than JSON_DEPTH_MAX.  Every case
 * asserts the exact output.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A writer over a memory stream; out() closes it and returns the text. */
struct cap {
	FILE *fp;
	char *text;
	size_t len;
	struct json j;
};

static void
cap_open(struct cap *c)
{
	c->text = NULL;
	c->len = 0;
	c->fp = open_memstream(&c->text, &c->len);
	assert_non_null(c->fp);
	json_init(&c->j, c->fp);
}

static void
cap_expect(struct cap *c, const char *want, const char *what)
{
	assert_int_equal(fclose(c->fp), 0);
	if (c->len != strlen(want) || memcmp(c->text, want, c->len) != 0)
		fail_msg("%s: got [%.*s], want [%s]", what, (int)c->len,
		    c->text, want);
	free(c->text);
}

/* ---- strings ---- */

/* Every control character, alone in a string. */
static void
test_control_chars(void **state)
{
	static const struct {
		unsigned char c;
		const char *want;
	} t[] = {
		{ 0x01, "\"\\u0001\"" },
		{ 0x02, "\"\\u0002\"" },
		{ 0x03, "\"\\u0003\"" },
		{ 0x04, "\"\\u0004\"" },
		{ 0x05, "\"\\u0005\"" },
		{ 0x06, "\"\\u0006\"" },
		{ 0x07, "\"\\u0007\"" },
		{ 0x08, "\"\\u0008\"" },
		{ 0x09, "\"\\t\"" },
		{ 0x0a, "\"\\n\"" },
		{ 0x0b, "\"\\u000b\"" },
		{ 0x0c, "\"\\u000c\"" },
		{ 0x0d, "\"\\r\"" },
		{ 0x0e, "\"\\u000e\"" },
		{ 0x0f, "\"\\u000f\"" },
		{ 0x10, "\"\\u0010\"" },
		{ 0x11, "\"\\u0011\"" },
		{ 0x12, "\"\\u0012\"" },
		{ 0x13, "\"\\u0013\"" },
		{ 0x14, "\"\\u0014\"" },
		{ 0x15, "\"\\u0015\"" },
		{ 0x16, "\"\\u0016\"" },
		{ 0x17, "\"\\u0017\"" },
		{ 0x18, "\"\\u0018\"" },
		{ 0x19, "\"\\u0019\"" },
		{ 0x1a, "\"\\u001a\"" },
		{ 0x1b, "\"\\u001b\"" },
		{ 0x1c, "\"\\u001c\"" },
		{ 0x1d, "\"\\u001d\"" },
		{ 0x1e, "\"\\u001e\"" },
		{ 0x1f, "\"\\u001f\"" },
		{ 0x7f, "\"\\u007f\"" },
	};
	struct cap c;
	char s[2], what[32];
	size_t i;
	unsigned v, seen = 0;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		s[0] = (char)t[i].c;
		s[1] = '\0';
		snprintf(what, sizeof(what), "byte 0x%02x", t[i].c);
		cap_open(&c);
		json_str(&c.j, s);
		cap_expect(&c, t[i].want, what);
		seen++;
	}
	/* The table is every C0 character but NUL (which ends a C string),
	 * and DEL. */
	assert_int_equal(seen, 32);
	/* And every other ASCII byte is itself (but " and \). */
	for (v = 0x20; v < 0x7f; v++) {
		char want[8];

		if (v == '"' || v == '\\')
			continue;
		s[0] = (char)v;
		s[1] = '\0';
		snprintf(want, sizeof(want), "\"%c\"", (char)v);
		snprintf(what, sizeof(what), "byte 0x%02x", v);
		cap_open(&c);
		json_str(&c.j, s);
		cap_expect(&c, want, what);
	}
}

static void
test_strings(void **state)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "", "\"\"" },
		{ "alice@example.org", "\"alice@example.org\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "C:\\dir\\", "\"C:\\\\dir\\\\\"" },
		{ "\\\"", "\"\\\\\\\"\"" },
		{ "/", "\"/\"" },           /* '/' needs no escape */
		{ "a\r\nb\tc", "\"a\\r\\nb\\tc\"" },
		{ "bell\a\x1b[31m", "\"bell\\u0007\\u001b[31m\"" },
		/* UTF-8 passes through as it is */
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xab",
		    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xab\"" },
		/* and so do bytes that are not UTF-8 (json.h: the store
		 * holds ASCII names; nothing is re-encoded) */
		{ "\xff\xfe\x80", "\"\xff\xfe\x80\"" },
		{ "\xc3", "\"\xc3\"" },
		/* an injection attempt stays one string */
		{ "x\",\"admin\":true,\"y\":\"",
		    "\"x\\\",\\\"admin\\\":true,\\\"y\\\":\\\"\"" },
	};
	struct cap c;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		cap_open(&c);
		json_str(&c.j, t[i].in);
		cap_expect(&c, t[i].want, t[i].want);
	}
	/* NULL is null, and keys are escaped like values. */
	cap_open(&c);
	json_obj_begin(&c.j);
	json_key(&c.j, "a\"b\n");
	json_str(&c.j, NULL);
	json_obj_end(&c.j);
	cap_expect(&c, "{\"a\\\"b\\n\":null}", "escaped key, null value");
}

/* ---- numbers, booleans, times ---- */

static void
test_scalars(void **state)
{
	static const struct {
		int64_t v;
		const char *want;
	} ints[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ -1, "-1" },
		{ 4294967295LL, "4294967295" },
		{ INT64_MAX, "9223372036854775807" },
		{ INT64_MIN, "-9223372036854775808" },
	};
	static const struct {
		int64_t t;
		const char *want;
	} times[] = {
		{ 0, "null" },          /* json.h: 0 -> null */
		{ 1, "\"1970-01-01T00:00:01Z\"" },
		{ 1700000000, "\"2023-11-14T22:13:20Z\"" },
		{ 951782400, "\"2000-02-29T00:00:00Z\"" },
		{ -86400, "\"1969-12-31T00:00:00Z\"" },
	};
	struct cap c;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ints); i++) {
		cap_open(&c);
		json_int(&c.j, ints[i].v);
		cap_expect(&c, ints[i].want, ints[i].want);
	}
	for (i = 0; i < NELEM(times); i++) {
		cap_open(&c);
		json_time(&c.j, times[i].t);
		cap_expect(&c, times[i].want, times[i].want);
	}
	cap_open(&c);
	json_arr_begin(&c.j);
	json_bool(&c.j, true);
	json_bool(&c.j, false);
	json_str(&c.j, NULL);
	json_int(&c.j, -7);
	json_time(&c.j, 0);
	json_arr_end(&c.j);
	json_end(&c.j);
	cap_expect(&c, "[true,false,null,-7,null]\n", "scalars in an array");
}

/* ---- structure ---- */

static void
test_nesting(void **state)
{
	struct cap c;

	(void)state;
	/* Empty containers. */
	cap_open(&c);
	json_arr_begin(&c.j);
	json_obj_begin(&c.j);
	json_obj_end(&c.j);
	json_arr_begin(&c.j);
	json_arr_end(&c.j);
	json_obj_begin(&c.j);
	json_obj_end(&c.j);
	json_arr_end(&c.j);
	json_end(&c.j);
	cap_expect(&c, "[{},[],{}]\n", "empty containers");

	/* What the commands write: an object of arrays of objects; a
	 * comma between members and elements, none after a key. */
	cap_open(&c);
	json_obj_begin(&c.j);
	json_key(&c.j, "format"); json_str(&c.j, "vmseal-export-1");
	json_key(&c.j, "users");
	json_arr_begin(&c.j);
	json_obj_begin(&c.j);
	json_key(&c.j, "login"); json_str(&c.j, "ann");
	json_key(&c.j, "uid"); json_int(&c.j, 5000);
	json_key(&c.j, "addresses");
	json_arr_begin(&c.j);
	json_str(&c.j, "ann@a.example");
	json_str(&c.j, "a@a.example");
	json_arr_end(&c.j);
	json_obj_end(&c.j);
	json_obj_begin(&c.j);
	json_key(&c.j, "login"); json_str(&c.j, "bob");
	json_key(&c.j, "uid"); json_str(&c.j, NULL);
	json_key(&c.j, "addresses");
	json_arr_begin(&c.j);
	json_arr_end(&c.j);
	json_obj_end(&c.j);
	json_arr_end(&c.j);
	json_key(&c.j, "empty"); json_obj_begin(&c.j); json_obj_end(&c.j);
	json_key(&c.j, "n"); json_int(&c.j, 2);
	json_obj_end(&c.j);
	json_end(&c.j);
	cap_expect(&c, "{\"format\":\"vmseal-export-1\",\"users\":["
	    "{\"login\":\"ann\",\"uid\":5000,\"addresses\":"
	    "[\"ann@a.example\",\"a@a.example\"]},"
	    "{\"login\":\"bob\",\"uid\":null,\"addresses\":[]}],"
	    "\"empty\":{},\"n\":2}\n", "export-like document");

	/* Two documents with one writer each after the other (stats). */
	cap_open(&c);
	json_arr_begin(&c.j);
	json_int(&c.j, 1);
	json_arr_end(&c.j);
	json_end(&c.j);
	json_init(&c.j, c.fp);
	json_arr_begin(&c.j);
	json_int(&c.j, 2);
	json_arr_end(&c.j);
	json_end(&c.j);
	cap_expect(&c, "[1]\n[2]\n", "two documents");
}

/* JSON_DEPTH_MAX - 1 levels are tracked exactly (depth 0 is the top);
 * deeper documents stay balanced and write nothing out of bounds. */
static void
test_depth(void **state)
{
	char want[512];
	struct cap c;
	size_t n, i, opens = 0, closes = 0;
	int d, levels;

	(void)state;
	for (levels = 1; levels <= JSON_DEPTH_MAX - 1; levels++) {
		/* [1,[1,[1,...[1,2]...,3],3],3] */
		n = 0;
		for (d = 0; d < levels; d++)
			n += (size_t)snprintf(want + n, sizeof(want) - n,
			    "%s[1", d ? "," : "");
		n += (size_t)snprintf(want + n, sizeof(want) - n, ",2");
		for (d = 0; d < levels; d++)
			n += (size_t)snprintf(want + n, sizeof(want) - n,
			    "]%s", d + 1 < levels ? ",3" : "");
		cap_open(&c);
		for (d = 0; d < levels; d++) {
			json_arr_begin(&c.j);
			json_int(&c.j, 1);
		}
		json_int(&c.j, 2);
		for (d = 0; d < levels; d++) {
			json_arr_end(&c.j);
			if (d + 1 < levels)
				json_int(&c.j, 3);
		}
		cap_expect(&c, want, "nested arrays");
	}
	/* Far deeper than tracked: balanced brackets, no crash. */
	cap_open(&c);
	for (d = 0; d < 4 * JSON_DEPTH_MAX; d++) {
		json_obj_begin(&c.j);
		json_key(&c.j, "k");
		json_arr_begin(&c.j);
		json_int(&c.j, d);
	}
	for (d = 0; d < 4 * JSON_DEPTH_MAX; d++) {
		json_arr_end(&c.j);
		json_obj_end(&c.j);
	}
	json_end(&c.j);
	assert_int_equal(fclose(c.fp), 0);
	for (i = 0; i < c.len; i++) {
		opens += c.text[i] == '{' || c.text[i] == '[';
		closes += c.text[i] == '}' || c.text[i] == ']';
	}
	assert_int_equal(opens, 8 * JSON_DEPTH_MAX);
	assert_int_equal(closes, opens);
	assert_int_equal(c.text[0], '{');
	assert_int_equal(c.text[c.len - 1], '\n');
	assert_int_equal(c.text[c.len - 2], '}');
	assert_int_equal(c.j.depth, 0);
	free(c.text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
