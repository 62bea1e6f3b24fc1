/*
 * mime-range - byte ranges of a stored message sent with CR LF line ends,
 * and the serialised form of a part tree.
 *
 * The reader converts as it copies (runs between LFs go out with one
 * buf_add), so BODY[] of a 50 MB message streams from the map in pieces
 * of the caller's size with no copy of the whole.
 */
#include <stdlib.h>
#include <string.h>

#include "mime.h"

uint64_t
mime_crlf_size(const char *data, size_t len)
{
	uint64_t n = len;
	const char *p = data, *end = data + len, *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (nl == data || nl[-1] != '\r')
			n++;
		p = nl + 1;
	}
	return n;
}

void
mime_ranges_add(struct mime_ranges *rs, const struct mime_tree *t,
    uint64_t off, uint64_t len, uint64_t vlen)
{
	struct mime_range *last = rs->n > 0 ? &rs->r[rs->n - 1] : NULL;

	if (len == 0)
		return;
	if (vlen == UINT64_MAX)
		vlen = mime_crlf_size(t->data + off, len);
	if (last != NULL && last->off != MIME_RANGE_CRLF &&
	    last->off + last->len == off) {
		last->len += len;
		last->vlen += vlen;
	} else {
		if (rs->n == rs->cap) {
			rs->cap = rs->cap ? rs->cap * 2 : 4;
			rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
		}
		rs->r[rs->n].off = off;
		rs->r[rs->n].len = len;
		rs->r[rs->n].vlen = vlen;
		rs->n++;
	}
	rs->vsize += vlen;
}

void
mime_ranges_add_crlf(struct mime_ranges *rs)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 4;
		rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
	}
	rs->r[rs->n].off = MIME_RANGE_CRLF;
	rs->r[rs->n].len = 2;
	rs->r[rs->n].vlen = 2;
	rs->n++;
	rs->vsize += 2;
}

void
mime_ranges_free(struct mime_ranges *rs)
{
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

/* Is the LF at d[pos] of a range bare?  Range-local, as mime_crlf_size:
 * ranges start at line starts, never between a CR and its LF. */
static int
bare_lf(const char *d, uint64_t pos)
{
	return pos == 0 || d[pos - 1] != '\r';
}

/* Position in a file range at CR LF offset voff (< its vlen). */
static void
seek_in_range(struct mime_reader *rd, const struct mime_range *r,
    uint64_t voff)
{
	const char *d = rd->t->data + r->off;
	uint64_t v = 0, p = 0;

	while (v < voff) {
		const char *nl = memchr(d + p, '\n', r->len - p);
		uint64_t run = (nl != NULL ? (uint64_t)(nl - d) : r->len) - p;

		if (v + run >= voff) {
			p += voff - v;
			break;
		}
		v += run;
		p += run;
		if (!bare_lf(d, p))
			v++;
		else if (v + 2 <= voff)
			v += 2;
		else
			rd->lf_due = 1;		/* the origin is between CR and LF */
		p++;
		if (rd->lf_due)
			break;
	}
	rd->pos = p;
}

void
mime_reader_init(struct mime_reader *rd, const struct mime_tree *t,
    const struct mime_ranges *rs, uint64_t voff)
{
	rd->t = t;
	rd->rs = rs;
	rd->i = 0;
	rd->pos = 0;
	rd->lf_due = 0;
	while (rd->i < rs->n && voff >= rs->r[rd->i].vlen)
		voff -= rs->r[rd->i++].vlen;
	if (rd->i < rs->n && voff > 0) {
		if (rs->r[rd->i].off == MIME_RANGE_CRLF)
			rd->pos = voff;
		else
			seek_in_range(rd, &rs->r[rd->i], voff);
	}
}

/* Up to max bytes of one file range from rd->pos. */
static size_t
read_file_range(struct mime_reader *rd, const struct mime_range *r,
    size_t max, struct buf *out)
{
	const char *d = rd->t->data + r->off;
	const char *nl = memchr(d + rd->pos, '\n', r->len - rd->pos);
	uint64_t run = (nl != NULL ? (uint64_t)(nl - d) : r->len) - rd->pos;

	if (run > 0) {
		size_t n = run < max ? (size_t)run : max;

		buf_add(out, d + rd->pos, n);
		rd->pos += n;
		return n;
	}
	if (bare_lf(d, rd->pos)) {
		buf_addc(out, '\r');
		rd->lf_due = 1;
	} else
		buf_addc(out, '\n');
	rd->pos++;
	return 1;
}

size_t
mime_reader_read(struct mime_reader *rd, size_t max, struct buf *out)
{
	size_t added = 0;

	while (added < max) {
		const struct mime_range *r;

		if (rd->lf_due) {
			buf_addc(out, '\n');
			rd->lf_due = 0;
			added++;
			continue;
		}
		if (rd->i >= rd->rs->n)
			break;
		r = &rd->rs->r[rd->i];
		if (rd->pos >= r->len) {
			rd->i++;
			rd->pos = 0;
		} else if (r->off == MIME_RANGE_CRLF) {
			buf_addc(out, "\r\n"[rd->pos]);
			rd->pos++;
			added++;
		} else
			added += read_file_range(rd, r, max - added, out);
	}
	return added;
}

/* ---- serialised trees ---- */

#define TREE_VERSION	1
#define PART_RECORD	76	/* 7 u64, 4 u32, u16, u8, u8 */

static void
put_le(struct buf *out, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		buf_addc(out, (char)(v >> (8 * i)));
}

static uint64_t
get_le(const unsigned char **p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)(*p)[i] << (8 * i);
	*p += bytes;
	return v;
}

void
mime_tree_serialize(const struct mime_tree *t, struct buf *out)
{
	buf_addc(out, TREE_VERSION);
	put_le(out, t->nparts, 4);
	for (size_t i = 0; i < t->nparts; i++) {
		const struct mime_part *m = &t->parts[i];

		put_le(out, m->hdr_off, 8);
		put_le(out, m->hdr_len, 8);
		put_le(out, m->body_off, 8);
		put_le(out, m->body_len, 8);
		put_le(out, m->hdr_vlen, 8);
		put_le(out, m->body_vlen, 8);
		put_le(out, m->body_lines, 8);
		put_le(out, m->parent, 4);
		put_le(out, m->first_child, 4);
		put_le(out, m->next, 4);
		put_le(out, m->nchildren, 4);
		put_le(out, m->depth, 2);
		put_le(out, m->kind, 1);
		put_le(out, m->flags, 1);
	}
}

static void
get_part(const unsigned char **p, struct mime_part *m)
{
	m->hdr_off = get_le(p, 8);
	m->hdr_len = get_le(p, 8);
	m->body_off = get_le(p, 8);
	m->body_len = get_le(p, 8);
	m->hdr_vlen = get_le(p, 8);
	m->body_vlen = get_le(p, 8);
	m->body_lines = get_le(p, 8);
	m->parent = (uint32_t)get_le(p, 4);
	m->first_child = (uint32_t)get_le(p, 4);
	m->next = (uint32_t)get_le(p, 4);
	m->nchildren = (uint32_t)get_le(p, 4);
	m->depth = (uint16_t)get_le(p, 2);
	m->kind = (uint8_t)get_le(p, 1);
	m->flags = (uint8_t)get_le(p, 1);
}

/* A link goes forward (so every walk ends) and stays inside the tree. */
static int
link_ok(uint32_t link, size_t i, size_t n)
{
	return link == MIME_NONE || (link > i && link < n);
}

static int
part_ok(const struct mime_part *m, size_t i, size_t n, size_t len)
{
	if (m->hdr_off + m->hdr_len != m->body_off || m->body_off > len ||
	    m->body_len > len - m->body_off || m->hdr_off > m->body_off ||
	    m->hdr_vlen < m->hdr_len || m->body_vlen < m->body_len ||
	    m->kind > MIME_MESSAGE || m->depth >= MIME_MAX_DEPTH)
		return 0;
	if ((i == 0) != (m->parent == MIME_NONE) ||
	    (i > 0 && m->parent >= i))
		return 0;
	if (!link_ok(m->first_child, i, n) || !link_ok(m->next, i, n))
		return 0;
	return m->kind == MIME_LEAF ? m->first_child == MIME_NONE :
	    m->first_child != MIME_NONE;
}

/*
 * Each part is linked once, from the parent it names, one level below it:
 * so walking the links (the writers recurse on them) is as bounded as a
 * parsed tree.
 */
static int
links_ok(const struct mime_part *parts, size_t n)
{
	unsigned char *seen = xcalloc(n, 1);
	int ok = 1;

	for (size_t p = 0; p < n && ok; p++) {
		uint32_t count = 0;

		for (uint32_t c = parts[p].first_child; c != MIME_NONE && ok;
		    c = parts[c].next) {
			ok = !seen[c] && parts[c].parent == p &&
			    parts[c].depth == parts[p].depth + 1;
			seen[c] = 1;
			count++;
		}
		ok = ok && count == parts[p].nchildren;
	}
	free(seen);
	return ok;
}

int
mime_tree_deserialize(const void *blob, size_t bloblen, const char *data,
    size_t len, struct mime_tree *t)
{
	const unsigned char *p = blob;
	size_t n, i;

	if (bloblen < 5 || p[0] != TREE_VERSION)
		return -1;
	p++;
	n = (size_t)get_le(&p, 4);
	if (n == 0 || n > MIME_MAX_PARTS || bloblen != 5 + n * PART_RECORD)
		return -1;
	t->parts = xcalloc(n, sizeof(*t->parts));
	for (i = 0; i < n; i++) {
		get_part(&p, &t->parts[i]);
		if (!part_ok(&t->parts[i], i, n, len))
			break;
	}
	if (i < n || t->parts[0].depth != 0 || !links_ok(t->parts, n)) {
		free(t->parts);
		t->parts = NULL;
		return -1;
	}
	t->data = data;
	t->len = len;
	t->nparts = n;
	t->map = NULL;
	return 0;
}
