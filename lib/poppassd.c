/*
 * poppassd.c - the poppassd line protocol's parser and state machine
 * (see poppassd.h for the protocol, the limits and the replies).
 *
 * Security: pure (no I/O, no allocation); every line is bounded by
 * POPPASSD_LINE_MAX before it is looked at, every field by its buffer;
 * NUL bytes are refused; passwords are copied only into the struct and
 * wiped by poppassd_result() and poppassd_wipe(); no reply quotes what
 * the peer sent.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "poppassd.h"

void
poppassd_init(struct poppassd *p)
{
	memset(p, 0, sizeof(*p));
	p->state = PP_USER;
}

void
poppassd_wipe(struct poppassd *p)
{
	sodium_memzero(p->old_pw, sizeof(p->old_pw));
	sodium_memzero(p->new_pw, sizeof(p->new_pw));
	sodium_memzero(p->user, sizeof(p->user));
	p->old_len = p->new_len = 0;
}

static void
set_reply(char *reply, const char *text)
{
	size_t n = strlen(text);

	if (n >= POPPASSD_REPLY_MAX)
		n = POPPASSD_REPLY_MAX - 1;
	memcpy(reply, text, n);
	reply[n] = '\0';
}

/* A protocol error: 500, and the end after too many. */
static enum pp_action
error(struct poppassd *p, char *reply, const char *text)
{
	set_reply(reply, text);
	if (++p->errors >= POPPASSD_ERRORS_MAX) {
		poppassd_wipe(p);
		p->state = PP_CLOSED;
		return PP_CLOSE;
	}
	return PP_REPLY;
}

enum cmd { CMD_USER, CMD_PASS, CMD_NEWPASS, CMD_QUIT, CMD_UNKNOWN };

static enum cmd
command(const char *w, size_t n)
{
	static const struct { const char *name; enum cmd c; } t[] = {
		{ "user", CMD_USER }, { "pass", CMD_PASS },
		{ "newpass", CMD_NEWPASS }, { "quit", CMD_QUIT },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].name) == n && strncasecmp(w, t[i].name, n) == 0)
			return t[i].c;
	return CMD_UNKNOWN;
}

/* Copy a password argument: any byte but NUL (refused earlier). */
static bool
take_pw(char *dst, size_t *len_r, const char *arg, size_t n)
{
	if (n == 0 || n > POPPASSD_PASS_MAX)
		return false;
	memcpy(dst, arg, n);
	dst[n] = '\0';
	*len_r = n;
	return true;
}

enum pp_action
poppassd_step(struct poppassd *p, const char *buf, size_t len,
    size_t *used_r, char *reply)
{
	const char *nl, *arg = NULL;
	size_t n, wlen, alen = 0;
	enum cmd c;

	*used_r = 0;
	reply[0] = '\0';
	if (p->state == PP_CLOSED) {
		set_reply(reply, "500 the session is over");
		return PP_CLOSE;
	}
	nl = memchr(buf, '\n', len < POPPASSD_LINE_MAX ? len :
	    POPPASSD_LINE_MAX);
	if (nl == NULL) {
		if (len < POPPASSD_LINE_MAX)
			return PP_MORE;
		poppassd_wipe(p);
		p->state = PP_CLOSED;
		set_reply(reply, "500 line too long");
		return PP_CLOSE;
	}
	*used_r = (size_t)(nl - buf) + 1;
	n = (size_t)(nl - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (memchr(buf, '\0', n) != NULL)
		return error(p, reply, "500 the line holds a NUL byte");
	for (wlen = 0; wlen < n && buf[wlen] != ' ' && buf[wlen] != '\t';
	    wlen++)
		;
	if (wlen < n) {
		arg = buf + wlen + 1;
		alen = n - wlen - 1;
	}
	c = command(buf, wlen);
	switch (c) {
	case CMD_QUIT:
		if (arg != NULL)
			return error(p, reply, "500 quit takes no argument");
		poppassd_wipe(p);
		p->state = PP_CLOSED;
		set_reply(reply, "200 Bye.");
		return PP_CLOSE;
	case CMD_UNKNOWN:
		return error(p, reply, "500 unknown command");
	default:
		break;
	}
	if (p->state == PP_DONE)
		return error(p, reply, "500 one change per connection: quit");
	if ((c == CMD_USER && p->state != PP_USER) ||
	    (c == CMD_PASS && p->state != PP_PASS) ||
	    (c == CMD_NEWPASS && p->state != PP_NEWPASS))
		return error(p, reply, p->state == PP_USER ?
		    "500 send user first" : p->state == PP_PASS ?
		    "500 send pass first" : "500 send newpass first");
	if (arg == NULL || alen == 0)
		return error(p, reply, "500 the command needs an argument");
	switch (c) {
	case CMD_USER: {
		size_t i;

		if (alen > POPPASSD_USER_MAX)
			return error(p, reply, "500 user name too long");
		for (i = 0; i < alen; i++)
			if ((unsigned char)arg[i] <= 0x20 ||
			    (unsigned char)arg[i] == 0x7f)
				return error(p, reply, "500 the user name "
				    "holds a space or control character");
		memcpy(p->user, arg, alen);
		p->user[alen] = '\0';
		p->state = PP_PASS;
		set_reply(reply, "200 Your password please.");
		return PP_REPLY;
	}
	case CMD_PASS:
		if (!take_pw(p->old_pw, &p->old_len, arg, alen))
			return error(p, reply, "500 password too long");
		p->state = PP_NEWPASS;
		set_reply(reply, "200 Your new password please.");
		return PP_REPLY;
	case CMD_NEWPASS:
		if (!take_pw(p->new_pw, &p->new_len, arg, alen))
			return error(p, reply, "500 new password too long");
		p->state = PP_DONE;
		return PP_CHANGE;
	default:
		break;
	}
	return error(p, reply, "500 unknown command");
}

void
poppassd_result(struct poppassd *p, bool ok, const char *msg, char *reply)
{
	size_t i, n;

	sodium_memzero(p->old_pw, sizeof(p->old_pw));
	sodium_memzero(p->new_pw, sizeof(p->new_pw));
	p->old_len = p->new_len = 0;
	if (ok) {
		set_reply(reply, "200 Password changed, thank-you.");
		return;
	}
	if (msg == NULL || msg[0] == '\0')
		msg = "password not changed";
	memcpy(reply, "500 ", 4);
	n = strlen(msg);
	if (n > POPPASSD_REPLY_MAX - 5)
		n = POPPASSD_REPLY_MAX - 5;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)msg[i];

		reply[4 + i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	reply[4 + n] = '\0';
}
