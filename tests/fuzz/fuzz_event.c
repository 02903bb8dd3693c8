/*
 * fuzz_event.c - libFuzzer target for the login-event decoder
 * (lib/events.h): any input is refused or decoded within its bounds; a
 * decoded event encodes again and decodes to the same fields.
 */
#include <stdint.h>
#include <string.h>

#include "events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_event e, d;
	struct buf b = { 0 };

	if (event_decode(data, size, &e, NULL) != VS_OK)
		return 0;
	if (event_encode(&e, &b) != 0 ||
	    event_decode(b.data, b.len, &d, NULL) != VS_OK ||
	    d.time != e.time || d.kind != e.kind || d.exists != e.exists ||
	    strcmp(d.ip, e.ip) != 0 || strcmp(d.login, e.login) != 0 ||
	    strcmp(d.service, e.service) != 0)
		__builtin_trap();
	buf_free(&b);
	return 0;
}
