/*
 * queued - the queue runner: an unprivileged service process (supervised
 * by the master like smtpd and pop3d) that delivers the outbound queue
 * (queue.h) to the internet.
 *
 * Files: queued.c (the service, the scheduler, the queue directory
 * watch), queue-attempt.c (one delivery attempt of one message: its
 * domains one after the other through mta.c, then the envelope rewritten,
 * the message removed, or a bounce), mta.c (the SMTP client), bounce.c
 * (RFC 3464 delivery status notifications).
 */
#ifndef ONEBOX_QUEUED_H
#define ONEBOX_QUEUED_H

#include "service.h"
#include "commit.h"
#include "mta.h"

#include <time.h>

/* a message the runner knows of (its envelope is in queue/env/) */
struct qmsg {
	char qid[ENVELOPE_QID_MAX];
	time_t next;		/* earliest next attempt */
	int active;		/* an attempt is running */
	int removed;		/* its envelope went away during the attempt */
	struct qmsg *next_msg;
};

struct queued {
	struct service svc;		/* first: svc_run's */
	char *queue_dir;
	char *mail_dir;
	struct committer *committer;	/* envelope rewrites and bounces */
	struct mta_ctx mta;
	int inotify_fd;
	int wd_env, wd_flush;
	struct ev_timer tick;
	struct qmsg *msgs;
	size_t nactive;
	uint64_t last_scan;		/* ms, of the last full rescan */
	int link_down;			/* every delivery fails to connect */
	time_t last_probe;
};

/* queue-attempt.c */
/* attempt_start - one delivery attempt of m (not active); marks it active
 * and calls queued_attempt_done when it is over. */
void attempt_start(struct queued *q, struct qmsg *m);

/* queued.c */
/* queued_attempt_done - m's attempt ended: next is its next attempt time,
 * or 0 when it left the queue. */
void queued_attempt_done(struct queued *q, struct qmsg *m, time_t next);
/* queued_link - what an attempt saw: reached = some server answered,
 * unreachable = none did and connections (or DNS) failed. */
void queued_link(struct queued *q, int reached, int unreachable);

#endif
