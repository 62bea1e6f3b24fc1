/*
 * smtp-load - the SMTP load generator behind bench/smtp-ingest.
 *
 * One thread, non-blocking sockets and epoll.  C connections each say EHLO
 * once and then run transactions back to back until N messages have been
 * tried in total: MAIL FROM, RCPT TO and DATA go out in one write
 * (PIPELINING, RFC 2920), the body goes out after the 354, and only a 250
 * after the final dot counts as a success.  Anything else (a 4xx/5xx reply,
 * a dropped connection, a timeout) counts as a failure; a dropped
 * connection is re-opened so the run goes on.
 *
 * Latency is the time from the last byte of the dot being handed to the
 * kernel to the 250 being read: the server's accept-and-make-durable step.
 *
 * Output: human-readable lines, then one "RESULT key=value ..." line that
 * bench/smtp-ingest parses.
 *
 * A second mode, "smtp-load fsync DIR SECONDS", measures the disk's own
 * ceiling: write 4 KB at the end of a file and fsync, repeatedly, in DIR.
 *
 * Loopback only by intent: -h must be a numeric IPv4 address (the script
 * passes 127.0.0.1).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum state {
	S_CONNECTING,
	S_BANNER,
	S_EHLO,
	S_ENVELOPE,	/* waiting for the MAIL, RCPT and DATA replies */
	S_BODY,		/* writing the message */
	S_DOT,		/* waiting for the reply to the dot */
	S_RSET,
	S_QUIT,
	S_DONE
};

struct conn {
	int fd;
	int id;
	enum state st;
	char in[8192];
	size_t inlen;
	/* output: a private head (commands or per-message headers) + shared body */
	char head[1024];
	size_t headlen, headoff;
	const char *body;
	size_t bodylen, bodyoff;
	int replies_wanted;	/* replies still expected in S_ENVELOPE */
	int env_ok;		/* all envelope replies were 2xx/3xx as expected */
	long msgno;		/* message being sent, -1 if none */
	double t_dot;		/* when the dot was written */
	double t_last;		/* last activity, for the timeout */
};

static const char *host = "127.0.0.1";
static int port = 25;
static long nmsgs = 5000;
static int nconns = 50;
static size_t msgsize = 4096;
static const char *mail_from = "sender@bench.invalid";
static const char *rcpt_to = "u@bench.test";
static double timeout_s = 60;
static int verbose;

static long next_msg;		/* next message number to hand out */
static long n_ok, n_fail, n_done;
static long n_reconnects, n_connfail;
static double *lat;		/* latencies of successes, ms */
static char *body;		/* shared body, dot-terminated */
static size_t bodylen;
static int epfd;
static char first_error[512];

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "smtp-load: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void
note_error(struct conn *c, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!first_error[0])
		snprintf(first_error, sizeof(first_error), "conn %d: %s", c->id, msg);
	if (verbose)
		fprintf(stderr, "smtp-load: conn %d: %s\n", c->id, msg);
}

/*
 * The shared body: filler lines of 76 characters (never starting with a
 * dot), sized so that headers + body come to about msgsize bytes, then
 * the terminating dot.
 */
static void
build_body(void)
{
	size_t want = msgsize > 300 ? msgsize - 300 : 64;	/* ~300 bytes of headers */
	body = malloc(want + 200);
	if (!body)
		die("out of memory");
	size_t n = 0;
	int line = 0;
	while (n < want) {
		char l[80];
		int k = snprintf(l, sizeof(l), "%05d bench filler: the quick brown fox jumps over the lazy dog 0123456\r\n",
		    line++ % 100000);
		if (n + k > want) {
			/* a short last line */
			size_t rest = want - n;
			if (rest < 3)
				break;
			memset(body + n, 'x', rest - 2);
			memcpy(body + n + rest - 2, "\r\n", 2);
			n += rest;
			break;
		}
		memcpy(body + n, l, k);
		n += k;
	}
	memcpy(body + n, ".\r\n", 3);
	bodylen = n + 3;
}

static void
ep_mod(struct conn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
		die("epoll_ctl mod: %s", strerror(errno));
}

static void conn_open(struct conn *c);

static long
claim_msg(void)
{
	if (next_msg >= nmsgs)
		return -1;
	return next_msg++;
}

static void
finish_msg(struct conn *c, int ok, double t)
{
	if (c->msgno < 0)
		return;
	if (ok) {
		lat[n_ok++] = (t - c->t_dot) * 1000.0;
	} else {
		n_fail++;
	}
	n_done++;
	c->msgno = -1;
}

/* conn_lost - the connection broke: fail its message, reconnect if work is left. */
static void
conn_lost(struct conn *c, const char *why)
{
	if (c->st != S_QUIT && c->st != S_DONE)
		note_error(c, "connection lost in state %d: %s", c->st, why);
	finish_msg(c, 0, now());
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->st == S_QUIT || c->st == S_DONE || next_msg >= nmsgs) {
		c->st = S_DONE;
		return;
	}
	n_reconnects++;
	conn_open(c);
}

static void
queue_out(struct conn *c, const char *s, size_t len, const char *b, size_t blen)
{
	if (len > sizeof(c->head))
		die("command too long");
	memcpy(c->head, s, len);
	c->headlen = len;
	c->headoff = 0;
	c->body = b;
	c->bodylen = blen;
	c->bodyoff = 0;
}

/* flush - write what is pending; 1 when all is written, 0 if blocked, -1 on error. */
static int
flush(struct conn *c)
{
	while (c->headoff < c->headlen || c->bodyoff < c->bodylen) {
		struct iovec iov[2];
		int n = 0;
		if (c->headoff < c->headlen) {
			iov[n].iov_base = c->head + c->headoff;
			iov[n].iov_len = c->headlen - c->headoff;
			n++;
		}
		if (c->bodyoff < c->bodylen) {
			iov[n].iov_base = (char *)c->body + c->bodyoff;
			iov[n].iov_len = c->bodylen - c->bodyoff;
			n++;
		}
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return errno == EAGAIN ? 0 : flush(c);
			return -1;
		}
		size_t hw = c->headlen - c->headoff;
		if ((size_t)w <= hw) {
			c->headoff += w;
		} else {
			c->headoff = c->headlen;
			c->bodyoff += w - hw;
		}
	}
	return 1;
}

static void
send_now(struct conn *c)
{
	int r = flush(c);
	if (r < 0) {
		conn_lost(c, strerror(errno));
		return;
	}
	if (r == 0) {
		ep_mod(c, EPOLLIN | EPOLLOUT);
		return;
	}
	if (c->st == S_BODY) {
		c->t_dot = now();
		c->st = S_DOT;
	}
}

static void
start_transaction(struct conn *c)
{
	c->msgno = claim_msg();
	if (c->msgno < 0) {
		c->st = S_QUIT;
		queue_out(c, "QUIT\r\n", 6, NULL, 0);
		send_now(c);
		return;
	}
	char cmd[600];
	int k = snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s> SIZE=%zu\r\nRCPT TO:<%s>\r\nDATA\r\n",
	    mail_from, msgsize, rcpt_to);
	c->st = S_ENVELOPE;
	c->replies_wanted = 3;
	c->env_ok = 1;
	queue_out(c, cmd, k, NULL, 0);
	send_now(c);
}

static void
start_body(struct conn *c)
{
	char h[1024];
	int k = snprintf(h, sizeof(h),
	    "From: <%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: bench message %ld\r\n"
	    "Message-ID: <bench.%ld.%d.%ld@bench.invalid>\r\n"
	    "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n",
	    mail_from, rcpt_to, c->msgno, c->msgno, (int)getpid(), (long)time(NULL));
	c->st = S_BODY;
	queue_out(c, h, k, body, bodylen);
	send_now(c);
}

static void
conn_open(struct conn *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		die("bad address %s", host);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->inlen = 0;
	c->headlen = c->headoff = c->bodylen = c->bodyoff = 0;
	c->msgno = -1;
	c->t_last = now();
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS)
		die("connect %s:%d: %s", host, port, strerror(errno));
	c->st = S_CONNECTING;
	struct epoll_event e = { .events = EPOLLOUT | EPOLLIN, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0)
		die("epoll_ctl add: %s", strerror(errno));
}

/* one complete reply (last line "NNN "); code in *code, text of last line */
static int
take_reply(struct conn *c, int *code, char *text, size_t tlen)
{
	size_t start = 0;
	for (;;) {
		char *nl = memchr(c->in + start, '\n', c->inlen - start);
		if (!nl)
			return 0;
		size_t linelen = nl - (c->in + start) + 1;
		char *line = c->in + start;
		if (linelen >= 4 && line[3] == '-') {
			start += linelen;
			continue;
		}
		*code = linelen >= 3 ? (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') : 0;
		size_t tl = linelen < tlen ? linelen : tlen - 1;
		memcpy(text, line, tl);
		text[tl] = 0;
		while (tl && (text[tl - 1] == '\n' || text[tl - 1] == '\r'))
			text[--tl] = 0;
		/* is PIPELINING among the lines? (only matters for EHLO) */
		if (c->st == S_EHLO) {
			c->env_ok = memmem(c->in, start + linelen, "PIPELINING", 10) != NULL;
		}
		memmove(c->in, c->in + start + linelen, c->inlen - start - linelen);
		c->inlen -= start + linelen;
		return 1;
	}
}

static void
on_reply(struct conn *c, int code, const char *text)
{
	double t = now();
	switch (c->st) {
	case S_BANNER:
		if (code != 220) {
			note_error(c, "banner: %s", text);
			conn_lost(c, "bad banner");
			return;
		}
		{
			char cmd[] = "EHLO loadgen.bench.invalid\r\n";
			c->st = S_EHLO;
			queue_out(c, cmd, sizeof(cmd) - 1, NULL, 0);
			send_now(c);
		}
		return;
	case S_EHLO:
		if (code != 250) {
			note_error(c, "EHLO: %s", text);
			c->st = S_QUIT;
			conn_lost(c, "EHLO refused");
			return;
		}
		if (!c->env_ok)
			die("server does not advertise PIPELINING");
		start_transaction(c);
		return;
	case S_ENVELOPE:
		c->replies_wanted--;
		if (c->replies_wanted == 2 || c->replies_wanted == 1) {
			if (code / 100 != 2) {
				note_error(c, "%s: %s", c->replies_wanted == 2 ? "MAIL" : "RCPT", text);
				c->env_ok = 0;
			}
			return;
		}
		/* the DATA reply */
		if (code == 354 && c->env_ok) {
			start_body(c);
			return;
		}
		if (code == 354) {
			/* DATA accepted although an envelope step failed: abort the message
			 * with an empty body so the session stays in sync. */
			c->st = S_RSET;
			queue_out(c, ".\r\nRSET\r\n", 9, NULL, 0);
			c->replies_wanted = 2;
			finish_msg(c, 0, t);
			send_now(c);
			return;
		}
		note_error(c, "DATA: %s", text);
		finish_msg(c, 0, t);
		c->st = S_RSET;
		c->replies_wanted = 1;
		queue_out(c, "RSET\r\n", 6, NULL, 0);
		send_now(c);
		return;
	case S_BODY:
		/* a reply while we are still writing: an early rejection */
		note_error(c, "reply during body: %s", text);
		conn_lost(c, "early reply");
		return;
	case S_DOT:
		if (code == 250) {
			finish_msg(c, 1, t);
		} else {
			note_error(c, "after DATA: %s", text);
			finish_msg(c, 0, t);
		}
		start_transaction(c);
		return;
	case S_RSET:
		if (--c->replies_wanted > 0)
			return;
		if (code == 421) {
			conn_lost(c, "421 after RSET");
			return;
		}
		start_transaction(c);
		return;
	case S_QUIT:
		c->st = S_DONE;
		conn_lost(c, "done");
		return;
	default:
		note_error(c, "unexpected reply in state %d: %s", c->st, text);
		return;
	}
}

static void
on_event(struct conn *c, uint32_t ev)
{
	c->t_last = now();
	if (c->st == S_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			note_error(c, "connect: %s", strerror(err));
			if (++n_connfail > 100 && n_ok == 0)
				die("cannot connect to %s:%d: %s", host, port, strerror(err));
			conn_lost(c, strerror(err));
			return;
		}
		c->st = S_BANNER;
		ep_mod(c, EPOLLIN);
	}
	if (ev & EPOLLOUT) {
		if (c->headoff < c->headlen || c->bodyoff < c->bodylen) {
			send_now(c);
			if (c->fd < 0)
				return;
		}
		if (c->headoff >= c->headlen && c->bodyoff >= c->bodylen)
			ep_mod(c, EPOLLIN);
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			if (c->inlen == sizeof(c->in))
				die("reply buffer overflow");
			ssize_t r = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
			if (r < 0) {
				if (errno == EAGAIN)
					break;
				if (errno == EINTR)
					continue;
				conn_lost(c, strerror(errno));
				return;
			}
			if (r == 0) {
				conn_lost(c, "EOF");
				return;
			}
			c->inlen += r;
			int code;
			char text[256];
			while (c->fd >= 0 && take_reply(c, &code, text, sizeof(text)))
				on_reply(c, code, text);
			if (c->fd < 0 || c->st == S_DONE)
				return;
			if ((size_t)r < sizeof(c->in) / 2)
				break;
		}
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	if (n_ok == 0)
		return 0;
	long i = (long)(p / 100.0 * (n_ok - 1) + 0.5);
	return lat[i];
}

static int
fsync_mode(const char *dir, double secs)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/.fsync-probe.%d", dir, (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	char buf[4096];
	memset(buf, 'f', sizeof(buf));
	long n = 0;
	double t0 = now(), t;
	do {
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			die("write: %s", strerror(errno));
		if (fsync(fd) < 0)
			die("fsync: %s", strerror(errno));
		n++;
		/* keep the file small: start over every 1024 writes */
		if (n % 1024 == 0 && (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0))
			die("truncate: %s", strerror(errno));
		t = now();
	} while (t - t0 < secs);
	close(fd);
	unlink(path);
	printf("fsync ceiling: %ld fsyncs in %.2f s = %.0f fsync/s (4 KB append + fsync, %s)\n",
	    n, t - t0, n / (t - t0), dir);
	printf("RESULT fsync_per_s=%.0f\n", n / (t - t0));
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: smtp-load [-h IPV4] [-p PORT] [-n N] [-c C] [-s SIZE] [-f FROM] [-t RCPT] [-T TIMEOUT] [-v]\n"
	    "       smtp-load fsync DIR SECONDS\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "fsync") == 0) {
		if (argc != 4)
			usage();
		return fsync_mode(argv[2], atof(argv[3]));
	}
	int opt;
	while ((opt = getopt(argc, argv, "h:p:n:c:s:f:t:T:v")) != -1) {
		switch (opt) {
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'n': nmsgs = atol(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 's': msgsize = strtoul(optarg, NULL, 10); break;
		case 'f': mail_from = optarg; break;
		case 't': rcpt_to = optarg; break;
		case 'T': timeout_s = atof(optarg); break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (nmsgs < 1 || nconns < 1 || port < 1 || port > 65535)
		usage();
	if (nconns > nmsgs)
		nconns = (int)nmsgs;
	build_body();
	lat = calloc(nmsgs, sizeof(double));
	struct conn *conns = calloc(nconns, sizeof(*conns));
	if (!lat || !conns)
		die("out of memory");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));

	double t0 = now();
	for (int i = 0; i < nconns; i++) {
		conns[i].id = i;
		conns[i].fd = -1;
		conn_open(&conns[i]);
	}
	struct epoll_event evs[256];
	double last_check = t0;
	for (;;) {
		int alive = 0;
		for (int i = 0; i < nconns; i++)
			alive += conns[i].st != S_DONE;
		if (!alive)
			break;
		int n = epoll_wait(epfd, evs, 256, 500);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->fd >= 0 && c->st != S_DONE)
				on_event(c, evs[i].events);
		}
		double t = now();
		if (t - last_check > 0.5) {
			last_check = t;
			for (int i = 0; i < nconns; i++) {
				struct conn *c = &conns[i];
				if (c->st != S_DONE && c->fd >= 0 && t - c->t_last > timeout_s) {
					note_error(c, "timeout after %.0f s in state %d", timeout_s, c->st);
					c->st = S_QUIT;	/* do not reconnect a stuck server forever */
					conn_lost(c, "timeout");
				}
			}
		}
	}
	double el = now() - t0;
	/* messages never handed out (all connections died) are failures too */
	n_fail += nmsgs - next_msg;
	qsort(lat, n_ok, sizeof(double), cmp_double);
	printf("sent %ld messages of ~%zu bytes over %d connections to %s:%d in %.2f s\n",
	    nmsgs, msgsize, nconns, host, port, el);
	printf("accepted (250 after DATA): %ld   failed: %ld   reconnects: %ld\n", n_ok, n_fail, n_reconnects);
	printf("rate: %.1f msgs/s accepted\n", n_ok / el);
	printf("DATA-dot -> 250 latency: p50 %.2f ms   p99 %.2f ms   max %.2f ms\n",
	    pct(50), pct(99), n_ok ? lat[n_ok - 1] : 0.0);
	if (first_error[0])
		printf("first error: %s\n", first_error);
	printf("RESULT ok=%ld fail=%ld elapsed=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
	    n_ok, n_fail, el, n_ok / el, pct(50), pct(99), n_ok ? lat[n_ok - 1] : 0.0);
	return n_fail ? 1 : 0;
}
