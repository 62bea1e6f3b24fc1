/*
 * pop3-mailbox - the maildrop of a logged-in POP3 session.
 *
 * Login: lock the mailbox (flock on LOCK_NAME, non-blocking: a second
 * session gets [IN-USE]), sync the index (moving new/ into cur/, as IMAP
 * does when it opens a mailbox), and keep a snapshot of the message list.
 * The index handle is closed again at once: a session only needs the file
 * names, and an idle session should not hold an SQLite connection and its
 * page cache.  It is opened again for QUIT (expunge) and when a message
 * file has been renamed under us (a flag change by another client).
 */
#include "pop3.h"
#include "log.h"
#include "maildir.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "jobs.h"

#define LOCK_NAME "onebox-pop3.lock"

#define ERR_TEMP "-ERR [SYS/TEMP] Cannot open your mailbox, try again later"

/* mailbox_dir - the INBOX of a canonical address (malloc'd) or NULL. */
static char *
mailbox_dir(struct pop3_session *s, const char *user)
{
	struct db_user u;
	char *dir = NULL;

	if (db_user_get(s->d->svc.db, user, &u) != 1)
		return NULL;
	dir = maildir_path(s->d->svc.conf->data_dir, u.localpart, u.domain);
	db_user_free(&u);
	return dir;
}

/* mailbox_lock - fd holding the lock, -1 with *in_use_r if taken. */
static int
mailbox_lock(const char *dir, int *in_use_r)
{
	char *path = xasprintf("%s/%s", dir, LOCK_NAME);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	*in_use_r = 0;
	if (fd < 0) {
		log_warn("pop3: open %s", path);
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			*in_use_r = 1;
		else
			log_warn("pop3: flock %s", path);
		close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

/* mailbox_snapshot - sync the index and copy its list. 0/-1. */
static int
mailbox_snapshot(struct pop3_mailbox *mb)
{
	struct mbox_index *ix;
	struct index_msg *list;
	size_t n;
	const char *err;

	if (index_open(mb->dir, &ix, &err) < 0) {
		log_warnx("pop3: %s: %s", mb->dir, err);
		return -1;
	}
	if (index_sync(ix, 1) < 0 || index_list(ix, &list, &n) < 0) {
		index_close(&ix);
		return -1;
	}
	index_close(&ix);
	mb->msgs = n ? xcalloc(n, sizeof(*mb->msgs)) : NULL;
	mb->n = n;
	for (size_t i = 0; i < n; i++) {
		struct pop3_msg *m = &mb->msgs[i];
		m->uid = list[i].uid;
		m->vsize = list[i].vsize ? list[i].vsize : list[i].size;
		m->base = list[i].base;
		m->filename = list[i].filename;
		list[i].base = list[i].filename = NULL;
		mb->octets += m->vsize;
	}
	index_msgs_free(list, n);
	return 0;
}

/* The message list is built in a worker thread: the first login to a large
 * mailbox syncs its index (a readdir and a transaction over thousands of
 * files), which must not stall every other session of the process. */
struct open_job {
	struct job job;
	struct pop3_session *s;		/* NULL once the session is gone */
	struct pop3_mailbox mb;		/* owned by the job until done */
	pop3_opened_cb *cb;
	int result;
};

static void
open_work(struct job *j)
{
	struct open_job *oj = (struct open_job *)j;
	/* files a crash left in tmp/ (never answered 250) go after 36 hours */
	maildir_clean_tmp(oj->mb.dir);
	oj->result = mailbox_snapshot(&oj->mb);
}

static void
mailbox_free(struct pop3_mailbox *mb)
{
	for (size_t i = 0; i < mb->n; i++) {
		free(mb->msgs[i].base);
		free(mb->msgs[i].filename);
	}
	free(mb->msgs);
	if (mb->lock_fd >= 0)
		close(mb->lock_fd);	/* releases the flock */
	free(mb->dir);
	memset(mb, 0, sizeof(*mb));
	mb->lock_fd = -1;
}

static void
open_done(struct job *j)
{
	struct open_job *oj = (struct open_job *)j;
	struct pop3_session *s = oj->s;
	pop3_opened_cb *cb = oj->cb;
	int ok = oj->result == 0;

	if (s == NULL || !ok)
		mailbox_free(&oj->mb);
	else
		s->mbox = oj->mb;
	free(oj);
	if (s == NULL)
		return;
	s->opening = NULL;
	cb(s, ok ? NULL : ERR_TEMP);
}

void
pop3_mailbox_open(struct pop3_session *s, const char *user, pop3_opened_cb *cb)
{
	struct pop3_mailbox *mb = &s->mbox;
	struct open_job *oj;
	int in_use;

	if ((mb->dir = mailbox_dir(s, user)) == NULL) {
		log_warnx("%016llx pop3 no mailbox for user=%s", (unsigned long long)s->base.id, user);
		cb(s, ERR_TEMP);
		return;
	}
	if (maildir_create(mb->dir) < 0) {
		log_warn("pop3: mkdir %s", mb->dir);
		pop3_mailbox_close(s);
		cb(s, ERR_TEMP);
		return;
	}
	if ((mb->lock_fd = mailbox_lock(mb->dir, &in_use)) < 0) {
		pop3_mailbox_close(s);
		cb(s, in_use ? "-ERR [IN-USE] Mailbox is in use by another POP3 session" : ERR_TEMP);
		return;
	}
	oj = xcalloc(1, sizeof(*oj));
	oj->job.work = open_work;
	oj->job.done = open_done;
	oj->s = s;
	oj->cb = cb;
	oj->mb = *mb;		/* the job owns dir and lock until done */
	memset(mb, 0, sizeof(*mb));
	mb->lock_fd = -1;
	s->opening = oj;
	jobs_submit(s->d->jobs, &oj->job);
}

void
pop3_mailbox_cancel(struct pop3_session *s)
{
	if (s->opening) {
		s->opening->s = NULL;
		s->opening = NULL;
	}
}

struct pop3_msg *
pop3_mailbox_msg(struct pop3_session *s, uint32_t n)
{
	if (n == 0 || n > s->mbox.n || s->mbox.msgs[n - 1].deleted)
		return NULL;
	return &s->mbox.msgs[n - 1];
}

/* refresh_name - the file was renamed (new flags): ask the index. 0/-1. */
static int
refresh_name(struct pop3_mailbox *mb, struct pop3_msg *m)
{
	struct mbox_index *ix;
	struct index_msg im;
	const char *err;
	int r = -1;

	memset(&im, 0, sizeof(im));
	if (index_open(mb->dir, &ix, &err) < 0)
		return -1;
	if (index_sync(ix, 0) == 0 && index_get(ix, m->uid, &im) == 0 &&
	    strcmp(im.base, m->base) == 0) {
		free(m->filename);
		m->filename = im.filename;
		im.filename = NULL;
		r = 0;
	}
	index_msg_clear(&im);
	index_close(&ix);
	return r;
}

int
pop3_mailbox_open_msg(struct pop3_session *s, struct pop3_msg *m)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		char *path = xasprintf("%s/%s", s->mbox.dir, m->filename);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		int e = errno;
		free(path);
		if (fd >= 0)
			return fd;
		if (e != ENOENT || attempt > 0 || refresh_name(&s->mbox, m) < 0) {
			errno = e;
			return -1;
		}
	}
	return -1;
}

static int
str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * deleted_uids - the current UIDs of the DELE'd messages, matched by base
 * name rather than by the UIDs of the snapshot: if the index was rebuilt
 * during the session (new UIDVALIDITY, new UIDs), a UID could name another
 * message, a base name cannot.
 */
static size_t
deleted_uids(struct pop3_mailbox *mb, struct mbox_index *ix, uint32_t **uids_r)
{
	struct index_msg *list;
	size_t n, nd = 0, nu = 0;
	char **bases = xcalloc(mb->ndeleted, sizeof(*bases));

	*uids_r = NULL;
	for (size_t i = 0; i < mb->n && nd < mb->ndeleted; i++)
		if (mb->msgs[i].deleted)
			bases[nd++] = mb->msgs[i].base;
	qsort(bases, nd, sizeof(*bases), str_ptr_cmp);
	if (index_list(ix, &list, &n) < 0) {
		free(bases);
		return 0;
	}
	*uids_r = xcalloc(nd ? nd : 1, sizeof(**uids_r));
	for (size_t i = 0; i < n && nu < nd; i++) {
		const char *key = list[i].base;
		if (bsearch(&key, bases, nd, sizeof(*bases), str_ptr_cmp))
			(*uids_r)[nu++] = list[i].uid;
	}
	index_msgs_free(list, n);
	free(bases);
	return nu;
}

int
pop3_mailbox_update(struct pop3_session *s)
{
	struct pop3_mailbox *mb = &s->mbox;
	struct mbox_index *ix;
	const char *err;
	uint32_t *uids = NULL;
	size_t n;
	int r;

	if (mb->ndeleted == 0)
		return 0;
	if (index_open(mb->dir, &ix, &err) < 0) {
		log_warnx("pop3: %s: %s", mb->dir, err);
		return -1;
	}
	/* a file renamed since login is found under its new name */
	r = index_sync(ix, 0);
	if (r == 0) {
		n = deleted_uids(mb, ix, &uids);
		r = uids ? index_expunge(ix, uids, n) : -1;
	}
	index_close(&ix);
	free(uids);
	return r;
}

void
pop3_mailbox_close(struct pop3_session *s)
{
	mailbox_free(&s->mbox);
}
