/*
 * admin - the admin pages on httpd (server/http): routes, the session
 * and CSRF checks every page goes through, and the pages themselves.
 * Every change goes through server/admin (the library the CLI uses too).
 */
#ifndef ONEBOX_ADMIN_UI_H
#define ONEBOX_ADMIN_UI_H

#include "http.h"

void asset_css(struct http_req *req, struct http_resp *resp);
void asset_js(struct http_req *req, struct http_resp *resp);

#endif
