/*
 * smtp-data - receive the message after DATA.
 *
 * The bytes go through the unstuffer (server/mail/dotstuff.h), which finds
 * the end marker (only CR LF "." CR LF ends the data: a bare LF never
 * does, which closes the door on SMTP smuggling), removes dot-stuffing,
 * turns CR LF into LF (the Maildir convention; a bare CR or LF becomes an
 * LF too) and counts bare CRs and LFs.  The result is appended to an unnamed
 * O_TMPFILE spool file in queue/, so a crash leaves nothing behind.  The
 * Received: header is written first.  Over the size limit, the rest is
 * read and thrown away, and the message is answered 552 at the end.
 */
#include "smtp.h"
#include "log.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SPOOL_FLUSH 65536

static void
spool_flush(struct smtp_session *s)
{
	size_t off = 0;
	while (off < s->data_out.len && !s->data_err) {
		ssize_t n = write(s->spool_fd, s->data_out.data + off, s->data_out.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("%016llx smtp spool write", (unsigned long long)s->base.id);
			s->data_err = errno ? errno : EIO;
			break;
		}
		off += n;
	}
	buf_reset(&s->data_out);
}

static void
received_header(struct smtp_session *s)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	const char *with;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	if (s->smtputf8)
		with = s->auth_user ? (s->base.tls ? "UTF8SMTPSA" : "UTF8SMTPA") : (s->base.tls ? "UTF8SMTPS" : "UTF8SMTP");
	else if (s->esmtp)
		with = s->auth_user ? (s->base.tls ? "ESMTPSA" : "ESMTPA") : (s->base.tls ? "ESMTPS" : "ESMTP");
	else
		with = "SMTP";
	/* RFC 5321 §4.1.3: an IPv6 address literal is written [IPv6:...] */
	buf_printf(&s->data_out, "Received: from %s ([%s%s])\n\tby %s (onebox) with %s", s->helo,
	    strchr(s->base.peer.ip, ':') ? "IPv6:" : "", s->base.peer.ip, s->d->svc.conf->hostname, with);
	if (s->base.tls)
		buf_printf(&s->data_out, " (%s)", s->tls_desc);
	buf_printf(&s->data_out, " id %s", s->qid);
	if (s->nrcpts == 1)
		buf_printf(&s->data_out, "\n\tfor <%s>", s->rcpts[0].addr);
	buf_printf(&s->data_out, ";\n\t%s\n", date);
	s->data_size = s->data_out.len;
	s->data_lines = 0;
	for (size_t i = 0; i < s->data_out.len; i++)
		if (s->data_out.data[i] == '\n')
			s->data_lines++;
}

int
smtp_data_begin(struct smtp_session *s)
{
	s->spool_fd = open(s->d->queue_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->spool_fd < 0) {
		log_warn("%016llx smtp spool %s", (unsigned long long)s->base.id, s->d->queue_dir);
		return -1;
	}
	dot_unstuff_init(&s->data_unstuff);
	s->data_too_big = 0;
	s->data_err = 0;
	buf_reset(&s->data_out);
	received_header(s);
	return 0;
}

int
smtp_data_feed(struct smtp_session *s)
{
	struct buf *in = &s->base.io->in;
	/* the Received: header does not count against the client's limit */
	uint64_t max = (uint64_t)db_setting_int(s->d->svc.db, ST_MAX_MESSAGE_SIZE) + 4096;
	uint64_t lines = s->data_unstuff.lines;
	size_t before = s->data_out.len, used;
	int done;

	done = dot_unstuff_feed(&s->data_unstuff, buf_rptr(in), buf_unread(in), &s->data_out, &used);
	buf_consume(in, used);
	s->data_size += s->data_out.len - before;
	s->data_lines += s->data_unstuff.lines - lines;
	if (s->data_size > max)
		s->data_too_big = 1;
	if (s->data_too_big)
		buf_reset(&s->data_out);	/* read to the end, store nothing */
	else if (s->data_out.len >= SPOOL_FLUSH || done)
		spool_flush(s);
	return done;
}

void
smtp_data_abort(struct smtp_session *s)
{
	if (s->spool_fd >= 0) {
		close(s->spool_fd);
		s->spool_fd = -1;
	}
	buf_reset(&s->data_out);
}
