/*
 * deliver - local delivery: the ROUTE_LOCAL recipients of an envelope into
 * their Maildirs, made durable by the group committer.
 *
 * For each run of recipients that share the address as given (an alias
 * fanned out), one file is written into the first mailbox's tmp/, with
 *     Return-Path: <sender>
 *     Delivered-To: <the address as given>
 * in front of the spool's bytes, and hard-linked into the others' tmp/ (a
 * copy is written instead when a link cannot be made).  A final address
 * met twice gets one file.  The files are then handed to the committer
 * (commit.h); when they are durable the recipients are marked
 * RCPT_DELIVERED (and the mailboxes' quota usage updated), or all
 * RCPT_DEFERRED with a 451 reply if the commit failed (their files are
 * taken back).  Recipients of other routes are left as they are.
 *
 * A mailbox on another file system than the committer's is refused
 * (errno EXDEV, logged): syncfs would not make its files durable, so a
 * "250" for it could be a lie after a power loss.  The check costs one
 * fstat of the first file of each message (links share its file system).
 *
 * Runs in the event loop thread: the writes are ordinary (page cache)
 * writes; the only waits are in the committer's thread.
 */
#ifndef ONEBOX_DELIVER_H
#define ONEBOX_DELIVER_H

#include "commit.h"
#include "envelope.h"

#include <stdint.h>

/* local_done_cb - the envelope's local recipients have their final status. */
typedef void local_done_cb(struct envelope *env, void *arg);

/*
 * local_deliver - write the files of env's local recipients from
 * env->spool_fd (read from offset 0 during this call only; env->size and
 * env->lines must be set) and submit them to the committer.  Returns 0:
 * done(env, arg) is called later from the loop, and env must stay valid
 * until then.  Returns -1 when no file could be written (errno set, or 0
 * when env has no local recipient): nothing is left behind, every local
 * recipient is RCPT_DEFERRED, and done is not called.
 */
int local_deliver(const char *data_dir, struct committer *c, struct envelope *env,
    local_done_cb *done, void *arg);

/* local_mailbox_dir - malloc'd Maildir root of a local address, or NULL
 * (maildir_path's rules). */
char *local_mailbox_dir(const char *data_dir, const char *address);

/*
 * local_over_quota - 1 if extra more bytes would put the mailbox of
 * address over quota bytes (0 = no quota), else 0.  extra = 0 asks whether
 * the mailbox is already full.  A mailbox that looks full is recounted when
 * its maildirsize is 15 minutes old (files removed behind our back).
 */
int local_over_quota(const char *data_dir, const char *address, uint64_t quota, uint64_t extra);

/*
 * local_over_quota_env - the first local pending recipient of env whose
 * mailbox the message would put over its quota, or NULL.  Counts what the
 * file will really hold (the Return-Path/Delivered-To lines written in
 * front of the spool, whose bytes already include the Received: header)
 * and each mailbox once, as local_deliver writes one file per final
 * address.  env->size must be set.
 */
const struct envelope_rcpt *local_over_quota_env(const char *data_dir, const struct envelope *env);

#endif
