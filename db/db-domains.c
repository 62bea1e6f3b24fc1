/*
 * db-domains - the domains we receive mail for, and their catch-alls.
 *
 * Names are stored in lower case.  A "system" domain's users log in through
 * PAM with their Unix password (their local part is the Unix login), so
 * they have no password hash here.  Domain syntax is addr.c's (no address
 * literals, no UTF-8: IDNs are stored as A-labels).
 */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "str.h"
#include "db-int.h"

int
db_domain_add(struct db *db, const char *name, int system,
    const char **error_r)
{
	char *lname = str_lower(xstrdup(name));
	const char *args[2] = { lname, system ? "1" : "0" };
	int r = -1;

	if (!addr_domain_valid(lname, 0))
		*error_r = db_seterr(db, "'%s' is not a valid domain name",
		    name);
	else if ((r = db_is_local_domain(db, lname)) != 0)
		*error_r = r < 0 ? db->err :
		    db_seterr(db, "domain %s already exists", lname);
	else if ((r = db_exec(db, "INSERT INTO domains (name, system) "
	    "VALUES (?, ?)", 2, args)) < 0)
		*error_r = db->err;
	free(lname);
	return r < 0 || r == 1 ? -1 : 0;
}

static int
domain_count(struct db *db, const char *sql, const char *name)
{
	sqlite3_stmt *st;
	int n = -1;

	if ((st = db_stmt(db, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	else
		db_sqlerr(db, "count");
	sqlite3_reset(st);
	return n;
}

int
db_domain_del(struct db *db, const char *name, const char **error_r)
{
	char lname[256];
	int r, n;

	str_lcpy(lname, name, sizeof(lname));
	name = str_lower(lname);
	if ((r = db_is_local_domain(db, name)) <= 0) {
		*error_r = r < 0 ? db->err :
		    db_seterr(db, "domain %s does not exist", name);
		return -1;
	}
	n = domain_count(db, "SELECT count(*) FROM users WHERE domain = ?",
	    name);
	if (n != 0) {
		*error_r = n < 0 ? db->err : db_seterr(db, "domain %s has %d "
		    "user%s; delete %s first", name, n, n == 1 ? "" : "s",
		    n == 1 ? "it" : "them");
		return -1;
	}
	n = domain_count(db, "SELECT count(DISTINCT address) FROM aliases "
	    "WHERE substr(address, -length(?1) - 1) = '@' || ?1", lname);
	if (n != 0) {
		*error_r = n < 0 ? db->err : db_seterr(db, "domain %s has %d "
		    "alias%s; delete %s first", name, n, n == 1 ? "" : "es",
		    n == 1 ? "it" : "them");
		return -1;
	}
	if (db_exec(db, "DELETE FROM domains WHERE name = ?", 1, &name) < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

static void
domain_row(sqlite3_stmt *st, struct db_domain *d)
{
	const unsigned char *c;

	d->name = xstrdup((const char *)sqlite3_column_text(st, 0));
	d->system = sqlite3_column_int(st, 1);
	c = sqlite3_column_text(st, 2);
	d->catchall = c && *c ? xstrdup((const char *)c) : NULL;
	d->allow_outside_senders = sqlite3_column_int(st, 3);
}

int
db_domain_get(struct db *db, const char *name, struct db_domain *d_r)
{
	sqlite3_stmt *st;
	int rc;

	memset(d_r, 0, sizeof(*d_r));
	st = db_stmt(db, "SELECT name, system, catchall, "
	    "allow_outside_senders FROM domains WHERE name = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		domain_row(st, d_r);
	else if (rc != SQLITE_DONE)
		db_sqlerr(db, "domain lookup");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_domain_primary(struct db *db, const char *hostname, char **name_r)
{
	sqlite3_stmt *st;
	const char *p, *dot;
	int rc;

	/* the host name itself, then each parent: the first hit is the longest */
	for (p = hostname; p != NULL; p = (dot = strchr(p, '.')) != NULL ? dot + 1 : NULL) {
		if ((rc = db_is_local_domain(db, p)) < 0)
			return -1;
		if (rc == 1) {
			*name_r = str_lower(xstrdup(p));
			return 1;
		}
	}
	if ((st = db_stmt(db, "SELECT name FROM domains ORDER BY rowid LIMIT 1")) == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*name_r = xstrdup((const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		db_sqlerr(db, "primary domain");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_domain_list(struct db *db,
    void (*cb)(const struct db_domain *d, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	struct db_domain d;
	int rc;

	/* a private statement: cb may call back into the db */
	if (sqlite3_prepare_v2(db->sq, "SELECT name, system, catchall, "
	    "allow_outside_senders FROM domains ORDER BY name", -1, &st,
	    NULL) != SQLITE_OK) {
		db_sqlerr(db, "domain list");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		domain_row(st, &d);
		cb(&d, ctx);
		db_domain_free(&d);
	}
	if (rc != SQLITE_DONE)
		db_sqlerr(db, "domain list");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
db_domain_free(struct db_domain *d)
{
	free(d->name);
	free(d->catchall);
	d->name = d->catchall = NULL;
}

int
db_domain_set_outside_senders(struct db *db, const char *name, int allow,
    const char **error_r)
{
	const char *args[2] = { allow ? "1" : "0", name };
	int r;

	if ((r = db_is_local_domain(db, name)) <= 0) {
		*error_r = r < 0 ? db->err :
		    db_seterr(db, "domain %s does not exist", name);
		return -1;
	}
	if (db_exec(db, "UPDATE domains SET allow_outside_senders = ? "
	    "WHERE name = ?", 2, args) < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

/* catchall_check_target - a local target must be a user or an alias. */
static int
catchall_check_target(struct db *db, const char *target)
{
	const char *tdom = strrchr(target, '@') + 1;
	int r;

	if ((r = db_is_local_domain(db, tdom)) == 1 &&
	    (r = db_is_user(db, target)) == 0 &&
	    (r = db_is_alias(db, target)) == 0) {
		db_seterr(db, "target %s is neither a user nor an alias of "
		    "local domain %s", target, tdom);
		return -1;
	}
	return r < 0 ? -1 : 0;
}

int
db_catchall_set(struct db *db, const char *domain, const char *target,
    const char **error_r)
{
	char *t;
	const char *args[2];
	int r;

	if ((r = db_is_local_domain(db, domain)) <= 0) {
		*error_r = r < 0 ? db->err :
		    db_seterr(db, "domain %s does not exist", domain);
		return -1;
	}
	if ((t = db_norm_address(target)) == NULL) {
		*error_r = db_seterr(db, "catch-all target '%s' is not an "
		    "address", target);
		return -1;
	}
	if ((r = catchall_check_target(db, t)) < 0) {
		free(t);
		*error_r = db->err;
		return -1;
	}
	args[0] = t;
	args[1] = domain;
	r = db_exec(db, "UPDATE domains SET catchall = ? WHERE name = ?",
	    2, args);
	free(t);
	if (r < 0)
		*error_r = db->err;
	return r;
}

int
db_catchall_clear(struct db *db, const char *domain, const char **error_r)
{
	int r;

	if ((r = db_is_local_domain(db, domain)) <= 0) {
		*error_r = r < 0 ? db->err :
		    db_seterr(db, "domain %s does not exist", domain);
		return -1;
	}
	if (db_exec(db, "UPDATE domains SET catchall = NULL WHERE name = ?",
	    1, &domain) < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}
