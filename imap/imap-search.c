/*
 * imap-search - SEARCH and UID SEARCH (RFC 3501 §6.4.4) on ALL, sequence
 * and UID sets, the flag keys (ANSWERED ... UNSEEN, NEW, OLD, RECENT,
 * KEYWORD/UNKEYWORD), LARGER/SMALLER, BEFORE/ON/SINCE (the internal date,
 * in UTC days), HEADER and SUBJECT/FROM/TO/CC/BCC (a case-insensitive
 * substring of the raw header field, unfolded; encoded words are not
 * decoded yet), NOT, OR and parenthesised lists, after an optional
 * CHARSET UTF-8 or US-ASCII.  BODY, TEXT and the SENT* dates are answered
 * NO "not supported yet" (they come with the full-text index and the MIME
 * parser).
 *
 * The keys are parsed into a tree in the loop, then evaluated in a worker
 * (a header key reads every message's header); the session is paused
 * meanwhile, so the worker may read s->mbox.
 */
#include "imap.h"
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

enum skey_type {
	K_ALL, K_FLAGS, K_KEYWORD, K_NONE, K_LARGER, K_SMALLER, K_BEFORE, K_ON, K_SINCE, K_HEADER, K_SEQ, K_UID,
	K_NOT, K_OR, K_AND,
};

struct skey {
	enum skey_type type;
	uint32_t mask, want;	/* K_FLAGS, K_KEYWORD: (flags or kw & mask) == want */
	uint64_t num;		/* sizes; days since the epoch */
	char *field, *value;	/* K_HEADER (copies: the job outlives the command) */
	struct imap_seqset set;
	struct skey **kids;	/* K_NOT (1), K_OR (2), K_AND (n) */
	size_t nkids;
};

struct search_job {
	struct imap_job j;
	struct skey *root;
	int uid;
	struct buf result;
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
	free(k->value);
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
	int unsupported;	/* NO "not supported yet" */
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

static const char *const header_keys[] = { "SUBJECT", "FROM", "TO", "CC", "BCC" };

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
			p->unsupported = sub.unsupported;
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
	if (strcasecmp(w, "BEFORE") == 0 || strcasecmp(w, "ON") == 0 || strcasecmp(w, "SINCE") == 0) {
		uint64_t days;
		if ((v = next_arg(p)) == NULL || imap_arg_astring(v) == NULL || parse_date(v->str, &days) < 0)
			return p->error = "Invalid date (use 1-Feb-2024)", NULL;
		k = skey_new(strcasecmp(w, "BEFORE") == 0 ? K_BEFORE : strcasecmp(w, "ON") == 0 ? K_ON : K_SINCE);
		k->num = days;
		return k;
	}
	for (size_t i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]); i++)
		if (strcasecmp(w, header_keys[i]) == 0) {
			if ((v = next_arg(p)) == NULL || imap_arg_astring(v) == NULL)
				return p->error = "Missing search string", NULL;
			k = skey_new(K_HEADER);
			k->field = xstrdup(header_keys[i]);
			k->value = xstrdup(v->str);
			return k;
		}
	if (strcasecmp(w, "HEADER") == 0) {
		const struct imap_arg *f = next_arg(p);
		if (f == NULL || imap_arg_astring(f) == NULL || (v = next_arg(p)) == NULL || imap_arg_astring(v) == NULL)
			return p->error = "HEADER takes a field name and a string", NULL;
		k = skey_new(K_HEADER);
		k->field = xstrdup(f->str);
		k->value = xstrdup(v->str);
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
	if (strcasecmp(w, "BODY") == 0 || strcasecmp(w, "TEXT") == 0 || strncasecmp(w, "SENT", 4) == 0) {
		p->unsupported = 1;
		p->error = "not supported yet";
		return NULL;
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
	char *hdr;			/* loaded when a key needs it */
	size_t hdr_len;
	int have_hdr;
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

static void
need_hdr(struct seval *e)
{
	struct index_msg *m;
	char *path;
	int fd;
	ssize_t n;

	if (e->have_hdr)
		return;
	e->have_hdr = 1;
	if ((m = need_im(e))->filename == NULL)
		return;
	path = index_msg_path(e->mb->ix, m);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return;
	e->hdr = xmalloc(SEARCH_HEADER_MAX + 1);
	n = read(fd, e->hdr, SEARCH_HEADER_MAX);
	close(fd);
	e->hdr_len = n > 0 ? (size_t)n : 0;
	e->hdr[e->hdr_len] = '\0';
	char *end = strstr(e->hdr, "\n\n");
	if (end)
		e->hdr_len = (size_t)(end - e->hdr) + 1;
}

/* header_match - a field named name whose unfolded value contains value. */
static int
header_match(struct seval *e, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value), i = 0;

	need_hdr(e);
	while (e->hdr && i < e->hdr_len) {
		size_t start = i;
		struct buf v = BUF_INIT;
		do {
			size_t eol = i;
			while (eol < e->hdr_len && e->hdr[eol] != '\n')
				eol++;
			buf_add(&v, e->hdr + i, eol - i);
			i = eol + 1;
		} while (i < e->hdr_len && (e->hdr[i] == ' ' || e->hdr[i] == '\t'));
		int hit = v.len > nlen && strncasecmp(v.data, name, nlen) == 0 && v.data[nlen] == ':' &&
		    (vlen == 0 || strcasestr(v.data + nlen + 1, value) != NULL);
		buf_free(&v);
		if (hit)
			return 1;
		if (i == start)
			break;
	}
	return 0;
}

static int
eval(struct seval *e, const struct skey *k)
{
	struct imap_msg *m = &e->mb->msgs[e->i];

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
	case K_HEADER:
		return header_match(e, k->field, k->value);
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

	for (e.i = 0; e.i < mb->n; e.i++) {
		if (eval(&e, sj->root))
			buf_printf(&sj->result, " %u", sj->uid ? mb->msgs[e.i].uid : (uint32_t)e.i + 1);
		index_msg_clear(&e.im);
		free(e.hdr);
		e.hdr = NULL;
		e.have_im = e.have_hdr = 0;
	}
}

static void
search_done(struct imap_session *s, struct imap_job *j)
{
	struct search_job *sj = (struct search_job *)j;

	imap_reply(s, "* SEARCH%s", sj->result.data ? sj->result.data : "");
	imap_tagged(s, "OK %sSEARCH completed", sj->uid ? "UID " : "");
}

static void
search_free(struct imap_job *j)
{
	struct search_job *sj = (struct search_job *)j;

	skey_free(sj->root);
	buf_free(&sj->result);
	free(sj);
}

void
imap_cmd_search(struct imap_session *s, const struct imap_command *c)
{
	struct sparse p = { .a = c->args, .n = c->nargs, .s = s };
	struct search_job *sj;
	struct skey *root;

	if (p.n >= 2 && imap_arg_atom(&p.a[0], "CHARSET")) {
		const char *cs = imap_arg_astring(&p.a[1]);
		if (cs == NULL || (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0)) {
			imap_tagged(s, "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
			return;
		}
		p.i = 2;
	}
	root = parse_list(&p, p.a + p.i, p.n - p.i, 0);
	if (root == NULL) {
		if (p.unsupported)
			imap_tagged(s, "NO [CANNOT] This search key is not supported yet");
		else
			imap_bad(s, p.error ? p.error : "Invalid search");
		return;
	}
	resolve(root, &s->mbox);
	sj = xcalloc(1, sizeof(*sj));
	sj->root = root;
	sj->uid = strncmp(c->name, "UID ", 4) == 0;
	sj->j.work = search_work;
	sj->j.done = search_done;
	sj->j.free = search_free;
	sj->j.holds_session = 1;	/* it reads s->mbox */
	imap_job_submit(s, &sj->j);
}
