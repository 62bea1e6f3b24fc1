/*
 * ctl-queue - `onebox queue ...`: look at and steer the outbound queue
 * (server/mail/queue.h) with the daemon running or not.
 *
 * The CLI never talks to queued: it works on the files, and queued
 * notices through inotify.  hold moves the envelope to queue/hold/ (queued
 * forgets it), release moves it back (queued sees a new message and tries
 * it at once), delete removes envelope and message, flush drops a request
 * into queue/flush/ that queued picks up (retry now, whatever the
 * back-off says).  A message in the middle of an attempt while it is held
 * or deleted: queued drops its own result for it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "queue.h"
#include "str.h"

static char *
queue_dir(struct ctl *c)
{
	char *q;

	ctl_db(c);		/* the config, data_dir, and the service user */
	q = xasprintf("%s/queue", c->data_dir);
	queue_dirs(q);		/* before the daemon's first start: may fail, then nothing is queued */
	return q;
}

static void
fmt_time(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	if (t == 0) {
		str_lcpy(out, "now", outsz);
		return;
	}
	localtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%d %H:%M:%S", &tm);
}

static void
print_entry(const char *qid, const struct envelope *env, const struct queue_meta *m, int held)
{
	char size[32], created[32], next[32];

	str_size_format(env->size, size, sizeof(size));
	fmt_time(m->created, created, sizeof(created));
	fmt_time(m->next, next, sizeof(next));
	printf("%s  %6s  %s  attempts=%u  %s%s  from=<%s>\n", qid, size, created, m->attempts,
	    held ? "held" : "next=", held ? "" : next, env->sender);
	for (size_t i = 0; i < env->nrcpts; i++) {
		const struct envelope_rcpt *r = &env->rcpts[i];
		printf("    %-9s <%s>%s%s\n", rcpt_status_name(r->status), r->final, r->reply ? "  " : "",
		    r->reply ? r->reply : "");
	}
}

static size_t
list_dir(const char *qdir, const char *sub)
{
	char *dir = xasprintf("%s/%s", qdir, sub);
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)) != NULL) {
		struct envelope env;
		struct queue_meta m;
		if (!queue_qid_valid(de->d_name) || queue_env_load(qdir, sub, de->d_name, &env, &m) < 0)
			continue;
		print_entry(de->d_name, &env, &m, strcmp(sub, "hold") == 0);
		envelope_free(&env);
		n++;
	}
	if (d)
		closedir(d);
	free(dir);
	return n;
}

static int
queue_list(struct ctl *c, int argc, char **argv)
{
	char *qdir;
	size_t n;

	ctl_nargs(c, argc, 0, 0);
	qdir = queue_dir(c);
	n = list_dir(qdir, "env") + list_dir(qdir, "hold");
	printf("%zu message%s in the queue\n", n, n == 1 ? "" : "s");
	free(qdir);
	return 0;
}

/* where - "env" or "hold": where qid's envelope is, or fail. */
static const char *
where(struct ctl *c, const char *qdir, const char *qid)
{
	static const char *const subs[] = { "env", "hold" };

	if (!queue_qid_valid(qid))
		ctl_fail(c, "%s: not a queue id (16 hex digits)", qid);
	for (size_t i = 0; i < 2; i++) {
		char *p = queue_path(qdir, subs[i], qid);
		int ok = access(p, F_OK) == 0;
		free(p);
		if (ok)
			return subs[i];
	}
	ctl_fail(c, "%s: no such message in the queue", qid);
}

static void
print_headers(const char *qdir, const char *qid)
{
	char *p = queue_path(qdir, "msg", qid), line[4096];
	FILE *fp = fopen(p, "r");

	free(p);
	if (fp == NULL)
		return;
	printf("\n");
	while (fgets(line, sizeof(line), fp) && line[0] != '\n')
		fputs(line, stdout);
	fclose(fp);
}

static int
queue_show(struct ctl *c, int argc, char **argv)
{
	struct envelope env;
	struct queue_meta m;
	char *qdir;
	const char *sub;

	ctl_nargs(c, argc, 1, 1);
	qdir = queue_dir(c);
	sub = where(c, qdir, argv[0]);
	if (queue_env_load(qdir, sub, argv[0], &env, &m) < 0)
		ctl_fail(c, "%s: cannot read its envelope: %s", argv[0], strerror(errno));
	print_entry(argv[0], &env, &m, strcmp(sub, "hold") == 0);
	print_headers(qdir, argv[0]);
	envelope_free(&env);
	free(qdir);
	return 0;
}

/* move - the envelope of qid from one directory to the other. */
static void
move(struct ctl *c, const char *qdir, const char *qid, const char *from, const char *to)
{
	char *a = queue_path(qdir, from, qid), *b = queue_path(qdir, to, qid);

	if (rename(a, b) < 0)
		ctl_fail(c, "%s: %s", qid, strerror(errno));
	free(a);
	free(b);
}

static int
queue_hold(struct ctl *c, int argc, char **argv)
{
	char *qdir;

	ctl_nargs(c, argc, 1, 1);
	qdir = queue_dir(c);
	if (strcmp(where(c, qdir, argv[0]), "hold") == 0)
		ctl_fail(c, "%s: already held", argv[0]);
	move(c, qdir, argv[0], "env", "hold");
	printf("held %s\n", argv[0]);
	free(qdir);
	return 0;
}

static int
queue_release(struct ctl *c, int argc, char **argv)
{
	char *qdir;

	ctl_nargs(c, argc, 1, 1);
	qdir = queue_dir(c);
	if (strcmp(where(c, qdir, argv[0]), "env") == 0)
		ctl_fail(c, "%s: not held", argv[0]);
	move(c, qdir, argv[0], "hold", "env");
	printf("released %s\n", argv[0]);
	free(qdir);
	return 0;
}

static int
queue_delete(struct ctl *c, int argc, char **argv)
{
	char *qdir, *env, *msg;

	ctl_nargs(c, argc, 1, 1);
	qdir = queue_dir(c);
	env = queue_path(qdir, where(c, qdir, argv[0]), argv[0]);
	msg = queue_path(qdir, "msg", argv[0]);
	if (unlink(env) < 0)
		ctl_fail(c, "%s: %s", argv[0], strerror(errno));
	unlink(msg);
	printf("deleted %s\n", argv[0]);
	free(env);
	free(msg);
	free(qdir);
	return 0;
}

static int
queue_flush(struct ctl *c, int argc, char **argv)
{
	const char *what = argc ? argv[0] : "all";
	char *qdir, *p;
	int fd;

	ctl_nargs(c, argc, 0, 1);
	qdir = queue_dir(c);
	if (argc && strcmp(where(c, qdir, what), "hold") == 0)
		ctl_fail(c, "%s: held; release it first", what);
	p = xasprintf("%s/flush/%s", qdir, what);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		ctl_fail(c, "%s: %s", p, strerror(errno));
	close(fd);
	printf("flush requested: %s\n", argc ? what : "every message");
	free(p);
	free(qdir);
	return 0;
}

const struct ctl_verb ctl_queue_verbs[] = {
	{ "queue", "list", "", "the outbound queue: each message and its recipients' states", queue_list },
	{ "queue", "show", "ID", "one queued message: envelope, states and headers", queue_show },
	{ "queue", "flush", "[ID]", "try now (one message, or all) whatever the retry times say", queue_flush },
	{ "queue", "delete", "ID", "remove a message from the queue (no bounce)", queue_delete },
	{ "queue", "hold", "ID", "put a message aside: no delivery until released", queue_hold },
	{ "queue", "release", "ID", "deliver a held message again, at once", queue_release },
	{ NULL, NULL, NULL, NULL, NULL },
};
