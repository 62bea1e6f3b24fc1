/*
 * sysuser - may a Unix account log in through PAM?
 *
 * One rule, used by pamd (before it calls PAM) and by `onebox user add`
 * (before it records a user of a `system` domain): the name is a plain
 * Unix login name (a lower-case letter or '_', then lower-case letters,
 * digits, '_', '-' or '.', at most 32 bytes; a trailing '$' allowed as in
 * Debian's NAME_REGEX), getpwnam() knows it, and its uid is neither 0 nor
 * below first_valid_uid.  Thread-safe (getpwnam_r).
 */
#ifndef ONEBOX_SYSUSER_H
#define ONEBOX_SYSUSER_H

#define SYSUSER_NAME_MAX 32

/* sysuser_name_valid - 1 if name has the shape of a Unix login name. */
int sysuser_name_valid(const char *name);
/* sysuser_check - 0 if name may log in; else -1 and *why_r, a static
 * English phrase ("no such Unix account", "uid 0 (root)", ...). */
int sysuser_check(const char *name, unsigned first_valid_uid, const char **why_r);

#endif
