/*
 * dotstuff - dot transparency, both ways (see dotstuff.h for the contract).
 *
 * Both converters copy whole runs of ordinary bytes at once (two memchr()
 * per line) and go through the state switch only at line ends and dots:
 * DATA and RETR are the hot paths of the two servers.
 */
#include "dotstuff.h"

#include <string.h>

/* find_eol - the first CR or LF in [p, end), or end. */
static const char *
find_eol(const char *p, const char *end)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	const char *lim = lf ? lf : end;
	const char *cr = memchr(p, '\r', (size_t)(lim - p));

	return cr ? cr : lim;
}

/* ---- unstuffer: SMTP DATA ---- */

void
dot_unstuff_init(struct dot_unstuff *u)
{
	memset(u, 0, sizeof(*u));
	u->state = DU_BOL;
}

/* unstuff_run - inside a line: copy up to the next CR or LF; the new p. */
static const char *
unstuff_run(struct dot_unstuff *u, const char *p, const char *end, struct buf *out)
{
	const char *stop = find_eol(p, end);

	buf_add(out, p, (size_t)(stop - p));
	if (stop == end)
		return end;
	if (*stop == '\r') {
		u->state = DU_CR;
	} else {
		/* bare LF: stored as a line end, but no line start follows */
		buf_addc(out, '\n');
		u->lines++;
		u->bare_lf++;
	}
	return stop + 1;
}

/* unstuff_cr - the byte after a CR; the new p. */
static const char *
unstuff_cr(struct dot_unstuff *u, const char *p, struct buf *out)
{
	if (*p == '\n') {
		buf_addc(out, '\n');
		u->lines++;
		u->state = DU_BOL;
		return p + 1;
	}
	/* bare CR: stored as a line end (no CR reaches the store, so the
	 * size with CR LF is size + lines), but like a bare LF it starts no
	 * line for the end marker or for unstuffing */
	buf_addc(out, '\n');
	u->lines++;
	u->bare_cr++;
	if (*p == '\r')
		return p + 1;	/* the new CR waits for its own next byte */
	u->state = DU_MID;
	return p;
}

int
dot_unstuff_feed(struct dot_unstuff *u, const char *in, size_t n, struct buf *out, size_t *used_r)
{
	const char *p = in, *end = in + n;

	buf_reserve(out, n);
	while (p < end && u->state != DU_DONE) {
		switch (u->state) {
		case DU_BOL:
			if (*p == '.') {
				u->state = DU_DOT;
				p++;
				break;
			}
			u->state = DU_MID;
			/* FALLTHROUGH */
		case DU_MID:
			p = unstuff_run(u, p, end, out);
			break;
		case DU_CR:
			p = unstuff_cr(u, p, out);
			break;
		case DU_DOT:
			if (*p == '\r') {
				u->state = DU_DOTCR;
				p++;
			} else
				u->state = DU_MID;	/* the stuffed dot is dropped */
			break;
		case DU_DOTCR:
			if (*p == '\n') {
				u->state = DU_DONE;
				p++;
			} else
				u->state = DU_CR;	/* "." CR x: the dot dropped, a bare CR */
			break;
		case DU_DONE:
			break;
		}
	}
	*used_r = (size_t)(p - in);
	return u->state == DU_DONE;
}

/* ---- stuffer: POP3 RETR/TOP, the SMTP client ---- */

void
dot_stuff_init(struct dot_stuff *st, uint64_t lines)
{
	memset(st, 0, sizeof(*st));
	st->state = DS_BOL;
	st->limited = lines != UINT64_MAX;
	st->body_left = lines;
}

/* stuff_line_start - header end, TOP limit, dot; 1 when the limit is reached. */
static int
stuff_line_start(struct dot_stuff *st, char first, struct buf *out)
{
	if (!st->in_body && (first == '\n' || first == '\r')) {
		st->in_body = 1;	/* this empty line ends the header */
		return 0;
	}
	if (st->in_body && st->limited) {
		if (st->body_left == 0) {
			st->state = DS_DONE;
			return 1;
		}
		st->body_left--;
	}
	if (first == '.')
		buf_addc(out, '.');
	return 0;
}

/* stuff_run - inside a line: copy up to the next CR or LF; the new p. */
static const char *
stuff_run(struct dot_stuff *st, const char *p, const char *end, struct buf *out)
{
	const char *stop = find_eol(p, end);

	buf_add(out, p, (size_t)(stop - p));
	if (stop == end)
		return end;
	if (*stop == '\r')
		st->state = DS_CR;	/* CR LF or a bare CR: decided by the next byte */
	else {
		buf_add(out, "\r\n", 2);
		st->state = DS_BOL;
	}
	return stop + 1;
}

int
dot_stuff_feed(struct dot_stuff *st, const char *in, size_t n, struct buf *out)
{
	const char *p = in, *end = in + n;

	buf_reserve(out, n + n / 8 + 16);
	while (p < end) {
		switch (st->state) {
		case DS_DONE:
			return 1;
		case DS_CR:
			buf_add(out, "\r\n", 2);	/* a bare CR ends its line too */
			if (*p == '\n')
				p++;
			st->state = DS_BOL;
			break;
		case DS_BOL:
			if (stuff_line_start(st, *p, out))
				return 1;
			st->state = DS_MID;
			/* FALLTHROUGH */
		case DS_MID:
			p = stuff_run(st, p, end, out);
			break;
		}
	}
	if (st->state == DS_BOL && st->in_body && st->limited && st->body_left == 0) {
		st->state = DS_DONE;
		return 1;
	}
	return st->state == DS_DONE;
}

void
dot_stuff_end(struct dot_stuff *st, struct buf *out)
{
	if (st->state == DS_MID || st->state == DS_CR)
		buf_add(out, "\r\n", 2);
	buf_add(out, ".\r\n", 3);
	st->state = DS_DONE;
}
