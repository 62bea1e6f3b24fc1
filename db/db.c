/*
 * db - opening the config database, the statement cache and small helpers
 * shared by the other db/ files.
 *
 * The admin side opens DB_READWRITE: the file is created if missing, put in
 * WAL mode and migrated.  The mail processes open DB_READONLY and query on
 * every lookup; WAL lets them read while the admin writes, and PRAGMA
 * data_version tells them (db_changed) that something was committed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "db-int.h"
#include "migrate.h"

const char *
db_seterr(struct db *db, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
	return db->err;
}

const char *
db_sqlerr(struct db *db, const char *what)
{
	return db_seterr(db, "%s: %s", what, sqlite3_errmsg(db->sq));
}

const char *
db_errmsg(struct db *db)
{
	return db->err;
}

static int
db_pragmas(struct db *db)
{
	static const char rw[] =
	    "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=NORMAL;"
	    "PRAGMA foreign_keys=ON;";
	static const char ro[] =
	    "PRAGMA foreign_keys=ON;";
	char *msg = NULL;

	if (sqlite3_busy_timeout(db->sq, 5000) != SQLITE_OK ||
	    sqlite3_exec(db->sq, db->mode == DB_READWRITE ? rw : ro,
	    NULL, NULL, &msg) != SQLITE_OK) {
		db_seterr(db, "setting up: %s",
		    msg ? msg : sqlite3_errmsg(db->sq));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
db_check_version(struct db *db)
{
	int v = db_user_version(db);

	if (v < 0)
		return -1;
	if (v != db_schema_version()) {
		db_seterr(db, "database schema version %d, expected %d%s", v,
		    db_schema_version(), v < db_schema_version() ?
		    " (run any onebox command to migrate it)" :
		    " (upgrade onebox)");
		return -1;
	}
	return 0;
}

int
db_open(const char *path, enum db_mode mode, struct db **db_r,
    const char **error_r)
{
	static char openerr[DB_ERR_MAX];
	struct db *db;
	int flags;

	*db_r = NULL;
	db = xcalloc(1, sizeof(*db));
	db->mode = mode;
	db->dv_caller = db->dv_cache = -1;
	flags = mode == DB_READWRITE ?
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
	flags |= SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &db->sq, flags, NULL) != SQLITE_OK) {
		db_seterr(db, "%s: %s", path, db->sq ?
		    sqlite3_errmsg(db->sq) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db->sq, 1);
	if (db_pragmas(db) < 0)
		goto fail;
	if (mode == DB_READWRITE) {
		if (db_migrate(db, error_r) < 0)
			goto fail;
	} else if (db_check_version(db) < 0)
		goto fail;
	db->dv_caller = db_data_version(db);
	*db_r = db;
	return 0;
fail:
	/* the handle goes away: keep the message in a static buffer */
	str_lcpy(openerr, db->err, sizeof(openerr));
	*error_r = openerr;
	db_close(&db);
	return -1;
}

void
db_close(struct db **dbp)
{
	struct db *db = *dbp;

	if (db == NULL)
		return;
	for (size_t i = 0; i < db->nstmts; i++)
		sqlite3_finalize(db->stmts[i].st);
	db_settings_invalidate(db);
	sqlite3_close(db->sq);
	free(db);
	*dbp = NULL;
}

sqlite3_stmt *
db_stmt(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < db->nstmts; i++) {
		if (db->stmts[i].sql == sql) {
			st = db->stmts[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	if (sqlite3_prepare_v2(db->sq, sql, -1, &st, NULL) != SQLITE_OK) {
		db_sqlerr(db, "prepare");
		return NULL;
	}
	if (db->nstmts < DB_STMT_MAX) {
		db->stmts[db->nstmts].sql = sql;
		db->stmts[db->nstmts].st = st;
		db->nstmts++;
	} else
		fatalx("db: statement cache full");
	return st;
}

int
db_exec(struct db *db, const char *sql, int nargs, const char *const *args)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = db_stmt(db, sql)) == NULL)
		return -1;
	for (int i = 0; i < nargs; i++)
		sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_sqlerr(db, "write");
		return -1;
	}
	return 0;
}

int
db_exists(struct db *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = db_stmt(db, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	db_sqlerr(db, "query");
	return -1;
}

int64_t
db_data_version(struct db *db)
{
	static const char sql[] = "PRAGMA data_version";
	sqlite3_stmt *st;
	int64_t v = -1;

	if ((st = db_stmt(db, sql)) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		db_sqlerr(db, "data_version");
	sqlite3_reset(st);
	return v;
}

int
db_changed(struct db *db)
{
	int64_t v = db_data_version(db);

	if (v < 0 || v == db->dv_caller)
		return 0;
	db->dv_caller = v;
	db_settings_invalidate(db);
	return 1;
}

int
db_split_address(const char *address, char **local_r, char **domain_r)
{
	const char *at = strrchr(address, '@');

	if (at == NULL || at == address || at[1] == '\0')
		return -1;
	*local_r = xstrndup(address, (size_t)(at - address));
	*domain_r = str_lower(xstrdup(at + 1));
	return 0;
}

char *
db_norm_address(const char *address)
{
	char *local, *domain, *s;

	if (db_split_address(address, &local, &domain) < 0)
		return NULL;
	s = xasprintf("%s@%s", local, domain);
	free(local);
	free(domain);
	return s;
}

int
db_is_local_domain(struct db *db, const char *domain)
{
	return db_exists(db, "SELECT 1 FROM domains WHERE name = ?", domain);
}

int
db_is_user(struct db *db, const char *address)
{
	return db_exists(db, "SELECT 1 FROM users WHERE address = ?", address);
}

int
db_is_alias(struct db *db, const char *address)
{
	return db_exists(db, "SELECT 1 FROM aliases WHERE address = ? LIMIT 1",
	    address);
}
