/*
 * httpd - the HTTP process: svc_run (service.c) on http_listen and
 * https_listen, libmicrohttpd driven by the same event loop, and the
 * router.
 *
 * libmicrohttpd runs without threads and without listening sockets
 * (MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET): front.c accepts, http-conn.c
 * hands it one end of a socketpair per connection, and its epoll
 * descriptor sits in our loop; its timeouts are one ev_timer.
 *
 * A request goes: limits (header count and size, body size, method) →
 * plain HTTP redirected to HTTPS unless the route says plain_ok → the
 * route's handler → http_send (security headers).  Anything onebox itself
 * parses from the request (form bodies, the Autodiscover XML) has a
 * fuzz target in tests/fuzz.
 */
#include "http.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "str.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS 64
#define MAX_HEADER_BYTES (16 * 1024)
#define MAX_BODY (64 * 1024)
#define DRAIN_MAX (1024 * 1024)	/* an oversized body read and dropped before the 413 */
#define MAX_FORM_FIELDS 64
#define MHD_MEMORY (64 * 1024)

struct httpd httpd;

const char *
http_arg(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->mc, MHD_GET_ARGUMENT_KIND, name);
}

const char *
http_header(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->mc, MHD_HEADER_KIND, name);
}

const char *
http_cookie(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->mc, MHD_COOKIE_KIND, name);
}

void
http_run(void)
{
	MHD_UNSIGNED_LONG_LONG ms;
	struct ev_loop *loop = httpd.svc.loop;

	if (httpd.mhd == NULL)
		return;
	MHD_run(httpd.mhd);
	if (MHD_get_timeout(httpd.mhd, &ms) == MHD_YES)
		ev_timer_add(loop, &httpd.mhd_timer, ms);
	else
		ev_timer_del(loop, &httpd.mhd_timer);
}

static void
mhd_ready(int fd, int events, void *arg)
{
	http_run();
}

static void
mhd_timeout(void *arg)
{
	http_run();
}

static void
mhd_log(void *arg, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	/* TCP options on our socketpair: expected, and said on every answer */
	if (strstr(line, "TCP_NODELAY") || strstr(line, "TCP_CORK") || strstr(line, "push the data"))
		return;
	log_debug("libmicrohttpd: %s", line);
}

static void
mhd_notify(void *cls, struct MHD_Connection *mc, void **socket_context, enum MHD_ConnectionNotificationCode code)
{
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		*socket_context = httpd.adding;
	else if (*socket_context)
		http_conn_mhd_closed(*socket_context);
}

/* ---- the request ---- */

static int
count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	size_t *bytes = cls;
	*bytes += strlen(key) + strlen(value ? value : "") + 4;
	return MHD_YES;
}

/* req_limits - the status for a request over the limits, or 0. */
static int
req_limits(struct http_req *req)
{
	size_t bytes = 0;
	int n = MHD_get_connection_values(req->mc, MHD_HEADER_KIND, (MHD_KeyValueIterator)count_header, &bytes);
	const char *cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t len;

	if (n > MAX_HEADERS || bytes > MAX_HEADER_BYTES)
		return MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
	if (req->method == 0)
		return MHD_HTTP_METHOD_NOT_ALLOWED;
	if (cl && (str_to_u64(cl, &len) < 0 || len > MAX_BODY))
		return MHD_HTTP_CONTENT_TOO_LARGE;
	return 0;
}

static enum http_method
method_of(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return HTTP_GET;
	if (strcmp(m, "HEAD") == 0)
		return HTTP_HEAD;
	if (strcmp(m, "POST") == 0)
		return HTTP_POST;
	return 0;
}

/* valid_host - a Host header we may repeat in a redirect: name[:port]. */
static int
valid_host(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 255)
		return 0;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == ':' || *p == '[' || *p == ']'))
			return 0;
	return 1;
}

static int
route_match(const struct http_route *rt, const char *path)
{
	size_t n = strlen(rt->path) - 1;

	if (rt->path[n] == '*')
		return rt->nocase ? strncasecmp(path, rt->path, n) == 0 : strncmp(path, rt->path, n) == 0;
	return rt->nocase ? strcasecmp(path, rt->path) == 0 : strcmp(path, rt->path) == 0;
}

static const struct http_route *
route_find(const char *path)
{
	static const struct http_route *const tables[] = { discovery_routes, admin_routes };

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct http_route *rt = tables[t]; rt->path; rt++)
			if (route_match(rt, path))
				return rt;
	return NULL;
}

static int
add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct buf *q = cls;

	buf_addc(q, q->len ? '&' : '?');
	url_esc(q, key);
	if (value) {
		buf_addc(q, '=');
		url_esc(q, value);
	}
	return MHD_YES;
}

/* https_redirect - plain HTTP is sent to the first https_listen port,
 * with its query (libmicrohttpd gives it decoded: encoded again here). */
static int
https_redirect(struct http_req *req, struct http_resp *resp)
{
	const struct conf_list *l = &httpd.svc.conf->listen[SVC_HTTPS];
	struct buf q = BUF_INIT;
	char host[300];

	if (l->n == 0)
		return 0;
	str_lcpy(host, req->host ? req->host : httpd.svc.conf->hostname, sizeof(host));
	if (host[0] != '[')
		host[strcspn(host, ":")] = '\0';
	else
		host[strcspn(host, "]") + 1] = '\0';
	resp->status = req->method == HTTP_POST ? MHD_HTTP_PERMANENT_REDIRECT : MHD_HTTP_MOVED_PERMANENTLY;
	MHD_get_connection_values(req->mc, MHD_GET_ARGUMENT_KIND, (MHD_KeyValueIterator)add_arg, &q);
	if (l->v[0].port == 443)
		resp->location = xasprintf("https://%s%s%s", host, req->path, q.len ? q.data : "");
	else
		resp->location = xasprintf("https://%s:%d%s%s", host, l->v[0].port, req->path, q.len ? q.data : "");
	buf_free(&q);
	html_printf(&resp->body, "Moved to %s\n", resp->location);
	resp->type = "text/plain; charset=utf-8";
	return 1;
}

static void
dispatch(struct http_req *req, struct http_resp *resp)
{
	const struct http_route *rt;
	int status = req_limits(req);

	if (status)
		return http_error(resp, status, status == MHD_HTTP_METHOD_NOT_ALLOWED ?
		    "This method is not allowed here." : "The request is too large.");
	if (req->body_too_big)
		return http_error(resp, MHD_HTTP_CONTENT_TOO_LARGE, "The request is too large.");
	rt = route_find(req->path);
	if (!req->conn->https && !(rt && rt->plain_ok) && https_redirect(req, resp))
		return;
	if (rt == NULL)
		return http_error(resp, MHD_HTTP_NOT_FOUND, "There is no such page.");
	if (!(rt->methods & req->method) && !(req->method == HTTP_HEAD && (rt->methods & HTTP_GET))) {
		resp->allow = rt->methods & HTTP_GET ? (rt->methods & HTTP_POST ? "GET, HEAD, POST" : "GET, HEAD")
		    : "POST";
		return http_error(resp, MHD_HTTP_METHOD_NOT_ALLOWED, "This method is not allowed here.");
	}
	if (req->method == HTTP_POST) {
		const char *ct = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
		if (ct && str_casecmp_prefix(ct, "application/x-www-form-urlencoded") &&
		    form_parse(&req->form, buf_rptr(&req->body) ? buf_rptr(&req->body) : "",
		    req->body.len, MAX_FORM_FIELDS) < 0)
			return http_error(resp, MHD_HTTP_BAD_REQUEST, "The form could not be read.");
	}
	rt->fn(req, resp);
}

/* ---- delayed answers: the failed-login delay without blocking the loop ---- */

static void
delay_unlink(struct http_req *req)
{
	if (req->prev_delayed)
		req->prev_delayed->next_delayed = req->next_delayed;
	else
		httpd.delayed = req->next_delayed;
	if (req->next_delayed)
		req->next_delayed->prev_delayed = req->prev_delayed;
	req->next_delayed = req->prev_delayed = NULL;
	ev_timer_del(httpd.svc.loop, &req->delay);
}

static void
delay_over(void *arg)
{
	struct http_req *req = arg;

	delay_unlink(req);
	MHD_resume_connection(req->mc);
	http_run();
}

/* park - req joins the list of suspended requests (fini resumes them). */
static void
park(struct http_req *req)
{
	req->next_delayed = httpd.delayed;
	if (httpd.delayed)
		httpd.delayed->prev_delayed = req;
	httpd.delayed = req;
}

/* delay - keep resp and suspend the connection for resp->delay_ms; the
 * handler is called again when it is resumed and sends it. */
static enum MHD_Result
delay(struct http_req *req, struct http_resp *resp)
{
	req->pending = xmalloc(sizeof(*resp));
	*req->pending = *resp;
	ev_timer_init(&req->delay, delay_over, req);
	ev_timer_add(httpd.svc.loop, &req->delay, resp->delay_ms);
	park(req);
	MHD_suspend_connection(req->mc);
	return MHD_YES;
}

void
http_wait(struct http_req *req, struct http_req **waiter)
{
	req->waiting = 1;
	req->waiter = waiter;
}

void
http_answer(struct http_req *req, struct http_resp *resp)
{
	delay_unlink(req);
	req->waiting = 0;
	req->waiter = NULL;
	req->pending = xmalloc(sizeof(*resp));
	*req->pending = *resp;
	if (resp->delay_ms) {
		/* still suspended: the timer resumes it */
		ev_timer_init(&req->delay, delay_over, req);
		ev_timer_add(httpd.svc.loop, &req->delay, resp->delay_ms);
		park(req);
		return;
	}
	MHD_resume_connection(req->mc);
	http_run();
}

static void
pending_free(struct http_req *req)
{
	if (req->pending) {
		http_resp_free(req->pending);
		free(req->pending);
		req->pending = NULL;
	}
}

/* drainable - an oversized body small enough to read and drop before
 * answering 413 (DRAIN_MAX); a larger one is answered at once and cut. */
static int
drainable(struct http_req *req)
{
	const char *cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t len;

	return cl && str_to_u64(cl, &len) == 0 && len <= DRAIN_MAX;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
	struct http_req *req = *req_cls;
	struct http_resp resp = { 0 };
	const union MHD_ConnectionInfo *ci;
	int status;

	if (req == NULL) {
		ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (ci == NULL || ci->socket_context == NULL || ((struct http_conn *)ci->socket_context)->done)
			return MHD_NO;
		req = xcalloc(1, sizeof(*req));
		req->conn = ci->socket_context;
		req->mc = mc;
		req->method = method_of(method);
		req->path = url;
		*req_cls = req;
		/* refuse an oversized request before its body is read; a
		 * body of a sane size is read and dropped first (the answer
		 * comes when it is all in), so the client, still sending, gets
		 * the 413 instead of a reset connection */
		if ((status = req_limits(req)) == 0)
			return MHD_YES;
		if (status == MHD_HTTP_CONTENT_TOO_LARGE && drainable(req)) {
			req->body_too_big = 1;
			return MHD_YES;
		}
		http_error(&resp, status, "The request is too large or not allowed.");
	} else if (req->pending) {
		status = http_send(req, req->pending);
		pending_free(req);
		return status == 0 ? MHD_YES : MHD_NO;
	} else if (*upload_size) {
		if (req->body_too_big || req->body.len + *upload_size > MAX_BODY)
			req->body_too_big = 1;	/* read and dropped */
		else {
			/* all of it at once: a realloc would leave a copy of
			 * what may be a password in freed memory (req_wipe) */
			if (req->body.data == NULL)
				buf_reserve(&req->body, MAX_BODY);
			buf_add(&req->body, upload, *upload_size);
		}
		*upload_size = 0;
		return MHD_YES;
	} else {
		const char *h = http_header(req, MHD_HTTP_HEADER_HOST);
		req->path = url;
		req->host = h && valid_host(h) ? h : NULL;
		dispatch(req, &resp);
		if (req->waiting) {
			http_resp_free(&resp);
			park(req);
			MHD_suspend_connection(req->mc);
			return MHD_YES;
		}
		if (resp.delay_ms)
			return delay(req, &resp);
	}
	status = http_send(req, &resp);
	http_resp_free(&resp);
	return status == 0 ? MHD_YES : MHD_NO;
}

/* req_wipe - the body and its decoded form may hold passwords (the admin
 * login, a user's new or reset password): zeroed once the request is over,
 * before they are freed. */
static void
req_wipe(struct http_req *req)
{
	if (req->body.data != NULL)
		explicit_bzero(req->body.data, req->body.len);
	for (size_t i = 0; i < req->form.n; i++)
		if (req->form.v[i].value != NULL)
			explicit_bzero(req->form.v[i].value, strlen(req->form.v[i].value));
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **req_cls, enum MHD_RequestTerminationCode code)
{
	struct http_req *req = *req_cls;

	if (req == NULL)
		return;
	if (ev_timer_pending(&req->delay) || req->waiting)
		delay_unlink(req);
	if (req->waiter)
		*req->waiter = NULL;
	pending_free(req);
	req_wipe(req);
	form_free(&req->form);
	buf_free(&req->body);
	free(req->admin);
	free(req);
	*req_cls = NULL;
}

/* ---- the service ---- */

static void
httpd_init(struct service *svc)
{
	const union MHD_DaemonInfo *di;
	const char *err;

	if (db_open(svc->env->db_path, DB_READWRITE, &httpd.rw, &err) < 0)
		fatalx("httpd: %s: %s", svc->env->db_path, err);
	ev_timer_init(&httpd.mhd_timer, mhd_timeout, NULL);
	httpd.jobs = jobs_new(svc->loop, 2);
	httpd.mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME,
	    0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MHD_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)db_setting_int(svc->db, ST_HTTP_IDLE_TIMEOUT),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, mhd_notify, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_END);
	if (httpd.mhd == NULL)
		fatalx("httpd: libmicrohttpd did not start");
	di = MHD_get_daemon_info(httpd.mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || ev_io_set(svc->loop, di->epoll_fd, EV_READ, mhd_ready, NULL) < 0)
		fatalx("httpd: libmicrohttpd's epoll descriptor");
}

/* httpd_stop - HTTP has no goodbye: a request in progress is short and a
 * browser reconnects an idle keep-alive connection by itself, so the loop
 * ends at once and fini closes what is open. */
static void
httpd_stop(struct service *svc, int now)
{
	ev_stop(svc->loop);
}

static void
httpd_fini(struct service *svc)
{
	/* libmicrohttpd must not be stopped with suspended connections */
	while (httpd.delayed) {
		struct http_req *req = httpd.delayed;
		delay_unlink(req);
		req->waiting = 0;	/* its job, if any, is told by on_completed */
		MHD_resume_connection(req->mc);
	}
	MHD_stop_daemon(httpd.mhd);
	httpd.mhd = NULL;
	db_close(&httpd.rw);
}

static const struct service_def httpd_def = {
	.name = "httpd",
	.proto = "http",
	.listeners = 1u << SVC_HTTP | 1u << SVC_HTTPS,
	.refuse_prefix = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
	    "Connection: close\r\n\r\n",
	.limit_total = ST_HTTP_MAX_CONNECTIONS,
	.limit_per_ip = ST_HTTP_MAX_CONNECTIONS_PER_IP,
	.start = http_conn_start,
	.init = httpd_init,
	.stop = httpd_stop,
	.fini = httpd_fini,
};

int
httpd_main(struct svc_env *env)
{
	return svc_run(env, &httpd_def, &httpd.svc);
}
