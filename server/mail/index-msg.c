/*
 * index-msg - reading message rows, and the two writes that change the
 * Maildir as well as the index: flag changes (a rename) and expunge (an
 * unlink).
 *
 * Why the file operation happens inside the write transaction: onebox
 * processes changing cur/ are then serialized by the index lock, so a
 * concurrent index_sync() never sees a half-done change.
 */
#include "index-private.h"
#include "maildir.h"
#include "buf.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MSG_COLUMNS \
	"uid, base, filename, size, vsize, internaldate, flags, modseq"

static const struct {
	char letter;
	uint32_t flag;
} flag_letters[] = {	/* ASCII order, as Maildir wants */
	{ 'D', IDX_DRAFT }, { 'F', IDX_FLAGGED }, { 'R', IDX_ANSWERED },
	{ 'S', IDX_SEEN }, { 'T', IDX_DELETED },
};
#define N_FLAG_LETTERS (sizeof(flag_letters) / sizeof(flag_letters[0]))

/* The info part after ":2," of the last path component, or NULL. */
static const char *
name_info(const char *filename)
{
	const char *slash = strrchr(filename, '/');
	const char *p = strstr(slash ? slash + 1 : filename, ":2,");

	return p ? p + 3 : NULL;
}

uint32_t
index_name_flags(const char *filename)
{
	const char *info = name_info(filename);
	uint32_t flags = 0;

	if (info == NULL)
		return 0;
	for (; *info != '\0' && *info != ','; info++)
		for (size_t i = 0; i < N_FLAG_LETTERS; i++)
			if (*info == flag_letters[i].letter)
				flags |= flag_letters[i].flag;
	return flags;
}

static int
char_cmp(const void *a, const void *b)
{
	return *(const unsigned char *)a - *(const unsigned char *)b;
}

uint32_t
index_name_keywords(const char *filename)
{
	const char *info = name_info(filename);
	uint32_t kw = 0;

	for (; info != NULL && *info != '\0' && *info != ','; info++)
		if (*info >= 'a' && *info <= 'z')
			kw |= 1u << (*info - 'a');
	return kw;
}

/*
 * The name a file gets for new flags: in cur/, ":2," then the flag
 * letters, the keyword letters ('a' + bit; kw < 0: those the old name
 * had) and any other letters the old name had, sorted.
 */
static char *
name_with_flags_kw(const char *filename, uint32_t flags, int64_t kw)
{
	const char *info = name_info(filename);
	const char *slash = strrchr(filename, '/');
	const char *base = slash ? slash + 1 : filename;
	size_t blen = info ? (size_t)(info - 3 - base) : strlen(base);
	char letters[64];
	size_t n = 0;

	for (size_t i = 0; i < N_FLAG_LETTERS; i++)
		if (flags & flag_letters[i].flag)
			letters[n++] = flag_letters[i].letter;
	for (int i = 0; kw >= 0 && i < INDEX_KEYWORDS_MAX; i++)
		if (kw & (1 << i))
			letters[n++] = (char)('a' + i);
	for (; info != NULL && *info != '\0' && n < sizeof(letters) - 1;
	    info++) {
		int keyword = *info >= 'a' && *info <= 'z';
		if (strchr("DFRST", *info) == NULL && (!keyword || kw < 0) &&
		    memchr(letters, *info, n) == NULL)
			letters[n++] = *info;
	}
	letters[n] = '\0';
	qsort(letters, n, 1, char_cmp);
	return xasprintf("cur/%.*s:2,%s", (int)blen, base, letters);
}

static void
msg_from_row(sqlite3_stmt *st, struct index_msg *m)
{
	m->uid = (uint32_t)sqlite3_column_int64(st, 0);
	m->base = xstrdup((const char *)sqlite3_column_text(st, 1));
	m->filename = xstrdup((const char *)sqlite3_column_text(st, 2));
	m->size = (uint64_t)sqlite3_column_int64(st, 3);
	m->vsize = (uint64_t)sqlite3_column_int64(st, 4);
	m->internaldate = sqlite3_column_int64(st, 5);
	m->flags = (uint32_t)sqlite3_column_int64(st, 6);
	m->modseq = (uint64_t)sqlite3_column_int64(st, 7);
}

void
index_msg_clear(struct index_msg *m)
{
	free(m->base);
	free(m->filename);
	memset(m, 0, sizeof(*m));
}

void
index_msgs_free(struct index_msg *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		index_msg_clear(&msgs[i]);
	free(msgs);
}

int
index_list(struct mbox_index *ix, struct index_msg **msgs_r, size_t *n_r)
{
	sqlite3_stmt *st = index_prepare(ix,
	    "SELECT " MSG_COLUMNS " FROM messages ORDER BY uid");
	struct index_msg *msgs = NULL;
	size_t n = 0, cap = 0;
	int r;

	*msgs_r = NULL;
	*n_r = 0;
	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			msgs = xrealloc(msgs, cap * sizeof(*msgs));
		}
		msg_from_row(st, &msgs[n++]);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		index_msgs_free(msgs, n);
		return index_sqlerr(ix, "list");
	}
	*msgs_r = msgs;
	*n_r = n;
	return 0;
}

int
index_get(struct mbox_index *ix, uint32_t uid, struct index_msg *m_r)
{
	sqlite3_stmt *st = index_prepare_kept(ix, &ix->st_get,
	    "SELECT " MSG_COLUMNS " FROM messages WHERE uid = ?");
	int r;

	memset(m_r, 0, sizeof(*m_r));
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		msg_from_row(st, m_r);
	sqlite3_reset(st);	/* ends the read: no snapshot held between calls */
	if (r == SQLITE_ROW)
		return 0;
	return r == SQLITE_DONE ? 1 : index_sqlerr(ix, "get");
}

/* Start a write transaction; *modseq_r = the modseq its changes get. */
static int
write_begin(struct mbox_index *ix, uint64_t *modseq_r)
{
	int64_t hm;

	if (index_exec(ix, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (index_meta_get(ix, "highestmodseq", &hm) == -1) {
		index_exec(ix, "ROLLBACK");
		return -1;
	}
	*modseq_r = (uint64_t)hm + 1;
	return 0;
}

/* Update the row of a renamed message; 0/-1. */
static int
flags_update(struct mbox_index *ix, uint32_t uid, const char *filename,
    uint32_t flags, uint64_t modseq)
{
	sqlite3_stmt *st = index_prepare(ix, "UPDATE messages SET"
	    " filename = ?, flags = ?, modseq = ? WHERE uid = ?");
	int r;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, filename, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, flags);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)modseq);
	sqlite3_bind_int64(st, 4, uid);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return index_sqlerr(ix, "update flags");
	return index_meta_set(ix, "highestmodseq", (int64_t)modseq);
}

int
index_set_flags(struct mbox_index *ix, uint32_t uid, uint32_t flags)
{
	return index_set_flags_kw(ix, uid, flags, -1);
}

int
index_set_flags_kw(struct mbox_index *ix, uint32_t uid, uint32_t flags, int64_t kw)
{
	struct index_msg m;
	uint64_t modseq;
	char *newname = NULL, *from = NULL, *to = NULL;
	int ret = -1;

	flags &= IDX_STORED_FLAGS;
	if (write_begin(ix, &modseq) == -1)
		return -1;
	if (index_get(ix, uid, &m) != 0)
		goto out;
	newname = name_with_flags_kw(m.filename, flags, kw);
	if (strcmp(newname, m.filename) == 0 && m.flags == flags) {
		ret = 0;
		goto out;
	}
	from = index_msg_path(ix, &m);
	to = xasprintf("%s/%s", ix->dir, newname);
	if (rename(from, to) == -1) {
		log_warn("index: rename %s", from);
		goto out;
	}
	if (flags_update(ix, uid, newname, flags, modseq) == -1 ||
	    index_exec(ix, "COMMIT") == -1) {
		if (rename(to, from) == -1)
			log_warn("index: rename back %s", to);
		goto out;
	}
	ix->highestmodseq = modseq;
	ret = 0;
out:
	if (sqlite3_get_autocommit(ix->db) == 0)
		index_exec(ix, ret == 0 ? "COMMIT" : "ROLLBACK");
	index_msg_clear(&m);
	free(newname);
	free(from);
	free(to);
	return ret;
}

/* Unlink one message and move its row to expunged; 1 done, 0 no such
 * UID, -1 error.  Adds its size to *bytes. */
static int
expunge_one(struct mbox_index *ix, sqlite3_stmt *del, sqlite3_stmt *rec,
    uint32_t uid, uint64_t modseq, int64_t *bytes)
{
	struct index_msg m;
	int r = index_get(ix, uid, &m);

	if (r != 0)
		return r == 1 ? 0 : -1;
	char *path = index_msg_path(ix, &m);
	if (unlink(path) == -1 && errno != ENOENT) {
		/* the file stays: so must its row (else it comes back with a
		 * new UID and the quota undercounts); the caller rolls back */
		log_warn("index: unlink %s", path);
		free(path);
		index_msg_clear(&m);
		return -1;
	}
	free(path);
	*bytes += (int64_t)m.size;
	index_msg_clear(&m);
	sqlite3_reset(del);
	sqlite3_bind_int64(del, 1, uid);
	sqlite3_reset(rec);
	sqlite3_bind_int64(rec, 1, uid);
	sqlite3_bind_int64(rec, 2, (sqlite3_int64)modseq);
	if (sqlite3_step(del) != SQLITE_DONE || sqlite3_step(rec) != SQLITE_DONE)
		return index_sqlerr(ix, "expunge");
	return 1;
}

int
index_expunge(struct mbox_index *ix, const uint32_t *uids, size_t n)
{
	sqlite3_stmt *del, *rec;
	uint64_t modseq;
	int64_t bytes = 0, count = 0;
	int ret = 0;

	if (n == 0)
		return 0;
	if (write_begin(ix, &modseq) == -1)
		return -1;
	del = index_prepare(ix, "DELETE FROM messages WHERE uid = ?");
	rec = index_prepare(ix, "INSERT OR REPLACE INTO expunged(uid, modseq)"
	    " VALUES (?, ?)");
	for (size_t i = 0; i < n && del != NULL && rec != NULL; i++) {
		int r = expunge_one(ix, del, rec, uids[i], modseq, &bytes);
		if (r == -1) {
			ret = -1;
			break;
		}
		count += r;
	}
	if (del == NULL || rec == NULL)
		ret = -1;
	sqlite3_finalize(del);
	sqlite3_finalize(rec);
	if (ret == 0 && count > 0 &&
	    index_meta_set(ix, "highestmodseq", (int64_t)modseq) == -1)
		ret = -1;
	if (ret == 0 && index_exec(ix, "COMMIT") == 0) {
		if (count > 0 && maildir_quota_add(ix->root, -bytes, -count) == -1)
			log_warn("index: quota update in %s", ix->root);
		return index_meta_load(ix);
	}
	/* Files already unlinked are noticed by the next index_sync(). */
	if (sqlite3_get_autocommit(ix->db) == 0)
		index_exec(ix, "ROLLBACK");
	return -1;
}

int
index_stats(struct mbox_index *ix, struct index_stats *st)
{
	sqlite3_stmt *q = index_prepare(ix, "SELECT count(*),"
	    " coalesce(sum((flags & 1) = 0), 0), coalesce(sum(filename LIKE 'new/%'), 0),"
	    " coalesce(sum(CASE WHEN vsize > 0 THEN vsize ELSE size END), 0) FROM messages");
	int r;

	memset(st, 0, sizeof(*st));
	if (q == NULL)
		return -1;
	if ((r = sqlite3_step(q)) == SQLITE_ROW) {
		st->messages = (uint32_t)sqlite3_column_int64(q, 0);
		st->unseen = (uint32_t)sqlite3_column_int64(q, 1);
		st->recent = (uint32_t)sqlite3_column_int64(q, 2);
		st->vsize = (uint64_t)sqlite3_column_int64(q, 3);
	}
	sqlite3_finalize(q);
	return r == SQLITE_ROW ? 0 : index_sqlerr(ix, "stats");
}

int
index_new_uids(struct mbox_index *ix, uint32_t **uids_r, size_t *n_r)
{
	sqlite3_stmt *q = index_prepare(ix, "SELECT uid FROM messages WHERE filename LIKE 'new/%' ORDER BY uid");
	uint32_t *uids = NULL;
	size_t n = 0;
	int r;

	*uids_r = NULL;
	*n_r = 0;
	if (q == NULL)
		return -1;
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		uids = xrealloc(uids, (n + 1) * sizeof(*uids));
		uids[n++] = (uint32_t)sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	if (r != SQLITE_DONE) {
		free(uids);
		return index_sqlerr(ix, "new uids");
	}
	*uids_r = uids;
	*n_r = n;
	return 0;
}

int
index_copy_to(struct mbox_index *ix, uint32_t uid, const char *dest_dir, uint64_t *bytes_r,
    char unique[INDEX_UNIQUE_MAX])
{
	struct index_msg m;
	char *from = NULL, *to = NULL, *name = NULL, *base;
	int r;

	if ((r = index_get(ix, uid, &m)) != 0)
		return r == 1 ? 1 : -1;
	maildir_unique(unique, INDEX_UNIQUE_MAX);
	/* the new name: a fresh unique part, the sizes, the source's flags */
	base = xasprintf("%s,S=%llu,W=%llu", unique, (unsigned long long)m.size,
	    (unsigned long long)(m.vsize ? m.vsize : m.size));
	name = name_with_flags_kw(base, m.flags, index_name_keywords(m.filename));
	free(base);
	from = index_msg_path(ix, &m);
	to = xasprintf("%s/%s", dest_dir, name);
	r = link(from, to);
	if (r < 0)
		log_warn("index: link %s", to);
	else
		*bytes_r = m.size;
	free(from);
	free(to);
	free(name);
	index_msg_clear(&m);
	return r < 0 ? -1 : 0;
}

int
index_changed_since(struct mbox_index *ix, uint64_t modseq, struct index_msg **msgs_r, size_t *n_r)
{
	sqlite3_stmt *st = index_prepare(ix,
	    "SELECT " MSG_COLUMNS " FROM messages WHERE modseq > ? ORDER BY uid");
	struct index_msg *msgs = NULL;
	size_t n = 0, cap = 0;
	int r;

	*msgs_r = NULL;
	*n_r = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)modseq);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			msgs = xrealloc(msgs, cap * sizeof(*msgs));
		}
		msg_from_row(st, &msgs[n++]);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		index_msgs_free(msgs, n);
		return index_sqlerr(ix, "changed since");
	}
	*msgs_r = msgs;
	*n_r = n;
	return 0;
}

int
index_expunged_since(struct mbox_index *ix, uint64_t modseq, uint32_t **uids_r, size_t *n_r)
{
	sqlite3_stmt *st = index_prepare(ix, "SELECT uid FROM expunged WHERE modseq > ? ORDER BY uid");
	uint32_t *uids = NULL;
	size_t n = 0;
	int r;

	*uids_r = NULL;
	*n_r = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)modseq);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		uids = xrealloc(uids, (n + 1) * sizeof(*uids));
		uids[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		free(uids);
		return index_sqlerr(ix, "expunged since");
	}
	*uids_r = uids;
	*n_r = n;
	return 0;
}

int
index_uid_of(struct mbox_index *ix, const char *base, uint32_t *uid_r)
{
	sqlite3_stmt *st = index_prepare(ix, "SELECT uid FROM messages WHERE base = ?");
	int r;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, base, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*uid_r = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (r == SQLITE_ROW)
		return 0;
	return r == SQLITE_DONE ? 1 : index_sqlerr(ix, "uid of");
}
