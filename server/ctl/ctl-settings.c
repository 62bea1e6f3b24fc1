/*
 * ctl-settings - `onebox set|get|reset|settings`: the mail settings of the
 * config database (db/settings.c holds the table).
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "ctl.h"

static int
settings_set(struct ctl *c, int argc, char **argv)
{
	const char *err;
	struct db *db;
	int id;

	ctl_nargs(c, argc, 2, 2);
	if ((id = setting_lookup(argv[0])) < 0)
		ctl_fail(c, "unknown setting '%s'; see onebox settings",
		    argv[0]);
	db = ctl_db(c);
	if (db_setting_set(db, argv[0], argv[1], &err) < 0)
		ctl_fail(c, "%s", err);
	printf("%s = %s\n", argv[0], db_setting_str(db, id));
	return 0;
}

static int
settings_get(struct ctl *c, int argc, char **argv)
{
	int id;

	ctl_nargs(c, argc, 1, 1);
	if ((id = setting_lookup(argv[0])) < 0)
		ctl_fail(c, "unknown setting '%s'; see onebox settings",
		    argv[0]);
	printf("%s\n", db_setting_str(ctl_db(c), id));
	return 0;
}

static int
settings_reset(struct ctl *c, int argc, char **argv)
{
	const char *err;
	struct db *db;
	int id;

	ctl_nargs(c, argc, 1, 1);
	if ((id = setting_lookup(argv[0])) < 0)
		ctl_fail(c, "unknown setting '%s'; see onebox settings",
		    argv[0]);
	db = ctl_db(c);
	if (db_setting_reset(db, argv[0], &err) < 0)
		ctl_fail(c, "%s", err);
	printf("%s = %s (default)\n", argv[0], db_setting_str(db, id));
	return 0;
}

static int
settings_list(struct ctl *c, int argc, char **argv)
{
	struct db *db;

	ctl_nargs(c, argc, 0, 0);
	db = ctl_db(c);
	for (int id = 0; id < ST__COUNT; id++) {
		const struct setting_def *d = &setting_defs[id];
		const char *v = db_setting_str(db, id);
		printf("%s\t%s\t%s\t%s\n", d->name, *v ? v : "\"\"",
		    *d->def ? d->def : "\"\"", d->doc);
	}
	return 0;
}

const struct ctl_verb ctl_settings_verbs[] = {
	{ NULL, "set", "KEY VALUE", "change a mail setting (see settings)",
	  settings_set },
	{ NULL, "get", "KEY", "print the current value of a setting",
	  settings_get },
	{ NULL, "reset", "KEY", "return a setting to its default",
	  settings_reset },
	{ NULL, "settings", "", "KEY, value, default, description",
	  settings_list },
	{ NULL, NULL, NULL, NULL, NULL },
};
