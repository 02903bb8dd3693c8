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
		/* found by fuzz_location: a '?' in a URI's password, and an
		 * '@' in a parameter's value */
		{ "store = postgresql://u:s3cr3t?x@h/db\n",
		    "postgresql://u:s3cr3t?x@h/db", STORE_BACKEND_PG,
		    "postgresql://u:s3cr3t?x@h/db", "postgresql:(conninfo)" },
		{ "store = postgresql://h?password=p@ssw0rd\n",
		    "postgresql://h?password=p@ssw0rd", STORE_BACKEND_PG,
		    "postgresql://h?password=p@ssw0rd", "postgresql:(conninfo)" },
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

/* Self-service and the password policy: defaults (all front ends off,
 * the policy on), every value kind (on/off, a loopback ADDRESS:PORT, a
 * socket name or path), and the exact error of a wrong one. */
static void
test_selfservice(void **state)
{
	static const struct {
		const char *text;
		const char *msg;        /* NULL: accepted */
		const char *field;      /* the string set, checked below */
		const char *want;
	} cases[] = {
		{ "poppassd_socket = poppassd\n", NULL, "sock", "poppassd" },
		{ "poppassd_socket = /run/pp/sock\n", NULL, "sock",
		    "/run/pp/sock" },
		{ "poppassd_socket = a/b\n", "line 1: poppassd_socket must be "
		    "a name (under socket_dir) or an absolute path", NULL, NULL },
		{ "poppassd_socket = ..\n", "poppassd_socket must be a name",
		    NULL, NULL },
		{ "poppassd_listen = 127.0.0.1:106\n", NULL, "pplisten",
		    "127.0.0.1:106" },
		{ "poppassd_listen = 127.1.2.3:65535\n", NULL, "pplisten",
		    "127.1.2.3:65535" },
		{ "httpapi_listen = [::1]:8106\n", NULL, "http", "[::1]:8106" },
		{ "httpapi_listen =\n", NULL, "http", "" },
		{ "httpapi_listen = 0.0.0.0:80\n", "line 1: httpapi_listen: "
		    "only a loopback address (127.0.0.0/8, ::1) may be given",
		    NULL, NULL },
		{ "httpapi_listen = [::]:80\n", "only a loopback address",
		    NULL, NULL },
		{ "httpapi_listen = 192.0.2.1:80\n", "only a loopback address",
		    NULL, NULL },
		{ "poppassd_listen = 127.0.0.1\n", "poppassd_listen: expected "
		    "ADDRESS:PORT", NULL, NULL },
		{ "poppassd_listen = 127.0.0.1:0\n", "the port must be a "
		    "number from 1 to 65535", NULL, NULL },
		{ "poppassd_listen = 127.0.0.1:65536\n", "the port must be",
		    NULL, NULL },
		{ "poppassd_listen = 127.0.0.1:1x\n", "the port must be",
		    NULL, NULL },
		{ "poppassd_listen = localhost:106\n", "not a numeric IP "
		    "address", NULL, NULL },
		{ "poppassd_listen = ::1:106\n", "an IPv6 address goes in "
		    "brackets", NULL, NULL },
		{ "password_policy = maybe\n", "line 1: password_policy must "
		    "be on or off", NULL, NULL },
		{ "password_dictcheck = 2\n", "password_dictcheck must be on "
		    "or off", NULL, NULL },
		{ "password_min_length = 257\n", "password_min_length must be "
		    "a number from 0 to 256", NULL, NULL },
		{ "selfservice_max_connections = 257\n", "from 0 to 256",
		    NULL, NULL },
		{ "selfservice_timeout = 601\n", "from 0 to 600", NULL, NULL },
		{ "httpapi_user_field = user name\n", "line 1: "
		    "httpapi_user_field must be a form field name (letters, "
		    "digits, _ - . [ ])", NULL, NULL },
		{ "httpapi_newpass_field =\n", "httpapi_newpass_field must be "
		    "a form field name", NULL, NULL },
		{ "httpapi_curpass_field = pw[old]\n", NULL, "curfield",
		    "pw[old]" },
		{ "password_quality_conf = pwq.conf\n", "password_quality_conf "
		    "must be an absolute path", NULL, NULL },
		{ "password_quality_conf = /etc/security/pwquality.conf\n",
		    NULL, "pwq", "/etc/security/pwquality.conf" },
	};
	struct vs_conf c;
	struct vs_err err;
	const char *got;
	size_t i;

	(void)state;
	conf_defaults(&c);
	assert_string_equal(c.poppassd_socket, "");
	assert_string_equal(c.poppassd_listen, "");
	assert_string_equal(c.httpapi_listen, "");
	assert_int_equal(c.poppassd.mode, 0660);
	assert_int_equal(c.selfservice_max_connections, 8);
	assert_int_equal(c.selfservice_timeout, 30);
	assert_int_equal(c.password_policy, 1);
	assert_int_equal(c.password_min_length, 12);
	assert_int_equal(c.password_dictcheck, 1);
	assert_string_equal(c.password_quality_conf, "");
	assert_string_equal(c.httpapi_user_field, "username");
	assert_string_equal(c.httpapi_curpass_field, "curpass");
	assert_string_equal(c.httpapi_newpass_field, "newpass");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_defaults(&c);
		vs_err_clear(&err);
		if (cases[i].msg != NULL) {
			assert_int_equal(conf_parse(&c, cases[i].text,
			    strlen(cases[i].text), &err), VS_EINVAL);
			if (strstr(err.msg, cases[i].msg) == NULL)
				fail_msg("case %zu: got \"%s\", want \"%s\"",
				    i, err.msg, cases[i].msg);
			continue;
		}
		if (conf_parse(&c, cases[i].text, strlen(cases[i].text),
		    &err) != VS_OK)
			fail_msg("case %zu: refused: %s", i, err.msg);
		got = strcmp(cases[i].field, "sock") == 0 ? c.poppassd_socket :
		    strcmp(cases[i].field, "pplisten") == 0 ?
		    c.poppassd_listen : strcmp(cases[i].field, "http") == 0 ?
		    c.httpapi_listen : strcmp(cases[i].field, "curfield") == 0 ?
		    c.httpapi_curpass_field : c.password_quality_conf;
		assert_string_equal(got, cases[i].want);
	}
	/* on/off and their synonyms, numbers, the socket's group and mode. */
	{
		static const char text[] =
		    "password_policy = off\npassword_dictcheck = no\n"
		    "password_min_length = 8\nselfservice_timeout = 10\n"
		    "selfservice_max_connections = 2\n"
		    "poppassd_socket_group = www-data\n"
		    "poppassd_socket_mode = 0666\n";
		char host[64];
		unsigned port = 0;

		conf_defaults(&c);
		assert_int_equal(conf_parse(&c, text, strlen(text), &err),
		    VS_OK);
		assert_int_equal(c.password_policy, 0);
		assert_int_equal(c.password_dictcheck, 0);
		assert_int_equal(c.password_min_length, 8);
		assert_int_equal(c.selfservice_timeout, 10);
		assert_int_equal(c.selfservice_max_connections, 2);
		assert_string_equal(c.poppassd.group, "www-data");
		assert_int_equal(c.poppassd.mode, 0666);
		assert_int_equal(conf_parse(&c, "password_policy = yes\n", 22,
		    &err), VS_OK);
		assert_int_equal(c.password_policy, 1);
		assert_int_equal(conf_listen_parse("[::1]:8106", host,
		    sizeof(host), &port, &err), VS_OK);
		assert_string_equal(host, "::1");
		assert_int_equal(port, 8106);
		assert_int_equal(conf_listen_parse("127.0.0.1:106", host, 4,
		    &port, &err), VS_EINVAL);
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
		cmocka_unit_test(test_selfservice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
