/*
 * html - escaping formatter and form decoding (see html.h).
 */
#include "html.h"
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
html_esc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, *s);
		}
	}
}

/* html_number - one of %d %u %zu %lld %llu at *fmt; returns the format
 * after it, or NULL if it is none of those. */
static const char *
html_number(struct buf *b, const char *f, va_list *ap)
{
	if (f[0] == 'd')
		buf_printf(b, "%d", va_arg(*ap, int));
	else if (f[0] == 'u')
		buf_printf(b, "%u", va_arg(*ap, unsigned));
	else if (f[0] == 'z' && f[1] == 'u')
		return buf_printf(b, "%zu", va_arg(*ap, size_t)), f + 2;
	else if (f[0] == 'l' && f[1] == 'l' && f[2] == 'd')
		return buf_printf(b, "%lld", va_arg(*ap, long long)), f + 3;
	else if (f[0] == 'l' && f[1] == 'l' && f[2] == 'u')
		return buf_printf(b, "%llu", va_arg(*ap, unsigned long long)), f + 3;
	else
		return NULL;
	return f + 1;
}

void
html_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	const char *p = fmt, *q;

	va_start(ap, fmt);
	while ((q = strchr(p, '%')) != NULL) {
		buf_add(b, p, (size_t)(q - p));
		q++;
		if (*q == 's') {
			const char *s = va_arg(ap, const char *);
			html_esc(b, s ? s : "");
			p = q + 1;
		} else if (*q == 'r') {
			const char *s = va_arg(ap, const char *);
			buf_adds(b, s ? s : "");
			p = q + 1;
		} else if (*q == '%') {
			buf_addc(b, '%');
			p = q + 1;
		} else if ((p = html_number(b, q, &ap)) == NULL)
			log_panic("html_printf: bad format \"%s\"", fmt);
	}
	buf_adds(b, p);
	va_end(ap);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
url_decode(const char *s, size_t len, int plus)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				goto bad;
			if ((hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				goto bad;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == '\0')
			goto bad;
		*o++ = c;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

void
url_esc(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			buf_addc(b, (char)c);
		else {
			buf_addc(b, '%');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
	}
}

int
form_parse(struct form *f, const char *body, size_t len, size_t max_fields)
{
	const char *p = body, *end = body + len;

	memset(f, 0, sizeof(*f));
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *vstart = eq ? eq + 1 : stop;
		char *name, *value;

		if (stop > p) {
			if (f->n >= max_fields)
				goto bad;
			name = url_decode(p, (size_t)((eq ? eq : stop) - p), 1);
			value = url_decode(vstart, (size_t)(stop - vstart), 1);
			if (name == NULL || value == NULL) {
				free(name);
				free(value);
				goto bad;
			}
			f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
			f->v[f->n++] = (struct form_field){ name, value };
		}
		p = amp ? amp + 1 : end;
	}
	return 0;
bad:
	form_free(f);
	return -1;
}

const char *
form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			return f->v[i].value;
	return NULL;
}

void
form_free(struct form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].value);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}
