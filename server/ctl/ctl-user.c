/*
 * ctl-user - `onebox user ...`.
 *
 * Users of a system domain, and users added with --system-user, log in with
 * their Unix password through PAM: no password is asked for them, and their
 * local part must be a Unix login that pamd would accept (sysuser.h): an
 * existing account, not root, with a uid of at least first_valid_uid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "admin.h"
#include "ctl.h"
#include "sysuser.h"
#include "str.h"

/* user_set_password - read a password and give it to the shared action
 * (server/admin: validated and hashed there). */
static void
user_set_password(struct ctl *c, const char *address, const char *quota, int add)
{
	char *pw = ctl_read_password(c, address), *err;
	int r = add ? adm_user_add(ctl_db(c), address, pw, quota, &err)
	    : adm_user_passwd(ctl_db(c), address, pw, &err);

	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (r < 0)
		ctl_fail(c, "%s", err);
}

/* check_unix_login - fail unless the local part is an account that may
 * log in through PAM. */
static void
check_unix_login(struct ctl *c, const char *address)
{
	char *local = xstrndup(address, (size_t)(strrchr(address, '@') -
	    address));
	const char *why;

	if (sysuser_check(local, c->first_valid_uid, &why) < 0)
		ctl_fail(c, "%s logs in with the Unix account '%s' (PAM), "
		    "but that account cannot: %s (first_valid_uid = %u)",
		    address, local, why, c->first_valid_uid);
	free(local);
}

/* user_precheck - fail early (before asking a password); 1 if the domain
 * is a system domain. */
static int
user_precheck(struct ctl *c, struct db *db, const char *addr)
{
	const char *dom = strrchr(addr, '@') + 1;
	struct db_domain d;
	struct db_user u;
	int r, system;

	if ((r = db_domain_get(db, dom, &d)) < 0)
		ctl_fail(c, "%s", db_errmsg(db));
	if (r == 0)
		ctl_fail(c, "domain %s does not exist; add it with: onebox "
		    "domain add %s", dom, dom);
	system = d.system;
	db_domain_free(&d);
	if ((r = db_user_get(db, addr, &u)) < 0)
		ctl_fail(c, "%s", db_errmsg(db));
	db_user_free(&u);
	if (r == 1)
		ctl_fail(c, "user %s already exists", addr);
	return system;
}

static int
user_add(struct ctl *c, int argc, char **argv)
{
	const char *address = NULL, *quota = NULL, *err;
	int pam = 0;
	uint64_t q = 0;
	char *addr;
	struct db *db;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--system-user") == 0)
			pam = 1;
		else if (strcmp(argv[i], "--quota") == 0 && i + 1 < argc)
			quota = argv[++i];
		else if (argv[i][0] == '-' || address)
			ctl_usage(c);
		else
			address = argv[i];
	}
	if (address == NULL)
		ctl_usage(c);
	addr = ctl_address(c, address);
	if (quota)
		q = ctl_quota(c, quota);
	db = ctl_db(c);
	if (user_precheck(c, db, addr))
		pam = 1;
	if (pam)
		check_unix_login(c, addr);
	if (!pam)
		user_set_password(c, addr, quota, 1);
	else if (db_user_add(db, addr, "", q, &err) < 0)
		ctl_fail(c, "%s", err);
	printf("added user %s%s\n", addr, pam ? " (Unix login, PAM)" : "");
	free(addr);
	return 0;
}

static int
user_del(struct ctl *c, int argc, char **argv)
{
	const char *err;
	char *addr;

	ctl_nargs(c, argc, 1, 1);
	addr = ctl_address(c, argv[0]);
	if (db_user_del(ctl_db(c), addr, &err) < 0)
		ctl_fail(c, "%s", err);
	printf("deleted user %s (its mail stays on disk)\n", addr);
	free(addr);
	return 0;
}

static void
user_line(const struct db_user *u, void *ctx)
{
	char q[32];

	if (u->quota)
		str_size_format(u->quota, q, sizeof(q));
	else
		strcpy(q, "unlimited");
	printf("%s\t%s\t%s\t%s\n", u->address, q,
	    u->enabled ? "enabled" : "disabled", u->system ? "pam" : "password");
}

static int
user_list(struct ctl *c, int argc, char **argv)
{
	struct db *db;
	char *d = NULL;

	ctl_nargs(c, argc, 0, 1);
	db = ctl_db(c);
	if (argc == 1) {
		d = ctl_domain(c, argv[0]);
		ctl_domain_exists(c, d);
	}
	if (db_user_list(db, d, user_line, NULL) < 0)
		ctl_fail(c, "%s", db_errmsg(db));
	free(d);
	return 0;
}

/* user_must_get - the user, or fail. */
static void
user_must_get(struct ctl *c, struct db *db, const char *addr,
    struct db_user *u)
{
	int r = db_user_get(db, addr, u);

	if (r < 0)
		ctl_fail(c, "%s", db_errmsg(db));
	if (r == 0)
		ctl_fail(c, "user %s does not exist", addr);
}

static int
user_passwd(struct ctl *c, int argc, char **argv)
{
	struct db_domain d;
	struct db_user u;
	struct db *db;
	char *addr;

	ctl_nargs(c, argc, 1, 1);
	addr = ctl_address(c, argv[0]);
	db = ctl_db(c);
	user_must_get(c, db, addr, &u);
	if (db_domain_get(db, u.domain, &d) == 1 && d.system)
		ctl_fail(c, "%s is a Unix account of system domain %s: change "
		    "its password with passwd(1)", u.address, d.name);
	db_domain_free(&d);
	user_set_password(c, u.address, NULL, 0);
	printf("changed password of %s\n", u.address);
	db_user_free(&u);
	free(addr);
	return 0;
}

static int
user_quota(struct ctl *c, int argc, char **argv)
{
	char *addr, q[32], *err;
	uint64_t v;

	ctl_nargs(c, argc, 2, 2);
	addr = ctl_address(c, argv[0]);
	v = ctl_quota(c, argv[1]);
	if (adm_user_quota(ctl_db(c), addr, argv[1], &err) < 0)
		ctl_fail(c, "%s", err);
	if (v)
		str_size_format(v, q, sizeof(q));
	printf("quota of %s is %s\n", addr, v ? q : "unlimited");
	free(addr);
	return 0;
}

static int
user_set_enabled(struct ctl *c, int argc, char **argv, int enabled)
{
	char *addr, *err;

	ctl_nargs(c, argc, 1, 1);
	addr = ctl_address(c, argv[0]);
	if (adm_user_enable(ctl_db(c), addr, enabled, &err) < 0)
		ctl_fail(c, "%s", err);
	printf("%s user %s\n", enabled ? "enabled" : "disabled", addr);
	free(addr);
	return 0;
}

static int
user_enable(struct ctl *c, int argc, char **argv)
{
	return user_set_enabled(c, argc, argv, 1);
}

static int
user_disable(struct ctl *c, int argc, char **argv)
{
	return user_set_enabled(c, argc, argv, 0);
}

const struct ctl_verb ctl_user_verbs[] = {
	{ "user", "add", "ADDRESS [--quota SIZE] [--system-user]",
	  "add a mailbox (password from stdin or asked twice)", user_add },
	{ "user", "del", "ADDRESS", "delete a user (mail stays on disk)",
	  user_del },
	{ "user", "list", "[DOMAIN]", "ADDRESS, quota, enabled|disabled, "
	  "password|pam", user_list },
	{ "user", "passwd", "ADDRESS", "set a new password", user_passwd },
	{ "user", "quota", "ADDRESS SIZE", "set the quota (0 or none: "
	  "unlimited)", user_quota },
	{ "user", "enable", "ADDRESS", "allow login and delivery",
	  user_enable },
	{ "user", "disable", "ADDRESS", "refuse login and delivery",
	  user_disable },
	{ NULL, NULL, NULL, NULL, NULL },
};
