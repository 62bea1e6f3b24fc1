/*
 * sysuser - the Unix accounts that may log in through PAM (sysuser.h).
 *
 * The name check comes first, so that nothing odd (a path, an empty
 * string, a name NSS modules might treat specially) reaches getpwnam_r.
 */
#include "sysuser.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
sysuser_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > SYSUSER_NAME_MAX)
		return 0;
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char ch = name[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		    ch == '-' || ch == '.')
			continue;
		if (ch == '$' && i == n - 1)
			continue;
		return 0;
	}
	return 1;
}

int
sysuser_check(const char *name, unsigned first_valid_uid, const char **why_r)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	if (!sysuser_name_valid(name)) {
		*why_r = "not a valid Unix login name";
		return -1;
	}
	r = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (r != 0 || res == NULL) {
		*why_r = r != 0 && r != ENOENT && r != ESRCH ? "the account database cannot be read"
		    : "no such Unix account";
		return -1;
	}
	if (pw.pw_uid == 0) {
		*why_r = "it is uid 0 (root)";
		return -1;
	}
	if (pw.pw_uid < first_valid_uid) {
		*why_r = "its uid is below first_valid_uid";
		return -1;
	}
	return 0;
}
