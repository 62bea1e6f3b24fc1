/*
 * db-aliases - one address to many targets, local or external.
 *
 * The source must be in a local domain and must not be a user.  A target in
 * a local domain must already be a user or an alias: resolution skips
 * dangling local targets, so refusing them here catches typos before mail
 * is lost.  Deleting a user does not touch aliases that point to it.
 *
 * Sending as an alias is a separate right (alias_senders): receiving mail
 * for team@ does not mean speaking for it.  It goes with the alias (removed
 * when the alias's last target is) and with the user (removed with it).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "str.h"
#include "db-int.h"

static int
alias_dup(struct db *db, const char *address, const char *target)
{
	sqlite3_stmt *st;
	int rc;

	st = db_stmt(db, "SELECT 1 FROM aliases WHERE address = ? AND "
	    "target = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	db_sqlerr(db, "alias lookup");
	return -1;
}

/* alias_check_source - 0 if address (normalised) may be an alias. */
static int
alias_check_source(struct db *db, const char *address, const char **error_r)
{
	const char *dom = strrchr(address, '@') + 1;
	int r;

	if ((r = db_is_local_domain(db, dom)) == 0) {
		*error_r = db_seterr(db, "domain %s does not exist; add it "
		    "with: onebox domain add %s", dom, dom);
		return -1;
	}
	if (r == 1 && (r = db_is_user(db, address)) == 1) {
		*error_r = db_seterr(db, "%s is a user; an address cannot be "
		    "both a user and an alias", address);
		return -1;
	}
	if (r < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

/* alias_check_target - 0 if target (normalised) may be added to address. */
static int
alias_check_target(struct db *db, const char *address, const char *target,
    const char **error_r)
{
	const char *tdom = strrchr(target, '@') + 1;
	int r;

	if (strcasecmp(address, target) == 0) {
		*error_r = db_seterr(db, "alias %s cannot point to itself",
		    address);
		return -1;
	}
	if ((r = alias_dup(db, address, target)) == 1) {
		*error_r = db_seterr(db, "alias %s -> %s already exists",
		    address, target);
		return -1;
	}
	if (r == 0 && (r = db_is_local_domain(db, tdom)) == 1 &&
	    (r = db_is_user(db, target)) == 0 &&
	    (r = db_is_alias(db, target)) == 0) {
		*error_r = db_seterr(db, "target %s is neither a user nor an "
		    "alias of local domain %s", target, tdom);
		return -1;
	}
	if (r < 0) {
		*error_r = db->err;
		return -1;
	}
	if (db_alias_reaches(db, target, address)) {
		*error_r = db_seterr(db, "alias %s -> %s would create an alias loop (%s already leads to %s)",
		    address, target, target, address);
		return -1;
	}
	return 0;
}

int
db_alias_add(struct db *db, const char *address, const char *target,
    const char **error_r)
{
	char *a, *t = NULL;
	const char *args[2];
	int r = -1;

	if ((a = db_norm_address(address)) == NULL)
		*error_r = db_seterr(db, "'%s' is not a valid address",
		    address);
	else if ((t = db_norm_address(target)) == NULL)
		*error_r = db_seterr(db, "'%s' is not a valid address",
		    target);
	else if (alias_check_source(db, a, error_r) == 0 &&
	    alias_check_target(db, a, t, error_r) == 0) {
		args[0] = a;
		args[1] = t;
		if ((r = db_exec(db, "INSERT INTO aliases (address, target) "
		    "VALUES (?, ?)", 2, args)) < 0)
			*error_r = db->err;
	}
	free(a);
	free(t);
	return r;
}

int
db_alias_del(struct db *db, const char *address, const char *target,
    const char **error_r)
{
	const char *args[2] = { address, target };
	int r;

	if (target)
		r = db_exec(db, "DELETE FROM aliases WHERE address = ? AND "
		    "target = ?", 2, args);
	else
		r = db_exec(db, "DELETE FROM aliases WHERE address = ?",
		    1, args);
	if (r < 0) {
		*error_r = db->err;
		return -1;
	}
	if (sqlite3_changes(db->sq) == 0) {
		*error_r = target ?
		    db_seterr(db, "alias %s -> %s does not exist", address,
		    target) :
		    db_seterr(db, "alias %s does not exist", address);
		return -1;
	}
	if (db_exec(db, "DELETE FROM alias_senders WHERE alias = ?1 AND "
	    "NOT EXISTS (SELECT 1 FROM aliases WHERE address = ?1)", 1,
	    args) < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

int
db_alias_list(struct db *db, const char *domain,
    void (*cb)(const char *address, const char *target, void *ctx),
    void *ctx)
{
	sqlite3_stmt *st;
	char *ldom = domain ? str_lower(xstrdup(domain)) : NULL;
	int rc;

	/* a private statement: cb may call back into the db */
	rc = sqlite3_prepare_v2(db->sq, "SELECT address, target FROM aliases "
	    "WHERE ?1 IS NULL OR substr(address, -length(?1) - 1) = '@' || ?1 "
	    "ORDER BY address, target", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		free(ldom);
		db_sqlerr(db, "alias list");
		return -1;
	}
	if (ldom)
		sqlite3_bind_text(st, 1, ldom, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1), ctx);
	if (rc != SQLITE_DONE)
		db_sqlerr(db, "alias list");
	sqlite3_finalize(st);
	free(ldom);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_alias_sender_add(struct db *db, const char *alias, const char *user,
    const char **error_r)
{
	const char *args[2] = { alias, user };
	int r;

	if ((r = db_is_alias(db, alias)) == 0) {
		*error_r = db_seterr(db, "%s is not an alias", alias);
		return -1;
	}
	if (r == 1 && (r = db_is_user(db, user)) == 0) {
		*error_r = db_seterr(db, "%s is not a user", user);
		return -1;
	}
	if (r < 0 || db_exec(db, "INSERT OR IGNORE INTO alias_senders "
	    "(alias, user) VALUES (?, ?)", 2, args) < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

int
db_alias_sender_del(struct db *db, const char *alias, const char *user,
    const char **error_r)
{
	const char *args[2] = { alias, user };
	int r;

	if (user)
		r = db_exec(db, "DELETE FROM alias_senders WHERE alias = ? AND "
		    "user = ?", 2, args);
	else
		r = db_exec(db, "DELETE FROM alias_senders WHERE alias = ?", 1,
		    args);
	if (r < 0) {
		*error_r = db->err;
		return -1;
	}
	if (user && sqlite3_changes(db->sq) == 0) {
		*error_r = db_seterr(db, "%s may not send as %s anyway", user,
		    alias);
		return -1;
	}
	return 0;
}

int
db_alias_sender_list(struct db *db, const char *alias,
    void (*cb)(const char *user, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int rc;

	/* a private statement: cb may call back into the db */
	if (sqlite3_prepare_v2(db->sq, "SELECT user FROM alias_senders "
	    "WHERE alias = ? ORDER BY user", -1, &st, NULL) != SQLITE_OK) {
		db_sqlerr(db, "alias senders");
		return -1;
	}
	sqlite3_bind_text(st, 1, alias, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), ctx);
	if (rc != SQLITE_DONE)
		db_sqlerr(db, "alias senders");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
