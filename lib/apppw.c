/*
 * apppw.c - app passwords: generation, reading, matching, service names
 * (see apppw.h for the form, what is stored and why).
 *
 * Security: the symbols of a typed password are read into a stack buffer
 * that is wiped before return; a match hashes every entry and compares
 * in constant time, so the time does not say which entry (or whether one)
 * matched.  Parsing of operator input (services, durations, names) is
 * strict and capped.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "apppw.h"
#include "buf.h"
#include "crockford.h"

static const char ctx_str[] = "vmseal-app-password-v1";

void
vs_apppw_clear(struct vs_apppw *e)
{
	free(e->name);
	free(e->last_ip);
	free(e->mail_copy);
	sodium_memzero(e, sizeof(*e));
}

void
apppw_mail_keypair(const char sym[APPPW_SYMBOLS], uint8_t pk[32],
    uint8_t sk[32])
{
	static const char ctx[] = "vmseal-app-password-mail-v1";
	uint8_t seed[crypto_box_SEEDBYTES];

	crypto_generichash(seed, sizeof(seed), (const uint8_t *)ctx,
	    sizeof(ctx) - 1, (const uint8_t *)sym, APPPW_SYMBOLS);
	crypto_box_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
}

static void
hash_sym(const char sym[APPPW_SYMBOLS], const uint8_t salt[APPPW_SALT_BYTES],
    uint8_t out[APPPW_HASH_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, salt, APPPW_SALT_BYTES, APPPW_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)ctx_str,
	    sizeof(ctx_str) - 1);
	crypto_generichash_update(&st, (const uint8_t *)sym, APPPW_SYMBOLS);
	crypto_generichash_final(&st, out, APPPW_HASH_BYTES);
	sodium_memzero(&st, sizeof(st));
}

void
apppw_generate(char text[APPPW_TEXT_BUF], struct vs_apppw *e)
{
	uint8_t raw[APPPW_BYTES];
	char sym[APPPW_SYMBOLS];
	size_t i, o = 0;
	unsigned acc = 0, bits = 0, k = 0;

	randombytes_buf(raw, sizeof(raw));
	/* 160 bits, 5 at a time, most significant first. */
	for (i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			sym[k++] = crockford_alphabet[(acc >> bits) & 31];
		}
	}
	for (i = 0; i < APPPW_SYMBOLS; i++) {
		if (i > 0 && i % 4 == 0)
			text[o++] = '-';
		text[o++] = (char)tolower((unsigned char)sym[i]);
	}
	text[o] = '\0';
	randombytes_buf(e->salt, sizeof(e->salt));
	hash_sym(sym, e->salt, e->hash);
	{
		uint8_t sk[32];

		apppw_mail_keypair(sym, e->mail_pk, sk);
		e->has_mail_pk = true;
		sodium_memzero(sk, sizeof(sk));
	}
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(sym, sizeof(sym));
	acc = 0;
}

bool
apppw_read(const char *pw, size_t len, char sym[APPPW_SYMBOLS + 1])
{
	size_t i, n = 0;
	int c;

	/* The longest presentation worth reading: symbols, a separator
	 * after each, and some slack for spaces. */
	if (len > 4 * APPPW_SYMBOLS)
		return false;
	for (i = 0; i < len; i++) {
		c = toupper((unsigned char)pw[i]);
		if (c == '-' || c == ' ')
			continue;
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		if (c == '\0' || strchr(crockford_alphabet, c) == NULL ||
		    n == APPPW_SYMBOLS) {
			sodium_memzero(sym, APPPW_SYMBOLS + 1);
			return false;
		}
		sym[n++] = (char)c;
	}
	sym[n] = '\0';
	if (n != APPPW_SYMBOLS) {
		sodium_memzero(sym, APPPW_SYMBOLS + 1);
		return false;
	}
	return true;
}

int
apppw_match(const struct vs_apppw *list, size_t n, const char *pw,
    size_t len)
{
	char sym[APPPW_SYMBOLS + 1];
	uint8_t h[APPPW_HASH_BYTES];
	size_t i;
	int found = -1;

	if (n == 0 || !apppw_read(pw, len, sym))
		return -1;
	for (i = 0; i < n; i++) {
		hash_sym(sym, list[i].salt, h);
		/* No early exit: every entry costs the same. */
		if (sodium_memcmp(h, list[i].hash, sizeof(h)) == 0 &&
		    found < 0)
			found = (int)i;
	}
	sodium_memzero(sym, sizeof(sym));
	sodium_memzero(h, sizeof(h));
	return found;
}

static const struct {
	const char *name;
	uint32_t bit;
} svc_names[] = {
	{ "imap", APPPW_IMAP },
	{ "pop3", APPPW_POP3 },
	{ "smtp", APPPW_SMTP },
	{ "sieve", APPPW_SIEVE },
};

int
apppw_services_parse(const char *s, uint32_t *mask_r, struct vs_err *err)
{
	char word[32];
	size_t i, n;
	uint32_t m = 0, bit;
	const char *p = s, *e;

	*mask_r = 0;
	if (s == NULL || *s == '\0')
		return vs_fail(err, VS_EINVAL, "no service named (imap, pop3, "
		    "smtp, sieve or all)");
	for (;;) {
		while (*p == ' ')
			p++;
		e = p + strcspn(p, ", ");
		n = (size_t)(e - p);
		if (n == 0 || n >= sizeof(word))
			return vs_fail(err, VS_EINVAL, "malformed service list "
			    "(names separated by commas: imap, pop3, smtp, "
			    "sieve or all)");
		memcpy(word, p, n);
		word[n] = '\0';
		bit = 0;
		if (strcmp(word, "all") == 0)
			bit = APPPW_ALL;
		for (i = 0; i < sizeof(svc_names) / sizeof(svc_names[0]); i++)
			if (strcmp(word, svc_names[i].name) == 0)
				bit = svc_names[i].bit;
		if (bit == 0)
			return vs_fail(err, VS_EINVAL, "unknown service '%.31s' "
			    "(imap, pop3, smtp, sieve or all)", word);
		m |= bit;
		p = e;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p != ',')
			return vs_fail(err, VS_EINVAL, "malformed service list");
		p++;
	}
	*mask_r = m;
	return VS_OK;
}

void
apppw_services_format(uint32_t mask, char *out, size_t size)
{
	size_t i, o = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < sizeof(svc_names) / sizeof(svc_names[0]); i++) {
		if (!(mask & svc_names[i].bit))
			continue;
		o += (size_t)snprintf(out + o, o < size ? size - o : 0,
		    "%s%s", o ? "," : "", svc_names[i].name);
		if (o >= size)
			return;
	}
}

uint32_t
apppw_service_bit(const char *service)
{
	size_t i;

	if (service == NULL)
		return 0;
	if (strcmp(service, "managesieve") == 0)
		return APPPW_SIEVE;
	if (strcmp(service, "submission") == 0)
		return APPPW_SMTP;
	for (i = 0; i < sizeof(svc_names) / sizeof(svc_names[0]); i++)
		if (strcmp(service, svc_names[i].name) == 0)
			return svc_names[i].bit;
	return 0;
}

bool
apppw_main_allowed(const char *service)
{
	return service != NULL && (strcmp(service, "web") == 0 ||
	    strcmp(service, "passwd") == 0);
}

int
apppw_name_check(const char *name, struct vs_err *err)
{
	const unsigned char *p;
	size_t n = name ? strlen(name) : 0;

	if (n == 0)
		return vs_fail(err, VS_EINVAL, "app password name is empty");
	if (n > APPPW_NAME_MAX)
		return vs_fail(err, VS_EINVAL, "app password name is longer "
		    "than %d characters", APPPW_NAME_MAX);
	for (p = (const unsigned char *)name; *p; p++)
		if (!isalnum(*p) && strchr("._@+-", *p) == NULL)
			return vs_fail(err, VS_EINVAL, "app password name may "
			    "hold letters, digits and . _ @ + - only");
	return VS_OK;
}

int
apppw_duration_parse(const char *s, int64_t *secs_r, struct vs_err *err)
{
	const int64_t max = 100LL * 366 * 86400;
	int64_t unit = 1, v = 0;
	const char *p = s;

	*secs_r = 0;
	if (s == NULL || !isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > max)
			goto bad;
	}
	switch (*p) {
	case '\0': break;
	case 's': unit = 1; p++; break;
	case 'm': unit = 60; p++; break;
	case 'h': unit = 3600; p++; break;
	case 'd': unit = 86400; p++; break;
	case 'w': unit = 7 * 86400; p++; break;
	case 'y': unit = 365 * 86400; p++; break;
	default: goto bad;
	}
	if (*p != '\0' || v == 0 || v > max / unit)
		goto bad;
	*secs_r = v * unit;
	return VS_OK;
bad:
	return vs_fail(err, VS_EINVAL, "malformed duration (a number and a "
	    "unit: s, m, h, d, w or y - e.g. 90d - from 1 s to 100 years)");
}
