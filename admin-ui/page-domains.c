/*
 * page-domains - the domains onebox receives mail for: list, add, delete
 * (server/admin refuses to delete a domain that still has users or
 * aliases, and says which).  Deleting a domain is the most dangerous
 * action here, so it asks for the admin's own password again: a browser
 * left logged in is not enough.
 */
#include "admin-ui.h"
#include "admin.h"
#include "db.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

static void
domain_row(const struct db_domain *d, void *ctx)
{
	struct http_req *req = ((void **)ctx)[0];
	struct buf *b = ((void **)ctx)[1];

	html_printf(b, "<tr><td>%s</td><td>%r</td><td>%s</td><td>"
	    "<form class=\"row-form\" method=\"post\" action=\"/admin/domains\" "
	    "data-confirm=\"Delete the domain %s?\">\n", d->name, d->system ? "Unix accounts (PAM)" : "passwords",
	    d->catchall ? d->catchall : "", d->name);
	admin_csrf_field(req, b);
	html_printf(b, "<input type=\"hidden\" name=\"action\" value=\"del\">"
	    "<input type=\"hidden\" name=\"name\" value=\"%s\">"
	    "<input type=\"password\" name=\"password\" autocomplete=\"current-password\" required size=\"10\" "
	    "aria-label=\"Your password, to delete %s\" placeholder=\"your password\">"
	    "<button class=\"danger\" type=\"submit\" aria-label=\"Delete %s\">Delete</button></form></td></tr>\n",
	    d->name, d->name, d->name);
}

static void
render(struct http_req *req, struct http_resp *resp, const char *err)
{
	struct buf *b = &resp->body;
	void *ctx[2] = { req, b };
	const char *name = err ? form_get(&req->form, "name") : NULL;

	admin_page_start(req, resp, "Domains", "/admin/domains");
	buf_adds(b, "<h2>Add a domain</h2>\n");
	admin_form_error(resp, err);
	buf_adds(b, "<form class=\"stack\" method=\"post\" action=\"/admin/domains\">\n");
	admin_csrf_field(req, b);
	html_printf(b, "<input type=\"hidden\" name=\"action\" value=\"add\">\n"
	    "<label for=\"domain-name\">Domain name</label>\n"
	    "<input id=\"domain-name\" name=\"name\" required value=\"%s\"%r>\n"
	    "<p><label><input type=\"checkbox\" name=\"system\" value=\"1\"> Users log in with their Unix "
	    "account (PAM)</label></p>\n<p><button type=\"submit\">Add domain</button></p>\n</form>\n",
	    name ? name : "", err ? " aria-describedby=\"form-error\" aria-invalid=\"true\"" : "");
	buf_adds(b, "<h2>Domains</h2>\n<table><thead><tr><th scope=\"col\">Domain</th><th scope=\"col\">Logins</th>"
	    "<th scope=\"col\">Catch-all</th><th scope=\"col\">Actions</th></tr></thead><tbody>\n");
	db_domain_list(httpd.rw, domain_row, ctx);
	buf_adds(b, "</tbody></table>\n");
	http_page_end(resp);
}

/* reauth - 0 if the form holds the logged-in admin's password. */
static int
reauth(struct http_req *req, char **err_r)
{
	struct admin_req *a = req->admin;
	const char *pw = form_get(&req->form, "password");

	if (pw && pw[0] && adm_admin_check(httpd.rw, a->name, pw) == 1)
		return 0;
	*err_r = xstrdup("To delete a domain, enter your own admin password next to it.");
	return -1;
}

void
page_domains(struct http_req *req, struct http_resp *resp)
{
	const char *action = form_get(&req->form, "action"), *name = form_get(&req->form, "name");
	char *err = NULL;
	int r;

	if (!admin_guard(req, resp))
		return;
	if (req->method == HTTP_POST) {
		if (action && strcmp(action, "add") == 0)
			r = adm_domain_add(httpd.rw, name ? name : "", form_get(&req->form, "system") != NULL, &err);
		else if (action && strcmp(action, "del") == 0)
			r = reauth(req, &err) < 0 ? -1 : adm_domain_del(httpd.rw, name ? name : "", &err);
		else
			r = -1, err = xstrdup("Unknown action.");
		if (r == 0)
			return admin_done(resp, "/admin/domains", strcmp(action, "add") == 0 ? "domain-added"
			    : "domain-deleted");
		resp->status = MHD_HTTP_BAD_REQUEST;
	}
	render(req, resp, err);
	free(err);
}
