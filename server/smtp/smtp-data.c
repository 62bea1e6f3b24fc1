/*
 * smtp-data - receive the message after DATA.
 *
 * The bytes go through a small state machine that finds the end marker
 * (only CR LF "." CR LF ends the data: a bare LF never does, which closes
 * the door on SMTP smuggling), removes dot-stuffing, and turns CR LF into
 * LF (the Maildir convention).  The result is appended to an unnamed
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

enum data_state { D_LS, D_MID, D_CR, D_DOT, D_DOTCR };

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
	s->data_state = D_LS;
	s->data_too_big = 0;
	s->data_err = 0;
	buf_reset(&s->data_out);
	received_header(s);
	return 0;
}

static inline void
emit(struct smtp_session *s, char c, uint64_t max)
{
	if (s->data_too_big)
		return;
	if (++s->data_size > max) {
		s->data_too_big = 1;
		return;
	}
	if (c == '\n')
		s->data_lines++;
	buf_addc(&s->data_out, c);
}

int
smtp_data_feed(struct smtp_session *s)
{
	struct buf *in = &s->base.io->in;
	uint64_t max = (uint64_t)db_setting_int(s->d->svc.db, ST_MAX_MESSAGE_SIZE);
	/* the Received: header does not count against the client's limit */
	size_t i, n = buf_unread(in);
	const unsigned char *p = (const unsigned char *)buf_rptr(in);
	int st = s->data_state, done = 0;

	max += 4096;
	for (i = 0; i < n && !done; i++) {
		unsigned char c = p[i];
		switch (st) {
		case D_LS:
			if (c == '.') { st = D_DOT; break; }
			/* FALLTHROUGH */
		case D_MID:
			if (c == '\r')
				st = D_CR;
			else {
				emit(s, c, max);
				st = D_MID;
			}
			break;
		case D_CR:
			if (c == '\n') {
				emit(s, '\n', max);
				st = D_LS;
			} else if (c == '\r')
				emit(s, '\r', max);
			else {
				emit(s, '\r', max);
				emit(s, c, max);
				st = D_MID;
			}
			break;
		case D_DOT:
			if (c == '\r')
				st = D_DOTCR;
			else {
				emit(s, c, max);	/* the stuffed dot is dropped */
				st = D_MID;
			}
			break;
		case D_DOTCR:
			if (c == '\n')
				done = 1;
			else {
				emit(s, '\r', max);
				if (c == '\r')
					st = D_CR;
				else {
					emit(s, c, max);
					st = D_MID;
				}
			}
			break;
		}
	}
	buf_consume(in, i);
	s->data_state = st;
	if (s->data_out.len >= SPOOL_FLUSH || done)
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
