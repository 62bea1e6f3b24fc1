/*
 * fuzz-pop3-cmd - libFuzzer target for pop3/pop3-parse.c.
 *
 * The input is one command line (NULs included) in an exactly-sized heap
 * buffer with the one spare byte the contract asks for.  Checks that the
 * result is coherent: an error text on -1; on 0 a known verb, pointers
 * inside the line, message numbers in range.  (The RETR/TOP converter is
 * fuzzed by fuzz-data.c.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/pop3-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_command(const uint8_t *data, size_t size)
{
	struct pop3_command c;
	const char *err = NULL;
	char *line = malloc(size + 1);
	int r;

	if (line == NULL)
		return;
	memcpy(line, data, size);
	r = pop3_parse_command(line, size, &c, &err);
	if (c.verb == NULL || c.arg < line || c.arg > line + size)
		abort();
	if (r == -1) {
		if (err == NULL || *err == '\0')
			abort();
	} else if (r == 0) {
		if (c.cmd == POP3_CMD_UNKNOWN)
			abort();
		if (c.has_num && (c.num == 0 || c.num > POP3_MSGNUM_MAX))
			abort();
		if (c.mech && (c.mech < line || c.mech > line + size))
			abort();
	} else
		abort();
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_command(data, size);
	return 0;
}
