/*
 * ev - the event loop: epoll for descriptors, a min-heap of timers,
 * signalfd for signals.  One loop per process, single-threaded; other
 * threads hand results back through ev_async (an eventfd).
 *
 * Callbacks may add or delete any event, including their own, and may free
 * the object that holds an ev_timer after deleting it.
 */
#ifndef ONEBOX_EV_H
#define ONEBOX_EV_H

#include <stddef.h>
#include <stdint.h>

#define EV_READ  0x1
#define EV_WRITE 0x2
#define EV_ERROR 0x4	/* reported only: hang-up or error on the fd, even
			 * when no event is asked for (epoll always reports
			 * them): the callback must act on it (close, or
			 * ev_io_del), or the loop comes straight back */

struct ev_loop;
typedef void ev_io_cb(int fd, int events, void *arg);
typedef void ev_timer_cb(void *arg);
typedef void ev_signal_cb(int signo, void *arg);

struct ev_timer {
	uint64_t when;		/* ms, monotonic */
	size_t idx;		/* position in the heap, 0 = not armed */
	ev_timer_cb *cb;
	void *arg;
};

struct ev_loop *ev_new(void);
void ev_free(struct ev_loop **loop);

/* ev_io_set - watch fd for events (EV_READ|EV_WRITE, 0 = registered but
 * idle). Replaces any previous watch of fd. 0/-1. */
int ev_io_set(struct ev_loop *loop, int fd, int events, ev_io_cb *cb, void *arg);
/* ev_io_mod - change the events of a watched fd. */
int ev_io_mod(struct ev_loop *loop, int fd, int events);
void ev_io_del(struct ev_loop *loop, int fd);

/* ev_timer_init - set the callback; the timer starts disarmed. */
void ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg);
/* ev_timer_add - (re)arm t to fire once after ms milliseconds. */
void ev_timer_add(struct ev_loop *loop, struct ev_timer *t, uint64_t ms);
void ev_timer_del(struct ev_loop *loop, struct ev_timer *t);
static inline int ev_timer_pending(const struct ev_timer *t) { return t->idx != 0; }

/* ev_signal - deliver signo through the loop (blocks it for the process). */
int ev_signal(struct ev_loop *loop, int signo, ev_signal_cb *cb, void *arg);

/* ev_async - an eventfd; any thread calls ev_async_wake(), the loop calls cb. */
struct ev_async;
struct ev_async *ev_async_new(struct ev_loop *loop, ev_timer_cb *cb, void *arg);
void ev_async_wake(struct ev_async *a);

uint64_t ev_clock_ms(void);

/* ev_run - run until ev_stop(); returns 0, or -1 on an epoll failure. */
int ev_run(struct ev_loop *loop);
void ev_stop(struct ev_loop *loop);

#endif
