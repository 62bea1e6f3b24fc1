/*
 * page-users - mailboxes: search and paging (PAGE_SIZE a page, the
 * search matches any part of the address), add, reset the password, set
 * the quota, enable and disable.  Every action goes through server/admin.
 *
 * The list is read with db_user_list and filtered here: a few thousand
 * rows are a few milliseconds, and the DB keeps one way to list users.
 */
#include "admin-ui.h"
#include "admin.h"
#include "db.h"
#include "str.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 50

struct list {
	struct http_req *req;
	struct buf *b;
	const char *q;
	size_t skip, shown, matched;
};

static int
matches(const char *address, const char *q)
{
	return q == NULL || q[0] == '\0' || strcasestr(address, q) != NULL;
}

static void
row_form(struct list *l, const char *addr, const char *action, const char *field, const char *label,
    const char *button)
{
	html_printf(l->b, "<form class=\"row-form\" method=\"post\" action=\"/admin/users\">");
	admin_csrf_field(l->req, l->b);
	html_printf(l->b, "<input type=\"hidden\" name=\"action\" value=\"%s\">"
	    "<input type=\"hidden\" name=\"address\" value=\"%s\">", action, addr);
	if (field)
		html_printf(l->b, "<input name=\"%s\" %r aria-label=\"%s %s\" size=\"10\" required>", field,
		    strcmp(field, "password") == 0 ? "type=\"password\" autocomplete=\"new-password\"" : "",
		    label, addr);
	html_printf(l->b, "<button type=\"submit\" aria-label=\"%s %s\">%s</button></form>\n", button, addr, button);
}

static void
user_row(const struct db_user *u, void *ctx)
{
	struct list *l = ctx;
	char q[32];

	if (!matches(u->address, l->q))
		return;
	l->matched++;
	if (l->matched <= l->skip || l->shown >= PAGE_SIZE)
		return;
	l->shown++;
	if (u->quota)
		str_size_format(u->quota, q, sizeof(q));
	html_printf(l->b, "<tr><td>%s</td><td>%s</td><td>%r</td><td>", u->address, u->quota ? q : "none",
	    u->enabled ? "enabled" : "<strong>disabled</strong>");
	if (!u->system)
		row_form(l, u->address, "passwd", "password", "New password for", "Set password");
	row_form(l, u->address, "quota", "quota", "New quota for", "Set quota");
	row_form(l, u->address, u->enabled ? "disable" : "enable", NULL, NULL, u->enabled ? "Disable" : "Enable");
	buf_adds(l->b, "</td></tr>\n");
}

static void
add_form(struct http_req *req, struct http_resp *resp, const char *err)
{
	struct buf *b = &resp->body;
	const char *addr = err ? form_get(&req->form, "address") : NULL;
	const char *quota = err ? form_get(&req->form, "quota") : NULL;
	const char *inv = err ? " aria-describedby=\"form-error\"" : "";

	buf_adds(b, "<h2>Add a user</h2>\n");
	admin_form_error(resp, err);
	buf_adds(b, "<form class=\"stack\" method=\"post\" action=\"/admin/users\">\n");
	admin_csrf_field(req, b);
	html_printf(b, "<input type=\"hidden\" name=\"action\" value=\"add\">\n"
	    "<label for=\"user-address\">Address</label>\n"
	    "<input id=\"user-address\" name=\"address\" type=\"text\" required value=\"%s\"%r>\n"
	    "<label for=\"user-password\">Password</label>\n"
	    "<input id=\"user-password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required>\n"
	    "<label for=\"user-quota\">Quota (like 500M or 2G; empty: none)</label>\n"
	    "<input id=\"user-quota\" name=\"quota\" value=\"%s\">\n"
	    "<p><button type=\"submit\">Add user</button></p>\n</form>\n", addr ? addr : "", inv, quota ? quota : "");
}

static void
render(struct http_req *req, struct http_resp *resp, const char *err)
{
	struct buf *b = &resp->body;
	const char *q = http_arg(req, "q"), *p = http_arg(req, "page");
	uint64_t page = 1;
	struct list l = { req, b, q, 0, 0, 0 };
	struct buf link = BUF_INIT;

	if (p == NULL || str_to_u64(p, &page) < 0 || page == 0 || page > 1000000)
		page = 1;
	l.skip = (size_t)(page - 1) * PAGE_SIZE;
	admin_page_start(req, resp, "Users", "/admin/users");
	add_form(req, resp, err);
	html_printf(b, "<h2>Users</h2>\n<form method=\"get\" action=\"/admin/users\" role=\"search\">"
	    "<label for=\"q\">Search</label> <input id=\"q\" name=\"q\" type=\"search\" value=\"%s\"> "
	    "<button type=\"submit\">Search</button></form>\n", q ? q : "");
	buf_adds(b, "<table><thead><tr><th scope=\"col\">Address</th><th scope=\"col\">Quota</th>"
	    "<th scope=\"col\">State</th><th scope=\"col\">Actions</th></tr></thead><tbody>\n");
	db_user_list(httpd.rw, NULL, user_row, &l);
	buf_adds(b, "</tbody></table>\n");
	html_printf(b, "<p>%zu of %zu users shown.</p>\n<nav aria-label=\"Pages\"><p>", l.shown, l.matched);
	url_esc(&link, q ? q : "");
	if (page > 1)
		html_printf(b, "<a href=\"/admin/users?q=%s&amp;page=%llu\" rel=\"prev\">Previous page</a> ",
		    link.data ? link.data : "", (unsigned long long)page - 1);
	if (l.skip + l.shown < l.matched)
		html_printf(b, "<a href=\"/admin/users?q=%s&amp;page=%llu\" rel=\"next\">Next page</a>",
		    link.data ? link.data : "", (unsigned long long)page + 1);
	buf_adds(b, "</p></nav>\n");
	buf_free(&link);
	http_page_end(resp);
}

/* act - run the POSTed action; 0 with *ok_r (the notice), or -1 + *err_r. */
static int
act(struct http_req *req, const char **ok_r, char **err_r)
{
	const char *a = form_get(&req->form, "action"), *addr = form_get(&req->form, "address");
	const char *pw = form_get(&req->form, "password"), *quota = form_get(&req->form, "quota");
	struct db *db = httpd.rw;

	if (a == NULL || addr == NULL) {
		*err_r = xstrdup("The form is incomplete.");
		return -1;
	}
	if (strcmp(a, "add") == 0)
		return *ok_r = "user-added", adm_user_add(db, addr, pw ? pw : "", quota, err_r);
	if (strcmp(a, "passwd") == 0)
		return *ok_r = "password-set", adm_user_passwd(db, addr, pw ? pw : "", err_r);
	if (strcmp(a, "quota") == 0)
		return *ok_r = "quota-set", adm_user_quota(db, addr, quota ? quota : "", err_r);
	if (strcmp(a, "enable") == 0 || strcmp(a, "disable") == 0)
		return *ok_r = a[0] == 'e' ? "user-enabled" : "user-disabled",
		    adm_user_enable(db, addr, a[0] == 'e', err_r);
	*err_r = xstrdup("Unknown action.");
	return -1;
}

void
page_users(struct http_req *req, struct http_resp *resp)
{
	const char *ok = NULL;
	char *err = NULL;

	if (!admin_guard(req, resp))
		return;
	if (req->method == HTTP_POST) {
		if (act(req, &ok, &err) == 0)
			return admin_done(resp, "/admin/users", ok);
		resp->status = MHD_HTTP_BAD_REQUEST;
	}
	render(req, resp, err);
	free(err);
}
