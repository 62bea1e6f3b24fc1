/*
 * dns - libunbound on the event loop (see dns.h).
 *
 * Why libunbound rather than getaddrinfo in a thread: MX records (which
 * getaddrinfo cannot ask for), many queries in flight from one process
 * without a thread each, and DNSSEC/DANE later from the same library.
 *
 * Two defaults of libunbound are changed: it refuses to send queries to
 * loopback addresses ("do-not-query-localhost"), which is exactly where a
 * local caching resolver (or the tests' server) lives; and a query answered
 * from its built-in local zones (RFC 6761 names such as .test, .invalid)
 * never reaches the configured server, which is left as it is: mail for
 * those names has nowhere to go anyway.
 */
#include "dns.h"
#include "buf.h"
#include "log.h"
#include "str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#define DNS_TYPE_A	1
#define DNS_TYPE_MX	15
#define DNS_TYPE_AAAA	28
#define DNS_CLASS_IN	1

struct dns {
	struct ub_ctx *ctx;
	struct ev_loop *loop;
};

struct dns_query {
	struct dns *d;
	dns_mx_cb *mx_cb;
	dns_addr_cb *addr_cb;
	int family;
	void *arg;
};

const char *
dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK:
		return "ok";
	case DNS_NODATA:
		return "nodata";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

static void
dns_readable(int fd, int events, void *arg)
{
	struct dns *d = arg;

	if (ub_process(d->ctx) != 0)
		log_warnx("dns: ub_process failed");
}

/* fwd_addr - "host:port", "[v6]:port" or a bare address as libunbound's
 * "addr@port" (out has DNS_NAME_MAX bytes); 0/-1. */
static int
fwd_addr(const char *s, char *out)
{
	const char *colon = strchr(s, ':'), *port = NULL;
	size_t hlen = strlen(s);

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -1;
		hlen = (size_t)(end - s - 1);
		port = end[1] == ':' ? end + 2 : NULL;
		s++;
	}
	else if (colon && colon == strrchr(s, ':')) {	/* one colon: host:port */
		port = colon + 1;
		hlen = (size_t)(colon - s);
	}
	uint64_t pn;
	unsigned char bin[16];

	if (hlen == 0 || hlen + 8 >= DNS_NAME_MAX ||
	    (port && (str_to_u64(port, &pn) < 0 || pn == 0 || pn > 65535)))
		return -1;
	memcpy(out, s, hlen);
	out[hlen] = '\0';
	if (inet_pton(AF_INET, out, bin) != 1 && inet_pton(AF_INET6, out, bin) != 1)
		return -1;	/* libunbound forwards to addresses, not names */
	if (port) {
		out[hlen] = '@';
		str_lcpy(out + hlen + 1, port, DNS_NAME_MAX - hlen - 1);
	}
	return 0;
}

int
dns_servers_check(const char *servers, char **why_r)
{
	char *copy = xstrdup(servers), *p = copy, *tok;
	char fwd[DNS_NAME_MAX];
	int rc = 0;

	while (rc == 0 && (tok = strsep(&p, " ,\t")) != NULL)
		if (*tok && fwd_addr(tok, fwd) < 0) {
			*why_r = xasprintf("'%s' is not address, address:port or [address]:port", tok);
			rc = -1;
		}
	free(copy);
	return rc;
}

static int
set_servers(struct ub_ctx *ctx, const char *servers, char **error_r)
{
	char *copy = xstrdup(servers), *p = copy, *tok;
	char fwd[DNS_NAME_MAX];
	int rc = 0, n = 0;

	while (rc == 0 && (tok = strsep(&p, " ,\t")) != NULL) {
		if (*tok == '\0')
			continue;
		if (fwd_addr(tok, fwd) < 0 || ub_ctx_set_fwd(ctx, fwd) != 0) {
			*error_r = xasprintf("dns_servers: bad server '%s'", tok);
			rc = -1;
		}
		n++;
	}
	free(copy);
	if (rc == 0 && n == 0 && ub_ctx_resolvconf(ctx, NULL) != 0) {
		*error_r = xasprintf("cannot read /etc/resolv.conf");
		rc = -1;
	}
	return rc;
}

struct dns *
dns_new(struct ev_loop *loop, const char *servers, char **error_r)
{
	struct dns *d = xcalloc(1, sizeof(*d));

	if ((d->ctx = ub_ctx_create()) == NULL) {
		*error_r = xasprintf("ub_ctx_create failed");
		free(d);
		return NULL;
	}
	d->loop = loop;
	if (ub_ctx_set_option(d->ctx, "do-not-query-localhost:", "no") != 0 ||
	    ub_ctx_async(d->ctx, 1) != 0 || set_servers(d->ctx, servers, error_r) < 0 ||
	    ev_io_set(loop, ub_fd(d->ctx), EV_READ, dns_readable, d) < 0) {
		if (*error_r == NULL)
			*error_r = xasprintf("cannot set up libunbound");
		ub_ctx_delete(d->ctx);
		free(d);
		return NULL;
	}
	return d;
}

/* name_at - the uncompressed wire name at p[0..n) as text (no final
 * dot; "" for the root); its length in wire bytes, or -1. */
static int
name_at(const unsigned char *p, size_t n, char *out, size_t outsz)
{
	size_t i = 0, o = 0;

	while (i < n && p[i] != 0) {
		size_t len = p[i++];
		if (len > 63 || i + len > n || o + len + 2 > outsz)
			return -1;
		if (o)
			out[o++] = '.';
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	if (i >= n)
		return -1;
	out[o] = '\0';
	return (int)i + 1;
}

int
dns_parse_mx(const unsigned char *rdata, size_t len, struct dns_mx *mx)
{
	int n;

	if (len < 3)
		return -1;
	mx->pref = (unsigned)rdata[0] << 8 | rdata[1];
	n = name_at(rdata + 2, len - 2, mx->host, sizeof(mx->host));
	if (n < 0 || (size_t)n != len - 2 || strlen(mx->host) != strcspn(mx->host, "\n\r\t "))
		return -1;
	return 0;
}

static enum dns_status
result_status(int err, const struct ub_result *r)
{
	if (err != 0 || r == NULL || (r->rcode != 0 && r->rcode != 3))
		return DNS_TEMPFAIL;
	if (r->nxdomain)
		return DNS_NXDOMAIN;
	return r->havedata ? DNS_OK : DNS_NODATA;
}

static void
mx_done(void *arg, int err, struct ub_result *r)
{
	struct dns_query *q = arg;
	enum dns_status st = result_status(err, r);
	struct dns_mx *mx = NULL;
	size_t n = 0;

	for (size_t i = 0; st == DNS_OK && r->data[i]; i++) {
		mx = xrealloc(mx, (n + 1) * sizeof(*mx));
		if (dns_parse_mx((const unsigned char *)r->data[i], (size_t)r->len[i], &mx[n]) == 0)
			n++;
	}
	if (st == DNS_OK && n == 0)
		st = DNS_TEMPFAIL;	/* records, none readable */
	q->mx_cb(q->arg, st, mx, n);
	free(mx);
	free(q);
	if (r)
		ub_resolve_free(r);
}

static void
addr_done(void *arg, int err, struct ub_result *r)
{
	struct dns_query *q = arg;
	enum dns_status st = result_status(err, r);
	size_t want = q->family == AF_INET ? 4 : 16, n = 0;
	struct sockaddr_storage *a = NULL;

	for (size_t i = 0; st == DNS_OK && r->data[i]; i++) {
		if ((size_t)r->len[i] != want)
			continue;
		a = xrealloc(a, (n + 1) * sizeof(*a));
		memset(&a[n], 0, sizeof(a[n]));
		if (q->family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&a[n];
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, r->data[i], 4);
		}
		else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a[n];
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, r->data[i], 16);
		}
		n++;
	}
	if (st == DNS_OK && n == 0)
		st = DNS_NODATA;
	q->addr_cb(q->arg, st, a, n);
	free(a);
	free(q);
	if (r)
		ub_resolve_free(r);
}

static int
resolve(struct dns *d, const char *name, int type, ub_callback_type cb, struct dns_query *q)
{
	int err = ub_resolve_async(d->ctx, name, type, DNS_CLASS_IN, q, cb, NULL);

	if (err != 0) {
		log_warnx("dns: %s: %s", name, ub_strerror(err));
		free(q);
		return -1;
	}
	return 0;
}

int
dns_mx(struct dns *d, const char *domain, dns_mx_cb *cb, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));

	q->d = d;
	q->mx_cb = cb;
	q->arg = arg;
	return resolve(d, domain, DNS_TYPE_MX, mx_done, q);
}

int
dns_addr(struct dns *d, const char *host, int family, dns_addr_cb *cb, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));

	q->d = d;
	q->addr_cb = cb;
	q->family = family;
	q->arg = arg;
	return resolve(d, host, family == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA, addr_done, q);
}
