/*
 * queue - the outbound queue on disk (see queue.h for the layout).
 *
 * Why link the spool file instead of copying it: the DATA spool is an
 * O_TMPFILE in queue/ already, so giving it a name costs one linkat() and
 * the message is written exactly once, whatever its size.
 */
#include "queue.h"
#include "log.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define ENV_MAX (4 * 1024 * 1024)	/* 1,000s of recipients fit */

static const char *const subdirs[] = { "tmp", "msg", "env", "hold", "flush" };

int
queue_dirs(const char *queue_dir)
{
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char *p = xasprintf("%s/%s", queue_dir, subdirs[i]);
		int rc = mkdir(p, 0700);
		free(p);
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

char *
queue_path(const char *queue_dir, const char *sub, const char *qid)
{
	return xasprintf("%s/%s/%s", queue_dir, sub, qid);
}

int
queue_qid_valid(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return n == ENVELOPE_QID_MAX - 1 && s[n] == '\0';
}

/* put_clean - s with TABs and control characters made spaces. */
static void
put_clean(struct buf *out, const char *s)
{
	for (; s && *s; s++)
		buf_addc(out, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

void
queue_env_format(const struct envelope *env, const struct queue_meta *m, struct buf *out)
{
	buf_printf(out, "version 1\nsender %s\ncreated %lld\nnext %lld\nattempts %u\n"
	    "smtputf8 %d\nbody8 %d\nsize %llu\nlines %llu\n", env->sender, (long long)m->created,
	    (long long)m->next, m->attempts, env->smtputf8, env->body8,
	    (unsigned long long)env->size, (unsigned long long)env->lines);
	for (size_t i = 0; i < env->nrcpts; i++) {
		const struct envelope_rcpt *r = &env->rcpts[i];
		if (r->route.kind != ROUTE_REMOTE)
			continue;
		buf_printf(out, "rcpt\t%s\t%s\t%s\t", rcpt_status_name(r->status), r->final, r->orcpt);
		put_clean(out, r->reply);
		buf_addc(out, '\n');
	}
}

static int
parse_status(const char *s, enum rcpt_status *st_r)
{
	for (int st = RCPT_PENDING; st <= RCPT_FAILED; st++)
		if (strcmp(s, rcpt_status_name((enum rcpt_status)st)) == 0) {
			*st_r = (enum rcpt_status)st;
			return 0;
		}
	return -1;
}

/* parse_rcpt - "status TAB final TAB orcpt TAB reply" (line is modified). */
static int
parse_rcpt(struct envelope *env, char *line)
{
	char *f[4];
	struct route route = { ROUTE_REMOTE, 0 };
	enum rcpt_status st;

	for (int i = 0; i < 4; i++) {
		f[i] = strsep(&line, "\t");
		if (f[i] == NULL)
			return -1;
	}
	if (line != NULL || parse_status(f[0], &st) < 0 || f[1][0] == '\0' || f[2][0] == '\0')
		return -1;
	size_t k = envelope_add_rcpt(env, f[2], f[1], &route);
	envelope_set_status(&env->rcpts[k], st, f[3][0] ? f[3] : NULL);
	return 0;
}

/* parse_field - one "key value" line into env/m; -1 if unknown or bad. */
static int
parse_field(struct envelope *env, struct queue_meta *m, const char *key, const char *v)
{
	uint64_t n;

	if (strcmp(key, "sender") == 0) {
		free(env->sender);
		env->sender = xstrdup(v);
		return 0;
	}
	if (str_to_u64(v, &n) < 0)
		return -1;
	if (strcmp(key, "version") == 0)
		return n == 1 ? 0 : -1;
	if (strcmp(key, "created") == 0)
		m->created = (time_t)n;
	else if (strcmp(key, "next") == 0)
		m->next = (time_t)n;
	else if (strcmp(key, "attempts") == 0)
		m->attempts = (unsigned)n;
	else if (strcmp(key, "smtputf8") == 0)
		env->smtputf8 = n != 0;
	else if (strcmp(key, "body8") == 0)
		env->body8 = n != 0;
	else if (strcmp(key, "size") == 0)
		env->size = n;
	else if (strcmp(key, "lines") == 0)
		env->lines = n;
	else
		return -1;
	return 0;
}

int
queue_env_parse(const char *qid, const char *text, struct envelope *env, struct queue_meta *m,
    const char **error_r)
{
	char *copy = xstrdup(text), *p = copy, *line;
	int version = 0;

	envelope_init(env, qid, "");
	memset(m, 0, sizeof(*m));
	*error_r = NULL;
	while (*error_r == NULL && (line = strsep(&p, "\n")) != NULL) {
		char *sp;
		if (line[0] == '\0')
			continue;
		if (strncmp(line, "rcpt\t", 5) == 0) {
			if (parse_rcpt(env, line + 5) < 0)
				*error_r = "bad recipient line";
			continue;
		}
		if ((sp = strchr(line, ' ')) == NULL) {
			*error_r = "line without a value";
			continue;
		}
		*sp = '\0';
		if (parse_field(env, m, line, sp + 1) < 0)
			*error_r = "unknown key or bad value";
		else if (strcmp(line, "version") == 0)
			version = 1;
	}
	free(copy);
	if (*error_r == NULL && (!version || env->nrcpts == 0))
		*error_r = version ? "no recipient" : "no version line";
	if (*error_r) {
		envelope_free(env);
		return -1;
	}
	return 0;
}

/* read_small - a whole file of at most ENV_MAX bytes, NUL-terminated. */
static char *
read_small(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct buf b = BUF_INIT;
	char tmp[8192];
	ssize_t n;

	if (fd < 0)
		return NULL;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0 && b.len < ENV_MAX)
		buf_add(&b, tmp, (size_t)n);
	close(fd);
	if (n < 0 || b.len >= ENV_MAX) {
		buf_free(&b);
		errno = n < 0 ? errno : EFBIG;
		return NULL;
	}
	buf_adds(&b, "");
	return b.data;
}

int
queue_env_load(const char *queue_dir, const char *sub, const char *qid, struct envelope *env,
    struct queue_meta *m)
{
	char *path = queue_path(queue_dir, sub, qid);
	char *text = read_small(path);
	const char *err;
	int rc = -1;

	if (text == NULL) {
		free(path);
		return -1;
	}
	if (queue_env_parse(qid, text, env, m, &err) == 0)
		rc = 0;
	else {
		log_warnx("queue id=%s %s: %s", qid, path, err);
		errno = EINVAL;
	}
	free(text);
	free(path);
	return rc;
}

/* write_file - create path (O_EXCL) holding b; 0/-1 (errno, nothing left). */
static int
write_file(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < b->len) {
		ssize_t w = write(fd, b->data + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			unlink(path);
			errno = e;
			return -1;
		}
		off += (size_t)w;
	}
	return close(fd);
}

int
queue_env_stage(const char *queue_dir, const struct envelope *env, const struct queue_meta *m,
    struct commit_rename *r)
{
	struct buf b = BUF_INIT;
	char rnd[9];
	int rc;

	str_random_hex(rnd, 4);
	queue_env_format(env, m, &b);
	r->from = xasprintf("%s/tmp/%s.env.%s", queue_dir, env->qid, rnd);
	r->to = queue_path(queue_dir, "env", env->qid);
	r->done = 0;
	if ((rc = write_file(r->from, &b)) < 0) {
		int e = errno;
		free(r->from);
		free(r->to);
		r->from = r->to = NULL;
		errno = e;
	}
	buf_free(&b);
	return rc;
}

int
queue_remove(const char *queue_dir, const char *qid)
{
	char *env = queue_path(queue_dir, "env", qid), *msg = queue_path(queue_dir, "msg", qid);
	int rc = unlink(env);

	if (rc == 0 || errno == ENOENT)
		unlink(msg);
	free(env);
	free(msg);
	return rc;
}

/* ---- queue_submit: the SMTP server's side ---- */

struct queue_job {
	struct commit_job job;
	struct commit_rename renames[2];	/* message, then envelope */
	struct envelope *env;
	queue_done_cb *done;
	void *arg;
};

static void
set_remote_status(struct envelope *env, enum rcpt_status st, const char *reply)
{
	for (size_t i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].route.kind == ROUTE_REMOTE && env->rcpts[i].status == RCPT_PENDING)
			envelope_set_status(&env->rcpts[i], st, reply);
}

/* qjob_free - release j; failed: take back what was published, the
 * envelope first (a message file alone is harmless), else the tmp files. */
static void
qjob_free(struct queue_job *j, int failed)
{
	for (int i = 1; i >= 0; i--) {
		struct commit_rename *r = &j->renames[i];
		if (failed && r->from)
			unlink(r->done ? r->to : r->from);
		free(r->from);
		free(r->to);
	}
	free(j);
}

static void
qjob_done(struct commit_job *cj, void *arg)
{
	struct queue_job *j = arg;
	struct envelope *env = j->env;
	queue_done_cb *done = j->done;
	void *done_arg = j->arg;
	int ok = cj->result == 0;

	if (!ok)
		log_warnx("queue id=%s commit failed: %s", env->qid, strerror(cj->errno_val));
	qjob_free(j, !ok);
	set_remote_status(env, ok ? RCPT_DELIVERED : RCPT_DEFERRED,
	    ok ? NULL : "451 4.3.0 Local error while queueing the message, try again later");
	done(env, done_arg);
}

/* link_spool - give the O_TMPFILE spool a name in tmp/; it must be on the
 * committer's file system (syncfs covers only that one). */
static int
link_spool(int fd, dev_t dev, const char *path)
{
	char proc[64];
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (st.st_dev != dev) {
		log_warnx("queue: the queue directory is on another file system than the mail directory, "
		    "which the group commit does not sync");
		errno = EXDEV;
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

static size_t
remote_pending(const struct envelope *env)
{
	size_t n = 0;

	for (size_t i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].route.kind == ROUTE_REMOTE && env->rcpts[i].status == RCPT_PENDING)
			n++;
	return n;
}

int
queue_submit(const char *queue_dir, struct committer *c, struct envelope *env,
    queue_done_cb *done, void *arg)
{
	struct queue_meta m = { time(NULL), 0, 0 };
	struct queue_job *j;
	int e;

	if (remote_pending(env) == 0) {
		errno = 0;
		return -1;
	}
	j = xcalloc(1, sizeof(*j));
	j->env = env;
	j->done = done;
	j->arg = arg;
	j->renames[0].from = xasprintf("%s/tmp/%s.msg", queue_dir, env->qid);
	j->renames[0].to = queue_path(queue_dir, "msg", env->qid);
	if (link_spool(env->spool_fd, committer_dev(c), j->renames[0].from) < 0) {
		e = errno;
		free(j->renames[0].from);
		j->renames[0].from = NULL;
		goto fail;
	}
	if (queue_env_stage(queue_dir, env, &m, &j->renames[1]) < 0) {
		e = errno;
		goto fail;
	}
	j->job.renames = j->renames;
	j->job.nrenames = 2;
	j->job.done = qjob_done;
	j->job.arg = j;
	committer_submit(c, &j->job);
	return 0;
fail:
	qjob_free(j, 1);
	set_remote_status(env, RCPT_DEFERRED, "451 4.3.0 Local error while queueing the message, try again later");
	errno = e;
	return -1;
}
