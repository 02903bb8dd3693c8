/*
 * fuzz_import_htpasswd.c - libFuzzer target: the input is an htpasswd
 * file ("login:hash" lines), read with import_reader and parsed line by
 * line (see fuzz_import.h).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import(data, size, IMPORT_HTPASSWD);
}
