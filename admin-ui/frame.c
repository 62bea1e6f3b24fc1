/*
 * frame - what every admin page shares: the navigation (with the logout
 * form), the notices after an action, and how an action ends.
 *
 * After a successful POST the browser is sent back (303) to the page with
 * ?ok=CODE, and the page shows the fixed sentence for CODE: nothing from
 * the URL is ever shown, so a crafted link cannot put words on the admin
 * page.  A failed action is answered at once with the page, status 400,
 * and the error next to the form (role="alert" for screen readers).
 */
#include "admin-ui.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *code, *text;
} notices[] = {
	{ "domain-added", "The domain was added." },
	{ "domain-deleted", "The domain was deleted." },
	{ "user-added", "The user was added." },
	{ "password-set", "The password was changed." },
	{ "quota-set", "The quota was changed." },
	{ "user-enabled", "The user was enabled." },
	{ "user-disabled", "The user was disabled." },
	{ "alias-added", "The alias was added." },
	{ "alias-deleted", "The alias was deleted." },
};

static const struct {
	const char *path, *label;
} nav[] = {
	{ "/admin/", "Dashboard" },
	{ "/admin/domains", "Domains" },
	{ "/admin/users", "Users" },
	{ "/admin/aliases", "Aliases" },
};

void
admin_page_start(struct http_req *req, struct http_resp *resp, const char *title, const char *current)
{
	struct admin_req *a = req->admin;
	struct buf n = BUF_INIT;

	buf_adds(&n, "<header class=\"nav\"><nav aria-label=\"Admin\"><ul>\n");
	for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++)
		html_printf(&n, "<li><a href=\"%s\"%r>%s</a></li>\n", nav[i].path,
		    strcmp(nav[i].path, current) == 0 ? " aria-current=\"page\"" : "", nav[i].label);
	html_printf(&n, "<li><form method=\"post\" action=\"/admin/logout\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	    "<button type=\"submit\">Log out %s</button></form></li>\n</ul></nav></header>\n",
	    a->csrf, a->name);
	http_page_start(resp, title, n.data);
	buf_free(&n);
	admin_flash(req, resp);
}

void
admin_form_error(struct http_resp *resp, const char *err)
{
	if (err)
		html_printf(&resp->body, "<p class=\"error\" role=\"alert\" id=\"form-error\">%s</p>\n", err);
}

void
admin_flash(struct http_req *req, struct http_resp *resp)
{
	const char *ok = http_arg(req, "ok");

	for (size_t i = 0; ok && i < sizeof(notices) / sizeof(notices[0]); i++)
		if (strcmp(ok, notices[i].code) == 0)
			html_printf(&resp->body, "<p class=\"notice\" role=\"status\">%s</p>\n", notices[i].text);
}

void
admin_done(struct http_resp *resp, const char *path, const char *ok)
{
	char *to = xasprintf("%s?ok=%s", path, ok);
	http_redirect(resp, to);
	free(to);
}
