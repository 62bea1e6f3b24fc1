/*
 * io - buffered non-blocking connection, plain or TLS.
 *
 * Plain and TLS share one path: io_rd() and io_wr() are the only places
 * that touch the socket.  With TLS, OpenSSL may need to write in order to
 * read (and the reverse), so on every wake-up both directions are tried.
 */
#include "io.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>

#define IO_READ_CHUNK 16384
#define IO_DEFAULT_MAX_IN (256 * 1024)

static void io_event(int fd, int events, void *arg);
static void io_update(struct io *io);
static int io_rd(struct io *io);
static int io_wr(struct io *io);

static void
io_timeout(void *arg)
{
	struct io *io = arg;
	io->in_cb++;
	io->cb(io, IO_TIMEOUT, io->arg);
	io->in_cb--;
	if (io->want_free && io->in_cb == 0) {
		struct io *p = io;
		io->want_free = 0;
		io_free(&p);
	}
}

struct io *
io_new(struct ev_loop *loop, int fd, io_cb *cb, void *arg)
{
	struct io *io = xcalloc(1, sizeof(*io));
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	io->loop = loop;
	io->fd = fd;
	io->cb = cb;
	io->arg = arg;
	io->max_in = IO_DEFAULT_MAX_IN;
	ev_timer_init(&io->timer, io_timeout, io);
	if (ev_io_set(loop, fd, EV_READ, io_event, io) < 0)
		log_warn("io_new: epoll");
	return io;
}

void
io_free(struct io **iop)
{
	struct io *io = *iop;
	if (io == NULL)
		return;
	*iop = NULL;
	if (io->in_cb) {
		io->want_free = 1;
		io->dead = 1;
		return;
	}
	ev_timer_del(io->loop, &io->timer);
	ev_io_del(io->loop, io->fd);
	if (io->ssl) {
		if (io->tls_state == IO_TLS_UP && !io->error)
			SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
	}
	close(io->fd);
	buf_free(&io->in);
	buf_free(&io->out);
	free(io);
}

void
io_flush(struct io *io)
{
	if (io->dead || io->closing || io->tls_state == IO_TLS_HANDSHAKE || io->tls_pending || buf_unread(&io->out) == 0)
		return;
	/* on an error the data stays queued: the loop's next write reports it */
	(void)io_wr(io);
	io_update(io);
}

size_t
io_pending_out(struct io *io)
{
	return buf_unread(&io->out);
}

void
io_write(struct io *io, const void *data, size_t len)
{
	if (io->dead)
		return;
	buf_add(&io->out, data, len);
	io_update(io);
}

void
io_vreply(struct io *io, uint64_t sid, const char *proto, const char *fmt, va_list ap)
{
	size_t start;

	if (io->dead)
		return;
	start = io->out.len;
	buf_vprintf(&io->out, fmt, ap);
	if (log_getlevel() >= LOG_LVL_DEBUG)
		log_debug("%016llx %s reply \"%.*s\"", (unsigned long long)sid, proto,
		    (int)(io->out.len - start), io->out.data + start);
	buf_add(&io->out, "\r\n", 2);
	io_update(io);
}

void
io_flush_close(struct io *io)
{
	io->closing = 1;
	io_update(io);
}

void
io_set_timeout(struct io *io, uint64_t ms)
{
	io->timeout_ms = ms;
	if (ms)
		ev_timer_add(io->loop, &io->timer, ms);
	else
		ev_timer_del(io->loop, &io->timer);
}

void
io_pause_read(struct io *io)
{
	io->paused = 1;
	io_update(io);
}

void
io_resume_read(struct io *io)
{
	io->paused = 0;
	/* Decrypted bytes held inside OpenSSL do not wake epoll: pull them in;
	 * the owner looks at io->in after resuming anyway. */
	if (io->ssl && io->tls_state == IO_TLS_UP && SSL_pending(io->ssl) > 0)
		io_rd(io);
	io_update(io);
}

void
io_rearm(struct io *io)
{
	io_update(io);
}

int
io_getline(struct io *io, size_t max, char **line_r, size_t *len_r)
{
	if (io->line_used)
		io_line_done(io);
	char *start = buf_rptr(&io->in);
	size_t avail = buf_unread(&io->in);
	if (avail == 0)
		return 0;
	char *lf = memchr(start, '\n', avail > max ? max : avail);
	if (lf == NULL)
		return avail >= max ? -1 : 0;
	size_t len = lf - start;
	io->line_used = len + 1;
	if (len && start[len - 1] == '\r')
		len--;
	start[len] = '\0';
	*line_r = start;
	*len_r = len;
	return 1;
}

void
io_line_done(struct io *io)
{
	buf_consume(&io->in, io->line_used);
	io->line_used = 0;
}

int
io_skip_line(struct io *io)
{
	char *start = buf_rptr(&io->in);
	if (buf_unread(&io->in) == 0)
		return 0;
	char *lf = memchr(start, '\n', buf_unread(&io->in));
	if (lf == NULL) {
		buf_consume(&io->in, buf_unread(&io->in));
		return 0;
	}
	buf_consume(&io->in, lf - start + 1);
	return 1;
}

int
io_starttls(struct io *io, SSL_CTX *ctx)
{
	/* The plaintext reply ("220 Ready to start TLS") must leave first. */
	if (io_wr(io) < 0)
		return -1;
	if (buf_unread(&io->out)) {
		io->tls_pending = ctx;
		io_update(io);
		return 0;
	}
	io->ssl = SSL_new(ctx);
	if (io->ssl == NULL || SSL_set_fd(io->ssl, io->fd) != 1)
		return -1;
	SSL_set_accept_state(io->ssl);
	io->tls_state = IO_TLS_HANDSHAKE;
	/* Anything the client pipelined after STARTTLS must be discarded
	 * (RFC 3207 §4.2: a command injection defence). */
	buf_reset(&io->in);
	io->line_used = 0;
	io_update(io);
	return 0;
}

int
io_starttls_client(struct io *io, SSL_CTX *ctx, const char *sni)
{
	io->ssl = SSL_new(ctx);
	if (io->ssl == NULL || SSL_set_fd(io->ssl, io->fd) != 1)
		return -1;
	SSL_set_connect_state(io->ssl);
	if (sni && *sni)
		SSL_set_tlsext_host_name(io->ssl, sni);
	io->tls_state = IO_TLS_HANDSHAKE;
	io->hs_want = EV_WRITE;		/* the client speaks first */
	/* whatever the server sent before the handshake is not trusted
	 * (RFC 3207 §4.2, the client side of the injection defence) */
	buf_reset(&io->in);
	io->line_used = 0;
	io_update(io);
	return 0;
}

/* io_rd - read what is available; 1 data, 0 nothing yet, -1 closed/error. */
static int
io_rd(struct io *io)
{
	int got = 0;

	while (buf_unread(&io->in) < io->max_in && !io->eof) {
		buf_reserve(&io->in, IO_READ_CHUNK);
		char *p = io->in.data + io->in.len;
		ssize_t n;
		if (io->ssl) {
			ERR_clear_error();
			int r = SSL_read(io->ssl, p, IO_READ_CHUNK);
			if (r <= 0) {
				int e = SSL_get_error(io->ssl, r);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					break;
				io->eof = 1;
				if (e != SSL_ERROR_ZERO_RETURN)
					io->error = "TLS read error";
				break;
			}
			n = r;
		} else {
			n = read(io->fd, p, IO_READ_CHUNK);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				io->eof = 1;
				io->error = "read error";
				break;
			}
			if (n == 0) {
				io->eof = 1;
				break;
			}
		}
		io->in.len += n;
		io->in.data[io->in.len] = '\0';
		io->bytes_in += n;
		got = 1;
	}
	return got;
}

/* io_wr - send queued output; 0 ok (maybe partial), -1 error. */
static int
io_wr(struct io *io)
{
	while (buf_unread(&io->out)) {
		size_t len = buf_unread(&io->out);
		ssize_t n;
		if (io->ssl) {
			ERR_clear_error();
			int r = SSL_write(io->ssl, buf_rptr(&io->out), len > INT32_MAX ? INT32_MAX : (int)len);
			if (r <= 0) {
				int e = SSL_get_error(io->ssl, r);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					return 0;
				io->error = "TLS write error";
				return -1;
			}
			n = r;
		} else {
			n = send(io->fd, buf_rptr(&io->out), len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return 0;
				io->error = "write error";
				return -1;
			}
		}
		buf_consume(&io->out, n);
		io->bytes_out += n;
	}
	return 0;
}

/* io_wants_read - 1 if the next wake-up would read the socket. */
static int
io_wants_read(const struct io *io)
{
	return !io->paused && !io->closing && !io->eof && !io->tls_pending && buf_unread(&io->in) < io->max_in;
}

static void
io_update(struct io *io)
{
	int ev = 0;
	if (io->dead)
		return;
	if (io->tls_state == IO_TLS_HANDSHAKE) {
		ev_io_mod(io->loop, io->fd, io->hs_want ? io->hs_want : EV_READ);
		return;
	}
	if (io_wants_read(io))
		ev |= EV_READ;
	if (buf_unread(&io->out))
		ev |= EV_WRITE;
	/* a half-closed peer: come back once to report IO_CLOSED (io_event) */
	if (io->eof && !io->paused)
		ev |= EV_WRITE;
	ev_io_mod(io->loop, io->fd, ev);
}

/* io_fire - call the owner; returns -1 if the io was freed meanwhile. */
static int
io_fire(struct io *io, enum io_event e)
{
	io->in_cb++;
	io->cb(io, e, io->arg);
	io->in_cb--;
	if (io->want_free) {
		if (io->in_cb == 0) {
			struct io *p = io;
			io->want_free = 0;
			io_free(&p);
		}
		return -1;
	}
	return 0;
}

/* io_handshake - 1 done, 0 in progress, -1 closed (the io may be freed:
 * do not touch it). */
static int
io_handshake(struct io *io)
{
	ERR_clear_error();
	int r = SSL_do_handshake(io->ssl);
	if (r == 1) {
		io->tls_state = IO_TLS_UP;
		return io_fire(io, IO_TLSREADY) < 0 ? -1 : 1;
	}
	int e = SSL_get_error(io->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		/* wait for exactly that: the socket is nearly always writable,
		 * so asking for both would spin */
		io->hs_want = e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE;
		return 0;
	}
	io->error = "TLS handshake failed";
	io->eof = 1;
	io->dead = 1;
	io_fire(io, IO_CLOSED);
	return -1;
}

/* io_hangup - epoll said error or hang-up (EPOLLERR/EPOLLHUP, reported
 * whatever events were asked for): the peer reset the connection or both
 * directions are shut, so nothing queued can reach it any more.  Report
 * IO_CLOSED now, even to a paused owner: epoll would say it again on every
 * wait, and a paused io that never reads would spin.  (A half-closed peer
 * that only sent FIN gets no EPOLLHUP; its answers still go out.) */
static void
io_hangup(struct io *io)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == ECONNRESET)
		io->error = "connection reset by peer";
	else
		io->error = "connection lost";
	io->eof = 1;
	io->dead = 1;
	io_fire(io, IO_CLOSED);
}

static void
io_event(int fd, int events, void *arg)
{
	struct io *io = arg;
	int had_out = buf_unread(&io->out) > 0;

	if (io->dead)
		return;
	/* Reading would see the error (or the last bytes, then EOF) itself;
	 * an io that is not reading must be told here. */
	if ((events & EV_ERROR) && io->tls_state != IO_TLS_HANDSHAKE && !io_wants_read(io)) {
		io_hangup(io);
		return;
	}
	if (io->tls_state == IO_TLS_HANDSHAKE) {
		int r = io_handshake(io);
		if (r < 0)
			return;
		if (r == 0 || io->dead) {
			if (!io->dead)
				io_update(io);
			return;
		}
	}
	if (io_wr(io) < 0) {
		io->dead = 1;
		io_fire(io, IO_CLOSED);
		return;
	}
	if (io->tls_pending && buf_unread(&io->out) == 0) {
		SSL_CTX *ctx = io->tls_pending;
		io->tls_pending = NULL;
		if (io_starttls(io, ctx) < 0) {
			io->dead = 1;
			io->error = "TLS setup failed";
			io_fire(io, IO_CLOSED);
		}
		return;
	}
	if (buf_unread(&io->out) == 0 && io->closing) {
		io->dead = 1;
		io_fire(io, IO_CLOSED);
		return;
	}
	if (had_out && buf_unread(&io->out) == 0 && io_fire(io, IO_LOWAT) < 0)
		return;
	if (!io->paused && !io->closing && (events & EV_READ)) {
		if (io_rd(io) > 0) {
			if (io->timeout_ms)
				ev_timer_add(io->loop, &io->timer, io->timeout_ms);
			if (io_fire(io, IO_DATAIN) < 0)
				return;
			/* send the replies now rather than after another epoll round */
			int had = buf_unread(&io->out) > 0;
			if (!io->dead && io->tls_state != IO_TLS_HANDSHAKE && !io->tls_pending && io_wr(io) < 0) {
				io->dead = 1;
				io_fire(io, IO_CLOSED);
				return;
			}
			if (had && !io->dead && !io->closing && buf_unread(&io->out) == 0 &&
			    io_fire(io, IO_LOWAT) < 0)
				return;
			if (!io->dead && io->closing && buf_unread(&io->out) == 0) {
				io->dead = 1;
				io_fire(io, IO_CLOSED);
				return;
			}
		}
	}
	/* EOF is reported once the owner has taken what it could and the
	 * replies are out (a half-closed client still gets its answers). */
	if (io->eof && !io->dead && !io->paused && buf_unread(&io->out) == 0) {
		io->dead = 1;
		io_fire(io, IO_CLOSED);
		return;
	}
	io_update(io);
}
