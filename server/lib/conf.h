/*
 * conf - a generic `key = value` file parser driven by a key table that
 * the caller passes in (onebox's own table is server/master/config.c).
 *
 * `#` starts a comment; blank lines are skipped; each key may appear once.
 * Every key is defined once in its table: name, type, the offset of its
 * field in the caller's struct, default, one documentation line, and an
 * optional validator.  Unknown keys, values the type or the validator
 * refuse, and repeated keys are errors that name the file, the line and
 * the key: "onebox.conf:12: smtp_listen: 'x' is not address:port ...".
 */
#ifndef ONEBOX_CONF_H
#define ONEBOX_CONF_H

#include <stddef.h>

struct conf_addr {
	char host[64];		/* numeric IPv4/IPv6 address, or "*" / "" for any */
	int port;
};

struct conf_list {
	struct conf_addr *v;
	size_t n;
};

/* Field types: CT_STRING char * (malloc'd), CT_BOOL int (yes/no/true/
 * false/on/off/1/0), CT_LISTEN struct conf_list of address:port,
 * CT_HOSTLIST struct conf_list of address or address:port (port 0),
 * CT_UID unsigned, a Unix uid from 1 to 2^32-2. */
enum conf_type { CT_STRING, CT_BOOL, CT_LISTEN, CT_HOSTLIST, CT_UID };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;		/* offset of the field in the caller's struct */
	const char *def;	/* default, as it would be written in the file */
	const char *doc;	/* one line for the reference */
	/* check - NULL or a validator: 0, or -1 with *why_r (malloc'd) */
	int (*check)(const char *value, char **why_r);
};

struct conf_table {
	const struct conf_key *keys;	/* ends with a NULL name */
	size_t size;			/* sizeof the struct the offsets point into */
};

/*
 * conf_table_parse - zero c (t->size bytes), apply the defaults, then the
 * lines of text (name is the file name in errors).  Returns 0, or -1 with
 * *error_r set to a malloc'd "name:line: key: why" and c freed.
 */
int conf_table_parse(const struct conf_table *t, const char *name, const char *text, void *c,
    char **error_r);
/* conf_table_free - free the fields of c that t allocated. */
void conf_table_free(const struct conf_table *t, void *c);
/* conf_table_reference - print t as a Markdown table (key, default, meaning). */
void conf_table_reference(const struct conf_table *t);
/* conf_read_file - the whole file (at most 1 MB, no NUL byte), malloc'd in
 * *text_r; 0, or -1 with *error_r set. */
int conf_read_file(const char *path, char **text_r, char **error_r);
/* conf_addr_parse - "1.2.3.4:25", "[::1]:25", "*:25", ":25" -> a. 0 or -1. */
int conf_addr_parse(const char *s, struct conf_addr *a);

#endif
