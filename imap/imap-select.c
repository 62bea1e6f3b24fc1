/*
 * imap-select - entering and leaving the selected state (RFC 3501 §6.3.1,
 * §6.3.2, §6.4.1, §6.4.2; RFC 3691 UNSELECT).
 *
 * SELECT opens the folder's index in a worker: a sync (new files get
 * their UIDs), the UIDs still in new/ become this session's \Recent (and
 * move to cur/, so no later session gets them), and the message list is
 * read into s->mbox (8 bytes a message).  EXAMINE moves nothing: its
 * \Recent count is what is in new/ now, claimed by nobody.  The index
 * stays open while the mailbox is selected.
 */
#include "imap.h"
#include "log.h"
#include "maildir.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct select_job {
	struct imap_job j;
	char *dir;
	struct imap_mailbox mb;		/* filled by the worker, taken by done */
	int result;			/* 0, -1 error, 1 no such folder */
	uint32_t recent;
	const char *tag_cmd;		/* "SELECT" or "EXAMINE" */
	/* SELECT ... (QRESYNC (uidvalidity modseq [known-uids])) */
	int qresync;
	uint32_t qr_uidvalidity;
	uint64_t qr_modseq;
	struct imap_seqset qr_known;	/* n = 0: every UID */
};

static void
mailbox_free(struct imap_mailbox *mb)
{
	index_close(&mb->ix);
	free(mb->msgs);
	free(mb->name);
	memset(mb, 0, sizeof(*mb));
}

void
imap_mailbox_close(struct imap_session *s)
{
	mailbox_free(&s->mbox);
	if (s->state == IMAP_S_SELECTED)
		s->state = IMAP_S_AUTH;
}

/* mark_recent - the UIDs (ascending) are \Recent for this session. */
static void
mark_recent(struct imap_mailbox *mb, const uint32_t *uids, size_t n)
{
	size_t i = 0;

	for (size_t k = 0; k < mb->n && i < n; k++) {
		while (i < n && uids[i] < mb->msgs[k].uid)
			i++;
		if (i < n && uids[i] == mb->msgs[k].uid)
			mb->msgs[k].flags |= IDX_RECENT;
	}
}

/* load - the sync and the list; 0/-1. */
static int
load(struct select_job *sj)
{
	struct imap_mailbox *mb = &sj->mb;
	struct index_msg *list;
	uint32_t *recent = NULL;
	size_t n, nrecent = 0;

	if (index_sync(mb->ix, 0) < 0 || index_new_uids(mb->ix, &recent, &nrecent) < 0)
		return -1;
	if (!mb->readonly && nrecent > 0 && index_sync(mb->ix, 1) < 0) {
		free(recent);
		return -1;
	}
	if (index_list(mb->ix, &list, &n) < 0) {
		free(recent);
		return -1;
	}
	mb->msgs = n ? xcalloc(n, sizeof(*mb->msgs)) : NULL;
	mb->n = n;
	for (size_t i = 0; i < n; i++) {
		mb->msgs[i].uid = list[i].uid;
		mb->msgs[i].flags = list[i].flags;
		mb->msgs[i].kw = index_name_keywords(list[i].filename);
	}
	index_msgs_free(list, n);
	mark_recent(mb, recent, nrecent);
	sj->recent = (uint32_t)nrecent;
	free(recent);
	mb->uidvalidity = index_uidvalidity(mb->ix);
	mb->uidnext = index_uidnext(mb->ix);
	mb->highestmodseq = index_highestmodseq(mb->ix);
	return 0;
}

static void
select_work(struct imap_job *j)
{
	struct select_job *sj = (struct select_job *)j;
	const char *err;

	if (access(sj->dir, F_OK) < 0) {
		sj->result = 1;
		return;
	}
	/* files a crash left in tmp/ (never answered) go after 36 hours */
	maildir_clean_tmp(sj->dir);
	sj->result = -1;
	if (index_open(sj->dir, &sj->mb.ix, &err) < 0) {
		log_warnx("imap: %s: %s", sj->dir, err);
		return;
	}
	sj->result = load(sj);
}

static uint32_t
first_unseen(const struct imap_mailbox *mb)
{
	for (size_t i = 0; i < mb->n; i++)
		if (!(mb->msgs[i].flags & IDX_SEEN))
			return (uint32_t)i + 1;
	return 0;
}

/* uint_atom - a number atom of at most 19 digits; 0/-1. */
static int
uint_atom(const struct imap_arg *a, uint64_t *v_r)
{
	if (a->type != IMAP_ARG_ATOM || a->len >= 20 || a->str[strspn(a->str, "0123456789")] != '\0')
		return -1;
	*v_r = strtoull(a->str, NULL, 10);
	return 0;
}

/* resync - QRESYNC (RFC 7162 §3.2.5): what the client's cache of the
 * mailbox as of qr_modseq misses: VANISHED (EARLIER) for the messages
 * expunged since, a FETCH of the flags of those changed since, both
 * within the UIDs the client said it knows. */
static void
resync(struct imap_session *s, struct select_job *sj)
{
	struct imap_mailbox *mb = &s->mbox;
	const struct imap_seqset *known = sj->qr_known.n ? &sj->qr_known : NULL;
	struct index_msg *rows;
	uint32_t *gone;
	size_t nrows, ngone, w = 0;

	if (known)
		imap_seqset_resolve(&sj->qr_known, UINT32_MAX - 1);
	if (index_expunged_since(mb->ix, sj->qr_modseq, &gone, &ngone) == 0) {
		for (size_t i = 0; i < ngone; i++)
			if (!known || imap_seqset_has(known, gone[i]))
				gone[w++] = gone[i];
		imap_vanished(s, gone, w, 1);
		free(gone);
	}
	if (index_changed_since(mb->ix, sj->qr_modseq, &rows, &nrows) == 0) {
		imap_changed_out(s, rows, nrows, known);
		index_msgs_free(rows, nrows);
	}
}

/* select_params - "(CONDSTORE)", "(QRESYNC (uidvalidity modseq
 * [known-uids [seq-match]]))" or both; -1 answered BAD. */
static int
select_params(struct imap_session *s, const struct imap_arg *p, struct select_job *sj)
{
	const char *err = NULL;

	if (p->type != IMAP_ARG_LIST || p->n == 0)
		err = "SELECT parameters are a list";
	for (size_t i = 0; !err && i < p->n; i++) {
		const struct imap_arg *q;
		uint64_t v = 0;
		if (imap_arg_atom(&p->list[i], "CONDSTORE")) {
			s->condstore = 1;
			continue;
		}
		if (!imap_arg_atom(&p->list[i], "QRESYNC") || i + 1 == p->n) {
			err = "Unknown SELECT parameter";
			break;
		}
		q = &p->list[++i];
		if (!s->qresync)
			err = "QRESYNC is not enabled (ENABLE QRESYNC first)";
		else if (q->type != IMAP_ARG_LIST || q->n < 2 || q->n > 4 || uint_atom(&q->list[0], &v) < 0 ||
		    v == 0 || v > UINT32_MAX || uint_atom(&q->list[1], &sj->qr_modseq) < 0)
			err = "QRESYNC takes (uidvalidity modseq [known-uids [seq-match]])";
		else if (q->n >= 3 && (q->list[2].type != IMAP_ARG_ATOM ||
		    imap_parse_seqset(q->list[2].str, &sj->qr_known, &err) < 0))
			err = err ? err : "Invalid known UIDs";
		else if (q->n == 4 && (q->list[3].type != IMAP_ARG_LIST || q->list[3].n != 2))
			err = "Invalid sequence match data";
		sj->qresync = 1;
		sj->qr_uidvalidity = (uint32_t)v;
	}
	if (err) {
		imap_bad(s, err);
		return -1;
	}
	return 0;
}

static void
select_done(struct imap_session *s, struct imap_job *j)
{
	struct select_job *sj = (struct select_job *)j;
	struct imap_mailbox *mb;
	struct buf names = BUF_INIT;
	uint32_t unseen;

	if (sj->result != 0) {
		if (sj->result > 0)
			imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		else
			imap_tagged(s, "NO [SERVERBUG] Cannot open the mailbox");
		return;
	}
	s->mbox = sj->mb;
	memset(&sj->mb, 0, sizeof(sj->mb));
	s->state = IMAP_S_SELECTED;
	mb = &s->mbox;
	imap_keywords_load(s);
	imap_flag_names(s, &names);
	imap_reply(s, "* FLAGS (%s)", names.data);
	imap_reply(s, "* OK [PERMANENTFLAGS (%s%s)] Flags permitted", mb->readonly ? "" : names.data,
	    mb->readonly ? "" : " \\*");
	buf_free(&names);
	imap_reply(s, "* %zu EXISTS", mb->n);
	imap_reply(s, "* %u RECENT", sj->recent);
	if ((unseen = first_unseen(mb)) != 0)
		imap_reply(s, "* OK [UNSEEN %u] First unseen", unseen);
	imap_reply(s, "* OK [UIDVALIDITY %u] UIDs valid", mb->uidvalidity);
	imap_reply(s, "* OK [UIDNEXT %u] Predicted next UID", mb->uidnext);
	imap_reply(s, "* OK [HIGHESTMODSEQ %llu] Highest", (unsigned long long)mb->highestmodseq);
	if (sj->qresync && sj->qr_uidvalidity == mb->uidvalidity)
		resync(s, sj);
	imap_tagged(s, "OK [%s] %s completed", mb->readonly ? "READ-ONLY" : "READ-WRITE", sj->tag_cmd);
}

static void
select_free(struct imap_job *j)
{
	struct select_job *sj = (struct select_job *)j;

	mailbox_free(&sj->mb);
	imap_seqset_free(&sj->qr_known);
	free(sj->dir);
	free(sj);
}

void
imap_cmd_select(struct imap_session *s, const struct imap_command *c)
{
	const char *name;
	struct select_job *sj = xcalloc(1, sizeof(*sj));

	if (c->nargs == 2 && select_params(s, &c->args[1], sj) < 0) {
		imap_seqset_free(&sj->qr_known);
		free(sj);
		return;
	}
	/* a SELECT, even a failing one, leaves the mailbox selected before
	 * (RFC 3501 §6.3.1), without expunging it; RFC 7162 §3.2.11 has it
	 * said */
	if (s->state == IMAP_S_SELECTED)
		imap_reply(s, "* OK [CLOSED] Previous mailbox closed");
	imap_mailbox_close(s);
	if ((name = imap_folder_arg(s, &c->args[0])) == NULL) {
		imap_seqset_free(&sj->qr_known);
		free(sj);
		return;
	}
	sj->dir = index_folder_dir(s->root, name);
	sj->mb.name = xstrdup(name);
	sj->mb.readonly = strcmp(c->name, "EXAMINE") == 0;
	sj->tag_cmd = sj->mb.readonly ? "EXAMINE" : "SELECT";
	sj->j.work = select_work;
	sj->j.done = select_done;
	sj->j.free = select_free;
	imap_job_submit(s, &sj->j);
}

/* expunge_deleted - CLOSE: remove the \Deleted messages, silently. */
static int
expunge_deleted(struct imap_mailbox *mb)
{
	uint32_t *uids = xcalloc(mb->n ? mb->n : 1, sizeof(*uids));
	size_t n = 0;
	int r;

	for (size_t i = 0; i < mb->n; i++)
		if (mb->msgs[i].flags & IDX_DELETED)
			uids[n++] = mb->msgs[i].uid;
	r = index_expunge(mb->ix, uids, n);
	free(uids);
	return r;
}

void
imap_cmd_close(struct imap_session *s, const struct imap_command *c)
{
	int r = s->mbox.readonly ? 0 : expunge_deleted(&s->mbox);

	imap_mailbox_close(s);
	if (r < 0)
		imap_tagged(s, "NO [SERVERBUG] Some deleted messages were not removed");
	else
		imap_tagged(s, "OK CLOSE completed");
}

void
imap_cmd_unselect(struct imap_session *s, const struct imap_command *c)
{
	imap_mailbox_close(s);
	imap_tagged(s, "OK UNSELECT completed");
}

void
imap_cmd_check(struct imap_session *s, const struct imap_command *c)
{
	/* every change is durable when its command answers: nothing to do */
	imap_tagged(s, "OK CHECK completed");
}

/* ---- message sets ---- */

int
imap_msgset(struct imap_session *s, const struct imap_arg *a, int uid, uint32_t **idx_r, size_t *n_r)
{
	struct imap_mailbox *mb = &s->mbox;
	struct imap_seqset set;
	const char *err;
	uint32_t *idx;
	size_t n = 0;

	*idx_r = NULL;
	*n_r = 0;
	if (a->type != IMAP_ARG_ATOM || imap_parse_seqset(a->str, &set, &err) < 0) {
		imap_bad(s, a->type == IMAP_ARG_ATOM ? err : "Invalid sequence set");
		return -1;
	}
	imap_seqset_resolve(&set, uid ? (mb->n ? mb->msgs[mb->n - 1].uid : 0) : (uint32_t)mb->n);
	if (!uid)
		for (size_t i = 0; i < set.n; i++)
			if (set.r[i].lo == 0 || set.r[i].hi > mb->n) {
				imap_seqset_free(&set);
				imap_bad(s, "Invalid message sequence number");
				return -1;
			}
	idx = xcalloc(mb->n ? mb->n : 1, sizeof(*idx));
	for (size_t i = 0; i < mb->n; i++)
		if (imap_seqset_has(&set, uid ? mb->msgs[i].uid : (uint32_t)i + 1))
			idx[n++] = (uint32_t)i;
	imap_seqset_free(&set);
	*idx_r = idx;
	*n_r = n;
	return 0;
}
