/*
 * ctl-admin - `onebox admin ...`: the accounts of the admin page.  They
 * are not mailboxes (a separate table, server/admin's rules).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "db.h"
#include "ctl.h"

static int
admin_add(struct ctl *c, int argc, char **argv)
{
	char *pw, *err;
	int r;

	ctl_nargs(c, argc, 1, 1);
	if (adm_admin_name(argv[0], &err) < 0)
		ctl_fail(c, "%s", err);
	pw = ctl_read_password(c, argv[0]);
	r = adm_admin_add(ctl_db(c), argv[0], pw, &err);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (r < 0)
		ctl_fail(c, "%s", err);
	printf("added admin %s\n", argv[0]);
	return 0;
}

static int
admin_del(struct ctl *c, int argc, char **argv)
{
	char *err;

	ctl_nargs(c, argc, 1, 1);
	if (adm_admin_del(ctl_db(c), argv[0], &err) < 0)
		ctl_fail(c, "%s", err);
	printf("deleted admin %s (logged out)\n", argv[0]);
	return 0;
}

static void
admin_line(const char *name, void *ctx)
{
	printf("%s\n", name);
}

static int
admin_list(struct ctl *c, int argc, char **argv)
{
	struct db *db;

	ctl_nargs(c, argc, 0, 0);
	db = ctl_db(c);
	if (db_admin_list(db, admin_line, NULL) < 0)
		ctl_fail(c, "%s", db_errmsg(db));
	return 0;
}

const struct ctl_verb ctl_admin_verbs[] = {
	{ "admin", "add", "NAME", "add an admin of the admin page (password from stdin or asked twice)",
	  admin_add },
	{ "admin", "del", "NAME", "delete an admin and end its sessions", admin_del },
	{ "admin", "list", "", "the admins of the admin page", admin_list },
	{ NULL, NULL, NULL, NULL, NULL },
};
