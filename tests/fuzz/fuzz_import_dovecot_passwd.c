/*
 * fuzz_import_dovecot_passwd.c - libFuzzer target: the input is a Dovecot
 * passwd-file, read with import_reader and parsed line by line (see
 * fuzz_import.h).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import(data, size, IMPORT_DOVECOT_PASSWD);
}
