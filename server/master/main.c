/*
 * oneboxd - the onebox daemon.
 *
 *   oneboxd [-c FILE]          run in the foreground (for systemd)
 *   oneboxd -c FILE -t         check the config file and exit
 *   oneboxd --config-reference print the config key reference (Markdown)
 */
#include "config.h"
#include "db.h"
#include "log.h"
#include "master.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* settings_dump_reference - the DB settings table as Markdown. */
static void
settings_dump_reference(void)
{
	static const char *types[] = { "number", "size", "yes/no", "text", "networks", "one of" };

	printf("\n# Mail settings (in the database)\n\n"
	    "Changed with `onebox set KEY VALUE`, shown with `onebox settings`, back to the\n"
	    "default with `onebox reset KEY`. They take effect at once, without a restart.\n"
	    "Sizes take K, M and G suffixes. Networks are CIDRs separated by spaces.\n\n"
	    "| key | type | default | range | meaning |\n|---|---|---|---|---|\n");
	for (const struct setting_def *d = setting_defs; d->name; d++) {
		printf("| `%s` | %s | `%s` | ", d->name, types[d->type], d->def[0] ? d->def : "(empty)");
		if (d->type == SET_INT || d->type == SET_SIZE)
			printf("%lld to %lld", (long long)d->min, (long long)d->max);
		else if (d->type == SET_ENUM)
			printf("%s", d->choices);
		printf(" | %s |\n", d->doc);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: oneboxd [-c FILE] [-t]\n       oneboxd --config-reference\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *path = CONF_DEFAULT_PATH;
	int test_only = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "-t") == 0)
			test_only = 1;
		else if (strcmp(argv[i], "--config-reference") == 0) {
			conf_dump_reference();
			settings_dump_reference();
			return 0;
		} else
			usage();
	}
	log_init("oneboxd", LOG_LVL_INFO, 0);
	if (test_only) {
		struct conf c;
		char *err;
		if (conf_load(path, &c, &err) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%s: configuration ok\n", path);
		conf_free(&c);
		return 0;
	}
	return master_run(path);
}
