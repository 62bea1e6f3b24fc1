/*
 * mime-fields - the Content-* fields of a part (RFC 2045, 2183, 2231,
 * 3066, 1864, 2557).
 *
 * Values are unfolded first, then read by one small scanner that skips
 * comments.  Parameter values are read leniently: an unquoted value runs
 * to the next ';' or white space, because unquoted boundaries such as
 * "----=_Part_1" (a tspecial in a token) are everywhere.  RFC 2231
 * continuations are joined here so that every reader (the parser's
 * boundary, BODYSTRUCTURE, SEARCH) sees one value per parameter.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "rfc2047.h"
#include "rfc5322.h"

#define RAW_PARAMS_MAX	(2 * MIME_MAX_PARAMS)

static int
is_tspecial(unsigned char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static int
is_token_char(unsigned char c)
{
	return c > 32 && c < 127 && !is_tspecial(c);
}

struct scan {
	const char *p, *end;
};

static void
skip_cfws(struct scan *s)
{
	int depth = 0;

	for (; s->p < s->end; s->p++) {
		if (*s->p == '(')
			depth++;
		else if (*s->p == ')' && depth > 0)
			depth--;
		else if (*s->p == '\\' && depth > 0 && s->p + 1 < s->end)
			s->p++;
		else if (depth == 0 && *s->p != ' ' && *s->p != '\t')
			return;
	}
}

static char *
scan_token(struct scan *s)
{
	const char *start;

	skip_cfws(s);
	start = s->p;
	while (s->p < s->end && is_token_char((unsigned char)*s->p))
		s->p++;
	return s->p > start ? xstrndup(start, (size_t)(s->p - start)) : NULL;
}

static char *
scan_value(struct scan *s)
{
	struct buf b = BUF_INIT;
	char *v;

	skip_cfws(s);
	if (s->p < s->end && *s->p == '"') {
		for (s->p++; s->p < s->end && *s->p != '"'; s->p++) {
			if (*s->p == '\\' && s->p + 1 < s->end)
				s->p++;
			buf_addc(&b, *s->p);
		}
		if (s->p < s->end)
			s->p++;
	} else
		while (s->p < s->end && *s->p != ';' && *s->p != ' ' &&
		    *s->p != '\t' && *s->p != '(')
			buf_addc(&b, *s->p++);
	v = xstrndup(b.data ? b.data : "", b.len);
	buf_free(&b);
	return v;
}

struct raw_param {
	char *name;		/* base name */
	char *value;
	int section;		/* -1: no "*N" */
	int encoded;		/* ends in '*' */
};

/* Split "name*N*" into its base, section and encoded flag, in place. */
static void
split_name(struct raw_param *r)
{
	char *star = strchr(r->name, '*');
	char *end;

	r->section = -1;
	r->encoded = 0;
	if (star == NULL)
		return;
	*star++ = '\0';
	if (*star == '\0') {
		r->section = 0;
		r->encoded = 1;
		return;
	}
	r->section = (int)strtol(star, &end, 10);
	if (end == star || r->section < 0 || r->section > 999)
		r->section = 999999;	/* never joined */
	r->encoded = *end == '*';
}

static void
pct_encode(const char *v, struct buf *out)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (is_token_char(*p) && *p != '*' && *p != '\'' && *p != '%')
			buf_addc(out, (char)*p);
		else
			buf_printf(out, "%%%02X", *p);
}

/* Join the sections 0, 1, 2... of raw[i]'s name into one parameter. */
static void
join_sections(struct raw_param *raw, size_t n, size_t i, struct mime_param *p)
{
	struct buf b = BUF_INIT;
	int extended = 0;

	for (size_t j = i; j < n; j++)
		if (strcasecmp(raw[j].name, raw[i].name) == 0 &&
		    raw[j].section >= 0 && raw[j].encoded)
			extended = 1;
	for (int k = 0; ; k++) {
		size_t j;

		for (j = i; j < n; j++)
			if (raw[j].section == k &&
			    strcasecmp(raw[j].name, raw[i].name) == 0)
				break;
		if (j == n)
			break;
		if (extended && k == 0 && !raw[j].encoded)
			buf_adds(&b, "''");
		if (extended && !raw[j].encoded)
			pct_encode(raw[j].value, &b);
		else
			buf_adds(&b, raw[j].value);
	}
	p->name = xstrdup(raw[i].name);
	p->value = xstrndup(b.data ? b.data : "", b.len);
	p->extended = extended;
	buf_free(&b);
}

static int
seen(const struct mime_param *out, size_t n, const char *name)
{
	return mime_param_find(out, n, name) != NULL;
}

static void
merge_params(struct raw_param *raw, size_t n, struct mime_param **out_r,
    size_t *n_r)
{
	struct mime_param *out = NULL;
	size_t nout = 0;

	for (size_t i = 0; i < n && nout < MIME_MAX_PARAMS; i++) {
		if (seen(out, nout, raw[i].name) || raw[i].section > 999)
			continue;
		out = xrealloc(out, (nout + 1) * sizeof(*out));
		if (raw[i].section < 0) {
			out[nout].name = xstrdup(raw[i].name);
			out[nout].value = xstrdup(raw[i].value);
			out[nout].extended = 0;
		} else
			join_sections(raw, n, i, &out[nout]);
		nout++;
	}
	*out_r = out;
	*n_r = nout;
}

/* "; name=value" pairs from s to the end. */
static void
scan_params(struct scan *s, struct mime_param **out_r, size_t *n_r)
{
	struct raw_param raw[RAW_PARAMS_MAX];
	size_t n = 0;

	while (s->p < s->end && n < RAW_PARAMS_MAX) {
		char *name;

		while (s->p < s->end && *s->p != ';')
			s->p++;		/* garbage before the next ';' */
		if (s->p >= s->end)
			break;
		s->p++;
		name = scan_token(s);
		skip_cfws(s);
		if (name == NULL || s->p >= s->end || *s->p != '=') {
			free(name);
			continue;
		}
		s->p++;
		raw[n].name = name;
		raw[n].value = scan_value(s);
		split_name(&raw[n]);
		n++;
	}
	merge_params(raw, n, out_r, n_r);
	for (size_t i = 0; i < n; i++) {
		free(raw[i].name);
		free(raw[i].value);
	}
}

static void
parse_content_type(struct scan *s, struct mime_fields *f)
{
	char *type = scan_token(s), *subtype = NULL;

	skip_cfws(s);
	if (type != NULL && s->p < s->end && *s->p == '/') {
		s->p++;
		subtype = scan_token(s);
	}
	if (subtype == NULL) {
		free(type);
		return;		/* not "token/token": the default applies */
	}
	f->type = type;
	f->subtype = subtype;
	scan_params(s, &f->params, &f->nparams);
}

static void
parse_languages(struct scan *s, struct mime_fields *f)
{
	for (;;) {
		const char *start;

		skip_cfws(s);
		while (s->p < s->end && *s->p == ',') {
			s->p++;
			skip_cfws(s);
		}
		start = s->p;
		while (s->p < s->end && *s->p != ',' && *s->p != ' ' &&
		    *s->p != '\t' && *s->p != '(')
			s->p++;
		if (s->p == start || f->nlanguages >= MIME_MAX_PARAMS)
			return;
		f->languages = xrealloc(f->languages,
		    (f->nlanguages + 1) * sizeof(*f->languages));
		f->languages[f->nlanguages++] = xstrndup(start,
		    (size_t)(s->p - start));
	}
}

static char *
token_only(struct scan *s)
{
	char *t = scan_token(s);

	skip_cfws(s);
	if (t != NULL && s->p < s->end) {	/* "?invalid", "7bit foo" */
		free(t);
		return NULL;
	}
	return t;
}

/* One Content-* field, value unfolded in v; the first of each counts. */
static void
parse_field(const char *name, const struct buf *v, struct mime_fields *f)
{
	struct scan s = { v->data ? v->data : "", (v->data ? v->data : "") + v->len };
	char **text = NULL;

	if (strcasecmp(name, "type") == 0) {
		if (f->type == NULL && f->params == NULL)
			parse_content_type(&s, f);
		return;
	}
	if (strcasecmp(name, "transfer-encoding") == 0) {
		if (f->encoding == NULL)
			f->encoding = token_only(&s);
		return;
	}
	if (strcasecmp(name, "disposition") == 0) {
		if (f->disposition == NULL && (f->disposition = scan_token(&s)))
			scan_params(&s, &f->dparams, &f->ndparams);
		return;
	}
	if (strcasecmp(name, "language") == 0) {
		if (f->languages == NULL)
			parse_languages(&s, f);
		return;
	}
	if (strcasecmp(name, "id") == 0)
		text = &f->id;
	else if (strcasecmp(name, "description") == 0)
		text = &f->description;
	else if (strcasecmp(name, "md5") == 0)
		text = &f->md5;
	else if (strcasecmp(name, "location") == 0)
		text = &f->location;
	if (text != NULL && *text == NULL)
		*text = xstrndup(v->data ? v->data : "", v->len);
}

void
mime_fields_parse(const char *hdr, size_t len, struct mime_fields *f)
{
	struct rfc5322_field fld;
	struct buf v = BUF_INIT;
	size_t pos = 0;

	memset(f, 0, sizeof(*f));
	while (rfc5322_next_field(hdr, len, &pos, &fld)) {
		char name[32];

		if (fld.name_len <= 8 || fld.name_len - 8 >= sizeof(name) ||
		    strncasecmp(fld.name, "Content-", 8) != 0)
			continue;
		memcpy(name, fld.name + 8, fld.name_len - 8);
		name[fld.name_len - 8] = '\0';
		buf_reset(&v);
		rfc5322_unfold(fld.value, fld.value_len, &v);
		parse_field(name, &v, f);
	}
	buf_free(&v);
}

void
mime_part_fields(const struct mime_tree *t, uint32_t part,
    struct mime_fields *f)
{
	const struct mime_part *m = &t->parts[part];
	const char *type = "text", *subtype = "plain";

	mime_fields_parse(t->data + m->hdr_off, m->hdr_len, f);
	if (m->flags & MIME_F_DEGRADED) {
		type = "application";
		subtype = "octet-stream";
	} else if (f->type != NULL)
		return;
	else if (m->flags & MIME_F_DIGEST_CHILD) {
		type = "message";
		subtype = "rfc822";
	}
	free(f->type);
	free(f->subtype);
	f->type = xstrdup(type);
	f->subtype = xstrdup(subtype);
}

static void
params_free(struct mime_param *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

void
mime_fields_clear(struct mime_fields *f)
{
	free(f->type);
	free(f->subtype);
	params_free(f->params, f->nparams);
	free(f->id);
	free(f->description);
	free(f->encoding);
	free(f->md5);
	free(f->location);
	free(f->disposition);
	params_free(f->dparams, f->ndparams);
	for (size_t i = 0; i < f->nlanguages; i++)
		free(f->languages[i]);
	free(f->languages);
	memset(f, 0, sizeof(*f));
}

const struct mime_param *
mime_param_find(const struct mime_param *p, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(p[i].name, name) == 0)
			return &p[i];
	return NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void
mime_param_decode(const struct mime_param *p, struct buf *out, char *lang,
    size_t langsz)
{
	const char *q1, *q2, *s;
	struct buf raw = BUF_INIT;
	char *charset;

	if (lang != NULL && langsz > 0)
		lang[0] = '\0';
	if (!p->extended || (q1 = strchr(p->value, '\'')) == NULL ||
	    (q2 = strchr(q1 + 1, '\'')) == NULL) {
		rfc2047_decode(p->value, strlen(p->value), out);
		return;
	}
	if (lang != NULL && langsz > 0) {
		size_t n = (size_t)(q2 - q1 - 1) < langsz - 1 ?
		    (size_t)(q2 - q1 - 1) : langsz - 1;

		memcpy(lang, q1 + 1, n);
		lang[n] = '\0';
	}
	for (s = q2 + 1; *s; s++) {
		int hi, lo;

		if (*s == '%' && (hi = hexval(s[1])) >= 0 &&
		    (lo = hexval(s[2])) >= 0) {
			buf_addc(&raw, (char)(hi << 4 | lo));
			s += 2;
		} else
			buf_addc(&raw, *s);
	}
	charset = xstrndup(p->value, (size_t)(q1 - p->value));
	rfc2047_to_utf8(charset, raw.data ? raw.data : "", raw.len, out);
	free(charset);
	buf_free(&raw);
}
