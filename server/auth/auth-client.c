/*
 * auth-client - the services' side of the authd socket.
 */
#include "auth-client.h"
#include "buf.h"
#include "log.h"
#include "str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct pending {
	uint32_t id;
	uint64_t sent;			/* ev_clock_ms() at the request */
	auth_done_cb *cb;
	void *arg;
	struct pending *next;
};

struct auth_client {
	struct ev_loop *loop;
	char *path;
	char service[16];
	int fd;
	uint32_t next_id;
	struct pending *pending;
	/* failures reported back through a zero timer, never re-entrantly */
	struct ev_timer fail_timer;
	struct pending *failed;
};

static void ac_fail_all(struct auth_client *ac);

static void
ac_fire_failed(void *arg)
{
	struct auth_client *ac = arg;
	struct pending *p = ac->failed;
	ac->failed = NULL;
	while (p) {
		struct pending *n = p->next;
		p->cb(p->arg, AUTH_TEMPFAIL, NULL, p->sent);
		free(p);
		p = n;
	}
}

static void
ac_read(int fd, int events, void *arg)
{
	struct auth_client *ac = arg;
	struct auth_rep rep;

	for (;;) {
		ssize_t n = recv(fd, &rep, sizeof(rep), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n != (ssize_t)sizeof(rep)) {
			log_warnx("authd connection lost");
			ac_fail_all(ac);
			return;
		}
		rep.user[sizeof(rep.user) - 1] = '\0';
		for (struct pending **pp = &ac->pending; *pp; pp = &(*pp)->next) {
			if ((*pp)->id != rep.id)
				continue;
			struct pending *p = *pp;
			*pp = p->next;
			p->cb(p->arg, rep.result, rep.user, p->sent);
			free(p);
			break;
		}
	}
}

static void
ac_fail_all(struct auth_client *ac)
{
	if (ac->fd >= 0) {
		ev_io_del(ac->loop, ac->fd);
		close(ac->fd);
		ac->fd = -1;
	}
	struct pending **tail = &ac->failed;
	while (*tail)
		tail = &(*tail)->next;
	*tail = ac->pending;
	ac->pending = NULL;
	ev_timer_add(ac->loop, &ac->fail_timer, 0);
}

static int
ac_connect(struct auth_client *ac)
{
	struct sockaddr_un sun;

	if (ac->fd >= 0)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_lcpy(sun.sun_path, ac->path, sizeof(sun.sun_path));
	ac->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ac->fd < 0)
		return -1;
	if (connect(ac->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_warn("connect %s", ac->path);
		close(ac->fd);
		ac->fd = -1;
		return -1;
	}
	ev_io_set(ac->loop, ac->fd, EV_READ, ac_read, ac);
	return 0;
}

struct auth_client *
auth_client_new(struct ev_loop *loop, const char *sock_path, const char *service)
{
	struct auth_client *ac = xcalloc(1, sizeof(*ac));
	ac->loop = loop;
	ac->path = xstrdup(sock_path);
	str_lcpy(ac->service, service, sizeof(ac->service));
	ac->fd = -1;
	ev_timer_init(&ac->fail_timer, ac_fire_failed, ac);
	return ac;
}

uint32_t
auth_client_request(struct auth_client *ac, const char *ip, const char *user,
    const char *pass, auth_done_cb *cb, void *arg)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	size_t ul = strlen(user), pl = strlen(pass);
	char pkt[sizeof(struct auth_req) + AUTH_USER_MAX + AUTH_PASS_MAX];
	struct auth_req *req = (struct auth_req *)pkt;

	if (++ac->next_id == 0)
		ac->next_id = 1;
	p->id = ac->next_id;
	p->sent = ev_clock_ms();
	p->cb = cb;
	p->arg = arg;
	if (ul > AUTH_USER_MAX)
		ul = AUTH_USER_MAX;
	if (pl > AUTH_PASS_MAX)
		pl = AUTH_PASS_MAX;
	memset(req, 0, sizeof(*req));
	req->id = p->id;
	req->ulen = (uint16_t)ul;
	req->plen = (uint16_t)pl;
	str_lcpy(req->service, ac->service, sizeof(req->service));
	str_lcpy(req->ip, ip, sizeof(req->ip));
	memcpy(pkt + sizeof(*req), user, ul);
	memcpy(pkt + sizeof(*req) + ul, pass, pl);
	p->next = ac->pending;
	ac->pending = p;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (ac_connect(ac) < 0)
			break;
		if (send(ac->fd, pkt, sizeof(*req) + ul + pl, MSG_NOSIGNAL) >= 0) {
			explicit_bzero(pkt, sizeof(pkt));
			return p->id;
		}
		/* authd was restarted: reconnect once */
		ev_io_del(ac->loop, ac->fd);
		close(ac->fd);
		ac->fd = -1;
	}
	explicit_bzero(pkt, sizeof(pkt));
	ac_fail_all(ac);
	return p->id;
}

void
auth_client_cancel(struct auth_client *ac, uint32_t id)
{
	struct pending **lists[] = { &ac->pending, &ac->failed };
	for (int i = 0; i < 2; i++)
		for (struct pending **pp = lists[i]; *pp; pp = &(*pp)->next)
			if ((*pp)->id == id) {
				struct pending *p = *pp;
				*pp = p->next;
				free(p);
				return;
			}
}
