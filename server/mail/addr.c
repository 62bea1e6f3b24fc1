/*
 * addr - RFC 5321 mailbox and path parser (contract in addr.h).
 *
 * A hand-written scanner over the RFC 5321 §4.1.2 grammar.  It copies the
 * local part and domain into fixed-size fields as it goes, so every length
 * check is made against the bytes actually stored.  Nothing here looks at
 * '%', '!' or source routes beyond syntax: see the relay note in addr.h.
 */
#include "addr.h"
#include "str.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char atext_specials[] = "!#$%&'*+-/=?^_`{|}~";

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_atext(int c)
{
	return is_alpha(c) || is_digit(c) ||
	    (c != '\0' && strchr(atext_specials, c) != NULL);
}

/* qtextSMTP: %d32-33 / %d35-91 / %d93-126 */
static int
is_qtext(int c)
{
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

size_t
addr_utf8_len(const unsigned char *p)
{
	unsigned int c = p[0];
	size_t n, i;
	unsigned int cp;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;	/* also stops at NUL */
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * utf8_take - at a non-ASCII byte: the sequence length, or 0 with
 * *error_r set when UTF-8 is not allowed or malformed.
 */
static size_t
utf8_take(const char *p, int flags, const char **error_r)
{
	size_t n;

	if (!(flags & ADDR_ALLOW_UTF8)) {
		*error_r = "non-ASCII character in address";
		return 0;
	}
	if ((n = addr_utf8_len((const unsigned char *)p)) == 0)
		*error_r = "invalid UTF-8 in address";
	return n;
}

static int
literal_parse(const char *s, int flags, char *out, size_t outsz,
    const char **end_r, const char **error_r)
{
	const char *p, *body;
	char tmp[64], txt[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	size_t n;
	int v6;

	if (!(flags & ADDR_ALLOW_LITERAL)) {
		*error_r = "address literal not allowed";
		return -1;
	}
	for (p = s + 1; *p != ']'; p++) {
		if (*p < 33 || *p > 126 || *p == '[' || *p == '\\') {
			*error_r = "bad address literal";
			return -1;
		}
	}
	body = s + 1;
	v6 = strncasecmp(body, "IPv6:", 5) == 0;
	if (v6)
		body += 5;
	n = (size_t)(p - body);
	if (n == 0 || n >= sizeof(tmp)) {
		*error_r = "bad address literal";
		return -1;
	}
	memcpy(tmp, body, n);
	tmp[n] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, bin) != 1 ||
	    inet_ntop(v6 ? AF_INET6 : AF_INET, bin, txt, sizeof(txt)) == NULL) {
		*error_r = "bad address literal";
		return -1;
	}
	/* txt is at most 45 octets: the result always fits outsz (256). */
	snprintf(out, outsz, "[%s%s]", v6 ? "IPv6:" : "", txt);
	*end_r = p + 1;
	return 0;
}

/*
 * label_scan - one label at p: its length in octets, or 0 with *error_r
 * set.  *end_r is set after it.
 */
static size_t
label_scan(const char *p, int flags, const char **end_r, int *numeric_r,
    const char **error_r)
{
	const char *start = p;
	size_t n;
	int numeric = 1;

	for (;;) {
		if (is_alpha(*p) || *p == '-') {
			numeric = 0;
			p++;
		} else if (is_digit(*p))
			p++;
		else if ((unsigned char)*p >= 0x80) {
			if ((n = utf8_take(p, flags, error_r)) == 0)
				return 0;
			numeric = 0;
			p += n;
		} else
			break;
	}
	n = (size_t)(p - start);
	if (n == 0 || *start == '-' || p[-1] == '-') {
		*error_r = n == 0 && (*start == '\0' || *start == '>') ?
		    "missing domain" : "bad domain syntax";
		return 0;
	}
	if (n > ADDR_LABEL_MAX) {
		*error_r = "domain label too long";
		return 0;
	}
	*end_r = p;
	*numeric_r = numeric;
	return n;
}

/*
 * domain_parse - Domain or address-literal at s, stopping at the first
 * byte that cannot continue it (the caller checks what follows).
 * out receives the normalised text (ADDR_DOMAIN_MAX + 1 bytes).
 */
static int
domain_parse(const char *s, int flags, char *out, int *literal_r,
    const char **end_r, const char **error_r)
{
	const char *p = s, *next;
	size_t n;
	int numeric = 0;

	*literal_r = 0;
	if (*s == '[') {
		*literal_r = 1;
		return literal_parse(s, flags, out, ADDR_DOMAIN_MAX + 1,
		    end_r, error_r);
	}
	for (;;) {
		if (label_scan(p, flags, &next, &numeric, error_r) == 0)
			return -1;
		p = next;
		if (*p != '.')
			break;
		p++;
		if (!is_alpha(*p) && !is_digit(*p) && *p != '-' &&
		    (unsigned char)*p < 0x80) {
			*error_r = *p == '.' ? "bad domain syntax" :
			    "trailing dot in domain";
			return -1;
		}
	}
	if (numeric) {
		*error_r = "bad domain syntax: numeric top-level label";
		return -1;
	}
	n = (size_t)(p - s);
	if (n > ADDR_DOMAIN_MAX) {
		*error_r = "domain too long";
		return -1;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	str_lower(out);
	*end_r = p;
	return 0;
}

static int
local_quoted(const char *s, int flags, struct mailaddr *a,
    const char **end_r, const char **error_r)
{
	const char *p = s + 1;
	size_t len = 0, n;

	while (*p != '"') {
		if (*p == '\\' && p[1] >= 32 && p[1] <= 126) {
			p++;
			n = 1;
		} else if (is_qtext(*p))
			n = 1;
		else if ((unsigned char)*p >= 0x80) {
			if ((n = utf8_take(p, flags, error_r)) == 0)
				return -1;
			a->utf8 = 1;
		} else {
			*error_r = *p == '\0' ? "unterminated quoted string" :
			    "bad character in quoted local part";
			return -1;
		}
		if (len + n > ADDR_LOCAL_MAX) {
			*error_r = "local part too long";
			return -1;
		}
		memcpy(a->local + len, p, n);
		len += n;
		p += n;
	}
	if (len == 0) {
		*error_r = "empty local part";
		return -1;
	}
	a->local[len] = '\0';
	a->quoted = 1;
	*end_r = p + 1;
	return 0;
}

static int
local_dotstring(const char *s, int flags, struct mailaddr *a,
    const char **end_r, const char **error_r)
{
	const char *p = s;
	size_t n;

	for (;;) {
		if (is_atext(*p))
			n = 1;
		else if (*p == '.' && p > s && p[-1] != '.' &&
		    (is_atext(p[1]) || (unsigned char)p[1] >= 0x80))
			n = 1;
		else if ((unsigned char)*p >= 0x80) {
			if ((n = utf8_take(p, flags, error_r)) == 0)
				return -1;
			a->utf8 = 1;
		} else
			break;
		p += n;
	}
	n = (size_t)(p - s);
	if (*p == '.') {
		*error_r = "bad dot in local part";
		return -1;
	}
	if (n == 0) {
		*error_r = *p == '@' || *p == '>' ? "empty local part" :
		    "bad character in local part";
		return -1;
	}
	if (n > ADDR_LOCAL_MAX) {
		*error_r = "local part too long";
		return -1;
	}
	memcpy(a->local, s, n);
	a->local[n] = '\0';
	*end_r = p;
	return 0;
}

/* mailbox_parse - Local-part "@" Domain at s; *end_r after the domain. */
static int
mailbox_parse(const char *s, int flags, struct mailaddr *a,
    const char **end_r, const char **error_r)
{
	const char *p;
	int r;

	if (*s == '"')
		r = local_quoted(s, flags, a, &p, error_r);
	else
		r = local_dotstring(s, flags, a, &p, error_r);
	if (r == -1)
		return -1;
	if (*p != '@') {
		*error_r = "missing '@' in address";
		return -1;
	}
	if (domain_parse(p + 1, flags, a->domain, &a->literal, end_r,
	    error_r) == -1)
		return -1;
	for (p = a->domain; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			a->utf8 = 1;
	return 0;
}

/* route_skip - skip an A-d-l ":" at s (which points at '@'). */
static int
route_skip(const char *s, int flags, const char **end_r,
    const char **error_r)
{
	char scratch[ADDR_DOMAIN_MAX + 1];
	const char *p = s;
	int literal;

	for (;;) {
		if (*p != '@' || domain_parse(p + 1,
		    flags | ADDR_ALLOW_LITERAL, scratch, &literal, &p,
		    error_r) == -1) {
			*error_r = "bad source route";
			return -1;
		}
		if (*p == ':')
			break;
		if (*p != ',') {
			*error_r = "bad source route";
			return -1;
		}
		p++;
	}
	*end_r = p + 1;
	return 0;
}

int
addr_parse_path(const char *s, int flags, struct mailaddr *a_r,
    const char **rest_r, const char **error_r)
{
	const char *p = s;

	memset(a_r, 0, sizeof(*a_r));
	if (*p != '<') {
		*error_r = "missing '<'";
		return -1;
	}
	p++;
	if (*p == '>') {
		if (!(flags & ADDR_ALLOW_EMPTY)) {
			*error_r = "empty address";
			return -1;
		}
		*rest_r = p + 1;
		return 0;
	}
	if (*p == '@' && route_skip(p, flags, &p, error_r) == -1)
		return -1;
	if (mailbox_parse(p, flags, a_r, &p, error_r) == -1)
		return -1;
	if (*p != '>') {
		*error_r = "missing '>'";
		return -1;
	}
	*rest_r = p + 1;
	return 0;
}

int
addr_parse(const char *s, int flags, struct mailaddr *a_r,
    const char **error_r)
{
	const char *p;

	memset(a_r, 0, sizeof(*a_r));
	if (*s == '\0') {
		if (flags & ADDR_ALLOW_EMPTY)
			return 0;
		*error_r = "empty address";
		return -1;
	}
	if (mailbox_parse(s, flags, a_r, &p, error_r) == -1)
		return -1;
	if (*p != '\0') {
		*error_r = "bad domain syntax";
		return -1;
	}
	return 0;
}

int
addr_domain_valid(const char *domain, int flags)
{
	char out[ADDR_DOMAIN_MAX + 1];
	const char *end, *error;
	int literal;

	if (domain_parse(domain, flags, out, &literal, &end, &error) == -1)
		return 0;
	return *end == '\0';
}

/*
 * Why the result is checked again: the UTS #46 mapping drops some code
 * points (U+200B ZERO WIDTH SPACE maps to nothing), so "\u200b.com" comes
 * back as ".com"; and every spoofing check downstream assumes the ASCII
 * rules.  NFC makes a composed and a decomposed "ë" the same A-label.
 */
int
addr_domain_to_ascii(char *domain, const char **error_r)
{
	const char *p;
	char *out = NULL;
	int rc;

	for (p = domain; *p != '\0' && (unsigned char)*p < 0x80; p++)
		;
	if (*p == '\0' || domain[0] == '[')
		return 0;
	rc = idn2_to_ascii_8z(domain, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		*error_r = idn2_strerror(rc);	/* static text */
		return -1;
	}
	str_lower(out);
	if (strlen(out) > ADDR_DOMAIN_MAX || !addr_domain_valid(out, 0)) {
		free(out);
		*error_r = "not a valid domain once converted to A-labels";
		return -1;
	}
	strcpy(domain, out);
	free(out);
	return 0;
}

/* local_needs_quotes - 1 unless local is a valid Dot-string. */
static int
local_needs_quotes(const char *local)
{
	const char *p;

	if (*local == '\0' || *local == '.')
		return 1;
	for (p = local; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80 || is_atext(*p))
			continue;
		if (*p == '.' && p[1] != '.' && p[1] != '\0')
			continue;
		return 1;
	}
	return 0;
}

static void
out_putc(char *out, size_t outsz, size_t *len, char c)
{
	if (*len + 1 < outsz)
		out[*len] = c;
	(*len)++;
}

size_t
addr_format(const struct mailaddr *a, char *out, size_t outsz)
{
	const char *p;
	size_t len = 0;
	int q;

	if (a->local[0] != '\0') {
		q = local_needs_quotes(a->local);
		if (q)
			out_putc(out, outsz, &len, '"');
		for (p = a->local; *p != '\0'; p++) {
			if (q && (*p == '"' || *p == '\\'))
				out_putc(out, outsz, &len, '\\');
			out_putc(out, outsz, &len, *p);
		}
		if (q)
			out_putc(out, outsz, &len, '"');
	}
	if (a->domain[0] != '\0') {
		out_putc(out, outsz, &len, '@');
		for (p = a->domain; *p != '\0'; p++)
			out_putc(out, outsz, &len, *p);
	}
	if (outsz > 0)
		out[len < outsz ? len : outsz - 1] = '\0';
	return len;
}
