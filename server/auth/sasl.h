/*
 * sasl - the server side of SASL PLAIN (RFC 4616) and LOGIN, for every
 * protocol: SMTP AUTH (RFC 4954), POP3 AUTH (RFC 5034), later IMAP
 * AUTHENTICATE.  It knows nothing of sessions or sockets: the protocol
 * code feeds it the command's mechanism and initial response, then each
 * continuation line, and gets one of:
 *
 *   SASL_CHALLENGE  send sasl_challenge() (base64; "" for an empty one)
 *                   after "334 " / "+ ", and feed the answer to sasl_step
 *   SASL_DONE       s->user and s->pass hold the credentials: check them,
 *                   then sasl_wipe().  Either may be empty (a well-formed
 *                   message with nothing in it): the caller refuses those
 *                   as bad credentials (535, -ERR [AUTH]) without asking
 *                   authd, as it would any other wrong password
 *   SASL_CANCELLED  the client sent "*"
 *   SASL_BAD_MECH   not a mechanism we offer
 *   SASL_BAD_INPUT  not base64, too long, a NUL where none may be, or a
 *                   PLAIN authzid other than the authcid
 *
 * After anything but SASL_CHALLENGE the exchange is over (step
 * SASL_STEP_IDLE) and nothing secret is left in s except, after
 * SASL_DONE, the credentials until sasl_wipe().
 *
 * An initial response of "=" is an empty one (RFC 4954 §4): for PLAIN that
 * is a malformed message, for LOGIN an empty user name.
 */
#ifndef ONEBOX_SASL_H
#define ONEBOX_SASL_H

#include "auth-proto.h"

enum sasl_mech { SASL_MECH_PLAIN, SASL_MECH_LOGIN };

enum sasl_step {
	SASL_STEP_IDLE,			/* no exchange in progress */
	SASL_STEP_PLAIN_RESPONSE,	/* PLAIN: waiting for the message */
	SASL_STEP_LOGIN_USER,		/* LOGIN: waiting for the user name */
	SASL_STEP_LOGIN_PASS,		/* LOGIN: waiting for the password */
};

enum sasl_result {
	SASL_CHALLENGE, SASL_DONE, SASL_CANCELLED, SASL_BAD_MECH, SASL_BAD_INPUT
};

/* the longest line a client may send in an exchange (base64 of a PLAIN
 * message with the longest authzid, authcid and password) */
#define SASL_LINE_MAX (4 * ((2 * AUTH_USER_MAX + AUTH_PASS_MAX + 2 + 2) / 3))

struct sasl {
	enum sasl_step step;
	enum sasl_mech mech;
	char user[AUTH_USER_MAX + 1];	/* after SASL_DONE (and during LOGIN) */
	char pass[AUTH_PASS_MAX + 1];	/* after SASL_DONE */
};

/* sasl_offered - the mechanisms, space separated ("PLAIN LOGIN"). */
const char *sasl_offered(void);
/* sasl_start - begin an exchange; mech is matched without case, initial
 * is the initial response or NULL.  Any exchange in progress is dropped. */
enum sasl_result sasl_start(struct sasl *s, const char *mech, const char *initial);
/* sasl_step - the client's answer to the last challenge. */
enum sasl_result sasl_step(struct sasl *s, const char *line);
/* sasl_challenge - what to send with SASL_CHALLENGE (static text). */
const char *sasl_challenge(const struct sasl *s);
/* sasl_wipe - forget the credentials and any exchange in progress. */
void sasl_wipe(struct sasl *s);

#endif
