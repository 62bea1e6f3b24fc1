/*
 * pamd - PAM checks, as root (pam_unix reads /etc/shadow), and nothing
 * else.
 *
 * Its only input is the socketpair end the master gave it; the other end
 * belongs to authd.  pamd never opens the config database or anything the
 * service user can write: a request carries a login name, a password and
 * the client address, all of fixed size.  A login that is not a plain
 * Unix name, that getpwnam() does not know, or whose uid is 0 or below
 * first_valid_uid is refused without calling PAM (sysuser.h).  Each check
 * runs in its own short thread (PAM blocks, pam_unix sleeps on failure),
 * at most PAMD_MAX_THREADS at once; beyond that the answer is a tempfail.
 */
#include "service.h"
#include "pam-proto.h"
#include "buf.h"
#include "ev.h"
#include "log.h"
#include "net.h"
#include "str.h"
#include "sysuser.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ONEBOX_PAM_SERVICE "onebox"
#define PAMD_MAX_THREADS 32

struct pamd_job {
	struct pam_req req;
	char pass[AUTH_PASS_MAX + 1];
};

static pthread_mutex_t pamd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ev_loop *pamd_loop;
static int pamd_fd = -1;
static int pamd_threads;
static unsigned pamd_first_uid;

static int
pam_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	const char *pass = data;
	struct pam_response *r = calloc(n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(pass);
	*resp = r;
	return PAM_SUCCESS;
}

static void
pam_no_delay(int retval, unsigned usec, void *appdata)
{
	/* the services apply their own delay */
}

static int
pamd_pam(const char *login, const char *pass, const char *rhost)
{
	struct pam_conv conv = { pam_conv_fn, (void *)pass };
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

static void
pamd_reply(uint32_t id, int result)
{
	struct pam_rep rep = { id, result };

	if (send(pamd_fd, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
		log_warn("pamd reply");
}

static void *
pamd_thread(void *arg)
{
	struct pamd_job *j = arg;
	uint32_t id = j->req.id;
	const char *why;
	int r;

	if (sysuser_check(j->req.login, pamd_first_uid, &why) < 0) {
		log_info("pam login=<%s> address=%s refused: %s", j->req.login, j->req.rhost, why);
		r = AUTH_FAIL;
	} else
		r = pamd_pam(j->req.login, j->pass, j->req.rhost);
	explicit_bzero(j, sizeof(*j));
	pamd_reply(id, r);
	pthread_mutex_lock(&pamd_lock);
	pamd_threads--;
	pthread_mutex_unlock(&pamd_lock);
	free(j);
	return NULL;
}

/* pamd_parse - 0 if req is well-formed (strings terminated, lengths in
 * range, no NUL in the password), the password copied out terminated. */
static int
pamd_parse(const struct pam_req *req, struct pamd_job *j)
{
	if (memchr(req->login, '\0', sizeof(req->login)) == NULL ||
	    memchr(req->rhost, '\0', sizeof(req->rhost)) == NULL ||
	    req->plen == 0 || req->plen > sizeof(req->pass) ||
	    memchr(req->pass, '\0', req->plen) != NULL)
		return -1;
	j->req = *req;
	memcpy(j->pass, req->pass, req->plen);
	j->pass[req->plen] = '\0';
	explicit_bzero(j->req.pass, sizeof(j->req.pass));
	return 0;
}

static void
pamd_start(struct pamd_job *j)
{
	pthread_t t;
	pthread_attr_t attr;
	int busy, r;

	pthread_mutex_lock(&pamd_lock);
	busy = pamd_threads >= PAMD_MAX_THREADS;
	if (!busy)
		pamd_threads++;
	pthread_mutex_unlock(&pamd_lock);
	if (busy) {
		log_warnx("pamd: %d checks running, answering tempfail", PAMD_MAX_THREADS);
		pamd_reply(j->req.id, AUTH_TEMPFAIL);
		explicit_bzero(j, sizeof(*j));
		free(j);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, pamd_thread, j);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		log_warnx("pamd: pthread_create failed");
		pthread_mutex_lock(&pamd_lock);
		pamd_threads--;
		pthread_mutex_unlock(&pamd_lock);
		pamd_reply(j->req.id, AUTH_TEMPFAIL);
		explicit_bzero(j, sizeof(*j));
		free(j);
	}
}

static void
pamd_read(int fd, int events, void *arg)
{
	struct pam_req req;

	for (;;) {
		ssize_t n = recv(fd, &req, sizeof(req), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0 || (n == 0 && net_peer_closed(fd))) {
			log_warnx("pamd: authd's socket closed");
			ev_stop(pamd_loop);
			break;
		}
		struct pamd_job *j = xcalloc(1, sizeof(*j));
		if (n != (ssize_t)sizeof(req) || pamd_parse(&req, j) < 0) {
			log_warnx("pamd: malformed request (%zd bytes) dropped", n);
			free(j);
		} else
			pamd_start(j);
	}
	explicit_bzero(&req, sizeof(req));
}

static void
pamd_stop(int signo, void *arg)
{
	ev_stop(pamd_loop);
}

int
pamd_main(struct svc_env *env)
{
	for (size_t i = 0; i < env->nlisteners; i++)
		close(env->listeners[i].fd);
	pamd_fd = env->pamd_fd;
	pamd_first_uid = env->conf->first_valid_uid;
	if (fcntl(pamd_fd, F_SETFL, fcntl(pamd_fd, F_GETFL) | O_NONBLOCK) < 0)
		fatal("pamd: socket");
	pamd_loop = ev_new();
	ev_signal(pamd_loop, SIGTERM, pamd_stop, NULL);
	ev_io_set(pamd_loop, pamd_fd, EV_READ, pamd_read, NULL);
	log_debug("pamd ready, first_valid_uid=%u", pamd_first_uid);
	ev_run(pamd_loop);
	return 0;
}
