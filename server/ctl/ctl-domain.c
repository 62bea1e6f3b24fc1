/*
 * ctl-domain - `onebox domain ...` and `onebox catchall ...`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "admin.h"
#include "ctl.h"

void
ctl_domain_exists(struct ctl *c, const char *domain)
{
	struct db *db = ctl_db(c);
	struct db_domain d;
	int r;

	if ((r = db_domain_get(db, domain, &d)) < 0)
		ctl_fail(c, "%s", db_errmsg(db));
	if (r == 0)
		ctl_fail(c, "domain %s does not exist", domain);
	db_domain_free(&d);
}

static int
domain_add(struct ctl *c, int argc, char **argv)
{
	const char *name = NULL, *err;
	int system = 0, outside = 0;
	char *d, *aerr;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--system") == 0)
			system = 1;
		else if (strcmp(argv[i], "--allow-outside-senders") == 0)
			outside = 1;
		else if (argv[i][0] == '-' || name)
			ctl_usage(c);
		else
			name = argv[i];
	}
	if (name == NULL)
		ctl_usage(c);
	d = ctl_domain(c, name);
	if (adm_domain_add(ctl_db(c), d, system, &aerr) < 0)
		ctl_fail(c, "%s", aerr);
	if (outside && db_domain_set_outside_senders(ctl_db(c), d, 1, &err) < 0)
		ctl_fail(c, "%s", err);
	printf("added %sdomain %s%s\n", system ? "system " : "", d,
	    outside ? " (outside senders allowed)" : "");
	free(d);
	return 0;
}

static int
domain_del(struct ctl *c, int argc, char **argv)
{
	char *d, *err;

	ctl_nargs(c, argc, 1, 1);
	d = ctl_domain(c, argv[0]);
	if (adm_domain_del(ctl_db(c), d, &err) < 0)
		ctl_fail(c, "%s", err);
	printf("deleted domain %s\n", d);
	free(d);
	return 0;
}

/* domain_set - NAME allow-outside-senders yes|no */
static int
domain_set(struct ctl *c, int argc, char **argv)
{
	const char *err;
	int allow;
	char *d;

	ctl_nargs(c, argc, 3, 3);
	if (strcmp(argv[1], "allow-outside-senders") != 0)
		ctl_usage(c);
	if (strcmp(argv[2], "yes") == 0)
		allow = 1;
	else if (strcmp(argv[2], "no") == 0)
		allow = 0;
	else
		ctl_usage(c);
	d = ctl_domain(c, argv[0]);
	if (db_domain_set_outside_senders(ctl_db(c), d, allow, &err) < 0)
		ctl_fail(c, "%s", err);
	printf("%s: outside senders %s\n", d, allow ? "allowed" : "refused");
	free(d);
	return 0;
}

static void
domain_line(const struct db_domain *d, void *ctx)
{
	printf("%s\t%s\t%s\t%s\n", d->name, d->system ? "system" : "virtual",
	    d->catchall ? d->catchall : "-",
	    d->allow_outside_senders ? "outside-senders" : "-");
}

static int
domain_list(struct ctl *c, int argc, char **argv)
{
	struct db *db;

	ctl_nargs(c, argc, 0, 0);
	db = ctl_db(c);
	if (db_domain_list(db, domain_line, NULL) < 0)
		ctl_fail(c, "%s", db_errmsg(db));
	return 0;
}

static int
catchall_set(struct ctl *c, int argc, char **argv)
{
	const char *err;
	char *d, *t;

	ctl_nargs(c, argc, 2, 2);
	d = ctl_domain(c, argv[0]);
	t = ctl_address(c, argv[1]);
	if (db_catchall_set(ctl_db(c), d, t, &err) < 0)
		ctl_fail(c, "%s", err);
	printf("catch-all of %s is %s\n", d, t);
	free(d);
	free(t);
	return 0;
}

static int
catchall_clear(struct ctl *c, int argc, char **argv)
{
	const char *err;
	char *d;

	ctl_nargs(c, argc, 1, 1);
	d = ctl_domain(c, argv[0]);
	if (db_catchall_clear(ctl_db(c), d, &err) < 0)
		ctl_fail(c, "%s", err);
	printf("cleared catch-all of %s\n", d);
	free(d);
	return 0;
}

const struct ctl_verb ctl_domain_verbs[] = {
	{ "domain", "add", "NAME [--system] [--allow-outside-senders]",
	  "receive mail for NAME (--system: users are Unix accounts, PAM; "
	  "--allow-outside-senders: see domain set)", domain_add },
	{ "domain", "set", "NAME allow-outside-senders yes|no",
	  "yes: clients that are neither trusted nor authenticated may use "
	  "NAME's addresses as sender on port 25 (outside services sending "
	  "in its name); no (default): they are told to use submission",
	  domain_set },
	{ "domain", "del", "NAME", "stop receiving mail for NAME (must be "
	  "empty)", domain_del },
	{ "domain", "list", "", "NAME, virtual|system, catch-all, "
	  "outside-senders|-",
	  domain_list },
	{ "catchall", "set", "DOMAIN TARGET",
	  "send mail for unknown addresses of DOMAIN to TARGET", catchall_set },
	{ "catchall", "clear", "DOMAIN", "reject unknown addresses of DOMAIN",
	  catchall_clear },
	{ NULL, NULL, NULL, NULL, NULL },
};
