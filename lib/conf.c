/*
 * conf.c - vmseal.conf parser (see conf.h).
 *
 * Security: the file is capped at CONF_FILE_MAX, lines at
 * CONF_LINE_MAX, strings at CONF_STR_MAX; numbers are range-checked
 * without overflow; unknown and repeated names are errors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "names.h"

enum ctype { C_STR, C_UINT, C_MODE };

struct ckey {
	const char *name;
	enum ctype type;
	size_t off;
	size_t size;            /* for strings */
	unsigned long max;      /* for numbers */
};

#define S(n, f) { n, C_STR, offsetof(struct vs_conf, f), \
    sizeof(((struct vs_conf *)0)->f), 0 }
#define U(n, f, m) { n, C_UINT, offsetof(struct vs_conf, f), 0, m }
#define M(n, f) { n, C_MODE, offsetof(struct vs_conf, f), 0, 0777 }

/* store_dir and store first: conf_parse refuses both (seen[0], seen[1]). */
static const struct ckey keys[] = {
	S("store_dir", store_dir),
	S("store", store),
	S("socket_dir", socket_dir),
	S("user", user),
	S("group", group),
	S("admin_group", admin_group),
	S("admin_socket_group", admin.group),
	M("admin_socket_mode", admin.mode),
	S("socketmap_socket_group", socketmap.group),
	M("socketmap_socket_mode", socketmap.mode),
	S("policy_socket_group", policy.group),
	M("policy_socket_mode", policy.mode),
	S("auth_socket_group", auth.group),
	M("auth_socket_mode", auth.mode),
	S("recipient_delimiter", recipient_delimiter),
	U("max_connections", max_connections, 65536),
	U("admin_max_connections", admin_max_connections, 1024),
	U("socketmap_max_connections", socketmap_max_connections, 65536),
	U("policy_max_connections", policy_max_connections, 65536),
	U("auth_max_connections", auth_max_connections, 65536),
	U("idle_timeout", idle_timeout, 86400),
	U("policy_recipient_limit", policy_recipient_limit, 100000000),
	U("hash_workers", hash_workers, 256),
	U("hash_queue", hash_queue, 100000),
	U("login_by_address", login_by_address, 1),
	U("throttle_limit", throttle_limit, 64),
	U("throttle_window", throttle_window, 86400),
	U("throttle_login_limit", throttle_login_limit, 64),
	U("throttle_login_window", throttle_login_window, 86400),
	U("throttle_max_entries", throttle_max_entries, 10000000),
	S("throttle_allow", throttle_allow),
	U("policy_refuse_throttled", policy_refuse_throttled, 1),
	U("events_keep", events_keep, 100000000),
	U("auto_seal_after", auto_seal_after, 100000000),
	S("unseal_keyfile", unseal_keyfile),
	S("syslog_facility", syslog_facility),
	U("uid_min", uid_min, 4294967295UL),
	U("gid_min", gid_min, 4294967295UL),
	S("log_names", log_names),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void
conf_defaults(struct vs_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->store_dir, sizeof(c->store_dir), "/var/lib/vmseal");
	snprintf(c->socket_dir, sizeof(c->socket_dir), "%s",
	    CONF_DEFAULT_SOCKET_DIR);
	c->admin.mode = 0660;
	c->socketmap.mode = 0660;
	c->policy.mode = 0660;
	c->auth.mode = 0660;
	snprintf(c->recipient_delimiter, sizeof(c->recipient_delimiter), "+");
	c->max_connections = 1024;
	c->idle_timeout = 300;
	c->hash_queue = 64;
	c->login_by_address = 1;
	c->throttle_limit = 3;
	c->throttle_window = 120;
	c->throttle_login_limit = 10;
	c->throttle_login_window = 600;
	c->throttle_max_entries = 100000;
	c->events_keep = 100000;
	snprintf(c->syslog_facility, sizeof(c->syslog_facility), "mail");
	c->uid_min = 500;
	c->gid_min = 500;
	snprintf(c->log_names, sizeof(c->log_names), "plain");
}

const char *
conf_store_location(const struct vs_conf *c)
{
	return c->store[0] != '\0' ? c->store : c->store_dir;
}

static int
parse_uint(const char *v, unsigned long max, int base, unsigned long *out)
{
	unsigned long n = 0;
	const char *p = v;
	unsigned d;

	if (*p == '\0')
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > (base == 8 ? '7' : '9'))
			return -1;
		d = (unsigned)(*p - '0');
		if (d > max || n > (max - d) / (unsigned long)base)
			return -1;
		n = n * (unsigned long)base + d;
	}
	*out = n;
	return 0;
}

static int
set_key(struct vs_conf *c, const struct ckey *k, const char *v,
    unsigned long line, struct vs_err *err)
{
	char *base = (char *)c + k->off;
	unsigned long n;
	const char *p;

	switch (k->type) {
	case C_STR:
		if (strlen(v) >= k->size)
			return vs_fail(err, VS_EINVAL, "line %lu: %s is too "
			    "long", line, k->name);
		for (p = v; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return vs_fail(err, VS_EINVAL, "line %lu: %s "
				    "holds a control character", line, k->name);
		if (strcmp(k->name, "log_names") == 0 &&
		    strcmp(v, "plain") != 0 && strcmp(v, "hashed") != 0)
			return vs_fail(err, VS_EINVAL, "line %lu: log_names "
			    "must be plain or hashed", line);
		memcpy(base, v, strlen(v) + 1);
		return VS_OK;
	case C_UINT:
		if (parse_uint(v, k->max, 10, &n) != 0)
			return vs_fail(err, VS_EINVAL, "line %lu: %s must be "
			    "a number from 0 to %lu", line, k->name, k->max);
		*(unsigned *)(void *)base = (unsigned)n;
		return VS_OK;
	case C_MODE:
		if (parse_uint(v, 0777, 8, &n) != 0)
			return vs_fail(err, VS_EINVAL, "line %lu: %s must be "
			    "an octal mode such as 0660", line, k->name);
		*(mode_t *)(void *)base = (mode_t)n;
		return VS_OK;
	}
	return VS_EINVAL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
conf_parse(struct vs_conf *c, const char *text, size_t len,
    struct vs_err *err)
{
	bool seen[NKEYS];
	char line[CONF_LINE_MAX + 1];
	unsigned long lineno = 0;
	size_t off = 0, n, i;
	const char *nl;
	char *name, *val, *eq;
	int r;

	memset(seen, 0, sizeof(seen));
	if (len > CONF_FILE_MAX)
		return vs_fail(err, VS_EINVAL, "configuration is larger than "
		    "%d bytes", CONF_FILE_MAX);
	while (off < len) {
		lineno++;
		nl = memchr(text + off, '\n', len - off);
		n = nl ? (size_t)(nl - (text + off)) : len - off;
		if (n > CONF_LINE_MAX)
			return vs_fail(err, VS_EINVAL, "line %lu: longer than "
			    "%d bytes", lineno, CONF_LINE_MAX);
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n) != NULL)
			return vs_fail(err, VS_EINVAL, "line %lu: holds a NUL "
			    "byte", lineno);
		name = trim(line);
		if (*name == '\0' || *name == '#')
			continue;
		if ((eq = strchr(name, '=')) == NULL)
			return vs_fail(err, VS_EINVAL, "line %lu: expected "
			    "'name = value'", lineno);
		*eq = '\0';
		name = trim(name);
		val = trim(eq + 1);
		for (i = 0; i < NKEYS; i++)
			if (strcmp(keys[i].name, name) == 0)
				break;
		if (i == NKEYS) {
			char q[NAME_QUOTE_BUF];

			name_quote(name, strlen(name) > 40 ? 40 : strlen(name),
			    q);
			return vs_fail(err, VS_EINVAL, "line %lu: unknown "
			    "setting '%s'", lineno, q);
		}
		if (seen[i])
			return vs_fail(err, VS_EINVAL, "line %lu: %s is set "
			    "twice", lineno, keys[i].name);
		seen[i] = true;
		if (seen[0] && seen[1])         /* store_dir and store */
			return vs_fail(err, VS_EINVAL, "line %lu: store and "
			    "store_dir both name the store: set one", lineno);
		if ((r = set_key(c, &keys[i], val, lineno, err)) != VS_OK)
			return r;
	}
	return VS_OK;
}

int
conf_load(struct vs_conf *c, const char *path, struct vs_err *err)
{
	struct buf b = { 0 };
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vs_fail(err, errno == ENOENT ? VS_ENOTFOUND : VS_EIO,
		    "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		if ((r = buf_reserve(&b, 4096)) != 0)
			break;
		n = read(fd, b.data + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? VS_EIO : 0;
			break;
		}
		b.len += (size_t)n;
		if (b.len > CONF_FILE_MAX) {
			r = VS_ELIMIT;
			break;
		}
	}
	close(fd);
	if (r != 0) {
		buf_free(&b);
		return vs_fail(err, r == VS_ELIMIT ? VS_EINVAL : VS_EIO,
		    "cannot read %s", path);
	}
	r = conf_parse(c, (const char *)b.data, b.len, err);
	if (r != VS_OK) {
		char msg[VS_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
		vs_fail(err, r, "%s: %s", path, msg);
	}
	buf_free(&b);
	return r;
}
