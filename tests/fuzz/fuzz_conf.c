/*
 * fuzz_conf.c - libFuzzer target for lib/conf.c (conf_parse).
 *
 * Input: the text of a vmseal.conf.  Checks:
 *  - conf_parse over the defaults returns VS_OK or VS_EINVAL, with a
 *    printable message naming a line ("line N: ...", N within the text)
 *    or the size limit;
 *  - parsing is deterministic;
 *  - an accepted configuration keeps to the limits: every string is
 *    NUL-terminated inside its field, has no control character and no
 *    white space at either end; modes are at most 0777; numbers are
 *    within their documented maxima;
 *  - round trip: the parsed settings written back as "name = value"
 *    lines (every setting, octal modes) parse to the same struct;
 *  - a failure at line N means lines 1..N-1 alone parse (the error is
 *    reported at the first bad line), and an accepted text stays
 *    accepted when cut at any line end.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* Messages end up on a terminal and in syslog: printable ASCII only.
 * conf.c quotes an unknown setting's name as it is in the file (control
 * characters and bytes >= 0x80 included); -DFUZZ_CONF_RAW_NAMES_OK skips
 * that quote, to fuzz past it until conf.c quotes through name_quote(). */
static void
check_msg(const struct vs_err *e, int rc)
{
	const char *m, *end;

	CHECK(e->code == rc);
	CHECK(e->msg[0] != '\0');
	end = e->msg + strlen(e->msg);
#ifdef FUZZ_CONF_RAW_NAMES_OK
	if ((m = strstr(e->msg, ": unknown setting '")) != NULL)
		end = m;
#endif
	for (m = e->msg; m < end; m++)
		CHECK((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f);
}

static void
check_str(const char *s, size_t size)
{
	size_t n = strnlen(s, size), i;

	CHECK(n < size);
	for (i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
	if (n > 0) {
		CHECK(s[0] != ' ' && s[0] != '\t');
		CHECK(s[n - 1] != ' ' && s[n - 1] != '\t');
	}
}

#define STR(f) check_str(c->f, sizeof(c->f))

static void
check_conf(const struct vs_conf *c)
{
	STR(store_dir);
	STR(socket_dir);
	STR(user);
	STR(group);
	STR(admin_group);
	STR(admin.group);
	STR(socketmap.group);
	STR(policy.group);
	STR(auth.group);
	STR(recipient_delimiter);
	STR(syslog_facility);
	CHECK(c->admin.mode <= 0777 && c->socketmap.mode <= 0777 &&
	    c->policy.mode <= 0777 && c->auth.mode <= 0777);
	CHECK(c->max_connections <= 65536);
	CHECK(c->admin_max_connections <= 1024);
	CHECK(c->socketmap_max_connections <= 65536);
	CHECK(c->policy_max_connections <= 65536);
	CHECK(c->auth_max_connections <= 65536);
	CHECK(c->idle_timeout <= 86400);
	CHECK(c->policy_recipient_limit <= 100000000);
	CHECK(c->hash_workers <= 256);
	CHECK(c->hash_queue <= 100000);
	CHECK(c->login_by_address <= 1);
}

/* Every setting as text that conf_parse reads back. */
static size_t
write_conf(const struct vs_conf *c, char *out, size_t cap)
{
	int n;

	n = snprintf(out, cap,
	    "store_dir = %s\nsocket_dir = %s\nuser = %s\ngroup = %s\n"
	    "admin_group = %s\n"
	    "admin_socket_group = %s\nadmin_socket_mode = %o\n"
	    "socketmap_socket_group = %s\nsocketmap_socket_mode = %o\n"
	    "policy_socket_group = %s\npolicy_socket_mode = %o\n"
	    "auth_socket_group = %s\nauth_socket_mode = %o\n"
	    "recipient_delimiter = %s\nmax_connections = %u\n"
	    "admin_max_connections = %u\nsocketmap_max_connections = %u\n"
	    "policy_max_connections = %u\nauth_max_connections = %u\n"
	    "idle_timeout = %u\npolicy_recipient_limit = %u\n"
	    "hash_workers = %u\nhash_queue = %u\nlogin_by_address = %u\n"
	    "syslog_facility = %s\n",
	    c->store_dir, c->socket_dir, c->user, c->group, c->admin_group,
	    c->admin.group, (unsigned)c->admin.mode,
	    c->socketmap.group, (unsigned)c->socketmap.mode,
	    c->policy.group, (unsigned)c->policy.mode,
	    c->auth.group, (unsigned)c->auth.mode,
	    c->recipient_delimiter, c->max_connections,
	    c->admin_max_connections, c->socketmap_max_connections,
	    c->policy_max_connections, c->auth_max_connections,
	    c->idle_timeout,
	    c->policy_recipient_limit, c->hash_workers, c->hash_queue,
	    c->login_by_address, c->syslog_facility);
	CHECK(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

/* The settings, field by field (padding and bytes after a string's NUL
 * are not settings). */
static int
same_conf(const struct vs_conf *a, const struct vs_conf *b)
{
#define SS(f) (strcmp(a->f, b->f) == 0)
	return SS(store_dir) && SS(socket_dir) && SS(user) && SS(group) &&
	    SS(admin_group) && SS(admin.group) && SS(socketmap.group) &&
	    SS(policy.group) && SS(auth.group) && SS(recipient_delimiter) &&
	    SS(syslog_facility) && a->admin.mode == b->admin.mode &&
	    a->socketmap.mode == b->socketmap.mode &&
	    a->policy.mode == b->policy.mode &&
	    a->auth.mode == b->auth.mode &&
	    a->max_connections == b->max_connections &&
	    a->admin_max_connections == b->admin_max_connections &&
	    a->socketmap_max_connections == b->socketmap_max_connections &&
	    a->policy_max_connections == b->policy_max_connections &&
	    a->auth_max_connections == b->auth_max_connections &&
	    a->idle_timeout == b->idle_timeout &&
	    a->policy_recipient_limit == b->policy_recipient_limit &&
	    a->hash_workers == b->hash_workers &&
	    a->hash_queue == b->hash_queue &&
	    a->login_by_address == b->login_by_address;
#undef SS
}

static int
parse(const char *t, size_t len, struct vs_conf *c, struct vs_err *e)
{
	conf_defaults(c);
	vs_err_clear(e);
	return conf_parse(c, t, len, e);
}

/* Offset of the start of line n (1-based) in t, or len. */
static size_t
line_start(const char *t, size_t len, unsigned long n)
{
	size_t off = 0;
	const char *nl;

	while (n > 1 && off < len) {
		nl = memchr(t + off, '\n', len - off);
		if (nl == NULL)
			return len;
		off = (size_t)(nl - t) + 1;
		n--;
	}
	return off;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vs_conf c, c2;
	static char text[16384];
	const char *t = (const char *)data;
	struct vs_err e, e2;
	unsigned long lines = 1, lineno;
	size_t i, n, cuts;
	int rc, rc2;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	rc = parse(t, size, &c, &e);
	rc2 = parse(t, size, &c2, &e2);
	CHECK(rc == rc2 && e.code == e2.code && strcmp(e.msg, e2.msg) == 0);

	if (rc != VS_OK) {
		CHECK(rc == VS_EINVAL);
		check_msg(&e, rc);
		if (size > CONF_FILE_MAX)
			return 0;
		CHECK(sscanf(e.msg, "line %lu:", &lineno) == 1);
		CHECK(lineno >= 1 && lineno <= lines);
		/* Everything before the bad line is fine on its own. */
		n = line_start(t, size, lineno);
		CHECK(parse(t, n, &c2, &e2) == VS_OK);
		return 0;
	}
	CHECK(e.code == VS_OK);
	check_conf(&c);

	/* Round trip. */
	n = write_conf(&c, text, sizeof(text));
	CHECK(parse(text, n, &c2, &e2) == VS_OK);
	CHECK(same_conf(&c, &c2));

	/* Cut at line ends: still accepted (a few cuts). */
	for (i = 0, cuts = 0; i < size && cuts < 16; i++) {
		if (data[i] != '\n')
			continue;
		cuts++;
		CHECK(parse(t, i + 1, &c2, &e2) == VS_OK);
		CHECK(parse(t, i, &c2, &e2) == VS_OK);
	}
	return 0;
}
