/*
 * session - who may see the admin page, and how an admin logs in.
 *
 * Order of the checks (admin_guard): the client address is in
 * admin_networks (the public card never offers the page), the connection
 * is HTTPS (the cookie is Secure), a session cookie names a live session,
 * and a POST carries the session's CSRF token.  The cookie is HttpOnly,
 * Secure, SameSite=Strict, Path=/admin, and expires with the session
 * (admin_session_minutes); the DB keeps only its SHA-256, so a reload of
 * httpd logs nobody out and a copy of the DB logs nobody in.
 *
 * The login form is protected too: a random value in a cookie and the
 * same in the form (double submit), so another site cannot log a browser
 * in.  Failed logins go through the login throttle's code
 * (server/auth/throttle.c, the limits of auth_max_failures*), counted in
 * httpd per client network and per admin name, and answered only after
 * auth_fail_delay_ms (the connection is suspended; the loop goes on).
 * The password is hashed in a worker thread (httpd.jobs), not in the loop.
 */
#include "admin-ui.h"
#include "admin.h"
#include "db.h"
#include "ev.h"
#include "jobs.h"
#include "log.h"
#include "net.h"
#include "str.h"
#include "throttle.h"

#include <microhttpd.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COOKIE "onebox_admin"
#define PRE_COOKIE "onebox_login"

static struct throttle *throttle;

static int
same(const char *a, const char *b)
{
	size_t n = strlen(a);
	volatile unsigned char d = 0;

	if (n != strlen(b) || n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d == 0;
}

/* session_key - the hex SHA-256 of a cookie value: what the DB stores. */
static void
session_key(const char *cookie, char out[65])
{
	unsigned char md[32];
	unsigned len = 0;
	static const char hex[] = "0123456789abcdef";

	EVP_Digest(cookie, strlen(cookie), md, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* admin_network - 403 unless the client may see the admin page. */
static int
admin_network(struct http_req *req, struct http_resp *resp)
{
	if (!net_cidr_match(db_setting_str(httpd.svc.db, ST_ADMIN_NETWORKS), req->conn->peer.ip)) {
		log_info("%016llx http admin page refused address=%s (not in admin_networks)",
		    (unsigned long long)req->conn->id, req->conn->peer.ip);
		http_error(resp, MHD_HTTP_FORBIDDEN, "The admin page is not offered on this network.");
		return 0;
	}
	if (!req->conn->https) {
		http_error(resp, MHD_HTTP_FORBIDDEN, "The admin page needs HTTPS (set https_listen).");
		return 0;
	}
	return 1;
}

/* session_load - the live session of the request's cookie into req->admin. */
static int
session_load(struct http_req *req)
{
	const char *c = http_cookie(req, COOKIE);
	struct admin_req *a;
	char key[65], *name = NULL, *csrf = NULL;
	int r;

	if (c == NULL || strlen(c) != 64)
		return 0;
	session_key(c, key);
	if ((r = db_admin_session_get(httpd.rw, key, (int64_t)time(NULL), &name, &csrf)) != 1)
		return 0;
	a = xcalloc(1, sizeof(*a));
	str_lcpy(a->name, name, sizeof(a->name));
	str_lcpy(a->csrf, csrf, sizeof(a->csrf));
	free(name);
	free(csrf);
	req->admin = a;
	return 1;
}

int
admin_guard(struct http_req *req, struct http_resp *resp)
{
	struct admin_req *a;
	const char *token;

	if (!admin_network(req, resp))
		return 0;
	db_changed(httpd.svc.db);
	if (!session_load(req)) {
		http_redirect(resp, "/admin/login");
		return 0;
	}
	a = req->admin;
	token = form_get(&req->form, "csrf");
	if (req->method == HTTP_POST && (token == NULL || !same(token, a->csrf))) {
		log_warnx("%016llx http admin POST without its CSRF token address=%s path=\"%.200s\"",
		    (unsigned long long)req->conn->id, req->conn->peer.ip, req->path);
		http_error(resp, MHD_HTTP_FORBIDDEN,
		    "This form has expired or did not come from this page; reload the page and try again.");
		return 0;
	}
	return 1;
}

void
admin_csrf_field(struct http_req *req, struct buf *b)
{
	struct admin_req *a = req->admin;
	html_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", a ? a->csrf : "");
}

/* ---- login ---- */

static void
login_form(struct http_resp *resp, const char *name, const char *error)
{
	char pre[65];

	str_random_hex(pre, 32);
	free(resp->cookie);
	resp->cookie = xasprintf(PRE_COOKIE "=%s; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age=1800",
	    pre);
	http_page_start(resp, "Log in to onebox", NULL);
	if (error)
		html_printf(&resp->body, "<p class=\"error\" role=\"alert\" id=\"login-error\">%s</p>\n", error);
	html_printf(&resp->body, "<form class=\"stack\" method=\"post\" action=\"/admin/login\">\n"
	    "<input type=\"hidden\" name=\"pre\" value=\"%s\">\n"
	    "<label for=\"name\">Admin name</label>\n"
	    "<input id=\"name\" name=\"name\" autocomplete=\"username\" required value=\"%s\"%r>\n"
	    "<label for=\"password\">Password</label>\n"
	    "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n"
	    "<p><button type=\"submit\">Log in</button></p>\n</form>\n",
	    pre, name ? name : "", error ? " aria-describedby=\"login-error\"" : " autofocus");
	http_page_end(resp);
}

static void
limits(struct throttle_limits *l)
{
	struct db *db = httpd.svc.db;

	l->max_addr = (int)db_setting_int(db, ST_AUTH_MAX_FAILURES);
	l->max_user = (int)db_setting_int(db, ST_AUTH_MAX_FAILURES_PER_USER);
	l->window_ms = (uint64_t)db_setting_int(db, ST_AUTH_THROTTLE_SECONDS) * 1000;
	l->known_ms = 0;
}

/* login_start - a session for name: cookie and redirect to the dashboard. */
static void
login_start(struct http_req *req, struct http_resp *resp, const char *name)
{
	char id[65], key[65], csrf[65];
	int64_t minutes = db_setting_int(httpd.svc.db, ST_ADMIN_SESSION_MINUTES);
	const char *err;

	str_random_hex(id, 32);
	str_random_hex(csrf, 32);
	session_key(id, key);
	if (db_admin_session_add(httpd.rw, key, name, csrf, (int64_t)time(NULL) + minutes * 60, &err) < 0) {
		log_warnx("admin session: %s", err);
		return http_error(resp, MHD_HTTP_SERVICE_UNAVAILABLE, "The session could not be stored; try again.");
	}
	resp->cookie = xasprintf(COOKIE "=%s; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age=%lld",
	    id, (long long)minutes * 60);
	http_redirect(resp, "/admin/");
}

/* A password check in a worker thread: yescrypt takes tens of ms, which
 * httpd's loop spends serving other requests meanwhile. */
struct login_job {
	struct job job;
	struct http_req *req;	/* NULL once the request is gone */
	struct throttle_ticket tk;
	struct throttle_limits lim;
	unsigned long long id;
	char ip[64];
	char *name, *pw, *hash;
	int known, ok;
};

static void
login_work(struct job *j)
{
	struct login_job *lj = (struct login_job *)j;

	lj->ok = lj->hash != NULL && db_check_password(lj->pw, lj->hash);
}

static void
login_done(struct job *j)
{
	struct login_job *lj = (struct login_job *)j;
	struct http_resp resp = { 0 };
	int ok = lj->known < 0 ? -1 : lj->known && lj->ok;

	throttle_end(throttle, &lj->tk, ok == 1 ? THROTTLE_SUCCEEDED : ok == 0 ? THROTTLE_FAILED :
	    THROTTLE_UNDECIDED, &lj->lim, ev_clock_ms());
	log_info("%016llx http admin login name=\"%.64s\" address=%s result=%s", lj->id, lj->name, lj->ip,
	    ok == 1 ? "ok" : "failed");
	if (lj->req != NULL) {
		if (ok != 1) {
			resp.status = MHD_HTTP_UNAUTHORIZED;
			resp.delay_ms = (uint64_t)db_setting_int(httpd.svc.db, ST_AUTH_FAIL_DELAY_MS);
			login_form(&resp, lj->name, "Wrong admin name or password.");
		} else
			login_start(lj->req, &resp, lj->name);
		http_answer(lj->req, &resp);
	}
	explicit_bzero(lj->pw, strlen(lj->pw));
	free(lj->pw);
	free(lj->name);
	free(lj->hash);
	free(lj);
}

void
admin_login(struct http_req *req, struct http_resp *resp)
{
	const char *name = form_get(&req->form, "name"), *pw = form_get(&req->form, "password");
	const char *pre = form_get(&req->form, "pre"), *pre_cookie = http_cookie(req, PRE_COOKIE);
	struct throttle_limits lim;
	struct throttle_ticket tk;
	struct login_job *lj;
	char key[100];

	if (!admin_network(req, resp))
		return;
	if (req->method != HTTP_POST)
		return login_form(resp, NULL, NULL);
	if (pre == NULL || pre_cookie == NULL || !same(pre, pre_cookie)) {
		resp->status = MHD_HTTP_FORBIDDEN;
		return login_form(resp, name, "This form has expired; please log in again.");
	}
	if (name == NULL || pw == NULL || name[0] == '\0' || pw[0] == '\0' || strlen(name) > 64) {
		resp->status = MHD_HTTP_BAD_REQUEST;
		return login_form(resp, name, "Enter your admin name and password.");
	}
	if (throttle == NULL)
		throttle = throttle_new(4096);
	limits(&lim);
	snprintf(key, sizeof(key), "admin:%s", name);
	if (throttle_begin(throttle, req->conn->peer.ip, key, &lim, ev_clock_ms(), &tk) != THROTTLE_OK) {
		log_warnx("%016llx http admin login throttled address=%s", (unsigned long long)req->conn->id,
		    req->conn->peer.ip);
		resp->status = MHD_HTTP_TOO_MANY_REQUESTS;
		return login_form(resp, name, "Too many failed logins; wait a while and try again.");
	}
	lj = xcalloc(1, sizeof(*lj));
	lj->job.work = login_work;
	lj->job.done = login_done;
	lj->req = req;
	lj->tk = tk;
	lj->lim = lim;
	lj->id = (unsigned long long)req->conn->id;
	str_lcpy(lj->ip, req->conn->peer.ip, sizeof(lj->ip));
	lj->name = xstrdup(name);
	lj->pw = xstrdup(pw);
	lj->known = adm_admin_hash(httpd.rw, name, &lj->hash);
	http_wait(req, &lj->req);
	jobs_submit(httpd.jobs, &lj->job);
}

void
admin_logout(struct http_req *req, struct http_resp *resp)
{
	char key[65];
	const char *c = http_cookie(req, COOKIE);

	if (!admin_guard(req, resp))
		return;
	session_key(c, key);
	db_admin_session_del(httpd.rw, key);
	resp->cookie = xstrdup(COOKIE "=; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
	http_redirect(resp, "/admin/login");
}
