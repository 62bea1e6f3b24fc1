/*
 * oneboxd - the onebox daemon.
 *
 *   oneboxd [-c FILE]          run in the foreground (for systemd)
 *   oneboxd -c FILE -t         check the config file and exit
 *   oneboxd --config-reference print the config key reference (Markdown)
 */
#include "conf.h"
#include "log.h"
#include "master.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
