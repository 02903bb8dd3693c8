/*
 * authproto.c - the auth socket's messages (see authproto.h).
 *
 * Every item is length-checked before it is copied; text items must be
 * free of NUL and control characters; the password may hold anything but
 * NUL.  Replies are refused if a value could break Dovecot's environment
 * or line protocol.
 */
#include "config.h"

#include <string.h>

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

/* Copy item i into out (size bytes) as text; empty allowed when may_empty. */
static int
copy_text(const uint8_t *p, size_t n, char *out, size_t size,
    bool may_empty, const char *what, struct vs_err *err)
{
	if (n >= size)
		return vs_fail(err, VS_EINVAL, "%s is too long", what);
	if (n == 0 && !may_empty)
		return vs_fail(err, VS_EINVAL, "%s is empty", what);
	if (!is_text(p, n))
		return vs_fail(err, VS_EINVAL, "%s holds a control character",
		    what);
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
		if (lens[2] > PW_PASSWORD_MAX)
			return vs_fail(err, VS_EINVAL, "password is too long");
		if (memchr(items[2], '\0', lens[2]) != NULL)
			return vs_fail(err, VS_EINVAL, "password holds a NUL");
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
