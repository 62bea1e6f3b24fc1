/*
 * imap-fetch - FETCH and UID FETCH (RFC 3501 §6.4.5, §7.4.2; RFC 3516
 * BINARY): UID FLAGS RFC822.SIZE INTERNALDATE MODSEQ ENVELOPE BODY
 * BODYSTRUCTURE, BODY[section]<partial> and BODY.PEEK for every section
 * form (parts, HEADER, HEADER.FIELDS[.NOT], TEXT, MIME of parts and of
 * embedded messages), BINARY[part]<partial>, BINARY.PEEK and BINARY.SIZE,
 * RFC822, RFC822.HEADER, RFC822.TEXT, and the macros ALL FAST FULL;
 * the RFC 7162 modifier (CHANGEDSINCE m) keeps the messages whose MODSEQ
 * is above m and adds MODSEQ to the items; with VANISHED (UID FETCH,
 * QRESYNC on) the UIDs of the set expunged since m come first, as
 * VANISHED (EARLIER).
 *
 * The MIME work is imap-msg's and mime's: a message's ENVELOPE,
 * BODYSTRUCTURE, BODY and its part tree come from the index's cache,
 * filled in a worker before the answer starts (imap-fetch-cache.c), so a
 * section is a map of the file and a few page reads, never a parse.
 * Messages are stored with LF line ends and sent with CR LF (mime_reader);
 * sizes and partial offsets count the bytes as sent.
 *
 * The answer is streamed by the session base (session_send_stream): the
 * producer writes one message's small items, or one READ_CHUNK of a body,
 * per call, so a 50 MB message or a FETCH of 100,000 messages holds about
 * IMAP_OUT_HIGH of output, however slow the client.
 */
#include "imap.h"
#include "imap-msg.h"
#include "mime-decode.h"
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

#define READ_CHUNK	(32 * 1024)

enum fetch_att {
	FA_UID, FA_FLAGS, FA_SIZE, FA_INTERNALDATE, FA_MODSEQ,
	FA_ENVELOPE, FA_BODYSTRUCTURE, FA_BODY_SHORT,	/* from the cache */
	FA_BODY, FA_BINARY, FA_BINARY_SIZE,		/* from the part tree */
};

struct fetch_item {
	enum fetch_att att;
	struct imap_section sec;
	int peek;
	char *label;		/* the item's name in the answer, without <origin> */
	int partial;
	uint64_t off, len;
};

enum fetch_stream { ST_NONE, ST_RANGES, ST_DECODE };

struct fetch_ctx {
	struct fetch_item *items;
	size_t nitems;
	uint32_t *idx;		/* message indexes, ascending */
	size_t n, cur;
	int uid_cmd;
	int set_seen;		/* a non-PEEK body item: \Seen is set */
	int need_cache, need_tree;
	int missing;		/* a message vanished under us */
	int unknown_cte;	/* a BINARY part had an encoding we cannot undo */
	/* the message being answered */
	int started;
	size_t item;
	struct index_msg im;
	struct index_cache cache;
	struct mime_tree t;
	int have_tree;
	/* a section being streamed */
	enum fetch_stream stream;
	struct mime_ranges rs;
	struct mime_reader rd;
	int keep_nul;			/* ST_RANGES of a BINARY item: NUL sent as is */
	struct mime_decoder dec;
	uint64_t dpos, dend;		/* ST_DECODE: file bytes left to decode */
	struct buf dbuf;		/* ST_DECODE: decoded, not sent yet */
	uint64_t skip, left;		/* output bytes to drop, then to send */
};

/* ---- parsing the items ---- */

static void
items_free(struct fetch_ctx *f)
{
	for (size_t i = 0; i < f->nitems; i++) {
		imap_section_clear(&f->items[i].sec);
		free(f->items[i].label);
	}
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
	f->need_cache |= att == FA_ENVELOPE || att == FA_BODYSTRUCTURE || att == FA_BODY_SHORT;
	f->need_tree |= att >= FA_BODY;
	return it;
}

/* field_name - a HEADER.FIELDS name as an atom, or quoted if it cannot be one. */
static void
field_name(struct buf *out, const char *name)
{
	if (name[strcspn(name, "(){ %*\"\\]")] == '\0')
		buf_adds(out, name);
	else
		imap_quote(out, name);
}

/* section_label - "BODY[1.2.HEADER.FIELDS (From To)]": the section as
 * RFC 3501 spells it (keywords in upper case), for the answer. */
static char *
section_label(const char *att, const struct imap_section *sec)
{
	static const char *const text[] = {
		[IMAP_SECTION_BODY] = "", [IMAP_SECTION_HEADER] = "HEADER",
		[IMAP_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
		[IMAP_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[IMAP_SECTION_TEXT] = "TEXT", [IMAP_SECTION_MIME] = "MIME",
	};
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s[", att);
	for (size_t i = 0; i < sec->depth; i++)
		buf_printf(&b, "%s%u", i ? "." : "", sec->path[i]);
	if (sec->text != IMAP_SECTION_BODY)
		buf_printf(&b, "%s%s", sec->depth ? "." : "", text[sec->text]);
	if (sec->nfields > 0) {
		buf_adds(&b, " (");
		for (size_t i = 0; i < sec->nfields; i++) {
			if (i)
				buf_addc(&b, ' ');
			field_name(&b, sec->fields[i]);
		}
		buf_addc(&b, ')');
	}
	buf_addc(&b, ']');
	buf_addc(&b, '\0');
	return b.data;
}

/* number - digits at *p (at most 2^63), advanced past them; -1 if none. */
static int
number(const char **p, uint64_t *v_r)
{
	const char *s = *p;
	uint64_t v = 0;

	while (*s >= '0' && *s <= '9' && v < (UINT64_MAX >> 1) / 10)
		v = v * 10 + (uint64_t)(*s++ - '0');
	if (s == *p || (*s >= '0' && *s <= '9'))
		return -1;
	*p = s;
	*v_r = v;
	return 0;
}

/* parse_partial - "<origin.count>" after the section, or nothing. */
static int
parse_partial(const char *p, struct fetch_item *it)
{
	if (*p == '\0')
		return 0;
	if (*p++ != '<' || number(&p, &it->off) < 0 || *p++ != '.' || number(&p, &it->len) < 0 ||
	    strcmp(p, ">") != 0 || it->len == 0)
		return -1;
	it->partial = 1;
	return 0;
}

/*
 * parse_section_item - BODY[...]<o.n>, BODY.PEEK[...], BINARY[...],
 * BINARY.PEEK[...], BINARY.SIZE[...] (a is the atom, open points at its
 * '[').  BINARY takes part numbers only (RFC 3516 section-binary), and
 * BINARY.SIZE no partial.
 */
static int
parse_section_item(const char *a, const char *open, struct fetch_ctx *f)
{
	static const struct {
		const char *name;
		enum fetch_att att;
		int peek;
	} names[] = {
		{ "BODY", FA_BODY, 0 }, { "BODY.PEEK", FA_BODY, 1 }, { "BINARY", FA_BINARY, 0 },
		{ "BINARY.PEEK", FA_BINARY, 1 }, { "BINARY.SIZE", FA_BINARY_SIZE, 1 },
	};
	size_t namelen = (size_t)(open - a), i;
	const char *close = strrchr(open, ']');
	struct fetch_item *it;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == namelen && strncasecmp(a, names[i].name, namelen) == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0]) || close == NULL)
		return -1;
	it = add_item(f, names[i].att);
	it->peek = names[i].peek;
	if (imap_section_parse(open + 1, (size_t)(close - open - 1), &it->sec) < 0 ||
	    parse_partial(close + 1, it) < 0)
		return -1;
	if (it->att != FA_BODY && (it->sec.text != IMAP_SECTION_BODY || (it->att == FA_BINARY_SIZE && it->partial)))
		return -1;
	it->label = section_label(it->att == FA_BODY ? "BODY" : it->att == FA_BINARY ? "BINARY" : "BINARY.SIZE",
	    &it->sec);
	f->set_seen |= !it->peek;
	return 0;
}

static int
parse_item(const char *a, struct fetch_ctx *f)
{
	static const struct {
		const char *name;
		enum fetch_att att;
	} simple[] = {
		{ "UID", FA_UID }, { "FLAGS", FA_FLAGS }, { "RFC822.SIZE", FA_SIZE },
		{ "INTERNALDATE", FA_INTERNALDATE }, { "MODSEQ", FA_MODSEQ }, { "ENVELOPE", FA_ENVELOPE },
		{ "BODYSTRUCTURE", FA_BODYSTRUCTURE }, { "BODY", FA_BODY_SHORT },
	};
	static const struct {
		const char *name;
		enum imap_section_text sec;
		int peek;
	} rfc822[] = {
		{ "RFC822", IMAP_SECTION_BODY, 0 }, { "RFC822.HEADER", IMAP_SECTION_HEADER, 1 },
		{ "RFC822.TEXT", IMAP_SECTION_TEXT, 0 },
	};
	static const struct {
		const char *name, *items;
	} macros[] = {
		{ "FAST", "FLAGS INTERNALDATE RFC822.SIZE" },
		{ "ALL", "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE" },
		{ "FULL", "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY" },
	};
	const char *open;

	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (strcasecmp(a, simple[i].name) == 0) {
			add_item(f, simple[i].att);
			return 0;
		}
	for (size_t i = 0; i < sizeof(rfc822) / sizeof(rfc822[0]); i++)
		if (strcasecmp(a, rfc822[i].name) == 0) {
			struct fetch_item *it = add_item(f, FA_BODY);
			it->sec.text = rfc822[i].sec;
			it->peek = rfc822[i].peek;
			it->label = xstrdup(rfc822[i].name);
			f->set_seen |= !it->peek;
			return 0;
		}
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strcasecmp(a, macros[i].name) == 0) {
			char words[64], *w, *save;
			str_lcpy(words, macros[i].items, sizeof(words));
			for (w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
				parse_item(w, f);
			return 0;
		}
	if ((open = strchr(a, '[')) != NULL)
		return parse_section_item(a, open, f);
	return -1;
}

static int
has_item(const struct fetch_ctx *f, enum fetch_att att)
{
	for (size_t i = 0; i < f->nitems; i++)
		if (f->items[i].att == att)
			return 1;
	return 0;
}

/* parse_items - the atom or list of the FETCH command; -1 bad. */
static int
parse_items(const struct imap_arg *a, struct fetch_ctx *f)
{
	const struct imap_arg *v = a->type == IMAP_ARG_LIST ? a->list : a;
	size_t n = a->type == IMAP_ARG_LIST ? a->n : 1;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i].type != IMAP_ARG_ATOM || parse_item(v[i].str, f) < 0)
			return -1;
	}
	if (f->uid_cmd) {
		if (!has_item(f, FA_UID)) {
			/* UID FETCH answers always carry the UID (RFC 3501 §6.4.8) */
			add_item(f, FA_UID);
			memmove(f->items + 1, f->items, (f->nitems - 1) * sizeof(*f->items));
			memset(f->items, 0, sizeof(*f->items));
			f->items[0].att = FA_UID;
		}
	}
	return 0;
}

int
imap_fetch_items_valid(const struct imap_arg *a, int uid_cmd)
{
	struct fetch_ctx f = { .uid_cmd = uid_cmd };
	int r = parse_items(a, &f);

	for (size_t i = 0; r == 0 && i < f.nitems; i++)
		if (f.items[i].att >= FA_BODY && f.items[i].label == NULL)
			r = -2;	/* a section item must have its answer's name */
	items_free(&f);
	return r;
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

/* ---- sections ---- */

static void
literal_label(const struct fetch_item *it, struct buf *out, uint64_t count, int literal8)
{
	buf_adds(out, it->label);
	if (it->partial)
		buf_printf(out, "<%llu>", (unsigned long long)it->off);
	buf_printf(out, " %s{%llu}\r\n", literal8 ? "~" : "", (unsigned long long)count);
}

/* window - the part of a section of size bytes that a partial asks for. */
static void
window(struct fetch_ctx *f, const struct fetch_item *it, uint64_t size)
{
	f->skip = 0;
	f->left = size;
	if (!it->partial)
		return;
	f->skip = it->off < size ? it->off : size;
	f->left = size - f->skip < it->len ? size - f->skip : it->len;
}

/* section_part - the part a BINARY item names, or MIME_NONE. */
static uint32_t
section_part(const struct fetch_ctx *f, const struct fetch_item *it)
{
	return mime_part_number(&f->t, it->sec.path, it->sec.depth);
}

/* binary_cte - the encoding BINARY must undo for the part p that it
 * names: a leaf's; none (sent as stored) for BINARY[] and containers. */
static enum mime_cte
binary_cte(const struct fetch_ctx *f, const struct fetch_item *it, uint32_t p)
{
	struct mime_fields mf;
	enum mime_cte cte;

	if (it->sec.depth == 0 || f->t.parts[p].kind != MIME_LEAF)
		return MIME_CTE_7BIT;	/* a whole message or a container */
	mime_part_fields(&f->t, p, &mf);
	cte = mime_cte_parse(mf.encoding);
	mime_fields_clear(&mf);
	return cte;
}

/* body_start - announce a section and set up its streaming: a BODY
 * section in a literal, NUL bytes sent as 0x80 (a literal may not hold
 * NUL; a message APPENDed as literal8 may); binary (BINARY of a part
 * without transfer encoding) as stored in a literal8. */
static void
body_start(struct fetch_ctx *f, const struct fetch_item *it, struct buf *out, int binary)
{
	mime_ranges_free(&f->rs);
	memset(&f->rs, 0, sizeof(f->rs));
	if (imap_msg_section(&f->t, &it->sec, &f->rs) < 0) {
		buf_printf(out, "%s NIL", it->label);	/* no such part */
		return;
	}
	window(f, it, f->rs.vsize);
	literal_label(it, out, f->left, binary);
	f->keep_nul = binary;
	mime_reader_init(&f->rd, &f->t, &f->rs, f->skip);
	f->stream = f->left > 0 ? ST_RANGES : ST_NONE;
}

/* binary_start - BINARY[part]: the part decoded, as a literal8 (it may
 * hold NUL); a container or the whole message as stored. */
static void
binary_start(struct fetch_ctx *f, const struct fetch_item *it, struct buf *out)
{
	uint32_t p = section_part(f, it);
	enum mime_cte cte;

	if (p == MIME_NONE) {
		buf_printf(out, "%s NIL", it->label);
		return;
	}
	cte = binary_cte(f, it, p);
	if (cte != MIME_CTE_QP && cte != MIME_CTE_BASE64) {
		body_start(f, it, out, 1);
		return;
	}
	window(f, it, mime_part_decoded_size(&f->t, p));
	literal_label(it, out, f->left, 1);
	mime_decoder_init(&f->dec, cte);
	f->dpos = f->t.parts[p].body_off;
	f->dend = f->dpos + f->t.parts[p].body_len;
	buf_reset(&f->dbuf);
	f->stream = f->left > 0 ? ST_DECODE : ST_NONE;
}

static void
binary_size(struct fetch_ctx *f, const struct fetch_item *it, struct buf *out)
{
	uint32_t p = section_part(f, it);
	enum mime_cte cte;
	struct mime_ranges rs = { 0 };

	if (p == MIME_NONE) {
		buf_printf(out, "%s NIL", it->label);
		return;
	}
	cte = binary_cte(f, it, p);
	if (cte == MIME_CTE_QP || cte == MIME_CTE_BASE64) {
		buf_printf(out, "%s %llu", it->label, (unsigned long long)mime_part_decoded_size(&f->t, p));
		return;
	}
	imap_msg_section(&f->t, &it->sec, &rs);
	buf_printf(out, "%s %llu", it->label, (unsigned long long)rs.vsize);
	mime_ranges_free(&rs);
}

/* decode_more - the next piece of a decoded BINARY section. */
static void
decode_more(struct fetch_ctx *f, struct buf *out)
{
	while (f->left > 0 && buf_unread(&f->dbuf) == 0 && f->dpos < f->dend) {
		uint64_t n = f->dend - f->dpos < READ_CHUNK ? f->dend - f->dpos : READ_CHUNK;
		mime_decoder_feed(&f->dec, f->t.data + f->dpos, (size_t)n, &f->dbuf);
		f->dpos += n;
		if (f->dpos == f->dend)
			mime_decoder_end(&f->dec, &f->dbuf);
		size_t drop = f->skip < buf_unread(&f->dbuf) ? (size_t)f->skip : buf_unread(&f->dbuf);
		buf_consume(&f->dbuf, drop);
		f->skip -= drop;
	}
	size_t take = f->left < buf_unread(&f->dbuf) ? (size_t)f->left : buf_unread(&f->dbuf);
	buf_add(out, buf_rptr(&f->dbuf), take);
	buf_consume(&f->dbuf, take);
	f->left -= take;
	if (take == 0 && f->dpos == f->dend) {
		/* the size was counted by the same decoder: cannot happen,
		 * but never leave the literal short */
		for (; f->left > 0; f->left--)
			buf_addc(out, ' ');
	}
	if (f->left == 0)
		f->stream = ST_NONE;
}

/* stream_more - the next READ_CHUNK of the section being streamed. */
static void
stream_more(struct fetch_ctx *f, struct buf *out)
{
	if (f->stream == ST_DECODE) {
		decode_more(f, out);
		return;
	}
	size_t before = out->len;
	size_t n = mime_reader_read(&f->rd, f->left < READ_CHUNK ? (size_t)f->left : READ_CHUNK, out);
	f->left -= n;
	if (!f->keep_nul && n > 0)
		for (char *p = out->data + before; (p = memchr(p, '\0', (size_t)(out->data + out->len - p))) != NULL;)
			*p++ = (char)0x80;
	if (n == 0)
		for (; f->left > 0; f->left--)
			buf_addc(out, ' ');	/* cannot happen: the ranges' sizes are exact */
	if (f->left == 0)
		f->stream = ST_NONE;
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

/* small_item - an item that is not a streamed section. */
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
	case FA_ENVELOPE:
		buf_adds(out, "ENVELOPE ");
		buf_add(out, f->cache.envelope.data, f->cache.envelope.len);
		break;
	case FA_BODYSTRUCTURE:
		buf_adds(out, "BODYSTRUCTURE ");
		buf_add(out, f->cache.bodystructure.data, f->cache.bodystructure.len);
		break;
	case FA_BODY_SHORT:
		buf_adds(out, "BODY ");
		buf_add(out, f->cache.body.data, f->cache.body.len);
		break;
	case FA_BODY:
		body_start(f, it, out, 0);
		break;
	case FA_BINARY:
		binary_start(f, it, out);
		break;
	case FA_BINARY_SIZE:
		binary_size(f, it, out);
		break;
	}
}

static void
message_end(struct fetch_ctx *f)
{
	index_msg_clear(&f->im);
	if (f->have_tree)
		mime_tree_free(&f->t);
	f->have_tree = 0;
	f->started = 0;
	f->stream = ST_NONE;
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

/* load_mime - the message's part tree (from the cached blob: a map, no
 * parse) and its cached texts; a message the cache pass missed (renamed
 * meanwhile) is parsed here.  0/-1. */
static int
load_mime(struct imap_session *s, struct fetch_ctx *f)
{
	int cached = index_cache_get(s->mbox.ix, f->im.uid, &f->cache) == 0;
	int fd, r;

	if (!f->need_tree && cached)
		return 0;
	if ((fd = open_message(s, f)) < 0)
		return -1;
	r = mime_open_fd(fd, cached ? f->cache.mime.data : NULL, cached ? f->cache.mime.len : 0, &f->t);
	close(fd);
	if (r < 0)
		return -1;
	f->have_tree = 1;
	if (r == 1)
		imap_msg_cache_fill(&f->t, &f->cache);
	return 0;
}

/* binary_ok - every BINARY item of the message names a part whose
 * encoding is known (else the message is left out: [UNKNOWN-CTE]). */
static int
binary_ok(const struct fetch_ctx *f)
{
	for (size_t i = 0; i < f->nitems; i++) {
		const struct fetch_item *it = &f->items[i];
		uint32_t p;
		if (it->att != FA_BINARY && it->att != FA_BINARY_SIZE)
			continue;
		if ((p = section_part(f, it)) != MIME_NONE && binary_cte(f, it, p) == MIME_CTE_UNKNOWN)
			return 0;
	}
	return 1;
}

/* message_start - look the message up, load what its items need, set
 * \Seen if asked; 0, or 1 if it is skipped (vanished, unknown CTE). */
static int
message_start(struct imap_session *s, struct fetch_ctx *f, struct buf *out)
{
	struct imap_msg *m = &s->mbox.msgs[f->idx[f->cur]];

	if (index_get(s->mbox.ix, m->uid, &f->im) != 0)
		return f->missing = 1;
	if ((f->need_cache || f->need_tree) && load_mime(s, f) < 0)
		return f->missing = 1;
	if (f->have_tree && !binary_ok(f))
		return f->unknown_cte = 1;
	if (f->set_seen && !s->mbox.readonly && !(m->flags & IDX_SEEN) &&
	    index_set_flags(s->mbox.ix, m->uid, (m->flags | IDX_SEEN) & IDX_STORED_FLAGS) == 0) {
		m->flags |= IDX_SEEN;
		f->im.modseq = index_highestmodseq(s->mbox.ix);
		if (!has_item(f, FA_FLAGS))
			add_item(f, FA_FLAGS);	/* the change is reported (RFC 3501 §6.4.5) */
		if (s->condstore && !has_item(f, FA_MODSEQ))
			add_item(f, FA_MODSEQ);	/* with its MODSEQ (RFC 7162 §3.2) */
		if (s->qresync && !has_item(f, FA_UID))
			add_item(f, FA_UID);	/* and its UID (§3.2.4) */
	}
	buf_printf(out, "* %zu FETCH (", (size_t)f->idx[f->cur] + 1);
	f->started = 1;
	f->item = 0;
	return 0;
}

/* ---- the producer ---- */

static int
produce(struct session *b, struct buf *out)
{
	struct imap_session *s = (struct imap_session *)b;
	struct fetch_ctx *f = s->fetch;

	if (f->stream != ST_NONE) {
		stream_more(f, out);
		if (f->stream != ST_NONE)
			return 0;
	}
	while (f->cur < f->n) {
		if (!f->started && message_start(s, f, out) > 0) {
			message_end(f);
			continue;
		}
		while (f->item < f->nitems) {
			if (f->item > 0)
				buf_addc(out, ' ');
			small_item(s, f, &f->items[f->item++], out);
			if (f->stream != ST_NONE)
				return 0;	/* streamed by the next calls */
		}
		buf_adds(out, ")\r\n");
		message_end(f);
		return 0;
	}
	if (f->unknown_cte)
		buf_printf(out, "%s NO [UNKNOWN-CTE] A part has an encoding this server cannot decode\r\n", s->tag);
	else if (f->missing)
		buf_printf(out, "%s NO Some messages were expunged meanwhile and are not in the answer\r\n", s->tag);
	else
		buf_printf(out, "%s OK %sFETCH completed\r\n", s->tag, f->uid_cmd ? "UID " : "");
	return 1;
}

static void
fetch_free(struct fetch_ctx *f)
{
	index_msg_clear(&f->im);
	index_cache_clear(&f->cache);
	if (f->have_tree)
		mime_tree_free(&f->t);
	mime_ranges_free(&f->rs);
	buf_free(&f->dbuf);
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

static void
fetch_go(struct imap_session *s)
{
	session_send_stream(&s->base, produce, stream_end);
}

/* changed_since - keep the messages whose MODSEQ is above since. */
static int
changed_since(struct imap_session *s, struct fetch_ctx *f, uint64_t since)
{
	struct index_msg *rows;
	size_t nrows, w = 0, r = 0;

	if (index_changed_since(s->mbox.ix, since, &rows, &nrows) < 0)
		return -1;
	for (size_t i = 0; i < f->n; i++) {
		uint32_t uid = s->mbox.msgs[f->idx[i]].uid;
		while (r < nrows && rows[r].uid < uid)
			r++;
		if (r < nrows && rows[r].uid == uid)
			f->idx[w++] = f->idx[i];
	}
	f->n = w;
	index_msgs_free(rows, nrows);
	return 0;
}

/* parse_modifiers - "(CHANGEDSINCE m [VANISHED])" in any order; 0, or
 * -1 with the BAD text. */
static int
parse_modifiers(struct imap_session *s, const struct imap_arg *a, int uid_cmd, uint64_t *since_r,
    int *vanished_r, const char **err_r)
{
	int changedsince = 0;

	*err_r = "FETCH takes (CHANGEDSINCE modseq [VANISHED]) as its modifier";
	if (a->type != IMAP_ARG_LIST || a->n == 0)
		return -1;
	for (size_t i = 0; i < a->n; i++) {
		if (imap_arg_atom(&a->list[i], "VANISHED") && !*vanished_r) {
			*vanished_r = 1;
			continue;
		}
		struct imap_arg pair = { .type = IMAP_ARG_LIST, .list = &a->list[i], .n = 2 };
		if (changedsince || i + 1 == a->n || imap_modifier_num(&pair, "CHANGEDSINCE", since_r) < 0)
			return -1;
		changedsince = 1;
		i++;
	}
	if (!changedsince)
		return -1;
	if (*vanished_r && (!uid_cmd || !s->qresync)) {
		*err_r = "VANISHED needs UID FETCH and QRESYNC enabled";
		return -1;
	}
	return 0;
}

/* vanished_earlier - the UIDs of the command's set expunged since since. */
static void
vanished_earlier(struct imap_session *s, const struct imap_arg *set, uint64_t since)
{
	struct imap_seqset uids;
	const char *err;
	uint32_t *gone;
	size_t ngone, w = 0;

	if (set->type != IMAP_ARG_ATOM || imap_parse_seqset(set->str, &uids, &err) < 0)
		return;		/* imap_msgset() has taken it already */
	imap_seqset_resolve(&uids, s->mbox.uidnext > 1 ? s->mbox.uidnext - 1 : 1);
	if (index_expunged_since(s->mbox.ix, since, &gone, &ngone) == 0) {
		for (size_t i = 0; i < ngone; i++)
			if (imap_seqset_has(&uids, gone[i]))
				gone[w++] = gone[i];
		imap_vanished(s, gone, w, 1);
		free(gone);
	}
	imap_seqset_free(&uids);
}

void
imap_cmd_fetch(struct imap_session *s, const struct imap_command *c)
{
	struct fetch_ctx *f = xcalloc(1, sizeof(*f));
	uint64_t since;
	int vanished = 0;
	const char *err = "Invalid FETCH item";

	f->uid_cmd = strncmp(c->name, "UID ", 4) == 0;
	if (imap_msgset(s, &c->args[0], f->uid_cmd, &f->idx, &f->n) < 0) {
		fetch_free(f);
		return;
	}
	if (parse_items(&c->args[1], f) < 0 ||
	    (c->nargs == 3 && parse_modifiers(s, &c->args[2], f->uid_cmd, &since, &vanished, &err) < 0)) {
		imap_bad(s, err);
		fetch_free(f);
		return;
	}
	if (vanished)
		vanished_earlier(s, &c->args[0], since);
	if (c->nargs == 3) {
		if (!has_item(f, FA_MODSEQ))
			add_item(f, FA_MODSEQ);
		if (changed_since(s, f, since) < 0) {
			imap_tagged(s, "NO [SERVERBUG] Cannot read the mailbox index");
			fetch_free(f);
			return;
		}
	}
	s->condstore |= has_item(f, FA_MODSEQ);
	s->fetch = f;
	if ((f->need_cache || f->need_tree) && f->n > 0) {
		uint32_t *uids = xmalloc(f->n * sizeof(*uids));
		for (size_t i = 0; i < f->n; i++)
			uids[i] = s->mbox.msgs[f->idx[i]].uid;
		imap_fetch_cache(s, uids, f->n, fetch_go);
		return;
	}
	fetch_go(s);
}
