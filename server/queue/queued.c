/*
 * queued - the queue runner service (see queued.h).
 *
 * How it learns of new mail: inotify on queue/env/.  smtpd's group commit
 * renames an envelope into env/ as the last step of making a message
 * durable, so the rename itself is the notice; no socket between the two
 * processes, and nothing is missed while queued restarts, because it
 * rescans env/ at start (and every minute, which also covers an inotify
 * overflow).  `onebox queue flush` drops a file into queue/flush/.
 *
 * The schedule is a list of (queue id, next attempt time) checked once a
 * second; an attempt reads the envelope from disk each time, so the disk
 * is the only truth and a kill -9 loses nothing but the attempt in
 * progress (delivered again: at least once, never zero times).
 *
 * The link watch: an office behind one line sees every outside delivery
 * fail to connect when the line is down, and each message then backs off
 * (up to hours).  When attempts only meet connection failures, queued
 * says the link looks down and tries one deferred message every
 * queue_probe_interval; the first attempt that reaches any server (that
 * probe, or new mail) makes every deferred message due at once, so the
 * queue empties within a minute of the line coming back.
 */
#include "queued.h"
#include "dns.h"
#include "log.h"
#include "queue.h"
#include "str.h"
#include "tls.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define QUEUED_MAX_ACTIVE	20	/* messages in delivery at once */
#define RESCAN_MS		(60 * 1000)
#define ORPHAN_AGE		(24 * 3600)	/* a message file without envelope */

static struct queued Q;

static struct qmsg *
find(struct queued *q, const char *qid)
{
	for (struct qmsg *m = q->msgs; m; m = m->next_msg)
		if (strcmp(m->qid, qid) == 0)
			return m;
	return NULL;
}

static void
forget(struct queued *q, struct qmsg *m)
{
	for (struct qmsg **pp = &q->msgs; *pp; pp = &(*pp)->next_msg)
		if (*pp == m) {
			*pp = m->next_msg;
			free(m);
			return;
		}
}

/* learn - a queue id seen in env/, due at next (0 = now), if new. */
static void
learn(struct queued *q, const char *qid, time_t next)
{
	struct qmsg *m;

	if (!queue_qid_valid(qid) || find(q, qid))
		return;
	m = xcalloc(1, sizeof(*m));
	str_lcpy(m->qid, qid, sizeof(m->qid));
	m->next = next;
	m->next_msg = q->msgs;
	q->msgs = m;
}

static void
run_due(struct queued *q)
{
	time_t now = time(NULL);

	for (struct qmsg *m = q->msgs, *n; m && q->nactive < QUEUED_MAX_ACTIVE; m = n) {
		n = m->next_msg;
		if (!m->active && m->next <= now)
			attempt_start(q, m);
	}
}

void
queued_attempt_done(struct queued *q, struct qmsg *m, time_t next)
{
	m->active = 0;
	q->nactive--;
	if (next == 0 || m->removed)
		forget(q, m);
	else
		m->next = next;
	/* not run_due() here: an attempt can end inside attempt_start, and
	 * run_due's walk of the list must not be re-entered */
	ev_timer_add(q->svc.loop, &q->tick, 0);
}

void
queued_link(struct queued *q, int reached, int unreachable)
{
	size_t n = 0;

	if (reached && q->link_down) {
		q->link_down = 0;
		for (struct qmsg *m = q->msgs; m; m = m->next_msg)
			if (!m->active && m->next > 0) {
				m->next = 0;
				n++;
			}
		log_info("queued: a server answered: the link is back; retrying %zu deferred messages now", n);
	}
	else if (!reached && unreachable && !q->link_down) {
		q->link_down = 1;
		q->last_probe = time(NULL);
		log_info("queued: deliveries fail to connect: the link looks down; probing every %llds",
		    (long long)db_setting_int(q->svc.db, ST_QUEUE_PROBE_INTERVAL));
	}
}

/* probe - while the link looks down: the deferred message due first is
 * tried now, as the probe (a real delivery, not a test connection). */
static void
probe(struct queued *q)
{
	time_t now = time(NULL);
	struct qmsg *first = NULL;

	if (!q->link_down || now - q->last_probe < (time_t)db_setting_int(q->svc.db, ST_QUEUE_PROBE_INTERVAL))
		return;
	q->last_probe = now;
	for (struct qmsg *m = q->msgs; m; m = m->next_msg) {
		if (m->active)
			return;		/* an attempt is out there already */
		if (m->next > now && (first == NULL || m->next < first->next))
			first = m;
	}
	if (first) {
		log_info("queued id=%s probing the link", first->qid);
		first->next = 0;
	}
}

static void
rescan(struct queued *q)
{
	char *dir = xasprintf("%s/env", q->queue_dir);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		log_warn("queued: %s", dir);
	while (d && (de = readdir(d)) != NULL) {
		struct envelope env;
		struct queue_meta meta;
		/* a restart keeps each message's back-off (a damaged envelope
		 * is left to the attempt, which logs it) */
		if (!queue_qid_valid(de->d_name) || find(q, de->d_name))
			continue;
		if (queue_env_load(q->queue_dir, "env", de->d_name, &env, &meta) < 0)
			meta.next = 0;
		else
			envelope_free(&env);
		learn(q, de->d_name, meta.next);
	}
	if (d)
		closedir(d);
	free(dir);
	q->last_scan = ev_clock_ms();
}

/* flush_request - `onebox queue flush [ID]` left name in flush/. */
static void
flush_request(struct queued *q, const char *name)
{
	char *path = xasprintf("%s/flush/%s", q->queue_dir, name);
	int all = strcmp(name, "all") == 0;

	if (all || queue_qid_valid(name)) {
		unlink(path);
		for (struct qmsg *m = q->msgs; m; m = m->next_msg)
			if (all || strcmp(m->qid, name) == 0)
				m->next = 0;
		log_info("queued flush %s", all ? "of the whole queue" : name);
	}
	free(path);
}

static void
flush_scan(struct queued *q)
{
	char *dir = xasprintf("%s/flush", q->queue_dir);
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			flush_request(q, de->d_name);
	if (d)
		closedir(d);
	free(dir);
}

static void
env_event(struct queued *q, const struct inotify_event *e)
{
	struct qmsg *m;

	if (e->mask & IN_MOVED_TO) {
		learn(q, e->name, 0);	/* new, or released: now */
		return;
	}
	/* deleted or held by the CLI */
	if ((m = find(q, e->name)) == NULL)
		return;
	if (m->active)
		m->removed = 1;
	else
		forget(q, m);
}

static void
inotify_readable(int fd, int events, void *arg)
{
	struct queued *q = arg;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			if (e->mask & IN_Q_OVERFLOW)
				rescan(q);
			else if (e->len && e->wd == q->wd_env)
				env_event(q, e);
			else if (e->len && e->wd == q->wd_flush && e->name[0] != '.')
				flush_request(q, e->name);
			p += sizeof(*e) + e->len;
		}
	}
	run_due(q);
}

static void
tick(void *arg)
{
	struct queued *q = arg;

	if (ev_clock_ms() - q->last_scan >= RESCAN_MS)
		rescan(q);
	probe(q);
	run_due(q);
	ev_timer_add(q->svc.loop, &q->tick, 1000);
}

/* remove_orphans - files a crash left behind: a message file whose
 * envelope never made it (no 250 was sent for it), old tmp/ files. */
static void
remove_orphans(struct queued *q, const char *sub)
{
	char *dir = xasprintf("%s/%s", q->queue_dir, sub);
	DIR *d = opendir(dir);
	struct dirent *de;
	time_t now = time(NULL);

	while (d && (de = readdir(d)) != NULL) {
		char *path = xasprintf("%s/%s", dir, de->d_name), *env = NULL;
		struct stat st;
		if (de->d_name[0] != '.' && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime > ORPHAN_AGE) {
			env = queue_path(q->queue_dir, "env", de->d_name);
			if (strcmp(sub, "tmp") == 0 || (access(env, F_OK) < 0 && errno == ENOENT)) {
				log_info("queued: removing %s (left by a crash)", path);
				unlink(path);
			}
		}
		free(env);
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
}

static void
watch(struct queued *q)
{
	char *env = xasprintf("%s/env", q->queue_dir), *flush = xasprintf("%s/flush", q->queue_dir);

	q->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (q->inotify_fd < 0 ||
	    (q->wd_env = inotify_add_watch(q->inotify_fd, env, IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) < 0 ||
	    (q->wd_flush = inotify_add_watch(q->inotify_fd, flush, IN_CLOSE_WRITE | IN_MOVED_TO)) < 0)
		fatal("queued: inotify on %s", q->queue_dir);
	ev_io_set(q->svc.loop, q->inotify_fd, EV_READ, inotify_readable, q);
	free(env);
	free(flush);
}

/* queued_init - after the signal mask is set: libunbound's and the
 * committer's threads inherit it. */
static void
queued_init(struct service *svc)
{
	struct queued *q = (struct queued *)svc;
	char *err = NULL;

	q->queue_dir = xasprintf("%s/queue", svc->conf->data_dir);
	q->mail_dir = xasprintf("%s/mail", svc->conf->data_dir);
	if (queue_dirs(q->queue_dir) < 0)
		fatal("queued: %s", q->queue_dir);
	q->committer = committer_new(svc->loop, q->mail_dir);
	q->mta.loop = svc->loop;
	q->mta.helo = svc->conf->hostname;
	if ((q->mta.dns = dns_new(svc->loop, svc->conf->dns_servers, &err)) == NULL)
		fatalx("queued: %s", err);
	if ((q->mta.tls = tls_client_ctx(&err)) == NULL) {
		log_warnx("queued: no STARTTLS: %s", err);
		free(err);
	}
	remove_orphans(q, "tmp");
	remove_orphans(q, "msg");
	watch(q);
	rescan(q);
	flush_scan(q);
	ev_timer_init(&q->tick, tick, q);
	ev_timer_add(svc->loop, &q->tick, 0);
}

static const struct service_def queued_def = {
	.name = "queued",
	.proto = "queue",
	.listeners = 0,
	.refuse_prefix = "",
	.limit_total = ST_SMTP_MAX_CONNECTIONS,
	.limit_per_ip = ST_SMTP_MAX_CONNECTIONS_PER_IP,
	.init = queued_init,
};

int
queued_main(struct svc_env *env)
{
	return svc_run(env, &queued_def, &Q.svc);
}
