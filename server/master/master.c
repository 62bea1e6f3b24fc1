/*
 * master - root process of oneboxd.
 *
 * Start: read the config, make the data directory, create or migrate the
 * config DB (in a child running as the service user, so that its files
 * belong to that user), load TLS (a self-signed certificate is made when
 * none is configured), bind every listener, fork the services.
 *
 * Then supervise: a service that dies is logged and restarted (after
 * 200 ms, backing off to 5 s if it keeps dying).  SIGHUP re-reads the config
 * and the certificates: listeners are re-bound as needed and every network
 * service is replaced by a fresh one, while the old one finishes the
 * transfers in progress (idle sessions are closed politely: 421 /
 * -ERR [SYS/TEMP]).  authd and pamd are replaced only when their part of
 * the config changed: authd's login throttle lives in its memory.
 *
 * authd runs as the service user; pamd, the one root service, does PAM
 * for it over a socketpair made here once.  The master keeps both ends
 * (so either side can be restarted alone); every child closes the ends
 * that are not its own.
 * SIGTERM stops the services (each finishes or answers 421 what it has open)
 * and exits 0.
 */
#include "master.h"
#include "service.h"
#include "buf.h"
#include "db.h"
#include "ev.h"
#include "log.h"
#include "net.h"
#include "str.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RETIRED 64
#define STOP_GRACE_MS 15000

struct slot {
	const char *name;
	int root;
	int (*main)(struct svc_env *env);
	/* conf_changed - 1 if a reload from old to new must replace the
	 * process; NULL: always replaced */
	int (*conf_changed)(const struct conf *old, const struct conf *new);
	/* listens - the listener kinds it serves, ended by SVC__COUNT: it runs
	 * when one of them has an address; NULL: it always runs */
	const enum conf_service *listens;
	int wanted;
	pid_t pid;
	uint64_t started;
	uint64_t backoff;
	struct ev_timer respawn;
};

static struct {
	const char *path;
	struct conf conf;
	struct svc_env env;
	struct ev_loop *loop;
	int stopping;
	pid_t retired[MAX_RETIRED];
	struct ev_timer kill_timer;
} M;

static int
log_conf_changed(const struct conf *o, const struct conf *n)
{
	return strcmp(o->log_level, n->log_level) != 0 || o->log_syslog != n->log_syslog;
}

static int
pamd_conf_changed(const struct conf *o, const struct conf *n)
{
	return log_conf_changed(o, n) || o->first_valid_uid != n->first_valid_uid;
}

static const enum conf_service smtp_kinds[] = { SVC_SMTP, SVC_SUBMISSION, SVC_SUBMISSIONS, SVC__COUNT };
static const enum conf_service pop3_kinds[] = { SVC_POP3, SVC_POP3S, SVC__COUNT };
static const enum conf_service imap_kinds[] = { SVC_IMAP, SVC_IMAPS, SVC__COUNT };
static const enum conf_service http_kinds[] = { SVC_HTTP, SVC_HTTPS, SVC__COUNT };

/* queued has no listener: the queue may hold mail whatever listens */
static struct slot slots[] = {
	{ .name = "authd", .main = authd_main, .conf_changed = log_conf_changed },
	{ .name = "pamd", .root = 1, .main = pamd_main, .conf_changed = pamd_conf_changed },
	{ .name = "smtpd", .main = smtpd_main, .listens = smtp_kinds },
	{ .name = "pop3d", .main = pop3d_main, .listens = pop3_kinds },
	{ .name = "imapd", .main = imapd_main, .listens = imap_kinds },
	{ .name = "httpd", .main = httpd_main, .listens = http_kinds },
	{ .name = "queued", .main = queued_main },
};
#define NSLOTS (sizeof(slots) / sizeof(slots[0]))

/* slot_wanted - whether sl has work: a listener of its kinds was bound (a
 * web listener that could not be bound is left out, see master_bind). */
static int
slot_wanted(const struct slot *sl)
{
	if (sl->listens == NULL)
		return 1;
	for (const enum conf_service *k = sl->listens; *k != SVC__COUNT; k++)
		for (size_t i = 0; i < M.env.nlisteners; i++)
			if (M.env.listeners[i].svc == *k && M.env.listeners[i].fd >= 0)
				return 1;
	return 0;
}

static void
master_wanted(void)
{
	for (size_t i = 0; i < NSLOTS; i++)
		slots[i].wanted = slot_wanted(&slots[i]);
}

/* mkdir_owned - make path a directory owned by uid:gid with mode.  The
 * directory is opened with O_NOFOLLOW and changed through its fd, so a
 * symlink planted in its place is refused, never followed. */
static void
mkdir_owned(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		fatal("mkdir %s", path);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		fatal("%s: not a directory (a symlink is refused)", path);
	if (fstat(fd, &st) < 0)
		fatal("stat %s", path);
	if (geteuid() == 0 && (st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0)
		fatal("chown %s", path);
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
		fatal("chmod %s", path);
	close(fd);
}

/*
 * master_dirs - the data directory.  data_dir itself and tls/, run/ belong
 * to root, so the service user can neither replace them nor plant links
 * where root writes; db/, mail/ and queue/ belong to the service user.
 */
static void
master_dirs(void)
{
	const struct conf *c = &M.conf;
	char p[4096];
	uid_t u = M.env.uid;
	gid_t g = M.env.gid;
	int root = geteuid() == 0;

	mkdir_owned(c->data_dir, 0755, root ? 0 : u, root ? 0 : g);
	snprintf(p, sizeof(p), "%s/%s", c->data_dir, DB_DIR);
	mkdir_owned(p, 0750, u, g);
	snprintf(p, sizeof(p), "%s/mail", c->data_dir);
	mkdir_owned(p, 0700, u, g);
	snprintf(p, sizeof(p), "%s/queue", c->data_dir);
	mkdir_owned(p, 0700, u, g);
	snprintf(p, sizeof(p), "%s/tls", c->data_dir);
	mkdir_owned(p, 0755, root ? 0 : u, root ? 0 : g);
	snprintf(p, sizeof(p), "%s/run", c->data_dir);
	mkdir_owned(p, 0750, root ? 0 : u, g);
}

/* master_db_init - create/migrate the DB as the service user. */
static void
master_db_init(void)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		fatal("fork");
	if (pid == 0) {
		struct db *db;
		const char *err;
		svc_drop_privs(&M.env, "db-init");
		if (db_open(M.env.db_path, DB_READWRITE, &db, &err) < 0) {
			log_warnx("%s: %s", M.env.db_path, err);
			_exit(1);
		}
		db_close(&db);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fatalx("cannot open the config database %s", M.env.db_path);
}

/* master_auth_socket - bind authd's socket once, here: clients can connect
 * (and wait in the backlog) while authd starts or restarts. */
static void
master_auth_socket(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (str_lcpy(sun.sun_path, M.env.auth_path, sizeof(sun.sun_path)) >= sizeof(sun.sun_path))
		fatalx("auth socket path too long: %s", M.env.auth_path);
	unlink(M.env.auth_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 128) < 0)
		fatal("auth socket %s", M.env.auth_path);
	if (geteuid() == 0 && chown(M.env.auth_path, 0, M.env.gid) < 0)
		fatal("chown %s", M.env.auth_path);
	if (chmod(M.env.auth_path, 0660) < 0)
		fatal("chmod %s", M.env.auth_path);
	M.env.auth_fd = fd;
}

/* master_pam_pair - the socketpair between authd and pamd. */
static void
master_pam_pair(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		fatal("socketpair");
	M.env.authd_pam_fd = sv[0];
	M.env.pamd_fd = sv[1];
}

/* child_close_fds - in a new child: close the master's descriptors that
 * are not this service's (authd's socket and the authd-pamd pair). */
static void
child_close_fds(const struct slot *sl)
{
	if (sl->main != authd_main) {
		close(M.env.auth_fd);
		close(M.env.authd_pam_fd);
	}
	if (sl->main != pamd_main)
		close(M.env.pamd_fd);
}

static SSL_CTX *
master_tls(const struct conf *c)
{
	char cert[4096], key[4096], *err = NULL;

	if (c->tls_cert[0]) {
		str_lcpy(cert, c->tls_cert, sizeof(cert));
		str_lcpy(key, c->tls_key, sizeof(key));
	} else {
		snprintf(cert, sizeof(cert), "%s/tls/cert.pem", c->data_dir);
		snprintf(key, sizeof(key), "%s/tls/key.pem", c->data_dir);
		if (access(cert, F_OK) < 0 || access(key, F_OK) < 0) {
			if (tls_make_selfsigned(cert, key, c->hostname, &err) < 0) {
				log_warnx("self-signed certificate: %s", err);
				free(err);
				return NULL;
			}
			log_info("made a self-signed certificate for %s in %s", c->hostname, cert);
		}
	}
	SSL_CTX *ctx = tls_server_ctx(cert, key, &err);
	if (ctx == NULL) {
		log_warnx("TLS: %s", err);
		free(err);
	}
	return ctx;
}

/* bind_optional - whether a listener of kind s may be left unbound.  The web
 * side (http_listen, https_listen: *:80 and *:443 by default) often finds
 * another web server on its port; the mail then still runs, without the admin
 * page.  A mail listener that cannot be bound stops oneboxd: an MX without
 * port 25 must say so, not limp on. */
static int
bind_optional(enum conf_service s, int err)
{
	return (s == SVC_HTTP || s == SVC_HTTPS) && (err == EADDRINUSE || err == EACCES);
}

/* master_bind - listeners for conf c, reusing any in old that match.  On
 * failure nothing in old is touched (the running listeners stay); on
 * success the reused entries of old are set to -1.  A web listener that
 * cannot be bound (bind_optional) is logged and left out. */
static int
master_bind(const struct conf *c, struct listener *old, size_t nold, struct listener **ls_r, size_t *n_r)
{
	struct listener *ls = NULL;
	ssize_t *from = NULL;	/* index in old, or -1 when newly bound */
	size_t n = 0;

	for (int s = 0; s < SVC__COUNT; s++) {
		for (size_t i = 0; i < c->listen[s].n; i++) {
			const struct conf_addr *a = &c->listen[s].v[i];
			ssize_t k = -1;
			int fd = -1;
			for (size_t j = 0; j < nold && k < 0; j++)
				if (old[j].fd >= 0 && old[j].svc == (enum conf_service)s &&
				    old[j].addr.port == a->port && strcmp(old[j].addr.host, a->host) == 0)
					k = (ssize_t)j;
			if (k >= 0)
				fd = old[k].fd;
			else {
				char *err;
				if ((fd = net_listen(a->host, a->port, &err)) < 0) {
					int e = errno;
					if (bind_optional(s, e)) {
						int v6 = strchr(a->host, ':') != NULL;
						log_warnx("%s %s%s%s:%d: %s; the admin page is off until it is "
						    "free or the key is changed", conf_service_key(s), v6 ? "[" : "",
						    a->host[0] ? a->host : "*", v6 ? "]" : "", a->port,
						    e == EADDRINUSE ? "address in use" : "permission denied");
						free(err);
						continue;
					}
					log_warnx("%s: %s", conf_service_key(s), err);
					free(err);
					for (size_t m = 0; m < n; m++)
						if (from[m] < 0)
							close(ls[m].fd);
					free(ls);
					free(from);
					return -1;
				}
			}
			ls = xrealloc(ls, (n + 1) * sizeof(*ls));
			from = xrealloc(from, (n + 1) * sizeof(*from));
			ls[n] = (struct listener){ (enum conf_service)s, *a, fd, NULL };
			from[n++] = k;
		}
	}
	for (size_t m = 0; m < n; m++)
		if (from[m] >= 0)
			old[from[m]].fd = -1;
	free(from);
	*ls_r = ls;
	*n_r = n;
	return 0;
}

static void
master_spawn(struct slot *sl)
{
	pid_t pid = fork();
	if (pid < 0) {
		log_warn("fork %s", sl->name);
		ev_timer_add(M.loop, &sl->respawn, 1000);
		return;
	}
	if (pid == 0) {
		ev_free(&M.loop);	/* the master's epoll and signalfd are not the child's */
		svc_setup_child(sl->name);
		child_close_fds(sl);
		if (!sl->root)
			svc_drop_privs(&M.env, sl->name);
		_exit(sl->main(&M.env));
	}
	sl->pid = pid;
	sl->started = ev_clock_ms();
	log_info("started %s pid=%d", sl->name, (int)pid);
}

static void
master_respawn(void *arg)
{
	struct slot *sl = arg;
	if (!M.stopping && sl->wanted && sl->pid == 0)
		master_spawn(sl);
}

static void
retire(pid_t pid)
{
	for (int i = 0; i < MAX_RETIRED; i++)
		if (M.retired[i] == 0) {
			M.retired[i] = pid;
			return;
		}
	kill(pid, SIGKILL);
}

static int
children_left(void)
{
	for (size_t i = 0; i < NSLOTS; i++)
		if (slots[i].pid)
			return 1;
	for (int i = 0; i < MAX_RETIRED; i++)
		if (M.retired[i])
			return 1;
	return 0;
}

static void
master_reaped(pid_t pid, int st)
{
	char why[64];

	if (WIFSIGNALED(st))
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(st));
	else
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(st));
	for (int i = 0; i < MAX_RETIRED; i++)
		if (M.retired[i] == pid) {
			M.retired[i] = 0;
			log_debug("retired process %d ended (%s)", (int)pid, why);
			return;
		}
	for (size_t i = 0; i < NSLOTS; i++) {
		struct slot *sl = &slots[i];
		if (sl->pid != pid)
			continue;
		sl->pid = 0;
		if (M.stopping) {
			log_info("%s pid=%d stopped (%s)", sl->name, (int)pid, why);
			return;
		}
		uint64_t lived = ev_clock_ms() - sl->started;
		sl->backoff = lived < 2000 ? (sl->backoff ? sl->backoff * 2 : 200) : 200;
		if (sl->backoff > 5000)
			sl->backoff = 5000;
		log_warnx("%s pid=%d died (%s); restarting in %llu ms", sl->name, (int)pid, why,
		    (unsigned long long)sl->backoff);
		ev_timer_add(M.loop, &sl->respawn, sl->backoff);
		return;
	}
}

static void
on_sigchld(int signo, void *arg)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		master_reaped(pid, st);
	if (M.stopping && !children_left())
		ev_stop(M.loop);
}

static void
master_kill_all(void *arg)
{
	log_warnx("services did not stop in time; killing them");
	for (size_t i = 0; i < NSLOTS; i++)
		if (slots[i].pid)
			kill(slots[i].pid, SIGKILL);
	for (int i = 0; i < MAX_RETIRED; i++)
		if (M.retired[i])
			kill(M.retired[i], SIGKILL);
}

static void
on_sigterm(int signo, void *arg)
{
	if (M.stopping)
		return;
	log_info("signal %d: stopping", signo);
	M.stopping = 1;
	for (size_t i = 0; i < NSLOTS; i++) {
		ev_timer_del(M.loop, &slots[i].respawn);
		if (slots[i].pid)
			kill(slots[i].pid, SIGTERM);
	}
	for (int i = 0; i < MAX_RETIRED; i++)
		if (M.retired[i])
			kill(M.retired[i], SIGTERM);
	ev_timer_init(&M.kill_timer, master_kill_all, NULL);
	ev_timer_add(M.loop, &M.kill_timer, STOP_GRACE_MS);
	if (!children_left())
		ev_stop(M.loop);
}

/* master_replace - after a reload: a fresh process for each service whose
 * config may have changed (the old one is retired: it finishes what it
 * has open); a running authd or pamd whose config is the same stays. */
static void
master_replace(const struct conf *old)
{
	for (size_t i = 0; i < NSLOTS; i++) {
		struct slot *sl = &slots[i];
		if (sl->pid && sl->wanted && sl->conf_changed && !sl->conf_changed(old, &M.conf)) {
			log_debug("reload: %s pid=%d kept", sl->name, (int)sl->pid);
			continue;
		}
		if (sl->pid) {
			kill(sl->pid, SIGTERM);
			retire(sl->pid);
			sl->pid = 0;
		}
		if (sl->wanted)
			master_spawn(sl);
	}
}

static void
on_sighup(int signo, void *arg)
{
	struct conf nc, old;
	struct listener *ls;
	size_t n;
	char *err;

	if (M.stopping)
		return;
	log_info("SIGHUP: reloading %s", M.path);
	if (conf_load(M.path, &nc, &err) < 0) {
		log_warnx("reload failed, keeping the running config: %s", err);
		free(err);
		return;
	}
	if (strcmp(nc.user, M.conf.user) != 0 || strcmp(nc.data_dir, M.conf.data_dir) != 0)
		log_warnx("reload: a change of user or data_dir takes effect only at the next start "
		    "(still %s, %s)", M.conf.user, M.conf.data_dir);
	/* they stay what the running processes were set up with */
	free(nc.user);
	nc.user = xstrdup(M.conf.user);
	free(nc.data_dir);
	nc.data_dir = xstrdup(M.conf.data_dir);
	SSL_CTX *ctx = master_tls(&nc);
	if (ctx == NULL) {
		log_warnx("reload failed (TLS), keeping the running config");
		conf_free(&nc);
		return;
	}
	if (master_bind(&nc, M.env.listeners, M.env.nlisteners, &ls, &n) < 0) {
		log_warnx("reload failed (listeners), keeping the running config");
		SSL_CTX_free(ctx);
		conf_free(&nc);
		return;
	}
	for (size_t i = 0; i < M.env.nlisteners; i++)
		if (M.env.listeners[i].fd >= 0)
			close(M.env.listeners[i].fd);
	free(M.env.listeners);
	M.env.listeners = ls;
	M.env.nlisteners = n;
	SSL_CTX_free(M.env.tls);
	M.env.tls = ctx;
	old = M.conf;
	M.conf = nc;
	M.env.conf = &M.conf;
	log_setlevel(log_level_parse(M.conf.log_level));
	master_wanted();
	master_replace(&old);
	conf_free(&old);
}

/* master_rlimits - room for every connection the limits allow: running
 * out of descriptors would make accept() fail in a loop. */
static void
master_rlimits(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("setrlimit NOFILE");
	}
}

static void
master_user(void)
{
	if (geteuid() != 0) {
		M.env.uid = geteuid();
		M.env.gid = getegid();
		return;
	}
	struct passwd *pw = getpwnam(M.conf.user);
	if (pw == NULL)
		fatalx("%s: user: '%s' does not exist; create it with: "
		    "useradd --system --no-create-home --shell /usr/sbin/nologin %s",
		    M.path, M.conf.user, M.conf.user);
	if (pw->pw_uid == 0)
		fatalx("%s: user: '%s' is root; the services must run unprivileged", M.path, M.conf.user);
	M.env.uid = pw->pw_uid;
	M.env.gid = pw->pw_gid;
}

int
master_run(const char *path)
{
	char *err;

	M.path = path;
	if (conf_load(path, &M.conf, &err) < 0) {
		fprintf(stderr, "oneboxd: %s\n", err);
		return 1;
	}
	log_init("oneboxd", log_level_parse(M.conf.log_level), M.conf.log_syslog);
	signal(SIGPIPE, SIG_IGN);
	svc_master_pid = getpid();
	master_rlimits();
	M.env.conf = &M.conf;
	master_user();
	M.env.db_path = xasprintf("%s/%s/%s", M.conf.data_dir, DB_DIR, DB_FILENAME);
	M.env.auth_path = xasprintf("%s/run/auth.sock", M.conf.data_dir);
	master_dirs();
	master_db_init();
	master_auth_socket();
	master_pam_pair();
	if ((M.env.tls = master_tls(&M.conf)) == NULL)
		return 1;
	if (master_bind(&M.conf, NULL, 0, &M.env.listeners, &M.env.nlisteners) < 0)
		return 1;
	M.loop = ev_new();
	ev_signal(M.loop, SIGCHLD, on_sigchld, NULL);
	ev_signal(M.loop, SIGTERM, on_sigterm, NULL);
	ev_signal(M.loop, SIGINT, on_sigterm, NULL);
	ev_signal(M.loop, SIGHUP, on_sighup, NULL);
	master_wanted();
	for (size_t i = 0; i < NSLOTS; i++) {
		ev_timer_init(&slots[i].respawn, master_respawn, &slots[i]);
		if (slots[i].wanted)
			master_spawn(&slots[i]);
	}
	log_info("onebox ready: hostname=%s data_dir=%s", M.conf.hostname, M.conf.data_dir);
	ev_run(M.loop);
	log_info("stopped");
	return 0;
}
