/*
 * net - sockets and addresses.
 */
#include "net.h"
#include "buf.h"
#include "str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
net_listen(const char *host, int port, char **error_r)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, v6only = 0;

	memset(&ss, 0, sizeof(ss));
	if (host[0] == '\0' || strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (host[0] == '\0')
			s6->sin6_addr = in6addr_any;
		else {
			inet_pton(AF_INET6, host, &s6->sin6_addr);
			v6only = 1;
		}
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, host, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && ss.ss_family == AF_INET6 && host[0] == '\0') {
		/* No IPv6 on this host: fall back to IPv4 any. */
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		sl = sizeof(*s4);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		*error_r = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
		*error_r = xasprintf("cannot listen on %s%s%s:%d: %s", strchr(host, ':') ? "[" : "",
		    host[0] ? host : "*", strchr(host, ':') ? "]" : "", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void
net_addr_str(const struct sockaddr *sa, char *out, size_t outsz, int *port_r)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, out, outsz);
		if (port_r)
			*port_r = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, outsz);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, out, outsz);
		if (port_r)
			*port_r = ntohs(s6->sin6_port);
	} else {
		str_lcpy(out, "unknown", outsz);
		if (port_r)
			*port_r = 0;
	}
}

void
net_local_addr(int fd, char *out, size_t outsz, int *port_r)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		str_lcpy(out, "unknown", outsz);
		*port_r = 0;
		return;
	}
	net_addr_str((struct sockaddr *)&ss, out, outsz, port_r);
}

/* cidr_parse - "a.b.c.d/n" or "x::/n" or a bare address -> family, bytes, bits. */
static int
cidr_parse(const char *s, int *af_r, unsigned char addr[16], int *bits_r)
{
	char tmp[64];
	char *slash;
	uint64_t bits;

	if (str_lcpy(tmp, s, sizeof(tmp)) >= sizeof(tmp))
		return -1;
	slash = strchr(tmp, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, tmp, addr) == 1)
		*af_r = AF_INET;
	else if (inet_pton(AF_INET6, tmp, addr) == 1)
		*af_r = AF_INET6;
	else
		return -1;
	int max = *af_r == AF_INET ? 32 : 128;
	if (slash == NULL)
		bits = max;
	else if (str_to_u64(slash, &bits) < 0 || bits > (uint64_t)max)
		return -1;
	*bits_r = (int)bits;
	return 0;
}

int
net_cidr_valid(const char *cidr)
{
	int af, bits;
	unsigned char a[16];
	return cidr_parse(cidr, &af, a, &bits) == 0;
}

static int
prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rem = bits % 8;
	if (memcmp(a, b, bytes) != 0)
		return 0;
	if (rem == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rem));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

int
net_cidr_match(const char *list, const char *ip)
{
	unsigned char ipb[16], nb[16];
	int ipaf, af, bits, ipbits;
	char *copy, *tok, *save = NULL;
	int found = 0;

	if (list == NULL || cidr_parse(ip, &ipaf, ipb, &ipbits) < 0)
		return 0;
	copy = xstrdup(list);
	for (tok = strtok_r(copy, " \t,", &save); tok && !found; tok = strtok_r(NULL, " \t,", &save)) {
		if (cidr_parse(tok, &af, nb, &bits) < 0 || af != ipaf)
			continue;
		found = prefix_eq(ipb, nb, bits);
	}
	free(copy);
	return found;
}

int
net_peer_closed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

	if (poll(&p, 1, 0) < 0)
		return 1;
	return (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) != 0;
}
