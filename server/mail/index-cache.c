/*
 * index-cache - the IMAP cache columns of a message row: the ENVELOPE,
 * BODYSTRUCTURE and BODY texts and the MIME tree blob (mime.h).
 *
 * Why they may be cached for good: a message file never changes once
 * delivered (flags live in its name), so what is parsed from it stays
 * true; a row whose file was replaced behind our back is a new row.
 *
 * Why index_cache_put() relaxes synchronous for its transaction: the
 * cache can always be computed again, so losing its last commits to a
 * power cut costs nothing, while an fsync per batch would make the first
 * header sync of a big folder wait on the disk.  A later FULL commit of
 * another change syncs the WAL frames before it, so nothing but cache
 * entries can be lost this way.
 */
#include "index-private.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>

static void
column_to_buf(sqlite3_stmt *st, int col, struct buf *b)
{
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);

	buf_reset(b);
	if (p != NULL && n > 0)
		buf_add(b, p, (size_t)n);
}

int
index_cache_get(struct mbox_index *ix, uint32_t uid, struct index_cache *c)
{
	sqlite3_stmt *st = index_prepare_kept(ix, &ix->st_cache_get, "SELECT envelope, bodystructure,"
	    " body, mime FROM messages WHERE uid = ? AND mime IS NOT NULL");
	int r;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		column_to_buf(st, 0, &c->envelope);
		column_to_buf(st, 1, &c->bodystructure);
		column_to_buf(st, 2, &c->body);
		column_to_buf(st, 3, &c->mime);
	}
	sqlite3_reset(st);	/* ends the read: no snapshot held between calls */
	if (r == SQLITE_ROW)
		return 0;
	return r == SQLITE_DONE ? 1 : index_sqlerr(ix, "cache get");
}

int
index_cache_missing(struct mbox_index *ix, uint32_t lo, uint32_t hi,
    uint32_t **uids_r, size_t *n_r)
{
	sqlite3_stmt *st = index_prepare(ix, "SELECT uid FROM messages"
	    " WHERE uid BETWEEN ? AND ? AND mime IS NULL ORDER BY uid");
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	int r;

	*uids_r = NULL;
	*n_r = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			uids = xrealloc(uids, cap * sizeof(*uids));
		}
		uids[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		free(uids);
		return index_sqlerr(ix, "cache missing");
	}
	*uids_r = uids;
	*n_r = n;
	return 0;
}

static void
bind_buf(sqlite3_stmt *st, int col, const struct buf *b)
{
	/* an empty text is still "computed": bind a zero-length blob */
	sqlite3_bind_blob(st, col, b->data ? b->data : "", (int)b->len,
	    SQLITE_STATIC);
}

int
index_cache_put(struct mbox_index *ix, const uint32_t *uids,
    const struct index_cache *c, size_t n)
{
	sqlite3_stmt *st;
	int r = SQLITE_DONE;

	if (n == 0)
		return 0;
	if (index_exec(ix, "PRAGMA synchronous=NORMAL") == -1)
		return -1;
	if (index_exec(ix, "BEGIN IMMEDIATE") == -1)
		goto out;
	st = index_prepare(ix, "UPDATE messages SET envelope = ?,"
	    " bodystructure = ?, body = ?, mime = ? WHERE uid = ?");
	for (size_t i = 0; st != NULL && i < n && r == SQLITE_DONE; i++) {
		bind_buf(st, 1, &c[i].envelope);
		bind_buf(st, 2, &c[i].bodystructure);
		bind_buf(st, 3, &c[i].body);
		bind_buf(st, 4, &c[i].mime);
		sqlite3_bind_int64(st, 5, uids[i]);
		r = sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (st == NULL || r != SQLITE_DONE) {
		index_sqlerr(ix, "cache put");
		index_exec(ix, "ROLLBACK");
	} else if (index_exec(ix, "COMMIT") == 0) {
		index_exec(ix, "PRAGMA synchronous=FULL");
		return 0;
	}
out:
	index_exec(ix, "PRAGMA synchronous=FULL");
	return -1;
}

void
index_cache_clear(struct index_cache *c)
{
	buf_free(&c->envelope);
	buf_free(&c->bodystructure);
	buf_free(&c->body);
	buf_free(&c->mime);
}
