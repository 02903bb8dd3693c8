/*
 * fuzz_form.c - libFuzzer target for lib/form.c, the httpapi front end's
 * request body parser (service/httpapi.c; what Roundcube's httpapi driver
 * POSTs).
 *
 * Input: the body.  Parsed for the three fields Roundcube's driver sends
 * by default (username, curpass, newpass; small buffers for the first,
 * so that its cap is reached too).  Accepted: every field found, its
 * length within its buffer, NUL-terminated there and free of NUL; the
 * values, encoded again (every byte as %XX), parse back to the same
 * values.  Refused: VS_EINVAL or VS_ELIMIT, a printable message, every
 * buffer wiped and nothing found.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static char v[3][FORM_VALUE_MAX + 1], w[3][FORM_VALUE_MAX + 1];
static char enc[FORM_BODY_MAX * 4];

static void
setup(struct form_field *f, char bufs[3][FORM_VALUE_MAX + 1])
{
	static const char *const names[3] = { "username", "curpass",
	    "newpass" };
	static const size_t caps[3] = { 64, FORM_VALUE_MAX + 1, 300 };
	int i;

	memset(f, 0, 3 * sizeof(*f));
	for (i = 0; i < 3; i++) {
		memset(bufs[i], 0x55, sizeof(bufs[i]));
		f[i].name = names[i];
		f[i].value = bufs[i];
		f[i].cap = caps[i];
	}
}

/* The values again, every byte %-escaped (fields in reverse order). */
static size_t
encode(const struct form_field *f)
{
	size_t n = 0, i;
	int k;

	for (k = 2; k >= 0; k--) {
		n += (size_t)snprintf(enc + n, sizeof(enc) - n, "%s%s=",
		    k == 2 ? "" : "&", f[k].name);
		for (i = 0; i < f[k].len; i++)
			n += (size_t)snprintf(enc + n, sizeof(enc) - n, "%%%02X",
			    (unsigned char)f[k].value[i]);
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form_field f[3], g[3];
	struct vs_err err;
	const char *m;
	size_t n, i;
	int rc;

	setup(f, v);
	vs_err_clear(&err);
	rc = form_parse((const char *)data, size, f, 3, &err);
	if (rc != VS_OK) {
		CHECK(rc == VS_EINVAL || rc == VS_ELIMIT);
		CHECK(err.code == rc && err.msg[0] != '\0');
		for (m = err.msg; *m != '\0'; m++)
			CHECK((unsigned char)*m >= 0x20 &&
			    (unsigned char)*m < 0x7f);
		for (i = 0; i < 3; i++) {
			CHECK(!f[i].found && f[i].len == 0);
			for (n = 0; n < f[i].cap; n++)
				CHECK(f[i].value[n] == 0);
		}
		return 0;
	}
	for (i = 0; i < 3; i++) {
		CHECK(f[i].found && f[i].len < f[i].cap);
		CHECK(f[i].value[f[i].len] == '\0');
		CHECK(memchr(f[i].value, '\0', f[i].len) == NULL);
	}
	n = encode(f);
	if (n > FORM_BODY_MAX)
		return 0;       /* escaping triples the size */
	setup(g, w);
	CHECK(form_parse(enc, n, g, 3, &err) == VS_OK);
	for (i = 0; i < 3; i++) {
		CHECK(g[i].len == f[i].len);
		CHECK(memcmp(g[i].value, f[i].value, f[i].len) == 0);
	}
	return 0;
}
