/*
 * http-resp - every response leaves through http_send, which adds the
 * security headers; error pages and the page frame are built here.
 *
 * The Content-Security-Policy allows nothing but our own style sheet,
 * script file and images (no inline script or style, no other origin, no
 * framing, forms posted only to us).  HSTS only on HTTPS: over plain HTTP
 * a browser ignores it, and the admin may still be setting TLS up.
 */
#include "http.h"
#include "log.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " \
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static const char *
reason(int status)
{
	const char *r = MHD_get_reason_phrase_for((unsigned)status);
	return r && r[0] ? r : "Error";
}

void
http_page_start(struct http_resp *resp, const char *title, const char *nav)
{
	html_printf(&resp->body, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>%s - onebox</title>\n<link rel=\"stylesheet\" href=\"/static/onebox.css\">\n"
	    "<script src=\"/static/onebox.js\" defer></script>\n</head><body>\n"
	    "<a class=\"skip\" href=\"#main\">Skip to content</a>\n%r<main id=\"main\">\n<h1>%s</h1>\n",
	    title, nav ? nav : "", title);
}

void
http_page_end(struct http_resp *resp)
{
	buf_adds(&resp->body, "</main>\n</body></html>\n");
}

void
http_error(struct http_resp *resp, int status, const char *msg)
{
	char title[64];

	buf_reset(&resp->body);
	resp->status = status;
	resp->type = NULL;
	snprintf(title, sizeof(title), "%d %s", status, reason(status));
	http_page_start(resp, title, NULL);
	html_printf(&resp->body, "<p>%s</p>\n", msg);
	http_page_end(resp);
}

void
http_redirect(struct http_resp *resp, const char *path)
{
	resp->status = MHD_HTTP_SEE_OTHER;
	free(resp->location);
	resp->location = xstrdup(path);
	resp->type = "text/plain; charset=utf-8";
	buf_reset(&resp->body);
	html_printf(&resp->body, "See %s\n", path);
}

static void
add(struct MHD_Response *r, const char *name, const char *value)
{
	if (MHD_add_response_header(r, name, value) != MHD_YES)
		log_warnx("http: cannot add header %s", name);
}

int
http_send(struct http_req *req, struct http_resp *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (resp->status == 0)
		resp->status = MHD_HTTP_OK;
	r = MHD_create_response_from_buffer(resp->body.len, resp->body.data ? resp->body.data : "",
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return -1;
	add(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->type ? resp->type : "text/html; charset=utf-8");
	add(r, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, CSP);
	add(r, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS, "nosniff");
	add(r, "Referrer-Policy", "no-referrer");
	add(r, MHD_HTTP_HEADER_X_FRAME_OPTIONS, "DENY");
	add(r, "Cross-Origin-Opener-Policy", "same-origin");
	add(r, MHD_HTTP_HEADER_CACHE_CONTROL, resp->cacheable ? "public, max-age=3600" : "no-store");
	if (req->conn->https)
		add(r, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY, "max-age=31536000");
	if (resp->location)
		add(r, MHD_HTTP_HEADER_LOCATION, resp->location);
	if (resp->cookie)
		add(r, MHD_HTTP_HEADER_SET_COOKIE, resp->cookie);
	if (resp->allow)
		add(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (resp->disposition)
		add(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, resp->disposition);
	if (resp->status >= 400 && resp->status != MHD_HTTP_NOT_FOUND)
		add(r, MHD_HTTP_HEADER_CONNECTION, "close");
	log_info("%016llx http request method=%s path=\"%.200s\" status=%d", (unsigned long long)req->conn->id,
	    req->method == HTTP_POST ? "POST" : req->method == HTTP_HEAD ? "HEAD" :
	    req->method == HTTP_GET ? "GET" : "other", req->path, resp->status);
	ret = MHD_queue_response(req->mc, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret == MHD_YES ? 0 : -1;
}

void
http_resp_free(struct http_resp *resp)
{
	buf_free(&resp->body);
	free(resp->location);
	free(resp->cookie);
	free(resp->disposition);
}
