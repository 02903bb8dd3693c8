/*
 * form.c - application/x-www-form-urlencoded bodies, strictly (see form.h
 * for the format and the limits).
 *
 * Security: the body's length is checked before a byte is read; every
 * decoded length is checked against its buffer before the byte is
 * written; nothing is allocated; a failed parse wipes every wanted
 * buffer; messages never quote the body.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "form.h"

enum { D_OK, D_ESCAPE, D_NUL, D_LONG };

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..n) into dst (NULL: only check), at most max bytes. */
static int
decode(const char *s, size_t n, char *dst, size_t max, size_t *len_r)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return D_ESCAPE;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return D_NUL;
		if (o >= max)
			return D_LONG;
		if (dst != NULL)
			dst[o] = c;
		o++;
	}
	*len_r = o;
	return D_OK;
}

static void
wipe_all(struct form_field *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sodium_memzero(f[i].value, f[i].cap);
		f[i].len = 0;
		f[i].found = false;
	}
}

static int
fail(struct form_field *f, size_t n, struct vs_err *err, int code,
    const char *what, unsigned long pair, const char *field)
{
	wipe_all(f, n);
	if (field != NULL)
		return vs_fail(err, code, "form field '%s': %s", field, what);
	if (pair > 0)
		return vs_fail(err, code, "form pair %lu: %s", pair, what);
	return vs_fail(err, code, "form: %s", what);
}

static const char *
reason(int d)
{
	switch (d) {
	case D_ESCAPE: return "a bad %-escape";
	case D_NUL: return "a NUL byte";
	default: return "too long";
	}
}

int
form_parse(const char *body, size_t len, struct form_field *f, size_t n,
    struct vs_err *err)
{
	char name[FORM_NAME_MAX + 1];
	const char *p, *end, *amp, *eq;
	unsigned long pairs = 0;
	size_t i, nlen, vlen, max;
	int d;

	for (i = 0; i < n; i++) {
		f[i].len = 0;
		f[i].found = false;
		if (f[i].cap == 0)
			return vs_fail(err, VS_EINVAL, "form field '%s': no "
			    "room", f[i].name);
		f[i].value[0] = '\0';
	}
	if (len > FORM_BODY_MAX)
		return fail(f, n, err, VS_ELIMIT, "the body is over the cap",
		    0, NULL);
	if (len == 0)
		return fail(f, n, err, VS_EINVAL, "the body is empty", 0,
		    NULL);
	p = body;
	end = body + len;
	for (;;) {
		if (++pairs > FORM_PAIRS_MAX)
			return fail(f, n, err, VS_ELIMIT, "too many pairs", 0,
			    NULL);
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp == p)
			return fail(f, n, err, VS_EINVAL, "empty pair", pairs,
			    NULL);
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			return fail(f, n, err, VS_EINVAL, "no '='", pairs,
			    NULL);
		if (eq == p)
			return fail(f, n, err, VS_EINVAL, "empty name", pairs,
			    NULL);
		d = decode(p, (size_t)(eq - p), name, FORM_NAME_MAX, &nlen);
		if (d != D_OK)
			return fail(f, n, err, d == D_LONG ? VS_ELIMIT :
			    VS_EINVAL, d == D_LONG ? "name too long" :
			    reason(d), pairs, NULL);
		name[nlen] = '\0';
		for (i = 0; i < n; i++)
			if (strlen(f[i].name) == nlen &&
			    memcmp(f[i].name, name, nlen) == 0)
				break;
		if (i < n && f[i].found)
			return fail(f, n, err, VS_EINVAL, "given twice", 0,
			    f[i].name);
		max = FORM_VALUE_MAX;
		if (i < n && f[i].cap - 1 < max)
			max = f[i].cap - 1;
		d = decode(eq + 1, (size_t)(amp - eq - 1),
		    i < n ? f[i].value : NULL, max, &vlen);
		if (d != D_OK) {
			if (i < n)
				return fail(f, n, err, d == D_LONG ?
				    VS_ELIMIT : VS_EINVAL, reason(d), 0,
				    f[i].name);
			return fail(f, n, err, d == D_LONG ? VS_ELIMIT :
			    VS_EINVAL, d == D_LONG ? "value too long" :
			    reason(d), pairs, NULL);
		}
		if (i < n) {
			f[i].value[vlen] = '\0';
			f[i].len = vlen;
			f[i].found = true;
		}
		if (amp == end)
			break;
		p = amp + 1;
		if (p == end)
			return fail(f, n, err, VS_EINVAL, "empty pair",
			    pairs + 1, NULL);
	}
	for (i = 0; i < n; i++)
		if (!f[i].found)
			return fail(f, n, err, VS_EINVAL, "missing", 0,
			    f[i].name);
	return VS_OK;
}
