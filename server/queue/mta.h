/*
 * mta - one delivery attempt of one message to one domain's mail servers
 * (RFC 5321 §5): MX lookup, then every MX host by preference (equal
 * preferences shuffled) and each of its addresses in turn, and an SMTP
 * client session on the event loop with the first that answers.
 *
 * Outcomes, per recipient (envelope statuses):
 *   RCPT_DELIVERED  the server took it (250 after the final dot)
 *   RCPT_FAILED     a 5xx for it (RCPT, MAIL, DATA, the final dot), the
 *                   domain does not exist, has a null MX (RFC 7505), or no
 *                   server and no address at all; reply says why
 *   RCPT_DEFERRED   anything else: a 4xx, no server answered, DNS failed,
 *                   the connection was lost after the final dot
 * The session uses PIPELINING, SIZE and 8BITMIME when offered, STARTTLS
 * when offered (opportunistic: a failed handshake is retried once on the
 * same address without TLS), refuses to downgrade an SMTPUTF8 message
 * (RFC 6531 §3.5), and the RFC 5321 §4.5.3.2 timeouts.
 */
#ifndef ONEBOX_MTA_H
#define ONEBOX_MTA_H

#include "dns.h"
#include "envelope.h"
#include "ev.h"

#include <openssl/ssl.h>
#include <stddef.h>

/* What the queue runner lends every delivery (must outlive it). */
struct mta_ctx {
	struct ev_loop *loop;
	struct dns *dns;
	SSL_CTX *tls;		/* client context, or NULL: no STARTTLS */
	const char *helo;	/* our host name, for EHLO */
	int port;		/* 25 (outbound_smtp_port) */
};

struct mta;
typedef void mta_done_cb(struct mta *m, void *arg);

/*
 * mta_deliver - deliver env's recipients idx[0..n) (all in domain, all
 * RCPT_PENDING) from msg_fd (the queue's message file: LF line ends).  Each
 * of them ends with its status and reply set; then done(m, arg) is called
 * from the loop, and the caller frees m with mta_free.  env, idx and
 * msg_fd must stay valid until then.
 */
struct mta *mta_deliver(const struct mta_ctx *ctx, struct envelope *env, int msg_fd, const char *domain,
    const size_t *idx, size_t n, mta_done_cb *done, void *arg);
void mta_free(struct mta **mp);
/* mta_reached - 1 if some server of the domain answered (greeted us). */
int mta_reached(const struct mta *m);
/* mta_unreachable - 1 if no server answered and some could not be
 * connected to, or DNS did not answer: what a link that is down looks like. */
int mta_unreachable(const struct mta *m);

#endif
