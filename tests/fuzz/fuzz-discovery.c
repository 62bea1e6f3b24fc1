/*
 * fuzz-discovery - libFuzzer target for the Autodiscover request reader
 * (server/http/discovery-parse.c: discovery_pox_email).  What it returns
 * is NUL-terminated, fits, is not empty and holds no '<' or '&'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discovery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[64];

	if (discovery_pox_email((const char *)data, size, out, sizeof(out)) == 0) {
		size_t n = strnlen(out, sizeof(out));
		if (n == 0 || n >= sizeof(out) || strchr(out, '<') || strchr(out, '&'))
			abort();
	}
	return 0;
}
