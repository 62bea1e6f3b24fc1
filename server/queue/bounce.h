/*
 * bounce - a delivery status notification (RFC 3464) to the envelope
 * sender for the recipients that failed for good, with the original
 * message's headers.
 *
 * The bounce is an ordinary message from the null sender <>: resolved
 * like any recipient (a local mailbox, an alias, or outside: then it is
 * queued), and made durable through the same local delivery and queue
 * code as mail from smtpd, in one group commit.  A bounce is never sent
 * for a message from <> (the caller checks), so bounces cannot loop.
 */
#ifndef ONEBOX_BOUNCE_H
#define ONEBOX_BOUNCE_H

#include "envelope.h"

struct queued;

/* bounce_done_cb - ok = 1 when the bounce is durable (or cannot be
 * delivered at all: logged), 0 when it should be tried again later. */
typedef void bounce_done_cb(int ok, void *arg);

/*
 * bounce_send - report orig's RCPT_FAILED recipients (but those with
 * skip[i] set: reported earlier) to orig->sender, with the headers read
 * from msg_fd.  0: done is called later from the loop; -1: nothing was
 * written and done is not called.
 */
int bounce_send(struct queued *q, const struct envelope *orig, const int *skip, int msg_fd,
    bounce_done_cb *done, void *arg);

#endif
