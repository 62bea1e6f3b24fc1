/*
 * http - onebox's HTTP service (httpd): what a page handler sees.
 *
 * httpd terminates TLS itself (OpenSSL, the same SSL_CTX as SMTP and
 * POP3) and hands every connection, plain or decrypted, to libmicrohttpd
 * over a socketpair (http-conn.c); libmicrohttpd parses HTTP and calls
 * the router (httpd.c), which calls one handler per route.  A handler
 * fills a struct http_resp; the security headers, the error pages and the
 * redirect to HTTPS are added in one place (http-resp.c), so no page can
 * forget them.
 *
 * Handlers run in the event loop: they must not block (a DB query is
 * fine; a DNS lookup is not).
 */
#ifndef ONEBOX_HTTP_H
#define ONEBOX_HTTP_H

#include "buf.h"
#include "front.h"
#include "html.h"
#include "service.h"

#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;
struct io;

/* http_conn - one client connection (the outer socket, TLS or not). */
struct http_conn {
	uint64_t id;
	struct front_peer peer;
	int https;
	struct io *client;	/* the client's socket (TLS here when https) */
	struct io *inner;	/* our end of the socketpair to libmicrohttpd */
	int client_paused, inner_paused;
	struct ev_timer life;
	/* freed when both are over: our side (done) and libmicrohttpd's
	 * (mhd_open cleared by its close notification) */
	int done, mhd_open;
};

enum http_method { HTTP_GET = 1, HTTP_HEAD = 2, HTTP_POST = 4 };

struct http_req {
	struct http_conn *conn;
	struct MHD_Connection *mc;
	enum http_method method;
	const char *path;	/* decoded by libmicrohttpd, without the query */
	const char *host;	/* the Host header if it is a plain host[:port], else NULL */
	struct buf body;
	int body_too_big;
	struct form form;	/* the POST form, parsed before the handler runs */
	void *admin;		/* admin-ui's per-request state (the session) */
	/* a delayed answer (resp->delay_ms): the connection is suspended
	 * until the timer, then pending is sent */
	struct http_resp *pending;
	struct ev_timer delay;
	struct http_req *next_delayed, *prev_delayed;
	/* a handler that called http_wait: the connection is suspended until
	 * http_answer; *waiter (the job's pointer to req) is set to NULL if
	 * the request ends before, so the job's done() only cleans up */
	int waiting;
	struct http_req **waiter;
};

struct http_resp {
	int status;
	const char *type;	/* Content-Type; NULL: text/html; charset=utf-8 */
	struct buf body;
	char *location;		/* malloc'd, for redirects */
	char *cookie;		/* malloc'd Set-Cookie value */
	char *disposition;	/* malloc'd Content-Disposition */
	int cacheable;		/* static asset: may be cached; else no-store */
	const char *allow;	/* the Allow header of a 405 */
	uint64_t delay_ms;	/* answer only after this long (a failed login) */
};

/* A route: one path (or a prefix, written with a '*' at its end), the
 * methods it takes. */
struct http_route {
	const char *path;
	unsigned methods;	/* HTTP_GET | HTTP_POST ... (GET implies HEAD) */
	int plain_ok;		/* answered over plain HTTP too (autoconfig) */
	int nocase;		/* path compared without case (Autodiscover) */
	void (*fn)(struct http_req *req, struct http_resp *resp);
};

/* the route tables, each ended by a NULL path */
extern const struct http_route discovery_routes[];
extern const struct http_route admin_routes[];

/* The running httpd (svc_run's service, then its own parts). */
struct httpd {
	struct service svc;
	struct MHD_Daemon *mhd;
	struct ev_timer mhd_timer;
	struct http_conn *adding;	/* the conn being handed to libmicrohttpd */
	struct db *rw;			/* the admin's read-write DB handle */
	struct http_req *delayed;	/* requests waiting for their delay_ms or a job */
	struct jobs *jobs;		/* worker threads (the admin password check) */
};
extern struct httpd httpd;

/* http_arg - a query argument (decoded), or NULL. */
const char *http_arg(struct http_req *req, const char *name);
/* http_header - a request header, or NULL. */
const char *http_header(struct http_req *req, const char *name);
/* http_cookie - a request cookie, or NULL. */
const char *http_cookie(struct http_req *req, const char *name);

/* http_error - an error page: status and one sentence (escaped). */
void http_error(struct http_resp *resp, int status, const char *msg);
/* http_redirect - 303 See Other to a path of ours (POST, then GET). */
void http_redirect(struct http_resp *resp, const char *path);
/* http_page_start/end - the HTML frame of every page: title escaped. */
void http_page_start(struct http_resp *resp, const char *title, const char *nav);
void http_page_end(struct http_resp *resp);

/* http-conn.c: the proxy between the client and libmicrohttpd */
void http_conn_start(struct service *svc, int fd, const struct front_peer *peer);
/* http_conn_mhd_closed - libmicrohttpd closed its end of c. */
void http_conn_mhd_closed(struct http_conn *c);
/* http_wait - in a handler: the answer comes later, from work done in a
 * job (httpd.jobs); the connection is suspended and the handler's resp is
 * dropped.  *waiter points to req until the request ends; then it is set
 * to NULL.  http_answer - that later answer (in the loop thread): resp is
 * taken over (its delay_ms still applies) and the connection resumed. */
void http_wait(struct http_req *req, struct http_req **waiter);
void http_answer(struct http_req *req, struct http_resp *resp);
/* http_run - let libmicrohttpd work, then re-arm its timer. */
void http_run(void);

/* http-resp.c */
/* http_send - queue resp on req's connection with the security headers. */
int http_send(struct http_req *req, struct http_resp *resp);
void http_resp_free(struct http_resp *resp);

#endif
