/*
 * fuzz_import.h - the body shared by the fuzz_import_* targets: the input
 * is a whole file, read through fmemopen() and import_reader, and every
 * logical line is given to the format's parser.  Besides crashes and
 * sanitizer reports, the invariants of import.h are checked (abort() on a
 * violation, which libFuzzer reports as a crash).
 */
#ifndef VS_FUZZ_IMPORT_H
#define VS_FUZZ_IMPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

#define FUZZ_CHECK(cond) do {                                           \
	if (!(cond)) {                                                  \
		fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
		    __FILE__, __LINE__, #cond);                         \
		abort();                                                \
	}                                                               \
} while (0)

/* s is a non-empty field without control characters, and without a
 * space when no_space is set. */
static void
fuzz_check_field(const char *s, int no_space)
{
	FUZZ_CHECK(s != NULL && *s != '\0');
	for (; *s != '\0'; s++) {
		FUZZ_CHECK((unsigned char)*s >= 0x20 && *s != 0x7f);
		FUZZ_CHECK(!no_space || *s != ' ');
	}
}

static int
fuzz_within(const char *p, const char *buf, size_t len)
{
	return p >= buf && p <= buf + len;
}

static void
fuzz_check_err(int rc, const struct vs_err *err)
{
	FUZZ_CHECK(err->code == rc);
	FUZZ_CHECK(err->msg[0] != '\0');
	FUZZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
}

static void
fuzz_parse(enum import_format fmt, char *line)
{
	struct import_user u;
	struct import_map m;
	struct vs_err err;
	size_t len = strlen(line);
	int rc;

	vs_err_clear(&err);
	switch (fmt) {
	case IMPORT_HTPASSWD:
	case IMPORT_DOVECOT_PASSWD:
		rc = fmt == IMPORT_HTPASSWD ?
		    import_parse_htpasswd(line, &u, &err) :
		    import_parse_dovecot_passwd(line, &u, &err);
		FUZZ_CHECK(rc == 1 || rc == 0 || rc == VS_EINVAL);
		if (rc == VS_EINVAL)
			fuzz_check_err(rc, &err);
		if (rc != 1)
			break;
		fuzz_check_field(u.login, 1);
		fuzz_check_field(u.hash, 1);
		FUZZ_CHECK(strchr(u.login, ':') == NULL);
		FUZZ_CHECK(fuzz_within(u.login, line, len));
		FUZZ_CHECK(fuzz_within(u.hash, line, len));
		if (fmt == IMPORT_HTPASSWD) {
			FUZZ_CHECK(strchr(u.hash, ':') == NULL);
			FUZZ_CHECK(u.home == NULL && u.mail == NULL &&
			    u.quota == NULL && !u.has_uid && !u.has_gid);
			break;
		}
		if (u.home != NULL) {
			fuzz_check_field(u.home, 0);
			FUZZ_CHECK(fuzz_within(u.home, line, len));
		}
		if (u.mail != NULL) {
			fuzz_check_field(u.mail, 1);
			FUZZ_CHECK(fuzz_within(u.mail, line, len));
		}
		if (u.quota != NULL) {
			fuzz_check_field(u.quota, 1);
			FUZZ_CHECK(fuzz_within(u.quota, line, len));
		}
		FUZZ_CHECK(u.has_uid || u.uid == 0);
		FUZZ_CHECK(u.has_gid || u.gid == 0);
		break;
	case IMPORT_POSTFIX_MAP:
		rc = import_parse_postfix_map(line, &m, &err);
		FUZZ_CHECK(rc == 1 || rc == 0 || rc == VS_EINVAL);
		if (rc == VS_EINVAL)
			fuzz_check_err(rc, &err);
		if (rc != 1)
			break;
		FUZZ_CHECK(fuzz_within(m.key, line, len));
		FUZZ_CHECK(fuzz_within(m.value, line, len));
		FUZZ_CHECK(m.key[0] != '\0' && m.value[0] != '\0');
		FUZZ_CHECK(strpbrk(m.key, " \t") == NULL);
		FUZZ_CHECK(m.value[0] != ' ' && m.value[0] != '\t');
		FUZZ_CHECK(m.value[strlen(m.value) - 1] != ' ' &&
		    m.value[strlen(m.value) - 1] != '\t');
		break;
	}
}

static int
fuzz_import(const uint8_t *data, size_t size, enum import_format fmt)
{
	struct import_reader *r;
	struct vs_err err;
	unsigned long lineno, last = 0, results = 0;
	char *line;
	FILE *fp;
	int rc;

	/* fmemopen() only reads the buffer in "r" mode. */
	if ((fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return 0;
	FUZZ_CHECK(import_reader_new(fp, fmt, &r) == VS_OK);
	for (;;) {
		vs_err_clear(&err);
		rc = import_reader_next(r, &line, &lineno, &err);
		if (rc == 0)
			break;
		/* every result uses up at least one byte of input */
		FUZZ_CHECK(++results <= size);
		FUZZ_CHECK(lineno > last && lineno <= size);
		last = lineno;
		if (rc == 1) {
			FUZZ_CHECK(line != NULL);
			FUZZ_CHECK(strlen(line) <= IMPORT_LINE_MAX);
			FUZZ_CHECK(strchr(line, '\n') == NULL);
			fuzz_parse(fmt, line);
			continue;
		}
		FUZZ_CHECK(rc == VS_EINVAL || rc == VS_ELIMIT);
		fuzz_check_err(rc, &err);
	}
	/* end of input is sticky */
	FUZZ_CHECK(import_reader_next(r, &line, &lineno, &err) == 0);
	import_reader_free(&r);
	FUZZ_CHECK(r == NULL);
	fclose(fp);
	return 0;
}

#endif
