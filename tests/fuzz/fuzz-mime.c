/*
 * fuzz-mime - libFuzzer target for the message structure: server/mail's
 * mime, rfc5322 and rfc2047, and imap/imap-msg's writers.
 *
 * The input is a stored message.  It is parsed; every part is checked
 * against a recount of its own bytes; BODYSTRUCTURE, BODY and the
 * envelope of every message part are written; every leaf is decoded
 * whole and byte by byte (the same bytes) and as text (valid UTF-8); every header field is
 * decoded (the result must be valid UTF-8), parsed as addresses and as a
 * date; every part number is looked up as a section in each form and read
 * back through the CR LF reader (the bytes read must be the size
 * announced); the tree must survive serialisation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap-msg.h"
#include "mime.h"
#include "mime-decode.h"
#include "rfc2047.h"
#include "rfc5322.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__ubsan_default_options(void);

/* The fuzz build lets UBSan recover (Makefile.in); here undefined
 * behaviour is a crash, so fuzz-check fails on it. */
const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static int
valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; ) {
		size_t len;
		uint32_t c;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			len = 2, c = s[i] & 0x1f;
		else if ((s[i] & 0xf0) == 0xe0)
			len = 3, c = s[i] & 0x0f;
		else if ((s[i] & 0xf8) == 0xf0)
			len = 4, c = s[i] & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
		    (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
		    (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static uint64_t
crlf_count(const char *p, uint64_t n, uint64_t *lines)
{
	uint64_t v = n;

	*lines = 0;
	for (uint64_t i = 0; i < n; i++)
		if (p[i] == '\n') {
			(*lines)++;
			v += i == 0 || p[i - 1] != '\r';
		}
	return v;
}

static void
check_parts(const struct mime_tree *t)
{
	for (size_t i = 0; i < t->nparts; i++) {
		const struct mime_part *m = &t->parts[i];
		uint64_t lines, hl;

		if (m->hdr_off + m->hdr_len != m->body_off ||
		    m->body_off + m->body_len > t->len ||
		    m->hdr_vlen != crlf_count(t->data + m->hdr_off, m->hdr_len, &hl) ||
		    m->body_vlen != crlf_count(t->data + m->body_off, m->body_len,
		    &lines) || m->body_lines != lines || m->depth >= MIME_MAX_DEPTH)
			abort();
	}
	if (t->nparts > MIME_MAX_PARTS)
		abort();
}

static void
check_fields(const struct mime_tree *t, size_t i)
{
	const struct mime_part *m = &t->parts[i];
	const char *hdr = t->data + m->hdr_off;
	struct rfc5322_field f;
	struct mime_fields mf;
	struct buf out = BUF_INIT;
	size_t pos = 0;

	while (rfc5322_next_field(hdr, m->hdr_len, &pos, &f)) {
		struct rfc5322_addr *a;
		size_t n;
		int64_t when;
		int tz;

		buf_reset(&out);
		rfc2047_decode(f.value, f.value_len, &out);
		if (!valid_utf8((const unsigned char *)out.data, out.len))
			abort();
		rfc5322_parse_addresses(f.value, f.value_len, &a, &n);
		if (n > RFC5322_ADDR_MAX)
			abort();
		rfc5322_addrs_free(&a, n);
		(void)rfc5322_parse_date(f.value, f.value_len, &when, &tz);
	}
	mime_part_fields(t, (uint32_t)i, &mf);
	for (size_t k = 0; k < mf.nparams; k++) {
		char lang[16];

		buf_reset(&out);
		mime_param_decode(&mf.params[k], &out, lang, sizeof(lang));
		if (!valid_utf8((const unsigned char *)out.data, out.len))
			abort();
	}
	mime_fields_clear(&mf);
	buf_free(&out);
}

/* A leaf decoded whole and byte by byte gives the same bytes, as many
 * as mime_part_decoded_size() says; a text part's text is UTF-8. */
static void
check_decoding(const struct mime_tree *t, uint32_t i)
{
	const struct mime_part *m = &t->parts[i];
	struct mime_fields f;
	struct mime_decoder a, b;
	struct buf whole = BUF_INIT, bytes = BUF_INIT;

	if (m->kind != MIME_LEAF)
		return;
	mime_part_fields(t, i, &f);
	mime_decoder_init(&a, mime_cte_parse(f.encoding));
	mime_decoder_init(&b, mime_cte_parse(f.encoding));
	mime_decoder_feed(&a, t->data + m->body_off, m->body_len, &whole);
	mime_decoder_end(&a, &whole);
	for (uint64_t k = 0; k < m->body_len; k++)
		mime_decoder_feed(&b, t->data + m->body_off + k, 1, &bytes);
	mime_decoder_end(&b, &bytes);
	if (whole.len != bytes.len || (whole.len > 0 &&
	    memcmp(whole.data, bytes.data, whole.len) != 0) ||
	    whole.len != mime_part_decoded_size(t, i))
		abort();
	buf_reset(&whole);
	if (mime_part_text(t, i, 1 << 20, &whole) == 0 &&
	    !valid_utf8((const unsigned char *)whole.data, whole.len))
		abort();
	mime_fields_clear(&f);
	buf_free(&whole);
	buf_free(&bytes);
}

/* Read a section whole from offset 0 and from half way; sizes must add up. */
static void
read_section(const struct mime_tree *t, const char *spec)
{
	struct imap_section sec;
	struct mime_ranges rs = { 0 };
	struct mime_reader rd;
	struct buf out = BUF_INIT;

	if (imap_section_parse(spec, strlen(spec), &sec) != 0)
		abort();
	if (imap_msg_section(t, &sec, &rs) == 0) {
		mime_reader_init(&rd, t, &rs, 0);
		while (mime_reader_read(&rd, 4096, &out) > 0)
			;
		if (out.len != rs.vsize)
			abort();
		buf_reset(&out);
		mime_reader_init(&rd, t, &rs, rs.vsize / 2);
		while (mime_reader_read(&rd, 1000, &out) > 0)
			;
		if (out.len != rs.vsize - rs.vsize / 2)
			abort();
	}
	imap_section_clear(&sec);
	mime_ranges_free(&rs);
	buf_free(&out);
}

/* Sections by part numbers up to 3.3, existing or not, in every form. */
static void
check_sections(const struct mime_tree *t)
{
	static const char *const tails[] = {
		"", ".HEADER", ".TEXT", ".MIME", ".HEADER.FIELDS (From To)",
		".HEADER.FIELDS.NOT (Content-Type)",
	};
	char spec[64];

	read_section(t, "");
	read_section(t, "HEADER");
	read_section(t, "TEXT");
	for (unsigned a = 1; a <= 3; a++)
		for (unsigned b = 0; b <= 3; b++)
			for (size_t k = 0; k < sizeof(tails) / sizeof(tails[0]); k++) {
				if (b == 0)
					snprintf(spec, sizeof(spec), "%u%s", a, tails[k]);
				else
					snprintf(spec, sizeof(spec), "%u.%u%s", a, b,
					    tails[k]);
				read_section(t, spec);
			}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_tree t, u;
	struct buf out = BUF_INIT, blob = BUF_INIT;

	mime_parse((const char *)data, size, &t);
	check_parts(&t);
	imap_msg_bodystructure(&t, &out);
	imap_msg_body(&t, &out);
	for (size_t i = 0; i < t.nparts; i++) {
		if (i == 0 || t.parts[t.parts[i].parent].kind == MIME_MESSAGE)
			imap_msg_envelope(t.data + t.parts[i].hdr_off,
			    t.parts[i].hdr_len, &out);
		check_fields(&t, i);
		check_decoding(&t, (uint32_t)i);
	}
	check_sections(&t);
	mime_tree_serialize(&t, &blob);
	if (mime_tree_deserialize(blob.data, blob.len, t.data, t.len, &u) != 0 ||
	    u.nparts != t.nparts ||
	    memcmp(u.parts, t.parts, t.nparts * sizeof(*t.parts)) != 0)
		abort();
	mime_tree_free(&u);
	/* a blob over the input itself: must be refused or be safe to use */
	if (mime_tree_deserialize(data, size, t.data, t.len, &u) == 0) {
		buf_reset(&out);
		imap_msg_body(&u, &out);
		check_sections(&u);
		mime_tree_free(&u);
	}
	mime_tree_free(&t);
	buf_free(&out);
	buf_free(&blob);
	return 0;
}
