/*
 * conf - the generic key table parser (conf.h).  It knows types and
 * offsets, not keys: the tables live with their callers.
 */
#include "conf.h"
#include "buf.h"
#include "log.h"
#include "str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
conf_addr_parse(const char *s, struct conf_addr *a)
{
	const char *colon;
	size_t hlen;
	unsigned char tmp[16];
	uint64_t port;

	memset(a, 0, sizeof(*a));
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		hlen = end - s - 1;
		if (hlen == 0 || hlen >= sizeof(a->host))
			return -1;
		memcpy(a->host, s + 1, hlen);
		if (inet_pton(AF_INET6, a->host, tmp) != 1)
			return -1;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hlen = colon - s;
		if (hlen >= sizeof(a->host))
			return -1;
		memcpy(a->host, s, hlen);
		if (strcmp(a->host, "*") == 0)
			a->host[0] = '\0';
		else if (a->host[0] && inet_pton(AF_INET, a->host, tmp) != 1)
			return -1;
	}
	if (str_to_u64(colon + 1, &port) < 0 || port == 0 || port > 65535)
		return -1;
	a->port = (int)port;
	return 0;
}

static int
conf_host_parse(const char *s, struct conf_addr *a)
{
	unsigned char tmp[16];

	if (conf_addr_parse(s, a) == 0)
		return 0;
	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(a->host))
		return -1;
	if (inet_pton(AF_INET, s, tmp) != 1 && inet_pton(AF_INET6, s, tmp) != 1)
		return -1;
	str_lcpy(a->host, s, sizeof(a->host));
	return 0;
}

static int
conf_list_parse(const char *value, int hosts_ok, struct conf_list *l, char **why_r)
{
	char *copy = xstrdup(value), *save = NULL, *tok;
	int ret = 0;

	free(l->v);
	l->v = NULL;
	l->n = 0;
	for (tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		struct conf_addr a;
		int r = hosts_ok ? conf_host_parse(tok, &a) : conf_addr_parse(tok, &a);
		if (r < 0) {
			*why_r = xasprintf(hosts_ok ? "'%s' is not an address or address:port"
			    : "'%s' is not address:port (e.g. 192.0.2.1:25, [::1]:25, *:25)", tok);
			ret = -1;
			break;
		}
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = a;
	}
	free(copy);
	return ret;
}

static int
conf_set(void *c, const struct conf_key *k, const char *value, char **why_r)
{
	char *base = (char *)c + k->off;

	switch (k->type) {
	case CT_STRING:
		free(*(char **)base);
		*(char **)base = xstrdup(value);
		return 0;
	case CT_BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "on") || !strcmp(value, "1"))
			*(int *)base = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "off") || !strcmp(value, "0"))
			*(int *)base = 0;
		else {
			*why_r = xasprintf("'%s' is not yes or no", value);
			return -1;
		}
		return 0;
	case CT_LISTEN:
		return conf_list_parse(value, 0, (struct conf_list *)base, why_r);
	case CT_HOSTLIST:
		return conf_list_parse(value, 1, (struct conf_list *)base, why_r);
	case CT_UID: {
		uint64_t v;
		if (str_to_u64(value, &v) < 0 || v == 0 || v >= UINT32_MAX) {
			*why_r = xasprintf("'%s' is not a uid from 1 to %u", value, UINT32_MAX - 1);
			return -1;
		}
		*(unsigned *)base = (unsigned)v;
		return 0;
	}
	}
	return -1;
}

static void
conf_defaults(const struct conf_table *t, void *c)
{
	char *why = NULL;

	for (const struct conf_key *k = t->keys; k->name; k++)
		if (conf_set(c, k, k->def, &why) < 0)
			log_panic("conf: bad default for %s: %s", k->name, why);
}

static int
conf_line(const struct conf_table *t, void *c, const char *name, int lineno, char *line, unsigned char *seen,
    char **error_r)
{
	char *eq, *key, *value, *why = NULL;
	const struct conf_key *k;

	eq = strchr(line, '=');
	if (eq == NULL) {
		*error_r = xasprintf("%s:%d: expected 'key = value'", name, lineno);
		return -1;
	}
	*eq = '\0';
	key = str_trim(line);
	value = str_trim(eq + 1);
	for (k = t->keys; k->name; k++)
		if (strcmp(k->name, key) == 0)
			break;
	if (k->name == NULL) {
		*error_r = xasprintf("%s:%d: %s: unknown key", name, lineno, key);
		return -1;
	}
	if (seen[k - t->keys]) {
		*error_r = xasprintf("%s:%d: %s: set twice", name, lineno, key);
		return -1;
	}
	seen[k - t->keys] = 1;
	if ((k->check && k->check(value, &why) < 0) || conf_set(c, k, value, &why) < 0) {
		*error_r = xasprintf("%s:%d: %s: %s", name, lineno, key, why);
		free(why);
		return -1;
	}
	return 0;
}

int
conf_table_parse(const struct conf_table *t, const char *name, const char *text, void *c, char **error_r)
{
	size_t nkeys = 0;
	unsigned char *seen;
	char *copy = xstrdup(text), *line, *next;
	int lineno = 0, ret = 0;

	while (t->keys[nkeys].name)
		nkeys++;
	seen = xcalloc(nkeys ? nkeys : 1, 1);
	memset(c, 0, t->size);
	conf_defaults(t, c);
	*error_r = NULL;
	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		char *cr = strchr(line, '\r');
		if (cr)
			*cr = '\0';
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *tr = str_trim(line);
		if (*tr == '\0')
			continue;
		if ((ret = conf_line(t, c, name, lineno, tr, seen, error_r)) < 0)
			break;
	}
	free(copy);
	free(seen);
	if (ret < 0)
		conf_table_free(t, c);
	return ret;
}

int
conf_read_file(const char *path, char **text_r, char **error_r)
{
	FILE *fp = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (fp == NULL) {
		*error_r = xasprintf("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		buf_add(&b, chunk, n);
		if (b.len > 1024 * 1024) {
			fclose(fp);
			buf_free(&b);
			*error_r = xasprintf("%s: file too large", path);
			return -1;
		}
	}
	fclose(fp);
	if (b.data && memchr(b.data, '\0', b.len)) {
		buf_free(&b);
		*error_r = xasprintf("%s: contains a NUL byte", path);
		return -1;
	}
	*text_r = xstrdup(b.data ? b.data : "");
	buf_free(&b);
	return 0;
}

void
conf_table_free(const struct conf_table *t, void *c)
{
	for (const struct conf_key *k = t->keys; k->name; k++) {
		char *base = (char *)c + k->off;
		if (k->type == CT_STRING) {
			free(*(char **)base);
			*(char **)base = NULL;
		} else if (k->type == CT_LISTEN || k->type == CT_HOSTLIST) {
			free(((struct conf_list *)base)->v);
			((struct conf_list *)base)->v = NULL;
			((struct conf_list *)base)->n = 0;
		}
	}
}

void
conf_table_reference(const struct conf_table *t)
{
	printf("| key | default | meaning |\n|---|---|---|\n");
	for (const struct conf_key *k = t->keys; k->name; k++)
		printf("| `%s` | `%s` | %s |\n", k->name, k->def[0] ? k->def : "(empty)", k->doc);
}
