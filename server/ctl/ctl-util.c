/*
 * ctl-util - argument helpers of the admin CLI: addresses, domains, sizes
 * and passwords.
 *
 * Addresses go through addr.c, the one parser, and are stored in its
 * canonical form, so what the CLI stores is what the SMTP server looks up.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "admin.h"
#include "buf.h"
#include "str.h"
#include "ctl.h"

/* The validation is server/admin's, shared with the admin pages; the CLI
 * turns its errors into ctl_fail. */
char *
ctl_address(struct ctl *c, const char *s)
{
	char *out, *err;

	if (adm_address(s, &out, &err) < 0)
		ctl_fail(c, "%s", err);
	return out;
}

char *
ctl_domain(struct ctl *c, const char *s)
{
	char *out, *err;

	if (adm_domain(s, &out, &err) < 0)
		ctl_fail(c, "%s", err);
	return out;
}

uint64_t
ctl_quota(struct ctl *c, const char *s)
{
	uint64_t v;
	char *err;

	if (adm_quota(s, &v, &err) < 0)
		ctl_fail(c, "%s", err);
	return v;
}

/* read_line - one line from fd 0 without stdio buffering beyond it. */
static char *
read_line(struct ctl *c)
{
	struct buf b = BUF_INIT;
	char ch;
	ssize_t n;

	while ((n = read(STDIN_FILENO, &ch, 1)) == 1 && ch != '\n') {
		if (b.len > 4096)
			ctl_fail(c, "password too long");
		buf_addc(&b, ch);
	}
	if (n < 0)
		ctl_fail(c, "reading password: %s", strerror(errno));
	buf_adds(&b, "");
	if (b.len && b.data[b.len - 1] == '\r')
		b.data[--b.len] = '\0';
	return b.data;
}

/* ask - prompt on the terminal with echo off. */
static char *
ask(struct ctl *c, const char *prompt)
{
	struct termios old, quiet;
	char *p;

	if (tcgetattr(STDIN_FILENO, &old) < 0)
		ctl_fail(c, "terminal: %s", strerror(errno));
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
		ctl_fail(c, "terminal: %s", strerror(errno));
	p = read_line(c);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return p;
}

char *
ctl_read_password(struct ctl *c, const char *address)
{
	char *p, *again, prompt[512];

	if (!isatty(STDIN_FILENO))
		p = read_line(c);
	else {
		snprintf(prompt, sizeof(prompt), "Password for %s: ", address);
		p = ask(c, prompt);
		again = ask(c, "Again: ");
		if (strcmp(p, again) != 0)
			ctl_fail(c, "passwords do not match");
		explicit_bzero(again, strlen(again));
		free(again);
	}
	if (*p == '\0')
		ctl_fail(c, "empty password");
	return p;
}
