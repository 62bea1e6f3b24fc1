/*
 * fuzz-smtp-reply - libFuzzer target for the SMTP client's reply parser
 * (server/mail/smtp-reply.c) and the MX record reader (dns_parse_mx in
 * server/lib/dns.c): both read what a remote server sends.
 *
 * The input is split at LF into lines fed one by one, as the client does;
 * after a complete or refused reply the parser starts again.  Checks: a
 * complete reply has a code in 200..599 and bounded text, the EHLO reader
 * and the first-line formatter accept any complete reply.  The same bytes
 * are also read as MX rdata, which must give a host without blanks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "smtp-reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_reply(const struct smtp_reply *r)
{
	char line1[512];
	uint64_t size;

	if (r->code < 200 || r->code > 599 || r->nlines == 0 || r->text.len > SMTP_REPLY_TEXT_MAX)
		abort();
	smtp_reply_ehlo(r, &size);
	smtp_reply_line1(r, line1, sizeof(line1));
	if (strlen(line1) >= sizeof(line1))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	struct dns_mx mx;
	size_t off = 0;

	smtp_reply_init(&r);
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl ? (size_t)(nl - (data + off)) : size - off;
		char *line = malloc(n ? n : 1);
		if (line == NULL)
			break;
		memcpy(line, data + off, n);
		int rc = smtp_reply_feed(&r, line, n);
		free(line);
		if (rc == 1)
			check_reply(&r);
		if (rc != 0)
			smtp_reply_reset(&r);
		off += n + 1;
	}
	smtp_reply_free(&r);
	if (dns_parse_mx(data, size, &mx) == 0 && strcspn(mx.host, " \t\r\n") != strlen(mx.host))
		abort();
	return 0;
}
