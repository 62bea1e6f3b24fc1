/*
 * jobs - a small pool of worker threads for blocking work (a large index
 * sync, hashing, a slow file operation), so the event loop never stalls.
 *
 * work() runs in a worker thread and must touch only what the job owns;
 * done() runs afterwards in the loop thread.  A job's owner that goes away
 * meanwhile cannot stop work(): it marks the job (its own field) so that
 * done() only cleans up.  Create the pool after the loop has blocked its
 * signals (the threads inherit the mask).
 */
#ifndef ONEBOX_JOBS_H
#define ONEBOX_JOBS_H

#include "ev.h"

struct job {
	void (*work)(struct job *j);	/* in a worker thread */
	void (*done)(struct job *j);	/* then in the loop thread */
	struct job *next;		/* internal */
};

struct jobs;
struct jobs *jobs_new(struct ev_loop *loop, int nthreads);
void jobs_submit(struct jobs *js, struct job *j);

#endif
