/*
 * pop3 - the POP3 server process (RFC 1939; RFC 2449 CAPA and response
 * codes, RFC 2595 STLS, RFC 3206 [AUTH]/[IN-USE]/[SYS/TEMP], RFC 5034
 * AUTH PLAIN) over the Maildir and its index (index.h).
 *
 * Files: pop3d.c (the service: svc_run with a worker pool), pop3-session.c
 * (the session base's hooks: greeting, states, replies, the end),
 * pop3-auth.c (USER/PASS, AUTH PLAIN, throttle), pop3-mailbox.c (the
 * maildrop: lock, snapshot of the index, DELE/RSET, update at QUIT),
 * pop3-commands.c (the transaction commands), pop3-retr.c (multi-line
 * answers streamed as the client reads them), pop3-parse.c (pure parsing
 * and conversion).
 *
 * One POP3 session per mailbox at a time: an flock() on
 * "<maildir>/onebox-pop3.lock" held from login to the end of the session,
 * so a second session gets [IN-USE] even when it runs in another pop3d
 * process (after a SIGHUP), and a killed process leaves no stale lock.
 *
 * The message list is a snapshot taken at login (RFC 1939 §8: numbers
 * stay fixed): deliveries during the session appear in the next one.
 * DELE only marks; the marked messages are expunged through the index
 * when QUIT is received in the TRANSACTION state, never otherwise.
 */
#ifndef ONEBOX_POP3_H
#define ONEBOX_POP3_H

#include "auth-client.h"
#include "sasl.h"
#include "config.h"
#include "db.h"
#include "dotstuff.h"
#include "ev.h"
#include "index.h"
#include "front.h"
#include "io.h"
#include "pop3-parse.h"
#include "service.h"
#include "session.h"

#include <stdint.h>

#define POP3_LINE_MAX		4096	/* command line with CRLF (AUTH PLAIN fits) */
#define POP3_OUT_HIGH		(64 * 1024)	/* stop producing above this much queued */
#define POP3_MAX_ERRORS		20	/* bad commands before the connection is closed */

enum pop3_state {
	POP3_S_AUTHORIZATION,	/* greeting sent, not logged in */
	POP3_S_SASL,		/* AUTH sent "+ ", waiting for the response line */
	POP3_S_AUTH_WAIT,	/* password check or mailbox open; input paused */
	POP3_S_TRANSACTION,	/* logged in, maildrop locked */
};
/* (TLS handshakes, closing and streamed answers are the session base's:
 * session.h) */

/* The maildrop of a logged-in session (pop3-mailbox.c). */
struct pop3_msg {
	uint32_t uid;
	uint64_t vsize;		/* octets with CRLF (what LIST reports) */
	char *base;		/* stable unique name (UIDL source) */
	char *filename;		/* relative to dir; refreshed if the file moved */
	uint8_t deleted;
};

struct pop3_mailbox {
	char *dir;		/* the INBOX folder */
	int lock_fd;
	struct pop3_msg *msgs;
	size_t n;
	size_t ndeleted;
	uint64_t octets_deleted;
	uint64_t octets;	/* all messages */
};

struct pop3_session;
struct open_job;
struct jobs;
struct pop3d;

struct pop3_session {
	struct session base;	/* first: id, io, peer, tls, errors */
	struct pop3d *d;
	enum pop3_state state;

	/* authorization */
	char *user_arg;		/* from USER, until PASS */
	char *user;		/* authenticated canonical address */
	uint32_t auth_req;
	struct sasl sasl;	/* the AUTH exchange in progress */

	/* transaction */
	struct pop3_mailbox mbox;
	struct open_job *opening;	/* list being built (pop3-mailbox.c) */
	char *user_pending;		/* authenticated, mailbox being opened */
	unsigned long nretr, ntop;
	uint64_t bytes_sent_msgs;

	/* multi-line answer in progress (pop3-retr.c) */
	int msg_fd;
	size_t cursor;		/* LIST/UIDL: next index */
	struct dot_stuff stuff;
};

/* The pop3d process: the service and its worker threads. */
struct pop3d {
	struct service svc;	/* first: svc_run's, and the sessions */
	struct jobs *jobs;
};

/* pop3-session.c */
void pop3_session_start(struct service *svc, int fd, const struct front_peer *peer);
/* pop3_reply - one line ("+OK ..." / "-ERR ..."), CRLF added. */
void pop3_reply(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* pop3_process - run the buffered commands the state allows. */
static inline void pop3_process(struct pop3_session *s) { session_process(&s->base); }
static inline void pop3_count_error(struct pop3_session *s) { session_count_error(&s->base); }
static inline void pop3_close_after_reply(struct pop3_session *s) { session_close_after_reply(&s->base); }

/* pop3-auth.c */
int pop3_auth_allowed(struct pop3_session *s);
void pop3_cmd_user(struct pop3_session *s, struct pop3_command *c);
void pop3_cmd_pass(struct pop3_session *s, struct pop3_command *c);
void pop3_cmd_auth(struct pop3_session *s, struct pop3_command *c);
/* pop3_sasl_line - the client's answer to "+ " in the SASL state. */
void pop3_sasl_line(struct pop3_session *s, char *line);
void pop3_auth_cancel(struct pop3_session *s);

/* pop3-mailbox.c */
/*
 * pop3_mailbox_open - look up and lock the INBOX of user now, then build
 * its message list (index sync, new/ moved to cur/) in a worker thread.
 * cb runs in the loop: err_resp NULL on success (s->mbox filled), else the
 * -ERR line to send ([IN-USE] or [SYS/TEMP]).  cb may run before this
 * returns (on an early failure).  Not called if the session closes first.
 */
typedef void pop3_opened_cb(struct pop3_session *s, const char *err_resp);
void pop3_mailbox_open(struct pop3_session *s, const char *user, pop3_opened_cb *cb);
/* pop3_mailbox_cancel - the session is closing: forget a pending open. */
void pop3_mailbox_cancel(struct pop3_session *s);
/* pop3_mailbox_msg - message number n (1-based) if it exists and is not
 * deleted, else NULL. */
struct pop3_msg *pop3_mailbox_msg(struct pop3_session *s, uint32_t n);
/* pop3_mailbox_open_msg - open message m's file for reading (looking it up
 * again through the index if it was renamed meanwhile); fd or -1. */
int pop3_mailbox_open_msg(struct pop3_session *s, struct pop3_msg *m);
/* pop3_mailbox_update - expunge the DELE'd messages (the UPDATE state);
 * 0/-1. */
int pop3_mailbox_update(struct pop3_session *s);
void pop3_mailbox_close(struct pop3_session *s);

/* pop3-commands.c */
/* pop3_command - parse and run one command line. */
void pop3_command(struct pop3_session *s, char *line, size_t len);

/* pop3-retr.c: multi-line answers, streamed by the session base
 * (session_send_stream) after their first line was queued. */
/* pop3_send_message - RETR/TOP: the message file fd (taken over), its
 * header and the first lines of its body (UINT64_MAX: all), dot-stuffed
 * with CR LF line ends. */
void pop3_send_message(struct pop3_session *s, int fd, uint64_t lines);
/* pop3_send_listing - LIST (uidl 0) or UIDL (uidl 1) of every message. */
void pop3_send_listing(struct pop3_session *s, int uidl);
/* pop3_send_abort - drop an answer in progress (session closing). */
void pop3_send_abort(struct pop3_session *s);

#endif
