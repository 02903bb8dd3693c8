/*
 * form.h - a capped parser of application/x-www-form-urlencoded bodies
 * (HTML forms; what Roundcube's password plugin driver "httpapi" POSTs),
 * for service/httpapi.c; pure, fuzzed by tests/fuzz/fuzz_form.c.
 *
 * Format: NAME=VALUE pairs joined by '&'; in names and values '+' is a
 * space and %XX (two hex digits, either case) a byte; anything else is
 * taken as it is.  Strict: an empty pair ("a=1&&b=2", a leading or
 * trailing '&'), a pair without '=', a bad or cut %-escape, a %00 (or raw
 * NUL), an empty name, a wanted field given twice or missing are errors.
 * Fields the caller did not ask for are skipped (still checked).  An
 * empty body is an error (no wanted field).
 *
 * Limits: the body at most FORM_BODY_MAX bytes, at most FORM_PAIRS_MAX
 * pairs, a decoded name at most FORM_NAME_MAX bytes, a decoded value at
 * most its field's cap (and FORM_VALUE_MAX).
 *
 * Security: values are decoded straight into the caller's buffers (for
 * passwords: sodium_malloc()ed, wiped by the caller); on an error every
 * wanted buffer is wiped.  Error messages name a wanted field (the
 * caller's own configured name) or a position, never a value or a name
 * the peer sent.
 */
#ifndef VS_FORM_H
#define VS_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "vs_err.h"

#define FORM_BODY_MAX 8192
#define FORM_PAIRS_MAX 32
#define FORM_NAME_MAX 64
#define FORM_VALUE_MAX 1024

struct form_field {
	const char *name;       /* wanted: the decoded name */
	char *value;            /* out: cap bytes; NUL-terminated */
	size_t cap;             /* value's size, NUL included (>= 1) */
	size_t len;             /* out: decoded length */
	bool found;             /* out */
};

/* Decode body[0..len) into the wanted fields f[0..n).  VS_OK when every
 * field was found exactly once; VS_EINVAL (malformed, missing, repeated)
 * or VS_ELIMIT (over a cap) with the reason. */
int form_parse(const char *body, size_t len, struct form_field *f, size_t n,
    struct vs_err *err);

#endif
