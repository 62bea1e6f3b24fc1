/*
 * log - stderr or syslog output for every onebox process.
 *
 * Each line is written with a single write(2) so that lines from the
 * master and its children, which share stderr, never interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static const char *log_proc = "onebox";
static int log_lvl = LOG_LVL_INFO;
static int log_syslog;

void
log_init(const char *procname, int level, int to_syslog)
{
	log_proc = procname;
	log_lvl = level;
	log_syslog = to_syslog;
	if (to_syslog)
		openlog(procname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_setproc(const char *procname)
{
	log_proc = procname;
	if (log_syslog) {
		closelog();
		openlog(procname, LOG_PID | LOG_NDELAY, LOG_MAIL);
	}
}

void
log_setlevel(int level)
{
	log_lvl = level;
}

int
log_getlevel(void)
{
	return log_lvl;
}

int
log_level_parse(const char *name)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static void log_emit(int lvl, int with_errno, int saved_errno, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
log_emit(int lvl, int with_errno, int saved_errno, const char *fmt, va_list ap)
{
	char line[2048];
	int n = 0, prio;

	if (lvl > log_lvl)
		return;
	if (!log_syslog)
		n = snprintf(line, sizeof(line), "%s[%d]: ", log_proc, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (with_errno) {
		m = snprintf(line + n, sizeof(line) - n, ": %s", strerror(saved_errno));
		if (m > 0)
			n += m;
		if ((size_t)n >= sizeof(line) - 1)
			n = sizeof(line) - 2;
	}
	/* Never let a control character from the network reach the log raw. */
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	if (log_syslog) {
		prio = lvl == LOG_LVL_ERROR ? LOG_ERR : lvl == LOG_LVL_WARN ? LOG_WARNING
		    : lvl == LOG_LVL_INFO ? LOG_INFO : LOG_DEBUG;
		line[n] = '\0';
		syslog(prio, "%s", line);
		return;
	}
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

#define LOG_FN(name, lvl, with_errno)				\
void								\
name(const char *fmt, ...)					\
{								\
	int saved = errno;					\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_emit(lvl, with_errno, saved, fmt, ap);		\
	va_end(ap);						\
	errno = saved;						\
}

LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, 1, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, 0, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, 0, 0, fmt, ap);
	va_end(ap);
	abort();
}
