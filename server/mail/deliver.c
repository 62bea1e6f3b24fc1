/*
 * deliver - local delivery into Maildirs (see deliver.h for the contract).
 *
 * Why one file per address as given, and links for the rest: an alias of
 * 200 people costs one write of the message and 199 link() calls, and the
 * Delivered-To: line (the address the mail was sent to) is the same for
 * all of them.  Two RCPTs are two files, because each says its own
 * Delivered-To.
 */
#include "deliver.h"
#include "buf.h"
#include "log.h"
#include "maildir.h"
#include "str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

struct local_job {
	struct commit_job job;
	dev_t dev;			/* the committer's file system */
	struct envelope *env;
	local_done_cb *done;
	void *arg;
	struct maildir_tmp *tmps;	/* one per file */
	struct commit_rename *renames;	/* tmps[i] -> renames[i] */
	size_t n;
	size_t *file_of;		/* per recipient: its file, or SIZE_MAX */
};

char *
local_mailbox_dir(const char *data_dir, const char *address)
{
	const char *at = strrchr(address, '@');
	char *local, *dir;

	if (at == NULL)
		return NULL;
	local = xstrndup(address, (size_t)(at - address));
	dir = maildir_path(data_dir, local, at + 1);
	free(local);
	return dir;
}

static int
quota_exceeded(const char *dir, uint64_t quota, uint64_t extra)
{
	uint64_t bytes = 0, count = 0;

	if (maildir_quota_usage(dir, &bytes, &count) < 0)
		return 0;
	return bytes + extra > quota || (extra == 0 && bytes >= quota);
}

int
local_over_quota(const char *data_dir, const char *address, uint64_t quota, uint64_t extra)
{
	char *dir;
	int over;

	if (quota == 0 || (dir = local_mailbox_dir(data_dir, address)) == NULL)
		return 0;
	over = quota_exceeded(dir, quota, extra);
	/* looks full: recount if the last count is 15 minutes old */
	if (over && maildir_quota_refresh(dir, 15 * 60) == 0)
		over = quota_exceeded(dir, quota, extra);
	free(dir);
	return over;
}

static int
copy_spool(int from, int to)
{
	char tmp[65536];

	if (lseek(from, 0, SEEK_SET) < 0)
		return -1;
	for (;;) {
		ssize_t n = read(from, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(to, tmp + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			off += w;
		}
	}
}

/* on_mail_fs - 0 if fd is on file system dev, else -1 (EXDEV, logged). */
static int
on_mail_fs(int fd, dev_t dev, const char *dir)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (st.st_dev == dev)
		return 0;
	log_warnx("deliver: refusing mailbox %s: it is on another file system than the mail "
	    "directory, which the group commit does not sync", dir);
	errno = EXDEV;
	return -1;
}

#define TRACE_MAX (2 * 1024 + 64)

/* trace_lines - what is written in front of the spool's bytes; its
 * length, or -1 (ENAMETOOLONG) if it does not fit out (TRACE_MAX). */
static int
trace_lines(const struct envelope *env, const char *orcpt, char *out)
{
	int n = snprintf(out, TRACE_MAX, "Return-Path: <%s>\nDelivered-To: %s\n", env->sender, orcpt);

	if (n < 0 || n >= TRACE_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}

/* first_of_final - 1 if no earlier local recipient has r's final address
 * (the one whose file the mailbox gets: see same_final). */
static int
first_of_final(const struct envelope *env, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (env->rcpts[k].route.kind == ROUTE_LOCAL && env->rcpts[k].status == RCPT_PENDING &&
		    strcasecmp(env->rcpts[k].final, env->rcpts[i].final) == 0)
			return 0;
	return 1;
}

const struct envelope_rcpt *
local_over_quota_env(const char *data_dir, const struct envelope *env)
{
	char hdr[TRACE_MAX];

	for (size_t i = 0; i < env->nrcpts; i++) {
		const struct envelope_rcpt *r = &env->rcpts[i];
		int n;
		if (r->route.kind != ROUTE_LOCAL || r->status != RCPT_PENDING || !first_of_final(env, i))
			continue;
		/* the file's real size: the trace lines, then the spool */
		n = trace_lines(env, r->orcpt, hdr);
		if (local_over_quota(data_dir, r->final, r->route.quota, (n < 0 ? 0 : (uint64_t)n) + env->size))
			return r;
	}
	return NULL;
}

/* write_copy - a new file in dir/tmp/: the trace lines, then the spool. */
static int
write_copy(const struct envelope *env, dev_t dev, const char *dir, const char *orcpt,
    struct maildir_tmp *t)
{
	char hdr[TRACE_MAX];
	int n = trace_lines(env, orcpt, hdr);
	int fd;

	if (n < 0)
		return -1;
	/* The Maildir usually exists: create it only when the first try fails. */
	if ((fd = maildir_tmp_create(dir, t)) < 0 &&
	    (errno != ENOENT || maildir_create(dir) < 0 || (fd = maildir_tmp_create(dir, t)) < 0))
		return -1;
	if (on_mail_fs(fd, dev, dir) < 0 || write(fd, hdr, (size_t)n) != n ||
	    copy_spool(env->spool_fd, fd) < 0) {
		int e = errno;
		close(fd);
		maildir_tmp_abort(t);
		maildir_tmp_free(t);
		errno = e;
		return -1;
	}
	close(fd);
	t->size = (uint64_t)n + env->size;
	t->vsize = t->size + 2 + env->lines;
	return 0;
}

static int
link_copy(const struct maildir_tmp *first, const char *dir, struct maildir_tmp *t)
{
	if (maildir_tmp_link(first, dir, t) == 0)
		return 0;
	if (errno != ENOENT || maildir_create(dir) < 0)
		return -1;
	return maildir_tmp_link(first, dir, t);
}

/* same_final - the file of an earlier recipient with the same final address. */
static size_t
same_final(const struct local_job *j, size_t upto)
{
	const struct envelope *env = j->env;

	for (size_t i = 0; i < upto; i++)
		if (j->file_of[i] != SIZE_MAX &&
		    strcasecmp(env->rcpts[i].final, env->rcpts[upto].final) == 0)
			return j->file_of[i];
	return SIZE_MAX;
}

/* add_file - write or link the file of recipient i (first: the file of
 * its alias run, or SIZE_MAX); 0/-1. */
static int
add_file(struct local_job *j, const char *data_dir, size_t i, size_t first)
{
	const struct envelope_rcpt *r = &j->env->rcpts[i];
	char *dir = local_mailbox_dir(data_dir, r->final);
	struct maildir_tmp *t;
	int rc;

	if (dir == NULL) {
		errno = EINVAL;
		return -1;
	}
	j->tmps = xrealloc(j->tmps, (j->n + 1) * sizeof(*j->tmps));
	t = &j->tmps[j->n];
	memset(t, 0, sizeof(*t));
	rc = first == SIZE_MAX ? -1 : link_copy(&j->tmps[first], dir, t);
	if (rc < 0)	/* the first of its run, or another file system */
		rc = write_copy(j->env, j->dev, dir, r->orcpt, t);
	free(dir);
	if (rc < 0)
		return -1;
	j->file_of[i] = j->n++;
	return 0;
}

/* build_files - the files of every local recipient; 0, or -1 (errno). */
static int
build_files(struct local_job *j, const char *data_dir)
{
	const struct envelope *env = j->env;
	size_t first = SIZE_MAX;

	for (size_t i = 0; i < env->nrcpts; i++) {
		const struct envelope_rcpt *r = &env->rcpts[i];
		if (i == 0 || strcmp(r->orcpt, env->rcpts[i - 1].orcpt) != 0)
			first = SIZE_MAX;	/* a new address as given */
		if (r->route.kind != ROUTE_LOCAL || r->status != RCPT_PENDING)
			continue;
		if ((j->file_of[i] = same_final(j, i)) != SIZE_MAX)
			continue;
		if (add_file(j, data_dir, i, first) < 0)
			return -1;
		if (first == SIZE_MAX)
			first = j->file_of[i];
	}
	if (j->n == 0)
		errno = 0;
	return j->n == 0 ? -1 : 0;
}

static void
job_free(struct local_job *j, int abort_files)
{
	for (size_t i = 0; i < j->n; i++) {
		if (abort_files)
			maildir_tmp_abort(&j->tmps[i]);
		maildir_tmp_free(&j->tmps[i]);
		if (j->renames) {
			free(j->renames[i].from);
			free(j->renames[i].to);
		}
	}
	free(j->tmps);
	free(j->renames);
	free(j->file_of);
	free(j);
}

/* set_local_status - every local recipient that has a file. */
static void
set_local_status(struct local_job *j, enum rcpt_status st, const char *reply)
{
	for (size_t i = 0; i < j->env->nrcpts; i++)
		if (j->file_of[i] != SIZE_MAX || (j->env->rcpts[i].route.kind == ROUTE_LOCAL &&
		    j->env->rcpts[i].status == RCPT_PENDING))
			envelope_set_status(&j->env->rcpts[i], st, reply);
}

static void
commit_done(struct commit_job *cj, void *arg)
{
	struct local_job *j = arg;
	struct envelope *env = j->env;
	local_done_cb *done = j->done;
	void *done_arg = j->arg;
	int ok = cj->result == 0;

	for (size_t i = 0; i < j->n; i++) {
		j->tmps[i].published = j->renames[i].done;
		if (ok)
			maildir_quota_add(j->tmps[i].dir, (int64_t)j->tmps[i].size, 1);
	}
	if (!ok)
		log_warnx("deliver id=%s commit failed: %s", env->qid, strerror(cj->errno_val));
	set_local_status(j, ok ? RCPT_DELIVERED : RCPT_DEFERRED,
	    ok ? NULL : "451 4.3.0 Local error while storing the message, try again later");
	job_free(j, !ok);
	done(env, done_arg);
}

int
local_deliver(const char *data_dir, struct committer *c, struct envelope *env,
    local_done_cb *done, void *arg)
{
	struct local_job *j = xcalloc(1, sizeof(*j));

	j->env = env;
	j->dev = committer_dev(c);
	j->done = done;
	j->arg = arg;
	j->file_of = xcalloc(env->nrcpts ? env->nrcpts : 1, sizeof(*j->file_of));
	for (size_t i = 0; i < env->nrcpts; i++)
		j->file_of[i] = SIZE_MAX;
	if (build_files(j, data_dir) < 0) {
		int e = errno;
		set_local_status(j, RCPT_DEFERRED,
		    "451 4.3.0 Local error while storing the message, try again later");
		job_free(j, 1);
		errno = e;
		return -1;
	}
	j->renames = xcalloc(j->n, sizeof(*j->renames));
	for (size_t i = 0; i < j->n; i++)
		maildir_tmp_paths(&j->tmps[i], &j->renames[i].from, &j->renames[i].to);
	j->job.renames = j->renames;
	j->job.nrenames = j->n;
	j->job.done = commit_done;
	j->job.arg = j;
	committer_submit(c, &j->job);
	return 0;
}
