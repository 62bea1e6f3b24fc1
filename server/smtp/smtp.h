/*
 * smtp - the SMTP server process (inbound MX on smtp_listen, submission on
 * submission_listen with STARTTLS and submissions_listen with implicit TLS).
 *
 * Files: smtpd.c (the service: svc_run with the committer), smtp-session.c
 * (the command table and state machine, over the session base), smtp-auth.c (AUTH PLAIN/LOGIN),
 * smtp-data.c (DATA: dot-unstuffing into a spool file), smtp-deliver.c
 * (the one hand-off point of a finished message: the transaction becomes
 * an envelope, each route's module takes its recipients; today the only
 * one is local delivery, server/mail/deliver.h).
 */
#ifndef ONEBOX_SMTP_H
#define ONEBOX_SMTP_H

#include "addr.h"
#include "auth-client.h"
#include "sasl.h"
#include "commit.h"
#include "config.h"
#include "db.h"
#include "dotstuff.h"
#include "ev.h"
#include "front.h"
#include "io.h"
#include "service.h"
#include "session.h"
#include "smtp-parse.h"

#include <stdint.h>

#define SMTP_LINE_MAX 4096	/* command line, CRLF included */
#define SMTP_OUT_HIGH 65536	/* queued replies before commands wait */

enum smtp_state {
	SMTP_S_CONNECTED,	/* greeting sent, waiting for HELO/EHLO */
	SMTP_S_READY,		/* HELO/EHLO done, no transaction */
	SMTP_S_MAIL,		/* MAIL accepted */
	SMTP_S_RCPT,		/* at least one RCPT accepted */
	SMTP_S_DATA,		/* receiving the message */
	SMTP_S_COMMIT,		/* message being made durable; input paused */
	SMTP_S_AUTH,		/* SASL exchange or password check in progress */
};
/* (the STARTTLS handshake and closing are the base's phases: session.h) */

/* smtp_bare_line_ends, in the order of its words in db/settings.def */
enum smtp_bare_line_ends { SMTP_BARE_REJECT, SMTP_BARE_NORMALIZE };

struct smtp_rcpt {
	char addr[ADDR_FORMAT_MAX];	/* as given (canonical form) */
	struct db_targets targets;
};

struct smtpd;
struct delivery;
struct front;

struct smtp_session {
	struct session base;		/* first: id, io, peer, tls, errors */
	struct smtpd *d;
	enum smtp_state state;
	char helo[256];
	int esmtp;
	char tls_desc[96];
	char *auth_user;		/* authenticated address */
	uint32_t auth_req;
	struct sasl sasl;		/* the AUTH exchange in progress */
	uint64_t cmds_without_message;	/* smtp_max_commands_before_mail */

	/* transaction */
	struct mailaddr from;
	char from_text[ADDR_FORMAT_MAX];
	int smtputf8;
	int body8;
	uint64_t declared_size;
	struct smtp_rcpt *rcpts;
	size_t nrcpts;
	char qid[17];

	/* DATA */
	int spool_fd;
	uint64_t data_size;		/* bytes stored so far (LF line ends) */
	uint64_t data_lines;		/* LF count, for the CRLF size */
	struct dot_unstuff data_unstuff;	/* the DATA converter's state */
	int data_too_big;
	struct buf data_out;		/* unstuffed bytes waiting to be written */
	int data_err;

	/* commit */
	struct delivery *dlv;		/* smtp-deliver.c */
	int gone;			/* the client left while committing */
};

/* The smtpd process: the service (loop, db, auth, tls, front, sessions)
 * and what only SMTP has. */
struct smtpd {
	struct service svc;		/* first: svc_run's, and the sessions */
	struct committer *committer;
	char *mail_dir;
	char *queue_dir;
};

/* smtpd.c */
int smtpd_trusted(struct smtpd *d, const char *ip);

/* smtp-session.c */
void smtp_session_start(struct service *svc, int fd, const struct front_peer *peer);
void smtp_reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void smtp_transaction_reset(struct smtp_session *s);
/* smtp_session_shutdown - say goodbye now if a shutdown or the session's
 * time limit was put off until the message was answered. */
void smtp_session_shutdown(struct smtp_session *s);
static inline void smtp_process(struct smtp_session *s) { session_process(&s->base); }
static inline void smtp_session_close(struct smtp_session *s) { session_close(&s->base); }
static inline void smtp_count_error(struct smtp_session *s) { session_count_error(&s->base); }

/* smtp-auth.c */
void smtp_cmd_auth(struct smtp_session *s, char *arg);
void smtp_auth_line(struct smtp_session *s, char *line);
int smtp_auth_allowed(struct smtp_session *s);

/* smtp-data.c */
int smtp_data_begin(struct smtp_session *s);
/* smtp_data_feed - consume DATA bytes from the input; 1 when the final
 * "." has been seen, 0 when more is needed. */
int smtp_data_feed(struct smtp_session *s);
void smtp_data_abort(struct smtp_session *s);

/* smtp-deliver.c */
/* smtp_rcpt_check - resolve a RCPT; 0 accepted (rcpt filled), or -1 with the reply sent. */
int smtp_rcpt_check(struct smtp_session *s, const struct mailaddr *a, struct smtp_rcpt *r);
/* smtp_sender_check - policy on MAIL's sender, after the syntax and
 * authentication checks: on port 25 a client that is neither trusted nor
 * authenticated may not use an address of a local domain (unless the
 * domain allows outside senders); <> always passes.  0 to go on, or -1
 * with the reply sent and from_text cleared. */
int smtp_sender_check(struct smtp_session *s, const struct mailaddr *from);
/* smtp_deliver - hand the finished message on; replies when durable. */
void smtp_deliver(struct smtp_session *s);

#endif
