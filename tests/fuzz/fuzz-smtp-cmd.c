/*
 * fuzz-smtp-cmd - libFuzzer target for server/smtp/smtp-parse.c.
 *
 * The first input byte's low bit is utf8_allowed; the rest is one command
 * line (NULs included) in an exactly-sized heap buffer with one spare
 * byte, as the contract requires.  Checks that a result is always
 * coherent: a reply code and text on error, an address that formats on
 * MAIL/RCPT success, arg inside the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_command cmd;
	struct smtp_parse_error err;
	char text[ADDR_FORMAT_MAX];
	char *line;
	size_t len;
	int r;

	if (size < 1)
		return 0;
	len = size - 1;
	if ((line = malloc(len + 1)) == NULL)
		return 0;
	memcpy(line, data + 1, len);
	r = smtp_parse_command(line, len, data[0] & 1, &cmd, &err);
	if (cmd.verb_name == NULL || cmd.arg < line || cmd.arg > line + len)
		abort();
	if (r == -1) {
		if (err.code < 500 || err.code > 555 || err.enhanced == NULL ||
		    err.text == NULL || strlen(err.text) >= SMTP_PARSE_TEXT_MAX)
			abort();
	} else if (r == 0) {
		if (cmd.cmd == SMTP_CMD_UNKNOWN)
			abort();
		if (cmd.cmd == SMTP_CMD_MAIL || cmd.cmd == SMTP_CMD_RCPT) {
			if (addr_format(&cmd.addr, text, sizeof(text)) >=
			    sizeof(text))
				abort();
			if (cmd.addr.utf8 && cmd.cmd == SMTP_CMD_MAIL &&
			    !cmd.smtputf8)
				abort();
		}
	} else
		abort();
	free(line);
	return 0;
}
