/*
 * ctl-alias - `onebox alias ...`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "admin.h"
#include "ctl.h"

static int
alias_add(struct ctl *c, int argc, char **argv)
{
	char *addr, **t, *err;
	struct db *db;

	ctl_nargs(c, argc, 2, -1);
	addr = ctl_address(c, argv[0]);
	/* check every target's syntax before adding any */
	t = xcalloc((size_t)argc, sizeof(*t));
	for (int i = 1; i < argc; i++)
		t[i] = ctl_address(c, argv[i]);
	db = ctl_db(c);
	for (int i = 1; i < argc; i++) {
		if (adm_alias_add(db, addr, t[i], &err) < 0)
			ctl_fail(c, "%s", err);
		printf("added alias %s -> %s\n", addr, t[i]);
		free(t[i]);
	}
	free(t);
	free(addr);
	return 0;
}

static int
alias_del(struct ctl *c, int argc, char **argv)
{
	char *addr, *t = NULL, *err;

	ctl_nargs(c, argc, 1, 2);
	addr = ctl_address(c, argv[0]);
	if (argc == 2)
		t = ctl_address(c, argv[1]);
	if (adm_alias_del(ctl_db(c), addr, t, &err) < 0)
		ctl_fail(c, "%s", err);
	if (t)
		printf("deleted alias %s -> %s\n", addr, t);
	else
		printf("deleted alias %s\n", addr);
	free(addr);
	free(t);
	return 0;
}

static void
alias_line(const char *address, const char *target, void *ctx)
{
	printf("%s\t%s\n", address, target);
}

static int
alias_list(struct ctl *c, int argc, char **argv)
{
	struct db *db;
	char *d = NULL;

	ctl_nargs(c, argc, 0, 1);
	db = ctl_db(c);
	if (argc == 1) {
		d = ctl_domain(c, argv[0]);
		ctl_domain_exists(c, d);
	}
	if (db_alias_list(db, d, alias_line, NULL) < 0)
		ctl_fail(c, "%s", db_errmsg(db));
	free(d);
	return 0;
}

static void
sender_line(const char *user, void *ctx)
{
	printf("%s\n", user);
}

/* alias_senders - ALIAS (list) | ALIAS add USER... | ALIAS del [USER...] */
static int
alias_senders(struct ctl *c, int argc, char **argv)
{
	const char *err;
	char *alias, *u;
	struct db *db;
	int add;

	if (argc < 1 || (argc > 1 && strcmp(argv[1], "add") != 0 && strcmp(argv[1], "del") != 0) ||
	    (argc > 1 && strcmp(argv[1], "add") == 0 && argc < 3))
		ctl_usage(c);
	alias = ctl_address(c, argv[0]);
	db = ctl_db(c);
	if (argc == 1) {
		if (db_alias_sender_list(db, alias, sender_line, NULL) < 0)
			ctl_fail(c, "%s", db_errmsg(db));
		free(alias);
		return 0;
	}
	add = strcmp(argv[1], "add") == 0;
	if (!add && argc == 2 && db_alias_sender_del(db, alias, NULL, &err) < 0)
		ctl_fail(c, "%s", err);
	if (!add && argc == 2)
		printf("nobody may send as %s\n", alias);
	for (int i = 2; i < argc; i++) {
		u = ctl_address(c, argv[i]);
		if ((add ? db_alias_sender_add(db, alias, u, &err) : db_alias_sender_del(db, alias, u, &err)) < 0)
			ctl_fail(c, "%s", err);
		printf("%s %s send as %s\n", u, add ? "may" : "may no longer", alias);
		free(u);
	}
	free(alias);
	return 0;
}

const struct ctl_verb ctl_alias_verbs[] = {
	{ "alias", "add", "ADDRESS TARGET [TARGET...]",
	  "deliver mail for ADDRESS to the targets (local or external)",
	  alias_add },
	{ "alias", "del", "ADDRESS [TARGET]",
	  "remove one target, or the whole alias", alias_del },
	{ "alias", "list", "[DOMAIN]", "ADDRESS, TARGET (one line per target)",
	  alias_list },
	{ "alias", "senders", "ALIAS [add USER... | del [USER...]]",
	  "list, allow or revoke the users who may send as ALIAS (none by "
	  "default; del alone revokes all)", alias_senders },
	{ NULL, NULL, NULL, NULL, NULL },
};
