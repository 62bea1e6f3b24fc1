/*
 * fuzz-form - libFuzzer target for what httpd decodes itself from a
 * request: form bodies and query strings (server/lib/html.c: form_parse,
 * url_decode), and the HTML escaper the pages print them with.  A decoded
 * field never holds a NUL, and escaped text never holds < > " ' or a bare &.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_escaped(const char *s)
{
	struct buf b = BUF_INIT;

	html_esc(&b, s);
	for (size_t i = 0; i < b.len; i++) {
		char c = b.data[i];
		if (c == '<' || c == '>' || c == '"' || c == '\'')
			abort();
		if (c == '&' && strncmp(b.data + i, "&amp;", 5) && strncmp(b.data + i, "&lt;", 4) &&
		    strncmp(b.data + i, "&gt;", 4) && strncmp(b.data + i, "&quot;", 6) &&
		    strncmp(b.data + i, "&#39;", 5))
			abort();
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f;
	char *d;

	if (form_parse(&f, (const char *)data, size, 64) == 0) {
		for (size_t i = 0; i < f.n; i++) {
			check_escaped(f.v[i].name);
			check_escaped(f.v[i].value);
			if (form_get(&f, f.v[i].name) == NULL)
				abort();
		}
		form_free(&f);
	}
	if ((d = url_decode((const char *)data, size, 0)) != NULL) {
		if (strlen(d) > size)
			abort();
		free(d);
	}
	return 0;
}
