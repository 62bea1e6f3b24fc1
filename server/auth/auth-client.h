/*
 * auth-client - ask authd whether a user/password pair is good, from an
 * event loop.  authd also keeps the throttle of failed logins (per client
 * network and per account, shared by every service): a throttled attempt
 * comes back as AUTH_THROTTLED.
 *
 * The callback runs later from the loop, never from inside
 * auth_client_request().  A session that goes away first must call
 * auth_client_cancel() with the id it got.
 */
#ifndef ONEBOX_AUTH_CLIENT_H
#define ONEBOX_AUTH_CLIENT_H

#include "auth-proto.h"
#include "ev.h"

#include <stdint.h>

struct auth_client;
/* result: AUTH_OK (user = canonical address), AUTH_FAIL, AUTH_TEMPFAIL,
 * AUTH_THROTTLED (refused unchecked: answer "too many failed logins");
 * sent_ms: ev_clock_ms() when the request was made, which the failure
 * delay is timed from (session_reply_at) */
typedef void auth_done_cb(void *arg, int result, const char *user, uint64_t sent_ms);

struct auth_client *auth_client_new(struct ev_loop *loop, const char *sock_path, const char *service);
/* auth_client_request - returns a request id (never 0). */
uint32_t auth_client_request(struct auth_client *ac, const char *ip, const char *user,
    const char *pass, auth_done_cb *cb, void *arg);
void auth_client_cancel(struct auth_client *ac, uint32_t id);

#endif
