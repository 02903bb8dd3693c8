/*
 * fuzz_policy.c - libFuzzer target for lib/policy.c.
 *
 * Input: byte 0 seeds the piece sizes, the rest is what a client sends on
 * one connection.  Requests are parsed one after the other as the service
 * does; for each one, parsing the stream whole and parsing it as it
 * arrives in random pieces must give the same answer (result, bytes used,
 * fields, message) at the first prefix that is not POLICY_MORE.  Accepted
 * requests keep to the limits; errors have a printable message.  The input
 * is also used as reply text: the reply is one clean "action=" line and an
 * empty line, which parses back as a request.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

struct res {
	int rc;
	size_t used;
	struct policy_request req;
	struct vs_err err;
};

static void
parse(const uint8_t *d, size_t len, struct res *r)
{
	r->used = 0;
	vs_err_clear(&r->err);
	r->rc = policy_parse(d, len, &r->req, &r->used, &r->err);
}

static int
same(const struct res *a, const struct res *b)
{
	return a->rc == b->rc && a->used == b->used &&
	    memcmp(&a->req, &b->req, sizeof(a->req)) == 0 &&
	    a->err.code == b->err.code &&
	    strcmp(a->err.msg, b->err.msg) == 0;
}

static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
check_field(const char *f, size_t size)
{
	CHECK(memchr(f, '\0', size) != NULL);
}

static void
check_result(const uint8_t *d, const struct res *r)
{
	const char *m;

	if (r->rc == POLICY_MORE) {
		CHECK(r->err.code == VS_OK);
		return;
	}
	if (r->rc == POLICY_OK) {
		CHECK(r->used >= 2 && r->used <= POLICY_REQUEST_MAX);
		CHECK(d[r->used - 1] == '\n');
		CHECK(memchr(d, '\0', r->used) == NULL);
		CHECK(r->req.n_attrs >= 1 &&
		    r->req.n_attrs <= POLICY_ATTRS_MAX);
		check_field(r->req.request, sizeof(r->req.request));
		check_field(r->req.protocol_state,
		    sizeof(r->req.protocol_state));
		check_field(r->req.sasl_username, sizeof(r->req.sasl_username));
		check_field(r->req.sender, sizeof(r->req.sender));
		check_field(r->req.recipient, sizeof(r->req.recipient));
		check_field(r->req.client_address,
		    sizeof(r->req.client_address));
		check_field(r->req.recipient_count,
		    sizeof(r->req.recipient_count));
		check_field(r->req.instance, sizeof(r->req.instance));
		return;
	}
	CHECK(r->rc == VS_EINVAL || r->rc == VS_ELIMIT);
	CHECK(r->err.code == r->rc && r->err.msg[0] != '\0');
	for (m = r->err.msg; *m != '\0'; m++)
		CHECK((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f);
}

static void
check_reply(const char *action, const char *text)
{
	struct buf b = { 0 };
	struct res r;
	size_t i;
	int rc;

	rc = policy_reply(&b, action, text);
	if (rc != 0) {
		CHECK(b.len == 0);
		buf_free(&b);
		return;
	}
	CHECK(b.len >= 9 && b.len <= POLICY_LINE_MAX + 2);
	CHECK(memcmp(b.data, "action=", 7) == 0);
	CHECK(b.data[b.len - 2] == '\n' && b.data[b.len - 1] == '\n');
	for (i = 0; i < b.len - 2; i++)
		CHECK(b.data[i] >= 0x20 && b.data[i] != 0x7f);
	parse(b.data, b.len, &r);
	CHECK(r.rc == POLICY_OK && r.used == b.len && r.req.n_attrs == 1);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct res whole, part;
	const uint8_t *d;
	size_t len, off, k, step, n;
	uint32_t seed;
	char *text;

	if (size < 1)
		return 0;
	seed = 0x2545f491u ^ data[0];
	d = data + 1;
	len = size - 1;

	for (off = 0, n = 0; n < 8; n++) {
		parse(d + off, len - off, &whole);
		check_result(d + off, &whole);
		for (k = 0;;) {
			parse(d + off, k, &part);
			if (part.rc != POLICY_MORE) {
				CHECK(same(&part, &whole));
				break;
			}
			CHECK(part.err.code == VS_OK);
			if (k == len - off) {
				CHECK(whole.rc == POLICY_MORE);
				break;
			}
			step = 1 + next(&seed) % 64;
			k = step > len - off - k ? len - off : k + step;
		}
		if (whole.rc != POLICY_OK)
			break;
		off += whole.used;
	}

	if ((text = malloc(len + 1)) == NULL)
		return 0;
	memcpy(text, d, len);
	text[len] = '\0';
	check_reply("DUNNO", text);
	check_reply("REJECT", text);
	check_reply(text, NULL);
	check_reply(text, text);
	free(text);
	return 0;
}
