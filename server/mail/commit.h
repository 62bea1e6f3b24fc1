/*
 * commit - group commit of Maildir deliveries.
 *
 * The rule: no "250" leaves before the message is durable.  Doing one fsync
 * of the file and one of the directory per message caps a server at the
 * disk's fsyncs per second; instead, deliveries that finish while a sync is
 * running wait for the next one and share it.  A background thread takes
 * every job queued so far and does:
 *     syncfs()          the data of every tmp/ file in the batch is on disk
 *     rename tmp -> new for each file (maildir_tmp_publish)
 *     syncfs()          the renames (directory entries) are on disk
 * then hands the batch back to the event loop, which sends the replies.
 * A crash before the second sync may leave a published file, but never a
 * partial one (its data was synced first); no reply was sent for it.
 *
 * All Maildirs must live on the file system of the directory given to
 * committer_new (data_dir/mail); syncfs covers exactly that file system.
 */
#ifndef ONEBOX_COMMIT_H
#define ONEBOX_COMMIT_H

#include "ev.h"
#include "maildir.h"

#include <stddef.h>

struct commit_job;
typedef void commit_done_cb(struct commit_job *job, void *arg);

struct commit_job {
	struct maildir_tmp *tmps;	/* files to publish (owned by the caller) */
	size_t ntmps;
	int result;			/* 0 durable, -1 failed (errno_val says why) */
	int errno_val;
	commit_done_cb *done;		/* called in the loop thread */
	void *arg;
	struct commit_job *next;	/* internal */
};

struct committer;
/* committer_new - start the thread; sync_dir is any directory on the mail fs. */
struct committer *committer_new(struct ev_loop *loop, const char *sync_dir);
/* committer_submit - queue job; job->done runs later from the loop. */
void committer_submit(struct committer *c, struct commit_job *job);

#endif
