/*
 * routes - the admin side's routes (and the site's own assets).
 */
#include "admin.h"

#include <microhttpd.h>

static void
home(struct http_req *req, struct http_resp *resp)
{
	http_page_start(resp, "onebox", NULL);
	html_printf(&resp->body, "<p>This is the mail server %s.</p>\n", httpd.svc.conf->hostname);
	http_page_end(resp);
}

const struct http_route admin_routes[] = {
	{ "/", HTTP_GET, 0, 0, home },
	{ "/static/onebox.css", HTTP_GET, 0, 0, asset_css },
	{ "/static/onebox.js", HTTP_GET, 0, 0, asset_js },
	{ NULL, 0, 0, 0, NULL }
};
