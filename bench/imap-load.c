/*
 * imap-load - the IMAP client behind bench/imap.
 *
 *   imap-load fill DIR N SEED
 *	Write N messages of a realistic shape into the Maildir DIR (new/):
 *	2-6 KB of text, 2 in 10 multipart/alternative (text + HTML), 1 in 10
 *	multipart/mixed with a base64 attachment; every 16th subject says
 *	"Quarterly", one body in 100 says "xylophone".  LF line ends, as a
 *	delivery stores them; names carry S= and W= sizes.
 *
 *   imap-load select HOST PORT USER PASS K
 *	K times: connect, LOGIN, SELECT INBOX (a new connection each time).
 *	Prints "RESULT ms=T1,T2,... select_ms=S1,S2,... exists=E": connect
 *	to the SELECT's OK, and the SELECT alone.
 *
 *   imap-load cmd HOST PORT USER PASS K COMMAND
 *	LOGIN, SELECT INBOX, then COMMAND K times over the same connection.
 *	Prints "RESULT ms=... bytes=B untagged=U status=OK|NO|BAD" (bytes and
 *	untagged responses of the last run; literals are skipped by length).
 *
 *   imap-load idle [-t] HOST PORT USER PASS C SMTPPORT [lmtp]
 *	C connections (-t: implicit TLS) each LOGIN, SELECT INBOX and IDLE,
 *	all on one epoll loop, at most LOGINS_IN_FLIGHT logins at a time.
 *	Prints "ready", waits for a line on stdin (the script measures the
 *	servers' memory meanwhile), then a child delivers one message to USER
 *	over SMTP (or LMTP) on SMTPPORT and reports the time of its 250; each
 *	connection's "* N EXISTS" is timed from that 250 (those silent for
 *	30 s are "missing").  Prints "RESULT ok=... missing=... early=...
 *	retries=R p50=... p99=... max=..." (ms; early = EXISTS seen before the
 *	250, counted 0; a missing one counts as inf; R = logins answered
 *	NO [UNAVAILABLE] and sent again).
 *
 * Plain TCP except idle -t; blocking I/O except the idle loop.  Loopback
 * only by intent: HOST must be a numeric IPv4 address.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum idle_state { I_GREETING, I_WAIT, I_LOGIN, I_SELECT, I_IDLE, I_IDLING, I_DONE };

struct conn {
	int fd;
	SSL *ssl;
	char in[16384];
	size_t len, pos;
	enum idle_state st;	/* idle mode only */
	unsigned long exists;
	double t_exists;
};

/* logins in flight at once in idle mode: onebox counts an attempt against
 * auth_max_failures (10 per address) until it succeeds */
#define LOGINS_IN_FLIGHT 8

static const char *host, *user, *pass;
static int port;
static int logins;		/* LOGINs sent and not answered (idle mode) */
static int retries;		/* LOGINs answered NO [UNAVAILABLE] and sent again */
static double t_select;		/* the last SELECT alone, seconds */

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
	fprintf(stderr, "imap-load: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static int
dial(int p)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)p);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("bad address %s", host);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect %s:%d: %s", host, p, strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* ---- blocking I/O on one connection (plain or TLS) ---- */

static void
put(struct conn *c, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w;
		if (c->ssl) {
			int r = SSL_write(c->ssl, s, (int)n);
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				struct pollfd p = { c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0 };
				if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
					die("TLS write");
				poll(&p, 1, 1000);
				continue;
			}
			w = r;
		} else if ((w = write(c->fd, s, n)) <= 0) {
			die("write: %s", strerror(errno));
		}
		s += w;
		n -= (size_t)w;
	}
}

/* fill - read more input; >0 bytes, 0 would block (non-blocking fd), dies on EOF */
static ssize_t
fill(struct conn *c)
{
	ssize_t n;

	if (c->pos > 0) {
		memmove(c->in, c->in + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->len == sizeof(c->in))
		die("response line too long");
	if (c->ssl) {
		int r = SSL_read(c->ssl, c->in + c->len, (int)(sizeof(c->in) - c->len));
		if (r <= 0) {
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return 0;
			die("connection closed (TLS)");
		}
		n = r;
	} else {
		n = read(c->fd, c->in + c->len, sizeof(c->in) - c->len);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			die("connection closed");
	}
	c->len += (size_t)n;
	return n;
}

/* getline_nb - the next line (CR LF cut off) if one is buffered, else NULL */
static char *
getline_nb(struct conn *c)
{
	char *s = c->in + c->pos, *e = memchr(s, '\n', c->len - c->pos);

	if (e == NULL)
		return NULL;
	c->pos = (size_t)(e + 1 - c->in);
	*e = '\0';
	if (e > s && e[-1] == '\r')
		e[-1] = '\0';
	return s;
}

static char *
getline_b(struct conn *c)
{
	char *l;
	while ((l = getline_nb(c)) == NULL)
		fill(c);
	return l;
}

/* skip - consume n bytes of a literal; returns n */
static unsigned long long
skip(struct conn *c, unsigned long long n)
{
	unsigned long long left = n;
	while (left) {
		size_t have = c->len - c->pos;
		if (have == 0) {
			c->pos = c->len = 0;
			fill(c);
			continue;
		}
		if (have > left)
			have = (size_t)left;
		c->pos += have;
		left -= have;
	}
	return n;
}

/*
 * response - read until the tagged reply to TAG; counts the bytes and the
 * untagged responses, skips literals; returns the status word ("OK"...)
 * and leaves the tagged line in last.
 */
static char last[1024];

static const char *
response(struct conn *c, const char *tag, unsigned long long *bytes_r, unsigned long *untagged_r)
{
	size_t tl = strlen(tag);
	int cont = 0;	/* the next line continues a response after a literal */

	for (;;) {
		char *l = getline_b(c), *b;
		size_t n = strlen(l);
		*bytes_r += n + 2;
		if (!cont && l[0] == '*' && l[1] == ' ')
			(*untagged_r)++;
		if (!cont && strncmp(l, tag, tl) == 0 && l[tl] == ' ') {
			snprintf(last, sizeof(last), "%s", l);
			if (strncmp(l + tl + 1, "OK", 2) == 0)
				return "OK";
			return strncmp(l + tl + 1, "NO", 2) == 0 ? "NO" : "BAD";
		}
		cont = 0;
		if (n > 2 && l[n - 1] == '}' && (b = strrchr(l, '{')) != NULL) {
			*bytes_r += skip(c, strtoull(b + 1, NULL, 10));
			cont = 1;
		}
	}
}

/* is_exists - "* N EXISTS"? (sscanf alone would take "* 0 RECENT" too) */
static int
is_exists(const char *l, unsigned long *n_r)
{
	int end = 0;
	sscanf(l, "* %lu EXISTS%n", n_r, &end);
	return end > 0 && l[end] == '\0';
}

static void
login_select(struct conn *c, unsigned long *exists_r)
{
	unsigned long long b = 0;
	unsigned long u = 0;
	char cmd[512];
	char *l = getline_b(c);

	if (strncmp(l, "* OK", 4) != 0)
		die("greeting: %s", l);
	snprintf(cmd, sizeof(cmd), "a LOGIN \"%s\" \"%s\"\r\n", user, pass);
	put(c, cmd);
	if (strcmp(response(c, "a", &b, &u), "OK") != 0)
		die("LOGIN: %s", last);
	t_select = now();
	put(c, "b SELECT INBOX\r\n");
	*exists_r = 0;
	for (;;) {
		unsigned long n;
		l = getline_b(c);
		if (is_exists(l, &n))
			*exists_r = n;
		if (strncmp(l, "b ", 2) == 0) {
			if (strncmp(l, "b OK", 4) != 0)
				die("SELECT: %s", l);
			t_select = now() - t_select;
			return;
		}
	}
}

static void
print_ms(const double *t, int k)
{
	printf("RESULT ms=");
	for (int i = 0; i < k; i++)
		printf("%s%.2f", i ? "," : "", t[i] * 1e3);
}

static int
run_select(int k)
{
	double t[64] = { 0 }, ts[64] = { 0 };
	unsigned long exists = 0;

	if (k > 64)
		k = 64;
	for (int i = 0; i < k; i++) {
		struct conn c = { 0 };
		double t0 = now();
		c.fd = dial(port);
		login_select(&c, &exists);
		t[i] = now() - t0;
		ts[i] = t_select;
		put(&c, "z LOGOUT\r\n");
		close(c.fd);
	}
	print_ms(t, k);
	printf(" select_ms=");
	for (int i = 0; i < k; i++)
		printf("%s%.2f", i ? "," : "", ts[i] * 1e3);
	printf(" exists=%lu\n", exists);
	return 0;
}

static int
run_cmd(int k, const char *command)
{
	struct conn c = { 0 };
	double t[64];
	unsigned long exists, untagged = 0;
	unsigned long long bytes = 0;
	const char *st = "OK";
	char line[4096];

	if (k > 64)
		k = 64;
	c.fd = dial(port);
	login_select(&c, &exists);
	snprintf(line, sizeof(line), "c %s\r\n", command);
	for (int i = 0; i < k; i++) {
		double t0 = now();
		bytes = untagged = 0;
		put(&c, line);
		st = response(&c, "c", &bytes, &untagged);
		t[i] = now() - t0;
		if (strcmp(st, "OK") != 0) {
			fprintf(stderr, "imap-load: %s -> %s\n", command, last);
			k = i + 1;
			break;
		}
	}
	put(&c, "z LOGOUT\r\n");
	print_ms(t, k);
	printf(" bytes=%llu untagged=%lu status=%s\n", bytes, untagged, st);
	return 0;
}

/* ---- idle: C sessions on one epoll loop ---- */

/* smtp_reply - read one (multi-line) SMTP reply; returns its code */
static int
smtp_reply(struct conn *c)
{
	char *l;
	do
		l = getline_b(c);
	while (strlen(l) > 3 && l[3] == '-');
	return atoi(l);
}

/* deliver - in a child: one message to USER; writes the time of the 250 to fd */
static void
deliver(int smtp_port, int lmtp, int fd)
{
	struct conn c = { 0 };
	char cmd[512];
	double t;

	c.fd = dial(smtp_port);
	if (smtp_reply(&c) != 220)
		die("smtp greeting");
	put(&c, lmtp ? "LHLO bench.test\r\n" : "EHLO bench.test\r\n");
	if (smtp_reply(&c) != 250)
		die("EHLO");
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<sender@example.org>\r\n");
	put(&c, cmd);
	if (smtp_reply(&c) != 250)
		die("MAIL");
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", user);
	put(&c, cmd);
	if (smtp_reply(&c) != 250)
		die("RCPT");
	put(&c, "DATA\r\n");
	if (smtp_reply(&c) != 354)
		die("DATA");
	put(&c, "From: <sender@example.org>\r\nSubject: idle wake-up\r\n"
	    "Message-ID: <idle.bench@example.org>\r\n\r\nnew mail for the idle clients\r\n.\r\n");
	if (smtp_reply(&c) != 250)
		die("no 250 after the dot");
	t = now();
	if (write(fd, &t, sizeof(t)) != sizeof(t))
		die("pipe");
	put(&c, "QUIT\r\n");
	_exit(0);
}

/* idle_line - one line for an idle session; moves its state on */
static void
idle_line(struct conn *c, const char *l, double t)
{
	unsigned long n;

	switch (c->st) {
	case I_GREETING:
		if (strncmp(l, "* OK", 4) != 0)
			die("greeting: %s", l);
		c->st = I_WAIT;	/* LOGIN sent by kick() */
		break;
	case I_WAIT:
		break;
	case I_LOGIN:
		if (strncmp(l, "a ", 2) != 0)
			break;
		logins--;
		if (strncmp(l, "a NO [UNAVAILABLE]", 18) == 0 && ++retries < 100) {
			c->st = I_WAIT;	/* "try again later": as a client would */
			break;
		}
		if (strncmp(l, "a OK", 4) != 0)
			die("LOGIN: %s", l);
		put(c, "b SELECT INBOX\r\n");
		c->st = I_SELECT;
		break;
	case I_SELECT:
		if (is_exists(l, &n))
			c->exists = n;
		if (strncmp(l, "b ", 2) != 0)
			break;
		if (strncmp(l, "b OK", 4) != 0)
			die("SELECT: %s", l);
		put(c, "c IDLE\r\n");
		c->st = I_IDLE;
		break;
	case I_IDLE:
		if (l[0] == '+')
			c->st = I_IDLING;
		break;
	case I_IDLING:
		if (is_exists(l, &n) && n > c->exists) {
			c->t_exists = t;
			c->st = I_DONE;
		}
		break;
	case I_DONE:
		break;
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* kick - send LOGIN for sessions waiting for a slot */
static void
kick(struct conn *cs, int nc)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "a LOGIN \"%s\" \"%s\"\r\n", user, pass);
	for (int i = 0; i < nc && logins < LOGINS_IN_FLIGHT; i++) {
		if (cs[i].st != I_WAIT)
			continue;
		put(&cs[i], cmd);
		cs[i].st = I_LOGIN;
		logins++;
	}
}

/* service - read what a session has and act on its lines */
static void
service(struct conn *c)
{
	ssize_t r;
	char *l;

	do {
		r = fill(c);
		while ((l = getline_nb(c)) != NULL)
			idle_line(c, l, now());
	} while (r > 0);
}

/* loop - run the sessions until every one is in state `until` or timeout */
static int
loop(int ep, struct conn *cs, int nc, enum idle_state until, double timeout, int pipefd, double *t250)
{
	struct epoll_event ev[256];
	double end = now() + timeout;
	int behind = nc;

	while (now() < end) {
		int ms = (int)((end - now()) * 1e3) + 1;
		int n = epoll_wait(ep, ev, 256, ms < 100 ? ms : 100);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL) {
				if (read(pipefd, t250, sizeof(*t250)) != sizeof(*t250))
					die("delivery failed");
				epoll_ctl(ep, EPOLL_CTL_DEL, pipefd, NULL);
				continue;
			}
			service(ev[i].data.ptr);
		}
		kick(cs, nc);
		behind = 0;
		for (int i = 0; i < nc; i++)
			behind += cs[i].st < until;
		if (behind == 0 && (pipefd < 0 || *t250 > 0))
			break;
	}
	return behind;
}

static int
run_idle(int nc, int tls, int smtp_port, int lmtp)
{
	struct conn *cs = calloc((size_t)nc, sizeof(*cs));
	SSL_CTX *ctx = NULL;
	double *lat, t250 = 0;
	int ep = epoll_create1(0), p[2], ok = 0, early = 0, behind;
	char buf[64];
	pid_t kid;

	if (cs == NULL || ep < 0)
		die("out of memory");
	if (tls && (ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new");
	for (int i = 0; i < nc; i++) {
		struct conn *c = &cs[i];
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
		c->fd = dial(port);
		if (tls) {
			c->ssl = SSL_new(ctx);
			SSL_set_fd(c->ssl, c->fd);
			if (SSL_connect(c->ssl) != 1)
				die("TLS handshake of connection %d", i);
		}
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
			die("epoll_ctl");
		if (tls)	/* the handshake may have read the greeting already */
			service(c);
		/* keep the sessions moving while the others connect */
		if (i % 50 == 49)
			loop(ep, cs, i + 1, I_IDLING, 0.001, -1, NULL);
	}
	/* generous: a yescrypt check per login on a busy machine */
	behind = loop(ep, cs, nc, I_IDLING, 60 + nc * 0.5, -1, NULL);
	if (behind)
		die("%d of %d sessions did not reach IDLE in %.0f s", behind, nc, 60 + nc * 0.5);
	printf("ready %d\n", nc);
	fflush(stdout);
	if (fgets(buf, sizeof(buf), stdin) == NULL)
		die("no go");

	if (pipe(p) < 0 || (kid = fork()) < 0)
		die("fork");
	if (kid == 0) {
		close(p[0]);
		deliver(smtp_port, lmtp, p[1]);
	}
	close(p[1]);
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e);
	/* 30 s: Dovecot's own fallback poll (mailbox_idle_check_interval) */
	behind = loop(ep, cs, nc, I_DONE, 30, p[0], &t250);
	waitpid(kid, NULL, 0);
	if (t250 == 0)
		die("no 250 for the delivery");

	/* the percentiles are of all C sessions: a missing one counts as inf */
	lat = calloc((size_t)nc, sizeof(*lat));
	for (int i = 0; i < nc; i++)
		lat[i] = 1.0 / 0.0;
	for (int i = 0; i < nc; i++) {
		if (cs[i].st != I_DONE)
			continue;
		lat[ok] = (cs[i].t_exists - t250) * 1e3;
		if (lat[ok] < 0) {
			lat[ok] = 0;
			early++;
		}
		ok++;
	}
	for (int i = 0; i < nc; i++)	/* a clean TLS close: no "read error" logged */
		if (cs[i].ssl)
			SSL_shutdown(cs[i].ssl);
	qsort(lat, (size_t)nc, sizeof(*lat), cmp_double);
	printf("RESULT ok=%d missing=%d early=%d retries=%d p50=%.1f p99=%.1f max=%.1f\n",
	    ok, nc - ok, early, retries, lat[(nc - 1) / 2], lat[(int)((nc - 1) * 0.99)], lat[nc - 1]);
	return 0;
}

/* ---- fill: the test mailbox ---- */

static unsigned long rng;

static unsigned
rnd(unsigned n)
{
	rng = rng * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((rng >> 33) % n);
}

static const char *words[] = {
	"the", "meeting", "budget", "client", "office", "please", "review", "draft",
	"attached", "schedule", "invoice", "project", "update", "team", "call",
	"tomorrow", "contract", "printer", "lunch", "thanks", "regards", "week",
	"report", "numbers", "server", "order", "delivery", "question", "answer",
};
static const char *topics[] = {
	"Quarterly report", "Re: lunch on Friday", "Invoice for October", "Meeting notes",
	"Fwd: contract draft", "Printer on the 2nd floor", "Holiday schedule",
	"Re: Re: client visit", "Order confirmation", "Team update", "Budget review",
	"New starter next week", "Server maintenance", "Re: question about the offer",
	"Training session", "Parking spaces",
};
static const char *names[] = {
	"Anna Berger", "Jonas Keller", "Marie Dubois", "Tom O'Neill", "Sara Lindqvist",
	"Paolo Rossi", "Eva Novak", "Chris Miller",
};

static void
text(FILE *f, int bytes, int token)
{
	int col = 0, w = 0;

	while (bytes > 0) {
		const char *s = token && w == 17 ? "xylophone" : words[rnd(sizeof(words) / sizeof(*words))];
		int n = (int)strlen(s) + 1;
		fprintf(f, "%s%s", s, col + n > 72 ? "\n" : " ");
		col = col + n > 72 ? 0 : col + n;
		bytes -= n;
		if (++w % 60 == 0)
			fputs(".\n\n", f), col = 0;
	}
	fputs("\n", f);
}

static void
message(FILE *f, int i, time_t date)
{
	const char *from = names[rnd(8)];
	int kind = i % 10, size = 1500 + (int)rnd(4000), token = i % 100 == 42;
	char d[64], login[32];

	strftime(d, sizeof(d), "%a, %d %b %Y %H:%M:%S +0000", gmtime(&date));
	snprintf(login, sizeof(login), "%c%s", from[0] | 0x20, strchr(from, ' ') + 1);
	for (char *p = login; *p; p++)
		*p = *p == '\'' ? 'o' : (char)(*p | 0x20);
	fprintf(f, "Return-Path: <%s@example.org>\nDelivered-To: u@bench.test\n"
	    "Received: from mx.example.org (mx.example.org [192.0.2.7])\n"
	    "\tby mail.bench.test (onebox) with ESMTPS id %016x\n\tfor <u@bench.test>; %s\n"
	    "Received: from [10.0.0.%d] by mx.example.org; %s\n"
	    "From: %s <%s@example.org>\nTo: Office <u@bench.test>\n"
	    "Subject: %s #%d\nDate: %s\nMessage-ID: <%d.%u@example.org>\nMIME-Version: 1.0\n",
	    login, (unsigned)rng, d, 2 + i % 200, d, from, login, topics[i % 16], i, d, i, rnd(1u << 30));
	if (kind < 7) {
		fputs("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n", f);
		text(f, size, token);
		return;
	}
	fprintf(f, "Content-Type: multipart/%s; boundary=\"b%d\"\n\nThis is a multi-part message in MIME format.\n\n"
	    "--b%d\nContent-Type: text/plain; charset=utf-8\n\n", kind < 9 ? "alternative" : "mixed", i, i);
	text(f, size / 2, token);
	if (kind < 9) {
		fprintf(f, "--b%d\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>\n", i);
		text(f, size / 2, 0);
		fputs("</p></body></html>\n", f);
	} else {
		int n = 3000 + (int)rnd(9000);
		fprintf(f, "--b%d\nContent-Type: application/pdf; name=\"scan%d.pdf\"\n"
		    "Content-Disposition: attachment; filename=\"scan%d.pdf\"\n"
		    "Content-Transfer-Encoding: base64\n\n", i, i, i);
		for (int k = 0; k < n; k++) {
			fputc("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[rnd(64)], f);
			if (k % 76 == 75)
				fputc('\n', f);
		}
		fputc('\n', f);
	}
	fprintf(f, "--b%d--\n", i);
}

static int
run_fill(const char *dir, int n, unsigned long seed)
{
	char tmp[4096], path[4096];
	time_t base = time(NULL) - 86400L * 365;

	rng = seed;
	for (const char *sub = "tmp\0new\0cur\0"; *sub; sub += 4) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub);
		mkdir(dir, 0700);
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			die("mkdir %s: %s", path, strerror(errno));
	}
	snprintf(tmp, sizeof(tmp), "%s/tmp/fill", dir);
	for (int i = 0; i < n; i++) {
		FILE *f = fopen(tmp, "w+");
		struct stat st;
		long lines = 0;
		int ch;
		if (f == NULL)
			die("%s: %s", tmp, strerror(errno));
		message(f, i, base + (time_t)i * (86400L * 365 / (n + 1)));
		fflush(f);
		rewind(f);
		while ((ch = getc(f)) != EOF)
			lines += ch == '\n';
		fstat(fileno(f), &st);
		fclose(f);
		snprintf(path, sizeof(path), "%s/new/%ld.M%06dP1Q%d.bench,S=%lld,W=%lld", dir,
		    (long)base + i, i % 1000000, i, (long long)st.st_size, (long long)st.st_size + lines);
		if (rename(tmp, path) < 0)
			die("rename: %s", strerror(errno));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int tls = 0;

	signal(SIGPIPE, SIG_IGN);
	if (argc >= 5 && strcmp(argv[1], "fill") == 0)
		return run_fill(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 10));
	if (argc >= 3 && strcmp(argv[1], "idle") == 0 && strcmp(argv[2], "-t") == 0) {
		tls = 1;
		memmove(&argv[2], &argv[3], (size_t)(argc - 2) * sizeof(*argv));
		argc--;
	}
	if (argc < 7)
		die("usage: imap-load fill DIR N SEED | select HOST PORT USER PASS K |"
		    " cmd HOST PORT USER PASS K COMMAND | idle [-t] HOST PORT USER PASS C SMTPPORT [lmtp]");
	host = argv[2];
	port = atoi(argv[3]);
	user = argv[4];
	pass = argv[5];
	if (strcmp(argv[1], "select") == 0)
		return run_select(atoi(argv[6]));
	if (strcmp(argv[1], "cmd") == 0 && argc >= 8)
		return run_cmd(atoi(argv[6]), argv[7]);
	if (strcmp(argv[1], "idle") == 0 && argc >= 8)
		return run_idle(atoi(argv[6]), tls, atoi(argv[7]), argc > 8 && strcmp(argv[8], "lmtp") == 0);
	die("unknown mode %s", argv[1]);
	return 2;
}
