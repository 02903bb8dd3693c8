/*
 * policy.c - Postfix's policy delegation protocol, service side (see
 * policy.h): parse "name=value" lines up to the empty line, format the
 * "action=..." reply.
 *
 * The parser is stateless: each call reads data[0..len) from the start, so
 * a caller reading a stream calls it again with more bytes (a request is
 * at most POLICY_REQUEST_MAX bytes, so re-reading it is cheap).  Every
 * check is made at the byte or line where it applies, in order, so input
 * given in pieces yields the same result as given whole: POLICY_MORE only
 * while no error is visible yet.
 *
 * Line ends: Postfix writes "\n" only.  A "\r" right before the "\n" is
 * dropped too (people test with telnet); it counts towards the line's
 * length.  A "\r" elsewhere is kept as data.
 *
 * Security: lines, attribute count and request size are capped; NUL
 * anywhere, a line without '=' or with an empty name, a used attribute
 * given twice or too long for its field are errors (the service closes
 * the connection), never silently truncated or overwritten.  Values are
 * copied as sent: the service checks names with names.c.  Error messages
 * hold line numbers and our own attribute names, never peer data.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "policy.h"

/* The attributes we copy, and where. */
struct attr {
	const char *name;
	size_t off;
	size_t size;
};

#define ATTR(f) { #f, offsetof(struct policy_request, f), \
	sizeof(((struct policy_request *)0)->f) }

static const struct attr attrs[] = {
	ATTR(request),
	ATTR(protocol_state),
	ATTR(sasl_username),
	ATTR(sender),
	ATTR(recipient),
	ATTR(client_address),
	ATTR(recipient_count),
	ATTR(instance),
};
#define N_ATTRS (sizeof(attrs) / sizeof(attrs[0]))

static int
is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* One complete line p[0..n) (without its line end), line number lineno. */
static int
parse_line(const uint8_t *p, size_t n, unsigned lineno,
    struct policy_request *req, unsigned *seen, struct vs_err *err)
{
	const uint8_t *eq, *val;
	size_t nlen, vlen, i;
	char *dst;

	if ((eq = memchr(p, '=', n)) == NULL)
		return vs_fail(err, VS_EINVAL, "policy request line %u lacks"
		    " '='", lineno);
	nlen = (size_t)(eq - p);
	if (nlen == 0)
		return vs_fail(err, VS_EINVAL, "policy request line %u has an"
		    " empty attribute name", lineno);
	if (req->n_attrs >= POLICY_ATTRS_MAX)
		return vs_fail(err, VS_ELIMIT, "policy request has more than"
		    " %d attributes", POLICY_ATTRS_MAX);
	req->n_attrs++;
	val = eq + 1;
	vlen = n - nlen - 1;
	for (i = 0; i < N_ATTRS; i++)
		if (strlen(attrs[i].name) == nlen &&
		    memcmp(attrs[i].name, p, nlen) == 0)
			break;
	if (i == N_ATTRS)
		return VS_OK;           /* unknown: ignored, only counted */
	if (*seen & (1u << i))
		return vs_fail(err, VS_EINVAL, "policy request attribute %s"
		    " is repeated (line %u)", attrs[i].name, lineno);
	*seen |= 1u << i;
	if (vlen >= attrs[i].size)
		return vs_fail(err, VS_ELIMIT, "policy request attribute %s"
		    " is longer than %zu bytes (line %u)", attrs[i].name,
		    attrs[i].size - 1, lineno);
	dst = (char *)req + attrs[i].off;
	memcpy(dst, val, vlen);
	dst[vlen] = '\0';
	return VS_OK;
}

static int
parse(const uint8_t *data, size_t len, struct policy_request *req,
    size_t *used_r, struct vs_err *err)
{
	size_t i, start = 0, end;
	unsigned lineno = 1, seen = 0;
	int r;

	for (i = 0; i < len; i++) {
		if (i >= POLICY_REQUEST_MAX)
			return vs_fail(err, VS_ELIMIT, "policy request is"
			    " longer than %d bytes", POLICY_REQUEST_MAX);
		if (data[i] == '\n') {
			end = i;
			if (end > start && data[end - 1] == '\r')
				end--;
			if (end == start) {
				if (req->n_attrs == 0)
					return vs_fail(err, VS_EINVAL,
					    "empty policy request");
				*used_r = i + 1;
				return POLICY_OK;
			}
			if ((r = parse_line(data + start, end - start, lineno,
			    req, &seen, err)) != VS_OK)
				return r;
			start = i + 1;
			lineno++;
			continue;
		}
		if (data[i] == '\0')
			return vs_fail(err, VS_EINVAL, "policy request line %u"
			    " holds a NUL byte", lineno);
		if (i - start >= POLICY_LINE_MAX)
			return vs_fail(err, VS_ELIMIT, "policy request line %u"
			    " is longer than %d bytes", lineno,
			    POLICY_LINE_MAX);
	}
	return POLICY_MORE;
}

int
policy_parse(const uint8_t *data, size_t len, struct policy_request *req,
    size_t *used_r, struct vs_err *err)
{
	int r;

	memset(req, 0, sizeof(*req));
	r = parse(data, len, req, used_r, err);
	if (r != POLICY_OK)
		memset(req, 0, sizeof(*req));   /* nothing half-filled */
	return r;
}

int
policy_reply(struct buf *out, const char *action, const char *text)
{
	size_t alen, tlen, start, i;
	uint8_t *p;
	int r;

	if (action == NULL || action[0] == '\0')
		return VS_EINVAL;
	if (text == NULL)
		text = "";
	alen = strlen(action);
	tlen = strlen(text);
	/* "action=" ACTION [" " TEXT] must fit a line: cut the text (it is
	 * prose for a human), refuse an oversized action (a caller bug). */
	if (7 + alen > POLICY_LINE_MAX)
		return VS_ELIMIT;
	if (tlen > 0 && 7 + alen + 1 + tlen > POLICY_LINE_MAX)
		tlen = POLICY_LINE_MAX - 7 - alen - 1;
	if ((r = buf_reserve(out, 7 + alen + 1 + tlen + 2)) != 0)
		return r;
	start = out->len;
	if ((r = buf_append(out, "action=", 7)) != 0 ||
	    (r = buf_append(out, action, alen)) != 0 ||
	    (tlen > 0 && (r = buf_append_u8(out, ' ')) != 0) ||
	    (r = buf_append(out, text, tlen)) != 0) {
		out->len = start;
		return r;
	}
	p = out->data + start;
	for (i = 7; i < out->len - start; i++)
		if (is_ctl(p[i]))
			p[i] = ' ';
	if ((r = buf_append(out, "\n\n", 2)) != 0) {
		out->len = start;
		return r;
	}
	return 0;
}
