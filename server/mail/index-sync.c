/*
 * index-sync - make the index match the Maildir's new/ and cur/.
 *
 * Design: one readdir of each directory and one SELECT of all rows, both
 * sorted by base and merged, so a 100,000-message folder costs two sorts
 * and no per-file query.  Everything runs inside BEGIN IMMEDIATE, so two
 * processes never assign UIDs to the same file and the renames done for
 * move_new_to_cur are serialized with index_set_flags()/index_expunge().
 *
 * The scan is skipped when the directory mtimes (st_mtim, nanoseconds)
 * equal those stored by the last sync.  Directory timestamps are coarse
 * (the kernel takes them from a clock that ticks every few ms), so a
 * change within the same tick as our stat would look like no change: an
 * mtime less than INDEX_MTIME_SLACK seconds old is stored as 0, which
 * forces the next sync to rescan.
 */
#include "index-private.h"
#include "maildir.h"
#include "buf.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INDEX_MTIME_SLACK	2

struct disk_ent {
	char *rel;		/* "new/NAME" or "cur/NAME" */
	size_t blen;		/* base = rel + 4, blen bytes */
};

struct db_row {
	uint32_t uid;
	uint32_t flags;
	char *filename;		/* "new/..." or "cur/...": base = filename + 4 */
	size_t blen;
};

struct sync_ctx {
	struct mbox_index *ix;
	struct disk_ent *disk;
	size_t ndisk;
	struct db_row *rows;
	size_t nrows;
	struct disk_ent **fresh;	/* files not in the index */
	size_t nfresh;
	uint64_t modseq;		/* for this sync's changes */
	int changed;
	int64_t new_count;		/* rows left in new/ */
};

static int
base_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	int r = memcmp(a, b, la < lb ? la : lb);

	if (r != 0)
		return r;
	return la < lb ? -1 : la > lb;
}

static int
disk_cmp(const void *pa, const void *pb)
{
	const struct disk_ent *a = pa, *b = pb;
	int r = base_cmp(a->rel + 4, a->blen, b->rel + 4, b->blen);

	return r != 0 ? r : strcmp(a->rel, b->rel);	/* cur/ first */
}

static int
row_cmp(const void *pa, const void *pb)
{
	const struct db_row *a = pa, *b = pb;

	return base_cmp(a->filename + 4, a->blen, b->filename + 4, b->blen);
}

/* Delivery time in microseconds from "<sec>.M<usec>P...", else 0. */
static uint64_t
name_time(const char *base)
{
	uint64_t sec = 0, usec = 0;
	const char *p = base;

	while (*p >= '0' && *p <= '9')
		sec = sec * 10 + (uint64_t)(*p++ - '0');
	if (p[0] == '.' && p[1] == 'M')
		for (p += 2; *p >= '0' && *p <= '9'; p++)
			usec = usec * 10 + (uint64_t)(*p - '0');
	return sec * 1000000 + usec % 1000000;
}

static int
fresh_cmp(const void *pa, const void *pb)
{
	const struct disk_ent *a = *(struct disk_ent *const *)pa;
	const struct disk_ent *b = *(struct disk_ent *const *)pb;
	uint64_t ta = name_time(a->rel + 4), tb = name_time(b->rel + 4);

	if (ta != tb)
		return ta < tb ? -1 : 1;
	return strcmp(a->rel + 4, b->rel + 4);
}

static int64_t
ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* Current mtimes of new/ and cur/ in ns, or -1 on error. */
static int
dir_mtimes(struct mbox_index *ix, int64_t *new_r, int64_t *cur_r)
{
	struct stat sn, sc;
	char *n = xasprintf("%s/new", ix->dir), *c = xasprintf("%s/cur", ix->dir);
	int r = stat(n, &sn) == 0 && stat(c, &sc) == 0 ? 0 : -1;

	if (r == -1)
		log_warn("index: stat %s/{new,cur}", ix->dir);
	else {
		*new_r = ts_ns(&sn.st_mtim);
		*cur_r = ts_ns(&sc.st_mtim);
	}
	free(n);
	free(c);
	return r;
}

static int
scan_dir(struct sync_ctx *c, const char *sub, size_t *cap)
{
	char *path = xasprintf("%s/%s", c->ix->dir, sub);
	DIR *d = opendir(path);
	struct dirent *de;

	if (d == NULL) {
		log_warn("index: opendir %s", path);
		free(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		if (c->ndisk == *cap) {
			*cap = *cap ? *cap * 2 : 256;
			c->disk = xrealloc(c->disk, *cap * sizeof(*c->disk));
		}
		struct disk_ent *e = &c->disk[c->ndisk++];
		size_t nlen = strlen(de->d_name);
		e->rel = xmalloc(nlen + 5);
		memcpy(e->rel, sub, 3);
		e->rel[3] = '/';
		memcpy(e->rel + 4, de->d_name, nlen + 1);
		e->blen = index_base_len(de->d_name);
	}
	closedir(d);
	free(path);
	return 0;
}

static int
load_rows(struct sync_ctx *c)
{
	sqlite3_stmt *st = index_prepare(c->ix,
	    "SELECT uid, flags, filename FROM messages");
	size_t cap = 0;
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->nrows == cap) {
			cap = cap ? cap * 2 : 256;
			c->rows = xrealloc(c->rows, cap * sizeof(*c->rows));
		}
		struct db_row *w = &c->rows[c->nrows++];
		w->uid = (uint32_t)sqlite3_column_int64(st, 0);
		w->flags = (uint32_t)sqlite3_column_int64(st, 1);
		w->filename = xstrdup((const char *)sqlite3_column_text(st, 2));
		w->blen = strlen(w->filename) < 4 ? 0 :
		    index_base_len(w->filename + 4);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return index_sqlerr(c->ix, "load");
	if (c->nrows > 1)
		qsort(c->rows, c->nrows, sizeof(*c->rows), row_cmp);
	return 0;
}

/* Rename new/X to cur/X:2, (under the index lock); updates e->rel. */
static void
move_to_cur(struct sync_ctx *c, struct disk_ent *e)
{
	const char *name = e->rel + 4;
	char *rel = xasprintf("cur/%s%s", name,
	    strstr(name, ":2,") ? "" : ":2,");
	char *from = xasprintf("%s/%s", c->ix->dir, e->rel);
	char *to = xasprintf("%s/%s", c->ix->dir, rel);

	if (rename(from, to) == 0 ||
	    (errno == ENOENT && access(to, F_OK) == 0)) {
		free(e->rel);
		e->rel = rel;
		rel = NULL;
	} else if (errno != ENOENT)
		log_warn("index: rename %s", from);
	free(rel);
	free(from);
	free(to);
}

static int
row_expunge(struct sync_ctx *c, const struct db_row *w)
{
	sqlite3_stmt *del = index_prepare(c->ix,
	    "DELETE FROM messages WHERE uid = ?");
	sqlite3_stmt *rec = index_prepare(c->ix,
	    "INSERT OR REPLACE INTO expunged(uid, modseq) VALUES (?, ?)");
	int ok = del != NULL && rec != NULL;

	if (ok) {
		sqlite3_bind_int64(del, 1, w->uid);
		sqlite3_bind_int64(rec, 1, w->uid);
		sqlite3_bind_int64(rec, 2, (sqlite3_int64)c->modseq);
		ok = sqlite3_step(del) == SQLITE_DONE &&
		    sqlite3_step(rec) == SQLITE_DONE;
	}
	sqlite3_finalize(del);
	sqlite3_finalize(rec);
	c->changed = 1;
	if (ok) {
		/* the file went away behind our back: take it off the quota too */
		uint64_t size, vsize;
		maildir_name_sizes(w->filename, &size, &vsize);
		if (size)
			maildir_quota_add(c->ix->root, -(int64_t)size, -1);
	}
	return ok ? 0 : index_sqlerr(c->ix, "sync expunge");
}

/* The file of a known row was renamed: new flags and/or place. */
static int
row_update(struct sync_ctx *c, const struct db_row *w, const char *rel)
{
	uint32_t flags = index_name_flags(rel);
	/* a keyword change (only in the name) is a change too */
	int same = flags == w->flags && index_name_keywords(rel) == index_name_keywords(w->filename);
	sqlite3_stmt *st = index_prepare(c->ix, same ?
	    "UPDATE messages SET filename = ?1 WHERE uid = ?3" :
	    "UPDATE messages SET filename = ?1, flags = ?2, modseq = ?4"
	    " WHERE uid = ?3");
	int r;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, w->uid);
	if (!same) {
		sqlite3_bind_int64(st, 2, flags);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)c->modseq);
		c->changed = 1;
	}
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : index_sqlerr(c->ix, "sync update");
}

/* Merge the sorted disk entries with the sorted rows. */
static int
merge(struct sync_ctx *c)
{
	size_t i = 0, j = 0;

	c->fresh = xcalloc(c->ndisk + 1, sizeof(*c->fresh));
	while (i < c->ndisk || j < c->nrows) {
		struct disk_ent *e = i < c->ndisk ? &c->disk[i] : NULL;
		struct db_row *w = j < c->nrows ? &c->rows[j] : NULL;
		int cmp = e == NULL ? 1 : w == NULL ? -1 :
		    base_cmp(e->rel + 4, e->blen, w->filename + 4, w->blen);

		if (cmp > 0) {
			if (row_expunge(c, w) == -1)
				return -1;
			j++;
			continue;
		}
		if (cmp == 0 && strcmp(e->rel, w->filename) != 0 &&
		    row_update(c, w, e->rel) == -1)
			return -1;
		if (cmp < 0)
			c->fresh[c->nfresh++] = e;
		if (strncmp(e->rel, "new/", 4) == 0)
			c->new_count++;
		j += cmp == 0;
		/* A base twice on disk (new/ and cur/): the first wins. */
		for (i++; i < c->ndisk && base_cmp(e->rel + 4, e->blen,
		    c->disk[i].rel + 4, c->disk[i].blen) == 0; i++)
			log_warnx("index: %s: duplicate %s ignored", c->ix->dir,
			    c->disk[i].rel);
	}
	return 0;
}

/* Sizes and date of a file the index does not know yet; -1 if gone. */
static int
fresh_stat(struct mbox_index *ix, const char *rel, uint64_t *size_r,
    uint64_t *vsize_r, int64_t *date_r)
{
	char *path = xasprintf("%s/%s", ix->dir, rel);
	struct stat st;
	int named = maildir_name_sizes(rel, size_r, vsize_r) == 0;
	int r = stat(path, &st);

	if (r == 0) {
		*date_r = st.st_mtime;
		if (!named) {
			/* Not from onebox: count the bare LFs (each becomes CR LF
			 * when sent; a file stored with CR LF keeps its size). */
			uint64_t lf = 0;
			char b[65536], prev = 0;
			ssize_t n;
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			while (fd != -1 && (n = read(fd, b, sizeof(b))) > 0)
				for (ssize_t k = 0; k < n; prev = b[k++])
					lf += b[k] == '\n' && prev != '\r';
			if (fd != -1)
				close(fd);
			*size_r = (uint64_t)st.st_size;
			*vsize_r = *size_r + lf;
		}
	}
	free(path);
	return r;
}

/* Give the new files their UIDs in delivery order. */
static int
insert_fresh(struct sync_ctx *c, uint32_t *uidnext)
{
	sqlite3_stmt *st;
	int ret = 0;

	if (c->nfresh == 0)
		return 0;
	qsort(c->fresh, c->nfresh, sizeof(*c->fresh), fresh_cmp);
	st = index_prepare(c->ix, "INSERT INTO messages(uid, base, filename,"
	    " size, vsize, internaldate, flags, modseq)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return -1;
	for (size_t k = 0; k < c->nfresh && ret == 0; k++) {
		const char *rel = c->fresh[k]->rel;
		uint64_t size, vsize;
		int64_t date;
		if (fresh_stat(c->ix, rel, &size, &vsize, &date) == -1)
			continue;	/* gone meanwhile */
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, (*uidnext)++);
		sqlite3_bind_text(st, 2, rel + 4, (int)c->fresh[k]->blen,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 3, rel, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)size);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)vsize);
		sqlite3_bind_int64(st, 6, date);
		sqlite3_bind_int64(st, 7, index_name_flags(rel));
		sqlite3_bind_int64(st, 8, (sqlite3_int64)c->modseq);
		if (sqlite3_step(st) != SQLITE_DONE)
			ret = index_sqlerr(c->ix, "sync insert");
		c->changed = 1;
	}
	sqlite3_finalize(st);
	return ret;
}

static void
sync_ctx_free(struct sync_ctx *c)
{
	for (size_t i = 0; i < c->ndisk; i++)
		free(c->disk[i].rel);
	for (size_t i = 0; i < c->nrows; i++) {
		free(c->rows[i].filename);
	}
	free(c->disk);
	free(c->rows);
	free(c->fresh);
}

/* A stored mtime: 0 ("rescan next time") if it is too recent to trust. */
static int64_t
mtime_to_store(int64_t mt)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (ts_ns(&now) - mt < (int64_t)INDEX_MTIME_SLACK * 1000000000)
		return 0;
	return mt;
}

/* The scan and merge, inside the transaction. */
static int
sync_locked(struct mbox_index *ix, int move_new_to_cur)
{
	struct sync_ctx c = { .ix = ix };
	int64_t hm, un, mt_new, mt_cur;
	uint32_t uidnext;
	size_t cap = 0;
	int ret = -1;

	if (index_meta_get(ix, "highestmodseq", &hm) == -1 ||
	    index_meta_get(ix, "uidnext", &un) == -1 ||
	    dir_mtimes(ix, &mt_new, &mt_cur) == -1)
		return -1;
	c.modseq = (uint64_t)hm + 1;
	uidnext = (uint32_t)un;
	if (scan_dir(&c, "new", &cap) == -1 || scan_dir(&c, "cur", &cap) == -1)
		goto out;
	if (move_new_to_cur)
		for (size_t i = 0; i < c.ndisk; i++)
			if (strncmp(c.disk[i].rel, "new/", 4) == 0)
				move_to_cur(&c, &c.disk[i]);
	if (c.ndisk > 1)
		qsort(c.disk, c.ndisk, sizeof(*c.disk), disk_cmp);
	if (load_rows(&c) == -1 || merge(&c) == -1 ||
	    insert_fresh(&c, &uidnext) == -1)
		goto out;
	if (index_meta_set(ix, "uidnext", uidnext) == -1 ||
	    (c.changed && index_meta_set(ix, "highestmodseq",
	    (int64_t)c.modseq) == -1) ||
	    index_meta_set(ix, "new_count", c.new_count) == -1 ||
	    index_meta_set(ix, "new_mtime", mtime_to_store(mt_new)) == -1 ||
	    index_meta_set(ix, "cur_mtime", mtime_to_store(mt_cur)) == -1)
		goto out;
	ret = 0;
out:
	sync_ctx_free(&c);
	return ret;
}

/* 1 if the directories are as the last sync left them. */
static int
sync_unchanged(struct mbox_index *ix, int move_new_to_cur)
{
	int64_t mt_new, mt_cur, st_new, st_cur, new_count;

	if (index_meta_get(ix, "new_mtime", &st_new) == -1 ||
	    index_meta_get(ix, "cur_mtime", &st_cur) == -1 ||
	    index_meta_get(ix, "new_count", &new_count) == -1 ||
	    dir_mtimes(ix, &mt_new, &mt_cur) == -1)
		return 0;
	if (st_new == 0 || st_cur == 0 || st_new != mt_new || st_cur != mt_cur)
		return 0;
	return !(move_new_to_cur && new_count > 0);
}

/* One sync attempt; -2 if the index file turned out to be corrupt. */
static int
sync_once(struct mbox_index *ix, int move_new_to_cur)
{
	if (sync_unchanged(ix, move_new_to_cur) &&
	    index_meta_load(ix) == 0)
		return 0;
	if (index_exec(ix, "BEGIN IMMEDIATE") == -1)
		return index_is_corrupt(ix) ? -2 : -1;
	if (sync_locked(ix, move_new_to_cur) == -1 ||
	    index_exec(ix, "COMMIT") == -1 || index_meta_load(ix) == -1) {
		int corrupt = index_is_corrupt(ix);
		if (sqlite3_get_autocommit(ix->db) == 0)
			index_exec(ix, "ROLLBACK");
		return corrupt ? -2 : -1;
	}
	return 0;
}

int
index_sync(struct mbox_index *ix, int move_new_to_cur)
{
	int r = sync_once(ix, move_new_to_cur);

	if (r == -2 && index_rebuild(ix) == 0)
		r = sync_once(ix, move_new_to_cur);
	return r == 0 ? 0 : -1;
}
