/*
 * http-conn - each client connection of httpd: TLS (or not) on the
 * client's socket, plain HTTP on a socketpair whose other end belongs to
 * libmicrohttpd, and the bytes copied both ways by the event loop.
 *
 * Why a socketpair: Debian's libmicrohttpd speaks TLS only through GnuTLS,
 * which would be a second TLS stack with its own configuration and its own
 * copy of the private key (ARCHITECTURE.md, "Where the TLS private key
 * lives").  Terminating TLS here keeps one SSL_CTX for SMTP, POP3 and
 * HTTPS, reloaded with them on SIGHUP, and lets the connection limits,
 * the idle timeout and the total lifetime live in onebox's code (front.c
 * and the timers below), the same for plain HTTP and HTTPS.
 *
 * Back-pressure: each side stops reading while the other side's queue
 * holds more than PROXY_HIGH bytes, and reads again when it has drained.
 */
#include "http.h"
#include "db.h"
#include "io.h"
#include "log.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROXY_HIGH (256 * 1024)

static uint64_t conn_counter;

static void
conn_free(struct http_conn *c)
{
	struct service *svc = &httpd.svc;

	ev_timer_del(svc->loop, &c->life);
	log_info("%016llx http disconnect address=%s", (unsigned long long)c->id, c->peer.ip);
	io_free(&c->client);
	io_free(&c->inner);
	front_closed(svc->front, c->peer.ip);
	c->done = 1;
	if (!c->mhd_open)
		free(c);
	http_run();
}

void
http_conn_mhd_closed(struct http_conn *c)
{
	c->mhd_open = 0;
	if (c->done)
		free(c);
}

/* relay - move what arrived on from into to; pause from when to is full. */
static void
relay(struct io *from, struct io *to, int *from_paused)
{
	size_t n = buf_unread(&from->in);

	if (n) {
		io_write(to, buf_rptr(&from->in), n);
		buf_consume(&from->in, n);
	}
	if (io_pending_out(to) > PROXY_HIGH && !*from_paused) {
		*from_paused = 1;
		io_pause_read(from);
	}
}

static void
drained(struct io *other, int *other_paused)
{
	if (*other_paused) {
		*other_paused = 0;
		io_resume_read(other);
	}
}

static void
client_cb(struct io *io, enum io_event ev, void *arg)
{
	struct http_conn *c = arg;

	switch (ev) {
	case IO_DATAIN:
		relay(c->client, c->inner, &c->client_paused);
		break;
	case IO_LOWAT:
		drained(c->inner, &c->inner_paused);
		break;
	case IO_TLSREADY:
		break;
	case IO_TIMEOUT:
	case IO_CLOSED:
		conn_free(c);
		return;
	}
	http_run();
}

static void
inner_cb(struct io *io, enum io_event ev, void *arg)
{
	struct http_conn *c = arg;

	switch (ev) {
	case IO_DATAIN:
		relay(c->inner, c->client, &c->inner_paused);
		break;
	case IO_LOWAT:
		drained(c->client, &c->client_paused);
		break;
	case IO_TLSREADY:
	case IO_TIMEOUT:
		break;
	case IO_CLOSED:
		/* libmicrohttpd closed: send what it said, then close the client */
		io_free(&c->inner);
		if (io_pending_out(c->client))
			io_flush_close(c->client);
		else
			conn_free(c);
		return;
	}
}

static void
conn_life_over(void *arg)
{
	struct http_conn *c = arg;

	log_info("%016llx http connection lifetime over", (unsigned long long)c->id);
	conn_free(c);
}

void
http_conn_start(struct service *svc, int fd, const struct front_peer *peer)
{
	struct http_conn *c = xcalloc(1, sizeof(*c));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int sv[2];

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("http connection");
		close(fd);
		free(c);
		return;
	}
	c->id = ((uint64_t)getpid() << 32) | ++conn_counter;
	c->peer = *peer;
	c->https = conf_service_implicit_tls(peer->svc);
	front_opened(svc->front, peer->ip);
	log_info("%016llx http connect address=%s port=%d local=%s:%d service=%s", (unsigned long long)c->id,
	    peer->ip, peer->port, peer->local_ip, peer->local_port, conf_service_key(peer->svc));
	c->client = io_new(svc->loop, fd, client_cb, c);
	io_set_timeout(c->client, (uint64_t)db_setting_int(svc->db, ST_HTTP_IDLE_TIMEOUT) * 1000);
	c->inner = io_new(svc->loop, sv[0], inner_cb, c);
	ev_timer_init(&c->life, conn_life_over, c);
	ev_timer_add(svc->loop, &c->life, (uint64_t)db_setting_int(svc->db, ST_HTTP_CONNECTION_LIFETIME) * 1000);
	if (c->https && (svc->tls == NULL || io_starttls(c->client, svc->tls) < 0)) {
		close(sv[1]);
		conn_free(c);
		return;
	}
	/* the notify callback (httpd.c) takes c as the socket's context */
	httpd.adding = c;
	c->mhd_open = 1;
	if (MHD_add_connection(httpd.mhd, sv[1], (struct sockaddr *)&ss, sl) != MHD_YES) {
		log_warn("%016llx http: libmicrohttpd refused the connection", (unsigned long long)c->id);
		httpd.adding = NULL;
		c->mhd_open = 0;
		conn_free(c);
		return;
	}
	httpd.adding = NULL;
	http_run();
}
