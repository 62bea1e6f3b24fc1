/*
 * imap-search - SEARCH and UID SEARCH (RFC 3501 §6.4.4) on ALL, sequence
 * and UID sets, the flag keys (ANSWERED ... UNSEEN, NEW, OLD, RECENT,
 * KEYWORD/UNKEYWORD), LARGER/SMALLER, BEFORE/ON/SINCE (the internal date,
 * in UTC days), SENTBEFORE/SENTON/SENTSINCE (the Date: field, in the days
 * of its own zone; a message without a valid one matches none), HEADER
 * and SUBJECT/FROM/TO/CC/BCC (the field unfolded with its encoded words
 * decoded), BODY (the decoded text of the text parts: transfer encoding
 * undone, converted to UTF-8) and TEXT (the decoded header and the body),
 * MODSEQ (RFC 7162: the answer then ends with the highest MODSEQ of the
 * messages found; the optional entry name and type are accepted and, as
 * every flag shares one MODSEQ here, ignored),
 * NOT, OR and parenthesised lists, after an optional CHARSET UTF-8 or
 * US-ASCII (others: NO [BADCHARSET]).  Strings match as substrings,
 * ignoring case (ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic
 * letters: imap-search-fold.c).
 *
 * ESEARCH (RFC 4731): SEARCH RETURN (MIN MAX ALL COUNT) answers one
 * "* ESEARCH (TAG ...)" line; RETURN () means ALL.
 *
 * The keys are parsed into a tree in the loop, then evaluated in a worker
 * (a header key reads every message's header, BODY every text part); the
 * session is paused meanwhile, so the worker may read s->mbox.  A body
 * search uses the part tree cached by FETCH when there is one.
 */
#include "imap.h"
#include "imap-msg.h"
#include "mime-decode.h"
#include "rfc2047.h"
#include "rfc5322.h"
#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SEARCH_DEPTH_MAX	64
#define SEARCH_HEADER_MAX	(256 * 1024)	/* header bytes searched */
#define SEARCH_HEADER_READ	(8 * 1024)	/* read at a time until the header ends */
#define SEARCH_PART_MAX		(16 * 1024 * 1024)	/* stored bytes of one text part searched */

enum skey_type {
	K_ALL, K_FLAGS, K_KEYWORD, K_NONE, K_LARGER, K_SMALLER, K_BEFORE, K_ON, K_SINCE, K_SENTBEFORE,
	K_SENTON, K_SENTSINCE, K_HEADER, K_BODY, K_TEXT, K_MODSEQ, K_SEQ, K_UID, K_NOT, K_OR, K_AND,
};

struct skey {
	enum skey_type type;
	uint32_t mask, want;	/* K_FLAGS, K_KEYWORD: (flags or kw & mask) == want */
	uint64_t num;		/* sizes; days since the epoch */
	char *field;		/* K_HEADER (a copy: the job outlives the command) */
	struct buf value;	/* K_HEADER, K_BODY, K_TEXT: the string, case-folded */
	struct imap_seqset set;
	struct skey **kids;	/* K_NOT (1), K_OR (2), K_AND (n) */
	size_t nkids;
};

struct search_job {
	struct imap_job j;
	struct skey *root;
	int uid;
	int modseq;		/* a MODSEQ key: report the highest found */
	uint32_t *found;	/* sequence numbers or UIDs, ascending */
	size_t nfound;
	uint64_t highest;	/* the highest MODSEQ found (a MODSEQ key) */
	unsigned ret;		/* RET_* of RETURN (...); 0: a plain SEARCH */
	int failed;
};

static void
skey_free(struct skey *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->nkids; i++)
		skey_free(k->kids[i]);
	free(k->kids);
	imap_seqset_free(&k->set);
	free(k->field);
	buf_free(&k->value);
	free(k);
}

static struct skey *
skey_new(enum skey_type type)
{
	struct skey *k = xcalloc(1, sizeof(*k));

	k->type = type;
	return k;
}

static void
skey_add(struct skey *parent, struct skey *kid)
{
	parent->kids = xrealloc(parent->kids, (parent->nkids + 1) * sizeof(*parent->kids));
	parent->kids[parent->nkids++] = kid;
}

/* ---- parsing ---- */

struct sparse {
	const struct imap_arg *a;
	size_t n, i;
	const char *error;	/* BAD text */
	struct imap_session *s;
};

static const struct {
	const char *name;
	uint32_t mask, want;
} flag_keys[] = {
	{ "ANSWERED", IDX_ANSWERED, IDX_ANSWERED }, { "UNANSWERED", IDX_ANSWERED, 0 },
	{ "DELETED", IDX_DELETED, IDX_DELETED }, { "UNDELETED", IDX_DELETED, 0 },
	{ "DRAFT", IDX_DRAFT, IDX_DRAFT }, { "UNDRAFT", IDX_DRAFT, 0 },
	{ "FLAGGED", IDX_FLAGGED, IDX_FLAGGED }, { "UNFLAGGED", IDX_FLAGGED, 0 },
	{ "SEEN", IDX_SEEN, IDX_SEEN }, { "UNSEEN", IDX_SEEN, 0 },
	{ "RECENT", IDX_RECENT, IDX_RECENT }, { "OLD", IDX_RECENT, 0 },
	{ "NEW", IDX_RECENT | IDX_SEEN, IDX_RECENT },
};

enum { RET_MIN = 1, RET_MAX = 2, RET_ALL = 4, RET_COUNT = 8, RET_ESEARCH = 16 };

static const char *const header_keys[] = { "SUBJECT", "FROM", "TO", "CC", "BCC" };

static const struct {
	const char *name;
	enum skey_type type;
} date_keys[] = {
	{ "BEFORE", K_BEFORE }, { "ON", K_ON }, { "SINCE", K_SINCE },
	{ "SENTBEFORE", K_SENTBEFORE }, { "SENTON", K_SENTON }, { "SENTSINCE", K_SENTSINCE },
};

static const struct imap_arg *
next_arg(struct sparse *p)
{
	if (p->i >= p->n) {
		p->error = "Missing search argument";
		return NULL;
	}
	return &p->a[p->i++];
}

/* parse_date - "1-Feb-1994" (or quoted) into days since the epoch. */
static int
parse_date(const char *s, uint64_t *days_r)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec" };
	char m[4];
	int d, y, used = 0;
	struct tm tm;

	if (sscanf(s, "%2d-%3[A-Za-z]-%4d%n", &d, m, &y, &used) != 3 || s[used] != '\0' || d < 1 || d > 31 ||
	    y < 1900 || y > 9999)
		return -1;
	memset(&tm, 0, sizeof(tm));
	for (tm.tm_mon = 0; tm.tm_mon < 12 && strcasecmp(mon[tm.tm_mon], m) != 0; tm.tm_mon++)
		;
	if (tm.tm_mon == 12)
		return -1;
	tm.tm_mday = d;
	tm.tm_year = y - 1900;
	time_t t = timegm(&tm);
	*days_r = t < 0 ? 0 : (uint64_t)t / 86400;
	return 0;
}

static struct skey *parse_key(struct sparse *p, int depth);

static struct skey *
parse_list(struct sparse *p, const struct imap_arg *a, size_t n, int depth)
{
	struct sparse sub = { .a = a, .n = n, .s = p->s };
	struct skey *and = skey_new(K_AND);

	if (n == 0)
		p->error = "Empty search list";
	while (!p->error && sub.i < sub.n) {
		struct skey *k = parse_key(&sub, depth + 1);
		if (k == NULL) {
			p->error = sub.error;
			break;
		}
		skey_add(and, k);
	}
	if (p->error) {
		skey_free(and);
		return NULL;
	}
	return and;
}

static struct skey *
parse_word(struct sparse *p, const char *w, int depth)
{
	const struct imap_arg *v;
	struct skey *k;

	for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++)
		if (strcasecmp(w, flag_keys[i].name) == 0) {
			k = skey_new(K_FLAGS);
			k->mask = flag_keys[i].mask;
			k->want = flag_keys[i].want;
			return k;
		}
	if (strcasecmp(w, "ALL") == 0)
		return skey_new(K_ALL);
	if (strcasecmp(w, "KEYWORD") == 0 || strcasecmp(w, "UNKEYWORD") == 0) {
		int un = w[0] == 'U' || w[0] == 'u';
		if ((v = next_arg(p)) == NULL || v->type != IMAP_ARG_ATOM)
			return p->error = "KEYWORD takes a flag", NULL;
		for (size_t i = 0; i < p->s->nkw; i++)
			if (strcasecmp(p->s->kwnames[i], v->str) == 0) {
				k = skey_new(K_KEYWORD);
				k->mask = 1u << i;
				k->want = un ? 0 : k->mask;
				return k;
			}
		return skey_new(un ? K_ALL : K_NONE);	/* a keyword no message has */
	}
	if (strcasecmp(w, "LARGER") == 0 || strcasecmp(w, "SMALLER") == 0) {
		unsigned long long n;
		int used = 0;
		if ((v = next_arg(p)) == NULL || v->type != IMAP_ARG_ATOM ||
		    sscanf(v->str, "%llu%n", &n, &used) != 1 || v->str[used] != '\0' || v->str[0] == '-')
			return p->error = "LARGER/SMALLER take a number", NULL;
		k = skey_new(w[0] == 'L' || w[0] == 'l' ? K_LARGER : K_SMALLER);
		k->num = n;
		return k;
	}
	for (size_t i = 0; i < sizeof(date_keys) / sizeof(date_keys[0]); i++)
		if (strcasecmp(w, date_keys[i].name) == 0) {
			uint64_t days;
			if ((v = next_arg(p)) == NULL || imap_arg_astring(v) == NULL || parse_date(v->str, &days) < 0)
				return p->error = "Invalid date (use 1-Feb-2024)", NULL;
			k = skey_new(date_keys[i].type);
			k->num = days;
			return k;
		}
	if (strcasecmp(w, "BODY") == 0 || strcasecmp(w, "TEXT") == 0) {
		if ((v = next_arg(p)) == NULL || imap_arg_astring(v) == NULL)
			return p->error = "Missing search string", NULL;
		k = skey_new(strcasecmp(w, "BODY") == 0 ? K_BODY : K_TEXT);
		imap_search_fold(v->str, v->len, &k->value);
		return k;
	}
	for (size_t i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]); i++)
		if (strcasecmp(w, header_keys[i]) == 0) {
			if ((v = next_arg(p)) == NULL || imap_arg_astring(v) == NULL)
				return p->error = "Missing search string", NULL;
			k = skey_new(K_HEADER);
			k->field = xstrdup(header_keys[i]);
			imap_search_fold(v->str, v->len, &k->value);
			return k;
		}
	if (strcasecmp(w, "HEADER") == 0) {
		const struct imap_arg *f = next_arg(p);
		if (f == NULL || imap_arg_astring(f) == NULL || (v = next_arg(p)) == NULL || imap_arg_astring(v) == NULL)
			return p->error = "HEADER takes a field name and a string", NULL;
		k = skey_new(K_HEADER);
		k->field = xstrdup(f->str);
		imap_search_fold(v->str, v->len, &k->value);
		return k;
	}
	if (strcasecmp(w, "NOT") == 0 || strcasecmp(w, "OR") == 0) {
		int n = strcasecmp(w, "OR") == 0 ? 2 : 1;
		k = skey_new(n == 2 ? K_OR : K_NOT);
		for (int i = 0; i < n; i++) {
			struct skey *kid = parse_key(p, depth + 1);
			if (kid == NULL) {
				skey_free(k);
				return NULL;
			}
			skey_add(k, kid);
		}
		return k;
	}
	if (strcasecmp(w, "MODSEQ") == 0) {
		unsigned long long n;
		int used = 0;
		if ((v = next_arg(p)) != NULL && (v->type == IMAP_ARG_QUOTED || v->type == IMAP_ARG_LITERAL)) {
			const struct imap_arg *type = next_arg(p);	/* entry-name entry-type-req */
			if (type == NULL || !(imap_arg_atom(type, "priv") || imap_arg_atom(type, "shared") ||
			    imap_arg_atom(type, "all")))
				return p->error = "MODSEQ takes an entry name, priv/shared/all and a number", NULL;
			v = next_arg(p);
		}
		if (v == NULL || v->type != IMAP_ARG_ATOM || v->str[0] < '0' || v->str[0] > '9' ||
		    sscanf(v->str, "%llu%n", &n, &used) != 1 || v->str[used] != '\0')
			return p->error = "MODSEQ takes a number", NULL;
		k = skey_new(K_MODSEQ);
		k->num = n;
		return k;
	}
	if (strcasecmp(w, "UID") == 0) {
		const char *err;
		if ((v = next_arg(p)) == NULL || v->type != IMAP_ARG_ATOM)
			return p->error = "UID takes a set", NULL;
		k = skey_new(K_UID);
		if (imap_parse_seqset(v->str, &k->set, &err) < 0) {
			free(k);
			return p->error = err, NULL;
		}
		return k;
	}
	if ((*w >= '0' && *w <= '9') || *w == '*') {
		const char *err;
		k = skey_new(K_SEQ);
		if (imap_parse_seqset(w, &k->set, &err) < 0) {
			free(k);
			return p->error = err, NULL;
		}
		return k;
	}
	p->error = "Unknown search key";
	return NULL;
}

static struct skey *
parse_key(struct sparse *p, int depth)
{
	const struct imap_arg *a;

	if (depth > SEARCH_DEPTH_MAX) {
		p->error = "Search too complex";
		return NULL;
	}
	if ((a = next_arg(p)) == NULL)
		return NULL;
	if (a->type == IMAP_ARG_LIST)
		return parse_list(p, a->list, a->n, depth);
	if (a->type != IMAP_ARG_ATOM) {
		p->error = "Invalid search key";
		return NULL;
	}
	return parse_word(p, a->str, depth);
}

/* ---- evaluation ---- */

struct seval {
	struct imap_mailbox *mb;
	size_t i;			/* the message */
	struct index_msg im;		/* loaded when a key needs it */
	int have_im;
	char *hdr;			/* loaded when a key needs it: hdr_buf or NULL */
	size_t hdr_len;
	int have_hdr;
	char *hdr_buf;			/* SEARCH_HEADER_MAX, kept for every message */
	struct buf body;		/* the text parts decoded and folded */
	int have_body;
	int64_t sent_day;		/* INT64_MIN: no valid Date: */
	int have_sent;
};

static struct index_msg *
need_im(struct seval *e)
{
	if (!e->have_im) {
		e->have_im = 1;
		if (index_get(e->mb->ix, e->mb->msgs[e->i].uid, &e->im) != 0)
			memset(&e->im, 0, sizeof(e->im));
	}
	return &e->im;
}

static int
open_msg(struct seval *e)
{
	struct index_msg *m = need_im(e);
	char *path;
	int fd;

	if (m->filename == NULL)
		return -1;
	path = index_msg_path(e->mb->ix, m);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	return fd;
}

/* header_ends - buf holds the blank line that ends the header, where the
 * field parser stops: bytes after it would never be looked at. */
static int
header_ends(const char *buf, size_t len)
{
	if ((len > 0 && buf[0] == '\n') || (len > 1 && buf[0] == '\r' && buf[1] == '\n'))
		return 1;
	return memmem(buf, len, "\n\n", 2) != NULL || memmem(buf, len, "\n\r\n", 3) != NULL;
}

/* need_hdr - the message's first SEARCH_HEADER_MAX bytes, but read only
 * up to the end of the header (a few KB): reading whole messages, into a
 * fresh 256 KB buffer each, was most of a SUBJECT search's time. */
static void
need_hdr(struct seval *e)
{
	int fd;
	ssize_t n;
	size_t len = 0;

	if (e->have_hdr)
		return;
	e->have_hdr = 1;
	if ((fd = open_msg(e)) < 0)
		return;
	if (e->hdr_buf == NULL)
		e->hdr_buf = xmalloc(SEARCH_HEADER_MAX + 1);
	while (len < SEARCH_HEADER_MAX && !header_ends(e->hdr_buf, len)) {
		size_t want = SEARCH_HEADER_MAX - len < SEARCH_HEADER_READ ? SEARCH_HEADER_MAX - len : SEARCH_HEADER_READ;
		if ((n = read(fd, e->hdr_buf + len, want)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	e->hdr = e->hdr_buf;
	e->hdr_len = len;
}

/* field_text - the field's value unfolded and decoded, folded for matching. */
static void
field_text(const struct rfc5322_field *f, struct buf *out)
{
	struct buf raw = BUF_INIT, dec = BUF_INIT;

	rfc5322_unfold(f->value, f->value_len, &raw);
	rfc2047_decode(raw.data ? raw.data : "", raw.len, &dec);
	imap_search_fold(dec.data ? dec.data : "", dec.len, out);
	buf_free(&raw);
	buf_free(&dec);
}

static int
contains(const struct buf *hay, const struct buf *needle)
{
	return needle->len == 0 || (hay->len >= needle->len && memmem(hay->data, hay->len, needle->data, needle->len));
}

/* header_match - a field named name whose decoded value contains value
 * (any field of that name, when value is empty). */
static int
header_match(struct seval *e, const char *name, const struct buf *value)
{
	struct rfc5322_field f;
	size_t pos = 0;
	int hit = 0;

	need_hdr(e);
	while (!hit && e->hdr && rfc5322_next_field(e->hdr, e->hdr_len, &pos, &f)) {
		struct buf v = BUF_INIT;
		if (!rfc5322_name_is(&f, name))
			continue;
		field_text(&f, &v);
		hit = contains(&v, value);
		buf_free(&v);
	}
	return hit;
}

/* header_text_match - TEXT's header half: any field's name or decoded value. */
static int
header_text_match(struct seval *e, const struct buf *value)
{
	struct rfc5322_field f;
	size_t pos = 0;
	int hit = 0;

	need_hdr(e);
	while (!hit && e->hdr && rfc5322_next_field(e->hdr, e->hdr_len, &pos, &f)) {
		struct buf v = BUF_INIT;
		imap_search_fold(f.name, f.name_len, &v);
		buf_adds(&v, ": ");
		field_text(&f, &v);
		hit = contains(&v, value);
		buf_free(&v);
	}
	return hit;
}

/* need_body - the text parts of the message, decoded and folded, one
 * after the other (from the cached part tree when FETCH left one). */
static void
need_body(struct seval *e)
{
	struct index_cache c = { 0 };
	struct mime_tree t;
	int fd, cached, r;

	if (e->have_body)
		return;
	e->have_body = 1;
	if ((fd = open_msg(e)) < 0)
		return;
	cached = index_cache_get(e->mb->ix, e->im.uid, &c) == 0;
	r = mime_open_fd(fd, cached ? c.mime.data : NULL, cached ? c.mime.len : 0, &t);
	close(fd);
	index_cache_clear(&c);
	if (r < 0)
		return;
	for (size_t i = 0; i < t.nparts; i++) {
		struct buf text = BUF_INIT;
		if (t.parts[i].kind == MIME_LEAF && mime_part_text(&t, (uint32_t)i, SEARCH_PART_MAX, &text) == 0) {
			imap_search_fold(text.data ? text.data : "", text.len, &e->body);
			buf_addc(&e->body, '\n');	/* no match across parts */
		}
		buf_free(&text);
	}
	mime_tree_free(&t);
}

/* sent_day - the day of the Date: field in its own zone (RFC 3501
 * SENT*: "disregarding time and timezone"). */
static int64_t
sent_day(struct seval *e)
{
	struct rfc5322_field f;
	int64_t t;
	int tz;

	if (e->have_sent)
		return e->sent_day;
	e->have_sent = 1;
	e->sent_day = INT64_MIN;
	need_hdr(e);
	if (e->hdr && rfc5322_find(e->hdr, e->hdr_len, "Date", &f) &&
	    rfc5322_parse_date(f.value, f.value_len, &t, &tz) == 0) {
		t += (int64_t)tz * 60;
		e->sent_day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	}
	return e->sent_day;
}

static int
eval(struct seval *e, const struct skey *k)
{
	struct imap_msg *m = &e->mb->msgs[e->i];
	int64_t day;

	switch (k->type) {
	case K_ALL:
		return 1;
	case K_NONE:
		return 0;
	case K_FLAGS:
		return (m->flags & k->mask) == k->want;
	case K_KEYWORD:
		return (m->kw & k->mask) == k->want;
	case K_LARGER:
		return need_im(e)->vsize > k->num;
	case K_SMALLER:
		return need_im(e)->vsize < k->num;
	case K_BEFORE:
		return (uint64_t)need_im(e)->internaldate / 86400 < k->num;
	case K_ON:
		return (uint64_t)need_im(e)->internaldate / 86400 == k->num;
	case K_SINCE:
		return (uint64_t)need_im(e)->internaldate / 86400 >= k->num;
	case K_SENTBEFORE:
		return (day = sent_day(e)) != INT64_MIN && day < (int64_t)k->num;
	case K_SENTON:
		return (day = sent_day(e)) != INT64_MIN && day == (int64_t)k->num;
	case K_SENTSINCE:
		return (day = sent_day(e)) != INT64_MIN && day >= (int64_t)k->num;
	case K_HEADER:
		return header_match(e, k->field, &k->value);
	case K_BODY:
		need_body(e);
		return contains(&e->body, &k->value);
	case K_TEXT:
		if (header_text_match(e, &k->value))
			return 1;
		need_body(e);
		return contains(&e->body, &k->value);
	case K_MODSEQ:
		return need_im(e)->modseq >= k->num;
	case K_SEQ:
		return imap_seqset_has(&k->set, (uint32_t)e->i + 1);
	case K_UID:
		return imap_seqset_has(&k->set, m->uid);
	case K_NOT:
		return !eval(e, k->kids[0]);
	case K_OR:
		return eval(e, k->kids[0]) || eval(e, k->kids[1]);
	case K_AND:
		for (size_t i = 0; i < k->nkids; i++)
			if (!eval(e, k->kids[i]))
				return 0;
		return 1;
	}
	return 0;
}

static int
has_key(const struct skey *k, enum skey_type type)
{
	if (k->type == type)
		return 1;
	for (size_t i = 0; i < k->nkids; i++)
		if (has_key(k->kids[i], type))
			return 1;
	return 0;
}

/* parse_return - RFC 4731 search-return-opts: "()" means ALL. */
static int
parse_return(const struct imap_arg *a, unsigned *ret_r)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = { { "MIN", RET_MIN }, { "MAX", RET_MAX }, { "ALL", RET_ALL }, { "COUNT", RET_COUNT } };

	if (a->type != IMAP_ARG_LIST)
		return -1;
	*ret_r = RET_ESEARCH | (a->n == 0 ? RET_ALL : 0);
	for (size_t i = 0; i < a->n; i++) {
		size_t k;
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (imap_arg_atom(&a->list[i], opts[k].name))
				break;
		if (k == sizeof(opts) / sizeof(opts[0]))
			return -1;
		*ret_r |= opts[k].bit;
	}
	return 0;
}

/* resolve - '*' in the sets of the tree, for this mailbox. */
static void
resolve(struct skey *k, const struct imap_mailbox *mb)
{
	if (k->type == K_SEQ)
		imap_seqset_resolve(&k->set, (uint32_t)mb->n);
	else if (k->type == K_UID)
		imap_seqset_resolve(&k->set, mb->n ? mb->msgs[mb->n - 1].uid : 0);
	for (size_t i = 0; i < k->nkids; i++)
		resolve(k->kids[i], mb);
}

static void
search_work(struct imap_job *j)
{
	struct search_job *sj = (struct search_job *)j;
	struct imap_mailbox *mb = &j->s->mbox;
	struct seval e = { .mb = mb };

	sj->found = xcalloc(mb->n ? mb->n : 1, sizeof(*sj->found));
	for (e.i = 0; e.i < mb->n; e.i++) {
		if (eval(&e, sj->root)) {
			sj->found[sj->nfound++] = sj->uid ? mb->msgs[e.i].uid : (uint32_t)e.i + 1;
			if (sj->modseq && need_im(&e)->modseq > sj->highest)
				sj->highest = e.im.modseq;
		}
		index_msg_clear(&e.im);
		e.hdr = NULL;
		buf_reset(&e.body);
		e.have_im = e.have_hdr = e.have_body = e.have_sent = 0;
	}
	free(e.hdr_buf);
	buf_free(&e.body);
}

/* esearch - "* ESEARCH (TAG "t") [UID] MIN a MAX b COUNT n ALL set [MODSEQ m]". */
static void
esearch(struct imap_session *s, struct search_job *sj)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "* ESEARCH (TAG ");
	imap_quote(&b, s->tag);
	buf_addc(&b, ')');
	if (sj->uid)
		buf_adds(&b, " UID");
	if ((sj->ret & RET_MIN) && sj->nfound)
		buf_printf(&b, " MIN %u", sj->found[0]);
	if ((sj->ret & RET_MAX) && sj->nfound)
		buf_printf(&b, " MAX %u", sj->found[sj->nfound - 1]);
	if (sj->ret & RET_COUNT)
		buf_printf(&b, " COUNT %zu", sj->nfound);
	if ((sj->ret & RET_ALL) && sj->nfound) {
		buf_adds(&b, " ALL ");
		imap_uidset_out(&b, sj->found, sj->nfound);
	}
	if (sj->highest)
		buf_printf(&b, " MODSEQ %llu", (unsigned long long)sj->highest);
	imap_reply(s, "%s", b.data);
	buf_free(&b);
}

static void
search_done(struct imap_session *s, struct imap_job *j)
{
	struct search_job *sj = (struct search_job *)j;

	struct buf b = BUF_INIT;

	if (sj->ret) {
		esearch(s, sj);
		imap_tagged(s, "OK %sSEARCH completed", sj->uid ? "UID " : "");
		return;
	}
	buf_adds(&b, "* SEARCH");
	for (size_t i = 0; i < sj->nfound; i++)
		buf_printf(&b, " %u", sj->found[i]);
	if (sj->highest)
		buf_printf(&b, " (MODSEQ %llu)", (unsigned long long)sj->highest);
	imap_reply(s, "%s", b.data);
	buf_free(&b);
	imap_tagged(s, "OK %sSEARCH completed", sj->uid ? "UID " : "");
}

static void
search_free(struct imap_job *j)
{
	struct search_job *sj = (struct search_job *)j;

	skey_free(sj->root);
	free(sj->found);
	free(sj);
}

void
imap_cmd_search(struct imap_session *s, const struct imap_command *c)
{
	struct sparse p = { .a = c->args, .n = c->nargs, .s = s };
	struct search_job *sj;
	struct skey *root;
	unsigned ret = 0;

	if (p.n >= 2 && imap_arg_atom(&p.a[0], "RETURN")) {
		if (parse_return(&p.a[1], &ret) < 0) {
			imap_bad(s, "RETURN takes a list of MIN MAX ALL COUNT");
			return;
		}
		p.i = 2;
	}
	if (p.n >= p.i + 2 && imap_arg_atom(&p.a[p.i], "CHARSET")) {
		const char *cs = imap_arg_astring(&p.a[p.i + 1]);
		if (cs == NULL || (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0)) {
			imap_tagged(s, "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
			return;
		}
		p.i += 2;
	}
	root = parse_list(&p, p.a + p.i, p.n - p.i, 0);
	if (root == NULL) {
		imap_bad(s, p.error ? p.error : "Invalid search");
		return;
	}
	resolve(root, &s->mbox);
	sj = xcalloc(1, sizeof(*sj));
	sj->root = root;
	sj->modseq = has_key(root, K_MODSEQ);
	sj->ret = ret;
	s->condstore |= sj->modseq;
	sj->uid = strncmp(c->name, "UID ", 4) == 0;
	sj->j.work = search_work;
	sj->j.done = search_done;
	sj->j.free = search_free;
	sj->j.holds_session = 1;	/* it reads s->mbox */
	imap_job_submit(s, &sj->j);
}
