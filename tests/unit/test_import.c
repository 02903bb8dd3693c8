/*
 * test_import.c - unit tests for lib/import.c: the three line parsers
 * (table-driven: good lines with every output field, bad lines with the
 * status and a piece of the message), the logical-line reader over
 * fmemopen() streams, the refusal of a hash too costly to verify with
 * its line number (import_check_user_hash), and the uid/gid floor
 * (import_check_ids).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "import.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- user lines (htpasswd, dovecot-passwd) ---- */

struct user_good {
	const char *line;
	const char *login, *hash, *home, *mail, *quota;
	bool has_uid, has_gid;
	uint32_t uid, gid;
};

struct bad {
	const char *line;
	int rc;
	const char *msg;        /* must be in err.msg */
	const char *secret;     /* must NOT be in err.msg (NULL: none) */
};

/* Designated initializers, so that omitted fields are plainly NULL/0. */
#define UG(l, lo, h, ...) \
	{ .line = (l), .login = (lo), .hash = (h), __VA_ARGS__ }
#define BAD(l, r, m) { .line = (l), .rc = (r), .msg = (m) }
#define BADS(l, r, m, s) { .line = (l), .rc = (r), .msg = (m), .secret = (s) }

typedef int (*user_parser)(char *, struct import_user *, struct vs_err *);

static void
assert_str(const char *want, const char *got, const char *line)
{
	if (want == NULL) {
		if (got != NULL)
			fail_msg("%s: expected NULL, got \"%s\"", line, got);
		return;
	}
	if (got == NULL)
		fail_msg("%s: expected \"%s\", got NULL", line, want);
	if (strcmp(want, got) != 0)
		fail_msg("%s: expected \"%s\", got \"%s\"", line, want, got);
}

static void
run_user_good(user_parser parse, const struct user_good *t, size_t n)
{
	struct import_user u;
	struct vs_err err;
	char buf[1024];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		vs_err_clear(&err);
		assert_true(strlen(t[i].line) < sizeof(buf));
		strcpy(buf, t[i].line);
		rc = parse(buf, &u, &err);
		if (rc != 1)
			fail_msg("\"%s\": rc %d (%s)", t[i].line, rc, err.msg);
		assert_str(t[i].login, u.login, t[i].line);
		assert_str(t[i].hash, u.hash, t[i].line);
		assert_str(t[i].home, u.home, t[i].line);
		assert_str(t[i].mail, u.mail, t[i].line);
		assert_str(t[i].quota, u.quota, t[i].line);
		if (u.has_uid != t[i].has_uid || u.has_gid != t[i].has_gid ||
		    (t[i].has_uid && u.uid != t[i].uid) ||
		    (t[i].has_gid && u.gid != t[i].gid))
			fail_msg("%s: uid %d/%lu gid %d/%lu, want %d/%lu "
			    "%d/%lu",
			    t[i].line, u.has_uid, (unsigned long)u.uid,
			    u.has_gid, (unsigned long)u.gid, t[i].has_uid,
			    (unsigned long)t[i].uid, t[i].has_gid,
			    (unsigned long)t[i].gid);
		/* fields point into the caller's line */
		assert_true(u.login >= buf && u.login < buf + sizeof(buf));
		assert_true(u.hash >= buf && u.hash < buf + sizeof(buf));
	}
}

static void
check_bad(int rc, const struct vs_err *err, const struct bad *t)
{
	if (rc != t->rc)
		fail_msg("\"%s\": rc %d, want %d (%s)", t->line, rc, t->rc,
		    err->msg);
	assert_int_equal(err->code, t->rc);
	if (strstr(err->msg, t->msg) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", t->line,
		    err->msg, t->msg);
	if (t->secret != NULL && strstr(err->msg, t->secret) != NULL)
		fail_msg("\"%s\": message \"%s\" quotes the secret \"%s\"",
		    t->line, err->msg, t->secret);
}

static void
run_user_bad(user_parser parse, const struct bad *t, size_t n)
{
	struct import_user u;
	struct vs_err err;
	char buf[1024];
	size_t i;

	for (i = 0; i < n; i++) {
		vs_err_clear(&err);
		assert_true(strlen(t[i].line) < sizeof(buf));
		strcpy(buf, t[i].line);
		check_bad(parse(buf, &u, &err), &err, &t[i]);
	}
}

static void
run_skip(int (*parse)(char *, void *, struct vs_err *), void *out)
{
	static const char *const skip[] = {
		"", "\n", "\r\n", "   ", "\t", " \t \r\n", "#", "# comment",
		"#ron:hLILWelxS7E82", "   # indented comment", "\t#x y z",
	};
	struct vs_err err;
	char buf[64];
	size_t i;

	for (i = 0; i < NELEM(skip); i++) {
		vs_err_clear(&err);
		strcpy(buf, skip[i]);
		if (parse(buf, out, &err) != 0)
			fail_msg("\"%s\" is not skipped", skip[i]);
	}
}

static int
skip_htpasswd(char *l, void *u, struct vs_err *err)
{
	return import_parse_htpasswd(l, u, err);
}

static int
skip_dovecot(char *l, void *u, struct vs_err *err)
{
	return import_parse_dovecot_passwd(l, u, err);
}

static int
skip_postfix(char *l, void *m, struct vs_err *err)
{
	return import_parse_postfix_map(l, m, err);
}

/* A string of n copies of c (static buffer, one at a time per slot). */
static const char *
rep(int slot, const char *prefix, int c, size_t n, const char *suffix)
{
	static char b[4][1024];

	assert_true(strlen(prefix) + n + strlen(suffix) < sizeof(b[0]));
	strcpy(b[slot], prefix);
	memset(b[slot] + strlen(prefix), c, n);
	strcpy(b[slot] + strlen(prefix) + n, suffix);
	return b[slot];
}

/* ---- htpasswd ---- */

static void
test_htpasswd_good(void **state)
{
	const struct user_good t[] = {
		UG("ron:hLILWelxS7E82", "ron", "hLILWelxS7E82"),
		UG("alice:ildPSIfh7EkT2", "alice", "ildPSIfh7EkT2"),
		UG("ron:hLILWelxS7E82\n", "ron", "hLILWelxS7E82"),
		UG("ron:hLILWelxS7E82\r\n", "ron", "hLILWelxS7E82"),
		UG("alice@somedomain.ie:{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
		    "alice@somedomain.ie",
		    "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
		UG("ron@linuxcoaching.eu:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/",
		    "ron@linuxcoaching.eu",
		    "$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/"),
		UG("bob:$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7o"
		    "boPiC2bT/r7q1BB8I2s0BRqC", "bob",
		    "$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7o"
		    "boPiC2bT/r7q1BB8I2s0BRqC"),
		UG("carol:{SHA512-CRYPT}$6$salt$abc/def.ghi", "carol",
		    "{SHA512-CRYPT}$6$salt$abc/def.ghi"),
		UG("d:x", "d", "x"),
		UG("Ron.O'Brien+tag@Example.COM:h#not-a-comment",
		    "Ron.O'Brien+tag@Example.COM", "h#not-a-comment"),
		UG("caf\xc3\xa9:hash", "caf\xc3\xa9", "hash"),
	};
	char line[1024];
	struct user_good big[2] = {
		UG(NULL, NULL, "h"), UG(NULL, "u", NULL),
	};

	(void)state;
	run_user_good(import_parse_htpasswd, t, NELEM(t));

	/* the longest login and hash accepted */
	strcpy(line, rep(0, "", 'l', 255, ":h"));
	big[0].line = line;
	big[0].login = rep(1, "", 'l', 255, "");
	big[1].line = rep(2, "u:", 'h', 511, "");
	big[1].hash = rep(3, "", 'h', 511, "");
	run_user_good(import_parse_htpasswd, big, NELEM(big));
}

static void
test_htpasswd_bad(void **state)
{
	const struct bad t[] = {
		BADS("ronhLILWelxS7E82", VS_EINVAL,
		    "missing ':' after the login", "hLILWelxS7E82"),
		BAD("ron hLILWelxS7E82", VS_EINVAL, "missing ':'"),
		BADS(":hLILWelxS7E82", VS_EINVAL, "empty login",
		    "hLILWelxS7E82"),
		BAD(":", VS_EINVAL, "empty login"),
		BAD("ron:", VS_EINVAL, "empty password hash"),
		BAD("ron:\r\n", VS_EINVAL, "empty password hash"),
		BADS("ron:hLILWelxS7E82:", VS_EINVAL,
		    "line has 3 fields, htpasswd has 2", "hLILWelxS7E82"),
		BAD("ron:a:b", VS_EINVAL, "line has 3 fields, htpasswd has 2"),
		BAD("ron:x:1000:1000::/home/ron:/bin/sh", VS_EINVAL,
		    "line has 7 fields, htpasswd has 2"),
		BAD("r on:hash", VS_EINVAL, "login 'r on' contains a space"),
		BAD(" ron:hash", VS_EINVAL, "contains a space"),
		BAD("ro\tn:hash", VS_EINVAL, "contains a tab"),
		BAD("ron\t:hash", VS_EINVAL, "contains a tab"),
		BAD("ron\x01:hash", VS_EINVAL, "control character (0x01)"),
		BAD("ron\x7f:hash", VS_EINVAL, "control character (0x7f)"),
		BADS("ron:hLIL WelxS7E82", VS_EINVAL,
		    "password hash for login 'ron' contains a space", "hLIL"),
		BADS("ron:hLILWelxS7E82 ", VS_EINVAL, "contains a space",
		    "hLILWelxS7E82"),
		BADS("ron:hLIL\tWelxS7E82", VS_EINVAL,
		    "password hash for login 'ron' contains a tab", "hLIL"),
		BADS("ron:hLILWelxS7E82\x1b", VS_EINVAL,
		    "contains a control character", "hLILWelxS7E82"),
		BADS("ron:hLILWelxS7E82\r\r\n", VS_EINVAL,
		    "contains a control character", "hLILWelxS7E82"),
		BADS("ron:{PLAIN}my secret", VS_EINVAL, "contains a space",
		    "secret"),
	};
	struct bad big[2] = {
		BAD(NULL, VS_EINVAL, "longer than 255 characters"),
		BADS(NULL, VS_EINVAL, "longer than 511 characters", "hhhh"),
	};

	(void)state;
	run_user_bad(import_parse_htpasswd, t, NELEM(t));
	big[0].line = rep(0, "", 'l', 256, ":h");
	big[1].line = rep(1, "u:", 'h', 512, "");
	run_user_bad(import_parse_htpasswd, big, NELEM(big));
}

static void
test_htpasswd_skip(void **state)
{
	struct import_user u;

	(void)state;
	run_skip(skip_htpasswd, &u);
}

/* A lone CR at the end (no LF) is dropped too. */
static void
test_htpasswd_cr(void **state)
{
	const struct user_good t[] = {
		UG("ron:hLILWelxS7E82\r", "ron", "hLILWelxS7E82"),
	};

	(void)state;
	run_user_good(import_parse_htpasswd, t, NELEM(t));
}

/* ---- dovecot-passwd ---- */

static void
test_dovecot_good(void **state)
{
	const struct user_good t[] = {
		/* two fields, like htpasswd */
		UG("ron:hLILWelxS7E82", "ron", "hLILWelxS7E82"),
		UG("alice:ildPSIfh7EkT2\r\n", "alice", "ildPSIfh7EkT2"),
		/* empty trailing fields */
		UG("ron:{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=:", "ron",
		    "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
		UG("ron:x::::::", "ron", "x"),
		/* uid only, gid only */
		UG("ron:x:1000", "ron", "x", .has_uid = true, .uid = 1000),
		UG("ron:x::1000", "ron", "x", .has_gid = true, .gid = 1000),
		/* the full form */
		UG("ron@linuxcoaching.eu:{SHA512-CRYPT}$6$salt$abc:5000:5000::"
		    "/var/vmail/linuxcoaching.eu/ron::"
		    "userdb_mail=maildir:~/Maildir "
		    "userdb_quota_rule=*:storage=1G",
		    "ron@linuxcoaching.eu", "{SHA512-CRYPT}$6$salt$abc",
		    .home = "/var/vmail/linuxcoaching.eu/ron",
		    .mail = "maildir:~/Maildir", .quota = "*:storage=1G",
		    .has_uid = true, .uid = 5000, .has_gid = true, .gid = 5000),
		/* gecos with spaces, shell, no extra fields */
		UG("alice@somedomain.ie:{SSHA}abc=:1001:1002:"
		    "Alice Smith, Room 4:/home/alice:/bin/false",
		    "alice@somedomain.ie", "{SSHA}abc=", .home = "/home/alice",
		    .has_uid = true, .uid = 1001, .has_gid = true, .gid = 1002),
		UG("alice:x:1:2:g:/h:/s:\r\n", "alice", "x", .home = "/h",
		    .has_uid = true, .uid = 1, .has_gid = true, .gid = 2),
		/* userdb_* wins over the positional fields */
		UG("u:h:1:2::/h1::userdb_home=/h2 userdb_uid=10 userdb_gid=20",
		    "u", "h", .home = "/h2",
		    .has_uid = true, .uid = 10, .has_gid = true, .gid = 20),
		/* userdb_* alone */
		UG("u:h::::::userdb_uid=0 userdb_gid=4294967295 "
		    "userdb_home=/var/vmail/u",
		    "u", "h", .home = "/var/vmail/u",
		    .has_uid = true, .uid = 0,
		    .has_gid = true, .gid = 4294967295u),
		/* ignored extra fields, extra spaces, '=' in a value, Dovecot's
		 * namespace settings with '/' in the name */
		UG("u:h::::::userdb_namespace/inbox/prefix=INBOX/ "
		    "userdb_mail=sdbox:~/mail",
		    "u", "h", .mail = "sdbox:~/mail"),
		UG("u:h:::::: nopassword allow_nets=127.0.0.1/8  "
		    "userdb_mail=mbox:~/mail:INBOX=/var/mail/%u  userdb_foo=1 "
		    "quota_rule=x ",
		    "u", "h", .mail = "mbox:~/mail:INBOX=/var/mail/%u"),
		/* range limits, leading zeros */
		UG("u:h:0:4294967295", "u", "h", .has_uid = true, .uid = 0,
		    .has_gid = true, .gid = 4294967295u),
		UG("u:h:007:0000000000000000000001", "u", "h", .has_uid = true,
		    .uid = 7, .has_gid = true, .gid = 1),
		UG("u:h:429496729:42949672", "u", "h", .has_uid = true,
		    .uid = 429496729u, .has_gid = true, .gid = 42949672u),
	};

	(void)state;
	run_user_good(import_parse_dovecot_passwd, t, NELEM(t));
}

static void
test_dovecot_bad(void **state)
{
	const struct bad t[] = {
		BAD("ron", VS_EINVAL, "missing ':' after the login"),
		BAD(":x:1000", VS_EINVAL, "empty login"),
		BAD("ron::1000:1000", VS_EINVAL, "empty password hash"),
		BAD("ron:", VS_EINVAL, "empty password hash"),
		BAD("r on:x", VS_EINVAL, "contains a space"),
		BADS("ron:{PLAIN}s3 cr3t:1", VS_EINVAL, "contains a space",
		    "cr3t"),
		BADS("ron:se\tcret", VS_EINVAL, "contains a tab", "se"),
		BAD("ron:x:abc", VS_EINVAL, "uid is not a number"),
		BAD("ron:x:-1", VS_EINVAL, "uid is not a number"),
		BAD("ron:x:+5", VS_EINVAL, "uid is not a number"),
		BAD("ron:x: 5", VS_EINVAL, "uid is not a number"),
		BAD("ron:x:5 ", VS_EINVAL, "uid is not a number"),
		BAD("ron:x:0x10", VS_EINVAL, "uid is not a number"),
		BAD("ron:x:1e3", VS_EINVAL, "uid is not a number"),
		BAD("ron:x:4294967296", VS_EINVAL,
		    "uid is out of range (more than 4294967295)"),
		BAD("ron:x:4294967300", VS_EINVAL, "uid is out of range"),
		BAD("ron:x:10000000000", VS_EINVAL, "uid is out of range"),
		BAD("ron:x:99999999999999999999999999", VS_EINVAL,
		    "uid is out of range"),
		BAD("ron:x:99999999999999999999x", VS_EINVAL,
		    "uid is not a number"),
		BAD("ron:x:1:x", VS_EINVAL, "gid is not a number"),
		BAD("ron:x:1:-0", VS_EINVAL, "gid is not a number"),
		BAD("ron:x:1:4294967296", VS_EINVAL, "gid is out of range"),
		BAD("ron:x:1:1:ge\x01" "cos", VS_EINVAL,
		    "gecos contains a control character (0x01)"),
		BAD("ron:x:1:1::/ho\tme", VS_EINVAL, "home contains a tab"),
		BAD("ron:x:1:1::/home:/bin/sh\x7f", VS_EINVAL,
		    "shell contains a control character (0x7f)"),
		BAD("ron:x::::::userdb_mail=a\tuserdb_quota_rule=b", VS_EINVAL,
		    "extra fields contains a tab"),
		BAD("ron:x::::::userdb_mail", VS_EINVAL,
		    "userdb_mail has no value"),
		BAD("ron:x::::::userdb_mail=", VS_EINVAL,
		    "userdb_mail has an empty value"),
		BAD("ron:x::::::userdb_home= userdb_mail=m", VS_EINVAL,
		    "userdb_home has an empty value"),
		BAD("ron:x::::::userdb_mail=a userdb_mail=b", VS_EINVAL,
		    "userdb_mail is given twice"),
		BAD("ron:x::::::userdb_uid=vmail", VS_EINVAL,
		    "userdb_uid is not a number"),
		BAD("ron:x::::::userdb_uid=-1", VS_EINVAL,
		    "userdb_uid is not a number"),
		BAD("ron:x::::::userdb_gid=4294967296", VS_EINVAL,
		    "userdb_gid is out of range"),
		BAD("ron:x:1:1::::userdb_uid=1 userdb_uid=2", VS_EINVAL,
		    "userdb_uid is given twice"),
		/* one ':' too many: the extra fields begin with ':' */
		BAD("ron:x:::::::userdb_uid=1", VS_EINVAL,
		    "extra field name ':userdb_uid' is not valid"),
		BAD("ron:x::::::=1", VS_EINVAL, "extra field name '' is not"),
		BAD("ron:x::::::a=1 b&c", VS_EINVAL,
		    "extra field name 'b&c' is not valid"),
		BAD("ron:x:1:1::::userdb_quota_rule", VS_EINVAL,
		    "userdb_quota_rule has no value"),
		BADS("ron:hLILWelxS7E82\r\r\n", VS_EINVAL,
		    "contains a control character", "hLILWelxS7E82"),
	};
	struct bad big[2] = {
		BAD(NULL, VS_EINVAL, "longer than 255 characters"),
		BADS(NULL, VS_EINVAL, "longer than 511 characters", "hhhh"),
	};

	(void)state;
	run_user_bad(import_parse_dovecot_passwd, t, NELEM(t));
	big[0].line = rep(0, "", 'l', 256, ":h:1:1");
	big[1].line = rep(1, "u:", 'h', 512, ":1:1");
	run_user_bad(import_parse_dovecot_passwd, big, NELEM(big));
}

static void
test_dovecot_skip(void **state)
{
	struct import_user u;

	(void)state;
	run_skip(skip_dovecot, &u);
}

/* ---- postfix-map ---- */

struct map_good {
	const char *line;
	const char *key, *value;
};

static void
test_postfix_good(void **state)
{
	const struct map_good t[] = {
		{ "ron@linuxcoaching.eu ron", "ron@linuxcoaching.eu", "ron" },
		{ "alice@somedomain.ie alice", "alice@somedomain.ie", "alice" },
		{ "ron@linuxcoaching.eu\tlinuxcoaching.eu/ron/",
		    "ron@linuxcoaching.eu", "linuxcoaching.eu/ron/" },
		{ "alice@somedomain.ie \t  alice  \t\r\n",
		    "alice@somedomain.ie", "alice" },
		{ "postmaster@x.ie   ron@x.ie, alice@x.ie   ",
		    "postmaster@x.ie", "ron@x.ie, alice@x.ie" },
		{ "list@x.ie a@x.ie,\tb@x.ie", "list@x.ie", "a@x.ie,\tb@x.ie" },
		{ "@somedomain.ie catchall@somedomain.ie", "@somedomain.ie",
		    "catchall@somedomain.ie" },
		{ "somedomain.ie anything", "somedomain.ie", "anything" },
		/* '#' only starts a comment at the start of a line */
		{ "k v # not a comment", "k", "v # not a comment" },
		{ "k#1 v", "k#1", "v" },
		{ "k v\n", "k", "v" },
	};
	struct import_map m;
	struct vs_err err;
	char buf[1024];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		vs_err_clear(&err);
		strcpy(buf, t[i].line);
		rc = import_parse_postfix_map(buf, &m, &err);
		if (rc != 1)
			fail_msg("\"%s\": rc %d (%s)", t[i].line, rc, err.msg);
		assert_str(t[i].key, m.key, t[i].line);
		assert_str(t[i].value, m.value, t[i].line);
	}
	/* the longest key */
	strcpy(buf, rep(0, "", 'k', 318, " v"));
	assert_int_equal(import_parse_postfix_map(buf, &m, &err), 1);
	assert_int_equal(strlen(m.key), 318);
}

static void
test_postfix_bad(void **state)
{
	const struct bad t[] = {
		BAD("ron@linuxcoaching.eu", VS_EINVAL, "has no value"),
		BAD("ron@linuxcoaching.eu   ", VS_EINVAL, "has no value"),
		BAD("ron@linuxcoaching.eu\t\r\n", VS_EINVAL, "has no value"),
		BAD(" ron@linuxcoaching.eu ron", VS_EINVAL,
		    "starts with white space"),
		BAD("\tk v", VS_EINVAL, "starts with white space"),
		BAD("k v\x01", VS_EINVAL, "control character (0x01)"),
		BAD("k\x0b v", VS_EINVAL, "control character (0x0b)"),
		BAD("k v\r\r", VS_EINVAL, "control character (0x0d)"),
		BAD("k\x7f v", VS_EINVAL, "control character (0x7f)"),
	};
	struct bad big[1] = {
		BAD(NULL, VS_EINVAL, "longer than 318 characters"),
	};
	struct import_map m;
	struct vs_err err;
	char buf[1024];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		vs_err_clear(&err);
		strcpy(buf, t[i].line);
		check_bad(import_parse_postfix_map(buf, &m, &err), &err, &t[i]);
	}
	big[0].line = rep(0, "", 'k', 319, " v");
	vs_err_clear(&err);
	strcpy(buf, big[0].line);
	check_bad(import_parse_postfix_map(buf, &m, &err), &err, &big[0]);
}

static void
test_postfix_skip(void **state)
{
	struct import_map m;

	(void)state;
	run_skip(skip_postfix, &m);
}

/* ---- reader ---- */

struct rd_exp {
	int rc;
	unsigned long lineno;
	const char *text;       /* the line (rc 1) or a message piece */
};

/* Read data (len bytes, NULs allowed) and compare with exp[0..n), then
 * expect end of input (twice). */
static void
run_reader(enum import_format fmt, const char *data, size_t len,
    const struct rd_exp *exp, size_t n)
{
	struct import_reader *r;
	struct vs_err err;
	unsigned long lineno;
	char *line;
	FILE *fp;
	size_t i;
	int rc;

	fp = fmemopen((void *)data, len, "r");
	assert_non_null(fp);
	assert_int_equal(import_reader_new(fp, fmt, &r), VS_OK);
	for (i = 0; i < n; i++) {
		vs_err_clear(&err);
		rc = import_reader_next(r, &line, &lineno, &err);
		if (rc != exp[i].rc)
			fail_msg("result %zu: rc %d (%s), want %d", i, rc,
			    rc == 1 ? line : err.msg, exp[i].rc);
		if (lineno != exp[i].lineno)
			fail_msg("result %zu: line %lu, want %lu", i, lineno,
			    exp[i].lineno);
		if (rc == 1) {
			if (strcmp(line, exp[i].text) != 0)
				fail_msg("result %zu: \"%s\", want \"%s\"", i,
				    line, exp[i].text);
		} else {
			assert_int_equal(err.code, rc);
			if (strstr(err.msg, exp[i].text) == NULL)
				fail_msg("result %zu: \"%s\" lacks \"%s\"", i,
				    err.msg, exp[i].text);
		}
	}
	assert_int_equal(import_reader_next(r, &line, &lineno, &err), 0);
	assert_int_equal(import_reader_next(r, &line, &lineno, &err), 0);
	import_reader_free(&r);
	assert_null(r);
	import_reader_free(&r);
	fclose(fp);
}

#define RUN(fmt, s, ...) do {                                           \
	const struct rd_exp e_[] = { __VA_ARGS__ };                     \
	run_reader((fmt), (s), sizeof(s) - 1, e_, NELEM(e_));           \
} while (0)
#define RUN_EMPTY(fmt, s) run_reader((fmt), (s), sizeof(s) - 1, NULL, 0)

static void
test_reader_basic(void **state)
{
	(void)state;
	/* comments, blank lines, CRLF, no final newline */
	RUN(IMPORT_HTPASSWD,
	    "# users\n"
	    "ron:hLILWelxS7E82\r\n"
	    "\n"
	    "alice:ildPSIfh7EkT2\r\n"
	    "   \r\n"
	    "  # indented comment\n"
	    "\t\n"
	    "bob:x",
	    { 1, 2, "ron:hLILWelxS7E82" },
	    { 1, 4, "alice:ildPSIfh7EkT2" },
	    { 1, 8, "bob:x" });
	/* a lone CR at the very end */
	RUN(IMPORT_HTPASSWD, "ron:x\nbob:y\r", { 1, 1, "ron:x" },
	    { 1, 2, "bob:y" });
	/* a CR inside the line is kept (the parser refuses it) */
	RUN(IMPORT_HTPASSWD, "ron:x\ry\n", { 1, 1, "ron:x\ry" });
	/* no continuation lines outside postfix-map */
	RUN(IMPORT_HTPASSWD, "ron:x\n  alice:y\n\tbob:z\n",
	    { 1, 1, "ron:x" }, { 1, 2, "  alice:y" }, { 1, 3, "\tbob:z" });
	RUN(IMPORT_DOVECOT_PASSWD, "ron:x:1:1\n  more\n",
	    { 1, 1, "ron:x:1:1" }, { 1, 2, "  more" });
	/* nothing at all */
	RUN_EMPTY(IMPORT_HTPASSWD, "");
	RUN_EMPTY(IMPORT_POSTFIX_MAP, "\n\n# only comments\n");
	RUN_EMPTY(IMPORT_POSTFIX_MAP, "\n");
}

static void
test_reader_continuation(void **state)
{
	(void)state;
	RUN(IMPORT_POSTFIX_MAP,
	    "ron@linuxcoaching.eu ron\n"
	    "alice@somedomain.ie alice\n"
	    "list@x.ie a@x.ie,\n"
	    "    b@x.ie,  \n"
	    "\t c@x.ie\r\n"
	    "last v",
	    { 1, 1, "ron@linuxcoaching.eu ron" },
	    { 1, 2, "alice@somedomain.ie alice" },
	    { 1, 3, "list@x.ie a@x.ie, b@x.ie, c@x.ie" },
	    { 1, 6, "last v" });
	/* blank and comment lines inside a logical line are dropped */
	RUN(IMPORT_POSTFIX_MAP,
	    "k v1\n"
	    "# comment\n"
	    "\n"
	    "   \n"
	    "  # indented comment\n"
	    "  v2\n"
	    "k2 w\n",
	    { 1, 1, "k v1 v2" }, { 1, 7, "k2 w" });
	/* key alone on the first line */
	RUN(IMPORT_POSTFIX_MAP, "key\n  value\n", { 1, 1, "key value" });
	/* continuation at the start of the file, also after comments; the
	 * rest of that logical line is skipped with it */
	RUN(IMPORT_POSTFIX_MAP, "  orphan\n  more\nk v\n",
	    { VS_EINVAL, 1, "no line before it" }, { 1, 3, "k v" });
	RUN(IMPORT_POSTFIX_MAP, "# c\n\n\torphan\nk v\n",
	    { VS_EINVAL, 3, "starts with white space" }, { 1, 4, "k v" });
	/* continuation at the end, without a newline */
	RUN(IMPORT_POSTFIX_MAP, "k a\n b", { 1, 1, "k a b" });
}

static void
test_reader_nul(void **state)
{
	(void)state;
	RUN(IMPORT_HTPASSWD, "ron:x\nal\0ice:y\nbob:z\n",
	    { 1, 1, "ron:x" }, { VS_EINVAL, 2, "NUL byte" },
	    { 1, 3, "bob:z" });
	RUN(IMPORT_HTPASSWD, "\0\n\0\nbob:z", { VS_EINVAL, 1, "NUL byte" },
	    { VS_EINVAL, 2, "NUL byte" }, { 1, 3, "bob:z" });
	/* in a comment too */
	RUN(IMPORT_DOVECOT_PASSWD, "# a\0b\nron:x\n",
	    { VS_EINVAL, 1, "NUL byte" }, { 1, 2, "ron:x" });
	/* at the very end, no newline */
	RUN(IMPORT_HTPASSWD, "ron:x\nbob:z\0", { 1, 1, "ron:x" },
	    { VS_EINVAL, 2, "NUL byte" });
	/* postfix-map: in a continuation line the whole logical line goes */
	RUN(IMPORT_POSTFIX_MAP, "k v\n  a\0b\n  c\nn w\n",
	    { VS_EINVAL, 1, "continuation line 2 contains a NUL byte" },
	    { 1, 4, "n w" });
	RUN(IMPORT_POSTFIX_MAP, "k\0v\n  c\nn w\n",
	    { VS_EINVAL, 1, "line contains a NUL byte" }, { 1, 3, "n w" });
}

/* A buffer: prefix, n copies of c, suffix. */
static char *
mk(size_t *len_r, const char *prefix, int c, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *b = malloc(pl + n + sl + 1);

	assert_non_null(b);
	memcpy(b, prefix, pl);
	memset(b + pl, c, n);
	memcpy(b + pl + n, suffix, sl + 1);
	*len_r = pl + n + sl;
	return b;
}

static void
test_reader_long(void **state)
{
	const size_t M = IMPORT_LINE_MAX;
	struct rd_exp e[3];
	char *b, *want;
	size_t len, wl;

	(void)state;
	/* over-long line: reported with its number, skipped, next read */
	b = mk(&len, "ron:x\n", 'a', 9000, "\nalice:y\n");
	e[0] = (struct rd_exp){ 1, 1, "ron:x" };
	e[1] = (struct rd_exp){ VS_ELIMIT, 2, "longer than 8192 bytes" };
	e[2] = (struct rd_exp){ 1, 3, "alice:y" };
	run_reader(IMPORT_HTPASSWD, b, len, e, 3);
	free(b);

	/* far longer than the buffer */
	b = mk(&len, "", 'a', 100000, "\r\nalice:y");
	e[0] = (struct rd_exp){ VS_ELIMIT, 1, "longer than" };
	e[1] = (struct rd_exp){ 1, 2, "alice:y" };
	run_reader(IMPORT_DOVECOT_PASSWD, b, len, e, 2);
	free(b);

	/* the limits, exactly: M bytes pass (with LF, CRLF, or nothing),
	 * M + 1 do not */
	want = mk(&wl, "", 'a', M, "");
	b = mk(&len, "", 'a', M, "\nb:c\n");
	e[0] = (struct rd_exp){ 1, 1, want };
	e[1] = (struct rd_exp){ 1, 2, "b:c" };
	run_reader(IMPORT_HTPASSWD, b, len, e, 2);
	free(b);
	b = mk(&len, "", 'a', M, "\r\nb:c\n");
	run_reader(IMPORT_HTPASSWD, b, len, e, 2);
	free(b);
	b = mk(&len, "", 'a', M, "");
	run_reader(IMPORT_HTPASSWD, b, len, e, 1);
	free(b);
	b = mk(&len, "", 'a', M, "\r");
	run_reader(IMPORT_HTPASSWD, b, len, e, 1);
	free(b);
	free(want);
	e[0] = (struct rd_exp){ VS_ELIMIT, 1, "longer than" };
	b = mk(&len, "", 'a', M + 1, "\nb:c\n");
	run_reader(IMPORT_HTPASSWD, b, len, e, 2);
	free(b);
	b = mk(&len, "", 'a', M + 1, "\r\nb:c\n");
	run_reader(IMPORT_HTPASSWD, b, len, e, 2);
	free(b);
	b = mk(&len, "", 'a', M + 1, "");
	run_reader(IMPORT_HTPASSWD, b, len, e, 1);
	free(b);
	b = mk(&len, "", 'a', M + 2, "");
	run_reader(IMPORT_HTPASSWD, b, len, e, 1);
	free(b);
	b = mk(&len, "", 'a', M + 2, "\n");
	run_reader(IMPORT_HTPASSWD, b, len, e, 1);
	free(b);
	/* an over-long comment is an error too */
	b = mk(&len, "#", 'a', M, "\nb:c\n");
	run_reader(IMPORT_HTPASSWD, b, len, e, 2);
	free(b);
}

/* Every line length around the reader's chunk boundaries, with LF, CRLF
 * and no line end, and a NUL at the end of the line. */
static void
test_reader_chunks(void **state)
{
	static const char *const ends[] = { "\n", "\r\n", "" };
	struct rd_exp e[2];
	char *b, *want;
	size_t n, i, len, wl;

	(void)state;
	for (n = 1; n <= 1100; n++) {
		want = mk(&wl, "", 'a', n, "");
		for (i = 0; i < NELEM(ends); i++) {
			b = mk(&len, "", 'a', n, ends[i]);
			e[0] = (struct rd_exp){ 1, 1, want };
			run_reader(IMPORT_HTPASSWD, b, len, e, 1);
			b[n - 1] = '\0';
			e[0] = (struct rd_exp){ VS_EINVAL, 1, "NUL byte" };
			run_reader(IMPORT_HTPASSWD, b, len, e, 1);
			free(b);
			if (*ends[i] == '\0')
				continue;
			b = mk(&len, "", 'a', n, ends[i]);
			b = realloc(b, len + 4);
			assert_non_null(b);
			memcpy(b + len, "b:c", 4);
			e[0] = (struct rd_exp){ 1, 1, want };
			e[1] = (struct rd_exp){ 1, 2, "b:c" };
			run_reader(IMPORT_POSTFIX_MAP, b, len + 3, e, 2);
			free(b);
		}
		free(want);
	}
}

static void
test_reader_long_postfix(void **state)
{
	struct rd_exp e[3];
	char *b, *p;
	size_t len;

	(void)state;
	/* an over-long first line: its continuation lines go with it */
	b = mk(&len, "k ", 'x', 9000, "\n  cont\n# c\n  more\nn w\n");
	e[0] = (struct rd_exp){ VS_ELIMIT, 1, "line is longer than 8192" };
	e[1] = (struct rd_exp){ 1, 5, "n w" };
	run_reader(IMPORT_POSTFIX_MAP, b, len, e, 2);
	free(b);

	/* an over-long continuation line */
	b = mk(&len, "k v\n  ", 'x', 9000, "\n  more\nn w\n");
	e[0] = (struct rd_exp){ VS_ELIMIT, 1,
	    "continuation line 2 is longer than 8192" };
	e[1] = (struct rd_exp){ 1, 4, "n w" };
	run_reader(IMPORT_POSTFIX_MAP, b, len, e, 2);
	free(b);

	/* short lines that join into too long a line */
	b = mk(&len, "a 0\nk ", 'a', 5000, "\n  ");
	p = mk(&len, b, 'b', 5000, "\n  c\nn w\n");
	e[0] = (struct rd_exp){ 1, 1, "a 0" };
	e[1] = (struct rd_exp){ VS_ELIMIT, 2,
	    "longer than 8192 bytes once continuation line 3 is joined" };
	e[2] = (struct rd_exp){ 1, 5, "n w" };
	run_reader(IMPORT_POSTFIX_MAP, p, len, e, 3);
	free(b);
	free(p);

	/* joined to exactly IMPORT_LINE_MAX: "k " + 4094 + " " + 4095 */
	b = mk(&len, "k ", 'a', 4094, "\n ");
	p = mk(&len, b, 'b', 4095, "\n");
	free(b);
	{
		struct import_reader *r;
		struct import_map m;
		struct vs_err err;
		unsigned long no;
		char *line;
		FILE *fp = fmemopen(p, len, "r");

		assert_non_null(fp);
		assert_int_equal(import_reader_new(fp, IMPORT_POSTFIX_MAP, &r),
		    0);
		assert_int_equal(import_reader_next(r, &line, &no, &err), 1);
		assert_int_equal(strlen(line), IMPORT_LINE_MAX);
		assert_int_equal(import_parse_postfix_map(line, &m, &err), 1);
		assert_string_equal(m.key, "k");
		assert_int_equal(strlen(m.value), 4094 + 1 + 4095);
		assert_int_equal(import_reader_next(r, &line, &no, &err), 0);
		import_reader_free(&r);
		fclose(fp);
	}
	free(p);
	/* one more byte is too long */
	b = mk(&len, "k ", 'a', 4094, "\n ");
	p = mk(&len, b, 'b', 4096, "\n");
	e[0] = (struct rd_exp){ VS_ELIMIT, 1, "once continuation line 2" };
	run_reader(IMPORT_POSTFIX_MAP, p, len, e, 1);
	free(b);
	free(p);
}

static void
test_reader_new(void **state)
{
	struct import_reader *r = (void *)1;
	FILE *fp = fmemopen((void *)"x", 1, "r");

	(void)state;
	assert_non_null(fp);
	assert_int_equal(import_reader_new(NULL, IMPORT_HTPASSWD, &r),
	    VS_EINVAL);
	assert_null(r);
	assert_int_equal(import_reader_new(fp, (enum import_format)42, &r),
	    VS_EINVAL);
	assert_null(r);
	import_reader_free(NULL);
	fclose(fp);
}

/* A read error is VS_EIO, and stays so (reading a directory fails with
 * EISDIR on Linux and the BSDs). */
static void
test_reader_eio(void **state)
{
	struct import_reader *r;
	struct vs_err err;
	unsigned long no;
	char *line;
	FILE *fp;

	(void)state;
	if ((fp = fopen("/", "r")) == NULL)
		skip();
	assert_int_equal(import_reader_new(fp, IMPORT_POSTFIX_MAP, &r), 0);
	vs_err_clear(&err);
	assert_int_equal(import_reader_next(r, &line, &no, &err), VS_EIO);
	assert_int_equal(err.code, VS_EIO);
	assert_non_null(strstr(err.msg, "read error"));
	assert_null(line);
	assert_int_equal(import_reader_next(r, &line, &no, &err), VS_EIO);
	import_reader_free(&r);
	fclose(fp);
}

/* End to end: the seed's files through reader and parser. */
static void
test_end_to_end(void **state)
{
	static const char htpasswd[] =
	    "ron:hLILWelxS7E82\n"
	    "alice:ildPSIfh7EkT2\n";
	static const char map[] =
	    "# virtual_mailbox_maps\n"
	    "ron@linuxcoaching.eu ron\n"
	    "alice@somedomain.ie alice\n";
	struct import_reader *r;
	struct import_user u;
	struct import_map m;
	struct vs_err err;
	unsigned long no;
	char *line;
	FILE *fp;

	(void)state;
	fp = fmemopen((void *)htpasswd, sizeof(htpasswd) - 1, "r");
	assert_non_null(fp);
	assert_int_equal(import_reader_new(fp, IMPORT_HTPASSWD, &r), 0);
	assert_int_equal(import_reader_next(r, &line, &no, &err), 1);
	assert_int_equal(import_parse_htpasswd(line, &u, &err), 1);
	assert_string_equal(u.login, "ron");
	assert_string_equal(u.hash, "hLILWelxS7E82");
	assert_int_equal(no, 1);
	assert_int_equal(import_reader_next(r, &line, &no, &err), 1);
	assert_int_equal(import_parse_htpasswd(line, &u, &err), 1);
	assert_string_equal(u.login, "alice");
	assert_string_equal(u.hash, "ildPSIfh7EkT2");
	assert_int_equal(no, 2);
	assert_int_equal(import_reader_next(r, &line, &no, &err), 0);
	import_reader_free(&r);
	fclose(fp);

	fp = fmemopen((void *)map, sizeof(map) - 1, "r");
	assert_non_null(fp);
	assert_int_equal(import_reader_new(fp, IMPORT_POSTFIX_MAP, &r), 0);
	assert_int_equal(import_reader_next(r, &line, &no, &err), 1);
	assert_int_equal(import_parse_postfix_map(line, &m, &err), 1);
	assert_string_equal(m.key, "ron@linuxcoaching.eu");
	assert_string_equal(m.value, "ron");
	assert_int_equal(no, 2);
	assert_int_equal(import_reader_next(r, &line, &no, &err), 1);
	assert_int_equal(import_parse_postfix_map(line, &m, &err), 1);
	assert_string_equal(m.key, "alice@somedomain.ie");
	assert_string_equal(m.value, "alice");
	assert_int_equal(no, 3);
	assert_int_equal(import_reader_next(r, &line, &no, &err), 0);
	import_reader_free(&r);
	fclose(fp);
}

/*
 * A hash too costly to verify is a bad line, reported with its number and
 * the login, never the hash (import_check_user_hash): read, parse, check,
 * as "vmseal import" does.
 */
#define T_BC "$.bWEEkU8pkvbmw.BO1ZWCezJ2.efEesX4X5NMXFLllGEVzePbOuL6"
#define T_S6 "$C/8n7U5LQSU2jn.6$VszKWT0uTauJFAQhH3KVU6qAKCMPt4pX2WGqBRgz" \
	"CgbvO9EIhYIFFv5yTAkHn/CV15g7K.8rO./FyI1cctpIo."
#define T_A2 ",p=1$vF2Ixz1uydGjijmtBC0XPw$" \
	"vGf+PKw5lV+14gRVd/jp1Xpecn/AJudqMvhuZPSePk4"

static void
test_costly_hash_lines(void **state)
{
	static const char file[] =
	    "# old users\n"                                     /* 1 */
	    "alice:$2y$14" T_BC "\n"                            /* 2 */
	    "dave:$2y$31" T_BC "\n"                             /* 3 */
	    "\n"                                                /* 4 */
	    "erin:$6$rounds=999999999" T_S6 "\n"                /* 5 */
	    "frank:$6$rounds=100000" T_S6 "\n"                  /* 6 */
	    "gina:$argon2id$v=19$m=65536,t=21" T_A2 "\n"        /* 7 */
	    "hal:$argon2id$v=19$m=8,t=20" T_A2 "\n"             /* 8 */
	    "ivan:$2y$15" T_BC "\n"                             /* 9 */
	    "jo:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n"            /* 10 */
	    "kim:$2b$99" T_BC "\n";                             /* 11 */
	static const struct {
		unsigned long line;
		const char *login;
		int rc, rc_own;         /* fixed caps; with the store's own */
		const char *msg;
	} want[] = {
		{ 2, "alice", VS_OK, VS_OK, NULL },
		{ 3, "dave", VS_EINVAL, VS_EINVAL, "password hash for login "
		    "'dave': bcrypt password hash too costly to verify: cost "
		    "31, over the limit of 14" },
		{ 5, "erin", VS_EINVAL, VS_EINVAL, "rounds 999999999, over the "
		    "limit of 100000" },
		{ 6, "frank", VS_OK, VS_OK, NULL },
		{ 7, "gina", VS_EINVAL, VS_EINVAL, "passes 21, over the limit "
		    "of" },
		{ 8, "hal", VS_EINVAL, VS_OK, "passes 20, over the limit of "
		    "16" },
		{ 9, "ivan", VS_EINVAL, VS_EINVAL, "login 'ivan': bcrypt" },
		{ 10, "jo", VS_OK, VS_OK, NULL },
		{ 11, "kim", VS_EINVAL, VS_EINVAL, "login 'kim': malformed "
		    "bcrypt password hash" },
	};
	/* The store's Argon2id cost: init --hash-cost 20:8. */
	const struct pw_cost own = { 20, 8192 };
	struct import_reader *r;
	struct import_user u;
	enum pw_scheme s;
	struct vs_err err;
	unsigned long no;
	char *line, hash[512];
	size_t i, pass;
	FILE *fp;
	int rc;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		fp = fmemopen((void *)file, sizeof(file) - 1, "r");
		assert_non_null(fp);
		assert_int_equal(import_reader_new(fp, IMPORT_HTPASSWD, &r),
		    0);
		for (i = 0; i < NELEM(want); i++) {
			vs_err_clear(&err);
			assert_int_equal(import_reader_next(r, &line, &no,
			    &err), 1);
			assert_int_equal(import_parse_htpasswd(line, &u, &err),
			    1);
			if (no != want[i].line)
				fail_msg("%s: line %lu, want %lu",
				    want[i].login, no, want[i].line);
			assert_string_equal(u.login, want[i].login);
			snprintf(hash, sizeof(hash), "%s", u.hash);
			rc = import_check_user_hash(&u, pass ? &own : NULL,
			    &s, &err);
			if (rc != (pass ? want[i].rc_own : want[i].rc))
				fail_msg("line %lu (%s, %s): rc %d (%s)", no,
				    want[i].login, pass ? "own" : "fixed", rc,
				    err.msg);
			if (rc == VS_OK) {
				assert_int_not_equal(s, PW_UNKNOWN);
				continue;
			}
			assert_int_equal(s, PW_UNKNOWN);
			assert_int_equal(err.code, VS_EINVAL);
			if (strstr(err.msg, want[i].msg) == NULL)
				fail_msg("line %lu: \"%s\" lacks \"%s\"", no,
				    err.msg, want[i].msg);
			/* never the salt or the digest */
			assert_null(strstr(err.msg, "bWEEkU8p"));
			assert_null(strstr(err.msg, "C/8n7U5L"));
			assert_null(strstr(err.msg, "vF2Ixz1u"));
			assert_null(strstr(err.msg, "FLllGEVz"));
			assert_null(strstr(err.msg, hash));
		}
		assert_int_equal(import_reader_next(r, &line, &no, &err), 0);
		import_reader_free(&r);
		fclose(fp);
	}

	/* dovecot-passwd goes through the same check */
	{
		char dl[] = "dave:$2y$31" T_BC ":1000:1000::/home/dave::";

		assert_int_equal(import_parse_dovecot_passwd(dl, &u, &err), 1);
		vs_err_clear(&err);
		assert_int_equal(import_check_user_hash(&u, &own, NULL, &err),
		    VS_EINVAL);
		assert_non_null(strstr(err.msg, "'dave'"));
		assert_non_null(strstr(err.msg, "cost 31"));
	}
	memset(&u, 0, sizeof(u));
	assert_int_equal(import_check_user_hash(&u, NULL, &s, &err),
	    VS_EINVAL);
}

/* ---- the uid/gid floor (import_check_ids) ---- */

static void
test_uid_floor(void **state)
{
	static const struct {
		const char *line;       /* dovecot-passwd */
		unsigned uid_min, gid_min;
		int rc;
		const char *msg;        /* NULL: VS_OK */
	} t[] = {
		/* no uid or gid at all: nothing to refuse */
		{ "ann:{PLAIN}x", 500, 500, VS_OK, NULL },
		{ "ann:{PLAIN}x:::", 500, 500, VS_OK, NULL },
		/* at the floor, above it */
		{ "ann:{PLAIN}x:500:500", 500, 500, VS_OK, NULL },
		{ "ann:{PLAIN}x:4294967295:65534", 500, 500, VS_OK, NULL },
		/* root, and one below the floor, positional */
		{ "root:{PLAIN}x:0:0", 500, 500, VS_EINVAL,
		    "login 'root': uid 0 is below uid_min 500 (vmseal.conf): "
		    "system accounts cannot be mail users" },
		{ "bin:{PLAIN}x:499:500", 500, 500, VS_EINVAL,
		    "login 'bin': uid 499 is below uid_min 500" },
		{ "bin:{PLAIN}x:500:499", 500, 500, VS_EINVAL,
		    "login 'bin': gid 499 is below gid_min 500" },
		/* gid only */
		{ "g:{PLAIN}x::0", 500, 500, VS_EINVAL,
		    "login 'g': gid 0 is below gid_min 500" },
		/* userdb_uid/userdb_gid, which win over the positional ones */
		{ "eve:{PLAIN}x:1000:1000:::: userdb_uid=0", 500, 500,
		    VS_EINVAL, "login 'eve': uid 0 is below uid_min 500" },
		{ "eve:{PLAIN}x:0:0::::userdb_uid=1000 userdb_gid=1000", 500,
		    500, VS_OK, NULL },
		{ "eve:{PLAIN}x::::::userdb_gid=7", 500, 500, VS_EINVAL,
		    "gid 7 is below gid_min 500" },
		/* leading zeros are the same number */
		{ "z:{PLAIN}x:00000:1000", 500, 500, VS_EINVAL,
		    "uid 0 is below" },
		/* floors of the configuration */
		{ "root:{PLAIN}x:0:0", 0, 0, VS_OK, NULL },
		{ "svc:{PLAIN}x:999:999", 1000, 100, VS_EINVAL,
		    "uid 999 is below uid_min 1000" },
		{ "svc:{PLAIN}x:1000:99", 1000, 100, VS_EINVAL,
		    "gid 99 is below gid_min 100" },
		/* uid is named first when both are low */
		{ "two:{PLAIN}x:1:2", 500, 500, VS_EINVAL, "uid 1 " },
	};
	struct import_user u;
	struct vs_err err;
	char buf[256];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		snprintf(buf, sizeof(buf), "%s", t[i].line);
		vs_err_clear(&err);
		if (import_parse_dovecot_passwd(buf, &u, &err) != 1)
			fail_msg("\"%s\": does not parse (%s)", t[i].line,
			    err.msg);
		vs_err_clear(&err);
		rc = import_check_ids(&u, t[i].uid_min, t[i].gid_min, &err);
		if (rc != t[i].rc)
			fail_msg("\"%s\" (%u/%u): rc %d, want %d (%s)",
			    t[i].line, t[i].uid_min, t[i].gid_min, rc,
			    t[i].rc, err.msg);
		if (t[i].msg == NULL) {
			assert_string_equal(err.msg, "");
			continue;
		}
		assert_int_equal(err.code, VS_EINVAL);
		if (strstr(err.msg, t[i].msg) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", t[i].line,
			    err.msg, t[i].msg);
		/* never the password field */
		assert_null(strstr(err.msg, "{PLAIN}"));
	}

	/* Without a login (vmseal import --uid/--gid): no "login ''". */
	memset(&u, 0, sizeof(u));
	u.has_gid = true;
	u.gid = 10;
	vs_err_clear(&err);
	assert_int_equal(import_check_ids(&u, 500, 500, &err), VS_EINVAL);
	assert_string_equal(err.msg, "gid 10 is below gid_min 500 "
	    "(vmseal.conf): system accounts cannot be mail users");
	/* A login that needs quoting is quoted as everywhere else. */
	u.login = "a\tb";
	vs_err_clear(&err);
	assert_int_equal(import_check_ids(&u, 500, 500, &err), VS_EINVAL);
	assert_null(strchr(err.msg, '\t'));
	assert_int_equal(import_check_ids(NULL, 500, 500, &err), VS_EINVAL);

	/* A whole file through the reader: the refused lines, by number. */
	{
		static const char file[] =
		    "# users\n"                                    /* 1 */
		    "ann:{PLAIN}a:5000:5000::/home/ann\n"           /* 2 */
		    "root:{PLAIN}r:0:0::/root\n"                    /* 3 */
		    "\n"                                           /* 4 */
		    "bob:{PLAIN}b:5001:5001::/h::userdb_uid=0\n"   /* 5 */
		    "cy:{PLAIN}c\n";                               /* 6 */
		static const unsigned long bad[] = { 3, 5 };
		struct import_reader *r;
		unsigned long no, nbad = 0, nok = 0;
		char *line;
		FILE *fp;

		fp = fmemopen((void *)file, sizeof(file) - 1, "r");
		assert_non_null(fp);
		assert_int_equal(import_reader_new(fp, IMPORT_DOVECOT_PASSWD,
		    &r), 0);
		while ((rc = import_reader_next(r, &line, &no, &err)) == 1) {
			assert_int_equal(import_parse_dovecot_passwd(line, &u,
			    &err), 1);
			vs_err_clear(&err);
			if (import_check_ids(&u, 500, 500, &err) == VS_OK) {
				nok++;
				continue;
			}
			assert_true(nbad < NELEM(bad));
			assert_int_equal(no, bad[nbad]);
			nbad++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(nbad, 2);
		assert_int_equal(nok, 2);
		import_reader_free(&r);
		fclose(fp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_htpasswd_good),
		cmocka_unit_test(test_htpasswd_bad),
		cmocka_unit_test(test_htpasswd_skip),
		cmocka_unit_test(test_htpasswd_cr),
		cmocka_unit_test(test_dovecot_good),
		cmocka_unit_test(test_dovecot_bad),
		cmocka_unit_test(test_dovecot_skip),
		cmocka_unit_test(test_postfix_good),
		cmocka_unit_test(test_postfix_bad),
		cmocka_unit_test(test_postfix_skip),
		cmocka_unit_test(test_reader_basic),
		cmocka_unit_test(test_reader_continuation),
		cmocka_unit_test(test_reader_nul),
		cmocka_unit_test(test_reader_long),
		cmocka_unit_test(test_reader_chunks),
		cmocka_unit_test(test_reader_long_postfix),
		cmocka_unit_test(test_reader_new),
		cmocka_unit_test(test_reader_eio),
		cmocka_unit_test(test_end_to_end),
		cmocka_unit_test(test_costly_hash_lines),
		cmocka_unit_test(test_uid_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
