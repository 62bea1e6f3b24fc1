/*
 * page-aliases - addresses that deliver to other addresses: list, add a
 * target, delete one.
 */
#include "admin-ui.h"
#include "admin.h"
#include "db.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

static void
alias_row(const char *address, const char *target, void *ctx)
{
	struct http_req *req = ((void **)ctx)[0];
	struct buf *b = ((void **)ctx)[1];

	html_printf(b, "<tr><td>%s</td><td>%s</td><td>"
	    "<form class=\"row-form\" method=\"post\" action=\"/admin/aliases\">\n", address, target);
	admin_csrf_field(req, b);
	html_printf(b, "<input type=\"hidden\" name=\"action\" value=\"del\">"
	    "<input type=\"hidden\" name=\"alias\" value=\"%s\"><input type=\"hidden\" name=\"target\" value=\"%s\">"
	    "<button class=\"danger\" type=\"submit\" aria-label=\"Delete %s to %s\">Delete</button></form></td></tr>\n",
	    address, target, address, target);
}

static void
render(struct http_req *req, struct http_resp *resp, const char *err)
{
	struct buf *b = &resp->body;
	void *ctx[2] = { req, b };
	const char *alias = err ? form_get(&req->form, "alias") : NULL;
	const char *target = err ? form_get(&req->form, "target") : NULL;

	admin_page_start(req, resp, "Aliases", "/admin/aliases");
	buf_adds(b, "<h2>Add an alias</h2>\n");
	admin_form_error(resp, err);
	buf_adds(b, "<form class=\"stack\" method=\"post\" action=\"/admin/aliases\">\n");
	admin_csrf_field(req, b);
	html_printf(b, "<input type=\"hidden\" name=\"action\" value=\"add\">\n"
	    "<label for=\"alias\">Alias address</label>\n<input id=\"alias\" name=\"alias\" required value=\"%s\">\n"
	    "<label for=\"target\">Delivers to</label>\n<input id=\"target\" name=\"target\" required value=\"%s\">\n"
	    "<p><button type=\"submit\">Add alias</button></p>\n</form>\n",
	    alias ? alias : "", target ? target : "");
	buf_adds(b, "<h2>Aliases</h2>\n<table><thead><tr><th scope=\"col\">Alias</th><th scope=\"col\">Delivers to</th>"
	    "<th scope=\"col\">Actions</th></tr></thead><tbody>\n");
	db_alias_list(httpd.rw, NULL, alias_row, ctx);
	buf_adds(b, "</tbody></table>\n");
	http_page_end(resp);
}

void
page_aliases(struct http_req *req, struct http_resp *resp)
{
	const char *action = form_get(&req->form, "action");
	const char *alias = form_get(&req->form, "alias"), *target = form_get(&req->form, "target");
	char *err = NULL;
	int r;

	if (!admin_guard(req, resp))
		return;
	if (req->method == HTTP_POST) {
		if (action && strcmp(action, "add") == 0)
			r = adm_alias_add(httpd.rw, alias ? alias : "", target ? target : "", &err);
		else if (action && strcmp(action, "del") == 0)
			r = adm_alias_del(httpd.rw, alias ? alias : "", target, &err);
		else
			r = -1, err = xstrdup("Unknown action.");
		if (r == 0)
			return admin_done(resp, "/admin/aliases", strcmp(action, "add") == 0 ? "alias-added"
			    : "alias-deleted");
		resp->status = MHD_HTTP_BAD_REQUEST;
	}
	render(req, resp, err);
	free(err);
}
