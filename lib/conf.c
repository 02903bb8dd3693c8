/*
 * conf.c - vmseal.conf parser (see conf.h).
 *
 * Security: the file is capped at CONF_FILE_MAX, lines at
 * CONF_LINE_MAX, strings at CONF_STR_MAX; numbers are range-checked
 * without overflow; unknown and repeated names are errors.
 */
#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "names.h"

/* C_BOOL: on/off, yes/no, 1/0; C_LISTEN: a loopback ADDRESS:PORT or "". */
enum ctype { C_STR, C_UINT, C_MODE, C_BOOL, C_LISTEN };

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
#define B(n, f) { n, C_BOOL, offsetof(struct vs_conf, f), 0, 1 }
#define L(n, f) { n, C_LISTEN, offsetof(struct vs_conf, f), \
    sizeof(((struct vs_conf *)0)->f), 0 }

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
	/* Self-service password change and the password policy. */
	S("poppassd_socket", poppassd_socket),
	S("poppassd_socket_group", poppassd.group),
	M("poppassd_socket_mode", poppassd.mode),
	L("poppassd_listen", poppassd_listen),
	L("httpapi_listen", httpapi_listen),
	S("httpapi_user_field", httpapi_user_field),
	S("httpapi_curpass_field", httpapi_curpass_field),
	S("httpapi_newpass_field", httpapi_newpass_field),
	U("selfservice_max_connections", selfservice_max_connections, 256),
	U("selfservice_timeout", selfservice_timeout, 600),
	B("password_policy", password_policy),
	U("password_min_length", password_min_length, 256),
	S("password_quality_conf", password_quality_conf),
	B("password_dictcheck", password_dictcheck),
	/* Several hosts on one PostgreSQL store. */
	S("host_name", host_name),
	U("pg_answer_timeout", pg_answer_timeout, 3600),
	U("pg_cache_mb", pg_cache_mb, 65536),
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
	c->poppassd.mode = 0660;
	snprintf(c->httpapi_user_field, sizeof(c->httpapi_user_field),
	    "username");
	snprintf(c->httpapi_curpass_field, sizeof(c->httpapi_curpass_field),
	    "curpass");
	snprintf(c->httpapi_newpass_field, sizeof(c->httpapi_newpass_field),
	    "newpass");
	c->selfservice_max_connections = 8;
	c->selfservice_timeout = 30;
	c->password_policy = 1;
	c->password_min_length = 12;
	c->password_dictcheck = 1;
	c->pg_answer_timeout = CONF_UNSET;
	c->pg_cache_mb = 256;
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
		if (strcmp(k->name, "host_name") == 0 &&
		    strcspn(v, " \t\"\\") != strlen(v))
			return vs_fail(err, VS_EINVAL, "line %lu: host_name "
			    "holds a space, a quote or a backslash", line);
		if (strcmp(k->name, "poppassd_socket") == 0 && *v != '\0' &&
		    *v != '/' && (strchr(v, '/') != NULL ||
		    strcmp(v, ".") == 0 || strcmp(v, "..") == 0))
			return vs_fail(err, VS_EINVAL, "line %lu: "
			    "poppassd_socket must be a name (under "
			    "socket_dir) or an absolute path", line);
		if (strncmp(k->name, "httpapi_", 8) == 0 &&
		    (*v == '\0' || strspn(v, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.[]") !=
		    strlen(v)))
			return vs_fail(err, VS_EINVAL, "line %lu: %s must be "
			    "a form field name (letters, digits, _ - . [ ])",
			    line, k->name);
		if (strcmp(k->name, "password_quality_conf") == 0 &&
		    *v != '\0' && *v != '/')
			return vs_fail(err, VS_EINVAL, "line %lu: "
			    "password_quality_conf must be an absolute path",
			    line);
		memcpy(base, v, strlen(v) + 1);
		return VS_OK;
	case C_BOOL:
		if (strcmp(v, "on") == 0 || strcmp(v, "yes") == 0 ||
		    strcmp(v, "1") == 0)
			n = 1;
		else if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0 ||
		    strcmp(v, "0") == 0)
			n = 0;
		else
			return vs_fail(err, VS_EINVAL, "line %lu: %s must be "
			    "on or off", line, k->name);
		*(unsigned *)(void *)base = (unsigned)n;
		return VS_OK;
	case C_LISTEN: {
		char host[64], msg[VS_ERR_MSG_MAX];
		struct vs_err e;
		unsigned port;

		if (*v != '\0' && conf_listen_parse(v, host, sizeof(host),
		    &port, &e) != VS_OK) {
			snprintf(msg, sizeof(msg), "%s", e.msg);
			return vs_fail(err, VS_EINVAL, "line %lu: %s: %s",
			    line, k->name, msg);
		}
		if (strlen(v) >= k->size)
			return vs_fail(err, VS_EINVAL, "line %lu: %s is too "
			    "long", line, k->name);
		memcpy(base, v, strlen(v) + 1);
		return VS_OK;
	}
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

int
conf_listen_parse(const char *v, char *host, size_t hostsize,
    unsigned *port_r, struct vs_err *err)
{
	unsigned char a[16];
	const char *colon, *h = v;
	size_t hlen;
	unsigned long port;

	vs_err_clear(err);
	if ((colon = strrchr(v, ':')) == NULL)
		return vs_fail(err, VS_EINVAL, "expected ADDRESS:PORT");
	hlen = (size_t)(colon - v);
	if (hlen >= 2 && v[0] == '[' && v[hlen - 1] == ']') {
		h = v + 1;
		hlen -= 2;
	} else if (memchr(v, ':', hlen) != NULL) {
		return vs_fail(err, VS_EINVAL, "an IPv6 address goes in "
		    "brackets: [::1]:PORT");
	}
	if (hlen == 0 || hlen >= hostsize)
		return vs_fail(err, VS_EINVAL, "expected ADDRESS:PORT");
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (parse_uint(colon + 1, 65535, 10, &port) != 0 || port == 0)
		return vs_fail(err, VS_EINVAL, "the port must be a number "
		    "from 1 to 65535");
	if (inet_pton(AF_INET, host, a) == 1) {
		if (a[0] != 127)
			return vs_fail(err, VS_EINVAL, "only a loopback "
			    "address (127.0.0.0/8, ::1) may be given");
	} else if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char lo[16] = { [15] = 1 };

		if (memcmp(a, lo, 16) != 0)
			return vs_fail(err, VS_EINVAL, "only a loopback "
			    "address (127.0.0.0/8, ::1) may be given");
	} else {
		return vs_fail(err, VS_EINVAL, "not a numeric IP address");
	}
	*port_r = (unsigned)port;
	return VS_OK;
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
