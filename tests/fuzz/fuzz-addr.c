/*
 * fuzz-addr - libFuzzer target for server/mail/addr.c.
 *
 * The first input byte picks the ADDR_ALLOW_* flags, the rest is the
 * text (cut at the first NUL, as a C string would be).  Besides "no
 * crash", it checks the contract: lengths within limits, no control
 * characters kept, a lower-case domain (but for the "IPv6:" tag), and that what addr_format()
 * writes parses back to the same address; and that a domain turned into
 * A-labels is ASCII, lower case, valid and stable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_addr(const struct mailaddr *a, int flags)
{
	char text[ADDR_FORMAT_MAX];
	struct mailaddr b;
	const char *error;
	const unsigned char *p;
	size_t n;

	if (strlen(a->local) > ADDR_LOCAL_MAX ||
	    strlen(a->domain) > ADDR_DOMAIN_MAX)
		abort();
	for (p = (const unsigned char *)a->local; *p; p++)
		if (*p < 32 || *p == 127)
			abort();
	for (p = (const unsigned char *)a->domain; *p; p++)
		if ((*p >= 'A' && *p <= 'Z' && !a->literal) || *p < 32)
			abort();	/* literals keep the "IPv6:" tag */
	if (a->literal && !(flags & ADDR_ALLOW_LITERAL))
		abort();
	if (a->utf8 && !(flags & ADDR_ALLOW_UTF8))
		abort();
	n = addr_format(a, text, sizeof(text));
	if (n >= sizeof(text) || n != strlen(text))
		abort();
	if (a->local[0] == '\0' && a->domain[0] == '\0')
		return;		/* null path */
	if (addr_parse(text, flags, &b, &error) != 0 ||
	    strcmp(a->local, b.local) != 0 ||
	    strcmp(a->domain, b.domain) != 0 || a->literal != b.literal ||
	    a->utf8 != b.utf8)
		abort();
}

/* check_idn - a parsed domain as A-labels: ASCII, lower case, valid by
 * the ASCII rules, and converting again changes nothing. */
static void
check_idn(const struct mailaddr *a)
{
	char d[ADDR_DOMAIN_MAX + 1], again[ADDR_DOMAIN_MAX + 1];
	const char *error = NULL;
	const unsigned char *p;

	memcpy(d, a->domain, sizeof(d));
	if (addr_domain_to_ascii(d, &error) != 0) {
		if (error == NULL)
			abort();
		return;
	}
	if (a->literal) {
		if (strcmp(d, a->domain) != 0)
			abort();
		return;
	}
	for (p = (const unsigned char *)d; *p; p++)
		if (*p >= 0x80 || (*p >= 'A' && *p <= 'Z'))
			abort();
	if (d[0] != '\0' && !addr_domain_valid(d, 0))
		abort();
	memcpy(again, d, sizeof(again));
	if (addr_domain_to_ascii(again, &error) != 0 || strcmp(again, d) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailaddr a;
	const char *rest, *error;
	char *s;
	int flags;

	if (size < 1)
		return 0;
	flags = data[0] & (ADDR_ALLOW_EMPTY | ADDR_ALLOW_UTF8 |
	    ADDR_ALLOW_LITERAL);
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	if (addr_parse_path(s, flags, &a, &rest, &error) == 0) {
		if (rest < s || rest > s + strlen(s))
			abort();
		check_addr(&a, flags);
	} else if (error == NULL)
		abort();
	if (addr_parse(s, flags, &a, &error) == 0) {
		check_addr(&a, flags);
		check_idn(&a);
	}
	else if (error == NULL)
		abort();
	(void)addr_domain_valid(s, flags);
	free(s);
	return 0;
}
