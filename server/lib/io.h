/*
 * io - a non-blocking network connection with optional TLS, an input
 * buffer with a bounded line reader, and an output queue.
 *
 * The owner gets one callback, cb(conn, event, arg):
 *   IO_DATAIN   new bytes are in conn->in (read them with io_getline or
 *               directly, then buf_consume)
 *   IO_LOWAT    the output queue was flushed
 *   IO_TLSREADY the TLS handshake finished
 *   IO_TIMEOUT  nothing was read for the idle time set with io_set_timeout
 *   IO_CLOSED   the peer closed or an error happened (conn->error says which);
 *               the owner must io_free() the conn (now or later)
 * A callback may io_free() its conn; it must then return at once.
 *
 * Reading can be paused (io_pause_read) while the owner waits for a slow
 * operation, which keeps a pipelining client from growing the buffer.
 * A peer that half-closes (EOF) is reported IO_CLOSED only once the owner
 * is not paused and the output has gone: a client that sends its last
 * command and shuts down its side still gets the answer.  A reset or a
 * hang-up (nothing can reach the peer any more) is reported IO_CLOSED at
 * once, paused or not.
 */
#ifndef ONEBOX_IO_H
#define ONEBOX_IO_H

#include "buf.h"
#include "ev.h"

#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdint.h>

enum io_event { IO_DATAIN, IO_LOWAT, IO_TLSREADY, IO_TIMEOUT, IO_CLOSED };

enum io_tls_state {
	IO_TLS_NONE,		/* plaintext */
	IO_TLS_HANDSHAKE,	/* handshake in progress */
	IO_TLS_UP,		/* established */
};

struct io;
typedef void io_cb(struct io *io, enum io_event ev, void *arg);

struct io {
	struct ev_loop *loop;
	int fd;
	SSL *ssl;
	enum io_tls_state tls_state;
	SSL_CTX *tls_pending;	/* start TLS once the output is flushed */
	int hs_want;		/* during the handshake: what OpenSSL waits for */
	struct buf in;
	struct buf out;
	io_cb *cb;
	void *arg;
	struct ev_timer timer;
	uint64_t timeout_ms;
	size_t max_in;		/* reading pauses when in holds this much */
	int paused;
	int closing;		/* close after the output is flushed */
	int eof;
	int dead;
	int in_cb;
	int want_free;
	size_t line_used;	/* bytes of the line returned by io_getline */
	const char *error;	/* why IO_CLOSED happened */
	uint64_t bytes_in, bytes_out;
};

/* io_new - take ownership of connected fd (made non-blocking). */
struct io *io_new(struct ev_loop *loop, int fd, io_cb *cb, void *arg);
/* io_free - close the fd, free everything; *iop = NULL. */
void io_free(struct io **iop);

void io_write(struct io *io, const void *data, size_t len);
/* io_vreply - queue one line of a line protocol (CR LF added) and log it at
 * debug level as "<sid> <proto> reply "<line>"". */
void io_vreply(struct io *io, uint64_t sid, const char *proto, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
/* io_flush_close - stop reading; close (IO_CLOSED) once the output is sent. */
void io_flush_close(struct io *io);

/* io_getline - the next line from conn->in, without CR LF, NUL-terminated in
 * place; *len_r its length.  Returns 1 (line; consume it with
 * io_line_done), 0 (need more), -1 (no LF within max bytes: the caller
 * should complain, then io_skip_line). */
int io_getline(struct io *io, size_t max, char **line_r, size_t *len_r);
void io_line_done(struct io *io);
/* io_skip_line - discard input up to and including the next LF; returns 1
 * if found, 0 if the whole buffer was discarded (keep skipping). */
int io_skip_line(struct io *io);

/* io_starttls - start a server handshake (after the output is flushed). */
int io_starttls(struct io *io, SSL_CTX *ctx);
/* io_starttls_client - start a client handshake now (the server's "220
 * ready" was read; nothing is queued): IO_TLSREADY or IO_CLOSED follows.
 * sni: the name sent in the handshake, or NULL. */
int io_starttls_client(struct io *io, SSL_CTX *ctx, const char *sni);
void io_set_timeout(struct io *io, uint64_t ms);
void io_pause_read(struct io *io);
void io_resume_read(struct io *io);
/* io_rearm - the owner took input outside IO_DATAIN (a consumer that had
 * stopped and caught up later): read again if a full buffer had stopped
 * reading.  Only the io's own IO_DATAIN path re-arms by itself. */
void io_rearm(struct io *io);
/* io_flush - try to send the queued output now, without waiting for the
 * loop (for replies made outside an I/O callback).  It does not report
 * IO_LOWAT: its caller knows what it queued. */
void io_flush(struct io *io);
/* io_pending_out - bytes waiting to be sent. */
size_t io_pending_out(struct io *io);

#endif
