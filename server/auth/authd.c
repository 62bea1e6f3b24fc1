/*
 * authd - password checks, as the service user.
 *
 * The services connect to data_dir/run/auth.sock (bound by the master).
 * The event loop accepts and reads requests; the blocking part of a check
 * (the database lookup and yescrypt) runs on a small worker pool
 * (jobs.h).  A user of a `system` domain is checked with PAM, which needs
 * root: authd then hands the local part, the password and the client
 * address to pamd, the root helper only authd can reach (pam-proto.h),
 * and waits for its answer (at most PAM_TIMEOUT_MS).  So no root process
 * ever reads the database, which the service user owns.
 *
 * An unknown user costs the same hash computation as a known one, so
 * timing does not tell which addresses exist.
 *
 * authd keeps the login throttle of every service (throttle.h): each
 * attempt is counted per client network and per account when it arrives,
 * and one over a limit (the auth_* settings) is answered AUTH_THROTTLED
 * without a password check.  A user of a `system` domain is counted by
 * its Unix login once the lookup has found it.  authd also remembers, for
 * AUTHD_KNOWN_DAYS, the networks each account logged in from: those are
 * exempt from the account's limit.  All of it lives in authd's memory
 * only: the master keeps authd across reloads, so the counts and the
 * known networks survive SIGHUP (a restart clears them).
 *
 * The settings are read again at each request (db_changed), so a limit
 * changed with the CLI applies to the next attempt; users are looked up
 * on a fresh connection each time.
 *
 * A request that cannot be any account's (no '@' in the name, an empty
 * password) is answered AUTH_FAIL at once: no password to check, nothing
 * counted, no throttle entry made.  The services time their failure
 * reply from when they sent the request, so answering early tells the
 * client nothing.
 */
#include "service.h"
#include "auth-proto.h"
#include "pam-proto.h"
#include "buf.h"
#include "db.h"
#include "ev.h"
#include "jobs.h"
#include "log.h"
#include "net.h"
#include "str.h"
#include "throttle.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define AUTHD_THREADS 4
#define AUTHD_MAX_INFLIGHT 512
#define PAM_TIMEOUT_MS 30000
#define AUTHD_KNOWN_DAYS 30	/* a network stays known to an account this long */

struct aconn {
	int fd;
	int refs;
	int closed;
};

/* One request, from its arrival to its reply.  Touched by the worker
 * thread only between jobs_submit and done(). */
struct areq {
	struct job job;
	struct aconn *c;
	uint32_t id;			/* the client's */
	char service[16];
	char ip[64];
	char user[AUTH_USER_MAX + 1];
	char pass[AUTH_PASS_MAX + 1];
	/* results of the lookup */
	int result;
	int need_pam;
	int enabled;
	char login[SYSUSER_NAME_MAX + 1];
	char canon[AUTH_USER_MAX + 1];
	struct throttle_limits lim;	/* as read at the request */
	struct throttle_ticket tk;
	/* while pamd checks it */
	uint32_t pam_id;
	uint64_t pam_deadline;
	struct areq *next;
};

static struct {
	const char *db_path;
	struct db *db;			/* the loop's own handle: settings */
	struct throttle *throttle;
	struct ev_loop *loop;
	struct jobs *jobs;
	int pam_fd;
	uint32_t pam_next_id;
	struct areq *pam_wait;		/* sent to pamd, not answered yet */
	struct ev_timer pam_timer;
	int inflight;
	/* A valid yescrypt hash of a random string: the work done for unknown users. */
	char *dummy_hash;
	uid_t uid;
} A;

static void
aconn_unref(struct aconn *c)
{
	if (--c->refs > 0)
		return;
	if (!c->closed)
		ev_io_del(A.loop, c->fd);
	close(c->fd);
	free(c);
}

static void
authd_send(struct aconn *c, uint32_t id, int result, const char *user)
{
	struct auth_rep rep;

	memset(&rep, 0, sizeof(rep));
	rep.id = id;
	rep.result = result;
	if (result == AUTH_OK)
		str_lcpy(rep.user, user, sizeof(rep.user));
	if (!c->closed && send(c->fd, &rep, sizeof(rep), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_warn("auth reply");
}

/* request_free - forget a request that is not (or no longer) in flight. */
static void
request_free(struct areq *q)
{
	explicit_bzero(q, sizeof(*q));
	free(q);
}

static const char *
result_name(int r)
{
	return r == AUTH_OK ? "ok" : r == AUTH_FAIL ? "failed" : "tempfail";
}

/* authd_finish - answer the client and free the request. */
static void
authd_finish(struct areq *q)
{
	throttle_end(A.throttle, &q->tk, q->result == AUTH_OK ? THROTTLE_SUCCEEDED :
	    q->result == AUTH_FAIL ? THROTTLE_FAILED : THROTTLE_UNDECIDED, &q->lim, ev_clock_ms());
	log_info("auth service=%s address=%s user=<%s> result=%s", q->service, q->ip, q->user,
	    result_name(q->result));
	authd_send(q->c, q->id, q->result, q->canon);
	aconn_unref(q->c);
	A.inflight--;
	request_free(q);
}

/* lookup - in a worker thread: the user's record, then yescrypt (or the
 * dummy hash), or the login name that pamd must check. */
static int
lookup(struct areq *q)
{
	struct db *db;
	struct db_user u;
	const char *err;
	int r, found;

	if (db_open(A.db_path, DB_READONLY, &db, &err) < 0) {
		log_warnx("%s: %s", A.db_path, err);
		return AUTH_TEMPFAIL;
	}
	str_lower(strchr(q->user, '@'));
	found = db_user_get(db, q->user, &u);
	db_close(&db);
	if (found < 0)
		return AUTH_TEMPFAIL;
	if (found == 0) {
		db_check_password(q->pass, A.dummy_hash);
		return AUTH_FAIL;
	}
	q->enabled = u.enabled;
	str_lcpy(q->canon, u.address, sizeof(q->canon));
	if (u.system) {
		/* pamd refuses what is not a login name; a long one is cut
		 * here so that it fails there rather than matching another */
		q->need_pam = 1;
		if (str_lcpy(q->login, u.localpart, sizeof(q->login)) >= sizeof(q->login))
			q->login[0] = '\0';
		r = AUTH_FAIL;
	} else
		r = u.pwhash && u.pwhash[0] && db_check_password(q->pass, u.pwhash) ? AUTH_OK : AUTH_FAIL;
	if (r == AUTH_OK && !u.enabled)
		r = AUTH_FAIL;
	db_user_free(&u);
	return r;
}

static void
lookup_work(struct job *j)
{
	struct areq *q = (struct areq *)j;

	q->result = lookup(q);
	if (!q->need_pam)
		explicit_bzero(q->pass, sizeof(q->pass));
}

static void
pam_ask(struct areq *q)
{
	struct pam_req req;

	memset(&req, 0, sizeof(req));
	if (++A.pam_next_id == 0)
		A.pam_next_id = 1;
	q->pam_id = req.id = A.pam_next_id;
	str_lcpy(req.login, q->login, sizeof(req.login));
	str_lcpy(req.rhost, q->ip, sizeof(req.rhost));
	req.plen = (uint16_t)strlen(q->pass);
	memcpy(req.pass, q->pass, req.plen);
	explicit_bzero(q->pass, sizeof(q->pass));
	if (send(A.pam_fd, &req, sizeof(req), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		log_warn("authd: cannot reach pamd");
		explicit_bzero(&req, sizeof(req));
		q->result = AUTH_TEMPFAIL;
		authd_finish(q);
		return;
	}
	explicit_bzero(&req, sizeof(req));
	q->pam_deadline = ev_clock_ms() + PAM_TIMEOUT_MS;
	q->next = A.pam_wait;
	A.pam_wait = q;
	if (!ev_timer_pending(&A.pam_timer))
		ev_timer_add(A.loop, &A.pam_timer, 1000);
}

static void
log_throttled(const struct areq *q, enum throttle_verdict v)
{
	log_info("auth service=%s address=%s user=<%s> result=throttled reason=%s", q->service, q->ip,
	    q->user, v == THROTTLE_ADDR ? "address" : "account");
}

static void
lookup_done(struct job *j)
{
	struct areq *q = (struct areq *)j;
	enum throttle_verdict v;

	if (!q->need_pam || q->result == AUTH_TEMPFAIL) {
		authd_finish(q);
		return;
	}
	/* one count per Unix login, whatever address led to it */
	v = throttle_login(A.throttle, &q->tk, q->login, &q->lim, ev_clock_ms());
	if (v == THROTTLE_OK) {
		pam_ask(q);
		return;
	}
	log_throttled(q, v);
	authd_send(q->c, q->id, AUTH_THROTTLED, NULL);
	aconn_unref(q->c);
	A.inflight--;
	request_free(q);
}

/* pam_answer - pamd's reply for request pam_id (or an unknown id, left
 * from a previous authd: ignored). */
static void
pam_answer(uint32_t pam_id, int result)
{
	for (struct areq **pp = &A.pam_wait; *pp; pp = &(*pp)->next) {
		struct areq *q = *pp;
		if (q->pam_id != pam_id)
			continue;
		*pp = q->next;
		if (result != AUTH_OK && result != AUTH_FAIL)
			result = AUTH_TEMPFAIL;
		q->result = result == AUTH_OK && !q->enabled ? AUTH_FAIL : result;
		authd_finish(q);
		return;
	}
	log_debug("authd: pamd answer for unknown id %u ignored", pam_id);
}

static void
pam_read(int fd, int events, void *arg)
{
	struct pam_rep rep;

	for (;;) {
		ssize_t n = recv(fd, &rep, sizeof(rep), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0 || (n == 0 && net_peer_closed(fd))) {
			log_warnx("authd: pamd's socket closed");
			ev_io_del(A.loop, fd);
			return;
		}
		if (n == (ssize_t)sizeof(rep))
			pam_answer(rep.id, rep.result);
		else
			log_warnx("authd: malformed answer from pamd (%zd bytes)", n);
	}
}

/* pam_expire - tempfail what pamd did not answer in time (pamd died). */
static void
pam_expire(void *arg)
{
	uint64_t now = ev_clock_ms();
	struct areq **pp = &A.pam_wait;

	while (*pp) {
		struct areq *q = *pp;
		if (q->pam_deadline > now) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		log_warnx("authd: no answer from pamd for <%s>", q->user);
		q->result = AUTH_TEMPFAIL;
		authd_finish(q);
	}
	if (A.pam_wait)
		ev_timer_add(A.loop, &A.pam_timer, 1000);
}

/* parse_request - a request packet into q: 0, or -1 if malformed. */
static int
parse_request(const char *pkt, size_t n, struct areq *q)
{
	struct auth_req req;

	if (n < sizeof(req))
		return -1;
	memcpy(&req, pkt, sizeof(req));
	q->id = req.id;
	if (req.ulen > AUTH_USER_MAX || req.plen > AUTH_PASS_MAX || n != sizeof(req) + req.ulen + req.plen)
		return -1;
	memcpy(q->service, req.service, sizeof(q->service) - 1);
	memcpy(q->ip, req.ip, sizeof(q->ip) - 1);
	memcpy(q->user, pkt + sizeof(req), req.ulen);
	memcpy(q->pass, pkt + sizeof(req) + req.ulen, req.plen);
	if (memchr(q->user, '\0', req.ulen) || memchr(q->pass, '\0', req.plen))
		return -1;
	return 0;
}

/* throttled - 1 (and answered) if this attempt must be refused unchecked;
 * else it is counted. */
static int
throttled(struct aconn *c, struct areq *q)
{
	enum throttle_verdict v;

	/* the CLI may have changed the limits since the last request */
	db_changed(A.db);
	q->lim.max_addr = (int)db_setting_int(A.db, ST_AUTH_MAX_FAILURES);
	q->lim.max_user = (int)db_setting_int(A.db, ST_AUTH_MAX_FAILURES_PER_USER);
	q->lim.window_ms = 1000 * (uint64_t)db_setting_int(A.db, ST_AUTH_THROTTLE_SECONDS);
	q->lim.known_ms = (uint64_t)AUTHD_KNOWN_DAYS * 24 * 3600 * 1000;
	v = throttle_begin(A.throttle, q->ip, q->user, &q->lim, ev_clock_ms(), &q->tk);
	if (v == THROTTLE_OK)
		return 0;
	log_throttled(q, v);
	authd_send(c, q->id, AUTH_THROTTLED, NULL);
	return 1;
}

/* refused - 1 (and answered) if no account can match: nothing is counted. */
static int
refused(struct aconn *c, struct areq *q)
{
	if (strchr(q->user, '@') != NULL && q->pass[0] != '\0')
		return 0;
	log_info("auth service=%s address=%s user=<%s> result=failed reason=malformed", q->service, q->ip,
	    q->user);
	authd_send(c, q->id, AUTH_FAIL, NULL);
	return 1;
}

static void
authd_request(struct aconn *c, const char *pkt, size_t n)
{
	struct areq *q = xcalloc(1, sizeof(*q));

	if (parse_request(pkt, n, q) < 0) {
		authd_send(c, q->id, AUTH_FAIL, NULL);
		request_free(q);
		return;
	}
	if (A.inflight >= AUTHD_MAX_INFLIGHT) {
		log_warnx("authd: %d checks in progress, answering tempfail", A.inflight);
		authd_send(c, q->id, AUTH_TEMPFAIL, NULL);
		request_free(q);
		return;
	}
	if (refused(c, q) || throttled(c, q)) {
		request_free(q);
		return;
	}
	A.inflight++;
	c->refs++;
	q->c = c;
	q->job.work = lookup_work;
	q->job.done = lookup_done;
	jobs_submit(A.jobs, &q->job);
}

static void
authd_conn_read(int fd, int events, void *arg)
{
	struct aconn *c = arg;
	char pkt[sizeof(struct auth_req) + AUTH_USER_MAX + AUTH_PASS_MAX + 16];

	for (;;) {
		ssize_t n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
		if (n > 0) {
			authd_request(c, pkt, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n == 0 && !net_peer_closed(fd)) {
			/* an empty packet: no id to answer, nothing ends */
			log_warnx("authd: empty request dropped");
			continue;
		}
		ev_io_del(A.loop, fd);
		c->closed = 1;
		aconn_unref(c);
		break;
	}
	explicit_bzero(pkt, sizeof(pkt));
}

static void
authd_accept(int lfd, int events, void *arg)
{
	struct ucred cr;
	socklen_t sl = sizeof(cr);
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0 ||
	    (cr.uid != 0 && cr.uid != A.uid)) {
		log_warnx("auth socket: refused a client with uid %d", (int)cr.uid);
		close(fd);
		return;
	}
	struct aconn *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->refs = 1;
	ev_io_set(A.loop, fd, EV_READ, authd_conn_read, c);
}

static void
authd_stop(int signo, void *arg)
{
	ev_stop(A.loop);
}

static void
authd_nonblock(int fd, const char *what)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		fatal("authd: %s", what);
}

int
authd_main(struct svc_env *env)
{
	const char *err;

	A.db_path = env->db_path;
	A.uid = env->uid;
	A.pam_fd = env->authd_pam_fd;
	/* replies to a previous authd may wait in the socketpair: start
	 * the ids somewhere else */
	if (getrandom(&A.pam_next_id, sizeof(A.pam_next_id), 0) != sizeof(A.pam_next_id))
		A.pam_next_id = (uint32_t)getpid() << 16;
	if (db_open(A.db_path, DB_READONLY, &A.db, &err) < 0)
		fatalx("authd: %s: %s", A.db_path, err);
	A.throttle = throttle_new(0);
	A.dummy_hash = db_hash_password("onebox-timing-equaliser");
	if (A.dummy_hash == NULL)
		fatalx("authd: cannot compute a password hash (libcrypt)");
	authd_nonblock(env->auth_fd, "auth socket");
	authd_nonblock(A.pam_fd, "pamd socket");
	for (size_t i = 0; i < env->nlisteners; i++)
		close(env->listeners[i].fd);
	A.loop = ev_new();
	ev_signal(A.loop, SIGTERM, authd_stop, NULL);
	A.jobs = jobs_new(A.loop, AUTHD_THREADS);
	ev_timer_init(&A.pam_timer, pam_expire, NULL);
	ev_io_set(A.loop, env->auth_fd, EV_READ, authd_accept, NULL);
	ev_io_set(A.loop, A.pam_fd, EV_READ, pam_read, NULL);
	log_debug("authd ready on %s", env->auth_path);
	ev_run(A.loop);
	return 0;
}
