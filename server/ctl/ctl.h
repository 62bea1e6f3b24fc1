/*
 * ctl - the `onebox` admin CLI: shared state and helpers for the verbs.
 *
 * A verb handler checks its arguments first (ctl_usage on a mistake: exit
 * 2), then calls ctl_db, which loads the config file, makes data_dir, and
 * as root hands the database files to the service user and becomes that
 * user before opening the database.  Any other failure is one line on
 * stderr, "onebox: VERB: message", and exit 1 (ctl_fail).
 */
#ifndef ONEBOX_CTL_H
#define ONEBOX_CTL_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct ctl {
	const char *conf_path;
	char *cmd;		/* "user add": for messages */
	char *usage;		/* the usage line of the current verb */
	char *data_dir;
	unsigned first_valid_uid;	/* from the config file, set by ctl_db */
	struct db *db;
};

/* run gets the arguments after the verb words; returns the exit code. */
struct ctl_verb {
	const char *noun;	/* "user"; NULL for a single-word verb */
	const char *verb;	/* "add" */
	const char *args;	/* "ADDRESS [--quota SIZE]", for the help text */
	const char *doc;	/* one line */
	int (*run)(struct ctl *c, int argc, char **argv);
};

/* per-noun tables, NULL-run terminated */
extern const struct ctl_verb ctl_domain_verbs[];
extern const struct ctl_verb ctl_user_verbs[];
extern const struct ctl_verb ctl_alias_verbs[];
extern const struct ctl_verb ctl_settings_verbs[];
extern const struct ctl_verb ctl_check_verbs[];
extern const struct ctl_verb ctl_admin_verbs[];
extern const struct ctl_verb ctl_queue_verbs[];

/* ctl_db - the open database (opened on first use; fatal on failure). */
struct db *ctl_db(struct ctl *c);
/* ctl_fail - print "onebox: CMD: msg" and exit 1. */
void ctl_fail(struct ctl *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* ctl_usage - print the usage line of the current verb and exit 2. */
void ctl_usage(struct ctl *c) __attribute__((noreturn));
/* ctl_nargs - ctl_usage unless min <= argc <= max (max < 0: no limit). */
void ctl_nargs(struct ctl *c, int argc, int min, int max);

/* ctl_address - validate and canonicalise an address (malloc'd), or fail. */
char *ctl_address(struct ctl *c, const char *s);
/* ctl_domain - validate and lower-case a domain name (malloc'd), or fail. */
char *ctl_domain(struct ctl *c, const char *s);
/* ctl_domain_exists - fail unless domain is one of ours. */
void ctl_domain_exists(struct ctl *c, const char *domain);
/* ctl_quota - "25M", "1G", "0", "none", "unlimited" -> bytes, or fail. */
uint64_t ctl_quota(struct ctl *c, const char *s);
/* ctl_read_password - from stdin (first line) or, on a tty, asked twice
 * with echo off; malloc'd, never empty, or fail. */
char *ctl_read_password(struct ctl *c, const char *address);

#endif
