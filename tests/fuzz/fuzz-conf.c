/*
 * fuzz-conf - libFuzzer target for the bootstrap config parser
 * (server/lib/conf.h: conf_parse_string).  The input is the file text
 * (cut at the first NUL); on error the message must be set and is freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	char *text, *error = NULL;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&c, 0, sizeof(c));
	if (conf_parse_string("fuzz.conf", text, &c, &error) == -1) {
		if (error == NULL)
			abort();
		free(error);
	} else if (error != NULL)
		abort();
	conf_free(&c);
	free(text);
	return 0;
}
