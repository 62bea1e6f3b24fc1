/*
 * fuzz-pop3-cmd - libFuzzer target for pop3/pop3-parse.c.
 *
 * The input is one command line (NULs included) in an exactly-sized heap
 * buffer with the one spare byte the contract asks for.  Checks that the
 * result is coherent: an error text on -1; on 0 a known verb, pointers
 * inside the line, message numbers in range.  The same bytes are then fed
 * to the RETR/TOP converter (the first byte, if any, picks the TOP line
 * count) whole and in 7-byte pieces, which must give the same output,
 * ending in ".\r\n" and never holding a bare LF.
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

static void
convert(const uint8_t *data, size_t size, uint64_t lines, size_t piece, struct buf *out)
{
	struct pop3_stuff st;

	pop3_stuff_init(&st, lines);
	for (size_t i = 0; i < size; i += piece)
		if (pop3_stuff_feed(&st, (const char *)data + i, size - i < piece ? size - i : piece, out))
			break;
	pop3_stuff_end(&st, out);
}

static void
check_stuff(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	uint64_t lines = size && data[0] < 0x80 ? data[0] % 8 : UINT64_MAX;

	convert(data, size, lines, size ? size : 1, &a);
	convert(data, size, lines, 7, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	if (a.len < 3 || memcmp(a.data + a.len - 3, ".\r\n", 3) != 0)
		abort();
	for (size_t i = 0; i < a.len; i++)
		if (a.data[i] == '\n' && (i == 0 || a.data[i - 1] != '\r'))
			abort();
	buf_free(&a);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_command(data, size);
	check_stuff(data, size);
	return 0;
}
