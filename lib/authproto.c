/*
 * authproto.c - the auth socket's messages (see authproto.h).
 *
 * Every item is length-checked before it is copied; text items must be
 * free of NUL and control characters; the password may hold anything but
 * NUL.  The request encoder applies the same checks (check_text,
 * check_password) before it writes an item.  Replies are refused if a
 * value could break Dovecot's environment or line protocol.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "authproto.h"
#include "netstring.h"

static bool
is_text(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

/* Would p[0..n) fit a text field of size bytes (NUL included)?  Empty
 * allowed when may_empty.  The one rule of both directions. */
static int
check_text(const uint8_t *p, size_t n, size_t size, bool may_empty,
    const char *what, struct vs_err *err)
{
	if (n >= size)
		return vs_fail(err, VS_EINVAL, "%s is too long", what);
	if (n == 0 && !may_empty)
		return vs_fail(err, VS_EINVAL, "%s is empty", what);
	if (!is_text(p, n))
		return vs_fail(err, VS_EINVAL, "%s holds a control character",
		    what);
	return VS_OK;
}

static int
check_password(const uint8_t *p, size_t n, struct vs_err *err)
{
	if (n > PW_PASSWORD_MAX)
		return vs_fail(err, VS_EINVAL, "password is too long");
	if (memchr(p, '\0', n) != NULL)
		return vs_fail(err, VS_EINVAL, "password holds a NUL");
	return VS_OK;
}

/* Copy item i into out (size bytes) as text; empty allowed when may_empty. */
static int
copy_text(const uint8_t *p, size_t n, char *out, size_t size,
    bool may_empty, const char *what, struct vs_err *err)
{
	int r;

	if ((r = check_text(p, n, size, may_empty, what, err)) != VS_OK)
		return r;
	memcpy(out, p, n);
	out[n] = '\0';
	return VS_OK;
}

static bool
item_is(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

int
auth_parse_request(const uint8_t *const *items, const size_t *lens,
    size_t n, struct auth_request *req, struct vs_err *err)
{
	int r;

	memset(req, 0, sizeof(*req));
	req->login = req->login_buf;
	req->service = req->service_buf;
	req->remote_ip = req->remote_buf;
	req->local_ip = req->local_buf;
	req->password = req->password_buf;
	if (n < 1)
		return vs_fail(err, VS_EINVAL, "empty request");
	if (item_is(items[0], lens[0], "verify")) {
		if (n != 7)
			return vs_fail(err, VS_EINVAL, "verify takes 6 items, "
			    "not %zu", n - 1);
		req->op = AUTH_VERIFY;
		if ((r = check_password(items[2], lens[2], err)) != VS_OK)
			return r;
		memcpy(req->password_buf, items[2], lens[2]);
		req->password_buf[lens[2]] = '\0';
		req->password_len = lens[2];
		if ((r = copy_text(items[1], lens[1], req->login_buf,
		    sizeof(req->login_buf), false, "login", err)) != VS_OK ||
		    (r = copy_text(items[3], lens[3], req->service_buf,
		    sizeof(req->service_buf), true, "service", err)) != VS_OK ||
		    (r = copy_text(items[4], lens[4], req->remote_buf,
		    sizeof(req->remote_buf), true, "remote IP", err)) !=
		    VS_OK ||
		    (r = copy_text(items[5], lens[5], req->local_buf,
		    sizeof(req->local_buf), true, "local IP", err)) != VS_OK)
			goto fail;
		if (item_is(items[6], lens[6], "1"))
			req->secured = true;
		else if (!item_is(items[6], lens[6], "0")) {
			r = vs_fail(err, VS_EINVAL, "secured must be 0 or 1");
			goto fail;
		}
		return VS_OK;
	}
	if (item_is(items[0], lens[0], "lookup")) {
		if (n != 3)
			return vs_fail(err, VS_EINVAL, "lookup takes 2 items, "
			    "not %zu", n - 1);
		req->op = AUTH_LOOKUP;
		if ((r = copy_text(items[1], lens[1], req->login_buf,
		    sizeof(req->login_buf), false, "name", err)) != VS_OK ||
		    (r = copy_text(items[2], lens[2], req->service_buf,
		    sizeof(req->service_buf), true, "service", err)) != VS_OK)
			return r;
		return VS_OK;
	}
	return vs_fail(err, VS_EINVAL, "unknown request");
fail:
	auth_request_wipe(req);
	return r;
}

void
auth_request_wipe(struct auth_request *req)
{
	sodium_memzero(req->password_buf, sizeof(req->password_buf));
	req->password_len = 0;
}

/* --- requests, the client's side --- */

/* The text fields of a request, as the parser sizes them. */
#define FIELD(name) sizeof(((struct auth_request *)0)->name)

static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static int
add_text(struct buf *b, const char *s, size_t size, bool may_empty,
    const char *what, struct vs_err *err)
{
	int r;

	if ((r = check_text((const uint8_t *)s, strlen(s), size, may_empty,
	    what, err)) != VS_OK)
		return r;
	if (netstring_encode_str(b, s) != VS_OK)
		return vs_fail(err, VS_ENOMEM, "out of memory");
	return VS_OK;
}

int
auth_encode_request(const struct auth_request *req, struct buf *out,
    struct vs_err *err)
{
	const char *pw = or_empty(req->password);
	struct buf inner = { 0 };
	bool verify = req->op == AUTH_VERIFY;
	int r;

	out->len = 0;
	if (req->op != AUTH_VERIFY && req->op != AUTH_LOOKUP)
		return vs_fail(err, VS_EINVAL, "unknown request");
	r = netstring_encode_str(&inner, verify ? "verify" : "lookup");
	if (r != VS_OK)
		r = vs_fail(err, VS_ENOMEM, "out of memory");
	/* In the wire's order, each checked as the parser will. */
	if (r == VS_OK)
		r = add_text(&inner, or_empty(req->login), FIELD(login_buf),
		    false, verify ? "login" : "name", err);
	if (r == VS_OK && verify &&
	    (r = check_password((const uint8_t *)pw, req->password_len,
	    err)) == VS_OK &&
	    netstring_encode(&inner, pw, req->password_len) != VS_OK)
		r = vs_fail(err, VS_ENOMEM, "out of memory");
	if (r == VS_OK)
		r = add_text(&inner, or_empty(req->service),
		    FIELD(service_buf), true, "service", err);
	if (r == VS_OK && verify)
		r = add_text(&inner, or_empty(req->remote_ip),
		    FIELD(remote_buf), true, "remote IP", err);
	if (r == VS_OK && verify)
		r = add_text(&inner, or_empty(req->local_ip),
		    FIELD(local_buf), true, "local IP", err);
	if (r == VS_OK && verify &&
	    netstring_encode_str(&inner, req->secured ? "1" : "0") != VS_OK)
		r = vs_fail(err, VS_ENOMEM, "out of memory");
	if (r == VS_OK && netstring_encode(out, inner.data, inner.len) !=
	    VS_OK)
		r = vs_fail(err, VS_ENOMEM, "out of memory");
	/* What vmsealed reads: the frame's payload at most this long. */
	if (r == VS_OK && inner.len > AUTH_REQUEST_MAX)
		r = vs_fail(err, VS_ELIMIT, "request is over %d bytes",
		    AUTH_REQUEST_MAX);
	buf_free(&inner);
	if (r != VS_OK) {
		sodium_memzero(out->data, out->cap);
		out->len = 0;
	}
	return r;
}

int
auth_send_request(int fd, const struct auth_request *req, int timeout_ms,
    struct vs_err *err)
{
	struct buf b = { 0 };
	struct pollfd pf;
	size_t off = 0;
	ssize_t w;
	int r, pr;

	if ((r = auth_encode_request(req, &b, err)) != VS_OK) {
		buf_free(&b);
		return r;
	}
	while (r == VS_OK && off < b.len) {
		pf.fd = fd;
		pf.events = POLLOUT;
		pf.revents = 0;
		do {
			pr = poll(&pf, 1, timeout_ms);
		} while (pr < 0 && errno == EINTR);
		if (pr == 0) {
			r = vs_fail(err, VS_EIO, "timed out sending the "
			    "request");
			break;
		}
		if (pr < 0) {
			r = vs_fail(err, VS_EIO, "poll: %s", strerror(errno));
			break;
		}
		w = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN ||
		    errno == EWOULDBLOCK))
			continue;
		if (w < 0)
			r = vs_fail(err, VS_EIO, "sending the request: %s",
			    strerror(errno));
		else
			off += (size_t)w;
	}
	buf_free(&b);
	return r;
}

/* --- replies --- */

static const char *const result_names[] = {
	[AUTH_OK] = "ok", [AUTH_FAIL] = "fail", [AUTH_NOUSER] = "nouser",
	[AUTH_DISABLED] = "disabled", [AUTH_TEMP] = "temp",
};

static bool
safe_value(const char *s)
{
	for (; *s; s++)
		if (*s == '\t' || *s == '\n' || *s == '\r')
			return false;
	return true;
}

int
auth_reply_field(struct auth_reply *r, const char *name, const char *value)
{
	int n;

	if (r->n_fields >= AUTH_FIELDS_MAX || !safe_value(name) ||
	    !safe_value(value) || strchr(name, '=') != NULL)
		return VS_EINVAL;
	n = snprintf(r->fields[r->n_fields], AUTH_FIELD_MAX, "%s=%s", name,
	    value);
	if (n < 0 || n >= AUTH_FIELD_MAX)
		return VS_EINVAL;
	r->n_fields++;
	return VS_OK;
}

int
auth_encode_reply(const struct auth_reply *r, struct buf *out)
{
	struct buf inner = { 0 };
	size_t i;
	int rc;

	out->len = 0;
	if ((unsigned)r->result > AUTH_TEMP)
		return VS_EINVAL;
	rc = netstring_encode_str(&inner, result_names[r->result]);
	if (rc == VS_OK && r->result == AUTH_OK) {
		if (!safe_value(r->user) || r->user[0] == '\0')
			rc = VS_EINVAL;
		else
			rc = netstring_encode_str(&inner, r->user);
		for (i = 0; rc == VS_OK && i < r->n_fields; i++)
			rc = safe_value(r->fields[i]) ?
			    netstring_encode_str(&inner, r->fields[i]) :
			    VS_EINVAL;
	} else if (rc == VS_OK && r->result == AUTH_TEMP) {
		rc = netstring_encode_str(&inner, safe_value(r->reason) ?
		    r->reason : "temporary failure");
	} else if (rc == VS_OK && r->result == AUTH_FAIL &&
	    r->reason[0] != '\0') {
		rc = safe_value(r->reason) ?
		    netstring_encode_str(&inner, r->reason) : VS_EINVAL;
	}
	if (rc == VS_OK)
		rc = netstring_encode(out, inner.data, inner.len);
	buf_free(&inner);
	return rc;
}

int
auth_parse_reply(const uint8_t *const *items, const size_t *lens, size_t n,
    struct auth_reply *r, struct vs_err *err)
{
	size_t i;
	int k;

	memset(r, 0, sizeof(*r));
	if (n < 1)
		return vs_fail(err, VS_EINVAL, "empty reply");
	for (k = 0; k <= AUTH_TEMP; k++)
		if (item_is(items[0], lens[0], result_names[k]))
			break;
	if (k > AUTH_TEMP)
		return vs_fail(err, VS_EINVAL, "unknown reply");
	r->result = (enum auth_result)k;
	if (r->result == AUTH_OK) {
		if (n < 2 || n - 2 > AUTH_FIELDS_MAX)
			return vs_fail(err, VS_EINVAL, "malformed ok reply");
		if (copy_text(items[1], lens[1], r->user, sizeof(r->user),
		    false, "user", err) != VS_OK)
			return VS_EINVAL;
		for (i = 2; i < n; i++) {
			if (copy_text(items[i], lens[i], r->fields[i - 2],
			    AUTH_FIELD_MAX, false, "field", err) != VS_OK ||
			    strchr(r->fields[i - 2], '=') == NULL)
				return vs_fail(err, VS_EINVAL,
				    "malformed field in reply");
		}
		r->n_fields = n - 2;
		return VS_OK;
	}
	if (r->result == AUTH_TEMP) {
		if (n != 2 || copy_text(items[1], lens[1], r->reason,
		    sizeof(r->reason), true, "reason", err) != VS_OK)
			return vs_fail(err, VS_EINVAL, "malformed temp reply");
		return VS_OK;
	}
	if (r->result == AUTH_FAIL && n == 2) {
		if (copy_text(items[1], lens[1], r->reason, sizeof(r->reason),
		    true, "reason", err) != VS_OK)
			return vs_fail(err, VS_EINVAL, "malformed fail reply");
		return VS_OK;
	}
	if (n != 1)
		return vs_fail(err, VS_EINVAL, "unexpected items in reply");
	return VS_OK;
}
