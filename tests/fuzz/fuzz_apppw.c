/*
 * fuzz_apppw.c - libFuzzer target for the parsers of lib/apppw.c: the
 * reading of a typed password (peer input: every login's password goes
 * through apppw_read), and the operator's service lists, durations and
 * names.  Invariants: a password read as an app password gives exactly 32
 * symbols of the alphabet and matches the entry made from it; a service
 * mask parsed is non-zero, within APPPW_ALL, and survives formatting and
 * parsing again; a duration parsed is 1 s to 100 years.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "apppw.h"
#include "crockford.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sym[APPPW_SYMBOLS + 1], fmt[48], *s;
	struct vs_err err;
	uint32_t m, m2;
	int64_t secs;
	size_t i;

	if (sodium_init() < 0)
		__builtin_trap();
	if (apppw_read((const char *)data, size, sym)) {
		if (strlen(sym) != APPPW_SYMBOLS)
			__builtin_trap();
		for (i = 0; i < APPPW_SYMBOLS; i++)
			if (strchr(crockford_alphabet, sym[i]) == NULL)
				__builtin_trap();
	}
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (apppw_services_parse(s, &m, &err) == VS_OK) {
		if (m == 0 || (m & ~(uint32_t)APPPW_ALL) != 0)
			__builtin_trap();
		apppw_services_format(m, fmt, sizeof(fmt));
		if (apppw_services_parse(fmt, &m2, &err) != VS_OK || m2 != m)
			__builtin_trap();
	}
	if (apppw_duration_parse(s, &secs, &err) == VS_OK &&
	    (secs < 1 || secs > 100LL * 366 * 86400))
		__builtin_trap();
	(void)apppw_name_check(s, &err);
	(void)apppw_service_bit(s);
	free(s);
	return 0;
}
