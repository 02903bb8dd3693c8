/*
 * poppassd.h - the poppassd line protocol, server side: a pure parser and
 * state machine (no I/O, no store), driven by service/selfservice.c and
 * fuzzed by tests/fuzz/fuzz_poppassd.c.
 *
 * Protocol (as Roundcube's password plugin driver "poppassd" and Horde's
 * passwd module speak it): the server greets with "200 ...", then
 *   user NAME       -> 200 (any name: nothing is checked yet)
 *   pass OLD        -> 200 (not checked yet: checked with the change)
 *   newpass NEW     -> 200 changed, or 500 MESSAGE
 *   quit            -> 200, and the connection ends
 * Commands are case-insensitive; the argument is everything after the one
 * space (or tab) that follows the command word, to the end of the line
 * ("\n", or "\r\n"), so a password may hold and end with spaces.  A
 * command out of order, an unknown one or a malformed line gets "500 ..."
 * and the session goes on; POPPASSD_ERRORS_MAX such errors end it.  After
 * newpass (changed or not) only quit is accepted: one change per
 * connection, so a guesser pays a connection per guess.
 *
 * Limits: a line is at most POPPASSD_LINE_MAX bytes with its newline
 * (longer: "500 line too long" and the session ends), a name at most
 * POPPASSD_USER_MAX bytes, a password at most POPPASSD_PASS_MAX.  A NUL
 * byte anywhere, or a control character in a name, is refused.
 *
 * Security: the passwords live in the struct until the change is made;
 * the caller wipes the struct (poppassd_wipe) and its own input buffer.
 * Replies never hold a password; the change's message is made printable
 * (control characters become '?') and cut to fit one line.
 */
#ifndef VS_POPPASSD_H
#define VS_POPPASSD_H

#include <stdbool.h>
#include <stddef.h>

#define POPPASSD_LINE_MAX 512           /* with the newline */
#define POPPASSD_USER_MAX 255
#define POPPASSD_PASS_MAX 500
#define POPPASSD_REPLY_MAX 256          /* with the NUL, without CRLF */
#define POPPASSD_ERRORS_MAX 5

#define POPPASSD_GREETING "200 vmseal poppassd, hello, who are you?"

enum pp_state {
	PP_USER,        /* waiting for "user" */
	PP_PASS,        /* waiting for "pass" */
	PP_NEWPASS,     /* waiting for "newpass" */
	PP_DONE,        /* change tried: only "quit" */
	PP_CLOSED,      /* the session is over */
};

enum pp_action {
	PP_MORE,        /* no complete line yet: read more */
	PP_REPLY,       /* send reply, go on */
	PP_CLOSE,       /* send reply, then close */
	PP_CHANGE,      /* make the change (user, old, new), then
	                 * poppassd_result() */
};

struct poppassd {
	enum pp_state state;
	unsigned errors;
	char user[POPPASSD_USER_MAX + 1];
	char old_pw[POPPASSD_PASS_MAX + 1];
	size_t old_len;
	char new_pw[POPPASSD_PASS_MAX + 1];
	size_t new_len;
};

void poppassd_init(struct poppassd *p);
/*
 * Look at the start of buf[0..len): at most one line.  *used_r is the
 * bytes consumed (0 with PP_MORE); reply (POPPASSD_REPLY_MAX bytes) gets
 * the answer line without its CRLF for PP_REPLY and PP_CLOSE.  PP_CHANGE
 * leaves the user and both passwords in p.  In state PP_CLOSED every call
 * is PP_CLOSE.
 */
enum pp_action poppassd_step(struct poppassd *p, const char *buf, size_t len,
    size_t *used_r, char *reply);
/* After PP_CHANGE: wipes the passwords, and writes the answer: "200 ..."
 * when ok, else "500 " and msg (made printable, cut to fit). */
void poppassd_result(struct poppassd *p, bool ok, const char *msg,
    char *reply);
/* Wipe the passwords and the name. */
void poppassd_wipe(struct poppassd *p);

#endif
