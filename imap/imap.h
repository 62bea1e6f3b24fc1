/*
 * imap - the IMAP server process (RFC 3501 IMAP4rev1; RFC 2595 STARTTLS,
 * RFC 4959 SASL-IR, RFC 7888 LITERAL+, RFC 2971 ID, RFC 5161 ENABLE,
 * RFC 2342 NAMESPACE, RFC 7162 CONDSTORE and QRESYNC, RFC 3516 BINARY,
 * RFC 4731 ESEARCH, RFC 4315 UIDPLUS, RFC 6851 MOVE, RFC 2177 IDLE) over
 * the Maildir++ folders and their indexes (index.h).
 *
 * Files: imapd.c (the service: svc_run with a worker pool), imap-session.c
 * (the session base's hooks, and the assembly of a command from its lines
 * and literals), imap-commands.c (the command table and the commands of
 * every state), imap-auth.c (LOGIN, AUTHENTICATE, the per user and
 * address limit), imap-parse.c (pure parsing: arguments, literals,
 * sequence sets), imap-fetch.c (FETCH) with imap-fetch-cache.c (the
 * index's MIME cache) and imap-msg.c (ENVELOPE, BODYSTRUCTURE, sections),
 * imap-search.c with imap-search-fold.c, imap-select.c, imap-store.c,
 * imap-sync.c (changes, IDLE, VANISHED), imap-folders.c, imap-append.c.
 *
 * One imapd process serves every session in one event loop; blocking work
 * (making the standard folders at login) goes to its worker threads.
 */
#ifndef ONEBOX_IMAP_H
#define ONEBOX_IMAP_H

#include "auth-client.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "front.h"
#include "imap-parse.h"
#include "index.h"
#include "jobs.h"
#include "sasl.h"
#include "service.h"
#include "session.h"

#include <stdint.h>

#define IMAP_OUT_HIGH		(64 * 1024)	/* stop producing above this much queued */
#define IMAP_MAX_ERRORS		20		/* bad commands before the connection is closed */

enum imap_state {
	IMAP_S_NOT_AUTH,	/* greeting sent, not logged in */
	IMAP_S_SASL,		/* AUTHENTICATE sent "+ ", waiting for the answer line */
	IMAP_S_AUTH_WAIT,	/* authd or the login's folder set-up; input paused */
	IMAP_S_AUTH,		/* logged in, no mailbox selected */
	IMAP_S_SELECTED,	/* a mailbox is selected (s->mbox) */
	IMAP_S_IDLE,		/* IDLE: waiting for DONE (from AUTH or SELECTED) */
	IMAP_S_LOGOUT,		/* LOGOUT answered; closing */
};
/* (TLS handshakes, closing and streamed answers are the session base's:
 * session.h) */

struct imapd;
struct login_job;
struct imap_session;
struct fetch_ctx;
struct imap_append;

/*
 * Blocking mailbox work (an index sync, a folder's first open) runs in a
 * worker: the job embeds struct imap_job first, work() runs in the worker
 * touching only the job, done() in the loop with the session (input
 * paused meanwhile, resumed after done), then free().  A session that
 * closes first only drops its pointer (free still runs); one whose job
 * holds_session (work reads s->mbox) is freed only after the job.
 */
struct imap_job {
	struct job job;
	struct imap_session *s;		/* NULL once the session is gone */
	void (*work)(struct imap_job *j);
	void (*done)(struct imap_session *s, struct imap_job *j);
	void (*free)(struct imap_job *j);
	int holds_session;	/* work() reads the session: it may not be freed first */
};

/* One message of the selected mailbox, by sequence number - 1. */
struct imap_msg {
	uint32_t uid;
	uint32_t kw;		/* keyword bits (s->kwnames) */
	uint32_t flags;		/* IDX_* (IDX_RECENT: this session's \Recent), IMAP_GONE */
};
#define IMAP_GONE	(1u << 30)	/* expunged elsewhere, EXPUNGE not sent yet */

/* The selected mailbox. */
struct imap_mailbox {
	char *name;		/* as the client named it ("INBOX" canonical) */
	struct mbox_index *ix;	/* open while selected */
	int readonly;		/* EXAMINE */
	struct imap_msg *msgs;
	size_t n;
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;	/* the changes the session has been told of */
	size_t gone;		/* messages marked IMAP_GONE */
};

struct imap_session {
	struct session base;	/* first: id, io, peer, tls, errors */
	struct imapd *d;
	enum imap_state state;

	/* the command being assembled from lines and literals */
	struct buf cmd;
	char tag[IMAP_TAG_MAX + 1];	/* of the command in progress */

	/* authentication */
	uint32_t auth_req;
	struct sasl sasl;
	char *user;		/* authenticated canonical address */
	char *root;		/* its Maildir++ root */
	struct login_job *login;	/* the folder set-up in progress */
	struct imap_job *busy;		/* mailbox work in a worker */
	int close_after_job;		/* closed while busy held the session */
	struct imap_mailbox mbox;	/* IMAP_S_SELECTED */
	char **kwnames;			/* the user's keywords, by bit */
	size_t nkw;
	struct fetch_ctx *fetch;	/* a FETCH answer being streamed */
	struct imap_append *append;	/* an APPEND message being received */
	enum imap_state idle_from;	/* the state IDLE returns to */
	int condstore;			/* RFC 7162 CONDSTORE enabled: MODSEQ in every FETCH of flags */
	int qresync;			/* RFC 7162 QRESYNC enabled: VANISHED, not EXPUNGE */
	unsigned long ncommands;
};

/* The imapd process: the service and its worker threads. */
struct imapd {
	struct service svc;	/* first: svc_run's, and the sessions */
	struct jobs *jobs;
	struct ev_timer idle_timer;	/* checks the idling sessions (imap-sync.c) */
};

/* imap-session.c */
void imap_session_start(struct service *svc, int fd, const struct front_peer *peer);
/* imap_reply - one line (CR LF added). */
void imap_reply(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* imap_tagged - "<tag> <text>" for the command in progress. */
void imap_tagged(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* imap_bad - a tagged BAD (counted towards IMAP_MAX_ERRORS). */
void imap_bad(struct imap_session *s, const char *text);
static inline void imap_process(struct imap_session *s) { session_process(&s->base); }

/* imap-commands.c */
/* imap_command - run one complete command (lines and literals). */
void imap_command(struct imap_session *s, const char *cmd, size_t len);
/* imap_capability - the capability list for the session's state. */
void imap_capability(struct imap_session *s, struct buf *out);

/* imap_job_submit - run j (see struct imap_job) for s. */
void imap_job_submit(struct imap_session *s, struct imap_job *j);
/* imap_quote - append s as an IMAP quoted string (a literal if it has
 * characters a quoted string cannot hold). */
void imap_quote(struct buf *out, const char *s);

/* imap-folders.c: LIST LSUB CREATE DELETE RENAME SUBSCRIBE UNSUBSCRIBE STATUS */
void imap_cmd_list(struct imap_session *s, const struct imap_command *c);
void imap_cmd_lsub(struct imap_session *s, const struct imap_command *c);
void imap_cmd_create(struct imap_session *s, const struct imap_command *c);
void imap_cmd_delete(struct imap_session *s, const struct imap_command *c);
void imap_cmd_rename(struct imap_session *s, const struct imap_command *c);
void imap_cmd_subscribe(struct imap_session *s, const struct imap_command *c);
void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *c);
void imap_cmd_status(struct imap_session *s, const struct imap_command *c);
/* imap_folder_arg - a mailbox argument as a folder name ("INBOX" for any
 * case of it; Outlook's and Apple's names of the standard folders as
 * those), or NULL (answered BAD/NO). */
const char *imap_folder_arg(struct imap_session *s, const struct imap_arg *a);
/* imap_folder_name - a valid name, INBOX and aliases made canonical. */
const char *imap_folder_name(struct imap_session *s, const char *name);

/* imap-select.c: SELECT EXAMINE CLOSE UNSELECT CHECK */
void imap_cmd_select(struct imap_session *s, const struct imap_command *c);
void imap_cmd_close(struct imap_session *s, const struct imap_command *c);
void imap_cmd_unselect(struct imap_session *s, const struct imap_command *c);
void imap_cmd_check(struct imap_session *s, const struct imap_command *c);
/* imap_mailbox_close - leave the selected state (nothing expunged). */
void imap_mailbox_close(struct imap_session *s);

/* imap_msgset - the messages a sequence set (uid 0) or UID set names, as
 * ascending indexes into s->mbox.msgs (malloc'd); -1 if answered BAD. */
int imap_msgset(struct imap_session *s, const struct imap_arg *a, int uid, uint32_t **idx_r, size_t *n_r);

/* imap-fetch.c */
void imap_cmd_fetch(struct imap_session *s, const struct imap_command *c);
/* imap_fetch_items_valid - parse FETCH's item argument alone (for the
 * fuzz target): 0, or -1 where FETCH answers BAD. */
int imap_fetch_items_valid(const struct imap_arg *a, int uid_cmd);
/* imap-fetch-cache.c: imap_fetch_cache - fill the index's cache for the
 * messages uids[0..n) (ascending, n > 0; taken over) in a worker, then
 * call then(s) in the loop. */
void imap_fetch_cache(struct imap_session *s, uint32_t *uids, size_t n, void (*then)(struct imap_session *s));
/* imap_flags_out - "(\\Seen ... $Keyword)" for a message's flags. */
void imap_flags_out(struct imap_session *s, struct buf *out, const struct imap_msg *m);

/* imap-sync.c */
/* imap_mailbox_sync - report what changed in the selected mailbox since
 * the session last looked (EXPUNGE only if allow_expunge). */
void imap_mailbox_sync(struct imap_session *s, int allow_expunge);
void imap_idle_init(struct imapd *d);
/* imap_uidset_out - uids (ascending) as a compact set "1:3,7". */
void imap_uidset_out(struct buf *out, const uint32_t *uids, size_t n);
/* imap_vanished - "* VANISHED [(EARLIER) ]set" for uids (ascending; none: nothing). */
void imap_vanished(struct imap_session *s, const uint32_t *uids, size_t n, int earlier);
/* imap_changed_out - "* n FETCH (UID u FLAGS (...) MODSEQ (m))" for each
 * message of rows (by UID) that is in the session's list and, when known
 * is not NULL, in known (a resolved UID set): a QRESYNC resync. */
void imap_changed_out(struct imap_session *s, const struct index_msg *rows, size_t n,
    const struct imap_seqset *known);
void imap_cmd_idle(struct imap_session *s, const struct imap_command *c);
/* imap_idle_line - the line that ends IDLE ("DONE"). */
void imap_idle_line(struct imap_session *s, const char *line);

/* imap-append.c */
/* imap_append_literal - the command so far (cmd, len: up to the {size})
 * is an APPEND whose message literal follows: check it and start
 * receiving it (1), or refuse it at once (-1, answered); 0 if it is not
 * APPEND's message. */
int imap_append_literal(struct imap_session *s, const char *cmd, size_t len, uint64_t size, int sync);
/* imap_append_finish - the line after the message: commit and answer. */
void imap_append_finish(struct imap_session *s, const char *rest);
void imap_append_free(struct imap_session *s);

/* imap-search.c */
void imap_cmd_search(struct imap_session *s, const struct imap_command *c);
/* imap-search-fold.c: imap_search_fold - append s[0..n) to out with its
 * letters in lower case (UTF-8; invalid bytes kept), for SEARCH. */
void imap_search_fold(const char *s, size_t n, struct buf *out);

/* imap-store.c */
void imap_cmd_store(struct imap_session *s, const struct imap_command *c);
void imap_cmd_expunge(struct imap_session *s, const struct imap_command *c);
void imap_cmd_copy(struct imap_session *s, const struct imap_command *c);
/* imap_folder_uids - the UIDs the folder dir gave the messages with these
 * bases (after a sync of its index), and its UIDVALIDITY; 0/-1. */
int imap_folder_uids(const char *dir, char (*bases)[INDEX_UNIQUE_MAX], size_t n, uint32_t *uids,
    uint32_t *uidvalidity_r);
/* imap_parse_flags - system flags (IDX_*) and keyword bits from a flag
 * list or from n atoms; create: new keywords are added to the user's table
 * (else unknown ones are left out).  0; -1 for \\Recent, an unknown
 * \\flag or a bad keyword; -2 when the keyword table is full.  *grew_r is
 * set when the table grew (the client must be told the new FLAGS). */
int imap_parse_flags(struct imap_session *s, const struct imap_arg *a, size_t n, int create, uint32_t *flags_r,
    uint32_t *kw_r, int *grew_r);
/* imap_modifier_num - a "(NAME n)" command modifier (RFC 7162
 * UNCHANGEDSINCE, CHANGEDSINCE): 0 with *n_r, or -1. */
int imap_modifier_num(const struct imap_arg *a, const char *name, uint64_t *n_r);
/* imap_tell_flags - untagged FLAGS and PERMANENTFLAGS (the list grew). */
void imap_tell_flags(struct imap_session *s);
/* imap_keywords_load - read the user's keyword table again. */
void imap_keywords_load(struct imap_session *s);
/* imap_flag_names - the flags of FLAGS and PERMANENTFLAGS: the system
 * flags and every keyword. */
void imap_flag_names(struct imap_session *s, struct buf *out);

/* imap-auth.c */
int imap_auth_allowed(struct imap_session *s);
void imap_cmd_login(struct imap_session *s, const struct imap_command *c);
void imap_cmd_authenticate(struct imap_session *s, const struct imap_command *c);
/* imap_sasl_line - the client's answer to "+ " in IMAP_S_SASL. */
void imap_sasl_line(struct imap_session *s, char *line);
void imap_auth_cancel(struct imap_session *s);

#endif
