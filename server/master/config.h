/*
 * config - onebox's bootstrap config file (/etc/onebox/onebox.conf): its
 * keys, the kinds of listener, and the checks across keys.  The parsing is
 * the generic key table of server/lib/conf.h.
 *
 * `key = value` lines, `#` comments, blank lines.  It holds only what the
 * machine needs to start (DESIGN.md §2); everything about mail lives in the
 * config database.  Every key is defined once, in config.c's table, with
 * its default, its bounds and its documentation line; doc/config.md is the
 * reference page for the same table (`oneboxd --config-reference`).
 *
 * Errors name the file, line and key: "onebox.conf:12: smtp_listen: bad port".
 */
#ifndef ONEBOX_CONFIG_H
#define ONEBOX_CONFIG_H

#include "conf.h"

#define CONF_DEFAULT_PATH SYSCONFDIR "/onebox/onebox.conf"

/* The kinds of listener (one *_listen key each). */
enum conf_service {
	SVC_SMTP, SVC_SUBMISSION, SVC_SUBMISSIONS, SVC_IMAP, SVC_IMAPS,
	SVC_POP3, SVC_POP3S, SVC_HTTP, SVC_HTTPS, SVC__COUNT
};

struct conf {
	char *path;
	char *hostname;
	char *data_dir;
	char *user;		/* unprivileged user owning mail and running services */
	unsigned first_valid_uid;	/* lowest uid PAM logins may have (never 0) */
	char *log_level;
	int log_syslog;
	char *tls_cert;		/* empty: data_dir/tls/cert.pem, self-signed at first start */
	char *tls_key;
	char *dns_servers;	/* empty: /etc/resolv.conf */
	struct conf_list listen[SVC__COUNT];
	struct conf_list plaintext_auth_listen;	/* port 0 = any port on that host */
};

/* conf_service_key - "smtp_listen" etc. */
const char *conf_service_key(enum conf_service svc);
/* conf_service_implicit_tls - 1 for the listeners that start with TLS. */
int conf_service_implicit_tls(enum conf_service svc);

/*
 * conf_load - parse path into c (zeroed first, defaults applied).
 * Returns 0, or -1 with *error_r set to a malloc'd "file:line: key: msg".
 */
int conf_load(const char *path, struct conf *c, char **error_r);
/* conf_parse_string - the same from a string (for tests and fuzzing). */
int conf_parse_string(const char *name, const char *text, struct conf *c, char **error_r);
void conf_free(struct conf *c);
/* conf_plaintext_ok - 1 if a listener bound to host:port allows auth without TLS. */
int conf_plaintext_ok(const struct conf *c, const char *host, int port);
/* conf_dump_reference - print the key table as Markdown (doc/config.md). */
void conf_dump_reference(void);

#endif
