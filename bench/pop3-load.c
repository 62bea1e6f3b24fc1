/*
 * pop3-load - one POP3 session for bench/pop3-retr: log in, say "ready",
 * wait for a line on stdin, then RETR every message with up to WINDOW
 * commands in flight (RFC 2449 PIPELINING), QUIT, and print
 * "<messages> <bytes>" on stdout.  Plain TCP: the benchmark measures the
 * POP3 service, not TLS.  The answer of each RETR is scanned, not stored,
 * for its "\r\n.\r\n" end.
 *
 *   pop3-load HOST PORT USER PASSWORD [WINDOW]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd;
static char in[1 << 16];
static size_t inlen, inpos;

static void
die(const char *what)
{
	fprintf(stderr, "pop3-load: %s\n", what);
	exit(1);
}

static int
getbyte(void)
{
	if (inpos == inlen) {
		ssize_t n = read(fd, in, sizeof(in));
		if (n <= 0)
			die("connection closed");
		inlen = (size_t)n;
		inpos = 0;
	}
	return (unsigned char)in[inpos++];
}

/* line - read one reply line into buf; dies unless it starts with +OK. */
static void
line(char *buf, size_t sz, const char *what)
{
	size_t n = 0;
	int c;

	while ((c = getbyte()) != '\n')
		if (n + 1 < sz)
			buf[n++] = (char)c;
	buf[n] = '\0';
	if (strncmp(buf, "+OK", 3) != 0) {
		fprintf(stderr, "pop3-load: %s: %s\n", what, buf);
		exit(1);
	}
}

static void
say(const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			die("write");
		s += w;
		n -= (size_t)w;
	}
}

/* body - consume a multi-line answer after its first line; returns bytes. */
static unsigned long long
body(void)
{
	static const char end[] = "\r\n.\r\n";
	unsigned long long bytes = 0;
	int m = 2;	/* the CRLF of the first line */

	while (m < 5) {
		int c = getbyte();
		bytes++;
		if (c == end[m])
			m++;
		else
			m = c == '\r';
	}
	return bytes;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	char buf[512], cmd[64];
	unsigned long count, sent = 0, done = 0, window;
	unsigned long long bytes = 0;
	int one = 1;

	if (argc < 5)
		die("usage: pop3-load HOST PORT USER PASSWORD [WINDOW]");
	window = argc > 5 ? strtoul(argv[5], NULL, 10) : 32;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		die("bad address");
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	line(buf, sizeof(buf), "greeting");
	snprintf(buf, sizeof(buf), "USER %s\r\n", argv[3]);
	say(buf);
	line(buf, sizeof(buf), "USER");
	snprintf(buf, sizeof(buf), "PASS %s\r\n", argv[4]);
	say(buf);
	line(buf, sizeof(buf), "PASS");
	say("STAT\r\n");
	line(buf, sizeof(buf), "STAT");
	count = strtoul(buf + 4, NULL, 10);
	printf("ready %lu\n", count);
	fflush(stdout);
	if (fgets(buf, sizeof(buf), stdin) == NULL)
		die("no go");
	while (done < count) {
		char out[64 * 32];
		size_t ol = 0;
		while (sent < count && sent - done < window && ol + sizeof(cmd) < sizeof(out)) {
			int n = snprintf(cmd, sizeof(cmd), "RETR %lu\r\n", ++sent);
			memcpy(out + ol, cmd, (size_t)n);
			ol += (size_t)n;
		}
		out[ol] = '\0';
		if (ol)
			say(out);
		line(buf, sizeof(buf), "RETR");
		bytes += body();
		done++;
	}
	say("QUIT\r\n");
	line(buf, sizeof(buf), "QUIT");
	printf("%lu %llu\n", done, bytes);
	return 0;
}
