/*
 * page-dashboard - what an admin wants to see first, from what is cheap
 * to get in the event loop: whether each listener answers, how many
 * domains, users and aliases there are, the space left for mail, and when
 * the certificate expires.
 */
#include "admin-ui.h"
#include "db.h"
#include "log.h"
#include "str.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void
count_domain(const struct db_domain *d, void *ctx)
{
	(*(size_t *)ctx)++;
}

static void
count_user(const struct db_user *u, void *ctx)
{
	(*(size_t *)ctx)++;
}

static void
count_alias(const char *address, const char *target, void *ctx)
{
	(*(size_t *)ctx)++;
}

/* answers - 1 if a listener accepts a connection (loopback for "*"):
 * a connect to our own host does not block. */
static int
answers(const struct conf_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *host = a->host[0] && strcmp(a->host, "*") ? a->host : "127.0.0.1";
	int fd, ok;

	memset(&ss, 0, sizeof(ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)a->port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return 0;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)a->port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return 0;
		sl = sizeof(*s4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&ss, sl) == 0;
	close(fd);
	return ok;
}

static void
services(struct buf *b)
{
	const struct conf *c = httpd.svc.conf;

	buf_adds(b, "<h2>Services</h2>\n<table><thead><tr><th scope=\"col\">Service</th>"
	    "<th scope=\"col\">Address</th><th scope=\"col\">State</th></tr></thead><tbody>\n");
	for (int s = 0; s < SVC__COUNT; s++)
		for (size_t i = 0; i < c->listen[s].n; i++) {
			const struct conf_addr *a = &c->listen[s].v[i];
			int up = answers(a);
			html_printf(b, "<tr><td>%s</td><td>%s:%d</td><td class=\"%r\">%r</td></tr>\n",
			    conf_service_key(s), a->host[0] ? a->host : "*", a->port, up ? "notice" : "error",
			    up ? "up" : "down");
		}
	buf_adds(b, "</tbody></table>\n");
}

static void
counts(struct buf *b)
{
	struct db *db = httpd.svc.db;
	size_t nd = 0, nu = 0, na = 0;

	db_domain_list(db, count_domain, &nd);
	db_user_list(db, NULL, count_user, &nu);
	db_alias_list(db, NULL, count_alias, &na);
	html_printf(b, "<h2>Mail</h2>\n<ul>\n<li>Domains: %zu</li>\n<li>Users: %zu</li>\n"
	    "<li>Alias targets: %zu</li>\n</ul>\n", nd, nu, na);
}

static void
disk(struct buf *b)
{
	struct statvfs st;
	char dir[4200], avail[32], total[32];

	snprintf(dir, sizeof(dir), "%s/mail", httpd.svc.conf->data_dir);
	if (statvfs(dir, &st) < 0) {
		html_printf(b, "<h2>Disk</h2>\n<p class=\"error\">Cannot read the space of %s.</p>\n", dir);
		return;
	}
	/* exact figures in MB: str_size_format prints digits unless exact */
	snprintf(avail, sizeof(avail), "%llu MB", (unsigned long long)st.f_bavail * st.f_frsize >> 20);
	snprintf(total, sizeof(total), "%llu MB", (unsigned long long)st.f_blocks * st.f_frsize >> 20);
	html_printf(b, "<h2>Disk</h2>\n<p>%s free of %s for mail (%s).</p>\n", avail, total, dir);
}

static void
certificate(struct buf *b)
{
	X509 *x = httpd.svc.tls ? SSL_CTX_get0_certificate(httpd.svc.tls) : NULL;
	int days = 0, secs = 0;
	char subject[256] = "";

	buf_adds(b, "<h2>Certificate</h2>\n");
	if (x == NULL || !ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x))) {
		buf_adds(b, "<p class=\"error\">No certificate is loaded.</p>\n");
		return;
	}
	X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
	html_printf(b, "<p%r>%s expires in %d days.</p>\n", days < 14 ? " class=\"error\"" : "", subject, days);
}

void
page_dashboard(struct http_req *req, struct http_resp *resp)
{
	if (!admin_guard(req, resp))
		return;
	admin_page_start(req, resp, "Dashboard", "/admin/");
	html_printf(&resp->body, "<p>Mail server %s.</p>\n", httpd.svc.conf->hostname);
	services(&resp->body);
	counts(&resp->body);
	disk(&resp->body);
	certificate(&resp->body);
	http_page_end(resp);
}
