/*
 * db-users - mailbox owners.
 *
 * An address is stored as given except for its domain, which is lower-cased;
 * lookups compare case-insensitively (COLLATE NOCASE).  A user and an alias
 * can never share an address: resolution would be ambiguous.
 *
 * A user without a password hash authenticates through PAM (its local part
 * is a Unix login): every user of a system domain, and users added with
 * `onebox user add --system-user` elsewhere.  db_user.system says so.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "str.h"
#include "db-int.h"

#define USER_COLUMNS \
	"SELECT u.address, u.localpart, u.domain, u.pwhash, u.quota, " \
	"u.enabled, (d.system OR u.pwhash = '') " \
	"FROM users u JOIN domains d ON d.name = u.domain "

/* user_check_new - may address (normalised) become a user?  0/-1. */
static int
user_check_new(struct db *db, const char *address, const char *domain,
    const char **error_r)
{
	int r;

	if ((r = db_is_local_domain(db, domain)) == 0) {
		*error_r = db_seterr(db, "domain %s does not exist; add it "
		    "with: onebox domain add %s", domain, domain);
		return -1;
	}
	if (r == 1 && (r = db_is_user(db, address)) == 1) {
		*error_r = db_seterr(db, "user %s already exists", address);
		return -1;
	}
	if (r == 0 && (r = db_is_alias(db, address)) == 1) {
		*error_r = db_seterr(db, "%s is an alias; delete it first "
		    "with: onebox alias del %s", address, address);
		return -1;
	}
	if (r < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

int
db_user_add(struct db *db, const char *address, const char *pwhash,
    uint64_t quota, const char **error_r)
{
	char *addr, *local, *domain;
	sqlite3_stmt *st;
	int r = -1;

	if (db_split_address(address, &local, &domain) < 0) {
		*error_r = db_seterr(db, "'%s' is not a valid address",
		    address);
		return -1;
	}
	addr = xasprintf("%s@%s", local, domain);
	/* The local part names the Maildir (mail/DOMAIN/LOCAL/): refuse what
	 * cannot be a directory name, rather than a user who never gets mail. */
	if (strchr(local, '/') || local[0] == '.') {
		*error_r = db_seterr(db, "'%s': a mailbox name cannot contain '/' or start with '.'", address);
		goto out;
	}
	if (user_check_new(db, addr, domain, error_r) < 0)
		goto out;
	st = db_stmt(db, "INSERT INTO users (address, localpart, domain, "
	    "pwhash, quota, enabled, created) VALUES (?, ?, ?, ?, ?, 1, ?)");
	if (st == NULL) {
		*error_r = db->err;
		goto out;
	}
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, pwhash ? pwhash : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)quota);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE)
		*error_r = db_sqlerr(db, "add user");
	else
		r = 0;
	sqlite3_reset(st);
out:
	free(addr);
	free(local);
	free(domain);
	return r;
}

/* user_update - run an UPDATE/DELETE whose last parameter is the address;
 * val is bound first unless the statement has only one parameter. */
static int
user_update(struct db *db, const char *sql, const char *address,
    const char *sval, int64_t ival, const char **error_r)
{
	sqlite3_stmt *st;
	int rc, n;

	if ((st = db_stmt(db, sql)) == NULL) {
		*error_r = db->err;
		return -1;
	}
	n = sqlite3_bind_parameter_count(st);
	if (n == 2 && sval)
		sqlite3_bind_text(st, 1, sval, -1, SQLITE_STATIC);
	else if (n == 2)
		sqlite3_bind_int64(st, 1, ival);
	sqlite3_bind_text(st, n, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		*error_r = db_sqlerr(db, "update user");
		return -1;
	}
	if (sqlite3_changes(db->sq) == 0) {
		*error_r = db_seterr(db, "user %s does not exist", address);
		return -1;
	}
	return 0;
}

int
db_user_del(struct db *db, const char *address, const char **error_r)
{
	if (user_update(db, "DELETE FROM users WHERE address = ?",
	    address, NULL, 0, error_r) < 0)
		return -1;
	/* a later user of the same address must not inherit its rights */
	if (db_exec(db, "DELETE FROM alias_senders WHERE user = ?", 1,
	    &address) < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

int
db_user_passwd(struct db *db, const char *address, const char *pwhash,
    const char **error_r)
{
	return user_update(db, "UPDATE users SET pwhash = ? WHERE address = ?",
	    address, pwhash ? pwhash : "", 0, error_r);
}

int
db_user_quota(struct db *db, const char *address, uint64_t quota,
    const char **error_r)
{
	return user_update(db, "UPDATE users SET quota = ? WHERE address = ?",
	    address, NULL, (int64_t)quota, error_r);
}

int
db_user_enable(struct db *db, const char *address, int enabled,
    const char **error_r)
{
	return user_update(db, "UPDATE users SET enabled = ? WHERE address = ?",
	    address, NULL, enabled ? 1 : 0, error_r);
}

static void
user_row(sqlite3_stmt *st, struct db_user *u)
{
	u->address = xstrdup((const char *)sqlite3_column_text(st, 0));
	u->localpart = xstrdup((const char *)sqlite3_column_text(st, 1));
	u->domain = xstrdup((const char *)sqlite3_column_text(st, 2));
	u->pwhash = xstrdup((const char *)sqlite3_column_text(st, 3));
	u->quota = (uint64_t)sqlite3_column_int64(st, 4);
	u->enabled = sqlite3_column_int(st, 5);
	u->system = sqlite3_column_int(st, 6);
}

int
db_user_get(struct db *db, const char *address, struct db_user *u_r)
{
	sqlite3_stmt *st;
	int rc;

	memset(u_r, 0, sizeof(*u_r));
	if ((st = db_stmt(db, USER_COLUMNS "WHERE u.address = ?")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		user_row(st, u_r);
	else if (rc != SQLITE_DONE)
		db_sqlerr(db, "user lookup");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_user_list(struct db *db, const char *domain,
    void (*cb)(const struct db_user *u, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	struct db_user u;
	int rc;

	/* a private statement: cb may call back into the db */
	rc = sqlite3_prepare_v2(db->sq, USER_COLUMNS "WHERE ?1 IS NULL OR "
	    "u.domain = ?1 ORDER BY u.domain, u.localpart, u.address",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_sqlerr(db, "user list");
		return -1;
	}
	if (domain)
		sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		user_row(st, &u);
		cb(&u, ctx);
		db_user_free(&u);
	}
	if (rc != SQLITE_DONE)
		db_sqlerr(db, "user list");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
db_user_free(struct db_user *u)
{
	free(u->address);
	free(u->localpart);
	free(u->domain);
	free(u->pwhash);
	memset(u, 0, sizeof(*u));
}
