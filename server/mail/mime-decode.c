/*
 * mime-decode - base64 and quoted-printable as push converters.
 *
 * Lenient where mail is sloppy (lower-case hex, base64 without padding or
 * with line noise), and never guessing: an '=' that is no escape is
 * written as it is, which is what a reader of the raw text would see.
 * Trailing white space on quoted-printable lines is kept: RFC 2045 lets a
 * decoder strip it, but keeping it is byte-exact with what was sent.
 */
#include <string.h>
#include <strings.h>

#include "mime-decode.h"
#include "base64.h"
#include "rfc2047.h"

enum qp_state {
	QP_TEXT,
	QP_EQ,		/* '=' read */
	QP_EQ_HEX,	/* '=' and one hex digit read */
	QP_EQ_CR,	/* '=' CR read: a soft line break if LF follows */
};

enum mime_cte
mime_cte_parse(const char *encoding)
{
	static const struct { const char *name; enum mime_cte cte; } names[] = {
		{ "7bit", MIME_CTE_7BIT }, { "8bit", MIME_CTE_8BIT },
		{ "binary", MIME_CTE_BINARY },
		{ "quoted-printable", MIME_CTE_QP }, { "base64", MIME_CTE_BASE64 },
	};

	if (encoding == NULL)
		return MIME_CTE_7BIT;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(encoding, names[i].name) == 0)
			return names[i].cte;
	return MIME_CTE_UNKNOWN;
}

void
mime_decoder_init(struct mime_decoder *d, enum mime_cte cte)
{
	memset(d, 0, sizeof(*d));
	d->cte = cte;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void
feed_base64(struct mime_decoder *d, const char *in, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		int v = base64_value((unsigned char)in[i]);

		if (in[i] == '=') {	/* padding: a partial byte is dropped */
			d->acc = 0;
			d->nbits = 0;
			continue;
		}
		if (v < 0)
			continue;
		d->acc = (d->acc << 6) | (uint32_t)v;
		d->nbits += 6;
		if (d->nbits >= 8) {
			d->nbits -= 8;
			buf_addc(out, (char)(d->acc >> d->nbits));
			d->acc &= (1u << d->nbits) - 1;
		}
	}
}

/* One byte of text (identity, or quoted-printable outside escapes):
 * a bare LF becomes CR LF. */
static void
put_text(struct mime_decoder *d, char c, struct buf *out)
{
	if (c == '\n' && !d->cr)
		buf_addc(out, '\r');
	buf_addc(out, c);
	d->cr = c == '\r';
}

static void
feed_identity(struct mime_decoder *d, const char *in, size_t n,
    struct buf *out)
{
	const char *end = in + n;

	while (in < end) {
		const char *nl = memchr(in, '\n', (size_t)(end - in));
		const char *stop = nl != NULL ? nl : end;

		if (stop > in) {
			buf_add(out, in, (size_t)(stop - in));
			d->cr = stop[-1] == '\r';
			in = stop;
		}
		if (nl != NULL) {
			put_text(d, '\n', out);
			in++;
		}
	}
}

static void
feed_qp_byte(struct mime_decoder *d, char c, struct buf *out)
{
	int v;

	switch (d->state) {
	case QP_TEXT:
		if (c == '=')
			d->state = QP_EQ;
		else
			put_text(d, c, out);
		return;
	case QP_EQ:
		d->state = QP_TEXT;
		if (c == '\n')		/* soft line break */
			return;
		if (c == '\r') {
			d->state = QP_EQ_CR;
			return;
		}
		if (hexval((unsigned char)c) >= 0) {
			d->hi = c;
			d->state = QP_EQ_HEX;
			return;
		}
		put_text(d, '=', out);
		feed_qp_byte(d, c, out);
		return;
	case QP_EQ_HEX:
		d->state = QP_TEXT;
		if ((v = hexval((unsigned char)c)) >= 0) {
			buf_addc(out, (char)(hexval((unsigned char)d->hi) << 4 | v));
			d->cr = 0;
			return;
		}
		put_text(d, '=', out);
		put_text(d, d->hi, out);
		feed_qp_byte(d, c, out);
		return;
	case QP_EQ_CR:
		d->state = QP_TEXT;
		if (c != '\n')		/* "=" CR without LF: dropped too */
			feed_qp_byte(d, c, out);
		return;
	}
}

void
mime_decoder_feed(struct mime_decoder *d, const char *in, size_t n,
    struct buf *out)
{
	if (d->cte == MIME_CTE_BASE64)
		feed_base64(d, in, n, out);
	else if (d->cte == MIME_CTE_QP)
		for (size_t i = 0; i < n; i++)
			feed_qp_byte(d, in[i], out);
	else
		feed_identity(d, in, n, out);
}

void
mime_decoder_end(struct mime_decoder *d, struct buf *out)
{
	if (d->cte == MIME_CTE_QP && d->state == QP_EQ)
		put_text(d, '=', out);
	else if (d->cte == MIME_CTE_QP && d->state == QP_EQ_HEX) {
		put_text(d, '=', out);
		put_text(d, d->hi, out);
	}
	d->state = QP_TEXT;
}

static enum mime_cte
part_cte(const struct mime_tree *t, uint32_t part)
{
	struct mime_fields f;
	enum mime_cte cte;

	mime_part_fields(t, part, &f);
	cte = mime_cte_parse(f.encoding);
	mime_fields_clear(&f);
	return cte;
}

uint64_t
mime_part_decoded_size(const struct mime_tree *t, uint32_t part)
{
	const struct mime_part *m = &t->parts[part];
	struct mime_decoder d;
	struct buf out = BUF_INIT;
	uint64_t size = 0;

	mime_decoder_init(&d, part_cte(t, part));
	for (uint64_t off = 0; off < m->body_len; off += 65536) {
		uint64_t n = m->body_len - off < 65536 ? m->body_len - off : 65536;

		mime_decoder_feed(&d, t->data + m->body_off + off, n, &out);
		size += out.len;
		buf_reset(&out);
	}
	mime_decoder_end(&d, &out);
	size += out.len;
	buf_free(&out);
	return size;
}

int
mime_part_text(const struct mime_tree *t, uint32_t part, size_t max_in,
    struct buf *out)
{
	const struct mime_part *m = &t->parts[part];
	const struct mime_param *cs;
	struct mime_fields f;
	struct mime_decoder d;
	struct buf raw = BUF_INIT;

	mime_part_fields(t, part, &f);
	if (m->kind != MIME_LEAF || strcasecmp(f.type, "text") != 0) {
		mime_fields_clear(&f);
		return -1;
	}
	mime_decoder_init(&d, mime_cte_parse(f.encoding));
	mime_decoder_feed(&d, t->data + m->body_off,
	    m->body_len < max_in ? (size_t)m->body_len : max_in, &raw);
	mime_decoder_end(&d, &raw);
	cs = mime_param_find(f.params, f.nparams, "charset");
	rfc2047_to_utf8(cs != NULL ? cs->value : "us-ascii",
	    raw.data != NULL ? raw.data : "", raw.len, out);
	buf_free(&raw);
	mime_fields_clear(&f);
	return 0;
}
