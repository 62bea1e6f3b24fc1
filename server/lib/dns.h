/*
 * dns - asynchronous DNS lookups on the event loop, through libunbound.
 *
 * libunbound does the work in a thread of its own and hands answers back
 * through a descriptor that the loop watches; callbacks run in the loop
 * thread.  With servers set ("127.0.0.1:5353 [::1]:53"), every query is
 * forwarded to them and nothing else is asked: not /etc/resolv.conf, not
 * the root servers (the tests point it at their own loopback server).
 * Without, /etc/resolv.conf's servers are used.
 *
 * Create it after the loop has blocked its signals (the thread inherits
 * the mask).  A query cannot be cancelled: its owner must outlive it or
 * mark itself gone (as for jobs.h).
 */
#ifndef ONEBOX_DNS_H
#define ONEBOX_DNS_H

#include "ev.h"

#include <stddef.h>
#include <sys/socket.h>

#define DNS_NAME_MAX 256

enum dns_status {
	DNS_OK,			/* records in the answer */
	DNS_NODATA,		/* the name exists, without records of that type */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_TEMPFAIL,		/* no answer (timeout, SERVFAIL, bad reply): try later */
};

struct dns_mx {
	unsigned pref;
	char host[DNS_NAME_MAX];	/* "" for RFC 7505's null MX (".") */
};

struct dns;

/* dns_servers_check - 0 if servers (the dns_servers setting) is usable,
 * else -1 with *why_r (malloc'd). */
int dns_servers_check(const char *servers, char **why_r);
/* dns_new - a resolver; NULL with *error_r (malloc'd) on failure. */
struct dns *dns_new(struct ev_loop *loop, const char *servers, char **error_r);

/* dns_mx_cb - mx[0..n) in the answer's order (n = 0 unless DNS_OK). */
typedef void dns_mx_cb(void *arg, enum dns_status st, const struct dns_mx *mx, size_t n);
/* dns_addr_cb - the addresses (port 0) of one family (n = 0 unless DNS_OK). */
typedef void dns_addr_cb(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n);

/* dns_mx - look up domain's MX records; 0, or -1 (cb not called). */
int dns_mx(struct dns *d, const char *domain, dns_mx_cb *cb, void *arg);
/* dns_addr - A (family AF_INET) or AAAA (AF_INET6) records of host; 0/-1. */
int dns_addr(struct dns *d, const char *host, int family, dns_addr_cb *cb, void *arg);

/* dns_parse_mx - one MX record's rdata (preference, uncompressed name) into
 * mx; 0, or -1 if malformed.  Pure: the fuzz target calls it. */
int dns_parse_mx(const unsigned char *rdata, size_t len, struct dns_mx *mx);

/* dns_status_name - "ok", "nodata", "nxdomain", "tempfail". */
const char *dns_status_name(enum dns_status st);

#endif
