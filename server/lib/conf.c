/*
 * conf - parse the bootstrap config file.
 *
 * The key table below is the single definition of every key: its type,
 * default and documentation.  doc/config.md is generated from it
 * (`oneboxd --dump-config-reference`), so the two never disagree.
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

enum conf_type { CT_STRING, CT_BOOL, CT_LISTEN, CT_HOSTLIST };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;		/* offset in struct conf */
	const char *def;
	const char *doc;
	/* check - NULL or a validator: 0, or -1 with *why_r (malloc'd) */
	int (*check)(const char *value, char **why_r);
};

static int
check_hostname(const char *v, char **why_r)
{
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.')) {
			*why_r = xasprintf("'%s' is not a host name", v);
			return -1;
		}
	return 0;
}

static int
check_abspath(const char *v, char **why_r)
{
	if (v[0] != '/') {
		*why_r = xasprintf("'%s' must be an absolute path", v);
		return -1;
	}
	return 0;
}

static int
check_abspath_or_empty(const char *v, char **why_r)
{
	return v[0] ? check_abspath(v, why_r) : 0;
}

static int
check_log_level(const char *v, char **why_r)
{
	if (log_level_parse(v) < 0) {
		*why_r = xasprintf("'%s' is not error, warn, info or debug", v);
		return -1;
	}
	return 0;
}

#define OFF(f) offsetof(struct conf, f)

static const struct conf_key conf_keys[] = {
	{ "hostname", CT_STRING, OFF(hostname), "",
	  "Name this server gives in its SMTP greeting, Received: headers and certificate. Empty: the machine's host name.",
	  check_hostname },
	{ "data_dir", CT_STRING, OFF(data_dir), LOCALSTATEDIR "/onebox",
	  "Directory holding db/ (the config database), mail/, queue/, tls/ and run/.", check_abspath },
	{ "user", CT_STRING, OFF(user), "onebox",
	  "Unprivileged user that owns the mail store and runs every network-facing process.", NULL },
	{ "log_level", CT_STRING, OFF(log_level), "info", "error, warn, info or debug.", check_log_level },
	{ "log_syslog", CT_BOOL, OFF(log_syslog), "no",
	  "yes: log to syslog (facility mail); no: log to standard error (systemd's journal).", NULL },
	{ "tls_cert", CT_STRING, OFF(tls_cert), "",
	  "PEM certificate chain. Empty: data_dir/tls/cert.pem, made self-signed at first start.",
	  check_abspath_or_empty },
	{ "tls_key", CT_STRING, OFF(tls_key), "", "PEM private key. Empty: data_dir/tls/key.pem.", check_abspath_or_empty },
	{ "dns_servers", CT_STRING, OFF(dns_servers), "",
	  "DNS servers to query (address or address:port, space separated). Empty: /etc/resolv.conf.", NULL },
	{ "smtp_listen", CT_LISTEN, OFF(listen[SVC_SMTP]), "*:25",
	  "Inbound SMTP (the MX): receives mail for local users, never relays for strangers.", NULL },
	{ "submission_listen", CT_LISTEN, OFF(listen[SVC_SUBMISSION]), "*:587",
	  "Mail submission with STARTTLS and authentication.", NULL },
	{ "submissions_listen", CT_LISTEN, OFF(listen[SVC_SUBMISSIONS]), "*:465",
	  "Mail submission over implicit TLS with authentication.", NULL },
	{ "imap_listen", CT_LISTEN, OFF(listen[SVC_IMAP]), "", "IMAP with STARTTLS (not yet served).", NULL },
	{ "imaps_listen", CT_LISTEN, OFF(listen[SVC_IMAPS]), "", "IMAP over implicit TLS (not yet served).", NULL },
	{ "pop3_listen", CT_LISTEN, OFF(listen[SVC_POP3]), "*:110", "POP3 with STLS.", NULL },
	{ "pop3s_listen", CT_LISTEN, OFF(listen[SVC_POP3S]), "*:995", "POP3 over implicit TLS.", NULL },
	{ "http_listen", CT_LISTEN, OFF(listen[SVC_HTTP]), "", "Webmail, admin page, autoconfig (not yet served).", NULL },
	{ "https_listen", CT_LISTEN, OFF(listen[SVC_HTTPS]), "", "The same over TLS (not yet served).", NULL },
	{ "plaintext_auth_listen", CT_HOSTLIST, OFF(plaintext_auth_listen), "",
	  "Addresses (or address:port) of listeners that accept passwords without TLS, e.g. the "
	  "office's private card. Everywhere else a password is accepted only under TLS.", NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const char *
conf_service_key(enum conf_service svc)
{
	for (const struct conf_key *k = conf_keys; k->name; k++)
		if (k->type == CT_LISTEN && k->off == OFF(listen[svc]))
			return k->name;
	return "?";
}

int
conf_service_implicit_tls(enum conf_service svc)
{
	return svc == SVC_SUBMISSIONS || svc == SVC_IMAPS || svc == SVC_POP3S || svc == SVC_HTTPS;
}

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
conf_set(struct conf *c, const struct conf_key *k, const char *value, char **why_r)
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
	}
	return -1;
}

static void
conf_defaults(struct conf *c)
{
	char *why = NULL;

	for (const struct conf_key *k = conf_keys; k->name; k++)
		if (conf_set(c, k, k->def, &why) < 0)
			log_panic("conf: bad default for %s: %s", k->name, why);
}

static int
conf_line(struct conf *c, const char *name, int lineno, char *line, unsigned char *seen, char **error_r)
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
	for (k = conf_keys; k->name; k++)
		if (strcmp(k->name, key) == 0)
			break;
	if (k->name == NULL) {
		*error_r = xasprintf("%s:%d: %s: unknown key", name, lineno, key);
		return -1;
	}
	if (seen[k - conf_keys]) {
		*error_r = xasprintf("%s:%d: %s: set twice", name, lineno, key);
		return -1;
	}
	seen[k - conf_keys] = 1;
	if ((k->check && k->check(value, &why) < 0) || conf_set(c, k, value, &why) < 0) {
		*error_r = xasprintf("%s:%d: %s: %s", name, lineno, key, why);
		free(why);
		return -1;
	}
	return 0;
}

static int
conf_check(struct conf *c, const char *name, char **error_r)
{
	char host[256];

	if (c->hostname[0] == '\0') {
		if (gethostname(host, sizeof(host)) < 0)
			str_lcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		free(c->hostname);
		c->hostname = xstrdup(host);
	}
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
		*error_r = xasprintf("%s: tls_cert and tls_key must be set together", name);
		return -1;
	}
	return 0;
}

int
conf_parse_string(const char *name, const char *text, struct conf *c, char **error_r)
{
	unsigned char seen[sizeof(conf_keys) / sizeof(conf_keys[0])] = { 0 };
	char *copy = xstrdup(text), *line, *next;
	int lineno = 0, ret = 0;

	memset(c, 0, sizeof(*c));
	c->path = xstrdup(name);
	conf_defaults(c);
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
		char *t = str_trim(line);
		if (*t == '\0')
			continue;
		if ((ret = conf_line(c, name, lineno, t, seen, error_r)) < 0)
			break;
	}
	free(copy);
	if (ret == 0)
		ret = conf_check(c, name, error_r);
	if (ret < 0)
		conf_free(c);
	return ret;
}

int
conf_load(const char *path, struct conf *c, char **error_r)
{
	FILE *fp = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	int ret;

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
	ret = conf_parse_string(path, b.data ? b.data : "", c, error_r);
	buf_free(&b);
	return ret;
}

void
conf_free(struct conf *c)
{
	for (const struct conf_key *k = conf_keys; k->name; k++) {
		char *base = (char *)c + k->off;
		if (k->type == CT_STRING)
			free(*(char **)base);
		else if (k->type == CT_LISTEN || k->type == CT_HOSTLIST)
			free(((struct conf_list *)base)->v);
	}
	free(c->path);
	memset(c, 0, sizeof(*c));
}

int
conf_plaintext_ok(const struct conf *c, const char *host, int port)
{
	for (size_t i = 0; i < c->plaintext_auth_listen.n; i++) {
		const struct conf_addr *a = &c->plaintext_auth_listen.v[i];
		if (strcmp(a->host, host) == 0 && (a->port == 0 || a->port == port))
			return 1;
	}
	return 0;
}

void
conf_dump_reference(void)
{
	printf("# onebox.conf reference\n\n"
	    "The bootstrap configuration file (default `" CONF_DEFAULT_PATH "`), read by\n"
	    "`oneboxd` at start and on SIGHUP and by the `onebox` CLI. One `key = value` per\n"
	    "line; `#` starts a comment. Each key may appear once. Listener keys take a\n"
	    "space-separated list of `address:port` (`192.0.2.1:25`, `[2001:db8::1]:25`,\n"
	    "`*:25` for every address); an empty value turns the service off.\n"
	    "Mail settings (domains, users, limits, trusted networks) are not here: they\n"
	    "live in the database and are changed with `onebox set KEY VALUE`\n"
	    "(see `onebox settings`).\n\n"
	    "| key | default | meaning |\n|---|---|---|\n");
	for (const struct conf_key *k = conf_keys; k->name; k++)
		printf("| `%s` | `%s` | %s |\n", k->name, k->def[0] ? k->def : "(empty)", k->doc);
}
