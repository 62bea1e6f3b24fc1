/*
 * auth-proto - the messages between the services and authd, over a
 * SOCK_SEQPACKET UNIX socket (data_dir/run/auth.sock, root:onebox 0660).
 * One request or reply per packet.
 */
#ifndef ONEBOX_AUTH_PROTO_H
#define ONEBOX_AUTH_PROTO_H

#include <stdint.h>

#define AUTH_USER_MAX 320
#define AUTH_PASS_MAX 1024

struct auth_req {
	uint32_t id;
	uint16_t ulen;		/* bytes of user after the header */
	uint16_t plen;		/* bytes of password after the user */
	char service[16];	/* "smtp", "pop3", ... */
	char ip[64];		/* client address, for PAM_RHOST and logs */
	/* followed by user, then password (no NULs, not terminated) */
};

/* AUTH_THROTTLED: too many failed logins from this client's network or
 * for this account; the password was not checked. */
enum auth_result { AUTH_TEMPFAIL = -1, AUTH_FAIL = 0, AUTH_OK = 1, AUTH_THROTTLED = 2 };

struct auth_rep {
	uint32_t id;
	int32_t result;		/* enum auth_result */
	char user[AUTH_USER_MAX + 1];	/* canonical address on success */
};

#endif
