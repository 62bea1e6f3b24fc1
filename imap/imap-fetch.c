/*
 * imap-fetch - FETCH and UID FETCH (RFC 3501 §6.4.5, §7.4.2): UID FLAGS
 * RFC822.SIZE INTERNALDATE MODSEQ, BODY[section]<partial> and BODY.PEEK
 * with the sections "", HEADER, TEXT, HEADER.FIELDS (...) and
 * HEADER.FIELDS.NOT (...), RFC822, RFC822.HEADER, RFC822.TEXT, and the
 * macros FAST.  ENVELOPE, BODYSTRUCTURE, BODY, part sections and the
 * macros that need them (ALL, FULL) are answered NO "not supported yet":
 * they come with the MIME parser.
 *
 * Messages are stored with LF line ends and sent with CR LF: every LF not
 * already preceded by a CR becomes CR LF, and section sizes and partial
 * offsets count the bytes as sent.  The sizes of a message's sections are
 * found by one pass over its file before the literal is announced.
 *
 * The answer is streamed by the session base (session_send_stream): the
 * producer writes one message's small items, or one READ_CHUNK of a body,
 * per call, so a 50 MB message or a FETCH of 100,000 messages holds about
 * IMAP_OUT_HIGH of output, however slow the client.
 */
#include "imap.h"
#include "log.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK		(32 * 1024)
#define FIELDS_HEADER_MAX	(1024 * 1024)	/* header bytes HEADER.FIELDS looks at */

enum fetch_att { FA_UID, FA_FLAGS, FA_SIZE, FA_INTERNALDATE, FA_MODSEQ, FA_BODY };
enum fetch_section { SEC_ALL, SEC_HEADER, SEC_TEXT, SEC_FIELDS, SEC_FIELDS_NOT };

struct fetch_item {
	enum fetch_att att;
	enum fetch_section sec;
	int peek;
	char label[64];		/* the item's name in the answer, without <origin> */
	char **fields;		/* HEADER.FIELDS names */
	size_t nfields;
	int partial;
	uint64_t off, len;
};

struct fetch_ctx {
	struct fetch_item *items;
	size_t nitems;
	uint32_t *idx;		/* message indexes, ascending */
	size_t n, cur;
	int uid_cmd;
	int set_seen;		/* a non-PEEK body item: \Seen is set */
	int missing;		/* a message vanished under us */
	/* the message being answered */
	int started;
	size_t item;
	struct index_msg im;
	int fd;
	uint64_t hdr_lf, hdr_crlf, total_crlf;	/* from scan() */
	/* a body section being streamed */
	int in_body;
	uint64_t pos_lf, end_lf;	/* file range left to read */
	uint64_t skip, left;		/* output bytes to drop, then to send */
	int prev_cr;
};

/* ---- parsing the items ---- */

static void
items_free(struct fetch_ctx *f)
{
	for (size_t i = 0; i < f->nitems; i++)
		free(f->items[i].fields);
	free(f->items);
	f->items = NULL;
	f->nitems = 0;
}

static struct fetch_item *
add_item(struct fetch_ctx *f, enum fetch_att att)
{
	struct fetch_item *it;

	f->items = xrealloc(f->items, (f->nitems + 1) * sizeof(*f->items));
	it = &f->items[f->nitems++];
	memset(it, 0, sizeof(*it));
	it->att = att;
	return it;
}

/* parse_fields - "(From To)" after HEADER.FIELDS[.NOT]: names into it (the
 * strings point into the atom's copy, which lives as long as the command). */
static int
parse_fields(char *p, struct fetch_item *it)
{
	if (*p++ != ' ' || *p++ != '(')
		return -1;
	for (;;) {
		size_t n = strcspn(p, " )");
		if (n == 0)
			return -1;
		it->fields = xrealloc(it->fields, (it->nfields + 1) * sizeof(*it->fields));
		it->fields[it->nfields++] = p;
		p += n;
		if (*p == ')') {
			*p = '\0';
			return p[1] == '\0' ? 0 : -1;
		}
		*p++ = '\0';
	}
}

/* parse_section - the text between [ and ]; -1 bad, -2 not supported yet. */
static int
parse_section(char *sec, struct fetch_item *it)
{
	if (*sec == '\0')
		it->sec = SEC_ALL;
	else if (strcasecmp(sec, "HEADER") == 0)
		it->sec = SEC_HEADER;
	else if (strcasecmp(sec, "TEXT") == 0)
		it->sec = SEC_TEXT;
	else if (strncasecmp(sec, "HEADER.FIELDS.NOT", 17) == 0) {
		it->sec = SEC_FIELDS_NOT;
		return parse_fields(sec + 17, it);
	} else if (strncasecmp(sec, "HEADER.FIELDS", 13) == 0) {
		it->sec = SEC_FIELDS;
		return parse_fields(sec + 13, it);
	} else if (*sec >= '1' && *sec <= '9')
		return -2;	/* part sections come with the MIME parser */
	else
		return -1;
	return 0;
}

static int
parse_partial(const char *p, struct fetch_item *it)
{
	unsigned long long o, n;
	int used = 0;

	if (*p == '\0')
		return 0;
	if (sscanf(p, "<%llu.%llu>%n", &o, &n, &used) != 2 || p[used] != '\0' || n == 0)
		return -1;
	it->partial = 1;
	it->off = o;
	it->len = n;
	return 0;
}

/* parse_body - BODY[...]<o.n> or BODY.PEEK[...]<o.n> in a writable copy. */
static int
parse_body(char *a, struct fetch_ctx *f)
{
	int peek = strncasecmp(a, "BODY.PEEK[", 10) == 0;
	char *sec = a + (peek ? 10 : 5), *close = strrchr(sec, ']');
	struct fetch_item *it = add_item(f, FA_BODY);
	int r;

	if (close == NULL)
		return -1;
	*close = '\0';
	it->peek = peek;
	if ((size_t)(close - sec) < 40) {
		snprintf(it->label, sizeof(it->label), "BODY[%s]", sec);
		for (char *p = it->label; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p -= 32;	/* the section as RFC 3501 spells it */
	}
	if ((r = parse_section(sec, it)) < 0 || parse_partial(close + 1, it) < 0)
		return r == -2 ? -2 : -1;
	if (it->sec == SEC_FIELDS || it->sec == SEC_FIELDS_NOT) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "BODY[HEADER.FIELDS%s (", it->sec == SEC_FIELDS_NOT ? ".NOT" : "");
		for (size_t i = 0; i < it->nfields; i++)
			buf_printf(&b, "%s%s", i ? " " : "", it->fields[i]);
		buf_adds(&b, ")]");
		if (b.len >= sizeof(it->label))
			r = -2;
		else
			str_lcpy(it->label, b.data, sizeof(it->label));
		buf_free(&b);
		if (r < 0)
			return -2;
	}
	if (!peek)
		f->set_seen = 1;
	return 0;
}

static int
parse_item(char *a, struct fetch_ctx *f)
{
	static const struct {
		const char *name;
		enum fetch_att att;
	} simple[] = {
		{ "UID", FA_UID }, { "FLAGS", FA_FLAGS }, { "RFC822.SIZE", FA_SIZE },
		{ "INTERNALDATE", FA_INTERNALDATE }, { "MODSEQ", FA_MODSEQ },
	};
	static const struct {
		const char *name;
		enum fetch_section sec;
		int peek;
	} rfc822[] = {
		{ "RFC822", SEC_ALL, 0 }, { "RFC822.HEADER", SEC_HEADER, 1 }, { "RFC822.TEXT", SEC_TEXT, 0 },
	};

	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (strcasecmp(a, simple[i].name) == 0) {
			add_item(f, simple[i].att);
			return 0;
		}
	for (size_t i = 0; i < sizeof(rfc822) / sizeof(rfc822[0]); i++)
		if (strcasecmp(a, rfc822[i].name) == 0) {
			struct fetch_item *it = add_item(f, FA_BODY);
			it->sec = rfc822[i].sec;
			it->peek = rfc822[i].peek;
			str_lcpy(it->label, rfc822[i].name, sizeof(it->label));
			f->set_seen |= !it->peek;
			return 0;
		}
	if (strcasecmp(a, "FAST") == 0)
		return parse_item("FLAGS", f) | parse_item("INTERNALDATE", f) | parse_item("RFC822.SIZE", f);
	if (strncasecmp(a, "BODY[", 5) == 0 || strncasecmp(a, "BODY.PEEK[", 10) == 0)
		return parse_body(a, f);
	if (strcasecmp(a, "ENVELOPE") == 0 || strcasecmp(a, "BODYSTRUCTURE") == 0 || strcasecmp(a, "BODY") == 0 ||
	    strcasecmp(a, "ALL") == 0 || strcasecmp(a, "FULL") == 0 || strncasecmp(a, "BINARY", 6) == 0)
		return -2;
	return -1;
}

/* parse_items - the atom or list of the FETCH command; -1 bad, -2 not yet. */
static int
parse_items(const struct imap_arg *a, struct fetch_ctx *f)
{
	const struct imap_arg *v = a->type == IMAP_ARG_LIST ? a->list : a;
	size_t n = a->type == IMAP_ARG_LIST ? a->n : 1;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int r;
		if (v[i].type != IMAP_ARG_ATOM)
			return -1;
		/* the parser's copy is ours to cut up for the command's life */
		if ((r = parse_item((char *)v[i].str, f)) < 0)
			return r;
	}
	if (f->uid_cmd) {
		int has_uid = 0;
		for (size_t i = 0; i < f->nitems; i++)
			has_uid |= f->items[i].att == FA_UID;
		if (!has_uid) {
			/* UID FETCH answers always carry the UID (RFC 3501 §6.4.8) */
			add_item(f, FA_UID);
			memmove(f->items + 1, f->items, (f->nitems - 1) * sizeof(*f->items));
			memset(f->items, 0, sizeof(*f->items));
			f->items[0].att = FA_UID;
		}
	}
	return 0;
}

/* ---- one message ---- */

void
imap_flags_out(struct imap_session *s, struct buf *out, const struct imap_msg *m)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ IDX_SEEN, "\\Seen" }, { IDX_ANSWERED, "\\Answered" }, { IDX_FLAGGED, "\\Flagged" },
		{ IDX_DELETED, "\\Deleted" }, { IDX_DRAFT, "\\Draft" }, { IDX_RECENT, "\\Recent" },
	};
	int first = 1;

	buf_addc(out, '(');
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (m->flags & names[i].bit) {
			buf_printf(out, "%s%s", first ? "" : " ", names[i].name);
			first = 0;
		}
	for (size_t i = 0; i < s->nkw; i++)
		if (m->kw & (1u << i)) {
			buf_printf(out, "%s%s", first ? "" : " ", s->kwnames[i]);
			first = 0;
		}
	buf_addc(out, ')');
}

/* scan - the header's end and the CRLF sizes of the open message. */
static int
scan(struct fetch_ctx *f)
{
	char chunk[READ_CHUNK];
	uint64_t pos = 0, crlf = 0;
	int line_empty = 1, prev_cr = 0, found = 0;
	ssize_t n;

	while ((n = pread(f->fd, chunk, sizeof(chunk), (off_t)pos)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			char c = chunk[i];
			crlf += 1 + (c == '\n' && !prev_cr);
			prev_cr = c == '\r';
			if (c == '\n') {
				if (line_empty && !found) {
					found = 1;
					f->hdr_lf = pos + (uint64_t)i + 1;
					f->hdr_crlf = crlf;
				}
				line_empty = 1;
			} else if (c != '\r')
				line_empty = 0;
		}
		pos += (uint64_t)n;
	}
	if (n < 0)
		return -1;
	if (!found) {
		f->hdr_lf = pos;
		f->hdr_crlf = crlf;
	}
	f->total_crlf = crlf;
	return 0;
}

/* crlf_copy - src (LF line ends) into out with CR LF. */
static void
crlf_copy(struct buf *out, const char *src, size_t n)
{
	int prev_cr = 0;

	for (size_t i = 0; i < n; i++) {
		if (src[i] == '\n' && !prev_cr)
			buf_addc(out, '\r');
		buf_addc(out, src[i]);
		prev_cr = src[i] == '\r';
	}
}

static int
field_listed(const struct fetch_item *it, const char *name, size_t len)
{
	for (size_t i = 0; i < it->nfields; i++)
		if (strlen(it->fields[i]) == len && strncasecmp(it->fields[i], name, len) == 0)
			return 1;
	return 0;
}

/* header_fields - HEADER.FIELDS[.NOT]: the chosen fields, CR LF, then the
 * blank line, into out. */
static int
header_fields(struct fetch_ctx *f, const struct fetch_item *it, struct buf *out)
{
	size_t n = f->hdr_lf < FIELDS_HEADER_MAX ? (size_t)f->hdr_lf : FIELDS_HEADER_MAX;
	char *h = xmalloc(n + 1);
	ssize_t got = pread(f->fd, h, n, 0);
	size_t i = 0;

	if (got < 0) {
		free(h);
		return -1;
	}
	n = (size_t)got;
	while (i < n && h[i] != '\n' && h[i] != '\r') {
		size_t start = i, colon = i;
		while (colon < n && h[colon] != ':' && h[colon] != '\n')
			colon++;
		/* the field runs to the end of its last continuation line */
		for (;;) {
			while (i < n && h[i] != '\n')
				i++;
			if (i < n)
				i++;
			if (i >= n || (h[i] != ' ' && h[i] != '\t'))
				break;
		}
		int listed = colon < n && h[colon] == ':' && field_listed(it, h + start, colon - start);
		if (listed == (it->sec == SEC_FIELDS))
			crlf_copy(out, h + start, i - start);
	}
	buf_adds(out, "\r\n");
	free(h);
	return 0;
}

/* partial - the window of a section of size bytes: *skip, *count. */
static void
partial(const struct fetch_item *it, uint64_t size, uint64_t *skip, uint64_t *count)
{
	*skip = 0;
	*count = size;
	if (!it->partial)
		return;
	*skip = it->off < size ? it->off : size;
	*count = size - *skip < it->len ? size - *skip : it->len;
}

static void
body_label(const struct fetch_item *it, struct buf *out, uint64_t count)
{
	buf_adds(out, it->label);
	if (it->partial)
		buf_printf(out, "<%llu>", (unsigned long long)it->off);
	buf_printf(out, " {%llu}\r\n", (unsigned long long)count);
}

/* body_start - announce a body section; either written whole (fields) or
 * set up to be streamed from the file. */
static int
body_start(struct fetch_ctx *f, const struct fetch_item *it, struct buf *out)
{
	uint64_t skip, count;

	if (it->sec == SEC_FIELDS || it->sec == SEC_FIELDS_NOT) {
		struct buf h = BUF_INIT;
		if (header_fields(f, it, &h) < 0)
			return -1;
		partial(it, h.len, &skip, &count);
		body_label(it, out, count);
		buf_add(out, h.data + skip, (size_t)count);
		buf_free(&h);
		return 0;
	}
	f->pos_lf = it->sec == SEC_TEXT ? f->hdr_lf : 0;
	f->end_lf = it->sec == SEC_HEADER ? f->hdr_lf : UINT64_MAX;
	uint64_t size = it->sec == SEC_ALL ? f->total_crlf :
	    it->sec == SEC_HEADER ? f->hdr_crlf : f->total_crlf - f->hdr_crlf;
	partial(it, size, &skip, &count);
	body_label(it, out, count);
	f->skip = skip;
	f->left = count;
	f->prev_cr = 0;
	f->in_body = count > 0;
	return 0;
}

/* body_more - the next chunk of the section being streamed. */
static int
body_more(struct fetch_ctx *f, struct buf *out)
{
	char chunk[READ_CHUNK];
	uint64_t want = f->end_lf - f->pos_lf < sizeof(chunk) ? f->end_lf - f->pos_lf : sizeof(chunk);
	ssize_t n = pread(f->fd, chunk, (size_t)want, (off_t)f->pos_lf);

	if (n <= 0)
		return -1;	/* the file shrank: the announced size cannot be kept */
	f->pos_lf += (uint64_t)n;
	for (ssize_t i = 0; i < n && f->left > 0; i++) {
		char c = chunk[i];
		if (c == '\n' && !f->prev_cr) {
			if (f->skip)
				f->skip--;
			else {
				buf_addc(out, '\r');
				if (--f->left == 0)
					break;
			}
		}
		f->prev_cr = c == '\r';
		if (f->skip)
			f->skip--;
		else {
			buf_addc(out, c);
			f->left--;
		}
	}
	f->in_body = f->left > 0;
	return 0;
}

static void
internaldate(struct buf *out, int64_t t)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
		"Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	buf_printf(out, "INTERNALDATE \"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday, mon[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* small_item - everything but a body section. */
static void
small_item(struct imap_session *s, struct fetch_ctx *f, const struct fetch_item *it, struct buf *out)
{
	struct imap_msg *m = &s->mbox.msgs[f->idx[f->cur]];

	switch (it->att) {
	case FA_UID:
		buf_printf(out, "UID %u", m->uid);
		break;
	case FA_FLAGS:
		buf_adds(out, "FLAGS ");
		imap_flags_out(s, out, m);
		break;
	case FA_SIZE:
		buf_printf(out, "RFC822.SIZE %llu", (unsigned long long)f->im.vsize);
		break;
	case FA_INTERNALDATE:
		internaldate(out, f->im.internaldate);
		break;
	case FA_MODSEQ:
		buf_printf(out, "MODSEQ (%llu)", (unsigned long long)f->im.modseq);
		break;
	case FA_BODY:
		break;
	}
}

static void
message_end(struct fetch_ctx *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	index_msg_clear(&f->im);
	f->started = 0;
	f->in_body = 0;
	f->cur++;
}

/* open_message - the message's file; if another session renamed it (a
 * flag change) since our index_get, sync and look it up once more. */
static int
open_message(struct imap_session *s, struct fetch_ctx *f)
{
	for (int attempt = 0;; attempt++) {
		char *path = index_msg_path(s->mbox.ix, &f->im);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), e = errno;
		free(path);
		if (fd >= 0 || e != ENOENT || attempt > 0)
			return fd;
		uint32_t uid = f->im.uid;
		index_msg_clear(&f->im);
		if (index_sync(s->mbox.ix, 0) < 0 || index_get(s->mbox.ix, uid, &f->im) != 0)
			return -1;
	}
}

/* message_start - look the message up, open it if a body is wanted, set
 * \Seen if asked; 0, or 1 if it vanished (skipped). */
static int
message_start(struct imap_session *s, struct fetch_ctx *f, struct buf *out)
{
	struct imap_msg *m = &s->mbox.msgs[f->idx[f->cur]];
	int need_file = 0;

	if (index_get(s->mbox.ix, m->uid, &f->im) != 0)
		return 1;
	for (size_t i = 0; i < f->nitems; i++)
		need_file |= f->items[i].att == FA_BODY;
	if (need_file && ((f->fd = open_message(s, f)) < 0 || scan(f) < 0))
		return 1;
	if (f->set_seen && !s->mbox.readonly && !(m->flags & IDX_SEEN) &&
	    index_set_flags(s->mbox.ix, m->uid, (m->flags | IDX_SEEN) & IDX_STORED_FLAGS) == 0) {
		m->flags |= IDX_SEEN;
		int listed = 0;
		for (size_t i = 0; i < f->nitems; i++)
			listed |= f->items[i].att == FA_FLAGS;
		if (!listed)
			add_item(f, FA_FLAGS);	/* the change is reported (RFC 3501 §6.4.5) */
	}
	buf_printf(out, "* %zu FETCH (", (size_t)f->idx[f->cur] + 1);
	f->started = 1;
	f->item = 0;
	return 0;
}

/* ---- the producer ---- */

static struct fetch_ctx *
ctx_of(struct imap_session *s)
{
	return s->fetch;
}

static int
produce(struct session *b, struct buf *out)
{
	struct imap_session *s = (struct imap_session *)b;
	struct fetch_ctx *f = ctx_of(s);

	if (f->in_body) {
		if (body_more(f, out) < 0)
			return -1;
		if (f->in_body)
			return 0;
	}
	while (f->cur < f->n) {
		if (!f->started && message_start(s, f, out) > 0) {
			f->missing = 1;
			message_end(f);
			continue;
		}
		while (f->item < f->nitems) {
			const struct fetch_item *it = &f->items[f->item];
			if (f->item++ > 0)
				buf_addc(out, ' ');
			if (it->att != FA_BODY)
				small_item(s, f, it, out);
			else if (body_start(f, it, out) < 0)
				return -1;
			else if (f->in_body)
				return 0;	/* streamed by the next calls */
		}
		buf_adds(out, ")\r\n");
		message_end(f);
		return 0;
	}
	if (f->missing)
		buf_printf(out, "%s NO Some messages were expunged meanwhile and are not in the answer\r\n", s->tag);
	else
		buf_printf(out, "%s OK %sFETCH completed\r\n", s->tag, f->uid_cmd ? "UID " : "");
	return 1;
}

static void
fetch_free(struct fetch_ctx *f)
{
	if (f->fd >= 0)
		close(f->fd);
	index_msg_clear(&f->im);
	items_free(f);
	free(f->idx);
	free(f);
}

static void
stream_end(struct session *b, int status)
{
	struct imap_session *s = (struct imap_session *)b;

	fetch_free(s->fetch);
	s->fetch = NULL;
}

void
imap_cmd_fetch(struct imap_session *s, const struct imap_command *c)
{
	struct fetch_ctx *f = xcalloc(1, sizeof(*f));
	int r;

	f->fd = -1;
	f->uid_cmd = strncmp(c->name, "UID ", 4) == 0;
	if (imap_msgset(s, &c->args[0], f->uid_cmd, &f->idx, &f->n) < 0) {
		fetch_free(f);
		return;
	}
	if ((r = parse_items(&c->args[1], f)) < 0) {
		if (r == -2)
			imap_tagged(s, "NO [CANNOT] This FETCH item is not supported yet");
		else
			imap_bad(s, "Invalid FETCH item");
		fetch_free(f);
		return;
	}
	s->fetch = f;
	session_send_stream(&s->base, produce, stream_end);
}
