/*
 * fuzz_import_postfix_map.c - libFuzzer target: the input is a Postfix
 * table source ("key value", with continuation lines), read with
 * import_reader and parsed logical line by logical line (see
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
	return fuzz_import(data, size, IMPORT_POSTFIX_MAP);
}
