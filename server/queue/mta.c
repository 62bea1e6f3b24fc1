/*
 * mta - delivery to one domain's mail servers (see mta.h for the outcomes).
 *
 * The walk: MX answer -> host list (preference order, equal preferences
 * shuffled, or the domain itself when it has no MX) -> for each host its
 * AAAA and A answers -> for each address a connection and, if it greets
 * us, a session.  A session that fails before any recipient was answered
 * (no connection, a refusing greeting, EHLO/HELO or MAIL refused
 * temporarily, a timeout, a lost connection) moves on to the next
 * address; the last temporary error is what a deferred recipient is told.
 * Once recipients have answers the session decides for them.
 *
 * Pipelining (RFC 2920): MAIL, every RCPT and DATA leave in one write and
 * their replies are read in order; without it, one command per reply.
 */
#include "mta.h"
#include "buf.h"
#include "dotstuff.h"
#include "io.h"
#include "log.h"
#include "net.h"
#include "smtp-reply.h"
#include "str.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS	(30 * 1000)
/* RFC 5321 §4.5.3.2 */
#define GREETING_TIMEOUT_MS	(5 * 60 * 1000)
#define COMMAND_TIMEOUT_MS	(5 * 60 * 1000)
#define DATA_INIT_TIMEOUT_MS	(2 * 60 * 1000)
#define DATA_BLOCK_TIMEOUT_MS	(3 * 60 * 1000)
#define FINAL_DOT_TIMEOUT_MS	(10 * 60 * 1000)
#define BODY_CHUNK		65536
#define REPLY_LINE_MAX		4096

enum mta_state {
	MTA_S_DNS,		/* waiting for an MX or address answer */
	MTA_S_CONNECT,		/* non-blocking connect in progress */
	MTA_S_BANNER,
	MTA_S_EHLO,
	MTA_S_HELO,
	MTA_S_STARTTLS,
	MTA_S_TLS,		/* client handshake */
	MTA_S_MAIL,
	MTA_S_RCPT,
	MTA_S_DATA,
	MTA_S_BODY,		/* streaming the message */
	MTA_S_DOT,		/* waiting for the reply to the final dot */
	MTA_S_QUIT,		/* QUIT sent, closing */
};

struct mta_host {
	unsigned pref;
	char name[DNS_NAME_MAX];
};

struct mta {
	struct mta_ctx ctx;
	struct envelope *env;
	int msg_fd;
	char domain[DNS_NAME_MAX];
	size_t *idx, n;
	mta_done_cb *done;
	void *arg;
	enum mta_state state;
	int implicit;			/* no MX: the domain itself */
	struct mta_host *hosts;
	size_t nhosts, host;
	struct sockaddr_storage *addrs;
	size_t naddrs, addr;		/* addr: the next one to try */
	size_t cur;			/* the one connected to */
	size_t plain;			/* cur + 1 when TLS is skipped there */
	int answers;			/* address answers in for the current host */
	int any_address;		/* some host had an address */
	int reached;			/* some server greeted us */
	int unreachable;		/* a connect or a DNS lookup failed */
	int dns_failed;			/* an address lookup failed */
	int fd;				/* connecting socket */
	struct ev_timer timer;
	struct io *io;
	char peer[DNS_NAME_MAX + 80];	/* "host[address]" */
	struct smtp_reply reply;
	unsigned ext;
	uint64_t max_size;
	int tls_up;
	size_t rcpt_sent, rcpt_replied, accepted;
	int *rcpt_ok;			/* per recipient: 250 to RCPT here */
	struct dot_stuff stuff;
	off_t msg_off;
	char last[600];			/* the latest temporary failure */
	int after_quit_next;		/* QUIT's close: 1 try the next address, 0 finish */
};

static void mta_next_address(struct mta *m);
static void mta_next_host(struct mta *m);
static void mta_finish(struct mta *m);

static void
set_last(struct mta *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->last, sizeof(m->last), fmt, ap);
	va_end(ap);
}

static struct envelope_rcpt *
rcpt(struct mta *m, size_t i)
{
	return &m->env->rcpts[m->idx[i]];
}

/* decide - the fate of recipient i, logged with the queue id. */
static void
decide(struct mta *m, size_t i, enum rcpt_status st, const char *reply)
{
	struct envelope_rcpt *r = rcpt(m, i);

	if (r->status != RCPT_PENDING)
		return;
	envelope_set_status(r, st, reply);
	log_info("queued id=%s to=<%s> relay=%s status=%s reply=\"%s\"", m->env->qid, r->final,
	    m->peer[0] ? m->peer : "none", st == RCPT_DELIVERED ? "sent" : rcpt_status_name(st), reply);
}

/* decide_all - every recipient still undecided. */
static void
decide_all(struct mta *m, enum rcpt_status st, const char *reply)
{
	for (size_t i = 0; i < m->n; i++)
		decide(m, i, st, reply);
}

static void
reply_text(struct mta *m, char *out, size_t outsz)
{
	smtp_reply_line1(&m->reply, out, outsz);
}

/* ---- the SMTP session ---- */

static void
mta_cmd(struct mta *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
mta_cmd(struct mta *m, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	log_debug("queued id=%s %s send \"%s\"", m->env->qid, m->peer, b.data);
	buf_add(&b, "\r\n", 2);
	io_write(m->io, b.data, b.len);
	buf_free(&b);
}

/* session_close - QUIT (unless the peer is gone), then the next address
 * (next = 1) or the end (next = 0) once the connection is closed. */
static void
session_close(struct mta *m, int next)
{
	m->after_quit_next = next;
	m->state = MTA_S_QUIT;
	mta_cmd(m, "QUIT");
	io_flush_close(m->io);
}

/* session_failed - this address did not work out (before the recipients
 * had answers): remember why, try the next one. */
static void
session_failed(struct mta *m, const char *why)
{
	set_last(m, "451 4.4.0 %s: %s", m->peer, why);
	log_info("queued id=%s domain=%s relay=%s failed: %s", m->env->qid, m->domain, m->peer, why);
	session_close(m, 1);
}

static void
send_mail(struct mta *m)
{
	struct buf b = BUF_INIT;
	uint64_t size = m->env->size + m->env->lines;

	if (m->env->smtputf8 && !(m->ext & SMTP_EXT_SMTPUTF8)) {
		decide_all(m, RCPT_FAILED, "553 5.6.7 The message needs SMTPUTF8, which the receiving server does not "
		    "support; it is not downgraded (RFC 6531)");
		session_close(m, 0);
		return;
	}
	if (m->max_size && size > m->max_size) {
		decide_all(m, RCPT_FAILED, "552 5.3.4 Message too big for the receiving server");
		session_close(m, 0);
		return;
	}
	buf_printf(&b, "MAIL FROM:<%s>", m->env->sender);
	if (m->ext & SMTP_EXT_SIZE)
		buf_printf(&b, " SIZE=%llu", (unsigned long long)size);
	if (m->env->body8 && (m->ext & SMTP_EXT_8BITMIME))
		buf_adds(&b, " BODY=8BITMIME");
	if (m->env->smtputf8)
		buf_adds(&b, " SMTPUTF8");
	mta_cmd(m, "%s", b.data);
	buf_free(&b);
	m->state = MTA_S_MAIL;
	m->rcpt_sent = m->rcpt_replied = m->accepted = 0;
	memset(m->rcpt_ok, 0, m->n * sizeof(*m->rcpt_ok));
	io_set_timeout(m->io, COMMAND_TIMEOUT_MS);
	if (m->ext & SMTP_EXT_PIPELINING) {
		while (m->rcpt_sent < m->n)
			mta_cmd(m, "RCPT TO:<%s>", rcpt(m, m->rcpt_sent++)->final);
		mta_cmd(m, "DATA");
	}
}

static void
send_body_chunk(struct mta *m)
{
	char tmp[BODY_CHUNK];
	struct buf b = BUF_INIT;
	ssize_t n = pread(m->msg_fd, tmp, sizeof(tmp), m->msg_off);

	if (n < 0) {
		log_warn("queued id=%s read of the message file", m->env->qid);
		decide_all(m, RCPT_DEFERRED, "451 4.3.0 Local error reading the queued message");
		io_free(&m->io);
		mta_finish(m);
		return;
	}
	m->msg_off += n;
	if (n > 0)
		dot_stuff_feed(&m->stuff, tmp, (size_t)n, &b);
	else {
		dot_stuff_end(&m->stuff, &b);
		m->state = MTA_S_DOT;
		io_set_timeout(m->io, FINAL_DOT_TIMEOUT_MS);
	}
	io_write(m->io, b.data, b.len);
	buf_free(&b);
}

static void
start_body(struct mta *m)
{
	m->state = MTA_S_BODY;
	m->msg_off = 0;
	dot_stuff_init(&m->stuff, UINT64_MAX);
	io_set_timeout(m->io, DATA_BLOCK_TIMEOUT_MS);
	send_body_chunk(m);
}

/* accepted_get - the recipients that were accepted get the reply's fate. */
static void
accepted_get(struct mta *m, enum rcpt_status st)
{
	char text[600];

	reply_text(m, text, sizeof(text));
	for (size_t i = 0; i < m->n; i++)
		if (m->rcpt_ok[i])
			decide(m, i, st, text);
}

static enum rcpt_status
fate(int code)
{
	return code / 100 == 2 ? RCPT_DELIVERED : code / 100 == 5 ? RCPT_FAILED : RCPT_DEFERRED;
}

static void
on_rcpt_reply(struct mta *m)
{
	size_t i = m->rcpt_replied++;
	char text[600];

	if (m->reply.code / 100 == 2) {
		m->rcpt_ok[i] = 1;
		m->accepted++;
	}
	else {
		reply_text(m, text, sizeof(text));
		decide(m, i, fate(m->reply.code), text);
	}
	if (m->rcpt_replied < m->n) {
		if (!(m->ext & SMTP_EXT_PIPELINING))
			mta_cmd(m, "RCPT TO:<%s>", rcpt(m, m->rcpt_sent++)->final);
		return;
	}
	m->state = MTA_S_DATA;
	io_set_timeout(m->io, DATA_INIT_TIMEOUT_MS);
	if (m->ext & SMTP_EXT_PIPELINING)
		return;		/* DATA went with the recipients */
	if (m->accepted == 0)
		session_close(m, 0);
	else
		mta_cmd(m, "DATA");
}

static void
on_ehlo_reply(struct mta *m)
{
	if (m->reply.code / 100 != 2) {
		if (m->state == MTA_S_HELO) {
			session_failed(m, "HELO refused");
			return;
		}
		m->state = MTA_S_HELO;
		m->ext = 0;
		mta_cmd(m, "HELO %s", m->ctx.helo);
		return;
	}
	if (m->state == MTA_S_EHLO)
		m->ext = smtp_reply_ehlo(&m->reply, &m->max_size);
	if ((m->ext & SMTP_EXT_STARTTLS) && m->ctx.tls && !m->tls_up && m->plain != m->cur + 1) {
		m->state = MTA_S_STARTTLS;
		mta_cmd(m, "STARTTLS");
		return;
	}
	send_mail(m);
}

static void
on_reply(struct mta *m)
{
	int c = m->reply.code;
	char text[600];

	switch (m->state) {
	case MTA_S_BANNER:
		m->reached = 1;
		if (c / 100 != 2) {
			reply_text(m, text, sizeof(text));
			session_failed(m, text);
			return;
		}
		m->state = MTA_S_EHLO;
		mta_cmd(m, "EHLO %s", m->ctx.helo);
		return;
	case MTA_S_EHLO:
	case MTA_S_HELO:
		on_ehlo_reply(m);
		return;
	case MTA_S_STARTTLS:
		if (c != 220) {
			send_mail(m);	/* refused: go on in plaintext (opportunistic) */
			return;
		}
		m->state = MTA_S_TLS;
		if (io_starttls_client(m->io, m->ctx.tls, m->peer) < 0)
			session_failed(m, "TLS setup failed");
		return;
	case MTA_S_MAIL:
		if (c / 100 == 2) {
			m->state = MTA_S_RCPT;
			if (!(m->ext & SMTP_EXT_PIPELINING))
				mta_cmd(m, "RCPT TO:<%s>", rcpt(m, m->rcpt_sent++)->final);
			return;
		}
		reply_text(m, text, sizeof(text));
		if (c / 100 == 5) {
			decide_all(m, RCPT_FAILED, text);
			session_close(m, 0);
		}
		else
			session_failed(m, text);
		return;
	case MTA_S_RCPT:
		on_rcpt_reply(m);
		return;
	case MTA_S_DATA:
		if (m->accepted == 0) {
			session_close(m, 0);	/* pipelined DATA after no recipient */
			return;
		}
		if (c == 354) {
			start_body(m);
			return;
		}
		accepted_get(m, fate(c) == RCPT_DELIVERED ? RCPT_DEFERRED : fate(c));
		session_close(m, 0);
		return;
	case MTA_S_DOT:
		accepted_get(m, fate(c));
		session_close(m, 0);
		return;
	default:
		return;		/* MTA_S_BODY (an early reply) or MTA_S_QUIT: ignored */
	}
}

/* on_lost - the connection broke or timed out (io already freed). */
static void
on_lost(struct mta *m, const char *why)
{
	if (m->state == MTA_S_QUIT) {
		if (m->after_quit_next)
			mta_next_address(m);
		else
			mta_finish(m);
		return;
	}
	if (m->state == MTA_S_TLS && m->plain != m->cur + 1) {
		/* opportunistic TLS: the same address once more, in plaintext */
		log_info("queued id=%s relay=%s TLS handshake failed; retrying without TLS", m->env->qid, m->peer);
		m->plain = m->cur + 1;
		m->addr = m->cur;
		mta_next_address(m);
		return;
	}
	set_last(m, "451 4.4.2 %s: %s", m->peer, why);
	log_info("queued id=%s domain=%s relay=%s %s", m->env->qid, m->domain, m->peer, why);
	if (m->state == MTA_S_DOT || m->state == MTA_S_BODY) {
		/* the message may have arrived: no other server now */
		for (size_t i = 0; i < m->n; i++)
			if (m->rcpt_ok[i])
				decide(m, i, RCPT_DEFERRED, m->last);
	}
	mta_next_address(m);
}

static void
mta_io(struct io *io, enum io_event ev, void *arg)
{
	struct mta *m = arg;
	char *line;
	size_t len;
	int rc;

	switch (ev) {
	case IO_DATAIN:
		while ((rc = io_getline(io, REPLY_LINE_MAX, &line, &len)) != 0) {
			int done = rc < 0 ? -1 : smtp_reply_feed(&m->reply, line, len);
			if (rc > 0)
				io_line_done(io);
			if (done < 0) {
				io_free(&m->io);
				on_lost(m, "not an SMTP reply");
				return;
			}
			if (done == 1) {
				on_reply(m);
				smtp_reply_reset(&m->reply);
				if (m->io != io || m->state == MTA_S_QUIT || m->state == MTA_S_TLS)
					return;
			}
		}
		return;
	case IO_LOWAT:
		if (m->state == MTA_S_BODY)
			send_body_chunk(m);
		return;
	case IO_TLSREADY:
		m->tls_up = 1;
		m->state = MTA_S_EHLO;
		mta_cmd(m, "EHLO %s", m->ctx.helo);
		return;
	case IO_TIMEOUT:
		io_free(&m->io);
		on_lost(m, "timeout");
		return;
	case IO_CLOSED: {
		const char *why = io->error ? io->error : "connection closed";
		io_free(&m->io);
		on_lost(m, why);
		return;
	}
	}
}

/* ---- connecting ---- */

static void
connected(int fd, int events, void *arg)
{
	struct mta *m = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	ev_timer_del(m->ctx.loop, &m->timer);
	ev_io_del(m->ctx.loop, fd);
	m->fd = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
		close(fd);
		set_last(m, "451 4.4.1 %s: connect: %s", m->peer, strerror(err ? err : errno));
		m->unreachable = 1;
		log_info("queued id=%s domain=%s relay=%s connect failed: %s", m->env->qid, m->domain, m->peer,
		    strerror(err ? err : errno));
		mta_next_address(m);
		return;
	}
	m->io = io_new(m->ctx.loop, fd, mta_io, m);
	m->state = MTA_S_BANNER;
	m->tls_up = 0;
	smtp_reply_reset(&m->reply);
	io_set_timeout(m->io, GREETING_TIMEOUT_MS);
}

static void
connect_timeout(void *arg)
{
	struct mta *m = arg;

	ev_io_del(m->ctx.loop, m->fd);
	close(m->fd);
	m->fd = -1;
	set_last(m, "451 4.4.1 %s: connection timed out", m->peer);
	m->unreachable = 1;
	log_info("queued id=%s domain=%s relay=%s connection timed out", m->env->qid, m->domain, m->peer);
	mta_next_address(m);
}

/* try_connect - start connecting to address addr of the current host. */
static int
try_connect(struct mta *m)
{
	struct sockaddr_storage sa = m->addrs[m->cur];
	socklen_t len = sa.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	char ip[64];
	int fd;

	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)m->ctx.port);
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)m->ctx.port);
	net_addr_str((struct sockaddr *)&sa, ip, sizeof(ip), NULL);
	snprintf(m->peer, sizeof(m->peer), "%s[%s]", m->hosts[m->host].name, ip);
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, (struct sockaddr *)&sa, len) < 0 && errno != EINPROGRESS)) {
		set_last(m, "451 4.4.1 %s: connect: %s", m->peer, strerror(errno));
		m->unreachable = 1;
		log_info("queued id=%s domain=%s relay=%s connect failed: %s", m->env->qid, m->domain, m->peer,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	m->fd = fd;
	m->state = MTA_S_CONNECT;
	ev_io_set(m->ctx.loop, fd, EV_WRITE, connected, m);
	ev_timer_add(m->ctx.loop, &m->timer, CONNECT_TIMEOUT_MS);
	return 0;
}

static int
undecided(const struct mta *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->env->rcpts[m->idx[i]].status == RCPT_PENDING)
			return 1;
	return 0;
}

static void
mta_next_address(struct mta *m)
{
	if (!undecided(m)) {
		mta_finish(m);
		return;
	}
	while (m->addr < m->naddrs) {
		m->cur = m->addr++;
		if (try_connect(m) == 0)
			return;
	}
	m->host++;
	mta_next_host(m);
}

/* ---- DNS ---- */

static void
addr_answer(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n)
{
	struct mta *m = arg;

	if (st == DNS_TEMPFAIL) {
		set_last(m, "451 4.4.3 %s: address lookup failed", m->hosts[m->host].name);
		m->dns_failed = m->unreachable = 1;
	}
	if (n) {
		m->addrs = xrealloc(m->addrs, (m->naddrs + n) * sizeof(*m->addrs));
		memcpy(m->addrs + m->naddrs, addrs, n * sizeof(*addrs));
		m->naddrs += n;
	}
	m->any_address |= n > 0;
	if (++m->answers < 2)
		return;
	if (m->naddrs == 0) {
		log_info("queued id=%s domain=%s host=%s has no address", m->env->qid, m->domain, m->hosts[m->host].name);
		if (m->last[0] == '\0')
			set_last(m, "451 4.4.3 %s: no address", m->hosts[m->host].name);
		m->host++;
		mta_next_host(m);
		return;
	}
	mta_next_address(m);
}

static void
mta_next_host(struct mta *m)
{
	m->naddrs = m->addr = m->cur = m->plain = 0;
	m->answers = 0;
	m->peer[0] = '\0';
	if (m->host >= m->nhosts) {
		/* a domain without MX whose name has no address has no mail server */
		if (m->implicit && !m->any_address && !m->dns_failed)
			decide_all(m, RCPT_FAILED, "550 5.1.2 The domain has no mail server (no MX, no address)");
		decide_all(m, RCPT_DEFERRED, m->last[0] ? m->last : "451 4.4.0 No server could be reached");
		mta_finish(m);
		return;
	}
	m->state = MTA_S_DNS;
	if (dns_addr(m->ctx.dns, m->hosts[m->host].name, AF_INET6, addr_answer, m) < 0)
		addr_answer(m, DNS_TEMPFAIL, NULL, 0);
	if (dns_addr(m->ctx.dns, m->hosts[m->host].name, AF_INET, addr_answer, m) < 0)
		addr_answer(m, DNS_TEMPFAIL, NULL, 0);
}

static int
pref_cmp(const void *a, const void *b)
{
	const struct mta_host *x = a, *y = b;
	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

/* order_hosts - by preference, each run of equal preferences shuffled
 * (RFC 5321 §5.1: spread the load over equal MX hosts). */
static void
order_hosts(struct mta_host *h, size_t n)
{
	for (size_t i = n; i > 1; i--) {	/* shuffle all (Fisher-Yates) */
		size_t j = arc4random_uniform((uint32_t)i);
		struct mta_host t = h[i - 1];
		h[i - 1] = h[j];
		h[j] = t;
	}
	/* insertion sort: stable, so the shuffled order within a preference stays */
	for (size_t i = 1; i < n; i++) {
		struct mta_host t = h[i];
		size_t j = i;
		while (j > 0 && pref_cmp(&h[j - 1], &t) > 0) {
			h[j] = h[j - 1];
			j--;
		}
		h[j] = t;
	}
}

static void
mx_answer(void *arg, enum dns_status st, const struct dns_mx *mx, size_t n)
{
	struct mta *m = arg;
	char text[DNS_NAME_MAX + 128];

	switch (st) {
	case DNS_TEMPFAIL:
		snprintf(text, sizeof(text), "451 4.4.3 DNS lookup of the MX of %s failed; will retry", m->domain);
		m->unreachable = 1;
		decide_all(m, RCPT_DEFERRED, text);
		mta_finish(m);
		return;
	case DNS_NXDOMAIN:
		snprintf(text, sizeof(text), "550 5.1.2 Domain %s does not exist", m->domain);
		decide_all(m, RCPT_FAILED, text);
		mta_finish(m);
		return;
	case DNS_NODATA:
		m->implicit = 1;
		m->hosts = xcalloc(1, sizeof(*m->hosts));
		str_lcpy(m->hosts[0].name, m->domain, sizeof(m->hosts[0].name));
		m->nhosts = 1;
		break;
	case DNS_OK:
		for (size_t i = 0; i < n; i++)
			if (mx[i].host[0] == '\0') {
				snprintf(text, sizeof(text), "556 5.1.10 Domain %s accepts no mail (null MX, RFC 7505)",
				    m->domain);
				decide_all(m, RCPT_FAILED, text);
				mta_finish(m);
				return;
			}
		m->hosts = xcalloc(n, sizeof(*m->hosts));
		for (size_t i = 0; i < n; i++) {
			m->hosts[i].pref = mx[i].pref;
			str_lcpy(m->hosts[i].name, mx[i].host, sizeof(m->hosts[i].name));
		}
		m->nhosts = n;
		order_hosts(m->hosts, n);
		break;
	}
	m->host = 0;
	mta_next_host(m);
}

/* ---- life cycle ---- */

static void
finish_cb(void *arg)
{
	struct mta *m = arg;
	m->done(m, m->arg);
}

/* mta_finish - report from a fresh loop turn: the caller may free m,
 * and the callers of mta_finish still hold it on the stack. */
static void
mta_finish(struct mta *m)
{
	ev_timer_del(m->ctx.loop, &m->timer);
	ev_timer_init(&m->timer, finish_cb, m);
	ev_timer_add(m->ctx.loop, &m->timer, 0);
}

struct mta *
mta_deliver(const struct mta_ctx *ctx, struct envelope *env, int msg_fd, const char *domain,
    const size_t *idx, size_t n, mta_done_cb *done, void *arg)
{
	struct mta *m = xcalloc(1, sizeof(*m));

	m->ctx = *ctx;
	m->env = env;
	m->msg_fd = msg_fd;
	str_lcpy(m->domain, domain, sizeof(m->domain));
	m->idx = xcalloc(n, sizeof(*m->idx));
	memcpy(m->idx, idx, n * sizeof(*idx));
	m->n = n;
	m->rcpt_ok = xcalloc(n, sizeof(*m->rcpt_ok));
	m->done = done;
	m->arg = arg;
	m->fd = -1;
	smtp_reply_init(&m->reply);
	ev_timer_init(&m->timer, connect_timeout, m);
	m->state = MTA_S_DNS;
	if (dns_mx(ctx->dns, domain, mx_answer, m) < 0)
		mx_answer(m, DNS_TEMPFAIL, NULL, 0);
	return m;
}

int
mta_reached(const struct mta *m)
{
	return m->reached;
}

int
mta_unreachable(const struct mta *m)
{
	return !m->reached && m->unreachable;
}

void
mta_free(struct mta **mp)
{
	struct mta *m = *mp;

	if (m == NULL)
		return;
	*mp = NULL;
	ev_timer_del(m->ctx.loop, &m->timer);
	if (m->fd >= 0) {
		ev_io_del(m->ctx.loop, m->fd);
		close(m->fd);
	}
	io_free(&m->io);
	smtp_reply_free(&m->reply);
	free(m->hosts);
	free(m->addrs);
	free(m->idx);
	free(m->rcpt_ok);
	free(m);
}
