/*
 * names.c - check and normalize domains, addresses and login names
 * (see names.h for the rules).
 *
 * Each public function validates the whole input before it reports success;
 * the output is written only into the caller's buffer and is set to the
 * empty string on failure.  Error messages quote the input through
 * name_quote() so that no control character or overlong text from a peer
 * reaches a log line.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "names.h"

/* Characters a local part or login may not hold, besides controls, space
 * and non-ASCII: @ : " \ < > , ; ( ) [ ] */
static bool
local_forbidden(int c)
{
	switch (c) {
	case '@': case ':': case '"': case '\\': case '<': case '>':
	case ',': case ';': case '(': case ')': case '[': case ']':
		return true;
	default:
		return false;
	}
}

/* Room for the reason part of an error message. */
#define WHY_MAX 160

static int
lower_ascii(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	return c;
}

/* Describe a refused byte c found at position pos (counted from 1). */
static void
why_char(char *why, int c, size_t pos, const char *what)
{
	unsigned char u = (unsigned char)c;

	if (u >= 0x80)
		snprintf(why, WHY_MAX, "non-ASCII character at position %zu"
		    " in the %s (internationalized names are not supported"
		    " yet)", pos, what);
	else if (u == ' ')
		snprintf(why, WHY_MAX, "space at position %zu in the %s", pos,
		    what);
	else if (u < 0x20 || u == 0x7f)
		snprintf(why, WHY_MAX, "control character \\x%02x at position"
		    " %zu in the %s", u, pos, what);
	else
		snprintf(why, WHY_MAX, "character '%c' at position %zu is not"
		    " allowed in the %s", u, pos, what);
}

/*
 * Check the domain in[0..len) and write it lower-cased, without its
 * trailing dot and NUL-terminated to out (which holds NAME_BUF bytes).
 * On error, write the reason to why and return -1; positions in it are
 * counted from 1 + off (off: where the domain starts in the quoted input).
 */
static int
check_domain(const char *in, size_t len, size_t off, char *out, char *why)
{
	size_t i, label;
	int c;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0) {
		snprintf(why, WHY_MAX, "empty domain");
		return -1;
	}
	/* Characters first: a non-ASCII name gets the IDNA message even
	 * when it is also too long. */
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c >= 0x80) {
			snprintf(why, WHY_MAX, "non-ASCII character at position"
			    " %zu: internationalized domain names (IDNA) are"
			    " not supported yet", off + i + 1);
			return -1;
		}
		c = lower_ascii(c);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.')) {
			why_char(why, c, off + i + 1, "domain");
			return -1;
		}
	}
	if (len > NAME_DOMAIN_MAX) {
		snprintf(why, WHY_MAX, "domain longer than %d characters",
		    NAME_DOMAIN_MAX);
		return -1;
	}
	label = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && in[i] != '.') {
			label++;
			if (label > 63) {
				snprintf(why, WHY_MAX, "label longer than 63"
				    " characters");
				return -1;
			}
			continue;
		}
		/* End of a label: in[i - label .. i). */
		if (label == 0) {
			snprintf(why, WHY_MAX, "empty label");
			return -1;
		}
		if (in[i - label] == '-') {
			snprintf(why, WHY_MAX, "label starts with '-'");
			return -1;
		}
		if (in[i - 1] == '-') {
			snprintf(why, WHY_MAX, "label ends with '-'");
			return -1;
		}
		label = 0;
	}
	for (i = 0; i < len; i++)
		out[i] = (char)lower_ascii((unsigned char)in[i]);
	out[len] = '\0';
	return 0;
}

/*
 * Check a local part or the user part of a login: in[0..len), 1..max
 * characters.  Copy it to out, lower-cased if fold.
 */
static int
check_local(const char *in, size_t len, size_t max, bool fold, char *out,
    char *why, const char *what)
{
	size_t i;
	int c;

	if (len == 0) {
		snprintf(why, WHY_MAX, "empty %s", what);
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c <= 0x20 || c >= 0x7f || local_forbidden(c)) {
			why_char(why, c, i + 1, what);
			return -1;
		}
	}
	if (len > max) {
		snprintf(why, WHY_MAX, "%s longer than %zu characters", what,
		    max);
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		out[i] = (char)(fold ? lower_ascii(c) : c);
	}
	out[len] = '\0';
	return 0;
}

static int
refuse(struct vs_err *err, const char *kind, const char *in, char *out,
    const char *why)
{
	char q[NAME_QUOTE_BUF];

	name_quote(in, strlen(in), q);
	out[0] = '\0';
	return vs_fail(err, VS_EINVAL, "invalid %s \"%s\": %s", kind, q, why);
}

int
name_domain(const char *in, char *out, struct vs_err *err)
{
	char why[WHY_MAX];

	if (check_domain(in, strlen(in), 0, out, why) != 0)
		return refuse(err, "domain", in, out, why);
	return VS_OK;
}

int
name_address(const char *in, bool fold_local, bool allow_catchall,
    char *out, struct vs_err *err)
{
	char why[WHY_MAX];
	const char *at;
	size_t llen, len;

	len = strlen(in);
	if ((at = strchr(in, '@')) == NULL)
		return refuse(err, "address", in, out, "missing '@'");
	if (strchr(at + 1, '@') != NULL)
		return refuse(err, "address", in, out, "more than one '@'");
	llen = (size_t)(at - in);
	if (llen == 0) {
		if (!allow_catchall)
			return refuse(err, "address", in, out,
			    "empty local part (a catch-all \"@domain\" is not"
			    " allowed here)");
	} else if (check_local(in, llen, NAME_LOCAL_MAX, fold_local, out, why,
	    "local part") != 0)
		return refuse(err, "address", in, out, why);
	out[llen] = '@';
	if (check_domain(at + 1, len - llen - 1, llen + 1, out + llen + 1,
	    why) != 0)
		return refuse(err, "address", in, out, why);
	return VS_OK;
}

int
name_login(const char *in, bool fold_local, char *out, struct vs_err *err)
{
	char why[WHY_MAX];
	const char *at;
	size_t ulen, len;

	len = strlen(in);
	if ((at = strchr(in, '@')) != NULL && strchr(at + 1, '@') != NULL)
		return refuse(err, "login", in, out, "more than one '@'");
	ulen = at != NULL ? (size_t)(at - in) : len;
	if (check_local(in, ulen, NAME_LOGIN_MAX, fold_local, out, why,
	    "login name") != 0)
		return refuse(err, "login", in, out, why);
	/* Dovecot expands %n/%u into home and mail paths: a login must not
	 * be able to climb out of them. */
	if (memchr(in, '/', ulen) != NULL)
		return refuse(err, "login", in, out, "'/' is not allowed in a "
		    "login name (it ends up in file paths)");
	if (in[0] == '.')
		return refuse(err, "login", in, out, "a login name cannot "
		    "start with '.'");
	if (at != NULL) {
		if (len > NAME_LOGIN_MAX + 1)
			/* Too long even without a trailing dot; this also
			 * keeps the domain check within NAME_BUF. */
			return refuse(err, "login", in, out, "login name longer"
			    " than 255 characters");
		out[ulen] = '@';
		if (check_domain(at + 1, len - ulen - 1, ulen + 1,
		    out + ulen + 1, why) != 0)
			return refuse(err, "login", in, out, why);
		if (strlen(out) > NAME_LOGIN_MAX)
			return refuse(err, "login", in, out, "login name longer"
			    " than 255 characters");
	}
	return VS_OK;
}

const char *
name_domain_of(const char *address)
{
	const char *at;

	if (address == NULL || (at = strrchr(address, '@')) == NULL)
		return NULL;
	return at + 1;
}

void
name_quote(const char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n, o;
	unsigned char c;

	n = len > 64 ? 64 : len;
	o = 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0x0f];
		} else
			out[o++] = (char)c;
	}
	if (len > n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
