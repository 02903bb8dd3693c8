/*
 * fuzz_record.c - libFuzzer target for the record decoders (record.h).
 *
 * The first byte chooses the decoder (domain, user, address, alias,
 * settings); the rest is the record.  Every decoder must refuse or accept
 * without reading past the input; accepted records are re-encoded and
 * decoded again, and must give the same result (a user's mail keys
 * included: one of the states, the same bytes and time, and their password
 * protection - flag, wrapped form, escrow copy, state; and the user's app
 * passwords: names, services, times, address, hash, mail key copy, and
 * the flag).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

static void
user_again(const struct vs_user *u)
{
	struct buf b = { 0 };
	struct vs_user d;

	if (rec_user_encode(u, &b) == 0 &&
	    rec_user_decode(b.data, b.len, &d, NULL) == VS_OK) {
		if (strcmp(d.login, u->login) != 0 ||
		    d.n_addresses != u->n_addresses || d.enabled != u->enabled ||
		    !same_str(d.mail_pub, u->mail_pub) ||
		    !same_str(d.mail_priv, u->mail_priv) ||
		    d.mail_pw != u->mail_pw ||
		    !same_str(d.mail_wrap, u->mail_wrap) ||
		    !same_str(d.mail_escrow, u->mail_escrow) ||
		    vs_user_mailkey_state(&d) != vs_user_mailkey_state(u) ||
		    d.mail_key_created != u->mail_key_created ||
		    d.n_apppws != u->n_apppws || d.apppw_only != u->apppw_only)
			__builtin_trap();
		for (size_t i = 0; i < d.n_apppws; i++)
			if (strcmp(d.apppws[i].name, u->apppws[i].name) != 0 ||
			    d.apppws[i].services != u->apppws[i].services ||
			    d.apppws[i].expires != u->apppws[i].expires ||
			    d.apppws[i].last_used != u->apppws[i].last_used ||
			    !same_str(d.apppws[i].last_ip, u->apppws[i].last_ip) ||
			    d.apppws[i].has_mail_pk != u->apppws[i].has_mail_pk ||
			    memcmp(d.apppws[i].mail_pk, u->apppws[i].mail_pk,
			    sizeof(d.apppws[i].mail_pk)) != 0 ||
			    !same_str(d.apppws[i].mail_copy,
			    u->apppws[i].mail_copy) ||
			    memcmp(d.apppws[i].hash, u->apppws[i].hash,
			    APPPW_HASH_BYTES) != 0)
				__builtin_trap();
		vs_user_clear(&d);
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_err err;
	union {
		struct vs_domain d;
		struct vs_user u;
		struct vs_address a;
		struct vs_alias al;
		struct vs_settings s;
	} r;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		if (rec_domain_decode(data + 1, size - 1, &r.d, &err) == VS_OK)
			vs_domain_clear(&r.d);
		break;
	case 1:
		if (rec_user_decode(data + 1, size - 1, &r.u, &err) == VS_OK) {
			/* the decoder's promise: the mail key fields are one
			 * of the states (record.h) */
			if (!vs_user_mailkey_ok(&r.u))
				__builtin_trap();
			user_again(&r.u);
			vs_user_clear(&r.u);
		}
		break;
	case 2:
		if (rec_address_decode(data + 1, size - 1, &r.a, &err) == VS_OK)
			vs_address_clear(&r.a);
		break;
	case 3:
		if (rec_alias_decode(data + 1, size - 1, &r.al, &err) == VS_OK)
			vs_alias_clear(&r.al);
		break;
	default:
		(void)rec_settings_decode(data + 1, size - 1, &r.s, &err);
		break;
	}
	return 0;
}
