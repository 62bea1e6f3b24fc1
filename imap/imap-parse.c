/*
 * imap-parse - IMAP command syntax (see imap-parse.h).
 *
 * Why the whole command is parsed at once instead of byte by byte as it
 * arrives: a command is bounded (IMAP_COMMAND_MAX; APPEND's message is
 * streamed to a file, never parsed), so holding it costs little, and a
 * parser over a complete buffer has no resumable state to get wrong.
 *
 * Memory: the argument array and the string copies are allocated once per
 * command with sizes bounded by the input (every argument takes at least
 * one input byte; a string copy is never longer than its input plus its
 * NUL), so pointers into them stay valid while the tree is built.
 */
#include "imap-parse.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p, *end;
	struct imap_arg *arena;
	size_t narena, cap;
	size_t count;		/* arguments made so far, at every level */
	char *out;		/* next free byte of the string storage */
	const char *error;
};

static int
fail(struct parser *ps, const char *error)
{
	if (ps->error == NULL)
		ps->error = error;
	return -1;
}

static int
is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

static int
is_tag_char(unsigned char c)
{
	return is_atom_char(c) && c != '%' && c != '*' && c != '\\' && c != '+';
}

/* ---- literal announcements ---- */

/* literal_at - parse "{digits[+]}" ending exactly at end; 1, 0 (not one), -1. */
static int
literal_at(const char *open, const char *end, uint64_t *size_r, int *sync_r)
{
	const char *p = open + 1;
	uint64_t n = 0;

	if (p == end - 1)
		return -1;			/* "{}" */
	for (; p < end - 1 && *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	if (p == open + 1)
		return -1;
	*sync_r = 1;
	if (*p == '+' && p == end - 2) {
		*sync_r = 0;
		p++;
	}
	if (p != end - 1)
		return -1;
	*size_r = n;
	return 1;
}

int
imap_line_literal(const char *line, size_t len, uint64_t *size_r, int *sync_r)
{
	const char *open = NULL;
	int quoted = 0;

	if (len == 0 || line[len - 1] != '}')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = line[i];
		if (quoted) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				quoted = 0;
		} else if (c == '"') {
			quoted = 1;
		} else if (c == '{') {
			open = line + i;
		}
	}
	if (quoted || open == NULL)
		return 0;
	return literal_at(open, line + len, size_r, sync_r);
}

/* ---- arguments ---- */

static struct imap_arg *
new_arg(struct parser *ps, struct imap_arg **v, size_t *n, size_t *cap)
{
	if (ps->count >= ps->cap || ps->count >= IMAP_ARGS_MAX) {
		fail(ps, "Too many arguments");
		return NULL;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	ps->count++;
	return &(*v)[(*n)++];
}

static void
set_string(struct parser *ps, struct imap_arg *a, enum imap_arg_type type, const char *s, size_t len)
{
	a->type = type;
	a->str = ps->out;
	a->len = len;
	memcpy(ps->out, s, len);
	ps->out[len] = '\0';
	ps->out += len + 1;
}

static int
parse_atom(struct parser *ps, struct imap_arg *a)
{
	const char *start = ps->p;
	int bracket = 0;

	while (ps->p < ps->end) {
		unsigned char c = (unsigned char)*ps->p;
		if (bracket && c == ']')
			bracket = 0;
		else if (!bracket && c == '[')
			bracket = 1;
		else if (bracket ? (c < 0x20 || c >= 0x7f || c == '{') : !is_atom_char(c))
			break;
		ps->p++;
	}
	if (bracket)
		return fail(ps, "Missing ] in an atom");
	if (ps->p == start)
		return fail(ps, "Invalid character in the arguments");
	set_string(ps, a, IMAP_ARG_ATOM, start, (size_t)(ps->p - start));
	return 0;
}

static int
parse_quoted(struct parser *ps, struct imap_arg *a)
{
	char *dst = ps->out;

	ps->p++;			/* the opening quote */
	a->type = IMAP_ARG_QUOTED;
	a->str = dst;
	for (; ps->p < ps->end; ps->p++) {
		char c = *ps->p;
		if (c == '"') {
			ps->p++;
			a->len = (size_t)(dst - a->str);
			*dst++ = '\0';
			ps->out = dst;
			return 0;
		}
		if (c == '\\') {
			if (ps->p + 1 >= ps->end || (ps->p[1] != '"' && ps->p[1] != '\\'))
				return fail(ps, "Invalid escape in a quoted string");
			c = *++ps->p;
		}
		if (c == '\0' || c == '\r' || c == '\n')
			return fail(ps, "Invalid character in a quoted string");
		*dst++ = c;
	}
	return fail(ps, "Missing closing quote");
}

static int
parse_literal(struct parser *ps, struct imap_arg *a)
{
	const char *close = memchr(ps->p, '}', (size_t)(ps->end - ps->p));
	uint64_t size;
	int sync;

	if (close == NULL || literal_at(ps->p, close + 1, &size, &sync) != 1)
		return fail(ps, "Invalid literal");
	ps->p = close + 1;
	if (ps->end - ps->p < 2 || ps->p[0] != '\r' || ps->p[1] != '\n')
		return fail(ps, "A literal must end its line");
	ps->p += 2;
	if ((uint64_t)(ps->end - ps->p) < size)
		return fail(ps, "Literal shorter than announced");
	if (memchr(ps->p, '\0', (size_t)size))
		return fail(ps, "NUL in a literal");
	set_string(ps, a, IMAP_ARG_LITERAL, ps->p, (size_t)size);
	ps->p += size;
	return 0;
}

static int parse_args(struct parser *ps, int depth, char close, struct imap_arg **v_r, size_t *n_r);

/* place - copy a finished member vector into the arena, contiguously. */
static const struct imap_arg *
place(struct parser *ps, struct imap_arg *v, size_t n)
{
	struct imap_arg *dst = ps->arena + ps->narena;

	if (n)
		memcpy(dst, v, n * sizeof(*v));
	ps->narena += n;
	return dst;
}

static int
parse_one(struct parser *ps, int depth, struct imap_arg *a)
{
	struct imap_arg *v = NULL;
	size_t n = 0;

	switch (*ps->p) {
	case '"':
		return parse_quoted(ps, a);
	case '{':
		return parse_literal(ps, a);
	case '(':
		if (depth >= IMAP_DEPTH_MAX)
			return fail(ps, "Too deeply nested parentheses");
		ps->p++;
		if (parse_args(ps, depth + 1, ')', &v, &n) < 0) {
			free(v);
			return -1;
		}
		a->type = IMAP_ARG_LIST;
		a->list = place(ps, v, n);
		a->n = n;
		free(v);
		return 0;
	case ')':
		return fail(ps, "Unexpected )");
	case ' ':
		return fail(ps, "Extra space");
	default:
		return parse_atom(ps, a);
	}
}

/* parse_args - arguments up to close (')' in a list, '\0' at the end of
 * the command); the members are returned in a vector the caller places. */
static int
parse_args(struct parser *ps, int depth, char close, struct imap_arg **v_r, size_t *n_r)
{
	size_t cap = 0;
	int first = 1;

	*v_r = NULL;
	*n_r = 0;
	for (;;) {
		if (ps->p == ps->end) {
			if (close == '\0')
				return 0;
			return fail(ps, "Missing )");
		}
		if (close != '\0' && *ps->p == close) {
			ps->p++;
			return 0;
		}
		if (!first || close == '\0') {
			unsigned char c = (unsigned char)*ps->p;
			if (c < 0x20 || c >= 0x7f)
				return fail(ps, "Invalid character in the arguments");
			if (c != ' ')
				return fail(ps, close ? "Missing space in a list" : "Missing space between arguments");
			ps->p++;
			if (ps->p == ps->end || *ps->p == ' ' || (close && *ps->p == close))
				return fail(ps, "Extra space");
		}
		first = 0;
		struct imap_arg *a = new_arg(ps, v_r, n_r, &cap);
		if (a == NULL || parse_one(ps, depth, a) < 0)
			return -1;
	}
}

/* ---- the command ---- */

int
imap_parse_tag(const char *line, size_t len, char *tag)
{
	size_t n = 0;

	while (n < len && is_tag_char((unsigned char)line[n]))
		n++;
	tag[0] = '\0';
	if (n == 0 || n > IMAP_TAG_MAX || (n < len && line[n] != ' ') || n == len)
		return -1;
	memcpy(tag, line, n);
	tag[n] = '\0';
	return 0;
}

/* parse_name - one command word into name (upper case) at offset off. */
static int
parse_name(struct parser *ps, char *name, size_t size, size_t off)
{
	size_t n = off;

	while (ps->p < ps->end && ((*ps->p >= 'a' && *ps->p <= 'z') || (*ps->p >= 'A' && *ps->p <= 'Z') ||
	    (*ps->p >= '0' && *ps->p <= '9') || *ps->p == '-')) {
		if (n + 1 >= size)
			return fail(ps, "Unknown command");
		char c = *ps->p++;
		name[n++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	name[n] = '\0';
	if (n == off)
		return fail(ps, "Missing command name");
	if (ps->p < ps->end && *ps->p != ' ')
		return fail(ps, "Invalid character in the command name");
	return 0;
}

int
imap_parse_command(const char *cmd, size_t len, struct imap_command *c, const char **error_r)
{
	struct parser ps = { .p = cmd, .end = cmd + len };
	struct imap_arg *v = NULL;
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	*error_r = NULL;
	if (imap_parse_tag(cmd, len, c->tag) < 0) {
		*error_r = "Missing or invalid tag";
		return -1;
	}
	ps.p += strlen(c->tag) + 1;
	ps.cap = (len < IMAP_ARGS_MAX ? len : IMAP_ARGS_MAX) + 1;
	c->arena = ps.arena = xcalloc(ps.cap, sizeof(*ps.arena));
	c->strings = ps.out = xmalloc(2 * len + 2);
	if (parse_name(&ps, c->name, sizeof(c->name), 0) < 0)
		goto bad;
	if (strcmp(c->name, "UID") == 0) {
		if (ps.p == ps.end || *ps.p != ' ') {
			fail(&ps, "Missing command after UID");
			goto bad;
		}
		ps.p++;
		c->name[3] = ' ';
		if (parse_name(&ps, c->name, sizeof(c->name), 4) < 0)
			goto bad;
	}
	if (parse_args(&ps, 0, '\0', &v, &n) < 0)
		goto bad;
	c->args = place(&ps, v, n);
	c->nargs = n;
	free(v);
	return 0;
bad:
	free(v);
	*error_r = ps.error ? ps.error : "Syntax error";
	return -1;
}

void
imap_command_free(struct imap_command *c)
{
	free(c->arena);
	free(c->strings);
	c->arena = NULL;
	c->strings = NULL;
	c->args = NULL;
	c->nargs = 0;
}

int
imap_arg_atom(const struct imap_arg *a, const char *s)
{
	return a->type == IMAP_ARG_ATOM && strcasecmp(a->str, s) == 0;
}

int
imap_arg_nil(const struct imap_arg *a)
{
	return imap_arg_atom(a, "NIL");
}

const char *
imap_arg_astring(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_LIST ? NULL : a->str;
}

const char *
imap_arg_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_QUOTED || a->type == IMAP_ARG_LITERAL ? a->str : NULL;
}

/* ---- modified UTF-7 ---- */

static int
is_mb64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == ',';
}

int
imap_mutf7_valid(const char *name)
{
	for (const char *p = name; *p; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return 0;
		if (*p != '&')
			continue;
		size_t n = 0;
		while (is_mb64(p[1 + n]))
			n++;
		if (p[1 + n] != '-')
			return 0;
		/* n base64 characters carry 6n bits: whole 16-bit units, less
		 * than 6 bits of zero padding */
		if (n > 0 && ((6 * n) % 16 >= 6))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* ---- sequence sets ---- */

static int
seq_number(const char **pp, uint32_t *n_r)
{
	const char *p = *pp;
	uint64_t n = 0;

	if (*p == '*') {
		*n_r = IMAP_SEQ_STAR;
		*pp = p + 1;
		return 0;
	}
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n >= UINT32_MAX)
			return -1;
	}
	*n_r = (uint32_t)n;
	*pp = p;
	return 0;
}

int
imap_parse_seqset(const char *s, struct imap_seqset *set, const char **error_r)
{
	size_t cap = 0;

	set->r = NULL;
	set->n = 0;
	for (;;) {
		struct imap_seq_range r;
		if (seq_number(&s, &r.lo) < 0)
			goto bad;
		r.hi = r.lo;
		if (*s == ':' && (s++, seq_number(&s, &r.hi) < 0))
			goto bad;
		if (r.lo > r.hi) {
			uint32_t t = r.lo;
			r.lo = r.hi;
			r.hi = t;
		}
		if (set->n == IMAP_SEQ_RANGES_MAX) {
			*error_r = "Too many ranges in the sequence set";
			goto fail;
		}
		if (set->n == cap) {
			cap = cap ? cap * 2 : 4;
			set->r = xrealloc(set->r, cap * sizeof(*set->r));
		}
		set->r[set->n++] = r;
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			goto bad;
	}
bad:
	*error_r = "Invalid sequence set";
fail:
	imap_seqset_free(set);
	return -1;
}

static int
range_cmp(const void *pa, const void *pb)
{
	const struct imap_seq_range *a = pa, *b = pb;

	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

void
imap_seqset_resolve(struct imap_seqset *set, uint32_t max)
{
	size_t w = 0;

	for (size_t i = 0; i < set->n; i++) {
		struct imap_seq_range *r = &set->r[i];
		if (r->hi == IMAP_SEQ_STAR)
			r->hi = max;
		if (r->lo == IMAP_SEQ_STAR)
			r->lo = max;
		if (r->lo > r->hi) {
			uint32_t t = r->lo;
			r->lo = r->hi;
			r->hi = t;
		}
	}
	/* sorted and merged, so that membership is a binary search */
	qsort(set->r, set->n, sizeof(*set->r), range_cmp);
	for (size_t i = 0; i < set->n; i++) {
		if (w > 0 && set->r[i].lo <= set->r[w - 1].hi + (uint64_t)1) {
			if (set->r[i].hi > set->r[w - 1].hi)
				set->r[w - 1].hi = set->r[i].hi;
		} else
			set->r[w++] = set->r[i];
	}
	set->n = w;
}

int
imap_seqset_has(const struct imap_seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (n < set->r[mid].lo)
			hi = mid;
		else if (n > set->r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

void
imap_seqset_free(struct imap_seqset *set)
{
	free(set->r);
	set->r = NULL;
	set->n = 0;
}
