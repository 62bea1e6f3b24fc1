/*
 * ctl-check - `onebox check`: is this installation healthy?
 *
 * One line per finding, "ok", "warn" or "FAIL", in the order an admin would
 * look: the config file, the data directory, the database, the
 * certificate, then whether every configured listener answers.  Exit 1 when
 * anything FAILs.  It reads only; it changes nothing.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "ctl.h"

static int failures;

static void
report(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
report(const char *level, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(level, "FAIL") == 0)
		failures++;
	printf("%-5s ", level);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
check_dirs(const struct conf *conf)
{
	static const char *const sub[] = { "", "/mail", "/queue", "/tls", "/run", ("/" DB_DIR) };
	struct passwd *pw = getpwnam(conf->user);
	struct stat st;

	if (pw == NULL)
		report("FAIL", "user %s does not exist (useradd --system --no-create-home "
		    "--shell /usr/sbin/nologin %s)", conf->user, conf->user);
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		char *p = xasprintf("%s%s", conf->data_dir, sub[i]);
		if (stat(p, &st) < 0)
			report(i == 0 ? "FAIL" : "warn", "%s is missing (oneboxd makes it at start)", p);
		else if (pw && (i == 1 || i == 2 || i == 5) && st.st_uid != pw->pw_uid)
			report("FAIL", "%s is not owned by %s", p, conf->user);
		free(p);
	}
}

static void
count_domain(const struct db_domain *d, void *ctx)
{
	(*(int *)ctx)++;
}

static void
count_user(const struct db_user *u, void *ctx)
{
	(*(int *)ctx)++;
}

/* check_db - last: as root, opening the DB makes this process the service user. */
static void
check_db(struct ctl *c)
{
	struct db *db;
	int domains = 0, users = 0;
	struct stat st;
	char *path = xasprintf("%s/%s/%s", c->data_dir, DB_DIR, DB_FILENAME);
	int missing = stat(path, &st) < 0;

	free(path);
	if (missing) {
		report("warn", "no database yet (the first 'onebox domain add' or oneboxd's start makes it)");
		return;
	}
	db = ctl_db(c);

	if (db_domain_list(db, count_domain, &domains) < 0 || db_user_list(db, NULL, count_user, &users) < 0) {
		report("FAIL", "database %s/%s/%s: %s", c->data_dir, DB_DIR, DB_FILENAME, db_errmsg(db));
		return;
	}
	if (domains == 0)
		report("warn", "no domain yet: add one with 'onebox domain add example.com'");
	else
		report("ok", "database: %d domain%s, %d user%s", domains, domains == 1 ? "" : "s",
		    users, users == 1 ? "" : "s");
}

static void
check_cert(const struct conf *conf)
{
	char *path = conf->tls_cert[0] ? xstrdup(conf->tls_cert) : xasprintf("%s/tls/cert.pem", conf->data_dir);
	FILE *fp = fopen(path, "r");
	X509 *x = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;

	if (fp)
		fclose(fp);
	if (x == NULL)
		report(conf->tls_cert[0] ? "FAIL" : "warn", "certificate %s: cannot read it%s", path,
		    conf->tls_cert[0] ? "" : " (a self-signed one is made at first start)");
	else {
		int days = 0, secs = 0;
		ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
		if (days < 0 || (days == 0 && secs <= 0))
			report("FAIL", "certificate %s has expired", path);
		else
			report(days < 14 ? "warn" : "ok", "certificate %s valid for %d more days", path, days);
		X509_free(x);
	}
	free(path);
}

/* answers - 1 if something accepts a TCP connection at host:port. */
static int
answers(const struct conf_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *host = a->host[0] ? a->host : "127.0.0.1";
	int fd, ok;

	memset(&ss, 0, sizeof(ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		inet_pton(AF_INET6, host, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		inet_pton(AF_INET, host, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&ss, sl) == 0;
	close(fd);
	return ok;
}

static void
check_listeners(const struct conf *conf)
{
	for (int s = 0; s < SVC__COUNT; s++) {
		const struct conf_list *l = &conf->listen[s];
		for (size_t i = 0; i < l->n; i++) {
			const struct conf_addr *a = &l->v[i];
			int v6 = strchr(a->host, ':') != NULL;
			if (s == SVC_IMAP || s == SVC_IMAPS) {
				report("warn", "%s %s%s%s:%d: this service is not served yet", conf_service_key(s),
				    v6 ? "[" : "", a->host[0] ? a->host : "*", v6 ? "]" : "", a->port);
				continue;
			}
			int up = answers(a);
			report(up ? "ok" : "FAIL", "%s %s%s%s:%d %s", conf_service_key(s), v6 ? "[" : "",
			    a->host[0] ? a->host : "*", v6 ? "]" : "", a->port,
			    up ? "answers" : "does not answer (is oneboxd running?)");
		}
	}
}

static int
check_run(struct ctl *c, int argc, char **argv)
{
	struct conf conf;
	char *err;

	ctl_nargs(c, argc, 0, 0);
	if (conf_load(c->conf_path, &conf, &err) < 0) {
		report("FAIL", "%s", err);
		free(err);
		return 1;
	}
	report("ok", "config %s (hostname %s)", c->conf_path, conf.hostname);
	c->data_dir = xstrdup(conf.data_dir);
	check_dirs(&conf);
	check_cert(&conf);
	check_listeners(&conf);
	check_db(c);
	conf_free(&conf);
	return failures ? 1 : 0;
}

const struct ctl_verb ctl_check_verbs[] = {
	{ NULL, "check", "", "check the config, data directory, certificate, database and listeners",
	  check_run },
	{ NULL, NULL, NULL, NULL, NULL },
};
