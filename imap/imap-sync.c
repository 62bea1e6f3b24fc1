/*
 * imap-sync - telling a session what changed in its selected mailbox
 * (delivery, other sessions, POP3): untagged EXISTS, RECENT, EXPUNGE and
 * FETCH FLAGS (RFC 3501 §5.2, §7.3, §7.4), and IDLE (RFC 2177).
 *
 * Before each command of the selected state the index is synced (cheap
 * when the directories did not change) and the rows whose MODSEQ is above
 * what the session last saw are compared with its list: flag changes are
 * FETCH FLAGS, new UIDs are appended (EXISTS; those this session moved out
 * of new/ are its \Recent), expunged UIDs are EXPUNGEd, highest sequence
 * number first.  EXPUNGE is never sent before FETCH, STORE or SEARCH (the
 * client's sequence numbers would shift under the command): there the
 * vanished messages stay in the list, marked gone, until a command that
 * allows it.
 *
 * IDLE: the session waits for "DONE"; a timer of the process checks every
 * idling session's mailbox once a second.  (One sync per idle session per
 * second costs two stat() calls when nothing changed; a shared inotify
 * watch per folder is the next step for thousands of idle clients.)
 */
#include "imap.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IDLE_CHECK_MS	1000

/* find - the index of uid in the list, or mb->n. */
static size_t
find(const struct imap_mailbox *mb, uint32_t uid)
{
	size_t lo = 0, hi = mb->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mb->msgs[mid].uid < uid)
			lo = mid + 1;
		else if (mb->msgs[mid].uid > uid)
			hi = mid;
		else
			return mid;
	}
	return mb->n;
}

void
imap_uidset_out(struct buf *out, const uint32_t *uids, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		buf_printf(out, "%s%u", i ? "," : "", uids[i]);
		if (j > i)
			buf_printf(out, ":%u", uids[j]);
		i = j + 1;
	}
}

void
imap_vanished(struct imap_session *s, const uint32_t *uids, size_t n, int earlier)
{
	struct buf b = BUF_INIT;

	if (n == 0)
		return;
	imap_uidset_out(&b, uids, n);
	imap_reply(s, "* VANISHED %s%s", earlier ? "(EARLIER) " : "", b.data);
	buf_free(&b);
}

void
imap_changed_out(struct imap_session *s, const struct index_msg *rows, size_t n, const struct imap_seqset *known)
{
	struct imap_mailbox *mb = &s->mbox;

	for (size_t i = 0; i < n; i++) {
		size_t k = find(mb, rows[i].uid);
		struct buf b = BUF_INIT;
		if (k == mb->n || (mb->msgs[k].flags & IMAP_GONE) || (known && !imap_seqset_has(known, rows[i].uid)))
			continue;
		buf_printf(&b, "* %zu FETCH (UID %u FLAGS ", k + 1, rows[i].uid);
		imap_flags_out(s, &b, &mb->msgs[k]);
		buf_printf(&b, " MODSEQ (%llu))", (unsigned long long)rows[i].modseq);
		imap_reply(s, "%s", b.data);
		buf_free(&b);
	}
}

/* send_expunges - remove the messages marked gone: EXPUNGE highest first,
 * or one VANISHED once QRESYNC is on. */
static void
send_expunges(struct imap_session *s)
{
	struct imap_mailbox *mb = &s->mbox;
	size_t w = 0;

	if (s->qresync) {
		uint32_t *uids = xcalloc(mb->gone ? mb->gone : 1, sizeof(*uids));
		size_t n = 0;
		for (size_t i = 0; i < mb->n && n < mb->gone; i++)
			if (mb->msgs[i].flags & IMAP_GONE)
				uids[n++] = mb->msgs[i].uid;
		imap_vanished(s, uids, n, 0);
		free(uids);
	} else
		for (size_t i = mb->n; i-- > 0;)
			if (mb->msgs[i].flags & IMAP_GONE)
				imap_reply(s, "* %zu EXPUNGE", i + 1);
	for (size_t i = 0; i < mb->n; i++)
		if (!(mb->msgs[i].flags & IMAP_GONE))
			mb->msgs[w++] = mb->msgs[i];
	mb->n = w;
	mb->gone = 0;
}

static void
apply_expunged(struct imap_mailbox *mb, const uint32_t *uids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = find(mb, uids[i]);
		if (k < mb->n && !(mb->msgs[k].flags & IMAP_GONE)) {
			mb->msgs[k].flags |= IMAP_GONE;
			mb->gone++;
		}
	}
}

/* apply_changed - flag changes (reported) and new messages (appended). */
static size_t
apply_changed(struct imap_session *s, const struct index_msg *rows, size_t n, const uint32_t *recent,
    size_t nrecent)
{
	struct imap_mailbox *mb = &s->mbox;
	size_t added = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k = find(mb, rows[i].uid);
		uint32_t kw = index_name_keywords(rows[i].filename);
		if (kw >> s->nkw) {
			/* another session added a keyword */
			imap_keywords_load(s);
			imap_tell_flags(s);
		}
		if (k < mb->n) {
			struct imap_msg *m = &mb->msgs[k];
			if (((m->flags & IDX_STORED_FLAGS) == rows[i].flags && m->kw == kw) || (m->flags & IMAP_GONE))
				continue;
			m->flags = rows[i].flags | (m->flags & IDX_RECENT);
			m->kw = kw;
			struct buf b = BUF_INIT;
			buf_printf(&b, "* %zu FETCH (", k + 1);
			if (s->qresync)
				buf_printf(&b, "UID %u ", m->uid);	/* RFC 7162 §3.2.4 */
			buf_adds(&b, "FLAGS ");
			imap_flags_out(s, &b, m);
			if (s->condstore)
				buf_printf(&b, " MODSEQ (%llu)", (unsigned long long)rows[i].modseq);
			buf_addc(&b, ')');
			imap_reply(s, "%s", b.data);
			buf_free(&b);
		} else if (mb->n == 0 || rows[i].uid > mb->msgs[mb->n - 1].uid) {
			mb->msgs = xrealloc(mb->msgs, (mb->n + 1) * sizeof(*mb->msgs));
			mb->msgs[mb->n].uid = rows[i].uid;
			mb->msgs[mb->n].flags = rows[i].flags;
			mb->msgs[mb->n].kw = kw;
			for (size_t r = 0; r < nrecent; r++)
				if (recent[r] == rows[i].uid)
					mb->msgs[mb->n].flags |= IDX_RECENT;
			mb->n++;
			added++;
		}
	}
	return added;
}

static uint32_t
count_recent(const struct imap_mailbox *mb)
{
	uint32_t n = 0;

	for (size_t i = 0; i < mb->n; i++)
		n += (mb->msgs[i].flags & (IDX_RECENT | IMAP_GONE)) == IDX_RECENT;
	return n;
}

/* claim_recent - the new files in new/: ours (moved to cur/) unless read-only. */
static int
claim_recent(struct imap_mailbox *mb, uint32_t **recent_r, size_t *n_r)
{
	*recent_r = NULL;
	*n_r = 0;
	if (mb->readonly)
		return 0;
	if (index_new_uids(mb->ix, recent_r, n_r) < 0)
		return -1;
	return *n_r > 0 ? index_sync(mb->ix, 1) : 0;
}

void
imap_mailbox_sync(struct imap_session *s, int allow_expunge)
{
	struct imap_mailbox *mb = &s->mbox;
	struct index_msg *rows = NULL;
	uint32_t *gone = NULL, *recent = NULL;
	size_t nrows = 0, ngone = 0, nrecent = 0, added;
	uint64_t seen = mb->highestmodseq;

	if (mb->ix == NULL)
		return;
	if (index_sync(mb->ix, 0) < 0 || claim_recent(mb, &recent, &nrecent) < 0) {
		log_warnx("%016llx imap sync of %s failed", (unsigned long long)s->base.id, mb->name);
		free(recent);
		return;
	}
	if (index_highestmodseq(mb->ix) != seen) {
		if (index_changed_since(mb->ix, seen, &rows, &nrows) < 0 ||
		    index_expunged_since(mb->ix, seen, &gone, &ngone) < 0) {
			index_msgs_free(rows, nrows);
			free(recent);
			return;
		}
		mb->highestmodseq = index_highestmodseq(mb->ix);
		apply_expunged(mb, gone, ngone);
		added = apply_changed(s, rows, nrows, recent, nrecent);
		if (added) {
			imap_reply(s, "* %zu EXISTS", mb->n);
			imap_reply(s, "* %u RECENT", count_recent(mb));
		}
		index_msgs_free(rows, nrows);
		free(gone);
	}
	free(recent);
	if (allow_expunge && mb->gone)
		send_expunges(s);
}

/* ---- IDLE ---- */

static void
idle_check(void *arg)
{
	struct imapd *d = arg;
	int idlers = 0;

	for (struct session *b = d->svc.sessions; b; b = b->next) {
		struct imap_session *s = (struct imap_session *)b;
		if (s->state != IMAP_S_IDLE || session_closing(b))
			continue;
		idlers++;
		imap_mailbox_sync(s, 1);
	}
	if (idlers)
		ev_timer_add(d->svc.loop, &d->idle_timer, IDLE_CHECK_MS);
}

void
imap_idle_init(struct imapd *d)
{
	ev_timer_init(&d->idle_timer, idle_check, d);
}

void
imap_cmd_idle(struct imap_session *s, const struct imap_command *c)
{
	struct imapd *d = s->d;

	s->idle_from = s->state;
	s->state = IMAP_S_IDLE;
	imap_reply(s, "+ idling");
	if (!ev_timer_pending(&d->idle_timer))
		ev_timer_add(d->svc.loop, &d->idle_timer, IDLE_CHECK_MS);
}

void
imap_idle_line(struct imap_session *s, const char *line)
{
	s->state = s->idle_from;
	if (strcasecmp(line, "DONE") == 0) {
		imap_mailbox_sync(s, 1);
		imap_tagged(s, "OK IDLE terminated");
	} else
		imap_bad(s, "Expected DONE");
}
