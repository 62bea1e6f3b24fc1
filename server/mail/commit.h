/*
 * commit - group commit: files written in a temporary place are published
 * under their final names, durably, many at a time.
 *
 * The rule: no "250" leaves before the message is durable.  Doing one fsync
 * of the file and one of the directory per message caps a server at the
 * disk's fsyncs per second; instead, deliveries that finish while a sync is
 * running wait for the next one and share it.  A background thread takes
 * every job queued so far and does:
 *     syncfs()          the data of every temporary file in the batch is on disk
 *     rename from -> to for each file of each job
 *     syncfs()          the renames (directory entries) are on disk
 * then hands the batch back to the event loop, which sends the replies.
 * A crash before the second sync may leave a published file, but never a
 * partial one (its data was synced first); no reply was sent for it.
 *
 * A rename is any "tmp -> final" pair: a Maildir delivery (tmp/X ->
 * new/X,S=..,W=.., see maildir_tmp_paths) today, a queue file tomorrow, so
 * queue files and Maildir files share one sync.
 *
 * Every file must live on the file system of the directory given to
 * committer_new (data_dir/mail); syncfs covers exactly that file system.
 * Local delivery (deliver.h) refuses a mailbox on another file system.
 */
#ifndef ONEBOX_COMMIT_H
#define ONEBOX_COMMIT_H

#include "ev.h"

#include <stddef.h>
#include <sys/types.h>

struct commit_job;
typedef void commit_done_cb(struct commit_job *job, void *arg);

struct commit_rename {
	char *from;			/* the temporary path (owned by the caller) */
	char *to;			/* the final path (owned by the caller) */
	int done;			/* set once renamed: a failed job may have
					 * published part of its files */
};

struct commit_job {
	struct commit_rename *renames;	/* files to publish (owned by the caller) */
	size_t nrenames;
	int result;			/* 0 durable, -1 failed (errno_val says why) */
	int errno_val;
	commit_done_cb *done;		/* called in the loop thread */
	void *arg;
	struct commit_job *next;	/* internal */
};

struct committer;
/* committer_new - start the thread; sync_dir is any directory on the mail fs. */
struct committer *committer_new(struct ev_loop *loop, const char *sync_dir);
/* committer_dev - the file system committer_new's sync_dir is on: the one
 * syncfs covers; a file elsewhere would not be made durable. */
dev_t committer_dev(const struct committer *c);
/* committer_submit - queue job; job->done runs later from the loop. */
void committer_submit(struct committer *c, struct commit_job *job);
/* committer_hold, committer_release - the jobs submitted between them
 * leave in one batch: a message's Maildir files and its queue files share
 * one sync, and a crash cannot publish one set without the other having
 * been written.  Calls nest. */
void committer_hold(struct committer *c);
void committer_release(struct committer *c);

#endif
