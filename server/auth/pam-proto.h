/*
 * pam-proto - the messages between authd (unprivileged) and pamd (root),
 * over a SOCK_SEQPACKET socketpair the master makes.  Only authd holds the
 * other end: no other process can reach pamd.
 *
 * Both messages have a fixed size; anything else is dropped.  The strings
 * are NUL-terminated inside their arrays (the receiver checks); the
 * password is plen bytes, without NULs.  pamd answers every well-formed
 * request once, with the same id.  The socketpair outlives either side
 * (the master keeps both ends), so a restarted authd may read replies
 * meant for its predecessor: it ignores ids it did not send.
 */
#ifndef ONEBOX_PAM_PROTO_H
#define ONEBOX_PAM_PROTO_H

#include "auth-proto.h"
#include "sysuser.h"

#include <stdint.h>

struct pam_req {
	uint32_t id;
	uint16_t plen;			/* bytes of pass used */
	char login[SYSUSER_NAME_MAX + 1];	/* Unix login name, NUL-terminated */
	char rhost[64];			/* client address, for PAM_RHOST */
	char pass[AUTH_PASS_MAX];
};

struct pam_rep {
	uint32_t id;
	int32_t result;			/* AUTH_OK, AUTH_FAIL or AUTH_TEMPFAIL */
};

#endif
