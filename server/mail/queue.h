/*
 * queue - the outbound queue on disk, in data_dir/queue/ (owned by the
 * service user):
 *
 *     queue/msg/QID   the message as received (LF line ends, our Received:
 *                     on top); written once, never changed
 *     queue/env/QID   its envelope: sender, flags, times, and one line per
 *                     remote recipient with its state; rewritten whole
 *                     (tmp, sync, rename) when a delivery attempt ends
 *     queue/tmp/      files being written, published by the group commit
 *     queue/hold/QID  an envelope put aside by `onebox queue hold`
 *     queue/flush/    `onebox queue flush` drops a file here (QID or "all")
 *                     for the queue runner, which watches the directory
 *
 * A message is queued by queue_submit: the spool file is linked (not
 * copied) into tmp/, the envelope written beside it, and both are renamed
 * by the committer (commit.h) in the same sync as the Maildir files of the
 * message's local recipients: the message file first, then the envelope,
 * so an envelope never names a missing message.  The envelope is the
 * commit point: a message file without one is a crash's leftover.
 *
 * The envelope file is text, one "key value" line each; recipients are
 *     rcpt <TAB> status <TAB> final <TAB> orcpt <TAB> last reply
 * (an address has no TAB or control character; a reply is cleaned of
 * them).  It is written and read only by onebox, but read defensively:
 * queue_env_parse refuses what it does not know instead of guessing.
 */
#ifndef ONEBOX_QUEUE_H
#define ONEBOX_QUEUE_H

#include "buf.h"
#include "commit.h"
#include "envelope.h"

#include <stdint.h>
#include <time.h>

/* What the queue keeps beside the envelope. */
struct queue_meta {
	time_t created;		/* when the message was accepted */
	time_t next;		/* earliest next attempt (0 = now) */
	unsigned attempts;	/* attempts made */
};

/* queue_dirs - make queue_dir's subdirectories (as the service user); 0/-1. */
int queue_dirs(const char *queue_dir);

/* queue_path - malloc'd queue_dir/sub/qid. */
char *queue_path(const char *queue_dir, const char *sub, const char *qid);

typedef void queue_done_cb(struct envelope *env, void *arg);

/*
 * queue_submit - queue env's pending ROUTE_REMOTE recipients: link
 * env->spool_fd (an O_TMPFILE on the queue's file system) into tmp/, write
 * the envelope, and hand both to the committer.  Returns 0: done(env, arg)
 * is called later from the loop with those recipients RCPT_DELIVERED
 * (handed on: durable in the queue) or RCPT_DEFERRED (451) if the commit
 * failed.  Returns -1 (errno) when nothing could be written: the remote
 * recipients are RCPT_DEFERRED and done is not called.  env must stay
 * valid until done.
 */
int queue_submit(const char *queue_dir, struct committer *c, struct envelope *env,
    queue_done_cb *done, void *arg);

/* queue_env_format - env and m as the envelope file's text (appended to
 * out); only ROUTE_REMOTE recipients are written. */
void queue_env_format(const struct envelope *env, const struct queue_meta *m, struct buf *out);

/*
 * queue_env_parse - the envelope file's text into env (initialised here,
 * every recipient ROUTE_REMOTE, spool_fd -1) and m.  text is
 * NUL-terminated.  0, or -1 with *error_r set (static text) and env
 * freed.
 */
int queue_env_parse(const char *qid, const char *text, struct envelope *env, struct queue_meta *m,
    const char **error_r);

/* queue_env_load - read and parse queue_dir/sub/qid; 0, or -1 (errno;
 * EINVAL for a file that does not parse, logged). */
int queue_env_load(const char *queue_dir, const char *sub, const char *qid, struct envelope *env,
    struct queue_meta *m);

/*
 * queue_env_stage - write the envelope file's new text into tmp/ and fill
 * r with tmp -> env/QID (malloc'd paths) for the committer; the caller
 * submits it and frees the paths.  0, or -1 (errno, nothing left).
 */
int queue_env_stage(const char *queue_dir, const struct envelope *env, const struct queue_meta *m,
    struct commit_rename *r);

/* queue_remove - forget qid: its envelope first (the commit point), then
 * the message file.  0, or -1 (errno) if the envelope could not go. */
int queue_remove(const char *queue_dir, const char *qid);

/* queue_qid_valid - 1 if s looks like a queue id (16 lower-case hex digits). */
int queue_qid_valid(const char *s);

#endif
