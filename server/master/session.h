/*
 * session - the base of every line-protocol session (SMTP, POP3, IMAP):
 * the part of a conversation that does not depend on the protocol.
 *
 * A protocol embeds struct session as the FIRST member of its own session
 * (struct smtp_session { struct session base; ... }) and fills in a
 * struct session_ops; the base does the rest:
 *
 *   - set-up: session id, io, idle and total-life timers, the link into
 *     the service's list, front_opened/front_closed, the connect and
 *     disconnect log lines, implicit TLS on the listeners that need it;
 *   - input: command lines (bounded at ops->line_max; an over-long line is
 *     answered once and its tail skipped), or a counted number of bytes
 *     handed over in chunks as they arrive (session_read_bytes: IMAP
 *     literals, BDAT), or a stream the protocol reads itself (SMTP DATA);
 *   - output back-pressure: no command is taken while more than
 *     ops->out_high bytes wait for a client that does not read (IO_LOWAT
 *     resumes); long answers are produced piecewise by a producer
 *     (session_send_stream: POP3 RETR, IMAP FETCH) while the output stays
 *     below ops->out_high, suspended while the producer has nothing
 *     (session_stream_resume);
 *   - the failed-login delay (session_reply_later), the error cap
 *     (session_count_error), idle timeout, total-life timeout, shutdown,
 *     STARTTLS, and the end: IO_CLOSED, close and free.
 *
 * Transport phases (TLS handshake, closing) belong to the base
 * (enum session_phase); the protocol's own states stay an explicit enum in
 * the protocol.  The protocol tells the base what it can take now through
 * ops->want().
 *
 * Callbacks (ops->line, ->stream, ->say, producers, chunk consumers, and
 * anything they call) run inside the base's I/O handling: they may reply,
 * change state, pause, start TLS, call session_close_after_reply(), but
 * never session_close() (the base closes on IO_CLOSED, once the last reply
 * has gone).  Code called from outside the I/O handling (a timer, a worker's
 * result: authd, the committer, a mailbox open) may call session_close();
 * after it the session is freed.
 *
 * Closing: session_close() calls ops->release (cancel pending work, close
 * files); if that returns 1 something still owns the session (e.g. the
 * SMTP committer): the connection is closed now, and the protocol calls
 * session_close() again when that work ends.  Then the disconnect line is
 * logged (ops->end_log adds to it), front is told, and ops->free frees the
 * protocol's session (the base's memory is inside it).
 */
#ifndef ONEBOX_SESSION_H
#define ONEBOX_SESSION_H

#include "buf.h"
#include "ev.h"
#include "front.h"
#include "io.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct service;
struct session;

/* What the protocol can take from the input now (ops->want). */
enum session_want {
	SESSION_WANT_LINE,	/* the next command line: ops->line */
	SESSION_WANT_STREAM,	/* raw bytes the protocol reads itself: ops->stream */
	SESSION_WANT_NOTHING,	/* the server is working (authd, commit...): wait,
				 * and the idle timer does not count this time */
};

/* Transport phases, owned by the base. */
enum session_phase {
	SESSION_OPEN,		/* commands flow (as the protocol's state allows) */
	SESSION_TLS,		/* TLS handshake (STARTTLS or implicit TLS) */
	SESSION_CLOSING,	/* last reply queued; closed once it is sent */
};

/* Replies the base asks the protocol to write (ops->say). */
enum session_say {
	SESSION_SAY_NONE,
	SESSION_SAY_LINE_TOO_LONG,	/* the command line exceeded ops->line_max */
	SESSION_SAY_TOO_MANY_ERRORS,	/* before closing */
	SESSION_SAY_TIMEOUT,		/* idle timeout, before closing */
	SESSION_SAY_LIFETIME,		/* total-life timeout, before closing */
	SESSION_SAY_SHUTDOWN,		/* the service stops, before closing */
};

/* session_producer - append the next part of a long answer to out.
 * Returns 1 when the answer is complete, 0 for more (called again while
 * the output stays below ops->out_high), -1 on a failure (logged by the
 * producer) after which the connection is closed.  A producer that has
 * nothing to give yet (its data comes from a worker) returns 0 without
 * adding to out: the stream is suspended (no busy loop; the idle timer
 * does not count the wait) until the protocol calls
 * session_stream_resume(). */
typedef int session_producer(struct session *s, struct buf *out);
/* session_stream_end - the answer ended: status 1 complete, -1 failed,
 * 0 abandoned (the session closes).  Release what the producer holds. */
typedef void session_stream_end(struct session *s, int status);

/* session_chunk_cb - the next piece (len > 0) of a counted read; returns
 * how many bytes it took (at most len).  What it leaves is offered again
 * at once if it took something; if it took nothing, when more input
 * arrives or when the consumer calls session_process().  Meanwhile reading
 * stops once the input buffer is full, so a slow consumer holds back the
 * client (back-pressure). */
typedef size_t session_chunk_cb(struct session *s, const char *data, size_t len);
/* session_done_cb - all n bytes were taken; the session is back in line
 * mode (the consumer may start another counted read). */
typedef void session_done_cb(struct session *s);

struct session_ops {
	const char *proto;	/* "smtp", "pop3": log lines */
	size_t line_max;	/* command line limit, CR LF included */
	size_t out_high;	/* queued output above which commands wait */
	/* max_errors - session_count_error closes at this many errors */
	int (*max_errors)(struct session *s);
	/* idle_ms - the idle timeout (read at start and on each re-arm) */
	uint64_t (*idle_ms)(struct session *s);
	/* life_ms - NULL or the total-life limit (0: none), read at start */
	uint64_t (*life_ms)(struct session *s);
	/* greeting - write the greeting (at connect; after the handshake on
	 * implicit-TLS listeners) */
	void (*greeting)(struct session *s);
	/* want - what the protocol's state can take now */
	enum session_want (*want)(struct session *s);
	/* line - one command line, NUL-terminated, CR LF removed */
	void (*line)(struct session *s, char *line, size_t len);
	/* stream - NULL or, in SESSION_WANT_STREAM: read s->io->in; return 1
	 * when the stream ended (ask want() again), 0 to wait for input */
	int (*stream)(struct session *s);
	/* tls_ready - the handshake finished (s->tls is set): forget what was
	 * said before TLS */
	void (*tls_ready)(struct session *s);
	/* say - write the reply for a base event */
	void (*say)(struct session *s, enum session_say what);
	/* must_finish - NULL or 1 if the session must finish what it does
	 * before saying goodbye for why (SHUTDOWN or LIFETIME); the base says
	 * it once the protocol wants a line again */
	int (*must_finish)(struct session *s, enum session_say why);
	/* state_name - the protocol's state, for the timeout log line */
	const char *(*state_name)(struct session *s);
	/* release - cancel pending work, close files; 1 if it must wait (see
	 * the header comment), else 0 */
	int (*release)(struct session *s);
	/* end_log - NULL or append " key=value..." to the disconnect line */
	void (*end_log)(struct session *s, char *out, size_t size);
	/* free - free the protocol's session (the struct holding the base) */
	void (*free)(struct session *s);
};

struct session {
	uint64_t id;			/* 16 hex digits in every log line */
	const struct session_ops *ops;
	struct service *svc;		/* the service process this runs in */
	struct io *io;			/* NULL once closed (see release) */
	struct front_peer peer;		/* address, port, listener, plaintext_ok */
	enum session_phase phase;
	int tls;			/* TLS is up */
	int errors;			/* towards ops->max_errors */
	int cap_after_delay;		/* max_errors reached while a reply was delayed */
	enum session_say ending;	/* goodbye owed (shutdown, life over) */
	const char *close_error;	/* io's static reason, for the disconnect line */

	/* input */
	int skipping;			/* dropping the tail of an over-long line */
	int out_blocked;		/* commands wait for the client to read */
	uint64_t counted;		/* bytes left in a counted read */
	session_chunk_cb *chunk;
	session_done_cb *chunk_done;

	/* the failed-login delay */
	struct ev_timer delay_timer;
	char delayed_reply[160];
	struct ev_timer life_timer;

	/* a streamed answer */
	session_producer *producer;
	session_stream_end *stream_end;
	int stream_waiting;		/* the producer had nothing: suspended */
	struct buf scratch;

	struct session *next, *prev;	/* the service's list */
};

/* session_start - the protocol allocated its session (zeroed, base first)
 * and set its own fields; start the conversation on fd. */
void session_start(struct session *s, struct service *svc, const struct session_ops *ops, int fd,
    const struct front_peer *peer);

/* session_reply - one reply line (CR LF added), logged at debug level. */
void session_reply(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void session_vreply(struct session *s, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* session_reply_later - input stops now; text is sent after ms, then the
 * commands resume (the failed-login delay).  Set the protocol state the
 * session returns to before calling it. */
void session_reply_later(struct session *s, uint64_t ms, const char *text);
/* session_reply_at - the same, sent at deadline_ms (ev_clock_ms(); at
 * once if past): the failed-login delay timed from when the request left
 * for authd, so how long the check took does not show. */
void session_reply_at(struct session *s, uint64_t deadline_ms, const char *text);

/* session_process - take the buffered input the protocol wants now (call
 * it after the protocol's state changed from outside the I/O handling). */
void session_process(struct session *s);
/* session_pause - stop taking input (waiting for the server's own work). */
void session_pause(struct session *s);
/* session_resume - take input again and run what is buffered. */
void session_resume(struct session *s);

/* session_read_bytes - hand the next n input bytes to chunk as they arrive
 * (never all buffered at once), then call done and go back to lines. */
void session_read_bytes(struct session *s, uint64_t n, session_chunk_cb *chunk, session_done_cb *done);

/* session_send_stream - a long answer whose first line is queued: run the
 * producer now and whenever the output has drained (IO_LOWAT); commands
 * wait meanwhile, the idle timer is re-armed at each refill (a client
 * reading a big message sends nothing), and the connection closes if the
 * producer fails.  end (may be NULL) is called once when it ends. */
void session_send_stream(struct session *s, session_producer *p, session_stream_end *end);
int session_streaming(const struct session *s);
/* session_stream_resume - the suspended producer has data again: run it
 * (from outside the I/O handling, e.g. a worker's result). */
void session_stream_resume(struct session *s);

/* session_count_error - one more bad command; at ops->max_errors the
 * protocol says SESSION_SAY_TOO_MANY_ERRORS and the session closes (if a
 * delayed reply is pending, right after it: call session_reply_later
 * first, then this). */
void session_count_error(struct session *s);
/* session_starttls - the "go ahead" reply is queued: start the handshake
 * once it is sent. */
void session_starttls(struct session *s, SSL_CTX *ctx);
/* session_close_after_reply - stop reading; close once the output is sent. */
void session_close_after_reply(struct session *s);
int session_closing(const struct session *s);
/* session_end - the service stops (SESSION_SAY_SHUTDOWN) or the session
 * lived too long (SESSION_SAY_LIFETIME): say goodbye and close, at once or
 * once ops->must_finish allows; a TLS handshake in progress is let finish
 * first, so the goodbye reaches the client instead of a reset. */
void session_end(struct session *s, enum session_say why);
/* session_close - close and free now (not from a callback, see above). */
void session_close(struct session *s);

#endif
