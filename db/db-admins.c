/*
 * db-admins - admin accounts and their sessions (see db.h).
 *
 * Admins are not mailboxes: an admin page login never opens a mailbox and
 * a mailbox password never opens the admin page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "db-int.h"

int
db_admin_add(struct db *db, const char *name, const char *pwhash, const char **error_r)
{
	char now[32];
	const char *args[3] = { name, pwhash, now };
	int r;

	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if ((r = db_exists(db, "SELECT 1 FROM admins WHERE name = ?", name)) != 0) {
		*error_r = r < 0 ? db->err : db_seterr(db, "admin %s already exists", name);
		return -1;
	}
	if (db_exec(db, "INSERT INTO admins (name, pwhash, created) VALUES (?, ?, ?)", 3, args) < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

int
db_admin_del(struct db *db, const char *name, const char **error_r)
{
	int r;

	if ((r = db_exists(db, "SELECT 1 FROM admins WHERE name = ?", name)) != 1) {
		*error_r = r < 0 ? db->err : db_seterr(db, "admin %s does not exist", name);
		return -1;
	}
	if (db_exec(db, "DELETE FROM admin_sessions WHERE admin = ?", 1, &name) < 0 ||
	    db_exec(db, "DELETE FROM admins WHERE name = ?", 1, &name) < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

int
db_admin_hash(struct db *db, const char *name, char **hash_r)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT pwhash FROM admins WHERE name = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*hash_r = xstrdup((const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		db_sqlerr(db, "admin");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_admin_list(struct db *db, void (*cb)(const char *name, void *ctx), void *ctx)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT name FROM admins ORDER BY name");
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), ctx);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_sqlerr(db, "admins");
		return -1;
	}
	return 0;
}

int
db_admin_session_add(struct db *db, const char *id, const char *admin, const char *csrf,
    int64_t expires, const char **error_r)
{
	char exp[32], now[32];
	const char *args[4] = { id, admin, csrf, exp };
	const char *old = now;

	snprintf(exp, sizeof(exp), "%lld", (long long)expires);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if (db_exec(db, "DELETE FROM admin_sessions WHERE expires < ?", 1, &old) < 0 ||
	    db_exec(db, "INSERT INTO admin_sessions (id, admin, csrf, expires) VALUES (?, ?, ?, ?)",
	    4, args) < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

int
db_admin_session_get(struct db *db, const char *id, int64_t now, char **admin_r, char **csrf_r)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT s.admin, s.csrf, s.expires FROM admin_sessions s "
	    "JOIN admins a ON a.name = s.admin WHERE s.id = ?");
	int rc, found = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int64(st, 2) > now) {
		*admin_r = xstrdup((const char *)sqlite3_column_text(st, 0));
		*csrf_r = xstrdup((const char *)sqlite3_column_text(st, 1));
		found = 1;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_sqlerr(db, "session");
		found = -1;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW && !found)
		db_admin_session_del(db, id);
	return found;
}

int
db_admin_session_del(struct db *db, const char *id)
{
	return db_exec(db, "DELETE FROM admin_sessions WHERE id = ?", 1, &id);
}
