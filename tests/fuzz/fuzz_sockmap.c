/*
 * fuzz_sockmap.c - libFuzzer target for lib/sockmap.c.
 *
 * The input is used three ways: as a request payload (sockmap_parse), as
 * a stream of request netstrings the way the service reads them, and as
 * the text of every kind of reply.  Checks: an accepted request is exactly
 * "NAME KEY" with a known name and a clean key; a refused one leaves an
 * empty key and a printable reason; every reply is one netstring of at
 * most SOCKMAP_REPLY_MAX bytes, starting with a known status, holding no
 * control character and never an empty OK.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"
#include "sockmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
check_parse(const uint8_t *p, size_t n)
{
	struct sockmap_request req;
	struct vs_err err;
	const char *name, *m;
	size_t nlen, klen, i;
	int rc;

	vs_err_clear(&err);
	rc = sockmap_parse(p, n, &req, &err);
	if (rc != VS_OK) {
		CHECK(rc == VS_EINVAL || rc == VS_ELIMIT);
		CHECK(err.code == rc && err.msg[0] != '\0');
		CHECK(strlen(err.msg) < 120);   /* short: fits a PERM reply */
		for (m = err.msg; *m != '\0'; m++)
			CHECK((unsigned char)*m >= 0x20 &&
			    (unsigned char)*m < 0x7f);
		CHECK(req.key[0] == '\0');
		return;
	}
	name = sockmap_map_name(req.map);
	nlen = strlen(name);
	klen = strlen(req.key);
	CHECK(strcmp(name, "unknown") != 0);
	CHECK(klen > 0 && klen <= SOCKMAP_REQUEST_MAX);
	CHECK(n == nlen + 1 + klen);
	CHECK(memcmp(p, name, nlen) == 0 && p[nlen] == ' ');
	CHECK(memcmp(p + nlen + 1, req.key, klen) == 0);
	for (i = 0; i < klen; i++)
		CHECK((unsigned char)req.key[i] > 0x20 &&
		    (unsigned char)req.key[i] != 0x7f);
}

static void
check_reply(const char *status, const char *text)
{
	static const char *const ok[] = { "OK ", "NOTFOUND ", "TEMP ",
	    "PERM " };
	struct buf b = { 0 };
	struct vs_err err;
	const uint8_t *p;
	size_t plen, used, i, slen = 0;
	int rc;

	CHECK(buf_append(&b, "X", 1) == 0);
	rc = sockmap_reply(&b, status, text);
	CHECK(rc == 0);
	CHECK(netstring_decode(b.data + 1, b.len - 1, SOCKMAP_REPLY_MAX, &p,
	    &plen, &used, &err) == NETSTRING_OK);
	CHECK(used == b.len - 1);
	for (i = 0; i < 4; i++) {
		slen = strlen(ok[i]);
		if (plen >= slen && memcmp(p, ok[i], slen) == 0)
			break;
	}
	CHECK(i < 4);
	if (i == 0)
		CHECK(plen > slen);             /* never an empty OK */
	if (i == 1)
		CHECK(plen == slen);
	for (i = 0; i < plen; i++)
		CHECK(p[i] >= 0x20 && p[i] != 0x7f);
	if (strcmp(status, "OK") == 0 && plen > 3 &&
	    memcmp(p, "OK ", 3) == 0)
		CHECK(plen - 3 == strlen(text) &&
		    memcmp(p + 3, text, plen - 3) == 0);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p;
	size_t off, plen, used;
	struct vs_err err;
	char *text;

	check_parse(data, size);

	/* As the service reads a connection: netstrings, one request each. */
	for (off = 0; off < size; off += used) {
		if (netstring_decode(data + off, size - off,
		    SOCKMAP_REQUEST_MAX, &p, &plen, &used, &err) !=
		    NETSTRING_OK)
			break;
		check_parse(p, plen);
	}

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_reply("OK", text);
	check_reply("NOTFOUND", text);
	check_reply("TEMP", text);
	check_reply("PERM", text);
	free(text);
	return 0;
}
