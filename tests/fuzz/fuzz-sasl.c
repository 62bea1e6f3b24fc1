/*
 * fuzz-sasl - libFuzzer target for server/auth/sasl.c and the base64
 * codec under it (server/lib/base64.c).
 *
 * The input is split at LF into lines: the first names the mechanism, the
 * second (if any) is the initial response ("-" for none), the rest are
 * continuation lines, each fed from an exactly-sized heap copy.  Checks:
 * the exchange is idle after any result but SASL_CHALLENGE; credentials
 * appear only with SASL_DONE, are NUL-free and within the limits; nothing
 * is left after sasl_wipe.  Every line is also decoded as base64 and, if
 * that works, encoded back: the round trip must give the line again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_b64(const char *line, size_t len)
{
	unsigned char *out = malloc(len + 1);
	size_t pad = len && line[len - 1] == '=' ? (len > 1 && line[len - 2] == '=' ? 2 : 1) : 0;
	ssize_t n = base64_decode(line, len, out, len + 1);
	char *enc;

	if (n < 0) {
		free(out);
		return;
	}
	enc = malloc(BASE64_ENCODED_SIZE((size_t)n));
	if (base64_encode(out, (size_t)n, enc, BASE64_ENCODED_SIZE((size_t)n)) != (ssize_t)len)
		abort();
	/* only the last data character may differ: the unused low bits
	 * before the padding are not checked */
	for (size_t i = 0; i < len; i++)
		if (enc[i] != line[i] && !(pad && i == len - pad - 1))
			abort();
	free(enc);
	free(out);
}

static void
check_state(const struct sasl *s, enum sasl_result r)
{
	if ((r == SASL_CHALLENGE) != (s->step != SASL_STEP_IDLE))
		abort();
	if (r != SASL_DONE && s->pass[0] != '\0')
		abort();
	if (strlen(s->user) > AUTH_USER_MAX || strlen(s->pass) > AUTH_PASS_MAX)
		abort();
}

/* next_line - a heap copy (NUL-terminated, exact size) of the next line */
static char *
next_line(const uint8_t **p, const uint8_t *end, size_t *len_r)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t len = (size_t)((nl ? nl : end) - *p);
	char *line = malloc(len + 1);

	memcpy(line, *p, len);
	line[len] = '\0';
	*p = nl ? nl + 1 : end;
	*len_r = len;
	return line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct sasl s;
	enum sasl_result r;
	size_t len;
	char *mech = next_line(&p, end, &len), *init = NULL;

	if (p < end) {
		init = next_line(&p, end, &len);
		check_b64(init, len);
	}
	r = sasl_start(&s, mech, init && strcmp(init, "-") != 0 ? init : NULL);
	check_state(&s, r);
	while (r == SASL_CHALLENGE && p < end) {
		char *line = next_line(&p, end, &len);
		check_b64(line, len);
		r = sasl_step(&s, line);
		check_state(&s, r);
		free(line);
	}
	sasl_wipe(&s);
	if (s.user[0] || s.pass[0] || s.step != SASL_STEP_IDLE)
		abort();
	free(mech);
	free(init);
	return 0;
}
