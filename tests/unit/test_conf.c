/*
 * test_conf.c - vmseal.conf parsing: defaults, every kind of setting, and
 * the errors a typo must produce; the store's location (store = ...) and
 * how it is shown.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "store.h"

static void
test_defaults_and_values(void **state)
{
	static const char text[] =
	    "# vmseal.conf\n"
	    "\n"
	    "store_dir = /srv/vmseal\n"
	    "  socket_dir=/run/x  \n"
	    "user = vmseal\n"
	    "socketmap_socket_group = postfix\n"
	    "socketmap_socket_mode = 0640\r\n"
	    "max_connections = 2048\n"
	    "recipient_delimiter = +-\n"
	    "policy_recipient_limit = 500";
	struct vs_conf c;

	(void)state;
	conf_defaults(&c);
	assert_string_equal(c.socket_dir, "/run/vmseal");
	assert_int_equal(c.admin.mode, 0660);
	assert_int_equal(c.login_by_address, 1);
	assert_int_equal(conf_parse(&c, text, strlen(text), NULL), VS_OK);
	assert_string_equal(c.store_dir, "/srv/vmseal");
	assert_string_equal(c.socket_dir, "/run/x");
	assert_string_equal(c.user, "vmseal");
	assert_string_equal(c.socketmap.group, "postfix");
	assert_int_equal(c.socketmap.mode, 0640);
	assert_int_equal(c.max_connections, 2048);
	assert_string_equal(c.recipient_delimiter, "+-");
	assert_int_equal(c.policy_recipient_limit, 500);
	assert_int_equal(c.policy.mode, 0660);  /* untouched default */
}

/* The connection limits per socket: defaults (0: a share of
 * max_connections, chosen by vmsealed), good values up to their bounds,
 * and the exact error of a wrong one. */
static void
test_connection_limits(void **state)
{
	static const struct {
		const char *text;
		unsigned admin, socketmap, policy, auth;
		const char *msg;        /* NULL: accepted */
	} cases[] = {
		{ "", 0, 0, 0, 0, NULL },
		{ "auth_max_connections = 20\n", 0, 0, 0, 20, NULL },
		{ "admin_max_connections = 1\nsocketmap_max_connections = 2\n"
		  "policy_max_connections = 3\nauth_max_connections = 4\n",
		  1, 2, 3, 4, NULL },
		{ "admin_max_connections = 1024\n"
		  "socketmap_max_connections = 65536\n"
		  "policy_max_connections = 65536\n"
		  "auth_max_connections = 65536\n", 1024, 65536, 65536, 65536,
		  NULL },
		{ "auth_max_connections = 0\n", 0, 0, 0, 0, NULL },
		{ "auth_max_connections = 65537\n", 0, 0, 0, 0,
		  "line 1: auth_max_connections must be a number from 0 to "
		  "65536" },
		{ "\nadmin_max_connections = 1025\n", 0, 0, 0, 0,
		  "line 2: admin_max_connections must be a number from 0 to "
		  "1024" },
		{ "policy_max_connections = -1\n", 0, 0, 0, 0,
		  "line 1: policy_max_connections must be a number from 0 to "
		  "65536" },
		{ "socketmap_max_connections = 12x\n", 0, 0, 0, 0,
		  "line 1: socketmap_max_connections must be a number from 0 to "
		  "65536" },
		{ "socketmap_max_connections =\n", 0, 0, 0, 0,
		  "line 1: socketmap_max_connections must be a number from 0 to "
		  "65536" },
		{ "auth_max_connections = 5\nauth_max_connections = 6\n",
		  0, 0, 0, 0, "line 2: auth_max_connections is set twice" },
		{ "auth_max_connection = 5\n", 0, 0, 0, 0,
		  "line 1: unknown setting 'auth_max_connection'" },
	};
	struct vs_conf c;
	struct vs_err err;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_defaults(&c);
		vs_err_clear(&err);
		r = conf_parse(&c, cases[i].text, strlen(cases[i].text), &err);
		if (cases[i].msg != NULL) {
			if (r != VS_EINVAL || strcmp(err.msg, cases[i].msg) != 0)
				fail_msg("case %zu: got %d \"%s\", want \"%s\"",
				    i, r, err.msg, cases[i].msg);
			continue;
		}
		if (r != VS_OK)
			fail_msg("case %zu: refused: %s", i, err.msg);
		assert_int_equal(c.admin_max_connections, cases[i].admin);
		assert_int_equal(c.socketmap_max_connections,
		    cases[i].socketmap);
		assert_int_equal(c.policy_max_connections, cases[i].policy);
		assert_int_equal(c.auth_max_connections, cases[i].auth);
		assert_int_equal(c.max_connections, 1024);   /* untouched */
	}
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "stor_dir = /x\n", "line 1: unknown setting 'stor_dir'" },
		{ "\n\nuser\n", "line 3: expected 'name = value'" },
		{ "user = a\nuser = b\n", "line 2: user is set twice" },
		{ "max_connections = -1\n", "must be a number from 0 to 65536" },
		{ "max_connections = 65537\n", "must be a number" },
		{ "max_connections = 99999999999999999999\n", "must be a number" },
		{ "max_connections =\n", "must be a number" },
		{ "admin_socket_mode = 0668\n", "octal mode" },
		{ "admin_socket_mode = 01777\n", "octal mode" },
		{ "login_by_address = 2\n", "from 0 to 1" },
		{ "recipient_delimiter = 123456789\n", "is too long" },
		{ "user = a\x01" "b\n", "control character" },
		{ "store = postgresql:dbname=v\nstore_dir = /x\n",
		    "line 2: store and store_dir both name the store: set one" },
		{ "store_dir = /x\n\nstore = lmdb:/y\n",
		    "line 3: store and store_dir both name the store: set one" },
		{ "store = a\nstore = b\n", "line 2: store is set twice" },
	};
	struct vs_conf c;
	struct vs_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_defaults(&c);
		vs_err_clear(&err);
		assert_int_equal(conf_parse(&c, cases[i].text,
		    strlen(cases[i].text), &err), VS_EINVAL);
		if (strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    err.msg, cases[i].msg);
	}
	/* A NUL byte and an over-long line. */
	{
		char buf[CONF_LINE_MAX + 16];

		conf_defaults(&c);
		assert_int_equal(conf_parse(&c, "user = a\0b\n", 11, &err),
		    VS_EINVAL);
		assert_non_null(strstr(err.msg, "NUL"));
		memset(buf, 'a', sizeof(buf));
		assert_int_equal(conf_parse(&c, buf, sizeof(buf), &err),
		    VS_EINVAL);
		assert_non_null(strstr(err.msg, "longer than"));
	}
	/* A missing file is "not found" (defaults may do). */
	assert_int_equal(conf_load(&c, "/nonexistent/vmseal.conf", &err),
	    VS_ENOTFOUND);
}

/* "store = LOCATION": which setting names the store, which backend the
 * location is, and how it is shown - a password in a conninfo never. */
static void
test_store_location(void **state)
{
	static const struct {
		const char *text;       /* vmseal.conf */
		const char *loc;        /* conf_store_location() */
		enum store_backend be;
		const char *rest;       /* folder or conninfo */
		const char *shown;      /* store_location_show() */
	} cases[] = {
		{ "", "/var/lib/vmseal", STORE_BACKEND_LMDB, "/var/lib/vmseal",
		    "/var/lib/vmseal" },
		{ "store_dir = /srv/s\n", "/srv/s", STORE_BACKEND_LMDB,
		    "/srv/s", "/srv/s" },
		{ "store = lmdb:/srv/t\n", "lmdb:/srv/t", STORE_BACKEND_LMDB,
		    "/srv/t", "/srv/t" },
		{ "store = postgresql:host=db1 dbname=mail password=S3cr3t\n",
		    "postgresql:host=db1 dbname=mail password=S3cr3t",
		    STORE_BACKEND_PG, "host=db1 dbname=mail password=S3cr3t",
		    "postgresql:host=db1 dbname=mail" },
		{ "store = postgresql: password = 'S3 cr\\'3t' host = db1 "
		    "port=5433 user=vm dbname = 'my db'\n",
		    "postgresql: password = 'S3 cr\\'3t' host = db1 port=5433 "
		    "user=vm dbname = 'my db'", STORE_BACKEND_PG,
		    " password = 'S3 cr\\'3t' host = db1 port=5433 user=vm "
		    "dbname = 'my db'",
		    "postgresql:host=db1 port=5433 dbname=my?db" },
		{ "store = postgresql://vm:S3cr3t@db1:5433/mail?sslmode=require\n",
		    "postgresql://vm:S3cr3t@db1:5433/mail?sslmode=require",
		    STORE_BACKEND_PG,
		    "postgresql://vm:S3cr3t@db1:5433/mail?sslmode=require",
		    "postgresql:host=db1:5433 dbname=mail" },
		{ "store = postgresql:postgres://vm:S3cr3t@/mail?host=/run/pg\n",
		    "postgresql:postgres://vm:S3cr3t@/mail?host=/run/pg",
		    STORE_BACKEND_PG, "postgres://vm:S3cr3t@/mail?host=/run/pg",
		    "postgresql:dbname=mail" },
		{ "store = postgresql:password=S3cr3t\n",
		    "postgresql:password=S3cr3t", STORE_BACKEND_PG,
		    "password=S3cr3t", "postgresql:(conninfo)" },
		{ "store = postgresql:garbage S3cr3t\n",
		    "postgresql:garbage S3cr3t", STORE_BACKEND_PG,
		    "garbage S3cr3t", "postgresql:(conninfo)" },
	};
	char shown[STORE_SHOW_MAX];
	struct vs_conf c;
	const char *rest;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_defaults(&c);
		assert_int_equal(conf_parse(&c, cases[i].text,
		    strlen(cases[i].text), NULL), VS_OK);
		assert_string_equal(conf_store_location(&c), cases[i].loc);
		assert_int_equal(store_location(cases[i].loc, &rest),
		    cases[i].be);
		assert_string_equal(rest, cases[i].rest);
		store_location_show(cases[i].loc, shown);
		if (strcmp(shown, cases[i].shown) != 0)
			fail_msg("case %zu: shown \"%s\", want \"%s\"", i,
			    shown, cases[i].shown);
		assert_null(strstr(shown, "S3"));
	}
	/* A conninfo as long as a line allows. */
	{
		char text[CONF_LINE_MAX];

		memset(text, 'x', sizeof(text));
		memcpy(text, "store = postgresql:host=", 24);
		conf_defaults(&c);
		assert_int_equal(conf_parse(&c, text, sizeof(text), NULL),
		    VS_OK);
		assert_int_equal(strlen(conf_store_location(&c)),
		    CONF_LINE_MAX - 8);
		store_location_show(conf_store_location(&c), shown);
		assert_string_equal(shown, "postgresql:(conninfo)");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_connection_limits),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_store_location),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
