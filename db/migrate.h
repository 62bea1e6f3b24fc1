/*
 * migrate - versioned schema migrations of the config database.
 *
 * Migration N (1-based) is an SQL script in migrate.c's table; PRAGMA
 * user_version holds the number of the last one applied.  db_migrate runs
 * the missing ones in order, all inside one IMMEDIATE transaction, so a
 * failure leaves the database as it was.  Migrations are append-only: never
 * edit one that has shipped, add a new one.
 */
#ifndef ONEBOX_MIGRATE_H
#define ONEBOX_MIGRATE_H

struct db;

/* db_schema_version - the version this code expects (number of migrations). */
int db_schema_version(void);
/* db_user_version - the version stored in the database, -1 on error. */
int db_user_version(struct db *db);
/* db_migrate - bring the schema up to db_schema_version(); 0/-1 + error_r.
 * Refuses a database newer than this code. */
int db_migrate(struct db *db, const char **error_r);

#endif
