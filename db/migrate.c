/*
 * migrate - versioned schema migrations (see migrate.h).
 *
 * Domains are stored in lower case; addresses keep the case they were given
 * with and compare with COLLATE NOCASE, so Bob@example.com and
 * bob@example.com are one user.
 */
#include <stdio.h>

#include "db-int.h"
#include "migrate.h"

static const char *const migrations[] = {
	/* 1: domains, users, aliases, settings */
	"CREATE TABLE domains ("
	"  name TEXT PRIMARY KEY COLLATE NOCASE,"
	"  system INTEGER NOT NULL DEFAULT 0,"
	"  catchall TEXT COLLATE NOCASE"
	");"
	"CREATE TABLE users ("
	"  address TEXT PRIMARY KEY COLLATE NOCASE,"
	"  localpart TEXT NOT NULL COLLATE NOCASE,"
	"  domain TEXT NOT NULL COLLATE NOCASE REFERENCES domains(name),"
	"  pwhash TEXT NOT NULL DEFAULT '',"
	"  quota INTEGER NOT NULL DEFAULT 0,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX users_domain ON users(domain);"
	"CREATE TABLE aliases ("
	"  address TEXT NOT NULL COLLATE NOCASE,"
	"  target TEXT NOT NULL COLLATE NOCASE,"
	"  PRIMARY KEY (address, target)"
	");"
	"CREATE TABLE settings ("
	"  name TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	");",
	/* 2: who may use an alias as envelope sender (onebox alias senders) */
	"CREATE TABLE alias_senders ("
	"  alias TEXT NOT NULL COLLATE NOCASE,"
	"  user TEXT NOT NULL COLLATE NOCASE,"
	"  PRIMARY KEY (alias, user)"
	");",
	/* 3: a domain whose addresses outside services may use as sender on
	 * port 25 (mailing list providers, shops, ...) */
	"ALTER TABLE domains ADD COLUMN allow_outside_senders INTEGER NOT NULL "
	"DEFAULT 0;",
	/* 4: admin accounts (the admin page; not mailboxes) and their
	 * sessions, kept here so that a reload of httpd logs nobody out */
	"CREATE TABLE admins ("
	"  name TEXT PRIMARY KEY COLLATE NOCASE,"
	"  pwhash TEXT NOT NULL,"
	"  created INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE admin_sessions ("
	"  id TEXT PRIMARY KEY,"
	"  admin TEXT NOT NULL COLLATE NOCASE,"
	"  csrf TEXT NOT NULL,"
	"  expires INTEGER NOT NULL"
	");",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
db_schema_version(void)
{
	return NMIGRATIONS;
}

int
db_user_version(struct db *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db->sq, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK) {
		db_sqlerr(db, "user_version");
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		db_sqlerr(db, "user_version");
	sqlite3_finalize(st);
	return v;
}

static int
migrate_run(struct db *db, int from)
{
	char *msg = NULL;
	char pragma[64];

	for (int v = from; v < NMIGRATIONS; v++) {
		if (sqlite3_exec(db->sq, migrations[v], NULL, NULL,
		    &msg) != SQLITE_OK) {
			db_seterr(db, "migration %d: %s", v + 1,
			    msg ? msg : sqlite3_errmsg(db->sq));
			sqlite3_free(msg);
			return -1;
		}
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
	    NMIGRATIONS);
	if (sqlite3_exec(db->sq, pragma, NULL, NULL, NULL) != SQLITE_OK) {
		db_sqlerr(db, "set user_version");
		return -1;
	}
	return 0;
}

int
db_migrate(struct db *db, const char **error_r)
{
	int v;

	if (sqlite3_exec(db->sq, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		*error_r = db_sqlerr(db, "begin migration");
		return -1;
	}
	/* read inside the write lock: two migrators cannot both see v=0 */
	if ((v = db_user_version(db)) < 0)
		goto fail;
	if (v > NMIGRATIONS) {
		db_seterr(db, "database schema version %d is newer than this "
		    "program (%d); upgrade onebox", v, NMIGRATIONS);
		goto fail;
	}
	if (v < NMIGRATIONS && migrate_run(db, v) < 0)
		goto fail;
	if (sqlite3_exec(db->sq, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_sqlerr(db, "commit migration");
		goto fail;
	}
	return 0;
fail:
	sqlite3_exec(db->sq, "ROLLBACK", NULL, NULL, NULL);
	*error_r = db->err;
	return -1;
}
