/*
 * test_poppassd.c - the poppassd state machine (lib/poppassd.c): whole
 * conversations as Roundcube's and Horde's drivers hold them, commands in
 * any letter case, the argument taken verbatim (spaces kept), every
 * out-of-order or malformed line with its exact reply, the caps, the
 * error count that ends a session, and the replies after a change.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "poppassd.h"

/* One conversation: lines fed in order; for each, the action and reply
 * wanted ("" for PP_CHANGE, which has none).  A PP_CHANGE is answered
 * with change_ok/change_msg, and its reply checked against the next
 * expectation's "result" text. */
struct step {
	const char *in;
	enum pp_action act;
	const char *reply;
};

struct script {
	const char *name;
	struct step steps[12];
	const char *user, *old_pw, *new_pw;     /* at PP_CHANGE */
	bool change_ok;
	const char *change_msg;
	const char *result;                     /* poppassd_result's reply */
};

static const struct script scripts[] = {
	{ "roundcube", {
		{ "user alice@example.org\n", PP_REPLY,
		    "200 Your password please." },
		{ "pass old secret\n", PP_REPLY,
		    "200 Your new password please." },
		{ "newpass new secret  \n", PP_CHANGE, "" },
		{ "quit\n", PP_CLOSE, "200 Bye." },
	  }, "alice@example.org", "old secret", "new secret  ", true, NULL,
	  "200 Password changed, thank-you." },
	{ "crlf and letter case", {
		{ "USER bob\r\n", PP_REPLY, "200 Your password please." },
		{ "Pass x\r\n", PP_REPLY, "200 Your new password please." },
		{ "NewPass y z\r\n", PP_CHANGE, "" },
		{ "user bob\n", PP_REPLY,
		    "500 one change per connection: quit" },
		{ "QUIT\r\n", PP_CLOSE, "200 Bye." },
	  }, "bob", "x", "y z", false, "wrong\r\ncurrent\tpassword",
	  "500 wrong??current?password" },
	{ "tab separates, one only", {
		{ "user\tcarol\n", PP_REPLY, "200 Your password please." },
		{ "pass \tleading\n", PP_REPLY,
		    "200 Your new password please." },
		{ "newpass  two\n", PP_CHANGE, "" },
	  }, "carol", "\tleading", " two", false, "",
	  "500 password not changed" },
	{ "out of order", {
		{ "pass x\n", PP_REPLY, "500 send user first" },
		{ "newpass x\n", PP_REPLY, "500 send user first" },
		{ "user a\n", PP_REPLY, "200 Your password please." },
		{ "user a\n", PP_REPLY, "500 send pass first" },
		{ "newpass x\n", PP_REPLY, "500 send pass first" },
		{ "quit\n", PP_CLOSE, "200 Bye." },
		{ "user a\n", PP_CLOSE, "500 the session is over" },
	  }, NULL, NULL, NULL, false, NULL, NULL },
	{ "malformed lines", {
		{ "\n", PP_REPLY, "500 unknown command" },
		{ "user\n", PP_REPLY, "500 the command needs an argument" },
		{ "user \n", PP_REPLY, "500 the command needs an argument" },
		{ "user a b\n", PP_REPLY, "500 the user name holds a space or "
		    "control character" },
		{ "users a\n", PP_CLOSE, "500 unknown command" },
	  }, NULL, NULL, NULL, false, NULL, NULL },
	{ "quit with an argument, then errors end it", {
		{ "quit now\n", PP_REPLY, "500 quit takes no argument" },
		{ "helo\n", PP_REPLY, "500 unknown command" },
		{ "user a\x01\n", PP_REPLY, "500 the user name holds a space "
		    "or control character" },
		{ "user a\x7f\n", PP_REPLY, "500 the user name holds a space "
		    "or control character" },
		{ "x\n", PP_CLOSE, "500 unknown command" },
		{ "quit\n", PP_CLOSE, "500 the session is over" },
	  }, NULL, NULL, NULL, false, NULL, NULL },
};

static void
run_script(const struct script *sc)
{
	struct poppassd p;
	char reply[POPPASSD_REPLY_MAX];
	enum pp_action a;
	size_t i, used;

	poppassd_init(&p);
	for (i = 0; i < 12 && sc->steps[i].in != NULL; i++) {
		const struct step *st = &sc->steps[i];

		a = poppassd_step(&p, st->in, strlen(st->in), &used, reply);
		if (a != st->act)
			fail_msg("%s, step %zu: action %d, want %d (reply "
			    "\"%s\")", sc->name, i, (int)a, (int)st->act,
			    reply);
		/* A closed session consumes nothing. */
		assert_int_equal(used, strcmp(reply, "500 the session is "
		    "over") == 0 ? 0 : strlen(st->in));
		if (a == PP_CHANGE) {
			assert_string_equal(p.user, sc->user);
			assert_int_equal(p.old_len, strlen(sc->old_pw));
			assert_memory_equal(p.old_pw, sc->old_pw, p.old_len);
			assert_int_equal(p.new_len, strlen(sc->new_pw));
			assert_memory_equal(p.new_pw, sc->new_pw, p.new_len);
			poppassd_result(&p, sc->change_ok, sc->change_msg,
			    reply);
			assert_string_equal(reply, sc->result);
			/* The passwords are gone once answered. */
			assert_int_equal(p.old_len, 0);
			assert_int_equal(p.new_pw[0], '\0');
			assert_int_equal(p.old_pw[0], '\0');
			continue;
		}
		if (strcmp(reply, st->reply) != 0)
			fail_msg("%s, step %zu: reply \"%s\", want \"%s\"",
			    sc->name, i, reply, st->reply);
	}
	poppassd_wipe(&p);
}

static void
test_scripts(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		run_script(&scripts[i]);
}

/* Lines that arrive in pieces, several lines in one read, and the caps. */
static void
test_framing_and_caps(void **state)
{
	struct poppassd p;
	char reply[POPPASSD_REPLY_MAX], line[POPPASSD_LINE_MAX + 8];
	const char two[] = "user dave\npass pw\n";
	size_t used, n;

	(void)state;
	poppassd_init(&p);
	assert_int_equal(poppassd_step(&p, "user da", 7, &used, reply),
	    PP_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(poppassd_step(&p, "", 0, &used, reply), PP_MORE);
	assert_int_equal(poppassd_step(&p, two, strlen(two), &used, reply),
	    PP_REPLY);
	assert_int_equal(used, 10);
	assert_int_equal(poppassd_step(&p, two + used, strlen(two) - used,
	    &used, reply), PP_REPLY);
	assert_string_equal(reply, "200 Your new password please.");
	assert_int_equal(used, 8);
	poppassd_wipe(&p);

	/* A NUL byte in a line. */
	poppassd_init(&p);
	assert_int_equal(poppassd_step(&p, "user a\0b\n", 9, &used, reply),
	    PP_REPLY);
	assert_string_equal(reply, "500 the line holds a NUL byte");
	assert_int_equal(used, 9);

	/* A line of exactly POPPASSD_LINE_MAX bytes with its newline is
	 * read (and its over-long name refused); one byte more, without a
	 * newline in the first POPPASSD_LINE_MAX, ends the session. */
	poppassd_init(&p);
	memcpy(line, "user ", 5);
	memset(line + 5, 'a', POPPASSD_LINE_MAX - 6);
	line[POPPASSD_LINE_MAX - 1] = '\n';
	assert_int_equal(poppassd_step(&p, line, POPPASSD_LINE_MAX, &used,
	    reply), PP_REPLY);
	assert_string_equal(reply, "500 user name too long");
	memset(line, 'a', sizeof(line));
	assert_int_equal(poppassd_step(&p, line, POPPASSD_LINE_MAX - 1,
	    &used, reply), PP_MORE);
	assert_int_equal(poppassd_step(&p, line, POPPASSD_LINE_MAX, &used,
	    reply), PP_CLOSE);
	assert_string_equal(reply, "500 line too long");
	assert_int_equal(p.state, PP_CLOSED);

	/* A name of POPPASSD_USER_MAX bytes is taken, one more is not. */
	poppassd_init(&p);
	memcpy(line, "user ", 5);
	memset(line + 5, 'u', POPPASSD_USER_MAX + 1);
	line[5 + POPPASSD_USER_MAX] = '\n';
	assert_int_equal(poppassd_step(&p, line, 6 + POPPASSD_USER_MAX, &used,
	    reply), PP_REPLY);
	assert_string_equal(reply, "200 Your password please.");
	assert_int_equal(strlen(p.user), POPPASSD_USER_MAX);
	/* A password of POPPASSD_PASS_MAX bytes is taken, one more not. */
	memcpy(line, "pass ", 5);
	memset(line + 5, 'p', POPPASSD_PASS_MAX + 1);
	line[6 + POPPASSD_PASS_MAX] = '\n';
	assert_int_equal(poppassd_step(&p, line, 7 + POPPASSD_PASS_MAX, &used,
	    reply), PP_REPLY);
	assert_string_equal(reply, "500 password too long");
	line[5 + POPPASSD_PASS_MAX] = '\n';
	assert_int_equal(poppassd_step(&p, line, 6 + POPPASSD_PASS_MAX, &used,
	    reply), PP_REPLY);
	assert_string_equal(reply, "200 Your new password please.");
	assert_int_equal(p.old_len, POPPASSD_PASS_MAX);
	poppassd_wipe(&p);
	assert_int_equal(p.old_len, 0);
	assert_int_equal(p.old_pw[0], '\0');
	assert_int_equal(p.user[0], '\0');

	/* A long change message is cut to one reply line. */
	poppassd_init(&p);
	memset(line, 'm', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	poppassd_result(&p, false, line, reply);
	n = strlen(reply);
	assert_int_equal(n, POPPASSD_REPLY_MAX - 1);
	assert_memory_equal(reply, "500 mmm", 7);
	assert_memory_equal(POPPASSD_GREETING, "200 ", 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_framing_and_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
