/*
 * routes - the admin side's routes (and the site's own assets).  Every
 * page under /admin/ starts with admin_guard (session.c).
 */
#include "admin-ui.h"
#include "db.h"
#include "net.h"

#include <microhttpd.h>

/* home - the admin page from the networks that may see it, else a line. */
static void
home(struct http_req *req, struct http_resp *resp)
{
	if (net_cidr_match(db_setting_str(httpd.svc.db, ST_ADMIN_NETWORKS), req->conn->peer.ip))
		return http_redirect(resp, "/admin/");
	http_page_start(resp, "onebox", NULL);
	html_printf(&resp->body, "<p>This is the mail server %s.</p>\n", httpd.svc.conf->hostname);
	http_page_end(resp);
}

const struct http_route admin_routes[] = {
	{ "/", HTTP_GET, 0, 0, home },
	{ "/admin/", HTTP_GET, 0, 0, page_dashboard },
	{ "/admin/domains", HTTP_GET | HTTP_POST, 0, 0, page_domains },
	{ "/admin/users", HTTP_GET | HTTP_POST, 0, 0, page_users },
	{ "/admin/aliases", HTTP_GET | HTTP_POST, 0, 0, page_aliases },
	{ "/admin/login", HTTP_GET | HTTP_POST, 0, 0, admin_login },
	{ "/admin/logout", HTTP_POST, 0, 0, admin_logout },
	{ "/static/onebox.css", HTTP_GET, 0, 0, asset_css },
	{ "/static/onebox.js", HTTP_GET, 0, 0, asset_js },
	{ NULL, 0, 0, 0, NULL }
};
