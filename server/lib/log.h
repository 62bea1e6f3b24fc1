/*
 * log - the one logging API of onebox.
 *
 * Lines go to stderr (foreground, systemd's journal) or syslog, each
 * prefixed with the process name.  Session lines start with a 16-hex-digit
 * session id and then key=value pairs, so an admin can grep them:
 *   smtpd: 00000001a2b3c4d5 smtp message id=0a1b2c3d from=<a@b> size=1234
 *
 * log_warn / fatal append strerror(errno); the *x variants do not.
 * fatal*() exit(1); log_panic() is for internal bugs and aborts.
 */
#ifndef ONEBOX_LOG_H
#define ONEBOX_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* log_init - set the process name, level and destination (syslog if to_syslog). */
void log_init(const char *procname, int level, int to_syslog);
void log_setproc(const char *procname);
void log_setlevel(int level);
int log_getlevel(void);
/* log_level_parse - "error"/"warn"/"info"/"debug" -> level; -1 if unknown. */
int log_level_parse(const char *name);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
