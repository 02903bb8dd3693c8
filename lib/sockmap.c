/*
 * sockmap.c - Postfix's socketmap protocol, service side (see sockmap.h):
 * check a request payload "NAME KEY" and format the reply netstring.
 *
 * Postfix writes the map name, exactly one space and the key; anything
 * else is refused rather than guessed at.  The key is not normalized here
 * (the lookup lower-cases and checks it with names.c); this module only
 * makes sure it is one printable token that fits the request buffer.
 *
 * Security: error reasons are fixed strings, suitable for a "PERM reason"
 * reply and a log line; the only peer data they hold is the map name,
 * through name_quote().  The key is never quoted (it may be anything).
 * Replies are written whole or not at all, never carry a control
 * character, an empty OK value or more than SOCKMAP_REPLY_MAX bytes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "names.h"
#include "netstring.h"
#include "sockmap.h"

static const char *const map_names[] = {
	[SOCKMAP_DOMAINS] = "domains",
	[SOCKMAP_MAILBOXES] = "mailboxes",
	[SOCKMAP_ALIASES] = "aliases",
	[SOCKMAP_SENDERS] = "senders",
};
#define N_MAPS (sizeof(map_names) / sizeof(map_names[0]))

/* Bytes of an unknown map name shown in the reason (at most 4 characters
 * each once quoted, so a reason stays under 100 characters). */
#define NAME_SHOW 16

const char *
sockmap_map_name(enum sockmap_map m)
{
	if ((size_t)m >= N_MAPS)
		return "unknown";
	return map_names[m];
}

static int
is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

int
sockmap_parse(const uint8_t *p, size_t n, struct sockmap_request *req,
    struct vs_err *err)
{
	char q[NAME_QUOTE_BUF];
	const uint8_t *sp, *key;
	size_t i, m, nlen, klen;

	req->map = SOCKMAP_DOMAINS;
	req->key[0] = '\0';
	if (n > SOCKMAP_REQUEST_MAX)
		return vs_fail(err, VS_ELIMIT, "request too long");
	if ((sp = memchr(p, ' ', n)) == NULL)
		return vs_fail(err, VS_EINVAL, "request lacks a space between"
		    " map name and key");
	nlen = (size_t)(sp - p);
	if (nlen == 0)
		return vs_fail(err, VS_EINVAL, "empty map name");
	for (m = 0; m < N_MAPS; m++)
		if (strlen(map_names[m]) == nlen &&
		    memcmp(map_names[m], p, nlen) == 0)
			break;
	if (m == N_MAPS) {
		/* Known names are short: quote little of an unknown one. */
		name_quote((const char *)p, nlen < NAME_SHOW ? nlen : NAME_SHOW,
		    q);
		return vs_fail(err, VS_EINVAL, "unknown map name \"%s%s\"", q,
		    nlen > NAME_SHOW ? "..." : "");
	}
	key = sp + 1;
	klen = n - nlen - 1;
	if (klen == 0)
		return vs_fail(err, VS_EINVAL, "empty key");
	if (key[0] == ' ')
		return vs_fail(err, VS_EINVAL, "more than one space after the"
		    " map name");
	for (i = 0; i < klen; i++) {
		if (key[i] == '\0')
			return vs_fail(err, VS_EINVAL, "key holds a NUL byte");
		if (is_ctl(key[i]))
			return vs_fail(err, VS_EINVAL, "key holds a control"
			    " character");
		if (key[i] == ' ')
			return vs_fail(err, VS_EINVAL, "key holds a space");
	}
	/* Bytes >= 0x80 pass: an SMTPUTF8 address is the lookup's to
	 * refuse (names.c), which answers NOTFOUND rather than PERM. */
	req->map = (enum sockmap_map)m;
	memcpy(req->key, key, klen);
	req->key[klen] = '\0';
	return VS_OK;
}

/* Append the payload "STATUS TEXT" as one netstring, with control
 * characters in text replaced by spaces when sanitize is set. */
static int
put_reply(struct buf *out, const char *status, const char *text,
    int sanitize)
{
	size_t slen = strlen(status), tlen = strlen(text), plen, i, start;
	char pre[32];
	int r, n;

	plen = slen + 1 + tlen;
	n = snprintf(pre, sizeof(pre), "%zu:", plen);
	if (n < 0 || (size_t)n >= sizeof(pre))
		return VS_ELIMIT;
	if ((r = buf_reserve(out, (size_t)n + plen + 1)) != 0)
		return r;
	start = out->len;
	if ((r = buf_append(out, pre, (size_t)n)) != 0 ||
	    (r = buf_append(out, status, slen)) != 0 ||
	    (r = buf_append_u8(out, ' ')) != 0 ||
	    (r = buf_append(out, text, tlen)) != 0 ||
	    (r = buf_append_u8(out, ',')) != 0) {
		out->len = start;
		return r;
	}
	if (sanitize) {
		uint8_t *t = out->data + start + (size_t)n + slen + 1;

		for (i = 0; i < tlen; i++)
			if (is_ctl(t[i]))
				t[i] = ' ';
	}
	return 0;
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if (is_ctl((uint8_t)*s))
			return 1;
	return 0;
}

int
sockmap_reply(struct buf *out, const char *status, const char *text)
{
	size_t tlen;

	if (status == NULL)
		return VS_EINVAL;
	if (text == NULL)
		text = "";
	tlen = strlen(text);
	if (strcmp(status, "NOTFOUND") == 0)
		return put_reply(out, "NOTFOUND", "", 0);
	if (strcmp(status, "OK") == 0) {
		if (tlen == 0)
			return put_reply(out, "TEMP", "empty value", 0);
		/* A value is data, not prose: never alter it silently. */
		if (has_ctl(text))
			return put_reply(out, "TEMP", "value holds a control"
			    " character", 0);
	} else if (strcmp(status, "TEMP") == 0 ||
	    strcmp(status, "PERM") == 0) {
		if (tlen == 0)
			text = "unspecified error";
	} else
		return VS_EINVAL;
	if (tlen > SOCKMAP_REPLY_MAX - strlen(status) - 1)
		return put_reply(out, "TEMP", "reply too long", 0);
	return put_reply(out, status, text, 1);
}
