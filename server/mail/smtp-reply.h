/*
 * smtp-reply - the SMTP client's reply parser (RFC 5321 §4.2): one reply
 * is one or more lines "NNN-text" ending with "NNN text" (or a bare
 * "NNN"); every line must carry the same code.
 *
 * Pure and incremental: the client feeds each line (without CR LF) as it
 * arrives; the parser never reads past what it is given and keeps at most
 * SMTP_REPLY_TEXT_MAX bytes of text (more is dropped, not an error).  It
 * is fuzzed (tests/fuzz/fuzz-smtp-reply.c): the input is a remote server's.
 */
#ifndef ONEBOX_SMTP_REPLY_H
#define ONEBOX_SMTP_REPLY_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

#define SMTP_REPLY_TEXT_MAX 4096
#define SMTP_REPLY_LINES_MAX 200

struct smtp_reply {
	int code;		/* 200..599 once a line was read */
	char enhanced[16];	/* "5.1.1" of the first line, or "" */
	struct buf text;	/* the lines' texts, each ended by '\n' */
	unsigned nlines;
};

/* The ESMTP extensions the client uses (from an EHLO reply). */
#define SMTP_EXT_PIPELINING	0x01
#define SMTP_EXT_SIZE		0x02
#define SMTP_EXT_8BITMIME	0x04
#define SMTP_EXT_STARTTLS	0x08
#define SMTP_EXT_SMTPUTF8	0x10

void smtp_reply_init(struct smtp_reply *r);
/* smtp_reply_reset - ready for the next reply (keeps memory). */
void smtp_reply_reset(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
/*
 * smtp_reply_feed - one line (no CR LF; may hold any byte).  Returns 1
 * when the reply is complete, 0 when more lines follow, -1 when the line
 * is not a reply line (bad code, bad separator, a code that changed
 * within the reply, too many lines): the peer does not speak SMTP.
 */
int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len);
/* smtp_reply_ehlo - the extensions of a complete EHLO reply, and SIZE's
 * limit in *size_r (0 = none given). */
unsigned smtp_reply_ehlo(const struct smtp_reply *r, uint64_t *size_r);
/* smtp_reply_line1 - the first line's text as "NNN text" into out
 * (control characters made spaces), for logs and bounces. */
void smtp_reply_line1(const struct smtp_reply *r, char *out, size_t outsz);

#endif
