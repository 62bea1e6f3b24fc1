/*
 * db-int - private to db/: the handle and the helpers shared by the files of db/.
 *
 * Statements are prepared once per handle and cached, keyed by the SQL text
 * pointer (each caller passes a static string), so a lookup on the hot path
 * of the mail processes is bind + step + reset.
 */
#ifndef ONEBOX_DB_INT_H
#define ONEBOX_DB_INT_H

#include <sqlite3.h>

#include "db.h"

#define DB_STMT_MAX	64
#define DB_ERR_MAX	512

struct db_stmt_slot {
	const char *sql;
	sqlite3_stmt *st;
};

struct db {
	sqlite3 *sq;
	enum db_mode mode;
	char err[DB_ERR_MAX];
	struct db_stmt_slot stmts[DB_STMT_MAX];
	size_t nstmts;
	int64_t dv_caller;	/* data_version last reported by db_changed() */
	int64_t dv_cache;	/* data_version the settings cache was read at */
	int cache_valid;
	char *cache[ST__COUNT];	/* stored value per setting, NULL = unset */
	int64_t num[ST__COUNT];	/* the numbers of INT, SIZE and BOOL settings */
};

/* db_seterr - format the handle's error message; returns it. */
const char *db_seterr(struct db *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* db_sqlerr - set the error to "what: <sqlite message>"; returns it. */
const char *db_sqlerr(struct db *db, const char *what);
/* db_stmt - the cached prepared statement for sql (a static string), reset
 * and with bindings cleared; NULL (error set) on failure. */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);
/* db_exec - run sql (no result rows) with text parameters; 0/-1. */
int db_exec(struct db *db, const char *sql, int nargs, const char *const *args);
/* db_exists - 1 if the query with one text parameter returns a row, 0, -1. */
int db_exists(struct db *db, const char *sql, const char *arg);
/* db_data_version - PRAGMA data_version, -1 on error. */
int64_t db_data_version(struct db *db);
/* db_settings_invalidate - drop the settings cache. */
void db_settings_invalidate(struct db *db);

/* db_split_address - "local@domain" into a malloc'd local part and a
 * malloc'd lower-case domain (split at the last '@'); 0/-1. */
int db_split_address(const char *address, char **local_r, char **domain_r);
/* db_norm_address - malloc'd local@domain with the domain lower-cased,
 * or NULL if address has no '@' or an empty side. */
char *db_norm_address(const char *address);
/* db_is_local_domain - 1/0/-1 */
int db_is_local_domain(struct db *db, const char *domain);
/* db_is_user - 1/0/-1; db_is_alias - 1/0/-1 */
int db_is_user(struct db *db, const char *address);
int db_is_alias(struct db *db, const char *address);
/* db_alias_reaches - 1 if alias expansion from "from" can arrive at "to". */
int db_alias_reaches(struct db *db, const char *from, const char *to);

#endif
