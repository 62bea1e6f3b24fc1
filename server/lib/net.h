/*
 * net - listening sockets, address text, CIDR matching.
 */
#ifndef ONEBOX_NET_H
#define ONEBOX_NET_H

#include <stddef.h>
#include <sys/socket.h>

/* net_listen - bind and listen on host:port (host "" = every address,
 * IPv6 and IPv4).  Returns the fd or -1 with *error_r (malloc'd). */
int net_listen(const char *host, int port, char **error_r);
/* net_addr_str - numeric text of sa (IPv4-mapped IPv6 shown as IPv4). */
void net_addr_str(const struct sockaddr *sa, char *out, size_t outsz, int *port_r);
/* net_local_addr - numeric local address and port of a connected socket. */
void net_local_addr(int fd, char *out, size_t outsz, int *port_r);
/* net_cidr_match - 1 if the numeric address ip is inside one of the CIDRs
 * in list (space or comma separated, "192.168.0.0/16 ::1/128 10.1.2.3"). */
int net_cidr_match(const char *list, const char *ip);
int net_cidr_valid(const char *cidr);
/* net_peer_closed - recv() on fd returned 0: 1 if the peer closed or shut
 * down its end, 0 if it sent a zero-length datagram (SOCK_SEQPACKET,
 * SOCK_DGRAM), which recv() reports the same way but which ends nothing
 * (the datagram is consumed: reading on does not spin). */
int net_peer_closed(int fd);

#endif
