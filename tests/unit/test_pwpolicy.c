/*
 * test_pwpolicy.c - the password policy (admin/pwpolicy.c, libpwquality):
 * each rule with its exact reason, the settings of vmseal.conf
 * (password_policy, password_min_length in characters, password_dictcheck,
 * password_quality_conf), and the honest failures: a dictionary that
 * cannot be loaded and a pwquality.conf that cannot be read are VS_EIO,
 * never a pass.  No reason ever holds the password.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "pwpolicy.h"

#define DICT "/var/cache/cracklib/cracklib_dict.pwd"

struct pcase {
	const char *name;
	const char *conf;       /* vmseal.conf lines over the defaults */
	const char *pwq;        /* a pwquality.conf to use, or NULL */
	const char *user, *newpw, *oldpw;
	int rc;
	const char *reason;     /* exact ("" for VS_OK); "~..." a prefix */
	bool needs_dict;
};

static const struct pcase cases[] = {
	{ "good", "", NULL, "alice@example.org", "Tq7#mPz9vK-Lw3",
	    "old-Secret-99", VS_OK, "", false },
	{ "good, no old, no user", "", NULL, NULL, "Tq7#mPz9vK-Lw3", NULL,
	    VS_OK, "", false },
	{ "too short", "", NULL, "alice", "Sh0rt#pw", "old-Secret-99",
	    VS_EINVAL, "The password is shorter than 12 characters", false },
	{ "empty", "", NULL, "alice", "", NULL, VS_EINVAL,
	    "The password is empty", false },
	{ "characters, not bytes: 11 of 2 bytes", "", NULL, "alice",
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9", NULL, VS_EINVAL,
	    "The password is shorter than 12 characters", false },
	{ "min length 16", "password_min_length = 16\n", NULL, "alice",
	    "Tq7#mPz9vK-Lw3", NULL, VS_EINVAL,
	    "The password is shorter than 16 characters", false },
	{ "same as the old one", "", NULL, "alice", "Tq7#mPz9vK-Lw3",
	    "Tq7#mPz9vK-Lw3", VS_EINVAL,
	    "The password is the same as the old one", false },
	{ "holds the user's local part", "", NULL, "bertrand@example.org",
	    "xx-Bertrand-Q7#z", NULL, VS_EINVAL,
	    "The password contains the user name in some form", false },
	{ "a dictionary word", "", NULL, "alice", "Dictionary12",
	    NULL, VS_EINVAL, "~The password fails the dictionary check",
	    true },
	{ "dictcheck off", "password_dictcheck = off\n", NULL, "alice",
	    "Dictionary12", NULL, VS_OK, "", false },
	{ "policy off", "password_policy = off\n", NULL, "alice", "x",
	    "x", VS_OK, "", false },
	{ "pwquality.conf: four classes", "", "minclass = 4\n", "alice",
	    "Tq7mPz9vKLw3zz", NULL, VS_EINVAL,
	    "The password contains less than 4 character classes", false },
	{ "pwquality.conf: too similar", "", "difok = 5\n", "alice",
	    "Tq7#mPz9vK-Lw3x", "Tq7#mPz9vK-Lw3", VS_EINVAL,
	    "The password is too similar to the old one", false },
	{ "pwquality.conf: minlen cannot lower the floor", "",
	    "minlen = 6\n", "alice", "Q7#z-Lw3k", NULL, VS_EINVAL,
	    "The password is shorter than 12 characters", false },
	{ "no dictionary: an error, not a pass", "",
	    "dictpath = /nonexistent/cracklib_dict\n", "alice",
	    "Tq7#mPz9vK-Lw3", NULL, VS_EIO,
	    "the dictionary check is on (password_dictcheck) but cracklib's "
	    "dictionary cannot be loaded: install cracklib-runtime, or set "
	    "password_dictcheck = off", false },
	{ "a broken pwquality.conf", "", "nosuchsetting = 1\n", "alice",
	    "Tq7#mPz9vK-Lw3", NULL, VS_EIO, "~password_quality_conf /",
	    false },
};

static void
run(const struct pcase *c, bool have_dict)
{
	struct vs_conf conf;
	struct vs_err err;
	char reason[PWPOLICY_REASON_MAX], path[] = "/tmp/pwq-XXXXXX";
	char line[CONF_LINE_MAX];
	int fd = -1, rc;

	conf_defaults(&conf);
	vs_err_clear(&err);
	if (conf_parse(&conf, c->conf, strlen(c->conf), &err) != VS_OK)
		fail_msg("%s: %s", c->name, err.msg);
	if (c->pwq != NULL) {
		assert_true((fd = mkstemp(path)) >= 0);
		assert_int_equal(write(fd, c->pwq, strlen(c->pwq)),
		    (ssize_t)strlen(c->pwq));
		close(fd);
		snprintf(line, sizeof(line), "password_quality_conf = %s\n",
		    path);
		assert_int_equal(conf_parse(&conf, line, strlen(line), &err),
		    VS_OK);
	}
	memset(reason, 'x', sizeof(reason));
	rc = pwpolicy_check(&conf, c->user, c->newpw, strlen(c->newpw),
	    c->oldpw, c->oldpw ? strlen(c->oldpw) : 0, reason,
	    sizeof(reason));
	if (c->pwq != NULL)
		unlink(path);
	if (c->needs_dict && !have_dict) {
		/* Without the dictionary the same check is VS_EIO. */
		assert_int_equal(rc, VS_EIO);
		return;
	}
	if (rc != c->rc)
		fail_msg("%s: rc %d, want %d (\"%s\")", c->name, rc, c->rc,
		    reason);
	if (c->reason[0] == '~') {
		if (strncmp(reason, c->reason + 1, strlen(c->reason + 1)) != 0)
			fail_msg("%s: \"%s\", want \"%s...\"", c->name,
			    reason, c->reason + 1);
	} else if (strcmp(reason, c->reason) != 0) {
		fail_msg("%s: \"%s\", want \"%s\"", c->name, reason,
		    c->reason);
	}
	/* Never the password in the reason. */
	if (strlen(c->newpw) >= 4 && strstr(reason, c->newpw) != NULL)
		fail_msg("%s: the reason holds the password", c->name);
}

static void
test_cases(void **state)
{
	bool have_dict = access(DICT, R_OK) == 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run(&cases[i], have_dict);
	if (!have_dict)
		skip();         /* reported: the dictionary case was not run */
}

/* A NUL byte, a reason buffer that is small, none at all, a missing
 * pwquality.conf. */
static void
test_edges(void **state)
{
	struct vs_conf conf;
	char small[8];

	(void)state;
	conf_defaults(&conf);
	assert_int_equal(pwpolicy_check(&conf, "a", "Tq7#mPz9\0K-Lw3", 14,
	    NULL, 0, small, sizeof(small)), VS_EINVAL);
	assert_string_equal(small, "The pas");
	assert_int_equal(pwpolicy_check(&conf, "a", "short", 5, NULL, 0,
	    NULL, 0), VS_EINVAL);
	/* An old password with a NUL is not compared as a string, but the
	 * new one is still checked. */
	assert_int_equal(pwpolicy_check(&conf, "a", "Tq7#mPz9vK-Lw3", 14,
	    "o\0d", 3, NULL, 0), VS_OK);
	/* A pwquality.conf that is not there: an error, not a pass. */
	{
		char reason[PWPOLICY_REASON_MAX];

		snprintf(conf.password_quality_conf,
		    sizeof(conf.password_quality_conf),
		    "/nonexistent/pwquality.conf");
		assert_int_equal(pwpolicy_check(&conf, "a", "Tq7#mPz9vK-Lw3",
		    14, NULL, 0, reason, sizeof(reason)), VS_EIO);
		assert_string_equal(reason, "password_quality_conf "
		    "/nonexistent/pwquality.conf: Opening the configuration "
		    "file failed");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
