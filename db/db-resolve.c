/*
 * db-resolve - recipient resolution: an address to its final mailboxes and
 * external addresses.
 *
 * A user is itself.  An alias expands to its targets, depth first: a local
 * user target is that user, an alias target is expanded again, a target in
 * a domain that is not ours is external.  A target in a local domain that
 * is neither user nor alias is skipped (no catch-all inside an expansion:
 * it would turn every typo into mail for the catch-all).  A branch that
 * comes back to an address already on the current path, or goes deeper
 * than RESOLVE_MAX_DEPTH, is cut; the whole result is DB_RESOLVE_LOOP only
 * if nothing else was found.  More than RESOLVE_MAX_TARGETS targets is
 * DB_RESOLVE_LOOP as well: a runaway expansion must not fan out mail.
 * Targets skipped on the way (a disabled user, an unknown address, a cut
 * branch) are logged once per resolution, with their count, so an admin
 * sees why an alias reaches fewer people than it lists.
 *
 * Alias targets are read into memory before recursing, because the cached
 * statement that reads them is reused by the recursion.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "db-int.h"

#define RESOLVE_MAX_DEPTH	10
#define RESOLVE_MAX_TARGETS	1000

struct resolve {
	struct db *db;
	struct db_targets *t;
	const char *path[RESOLVE_MAX_DEPTH + 1];
	int depth;
	int loop;		/* a branch was cut (loop or too deep) */
	int toolarge;
	int disabled;		/* a disabled user was reached */
	int error;
	/* targets of an alias or catch-all left out, for the log line */
	unsigned skip_disabled, skip_unknown, skip_loop;
};

static void	resolve_target(struct resolve *r, const char *target);

static void
resolve_add(struct resolve *r, const char *address, enum route_kind kind,
    uint64_t quota)
{
	struct db_targets *t = r->t;

	for (size_t i = 0; i < t->n; i++)
		if (strcasecmp(t->v[i].address, address) == 0)
			return;
	if (t->n >= RESOLVE_MAX_TARGETS) {
		r->toolarge = 1;
		return;
	}
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n].address = xstrdup(address);
	memset(&t->v[t->n].route, 0, sizeof(t->v[t->n].route));
	t->v[t->n].route.kind = kind;
	t->v[t->n].route.quota = quota;
	t->n++;
}

/* alias_targets - all targets of address, malloc'd; 0/-1. */
static int
alias_targets(struct db *db, const char *address, char ***v_r, size_t *n_r)
{
	sqlite3_stmt *st;
	char **v = NULL;
	size_t n = 0;
	int rc;

	st = db_stmt(db, "SELECT target FROM aliases WHERE address = ? "
	    "ORDER BY target");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_sqlerr(db, "alias lookup");
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return -1;
	}
	*v_r = v;
	*n_r = n;
	return 0;
}

/* user_lookup - 1 with the stored address, enabled flag and quota, 0, -1. */
static int
user_lookup(struct db *db, const char *address, char **addr_r,
    int *enabled_r, uint64_t *quota_r)
{
	sqlite3_stmt *st;
	int rc;

	st = db_stmt(db, "SELECT address, enabled, quota FROM users "
	    "WHERE address = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*addr_r = xstrdup((const char *)sqlite3_column_text(st, 0));
		*enabled_r = sqlite3_column_int(st, 1);
		*quota_r = (uint64_t)sqlite3_column_int64(st, 2);
	} else if (rc != SQLITE_DONE)
		db_sqlerr(db, "user lookup");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* resolve_alias - expand the targets of alias address (pushed on the
 * path); how many it has (0: not an alias, or an error). */
static size_t
resolve_alias(struct resolve *r, const char *address)
{
	char **v;
	size_t n, found;

	if (alias_targets(r->db, address, &v, &n) < 0) {
		r->error = 1;
		return 0;
	}
	found = n;
	if (n > 0 && r->depth >= RESOLVE_MAX_DEPTH) {
		r->loop = 1;
		r->skip_loop++;
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		n = 0;
	}
	r->path[r->depth++] = address;
	for (size_t i = 0; i < n; i++) {
		if (!r->error && !r->toolarge)
			resolve_target(r, v[i]);
		free(v[i]);
	}
	free(v);
	r->depth--;
	return found;
}

/* resolve_target - one target of an alias or catch-all. */
static void
resolve_target(struct resolve *r, const char *target)
{
	const char *at = strrchr(target, '@');
	char *stored = NULL;
	int rc, enabled;
	uint64_t quota;

	for (int i = 0; i < r->depth; i++) {
		if (strcasecmp(r->path[i], target) == 0) {
			r->loop = 1;
			r->skip_loop++;
			return;
		}
	}
	if (at == NULL || (rc = db_is_local_domain(r->db, at + 1)) == 0) {
		resolve_add(r, target, ROUTE_REMOTE, 0);
		return;
	}
	if (rc < 0 || (rc = user_lookup(r->db, target, &stored,
	    &enabled, &quota)) < 0) {
		r->error = 1;
		return;
	}
	if (rc == 1) {
		if (enabled)
			resolve_add(r, stored, ROUTE_LOCAL, quota);
		else {
			r->disabled = 1;
			r->skip_disabled++;
		}
		free(stored);
		return;
	}
	/* neither user nor alias: skipped */
	if (resolve_alias(r, target) == 0 && !r->error)
		r->skip_unknown++;
}

static enum db_resolve
resolve_result(struct resolve *r)
{
	if (r->error || r->toolarge || r->t->n == 0)
		db_targets_free(r->t);
	if (r->error)
		return DB_RESOLVE_ERROR;
	if (r->toolarge) {
		db_seterr(r->db, "alias expansion exceeds %d targets",
		    RESOLVE_MAX_TARGETS);
		return DB_RESOLVE_LOOP;
	}
	if (r->t->n > 0)
		return DB_RESOLVE_OK;
	if (r->loop)
		return DB_RESOLVE_LOOP;
	return r->disabled ? DB_RESOLVE_DISABLED : DB_RESOLVE_UNKNOWN;
}

/* resolve_start - the address itself: user, alias, catch-all (if allowed). */
static enum db_resolve
resolve_start(struct resolve *r, const char *address, int catchall)
{
	struct db_domain d;
	char *local, *domain, *stored = NULL;
	int rc, enabled;
	uint64_t quota;

	if (db_split_address(address, &local, &domain) < 0)
		return DB_RESOLVE_NOTLOCAL;
	free(local);
	rc = db_domain_get(r->db, domain, &d);
	free(domain);
	if (rc <= 0)
		return rc == 0 ? DB_RESOLVE_NOTLOCAL : DB_RESOLVE_ERROR;
	if ((rc = user_lookup(r->db, address, &stored, &enabled,
	    &quota)) == 1) {
		if (enabled)
			resolve_add(r, stored, ROUTE_LOCAL, quota);
		else
			r->disabled = 1;
		free(stored);
	} else if (rc == 0 && (rc = db_is_alias(r->db, address)) == 1)
		resolve_alias(r, address);
	else if (rc == 0 && catchall && d.catchall) {
		r->path[r->depth++] = address;
		resolve_target(r, d.catchall);
		r->depth--;
	}
	if (rc < 0)
		r->error = 1;
	db_domain_free(&d);
	return resolve_result(r);
}

enum db_resolve
db_resolve(struct db *db, const char *address, struct db_targets *t_r)
{
	struct resolve r;
	enum db_resolve res;

	memset(&r, 0, sizeof(r));
	memset(t_r, 0, sizeof(*t_r));
	r.db = db;
	r.t = t_r;
	res = resolve_start(&r, address, 1);
	if (r.skip_disabled + r.skip_unknown + r.skip_loop > 0)
		log_info("resolve address=<%s> skipped=%u disabled=%u unknown=%u loop=%u", address,
		    r.skip_disabled + r.skip_unknown + r.skip_loop, r.skip_disabled, r.skip_unknown, r.skip_loop);
	return res;
}

void
db_targets_free(struct db_targets *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].address);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

int
db_sender_allowed(struct db *db, const char *user, const char *sender)
{
	sqlite3_stmt *st;
	int rc;

	if (strcasecmp(user, sender) == 0)
		return 1;
	/* an explicit right only: an alias that merely delivers to the user
	 * is not enough, nor is the catch-all (it would let anyone use any
	 * address of the domain) */
	st = db_stmt(db, "SELECT 1 FROM alias_senders WHERE alias = ? AND "
	    "user = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	db_sqlerr(db, "sender lookup");
	return -1;
}

/* reaches - DFS through alias targets from 'from'; 1 if 'to' is met. */
static int
reaches(struct db *db, const char *from, const char *to, int depth)
{
	char **v;
	size_t n;
	int found = 0;

	if (strcasecmp(from, to) == 0)
		return 1;
	if (depth > RESOLVE_MAX_DEPTH || alias_targets(db, from, &v, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!found)
			found = reaches(db, v[i], to, depth + 1);
		free(v[i]);
	}
	free(v);
	return found;
}

int
db_alias_reaches(struct db *db, const char *from, const char *to)
{
	return reaches(db, from, to, 0);
}
