/*
 * ev - epoll event loop with a timer min-heap (shaped like redis' ae and
 * Postfix' events.c, but with O(log n) timers: every connection has an idle
 * timer, so a list scanned each iteration would not do).
 */
#include "ev.h"
#include "buf.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct ev_fd {
	ev_io_cb *cb;
	void *arg;
	int events;
	int active;
};

struct ev_sig {
	ev_signal_cb *cb;
	void *arg;
};

struct ev_async {
	int fd;
	ev_timer_cb *cb;
	void *arg;
};

struct ev_loop {
	int epfd;
	struct ev_fd *fds;
	size_t nfds;
	struct ev_timer **heap;	/* 1-based */
	size_t heap_len, heap_cap;
	int sigfd;
	sigset_t sigs;
	struct ev_sig sig[65];
	uint64_t now;
	int stop;
};

uint64_t
ev_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ev_loop *
ev_new(void)
{
	struct ev_loop *l = xcalloc(1, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		fatal("epoll_create1");
	l->sigfd = -1;
	sigemptyset(&l->sigs);
	l->now = ev_clock_ms();
	return l;
}

void
ev_free(struct ev_loop **lp)
{
	struct ev_loop *l = *lp;
	if (l == NULL)
		return;
	close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l->fds);
	free(l->heap);
	free(l);
	*lp = NULL;
}

static uint32_t
ev_mask(int events)
{
	uint32_t m = 0;
	if (events & EV_READ)
		m |= EPOLLIN | EPOLLRDHUP;
	if (events & EV_WRITE)
		m |= EPOLLOUT;
	return m;
}

int
ev_io_set(struct ev_loop *l, int fd, int events, ev_io_cb *cb, void *arg)
{
	struct epoll_event ee = { .events = ev_mask(events), .data.fd = fd };

	if (fd < 0)
		return -1;
	if ((size_t)fd >= l->nfds) {
		size_t n = l->nfds ? l->nfds : 64;
		while (n <= (size_t)fd)
			n *= 2;
		l->fds = xrealloc(l->fds, n * sizeof(*l->fds));
		memset(l->fds + l->nfds, 0, (n - l->nfds) * sizeof(*l->fds));
		l->nfds = n;
	}
	int op = l->fds[fd].active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, fd, &ee) < 0)
		return -1;
	l->fds[fd] = (struct ev_fd){ cb, arg, events, 1 };
	return 0;
}

int
ev_io_mod(struct ev_loop *l, int fd, int events)
{
	struct epoll_event ee = { .events = ev_mask(events), .data.fd = fd };

	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].active)
		return -1;
	if (l->fds[fd].events == events)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ee) < 0)
		return -1;
	l->fds[fd].events = events;
	return 0;
}

void
ev_io_del(struct ev_loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].active)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(&l->fds[fd], 0, sizeof(l->fds[fd]));
}

/* ---- timers: binary min-heap on 'when' ---- */

static void
heap_swap(struct ev_loop *l, size_t a, size_t b)
{
	struct ev_timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->idx = a;
	l->heap[b]->idx = b;
}

static void
heap_up(struct ev_loop *l, size_t i)
{
	while (i > 1 && l->heap[i / 2]->when > l->heap[i]->when) {
		heap_swap(l, i, i / 2);
		i /= 2;
	}
}

static void
heap_down(struct ev_loop *l, size_t i)
{
	for (;;) {
		size_t m = i, c = 2 * i;
		if (c <= l->heap_len && l->heap[c]->when < l->heap[m]->when)
			m = c;
		if (c + 1 <= l->heap_len && l->heap[c + 1]->when < l->heap[m]->when)
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

void
ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg)
{
	t->when = 0;
	t->idx = 0;
	t->cb = cb;
	t->arg = arg;
}

void
ev_timer_del(struct ev_loop *l, struct ev_timer *t)
{
	size_t i = t->idx;
	if (i == 0)
		return;
	t->idx = 0;
	if (i != l->heap_len) {
		l->heap[i] = l->heap[l->heap_len];
		l->heap[i]->idx = i;
		l->heap_len--;
		heap_up(l, i);
		heap_down(l, i);
	} else
		l->heap_len--;
}

void
ev_timer_add(struct ev_loop *l, struct ev_timer *t, uint64_t ms)
{
	ev_timer_del(l, t);
	if (l->heap_len + 2 > l->heap_cap) {
		l->heap_cap = l->heap_cap ? l->heap_cap * 2 : 64;
		l->heap = xrealloc(l->heap, l->heap_cap * sizeof(*l->heap));
	}
	t->when = ev_clock_ms() + ms;
	l->heap[++l->heap_len] = t;
	t->idx = l->heap_len;
	heap_up(l, t->idx);
}

/* ---- signals ---- */

static void
ev_sig_read(int fd, int events, void *arg)
{
	struct ev_loop *l = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo < 65 && l->sig[si.ssi_signo].cb)
			l->sig[si.ssi_signo].cb((int)si.ssi_signo, l->sig[si.ssi_signo].arg);
}

int
ev_signal(struct ev_loop *l, int signo, ev_signal_cb *cb, void *arg)
{
	if (signo <= 0 || signo >= 65)
		return -1;
	sigaddset(&l->sigs, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigs, NULL) < 0)
		return -1;
	l->sig[signo] = (struct ev_sig){ cb, arg };
	int fd = signalfd(l->sigfd, &l->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (l->sigfd < 0) {
		l->sigfd = fd;
		return ev_io_set(l, fd, EV_READ, ev_sig_read, l);
	}
	return 0;
}

/* ---- async wake-ups from other threads ---- */

static void
ev_async_read(int fd, int events, void *arg)
{
	struct ev_async *a = arg;
	uint64_t v;
	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
	a->cb(a->arg);
}

struct ev_async *
ev_async_new(struct ev_loop *l, ev_timer_cb *cb, void *arg)
{
	struct ev_async *a = xcalloc(1, sizeof(*a));
	a->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->fd < 0)
		fatal("eventfd");
	a->cb = cb;
	a->arg = arg;
	if (ev_io_set(l, a->fd, EV_READ, ev_async_read, a) < 0)
		fatal("ev_async_new");
	return a;
}

void
ev_async_wake(struct ev_async *a)
{
	uint64_t one = 1;
	ssize_t w = write(a->fd, &one, sizeof(one));
	(void)w;
}

/* ---- the loop ---- */

static void
ev_run_timers(struct ev_loop *l)
{
	l->now = ev_clock_ms();
	while (l->heap_len && l->heap[1]->when <= l->now) {
		struct ev_timer *t = l->heap[1];
		ev_timer_del(l, t);
		t->cb(t->arg);
	}
}

int
ev_run(struct ev_loop *l)
{
	struct epoll_event evs[256];

	l->stop = 0;
	while (!l->stop) {
		int timeout = -1;
		l->now = ev_clock_ms();
		if (l->heap_len) {
			uint64_t w = l->heap[1]->when;
			timeout = w <= l->now ? 0 : (int)(w - l->now > 60000 ? 60000 : w - l->now);
		}
		int n = epoll_wait(l->epfd, evs, 256, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait");
			return -1;
		}
		l->now = ev_clock_ms();
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if ((size_t)fd >= l->nfds || !l->fds[fd].active)
				continue;
			struct ev_fd *f = &l->fds[fd];
			int e = 0;
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP))
				e |= EV_READ;
			if (evs[i].events & EPOLLOUT)
				e |= EV_WRITE;
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				e |= EV_ERROR | EV_READ;
			f->cb(fd, e, f->arg);
		}
		ev_run_timers(l);
	}
	return 0;
}

void
ev_stop(struct ev_loop *l)
{
	l->stop = 1;
}
