/*
 * rfc5322 - header fields, address lists and dates.
 *
 * The address parser is a small tokenizer (atoms, quoted strings, domain
 * literals, specials; comments skipped but remembered) under a loop that
 * reads one entry at a time.  It is built for what mail really holds:
 * unquoted dots and commas in names, missing commas between addresses
 * ("a@b c@d" is two), bare local parts ("To: someone"), unclosed quotes,
 * angle brackets and groups, raw 8-bit.  It never fails: whatever it
 * cannot place is dropped.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rfc5322.h"

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

int
rfc5322_next_field(const char *hdr, size_t len, size_t *pos,
    struct rfc5322_field *f_r)
{
	size_t p = *pos, start = p, eol, colon;
	const char *nl;

	if (p >= len || hdr[p] == '\n' || (hdr[p] == '\r' && p + 1 < len &&
	    hdr[p + 1] == '\n'))
		return 0;
	/* the field runs until a line end not followed by white space */
	for (;;) {
		nl = memchr(hdr + p, '\n', len - p);
		if (nl == NULL) {
			p = len;
			break;
		}
		p = (size_t)(nl - hdr) + 1;
		if (p >= len || !is_wsp(hdr[p]))
			break;
	}
	eol = p;
	if (eol > start && hdr[eol - 1] == '\n')
		eol--;
	if (eol > start && hdr[eol - 1] == '\r')
		eol--;
	colon = start;
	while (colon < eol && hdr[colon] != ':')
		colon++;
	f_r->name = hdr + start;
	f_r->off = start;
	f_r->len = p - start;
	if (colon == eol) {
		f_r->name_len = eol - start;
		f_r->value = hdr + eol;
		f_r->value_len = 0;
	} else {
		f_r->name_len = colon - start;
		while (f_r->name_len > 0 && is_wsp(f_r->name[f_r->name_len - 1]))
			f_r->name_len--;	/* obs-field-name: "Subject :" */
		f_r->value = hdr + colon + 1;
		f_r->value_len = eol - colon - 1;
	}
	*pos = p;
	return 1;
}

int
rfc5322_name_is(const struct rfc5322_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && strncasecmp(f->name, name, n) == 0;
}

int
rfc5322_find(const char *hdr, size_t len, const char *name,
    struct rfc5322_field *f_r)
{
	size_t pos = 0;

	while (rfc5322_next_field(hdr, len, &pos, f_r))
		if (rfc5322_name_is(f_r, name))
			return 1;
	return 0;
}

void
rfc5322_unfold(const char *v, size_t n, struct buf *out)
{
	size_t start = out->len;

	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		if (out->len == start && is_wsp(v[i]))
			continue;
		buf_addc(out, v[i]);
	}
	while (out->len > start && is_wsp(out->data[out->len - 1]))
		out->len--;
	buf_addc(out, '\0');	/* keep data[len] = '\0' after trimming */
	out->len--;
}

/* ---- address lists ---- */

enum tok_type { T_END, T_WORD, T_QUOTED, T_LITERAL, T_SPECIAL };

struct lexer {
	const char *p, *end;
	struct buf text;	/* the token's text (unquoted) */
	struct buf comment;	/* the last comment's text */
	enum tok_type type;
	char c;			/* T_SPECIAL: the character */
	int space;		/* white space or a comment came before it */
	int pushed;		/* the token is to be read again */
};

static int
is_special(unsigned char c)
{
	return strchr("()<>[]:;@\\,.\"", c) != NULL;
}

static void
skip_comment(struct lexer *lx)
{
	int depth = 0;

	buf_reset(&lx->comment);
	for (; lx->p < lx->end; lx->p++) {
		char c = *lx->p;

		if (c == '\\' && lx->p + 1 < lx->end)
			c = *++lx->p;
		else if (c == '(' && depth++ == 0)
			continue;
		else if (c == ')' && --depth == 0) {
			lx->p++;
			break;
		}
		if (c != '\r' && c != '\n')
			buf_addc(&lx->comment, c);
	}
}

/* Read up to the closing delimiter, unescaping; unclosed: to the end. */
static void
read_delimited(struct lexer *lx, char close)
{
	for (lx->p++; lx->p < lx->end && *lx->p != close; lx->p++) {
		if (*lx->p == '\\' && lx->p + 1 < lx->end && close == '"')
			lx->p++;
		if (*lx->p != '\r' && *lx->p != '\n')
			buf_addc(&lx->text, *lx->p);
	}
	if (lx->p < lx->end)
		lx->p++;
}

static enum tok_type
next_token(struct lexer *lx)
{
	if (lx->pushed) {
		lx->pushed = 0;
		return lx->type;
	}
	lx->space = 0;
	for (;;) {
		while (lx->p < lx->end && (is_wsp(*lx->p) || *lx->p == '\r' ||
		    *lx->p == '\n')) {
			lx->p++;
			lx->space = 1;
		}
		if (lx->p >= lx->end || *lx->p != '(')
			break;
		skip_comment(lx);
		lx->space = 1;
	}
	buf_reset(&lx->text);
	if (lx->p >= lx->end)
		return lx->type = T_END;
	if (*lx->p == '"') {
		read_delimited(lx, '"');
		return lx->type = T_QUOTED;
	}
	if (*lx->p == '[') {
		buf_addc(&lx->text, '[');
		read_delimited(lx, ']');
		buf_addc(&lx->text, ']');
		return lx->type = T_LITERAL;
	}
	if (is_special((unsigned char)*lx->p)) {
		lx->c = *lx->p++;
		return lx->type = T_SPECIAL;
	}
	while (lx->p < lx->end && !is_special((unsigned char)*lx->p) &&
	    !is_wsp(*lx->p) && *lx->p != '\r' && *lx->p != '\n')
		buf_addc(&lx->text, *lx->p++);
	return lx->type = T_WORD;
}

static int
special_is(struct lexer *lx, char c)
{
	return lx->type == T_SPECIAL && lx->c == c;
}

struct addr_list {
	struct rfc5322_addr *a;
	size_t n, cap;
};

static char *
dup_buf(const struct buf *b)
{
	return b->len > 0 ? xstrndup(b->data, b->len) : NULL;
}

static void
emit(struct addr_list *l, enum rfc5322_addr_kind kind, const struct buf *name,
    const struct buf *route, const struct buf *mailbox, const struct buf *host)
{
	struct rfc5322_addr *a;

	if (l->n >= RFC5322_ADDR_MAX - 1 && kind != RFC5322_GROUP_END)
		return;		/* one slot kept for a group's end */
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->a = xrealloc(l->a, l->cap * sizeof(*l->a));
	}
	a = &l->a[l->n++];
	a->kind = kind;
	a->name = name ? dup_buf(name) : NULL;
	a->route = route ? dup_buf(route) : NULL;
	a->mailbox = mailbox ? dup_buf(mailbox) : NULL;
	a->host = host ? dup_buf(host) : NULL;
}

/* domain = atoms and literals joined by dots; stops before anything else */
static void
read_domain(struct lexer *lx, struct buf *host)
{
	int want_part = 1;

	for (;;) {
		enum tok_type t = next_token(lx);

		if ((t == T_WORD || t == T_LITERAL) && want_part) {
			buf_add(host, lx->text.data, lx->text.len);
			want_part = 0;
		} else if (t == T_SPECIAL && lx->c == '.') {
			buf_addc(host, '.');
			want_part = 1;
		} else {
			lx->pushed = 1;
			return;
		}
	}
}

/* "<" [route ":"] local "@" domain ">", the '<' read */
static void
read_angle(struct lexer *lx, struct buf *route, struct buf *local,
    struct buf *host)
{
	enum tok_type t;

	while ((t = next_token(lx)) != T_END) {
		if (t == T_SPECIAL && lx->c == '>')
			return;
		if (t == T_SPECIAL && lx->c == '@' && local->len == 0 &&
		    host->len == 0) {
			if (route->len > 0)
				buf_addc(route, ',');
			buf_addc(route, '@');
			read_domain(lx, route);
		} else if (t == T_SPECIAL && lx->c == '@') {
			read_domain(lx, host);
		} else if (t == T_SPECIAL && (lx->c == ':' || lx->c == ',') &&
		    route->len > 0 && local->len == 0)
			continue;	/* route separators */
		else if (t == T_WORD || t == T_QUOTED)
			buf_add(local, lx->text.data, lx->text.len);
		else if (t == T_SPECIAL && lx->c == '.')
			buf_addc(local, '.');
	}
}

struct entry {
	struct buf phrase, local, route, host;
	int words;
};

static void
entry_reset(struct entry *e)
{
	buf_reset(&e->phrase);
	buf_reset(&e->local);
	buf_reset(&e->route);
	buf_reset(&e->host);
	e->words = 0;
}

static void
entry_word(struct entry *e, struct lexer *lx)
{
	if (lx->space && e->phrase.len > 0)
		buf_addc(&e->phrase, ' ');
	if (lx->type == T_SPECIAL)
		buf_addc(&e->phrase, lx->c);
	else
		buf_add(&e->phrase, lx->text.data, lx->text.len);
	if (lx->type == T_SPECIAL)
		buf_addc(&e->local, lx->c);
	else
		buf_add(&e->local, lx->text.data, lx->text.len);
	e->words++;
}

/* Skip the rest of an entry that is complete (after "<...>"). */
static void
skip_to_separator(struct lexer *lx)
{
	enum tok_type t;

	while ((t = next_token(lx)) != T_END)
		if (t == T_SPECIAL && (lx->c == ',' || lx->c == ';')) {
			lx->pushed = 1;
			return;
		}
}

static void
parse_list(struct lexer *lx, struct addr_list *l)
{
	struct entry e = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, 0 };
	int in_group = 0;

	for (;;) {
		enum tok_type t = next_token(lx);

		if (t == T_WORD || t == T_QUOTED || special_is(lx, '.')) {
			if (e.words == 0)
				buf_reset(&lx->comment);
			entry_word(&e, lx);
		} else if (special_is(lx, '<')) {
			buf_reset(&e.local);
			read_angle(lx, &e.route, &e.local, &e.host);
			emit(l, RFC5322_MAILBOX, &e.phrase, &e.route, &e.local,
			    &e.host);
			entry_reset(&e);
			skip_to_separator(lx);
		} else if (special_is(lx, '@')) {
			read_domain(lx, &e.host);
			next_token(lx);		/* a trailing comment is the name */
			lx->pushed = 1;
			if (e.local.len > 0 || e.host.len > 0)	/* not a stray '@' */
				emit(l, RFC5322_MAILBOX, &lx->comment, NULL,
				    &e.local, &e.host);
			entry_reset(&e);
			buf_reset(&lx->comment);
		} else if (special_is(lx, ':') && !in_group) {
			emit(l, RFC5322_GROUP_START, &e.phrase, NULL, NULL, NULL);
			entry_reset(&e);
			in_group = 1;
		} else if (t == T_END || special_is(lx, ',') ||
		    special_is(lx, ';')) {
			if (e.words > 0)
				emit(l, RFC5322_MAILBOX, NULL, NULL, &e.local,
				    NULL);
			entry_reset(&e);
			if (in_group && t == T_END)
				emit(l, RFC5322_GROUP_END, NULL, NULL, NULL, NULL);
			else if (in_group && special_is(lx, ';')) {
				emit(l, RFC5322_GROUP_END, NULL, NULL, NULL, NULL);
				in_group = 0;
			}
			if (t == T_END)
				break;
		}
	}
	buf_free(&e.phrase);
	buf_free(&e.local);
	buf_free(&e.route);
	buf_free(&e.host);
}

void
rfc5322_parse_addresses(const char *v, size_t n,
    struct rfc5322_addr **addrs_r, size_t *n_r)
{
	struct lexer lx = { v, v + n, BUF_INIT, BUF_INIT, T_END, 0, 0, 0 };
	struct addr_list l = { NULL, 0, 0 };

	parse_list(&lx, &l);
	buf_free(&lx.text);
	buf_free(&lx.comment);
	*addrs_r = l.a;
	*n_r = l.n;
}

void
rfc5322_addrs_free(struct rfc5322_addr **addrs, size_t n)
{
	struct rfc5322_addr *a = *addrs;

	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].route);
		free(a[i].mailbox);
		free(a[i].host);
	}
	free(a);
	*addrs = NULL;
}

/* ---- dates ---- */

struct date_lexer {
	char s[128];		/* the value, comments and folding removed */
	size_t pos, len;
};

static void
date_lexer_init(struct date_lexer *d, const char *v, size_t n)
{
	int depth = 0;

	d->len = d->pos = 0;
	for (size_t i = 0; i < n && d->len < sizeof(d->s) - 1; i++) {
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0)
			d->s[d->len++] = v[i] == '\r' || v[i] == '\n' ||
			    v[i] == '\t' ? ' ' : v[i];
	}
	d->s[d->len] = '\0';
}

static void
date_skip(struct date_lexer *d, const char *set)
{
	while (d->pos < d->len && strchr(set, d->s[d->pos]) != NULL)
		d->pos++;
}

/* digits: 1..maxlen of them, else -1 */
static int
date_num(struct date_lexer *d, size_t maxlen, size_t *len_r)
{
	int v = 0;
	size_t n = 0;

	while (d->pos < d->len && d->s[d->pos] >= '0' && d->s[d->pos] <= '9' &&
	    n < maxlen) {
		v = v * 10 + d->s[d->pos++] - '0';
		n++;
	}
	if (len_r != NULL)
		*len_r = n;
	return n > 0 ? v : -1;
}

static size_t
date_alpha(struct date_lexer *d, char *out, size_t outsz)
{
	size_t n = 0;

	while (d->pos < d->len && ((d->s[d->pos] | 0x20) >= 'a' &&
	    (d->s[d->pos] | 0x20) <= 'z')) {
		if (n + 1 < outsz)
			out[n++] = (char)(d->s[d->pos] | 0x20);
		d->pos++;
	}
	out[n] = '\0';
	return n;
}

static int
month_index(const char *m)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";

	for (int i = 0; i < 12; i++)
		if (strncmp(m, months + 3 * i, 3) == 0)
			return i;
	return -1;
}

/* zone in minutes east; obsolete names of RFC 5322 §4.3 */
static int
date_zone(struct date_lexer *d)
{
	static const struct { const char *name; int min; } zones[] = {
		{ "ut", 0 }, { "gmt", 0 }, { "utc", 0 }, { "z", 0 },
		{ "edt", -240 }, { "est", -300 }, { "cdt", -300 },
		{ "cst", -360 }, { "mdt", -360 }, { "mst", -420 },
		{ "pdt", -420 }, { "pst", -480 },
	};
	char name[8];
	size_t n;
	int sign, v;

	date_skip(d, " ");
	if (d->pos < d->len && (d->s[d->pos] == '+' || d->s[d->pos] == '-')) {
		sign = d->s[d->pos++] == '-' ? -1 : 1;
		v = date_num(d, 4, &n);
		if (n != 4 || v % 100 > 59)
			return 0;
		return sign * (v / 100 * 60 + v % 100);
	}
	date_alpha(d, name, sizeof(name));
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strcmp(name, zones[i].name) == 0)
			return zones[i].min;
	return 0;	/* military and unknown zones: RFC 5322 says -0000 */
}

/* days since 1970-01-01 of a proleptic Gregorian date (month 0-11) */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	m += 1;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
rfc5322_parse_date(const char *v, size_t n, int64_t *time_r, int *tz_r)
{
	struct date_lexer d;
	char word[16];
	size_t save, ylen;
	int day, mon, year, hh, mm, ss = 0, tz;

	date_lexer_init(&d, v, n);
	date_skip(&d, " ");
	save = d.pos;
	if (date_alpha(&d, word, sizeof(word)) > 0)	/* day name */
		date_skip(&d, " ,");
	else
		d.pos = save;
	if ((day = date_num(&d, 2, NULL)) < 1 || day > 31)
		return -1;
	date_skip(&d, " -");
	if (date_alpha(&d, word, sizeof(word)) < 3 ||
	    (mon = month_index(word)) < 0)
		return -1;
	date_skip(&d, " -");
	if ((year = date_num(&d, 4, &ylen)) < 0)
		return -1;
	if (ylen == 2)
		year += year < 50 ? 2000 : 1900;
	else if (ylen == 3)
		year += 1900;
	date_skip(&d, " ");
	if ((hh = date_num(&d, 2, NULL)) < 0 || hh > 23)
		return -1;
	date_skip(&d, " ");
	if (d.pos >= d.len || d.s[d.pos++] != ':')
		return -1;
	date_skip(&d, " ");
	if ((mm = date_num(&d, 2, NULL)) < 0 || mm > 59)
		return -1;
	save = d.pos;
	date_skip(&d, " ");
	if (d.pos < d.len && d.s[d.pos] == ':') {
		d.pos++;
		date_skip(&d, " ");
		if ((ss = date_num(&d, 2, NULL)) < 0 || ss > 60)
			return -1;
	} else
		d.pos = save;
	tz = date_zone(&d);
	*time_r = days_from_civil(year, mon, day) * 86400 + hh * 3600 +
	    mm * 60 + ss - (int64_t)tz * 60;
	*tz_r = tz;
	return 0;
}
