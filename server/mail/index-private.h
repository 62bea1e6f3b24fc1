/*
 * index-private - shared between index.c (open, schema, reads, flag and
 * expunge writes) and index-sync.c (directory scan and merge).  Not for
 * other modules: use index.h.
 */
#ifndef ONEBOX_INDEX_PRIVATE_H
#define ONEBOX_INDEX_PRIVATE_H

#include <sqlite3.h>
#include <stdint.h>

#include "index.h"

struct mbox_index {
	sqlite3 *db;
	char *dir;		/* the folder: tmp/ new/ cur/ */
	char *root;		/* Maildir++ root (quota) */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t count;
	int count_valid;	/* count is as of the last load (else ask) */
	/* statements run once per message (FETCH of 10,000 messages): kept
	 * prepared, since preparing cost more than the lookup itself */
	sqlite3_stmt *st_get, *st_cache_get;
};

/* index_exec - run SQL without results; 0, or -1 logged. */
int index_exec(struct mbox_index *ix, const char *sql);
/* index_prepare - prepared statement or NULL (logged). */
sqlite3_stmt *index_prepare(struct mbox_index *ix, const char *sql);
/* index_prepare_kept - *slot, prepared on first use and reset for the
 * next; the caller does not finalize it (index_stmts_free does).  NULL
 * (logged) on failure. */
sqlite3_stmt *index_prepare_kept(struct mbox_index *ix, sqlite3_stmt **slot, const char *sql);
/* index_stmts_free - finalize the kept statements (before the close). */
void index_stmts_free(struct mbox_index *ix);
int index_meta_get(struct mbox_index *ix, const char *key, int64_t *v_r);
int index_meta_set(struct mbox_index *ix, const char *key, int64_t v);
/* index_meta_load - refresh the cached counters from the database. */
int index_meta_load(struct mbox_index *ix);
/* index_sqlerr - log a failed SQLite call with context; returns -1. */
int index_sqlerr(struct mbox_index *ix, const char *what);

/* index_is_corrupt - 1 if the last SQLite error says the file is bad. */
int index_is_corrupt(struct mbox_index *ix);
/* index_rebuild - move the bad file aside and create an empty index
 * (new UIDVALIDITY); the caller syncs.  0/-1. */
int index_rebuild(struct mbox_index *ix);

/* index_base_len - length of the unique part of a name (before ',' or ':'). */
size_t index_base_len(const char *name);

#endif
