/*
 * bounce - RFC 3464 delivery status notifications (see bounce.h).
 *
 * Layout (RFC 3462 multipart/report): a human part naming each failed
 * recipient with the reason, the machine part (message/delivery-status:
 * Reporting-MTA, then per recipient Final-Recipient, Action, Status,
 * Diagnostic-Code when a server said it), and the original headers
 * (text/rfc822-headers) so the sender can tell which message it was
 * without the body coming back.
 */
#include "bounce.h"
#include "buf.h"
#include "queued.h"
#include "handoff.h"
#include "log.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HEADERS_MAX (64 * 1024)

struct bounce {
	struct envelope env;
	bounce_done_cb *done;
	void *arg;
};

static void
rfc5322_date(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, outsz, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* status_of - the RFC 3463 code for a failure's reply. */
static void
status_of(const char *reply, char *out, size_t outsz)
{
	const char *p = reply ? strchr(reply, ' ') : NULL;
	size_t n;

	if (reply && strncmp(reply, "Delivery time expired", 21) == 0) {
		str_lcpy(out, "4.4.7", outsz);
		return;
	}
	if (p && (p[1] == '5' || p[1] == '4') && p[2] == '.' && (n = strspn(p + 1, "0123456789.")) >= 5 &&
	    n < outsz) {
		memcpy(out, p + 1, n);
		out[n] = '\0';
		return;
	}
	str_lcpy(out, "5.0.0", outsz);
}

/* original_headers - the message's header block (up to the empty line). */
static void
original_headers(int fd, struct buf *out)
{
	char tmp[8192];
	size_t start = out->len;
	off_t off = 0;
	ssize_t n;

	while (out->len - start < HEADERS_MAX && (n = pread(fd, tmp, sizeof(tmp), off)) > 0) {
		buf_add(out, tmp, (size_t)n);
		off += n;
		char *end = strstr(out->data + start, "\n\n");
		if (end) {
			out->len = (size_t)(end - out->data) + 1;
			out->data[out->len] = '\0';
			return;
		}
	}
	if (out->len - start > HEADERS_MAX) {
		out->len = start + HEADERS_MAX;
		out->data[out->len] = '\0';
	}
	if (out->len > start && out->data[out->len - 1] != '\n')
		buf_addc(out, '\n');
}

static void
dsn_text(const struct queued *q, const struct envelope *orig, const int *skip, int msg_fd,
    const char *boundary, struct buf *b)
{
	const char *host = q->svc.conf->hostname;
	char date[64], status[16];

	rfc5322_date(time(NULL), date, sizeof(date));
	buf_printf(b, "From: Mail Delivery System <MAILER-DAEMON@%s>\nTo: <%s>\n"
	    "Subject: Undelivered Mail Returned to Sender\nDate: %s\nMessage-ID: <%s.bounce@%s>\n"
	    "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"%s\"\n\n"
	    "This is a MIME-encapsulated message.\n\n--%s\nContent-Type: text/plain; charset=utf-8\n\n"
	    "This is the mail system at %s.\n\nYour message (queue id %s) could not be delivered to "
	    "the recipients below.\n\n", host, orig->sender, date, orig->qid, host, boundary, boundary, host, orig->qid);
	for (size_t i = 0; i < orig->nrcpts; i++)
		if (orig->rcpts[i].status == RCPT_FAILED && !skip[i])
			buf_printf(b, "<%s>: %s\n", orig->rcpts[i].final, orig->rcpts[i].reply ? orig->rcpts[i].reply : "failed");
	buf_printf(b, "\n--%s\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; %s\n"
	    "X-Onebox-Queue-ID: %s\n", boundary, host, orig->qid);
	for (size_t i = 0; i < orig->nrcpts; i++) {
		const struct envelope_rcpt *r = &orig->rcpts[i];
		if (r->status != RCPT_FAILED || skip[i])
			continue;
		status_of(r->reply, status, sizeof(status));
		buf_printf(b, "\nFinal-Recipient: rfc822; %s\n", r->final);
		if (strcmp(r->orcpt, r->final) != 0)
			buf_printf(b, "Original-Recipient: rfc822; %s\n", r->orcpt);
		buf_printf(b, "Action: failed\nStatus: %s\n", status);
		if (r->reply && r->reply[0] >= '2' && r->reply[0] <= '5' && r->reply[3] == ' ')
			buf_printf(b, "Diagnostic-Code: smtp; %s\n", r->reply);
	}
	buf_printf(b, "\n--%s\nContent-Type: text/rfc822-headers\n\n", boundary);
	original_headers(msg_fd, b);
	buf_printf(b, "\n--%s--\n", boundary);
}

static void
handed_off(struct envelope *env, int ok, void *arg)
{
	struct bounce *bn = arg;

	for (size_t i = 0; i < env->nrcpts; i++)
		log_info("queued id=%s bounce to=<%s> route=%s status=%s", env->qid, env->rcpts[i].final,
		    route_kind_name(env->rcpts[i].route.kind),
		    env->rcpts[i].status == RCPT_DELIVERED ? "queued" : rcpt_status_name(env->rcpts[i].status));
	bn->done(ok, bn->arg);
	envelope_free(&bn->env);
	free(bn);
}

/* add_targets - the bounce's recipient, resolved; 0, or -1 (nowhere to
 * go: logged). */
static int
add_targets(struct queued *q, struct envelope *env, const char *to)
{
	struct db_targets t = { NULL, 0 };
	struct route remote = { ROUTE_REMOTE, 0 };

	switch (db_resolve(q->svc.db, to, &t)) {
	case DB_RESOLVE_OK:
		for (size_t i = 0; i < t.n; i++)
			envelope_add_rcpt(env, to, t.v[i].address, &t.v[i].route);
		db_targets_free(&t);
		return 0;
	case DB_RESOLVE_NOTLOCAL:
		envelope_add_rcpt(env, to, to, &remote);
		return 0;
	default:
		log_warnx("queued bounce for id=%s: the sender <%s> is not a deliverable local address; "
		    "the bounce is dropped", env->qid, to);
		return -1;
	}
}

static int
write_spool(int fd, const struct buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t w = write(fd, b->data + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

int
bounce_send(struct queued *q, const struct envelope *orig, const int *skip, int msg_fd,
    bounce_done_cb *done, void *arg)
{
	struct bounce *bn = xcalloc(1, sizeof(*bn));
	char qid[ENVELOPE_QID_MAX], boundary[64];
	struct buf b = BUF_INIT;
	int fd, rc;

	str_random_hex(qid, 8);
	snprintf(boundary, sizeof(boundary), "%s/%s", qid, "onebox-dsn");
	envelope_init(&bn->env, qid, "");
	bn->done = done;
	bn->arg = arg;
	if (add_targets(q, &bn->env, orig->sender) < 0) {
		envelope_free(&bn->env);
		free(bn);
		done(1, arg);
		return 0;
	}
	dsn_text(q, orig, skip, msg_fd, boundary, &b);
	fd = open(q->queue_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || write_spool(fd, &b) < 0) {
		log_warn("queued bounce for id=%s: spool", orig->qid);
		rc = -1;
	}
	else {
		bn->env.spool_fd = fd;
		bn->env.size = b.len;
		for (size_t i = 0; i < b.len; i++)
			bn->env.lines += b.data[i] == '\n';
		log_info("queued id=%s bounce id=%s to=<%s> size=%zu", orig->qid, qid, orig->sender, b.len);
		rc = handoff(q->svc.conf->data_dir, q->queue_dir, q->committer, &bn->env, handed_off, bn);
	}
	if (fd >= 0)
		close(fd);	/* linked or copied by now */
	buf_free(&b);
	if (rc < 0) {
		envelope_free(&bn->env);
		free(bn);
	}
	return rc;
}
