/*
 * config - onebox's config keys, defined once each: type, default,
 * documentation, validator.  doc/config.md is generated from this table
 * (`oneboxd --config-reference`), so the two never disagree.  The parser
 * is server/lib/conf.c, which knows nothing of mail.
 */
#include "config.h"
#include "buf.h"
#include "dns.h"
#include "log.h"
#include "str.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	{ "first_valid_uid", CT_UID, OFF(first_valid_uid), "1000",
	  "Lowest Unix uid that may log in through PAM (users of `system` domains); root never can. "
	  "As Dovecot's first_valid_uid: system accounts below it are refused before PAM is asked.", NULL },
	{ "log_level", CT_STRING, OFF(log_level), "info", "error, warn, info or debug.", check_log_level },
	{ "log_syslog", CT_BOOL, OFF(log_syslog), "no",
	  "yes: log to syslog (facility mail); no: log to standard error (systemd's journal).", NULL },
	{ "tls_cert", CT_STRING, OFF(tls_cert), "",
	  "PEM certificate chain. Empty: data_dir/tls/cert.pem, made self-signed at first start.",
	  check_abspath_or_empty },
	{ "tls_key", CT_STRING, OFF(tls_key), "", "PEM private key. Empty: data_dir/tls/key.pem.", check_abspath_or_empty },
	{ "dns_servers", CT_STRING, OFF(dns_servers), "",
	  "DNS servers the queue runner asks (address, address:port or [IPv6]:port, space separated); nothing else is asked. Empty: those of /etc/resolv.conf.",
	  dns_servers_check },
	{ "smtp_listen", CT_LISTEN, OFF(listen[SVC_SMTP]), "*:25",
	  "Inbound SMTP (the MX): receives mail for local users, never relays for strangers.", NULL },
	{ "submission_listen", CT_LISTEN, OFF(listen[SVC_SUBMISSION]), "*:587",
	  "Mail submission with STARTTLS and authentication.", NULL },
	{ "submissions_listen", CT_LISTEN, OFF(listen[SVC_SUBMISSIONS]), "*:465",
	  "Mail submission over implicit TLS with authentication.", NULL },
	{ "imap_listen", CT_LISTEN, OFF(listen[SVC_IMAP]), "*:143", "IMAP with STARTTLS.", NULL },
	{ "imaps_listen", CT_LISTEN, OFF(listen[SVC_IMAPS]), "*:993", "IMAP over implicit TLS.", NULL },
	{ "pop3_listen", CT_LISTEN, OFF(listen[SVC_POP3]), "*:110", "POP3 with STLS.", NULL },
	{ "pop3s_listen", CT_LISTEN, OFF(listen[SVC_POP3S]), "*:995", "POP3 over implicit TLS.", NULL },
	{ "http_listen", CT_LISTEN, OFF(listen[SVC_HTTP]), "*:80",
	  "HTTP: Thunderbird autoconfig; everything else is redirected to the first https_listen port.", NULL },
	{ "https_listen", CT_LISTEN, OFF(listen[SVC_HTTPS]), "*:443",
	  "HTTPS (tls_cert/tls_key, as the mail services): the admin page (from admin_networks only), "
	  "autoconfig, Autodiscover, Apple profiles.", NULL },
	{ "plaintext_auth_listen", CT_HOSTLIST, OFF(plaintext_auth_listen), "",
	  "Addresses (or address:port) of listeners that accept passwords without TLS, e.g. the "
	  "office's private card. Everywhere else a password is accepted only under TLS.", NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct conf_table conf_table = { conf_keys, sizeof(struct conf) };

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

/* conf_check - what single keys cannot say: derived defaults, pairs. */
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
	if (conf_table_parse(&conf_table, name, text, c, error_r) < 0)
		return -1;
	c->path = xstrdup(name);
	if (conf_check(c, name, error_r) < 0) {
		conf_free(c);
		return -1;
	}
	return 0;
}

int
conf_load(const char *path, struct conf *c, char **error_r)
{
	char *text;
	int ret;

	if (conf_read_file(path, &text, error_r) < 0)
		return -1;
	ret = conf_parse_string(path, text, c, error_r);
	free(text);
	return ret;
}

void
conf_free(struct conf *c)
{
	conf_table_free(&conf_table, c);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

/* addr_bin - a numeric address as 16 bytes, IPv4 as IPv4-mapped IPv6;
 * 0, or -1 if it is not one. */
static int
addr_bin(const char *s, unsigned char out[16])
{
	struct in_addr v4;

	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	if (inet_pton(AF_INET, s, &v4) != 1)
		return -1;
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &v4, 4);
	return 0;
}

/* same_host - the configured host (or "*" / "" for any) names address:
 * compared as addresses, not as text ("2001:DB8::0:1" is "2001:db8::1",
 * and an IPv4 client of a dual-stack socket shows "::ffff:192.0.2.1"). */
static int
same_host(const char *conf_host, const char *address)
{
	unsigned char a[16], b[16];

	if (conf_host[0] == '\0' || strcmp(conf_host, "*") == 0)
		return 1;
	if (addr_bin(conf_host, a) < 0 || addr_bin(address, b) < 0)
		return strcmp(conf_host, address) == 0;
	return memcmp(a, b, sizeof(a)) == 0;
}

int
conf_plaintext_ok(const struct conf *c, const char *host, int port)
{
	for (size_t i = 0; i < c->plaintext_auth_listen.n; i++) {
		const struct conf_addr *a = &c->plaintext_auth_listen.v[i];
		if (same_host(a->host, host) && (a->port == 0 || a->port == port))
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
	    "(see `onebox settings`).\n\n");
	conf_table_reference(&conf_table);
}
