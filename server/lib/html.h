/*
 * html - building HTML and XML text where every inserted string is escaped
 * unless the caller says it is markup.
 *
 * html_printf takes a small printf subset: %s inserts a string escaped
 * (& < > " ' become entities, so it is safe in text and in quoted
 * attribute values), %r inserts a string as it is (markup the program
 * wrote itself, never input), %d %u %zu %lld %llu numbers, %% a percent.
 * Escaping is the default so that a forgotten case is a visible &lt; on a
 * page, never a script.  Anything else in the format is a bug: log_panic.
 */
#ifndef ONEBOX_HTML_H
#define ONEBOX_HTML_H

#include "buf.h"

/* html_esc - append s escaped. */
void html_esc(struct buf *b, const char *s);
void html_printf(struct buf *b, const char *fmt, ...);

/* url_decode - percent-decode s[0..len) ('+' is a space when plus) into a
 * malloc'd NUL-terminated string; NULL if it holds a bad escape or a NUL. */
char *url_decode(const char *s, size_t len, int plus);
/* url_esc - append s percent-encoded for a query value. */
void url_esc(struct buf *b, const char *s);

/*
 * form - the fields of an application/x-www-form-urlencoded body (or a
 * query string).  form_parse returns 0, or -1 on a malformed body (a bad
 * escape, a NUL, more than max_fields fields): the caller answers 400.
 * Field names and values are decoded; a name given twice keeps the first.
 */
struct form_field {
	char *name;
	char *value;
};
struct form {
	struct form_field *v;
	size_t n;
};
int form_parse(struct form *f, const char *body, size_t len, size_t max_fields);
/* form_get - the value of name, or NULL. */
const char *form_get(const struct form *f, const char *name);
void form_free(struct form *f);

#endif
