/*
 * assets - the style sheet and the script, compiled into oneboxd
 * (.incbin of admin-ui/static/), so that nothing is fetched from another
 * origin and an installed onebox cannot serve a stale copy.
 */
#include "admin-ui.h"

#include <microhttpd.h>

__asm__(".section .rodata\n"
    ".global onebox_css\n.global onebox_css_end\n"
    "onebox_css:\n.incbin \"admin-ui/static/onebox.css\"\nonebox_css_end:\n"
    ".global onebox_js\n.global onebox_js_end\n"
    "onebox_js:\n.incbin \"admin-ui/static/onebox.js\"\nonebox_js_end:\n"
    ".previous\n");
extern const char onebox_css[], onebox_css_end[], onebox_js[], onebox_js_end[];

static void
asset(struct http_resp *resp, const char *type, const char *start, const char *end)
{
	resp->type = type;
	resp->cacheable = 1;
	buf_add(&resp->body, start, (size_t)(end - start));
}

void
asset_css(struct http_req *req, struct http_resp *resp)
{
	asset(resp, "text/css; charset=utf-8", onebox_css, onebox_css_end);
}

void
asset_js(struct http_req *req, struct http_resp *resp)
{
	asset(resp, "text/javascript; charset=utf-8", onebox_js, onebox_js_end);
}
