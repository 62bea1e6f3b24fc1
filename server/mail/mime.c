/*
 * mime - the part tree: one pass over the lines of the message.
 *
 * Why our own parser and not libetpan's mailmime_parse(): libetpan
 * recurses once per nesting level with no limit (a 9 MB message of nested
 * message/rfc822 headers, or 100,000 nested multiparts in 3 MB, overflow
 * its stack), builds heap structures for every header it meets, and gives
 * neither CR LF sizes nor line counts, which we would have to recount
 * over the bytes anyway.
 *
 * The walk keeps, at each line start, the number of LFs and of bare LFs
 * before it (struct mark), so the CR LF size and the line count of any
 * part fall out of two marks without a second pass.  The open parts form
 * a chain from the innermost one up to part 0; the open multiparts are a
 * stack of boundaries.  A line starting with "--" is compared with the
 * open boundaries: a match ends every open part inside that multipart and
 * starts its next child (or, for the close delimiter, its epilogue).  Everything is bounded: the stack by MIME_MAX_DEPTH, the
 * parts by MIME_MAX_PARTS, and each line is looked at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "mime.h"
#include "rfc5322.h"

struct mark {
	uint64_t off, lf, bare;	/* offset; LFs and bare LFs before it */
};

struct level {
	uint32_t part;		/* the multipart */
	char *boundary;
	size_t blen;
	int closed;		/* its close delimiter was seen: epilogue */
	int digest;		/* multipart/digest: children default to message/rfc822 */
};

struct parser {
	const char *d;
	size_t len;
	struct mark cur;	/* at the start of the line being looked at */
	struct mime_part *parts;
	struct mark *hstart, *bstart;	/* per part */
	uint32_t *last;			/* per part: its last child so far */
	size_t n, cap;
	struct level lv[MIME_MAX_DEPTH];
	int nlv;
	uint32_t open;		/* the innermost open part */
	uint64_t after_boundary;	/* where the last boundary line ended */
};

/* The end of the line at m (after its LF, or the end of the data). */
static void
next_line(const struct parser *p, struct mark *m)
{
	const char *nl = memchr(p->d + m->off, '\n', p->len - m->off);

	if (nl == NULL) {
		m->off = p->len;
		return;
	}
	m->off = (uint64_t)(nl - p->d) + 1;
	m->lf++;
	if (nl == p->d || nl[-1] != '\r')
		m->bare++;
}

static int
blank_line(const struct parser *p, uint64_t off)
{
	return off < p->len && (p->d[off] == '\n' || (p->d[off] == '\r' &&
	    off + 1 < p->len && p->d[off + 1] == '\n'));
}

/*
 * The open level whose delimiter the line at off is, or -1; *close_r
 * tells "--B--".  As Dovecot, a boundary is matched as a prefix of the
 * line (mailers put padding or garbage after it), and of two open
 * boundaries that match, the longer wins ("--abc" is not "--ab" plus c).
 */
static int
boundary_line(const struct parser *p, uint64_t off, int *close_r)
{
	const char *s = p->d + off;
	size_t rest = p->len - off, best_len = 0;
	int best = -1;

	if (p->nlv == 0 || rest < 3 || s[0] != '-' || s[1] != '-')
		return -1;
	for (int k = p->nlv - 1; k >= 0; k--) {
		const struct level *l = &p->lv[k];

		if (!l->closed && rest >= 2 + l->blen && l->blen > best_len &&
		    memcmp(s + 2, l->boundary, l->blen) == 0) {
			best = k;
			best_len = l->blen;
		}
	}
	if (best >= 0)
		*close_r = rest >= 4 + best_len && s[2 + best_len] == '-' &&
		    s[3 + best_len] == '-';
	return best;
}

static uint32_t
new_part(struct parser *p, uint32_t parent, uint8_t flags)
{
	struct mime_part *m;
	uint32_t idx = (uint32_t)p->n;

	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->parts = xrealloc(p->parts, p->cap * sizeof(*p->parts));
		p->hstart = xrealloc(p->hstart, p->cap * sizeof(*p->hstart));
		p->bstart = xrealloc(p->bstart, p->cap * sizeof(*p->bstart));
		p->last = xrealloc(p->last, p->cap * sizeof(*p->last));
	}
	m = &p->parts[p->n++];
	memset(m, 0, sizeof(*m));
	m->parent = parent;
	m->first_child = m->next = MIME_NONE;
	m->flags = flags;
	if (parent != MIME_NONE) {
		struct mime_part *par = &p->parts[parent];

		m->depth = (uint16_t)(par->depth + 1);
		if (par->first_child == MIME_NONE)
			par->first_child = idx;
		else
			p->parts[p->last[parent]].next = idx;
		p->last[parent] = idx;
		par->nchildren++;
	}
	return idx;
}

/* The header at p->cur: up to and with its empty line; a boundary line
 * or the end of the data ends it too (without one). */
static void
read_header(struct parser *p, uint32_t idx)
{
	struct mime_part *m = &p->parts[idx];
	int close;

	p->hstart[idx] = p->cur;
	m->hdr_off = p->cur.off;
	for (;;) {
		if (p->cur.off >= p->len ||
		    boundary_line(p, p->cur.off, &close) >= 0) {
			m->flags |= MIME_F_NO_BLANK;
			break;
		}
		if (blank_line(p, p->cur.off)) {
			next_line(p, &p->cur);
			break;
		}
		next_line(p, &p->cur);
	}
	m->hdr_len = p->cur.off - m->hdr_off;
	m->body_off = p->cur.off;
	p->bstart[idx] = p->cur;
}

/* Content-Transfer-Encoding allows a message/rfc822 to be parsed:
 * absent or an identity encoding (RFC 2046 §5.2.1). */
static int
identity_encoding(const struct mime_fields *f)
{
	return f->encoding == NULL || strcasecmp(f->encoding, "7bit") == 0 ||
	    strcasecmp(f->encoding, "8bit") == 0 ||
	    strcasecmp(f->encoding, "binary") == 0;
}

static int
room(const struct parser *p, uint32_t idx)
{
	return p->parts[idx].depth + 1 < MIME_MAX_DEPTH &&
	    p->n < MIME_MAX_PARTS && p->nlv < MIME_MAX_DEPTH;
}

/*
 * Start a part at p->cur: its header, then what its type makes of the
 * body: a multipart pushes its boundary (the preamble follows), a message
 * starts its embedded message at once.  A loop, not recursion: nested
 * messages cost no stack.
 */
static void
start_part(struct parser *p, uint32_t parent, uint8_t flags)
{
	for (;;) {
		uint32_t idx = new_part(p, parent, flags);
		struct mime_fields f;
		const struct mime_param *b;
		const char *type, *subtype;
		int multipart, message;

		read_header(p, idx);
		p->open = idx;
		mime_fields_parse(p->d + p->parts[idx].hdr_off,
		    p->parts[idx].hdr_len, &f);
		if (f.type == NULL && (flags & MIME_F_DIGEST_CHILD))
			type = "message", subtype = "rfc822";
		else
			type = f.type, subtype = f.subtype;
		multipart = type != NULL && strcasecmp(type, "multipart") == 0;
		message = type != NULL && strcasecmp(type, "message") == 0 &&
		    (strcasecmp(subtype, "rfc822") == 0 ||
		    strcasecmp(subtype, "global") == 0);
		b = mime_param_find(f.params, f.nparams, "boundary");
		if (multipart && b != NULL && b->value[0] != '\0' && !b->extended &&
		    room(p, idx)) {
			struct level *l = &p->lv[p->nlv++];

			p->parts[idx].kind = MIME_MULTIPART;
			l->part = idx;
			l->boundary = xstrdup(b->value);
			l->blen = strlen(l->boundary);
			l->closed = 0;
			l->digest = strcasecmp(subtype, "digest") == 0;
			mime_fields_clear(&f);
			return;
		}
		if (message && identity_encoding(&f) && room(p, idx)) {
			p->parts[idx].kind = MIME_MESSAGE;
			mime_fields_clear(&f);
			parent = idx;
			flags = 0;
			continue;
		}
		if (multipart || message)
			p->parts[idx].flags |= MIME_F_DEGRADED;
		mime_fields_clear(&f);
		return;
	}
}

static void
set_end(struct parser *p, uint32_t idx, const struct mark *end)
{
	struct mime_part *m = &p->parts[idx];
	const struct mark *h = &p->hstart[idx], *b = &p->bstart[idx];

	m->body_len = end->off - m->body_off;
	m->hdr_vlen = m->hdr_len + (b->bare - h->bare);
	m->body_vlen = m->body_len + (end->bare - b->bare);
	m->body_lines = end->lf - b->lf;
}

/*
 * End every open part inside the multipart of level k (a boundary line
 * of it is at p->cur): their bodies end before the line end in front of
 * the boundary, or where they start when the boundary follows at once.
 * A line end that closes a boundary line (a close delimiter with an empty
 * epilogue, then the outer boundary) stays with the parts, as Dovecot
 * counts it: the sizes clients have seen for years.
 */
static void
end_inside(struct parser *p, int k)
{
	uint32_t stop = p->lv[k].part;
	struct mark e = p->cur;

	if (e.off > p->after_boundary && p->d[e.off - 1] == '\n') {
		e.off--;
		e.lf--;
		if (e.off > 0 && p->d[e.off - 1] == '\r')
			e.off--;
		else
			e.bare--;
	}
	/* innermost first: a body that starts after e (its header's empty
	 * line was the line end taken off) ends where it starts, and so
	 * does every part around it, which holds that header */
	for (uint32_t c = p->open; c != stop && c != MIME_NONE;
	    c = p->parts[c].parent) {
		if (e.off < p->bstart[c].off)
			e = p->bstart[c];
		set_end(p, c, &e);
	}
	p->open = stop;
	while (p->nlv > k + 1)
		free(p->lv[--p->nlv].boundary);
}

static void
parse_lines(struct parser *p)
{
	while (p->cur.off < p->len) {
		int close, k = boundary_line(p, p->cur.off, &close);

		if (k < 0 || (!close && p->n >= MIME_MAX_PARTS)) {
			next_line(p, &p->cur);
			continue;
		}
		/* a delimiter cut by the end of the file ends the parts but
		 * starts none (as Dovecot: a truncated close delimiter) */
		if (memchr(p->d + p->cur.off, '\n', p->len - p->cur.off) == NULL)
			close = 1;
		end_inside(p, k);
		next_line(p, &p->cur);
		p->after_boundary = p->cur.off;
		if (close) {
			p->lv[k].closed = 1;
			continue;
		}
		start_part(p, p->lv[k].part,
		    p->lv[k].digest ? MIME_F_DIGEST_CHILD : 0);
	}
	for (uint32_t c = p->open; c != MIME_NONE; c = p->parts[c].parent)
		set_end(p, c, &p->cur);
	while (p->nlv > 0)
		free(p->lv[--p->nlv].boundary);
	/* a multipart without one delimiter has nothing to show as children */
	for (size_t i = 0; i < p->n; i++)
		if (p->parts[i].kind == MIME_MULTIPART &&
		    p->parts[i].nchildren == 0) {
			p->parts[i].kind = MIME_LEAF;
			p->parts[i].flags |= MIME_F_DEGRADED;
		}
}

void
mime_parse(const char *data, size_t len, struct mime_tree *t)
{
	struct parser p;

	memset(&p, 0, sizeof(p));
	p.d = data;
	p.len = len;
	start_part(&p, MIME_NONE, 0);
	parse_lines(&p);
	free(p.hstart);
	free(p.bstart);
	free(p.last);
	t->data = data;
	t->len = len;
	t->parts = p.parts;
	t->nparts = p.n;
	t->map = NULL;
}

int
mime_parse_fd(int fd, struct mime_tree *t)
{
	struct stat st;
	void *map = NULL;

	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size > 0) {
		/* the parse reads every page: faulting them in one go is three
		 * times faster than one fault per page (50 MB: 7 ms, not 25) */
		map = mmap(NULL, (size_t)st.st_size, PROT_READ,
		    MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (map == MAP_FAILED)
			return -1;
	}
	/* an empty file has no map; t->data is never NULL all the same */
	mime_parse(map != NULL ? map : "", (size_t)st.st_size, t);
	t->map = map;
	return 0;
}

int
mime_open_fd(int fd, const void *blob, size_t bloblen, struct mime_tree *t)
{
	struct stat st;
	void *map = NULL;

	if (blob != NULL) {
		if (fstat(fd, &st) == -1)
			return -1;
		if (st.st_size > 0) {
			map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			    fd, 0);
			if (map == MAP_FAILED)
				return -1;
		}
		if (mime_tree_deserialize(blob, bloblen, map != NULL ? map : "",
		    (size_t)st.st_size, t) == 0) {
			t->map = map;
			return 0;
		}
		if (map != NULL)
			munmap(map, (size_t)st.st_size);
	}
	return mime_parse_fd(fd, t) == 0 ? 1 : -1;
}

void
mime_tree_free(struct mime_tree *t)
{
	if (t->map != NULL)
		munmap(t->map, t->len);
	free(t->parts);
	t->parts = NULL;
	t->map = NULL;
	t->nparts = 0;
}

uint32_t
mime_part_number(const struct mime_tree *t, const uint32_t *nums, size_t n)
{
	uint32_t cur = 0;

	for (size_t i = 0; i < n; i++) {
		const struct mime_part *m = &t->parts[cur];

		if (i > 0 && m->kind == MIME_MESSAGE) {
			cur = m->first_child;
			m = &t->parts[cur];
		}
		if (m->kind == MIME_MULTIPART) {
			uint32_t c = m->first_child;

			for (uint32_t k = 1; k < nums[i] && c != MIME_NONE; k++)
				c = t->parts[c].next;
			if (nums[i] == 0 || c == MIME_NONE)
				return MIME_NONE;
			cur = c;
		} else if (nums[i] != 1)
			return MIME_NONE;
	}
	return cur;
}
