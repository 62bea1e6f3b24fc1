/*
 * onebox - the admin CLI: `onebox [-c FILE] COMMAND ...`.
 *
 * The commands live in per-noun tables (ctl-domain.c, ctl-user.c,
 * ctl-alias.c, ctl-queue.c); this file finds the command, prints the help, and opens the
 * database the safe way.
 *
 * The daemons run as the service user (`user` in onebox.conf) and open the
 * database read-only, which in WAL mode still needs write access to the
 * -wal and -shm files.  So when root runs this tool, it makes data_dir
 * root's and data_dir/db the service user's (through O_NOFOLLOW fds), then
 * becomes that user before SQLite creates anything: root never changes the
 * owner of a file, so a link planted by a compromised service gains nothing.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "ctl.h"

static const struct ctl_verb *const tables[] = {
	ctl_domain_verbs, ctl_user_verbs, ctl_alias_verbs, ctl_settings_verbs, ctl_check_verbs,
	ctl_admin_verbs,
	ctl_queue_verbs,
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static void
print_usage(FILE *fp, const char *noun)
{
	char words[64];

	if (noun == NULL)
		fprintf(fp, "usage: onebox [-c FILE] COMMAND [ARGS...]\n"
		    "  -c FILE  config file (default %s)\n\ncommands:\n",
		    CONF_DEFAULT_PATH);
	for (size_t i = 0; i < NTABLES; i++) {
		for (const struct ctl_verb *v = tables[i]; v->run; v++) {
			if (noun && (v->noun == NULL || strcmp(v->noun, noun)))
				continue;
			snprintf(words, sizeof(words), "%s%s%s %s",
			    v->noun ? v->noun : "", v->noun ? " " : "",
			    v->verb, v->args);
			fprintf(fp, "  %-46s %s\n", words, v->doc);
		}
	}
	if (noun == NULL)
		fprintf(fp, "  %-46s %s\n", "help", "this text");
}

void
ctl_fail(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "onebox: %s%s", c->cmd ? c->cmd : "",
	    c->cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void
ctl_usage(struct ctl *c)
{
	fprintf(stderr, "usage: onebox %s\n", c->usage);
	exit(2);
}

void
ctl_nargs(struct ctl *c, int argc, int min, int max)
{
	if (argc < min || (max >= 0 && argc > max))
		ctl_usage(c);
}

/* make_data_dir - create data_dir (0755) and its parents if missing. */
static void
make_data_dir(struct ctl *c)
{
	char *p = xstrdup(c->data_dir);

	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char save = *s;
		*s = '\0';
		if (mkdir(p, 0755) == 0)
			chmod(p, 0755);	/* whatever the umask */
		else if (errno != EEXIST)
			ctl_fail(c, "cannot create %s: %s", p, strerror(errno));
		*s = save;
		if (save == '\0')
			break;
	}
	free(p);
}

/* own_dir - give directory path to uid:gid with mode, through an fd opened
 * with O_NOFOLLOW (a planted symlink is refused, never followed). */
static void
own_dir(struct ctl *c, const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;
	int fd;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		ctl_fail(c, "cannot create %s: %s", path, strerror(errno));
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		ctl_fail(c, "%s: not a directory (a symlink is refused)", path);
	if (fstat(fd, &st) < 0 ||
	    ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0) ||
	    ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0))
		ctl_fail(c, "%s: %s", path, strerror(errno));
	close(fd);
}

/* drop_privs - become pw for good (OpenSMTPD's order); fatal on failure. */
static void
drop_privs(const struct passwd *pw)
{
	if (setgroups(1, &pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		fatal("cannot drop privileges to user %s", pw->pw_name);
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getegid() != pw->pw_gid)
		fatalx("privileges not dropped to user %s", pw->pw_name);
}

/*
 * hand_over - as root: data_dir belongs to root (the service user cannot
 * replace what is in it), data_dir/db to the service user; then become that
 * user, so that every file SQLite makes there is the service user's own and
 * root never changes the owner of a file the service user could have
 * planted (a link).
 */
static void
hand_over(struct ctl *c, const struct passwd *pw, const char *dbdir)
{
	own_dir(c, c->data_dir, 0, 0, 0755);
	own_dir(c, dbdir, pw->pw_uid, pw->pw_gid, 0750);
	drop_privs(pw);
}

struct db *
ctl_db(struct ctl *c)
{
	struct conf conf;
	struct passwd *pw = NULL;
	const char *derr;
	char *err, *path, *dbdir;

	if (c->db)
		return c->db;
	if (conf_load(c->conf_path, &conf, &err) < 0)
		ctl_fail(c, "%s", err);
	free(c->data_dir);
	c->data_dir = xstrdup(conf.data_dir);
	c->first_valid_uid = conf.first_valid_uid;
	if (geteuid() == 0 && (pw = getpwnam(conf.user)) == NULL)
		ctl_fail(c, "%s: user: '%s' does not exist; create it with: useradd --system "
		    "--no-create-home --shell /usr/sbin/nologin %s", c->conf_path, conf.user, conf.user);
	conf_free(&conf);
	make_data_dir(c);
	dbdir = xasprintf("%s/%s", c->data_dir, DB_DIR);
	path = xasprintf("%s/%s", dbdir, DB_FILENAME);
	if (pw)
		hand_over(c, pw, dbdir);
	else if (mkdir(dbdir, 0750) < 0 && errno != EEXIST)
		ctl_fail(c, "cannot create %s: %s", dbdir, strerror(errno));
	free(dbdir);
	if (db_open(path, DB_READWRITE, &c->db, &derr) < 0)
		ctl_fail(c, "%s", derr);
	free(path);
	return c->db;
}

static const struct ctl_verb *
find_verb(int argc, char **argv, int *nwords_r)
{
	for (size_t i = 0; i < NTABLES; i++) {
		for (const struct ctl_verb *v = tables[i]; v->run; v++) {
			if (v->noun == NULL && strcmp(v->verb, argv[0]) == 0) {
				*nwords_r = 1;
				return v;
			}
			if (v->noun && argc >= 2 && strcmp(v->noun, argv[0]) == 0 &&
			    strcmp(v->verb, argv[1]) == 0) {
				*nwords_r = 2;
				return v;
			}
		}
	}
	return NULL;
}

static int
is_noun(const char *s)
{
	for (size_t i = 0; i < NTABLES; i++)
		for (const struct ctl_verb *v = tables[i]; v->run; v++)
			if (v->noun && strcmp(v->noun, s) == 0)
				return 1;
	return 0;
}

static int
run(struct ctl *c, int argc, char **argv)
{
	const struct ctl_verb *v;
	int nwords, r;

	if (strcmp(argv[0], "help") == 0 || strcmp(argv[0], "--help") == 0) {
		print_usage(stdout, argc > 1 && is_noun(argv[1]) ?
		    argv[1] : NULL);
		return 0;
	}
	if ((v = find_verb(argc, argv, &nwords)) == NULL) {
		if (is_noun(argv[0])) {
			fprintf(stderr, "usage:\n");
			print_usage(stderr, argv[0]);
		} else
			fprintf(stderr, "onebox: unknown command '%s'; see "
			    "onebox help\n", argv[0]);
		return 2;
	}
	c->cmd = xasprintf("%s%s%s", v->noun ? v->noun : "",
	    v->noun ? " " : "", v->verb);
	c->usage = xasprintf("%s %s", c->cmd, v->args);
	r = v->run(c, argc - nwords, argv + nwords);
	if (fflush(stdout) == EOF || ferror(stdout))
		ctl_fail(c, "writing output: %s", strerror(errno));
	return r;
}

int
main(int argc, char **argv)
{
	struct ctl c;
	int ch, r;

	memset(&c, 0, sizeof(c));
	c.conf_path = CONF_DEFAULT_PATH;
	log_init("onebox", LOG_LVL_WARN, 0);
	umask(027);		/* the database holds password hashes */
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			c.conf_path = optarg;
			break;
		case 'h':
			print_usage(stdout, NULL);
			return 0;
		default:
			print_usage(stderr, NULL);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		print_usage(stderr, NULL);
		return 2;
	}
	r = run(&c, argc, argv);
	db_close(&c.db);
	free(c.data_dir);
	free(c.cmd);
	free(c.usage);
	return r;
}
