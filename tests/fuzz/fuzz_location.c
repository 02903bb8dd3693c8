/*
 * fuzz_location.c - libFuzzer target for lib/store_loc.c: store_location()
 * and store_location_show() on arbitrary bytes (made NUL-terminated).
 *
 * Checks the contract: the rest store_location() gives points into the
 * input; the shown form is NUL-terminated within STORE_SHOW_MAX, starts
 * with "postgresql:" for a PostgreSQL location, and holds no control
 * character there; and - the security property - a PostgreSQL
 * location's password never reaches the shown form:
 *   - directly: a password value (a password= keyword of the conninfo, the
 *     password of a URI's user:password@, or a URI's ?password= or
 *     &password= parameter) of 6 bytes or more that is not also part of a
 *     value that may be shown (host, hostaddr, port, dbname; a URI's host
 *     and database), nor made of the shown form's own words and
 *     separators, is not a substring of the shown form;
 *   - by difference: the input with every letter and digit of every such
 *     password value changed (the structure kept) shows exactly the same.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)
/* Inputs are cut at 4096 bytes: a key=value takes at least 2. */
#define MAX_SPANS 2048

struct span {
	size_t off, len;
};

struct spans {
	struct span pw[MAX_SPANS], shown[MAX_SPANS];
	size_t npw, nshown;
};

static void
add(struct span *a, size_t *n, size_t off, size_t len)
{
	if (*n >= MAX_SPANS)
		abort();        /* cannot be: see MAX_SPANS */
	if (len > 0) {
		a[*n].off = off;
		a[*n].len = len;
		(*n)++;
	}
}

static bool
key_is(const char *k, size_t klen, const char *name)
{
	return klen == strlen(name) && memcmp(k, name, klen) == 0;
}

/* The conninfo's key=value pairs, tokenized as store_loc.c's kw_find
 * does (which is also how libpq reads them): stop at the first thing that
 * is not key=value. */
static void
kw_spans(const char *s, const char *ci, struct spans *sp)
{
	const char *p = ci, *k, *v;
	size_t klen, vlen;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			return;
		k = p;
		while (*p != '\0' && *p != '=' && *p != ' ' && *p != '\t')
			p++;
		klen = (size_t)(p - k);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			return;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\'') {
			v = ++p;
			while (*p != '\0' && *p != '\'')
				p += p[0] == '\\' && p[1] != '\0' ? 2 : 1;
			if (*p != '\'')
				return;
			vlen = (size_t)(p - v);
			p++;
		} else {
			v = p;
			while (*p != '\0' && *p != ' ' && *p != '\t' &&
			    *p != '\n')
				p++;
			vlen = (size_t)(p - v);
		}
		if (key_is(k, klen, "password"))
			add(sp->pw, &sp->npw, (size_t)(v - s), vlen);
		else if (key_is(k, klen, "host") ||
		    key_is(k, klen, "hostaddr") || key_is(k, klen, "port") ||
		    key_is(k, klen, "dbname"))
			add(sp->shown, &sp->nshown, (size_t)(v - s), vlen);
	}
}

/* scheme://[user[:password]@]host[/dbname][?k=v&...], read as libpq
 * reads it (conninfo_uri_parse_options: the user part ends at the first
 * '@' met before any '/'): the password of the user part and of the
 * parameters, and what may be shown (the rest up to the parameters). */
static void
uri_spans(const char *s, const char *ci, struct spans *sp)
{
	const char *a = strstr(ci, "://"), *c, *q, *p;

	if (a == NULL)
		return;
	a += 3;
	for (p = a; *p != '\0' && *p != '@' && *p != '/'; p++)
		;
	if (*p == '@') {
		c = memchr(a, ':', (size_t)(p - a));
		if (c != NULL)
			add(sp->pw, &sp->npw, (size_t)(c + 1 - s),
			    (size_t)(p - c - 1));
		a = p + 1;
	}
	q = a + strcspn(a, "?");
	add(sp->shown, &sp->nshown, (size_t)(a - s), (size_t)(q - a));
	while (*q != '\0') {
		q++;
		p = q + strcspn(q, "&");
		if ((size_t)(p - q) > 9 && memcmp(q, "password=", 9) == 0)
			add(sp->pw, &sp->npw, (size_t)(q + 9 - s),
			    (size_t)(p - q - 9));
		q = p;
	}
}

static bool
contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	size_t i;

	if (nlen == 0 || nlen > hlen)
		return false;
	for (i = 0; i + nlen <= hlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spans sp;         /* 64 KiB: not on the stack */
	char out[STORE_SHOW_MAX], out2[STORE_SHOW_MAX];
	const char *rest;
	char *s, *m;
	size_t i, j, olen;
	bool may_show;

	if (size > 4096)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(out, 0x55, sizeof(out));
	if (store_location(s, &rest) == STORE_BACKEND_LMDB) {
		CHECK(rest >= s && rest <= s + strlen(s));
		store_location_show(s, out);
		CHECK(memchr(out, '\0', sizeof(out)) != NULL);
		free(s);
		return 0;
	}
	CHECK(rest >= s && rest <= s + strlen(s));
	store_location_show(s, out);
	CHECK(memchr(out, '\0', sizeof(out)) != NULL);
	CHECK(strncmp(out, "postgresql:", 11) == 0);
	olen = strlen(out);
	for (i = 0; i < olen; i++)
		CHECK((unsigned char)out[i] > 0x1f && out[i] != 0x7f);

	memset(&sp, 0, sizeof(sp));
	if (strncmp(rest, "postgres", 8) == 0 && strstr(rest, "://") != NULL)
		uri_spans(s, rest, &sp);
	else
		kw_spans(s, rest, &sp);

	/* Directly: no password of 6 bytes or more in the shown form,
	 * unless a value that may be shown holds it too - or it could be
	 * put together from the shown form's own words and separators ('=',
	 * ' ', ':' and the '?' that stands for a byte not shown). */
	for (i = 0; i < sp.npw; i++) {
		if (sp.pw[i].len < 6 || memchr(s + sp.pw[i].off, '=',
		    sp.pw[i].len) != NULL || memchr(s + sp.pw[i].off, ' ',
		    sp.pw[i].len) != NULL || memchr(s + sp.pw[i].off, '?',
		    sp.pw[i].len) != NULL || memchr(s + sp.pw[i].off, ':',
		    sp.pw[i].len) != NULL || contains("postgresql:(conninfo)"
		    "hostaddr dbname port", 41, s + sp.pw[i].off, sp.pw[i].len))
			continue;
		may_show = false;
		for (j = 0; j < sp.nshown; j++)
			may_show |= contains(s + sp.shown[j].off,
			    sp.shown[j].len, s + sp.pw[i].off, sp.pw[i].len);
		if (!may_show)
			CHECK(!contains(out, olen, s + sp.pw[i].off,
			    sp.pw[i].len));
	}

	/* By difference: change the passwords' letters and digits. */
	if (sp.npw > 0 && (m = malloc(size + 1)) != NULL) {
		memcpy(m, s, size + 1);
		for (i = 0; i < sp.npw; i++)
			for (j = sp.pw[i].off; j < sp.pw[i].off + sp.pw[i].len;
			    j++) {
				char c = m[j];

				if ((c >= 'a' && c <= 'z') ||
				    (c >= 'A' && c <= 'Z'))
					m[j] = c == 'q' ? 'z' : 'q';
				else if (c >= '0' && c <= '9')
					m[j] = c == '7' ? '3' : '7';
			}
		/* Unless a password span overlaps one that may be shown
		 * (the same bytes read two ways: not a conninfo libpq
		 * reads). */
		may_show = false;
		for (i = 0; i < sp.npw; i++)
			for (j = 0; j < sp.nshown; j++)
				may_show |= sp.pw[i].off < sp.shown[j].off +
				    sp.shown[j].len && sp.shown[j].off <
				    sp.pw[i].off + sp.pw[i].len;
		store_location_show(m, out2);
		if (!may_show)
			CHECK(strcmp(out, out2) == 0);
		free(m);
	}
	free(s);
	return 0;
}
