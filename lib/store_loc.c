/*
 * store_loc.c - where a store lives: the location strings of store.h
 * ("lmdb:DIR", a plain DIR, "postgresql:CONNINFO" or a postgresql:// URI)
 * told apart, and a form of them fit to show.
 *
 * Security stance: a PostgreSQL CONNINFO may hold a password, so nothing
 * outside this module shows a location as given: store_location_show()
 * keeps only host, hostaddr, port and dbname (control characters and spaces
 * turned to '?'), never the password or any other key, and a CONNINFO
 * it cannot read is shown as "postgresql:(conninfo)".  Pure string work:
 * no I/O, no allocation.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

#define LOC_PG "postgresql:"
#define LOC_LMDB "lmdb:"

enum store_backend
store_location(const char *loc, const char **rest_r)
{
	const char *rest = loc;
	enum store_backend b = STORE_BACKEND_LMDB;

	if (strncmp(loc, "postgresql://", 13) == 0 ||
	    strncmp(loc, "postgres://", 11) == 0) {
		b = STORE_BACKEND_PG;   /* a URI, taken whole */
	} else if (strncmp(loc, LOC_PG, strlen(LOC_PG)) == 0) {
		b = STORE_BACKEND_PG;
		rest = loc + strlen(LOC_PG);
	} else if (strncmp(loc, LOC_LMDB, strlen(LOC_LMDB)) == 0) {
		rest = loc + strlen(LOC_LMDB);
	}
	if (rest_r != NULL)
		*rest_r = rest;
	return b;
}

/* Append " key=value" to out (value cut at len, control characters and
 * spaces turned to '?'), when there is room for all of it. */
static void
show_add(char *out, size_t size, const char *key, const char *v, size_t len)
{
	size_t o = strlen(out), i;

	if (len == 0 || len > 100 || o + strlen(key) + len + 3 > size)
		return;
	o += (size_t)snprintf(out + o, size - o, "%s%s=", o > strlen(LOC_PG) ?
	    " " : "", key);
	for (i = 0; i < len; i++)
		out[o++] = (unsigned char)v[i] <= 0x20 || v[i] == 0x7f ||
		    v[i] == '\\' || v[i] == '\'' ? '?' : v[i];
	out[o] = '\0';
}

/* The value of key in a "key=value ..." conninfo (libpq's form: spaces
 * around '=', values in single quotes with backslash escapes); the raw
 * span (quotes kept out, escapes not undone: only shown). */
static bool
kw_find(const char *ci, const char *key, const char **v_r, size_t *len_r)
{
	const char *p = ci, *k, *v;
	size_t klen;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			return false;
		k = p;
		while (*p != '\0' && *p != '=' && *p != ' ' && *p != '\t')
			p++;
		klen = (size_t)(p - k);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			return false;   /* not key=value: a URI or garbage */
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\'') {
			v = ++p;
			while (*p != '\0' && *p != '\'')
				p += p[0] == '\\' && p[1] != '\0' ? 2 : 1;
			if (*p != '\'')
				return false;
			if (klen == strlen(key) && memcmp(k, key, klen) == 0) {
				*v_r = v;
				*len_r = (size_t)(p - v);
				return true;
			}
			p++;
			continue;
		}
		v = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (klen == strlen(key) && memcmp(k, key, klen) == 0) {
			*v_r = v;
			*len_r = (size_t)(p - v);
			return true;
		}
	}
}

void
store_location_show(const char *loc, char out[STORE_SHOW_MAX])
{
	static const char *const keys[] = { "host", "hostaddr", "port",
	    "dbname" };
	const char *ci, *v, *h, *e;
	size_t len, i;

	if (store_location(loc, &ci) == STORE_BACKEND_LMDB) {
		snprintf(out, STORE_SHOW_MAX, "%s", ci);
		return;
	}
	snprintf(out, STORE_SHOW_MAX, "%s", LOC_PG);
	if (strncmp(ci, "postgres", 8) == 0 && (h = strstr(ci, "://")) !=
	    NULL) {
		const char *a;

		/* scheme://[user[:password]@]hostspec[/dbname][?params].
		 * libpq ends the user part at the first '@' before any '/',
		 * so a '?' may be in a password: the host is after the last
		 * '@' before the first '/'; when a '?' comes before that '@'
		 * (a password or a parameter holding '?' or '@': which one
		 * cannot be told) nothing of it is shown. */
		a = h += 3;
		e = h + strcspn(h, "/");
		for (v = h; v < e; v++)
			if (*v == '@')
				h = v + 1;      /* no user, no password */
		if (h != a && memchr(a, '?', (size_t)(h - a)) != NULL) {
			snprintf(out, STORE_SHOW_MAX, "%s(conninfo)", LOC_PG);
			return;
		}
		e = h + strcspn(h, "/?");
		show_add(out, STORE_SHOW_MAX, "host", h, (size_t)(e - h));
		if (*e == '/')
			show_add(out, STORE_SHOW_MAX, "dbname", e + 1,
			    strcspn(e + 1, "?"));
	} else {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (kw_find(ci, keys[i], &v, &len))
				show_add(out, STORE_SHOW_MAX, keys[i], v, len);
	}
	if (strcmp(out, LOC_PG) == 0)
		snprintf(out, STORE_SHOW_MAX, "%s(conninfo)", LOC_PG);
}

