/*
 * index - open/create/recover the per-folder SQLite index, read it, and
 * the writes that also touch the Maildir (flags, expunge).
 *
 * Why time-based UIDVALIDITY with a side file: a client that cached UIDs
 * must see a different UIDVALIDITY after any rebuild, even one within the
 * same second or after the index file was deleted by hand; the side file
 * survives both and makes the value strictly increasing (as Dovecot's
 * dovecot-uidvalidity does).
 */
#include "index-private.h"
#include "maildir.h"
#include "buf.h"
#include "log.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define INDEX_VERSION		2	/* 2: the mime and body cache columns */
#define UIDVALIDITY_FILE	"onebox-uidvalidity"

static const char index_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY,"
    " value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS messages(uid INTEGER PRIMARY KEY,"
    " base TEXT NOT NULL UNIQUE, filename TEXT NOT NULL,"
    " size INTEGER NOT NULL, vsize INTEGER NOT NULL,"
    " internaldate INTEGER NOT NULL, flags INTEGER NOT NULL DEFAULT 0,"
    " keywords TEXT, modseq INTEGER NOT NULL,"
    " envelope BLOB, bodystructure BLOB, body BLOB, mime BLOB);"
    "CREATE INDEX IF NOT EXISTS messages_modseq ON messages(modseq);"
    "CREATE TABLE IF NOT EXISTS expunged(uid INTEGER PRIMARY KEY,"
    " modseq INTEGER NOT NULL);";

int
index_sqlerr(struct mbox_index *ix, const char *what)
{
	log_warnx("index: %s/%s: %s: %s", ix->dir, INDEX_FILE_NAME, what,
	    sqlite3_errmsg(ix->db));
	return -1;
}

int
index_exec(struct mbox_index *ix, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(ix->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("index: %s: \"%.40s\": %s", ix->dir, sql,
		    err ? err : "error");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

sqlite3_stmt *
index_prepare(struct mbox_index *ix, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		index_sqlerr(ix, "prepare");
		return NULL;
	}
	return st;
}

sqlite3_stmt *
index_prepare_kept(struct mbox_index *ix, sqlite3_stmt **slot, const char *sql)
{
	if (*slot != NULL) {
		sqlite3_reset(*slot);
		sqlite3_clear_bindings(*slot);
		return *slot;
	}
	return *slot = index_prepare(ix, sql);
}

void
index_stmts_free(struct mbox_index *ix)
{
	sqlite3_finalize(ix->st_get);
	sqlite3_finalize(ix->st_cache_get);
	ix->st_get = ix->st_cache_get = NULL;
}

int
index_meta_get(struct mbox_index *ix, const char *key, int64_t *v_r)
{
	sqlite3_stmt *st = index_prepare(ix,
	    "SELECT value FROM meta WHERE key = ?");
	int r;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*v_r = sqlite3_column_int64(st, 0);
	else if (r == SQLITE_DONE)
		*v_r = 0;
	else
		index_sqlerr(ix, "meta get");
	sqlite3_finalize(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
}

int
index_meta_set(struct mbox_index *ix, const char *key, int64_t v)
{
	sqlite3_stmt *st = index_prepare(ix,
	    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
	int r;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : index_sqlerr(ix, "meta set");
}

int
index_meta_load(struct mbox_index *ix)
{
	int64_t uv, un, hm;

	if (index_meta_get(ix, "uidvalidity", &uv) == -1 ||
	    index_meta_get(ix, "uidnext", &un) == -1 ||
	    index_meta_get(ix, "highestmodseq", &hm) == -1)
		return -1;
	ix->uidvalidity = (uint32_t)uv;
	ix->uidnext = (uint32_t)un;
	ix->highestmodseq = (uint64_t)hm;
	/* counted when asked: an IMAP IDLE checks an unchanged folder every
	 * second, and count(*) reads the whole table */
	ix->count_valid = 0;
	return 0;
}

size_t
index_base_len(const char *name)
{
	return strcspn(name, ",:");
}

/* A new UIDVALIDITY: max(now, last + 1), remembered in the side file. */
static uint32_t
index_new_uidvalidity(const char *dir)
{
	char *path = xasprintf("%s/%s", dir, UIDVALIDITY_FILE);
	char *tmp = xasprintf("%s.%ld", path, (long)getpid());
	char data[32];
	uint64_t last = 0, v = (uint64_t)time(NULL);
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		ssize_t n = read(fd, data, sizeof(data) - 1);
		close(fd);
		if (n > 0) {
			data[n] = '\0';
			if (str_to_u64(str_trim(data), &last) == -1)
				last = 0;
		}
	}
	if (v <= last)
		v = last + 1;
	v &= 0xffffffffu;
	if (v == 0)
		v = 1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) != -1) {
		int n = snprintf(data, sizeof(data), "%llu\n",
		    (unsigned long long)v);
		if (write(fd, data, (size_t)n) != n || close(fd) == -1 ||
		    rename(tmp, path) == -1) {
			log_warn("index: write %s", path);
			unlink(tmp);
		}
	} else
		log_warn("index: create %s", tmp);
	free(path);
	free(tmp);
	return (uint32_t)v;
}

/* index_migrate - bring an index made by an older onebox to INDEX_VERSION
 * (inside the schema transaction).  Version 1 had no body and mime cache
 * columns: added empty, filled at the next FETCH that needs them. */
static int
index_migrate(struct mbox_index *ix)
{
	int64_t v;

	if (index_meta_get(ix, "version", &v) == -1)
		return -1;
	if (v < 2 && (index_exec(ix, "ALTER TABLE messages ADD COLUMN body BLOB;"
	    "ALTER TABLE messages ADD COLUMN mime BLOB") == -1 ||
	    index_meta_set(ix, "version", 2) == -1))
		return -1;
	return 0;
}

/* Create tables and meta rows when missing, in one transaction; 0, -1,
 * or -2 if the file is corrupt. */
static int
index_init_schema(struct mbox_index *ix)
{
	int64_t uv;

	if (index_exec(ix, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (index_exec(ix, index_schema) == -1 ||
	    index_meta_get(ix, "uidvalidity", &uv) == -1)
		goto fail;
	if (uv == 0 && (index_meta_set(ix, "version", INDEX_VERSION) == -1 ||
	    index_meta_set(ix, "uidvalidity",
	    index_new_uidvalidity(ix->dir)) == -1 ||
	    index_meta_set(ix, "uidnext", 1) == -1 ||
	    index_meta_set(ix, "highestmodseq", 1) == -1 ||
	    index_meta_set(ix, "new_mtime", 0) == -1 ||
	    index_meta_set(ix, "cur_mtime", 0) == -1))
		goto fail;
	if (uv != 0 && index_migrate(ix) == -1)
		goto fail;
	if (index_exec(ix, "COMMIT") == -1)
		goto fail;
	return 0;
fail:
	if (index_is_corrupt(ix)) {
		index_exec(ix, "ROLLBACK");
		return -2;
	}
	index_exec(ix, "ROLLBACK");
	return -1;
}

int
index_is_corrupt(struct mbox_index *ix)
{
	int code = sqlite3_errcode(ix->db) & 0xff;

	return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

/* Open the database; 0, -1 on error, -2 if the file is corrupt. */
static int
index_db_open(struct mbox_index *ix)
{
	char *path = xasprintf("%s/%s", ix->dir, INDEX_FILE_NAME);
	int r;

	r = sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	free(path);
	if (r != SQLITE_OK)
		return index_sqlerr(ix, "open");
	sqlite3_busy_timeout(ix->db, 5000);
	/* FULL: every commit syncs the WAL.  With NORMAL a power loss may
	 * take back the last commits while UIDVALIDITY stays, and an IMAP
	 * client would see a UID it knows given to another message.  A
	 * commit happens only when something changed (an unchanged folder
	 * is recognised by its directory mtimes), so this costs one fsync
	 * per change, not per open. */
	if (index_exec(ix, "PRAGMA journal_mode=WAL") == -1 ||
	    index_exec(ix, "PRAGMA synchronous=FULL") == -1)
		return index_is_corrupt(ix) ? -2 : -1;
	if ((r = index_init_schema(ix)) != 0)
		return r;
	if (index_meta_load(ix) == -1)
		return index_is_corrupt(ix) ? -2 : -1;
	if (ix->uidvalidity == 0 || ix->uidnext == 0)
		return -2;
	return 0;
}

/* Rename the index file (and its -wal, -shm) aside. */
static void
index_move_aside(struct mbox_index *ix)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	long now = (long)time(NULL);

	for (size_t i = 0; i < 3; i++) {
		char *from = xasprintf("%s/%s%s", ix->dir, INDEX_FILE_NAME,
		    sfx[i]);
		char *to = xasprintf("%s/%s.corrupt-%ld%s", ix->dir,
		    INDEX_FILE_NAME, now, sfx[i]);
		if (rename(from, to) == -1 && errno != ENOENT)
			log_warn("index: rename %s", from);
		free(from);
		free(to);
	}
}

int
index_rebuild(struct mbox_index *ix)
{
	log_warnx("index: %s/%s is corrupt: moved aside, rebuilding"
	    " (new UIDVALIDITY)", ix->dir, INDEX_FILE_NAME);
	index_stmts_free(ix);
	sqlite3_close(ix->db);
	ix->db = NULL;
	index_move_aside(ix);
	return index_db_open(ix) == 0 ? 0 : -1;
}

/* Maildir++ root: the parent of a ".Sub" folder, else the folder. */
static char *
index_root_of(const char *dir)
{
	char *d = xstrdup(dir);
	size_t n = strlen(d);
	char *slash;

	while (n > 1 && d[n - 1] == '/')
		d[--n] = '\0';
	slash = strrchr(d, '/');
	if (slash != NULL && slash[1] == '.' && slash[2] != '\0' &&
	    strcmp(slash + 1, "..") != 0) {
		*slash = '\0';
		if (d[0] == '\0')
			strcpy(d, "/");
	}
	return d;
}

int
index_open(const char *folder_dir, struct mbox_index **ix_r,
    const char **error_r)
{
	struct mbox_index *ix;
	int r;

	*ix_r = NULL;
	if (maildir_create(folder_dir) == -1) {
		*error_r = "cannot create the maildir";
		return -1;
	}
	ix = xcalloc(1, sizeof(*ix));
	ix->dir = xstrdup(folder_dir);
	ix->root = index_root_of(folder_dir);
	if ((r = index_db_open(ix)) == -2)
		r = index_rebuild(ix);
	if (r != 0) {
		*error_r = "cannot open the mailbox index";
		index_close(&ix);
		return -1;
	}
	*ix_r = ix;
	return 0;
}

void
index_close(struct mbox_index **ixp)
{
	struct mbox_index *ix = *ixp;

	if (ix == NULL)
		return;
	index_stmts_free(ix);
	if (ix->db != NULL)
		sqlite3_close(ix->db);
	free(ix->dir);
	free(ix->root);
	free(ix);
	*ixp = NULL;
}

uint32_t
index_uidvalidity(struct mbox_index *ix)
{
	return ix->uidvalidity;
}

uint32_t
index_uidnext(struct mbox_index *ix)
{
	return ix->uidnext;
}

uint64_t
index_highestmodseq(struct mbox_index *ix)
{
	return ix->highestmodseq;
}

uint32_t
index_count(struct mbox_index *ix)
{
	sqlite3_stmt *st;

	if (!ix->count_valid && (st = index_prepare(ix, "SELECT count(*) FROM messages")) != NULL) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			ix->count = (uint32_t)sqlite3_column_int64(st, 0);
			ix->count_valid = 1;
		} else
			index_sqlerr(ix, "count");
		sqlite3_finalize(st);
	}
	return ix->count;
}

const char *
index_dir(struct mbox_index *ix)
{
	return ix->dir;
}

char *
index_msg_path(struct mbox_index *ix, const struct index_msg *m)
{
	return xasprintf("%s/%s", ix->dir, m->filename);
}
