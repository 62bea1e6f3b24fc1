/*
 * auth-client - ask authd whether a user/password pair is good, from an
 * event loop; and the per-client-address throttle of failed logins that
 * every service (SMTP submission, POP3, later IMAP) applies.
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
/* result: AUTH_OK (user = canonical address), AUTH_FAIL, AUTH_TEMPFAIL */
typedef void auth_done_cb(void *arg, int result, const char *user);

struct auth_client *auth_client_new(struct ev_loop *loop, const char *sock_path, const char *service);
/* auth_client_request - returns a request id (never 0). */
uint32_t auth_client_request(struct auth_client *ac, const char *ip, const char *user,
    const char *pass, auth_done_cb *cb, void *arg);
void auth_client_cancel(struct auth_client *ac, uint32_t id);

/* ---- throttle of failed logins, per client address ----
 * A good login does not wipe the count: else an attacker holding one
 * account could guess others' passwords without limit.  The window
 * (auth_throttle_seconds) expires on its own. */
/* auth_throttle_blocked - 1 if ip has had max_failures failures within
 * window_ms (and so must be refused without checking the password). */
int auth_throttle_blocked(const char *ip, uint64_t now_ms, int max_failures, uint64_t window_ms);
/* auth_throttle_failed - count a failure; returns the failures in the window. */
int auth_throttle_failed(const char *ip, uint64_t now_ms, uint64_t window_ms);

/* sasl_plain_decode - RFC 4616 "authzid\0authcid\0passwd" from base64 text:
 * 0 and the user/password copied out, or -1 if malformed (or authzid names
 * someone else). */
int sasl_plain_decode(const char *b64, char *user, size_t usz, char *pass, size_t psz);
/* b64_decode - decode base64 text into out (NUL-terminated); length or -1. */
int b64_decode(const char *in, char *out, size_t outsz);

#endif
