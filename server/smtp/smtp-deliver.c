/*
 * smtp-deliver - where a recipient is checked and a finished message is
 * handed on.
 *
 * A recipient resolves (db_resolve) to targets; today a target is a local
 * mailbox or an external address, and external addresses have no route
 * yet (outbound delivery comes with the queue).  This file is the one
 * place that will grow routes: the queue, the scanner and relay pools plug
 * in at smtp_deliver().
 *
 * Local delivery writes one copy per envelope recipient into the first
 * target's tmp/ (with Return-Path: and Delivered-To:), hard-links it into
 * the other targets' tmp/, and hands the batch to the group committer.
 * The 250 is sent only from delivery_done(), after the files are durable.
 */
#include "smtp.h"
#include "log.h"
#include "maildir.h"
#include "str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct delivery {
	struct commit_job job;
	struct maildir_tmp *tmps;
	char **target;		/* target address of each tmp */
	size_t n;
	uint64_t size;
};

static void
split_addr(const char *addr, char *local, size_t lsz, char *domain, size_t dsz)
{
	const char *at = strrchr(addr, '@');
	size_t l = at ? (size_t)(at - addr) : strlen(addr);
	if (l >= lsz)
		l = lsz - 1;
	memcpy(local, addr, l);
	local[l] = '\0';
	str_lcpy(domain, at ? at + 1 : "", dsz);
}

static char *
target_dir(struct smtp_session *s, const char *addr)
{
	char local[ADDR_FORMAT_MAX], domain[ADDR_DOMAIN_MAX + 1];
	split_addr(addr, local, sizeof(local), domain, sizeof(domain));
	return maildir_path(s->d->svc.conf->data_dir, local, domain);
}

/* over_quota - 1 if adding extra bytes would exceed the target's quota. */
static int
over_quota(struct smtp_session *s, const char *addr, uint64_t extra)
{
	struct db_user u;
	uint64_t bytes = 0, count = 0;
	int over = 0;

	if (db_user_get(s->d->svc.db, addr, &u) != 1)
		return 0;
	if (u.quota) {
		char *dir = target_dir(s, addr);
		if (dir && maildir_quota_usage(dir, &bytes, &count) == 0)
			over = bytes + extra > u.quota || (extra == 0 && bytes >= u.quota);
		/* looks full: recount if the last count is 15 minutes old */
		if (over && maildir_quota_refresh(dir, 15 * 60) == 0 &&
		    maildir_quota_usage(dir, &bytes, &count) == 0)
			over = bytes + extra > u.quota || (extra == 0 && bytes >= u.quota);
		free(dir);
	}
	db_user_free(&u);
	return over;
}

static void
reply_no_route(struct smtp_session *s, const char *addr)
{
	if (s->auth_user || smtpd_trusted(s->d, s->base.peer.ip))
		smtp_reply(s, "554 5.7.1 <%s>: no route to remote domains: this server delivers only to "
		    "its own domains (outbound delivery is not enabled)", addr);
	else
		smtp_reply(s, "554 5.7.1 <%s>: Relay access denied", addr);
}

int
smtp_rcpt_check(struct smtp_session *s, const struct mailaddr *a, struct smtp_rcpt *r)
{
	struct mailaddr pm;
	size_t nlocal = 0;

	if (a->domain[0] == '\0') {
		/* RFC 5321 §4.5.1: <postmaster> means ours */
		pm = *a;
		str_lcpy(pm.domain, s->d->svc.conf->hostname, sizeof(pm.domain));
		str_lower(pm.domain);
		a = &pm;
	}
	addr_format(a, r->addr, sizeof(r->addr));
	enum db_resolve res = a->literal ? DB_RESOLVE_NOTLOCAL : db_resolve(s->d->svc.db, r->addr, &r->targets);
	switch (res) {
	case DB_RESOLVE_OK:
		break;
	case DB_RESOLVE_NOTLOCAL:
		reply_no_route(s, r->addr);
		return -1;
	case DB_RESOLVE_UNKNOWN:
		smtp_reply(s, "550 5.1.1 <%s>: Recipient address rejected: User unknown", r->addr);
		return -1;
	case DB_RESOLVE_DISABLED:
		smtp_reply(s, "550 5.2.1 <%s>: Mailbox disabled", r->addr);
		return -1;
	case DB_RESOLVE_LOOP:
		smtp_reply(s, "550 5.4.6 <%s>: Alias loop detected", r->addr);
		return -1;
	default:
		smtp_reply(s, "451 4.3.0 <%s>: Temporary lookup failure", r->addr);
		return -1;
	}
	for (size_t i = 0; i < r->targets.n; i++) {
		if (!r->targets.v[i].local)
			continue;
		nlocal++;
		if (over_quota(s, r->targets.v[i].address, s->declared_size)) {
			smtp_reply(s, "452 4.2.2 <%s>: Mailbox full", r->addr);
			db_targets_free(&r->targets);
			return -1;
		}
	}
	if (nlocal == 0) {
		reply_no_route(s, r->addr);
		db_targets_free(&r->targets);
		return -1;
	}
	return 0;
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
			ssize_t w = write(to, tmp + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			off += w;
		}
	}
}

static int
write_copy(struct smtp_session *s, const char *dir, const char *rcpt, struct maildir_tmp *t)
{
	char hdr[2 * ADDR_FORMAT_MAX + 64];
	int n = snprintf(hdr, sizeof(hdr), "Return-Path: <%s>\nDelivered-To: %s\n", s->from_text, rcpt);
	int fd;

	/* The Maildir usually exists: create it only when the first try fails. */
	if ((fd = maildir_tmp_create(dir, t)) < 0 &&
	    (errno != ENOENT || maildir_create(dir) < 0 || (fd = maildir_tmp_create(dir, t)) < 0))
		return -1;
	if (write(fd, hdr, n) != n || copy_spool(s->spool_fd, fd) < 0) {
		close(fd);
		maildir_tmp_abort(t);
		maildir_tmp_free(t);
		return -1;
	}
	close(fd);
	t->size = (uint64_t)n + s->data_size;
	t->vsize = t->size + 2 + s->data_lines;
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

static int
already(struct delivery *d, const char *addr)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcasecmp(d->target[i], addr) == 0)
			return 1;
	return 0;
}

static void
delivery_free(struct delivery *d, int abort_files)
{
	for (size_t i = 0; i < d->n; i++) {
		if (abort_files)
			maildir_tmp_abort(&d->tmps[i]);
		maildir_tmp_free(&d->tmps[i]);
		free(d->target[i]);
	}
	free(d->tmps);
	free(d->target);
	free(d);
}

/* build_copies - the files of one message: 0, or -1 (nothing left behind). */
static int
build_copies(struct smtp_session *s, struct delivery *d)
{
	for (size_t i = 0; i < s->nrcpts; i++) {
		struct smtp_rcpt *r = &s->rcpts[i];
		ssize_t first = -1;	/* index: d->tmps moves when it grows */
		for (size_t j = 0; j < r->targets.n; j++) {
			const char *addr = r->targets.v[j].address;
			if (!r->targets.v[j].local) {
				log_warnx("%016llx smtp id=%s to=<%s> orig_to=<%s> status=undeliverable "
				    "reason=\"no route to remote domains\"", (unsigned long long)s->base.id,
				    s->qid, addr, r->addr);
				continue;
			}
			if (already(d, addr))
				continue;
			char *dir = target_dir(s, addr);
			if (dir == NULL)
				return -1;
			d->tmps = xrealloc(d->tmps, (d->n + 1) * sizeof(*d->tmps));
			d->target = xrealloc(d->target, (d->n + 1) * sizeof(*d->target));
			struct maildir_tmp *t = &d->tmps[d->n];
			memset(t, 0, sizeof(*t));
			int rc = first < 0 ? write_copy(s, dir, r->addr, t) : link_copy(&d->tmps[first], dir, t);
			if (rc < 0 && first >= 0)	/* another file system: write a copy instead */
				rc = write_copy(s, dir, r->addr, t);
			free(dir);
			if (rc < 0)
				return -1;
			d->target[d->n++] = xstrdup(addr);
			if (first < 0)
				first = (ssize_t)d->n - 1;
		}
	}
	return 0;
}

static void
delivery_done(struct commit_job *job, void *arg)
{
	struct smtp_session *s = arg;
	struct delivery *d = s->dlv;
	int ok = job->result == 0;

	for (size_t i = 0; i < d->n; i++) {
		if (ok) {
			char *dir = target_dir(s, d->target[i]);
			if (dir)
				maildir_quota_add(dir, (int64_t)d->tmps[i].size, 1);
			free(dir);
		}
		log_info("%016llx smtp id=%s from=<%s> to=<%s> size=%llu status=%s", (unsigned long long)s->base.id,
		    s->qid, s->from_text, d->target[i], (unsigned long long)d->tmps[i].size,
		    ok ? "delivered" : "deferred");
	}
	if (!ok)
		log_warnx("%016llx smtp id=%s commit failed: %s", (unsigned long long)s->base.id, s->qid,
		    strerror(job->errno_val));
	delivery_free(d, !ok);
	s->dlv = NULL;
	s->state = SMTP_S_READY;
	if (s->gone) {
		smtp_session_close(s);
		return;
	}
	if (ok) {
		s->cmds_without_message = 0;
		smtp_reply(s, "250 2.0.0 Ok: queued as %s", s->qid);
		io_flush(s->base.io);
	}
	else
		smtp_reply(s, "451 4.3.0 Local error while storing the message, try again later");
	smtp_transaction_reset(s);
	if (s->base.ending) {
		smtp_session_shutdown(s);
		return;
	}
	io_resume_read(s->base.io);
	smtp_process(s);
}

static void
deliver_fail(struct smtp_session *s, const char *reply)
{
	smtp_reply(s, "%s", reply);
	smtp_transaction_reset(s);
	s->state = SMTP_S_READY;
}

void
smtp_deliver(struct smtp_session *s)
{
	struct delivery *d;

	if (s->data_too_big) {
		log_info("%016llx smtp id=%s status=rejected reason=\"message too big\"", (unsigned long long)s->base.id, s->qid);
		deliver_fail(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	if (s->data_err) {
		deliver_fail(s, "451 4.3.0 Local error in processing, try again later");
		return;
	}
	for (size_t i = 0; i < s->nrcpts; i++)
		for (size_t j = 0; j < s->rcpts[i].targets.n; j++)
			if (s->rcpts[i].targets.v[j].local &&
			    over_quota(s, s->rcpts[i].targets.v[j].address, s->data_size)) {
				log_info("%016llx smtp id=%s to=<%s> status=rejected reason=\"over quota\"",
				    (unsigned long long)s->base.id, s->qid, s->rcpts[i].targets.v[j].address);
				deliver_fail(s, "452 4.2.2 Mailbox full");
				return;
			}
	d = xcalloc(1, sizeof(*d));
	if (build_copies(s, d) < 0 || d->n == 0) {
		log_warn("%016llx smtp id=%s cannot write to the mail store", (unsigned long long)s->base.id, s->qid);
		delivery_free(d, 1);
		deliver_fail(s, "451 4.3.0 Local error while storing the message, try again later");
		return;
	}
	smtp_data_abort(s);	/* the spool copy is no longer needed */
	s->dlv = d;
	d->job.tmps = d->tmps;
	d->job.ntmps = d->n;
	d->job.done = delivery_done;
	d->job.arg = s;
	s->state = SMTP_S_COMMIT;
	io_pause_read(s->base.io);
	committer_submit(s->d->committer, &d->job);
}
