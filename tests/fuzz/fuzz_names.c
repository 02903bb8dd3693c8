/*
 * fuzz_names.c - libFuzzer target for lib/names.c.
 *
 * Feeds the input (made NUL-terminated) to every normalizer and checks
 * the contract: success gives a name within the limits, lower-case where
 * promised, that normalizes to itself; failure gives VS_EINVAL, an empty
 * output and a printable message.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
check_msg(int rc, const struct vs_err *err, const char *out)
{
	const char *p;

	CHECK(rc == VS_EINVAL);
	CHECK(err->code == VS_EINVAL);
	CHECK(out[0] == '\0');
	CHECK(strncmp(err->msg, "invalid ", 8) == 0);
	for (p = err->msg; *p != '\0'; p++)
		CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static bool
has_upper(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			return true;
	return false;
}

static bool
all_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == ':')
			return false;
	return true;
}

static void
fuzz_domain(const char *in)
{
	char out[NAME_BUF], again[NAME_BUF];
	struct vs_err err;
	int rc;

	rc = name_domain(in, out, &err);
	if (rc != VS_OK) {
		check_msg(rc, &err, out);
		return;
	}
	CHECK(strlen(out) >= 1 && strlen(out) <= NAME_DOMAIN_MAX);
	CHECK(!has_upper(out) && all_printable(out));
	CHECK(strchr(out, '@') == NULL);
	CHECK(name_domain(out, again, &err) == VS_OK);
	CHECK(strcmp(out, again) == 0);
}

static void
fuzz_address(const char *in, bool fold, bool catchall)
{
	char out[NAME_BUF], again[NAME_BUF];
	struct vs_err err;
	const char *dom;
	int rc;

	rc = name_address(in, fold, catchall, out, &err);
	if (rc != VS_OK) {
		check_msg(rc, &err, out);
		return;
	}
	CHECK(strlen(out) <= NAME_ADDRESS_MAX);
	CHECK(all_printable(out));
	CHECK((dom = name_domain_of(out)) != NULL);
	CHECK(strchr(out, '@') == dom - 1);
	CHECK(dom - out - 1 <= NAME_LOCAL_MAX);
	CHECK(catchall || dom - out > 1);
	CHECK(!has_upper(dom));
	if (fold)
		CHECK(!has_upper(out));
	CHECK(name_address(out, fold, catchall, again, &err) == VS_OK);
	CHECK(strcmp(out, again) == 0);
	CHECK(name_domain(dom, again, &err) == VS_OK);
	CHECK(strcmp(dom, again) == 0);
	/* A folded address is also a valid, unchanged login, unless its
	 * local part holds what logins refuse because Dovecot puts them in
	 * paths ('/', a leading '.'). */
	if (fold && out[0] != '@' && out[0] != '.' &&
	    memchr(out, '/', (size_t)(dom - out)) == NULL &&
	    strlen(out) <= NAME_LOGIN_MAX) {
		CHECK(name_login(out, true, again, &err) == VS_OK);
		CHECK(strcmp(out, again) == 0);
	}
}

static void
fuzz_login(const char *in, bool fold)
{
	char out[NAME_BUF], again[NAME_BUF];
	struct vs_err err;
	int rc;

	rc = name_login(in, fold, out, &err);
	if (rc != VS_OK) {
		check_msg(rc, &err, out);
		return;
	}
	CHECK(strlen(out) >= 1 && strlen(out) <= NAME_LOGIN_MAX);
	CHECK(all_printable(out));
	CHECK(out[0] != '@');
	if (fold)
		CHECK(!has_upper(out));
	CHECK(name_login(out, fold, again, &err) == VS_OK);
	CHECK(strcmp(out, again) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char quoted[NAME_QUOTE_BUF + 1];
	char *in;
	size_t n;

	/* name_quote reads exactly size bytes, NULs included. */
	quoted[NAME_QUOTE_BUF] = 'Z';
	name_quote((const char *)data, size, quoted);
	CHECK(quoted[NAME_QUOTE_BUF] == 'Z');
	n = strlen(quoted);
	CHECK(n < NAME_QUOTE_BUF);
	if (size > 64)
		CHECK(n >= 67 && strcmp(quoted + n - 3, "...") == 0);
	else
		CHECK(n >= size && n <= size * 4);

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	fuzz_domain(in);
	fuzz_address(in, true, false);
	fuzz_address(in, true, true);
	fuzz_address(in, false, false);
	fuzz_address(in, false, true);
	fuzz_login(in, true);
	fuzz_login(in, false);
	free(in);
	return 0;
}
