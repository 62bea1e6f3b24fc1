/*
 * imap-fetch-cache - fill the index's IMAP cache (ENVELOPE, BODYSTRUCTURE,
 * BODY, the MIME tree blob) for the messages a FETCH is about to answer,
 * in a worker, before the answer starts.
 *
 * Why before and not while streaming: a header sync of a big folder
 * (Thunderbird's and Outlook's BODY.PEEK[HEADER.FIELDS (...)] or
 * BODYSTRUCTURE over 1:*) would otherwise parse every file in the event
 * loop and write the index once per message; here the parsing runs beside
 * the loop and the rows are written in batches, once per message for
 * good.  Later FETCHes find the cache and map files without parsing them.
 */
#include "imap.h"
#include "imap-msg.h"
#include "log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define CACHE_BATCH	256	/* rows written per transaction */

struct cache_job {
	struct imap_job j;
	uint32_t *uids;		/* the FETCH's UIDs, ascending */
	size_t n;
	void (*then)(struct imap_session *s);
};

/* cache_one - parse the message uid into c; 0, or -1 (gone, unreadable). */
static int
cache_one(struct mbox_index *ix, uint32_t uid, struct index_cache *c)
{
	struct index_msg im;
	struct mime_tree t;
	char *path;
	int fd, r;

	if (index_get(ix, uid, &im) != 0)
		return -1;
	path = index_msg_path(ix, &im);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	index_msg_clear(&im);
	if (fd < 0)
		return -1;	/* renamed meanwhile: FETCH parses it itself */
	r = mime_open_fd(fd, NULL, 0, &t);
	close(fd);
	if (r < 0)
		return -1;
	imap_msg_cache_fill(&t, c);
	mime_tree_free(&t);
	return 0;
}

static int
has_uid(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (uids[mid] == uid)
			return 1;
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void
cache_work(struct imap_job *j)
{
	struct cache_job *cj = (struct cache_job *)j;
	struct mbox_index *ix = j->s->mbox.ix;
	struct index_cache batch[CACHE_BATCH] = { 0 };
	uint32_t buids[CACHE_BATCH], *missing;
	size_t nmissing, nb = 0;

	if (index_cache_missing(ix, cj->uids[0], cj->uids[cj->n - 1], &missing, &nmissing) < 0)
		return;
	for (size_t i = 0; i < nmissing; i++) {
		if (!has_uid(cj->uids, cj->n, missing[i]) || cache_one(ix, missing[i], &batch[nb]) < 0)
			continue;
		buids[nb++] = missing[i];
		if (nb == CACHE_BATCH) {
			index_cache_put(ix, buids, batch, nb);
			nb = 0;
		}
	}
	if (nb > 0)
		index_cache_put(ix, buids, batch, nb);
	for (size_t i = 0; i < CACHE_BATCH; i++)
		index_cache_clear(&batch[i]);
	free(missing);
}

static void
cache_done(struct imap_session *s, struct imap_job *j)
{
	((struct cache_job *)j)->then(s);
}

static void
cache_free(struct imap_job *j)
{
	struct cache_job *cj = (struct cache_job *)j;

	free(cj->uids);
	free(cj);
}

void
imap_fetch_cache(struct imap_session *s, uint32_t *uids, size_t n, void (*then)(struct imap_session *s))
{
	struct cache_job *cj = xcalloc(1, sizeof(*cj));

	cj->uids = uids;
	cj->n = n;
	cj->then = then;
	cj->j.work = cache_work;
	cj->j.done = cache_done;
	cj->j.free = cache_free;
	cj->j.holds_session = 1;	/* it uses s->mbox.ix */
	imap_job_submit(s, &cj->j);
}
