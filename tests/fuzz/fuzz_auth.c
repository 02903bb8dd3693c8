/*
 * fuzz_auth.c - libFuzzer target for the auth socket's messages
 * (lib/authproto.h): the input is a request payload as vmsealed takes it
 * from the wire (a sequence of netstrings), parsed as a request and as a
 * reply; an accepted request must encode again (the clients' encoder,
 * auth_encode_request) and parse back the same, and so must an accepted
 * reply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authproto.h"
#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t **items = NULL;
	size_t *lens = NULL, n;
	struct auth_request req;
	struct auth_reply rep, again;
	struct buf b = { 0 };

	if (size > AUTH_REQUEST_MAX * 4)
		return 0;
	if (netstring_split(data, size, 32, AUTH_REPLY_MAX, &items, &lens, &n,
	    NULL) != VS_OK)
		return 0;
	if (auth_parse_request(items, lens, n, &req, NULL) == VS_OK) {
		struct auth_request back;
		const uint8_t *p, **it2 = NULL;
		size_t plen, used, *l2 = NULL, n2;

		if (strlen(req.login) == 0 || req.password_len > PW_PASSWORD_MAX)
			__builtin_trap();
		/* What the service accepts, the clients' encoder must
		 * encode, and it must parse back the same. */
		if (auth_encode_request(&req, &b, NULL) != VS_OK ||
		    netstring_decode(b.data, b.len, AUTH_REQUEST_MAX, &p,
		    &plen, &used, NULL) != NETSTRING_OK || used != b.len ||
		    netstring_split(p, plen, 8, AUTH_REQUEST_MAX, &it2, &l2,
		    &n2, NULL) != VS_OK ||
		    auth_parse_request(it2, l2, n2, &back, NULL) != VS_OK ||
		    back.op != req.op || strcmp(back.login, req.login) != 0 ||
		    strcmp(back.service, req.service) != 0 ||
		    back.password_len != req.password_len ||
		    memcmp(back.password, req.password, req.password_len) != 0 ||
		    (req.op == AUTH_VERIFY &&
		    (strcmp(back.remote_ip, req.remote_ip) != 0 ||
		    strcmp(back.local_ip, req.local_ip) != 0 ||
		    back.secured != req.secured)))
			__builtin_trap();
		free(it2);
		free(l2);
		buf_free(&b);
		auth_request_wipe(&back);
		auth_request_wipe(&req);
	}
	if (auth_parse_reply(items, lens, n, &rep, NULL) == VS_OK &&
	    auth_encode_reply(&rep, &b) == VS_OK) {
		const uint8_t *p, **it2 = NULL;
		size_t plen, used, *l2 = NULL, n2;

		if (netstring_decode(b.data, b.len, AUTH_REPLY_MAX * 2, &p,
		    &plen, &used, NULL) != NETSTRING_OK ||
		    netstring_split(p, plen, 32, AUTH_REPLY_MAX, &it2, &l2, &n2,
		    NULL) != VS_OK ||
		    auth_parse_reply(it2, l2, n2, &again, NULL) != VS_OK ||
		    again.result != rep.result || again.n_fields != rep.n_fields ||
		    strcmp(again.user, rep.user) != 0)
			__builtin_trap();
		free(it2);
		free(l2);
	}
	buf_free(&b);
	free(items);
	free(lens);
	return 0;
}
