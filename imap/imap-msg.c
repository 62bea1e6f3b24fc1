/*
 * imap-msg - ENVELOPE, BODY, BODYSTRUCTURE and BODY[section] of a stored
 * message.
 *
 * The output follows Dovecot where RFC 3501 leaves a choice, because
 * clients have been tested against it for twenty years: types and
 * parameter names as written, all four extension items always present,
 * MISSING_MAILBOX / MISSING_DOMAIN for half addresses, a language list
 * even for one language, the default charset after the other parameters.
 * message/global is written as a basic body: RFC 9051 gives it an
 * envelope and a body like message/rfc822, but the text is cached for
 * IMAP4rev1 clients too, whose grammar (RFC 3501 media-message) would
 * read that as a broken basic body.  Its parts stay reachable by
 * number.  A part that the parser kept as a leaf although
 * its type is multipart or message (mime.h: MIME_F_DEGRADED) is written as
 * application/octet-stream: a client must not be promised an envelope or
 * children that are not there.  The writers recurse once per level, at
 * most MIME_MAX_DEPTH.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap-msg.h"
#include "rfc5322.h"

void
imap_msg_nstring(struct buf *out, const char *s, size_t n)
{
	int quoted = n <= IMAP_MSG_QUOTED_MAX;

	if (s == NULL) {
		buf_adds(out, "NIL");
		return;
	}
	for (size_t i = 0; i < n && quoted; i++) {
		unsigned char c = (unsigned char)s[i];

		quoted = (c >= 0x20 && c < 0x7f) || c == '\t';
	}
	if (quoted) {
		buf_addc(out, '"');
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_addc(out, '\\');
			buf_addc(out, s[i]);
		}
		buf_addc(out, '"');
		return;
	}
	buf_printf(out, "{%zu}\r\n", n);
	for (size_t i = 0; i < n; i++)
		buf_addc(out, s[i] == '\0' ? (char)0x80 : s[i]);
}

static void
nstr(struct buf *out, const char *s)
{
	imap_msg_nstring(out, s, s != NULL ? strlen(s) : 0);
}

/* ---- ENVELOPE ---- */

static int
find_unfolded(const char *hdr, size_t len, const char *name, struct buf *v)
{
	struct rfc5322_field f;

	buf_reset(v);
	if (!rfc5322_find(hdr, len, name, &f))
		return 0;
	rfc5322_unfold(f.value, f.value_len, v);
	return 1;
}

static void
env_string(struct buf *out, const char *hdr, size_t len, const char *name)
{
	struct buf v = BUF_INIT;

	if (find_unfolded(hdr, len, name, &v))
		imap_msg_nstring(out, v.data ? v.data : "", v.len);
	else
		buf_adds(out, "NIL");
	buf_free(&v);
}

static void
write_address(struct buf *out, const struct rfc5322_addr *a)
{
	buf_addc(out, '(');
	switch (a->kind) {
	case RFC5322_GROUP_START:
		buf_adds(out, "NIL NIL ");
		nstr(out, a->name != NULL ? a->name : "");
		buf_adds(out, " NIL");
		break;
	case RFC5322_GROUP_END:
		buf_adds(out, "NIL NIL NIL NIL");
		break;
	case RFC5322_MAILBOX:
		nstr(out, a->name);
		buf_addc(out, ' ');
		nstr(out, a->route);
		buf_addc(out, ' ');
		nstr(out, a->mailbox != NULL ? a->mailbox : "MISSING_MAILBOX");
		buf_addc(out, ' ');
		nstr(out, a->host != NULL ? a->host : "MISSING_DOMAIN");
		break;
	}
	buf_addc(out, ')');
}

/* The address list of the first field named name; 0 if absent or empty. */
static int
env_addresses(struct buf *out, const char *hdr, size_t len, const char *name)
{
	struct rfc5322_field f;
	struct rfc5322_addr *a;
	size_t n;

	if (!rfc5322_find(hdr, len, name, &f))
		return 0;
	rfc5322_parse_addresses(f.value, f.value_len, &a, &n);
	if (n > 0) {
		buf_addc(out, '(');
		for (size_t i = 0; i < n; i++)
			write_address(out, &a[i]);
		buf_addc(out, ')');
	}
	rfc5322_addrs_free(&a, n);
	return n > 0;
}

void
imap_msg_envelope(const char *hdr, size_t len, struct buf *out)
{
	static const char *const lists[] = { "To", "Cc", "Bcc" };
	struct buf from = BUF_INIT;

	buf_addc(out, '(');
	env_string(out, hdr, len, "Date");
	buf_addc(out, ' ');
	env_string(out, hdr, len, "Subject");
	buf_addc(out, ' ');
	if (!env_addresses(&from, hdr, len, "From"))
		buf_adds(&from, "NIL");
	buf_add(out, from.data, from.len);
	buf_addc(out, ' ');
	if (!env_addresses(out, hdr, len, "Sender"))
		buf_add(out, from.data, from.len);
	buf_addc(out, ' ');
	if (!env_addresses(out, hdr, len, "Reply-To"))
		buf_add(out, from.data, from.len);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		buf_addc(out, ' ');
		if (!env_addresses(out, hdr, len, lists[i]))
			buf_adds(out, "NIL");
	}
	buf_addc(out, ' ');
	env_string(out, hdr, len, "In-Reply-To");
	buf_addc(out, ' ');
	env_string(out, hdr, len, "Message-ID");
	buf_addc(out, ')');
	buf_free(&from);
}

/* ---- BODY and BODYSTRUCTURE ---- */

static void write_part(const struct mime_tree *t, uint32_t idx, int ext,
    struct buf *out);

static void
write_params(struct buf *out, const struct mime_param *p, size_t n,
    int add_charset)
{
	if (n == 0 && !add_charset) {
		buf_adds(out, "NIL");
		return;
	}
	buf_addc(out, '(');
	for (size_t i = 0; i < n; i++) {
		struct buf name = BUF_INIT;

		if (i > 0)
			buf_addc(out, ' ');
		buf_adds(&name, p[i].name);
		if (p[i].extended)
			buf_addc(&name, '*');
		imap_msg_nstring(out, name.data, name.len);
		buf_addc(out, ' ');
		nstr(out, p[i].value);
		buf_free(&name);
	}
	if (add_charset)
		buf_adds(out, n > 0 ? " \"charset\" \"us-ascii\"" :
		    "\"charset\" \"us-ascii\"");
	buf_addc(out, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void
write_dsp_lang_loc(struct buf *out, const struct mime_fields *f)
{
	if (f->disposition != NULL) {
		buf_addc(out, '(');
		nstr(out, f->disposition);
		buf_addc(out, ' ');
		write_params(out, f->dparams, f->ndparams, 0);
		buf_addc(out, ')');
	} else
		buf_adds(out, "NIL");
	buf_addc(out, ' ');
	if (f->nlanguages > 0) {
		buf_addc(out, '(');
		for (size_t i = 0; i < f->nlanguages; i++) {
			if (i > 0)
				buf_addc(out, ' ');
			nstr(out, f->languages[i]);
		}
		buf_addc(out, ')');
	} else
		buf_adds(out, "NIL");
	buf_addc(out, ' ');
	nstr(out, f->location);
}

static void
write_multipart(const struct mime_tree *t, uint32_t idx, int ext,
    const struct mime_fields *f, struct buf *out)
{
	for (uint32_t c = t->parts[idx].first_child; c != MIME_NONE;
	    c = t->parts[c].next)
		write_part(t, c, ext, out);
	buf_addc(out, ' ');
	nstr(out, f->subtype);
	if (!ext)
		return;
	buf_addc(out, ' ');
	write_params(out, f->params, f->nparams, 0);
	buf_addc(out, ' ');
	write_dsp_lang_loc(out, f);
}

static void
write_single(const struct mime_tree *t, uint32_t idx, int ext,
    const struct mime_fields *f, struct buf *out)
{
	const struct mime_part *m = &t->parts[idx];
	int text = strcasecmp(f->type, "text") == 0;
	int rfc822 = m->kind == MIME_MESSAGE &&
	    strcasecmp(f->subtype, "rfc822") == 0;

	nstr(out, f->type);
	buf_addc(out, ' ');
	nstr(out, f->subtype);
	buf_addc(out, ' ');
	write_params(out, f->params, f->nparams,
	    text && mime_param_find(f->params, f->nparams, "charset") == NULL);
	buf_addc(out, ' ');
	nstr(out, f->id);
	buf_addc(out, ' ');
	nstr(out, f->description);
	buf_addc(out, ' ');
	nstr(out, f->encoding != NULL ? f->encoding : "7bit");
	buf_printf(out, " %llu", (unsigned long long)m->body_vlen);
	if (rfc822) {
		const struct mime_part *e = &t->parts[m->first_child];

		buf_addc(out, ' ');
		imap_msg_envelope(t->data + e->hdr_off, e->hdr_len, out);
		buf_addc(out, ' ');
		write_part(t, m->first_child, ext, out);
	}
	if (text || rfc822)
		buf_printf(out, " %llu", (unsigned long long)m->body_lines);
	if (!ext)
		return;
	buf_addc(out, ' ');
	nstr(out, f->md5);
	buf_addc(out, ' ');
	write_dsp_lang_loc(out, f);
}

static void
write_part(const struct mime_tree *t, uint32_t idx, int ext, struct buf *out)
{
	struct mime_fields f;

	mime_part_fields(t, idx, &f);
	buf_addc(out, '(');
	if (t->parts[idx].kind == MIME_MULTIPART)
		write_multipart(t, idx, ext, &f, out);
	else
		write_single(t, idx, ext, &f, out);
	buf_addc(out, ')');
	mime_fields_clear(&f);
}

void
imap_msg_bodystructure(const struct mime_tree *t, struct buf *out)
{
	write_part(t, 0, 1, out);
}

void
imap_msg_body(const struct mime_tree *t, struct buf *out)
{
	write_part(t, 0, 0, out);
}

/* ---- BODY[section] ---- */

static int
keyword(const char **s, const char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - *s) < n || strncasecmp(*s, word, n) != 0)
		return 0;
	*s += n;
	return 1;
}

/* "(" astring *(SP astring) ")" with atoms or quoted strings. */
static int
parse_field_list(const char *s, const char *end, struct imap_section *sec)
{
	if (s >= end || *s++ != ' ' || s >= end || *s++ != '(')
		return -1;
	for (;;) {
		struct buf name = BUF_INIT;

		if (s < end && *s == '"') {
			for (s++; s < end && *s != '"'; s++) {
				if (*s == '\\' && s + 1 < end)
					s++;
				buf_addc(&name, *s);
			}
			if (s++ >= end) {
				buf_free(&name);
				return -1;
			}
		} else
			while (s < end && *s != ' ' && *s != ')' && *s != '(' &&
			    *s != '"' && (unsigned char)*s > 32 &&
			    (unsigned char)*s < 127)
				buf_addc(&name, *s++);
		if (name.len == 0 || sec->nfields >= IMAP_SECTION_FIELDS_MAX) {
			buf_free(&name);
			return -1;
		}
		sec->fields = xrealloc(sec->fields,
		    (sec->nfields + 1) * sizeof(*sec->fields));
		sec->fields[sec->nfields++] = xstrndup(name.data, name.len);
		buf_free(&name);
		if (s < end && *s == ')')
			return s + 1 == end ? 0 : -1;
		if (s >= end || *s++ != ' ')
			return -1;
	}
}

static int
parse_text(const char *s, const char *end, struct imap_section *sec)
{
	if (keyword(&s, end, "HEADER.FIELDS.NOT")) {
		sec->text = IMAP_SECTION_HEADER_FIELDS_NOT;
		return parse_field_list(s, end, sec);
	}
	if (keyword(&s, end, "HEADER.FIELDS")) {
		sec->text = IMAP_SECTION_HEADER_FIELDS;
		return parse_field_list(s, end, sec);
	}
	if (keyword(&s, end, "HEADER"))
		sec->text = IMAP_SECTION_HEADER;
	else if (keyword(&s, end, "TEXT"))
		sec->text = IMAP_SECTION_TEXT;
	else if (keyword(&s, end, "MIME") && sec->depth > 0)
		sec->text = IMAP_SECTION_MIME;
	else
		return -1;
	return s == end ? 0 : -1;
}

int
imap_section_parse(const char *s, size_t n, struct imap_section *sec)
{
	const char *end = s + n;

	memset(sec, 0, sizeof(*sec));
	while (s < end && *s >= '0' && *s <= '9') {
		uint64_t v = 0;

		while (s < end && *s >= '0' && *s <= '9' && v <= UINT32_MAX)
			v = v * 10 + (uint64_t)(*s++ - '0');
		if (v == 0 || v > UINT32_MAX || sec->depth >= MIME_MAX_DEPTH)
			goto bad;
		sec->path[sec->depth++] = (uint32_t)v;
		if (s == end)
			return 0;
		if (*s++ != '.')
			goto bad;
	}
	if (s == end && sec->depth == 0)
		return 0;
	if (parse_text(s, end, sec) == 0)
		return 0;
bad:
	imap_section_clear(sec);
	return -1;
}

void
imap_section_clear(struct imap_section *sec)
{
	for (size_t i = 0; i < sec->nfields; i++)
		free(sec->fields[i]);
	free(sec->fields);
	sec->fields = NULL;
	sec->nfields = 0;
}

static int
field_listed(const struct imap_section *sec, const struct rfc5322_field *f)
{
	for (size_t i = 0; i < sec->nfields; i++)
		if (rfc5322_name_is(f, sec->fields[i]))
			return 1;
	return 0;
}

/* The matching fields of a header as stored, then an empty line. */
static void
header_fields(const struct mime_tree *t, const struct mime_part *m,
    const struct imap_section *sec, struct mime_ranges *rs)
{
	const char *hdr = t->data + m->hdr_off;
	int not = sec->text == IMAP_SECTION_HEADER_FIELDS_NOT;
	struct rfc5322_field f;
	size_t pos = 0;

	while (rfc5322_next_field(hdr, m->hdr_len, &pos, &f)) {
		if (field_listed(sec, &f) == not)
			continue;
		mime_ranges_add(rs, t, m->hdr_off + f.off, f.len, UINT64_MAX);
		if (hdr[f.off + f.len - 1] != '\n')
			mime_ranges_add_crlf(rs);	/* the last line had none */
	}
	mime_ranges_add_crlf(rs);
}

int
imap_msg_section(const struct mime_tree *t, const struct imap_section *sec,
    struct mime_ranges *rs)
{
	uint32_t idx = mime_part_number(t, sec->path, sec->depth);
	const struct mime_part *m;

	if (idx == MIME_NONE)
		return -1;
	m = &t->parts[idx];
	if (sec->text == IMAP_SECTION_BODY) {
		if (sec->depth == 0)
			mime_ranges_add(rs, t, m->hdr_off, m->hdr_len, m->hdr_vlen);
		mime_ranges_add(rs, t, m->body_off, m->body_len, m->body_vlen);
		return 0;
	}
	if (sec->text == IMAP_SECTION_MIME) {
		mime_ranges_add(rs, t, m->hdr_off, m->hdr_len, m->hdr_vlen);
		return 0;
	}
	if (sec->depth > 0) {		/* HEADER/TEXT of an embedded message */
		if (m->kind != MIME_MESSAGE)
			return -1;
		m = &t->parts[m->first_child];
	}
	if (sec->text == IMAP_SECTION_HEADER)
		mime_ranges_add(rs, t, m->hdr_off, m->hdr_len, m->hdr_vlen);
	else if (sec->text == IMAP_SECTION_TEXT)
		mime_ranges_add(rs, t, m->body_off, m->body_len, m->body_vlen);
	else
		header_fields(t, m, sec, rs);
	return 0;
}

void
imap_msg_cache_fill(const struct mime_tree *t, struct index_cache *c)
{
	const struct mime_part *p0 = &t->parts[0];

	buf_reset(&c->envelope);
	buf_reset(&c->bodystructure);
	buf_reset(&c->body);
	buf_reset(&c->mime);
	imap_msg_envelope(t->data + p0->hdr_off, (size_t)p0->hdr_len, &c->envelope);
	imap_msg_bodystructure(t, &c->bodystructure);
	imap_msg_body(t, &c->body);
	mime_tree_serialize(t, &c->mime);
}
