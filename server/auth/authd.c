/*
 * authd - password checks, as root (PAM needs it to read /etc/shadow).
 *
 * The services connect to data_dir/run/auth.sock.  Each request is checked
 * in its own short thread, because yescrypt and PAM block for tens of
 * milliseconds to seconds; the event loop only accepts and reads.  A user
 * of a `system` domain is checked with PAM (service "onebox", the local
 * part as the Unix login), every other user against the yescrypt hash in
 * the database.  An unknown user costs the same hash computation as a
 * known one, so timing does not tell which addresses exist.
 *
 * authd keeps no failure counts: the services slow down and throttle
 * failed logins per client address, where they know the address.
 */
#include "service.h"
#include "auth-proto.h"
#include "buf.h"
#include "db.h"
#include "ev.h"
#include "log.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ONEBOX_PAM_SERVICE "onebox"
#define MAX_THREADS 64

struct aconn {
	int fd;
	int refs;
	int closed;
};

struct job {
	struct aconn *c;
	struct auth_req req;
	char user[AUTH_USER_MAX + 1];
	char pass[AUTH_PASS_MAX + 1];
};

static pthread_mutex_t authd_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *authd_db_path;
static struct ev_loop *authd_loop;
static int authd_threads;
/* A valid yescrypt hash of a random string: the work done for unknown users. */
static char *dummy_hash;

static void
aconn_unref(struct aconn *c)
{
	pthread_mutex_lock(&authd_lock);
	int last = --c->refs == 0;
	pthread_mutex_unlock(&authd_lock);
	if (last) {
		close(c->fd);
		free(c);
	}
}

struct pam_pw {
	const char *pass;
};

static int
pam_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_pw *pw = data;
	struct pam_response *r = calloc(n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(pw->pass);
	}
	*resp = r;
	return PAM_SUCCESS;
}

static void
pam_no_delay(int retval, unsigned usec, void *appdata)
{
	/* the services apply their own delay */
}

static int
auth_pam(const char *login, const char *pass, const char *rhost)
{
	struct pam_pw pw = { pass };
	struct pam_conv conv = { pam_conv_fn, &pw };
	pam_handle_t *ph = NULL;
	int r = pam_start(ONEBOX_PAM_SERVICE, login, &conv, &ph);

	if (r != PAM_SUCCESS)
		return AUTH_TEMPFAIL;
	pam_set_item(ph, PAM_FAIL_DELAY, (const void *)pam_no_delay);
	pam_set_item(ph, PAM_RHOST, rhost);
	r = pam_authenticate(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (r == PAM_SUCCESS)
		r = pam_acct_mgmt(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	pam_end(ph, r);
	if (r == PAM_SUCCESS)
		return AUTH_OK;
	if (r == PAM_AUTHINFO_UNAVAIL || r == PAM_SYSTEM_ERR || r == PAM_BUF_ERR)
		return AUTH_TEMPFAIL;
	return AUTH_FAIL;
}

static int
auth_check(struct job *j, char *canon, size_t canonsz)
{
	struct db *db;
	struct db_user u;
	const char *err;
	int r, found;

	if (strchr(j->user, '@') == NULL || j->pass[0] == '\0') {
		db_check_password(j->pass, dummy_hash);
		return AUTH_FAIL;
	}
	if (db_open(authd_db_path, DB_READONLY, &db, &err) < 0) {
		log_warnx("%s: %s", authd_db_path, err);
		return AUTH_TEMPFAIL;
	}
	str_lower(strchr(j->user, '@'));
	found = db_user_get(db, j->user, &u);
	db_close(&db);
	if (found < 0)
		return AUTH_TEMPFAIL;
	if (found == 0) {
		db_check_password(j->pass, dummy_hash);
		return AUTH_FAIL;
	}
	if (u.system)
		r = auth_pam(u.localpart, j->pass, j->req.ip);
	else
		r = u.pwhash && u.pwhash[0] && db_check_password(j->pass, u.pwhash) ? AUTH_OK : AUTH_FAIL;
	if (r == AUTH_OK && !u.enabled)
		r = AUTH_FAIL;
	str_lcpy(canon, u.address, canonsz);
	db_user_free(&u);
	return r;
}

static void *
auth_thread(void *arg)
{
	struct job *j = arg;
	struct auth_rep rep;

	memset(&rep, 0, sizeof(rep));
	rep.id = j->req.id;
	rep.result = auth_check(j, rep.user, sizeof(rep.user));
	log_info("auth service=%s address=%s user=<%s> result=%s", j->req.service, j->req.ip, j->user,
	    rep.result == AUTH_OK ? "ok" : rep.result == AUTH_FAIL ? "failed" : "tempfail");
	if (rep.result != AUTH_OK)
		rep.user[0] = '\0';
	explicit_bzero(j->pass, sizeof(j->pass));
	pthread_mutex_lock(&authd_lock);
	if (!j->c->closed && send(j->c->fd, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
		log_warn("auth reply");
	authd_threads--;
	pthread_mutex_unlock(&authd_lock);
	aconn_unref(j->c);
	free(j);
	return NULL;
}

static void
authd_reply_now(struct aconn *c, uint32_t id, int result)
{
	struct auth_rep rep;
	memset(&rep, 0, sizeof(rep));
	rep.id = id;
	rep.result = result;
	pthread_mutex_lock(&authd_lock);
	send(c->fd, &rep, sizeof(rep), MSG_NOSIGNAL);
	pthread_mutex_unlock(&authd_lock);
}

static void
authd_request(struct aconn *c, const char *pkt, size_t n)
{
	struct job *j;
	pthread_t t;
	pthread_attr_t attr;

	if (n < sizeof(struct auth_req))
		return;
	j = xcalloc(1, sizeof(*j));
	memcpy(&j->req, pkt, sizeof(j->req));
	j->req.service[sizeof(j->req.service) - 1] = '\0';
	j->req.ip[sizeof(j->req.ip) - 1] = '\0';
	if (j->req.ulen > AUTH_USER_MAX || j->req.plen > AUTH_PASS_MAX ||
	    n != sizeof(j->req) + j->req.ulen + j->req.plen) {
		authd_reply_now(c, j->req.id, AUTH_FAIL);
		free(j);
		return;
	}
	memcpy(j->user, pkt + sizeof(j->req), j->req.ulen);
	memcpy(j->pass, pkt + sizeof(j->req) + j->req.ulen, j->req.plen);
	if (memchr(j->user, '\0', j->req.ulen) || memchr(j->pass, '\0', j->req.plen)) {
		authd_reply_now(c, j->req.id, AUTH_FAIL);
		free(j);
		return;
	}
	pthread_mutex_lock(&authd_lock);
	int busy = authd_threads >= MAX_THREADS;
	if (!busy) {
		authd_threads++;
		c->refs++;
	}
	pthread_mutex_unlock(&authd_lock);
	if (busy) {
		authd_reply_now(c, j->req.id, AUTH_TEMPFAIL);
		free(j);
		return;
	}
	j->c = c;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, auth_thread, j) != 0) {
		log_warnx("pthread_create failed");
		pthread_mutex_lock(&authd_lock);
		authd_threads--;
		pthread_mutex_unlock(&authd_lock);
		aconn_unref(c);
		authd_reply_now(c, j->req.id, AUTH_TEMPFAIL);
		free(j);
	}
	pthread_attr_destroy(&attr);
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
			return;
		ev_io_del(authd_loop, fd);
		pthread_mutex_lock(&authd_lock);
		c->closed = 1;
		pthread_mutex_unlock(&authd_lock);
		aconn_unref(c);
		return;
	}
}

static void
authd_accept(int lfd, int events, void *arg)
{
	const struct svc_env *env = arg;
	struct ucred cr;
	socklen_t sl = sizeof(cr);
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0 ||
	    (cr.uid != 0 && cr.uid != env->uid)) {
		log_warnx("auth socket: refused a client with uid %d", (int)cr.uid);
		close(fd);
		return;
	}
	struct aconn *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->refs = 1;
	ev_io_set(authd_loop, fd, EV_READ, authd_conn_read, c);
}

static void
authd_stop(int signo, void *arg)
{
	ev_stop(authd_loop);
}

int
authd_main(struct svc_env *env)
{
	int fd;

	authd_db_path = env->db_path;
	dummy_hash = db_hash_password("onebox-timing-equaliser");
	if (dummy_hash == NULL)
		fatalx("authd: cannot compute a password hash (libcrypt)");
	fd = env->auth_fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		fatal("authd: auth socket");
	for (size_t i = 0; i < env->nlisteners; i++)
		close(env->listeners[i].fd);
	authd_loop = ev_new();
	ev_signal(authd_loop, SIGTERM, authd_stop, NULL);
	ev_io_set(authd_loop, fd, EV_READ, authd_accept, env);
	log_debug("authd ready on %s", env->auth_path);
	ev_run(authd_loop);
	return 0;
}
