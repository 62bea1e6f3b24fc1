/*
 * admin-ui - the admin pages on httpd (server/http): the guard every page
 * goes through (admin_networks, HTTPS, session cookie, CSRF token on every
 * POST), the login, and the pages.  Every change goes through
 * server/admin, the library the CLI uses too.
 */
#ifndef ONEBOX_ADMIN_UI_H
#define ONEBOX_ADMIN_UI_H

#include "http.h"

/* per-request state of an admin page (req->admin, freed with the request) */
struct admin_req {
	char name[65];		/* the admin logged in */
	char csrf[65];		/* the session's CSRF token */
};

/* admin_guard - 1 if the page may run (req->admin set), else 0 with resp
 * filled: 403 outside admin_networks or over plain HTTP, a redirect to the
 * login without a session, 403 for a POST without the session's token. */
int admin_guard(struct http_req *req, struct http_resp *resp);
/* admin_page_start - the frame with the navigation (current: its path). */
void admin_page_start(struct http_req *req, struct http_resp *resp, const char *title, const char *current);
/* admin_csrf_field - the hidden token field of a form. */
void admin_csrf_field(struct http_req *req, struct buf *b);
/* admin_flash - the notice or error passed in ?ok= / ?error= after a
 * redirect, shown escaped. */
void admin_flash(struct http_req *req, struct http_resp *resp);
/* admin_done - after a successful POST: 303 back to path with ?ok=code. */
void admin_done(struct http_resp *resp, const char *path, const char *ok);
/* admin_form_error - the error of a failed action, next to its form. */
void admin_form_error(struct http_resp *resp, const char *err);

void admin_login(struct http_req *req, struct http_resp *resp);
void admin_logout(struct http_req *req, struct http_resp *resp);

void page_dashboard(struct http_req *req, struct http_resp *resp);
void page_domains(struct http_req *req, struct http_resp *resp);
void page_users(struct http_req *req, struct http_resp *resp);
void page_aliases(struct http_req *req, struct http_resp *resp);

void asset_css(struct http_req *req, struct http_resp *resp);
void asset_js(struct http_req *req, struct http_resp *resp);

#endif
