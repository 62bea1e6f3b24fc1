/*
 * smtp-reply - the SMTP client's reply parser (see smtp-reply.h).
 *
 * Strict about the frame (three digits, then '-', ' ' or the end), lenient
 * about the text: servers put anything there, and only the code decides.
 */
#include "smtp-reply.h"
#include "str.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text);
}

void
smtp_reply_reset(struct smtp_reply *r)
{
	r->code = 0;
	r->enhanced[0] = '\0';
	r->nlines = 0;
	buf_reset(&r->text);
}

void
smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
}

/* enhanced_code - "c.s.d" at the start of text (RFC 3463: class 2/4/5,
 * 1-3 digits each after it) into out; its length or 0. */
static size_t
enhanced_code(const char *t, size_t n, char *out, size_t outsz)
{
	size_t i = 0;

	if (n < 5 || (t[0] != '2' && t[0] != '4' && t[0] != '5') || t[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t start = i;
		while (i < n && i - start < 3 && t[i] >= '0' && t[i] <= '9')
			i++;
		if (i == start || (part == 0 && (i >= n || t[i] != '.')))
			return 0;
		if (part == 0)
			i++;
	}
	if ((i < n && t[i] != ' ') || i >= outsz)
		return 0;
	memcpy(out, t, i);
	out[i] = '\0';
	return i;
}

int
smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len)
{
	int code;

	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-'))
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if ((r->nlines && code != r->code) || r->nlines >= SMTP_REPLY_LINES_MAX)
		return -1;
	const char *t = len > 4 ? line + 4 : "";
	size_t tn = len > 4 ? len - 4 : 0;
	if (r->nlines++ == 0) {
		r->code = code;
		enhanced_code(t, tn, r->enhanced, sizeof(r->enhanced));
	}
	if (r->text.len + tn + 1 <= SMTP_REPLY_TEXT_MAX) {
		buf_add(&r->text, t, tn);
		buf_addc(&r->text, '\n');
	}
	return len == 3 || line[3] == ' ';
}

/* keyword - 1 if line (up to its '\n') is kw, alone or followed by ' '. */
static int
keyword(const char *line, size_t n, const char *kw)
{
	size_t k = strlen(kw);
	return n >= k && strncasecmp(line, kw, k) == 0 && (n == k || line[k] == ' ');
}

unsigned
smtp_reply_ehlo(const struct smtp_reply *r, uint64_t *size_r)
{
	const char *p = r->text.data, *end = p ? p + r->text.len : NULL;
	unsigned ext = 0, first = 1;

	*size_r = 0;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);
		if (!first) {	/* the first line is the greeting */
			if (keyword(p, n, "PIPELINING"))
				ext |= SMTP_EXT_PIPELINING;
			else if (keyword(p, n, "8BITMIME"))
				ext |= SMTP_EXT_8BITMIME;
			else if (keyword(p, n, "STARTTLS"))
				ext |= SMTP_EXT_STARTTLS;
			else if (keyword(p, n, "SMTPUTF8"))
				ext |= SMTP_EXT_SMTPUTF8;
			else if (keyword(p, n, "SIZE")) {
				char num[24];
				ext |= SMTP_EXT_SIZE;
				if (n > 5 && n - 5 < sizeof(num)) {
					memcpy(num, p + 5, n - 5);
					num[n - 5] = '\0';
					if (str_to_u64(num, size_r) < 0)
						*size_r = 0;
				}
			}
		}
		first = 0;
		p = nl + 1;
	}
	return ext;
}

void
smtp_reply_line1(const struct smtp_reply *r, char *out, size_t outsz)
{
	const char *t = r->text.data ? r->text.data : "";
	size_t n = strcspn(t, "\n");
	int w = snprintf(out, outsz, "%d %.*s", r->code, (int)(n > 400 ? 400 : n), t);

	for (int i = 0; w > 0 && i < w && (size_t)i < outsz && out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
}
